"""windhash's HTTP servers on uvicorn, with what a server facing untrusted clients needs and uvicorn lacks.

uvicorn bounds idle keep-alive connections (`timeout_keep_alive`) but nothing else a client controls: a
connection that never sends its request, or sends it one byte every few seconds (slowloris), stays open for
ever, its headers may grow without limit (httptools has no size limit), and `limit_concurrency` counts those
very connections, so a slow client that holds them turns every other request, `/health` included, into a 503
(uvicorn issue #157; its maintainers leave the rest to a reverse proxy). windhash serves the API and the
dashboard directly, so `GuardedHttpToolsProtocol` (uvicorn's own httptools protocol, extended) adds:

- a header deadline: the whole request head (request line and headers) must arrive within
  `header_timeout_s` of the connection opening, or of the first byte of a later request on a kept-alive
  connection; otherwise 408 and the connection is closed;
- a head size limit: more than `max_header_bytes` before the head is complete is answered 431 and closed,
  before the bytes are handed to the parser;
- a connection cap: past `max_connections`, a new connection makes room by closing the connection that has
  waited longest for a request (a slow client or an idle keep-alive); connections with a request in progress
  are never closed, and when every connection is busy the new one gets a 503.

Replacing uvicorn (granian, hypercorn) would mean a new server for every service, workers model and
measured figures included, for three guards that fit in one subclass; uvicorn's own options still do the
rest (keep-alive timeout, no `server` banner). `server_config` builds a uvicorn Config with all of it, for
one process (`uvicorn.Server`) or several workers (the protocol is named by import string and the limits
travel on the Config, which uvicorn hands to each worker).
"""

import asyncio
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import httptools
import uvicorn
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState
from uvicorn.supervisors import Multiprocess

PROTOCOL = "windhash_common.http_server:GuardedHttpToolsProtocol"
_LIMITS_ATTRIBUTE = "windhash_limits"


@dataclass(frozen=True)
class ServerLimits:
    header_timeout_s: float = 10.0
    keep_alive_timeout_s: int = 5
    max_header_bytes: int = 16 * 1024
    max_connections: int = 1000


# Per server (uvicorn's ServerState), the connections waiting for a request head, oldest first.
_WAITING: "weakref.WeakKeyDictionary[ServerState, OrderedDict[GuardedHttpToolsProtocol, None]]" = (
    weakref.WeakKeyDictionary()
)


def _waiting(state: ServerState) -> "OrderedDict[GuardedHttpToolsProtocol, None]":
    waiting = _WAITING.get(state)
    if waiting is None:
        waiting = _WAITING[state] = OrderedDict()
    return waiting


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, config: uvicorn.Config, server_state: ServerState, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, server_state, *args, **kwargs)
        self.limits: ServerLimits = getattr(config, _LIMITS_ATTRIBUTE, None) or ServerLimits()
        self._deadline: asyncio.TimerHandle | None = None
        self._head_bytes = 0
        self._reading_head = True
        self._refused = False

    # --- the connection cap -------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[arg-type]
        waiting = _waiting(self.server_state)
        if len(self.connections) > self.limits.max_connections:
            oldest = next(iter(waiting), None)
            if oldest is None:  # every other connection has a request in progress
                self._refuse(503, "too many connections")
                return
            oldest._make_room()
        waiting[self] = None
        self._arm_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_deadline()
        _waiting(self.server_state).pop(self, None)
        super().connection_lost(exc)

    # --- the header deadline and size limit ----------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        """uvicorn's, with the head size counted and a refusal of ours not answered a second time."""
        if self._refused:
            return
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        except httptools.HttpParserError:
            if not self._refused:
                self.logger.warning("Invalid HTTP request received.")
                self.send_400_response("Invalid HTTP request received.")
            return
        if self._reading_head:  # fed whole, so the parser buffered at most one read beyond the limit
            self._head_bytes += len(data)
            if self._head_bytes > self.limits.max_header_bytes:
                self._refuse(431, "request head too large")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._reading_head = True
        self._head_bytes = 0
        if self._deadline is None:  # a later request on a kept-alive connection
            self._arm_deadline()

    def on_headers_complete(self) -> None:
        self._reading_head = False
        self._disarm_deadline()
        _waiting(self.server_state).pop(self, None)
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and not self.pipeline:
            self._reading_head = True
            self._head_bytes = 0
            _waiting(self.server_state)[self] = None  # idle: uvicorn's keep-alive timeout runs

    def _arm_deadline(self) -> None:
        self._deadline = self.loop.call_later(self.limits.header_timeout_s, self._head_too_slow)

    def _disarm_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _head_too_slow(self) -> None:
        self._deadline = None
        if self._reading_head:
            self._refuse(408, "request head not received in time")

    def _make_room(self) -> None:
        if self._head_bytes == 0:  # idle between requests: closed as the keep-alive timeout would
            _waiting(self.server_state).pop(self, None)
            self._refused = True
            self.transport.close()
        else:
            self._refuse(503, "too many connections")

    def _refuse(self, status: int, reason: str) -> None:
        """Answer `status` with a one-line text body and close; nothing more is read from the connection."""
        if self._refused or self.transport.is_closing():
            return
        self._refused = True
        self._disarm_deadline()
        _waiting(self.server_state).pop(self, None)
        body = reason.encode()
        self.transport.write(
            STATUS_LINE[status]
            + b"content-type: text/plain; charset=utf-8\r\n"
            + b"content-length: "
            + str(len(body)).encode()
            + b"\r\nconnection: close\r\n\r\n"
            + body
        )
        self.transport.close()


def server_config(app: Any, host: str, port: int, limits: ServerLimits, **options: Any) -> uvicorn.Config:
    """A uvicorn Config for `app` (an app, or an import string with `factory=True` for workers) with the
    guards above, uvicorn's keep-alive timeout and no `server` header."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        http=PROTOCOL,
        timeout_keep_alive=limits.keep_alive_timeout_s,
        server_header=False,
        **options,
    )
    setattr(config, _LIMITS_ATTRIBUTE, limits)
    return config


def serve(config: uvicorn.Config) -> None:
    """Run the server as `uvicorn.run` would: in this process, or in `config.workers` worker processes
    sharing one socket (the app must then be an import string)."""
    server = uvicorn.Server(config)
    if config.workers > 1:
        Multiprocess(config, sockets=[config.bind_socket()]).run()
    else:
        server.run()
