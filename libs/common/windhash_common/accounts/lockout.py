"""Brute-force defence: how long repeated failures lock an email or an address out (pure)."""

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class LockoutPolicy:
    failures_allowed: int
    base: timedelta
    longest: timedelta


def locked_until(failures: int, last_failure: datetime | None, policy: LockoutPolicy) -> datetime | None:
    """After `failures_allowed` failures, each further one doubles the lock from `base`, up to `longest`:
    the n-th failure (n ≥ allowed) locks until last_failure + base × 2^(n − allowed)."""
    if last_failure is None or failures < policy.failures_allowed:
        return None
    doublings = min(failures - policy.failures_allowed, 30)
    lock: timedelta = min(policy.base * (2**doublings), policy.longest)
    return last_failure + lock
