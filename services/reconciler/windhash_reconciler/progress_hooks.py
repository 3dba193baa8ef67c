"""How long-running reconciliation work reports its progress (the CLI draws a rich progress bar from it)."""

from typing import Protocol


class RepairProgress(Protocol):
    def start(self, phase: str, total: int | None) -> None:
        """A new phase begins, with `total` steps (None: unknown)."""

    def advance(self, steps: int = 1) -> None: ...


class SilentProgress:
    def start(self, phase: str, total: int | None) -> None:
        return None

    def advance(self, steps: int = 1) -> None:
        return None
