"""`windhash bench fleet`: the fleet's replay and live benchmarks (bench/bench_fleet_replay.py,
bench/bench_fleet_live.py) on the local stack, printed and written to docs/BENCHMARKS.md (a section each,
between `<!-- bench fleet replay -->` and `<!-- bench fleet live -->` markers, replaced by its next run).

    windhash bench fleet [--miners 6000] [--minutes 1440] [--live-miners 60000] [--skip-live] [--skip-replay]
    .venv/bin/python -m bench.bench_fleet --minutes 60 --live-miners 6000

Goals (issue #19): the replay of a day of 6,000 miners (8.64 M readings) within 90 s, the writer's rate at
least half a raw COPY's; live, 60,000 miners polled once a minute with a reading-to-row lag p99 under 2 s.
"""

import argparse
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table
from windhash_common import event_loop
from windhash_stack import LocalStack, StackSettings

from bench.bench_fleet_live import LiveFigures, LiveOptions, run_live
from bench.bench_fleet_replay import ReplayFigures, ReplayOptions, run_replay
from bench.bench_report import machine

REPO = Path(__file__).resolve().parents[1]
GOAL_REPLAY_S = 90.0
GOAL_RATIO = 0.5
GOAL_LAG_P99_S = 2.0
MARKER = "bench fleet"


@dataclass(frozen=True)
class FleetBenchOptions:
    replay: ReplayOptions | None = field(default_factory=ReplayOptions)
    live: LiveOptions | None = field(default_factory=LiveOptions)
    output: Path | None = REPO / "docs" / "BENCHMARKS.md"


def _memory(peak_kib: dict[str, int], cpu_s: dict[str, float]) -> list[tuple[str, str]]:
    return [
        (f"peak RSS: {name}", f"{kib / 1024:,.0f} MiB, {cpu_s.get(name, 0.0):,.1f} s CPU")
        for name, kib in sorted(peak_kib.items())
    ]


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def replay_rows(figures: ReplayFigures, options: ReplayOptions) -> list[tuple[str, str]]:
    path_ratio = figures.write_path_rate / figures.copy_rate if figures.copy_rate else 0.0
    wall_ratio = figures.wall_rate / figures.copy_rate if figures.copy_rate else 0.0
    full_day = options.miners == 6_000 and options.minutes == 1_440
    rows = [
        (
            "replay: readings",
            f"{figures.readings:,} ({options.miners:,} miners × {options.minutes:,} minutes)",
        ),
        ("  produced to Kafka in (not timed)", f"{figures.produce_s:,.1f} s"),
        ("  writer processes, batch", f"{options.writers}, {options.batch_messages:,} messages"),
        (
            "  wall, writer start to every row written",
            f"{figures.wall_s:,.1f} s ({figures.wall_rate:,.0f} rows/s)",
        ),
        ("  rows written", f"{figures.rows_written:,}"),
        ("  write path (rows / batch-transaction seconds)", f"{figures.write_path_rate:,.0f} rows/s"),
        ("  raw COPY of the same rows", f"{figures.copy_rate:,.0f} rows/s ({figures.copy_s:,.1f} s)"),
        (
            "  write path / raw COPY",
            f"{path_ratio:.2f} (goal ≥ {GOAL_RATIO}: {_met(path_ratio >= GOAL_RATIO)})",
        ),
        ("  wall rate / raw COPY", f"{wall_ratio:.2f}"),
    ]
    rows += [
        (f"  full scan of the day as {name}", f"{seconds:.2f} s") for name, seconds in figures.scan_s.items()
    ]
    if full_day:
        rows.append(
            (
                "  goal: the day within 90 s",
                f"{_met(figures.wall_s <= GOAL_REPLAY_S)} ({figures.wall_s:.1f} s)",
            )
        )
    return rows + [(f"  {name}", value) for name, value in _memory(figures.peak_kib, figures.cpu_s)]


def live_rows(figures: LiveFigures, options: LiveOptions) -> list[tuple[str, str]]:
    expected = options.miners * figures.window_s / options.poll_interval_s
    polls = ", ".join(f"{outcome} {count:,.0f}" for outcome, count in sorted(figures.polls.items()))
    rows = [
        ("live: miners", f"{options.miners:,} on {options.simulators} simulator processes"),
        (
            "  collectors, shards, poll interval",
            f"{options.collectors}, {options.shards}, {options.poll_interval_s:.0f} s",
        ),
        ("  measured window", f"{figures.window_s:,.0f} s after the first full cycle"),
        (
            "  rows written in the window",
            f"{figures.rows_in_window:,} (one a miner a minute: {expected:,.0f})",
        ),
        ("  reading to row, p50", f"{figures.lag_p50_s:.2f} s"),
        (
            "  reading to row, p99",
            f"{figures.lag_p99_s:.2f} s"
            f" (goal < {GOAL_LAG_P99_S:.0f} s: {_met(figures.lag_p99_s < GOAL_LAG_P99_S)})",
        ),
        ("  collector lag (latest poll start after its slot, max)", f"{figures.collector_lag_max_s:.2f} s"),
        ("  polls in the window", polls or "-"),
    ]
    return rows + [(f"  {name}", value) for name, value in _memory(figures.peak_kib, figures.cpu_s)]


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def markdown(part: str, title: str, rows: list[tuple[str, str]], command: str, load: tuple[str, str]) -> str:
    marker = f"{MARKER} {part}"
    lines = [
        f"<!-- {marker} -->",
        f"## Fleet: {title}",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: `{command}` (bench/bench_fleet.py). Load average at the"
        f" start {load[0]}, at the end {load[1]}: the 2 cores are shared with other developers' work.",
        "",
        "| measure | value |",
        "|---|---|",
        *(f"| {name.strip()} | {value} |" for name, value in rows),
        "",
        "| machine | |",
        "|---|---|",
        *(f"| {name} | {value} |" for name, value in machine()),
        f"<!-- /{marker} -->",
    ]
    return "\n".join(lines) + "\n"


def write_section(path: Path, part: str, section: str) -> None:
    """Replace this part's section (a run of the replay leaves the live section as it was, and back)."""
    existing = path.read_text() if path.exists() else "# Benchmarks\n"
    marker = re.escape(f"{MARKER} {part}")
    pattern = re.compile(rf"<!-- {marker} -->.*?<!-- /{marker} -->\n", re.DOTALL)
    updated = (
        pattern.sub(lambda _: section, existing)
        if pattern.search(existing)
        else existing.rstrip("\n") + "\n\n" + section
    )
    path.write_text(updated)


def show(rows: list[tuple[str, str]]) -> None:
    table = Table(title="windhash bench fleet")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for name, value in rows:
        table.add_row(name, value)
    Console().print(table)


async def run_fleet_bench(
    options: FleetBenchOptions, command: str = "windhash bench fleet"
) -> list[tuple[str, str]]:
    stack = LocalStack(StackSettings())
    endpoints = (await stack.lease()).endpoints
    parts: list[tuple[str, str, list[tuple[str, str]], tuple[str, str]]] = []
    try:
        log_dir = stack.settings.state_dir / "logs" / "bench-fleet"
        if options.replay is not None:
            before, replay = load_average(), replace(options.replay, log_dir=log_dir)
            rows = replay_rows(await run_replay(endpoints, replay), replay)
            parts.append(("replay", "a day of telemetry replayed from Kafka", rows, (before, load_average())))
        if options.live is not None:
            before, live = load_average(), replace(options.live, log_dir=log_dir)
            rows = live_rows(await run_live(endpoints, live), live)
            parts.append(("live", "simulated miners polled live", rows, (before, load_average())))
    finally:
        await stack.release()
    show([row for _, _, rows, _ in parts for row in rows])
    if options.output is not None:
        for part, title, rows, load in parts:
            write_section(options.output, part, markdown(part, title, rows, command, load))
    return [row for _, _, rows, _ in parts for row in rows]


def options_from(args: argparse.Namespace) -> FleetBenchOptions:
    replay = ReplayOptions(
        miners=args.miners, minutes=args.minutes, writers=args.writers, batch_messages=args.batch
    )
    live = LiveOptions(
        miners=args.live_miners,
        simulators=args.simulators,
        collectors=args.collectors,
        window_minutes=args.window_minutes,
    )
    return FleetBenchOptions(
        replay=None if args.skip_replay else replay, live=None if args.skip_live else live, output=args.output
    )


def parser() -> argparse.ArgumentParser:
    parse = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parse.add_argument("--miners", type=int, default=6_000)
    parse.add_argument("--minutes", type=int, default=1_440)
    parse.add_argument("--writers", type=int, default=2)
    parse.add_argument("--batch", type=int, default=150_000)
    parse.add_argument("--live-miners", type=int, default=60_000)
    parse.add_argument("--simulators", type=int, default=4)
    parse.add_argument("--collectors", type=int, default=2)
    parse.add_argument("--window-minutes", type=int, default=3)
    parse.add_argument("--skip-replay", action="store_true")
    parse.add_argument("--skip-live", action="store_true")
    parse.add_argument("--output", type=Path, default=REPO / "docs" / "BENCHMARKS.md")
    return parse


def main() -> None:
    event_loop.run(run_fleet_bench(options_from(parser().parse_args())))


if __name__ == "__main__":
    main()
