"""What the monitoring servers of the stack (Prometheus, Alertmanager, the PostgreSQL exporter) share: a
process started detached, its files under <state_dir>/<name>, reached over HTTP on the stack's host, stopped
by its pid, and waited for until its readiness probe answers (or it exits, with the end of its log)."""

import asyncio
import signal
import time
from pathlib import Path

import httpx

from windhash_stack.errors import StackError
from windhash_stack.processes import exit_status, is_alive, read_pid, stop_tree, tail
from windhash_stack.server_base import ServerFiles
from windhash_stack.settings import StackSettings

_POLL_S = 0.25


class DetachedHttpServer(ServerFiles):
    settings: StackSettings
    name: str
    port: int

    @property
    def home(self) -> Path:
        return self.settings.state_dir / self.name

    @property
    def url(self) -> str:
        return f"http://{self.settings.host}:{self.port}"

    @property
    def marker(self) -> str:
        """Text on its command line that only our process has (a recycled pid is never taken for ours)."""
        raise NotImplementedError

    def running_pid(self) -> int | None:
        pid = read_pid(self.pid_file)
        return pid if pid is not None and is_alive(pid, self.marker) else None

    async def probe(self) -> None:
        """Raise an httpx.HTTPError unless the server answers that it is ready."""
        raise NotImplementedError

    async def stop(self) -> bool:
        """Stop the server if it runs; True when it was running. Its data stays under the state dir."""
        pid = self.running_pid()
        if pid is not None:
            await asyncio.to_thread(stop_tree, pid, signal.SIGTERM, self.settings.stop_timeout_s)
        self.pid_file.unlink(missing_ok=True)
        return pid is not None

    async def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.settings.startup_timeout_s
        last_error: Exception | None = None
        launched = read_pid(self.pid_file)
        while time.monotonic() < deadline:
            how = exit_status(launched) if launched is not None else None
            if how is not None or (launched is None and self.running_pid() is None):
                raise StackError(
                    f"{self.name} {how or 'exited'} while starting; the end of {self.log_file}:\n"
                    f"{tail(self.log_file, 25)}"
                )
            try:
                await self.probe()
                return
            except httpx.HTTPError as error:  # not listening or not ready yet
                last_error = error
            await asyncio.sleep(_POLL_S)
        raise StackError(
            f"{self.name} did not become ready within {self.settings.startup_timeout_s:.0f} s "
            f"(last error: {last_error!r}); the end of {self.log_file}:\n{tail(self.log_file, 25)}"
        )
