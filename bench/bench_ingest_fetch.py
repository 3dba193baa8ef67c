"""Benchmark: concurrent Elexon fetch against sequential fetch, in the same run, against the synthetic server.

    .venv/bin/python bench/bench_ingest_fetch.py [--days 2] [--latency-ms 60] [--concurrency 8]

The synthetic server answers from this machine in microseconds, so it is given a per-request latency like the
real API's round trip (`--latency-ms`); the concurrent fetch overlaps those waits. Both runs fetch the same
periods through the ingestor's own `ElexonClient` and must return identical bodies.
"""

import argparse
import asyncio
import time
from datetime import date, timedelta

from windhash_common.settlement_calendar import dates_between, settlement_periods
from windhash_elexon_sim import ElexonSimServer
from windhash_ingestor.elexon_client import ElexonClient
from windhash_ingestor.settings import IngestorSettings

FIRST_DAY = date(2024, 1, 8)


async def fetch_all(
    base_url: str, periods: list[tuple[date, int]], concurrency: int
) -> tuple[float, list[bytes]]:
    settings = IngestorSettings(elexon_base_url=base_url, elexon_concurrency=concurrency)
    async with ElexonClient(settings) as client:
        started = time.perf_counter()
        if concurrency == 1:
            responses = [await client.settlement_stack("bid", day, period) for day, period in periods]
        else:
            responses = await asyncio.gather(
                *(client.settlement_stack("bid", day, period) for day, period in periods)
            )
        elapsed = time.perf_counter() - started
    return elapsed, [response.body for response in responses]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=2, help="settlement days to fetch (48 periods each)")
    parser.add_argument("--latency-ms", type=float, default=60.0, help="simulated round trip per request")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight in the concurrent run")
    args = parser.parse_args()
    last = FIRST_DAY + timedelta(days=args.days - 1)
    periods = [(day, period) for day in dates_between(FIRST_DAY, last) for period in settlement_periods(day)]
    with ElexonSimServer(latency_s=args.latency_ms / 1000) as sim:
        asyncio.run(fetch_all(sim.base_url, periods[:4], 2))  # warm-up: generator caches, connections
        sequential, sequential_bodies = asyncio.run(fetch_all(sim.base_url, periods, 1))
        concurrent, concurrent_bodies = asyncio.run(fetch_all(sim.base_url, periods, args.concurrency))
    if sequential_bodies != concurrent_bodies:
        raise SystemExit("the concurrent fetch returned different data from the sequential one")
    print(f"fetched {len(periods)} settlement periods (bid stacks) from the synthetic Elexon server")
    print(f"simulated latency {args.latency_ms:.0f} ms per request")
    runs = (
        ("sequential, 1 in flight", sequential),
        (f"concurrent, {args.concurrency} in flight", concurrent),
    )
    for label, seconds in runs:
        print(f"{label:<26} {seconds:7.2f} s  {len(periods) / seconds:7.1f} periods/s")
    print(f"speed-up: {sequential / concurrent:.1f}x")


if __name__ == "__main__":
    main()
