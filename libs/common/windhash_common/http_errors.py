"""windhash's one HTTP error shape, `{"error": {"code", "message", "hint", "fields"}}`, for every 4xx and 5xx
of the API and of every context service (`install_error_handlers(app)`; `service_app.create_service_app`
installs it with the service's own hints).

A route or the access layer refuses with `ApiError(status, code, message, hint, headers)`; FastAPI's
validation errors become 422 `invalid_parameter` with each field's problem; its own HTTP errors (an unknown
route, a method the route does not take) keep their status with a stable code; an unexpected error is logged
and answered 500 `internal_error`, never with a trace. So a client parses one format whatever failed,
whichever service answered.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import asyncpg
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

log = structlog.get_logger(__name__)


class FieldProblem(BaseModel):
    location: str = Field(description="where the bad value was, e.g. `query.limit` or `path.value`")
    message: str


class ErrorDetail(BaseModel):
    code: str = Field(description="stable machine-readable code, e.g. `invalid_parameter`")
    message: str = Field(description="what was wrong, for a person")
    hint: str | None = Field(default=None, description="what to send instead")
    fields: list[FieldProblem] = Field(default_factory=list)


class ErrorResponse(BaseModel):
    error: ErrorDetail


class ApiError(Exception):
    """A refusal a route (or the access layer) means to give: its status, a stable code, a hint that says what
    to send instead, and any headers the answer needs (`WWW-Authenticate`, `Retry-After`)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        hint: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.hint = hint
        self.headers = headers


class InvalidParameter(ApiError):
    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(422, "invalid_parameter", message, hint)


class NotFound(ApiError):
    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(404, "not_found", message, hint)


def error_shape_responses(descriptions: Mapping[int, str]) -> dict[int | str, dict[str, Any]]:
    """A route's `responses` (OpenAPI): each status answered in the error shape, with what it means there."""
    return {status: {"model": ErrorResponse, "description": text} for status, text in descriptions.items()}


ERROR_RESPONSES = error_shape_responses(
    {
        404: "The named resource does not exist",
        422: "A parameter is malformed or out of range; see `hint`",
        429: "Too many long queries from this client; see Retry-After",
        500: "The server failed; the request may be retried",
        503: "Busy: the query ran past its time limit or found no free slot; see Retry-After",
    }
)


@dataclass(frozen=True)
class ErrorHints:
    """Where an app sends a client who asked for a route it lacks, for a method a route does not take, or
    with invalid parameters: the single origin points at its /docs, a context service at its /openapi.json."""

    unknown_route: str
    wrong_method: str
    invalid_parameters: str


SINGLE_ORIGIN_HINTS = ErrorHints(
    unknown_route="the API lives under /api/v1; its routes are listed at /docs",
    wrong_method="this route does not take that method; /docs lists each route's methods",
    invalid_parameters=(
        "see the OpenAPI document at /openapi.json (or /docs) for each parameter's type and range"
    ),
)
CONTEXT_SERVICE_HINTS = ErrorHints(
    unknown_route="this service's routes are listed in its /openapi.json",
    wrong_method="this route does not take that method; /openapi.json lists each route's methods",
    invalid_parameters="see the OpenAPI document for each parameter's type and range",
)

_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    429: "too_many_requests",
    503: "unavailable",
}


def error_response(
    status: int,
    code: str,
    message: str,
    hint: str | None = None,
    fields: list[FieldProblem] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = ErrorResponse(error=ErrorDetail(code=code, message=message, hint=hint, fields=fields or []))
    return JSONResponse(status_code=status, content=body.model_dump(mode="json"), headers=headers)


def _describe(problem: dict[str, Any]) -> FieldProblem:
    location = ".".join(str(part) for part in problem.get("loc", ()))
    return FieldProblem(location=location, message=str(problem.get("msg", "invalid value")))


async def _api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.message, exc.hint, headers=exc.headers)


async def _validation_error(hints: ErrorHints, _: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields = [_describe(problem) for problem in exc.errors()]
    summary = "; ".join(f"{field.location}: {field.message}" for field in fields) or "invalid request"
    return error_response(
        422,
        "invalid_parameter",
        f"the request has invalid parameters: {summary}",
        hints.invalid_parameters,
        fields,
    )


async def _http_error(hints: ErrorHints, _: Request, exc: Exception) -> JSONResponse:
    """FastAPI's and Starlette's own refusals (an unknown route, a method the route does not take…)."""
    assert isinstance(exc, StarletteHTTPException)
    code = _STATUS_CODES.get(exc.status_code, "http_error")
    hint = {404: hints.unknown_route, 405: hints.wrong_method}.get(exc.status_code)
    return error_response(exc.status_code, code, str(exc.detail), hint, headers=exc.headers)


async def _query_timeout(request: Request, exc: Exception) -> JSONResponse:
    log.warning("query cancelled by its time limit", path=request.url.path, error=str(exc)[:200])
    return error_response(
        503,
        "query_timeout",
        "the query ran past the server's time limit and was cancelled",
        "ask for a shorter span, or retry later",
        headers={"Retry-After": "5"},
    )


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("request failed", path=request.url.path)
    return error_response(
        500,
        "internal_error",
        "the server failed to answer this request",
        "retry later; the failure was logged",
    )


def install_error_handlers(
    app: FastAPI, hints: ErrorHints = SINGLE_ORIGIN_HINTS, timeouts_mean_busy: bool = True
) -> None:
    """Every error of `app` in the one shape. `timeouts_mean_busy`: a query its time limit cancelled (the
    API's pools set one) answers 503 `query_timeout` with Retry-After rather than 500."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, partial(_validation_error, hints))
    app.add_exception_handler(StarletteHTTPException, partial(_http_error, hints))
    if timeouts_mean_busy:
        # statement_timeout (PostgreSQL cancelled it) and command_timeout (asyncpg gave up on an answer)
        app.add_exception_handler(asyncpg.QueryCanceledError, _query_timeout)
        app.add_exception_handler(TimeoutError, _query_timeout)
    app.add_exception_handler(Exception, _unexpected_error)
