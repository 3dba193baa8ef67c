"""Schemathesis against the API's own OpenAPI document, on a live uvicorn over the real database: whatever it
generates, valid or not, the API answers as documented and never with a 5xx."""

import asyncio
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import asyncpg
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from windhash_api.app import create_app
from windhash_api.settings import ApiSettings
from windhash_common.settlement_calendar import dates_between
from windhash_stack.ports import free_port
from windhash_testing.sample_dataset import load_sample

pytestmark = pytest.mark.integration
EXAMPLES_PER_OPERATION = 25
# Not "positive data accepted": a schema-valid month such as 2024-13 is still refused, with a hint.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
async def live_api(pg_dsn: str) -> AsyncIterator[str]:
    connection = await asyncpg.connect(pg_dsn)
    try:
        await load_sample(connection, list(dates_between(date(2024, 3, 30), date(2024, 4, 1))))
    finally:
        await connection.close()
    port = free_port()
    app = create_app(ApiSettings(database_url=pg_dsn, migrate_on_start=False, db_pool_max_size=4))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            serving.result()
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving


def _fuzz(base_url: str) -> list[str]:
    """Every operation, with data that fits the schema and data that does not; returns the failures."""
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    failures: list[str] = []
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            raise AssertionError(f"the OpenAPI document has an invalid operation: {result.err()}")
        operation = result.ok()
        strategy = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)
        )

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def check(case: schemathesis.Case[Any]) -> None:
            response = case.call(base_url=base_url, timeout=30)
            if response.status_code >= 500:
                failures.append(f"{case.method} {response.request.url} -> {response.status_code}")
                return
            case.validate_response(response, checks=CHECKS)

        check()
    return failures


async def test_schemathesis_finds_no_server_error_and_no_undocumented_response(live_api: str) -> None:
    failures = await asyncio.to_thread(_fuzz, live_api)
    assert failures == []
