"""The process shell every worker runs in: a signal asks it to stop, an error ends it with exit code 1."""

import asyncio
import os
import signal

import pytest
from windhash_common.worker_process import run_until_signalled


def test_sigterm_sets_stop_and_the_worker_finishes_what_it_was_doing() -> None:
    finished: list[str] = []

    async def worker(stop: asyncio.Event) -> None:
        asyncio.get_running_loop().call_later(0.05, os.kill, os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(stop.wait(), timeout=10)
        finished.append("committed the batch under way")

    run_until_signalled(worker, "test worker")
    assert finished == ["committed the batch under way"]


def test_an_error_ends_the_process_with_exit_code_1() -> None:
    async def worker(stop: asyncio.Event) -> None:
        raise RuntimeError("the database refused the schema")

    with pytest.raises(SystemExit) as exited:
        run_until_signalled(worker, "test worker")
    assert exited.value.code == 1
