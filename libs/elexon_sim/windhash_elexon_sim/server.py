"""Running the synthetic Elexon server: in the foreground (`windhash elexon-sim`) or embedded in a test.

with ElexonSimServer() as sim:                # a free port on 127.0.0.1, served from a background thread
    settings = IngestorSettings(elexon_base_url=sim.base_url)
    sim.add_fault(FaultRule(kind="status", status=429, retry_after=1, date=day, period=3))
    sim.revise(day, 3)

async with ElexonSimProcess(port) as sim:     # its own process, when the test measures its own memory or
    await sim.add_fault(rule)                 # must not share its CPU with the server; faults over HTTP
"""

import asyncio
import os
import sys
import time
from datetime import date
from types import TracebackType
from typing import Self

import httpx
import uvicorn
from windhash_sim_support.background_server import START_TIMEOUT_S, BackgroundServer

from windhash_elexon_sim.app import API_PREFIX, SimState, build_app
from windhash_elexon_sim.faults import FaultRule
from windhash_elexon_sim.generator import DEFAULT_SEED


def serve(
    host: str = "127.0.0.1",
    port: int = 18080,
    seed: int = DEFAULT_SEED,
    latency_s: float = 0.0,
    prerender: tuple[date, date] | None = None,
) -> None:
    """Serve in the foreground until interrupted; `prerender` = (first, last) renders those days' bid stacks
    before listening (see `SimState.prerender`)."""
    state = SimState(seed=seed, latency_s=latency_s)
    if prerender is not None:
        state.prerender(*prerender)
    # uvicorn serves with httptools and uvloop (http="auto" and loop="auto" pick them; both are dependencies).
    # Without proxy headers and the access log (silent at this level anyway), it does less per request.
    uvicorn.run(
        build_app(state), host=host, port=port, log_level="warning", proxy_headers=False, access_log=False
    )


class ElexonSimServer(BackgroundServer):
    """The server in a background thread of this process, on `port` (0: any free port)."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, seed: int = DEFAULT_SEED, latency_s: float = 0.0
    ) -> None:
        self.state = SimState(seed=seed, latency_s=latency_s)
        super().__init__(
            build_app(self.state),
            host,
            port,
            name="elexon-sim",
            description="the synthetic Elexon server",
            backlog=2048,
            proxy_headers=False,  # as serve(): less work per request
        )

    @property
    def base_url(self) -> str:
        """What `WINDHASH_ELEXON_BASE_URL` should be set to."""
        return self.root_url + API_PREFIX

    def add_fault(self, rule: FaultRule) -> None:
        self.state.faults.add(rule)

    def clear_faults(self) -> None:
        self.state.faults.clear()

    def revise(self, settlement_date: date, settlement_period: int) -> int:
        return self.state.revise(settlement_date, settlement_period)

    def withdraw_unit(self, elexon_bm_unit: str) -> None:
        """`/reference/bmunits/all` stops listing the unit (its stack rows are still served)."""
        self.state.withdrawn_units.add(elexon_bm_unit)

    def list_unit_again(self, elexon_bm_unit: str) -> None:
        """`/reference/bmunits/all` lists a withdrawn unit again."""
        self.state.withdrawn_units.discard(elexon_bm_unit)


class ElexonSimProcess:
    """`windhash elexon-sim` in a process of its own on `port`, run as installed (a PYTHONPATH pointing the
    calling test at other code is not passed on), stopped on exit."""

    def __init__(self, port: int, latency_ms: float = 0.0) -> None:
        self.port = port
        self.latency_ms = latency_ms
        self.root_url = f"http://127.0.0.1:{port}"
        self.base_url = self.root_url + API_PREFIX
        self._process: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> Self:
        environment = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
        self._process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "windhash_cli", "elexon-sim", "--port", str(self.port),
            "--latency-ms", str(self.latency_ms),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL, env=environment,
        )  # fmt: skip
        deadline = time.monotonic() + 6 * START_TIMEOUT_S  # a Python process on a busy machine
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline:
                try:
                    if (await client.get(f"{self.root_url}/_sim/health")).status_code == 200:
                        return self
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
        await self.__aexit__(None, None, None)
        raise RuntimeError("the synthetic Elexon server process did not start")

    async def add_fault(self, rule: FaultRule) -> None:
        async with httpx.AsyncClient() as client:
            response = await client.post(f"{self.root_url}/_sim/faults", content=rule.model_dump_json())
            response.raise_for_status()

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        process = self._process
        if process is None or process.returncode is not None:
            return
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 15)
        except TimeoutError:
            process.kill()
            await process.wait()
