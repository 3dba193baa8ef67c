"""The automatic policy, every `WINDHASH_PLANS_POLICY_INTERVAL_S` (one worker at a time, lease
`plans/policy`): for each site that runs it and each model there, `domain.economics.decide`, then

    curtail        → an automatic plan of that model's miners (`domain.miner_choice`, client minimums kept),
                     approved by the site's policy (whose administrator turned it on), recovery at
                     now + the policy's maximum hold;
    resume         → the plan's recovery time moved to now (the executor wakes the miners);
    keep_curtailed → the plan's recovery time pushed on by the maximum hold when it comes near, so miners
                     stay asleep while mining does not pay; if this process stops, they come back by
                     themselves at the last recovery time (the executor holds them no longer);
and the decision, with its inputs (power price, hashprice, difficulty, block reward, BTC price), stored in
`automatic_decisions` whenever it changes and once per half hour.
"""

import asyncio
import contextlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import asyncpg
import structlog
from windhash_common.audit import Actor

from windhash_plans import metrics
from windhash_plans.domain.economics import (
    Action,
    Decision,
    MarketMoment,
    ModelSpec,
    PolicyRules,
    RunState,
    decide,
    decision_inputs,
)
from windhash_plans.domain.plan_states import PlanAction
from windhash_plans.plan_store import NewPlan, create_plan, transition
from windhash_plans.queries import policy as queries
from windhash_plans.queries import prices as price_queries
from windhash_plans.settings import PlansSettings
from windhash_plans.site_candidates import site_miners

log = structlog.get_logger(__name__)
Clock = Callable[[], datetime]
HALF_HOUR = timedelta(minutes=30)
MW_PLACES = Decimal("0.000001")


def _now() -> datetime:
    return datetime.now(UTC)


def period_start(at: datetime) -> datetime:
    return at.replace(minute=0 if at.minute < 30 else 30, second=0, microsecond=0)


def site_rules(row: asyncpg.Record) -> PolicyRules:
    return PolicyRules(
        hysteresis=row["hysteresis_fraction"],
        min_on=timedelta(minutes=row["min_on_minutes"]),
        min_off=timedelta(minutes=row["min_off_minutes"]),
    )


class AutomaticPolicy:
    def __init__(
        self, settings: PlansSettings, pool: asyncpg.Pool, relay_wake: asyncio.Event, clock: Clock = _now
    ) -> None:
        self.settings, self.pool, self.relay_wake, self.clock = settings, pool, relay_wake, clock

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.evaluate(self.clock())
            except (OSError, asyncpg.PostgresError) as error:
                log.warning("automatic policy could not run; next interval", error=str(error))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.settings.plans_policy_interval_s)

    async def evaluate(self, now: datetime) -> list[Decision]:
        async with self.pool.acquire() as connection:
            sites = await connection.fetch(queries.ENABLED_SITES)
            oldest = now - timedelta(minutes=self.settings.plans_market_max_age_minutes)
            snapshot = await connection.fetchrow(queries.MARKET_MOMENT, oldest)
        market = None
        if snapshot is not None:
            market = MarketMoment(
                snapshot["difficulty"],
                snapshot["block_reward_btc"],
                snapshot["price_gbp"],
                snapshot["slot_at"],
            )
        decisions = []
        for site in sites:
            decisions += await self._site(site, market, now)
        return decisions

    async def _price(
        self, connection: asyncpg.Connection, site: asyncpg.Record, now: datetime
    ) -> Decimal | None:
        if site["price_source"] == "tariff":
            tariff: Decimal = site["tariff_gbp_per_mwh"]
            return tariff
        row = await connection.fetchrow(price_queries.PRICE_AT, now)
        return None if row is None else Decimal(row["price_gbp_per_mwh"])

    async def _site(self, site: asyncpg.Record, market: MarketMoment | None, now: datetime) -> list[Decision]:
        rules = site_rules(site)
        decisions = []
        async with self.pool.acquire() as connection:
            price = await self._price(connection, site, now)
            models = await connection.fetch(queries.SITE_MODELS, site["site_id"])
        for model in models:
            spec = ModelSpec(model["name"], model["hashrate_ths"], model["power_w"])
            async with self.pool.acquire() as connection, connection.transaction():
                decision = await self._model(connection, site, spec, price, market, rules, now)
            metrics.DECISIONS.labels(decision.action.value).inc()
            decisions.append(decision)
        return decisions

    async def _model(
        self,
        connection: asyncpg.Connection,
        site: asyncpg.Record,
        spec: ModelSpec,
        price: Decimal | None,
        market: MarketMoment | None,
        rules: PolicyRules,
        now: datetime,
    ) -> Decision:
        site_id = site["site_id"]
        plan = await connection.fetchrow(queries.OPEN_AUTOMATIC_PLAN, site_id, spec.name)
        if plan is not None:
            state = RunState(True, plan["scheduled_at"])
        else:
            state = RunState(False, await connection.fetchval(queries.LAST_RECOVERY, site_id, spec.name))
        inputs = decision_inputs(spec, period_start(now), price, site["price_source"], market)
        decision = decide(inputs, state, rules, now)
        actor = Actor("plans-policy", site["updated_by"])
        hold = timedelta(minutes=site["max_hold_minutes"])
        plan_id = None if plan is None else plan["plan_id"]
        if decision.action is Action.CURTAIL:
            plan_id, decision = await self._curtail(connection, site, spec, decision, actor, hold, now)
        elif decision.action is Action.RESUME and plan is not None:
            await self._reschedule(connection, plan["plan_id"], now, actor, decision)
        elif decision.action is Action.KEEP_CURTAILED and plan is not None and self._ends_soon(plan, now):
            await self._reschedule(connection, plan["plan_id"], now + hold, actor, decision)
        await self._record(connection, site_id, decision, plan_id, now)
        return decision

    def _ends_soon(self, plan: asyncpg.Record, now: datetime) -> bool:
        """Its recovery comes before the policy's next two looks: pushed on while mining does not pay."""
        soon = 2 * timedelta(seconds=self.settings.plans_policy_interval_s)
        ends: datetime = plan["recovery_at"]
        return ends - now <= soon

    async def _curtail(
        self,
        connection: asyncpg.Connection,
        site: asyncpg.Record,
        spec: ModelSpec,
        decision: Decision,
        actor: Actor,
        hold: timedelta,
        now: datetime,
    ) -> tuple[int | None, Decision]:
        miners = (await site_miners(connection, site["site_id"], now)).of_model(spec.name)
        choice = miners.choose_all()
        if choice is None or not choice.chosen:
            reason = f"{decision.reason}; but no miner of {spec.name} can be curtailed"
            return None, Decision(Action.KEEP_RUNNING, reason, decision.inputs)
        at = now.replace(microsecond=0)
        new = NewPlan(
            site_id=site["site_id"],
            plan_type="automatic",
            target_reduction_mw=choice.reached_mw.quantize(MW_PLACES),
            miners=choice.chosen,
            scheduled_at=at,
            recovery_at=at + hold,
            miner_model=spec.name,
            note=f"automatic: {decision.reason}"[:1000],
        )
        plan, made = await create_plan(connection, self.settings.topics, new, actor)
        if made:
            changes = {"approved_by": site["updated_by"], "approved_at": now}
            details = {"approved_by_policy_of": site["updated_by_actor"]}
            await transition(
                connection, self.settings.topics, plan["plan_id"], PlanAction.APPROVE, actor, changes, details
            )
            self.relay_wake.set()
            log.info("automatic plan", site_id=site["site_id"], model=spec.name, plan_id=plan["plan_id"])
        return plan["plan_id"], decision

    async def _reschedule(
        self,
        connection: asyncpg.Connection,
        plan_id: int,
        recovery_at: datetime,
        actor: Actor,
        decision: Decision,
    ) -> None:
        details = {"reason": decision.reason, "action": decision.action.value}
        await transition(
            connection,
            self.settings.topics,
            plan_id,
            PlanAction.RESCHEDULE,
            actor,
            {"recovery_at": recovery_at},
            details,
        )
        self.relay_wake.set()

    async def _record(
        self,
        connection: asyncpg.Connection,
        site_id: int,
        decision: Decision,
        plan_id: int | None,
        now: datetime,
    ) -> None:
        inputs = decision.inputs
        last = await connection.fetchrow(queries.LAST_DECISION, site_id, inputs.miner_model)
        changed = (
            last is None or last["action"] != decision.action or last["period_start"] != inputs.period_start
        )
        if not changed and decision.action not in (Action.CURTAIL, Action.RESUME):
            return
        market = inputs.market
        hashprice = (
            None
            if inputs.hashprice_gbp_per_mwh is None
            else inputs.hashprice_gbp_per_mwh.quantize(Decimal("0.0001"))
        )
        await connection.execute(
            queries.INSERT_DECISION,
            site_id,
            inputs.miner_model,
            now,
            inputs.period_start,
            decision.action.value,
            decision.reason[:2000],
            inputs.price_source,
            inputs.power_price_gbp_per_mwh,
            hashprice,
            None if market is None else market.difficulty,
            None if market is None else market.block_reward_btc,
            None if market is None else market.btc_price_gbp,
            None if market is None else market.observed_at,
            plan_id,
        )
