"""When the collector changes a miner's status (pure; the collector applies it, see `status_changes.py`).

- A miner that did not answer `offline_after` polls in a row goes from active or curtailed to `offline`
  (`miner.offline`). Refused connections, timeouts and empty replies count as no answer; a reply that is
  malformed or invalid is an answer (the miner is up, its firmware is at fault) and is counted by outcome.
- An offline miner that answers comes back as what it reports (`miner.online`): `curtailed` when its reading
  says it is asleep (LuxOS CurtailMode Sleep), `active` otherwise. A curtailed miner that dropped off the
  network and returns still asleep stays curtailed, so the curtailment plan that put it to sleep (issue #20)
  still finds it in its plan and wakes it at recovery; one that rebooted awake is `active`, and the plan's
  executor, which owns `curtailed`, decides whether to put it back to sleep.
- `maintenance` and `retired` are an operator's: the collector never changes them.
"""

from dataclasses import dataclass
from typing import Final, Literal

from windhash_common.events_fleet import MinerStatus

NO_ANSWER: Final = frozenset({"refused", "timeout", "empty"})


@dataclass(frozen=True)
class StatusChange:
    event_type: Literal["miner.offline", "miner.online"]
    before: MinerStatus
    after: MinerStatus


def status_change(
    status: MinerStatus,
    answered: bool,
    consecutive_failures: int,
    offline_after: int,
    asleep: bool = False,
) -> StatusChange | None:
    """`asleep`: the answer was a reading that says the miner is curtailed."""
    if answered and status == "offline":
        return StatusChange("miner.online", status, "curtailed" if asleep else "active")
    if not answered and consecutive_failures >= offline_after and status in ("active", "curtailed"):
        return StatusChange("miner.offline", status, "offline")
    return None
