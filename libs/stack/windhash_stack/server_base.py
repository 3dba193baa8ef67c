"""What the stack needs to know about each server: how to prepare, start, probe and stop it."""

import signal
from abc import ABC, abstractmethod
from pathlib import Path

from windhash_stack.endpoints import Server
from windhash_stack.processes import RunAs
from windhash_stack.settings import StackSettings


class ServerFiles:
    """A server process's files in its home under the stack's state dir: its pid file and its log."""

    @property
    def home(self) -> Path:
        raise NotImplementedError

    @property
    def pid_file(self) -> Path:
        return self.home / "server.pid"

    @property
    def log_file(self) -> Path:
        return self.home / "server.log"


class ManagedServer(ABC, ServerFiles):
    server: Server
    # The signal that asks for a clean shutdown; SIGKILL follows after the stop timeout.
    graceful_signal: signal.Signals = signal.SIGTERM

    def __init__(self, settings: StackSettings) -> None:
        self.settings = settings

    @property
    def name(self) -> str:
        """How status and errors name this process (a Kafka cluster's nodes: kafka-1, kafka-2, ...)."""
        return self.server.value

    @property
    def home(self) -> Path:
        return self.settings.state_dir / self.server.value

    @property
    @abstractmethod
    def marker(self) -> str:
        """A path of this stack that appears on the server's command line (to recognise our process)."""

    @property
    @abstractmethod
    def port(self) -> int:
        """The port clients connect to."""

    @property
    @abstractmethod
    def endpoint(self) -> str:
        """What a client is given: bootstrap servers, DSN or URL."""

    @abstractmethod
    def check_prerequisites(self) -> None:
        """Raise MissingPrerequisite before anything starts, so a failed `up` leaves nothing half-started."""

    @abstractmethod
    def prepare(self) -> list[str]:
        """Blocking set-up before a start (jars, storage format, initdb); returns first-time steps done."""

    @abstractmethod
    def command(self) -> list[str]:
        """The command line that runs the server in the foreground."""

    @abstractmethod
    async def probe(self, timeout_s: float) -> None:
        """Raise unless a real client can use the server right now."""

    async def configure(self, timeout_s: float) -> list[str]:
        """After every start (and on `up` of one already running): bring the running server to the state
        the stack promises (PostgreSQL's roles and password authentication); returns first-time steps."""
        return []

    def run_as(self) -> RunAs | None:
        return None

    @property
    def cwd(self) -> Path:
        return self.home
