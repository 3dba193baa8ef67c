"""Serving a context service's HTTP app (`service_app.create_service_app`) inside the service's own event
loop, next to its other loops (a poller, a relay), until the service stops.

uvicorn's `Server.serve` installs its own SIGINT/SIGTERM handlers for as long as it runs and raises the signal
again when it ends; a service that runs other loops keeps its own handlers instead (`stop` is set by them) and
tells the server to finish, so the server here leaves the signals alone.

Every windhash HTTP app that authenticates requests, the API included, is served with `service_server_config`:
the guards of `windhash_common.http_server` (header deadline and size, connection cap, keep-alive) from the
settings' `server_limits`, no server banner, and `proxy_headers=False`: whose `X-Forwarded-For` is believed is
`WINDHASH_API_TRUSTED_PROXIES`'s call (the app's), not uvicorn's.
"""

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from windhash_common.access.settings import AccessSettings
from windhash_common.http_server import server_config

STARTUP_SECONDS = 60.0


class _EmbeddedServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the service's own handlers set `stop`


def service_server_config(
    app: Any, settings: AccessSettings, host: str, port: int, **options: Any
) -> uvicorn.Config:
    """The uvicorn Config of an app that authenticates requests (for `uvicorn.Server`, `service_server` or
    `windhash_common.http_server.serve`)."""
    return server_config(
        app,
        host,
        port,
        settings.server_limits,
        log_level=settings.log_level.lower(),
        # windhash's logging as configured (JSON lines with WINDHASH_LOG_JSON), not uvicorn's own handlers.
        log_config=None,
        access_log=False,
        proxy_headers=False,
        **options,
    )


def service_server(app: ASGIApp, settings: AccessSettings, host: str, port: int) -> uvicorn.Server:
    """A server for `serve_until`: `service_server_config`, leaving the signals to the service."""
    return _EmbeddedServer(service_server_config(app, settings, host, port))


async def serve_until(server: uvicorn.Server, stop: asyncio.Event) -> None:
    """Serve until `stop` is set (then finish the requests under way, as uvicorn does on a signal). A server
    that cannot start (its port taken) raises, so the service exits rather than runs without its API."""
    serving = asyncio.create_task(server.serve())
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait([serving, stopping], return_when=asyncio.FIRST_COMPLETED)
        server.should_exit = True
        await serving
    finally:
        stopping.cancel()
    if not server.started:
        raise RuntimeError(f"the HTTP server did not start on {server.config.host}:{server.config.port}")
