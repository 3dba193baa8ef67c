"""Decimal quantities from PostgreSQL, written as JSON numbers rather than pydantic's default strings.

A float keeps every digit these columns hold (at most 15 significant digits in practice), and JSON clients and
the dashboard read numbers directly. CSV export writes the exact `Decimal` instead.
"""

from decimal import Decimal
from typing import Annotated

from pydantic import PlainSerializer

Quantity = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]
