"""windhash's one HTTP error shape, `{"error": {"code", "message", "hint", "fields"}}`, for every 4xx and 5xx
of the API and of every context service (`install_error_handlers(app)`).

FastAPI's own validation and HTTP errors are re-shaped here too, so a client parses one format whatever
failed, whichever service answered.
"""

from typing import Any

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
    """A refusal the API means to give: carries its status, code and a hint that says what to send instead."""

    def __init__(self, status: int, code: str, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.hint = hint


class InvalidParameter(ApiError):
    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(422, "invalid_parameter", message, hint)


class NotFound(ApiError):
    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(404, "not_found", message, hint)


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "The named resource does not exist"},
    422: {"model": ErrorResponse, "description": "A parameter is malformed or out of range; see `hint`"},
    500: {"model": ErrorResponse, "description": "The server failed; the request may be retried"},
}

_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    429: "too_many_requests",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    503: "unavailable",
}


def error_response(
    status: int, code: str, message: str, hint: str | None = None, fields: list[FieldProblem] | None = None
) -> JSONResponse:
    body = ErrorResponse(error=ErrorDetail(code=code, message=message, hint=hint, fields=fields or []))
    return JSONResponse(status_code=status, content=body.model_dump(mode="json"))


def _describe(problem: dict[str, Any]) -> FieldProblem:
    location = ".".join(str(part) for part in problem.get("loc", ()))
    return FieldProblem(location=location, message=str(problem.get("msg", "invalid value")))


async def _api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.message, exc.hint)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields = [_describe(problem) for problem in exc.errors()]
    summary = "; ".join(f"{field.location}: {field.message}" for field in fields) or "invalid request"
    return error_response(
        422,
        "invalid_parameter",
        f"the request has invalid parameters: {summary}",
        "see the OpenAPI document at /openapi.json (or /docs) for each parameter's type and range",
        fields,
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    # Refusals from the shared access layer (windhash_common.access) carry their own code and hint.
    code = getattr(exc, "code", None) or _STATUS_CODES.get(exc.status_code, "http_error")
    hint: str | None = getattr(exc, "hint", None)
    if exc.status_code == 404:
        hint = "the API lives under /api/v1; its routes are listed at /docs"
    elif exc.status_code == 405:
        hint = "this route does not take that method; /docs lists each route's methods"
    response = error_response(exc.status_code, code, str(exc.detail), hint)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("request failed", path=request.url.path)
    return error_response(
        500,
        "internal_error",
        "the server failed to answer this request",
        "retry later; the failure was logged",
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
