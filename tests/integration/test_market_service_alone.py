"""The market service as an operator runs it, alone (no calculator, whose relay used to publish its events):
`windhash market` against the synthetic market server takes snapshots, its own outbox relay puts them on
Kafka, and its HTTP app answers through the real API (the single origin) by the permission table; SIGTERM
stops it cleanly."""

import asyncio
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from test_accounts_support import (  # type: ignore[import-not-found]
    PASSWORD,
    Accounts,
    accounts_fixture,  # noqa: F401
    api_settings,
)
from windhash_api.app import create_app
from windhash_cli.service_processes import ServiceProcesses
from windhash_common.access.roles import Role
from windhash_common.events_market import MarketSnapshotEvent
from windhash_common.topics import Topics
from windhash_market_sim.server import MarketSimServer
from windhash_stack.ports import free_port
from windhash_testing.live_server import serving

pytestmark = [pytest.mark.integration, pytest.mark.e2e]
TIMEOUT_S = 120.0
M = "/api/v1/market"


@pytest.fixture
def market_sim() -> Iterator[MarketSimServer]:
    with MarketSimServer() as server:
        yield server


async def first_event(bootstrap: str, topic: str) -> MarketSnapshotEvent:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        message = await asyncio.wait_for(consumer.getone(), timeout=TIMEOUT_S)
    finally:
        await consumer.stop()
    return MarketSnapshotEvent.model_validate_json(message.value or b"")


async def eventually_ok(http: httpx.AsyncClient, path: str, processes: ServiceProcesses) -> httpx.Response:
    deadline = asyncio.get_running_loop().time() + TIMEOUT_S
    while True:
        processes.check_alive()
        response = await http.get(path)
        if response.status_code == 200:
            return response
        assert asyncio.get_running_loop().time() < deadline, f"{path}: {response.status_code} {response.text}"
        await asyncio.sleep(0.5)


async def test_the_market_service_publishes_its_own_events_and_serves_its_routes_through_the_api(
    market_sim: MarketSimServer,
    service_env: dict[str, str],
    pg_dsn: str,
    accounts: Accounts,
    tmp_path: Path,
) -> None:
    port = free_port()
    env = {
        **service_env,
        "WINDHASH_EXPLORER_URL": market_sim.url,
        "WINDHASH_PRICE_API_URL": market_sim.url,
        "WINDHASH_MARKET_POLL_SECONDS": "2",
        "WINDHASH_MARKET_BACKFILL_HOURS": "1",
        "WINDHASH_MARKET_REFERENCE_DAYS": "1",
        "WINDHASH_METRICS_PORT": str(port),
        "WINDHASH_API_TRUSTED_PROXIES": "127.0.0.1",
        "WINDHASH_API_PUBLIC_ANALYTICS": "false",
    }
    await accounts.add("guest@example.com", Role.GUEST)
    processes = ServiceProcesses(env=env, log_dir=tmp_path / "logs")
    settings = api_settings(
        pg_dsn, api_public_analytics=False, api_upstreams={"market": f"http://127.0.0.1:{port}"}
    )
    try:
        market = processes.start("market")
        async with serving(create_app(settings)) as api_url, httpx.AsyncClient(base_url=api_url) as http:
            anonymous = await http.get(f"{M}/status")  # private analytics: the service refuses, not the API
            while anonymous.status_code == 502:  # the service is still starting
                processes.check_alive()
                await asyncio.sleep(0.5)
                anonymous = await http.get(f"{M}/status")
            assert anonymous.status_code == 401, anonymous.text
            assert anonymous.json()["error"]["code"] == "authentication_required"

            login = await http.post(
                "/api/v1/auth/login", json={"email": "guest@example.com", "password": PASSWORD}
            )
            assert login.status_code == 200, login.text
            name, _, rest = login.headers["set-cookie"].partition("=")
            http.headers["Cookie"] = f"{name}={rest.split(';', 1)[0]}"  # as the dashboard's browser sends it
            latest = await eventually_ok(http, f"{M}/snapshots/latest", processes)
            assert latest.json()["synthetic"] is True
            head = await http.head(f"{M}/snapshots/latest")
            assert (head.status_code, head.content) == (200, b"")
            table = await http.get(f"{M}/hashprice", params={"format": "csv"})
            assert table.status_code == 200 and table.headers["content-type"].startswith("text/csv")
            assert table.headers["content-disposition"].startswith('attachment; filename="market-hashprice-')
            status = (await http.get(f"{M}/status")).json()
            assert status["collecting"] is True and status["latest"] is not None

        event = await first_event(
            service_env["WINDHASH_KAFKA_BOOTSTRAP"], Topics(env["WINDHASH_TOPIC_PREFIX"]).market_snapshots
        )
        assert event.synthetic and event.price_gbp > 0
        connection = await asyncpg.connect(pg_dsn)
        try:
            published = await connection.fetchval(
                "SELECT count(*) FROM outbox WHERE topic = $1 AND published_at IS NOT NULL",
                Topics(env["WINDHASH_TOPIC_PREFIX"]).market_snapshots,
            )
        finally:
            await connection.close()
        assert published >= 1
        assert market.stop() == 0  # SIGTERM: the cycles, the relay and the HTTP server end cleanly
    except BaseException:
        for service in processes.services.values():
            print(f"--- {service.name}\n{service.log_tail(40)}")
        raise
    finally:
        processes.stop_all()
