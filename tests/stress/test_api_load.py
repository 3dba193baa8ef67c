"""Smoke run of the API load test (bench/bench_api_load.py): 100 concurrent clients for a few seconds against
the API process over a month of sample data, with zero errors. The benchmark (`windhash bench --api`) runs
the same code for minutes over the pipeline's own output; here only correctness is asserted, never speed."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from windhash_stack import StackEndpoints

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def test_a_hundred_concurrent_clients_get_no_errors(stack: StackEndpoints) -> None:
    seconds = os.environ.get("WINDHASH_LOAD_SMOKE_SECONDS", "5")
    arguments = ["--dsn", stack.postgres_dsn, "--first", "2024-03-01", "--last", "2024-03-31"]
    run = subprocess.run(
        [sys.executable, "-m", "bench.bench_api_load", *arguments, "--clients", "100", "--seconds", seconds],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "100 clients" in run.stdout and " 0 errors (none)" in run.stdout, run.stdout
    print(run.stdout)
