"""One simulated miner: its state, its faults, what it reads at each answer, and what it answered.

The noise model (every draw from the miner's own generator, seeded by the fleet's seed and its index, so a
run with the same seed and the same sequence of requests answers the same):
- hashrate = nominal × (1 + N(0, 1.5 %)), clipped to ±4.5 %, × (1 − drop) under a hashrate-drop fault;
- power = sleep power + (nominal − sleep power) × hashrate / nominal × (1 + N(0, 1 %)), clipped to ±3 %;
- hottest chip = 65 °C + N(0, 2) (clipped ±6), 95–105 °C when overheating, ambient (28–32 °C) asleep;
- fans = 5,400 RPM + N(0, 150) each (6,600–7,000 overheating, 1,200 ± 50 asleep).
Asleep (LuxOS `curtail sleep`) the miner hashes nothing and draws its sleep power; `wakeup` restores it at
once. Every curtail command a miner accepts is recorded (`commands`, newest last), so a test can count the
commands an executor sent; under the `ignore_curtail` fault the firmware accepts them and keeps hashing.
"""

import random
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from windhash_fleet_sim.sim_models import SimModel

HASHRATE_NOISE = 0.015
POWER_NOISE = 0.01
MalformedKind = Literal["truncated", "garbage", "nan", "no_status", "huge"]
FaultKind = Literal["offline", "overheating", "hashrate_drop", "slow", "malformed"]


class MinerFaults(BaseModel):
    """The faults a miner has now; each stays until cleared."""

    model_config = ConfigDict(extra="forbid")

    offline: bool = False
    overheating: bool = False
    hashrate_drop: float = Field(default=0.0, ge=0.0, le=1.0, description="Fraction of hashrate lost.")
    slow_s: float = Field(default=0.0, ge=0.0, le=600.0, description="Delay before every answer.")
    malformed: MalformedKind | None = None
    ignore_curtail: bool = Field(
        default=False, description="Accept curtail commands and keep hashing (a firmware fault)."
    )


@dataclass(frozen=True)
class Reading:
    """What the miner answered to one request (every section of a joined request shares it)."""

    at: float  # time.time() when answered
    hashrate_ths: float
    power_w: float
    temperature_c: float
    fan_rpms: tuple[int, ...]
    sleeping: bool
    uptime_s: int


@dataclass(frozen=True)
class CurtailCommand:
    """A `curtail` command the miner accepted."""

    at: float  # time.time() when answered
    mode: str  # sleep or wakeup
    changed: bool  # whether the miner's state changed (False: it was already so, or it ignored it)


COMMAND_RECORD_DEPTH = 1000


def _clipped_gauss(rng: random.Random, sigma: float, limit: float) -> float:
    return max(-limit, min(limit, rng.gauss(0.0, sigma)))


@dataclass
class SimMiner:
    index: int
    serial: str
    model: SimModel
    host: str
    port: int
    seed: int
    record_depth: int = 10
    faults: MinerFaults = field(default_factory=MinerFaults)
    sleeping: bool = False
    session_id: str = ""
    started_at: float = field(default_factory=time.time)
    requests: int = 0
    served: deque[Reading] = field(init=False)
    commands: deque[CurtailCommand] = field(init=False)
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.served = deque(maxlen=self.record_depth)
        self.commands = deque(maxlen=COMMAND_RECORD_DEPTH)
        self._rng = random.Random(f"{self.seed}:{self.index}")

    def read(self) -> Reading:
        """A new reading, recorded as served."""
        rng, model = self._rng, self.model
        if self.sleeping:
            hashrate = 0.0
            power = model.sleep_power_w * (1 + _clipped_gauss(rng, POWER_NOISE, 0.03))
            temperature = 30.0 + _clipped_gauss(rng, 1.0, 2.0)
            fans = tuple(round(1200 + _clipped_gauss(rng, 25, 50)) for _ in range(model.fans))
        else:
            ratio = (1 + _clipped_gauss(rng, HASHRATE_NOISE, 0.045)) * (1 - self.faults.hashrate_drop)
            hashrate = model.hashrate_ths * ratio
            busy = (model.power_w - model.sleep_power_w) * ratio
            power = (model.sleep_power_w + busy) * (1 + _clipped_gauss(rng, POWER_NOISE, 0.03))
            if self.faults.overheating:
                temperature = 100.0 + _clipped_gauss(rng, 2.0, 5.0)
                fans = tuple(round(6800 + _clipped_gauss(rng, 100, 200)) for _ in range(model.fans))
            else:
                temperature = 65.0 + _clipped_gauss(rng, 2.0, 6.0)
                fans = tuple(round(5400 + _clipped_gauss(rng, 150, 450)) for _ in range(model.fans))
        now = time.time()
        reading = Reading(
            at=now,
            hashrate_ths=round(hashrate, 3),
            power_w=float(round(power)),
            temperature_c=round(temperature, 1),
            fan_rpms=fans,
            sleeping=self.sleeping,
            uptime_s=int(now - self.started_at),
        )
        self.served.append(reading)
        return reading

    def logon(self) -> str:
        self.session_id = secrets.token_hex(8)
        return self.session_id

    def curtail(self, session: str, mode: str) -> str | None:
        """None when done (idempotent), or why the command was refused."""
        if not self.session_id or session != self.session_id:
            return "Invalid session id"
        if mode not in ("sleep", "wakeup"):
            return f"Invalid curtail mode {mode[:20]!r}"
        asleep = mode == "sleep" and not self.faults.ignore_curtail
        self.commands.append(CurtailCommand(time.time(), mode, asleep != self.sleeping))
        self.sleeping = asleep
        return None
