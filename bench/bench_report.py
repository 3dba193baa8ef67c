"""The figures of a `windhash bench` run, the machine it ran on, and docs/BENCHMARKS.md.

Each span gets its own section in BENCHMARKS.md (between `<!-- bench FIRST..LAST -->` markers): a new run of
the same span replaces it, runs of other spans are kept.
"""

import os
import platform
import re
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.bench_api_compare import ApiComparison, api_rows
from bench.bench_cpu import cpu_rows
from bench.bench_metrics import Freshness

GOAL_YEAR_S = 30.0
GOAL_CPU_YEAR_S = 50.0
GOAL_FRESHNESS_P95_S = 1.0
GOAL_COPY_RATIO = 1 / 3
HEADER = """# Benchmarks

Written by `windhash bench` (bench/bench_pipeline.py): synthetic Elexon data from the local Elexon server
through the whole pipeline (ingestor → Kafka → calculator → PostgreSQL → aggregator), each service its own OS
process, on the local stack. Every section below is one real run; rerun `windhash bench [--from D --to D]
[--api] [--profile DIR]` to refresh it. Method: the clock runs from `windhash ingest range` to the moment
every period is calculated, the outbox is relayed and every summary is current. The Elexon simulator renders
the span's bid stacks before the clock starts (`windhash elexon-sim --prerender-from/--prerender-to`):
generating the data is the real Elexon's work, not windhash's; serving it over HTTP is inside the timed
window. Peak memory is each process's VmHWM (the simulator's includes the rendered span). "CPU during the run"
is each process's CPU (utime + stime from /proc; PostgreSQL's with its per-connection processes) between the
start and the end of the clock, also per 1,000 settlement periods; windhash's own (ingest, calculator,
aggregator, PostgreSQL, Kafka) is judged against 50 CPU-s a year, the simulator reported apart. On a shared
stack the servers' CPU includes whatever else used them meanwhile. Summary freshness is the aggregator's own
histogram. The calculator's write rate is its calculation rows over the seconds spent in its write
transactions (its own metrics); the raw COPY and the one-INSERT-per-row baselines write samples of the same
rows into the same table in the same run (bench/bench_calculator_writes.py). The synthetic data is shaped like
2024 (about 8.3 TWh of curtailed wind).

Reading these numbers: the load average of each run says whether the machine was quiet; on a shared
machine they are what this pipeline achieved there, not its ceiling. The CPU seconds per service show where
the work goes: every service, PostgreSQL and Kafka share the 2 cores.
"""


@dataclass
class BenchFigures:
    first: date
    last: date
    periods: int
    records: int
    calculations: int
    energy_mwh: float
    wall_s: float
    ingest_s: float
    calculate_s: float
    calculator_write_rate: float = 0.0
    copy_rate: float = 0.0
    insert_rate: float = 0.0
    copy_rows: int = 0
    insert_rows: int = 0
    peak_memory_kib: dict[str, int] = field(default_factory=dict)
    cpu_during_run: dict[str, float] = field(default_factory=dict)
    freshness: Freshness | None = None
    api: ApiComparison | None = None

    @property
    def is_full_year(self) -> bool:
        return (self.first.month, self.first.day, self.last.month, self.last.day) == (1, 1, 12, 31) and (
            self.first.year == self.last.year
        )


def figure_rows(figures: BenchFigures) -> list[tuple[str, str]]:
    copy_ratio = figures.calculator_write_rate / figures.copy_rate if figures.copy_rate else 0.0
    insert_ratio = figures.calculator_write_rate / figures.insert_rate if figures.insert_rate else 0.0
    rows = [
        ("span", f"{figures.first} .. {figures.last} ({figures.periods:,} settlement periods)"),
        ("wall time, backfill to current summaries", f"{figures.wall_s:.1f} s"),
        ("  of which: backfill (ingest) finished at", f"{figures.ingest_s:.1f} s"),
        ("  of which: every period calculated at", f"{figures.calculate_s:.1f} s"),
        ("curtailment records", f"{figures.records:,} ({figures.records / figures.wall_s:,.0f} /s)"),
        (
            "bitcoin calculation rows",
            f"{figures.calculations:,} ({figures.calculations / figures.wall_s:,.0f} /s)",
        ),
        ("settlement periods per second", f"{figures.periods / figures.wall_s:,.0f}"),
        ("curtailed energy (synthetic)", f"{figures.energy_mwh / 1e6:,.3f} TWh"),
        ("calculator write path", f"{figures.calculator_write_rate:,.0f} calculation rows/s"),
        ("raw COPY, same rows", f"{figures.copy_rate:,.0f} rows/s ({figures.copy_rows:,} rows)"),
        (
            "one INSERT per row, same rows",
            f"{figures.insert_rate:,.0f} rows/s ({figures.insert_rows:,} rows)",
        ),
        (
            "write path / raw COPY",
            f"{copy_ratio:.3f} (goal ≥ 1/3: {'met' if copy_ratio >= GOAL_COPY_RATIO else 'NOT met'})",
        ),
        ("write path / INSERT per row", f"{insert_ratio:.1f}x"),
    ]
    rows += cpu_rows(figures.cpu_during_run, figures.periods, GOAL_CPU_YEAR_S)
    rows += [
        (f"peak memory: {name}", f"{kib / 1024:,.0f} MiB")
        for name, kib in sorted(figures.peak_memory_kib.items())
    ]
    rows.append(
        (
            "summaries current after the last period was calculated",
            f"{figures.wall_s - figures.calculate_s:.1f} s (polled every 0.5 s)",
        )
    )
    if figures.freshness is not None:
        fresh = figures.freshness
        verdict = "met" if fresh.p95_estimate_s < GOAL_FRESHNESS_P95_S else "NOT met"
        rows.append(
            (
                "summary freshness, calculation → summaries committed (aggregator histogram)",
                f"p95 {fresh.p95_estimate_s:.2f} s (histogram_quantile;"
                f" ≤ {fresh.p95_at_most_s:g} s by bucket),"
                f" p50 ≤ {fresh.p50_at_most_s:g} s, mean {fresh.mean_s:.2f} s"
                f" over {fresh.periods:,} periods (goal p95 < {GOAL_FRESHNESS_P95_S:g} s: {verdict})",
            )
        )
    if figures.api is not None:
        rows += api_rows(figures.api)
    if figures.is_full_year:
        verdict = "met" if figures.wall_s <= GOAL_YEAR_S else "NOT met"
        rows.append(("goal: full year in ≤ 30 s", f"{verdict} ({figures.wall_s:.1f} s)"))
    return rows


def print_figures(figures: BenchFigures) -> None:
    table = Table(title="windhash bench")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for name, value in figure_rows(figures):
        table.add_row(name, value)
    Console().print(table)


def machine() -> list[tuple[str, str]]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory_kib = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory_kib = int(line.split()[1])
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return [
        ("CPU", cpu),
        ("cores (nproc)", str(os.cpu_count())),
        ("memory", f"{memory_kib / 1024 / 1024:.1f} GiB"),
        ("OS", f"{platform.system()} {platform.release()}"),
        ("Python", platform.python_version()),
        ("PostgreSQL", _version(["postgres", "--version"]) or _version(["psql", "--version"])),
        ("Java (Kafka)", _version(["java", "-version"])),
        ("load average at the end", load),
    ]


def _version(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return ""
    return (done.stdout or done.stderr).strip().splitlines()[0] if (done.stdout or done.stderr) else ""


def markdown_section(figures: BenchFigures) -> str:
    span = f"{figures.first}..{figures.last}"
    lines = [
        f"<!-- bench {span} -->",
        f"## {figures.first} .. {figures.last}",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC:"
        f" `windhash bench --from {figures.first} --to {figures.last}{' --api' if figures.api else ''}`",
        "",
        "| measure | value |",
        "|---|---|",
        *(f"| {name.strip()} | {value} |" for name, value in figure_rows(figures)),
        "",
        "Machine:",
        "",
        "| | |",
        "|---|---|",
        *(f"| {name} | {value} |" for name, value in machine()),
        f"<!-- /bench {span} -->",
    ]
    return "\n".join(lines) + "\n"


def write_benchmarks(path: Path, figures: BenchFigures) -> None:
    span = f"{figures.first}..{figures.last}"
    existing = path.read_text() if path.exists() else HEADER
    section = markdown_section(figures)
    pattern = re.compile(
        rf"<!-- bench {re.escape(span)} -->.*?<!-- /bench {re.escape(span)} -->\n", re.DOTALL
    )
    if pattern.search(existing):
        updated = pattern.sub(lambda _: section, existing)
    else:
        updated = existing.rstrip("\n") + "\n\n" + section
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(updated)
