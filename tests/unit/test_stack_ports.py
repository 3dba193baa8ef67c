"""Ports for servers started as separate processes come from outside the ephemeral range, where an outgoing
connection could take them before the server binds (an API under test once failed with "address in use")."""

import socket
from pathlib import Path

import pytest
from windhash_stack import ports
from windhash_stack.errors import StackError
from windhash_stack.ports import free_port


def test_ports_lie_below_the_ephemeral_range_are_free_and_never_handed_out_twice() -> None:
    ephemeral_start = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    handed = [free_port() for _ in range(50)]

    assert len(set(handed)) == len(handed)
    assert all(20000 <= port < ephemeral_start for port in handed)
    with socket.socket() as server:
        server.bind(("127.0.0.1", handed[0]))  # free: a server can take it


def test_a_port_with_a_listener_is_never_handed_out(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    taken = free_port()
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", taken))
        listener.listen()
        # A range that leaves only `taken` and the port after it: the one with a listener is skipped.
        (tmp_path / "range").write_text(f"{taken + 2}\t60999\n")
        monkeypatch.setattr(ports, "_EPHEMERAL_RANGE", tmp_path / "range")
        monkeypatch.setattr(ports, "_LOWEST", taken)
        monkeypatch.setattr(ports, "_handed_out", set())
        assert free_port() == taken + 1
        with pytest.raises(StackError, match=f"no free port between {taken} and {taken + 1}"):
            free_port()


def test_an_ephemeral_range_that_leaves_no_room_is_reported(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "range").write_text("1024\t65535\n")
    monkeypatch.setattr(ports, "_EPHEMERAL_RANGE", tmp_path / "range")
    with pytest.raises(StackError, match="ephemeral port range starts at 1024"):
        free_port()
