"""What an operator's command changed, in the audit trail (who: `cli:<account>@<host>`).

For commands whose change spans many transactions (a reconciliation replays periods one batch at a time, a
model's history is written in batches), one record after the change, in its own transaction, says what was
done and what it left; changes made in one transaction (users, access) record in that transaction instead.
"""

from collections.abc import Mapping
from typing import Any

import asyncpg
from windhash_common import event_loop
from windhash_common.audit import cli_actor, record_audit
from windhash_common.settings import CommonSettings


def audit_command(
    action: str,
    target_type: str,
    target_id: str | None,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
) -> None:
    settings = CommonSettings()

    async def record() -> None:
        connection = await asyncpg.connect(settings.database_url)
        try:
            async with connection.transaction():
                await record_audit(
                    connection, settings.topics, cli_actor(), action, target_type, target_id, before, after
                )
        finally:
            await connection.close()

    event_loop.run(record())
