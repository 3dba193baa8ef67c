"""Is this worker ready to do its work? Its dependencies' states, as the worker last found them.

Every retried operation (`windhash_common.dependency_retries`) reports the dependency it met down, with the
reason, and up after its next success; probes (`run_probes`) check each dependency every few seconds, so an
idle worker notices an outage too, and one that recovered notices the return without waiting for work.
Exported as `windhash_dependency_up{service,dependency}` and `windhash_ready{service}`, and served as
`/ready` (200 or 503 with the reasons) next to `/metrics` and `/health` (`windhash_common.probe_server`).

Liveness is separate: `/health` is 200 while the event loop keeps beating (`heartbeat`), whatever the
dependencies do, so an orchestrator restarts a wedged process but never one that is waiting out an outage.
"""

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass

import structlog
from prometheus_client import Counter, Gauge

log = structlog.get_logger(__name__)

DEPENDENCY_UP = Gauge(
    "windhash_dependency_up", "1 while the service can reach the dependency", ["service", "dependency"]
)
RETRIES = Counter(
    "windhash_dependency_retries_total",
    "Operations retried because a dependency was unavailable, by dependency",
    ["dependency"],
)
READY = Gauge("windhash_ready", "1 while every dependency of the service is reachable", ["service"])
# A loop that has not beaten for this long is wedged: /health fails.
HEARTBEAT_STALE_SECONDS = 60.0

Probe = Callable[[], Awaitable[object]]


@dataclass
class DependencyState:
    up: bool = True
    reason: str | None = None
    since: float = 0.0


class Readiness:
    def __init__(self, service: str, dependencies: Iterable[str]) -> None:
        self.service = service
        now = time.monotonic()
        self._states = {name: DependencyState(since=now) for name in dependencies}
        self._beat: float | None = None
        for name in self._states:
            DEPENDENCY_UP.labels(service=service, dependency=name).set(1)
            RETRIES.labels(dependency=name)  # exported at 0 from the start
        READY.labels(service=service).set(1)

    @property
    def ready(self) -> bool:
        return all(state.up for state in self._states.values())

    @property
    def alive(self) -> bool:
        return self._beat is None or time.monotonic() - self._beat < HEARTBEAT_STALE_SECONDS

    def heartbeat(self) -> None:
        self._beat = time.monotonic()

    def down(self, dependency: str, reason: str) -> None:
        state = self._states.setdefault(dependency, DependencyState())
        if state.up:
            log.warning("dependency down", service=self.service, dependency=dependency, reason=reason[:300])
            state.since = time.monotonic()
        state.up, state.reason = False, reason[:500]
        self._export(dependency)

    def up(self, dependency: str) -> None:
        state = self._states.setdefault(dependency, DependencyState())
        if not state.up:
            log.info(
                "dependency back", service=self.service, dependency=dependency,
                after_seconds=round(time.monotonic() - state.since, 1),
            )  # fmt: skip
            state.since = time.monotonic()
        state.up, state.reason = True, None
        self._export(dependency)

    def report(self) -> dict[str, object]:
        return {
            "service": self.service,
            "ready": self.ready,
            "dependencies": {
                name: {"up": state.up, **({"reason": state.reason} if state.reason else {})}
                for name, state in sorted(self._states.items())
            },
        }

    def _export(self, dependency: str) -> None:
        DEPENDENCY_UP.labels(service=self.service, dependency=dependency).set(
            1 if self._states[dependency].up else 0
        )
        READY.labels(service=self.service).set(1 if self.ready else 0)


async def run_probes(
    readiness: Readiness,
    probes: Mapping[str, Probe],
    stop: asyncio.Event,
    interval_seconds: float = 5.0,
    timeout_seconds: float = 5.0,
) -> None:
    """Until `stop`: beat the heartbeat and run each dependency's probe, reporting what it finds."""
    while not stop.is_set():
        readiness.heartbeat()
        for dependency, probe in probes.items():
            try:
                async with asyncio.timeout(timeout_seconds):
                    await probe()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                readiness.down(dependency, f"probe: {error!r}")
            else:
                readiness.up(dependency)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval_seconds)
