"""Decimal quantities from PostgreSQL, written as JSON numbers rather than pydantic's default strings.

A float keeps every digit these columns hold (at most 15 significant digits in practice), and JSON clients and
the dashboard read numbers directly; CSV export writes the exact `Decimal` instead. A stored value no JSON
number can carry (numeric NaN, or a magnitude past a double's range, written by hand or by an older version)
is served as `null`, what an answer says of any figure it cannot give: never a failed answer.
"""

import math
from decimal import Decimal
from typing import Annotated

from pydantic import Field, PlainSerializer


def json_number(value: Decimal) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None


Quantity = Annotated[
    Decimal,
    Field(allow_inf_nan=True),  # read as stored; written as null below
    PlainSerializer(json_number, return_type=float | None, when_used="json"),
]
