"""How the stack tells whether a server it launched runs, and what it leaves behind when a start fails.

Real processes (sleep, sh, a tiny Python TCP server), no Kafka: these are the decisions that once failed a
whole CI run, when a broker that had just been exec'd was taken for dead.
"""

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from windhash_stack.endpoints import Server
from windhash_stack.errors import StackError
from windhash_stack.local_stack import LocalStack
from windhash_stack.ports import free_port
from windhash_stack.processes import exit_status, is_alive, launch, port_open, read_pid, stop_tree
from windhash_stack.server_base import ManagedServer
from windhash_stack.settings import StackSettings


def _wait_until_gone(pid: int, marker: str, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while is_alive(pid, marker):
        assert time.monotonic() < deadline, f"{pid} still alive"
        time.sleep(0.02)


def test_a_launched_server_counts_as_alive_before_its_command_line_shows(tmp_path: Path) -> None:
    # Right after exec the kernel may not have laid out the new program's arguments yet: a marker that is not
    # on the command line stands in for that window, and our own child must still count as running.
    pid = launch(["sleep", "30"], log_file=tmp_path / "log", pid_file=tmp_path / "pid", cwd=tmp_path)
    try:
        assert is_alive(pid, "/a/marker/not/on/the/command/line")
        assert exit_status(pid) is None
    finally:
        stop_tree(pid, signal.SIGTERM, 5.0)
    assert not is_alive(pid, "sleep")
    assert exit_status(pid) == "was killed by SIGTERM"


def test_the_exit_code_of_a_server_that_died_is_told(tmp_path: Path) -> None:
    pid = launch(["sh", "-c", "exit 3"], log_file=tmp_path / "log", pid_file=tmp_path / "pid", cwd=tmp_path)
    _wait_until_gone(pid, "sh")
    assert exit_status(pid) == "exited with code 3"


def test_a_process_we_did_not_launch_is_recognised_by_its_command_line_marker(tmp_path: Path) -> None:
    marker = str(tmp_path / "server.properties")
    other = subprocess.Popen(["sh", "-c", "sleep 30", marker])  # the marker is $0, as a path argument
    try:
        deadline = time.monotonic() + 5
        while not is_alive(other.pid, marker):  # its arguments appear a moment after exec
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert not is_alive(other.pid, str(tmp_path / "another.properties"))
        assert exit_status(other.pid) is None  # not our child: nothing to tell
    finally:
        other.kill()
        other.wait()
    assert not is_alive(other.pid, marker)


class _ScriptServer(ManagedServer):
    """A stand-in server: a shell or Python one-liner listening (or not) on a free port."""

    def __init__(self, settings: StackSettings, server: Server, script: list[str], port: int) -> None:
        super().__init__(settings)
        self.server = server
        self._script = script
        self._port = port

    @property
    def marker(self) -> str:
        return str(self.home)

    @property
    def port(self) -> int:
        return self._port

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self._port}"

    def check_prerequisites(self) -> None:
        return None

    def prepare(self) -> list[str]:
        self.home.mkdir(parents=True, exist_ok=True)
        return []

    def command(self) -> list[str]:
        return [*self._script, self.marker]

    async def probe(self, timeout_s: float) -> None:
        socket.create_connection(("127.0.0.1", self._port), timeout=timeout_s).close()


def _listener(port: int) -> list[str]:
    code = f"import socket, sys, time\ns = socket.create_server(('127.0.0.1', {port}))\ntime.sleep(60)\n"
    return [sys.executable, "-c", code]


async def test_a_failed_start_names_how_the_server_ended_and_stops_what_it_started(tmp_path: Path) -> None:
    settings = StackSettings(state_dir=tmp_path, startup_timeout_s=20.0)
    stack = LocalStack(settings)
    good_port, bad_port = free_port(), free_port()
    good = _ScriptServer(settings, Server.POSTGRES, _listener(good_port), good_port)
    refuses = ["sh", "-c", "echo broker refused to start; exit 4"]
    bad = _ScriptServer(settings, Server.KAFKA, refuses, bad_port)
    stack._servers = {Server.KAFKA: bad, Server.POSTGRES: good}

    with pytest.raises(StackError, match=r"kafka exited with code 4 while starting") as failure:
        await stack.start([Server.KAFKA, Server.POSTGRES])
    assert "broker refused to start" in str(failure.value)
    # The server that did come up was this call's own: it is stopped again, its port free, no pid left.
    assert read_pid(good.pid_file) is None
    assert not port_open("127.0.0.1", good_port)
    assert stack.pids() == {}
