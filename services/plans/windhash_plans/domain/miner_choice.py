"""Which miners a plan curtails, and in which order (pure).

The order, documented in docs/PLANS.md and applied here only:
1. only miners that are `active` now: never one in maintenance, retired or offline, nor one already asleep
   (`curtailed`) for another plan;
2. least efficient first: the highest J/TH (what it draws per unit of hashrate; from its newest reading when
   it is hashing, its model's nameplate otherwise), since switching it off loses the least bitcoin per MW;
3. then the hottest (newest reading's temperature), which gain the most from a rest;
4. then by serial number, so equal miners are always taken in the same order.
A client's minimum (miners of that client at the site that must keep running) is respected: once taking
another of its miners would leave fewer running than its minimum, its remaining miners are passed over.
Miners are taken in that order until their power reaches the target. Each miner counts with the power it
draws now (its newest reading when hashing, its model's nameplate otherwise).
"""

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from uuid import UUID

WATTS_PER_MW = Decimal(1_000_000)
ELIGIBLE_STATUS = "active"


@dataclass(frozen=True)
class Candidate:
    miner_id: int
    serial: str
    model: str
    status: str
    client_id: UUID | None
    nameplate_power_w: Decimal
    nameplate_hashrate_ths: Decimal
    power_w: Decimal | None = None
    """Newest reading's power, when it is recent and the miner was hashing."""
    hashrate_ths: Decimal | None = None
    temperature_c: Decimal | None = None

    @property
    def drawing_w(self) -> Decimal:
        return self.power_w if self.power_w is not None and self.power_w > 0 else self.nameplate_power_w

    @property
    def efficiency_j_per_th(self) -> Decimal:
        if self.power_w and self.hashrate_ths and self.power_w > 0 and self.hashrate_ths > 0:
            return self.power_w / self.hashrate_ths
        return self.nameplate_power_w / self.nameplate_hashrate_ths


@dataclass(frozen=True)
class ChosenMiner:
    candidate: Candidate
    shutdown_order: int


@dataclass(frozen=True)
class MinerChoice:
    chosen: tuple[ChosenMiner, ...]
    target_mw: Decimal
    reached_mw: Decimal
    passed_over: Mapping[str, str] = field(default_factory=dict)
    """Serial → why an eligible-looking miner was not taken (its status, its client's minimum)."""

    @property
    def shortfall_mw(self) -> Decimal:
        return max(Decimal(0), self.target_mw - self.reached_mw)

    @property
    def reaches_target(self) -> bool:
        return self.reached_mw >= self.target_mw


def shutdown_order_key(candidate: Candidate) -> tuple[Decimal, Decimal, str]:
    temperature = candidate.temperature_c if candidate.temperature_c is not None else Decimal("-273")
    return (-candidate.efficiency_j_per_th, -temperature, candidate.serial)


def choose_miners(
    candidates: Iterable[Candidate],
    target_mw: Decimal,
    client_minimums: Mapping[UUID, int] | None = None,
) -> MinerChoice:
    """Miners in shutdown order until their power reaches `target_mw` (all of them if it cannot be reached:
    the choice says how far short it falls)."""
    if target_mw <= 0:
        raise ValueError("a plan reduces a positive power")
    everyone = list(candidates)
    minimums = client_minimums or {}
    running = Counter(c.client_id for c in everyone if c.status == ELIGIBLE_STATUS and c.client_id)
    passed_over: dict[str, str] = {}
    chosen: list[ChosenMiner] = []
    reached = Decimal(0)
    for candidate in sorted(everyone, key=shutdown_order_key):
        if reached >= target_mw:
            break
        if candidate.status != ELIGIBLE_STATUS:
            passed_over[candidate.serial] = f"status {candidate.status}"
            continue
        client = candidate.client_id
        if client is not None and running[client] - 1 < minimums.get(client, 0):
            passed_over[candidate.serial] = f"client minimum of {minimums[client]} running"
            continue
        if client is not None:
            running[client] -= 1
        chosen.append(ChosenMiner(candidate, len(chosen) + 1))
        reached += candidate.drawing_w / WATTS_PER_MW
    return MinerChoice(tuple(chosen), target_mw, reached, passed_over)


def available_mw(
    candidates: Sequence[Candidate], client_minimums: Mapping[UUID, int] | None = None
) -> Decimal:
    """The most a plan could reduce at this site now (every miner the rules let it take)."""
    total = sum((c.drawing_w for c in candidates if c.status == ELIGIBLE_STATUS), Decimal(0))
    if total == 0:
        return Decimal(0)
    return choose_miners(candidates, total / WATTS_PER_MW, client_minimums).reached_mw
