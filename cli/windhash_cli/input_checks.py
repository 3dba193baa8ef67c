"""How the `windhash` command refuses bad input: one sentence and exit code 2 (click's usage error), before
anything is touched. The rules themselves live in windhash_common (`settlement_range`, `input_values`,
`json_input`, `settlement_calendar`); this module only turns their refusals into usage errors.

Date arguments are declared `Annotated[date, typer.Argument(parser=settlement_date)]` (or the `Option`
equivalent), so every date a person types goes through `parse_iso_date` and the settlement window check.
"""

from collections.abc import Callable
from datetime import date
from typing import TypeVar

import typer
from windhash_common.settlement_calendar import check_period
from windhash_common.settlement_range import (
    SettlementRange,
    check_settlement_date,
    check_settlement_range,
    parse_iso_date,
)

T = TypeVar("T")


def refused(error: Exception) -> typer.BadParameter:
    return typer.BadParameter(str(error).rstrip("."))


def checked(produce: Callable[[], T]) -> T:
    """`produce()`, with any ValueError (and decimal's ArithmeticError) it raises refused as bad input: for
    calls that only read what the person gave (a file, a figure), never for calls that reach a server."""
    try:
        return produce()
    except (ValueError, ArithmeticError, OSError) as error:
        raise refused(error) from None


def settlement_date(text: str) -> date:
    """A YYYY-MM-DD date between the first settlement date and tomorrow (typer `parser=`)."""
    try:
        return check_settlement_date(parse_iso_date(text))
    except ValueError as error:
        raise refused(error) from None


def optional_settlement_date(text: str | None) -> date | None:
    return None if text is None else settlement_date(text)


def settlement_span(first: date | None, last: date | None) -> SettlementRange | None:
    """`first..last` checked as a whole (each end was checked by `settlement_date`); None when either end is
    left to the data."""
    if first is None or last is None:
        return None
    try:
        return check_settlement_range(first, last)
    except ValueError as error:
        raise refused(error) from None


def settlement_period(day: date, period: int) -> int:
    """`period` when `day` has it (46, 48 or 50 periods)."""
    try:
        check_period(day, period)
    except ValueError as error:
        raise refused(error) from None
    return period
