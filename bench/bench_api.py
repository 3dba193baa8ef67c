"""Benchmark of the API's summary endpoints at 50 concurrent clients, against a real PostgreSQL.

Creates a scratch database on the server at --dsn (default: the local stack's), fills it with a synthetic
year (windhash_testing.sample_dataset: facts plus summaries), starts the API as its own uvicorn process, and
sends --requests requests per endpoint from --clients concurrent asyncio clients (keep-alive). Prints
p50, p99 and requests/s per endpoint, with /health from the same run as the base of the ratio: what the
database work adds over FastAPI's own cost. The scratch database is dropped at the end.

Each client is one keep-alive connection parsed by httptools (bench_api_load.LoadClient, ~0.05 ms of CPU per
request): httpx spent ~3 ms per request, which on 2 shared cores made the client the bottleneck being
measured. The first request of each endpoint is not timed (it warms the
pool, PostgreSQL and the API's response cache); --no-cache starts the API with WINDHASH_API_CACHE=false to
time every request against the database, --workers N with WINDHASH_API_WORKERS=N.

    .venv/bin/python bench/bench_api.py                       # a year, 50 clients, 2000 requests per endpoint
    .venv/bin/python bench/bench_api.py --first 2024-03-01 --last 2024-03-31 --requests 500
    .venv/bin/python bench/bench_api.py --no-cache --workers 2
"""

import argparse
import asyncio
import os
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

# Test support (windhash_testing) lives beside the tests, outside the installed packages.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))

from windhash_common import event_loop
from windhash_common.settings import CommonSettings

# Run as a script, this directory is on sys.path but the repository root (the `bench` package) is not.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.bench_api_load import LoadClient, running_api, sample_database

# Bounded: no endpoint is hammered for longer than this, whatever --requests says.
MAX_SECONDS_PER_ENDPOINT = 60.0


@dataclass(frozen=True)
class Outcome:
    path: str
    latencies: list[float]
    seconds: float
    errors: int

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.latencies) * 1000

    @property
    def p99_ms(self) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds


def endpoints(first: date, last: date) -> list[str]:
    day, month, year = last.isoformat(), last.isoformat()[:7], str(last.year)
    return [
        "/health",
        f"/api/v1/summaries/daily/{day}",
        f"/api/v1/summaries/monthly/{month}",
        f"/api/v1/summaries/yearly/{year}",
        f"/api/v1/mining/monthly/{month}?miner_model=S21",
        f"/api/v1/comparison/yearly/{year}?miner_model=S21",
        f"/api/v1/series/monthly/{month}?miner_model=S21",
        f"/api/v1/top/bm-units/yearly/{year}?limit=20",
        f"/api/v1/summaries/range/{first.isoformat()}..{last.isoformat()}",
    ]


async def hammer(clients: list[LoadClient], path: str, requests: int) -> Outcome:
    latencies: list[float] = []
    errors = 0
    remaining = requests
    deadline = time.perf_counter() + MAX_SECONDS_PER_ENDPOINT

    async def one_client(client: LoadClient) -> None:
        nonlocal remaining, errors
        while remaining > 0 and time.perf_counter() < deadline:
            remaining -= 1
            started = time.perf_counter()
            try:
                status, _ = await client.get(path)
            except (OSError, TimeoutError):
                errors += 1
                continue
            latencies.append(time.perf_counter() - started)
            errors += status != 200

    started = time.perf_counter()
    await asyncio.gather(*(one_client(client) for client in clients))
    return Outcome(path, latencies, time.perf_counter() - started, errors)


def report(outcomes: list[Outcome], clients: int) -> None:
    base = outcomes[0]
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"\n{clients} concurrent clients; ratio = p99 / p99 of {base.path} in the same run")
    print(f"load average {load} on {os.cpu_count()} CPUs (client, API and PostgreSQL share them)\n")
    print(
        f"{'endpoint':58} {'requests':>8} {'errors':>6} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8} {'ratio':>6}"
    )
    for outcome in outcomes:
        print(
            f"{outcome.path[:58]:58} {len(outcome.latencies):>8} {outcome.errors:>6} {outcome.p50_ms:>8.2f} "
            f"{outcome.p99_ms:>8.2f} {outcome.rate:>8.0f} {outcome.p99_ms / base.p99_ms:>6.1f}"
        )


async def run(args: argparse.Namespace) -> None:
    async with (
        sample_database(args.dsn, args.first, args.last, "windhash_bench") as dsn,
        running_api(dsn, args.workers, not args.no_cache) as (base_url, _),
    ):
        # One keep-alive connection per client, kept across the endpoints.
        clients = [LoadClient(base_url) for _ in range(args.clients)]
        try:
            paths = endpoints(args.first, args.last)
            for path in paths:  # warm the pool, PostgreSQL and the response cache
                await clients[0].get(path)
            await asyncio.gather(*(client.get("/health") for client in clients))  # open every connection
            outcomes = [await hammer(clients, path, args.requests) for path in paths]
        finally:
            for client in clients:
                client.close()
    report(outcomes, args.clients)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--dsn", default=CommonSettings().database_url, help="server to create the scratch db on"
    )
    parser.add_argument("--first", type=date.fromisoformat, default=date(2024, 1, 1))
    parser.add_argument("--last", type=date.fromisoformat, default=date(2024, 12, 31))
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=2000, help="per endpoint")
    parser.add_argument("--workers", type=int, default=1, help="API worker processes")
    parser.add_argument("--no-cache", action="store_true", help="start the API without its response cache")
    event_loop.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
