"""The response cache keys on what selects an answer: every query parameter any route reads (its own or a
dependency's), the path, and whether Accept asks for CSV; nothing else."""

from typing import Any, cast

import asyncpg
from windhash_api.app import create_app, query_parameters
from windhash_api.response_cache import request_key
from windhash_api.settings import ApiSettings


def test_the_parameters_the_filters_read_are_part_of_the_key() -> None:
    app = create_app(ApiSettings(migrate_on_start=False), pool=cast(asyncpg.Pool, object()))
    assert {"lead_party", "bm_unit", "miner_model", "search", "limit", "offset", "format", "by", "order_by",
            "from", "to", "include_inactive"} <= query_parameters(app)  # fmt: skip


def _scope(query: bytes) -> dict[str, Any]:
    return {"path": "/api/v1/bm-units", "query_string": query}


def test_the_key_ignores_unknown_parameters_order_and_repeats_and_the_accept_text() -> None:
    known = frozenset({"search", "limit"})
    base = request_key(_scope(b"limit=5&search=a"), b"application/json", known)
    assert request_key(_scope(b"search=a&limit=5&junk=1"), b"*/*", known) == base
    noisy = b"application/json, x/" + b"y" * 500
    assert request_key(_scope(b"search=z&limit=5&search=a"), noisy, known) == base
    assert request_key(_scope(b"limit=5&search=b"), b"", known) != base
    assert request_key(_scope(b"limit=5&search=a"), b"text/csv", known) != base
