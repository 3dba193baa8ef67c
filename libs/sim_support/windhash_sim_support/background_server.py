"""A synthetic server's ASGI app served by uvicorn from a daemon thread of this process (a test's).

The socket is bound when the object is made, so `port` 0 picks a free port and `host`/`port` are known before
`start()`. Subclasses (`ElexonSimServer`, `MarketSimServer`) add their state and what a test asks of it.
"""

import socket
import threading
import time
from types import TracebackType
from typing import Any, Self

import uvicorn
from starlette.types import ASGIApp

START_TIMEOUT_S = 10.0


class StartedInWith:
    """`with server:` starts it, and stops it when the block ends, however it ends."""

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()


class BackgroundServer(StartedInWith):
    """`app` on `host`:`port` (0: any free port) from a thread named `name`; `description` names the server in
    the error raised when it does not start; `options` go to uvicorn's Config."""

    def __init__(
        self, app: ASGIApp, host: str, port: int, name: str, description: str, **options: Any
    ) -> None:
        self._description = description
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.host, self.port = self._socket.getsockname()[:2]
        config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False, **options)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _run(self) -> None:
        self._server.run(sockets=[self._socket])

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"{self._description} did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=START_TIMEOUT_S)
        self._socket.close()
