"""Shared by the database-retry tests: make PostgreSQL drop a service's connection mid-transaction.

No tests here; the module is imported by test_*_db_retry.py.
"""

import asyncio

import asyncpg

WAIT_SECONDS = 60


async def terminate_lock_waiters(connection: asyncpg.Connection) -> int:
    """Terminate the backends of this database waiting on a lock (the service's write, blocked on purpose)."""
    async with asyncio.timeout(WAIT_SECONDS):
        while True:
            terminated: int = await connection.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
            )
            if terminated:
                return terminated
            await asyncio.sleep(0.05)
