"""A client of the cgminer RPC API, as ASIC firmwares (cgminer, bmminer, LuxOS, BOSminer) serve it.

The protocol: open a TCP connection to the miner (port 4028 by default), send one JSON object
`{"command": "summary", "parameter": "..."}`, read the reply until the miner closes the connection; the reply
is a JSON object, usually followed by a NUL byte. Commands may be joined with `+` ("summary+stats"): the reply
then holds one list per command, `{"summary": [{...}], "stats": [{...}], "id": 1}`. Every reply object carries
a `STATUS` section, `[{"STATUS": "S"|"I"|"W"|"E"|"F", "Code": n, "Msg": "...", ...}]`: S(uccess), I(nfo) and
W(arning) answered the command, E(rror) and F(atal) did not.

Everything the miner controls is bounded: one deadline covers connecting, writing and reading; a reply larger
than `max_reply_bytes` is refused without reading further. A reply that is not what the protocol says (not
UTF-8, not JSON, NaN or Infinity where a number belongs, no STATUS, an error STATUS) is an `RpcError` whose
`reason` says which; nothing is repaired or guessed.
"""

import asyncio
import json
from dataclasses import dataclass
from typing import Any, Final, Literal

DEFAULT_PORT: Final = 4028
DEFAULT_TIMEOUT_S: Final = 5.0
# Real replies are a few kB (a LuxOS `stats` of a 3-board S19 is ~3 kB); 256 kB leaves room for large `devs`.
DEFAULT_MAX_REPLY_BYTES: Final = 256 * 1024
_READ_CHUNK: Final = 16 * 1024
_OK_STATUSES: Final = frozenset({"S", "I", "W"})

RpcFailure = Literal[
    "refused",  # nothing listens there, or the connection was reset before a reply
    "timeout",  # the deadline passed while connecting, writing or reading
    "too_large",  # the reply exceeded max_reply_bytes
    "empty",  # the miner closed the connection without a byte
    "not_utf8",
    "not_json",
    "not_finite",  # NaN or Infinity in the reply
    "bad_shape",  # JSON, but not the protocol's shape (no object, no STATUS, a command's section missing)
    "error_status",  # the miner answered with STATUS E or F
]


class RpcError(Exception):
    """A call that did not produce a valid reply; `reason` is one of `RpcFailure` (a metric label)."""

    def __init__(self, reason: RpcFailure, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason: RpcFailure = reason
        self.detail = detail


@dataclass(frozen=True)
class MinerEndpoint:
    host: str
    port: int = DEFAULT_PORT

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


def _refuse_constant(name: str) -> float:
    raise RpcError("not_finite", f"{name} is not a number")


def parse_reply(raw: bytes) -> dict[str, Any]:
    """The reply object of `raw` (with or without its trailing NUL), or RpcError saying what is wrong."""
    if not raw:
        raise RpcError("empty", "the miner closed the connection without replying")
    body = raw[:-1] if raw.endswith(b"\0") else raw
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise RpcError("not_utf8", f"byte {error.start} is not UTF-8") from None
    try:
        reply = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        raise RpcError("not_json", f"{error.msg} at character {error.pos}") from None
    if not isinstance(reply, dict):
        raise RpcError("bad_shape", f"the reply is a JSON {type(reply).__name__}, not an object")
    return reply


def check_status(reply: dict[str, Any], command: str) -> dict[str, Any]:
    """`reply` if its STATUS says the command was answered; RpcError otherwise."""
    status = reply.get("STATUS")
    if not isinstance(status, list) or not status or not isinstance(status[0], dict):
        raise RpcError("bad_shape", f"{command}: no STATUS section")
    code = status[0].get("STATUS")
    if code not in _OK_STATUSES:
        message = str(status[0].get("Msg", ""))[:200]
        raise RpcError(
            "error_status", f"{command}: STATUS {code!s:.10} code {status[0].get('Code')}: {message}"
        )
    return reply


def split_multi_reply(reply: dict[str, Any], commands: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """The per-command reply objects of a joined command's reply, each with its STATUS checked."""
    if len(commands) == 1:
        return {commands[0]: check_status(reply, commands[0])}
    parts: dict[str, dict[str, Any]] = {}
    for command in commands:
        section = reply.get(command)
        if not isinstance(section, list) or not section or not isinstance(section[0], dict):
            # A miner that cannot join these commands answers the whole request with one error STATUS.
            if "STATUS" in reply:
                check_status(reply, "+".join(commands))
            raise RpcError("bad_shape", f"{command}: missing from the joined reply")
        parts[command] = check_status(section[0], command)
    return parts


class CgminerRpc:
    """Calls over the cgminer RPC API: one connection per call, a deadline and a size bound on each."""

    def __init__(
        self, timeout_s: float = DEFAULT_TIMEOUT_S, max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES
    ) -> None:
        if timeout_s <= 0 or max_reply_bytes <= 0:
            raise ValueError("the timeout and the reply bound must be positive")
        self.timeout_s = timeout_s
        self.max_reply_bytes = max_reply_bytes

    async def command(
        self, endpoint: MinerEndpoint, command: str, parameter: str | None = None
    ) -> dict[str, Any]:
        """One command's reply object, its STATUS checked."""
        return (await self.commands(endpoint, (command,), parameter))[command]

    async def commands(
        self, endpoint: MinerEndpoint, commands: tuple[str, ...], parameter: str | None = None
    ) -> dict[str, dict[str, Any]]:
        """Several commands in one request (`a+b`, one connection): each command's reply object."""
        if not commands or any(not name or "+" in name or "|" in name for name in commands):
            raise ValueError(f"not a list of command names: {commands!r}")
        request: dict[str, str] = {"command": "+".join(commands)}
        if parameter is not None:
            request["parameter"] = parameter
        raw = await self.exchange(endpoint, json.dumps(request).encode())
        return split_multi_reply(parse_reply(raw), commands)

    async def summary(self, endpoint: MinerEndpoint) -> dict[str, Any]:
        return await self.command(endpoint, "summary")

    async def stats(self, endpoint: MinerEndpoint) -> dict[str, Any]:
        return await self.command(endpoint, "stats")

    async def devs(self, endpoint: MinerEndpoint) -> dict[str, Any]:
        return await self.command(endpoint, "devs")

    async def pools(self, endpoint: MinerEndpoint) -> dict[str, Any]:
        return await self.command(endpoint, "pools")

    async def exchange(self, endpoint: MinerEndpoint, request: bytes) -> bytes:
        """Send `request`, return the raw reply (up to its NUL): bounded in time and size."""
        try:
            async with asyncio.timeout(self.timeout_s):
                return await self._exchange(endpoint, request)
        except TimeoutError:
            raise RpcError(
                "timeout", f"no complete reply from {endpoint} within {self.timeout_s:g} s"
            ) from None

    async def _exchange(self, endpoint: MinerEndpoint, request: bytes) -> bytes:
        try:
            reader, writer = await asyncio.open_connection(endpoint.host, endpoint.port, limit=_READ_CHUNK)
        except OSError as error:
            raise RpcError("refused", f"{endpoint}: {error.strerror or error}") from None
        try:
            writer.write(request)
            await writer.drain()
            return await self._read_reply(reader, endpoint)
        except (ConnectionResetError, BrokenPipeError) as error:
            raise RpcError("refused", f"{endpoint}: {error.strerror or error}") from None
        finally:
            writer.close()

    async def _read_reply(self, reader: asyncio.StreamReader, endpoint: MinerEndpoint) -> bytes:
        received = bytearray()
        while True:
            chunk = await reader.read(_READ_CHUNK)
            if not chunk:
                return bytes(received)
            end = chunk.find(b"\0")
            if end >= 0:
                chunk = chunk[: end + 1]
            if len(received) + len(chunk) > self.max_reply_bytes:
                raise RpcError("too_large", f"{endpoint} sent more than {self.max_reply_bytes} bytes")
            received += chunk
            if end >= 0:
                return bytes(received)
