"""The world the plans tests act in: a simulated fleet registered at a site, staff accounts with sessions, the
plans' HTTP app in this process (its own role, the test's topics), the fleet and plans services as
processes, and waiting for what the database says."""

import asyncio
import random
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import httpx
from windhash_cli.service_processes import ServiceProcesses
from windhash_common.access.roles import Role
from windhash_common.accounts import users
from windhash_common.accounts.passwords import hash_password
from windhash_common.accounts.sessions import open_session
from windhash_common.audit import Actor
from windhash_common.db_roles import DatabaseRole, dsn_as
from windhash_common.topics import Topics
from windhash_fleet.fleet_registry import NewMiner, ensure_site, register_miners
from windhash_fleet_sim.server import FleetSimServer
from windhash_fleet_sim.sim_miner import SimMiner
from windhash_plans.http.app import create_plans_app
from windhash_plans.settings import PlansSettings

TEST_ACTOR = Actor("test")
PASSWORD = "plans test passphrase of the north"

# Fast clocks for the services under test: one poll a second, commands half a second apart.
FAST_FLEET = {
    "WINDHASH_FLEET_POLL_INTERVAL_S": "1",
    "WINDHASH_FLEET_RPC_TIMEOUT_S": "2",
    "WINDHASH_FLEET_WRITER_BATCH_WAIT_MS": "100",
    "WINDHASH_FLEET_WRITER_METRICS_PORT": "0",
    "WINDHASH_FLEET_RELAY_INTERVAL_S": "0.5",
}
FAST_PLANS = {
    "WINDHASH_PLANS_TICK_S": "0.3",
    "WINDHASH_PLANS_STAGGER_S": "0.5",
    "WINDHASH_PLANS_RELAY_INTERVAL_S": "0.3",
    "WINDHASH_PLANS_BATCH_WAIT_MS": "100",
    "WINDHASH_PLANS_LEASE_TTL_S": "3",
    "WINDHASH_PLANS_MEASURE_SETTLE_S": "1.5",
    "WINDHASH_PLANS_MEASURE_BEFORE_S": "120",
    "WINDHASH_PLANS_MEASURE_TIMEOUT_S": "20",
    "WINDHASH_PLANS_RETRY_BACKOFF_S": "0.5",
    "WINDHASH_PLANS_POLICY_INTERVAL_S": "3600",
    "WINDHASH_PLANS_PRICE_SYNC_INTERVAL_S": "3600",
    "WINDHASH_PLANS_SOURCE_ATTEMPTS": "1",
    # No Elexon here unless a test starts one (nothing listens on the discard port).
    "WINDHASH_ELEXON_BASE_URL": "http://127.0.0.1:9/bmrs/api/v1",
}


def loopback_block() -> str:
    """A base address in 127.0.0.0/8 that concurrent test sessions are unlikely to share."""
    return f"127.{random.randint(64, 250)}.{random.randint(0, 200)}.1"


async def register_sim_fleet(
    dsn: str,
    sim: FleetSimServer,
    topics: Topics,
    site: str = "Plans site",
    of_sim: Sequence[SimMiner] | None = None,
) -> int:
    """The simulator's miners (or those of them in `of_sim`) registered at a new site."""
    connection = await asyncpg.connect(dsn)
    try:
        site_id = await ensure_site(
            connection, topics, TEST_ACTOR, f"{site} (SYNTHETIC)", "nowhere", Decimal(5)
        )
        chosen = sim.miners if of_sim is None else of_sim
        miners = [NewMiner(miner.serial, miner.model.name, miner.host, miner.port) for miner in chosen]
        await register_miners(connection, topics, site_id, miners, TEST_ACTOR)
        return site_id
    finally:
        await connection.close()


@dataclass
class PlansWorld:
    """Accounts made as the operator, and the plans app reached in this process."""

    dsn: str
    topics: Topics
    operator: asyncpg.Connection
    pool: asyncpg.Pool
    http: httpx.AsyncClient
    ids: dict[str, UUID] = field(default_factory=dict)

    @classmethod
    async def open(cls, dsn: str, topics: Topics, **settings: Any) -> "PlansWorld":
        plans = PlansSettings(
            database_url=dsn_as(dsn, DatabaseRole.PLANS_API), topic_prefix=topics.prefix, **settings
        )
        pool = await asyncpg.create_pool(plans.database_url, min_size=1, max_size=4)
        assert pool is not None
        app = create_plans_app(plans, pool=pool)
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://plans.test")
        operator = await asyncpg.connect(dsn_as(dsn, DatabaseRole.OPERATOR))
        return cls(dsn, topics, operator, pool, http)

    async def close(self) -> None:
        await self.http.aclose()
        await self.pool.close()
        await self.operator.close()

    async def add(self, email: str, role: Role, client_id: UUID | None = None) -> UUID:
        async with self.operator.transaction():
            row = await users.create_user(
                self.operator, self.topics, TEST_ACTOR, email=email, name=email.split("@")[0], role=role,
                client_id=client_id, password_hash=hash_password(PASSWORD), must_change_password=False,
                access_until=None,
            )  # fmt: skip
        self.ids[email] = row["id"]
        return UUID(str(row["id"]))

    async def client(self, name: str) -> UUID:
        async with self.operator.transaction():
            row = await users.create_client(self.operator, self.topics, TEST_ACTOR, name)
        return UUID(str(row["id"]))

    async def as_(self, email: str) -> dict[str, str]:
        token, _ = await open_session(self.operator, self.ids[email], timedelta(hours=1), "127.0.0.1", "test")
        return {"Authorization": f"Bearer {token}"}

    async def call(
        self, email: str, method: str, path: str, body: Any = None, **params: Any
    ) -> httpx.Response:
        headers = await self.as_(email)
        return await self.http.request(method, path, headers=headers, json=body, params=params or None)

    async def plan(self, plan_id: int) -> dict[str, Any]:
        row = await self.operator.fetchrow("SELECT * FROM curtailment_plans WHERE plan_id = $1", plan_id)
        assert row is not None
        return dict(row)


def service_processes(env: dict[str, str], log_dir: Path, **extra: str) -> ServiceProcesses:
    return ServiceProcesses(
        env={**env, "WINDHASH_METRICS_PORT": "0", **FAST_FLEET, **FAST_PLANS, **extra}, log_dir=log_dir
    )


async def wait_until(
    check: Callable[[], Awaitable[bool]], seconds: float, processes: ServiceProcesses | None = None
) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():
        if processes is not None:
            processes.check_alive()
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not reached within {seconds} s")
        await asyncio.sleep(0.25)


async def fetch(dsn: str, query: str, *args: object) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(dsn)
    try:
        return list(await connection.fetch(query, *args))
    finally:
        await connection.close()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"
