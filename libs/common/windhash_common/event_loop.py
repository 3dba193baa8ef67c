"""Every windhash process runs its asyncio code on uvloop.

The services spend much of their CPU in socket and callback handling (Kafka, PostgreSQL, HTTP); uvloop does
that work in C, and on a 2-core machine that is CPU the rest of the pipeline gets back. uvicorn (API, Elexon
simulator) picks uvloop on its own when it is installed.
"""

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import uvloop

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run`, on a uvloop event loop."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)
