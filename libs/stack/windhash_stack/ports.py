"""Ports for servers that a test, a benchmark or the stack starts as separate processes.

Binding port 0 finds a port in the kernel's ephemeral range, and in the moment before the server binds it any
outgoing connection (a Kafka or PostgreSQL client) may be given the same port: an API under test once failed
with "address already in use" that way. These ports come from below the ephemeral range and above the local
stack's fixed ports, where only a listener can take them, drawn at random so concurrent processes rarely meet,
and never handed out twice by one process.
"""

import random
import socket
from pathlib import Path

from windhash_stack.errors import StackError

_EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_LINUX_EPHEMERAL_START = 32768
# The local stack's fixed ports (8080, 9101-9103, 15432, 18000, 18080, 19090, 19092-19093) lie below.
_LOWEST = 20000
_ATTEMPTS = 200
_handed_out: set[int] = set()


def _ephemeral_start() -> int:
    try:
        return int(_EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return _LINUX_EPHEMERAL_START


def _bindable(host: str, port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    """A port on `host` that nothing listens on, outside the range outgoing connections draw from."""
    highest = _ephemeral_start() - 1
    if highest <= _LOWEST:
        raise StackError(
            f"the ephemeral port range starts at {highest + 1}: no room below it for test servers"
        )
    for _ in range(_ATTEMPTS):
        port = random.randint(_LOWEST, highest)
        if port not in _handed_out and _bindable(host, port):
            _handed_out.add(port)
            return port
    raise StackError(f"no free port between {_LOWEST} and {highest} after {_ATTEMPTS} tries")
