"""Load test of the HTTP API: N concurrent clients (default 100) for a fixed time, over a mix of every read
endpoint, with zero errors expected. Prints requests, errors, p50, p99 and requests/s, and the load average
(the machine may be shared).

    .venv/bin/python -m bench.bench_api_load --url http://127.0.0.1:8080 --first 2024-01-01 --last 2024-12-31
    .venv/bin/python -m bench.bench_api_load --dsn postgresql://windhash@127.0.0.1:15432/windhash --seconds 30

With --url it loads an API already running over data for --first..--last (as `windhash bench --api` does).
With --dsn it creates a scratch database on that server, fills it with the API's synthetic sample
(windhash_testing.sample_dataset), starts the API as its own process, loads it, drops the database. Exits 1
when any request failed (a non-200 answer, a timeout or a connection error).

Each client is one keep-alive connection parsed by httptools (`HttpConnection`): httpx spent ~3 ms of CPU per
request, so 100 httpx clients sharing 2 cores with the API measured the client rather than the API.
--workers N and --no-cache start the API with WINDHASH_API_WORKERS=N and WINDHASH_API_CACHE=false.
"""

import argparse
import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import cast
from urllib.parse import urlsplit

# Test support (windhash_testing) lives beside the tests, outside the installed packages.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))

import asyncpg
import httptools
from windhash_common import event_loop
from windhash_common.db import migrate
from windhash_common.settings import CommonSettings
from windhash_common.settlement_calendar import dates_between
from windhash_stack.ports import free_port
from windhash_testing.sample_dataset import load_sample

from bench.bench_cpu import cpu_seconds

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
    server_cpu_s: float = 0.0
    """The API process's CPU over the timed load (when run_load was given its pid)."""

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
        load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
        return (
            f"{self.clients} clients for {self.seconds:.0f} s: {self.requests} requests,"
            f" {self.error_count} errors ({errors}); p50 {self.p50_ms:.1f} ms, p99 {self.p99_ms:.1f} ms,"
            f" {self.rate:.0f} requests/s (load average {load} on {os.cpu_count()} CPUs)"
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


class HttpConnection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection sending GETs one at a time, parsed by httptools (the C parser
    uvicorn uses). A load-test client must cost far less CPU than the server it loads, or on a 2-core machine
    it measures itself: httpx spent ~3 ms per request, aiohttp ~0.27 ms (more than a cached answer costs the
    API); this ~0.05 ms."""

    def __init__(self, host: str) -> None:
        self.host = host.encode()
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.body: list[bytes] = []
        self.keep_alive = True

    @classmethod
    async def open(cls, host: str, port: int) -> "HttpConnection":
        _, connection = await asyncio.get_running_loop().create_connection(lambda: cls(host), host, port)
        return connection

    @property
    def usable(self) -> bool:
        return self.transport is not None and not self.transport.is_closing() and self.keep_alive

    async def get(self, path: str) -> tuple[int, bytes]:
        """(status, body) of GET `path`; raises ConnectionError when the connection is lost first."""
        if self.transport is None or self.transport.is_closing():
            raise ConnectionResetError("the connection is closed")
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(b"GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (path.encode(), self.host))
        return await self.waiter

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not an asyncio.Transport subclass

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as error:
            self._fail(ConnectionError(f"unparsable response: {error}"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self._fail(ConnectionResetError(f"the server closed the connection ({exc})"))

    def _fail(self, error: Exception) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(error)

    # httptools callbacks
    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.keep_alive = self.parser.should_keep_alive()
        body, self.body = b"".join(self.body), []
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result((self.parser.get_status_code(), body))


class LoadClient:
    """One client of the load: its own connection, reopened when the server closed it between requests."""

    def __init__(self, base_url: str, timeout_s: float = REQUEST_TIMEOUT_S) -> None:
        address = urlsplit(base_url)
        self.host = address.hostname or "127.0.0.1"
        self.port = address.port or 80
        self.timeout_s = timeout_s
        self.connection: HttpConnection | None = None

    async def get(self, path: str) -> tuple[int, bytes]:
        try:
            async with asyncio.timeout(self.timeout_s):
                if self.connection is None or not self.connection.usable:
                    self.connection = await HttpConnection.open(self.host, self.port)
                return await self.connection.get(path)
        except BaseException:
            self.close()  # a request that failed half way leaves the connection in an unknown state
            raise

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


async def run_load(
    base_url: str, paths: list[str], clients: int, seconds: float, cpu_of: int | None = None
) -> LoadOutcome:
    """`clients` concurrent clients, each sending its next request as soon as the last one is answered;
    `cpu_of`: the server's pid, whose CPU over the timed load goes in `server_cpu_s`."""
    outcome = LoadOutcome(clients=clients)
    connections = [LoadClient(base_url) for _ in range(clients)]
    try:
        for path in paths:  # warm-up, and a bad path fails here rather than as thousands of errors
            status, _ = await connections[0].get(path)
            if status != 200:
                outcome.errors[f"warm-up {path}: HTTP {status}"] += 1
        cpu_before = cpu_seconds(cpu_of) if cpu_of else 0.0
        started = time.perf_counter()
        deadline = started + seconds

        async def one_client(number: int) -> None:
            client = connections[number]
            turn = number
            while time.perf_counter() < deadline:
                path = paths[turn % len(paths)]
                turn += clients
                sent = time.perf_counter()
                try:
                    status, _ = await client.get(path)
                except (OSError, TimeoutError) as error:
                    outcome.errors[f"{type(error).__name__} on {path}"] += 1
                    continue
                if status == 200:
                    latency = time.perf_counter() - sent
                    outcome.latencies.append(latency)
                    outcome.by_path.setdefault(path, []).append(latency)
                else:
                    outcome.errors[f"HTTP {status} on {path}"] += 1

        await asyncio.gather(*(one_client(number) for number in range(clients)))
        outcome.seconds = time.perf_counter() - started
        if cpu_of:
            outcome.server_cpu_s = cpu_seconds(cpu_of) - cpu_before
    finally:
        for client in connections:
            client.close()
    return outcome


async def wait_ready(
    base_url: str, server: subprocess.Popen[bytes], timeout_s: float = READY_TIMEOUT_S
) -> None:
    deadline = time.monotonic() + timeout_s
    client = LoadClient(base_url, timeout_s=5.0)
    try:
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise RuntimeError(f"the API exited with {server.returncode} before it was ready")
            try:
                if (await client.get("/ready"))[0] == 200:
                    return
            except (OSError, TimeoutError):
                pass
            await asyncio.sleep(0.2)
    finally:
        client.close()
    raise RuntimeError("the API was not ready in time")


def start_api(dsn: str, port: int, workers: int = 1, cache: bool = True) -> subprocess.Popen[bytes]:
    environment = {
        **os.environ,
        "WINDHASH_DATABASE_URL": dsn,
        "WINDHASH_API_PORT": str(port),
        "WINDHASH_LOG_LEVEL": "WARNING",
        "WINDHASH_API_WORKERS": str(workers),
        "WINDHASH_API_CACHE": "true" if cache else "false",
    }
    return subprocess.Popen([sys.executable, "-m", "windhash_api.main"], env=environment)


@contextlib.asynccontextmanager
async def sample_database(server_dsn: str, first: date, last: date, prefix: str) -> AsyncIterator[str]:
    """A scratch database on the server at `server_dsn`, migrated and filled with the synthetic sample from
    `first` to `last` (windhash_testing.sample_dataset); yields its DSN; dropped at the end."""
    admin = await asyncpg.connect(server_dsn)
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    dsn = urlsplit(server_dsn)._replace(path=f"/{name}").geturl()
    try:
        connection = await asyncpg.connect(dsn)
        try:
            await migrate(connection)
            print(f"filling {name} with synthetic data {first} to {last} …", flush=True)
            await load_sample(connection, list(dates_between(first, last)))
        finally:
            await connection.close()
        yield dsn
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@contextlib.asynccontextmanager
async def running_api(
    dsn: str, workers: int = 1, cache: bool = True
) -> AsyncIterator[tuple[str, subprocess.Popen[bytes]]]:
    """The API on `dsn` in a process of its own on a free port; yields its base URL and process once it
    answers /ready; terminated at the end."""
    port = free_port()
    server = start_api(dsn, port, workers, cache)
    try:
        base_url = f"http://127.0.0.1:{port}"
        await wait_ready(base_url, server)
        yield base_url, server
    finally:
        server.terminate()
        await asyncio.to_thread(server.wait, 15)


async def load_sample_api(args: argparse.Namespace) -> LoadOutcome:
    async with (
        sample_database(args.dsn, args.first, args.last, "windhash_load") as dsn,
        running_api(dsn, args.workers, not args.no_cache) as (base_url, _),
    ):
        return await run_load(base_url, api_paths(args.first, args.last), args.clients, args.seconds)


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
    parser.add_argument("--workers", type=int, default=1, help="API worker processes (with --dsn)")
    parser.add_argument("--no-cache", action="store_true", help="start the API without its response cache")
    args = parser.parse_args()
    if args.url:
        outcome = event_loop.run(
            run_load(args.url, api_paths(args.first, args.last), args.clients, args.seconds)
        )
    else:
        outcome = event_loop.run(load_sample_api(args))
    print(outcome.summary())
    for path, p50, p99 in outcome.slowest():
        print(f"  slowest: {path}  p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    sys.exit(1 if outcome.error_count else 0)


if __name__ == "__main__":
    main()
