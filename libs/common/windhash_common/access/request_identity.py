"""THE helper that hands a request's identity to PostgreSQL's row-level security.

Every transaction a request runs on a client-owned table starts here: `identity_transaction` opens the
transaction and sets three transaction-local settings (`set_config(..., true)`, so nothing survives into the
next transaction on a pooled connection) that the policies of migration 1001 read:

    windhash.user_id        the user's id ('' for none)
    windhash.role           the role ('' for none)
    windhash.client_scope   'all' for staff, the client's id for a client, 'none' otherwise

A query that forgets its WHERE clause still returns only the rows the identity may see; a request that never
set an identity sees no client-owned row at all.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from windhash_common.access.identity import Identity
from windhash_common.access.roles import Role, sees_every_client

_SET_IDENTITY = (
    "SELECT set_config('windhash.user_id', $1, true), set_config('windhash.role', $2, true),"
    " set_config('windhash.client_scope', $3, true)"
)


def client_scope(identity: Identity) -> str:
    if identity.role is None:
        return "none"
    if sees_every_client(identity.role):
        return "all"
    if identity.role is Role.CLIENT and identity.client_id is not None:
        return str(identity.client_id)
    return "none"


async def set_request_identity(connection: asyncpg.Connection, identity: Identity) -> None:
    """For a transaction the caller has already opened on `connection`."""
    if not connection.is_in_transaction():
        raise RuntimeError("the request identity is transaction-local: open the transaction first")
    await connection.execute(
        _SET_IDENTITY,
        str(identity.user_id or ""),
        identity.role.value if identity.role else "",
        client_scope(identity),
    )


@asynccontextmanager
async def identity_transaction(pool: asyncpg.Pool, identity: Identity) -> AsyncIterator[asyncpg.Connection]:
    """A pooled connection in a transaction that sees what `identity` may see."""
    async with pool.acquire() as connection, connection.transaction():
        await set_request_identity(connection, identity)
        yield connection
