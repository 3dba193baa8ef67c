"""One small HTTP server per worker on its metrics port: `/metrics` (Prometheus), `/health` (liveness) and
`/ready` (readiness: every dependency reachable; 503 with the reasons otherwise).

prometheus_client's own server, extended by a WSGI dispatcher and run the same way (a daemon thread), so the
answers come even while the event loop is busy; they read `Readiness`, which the loop keeps current.
"""

import json
import threading
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import make_server

from prometheus_client import REGISTRY, make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer, _SilentHandler

from windhash_common.readiness import Readiness

StartResponse = Callable[..., Any]


def probe_app(readiness: Readiness | None) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    metrics = make_wsgi_app(REGISTRY)

    def answer(start: StartResponse, ok: bool, body: object) -> list[bytes]:
        data = json.dumps(body).encode()
        status = "200 OK" if ok else "503 Service Unavailable"
        start(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]

    def app(environ: dict[str, Any], start: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/health":
            alive = readiness is None or readiness.alive
            return answer(start, alive, {"status": "ok" if alive else "event loop stalled"})
        if path == "/ready":
            if readiness is None:
                return answer(start, True, {"ready": True})
            return answer(start, readiness.ready, readiness.report())
        result: Iterable[bytes] = metrics(environ, start)
        return result

    return app


def serve_probes(host: str, port: int, readiness: Readiness | None) -> ThreadingWSGIServer:
    """Start serving in a daemon thread; `port` 0 picks a free one (`server.server_port`)."""
    server = make_server(host, port, probe_app(readiness), ThreadingWSGIServer, handler_class=_SilentHandler)
    threading.Thread(target=server.serve_forever, daemon=True, name="probe-server").start()
    return server
