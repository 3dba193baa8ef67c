"""Where a process listens: its listening TCP sockets, read from /proc (Linux), so a test or `stack status`
can show that a server listens only on the address it was configured with."""

import ipaddress
import os
from pathlib import Path

_LISTEN = "0A"


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for entry in os.scandir(f"/proc/{pid}/fd"):
        try:
            target = str(Path(entry.path).readlink())
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def _address(hex_address: str) -> str:
    raw = bytes.fromhex(hex_address)
    # /proc/net/tcp{,6} write each 32-bit word of the address in host (little-endian) order
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    address = ipaddress.ip_address(words)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)  # a Java server bound to 127.0.0.1 shows as ::ffff:127.0.0.1
    return str(address)


def listening_addresses(pid: int) -> set[tuple[str, int]]:
    """The (address, port) of every TCP socket process `pid` listens on."""
    inodes = _socket_inodes(pid)
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == _LISTEN and inode in inodes:
                hex_address, hex_port = local.split(":")
                found.add((_address(hex_address), int(hex_port, 16)))
    return found


def is_only(addresses: set[tuple[str, int]], host: str) -> bool:
    """Whether there is an address and every one is `host`."""
    return bool(addresses) and all(address == host for address, _ in addresses)
