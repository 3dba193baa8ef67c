"""Serving a context service's HTTP app (`service_app.create_service_app`) inside the service's own event
loop, next to its other loops (a poller, a relay), until the service stops.

uvicorn's `Server.serve` installs its own SIGINT/SIGTERM handlers for as long as it runs and raises the signal
again when it ends; a service that runs other loops keeps its own handlers instead (`stop` is set by them) and
tells the server to finish, so the server here leaves the signals alone. `proxy_headers=False`, as the API:
whose `X-Forwarded-For` is believed is `WINDHASH_API_TRUSTED_PROXIES`'s call, not uvicorn's.
"""

import asyncio
import contextlib
from collections.abc import Iterator

import uvicorn
from starlette.types import ASGIApp

STARTUP_SECONDS = 60.0


class _EmbeddedServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the service's own handlers set `stop`


def service_server(app: ASGIApp, host: str, port: int, log_level: str = "warning") -> uvicorn.Server:
    config = uvicorn.Config(
        app, host=host, port=port, log_level=log_level.lower(), access_log=False, proxy_headers=False
    )
    return _EmbeddedServer(config)


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
