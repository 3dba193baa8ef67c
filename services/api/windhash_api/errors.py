"""The API's error shape: windhash's one, shared with the context services (windhash_common.http_errors)."""

from windhash_common.http_errors import (
    ERROR_RESPONSES,
    ApiError,
    ErrorDetail,
    ErrorResponse,
    FieldProblem,
    InvalidParameter,
    NotFound,
    error_response,
    install_error_handlers,
)

__all__ = [
    "ERROR_RESPONSES",
    "ApiError",
    "ErrorDetail",
    "ErrorResponse",
    "FieldProblem",
    "InvalidParameter",
    "NotFound",
    "error_response",
    "install_error_handlers",
]
