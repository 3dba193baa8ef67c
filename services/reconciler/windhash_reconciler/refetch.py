"""Fetching periods from Elexon again: a port, because fetching and publishing is the ingestor's job.

The reconciler asks for the periods it lacks and reads what the fetch published from the topic; how they are
fetched is wired in by the entry point that runs it (`windhash reconcile` and `windhash reconciler` pass the
ingestor's own period ingest: cli/windhash_cli/reconciler_wiring.py), so this package imports no other
service.
"""

from collections.abc import Callable, Sequence
from datetime import date
from typing import Literal, Protocol

PeriodKey = tuple[date, int]
FetchPolicy = Literal["always", "if_changed"]


class FetchOutcome(Protocol):
    @property
    def settlement_date(self) -> date: ...

    @property
    def settlement_period(self) -> int: ...

    @property
    def status(self) -> str:
        """published, unchanged, failed, …"""


class PeriodRefetcher(Protocol):
    async def refetch(
        self, keys: Sequence[PeriodKey], policy: FetchPolicy, on_outcome: Callable[[], None] | None = None
    ) -> Sequence[FetchOutcome]:
        """Fetch and publish these periods (progress recorded, failures recorded failed); one outcome each."""
        ...
