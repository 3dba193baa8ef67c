"""The automatic policy against real PostgreSQL, fed by the synthetic Elexon market index over HTTP and a
market snapshot: an administrator turns it on for a site, it curtails the model when the half hour's power
costs more than the model mines (an automatic plan, approved by the policy), keeps it curtailed while that
lasts and resumes it when mining pays again, recording every decision with its inputs for audit."""

import asyncio
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import asyncpg
import pytest
from windhash_common.access.roles import Role
from windhash_common.bitcoin import block_reward_btc
from windhash_common.db_roles import DatabaseRole, dsn_as
from windhash_common.hashprice import btc_per_mwh
from windhash_common.topics import Topics
from windhash_elexon_sim.server import ElexonSimServer
from windhash_plans.automatic_policy import AutomaticPolicy
from windhash_plans.domain.economics import Action
from windhash_plans.price_sync import PriceSync
from windhash_plans.settings import PlansSettings
from windhash_testing.fleet_telemetry import register_site
from windhash_testing.plans_world import PlansWorld

pytestmark = pytest.mark.integration
DAY = date(2024, 3, 5)
DIFFICULTY = Decimal("79350985365209.25")


async def _snapshot(dsn: str, slot_at: datetime, price_gbp: Decimal) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(
            "INSERT INTO market_analytics (slot_at, price_usd, price_gbp, volume_24h_usd, hashrate_ehs,"
            " difficulty, block_height, block_reward_btc, price_quoted_at, block_mined_at, collected_at,"
            " backfilled, synthetic)"
            " VALUES ($1, $2 * 1.27, $2, 1e9, 600, $3, 834000, $4, $1, $1, $1, false, true)",
            slot_at,
            price_gbp,
            DIFFICULTY,
            block_reward_btc(slot_at),
        )
    finally:
        await connection.close()


async def test_the_policy_curtails_when_power_costs_more_than_mining_and_resumes_when_it_pays(
    pg_dsn: str,
) -> None:
    topics = Topics("plans-policy-test")
    superuser = await asyncpg.connect(pg_dsn)
    try:
        site_id, _ = await register_site(superuser, "Policy site", [f"POL-{n}" for n in range(4)], 77, topics)
    finally:
        await superuser.close()
    settings = PlansSettings(database_url=dsn_as(pg_dsn, DatabaseRole.PLANS), topic_prefix=topics.prefix)
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=4)
    assert pool is not None
    world = await PlansWorld.open(pg_dsn, topics)
    try:
        with ElexonSimServer() as elexon:
            async with PriceSync.open(
                settings.model_copy(update={"elexon_base_url": elexon.base_url}), pool
            ) as sync:
                (synced,) = await sync.sync([DAY])
        assert synced.stored == 48 and synced.missing == 0
        prices = await pool.fetch(
            "SELECT start_time, price_gbp_per_mwh FROM power_prices WHERE settlement_date = $1"
            " ORDER BY start_time",
            DAY,
        )
        dear = max(prices, key=lambda row: row["price_gbp_per_mwh"])
        cheap = min((row for row in prices if row["start_time"] > dear["start_time"] + timedelta(hours=1)),
                    key=lambda row: row["price_gbp_per_mwh"])  # fmt: skip
        # A BTC price that puts the S19J Pro's hashprice 10 % under the dearest half hour's power: the S21 and
        # the M60S (over 1.6 times as efficient) still pay there.
        hashprice = dear["price_gbp_per_mwh"] * Decimal("0.9")
        assert cheap["price_gbp_per_mwh"] < hashprice * Decimal("0.95")
        mined = btc_per_mwh(Decimal(100), Decimal(3050), DIFFICULTY, block_reward_btc(dear["start_time"]))
        btc_gbp = (hashprice / mined).quantize(Decimal("0.01"))
        for moment in (dear["start_time"], cheap["start_time"]):  # the market service's snapshots of the time
            await _snapshot(pg_dsn, moment - timedelta(minutes=10), btc_gbp)

        admin = await world.add("admin@example.com", Role.ADMIN)
        body = {"automatic_enabled": True, "price_source": "market_index", "hysteresis_fraction": "0.05",
                "min_on_minutes": 0, "min_off_minutes": 60, "max_hold_minutes": 240}  # fmt: skip
        put = await world.call("admin@example.com", "PUT", f"/api/v1/plans/policies/{site_id}", body)
        assert put.status_code == 200, put.text
        staff = await world.call("admin@example.com", "GET", f"/api/v1/plans/policies/{site_id}")
        assert staff.json()["automatic_enabled"] is True

        policy = AutomaticPolicy(settings, pool, asyncio.Event())
        at = dear["start_time"] + timedelta(minutes=5)
        decided = {d.inputs.miner_model: d for d in await policy.evaluate(at)}
        s19 = decided["S19J_PRO"]
        assert s19.action is Action.CURTAIL, s19.reason
        assert decided["S21"].action is decided["M60S"].action is Action.KEEP_RUNNING
        plan = await pool.fetchrow("SELECT * FROM curtailment_plans WHERE plan_type = 'automatic'")
        assert (plan["status"], plan["miner_model"], plan["approved_by"]) == ("approved", "S19J_PRO", admin)
        assert plan["recovery_at"] == plan["scheduled_at"] + timedelta(hours=4)
        miners = await pool.fetch(
            "SELECT miner_id FROM curtailment_plan_miners WHERE plan_id = $1", plan["plan_id"]
        )
        assert len(miners) == 2  # the site's two S19J Pros (POL-0, POL-3)

        later = {d.inputs.miner_model: d for d in await policy.evaluate(at + timedelta(minutes=10))}
        assert later["S19J_PRO"].action is Action.KEEP_CURTAILED

        resumed = {
            d.inputs.miner_model: d for d in await policy.evaluate(cheap["start_time"] + timedelta(minutes=1))
        }
        assert resumed["S19J_PRO"].action is Action.RESUME, resumed["S19J_PRO"].reason
        plan = await pool.fetchrow("SELECT * FROM curtailment_plans WHERE plan_id = $1", plan["plan_id"])
        assert plan["recovery_at"] == cheap["start_time"] + timedelta(minutes=1)

        audit = await world.call("admin@example.com", "GET", "/api/v1/plans/decisions", site_id=site_id)
        rows = [row for row in audit.json() if row["miner_model"] == "S19J_PRO"]
        assert [row["action"] for row in rows] == ["resume", "keep_curtailed", "curtail"]
        curtail = rows[-1]
        assert Decimal(str(curtail["power_price_gbp_per_mwh"])) == dear["price_gbp_per_mwh"]
        assert Decimal(str(curtail["difficulty"])) == DIFFICULTY
        assert Decimal(str(curtail["hashprice_gbp_per_mwh"])) == pytest.approx(hashprice, abs=Decimal("0.01"))
        assert curtail["plan_id"] == plan["plan_id"] and curtail["btc_price_gbp"] is not None
        timeline = await pool.fetch(
            "SELECT event_type, actor FROM curtailment_plan_events WHERE plan_id = $1 ORDER BY event_id",
            plan["plan_id"],
        )
        assert [row["event_type"] for row in timeline] == [
            "plan.created",
            "plan.approved",
            "plan.rescheduled",
        ]
        assert {row["actor"] for row in timeline} == {"plans-policy"}
        refused = await world.call("admin@example.com", "POST", "/api/v1/plans/", {"site_id": site_id,
                                   "plan_type": "automatic", "target_reduction_mw": "0.001"})  # fmt: skip
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "automatic_plans_from_policy"
    finally:
        await world.close()
        await pool.close()


async def test_without_a_recent_market_snapshot_the_policy_changes_nothing(pg_dsn: str) -> None:
    topics = Topics("plans-policy-test")
    superuser = await asyncpg.connect(pg_dsn)
    try:
        site_id, _ = await register_site(superuser, "Tariff site", ["TAR-0"], 78, topics)
        await superuser.execute(
            "INSERT INTO plan_site_policies (site_id, automatic_enabled, price_source, tariff_gbp_per_mwh,"
            " updated_by_actor) VALUES ($1, true, 'tariff', 500, 'test')",
            site_id,
        )
    finally:
        await superuser.close()
    await _snapshot(pg_dsn, datetime(2024, 3, 5, tzinfo=UTC), Decimal(50000))
    settings = PlansSettings(database_url=dsn_as(pg_dsn, DatabaseRole.PLANS), topic_prefix=topics.prefix)
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=2)
    assert pool is not None
    try:
        policy = AutomaticPolicy(settings, pool, asyncio.Event())
        (decision,) = await policy.evaluate(datetime(2024, 3, 5, 6, tzinfo=UTC))  # snapshot 6 h old
        assert decision.action is Action.KEEP_RUNNING and "no recent market snapshot" in decision.reason
        assert await pool.fetchval("SELECT count(*) FROM curtailment_plans") == 0
        recorded = await pool.fetchrow("SELECT * FROM automatic_decisions")
        assert recorded["power_price_gbp_per_mwh"] == 500 and recorded["difficulty"] is None
    finally:
        await pool.close()
