"""`windhash bench` over one day, as a fresh clone runs it (a full year is a benchmark, never a test): every
figure issue #24 asks for is printed and written, the profile is written, and the API answers cached and
uncached with no errors. Only that the figures are there and sane is asserted, never a speed."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from windhash_stack import StackEndpoints

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

REPO = Path(__file__).resolve().parents[2]


def test_the_bench_prints_cpu_per_process_freshness_and_the_api_cached_and_uncached(
    stack: StackEndpoints, tmp_path: Path
) -> None:
    output, profile = tmp_path / "BENCHMARKS.md", tmp_path / "profile"
    span = ["--from", "2024-03-31", "--to", "2024-03-31"]
    api = ["--api", "--api-seconds", "2", "--api-clients", "10"]
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "windhash_cli",
            "bench",
            *span,
            *api,
            "--output",
            str(output),
            "--profile",
            str(profile),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=480,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    written = output.read_text()
    assert "2024-03-31 .. 2024-03-31 (46 settlement periods)" in written  # the spring clock change
    for process in ("ingest", "calculator", "aggregator", "postgres", "kafka", "elexon-sim"):
        assert re.search(
            rf"\| CPU during the run: {process} \| [0-9.]+ s \([0-9.]+ s / 1,000 periods\) \|", written
        )
    assert re.search(
        r"\| CPU, windhash's own .* \| [0-9.]+ s \([0-9.]+ s / 1,000 periods; goal ≤ 2\.85", written
    )
    assert re.search(
        r"p95 [0-9.]+ s \(histogram_quantile; ≤ [0-9.]+ s by bucket\), p50 ≤ [0-9.]+ s,"
        r" mean [0-9.]+ s over 46 periods",
        written,
    )
    cached = re.search(
        r"\| API cached, 10 clients, 2 s, [0-9,]+ distinct paths \| ([0-9,]+) req/s.* 0 errors", written
    )
    uncached = re.search(
        r"\| API uncached, 10 clients, 2 s, 19 distinct paths \| ([0-9,]+) req/s.* 0 errors", written
    )
    assert cached and uncached, written
    assert len(re.findall(r"CPU per request: API [0-9.]+ ms, PostgreSQL [0-9.]+ ms", written)) == 2
    assert "goal: uncached ≥ 1,000 req/s and p99 < 100 ms at 50 clients" in written
    report = (profile / "PROFILE.md").read_text()
    for process in ("ingest", "calculator", "aggregator", "elexon-sim"):
        assert re.search(rf"#### {process}: [0-9,]+ samples", report), report
    assert "| bitcoin_calculations | bitcoin_calculations_pkey |" in report
