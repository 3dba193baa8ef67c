"""SQL of plans: creating one with its miners, locking it for a transition, its timeline (migration 1300)."""

PLAN_COLUMNS = """
plan_id, site_id, plan_type, miner_model, target_reduction_mw, hold_minutes, scheduled_at, recovery_at,
status, phase, failure_reason, note, miners_affected, power_before_mw, power_after_mw, power_reduced_mw,
sleeps_planned_at, wakeups_planned_at, started_at, executed_at, recovery_started_at, recovered_at, created_by,
created_by_actor, approved_by, approved_at, idempotency_key, created_at, updated_at
"""

INSERT_PLAN = f"""
INSERT INTO curtailment_plans (site_id, plan_type, miner_model, target_reduction_mw, hold_minutes,
                               scheduled_at, recovery_at, note, miners_affected, created_by, created_by_actor,
                               idempotency_key)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
ON CONFLICT DO NOTHING
RETURNING {PLAN_COLUMNS}
"""

PLAN_BY_IDEMPOTENCY_KEY = f"SELECT {PLAN_COLUMNS} FROM curtailment_plans WHERE idempotency_key = $1"

AUTOMATIC_PLAN = f"""
SELECT {PLAN_COLUMNS} FROM curtailment_plans
 WHERE plan_type = 'automatic' AND site_id = $1 AND miner_model = $2 AND scheduled_at = $3
"""

INSERT_PLAN_MINERS = """
INSERT INTO curtailment_plan_miners (plan_id, miner_id, shutdown_order, drawing_w, efficiency_j_per_th,
                                     temperature_c)
SELECT $1, miner_id, shutdown_order, drawing_w, efficiency, temperature
  FROM unnest($2::bigint[], $3::int[], $4::numeric[], $5::numeric[], $6::real[])
       AS chosen(miner_id, shutdown_order, drawing_w, efficiency, temperature)
"""

LOCK_PLAN = f"SELECT {PLAN_COLUMNS} FROM curtailment_plans WHERE plan_id = $1 FOR UPDATE"

INSERT_EVENT = """
INSERT INTO curtailment_plan_events (plan_id, event_type, status, phase, actor, user_id, details)
VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)
RETURNING occurred_at
"""

PLAN_MINER_IDS = """
SELECT miner_id FROM curtailment_plan_miners WHERE plan_id = $1 ORDER BY shutdown_order
"""

RECORD_MINER_POWER = """
UPDATE curtailment_plan_miners AS pm
   SET power_before_w = measured.before_w, power_after_w = measured.after_w
  FROM unnest($2::bigint[], $3::numeric[], $4::numeric[]) AS measured(miner_id, before_w, after_w)
 WHERE pm.plan_id = $1 AND pm.miner_id = measured.miner_id
"""
