"""How the synthetic server's answers travel: whole, or in pieces for the faults that shape the bytes
(a gzip bomb, an oversized body without a Content-Length, a reply trickling a byte at a time)."""

import asyncio
import functools
import zlib
from dataclasses import dataclass

from starlette.types import Receive, Send

from windhash_elexon_sim.faults import FaultRule

SYNTHETIC_HEADER = "X-Windhash-Synthetic"
SYNTHETIC_LABEL = (SYNTHETIC_HEADER.lower().encode(), b"true")
JSON_HEADER = (b"content-type", b"application/json")


@dataclass(frozen=True, slots=True)
class Answer:
    """A JSON response of the Elexon endpoints, before it is sent either way. `chunk` and `pause_s`: sent in
    pieces of that many bytes with that pause between them, without a Content-Length (faults only)."""

    status: int
    body: bytes
    headers: tuple[tuple[bytes, bytes], ...] = ()
    chunk: int = 0
    pause_s: float = 0.0


_OVERSIZED_CHUNK = 64 * 1024


@functools.lru_cache(maxsize=4)
def _gzip_of_zeros(size: int) -> bytes:
    """A gzip member that inflates to `size` zero bytes (about a thousandth of that compressed)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1024 * 1024)
    parts = []
    left = size
    while left > 0:
        parts.append(compressor.compress(block[: min(left, len(block))]))
        left -= len(block)
    parts.append(compressor.flush())
    return b"".join(parts)


async def prepare_fault(rule: FaultRule) -> None:
    """Make what a fault will serve before it is armed: compressing a large gzip bomb takes seconds of CPU,
    which inside the request would look like a server too slow to answer instead of a bomb."""
    if rule.kind == "gzip_bomb":
        await asyncio.to_thread(_gzip_of_zeros, rule.size)


def streaming_fault(rule: FaultRule, body: bytes) -> Answer | None:
    """The answer of a fault that shapes how the bytes travel (gzip_bomb, oversized, trickle), or None."""
    if rule.kind == "gzip_bomb":
        return Answer(200, _gzip_of_zeros(rule.size), ((b"content-encoding", b"gzip"),))
    if rule.kind == "oversized":
        return Answer(200, b" " * rule.size, chunk=_OVERSIZED_CHUNK)
    if rule.kind == "trickle":
        return Answer(200, body, chunk=1, pause_s=rule.delay_s)
    return None


async def send_in_pieces(send: Send, receive: Receive, answer: Answer) -> None:
    """Send the answer in pieces until it is all sent or the client has gone (a client that gave up on a
    trickling reply must not keep the server, or its shutdown, busy for hours)."""
    headers = [JSON_HEADER, *answer.headers, SYNTHETIC_LABEL]
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})

    async def pieces() -> None:
        body = answer.body
        for start in range(0, len(body), answer.chunk):
            piece = body[start : start + answer.chunk]
            await send({"type": "http.response.body", "body": piece, "more_body": True})
            if answer.pause_s:
                await asyncio.sleep(answer.pause_s)
        await send({"type": "http.response.body", "body": b""})

    async def client_gone() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    sending, watching = asyncio.create_task(pieces()), asyncio.create_task(client_gone())
    await asyncio.wait((sending, watching), return_when=asyncio.FIRST_COMPLETED)
    for task in (sending, watching):
        task.cancel()
    await asyncio.gather(sending, watching, return_exceptions=True)
