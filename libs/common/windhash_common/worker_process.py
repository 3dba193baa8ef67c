"""How every long-running windhash worker runs as a process: its coroutine on uvloop until SIGTERM or SIGINT
asks it to stop (it then finishes the batch under way and commits), and an exit code that tells a supervisor
whether it stopped on an error."""

import asyncio
import signal
import sys
from collections.abc import Callable, Coroutine
from typing import Any

import structlog

from windhash_common import event_loop

log = structlog.get_logger(__name__)

WorkerMain = Callable[[asyncio.Event], Coroutine[Any, Any, None]]
"""The worker: runs until the event it is given is set."""


def run_until_signalled(main: WorkerMain, what: str) -> None:
    """Run `main(stop)` until it returns; SIGTERM and SIGINT set `stop`. An error is logged and ends the
    process with exit code 1, so its supervisor restarts it."""
    try:
        event_loop.run(_until_signalled(main))
    except Exception:
        log.exception(f"{what} stopped on an error")
        sys.exit(1)


async def _until_signalled(main: WorkerMain) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await main(stop)
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
