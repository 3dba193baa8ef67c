"""Values a person or an outside system hands windhash, checked before they are stored: names and figures.

A name is printable text without surrounding spaces (control and escape characters would corrupt terminals,
CSV files and logs; a NUL cannot even be stored by PostgreSQL). A figure is a finite decimal number within
stated bounds; NaN, the infinities and exponents no column can hold are refused. Every refusal is an
`InputRefused`, a ValueError whose message is one sentence.
"""

import unicodedata
from decimal import Decimal, InvalidOperation

# Unicode categories that are not printable text: controls (Cc, NUL and ESC among them), format characters
# (Cf: bidi overrides, zero-width spaces), line and paragraph separators (Zl, Zp), unassigned and private
# use (Cn, Co) and surrogates (Cs).
_NOT_PRINTABLE = frozenset({"Cc", "Cf", "Zl", "Zp", "Cn", "Co", "Cs"})
# A number's text longer than this is not a figure anyone types or any source publishes.
_MAX_NUMBER_TEXT = 64


class InputRefused(ValueError):
    """A value windhash will not store; the message says which and why, in one sentence."""


def printable_problem(text: str) -> str | None:
    """Why `text` is not printable text, or None when it is."""
    for index, character in enumerate(text):
        if unicodedata.category(character) in _NOT_PRINTABLE:
            return f"character {index + 1} is the control or format character U+{ord(character):04X}"
    return None


def checked_name(value: object, what: str, max_length: int = 100) -> str:
    """`value` when it is a non-empty printable string without surrounding spaces, at most `max_length`."""
    if not isinstance(value, str):
        raise InputRefused(f"{what} must be text, got {type(value).__name__}")
    if not value:
        raise InputRefused(f"{what} is empty")
    if len(value) > max_length:
        raise InputRefused(f"{what} is {len(value)} characters long, more than {max_length}")
    problem = printable_problem(value)
    if problem is not None:
        raise InputRefused(f"{what} {value!r} is not printable text: {problem}")
    if value != value.strip():
        raise InputRefused(f"{what} {value!r} starts or ends with spaces")
    return value


def decimal_of(value: object, what: str) -> Decimal:
    """The exact finite Decimal of a JSON number or of a number's text; InputRefused for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise InputRefused(f"{what} must be a number, got {type(value).__name__}")
    text = value.strip() if isinstance(value, str) else str(value)
    if len(text) > _MAX_NUMBER_TEXT:
        raise InputRefused(f"{what} is {len(text)} characters long, not a figure")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise InputRefused(f"{what} must be a number, got {text!r}") from None
    if not number.is_finite():
        raise InputRefused(f"{what} must be a finite number, got {text}")
    return number


def bounded_decimal(value: object, what: str, *, above: Decimal, at_most: Decimal, unit: str = "") -> Decimal:
    """`decimal_of(value)` when `above < value <= at_most`."""
    number = decimal_of(value, what)
    if not above < number <= at_most:
        suffix = f" {unit}" if unit else ""
        raise InputRefused(
            f"{what} must be above {above} and at most {at_most}{suffix}, got {number:f}"[:300]
        )
    return number
