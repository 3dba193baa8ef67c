"""Running the synthetic market server: in the foreground (`windhash market-sim`) or embedded in a test.

with MarketSimServer() as sim:               # a free port on 127.0.0.1, served from a background thread
    settings = MarketSettings(explorer_url=sim.url, price_api_url=sim.url)
    sim.add_fault(FaultRule(kind="status", status=503, endpoint="price", times=2))
"""

import socket
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import Self

import uvicorn

from windhash_market_sim.app import SimState, build_app
from windhash_market_sim.faults import FaultRule
from windhash_market_sim.generator import DEFAULT_SEED

START_TIMEOUT_S = 10.0


def _now() -> datetime:
    return datetime.now(UTC)


def serve(host: str = "127.0.0.1", port: int = 18090, seed: int = DEFAULT_SEED) -> None:
    """Serve in the foreground until interrupted."""
    state = SimState(seed=seed)
    uvicorn.run(build_app(state), host=host, port=port, log_level="warning", access_log=False)


class MarketSimServer:
    """The server in a background thread of this process, on `port` (0: any free port). `clock` says what
    "now" is (the real clock by default): nothing after it is served."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = DEFAULT_SEED,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.state = SimState(seed=seed, clock=clock)
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.host, self.port = self._socket.getsockname()[:2]
        config = uvicorn.Config(build_app(self.state), log_level="warning", lifespan="off", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name="market-sim", daemon=True)

    @property
    def url(self) -> str:
        """What both `WINDHASH_EXPLORER_URL` and `WINDHASH_PRICE_API_URL` should be set to."""
        return f"http://{self.host}:{self.port}"

    def _run(self) -> None:
        self._server.run(sockets=[self._socket])

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the synthetic market server did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=START_TIMEOUT_S)
        self._socket.close()

    def add_fault(self, rule: FaultRule) -> None:
        self.state.faults.add(rule)

    def clear_faults(self) -> None:
        self.state.faults.clear()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()
