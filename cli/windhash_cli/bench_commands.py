"""`windhash bench`: the whole pipeline over a span of synthetic data, measured; `windhash bench fleet`: the
fleet's telemetry replay and live polling. Both write their section of docs/BENCHMARKS.md.

The benchmarks live in the checkout's bench/ folder (bench/bench_pipeline.py, bench/bench_fleet.py, also
runnable with `python -m`), next to the other benchmarks they reuse, so the commands need a checkout.
"""

import sys
from datetime import datetime
from pathlib import Path

import typer
from windhash_common import event_loop
from windhash_stack.settings import find_repo_root

_FIRST = typer.Option("2024-01-01", "--from", formats=["%Y-%m-%d"], help="First settlement date.")
_LAST = typer.Option("2024-12-31", "--to", formats=["%Y-%m-%d"], help="Last settlement date.")
_API = typer.Option(
    False, "--api", help="Also load the API over the run's data: cached, then uncached (distinct queries)."
)
_API_SECONDS = typer.Option(60.0, "--api-seconds", help="How long each API load runs.")
_API_CLIENTS = typer.Option(50, "--api-clients", help="Concurrent API clients.")
_PROFILE = typer.Option(
    None,
    "--profile",
    help="Profile each process into this directory (py-spy; pg_stat_statements when the server preloads it).",
)
_OUTPUT = typer.Option(None, "--output", help="Markdown file to write (default: docs/BENCHMARKS.md).")

app = typer.Typer(invoke_without_command=True, help="Benchmarks: the pipeline (default) and the fleet.")


def _checkout() -> Path:
    root = find_repo_root(Path(__file__).resolve().parent) or find_repo_root(Path.cwd())
    if root is None or not (root / "bench" / "bench_pipeline.py").is_file():
        raise typer.BadParameter("`windhash bench` runs from a windhash checkout (it needs bench/)")
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))  # bench/ is a folder of scripts beside the packages, not installed
    return root


@app.callback()
def bench(
    context: typer.Context,
    first: datetime = _FIRST,
    last: datetime = _LAST,
    api: bool = _API,
    api_seconds: float = _API_SECONDS,
    api_clients: int = _API_CLIENTS,
    output: Path | None = _OUTPUT,
    profile: Path | None = _PROFILE,
) -> None:
    """Run FROM..TO of synthetic Elexon data through ingestor → Kafka → calculator → aggregator, measured:
    wall time, CPU-seconds per process (and per 1,000 periods), summary freshness, peak memory per service,
    write path against raw COPY and INSERT per row."""
    if context.invoked_subcommand is not None:
        return
    root = _checkout()
    if first > last:
        raise typer.BadParameter(f"--from {first.date()} is after --to {last.date()}")
    from bench.bench_pipeline import BenchOptions, run_bench

    options = BenchOptions(
        first=first.date(),
        last=last.date(),
        api=api,
        api_seconds=api_seconds,
        api_clients=api_clients,
        output=output or root / "docs" / "BENCHMARKS.md",
        profile_dir=profile,
    )
    event_loop.run(run_bench(options))


@app.command()
def fleet(
    miners: int = typer.Option(6_000, min=1, help="Replay: miners."),
    minutes: int = typer.Option(1_440, min=1, help="Replay: minutes of readings (1,440: one day)."),
    writers: int = typer.Option(2, min=1, help="Replay: telemetry writer processes."),
    batch: int = typer.Option(150_000, min=1, help="Replay: messages per writer batch."),
    live_miners: int = typer.Option(60_000, min=1, help="Live: simulated miners, polled once a minute."),
    simulators: int = typer.Option(4, min=1, help="Live: simulator processes (~18,900 miners each here)."),
    collectors: int = typer.Option(2, min=1, help="Live: collector processes."),
    window_minutes: int = typer.Option(3, min=1, help="Live: minutes measured after the first cycle."),
    skip_replay: bool = typer.Option(False, "--skip-replay"),
    skip_live: bool = typer.Option(False, "--skip-live"),
    output: Path | None = _OUTPUT,
) -> None:
    """The fleet: a day of telemetry replayed from Kafka into PostgreSQL (against a raw COPY of the same
    rows), and live polling of simulated miners (reading-to-row lag, peak RSS per process)."""
    root = _checkout()
    from bench.bench_fleet import FleetBenchOptions, run_fleet_bench
    from bench.bench_fleet_live import LiveOptions
    from bench.bench_fleet_replay import ReplayOptions

    options = FleetBenchOptions(
        replay=None
        if skip_replay
        else ReplayOptions(miners=miners, minutes=minutes, writers=writers, batch_messages=batch),
        live=None
        if skip_live
        else LiveOptions(
            miners=live_miners, simulators=simulators, collectors=collectors, window_minutes=window_minutes
        ),
        output=output or root / "docs" / "BENCHMARKS.md",
    )
    event_loop.run(run_fleet_bench(options, "windhash bench fleet " + " ".join(sys.argv[3:])))
