"""Running the fleet simulator: in the foreground (`windhash fleet-sim`) or in a thread of a test.

with FleetSimServer(FleetSpec(miners=300, base_address="127.42.0.1")) as sim:
    sim.set_faults(serial, MinerFaults(offline=True))     # connections to it are refused from now on
    sim.served(serial)                                     # the readings it answered, newest last
    sim.commands(serial)                                   # the curtail commands it accepted
"""

import asyncio
import socket
import threading
from collections.abc import Callable
from typing import TypeVar

import uvicorn
import uvloop
from windhash_sim_support.background_server import StartedInWith

from windhash_fleet_sim.control_api import build_control_app
from windhash_fleet_sim.fleet import LOOPBACK, Fleet, FleetSpec
from windhash_fleet_sim.sim_miner import CurtailCommand, MinerFaults, Reading, SimMiner

START_TIMEOUT_S = 60.0
T = TypeVar("T")


def _control_socket(host: str, port: int) -> socket.socket:
    import ipaddress

    if ipaddress.ip_address(host) not in LOOPBACK:
        raise ValueError(f"{host} is not a loopback address: the control API listens on 127.0.0.0/8 only")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


def _control_server(fleet: Fleet) -> uvicorn.Server:
    config = uvicorn.Config(build_control_app(fleet), log_level="warning", lifespan="off", access_log=False)
    return uvicorn.Server(config)


async def run_fleet(spec: FleetSpec, control: socket.socket, stop: asyncio.Event | None = None) -> None:
    """Serve the fleet and its control API until `stop` is set (or the process is interrupted)."""
    fleet = Fleet(spec)
    await fleet.start()
    server = _control_server(fleet)
    try:
        serving = asyncio.ensure_future(server.serve(sockets=[control]))
        if stop is not None:
            await stop.wait()
            server.should_exit = True
        await serving
    finally:
        await fleet.stop()


def serve(spec: FleetSpec, control_host: str = "127.0.0.1", control_port: int = 18090) -> None:
    control = _control_socket(control_host, control_port)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(run_fleet(spec, control))


class FleetSimServer(StartedInWith):
    """The simulator on its own event loop in a background thread of this process."""

    def __init__(self, spec: FleetSpec, control_host: str = "127.0.0.1", control_port: int = 0) -> None:
        self.spec = spec
        self._control = _control_socket(control_host, control_port)
        self.control_host, self.control_port = self._control.getsockname()[:2]
        self.fleet = Fleet(spec)
        self._loop = uvloop.new_event_loop()
        self._server = _control_server(self.fleet)
        self._started = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="fleet-sim", daemon=True)

    @property
    def control_url(self) -> str:
        return f"http://{self.control_host}:{self.control_port}"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self.fleet.start())
        except BaseException as error:
            self._error = error
            self._started.set()
            return
        self._started.set()
        try:
            self._loop.run_until_complete(self._server.serve(sockets=[self._control]))
        finally:
            self._loop.run_until_complete(self.fleet.stop())
            self._loop.close()

    def start(self) -> None:
        self._thread.start()
        if not self._started.wait(START_TIMEOUT_S):
            raise RuntimeError("the fleet simulator did not start")
        if self._error is not None:
            raise RuntimeError(f"the fleet simulator did not start: {self._error}") from self._error

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=START_TIMEOUT_S)
        self._control.close()

    def _call(self, function: Callable[[], T]) -> T:
        """Run `function` on the simulator's loop (its state belongs to that thread) and return its result."""

        async def call() -> T:
            return function()

        return asyncio.run_coroutine_threadsafe(call(), self._loop).result(timeout=START_TIMEOUT_S)

    @property
    def miners(self) -> list[SimMiner]:
        return self.fleet.miners

    def set_faults(self, serial: str, faults: MinerFaults) -> None:
        asyncio.run_coroutine_threadsafe(self.fleet.set_faults(serial, faults), self._loop).result(
            START_TIMEOUT_S
        )

    def served(self, serial: str) -> list[Reading]:
        return self._call(lambda: list(self.fleet.miner(serial).served))

    def commands(self, serial: str) -> list[CurtailCommand]:
        """The curtail commands the miner accepted, oldest first."""
        return self._call(lambda: list(self.fleet.miner(serial).commands))

    def sleeping(self, serial: str) -> bool:
        return self._call(lambda: self.fleet.miner(serial).sleeping)

    def listening_addresses(self) -> list[tuple[str, int]]:
        return [*self._call(self.fleet.listening_addresses), self._control.getsockname()[:2]]
