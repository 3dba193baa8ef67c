"""`windhash bench`: the whole pipeline over a span of synthetic data, measured; writes docs/BENCHMARKS.md.

The benchmark itself lives in the checkout's bench/ folder (bench/bench_pipeline.py, also runnable as
`python -m bench.bench_pipeline`), next to the other benchmarks it reuses, so the command needs a checkout.
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


def bench(
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
    root = find_repo_root(Path(__file__).resolve().parent) or find_repo_root(Path.cwd())
    if root is None or not (root / "bench" / "bench_pipeline.py").is_file():
        raise typer.BadParameter("`windhash bench` runs from a windhash checkout (it needs bench/)")
    if first > last:
        raise typer.BadParameter(f"--from {first.date()} is after --to {last.date()}")
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))  # bench/ is a folder of scripts beside the packages, not installed
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
