"""Benchmark of the API's summary endpoints at 50 concurrent clients, against a real PostgreSQL.

Creates a scratch database on the server at --dsn (default: the local stack's), fills it with a synthetic
year (windhash_api.sample_dataset: facts plus summaries), starts the API as its own uvicorn process, and
sends --requests requests per endpoint from --clients concurrent asyncio clients (httpx, keep-alive). Prints
p50, p99 and requests/s per endpoint, with /health from the same run as the base of the ratio: what the
database work adds over FastAPI's own cost. The scratch database is dropped at the end.

    .venv/bin/python bench/bench_api.py                       # a year, 50 clients, 2000 requests per endpoint
    .venv/bin/python bench/bench_api.py --first 2024-03-01 --last 2024-03-31 --requests 500
"""

import argparse
import asyncio
import importlib.util
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

import asyncpg

if importlib.util.find_spec("sniffio") is None:
    # httpcore tries `import sniffio` on every request; without the package each failed import scans sys.path
    # and the client, not the API, becomes what is measured. A None entry makes the import fail at once.
    sys.modules["sniffio"] = None  # type: ignore[assignment]

import httpx
from windhash_api.sample_dataset import load_sample
from windhash_common.db import migrate
from windhash_common.settings import CommonSettings
from windhash_common.settlement_calendar import dates_between

# Bounded: no endpoint is hammered for longer than this, whatever --requests says.
MAX_SECONDS_PER_ENDPOINT = 60.0
READY_TIMEOUT_SECONDS = 30.0


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


async def hammer(client: httpx.AsyncClient, path: str, requests: int, clients: int) -> Outcome:
    latencies: list[float] = []
    errors = 0
    remaining = requests
    deadline = time.perf_counter() + MAX_SECONDS_PER_ENDPOINT

    async def one_client() -> None:
        nonlocal remaining, errors
        while remaining > 0 and time.perf_counter() < deadline:
            remaining -= 1
            started = time.perf_counter()
            try:
                response = await client.get(path)
            except httpx.TransportError:
                errors += 1
                continue
            latencies.append(time.perf_counter() - started)
            errors += response.status_code != 200

    started = time.perf_counter()
    await asyncio.gather(*(one_client() for _ in range(clients)))
    return Outcome(path, latencies, time.perf_counter() - started, errors)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def _wait_ready(base_url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    async with httpx.AsyncClient(base_url=base_url) as client:
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise SystemExit(f"the API exited with {server.returncode} before it was ready")
            try:
                if (await client.get("/ready")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit("the API was not ready in time")


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
    admin = await asyncpg.connect(args.dsn)
    name = f"windhash_bench_{uuid.uuid4().hex[:8]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    dsn = urlsplit(args.dsn)._replace(path=f"/{name}").geturl()
    server: subprocess.Popen[bytes] | None = None
    try:
        connection = await asyncpg.connect(dsn)
        try:
            await migrate(connection)
            print(f"filling {name} with synthetic data {args.first} to {args.last} …", flush=True)
            await load_sample(connection, list(dates_between(args.first, args.last)))
        finally:
            await connection.close()
        port = _free_port()
        environment = {**os.environ, "WINDHASH_DATABASE_URL": dsn, "WINDHASH_API_PORT": str(port)}
        environment["WINDHASH_LOG_LEVEL"] = "WARNING"
        command = [sys.executable, "-m", "windhash_api.main"]
        server = subprocess.Popen(command, env=environment)  # noqa: ASYNC220 - started once, before timing
        base_url = f"http://127.0.0.1:{port}"
        await _wait_ready(base_url, server)
        # Idle connections are dropped before uvicorn's 5 s keep-alive would close them under a request.
        limits = httpx.Limits(
            max_connections=args.clients, max_keepalive_connections=args.clients, keepalive_expiry=2.0
        )
        async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:
            for path in endpoints(args.first, args.last):  # warm the pool and PostgreSQL's caches
                await client.get(path)
            outcomes = [
                await hammer(client, path, args.requests, args.clients)
                for path in endpoints(args.first, args.last)
            ]
        report(outcomes, args.clients)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


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
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
