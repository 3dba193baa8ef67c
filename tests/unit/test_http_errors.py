"""The one error shape (windhash_common.http_errors) on a bare app: refusals, FastAPI's own errors, timeouts
and failures, with the single origin's hints and with a context service's."""

from collections.abc import AsyncIterator
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


@pytest.fixture(
    params=[(SINGLE_ORIGIN_HINTS, True), (CONTEXT_SERVICE_HINTS, False)], ids=["origin", "service"]
)
async def asked(request: pytest.FixtureRequest) -> AsyncIterator[tuple[httpx.AsyncClient, ErrorHints, bool]]:
    hints, timeouts_mean_busy = request.param
    transport = httpx.ASGITransport(app=app_with(hints, timeouts_mean_busy), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://windhash.test") as http:
        yield http, hints, timeouts_mean_busy


def error_of(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "hint", "fields"}, body
    error: dict[str, Any] = body["error"]
    return error


async def test_a_refusal_keeps_its_status_code_hint_and_headers(
    asked: tuple[httpx.AsyncClient, ErrorHints, bool],
) -> None:
    http, _, _ = asked
    response = await http.get("/refused")
    assert response.status_code == 429 and response.headers["Retry-After"] == "3"
    assert error_of(response) == {
        "code": "too_many_attempts",
        "message": "slow down",
        "hint": "try again in 3 s",
        "fields": [],
    }
    missing = await http.get("/missing")
    assert missing.status_code == 404
    assert error_of(missing) == {"code": "not_found", "message": "no such farm", "hint": None, "fields": []}


async def test_an_unknown_route_and_a_wrong_method_point_at_the_apps_own_documents(
    asked: tuple[httpx.AsyncClient, ErrorHints, bool],
) -> None:
    http, hints, _ = asked
    unknown = await http.get("/nowhere")
    assert unknown.status_code == 404
    assert error_of(unknown) == {
        "code": "not_found",
        "message": "Not Found",
        "hint": hints.unknown_route,
        "fields": [],
    }
    wrong = await http.post("/refused")
    assert wrong.status_code == 405 and "GET" in wrong.headers["Allow"]
    assert error_of(wrong)["code"] == "method_not_allowed" and error_of(wrong)["hint"] == hints.wrong_method


async def test_invalid_parameters_name_each_field(asked: tuple[httpx.AsyncClient, ErrorHints, bool]) -> None:
    http, hints, _ = asked
    error = error_of(await http.get("/bounded", params={"limit": "11"}))
    assert error["code"] == "invalid_parameter" and error["hint"] == hints.invalid_parameters
    assert [field["location"] for field in error["fields"]] == ["query.limit"]
    assert error["message"].startswith("the request has invalid parameters: query.limit: ")


async def test_a_timeout_is_busy_only_where_queries_have_a_time_limit(
    asked: tuple[httpx.AsyncClient, ErrorHints, bool],
) -> None:
    http, _, timeouts_mean_busy = asked
    response = await http.get("/slow")
    if timeouts_mean_busy:
        assert response.status_code == 503 and response.headers["Retry-After"] == "5"
        assert error_of(response)["code"] == "query_timeout"
    else:
        assert response.status_code == 500 and error_of(response)["code"] == "internal_error"


async def test_an_unexpected_failure_answers_500_without_a_trace(
    asked: tuple[httpx.AsyncClient, ErrorHints, bool],
) -> None:
    http, _, _ = asked
    response = await http.get("/broken")
    assert response.status_code == 500
    assert error_of(response) == {
        "code": "internal_error",
        "message": "the server failed to answer this request",
        "hint": "retry later; the failure was logged",
        "fields": [],
    }
