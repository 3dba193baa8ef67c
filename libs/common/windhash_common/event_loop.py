"""Every windhash process runs its asyncio code on uvloop.

The services spend much of their CPU in socket and callback handling (Kafka, PostgreSQL, HTTP); uvloop does
that work in C, and on a 2-core machine that is CPU the rest of the pipeline gets back. uvicorn (API, Elexon
simulator) picks uvloop on its own when it is installed.
"""

import asyncio
import signal
from collections.abc import Coroutine
from typing import Any, TypeVar

import uvloop

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T], cancel_on: tuple[signal.Signals, ...] = ()) -> T:
    """`asyncio.run`, on a uvloop event loop. Ctrl-C cancels `main` (asyncio's own handling, ending in
    KeyboardInterrupt); so does each signal of `cancel_on` (e.g. SIGTERM), ending in CancelledError, so that
    `main` can finish what must not be cut short instead of dying at once."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(_cancelled_on(main, cancel_on) if cancel_on else main)


async def _cancelled_on(main: Coroutine[Any, Any, T], signals: tuple[signal.Signals, ...]) -> T:
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    for signum in signals:
        loop.add_signal_handler(signum, task.cancel)
    try:
        return await main
    finally:
        for signum in signals:
            loop.remove_signal_handler(signum)
