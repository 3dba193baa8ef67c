"""Which database role may do what to which table: the one declaration, applied after every migration.

Letters are PostgreSQL's own ACL letters: `r` SELECT, `a` INSERT, `w` UPDATE, `d` DELETE. A writer holds
`rawd` on the tables it owns the content of (every write is replace-by-key, upserts need UPDATE), reads what
it derives from, and has nothing on the accounts tables; the API reads the analytics and writes only the
accounts tables; `audit_log` is append-only for everyone. A role may use the sequences of the tables it may
insert into. A table missing here is a test failure (tests/integration/test_database_roles.py), so a new
migration's table must be given its line.

`apply_privileges` runs as the owner (or a superuser) at the end of `db.migrate`: it makes `windhash_owner`
the owner of every object in the schema, revokes what the service roles hold and grants exactly this table.
Its fingerprint is stored, so a changed table is applied by the next `windhash db migrate`.
"""

import hashlib
import json

import asyncpg

from windhash_common.db_roles import SERVICE_ROLES, DatabaseRole

API = DatabaseRole.API
INGESTOR = DatabaseRole.INGESTOR
CALCULATOR = DatabaseRole.CALCULATOR
AGGREGATOR = DatabaseRole.AGGREGATOR
OPERATOR = DatabaseRole.OPERATOR
CRM = DatabaseRole.CRM
MARKET = DatabaseRole.MARKET
FLEET_API = DatabaseRole.FLEET_API
PLANS = DatabaseRole.PLANS
PLANS_API = DatabaseRole.PLANS_API

ACL_PRIVILEGES = {"r": "SELECT", "a": "INSERT", "w": "UPDATE", "d": "DELETE"}

_EVERYONE_READS: dict[DatabaseRole, str] = {role: "r" for role in SERVICE_ROLES}


def _pipeline(**writers: str) -> dict[DatabaseRole, str]:
    """A pipeline table: every service role reads it; the named roles (by lower-case name) also write."""
    grants = dict(_EVERYONE_READS)
    for name, letters in writers.items():
        grants[DatabaseRole(f"windhash_{name}")] = letters
    return grants


# The reconciler repairs by replay through the calculator's and aggregator's write paths: it writes what they
# write.
_FACT = _pipeline(reconciler="rawd", calculator="rawd", operator="rawd")
_SUMMARY = _pipeline(reconciler="rawd", aggregator="rawd", operator="rawd")
_FLEET = _pipeline(fleet="raw", fleet_api="raw", operator="rawd")
# Rollups (migration 1210): the writer adds to them (upserts) and prunes miner-hours past their retention.
_FLEET_ROLLUP = _pipeline(fleet="rawd", operator="rawd")
_ACCOUNT: dict[DatabaseRole, str] = {API: "raw", OPERATOR: "raw"}
# A context service's HTTP app resolves identities as the API does (windhash_common.access.identity_queries):
# it reads accounts and access windows and records a session's or key's last use.
_IDENTITY_READ: dict[DatabaseRole, str] = {MARKET: "r", FLEET_API: "r", PLANS_API: "r"}
_IDENTITY_TOUCH: dict[DatabaseRole, str] = {MARKET: "rw", FLEET_API: "rw", PLANS_API: "rw"}

TABLE_PRIVILEGES: dict[str, dict[DatabaseRole, str]] = {
    # Schema bookkeeping: every role checks that the schema is current when it starts.
    "schema_migrations": dict(_EVERYONE_READS),
    "schema_privileges": dict(_EVERYONE_READS),
    # Reference data
    "wind_bm_units": _pipeline(ingestor="raw", operator="rawd"),
    # The fleet's HTTP app adds models to the registry (not calculated until an operator activates them).
    "miner_models": _pipeline(calculator="rw", fleet_api="raw", operator="rawd"),
    "btc_prices": _pipeline(market="raw", operator="rawd"),
    "wind_generation": _pipeline(ingestor="raw", operator="rawd"),
    "wind_output_problems": _pipeline(ingestor="rawd", operator="rawd"),  # migration 1850
    # Ingest and facts
    "ingestion_progress": _pipeline(ingestor="raw", reconciler="raw", operator="rawd"),
    "settlement_periods": _FACT,
    "curtailment_records": _FACT,
    "bitcoin_calculations": _FACT,
    "bitcoin_period_totals": _FACT,  # kept by triggers on bitcoin_calculations, as the writer
    "unstorable_periods": _FACT,  # periods the write path refused (migration 0950)
    # Summaries
    "curtailment_daily": _SUMMARY,
    "curtailment_monthly": _SUMMARY,
    "curtailment_yearly": _SUMMARY,
    "bitcoin_daily": _SUMMARY,
    "bitcoin_monthly": _SUMMARY,
    "bitcoin_yearly": _SUMMARY,
    "bitcoin_daily_moments": _SUMMARY,
    "bm_unit_daily": _SUMMARY,
    "lead_party_daily": _SUMMARY,
    # btc_prices' trigger marks days stale, as whoever writes the prices (the operator)
    "summary_stale_days": {**_SUMMARY, DatabaseRole.MARKET: "ra"},
    # Positions, events, jobs
    "consumer_positions": _pipeline(
        calculator="rawd", aggregator="rawd", reconciler="rawd", fleet="rawd", plans="rawd", operator="rawd"
    ),
    # Every writer adds events; any service's relay publishes and marks every row (one relay at a time); the
    # services running a relay prune settled rows after 30 days (one runner, under a job lease).
    "outbox": _pipeline(
        api="raw",
        ingestor="raw",
        calculator="rawd",
        aggregator="rawd",
        reconciler="raw",
        market="raw",
        fleet="raw",
        crm="raw",
        fleet_api="ra",
        plans="raw",
        plans_api="ra",
        operator="raw",
    ),
    "reconcile_jobs": _pipeline(reconciler="raw", operator="rawd"),
    # One runner per background job (migration 0750): every service that runs one takes and renews leases.
    "scheduler_locks": _pipeline(
        reconciler="rawd",
        market="rawd",
        fleet="rawd",
        crm="rawd",
        plans="rawd",
        operator="rawd",
        calculator="rawd",
        aggregator="rawd",
    ),
    # Market data (migration 1100): written by the market service.
    "market_analytics": _pipeline(market="raw", operator="rawd"),
    "market_slots": _pipeline(market="raw", operator="rawd"),
    "technical_indicators": _pipeline(market="rawd", operator="rawd"),
    # The hosting fleet (migrations 1200, 1210): the collector marks miners offline/online and logs it, the
    # HTTP app creates, edits, moves and retires them; the writer keeps the telemetry and its rollups and
    # prunes the log past its year.
    "hosting_sites": _FLEET,
    # The plans worker marks the miners it puts to sleep `curtailed` and those it wakes `active` (#20).
    "hosting_miners": {**_FLEET, PLANS: "rw"},
    "hosting_miner_placements": _FLEET,
    "miner_operation_log": _pipeline(fleet="rad", fleet_api="ra", plans="ra", operator="ra"),
    "miner_telemetry": _pipeline(fleet="ra", operator="r"),
    "miner_telemetry_hourly": _FLEET_ROLLUP,
    "site_telemetry_hourly": _FLEET_ROLLUP,
    "site_telemetry_daily": _FLEET_ROLLUP,
    "miner_telemetry_latest": _FLEET_ROLLUP,
    # Accounts (migration 1000): the API and the operator's CLI. Context services that serve HTTP resolve each
    # request's identity (read them, touch sessions' and keys' last use); the CRM also creates a won deal's
    # client and its account.
    # The fleet's and the plans' apps name each miner's client.
    "clients": {**_ACCOUNT, CRM: "ra", FLEET_API: "r", PLANS_API: "r"},
    "users": {**_ACCOUNT, **_IDENTITY_READ, CRM: "ra"},
    "user_access": {**_ACCOUNT, **_IDENTITY_READ, CRM: "ra"},
    "sessions": {**_ACCOUNT, **_IDENTITY_TOUCH, CRM: "rw"},
    "api_keys": {**_ACCOUNT, **_IDENTITY_TOUCH, CRM: "rw"},
    "login_records": {API: "ra", OPERATOR: "rad"},  # the operator prunes past the retention
    "audit_log": {API: "ra", CRM: "ra", FLEET_API: "ra", PLANS: "ra", PLANS_API: "ra", OPERATOR: "ra"},
    # The CRM (migration 1400): its service only, under row-level security; nothing is ever deleted (a lost
    # lead or a cancelled invoice stays). The operator reads it all and rescores leads.
    "crm_leads": {CRM: "raw", OPERATOR: "rw"},
    "crm_deals": {CRM: "raw", OPERATOR: "r"},
    "crm_deal_stage_history": {CRM: "ra", OPERATOR: "r"},
    "crm_activities": {CRM: "raw", OPERATOR: "r"},
    "crm_invoice_counters": {CRM: "raw", OPERATOR: "r"},
    "crm_invoices": {CRM: "raw", OPERATOR: "r"},
    # Curtailment plans (migration 1300): the HTTP app creates, approves and cancels plans and sets the
    # policies; the worker executes them (commands, measurements, timeline), runs the automatic policy and
    # keeps the half-hourly power prices.
    "curtailment_plans": {PLANS: "raw", PLANS_API: "raw", OPERATOR: "r"},
    "curtailment_plan_miners": {PLANS: "raw", PLANS_API: "ra", OPERATOR: "r"},
    "curtailment_plan_steps": {PLANS: "raw", PLANS_API: "r", OPERATOR: "r"},
    "curtailment_plan_events": {PLANS: "ra", PLANS_API: "ra", OPERATOR: "r"},
    "power_prices": {PLANS: "raw", PLANS_API: "r", OPERATOR: "rawd"},
    "plan_site_policies": {PLANS: "r", PLANS_API: "raw", OPERATOR: "raw"},
    "plan_client_minimums": {PLANS: "r", PLANS_API: "rawd", OPERATOR: "rawd"},
    "automatic_decisions": {PLANS: "ra", PLANS_API: "r", OPERATOR: "r"},
}


FUNCTION_PRIVILEGES: dict[str, tuple[DatabaseRole, ...]] = {
    # Run as their owner (SECURITY DEFINER, migration 1201): only these roles may call them.
    "ensure_miner_telemetry_partitions(date, integer)": (DatabaseRole.FLEET, OPERATOR),
    "drop_miner_telemetry_partitions_before(date)": (DatabaseRole.FLEET, OPERATOR),
    # The CRM's acts for no single request (migration 1400), each able to do only its one thing.
    "crm_lead_duplicates(text, text, bigint)": (CRM, OPERATOR),
    "crm_mark_overdue_invoices(date)": (CRM, OPERATOR),
    "crm_fire_due_reminders(timestamp with time zone)": (CRM, OPERATOR),
    "crm_link_miners_to_client(uuid, text[], uuid, text)": (CRM, OPERATOR),
}
"""Functions that act with their owner's rights, and the roles that may execute them (nobody else may)."""

PARTITION_PRIVILEGES: dict[str, dict[DatabaseRole, str]] = {
    # The telemetry writer COPYs straight into a day's partition (COPY into a table with row-level security is
    # refused to every role that does not bypass it); nobody else may touch a partition directly, so no policy
    # can be sidestepped by naming one. Partitions made later get it from ensure_miner_telemetry_partitions.
    "miner_telemetry": {DatabaseRole.FLEET: "a"},
}
"""Privileges on every partition of a partitioned table (partitions are not in TABLE_PRIVILEGES)."""


def privileges_fingerprint() -> str:
    """Changes whenever the declaration changes, so `migrate` knows to apply it again."""
    canonical: dict[str, object] = {
        table: {role.value: letters for role, letters in sorted(grants.items())}
        for table, grants in sorted(TABLE_PRIVILEGES.items())
    }
    canonical["partitions"] = {
        table: {role.value: letters for role, letters in sorted(grants.items())}
        for table, grants in sorted(PARTITION_PRIVILEGES.items())
    }
    canonical["functions"] = {
        function: sorted(role.value for role in roles)
        for function, roles in sorted(FUNCTION_PRIVILEGES.items())
    }
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()[:16]


def sql_privileges(letters: str) -> list[str]:
    return [ACL_PRIVILEGES[letter] for letter in letters]


_OWNED_ELSEWHERE = """
SELECT c.relname, c.relkind::text FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
  AND pg_get_userbyid(c.relowner) <> $1
  AND NOT EXISTS (  -- a sequence owned by a column moves with its table
      SELECT 1 FROM pg_depend AS d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i') AND c.relkind = 'S')
"""
_FUNCTIONS_OWNED_ELSEWHERE = """
SELECT p.oid::regprocedure::text FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace
WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> $1
"""
_TABLE_SEQUENCES = """
SELECT s.relname FROM pg_class AS s
JOIN pg_depend AS d ON d.objid = s.oid AND d.deptype IN ('a', 'i')
JOIN pg_class AS t ON t.oid = d.refobjid
JOIN pg_namespace AS n ON n.oid = t.relnamespace
WHERE s.relkind = 'S' AND n.nspname = 'public' AND t.relname = $1
"""
_PARTITIONS = """
SELECT child.relname FROM pg_inherits
JOIN pg_class AS child ON child.oid = pg_inherits.inhrelid
JOIN pg_class AS parent ON parent.oid = pg_inherits.inhparent
JOIN pg_namespace AS n ON n.oid = parent.relnamespace
WHERE n.nspname = 'public' AND parent.relname = $1
"""
_KIND = {"r": "TABLE", "p": "TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW", "S": "SEQUENCE"}


async def apply_privileges(connection: asyncpg.Connection) -> None:
    """Ownership to `windhash_owner`, then exactly TABLE_PRIVILEGES for the service roles (in the caller's
    transaction). A declared table the schema lacks is skipped; the roles test catches both directions."""
    owner = DatabaseRole.OWNER.value
    for name, kind in await connection.fetch(_OWNED_ELSEWHERE, owner):
        await connection.execute(f'ALTER {_KIND[kind]} public."{name}" OWNER TO {owner}')
    for (signature,) in await connection.fetch(_FUNCTIONS_OWNED_ELSEWHERE, owner):
        await connection.execute(f"ALTER FUNCTION {signature} OWNER TO {owner}")
    roles = ", ".join(role.value for role in SERVICE_ROLES)
    # The owner creates objects (migrations, and telemetry partitions through its SECURITY DEFINER functions)
    # whoever owns the database (a test's database is the superuser's).
    await connection.execute(f"GRANT CREATE, USAGE ON SCHEMA public TO {owner}")
    await connection.execute(f"GRANT USAGE ON SCHEMA public TO {roles}")
    await connection.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {roles}")
    await connection.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {roles}")
    existing = {
        row[0]
        for row in await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    }
    for function, callers in FUNCTION_PRIVILEGES.items():
        if await connection.fetchval("SELECT to_regprocedure($1)", function) is None:
            continue
        await connection.execute(f"REVOKE EXECUTE ON FUNCTION {function} FROM PUBLIC, {roles}")
        await connection.execute(
            f"GRANT EXECUTE ON FUNCTION {function} TO {', '.join(role.value for role in callers)}"
        )
    for table, grants in TABLE_PRIVILEGES.items():
        if table not in existing:
            continue
        sequences = [row[0] for row in await connection.fetch(_TABLE_SEQUENCES, table)]
        for role, letters in grants.items():
            await connection.execute(
                f'GRANT {", ".join(sql_privileges(letters))} ON public."{table}" TO {role.value}'
            )
            if "a" in letters:
                for sequence in sequences:
                    await connection.execute(f'GRANT USAGE ON SEQUENCE public."{sequence}" TO {role.value}')
    for parent, grants in PARTITION_PRIVILEGES.items():
        for (partition,) in await connection.fetch(_PARTITIONS, parent):
            for role, letters in grants.items():
                privileges = ", ".join(sql_privileges(letters))
                await connection.execute(f'GRANT {privileges} ON public."{partition}" TO {role.value}')
