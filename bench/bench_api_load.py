"""Load test of the HTTP API: N concurrent clients (default 100) for a fixed time, over a mix of every read
endpoint, with zero errors expected. Prints requests, errors, p50, p99 and requests/s.

    .venv/bin/python -m bench.bench_api_load --url http://127.0.0.1:8080 --first 2024-01-01 --last 2024-12-31
    .venv/bin/python -m bench.bench_api_load --dsn postgresql://windhash@127.0.0.1:15432/windhash --seconds 30

With --url it loads an API already running over data for --first..--last (as `windhash bench --api` does).
With --dsn it creates a scratch database on that server, fills it with the API's synthetic sample
(windhash_api.sample_dataset), starts the API as its own process, loads it, and drops the database. Exits 1
when any request failed (a non-200 answer, a timeout or a connection error).
"""

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import urlsplit

import asyncpg
import httpx
from windhash_api.sample_dataset import load_sample
from windhash_common.db import migrate
from windhash_common.settings import CommonSettings
from windhash_common.settlement_calendar import dates_between

DEFAULT_CLIENTS = 100
READY_TIMEOUT_S = 60.0
REQUEST_TIMEOUT_S = 30.0
MINER_MODELS = ("S19J_PRO", "S21", "M60S")


@dataclass
class LoadOutcome:
    clients: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    by_path: dict[str, list[float]] = field(default_factory=dict)

    @property
    def requests(self) -> int:
        return len(self.latencies) + sum(self.errors.values())

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.latencies) * 1000 if self.latencies else 0.0

    @property
    def p99_ms(self) -> float:
        return _percentile(self.latencies, 0.99)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def slowest(self, count: int = 5) -> list[tuple[str, float, float]]:
        """(path, p50 ms, p99 ms) of the paths with the highest p99."""
        figures = [
            (path, _percentile(times, 0.5), _percentile(times, 0.99)) for path, times in self.by_path.items()
        ]
        return sorted(figures, key=lambda figure: -figure[2])[:count]

    def summary(self) -> str:
        errors = ", ".join(f"{kind} x{count}" for kind, count in self.errors.most_common()) or "none"
        return (
            f"{self.clients} clients for {self.seconds:.0f} s: {self.requests} requests,"
            f" {self.error_count} errors ({errors}); p50 {self.p50_ms:.1f} ms, p99 {self.p99_ms:.1f} ms,"
            f" {self.rate:.0f} requests/s"
        )


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] * 1000 if ordered else 0.0


def api_paths(first: date, last: date) -> list[str]:
    """Read requests over the span, spread across its days, months and miner models."""
    days = list(dates_between(first, last))
    step = max(1, len(days) // 12)
    sampled = days[::step]
    months = sorted({day.isoformat()[:7] for day in days})
    years = sorted({str(day.year) for day in days})
    paths = ["/health", "/api/v1/status", "/api/v1/miner-models", "/api/v1/bm-units", "/api/v1/lead-parties"]
    for index, day in enumerate(sampled):
        model = MINER_MODELS[index % len(MINER_MODELS)]
        paths += [
            f"/api/v1/summaries/daily/{day}",
            f"/api/v1/mining/daily/{day}?miner_model={model}",
            f"/api/v1/curtailment/{day}/periods",
            f"/api/v1/curtailment/{day}/hours",
            f"/api/v1/top/bm-units/daily/{day}?limit=10",
        ]
    for index, month in enumerate(months):
        model = MINER_MODELS[index % len(MINER_MODELS)]
        paths += [
            f"/api/v1/summaries/monthly/{month}",
            f"/api/v1/mining/monthly/{month}?miner_model={model}",
            f"/api/v1/comparison/monthly/{month}",
            f"/api/v1/series/monthly/{month}?miner_model={model}",
            f"/api/v1/top/lead-parties/monthly/{month}?limit=10",
        ]
    for year in years:
        paths += [
            f"/api/v1/summaries/yearly/{year}",
            f"/api/v1/comparison/yearly/{year}",
            f"/api/v1/top/bm-units/yearly/{year}?limit=20",
        ]
    last_week = max(first, last - timedelta(days=6))
    paths.append(f"/api/v1/summaries/range/{last_week}..{last}")
    return paths


async def run_load(base_url: str, paths: list[str], clients: int, seconds: float) -> LoadOutcome:
    """`clients` concurrent clients, each sending its next request as soon as the last one is answered."""
    outcome = LoadOutcome(clients=clients)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=REQUEST_TIMEOUT_S) as client:
        for path in paths:  # warm-up, and a bad path fails here rather than as thousands of errors
            response = await client.get(path)
            if response.status_code != 200:
                outcome.errors[f"warm-up {path}: HTTP {response.status_code}"] += 1
        started = time.perf_counter()
        deadline = started + seconds

        async def one_client(number: int) -> None:
            turn = number
            while time.perf_counter() < deadline:
                path = paths[turn % len(paths)]
                turn += clients
                sent = time.perf_counter()
                try:
                    response = await client.get(path)
                except httpx.HTTPError as error:
                    outcome.errors[f"{type(error).__name__} on {path}"] += 1
                    continue
                if response.status_code == 200:
                    latency = time.perf_counter() - sent
                    outcome.latencies.append(latency)
                    outcome.by_path.setdefault(path, []).append(latency)
                else:
                    outcome.errors[f"HTTP {response.status_code} on {path}"] += 1

        await asyncio.gather(*(one_client(number) for number in range(clients)))
        outcome.seconds = time.perf_counter() - started
    return outcome


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def wait_ready(
    base_url: str, server: subprocess.Popen[bytes], timeout_s: float = READY_TIMEOUT_S
) -> None:
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient(base_url=base_url) as client:
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise RuntimeError(f"the API exited with {server.returncode} before it was ready")
            try:
                if (await client.get("/ready")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError("the API was not ready in time")


def start_api(dsn: str, port: int) -> subprocess.Popen[bytes]:
    environment = {
        **os.environ,
        "WINDHASH_DATABASE_URL": dsn,
        "WINDHASH_API_PORT": str(port),
        "WINDHASH_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen([sys.executable, "-m", "windhash_api.main"], env=environment)


async def load_sample_api(args: argparse.Namespace) -> LoadOutcome:
    admin = await asyncpg.connect(args.dsn)
    name = f"windhash_load_{uuid.uuid4().hex[:8]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    dsn = urlsplit(args.dsn)._replace(path=f"/{name}").geturl()
    server: subprocess.Popen[bytes] | None = None
    try:
        connection = await asyncpg.connect(dsn)
        try:
            await migrate(connection)
            await load_sample(connection, list(dates_between(args.first, args.last)))
        finally:
            await connection.close()
        port = free_port()
        server = start_api(dsn, port)
        base_url = f"http://127.0.0.1:{port}"
        await wait_ready(base_url, server)
        return await run_load(base_url, api_paths(args.first, args.last), args.clients, args.seconds)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=15)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--url", help="an API already running (its data must cover --first..--last)")
    target.add_argument("--dsn", default=CommonSettings().database_url, help="server for a scratch database")
    parser.add_argument("--first", type=date.fromisoformat, default=date(2024, 1, 1))
    parser.add_argument("--last", type=date.fromisoformat, default=date(2024, 3, 31))
    parser.add_argument("--clients", type=int, default=DEFAULT_CLIENTS)
    parser.add_argument("--seconds", type=float, default=180.0)
    args = parser.parse_args()
    if args.url:
        outcome = asyncio.run(
            run_load(args.url, api_paths(args.first, args.last), args.clients, args.seconds)
        )
    else:
        outcome = asyncio.run(load_sample_api(args))
    print(outcome.summary())
    for path, p50, p99 in outcome.slowest():
        print(f"  slowest: {path}  p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    sys.exit(1 if outcome.error_count else 0)


if __name__ == "__main__":
    main()
