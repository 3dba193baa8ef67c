"""Ending a shutdown: once every sleep of a plan is settled, its drop is measured from telemetry and the plan
is confirmed `executed` with the measured power, or `failed` with the reason (then recovered)."""

from collections.abc import Awaitable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

import asyncpg
import structlog

from windhash_plans import metrics
from windhash_plans.domain.plan_states import PlanAction, PlanPhase
from windhash_plans.domain.power_measurement import MeasurementRules, measure
from windhash_plans.queries import plans as plan_queries
from windhash_plans.queries import steps as queries
from windhash_plans.settings import PlansSettings
from windhash_plans.shutdown_measurement import SleptMiner, Windows, gather

log = structlog.get_logger(__name__)
MW_PLACES = Decimal("0.000001")
W_PLACES = Decimal("0.001")


class Transition(Protocol):
    def __call__(
        self,
        plan_id: int,
        action: PlanAction,
        changes: dict[str, Any] | None = None,
        details: dict[str, Any] | None = None,
        connection: asyncpg.Connection | None = None,
    ) -> Awaitable[asyncpg.Record | None]: ...


class ShutdownJudge:
    def __init__(self, settings: PlansSettings, pool: asyncpg.Pool, transition: Transition) -> None:
        self.pool = pool
        self.transition = transition
        self.windows = Windows(
            before=timedelta(seconds=settings.plans_measure_before_s),
            settle=timedelta(seconds=settings.plans_measure_settle_s),
            timeout=timedelta(seconds=settings.plans_measure_timeout_s),
        )
        self.rules = MeasurementRules(
            min_fraction=settings.plans_min_reduction_fraction,
            dropped_below=settings.plans_dropped_below_fraction,
        )

    async def measure_shutdowns(self, now: datetime) -> None:
        async with self.pool.acquire() as connection:
            settled = await connection.fetch(queries.PLANS_SETTLED, PlanPhase.SHUTTING_DOWN.value)
        for plan in settled:
            await self._judge(plan, now)

    async def _judge(self, plan: asyncpg.Record, now: datetime) -> None:
        plan_id = plan["plan_id"]
        async with self.pool.acquire() as connection:
            outcomes = await connection.fetch(queries.SLEEP_OUTCOMES, plan_id)
        slept = [
            SleptMiner(row["miner_id"], row["serial_number"], row["done_at"])
            for row in outcomes
            if row["state"] == "done"
        ]
        if not outcomes:
            return  # its sleeps are not planned yet
        if not slept:
            errors = "; ".join(f"{row['serial_number']}: {row['last_error']}" for row in outcomes[:10])
            await self._failed(plan_id, f"no miner accepted the sleep command ({errors})", {})
            return
        async with self.pool.acquire() as connection:
            gathered = await gather(connection, slept, plan["started_at"], self.windows, now)
        if not gathered.complete:
            return
        measurement = measure(gathered.powers, plan["target_reduction_mw"], self.rules)
        ids = {miner.serial: miner.miner_id for miner in slept}
        async with self.pool.acquire() as connection, connection.transaction():
            await connection.execute(
                plan_queries.RECORD_MINER_POWER,
                plan_id,
                [ids[miner.serial] for miner in measurement.miners],
                [_watts(miner.before_w) for miner in measurement.miners],
                [_watts(miner.after_w) for miner in measurement.miners],
            )
            figures = {
                "power_before_mw": measurement.before_mw.quantize(MW_PLACES),
                "power_after_mw": measurement.after_mw.quantize(MW_PLACES),
                "power_reduced_mw": measurement.reduced_mw.quantize(MW_PLACES),
            }
            unmeasured = [miner.serial for miner in measurement.miners if not miner.measured]
            details = dict(figures) | ({"unmeasured": unmeasured} if unmeasured else {})
            if measurement.confirmed:
                changes = figures | {"executed_at": now}
                await self.transition(plan_id, PlanAction.MEASURED, changes, details, connection)
                metrics.POWER_REDUCED_MW.set(float(measurement.reduced_mw))
            else:
                assert measurement.reason is not None
                await self._failed(plan_id, measurement.reason, figures, connection)
        log.info("shutdown measured", plan_id=plan_id, reduced_mw=str(measurement.reduced_mw))

    async def _failed(
        self,
        plan_id: int,
        reason: str,
        figures: dict[str, Any],
        connection: asyncpg.Connection | None = None,
    ) -> None:
        changes = figures | {"failure_reason": reason[:2000]}
        await self.transition(plan_id, PlanAction.SHUTDOWN_FAILED, changes, {"reason": reason}, connection)


def _watts(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(W_PLACES)
