"""The reconciliation rate as the predecessor defined it: calculations present ÷ calculations expected, where
expected = curtailment records × active miner models, overall and per model (issue #21, item 7).

It is a ratio of rows, not of days, so it sits next to the day-completeness ratio rather than replacing it:
one missing calculation in a year barely moves it, while it makes a day partial. Records whose period awaits
its difficulty are expected like every other (the predecessor knew no such state) and are counted on their
own (`records_pending_difficulty`), so a rate below 1 that they explain is told apart from a loss.
"""

from collections.abc import Mapping, Sequence
from datetime import date

import asyncpg
from pydantic import BaseModel, Field

_RECORDS_SQL = """
    SELECT count(*)::bigint AS records,
           count(*) FILTER (WHERE sp.status = 'pending_difficulty')::bigint AS pending
    FROM curtailment_records AS cr
    LEFT JOIN settlement_periods AS sp USING (settlement_date, settlement_period)
    WHERE cr.settlement_date BETWEEN $1 AND $2"""
_CALCULATIONS_SQL = """
    SELECT miner_model, count(*)::bigint AS present FROM bitcoin_calculations
    WHERE settlement_date BETWEEN $1 AND $2 AND miner_model = ANY($3::text[]) GROUP BY miner_model"""


class ModelRate(BaseModel):
    miner_model: str
    calculations_expected: int = Field(description="Curtailment records in the range.")
    calculations_present: int
    rate: float = Field(description="Present / expected; 1.0 when nothing is expected.")


class CalculationRate(BaseModel):
    """The predecessor's reconciliation rate."""

    records: int = Field(description="Curtailment records in the range.")
    records_pending_difficulty: int = Field(description="Of those, records whose period awaits difficulty.")
    active_miner_models: int
    calculations_expected: int = Field(description="Records × active miner models.")
    calculations_present: int
    rate: float = Field(description="Present / expected; 1.0 when nothing is expected.")
    models: list[ModelRate]


def _rate(present: int, expected: int) -> float:
    return present / expected if expected else 1.0


def calculation_rate(records: int, pending: int, present_by_model: Mapping[str, int]) -> CalculationRate:
    """The rate from the counts: every model in `present_by_model` is an active one (0 when it has none)."""
    models = [
        ModelRate(
            miner_model=name,
            calculations_expected=records,
            calculations_present=present,
            rate=_rate(present, records),
        )
        for name, present in sorted(present_by_model.items())
    ]
    expected = records * len(models)
    present = sum(model.calculations_present for model in models)
    return CalculationRate(
        records=records,
        records_pending_difficulty=pending,
        active_miner_models=len(models),
        calculations_expected=expected,
        calculations_present=present,
        rate=_rate(present, expected),
        models=models,
    )


async def read_calculation_rate(
    connection: asyncpg.Connection, first: date, last: date, active_models: Sequence[str]
) -> CalculationRate:
    counts = await connection.fetchrow(_RECORDS_SQL, first, last)
    present = {name: 0 for name in active_models}
    for row in await connection.fetch(_CALCULATIONS_SQL, first, last, list(active_models)):
        present[row["miner_model"]] = row["present"]
    return calculation_rate(counts["records"], counts["pending"], present)
