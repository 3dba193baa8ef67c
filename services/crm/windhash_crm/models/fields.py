"""Text as the CRM accepts it: printable (no control characters: PostgreSQL refuses NUL, the rest are never
meant), surrounding whitespace removed before the length is checked; long texts keep their line breaks."""

from typing import Annotated, Any

from fastapi import Query
from pydantic import StringConstraints
from windhash_common.events_fleet import Serial

__all__ = ["Email", "Limit", "Name", "Offset", "Phone", "Search", "Serial", "long_text", "text"]

_ONE_LINE = r"^[^\x00-\x1f\x7f]*$"
_LINES = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"


def text(max_length: int, min_length: int = 1) -> Any:
    return StringConstraints(
        strip_whitespace=True, min_length=min_length, max_length=max_length, pattern=_ONE_LINE
    )


def long_text(max_length: int) -> Any:
    return StringConstraints(strip_whitespace=True, max_length=max_length, pattern=_LINES)


Name = Annotated[str, text(200)]
Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        max_length=254,
        pattern=r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+$",
    ),
]
Phone = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=3, max_length=40, pattern=r"^\+?[0-9][0-9 ().-]{1,38}$"
    ),
]
Limit = Annotated[int, Query(ge=1, le=1000)]
Search = Annotated[
    str | None,
    Query(max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$", description="words in the record's text"),
]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
