"""The API's error shape: the shared implementation lives in `windhash_common.http_errors` (the context
services answer in the same shape); the API's modules import it from here."""

from windhash_common.http_errors import (
    ERROR_RESPONSES,
    ApiError,
    ErrorDetail,
    ErrorResponse,
    FieldProblem,
    InvalidParameter,
    NotFound,
    error_response,
    error_shape_responses,
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
    "error_shape_responses",
    "install_error_handlers",
]
