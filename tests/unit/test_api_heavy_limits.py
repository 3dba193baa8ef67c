"""Heavy requests are limited per client, and a client is who `client_address` says it is: the peer, or
behind a proxy named in WINDHASH_API_TRUSTED_PROXIES the address that proxy forwarded. A forged
X-Forwarded-For cannot make one client look like many; forwarded context-service paths are not the API's
to limit."""

import asyncio
from ipaddress import ip_network

from prometheus_client import CollectorRegistry
from starlette.types import Message, Receive, Scope, Send
from windhash_api.request_limits import HeavyLimits, HeavyRequestLimiter, HeavyRequestMiddleware

HEAVY = "/api/v1/reconciliation"
PROXY = "10.0.0.1"


class HeldApp:
    """An app whose answers wait until released, counting the requests that reached it."""

    def __init__(self) -> None:
        self.reached = 0
        self.release = asyncio.Event()
        self._arrivals = asyncio.Condition()

    async def reached_at_least(self, count: int) -> None:
        async with self._arrivals:
            await self._arrivals.wait_for(lambda: self.reached >= count)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async with self._arrivals:
            self.reached += 1
            self._arrivals.notify_all()
        await self.release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def middleware(app: HeldApp, proxies: tuple[str, ...] = ()) -> HeavyRequestMiddleware:
    limits = HeavyLimits(concurrency=4, per_client=1, per_client_queue=0, wait_seconds=5)
    return HeavyRequestMiddleware(
        app,
        HeavyRequestLimiter(limits, CollectorRegistry()),
        [ip_network(proxy) for proxy in proxies],
        passed_on=("/api/v1/fleet/",),
    )


async def status_of(limited: HeavyRequestMiddleware, peer: str, forwarded_for: str, path: str = HEAVY) -> int:
    scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "client": (peer, 50000),
        "headers": [(b"x-forwarded-for", forwarded_for.encode())],
    }
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await limited(scope, receive, send)
    return int(sent[0]["status"])


async def two_requests(
    limited: HeavyRequestMiddleware, app: HeldApp, peer: str, path: str = HEAVY
) -> list[int]:
    """Two requests from `peer` naming different clients in X-Forwarded-For, the second sent while the first
    runs; both answered once the second is refused or has reached the app too."""
    first = asyncio.create_task(status_of(limited, peer, "198.51.100.1", path))
    await app.reached_at_least(1)
    second = asyncio.create_task(status_of(limited, peer, "198.51.100.2", path))
    reached = asyncio.create_task(app.reached_at_least(2))
    async with asyncio.timeout(10):
        await asyncio.wait([second, reached], return_when=asyncio.FIRST_COMPLETED)
    reached.cancel()
    app.release.set()
    return [await first, await second]


async def test_a_forged_x_forwarded_for_does_not_make_a_new_client() -> None:
    app = HeldApp()
    assert await two_requests(middleware(app), app, "203.0.113.9") == [200, 429]
    assert app.reached == 1


async def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_share() -> None:
    app = HeldApp()
    assert await two_requests(middleware(app, (PROXY,)), app, PROXY) == [200, 200]
    assert app.reached == 2


async def test_forwarded_context_paths_are_not_limited_here() -> None:
    app = HeldApp()
    path = "/api/v1/fleet/sites/range/2020-01-01..2024-12-31"
    assert await two_requests(middleware(app), app, "203.0.113.9", path) == [200, 200]
