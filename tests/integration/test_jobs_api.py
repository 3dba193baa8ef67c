"""GET /api/v1/jobs: an administrator sees who holds each background job (holder, host, since, heartbeat),
as `windhash jobs` does; anyone else is refused (the authorization matrix covers every role)."""

import asyncpg
import pytest
from test_accounts_support import Accounts, accounts_fixture, open_api  # type: ignore[import-not-found]  # noqa: F401
from windhash_common.access.roles import Role
from windhash_common.db import create_pool
from windhash_common.db_roles import DatabaseRole, dsn_as
from windhash_common.job_leases import JobLease

pytestmark = pytest.mark.integration


async def test_an_administrator_sees_the_holder_host_since_and_heartbeat_of_each_job(
    pg_dsn: str, accounts: Accounts
) -> None:
    await accounts.add("admin@example.com", Role.ADMIN)
    await accounts.add("user@example.com", Role.USER)
    pool: asyncpg.Pool = await create_pool(dsn_as(pg_dsn, DatabaseRole.RECONCILER), min_size=1, max_size=1)
    lease = JobLease(pool, "reconciler/self-check", 60)
    assert await lease.try_take()
    client, _ = await open_api(pg_dsn)
    try:
        admin = {"Authorization": f"Bearer {await accounts.session('admin@example.com')}"}
        user = {"Authorization": f"Bearer {await accounts.session('user@example.com')}"}
        listed = (await client.http.get("/api/v1/jobs", headers=admin)).json()
        as_csv = await client.http.get("/api/v1/jobs?format=csv", headers=admin)
        refused = await client.http.get("/api/v1/jobs", headers=user)
        filtered = (await client.http.get("/api/v1/jobs?prefix=market/", headers=admin)).json()
    finally:
        await client.http.aclose()
        await client.pool.close()
        await lease.release()
        await pool.close()
    [job] = listed
    assert job["job"] == "reconciler/self-check" and job["holder"] == lease.holder
    assert job["host"] and job["pid"] > 0 and job["live"] is True
    assert job["since"] <= job["heartbeat"] < job["expires"]
    assert as_csv.text.splitlines()[0].startswith("job,holder,host,pid,since,heartbeat")
    assert refused.status_code == 403
    assert filtered == []
