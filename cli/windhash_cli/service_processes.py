"""The windhash services as child processes: started with an environment, logged to files, stopped cleanly.

The demo, the end-to-end tests and the chaos tests all run the real system this way, one OS process per
service, exactly as an operator would: each service connects to PostgreSQL as its own role
(windhash_common.db_roles.COMMAND_ROLES), whatever role the DSN it was given names.
"""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from windhash_common.db_roles import dsn_as, role_of_command

WINDHASH = [sys.executable, "-m", "windhash_cli"]


def as_service_role(command: str, env: dict[str, str]) -> dict[str, str]:
    """`env` with WINDHASH_DATABASE_URL naming the database role of `windhash <command>` (least privilege)."""
    role = role_of_command(command)
    dsn = env.get("WINDHASH_DATABASE_URL")
    if role is None or dsn is None:
        return env
    return {**env, "WINDHASH_DATABASE_URL": dsn_as(dsn, role)}


@dataclass
class ServiceProcess:
    name: str
    args: list[str]
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    # Stopped on purpose (`stop`): how it then ended is no failure, even when the signal came before the
    # process had installed its handler (it then ends with -SIGTERM).
    stopped: bool = False

    def start(self) -> None:
        self.stopped = False
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [*WINDHASH, *self.args],
                env=as_service_role(self.args[0], {**os.environ, **self.env}),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: the crash the chaos tests inflict."""
        if self.process is not None and self.running:
            self.process.kill()
            self.process.wait()

    def stop(self, timeout: float = 15.0) -> int | None:
        if self.process is None:
            return None
        self.stopped = True
        if self.running:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class ServiceProcesses:
    """A set of service processes sharing one environment."""

    env: Mapping[str, str]
    log_dir: Path
    services: dict[str, ServiceProcess] = field(default_factory=dict)

    def start(self, name: str, *args: str, extra_env: Mapping[str, str] | None = None) -> ServiceProcess:
        service = ServiceProcess(
            name=name,
            args=list(args) or [name],
            env={**self.env, **(extra_env or {})},
            log_path=self.log_dir / f"{name}.log",
        )
        service.start()
        self.services[name] = service
        return service

    def check_alive(self) -> None:
        for service in self.services.values():
            if service.stopped or service.process is None or service.running:
                continue
            if service.process.returncode != 0:
                raise RuntimeError(
                    f"service {service.name} exited with {service.process.returncode}:\n{service.log_tail()}"
                )

    def stop_all(self) -> None:
        for service in reversed(list(self.services.values())):
            service.stop()


def wait_for_http(url: str, timeout: float, processes: ServiceProcesses | None = None) -> None:
    """Wait until `url` answers 200, failing early with the logs when a service died."""
    deadline = time.monotonic() + timeout
    while True:
        if processes is not None:
            processes.check_alive()
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")
        time.sleep(0.3)
