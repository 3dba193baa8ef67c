"""The API's one error shape, `{"error": {"code", "message", "hint", "fields"}}`, for every 4xx and 5xx of a
context service's app (`service_app.create_service_app` installs it), so that a client of the single origin
parses one format whatever answered: the API itself, or a service behind it.

A route refuses with `Refusal(status, code, message, hint)` (the access layer's `AccessRefused` is one too);
FastAPI's validation errors become 422 `invalid_parameter` with each field's problem; an unexpected error is
logged and answered 500 `internal_error`, never with a trace.
"""

from collections.abc import Mapping
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

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


class Refusal(HTTPException):
    """A refusal a route means to give, with a stable code and a hint that says what to send instead."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        hint: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status, message, headers)
        self.code = code
        self.hint = hint


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "Nothing to answer with yet, or the named thing is unknown"},
    422: {"model": ErrorResponse, "description": "A parameter is malformed or out of range; see `hint`"},
}

_CODES = {
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


async def _http_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    code = getattr(error, "code", None) or _CODES.get(error.status_code, "http_error")
    hint: str | None = getattr(error, "hint", None)
    if hint is None and error.status_code == 404:
        hint = "this service's routes are listed in its /openapi.json"
    elif hint is None and error.status_code == 405:
        hint = "this route does not take that method; /openapi.json lists each route's methods"
    return error_response(error.status_code, code, str(error.detail), hint, headers=error.headers)


async def _validation_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    fields = [
        FieldProblem(
            location=".".join(str(part) for part in problem.get("loc", ())),
            message=str(problem.get("msg", "invalid value")),
        )
        for problem in error.errors()
    ]
    summary = "; ".join(f"{field.location}: {field.message}" for field in fields) or "invalid request"
    return error_response(
        422,
        "invalid_parameter",
        f"the request has invalid parameters: {summary}",
        "see the OpenAPI document for each parameter's type and range",
        fields,
    )


async def _unexpected_error(request: Request, _: Exception) -> JSONResponse:
    log.exception("request failed", path=request.url.path)
    return error_response(
        500,
        "internal_error",
        "the server failed to answer this request",
        "retry later; the failure was logged",
    )


def install_error_shape(app: FastAPI) -> None:
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected_error)
