"""An ASGI app served by a real uvicorn on a free port, for tests that need real connections."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from starlette.types import ASGIApp
from windhash_stack.ports import free_port

STARTUP_SECONDS = 60.0


@asynccontextmanager
async def serving(app: ASGIApp, host: str = "127.0.0.1") -> AsyncIterator[str]:
    """Serve `app` (its lifespan runs) and yield its base URL; the server stops on exit."""
    port = free_port(host)
    # As the services run: the apps, not uvicorn, decide whose X-Forwarded-For to believe.
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", proxy_headers=False)
    server = uvicorn.Server(config)
    serving_task = asyncio.create_task(server.serve())
    async with asyncio.timeout(STARTUP_SECONDS):
        while not server.started:
            if serving_task.done():
                serving_task.result()
                raise RuntimeError("uvicorn stopped before it started")
            await asyncio.sleep(0.02)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        await serving_task
