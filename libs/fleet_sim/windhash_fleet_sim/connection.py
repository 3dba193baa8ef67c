"""One connection to a simulated miner, as cgminer handles it: read one JSON request, write the reply and a
NUL byte, close. Faults change the answer here: slow answers wait, malformed ones are broken on the way out.

An asyncio Protocol rather than streams: at 60,000 miners polled once a minute the simulator answers ~1,000
connections a second, and a protocol object per connection is the cheapest Python can do it.
"""

import asyncio
import json
import math
from typing import Any, cast

from windhash_fleet_sim.replies import encode, error_reply, request_reply
from windhash_fleet_sim.sim_miner import MalformedKind, SimMiner

MAX_REQUEST_BYTES = 8192
REQUEST_TIMEOUT_S = 10.0
HUGE_REPLY_BYTES = 2 * 1024 * 1024


def _with_nan(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: math.nan if key in ("GHS 5s", "Watts", "temp_max") else _with_nan(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_with_nan(item) for item in value]
    return value


def _without_status(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _without_status(item) for key, item in value.items() if key != "STATUS"}
    if isinstance(value, list):
        return [_without_status(item) for item in value]
    return value


def malformed(reply: dict[str, Any], kind: MalformedKind) -> bytes:
    """The reply broken as a faulty firmware or a flaky link breaks it."""
    good = encode(reply)
    if kind == "truncated":
        return good[: len(good) // 2]
    if kind == "garbage":
        return b"\xff\xfe\x00garbage\x00"
    if kind == "nan":
        return json.dumps(_with_nan(reply)).encode() + b"\0"
    if kind == "no_status":
        return encode(_without_status(reply))
    return encode({**reply, "padding": "x" * HUGE_REPLY_BYTES})


class MinerConnection(asyncio.Protocol):
    def __init__(self, miner: SimMiner, on_answer: "AnswerCounter") -> None:
        self.miner = miner
        self.on_answer = on_answer
        self.buffer = bytearray()
        self.answered = False
        self.transport: asyncio.Transport | None = None
        self.timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports are not its subclasses
        self.timer = asyncio.get_running_loop().call_later(REQUEST_TIMEOUT_S, self.transport.abort)

    def data_received(self, data: bytes) -> None:
        if self.answered:
            return
        self.buffer += data
        if len(self.buffer) > MAX_REQUEST_BYTES:
            self._answer(error_reply(23, "Request too large"))
            return
        try:
            request = json.loads(self.buffer)
        except ValueError:
            return  # not complete yet; more bytes or the end of the stream will tell
        self._answer(
            request_reply(self.miner, request)
            if isinstance(request, dict)
            else error_reply(23, "Invalid JSON")
        )

    def eof_received(self) -> bool:
        if not self.answered:
            self._answer(error_reply(23, "Invalid JSON"))
        return True  # keep the transport open for the (possibly delayed) reply; _send closes it

    def connection_lost(self, exc: Exception | None) -> None:
        if self.timer is not None:
            self.timer.cancel()

    def _answer(self, reply: dict[str, Any]) -> None:
        self.answered = True
        faults = self.miner.faults
        payload = encode(reply) if faults.malformed is None else malformed(reply, faults.malformed)
        self.on_answer.count(faults.malformed is not None)
        if faults.slow_s > 0:
            asyncio.get_running_loop().call_later(faults.slow_s, self._send, payload)
        else:
            self._send(payload)

    def _send(self, payload: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(payload)
            self.transport.close()


class AnswerCounter:
    """How many requests the simulator answered, and how many of them on purpose malformed."""

    def __init__(self) -> None:
        self.answered = 0
        self.malformed = 0

    def count(self, malformed_reply: bool) -> None:
        self.answered += 1
        self.malformed += malformed_reply
