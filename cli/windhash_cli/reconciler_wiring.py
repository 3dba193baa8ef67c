"""The reconciler's re-fetching, wired to the ingestor's period ingest.

The reconciler package holds only the port (`windhash_reconciler.refetch.PeriodRefetcher`); this entry point,
above both services, plugs the ingestor's own code in, so a re-fetched period is fetched, published and
recorded in `ingestion_progress` exactly as the ingestor does it.
"""

from collections.abc import Callable, Sequence

from windhash_ingestor.backfill import run_periods
from windhash_ingestor.period_ingest import PeriodOutcome
from windhash_ingestor.runtime import open_runtime
from windhash_ingestor.settings import IngestorSettings
from windhash_reconciler.refetch import FetchPolicy, PeriodKey


class IngestorRefetcher:
    def __init__(self, settings: IngestorSettings | None = None) -> None:
        self._settings = settings or IngestorSettings()

    async def refetch(
        self, keys: Sequence[PeriodKey], policy: FetchPolicy, on_outcome: Callable[[], None] | None = None
    ) -> list[PeriodOutcome]:
        async with open_runtime(self._settings) as runtime:
            ingestor = await runtime.period_ingestor()
            workers = self._settings.elexon_concurrency * 2

            def advance(_: PeriodOutcome) -> None:
                if on_outcome is not None:
                    on_outcome()

            return await run_periods(ingestor, keys, policy, workers, advance)
