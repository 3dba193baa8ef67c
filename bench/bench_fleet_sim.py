"""What the fleet simulator costs per 1,000 miners: start-up, resident memory, and CPU per poll answered.

Runs `windhash fleet-sim --miners N` as its own process, polls every miner once (the collector's joined
`summary+stats+power+config`, 256 in flight) from this process, and reads the simulator's CPU and memory from
/proc. Usage: .venv/bin/python bench/bench_fleet_sim.py --miners 5000 15000
"""

import argparse
import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from windhash_common.miner_rpc import CgminerRpc, MinerEndpoint

POLL = ("summary", "stats", "power", "config")
TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def _rss_mib(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1]) / 1024
    return 0.0


async def _poll_all(endpoints: list[MinerEndpoint]) -> tuple[int, float]:
    rpc, gate, failures = CgminerRpc(timeout_s=10), asyncio.Semaphore(256), 0

    async def one(endpoint: MinerEndpoint) -> None:
        nonlocal failures
        async with gate:
            try:
                await rpc.commands(endpoint, POLL)
            except Exception:
                failures += 1

    started = time.perf_counter()
    await asyncio.gather(*(one(endpoint) for endpoint in endpoints))
    return failures, time.perf_counter() - started


def measure(miners: int, control_port: int = 18399) -> None:
    started = time.perf_counter()
    sim = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "windhash_cli",
            "fleet-sim",
            "--miners",
            str(miners),
            "--base-address",
            "127.200.0.1",
            "--control-port",
            str(control_port),
        ],
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{control_port}"
        while True:
            try:
                if httpx.get(f"{url}/_sim/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        ready = time.perf_counter() - started
        rows = httpx.get(f"{url}/_sim/miners", params={"limit": miners}, timeout=60).json()
        endpoints = [MinerEndpoint(row["host"], row["port"]) for row in rows]
        rss_idle, cpu_before = _rss_mib(sim.pid), _cpu_seconds(sim.pid)
        failures, seconds = asyncio.run(_poll_all(endpoints))
        cpu = _cpu_seconds(sim.pid) - cpu_before
        per_k = 1000 / miners
        print(
            f"{miners} miners: ready in {ready:.1f} s, RSS {rss_idle:.0f} MiB idle "
            f"({rss_idle * per_k:.1f} MiB per 1,000), one poll of each: {cpu:.2f} s of simulator CPU "
            f"({cpu * per_k:.3f} s per 1,000 polls), {seconds:.1f} s wall, {failures} failed, "
            f"peak RSS {_rss_mib(sim.pid, 'VmHWM'):.0f} MiB"
        )
    finally:
        sim.terminate()
        sim.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--miners", type=int, nargs="+", default=[5000])
    for count in parser.parse_args().miners:
        measure(count)
