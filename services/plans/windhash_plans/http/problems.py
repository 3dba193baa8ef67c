"""The plans app's refusals in the API's one error shape, `{"error": {"code", "message", "hint", "fields"}}`:
its own (not found, conflicts with a plan's state, impossible targets) and FastAPI's validation errors."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response


class Problem(Exception):
    def __init__(self, status: int, code: str, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.hint = status, code, message, hint


def not_found(what: str) -> Problem:
    return Problem(404, "not_found", f"{what} does not exist (or is not yours to see)")


def problem_response(
    status: int, code: str, message: str, hint: str | None, fields: list[Any]
) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "hint": hint, "fields": fields}}
    return JSONResponse(body, status_code=status)


async def _problem(_: Request, error: Exception) -> Response:
    assert isinstance(error, Problem)
    return problem_response(error.status, error.code, error.message, error.hint, [])


async def _invalid(_: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    fields = [
        {"location": ".".join(str(part) for part in problem["loc"]), "message": problem["msg"]}
        for problem in error.errors()
    ]
    return problem_response(422, "invalid_parameter", "the request is not valid", "see `fields`", fields)


def install_problems(app: FastAPI) -> None:
    app.add_exception_handler(Problem, _problem)
    app.add_exception_handler(RequestValidationError, _invalid)
