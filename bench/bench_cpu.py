"""CPU-seconds and peak memory of the processes a bench run measures, read from /proc.

CPU is what a run costs whatever else shares the machine: on a busy 2-core host the wall time moves with the
other users' load, while each process's utime + stime counts only its own work. So the bench reports, per
process, the CPU it spent between the start and the end of the clock, and that CPU per 1,000 settlement
periods (the figure two hosts, or two versions, compare by).
"""

import contextlib
import os
import resource
from dataclasses import dataclass, field
from pathlib import Path

# The processes that are windhash's own cost (the goal counts them); the simulator stands in for Elexon.
WINDHASH_PROCESSES = ("ingest", "calculator", "aggregator", "postgres", "kafka")
SIMULATOR = "elexon-sim"
# 2024's settlement periods: the CPU goal is set for the year, and scaled per 1,000 periods.
YEAR_PERIODS = 17_568


def peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise ValueError(f"no VmHWM for {pid}")


def _stat_fields(pid: int) -> list[str]:
    # The fields after the command name (which may hold spaces) start at the state, field 3: utime is 14.
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    fields = _stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU of a server and its child processes, the exited ones included: PostgreSQL runs a process per
    connection, and a parent's cutime/cstime hold the CPU of the children it has reaped."""
    fields = _stat_fields(pid)
    ticks = sum(int(value) for value in fields[11:15])
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                child = _stat_fields(int(entry.name))
                if int(child[1]) == pid:
                    ticks += int(child[11]) + int(child[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds() -> float:
    """CPU of this process's children that have exited and been waited for (a bench's backfill)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def stack_cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    found = {}
    for name, pid in pids.items():
        with contextlib.suppress(OSError, ValueError):
            found[name] = tree_cpu_seconds(pid)
    return found


@dataclass
class CpuLedger:
    """Each process's CPU at the start of the clock and its last reading since; a process started after
    the clock (the backfill) starts from zero."""

    at_start: dict[str, float] = field(default_factory=dict)
    latest: dict[str, float] = field(default_factory=dict)

    def start(self, readings: dict[str, float]) -> None:
        self.at_start.update(readings)
        self.latest.update(readings)

    def read(self, readings: dict[str, float]) -> None:
        for name, seconds in readings.items():
            self.latest[name] = max(self.latest.get(name, 0.0), seconds)

    def during_run(self) -> dict[str, float]:
        return {name: seconds - self.at_start.get(name, 0.0) for name, seconds in self.latest.items()}


def cpu_rows(during_run: dict[str, float], periods: int, goal_cpu_s: float) -> list[tuple[str, str]]:
    """The CPU table: each process's CPU-seconds and CPU-seconds per 1,000 periods, windhash's total against
    the goal, the simulator apart."""
    rows = []
    per_thousand = 1000 / periods if periods else 0.0
    for name in (*WINDHASH_PROCESSES, SIMULATOR):
        if name in during_run:
            seconds = during_run[name]
            rows.append(
                (
                    f"CPU during the run: {name}",
                    f"{seconds:,.1f} s ({seconds * per_thousand:.2f} s / 1,000 periods)",
                )
            )
    own = sum(during_run.get(name, 0.0) for name in WINDHASH_PROCESSES)
    goal_per_thousand = goal_cpu_s / YEAR_PERIODS * 1000
    # Judged as printed, to the hundredth of a second (no float noise at the boundary).
    verdict = "met" if round(own * per_thousand, 2) <= round(goal_per_thousand, 2) else "NOT met"
    rows.append(
        (
            "CPU, windhash's own (ingest + calculator + aggregator + postgres + kafka)",
            f"{own:,.1f} s ({own * per_thousand:.2f} s / 1,000 periods; goal ≤ {goal_per_thousand:.2f},"
            f" i.e. {goal_cpu_s:.0f} s for 2024: {verdict})",
        )
    )
    return rows
