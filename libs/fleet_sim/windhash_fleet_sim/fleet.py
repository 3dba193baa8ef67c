"""The simulated fleet: miners, their loopback addresses, their listening sockets, their faults.

Each miner listens on its own loopback address on the cgminer port (127.1.0.1:4028, 127.1.0.2:4028, ...), as a
real site's miners each have their own address; every address is in 127.0.0.0/8, so nothing outside this
machine can reach a simulated miner (`FleetSpec` refuses any other address). One listening socket per miner
means one file descriptor per miner: `start` raises this process's soft RLIMIT_NOFILE as far as the hard limit
allows and refuses a fleet that cannot fit.

Faults are drawn once, from the seed: with the same seed and fractions the same miners are faulty.
"""

import asyncio
import ipaddress
import random
import resource
import socket
from dataclasses import dataclass, field

from windhash_fleet_sim.connection import AnswerCounter, MinerConnection
from windhash_fleet_sim.sim_miner import FaultKind, MalformedKind, MinerFaults, SimMiner
from windhash_fleet_sim.sim_models import DEFAULT_MODELS, sim_model

LOOPBACK = ipaddress.ip_network("127.0.0.0/8")
# File descriptors kept free for connections in flight, the control API, logs and the libraries.
SPARE_DESCRIPTORS = 1024
DEFAULT_SEED = 2024


@dataclass(frozen=True)
class FleetSpec:
    miners: int
    seed: int = DEFAULT_SEED
    base_address: str = "127.1.0.1"
    port: int = 4028
    models: tuple[str, ...] = DEFAULT_MODELS
    serial_prefix: str = "SIM"
    fault_fractions: dict[FaultKind, float] = field(default_factory=dict)
    slow_s: float = 10.0
    hashrate_drop: float = 0.33
    malformed: MalformedKind = "truncated"
    record_depth: int = 10

    def __post_init__(self) -> None:
        if self.miners < 1:
            raise ValueError("a fleet has at least one miner")
        if not 1 <= self.port <= 65535:
            raise ValueError(f"port {self.port} is not a TCP port")
        for model in self.models:
            sim_model(model)
        for kind, fraction in self.fault_fractions.items():
            if not 0 <= fraction <= 1:
                raise ValueError(f"the {kind} fraction must be between 0 and 1")
        addresses(self.base_address, self.miners)  # refuses a range that leaves the loopback network

    def serial(self, index: int) -> str:
        return f"{self.serial_prefix}-{self.seed}-{index:06d}"


def addresses(base: str, count: int) -> list[str]:
    """`count` loopback addresses from `base` up, skipping those ending in .0 and .255."""
    start = ipaddress.ip_address(base)
    if start not in LOOPBACK:
        raise ValueError(f"{base} is not a loopback address: the simulator listens on 127.0.0.0/8 only")
    found: list[str] = []
    candidate = int(start)
    while len(found) < count:
        address = ipaddress.IPv4Address(candidate)
        if address not in LOOPBACK:
            raise ValueError(f"{count} miners from {base} run past the loopback network")
        if candidate & 0xFF not in (0, 255):
            found.append(str(address))
        candidate += 1
    return found


def _faults(spec: FleetSpec, rng: random.Random) -> MinerFaults:
    drawn = {kind for kind, fraction in sorted(spec.fault_fractions.items()) if rng.random() < fraction}
    return MinerFaults(
        offline="offline" in drawn,
        overheating="overheating" in drawn,
        hashrate_drop=spec.hashrate_drop if "hashrate_drop" in drawn else 0.0,
        slow_s=spec.slow_s if "slow" in drawn else 0.0,
        malformed=spec.malformed if "malformed" in drawn else None,
    )


def build_miners(spec: FleetSpec) -> list[SimMiner]:
    rng = random.Random(f"{spec.seed}:fleet")
    return [
        SimMiner(
            index=index,
            serial=spec.serial(index),
            model=sim_model(spec.models[index % len(spec.models)]),
            host=host,
            port=spec.port,
            seed=spec.seed,
            record_depth=spec.record_depth,
            faults=_faults(spec, rng),
        )
        for index, host in enumerate(addresses(spec.base_address, spec.miners))
    ]


def raise_open_file_limit(needed: int) -> int:
    """Raise the soft RLIMIT_NOFILE to `needed` (at most the hard limit); returns the soft limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


class Fleet:
    """The miners and their sockets, driven by one event loop."""

    def __init__(self, spec: FleetSpec) -> None:
        self.spec = spec
        self.miners = build_miners(spec)
        self.by_serial = {miner.serial: miner for miner in self.miners}
        self.answers = AnswerCounter()
        self._servers: dict[int, asyncio.Server] = {}

    async def start(self) -> None:
        needed = len(self.miners) + SPARE_DESCRIPTORS
        limit = raise_open_file_limit(needed)
        if limit < needed:
            raise RuntimeError(
                f"{len(self.miners)} miners need {needed} open files; this process may have {limit} "
                "(raise the hard limit: ulimit -Hn, or LimitNOFILE= in the service manager)"
            )
        for miner in self.miners:
            if not miner.faults.offline:
                await self._listen(miner)

    async def stop(self) -> None:
        servers = list(self._servers.values())
        self._servers.clear()
        for server in servers:
            server.close()
        for server in servers:
            await server.wait_closed()

    async def _listen(self, miner: SimMiner) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((miner.host, miner.port))
        except OSError:
            sock.close()
            raise
        answers = self.answers
        self._servers[miner.index] = await asyncio.get_running_loop().create_server(
            lambda: MinerConnection(miner, answers), sock=sock, backlog=64
        )

    async def set_faults(self, serial: str, faults: MinerFaults) -> SimMiner:
        """Replace a miner's faults; going offline closes its socket (connections are refused), coming back
        opens it again."""
        miner = self.miner(serial)
        miner.faults = faults
        server = self._servers.get(miner.index)
        if faults.offline and server is not None:
            del self._servers[miner.index]
            server.close()
            await server.wait_closed()
        elif not faults.offline and server is None:
            await self._listen(miner)
        return miner

    def miner(self, serial: str) -> SimMiner:
        try:
            return self.by_serial[serial]
        except KeyError:
            raise KeyError(f"no simulated miner {serial!r}") from None

    def listening_addresses(self) -> list[tuple[str, int]]:
        """The address of every listening socket (a test holds that all are loopback)."""
        found = []
        for server in self._servers.values():
            for sock in server.sockets:
                host, port = sock.getsockname()[:2]
                found.append((host, port))
        return found
