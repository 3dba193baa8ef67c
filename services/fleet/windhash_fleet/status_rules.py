"""When the collector changes a miner's status (pure; the collector applies it, see `status_changes.py`).

- A miner that did not answer `offline_after` polls in a row goes from active or curtailed to `offline`
  (`miner.offline`). Refused connections, timeouts and empty replies count as no answer; a reply that is
  malformed or invalid is an answer (the miner is up, its firmware is at fault) and is counted by outcome.
- An offline miner that answers goes back to `active` (`miner.online`); if it is asleep the curtailment
  executor, which put it to sleep, owns marking it `curtailed` again.
- `maintenance` is an operator's: the collector never changes it.
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
    status: MinerStatus, answered: bool, consecutive_failures: int, offline_after: int
) -> StatusChange | None:
    if answered and status == "offline":
        return StatusChange("miner.online", status, "active")
    if not answered and consecutive_failures >= offline_after and status in ("active", "curtailed"):
        return StatusChange("miner.offline", status, "offline")
    return None
