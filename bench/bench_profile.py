"""`windhash bench --profile DIR`: where each process spends its CPU over the run.

- Python services (ingest, calculator, aggregator, the simulator): py-spy attached to each process as it
  starts (`py-spy record --pid`, non-blocking sampling, so the process is never paused), raw collapsed
  stacks written to DIR/<name>.txt; summarised here as the functions with the most samples on top of the
  stack (self) and anywhere on it (inclusive).
- PostgreSQL: `pg_stat_statements` of the run's database when the server preloads it (a stack started with
  `WINDHASH_STACK_POSTGRES_PRELOAD=pg_stat_statements`), and every index of the run's database with how often
  a query used it (`pg_stat_user_indexes`): an index no query reads is write cost only.

A profiled run is slower than a measured one (py-spy's own sampling takes CPU): its wall time and CPU figures
are not the benchmark's; its shares of samples are.
"""

import contextlib
import shutil
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

SAMPLE_RATE_HZ = 100
TOP_FUNCTIONS = 15
TOP_STATEMENTS = 15


def py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(found).exists():
        raise RuntimeError("--profile needs py-spy (pip install py-spy; it is a dev dependency)")
    return found


@dataclass
class Profiler:
    directory: Path
    recorders: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def attach(self, name: str, pid: int) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        output = self.directory / f"{name}.txt"
        command = [py_spy(), "record", "--pid", str(pid), "--rate", str(SAMPLE_RATE_HZ), "--nonblocking"]
        self.recorders[name] = subprocess.Popen(
            [*command, "--format", "raw", "--output", str(output)],
            stdout=subprocess.DEVNULL,
            stderr=(self.directory / f"{name}.py-spy.log").open("wb"),
        )

    def stop(self) -> None:
        """Each recorder writes its file when its process exits or when interrupted."""
        for recorder in self.recorders.values():
            if recorder.poll() is None:
                recorder.send_signal(signal.SIGINT)
        for recorder in self.recorders.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                recorder.wait(timeout=60)

    def summaries(self) -> dict[str, "StackSummary"]:
        return {
            name: summarise_collapsed(self.directory / f"{name}.txt")
            for name in self.recorders
            if (self.directory / f"{name}.txt").exists()
        }


@dataclass
class StackSummary:
    samples: int
    self_samples: Counter[str]
    inclusive_samples: Counter[str]


def _frame_name(frame: str) -> str:
    # "function (path/to/module.py:123)" → "function (module.py)": one row per function, not per line.
    if " (" not in frame:
        return frame
    function, where = frame.split(" (", 1)
    return f"{function} ({Path(where.rsplit(':', 1)[0]).name})"


def summarise_collapsed(path: Path) -> StackSummary:
    """Samples per function from py-spy's raw (collapsed) output: `frame;frame;...;leaf count` lines."""
    total = 0
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_frame_name(frame) for frame in stack.split(";") if frame]
        if not frames:
            continue
        total += count
        own[frames[-1]] += count
        for name in set(frames):
            inclusive[name] += count
    return StackSummary(total, own, inclusive)


def profile_markdown(summaries: dict[str, StackSummary]) -> list[str]:
    lines = []
    for name, summary in sorted(summaries.items()):
        lines += [
            f"#### {name}: {summary.samples:,} samples",
            "",
            "| function | self | inclusive |",
            "|---|---:|---:|",
        ]
        ranked = sorted(summary.inclusive_samples, key=lambda f: -summary.self_samples[f])[:TOP_FUNCTIONS]
        for function in ranked:
            own = summary.self_samples[function] / summary.samples
            inclusive = summary.inclusive_samples[function] / summary.samples
            lines.append(f"| `{function}` | {own:.1%} | {inclusive:.1%} |")
        lines.append("")
    return lines


async def start_statement_stats(dsn: str) -> bool:
    """Resets pg_stat_statements when the server has it loaded; False otherwise."""
    connection = await asyncpg.connect(dsn)
    try:
        preload = await connection.fetchval("SHOW shared_preload_libraries")
        if "pg_stat_statements" not in preload:
            return False
        await connection.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        await connection.execute("SELECT pg_stat_statements_reset()")
        return True
    finally:
        await connection.close()


async def database_profile(dsn: str, statements: bool) -> list[str]:
    """The run's top statements by execution time (when recorded) and its indexes by use, as markdown."""
    connection = await asyncpg.connect(dsn)
    try:
        lines: list[str] = []
        if statements:
            rows = await connection.fetch(
                "SELECT calls, total_exec_time, rows, shared_blks_hit + shared_blks_read AS blocks,"
                " wal_bytes, left(regexp_replace(query, '\\s+', ' ', 'g'), 110) AS query"
                " FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database"
                " WHERE datname = current_database()) ORDER BY total_exec_time DESC LIMIT $1",
                TOP_STATEMENTS,
            )
            total = sum(row["total_exec_time"] for row in rows) or 1.0
            lines += [
                "| statement | calls | time, s | share | rows | WAL, MB |",
                "|---|---:|---:|---:|---:|---:|",
            ]
            for row in rows:
                query, seconds = row["query"].replace("|", "/"), row["total_exec_time"] / 1000
                wal_mb = int(row["wal_bytes"]) / 1e6
                lines.append(
                    f"| `{query}` | {row['calls']:,} | {seconds:.1f} | {seconds * 1000 / total:.0%}"
                    f" | {row['rows']:,} | {wal_mb:,.0f} |"
                )
            lines.append("")
        rows = await connection.fetch(
            "SELECT relname, indexrelname, idx_scan, pg_relation_size(indexrelid) AS bytes"
            " FROM pg_stat_user_indexes ORDER BY pg_relation_size(indexrelid) DESC LIMIT 20"
        )
        lines += ["| table | index | scans | size, MB |", "|---|---|---:|---:|"]
        lines += [
            f"| {row['relname']} | {row['indexrelname']} | {row['idx_scan']:,} | {row['bytes'] / 1e6:,.1f} |"
            for row in rows
        ]
        return [*lines, ""]
    finally:
        await connection.close()


def write_profile(directory: Path, python: dict[str, StackSummary], database: list[str]) -> Path:
    path = directory / "PROFILE.md"
    lines = ["# Profile of one bench run", "", "## Python processes (py-spy)", "", *profile_markdown(python)]
    lines += ["## PostgreSQL", "", *database]
    path.write_text("\n".join(lines) + "\n")
    return path
