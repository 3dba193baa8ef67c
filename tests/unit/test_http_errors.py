"""The one error shape (windhash_common.http_errors) on a bare app: refusals, FastAPI's own errors, timeouts
and failures, with the single origin's hints and with a context service's."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Query
from windhash_common.http_errors import (
    CONTEXT_SERVICE_HINTS,
    SINGLE_ORIGIN_HINTS,
    ApiError,
    ErrorHints,
    NotFound,
    install_error_handlers,
)


def app_with(hints: ErrorHints, timeouts_mean_busy: bool) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app, hints, timeouts_mean_busy)

    @app.get("/refused")
    async def refused() -> None:
        raise ApiError(429, "too_many_attempts", "slow down", "try again in 3 s", {"Retry-After": "3"})

    @app.get("/missing")
    async def missing() -> None:
        raise NotFound("no such farm")

    @app.get("/bounded")
    async def bounded(limit: int = Query(le=10)) -> int:
        return limit

    @app.get("/slow")
    async def slow() -> None:
        raise TimeoutError("statement timeout")

    @app.get("/broken")
    async def broken() -> None:
        raise RuntimeError("a bug")

    return app


@dataclass(frozen=True)
class Served:
    http: httpx.AsyncClient
    hints: ErrorHints
    timeouts_mean_busy: bool

    async def answer(self, method: str, path: str, **query: str) -> tuple[httpx.Response, dict[str, Any]]:
        """The response, and its error once checked to hold the shape's four fields and nothing else."""
        response = await self.http.request(method, path, params=query)
        body = response.json()
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "hint", "fields"}, body
        error: dict[str, Any] = body["error"]
        return response, error


def shaped(code: str, message: str, hint: str | None) -> dict[str, Any]:
    return {"code": code, "message": message, "hint": hint, "fields": []}


@pytest.fixture(
    params=[(SINGLE_ORIGIN_HINTS, True), (CONTEXT_SERVICE_HINTS, False)], ids=["origin", "service"]
)
async def served(request: pytest.FixtureRequest) -> AsyncIterator[Served]:
    hints, timeouts_mean_busy = request.param
    transport = httpx.ASGITransport(app=app_with(hints, timeouts_mean_busy), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://windhash.test") as http:
        yield Served(http, hints, timeouts_mean_busy)


async def test_a_refusal_keeps_its_status_code_hint_and_headers(served: Served) -> None:
    refused, error = await served.answer("GET", "/refused")
    assert (refused.status_code, refused.headers["Retry-After"]) == (429, "3")
    assert error == shaped("too_many_attempts", "slow down", "try again in 3 s")
    missing, error = await served.answer("GET", "/missing")
    assert (missing.status_code, error) == (404, shaped("not_found", "no such farm", None))


async def test_an_unknown_route_and_a_wrong_method_point_at_the_apps_own_documents(served: Served) -> None:
    unknown, error = await served.answer("GET", "/nowhere")
    assert (unknown.status_code, error) == (404, shaped("not_found", "Not Found", served.hints.unknown_route))
    wrong, error = await served.answer("POST", "/refused")
    assert wrong.status_code == 405 and "GET" in wrong.headers["Allow"]
    assert error == shaped("method_not_allowed", "Method Not Allowed", served.hints.wrong_method)


async def test_invalid_parameters_name_each_field(served: Served) -> None:
    invalid, error = await served.answer("GET", "/bounded", limit="11")
    assert invalid.status_code == 422
    assert error["code"] == "invalid_parameter" and error["hint"] == served.hints.invalid_parameters
    assert [field["location"] for field in error["fields"]] == ["query.limit"]
    assert error["message"].startswith("the request has invalid parameters: query.limit: ")


async def test_a_timeout_is_busy_only_where_queries_have_a_time_limit(served: Served) -> None:
    slow, error = await served.answer("GET", "/slow")
    if served.timeouts_mean_busy:
        assert (slow.status_code, slow.headers["Retry-After"], error["code"]) == (503, "5", "query_timeout")
    else:
        assert (slow.status_code, error["code"]) == (500, "internal_error")


async def test_an_unexpected_failure_answers_500_without_a_trace(served: Served) -> None:
    broken, error = await served.answer("GET", "/broken")
    assert broken.status_code == 500
    assert error == shaped(
        "internal_error", "the server failed to answer this request", "retry later; the failure was logged"
    )
