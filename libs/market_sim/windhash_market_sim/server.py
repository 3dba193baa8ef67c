"""Running the synthetic market server: in the foreground (`windhash market-sim`) or embedded in a test.

with MarketSimServer() as sim:               # a free port on 127.0.0.1, served from a background thread
    settings = MarketSettings(explorer_url=sim.url, price_api_url=sim.url)
    sim.add_fault(FaultRule(kind="status", status=503, endpoint="price", times=2))
"""

from collections.abc import Callable
from datetime import UTC, datetime

import uvicorn
from windhash_sim_support.background_server import BackgroundServer

from windhash_market_sim.app import SimState, build_app
from windhash_market_sim.faults import FaultRule
from windhash_market_sim.generator import DEFAULT_SEED


def _now() -> datetime:
    return datetime.now(UTC)


def serve(host: str = "127.0.0.1", port: int = 18090, seed: int = DEFAULT_SEED) -> None:
    """Serve in the foreground until interrupted."""
    state = SimState(seed=seed)
    uvicorn.run(build_app(state), host=host, port=port, log_level="warning", access_log=False)


class MarketSimServer(BackgroundServer):
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
        super().__init__(
            build_app(self.state), host, port, name="market-sim", description="the synthetic market server"
        )

    @property
    def url(self) -> str:
        """What both `WINDHASH_EXPLORER_URL` and `WINDHASH_PRICE_API_URL` should be set to."""
        return self.root_url

    def add_fault(self, rule: FaultRule) -> None:
        self.state.faults.add(rule)

    def clear_faults(self) -> None:
        self.state.faults.clear()
