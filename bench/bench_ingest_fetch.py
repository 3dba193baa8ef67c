"""Benchmark: concurrent Elexon fetch against sequential fetch, in the same run, against the synthetic server.

    .venv/bin/python bench/bench_ingest_fetch.py [--days 2] [--latency-ms 60] [--concurrency 8]

The synthetic server answers from this machine in microseconds, so it is given a per-request latency like the
real API's round trip (`--latency-ms`); the concurrent fetch overlaps those waits. Both runs fetch the same
periods through the ingestor's own `ElexonClient` and must return identical bodies.

The server runs as a separate process (`windhash elexon-sim`), so the CPU each side spends per request is
reported apart: the client's from this process, the server's from /proc (Linux). CPU time, unlike wall time,
hardly depends on what else the machine is doing.
"""

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import httpx
from windhash_common import event_loop
from windhash_common.settlement_calendar import dates_between, settlement_periods
from windhash_elexon_sim import API_PREFIX
from windhash_ingestor.elexon_client import ElexonClient
from windhash_ingestor.settings import IngestorSettings

FIRST_DAY = date(2024, 1, 8)
WINDHASH = str(Path(sys.executable).with_name("windhash"))
START_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class Run:
    seconds: float
    client_cpu_s: float
    server_cpu_s: float | None
    bodies: list[bytes]


def process_cpu_s(pid: int) -> float | None:
    """User plus system CPU of a process so far, or None where /proc is not there."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def sim_process(latency_ms: float) -> Iterator[tuple[str, int]]:
    """`windhash elexon-sim` on a free port: (base URL, pid)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [WINDHASH, "elexon-sim", "--port", str(port), "--latency-ms", str(latency_ms)]
    server = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/_sim/health", timeout=1.0).raise_for_status()
                break
            except httpx.HTTPError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the synthetic Elexon server did not start") from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}{API_PREFIX}", server.pid
    finally:
        server.terminate()
        server.wait(timeout=10)


async def fetch_all(base_url: str, periods: list[tuple[date, int]], concurrency: int, server_pid: int) -> Run:
    settings = IngestorSettings(elexon_base_url=base_url, elexon_concurrency=concurrency)
    async with ElexonClient(settings) as client:
        client_cpu, server_cpu = time.process_time(), process_cpu_s(server_pid)
        started = time.perf_counter()
        if concurrency == 1:
            responses = [await client.settlement_stack("bid", day, period) for day, period in periods]
        else:
            responses = await asyncio.gather(
                *(client.settlement_stack("bid", day, period) for day, period in periods)
            )
        elapsed = time.perf_counter() - started
        client_cpu = time.process_time() - client_cpu
        server_after = process_cpu_s(server_pid)
    server_used = None if server_cpu is None or server_after is None else server_after - server_cpu
    return Run(elapsed, client_cpu, server_used, [response.body for response in responses])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=2, help="settlement days to fetch (48 periods each)")
    parser.add_argument("--latency-ms", type=float, default=60.0, help="simulated round trip per request")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight in the concurrent run")
    args = parser.parse_args()
    last = FIRST_DAY + timedelta(days=args.days - 1)
    periods = [(day, period) for day in dates_between(FIRST_DAY, last) for period in settlement_periods(day)]
    with sim_process(args.latency_ms) as (base_url, pid):
        event_loop.run(fetch_all(base_url, periods[:4], 2, pid))  # warm-up: imports, first connections
        sequential = event_loop.run(fetch_all(base_url, periods, 1, pid))
        concurrent = event_loop.run(fetch_all(base_url, periods, args.concurrency, pid))
    if sequential.bodies != concurrent.bodies:
        raise SystemExit("the concurrent fetch returned different data from the sequential one")
    count = len(periods)
    print(f"fetched {count} settlement periods (bid stacks) from the synthetic Elexon server")
    print(f"simulated latency {args.latency_ms:.0f} ms per request")
    print(
        "(the server generates each period's data on the first fetch, in the sequential run, then caches it)"
    )
    runs = (
        ("sequential, 1 in flight", sequential),
        (f"concurrent, {args.concurrency} in flight", concurrent),
    )
    for label, run in runs:
        server = "n/a" if run.server_cpu_s is None else f"{run.server_cpu_s * 1000 / count:5.2f}"
        print(
            f"{label:<26} {run.seconds:7.2f} s  {count / run.seconds:7.1f} periods/s  CPU per request: "
            f"client {run.client_cpu_s * 1000 / count:5.2f} ms, server {server} ms"
        )
    print(f"speed-up: {sequential.seconds / concurrent.seconds:.1f}x")


if __name__ == "__main__":
    main()
