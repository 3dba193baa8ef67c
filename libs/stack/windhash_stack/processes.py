"""Detached server processes: started in their own session with a pid file, stopped with their descendants."""

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

# Servers started by this very process: kept so they can be reaped (no zombies, no ResourceWarning).
_CHILDREN: dict[int, "subprocess.Popen[bytes]"] = {}


@dataclass(frozen=True)
class RunAs:
    """An unprivileged OS account to run a server under (PostgreSQL refuses to run as root)."""

    uid: int
    gid: int


def launch(
    command: Sequence[str],
    *,
    log_file: Path,
    pid_file: Path,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    run_as: RunAs | None = None,
) -> int:
    """Start `command` detached from us (own session, so it outlives the CLI and ignores our Ctrl-C)."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=dict(env) if env is not None else None,
            start_new_session=True,
            user=run_as.uid if run_as else None,
            group=run_as.gid if run_as else None,
            extra_groups=[] if run_as else None,
        )
    _CHILDREN[process.pid] = process
    pid_file.write_text(f"{process.pid}\n")
    return process.pid


def read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def _reap(pid: int) -> None:
    # A server we launched from this very process stays a zombie (and "alive" to kill(0)) until waited for;
    # its Popen is kept after it exits, so its exit status can still be told.
    child = _CHILDREN.get(pid)
    if child is not None:
        child.poll()
        return
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def is_alive(pid: int, marker: str) -> bool:
    """True when `pid` is a server of this stack that still runs.

    A child of this very process is asked through waitpid: its pid cannot be recycled while it is unreaped, so
    the answer is exact. Any other pid counts only while its command line holds `marker` (a path of this
    stack), so a recycled pid belonging to some other program is never mistaken for our server."""
    own = _CHILDREN.get(pid)
    if own is not None:
        # Our own child is judged by waitpid, not by /proc: Popen returns as soon as exec has replaced the
        # program, before the kernel has laid out the new program's arguments, so its cmdline can still read
        # empty then (a Kafka that had just started was once taken for dead that way, failing a whole CI run).
        return own.poll() is None
    _reap(pid)
    proc = Path(f"/proc/{pid}")
    try:
        state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z" and marker in cmdline


def exit_status(pid: int) -> str | None:
    """How a process this very process launched ended ("exited with code 1", "was killed by SIGKILL"); None
    while it runs or when it is not our child."""
    child = _CHILDREN.get(pid)
    code = None if child is None else child.poll()
    if code is None:
        return None
    if code < 0:
        return f"was killed by {signal.Signals(-code).name}"
    return f"exited with code {code}"


def _ppid(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
        return None


def process_tree(root: int) -> set[int]:
    """`root` and all its descendants. PostgreSQL's children call setsid(), so a process group misses them."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            parent = _ppid(int(entry.name))
            if parent is not None:
                children.setdefault(parent, []).append(int(entry.name))
    found, pending = set(), [root]
    while pending:
        pid = pending.pop()
        if pid not in found:
            found.add(pid)
            pending.extend(children.get(pid, []))
    return found


def is_running(pid: int) -> bool:
    """True unless `pid` is gone or a zombie (a zombie is reaped here when it is our child)."""
    _reap(pid)
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z"


def _wait_gone(pids: set[int], timeout_s: float) -> set[int]:
    deadline = time.monotonic() + timeout_s
    left = {pid for pid in pids if is_running(pid)}
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = {pid for pid in left if is_running(pid)}
    return left


def stop_tree(pid: int, graceful_signal: signal.Signals, timeout_s: float) -> bool:
    """Ask the server `pid` to stop, then SIGKILL it, its process group and its descendants if any is left
    after `timeout_s`. Returns True when it stopped gracefully."""
    tree = process_tree(pid)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, graceful_signal)
    left = _wait_gone(tree, timeout_s)
    if not left:
        return True
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    for straggler in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(straggler, signal.SIGKILL)
    _wait_gone(left, 10.0)
    return False


def port_open(host: str, port: int, timeout_s: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def tail(path: Path, lines: int) -> str:
    if not path.is_file():
        return ""
    with path.open("rb") as file:
        file.seek(0, os.SEEK_END)
        size = file.tell()
        file.seek(max(0, size - 256 * lines))
        text = file.read().decode(errors="replace")
    return "\n".join(text.splitlines()[-lines:])
