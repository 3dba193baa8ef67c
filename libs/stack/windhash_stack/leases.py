"""Leases: which test sessions are using a shared stack, so the last one out stops what tests started.

Several developers and test sessions share one state dir. A session that found the stack down starts it,
but must not stop it under another session still running tests; each session therefore holds a lease (a file
named by its pid) and whoever releases the last live lease stops the servers that test sessions started.
A stack started by hand with `windhash stack up` is never recorded here, so tests never stop it.
"""

import os
from pathlib import Path

from windhash_stack.endpoints import Server


class Leases:
    def __init__(self, state_dir: Path) -> None:
        self.folder = state_dir / "leases"
        self._started_file = self.folder / "started-by-tests"

    def _own(self) -> Path:
        return self.folder / str(os.getpid())

    def take(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._own().write_text("")

    def drop(self) -> None:
        self._own().unlink(missing_ok=True)

    def others_alive(self) -> bool:
        if not self.folder.is_dir():
            return False
        for entry in self.folder.iterdir():
            if entry.name.isdigit() and int(entry.name) != os.getpid():
                if _pid_running(int(entry.name)):
                    return True
                entry.unlink(missing_ok=True)  # a session that crashed without releasing
        return False

    def record_started(self, servers: tuple[Server, ...]) -> None:
        known = self.started()
        self.folder.mkdir(parents=True, exist_ok=True)
        self._started_file.write_text("".join(f"{server.value}\n" for server in sorted({*known, *servers})))

    def started(self) -> set[Server]:
        if not self._started_file.is_file():
            return set()
        return {Server(line) for line in self._started_file.read_text().split() if line}

    def forget_started(self) -> None:
        self._started_file.unlink(missing_ok=True)


def _pid_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
