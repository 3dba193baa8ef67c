"""SQL of what people read about plans (the HTTP app; run in the request's identity, so a client's rows are
limited by row-level security whatever the WHERE clause)."""

LIST_PLANS = """
SELECT plan.plan_id, plan.site_id, site.name AS site_name, plan.plan_type, plan.miner_model,
       plan.target_reduction_mw, plan.scheduled_at, plan.recovery_at, plan.status, plan.phase,
       plan.miners_affected, plan.power_reduced_mw, plan.failure_reason, plan.created_by_actor,
       plan.created_at, plan.executed_at, plan.recovered_at,
       count(*) OVER () AS total
  FROM curtailment_plans AS plan
  JOIN hosting_sites AS site USING (site_id)
 WHERE ($1::bigint IS NULL OR plan.site_id = $1) AND ($2::text IS NULL OR plan.status = $2)
 ORDER BY plan.created_at DESC, plan.plan_id DESC
 LIMIT $3 OFFSET $4
"""

PLAN = """
SELECT plan.*, site.name AS site_name
  FROM curtailment_plans AS plan JOIN hosting_sites AS site USING (site_id)
 WHERE plan.plan_id = $1
"""

TIMELINE = """
SELECT event_type, status, phase, actor, occurred_at, details FROM curtailment_plan_events
 WHERE plan_id = $1 ORDER BY event_id
"""

# The plan's miners a caller may see (a client: its own), in shutdown order, with their first sleep and
# their wake-up.
PLAN_MINERS = """
SELECT pm.shutdown_order, miner.serial_number, miner.miner_model, miner.status, miner.client_id,
       pm.drawing_w, pm.efficiency_j_per_th, pm.temperature_c, pm.power_before_w, pm.power_after_w,
       sleep.state AS sleep_state, sleep.done_at AS slept_at, sleep.observed AS sleep_observed,
       wake.state AS wakeup_state, wake.done_at AS woken_at, wake.observed AS wakeup_observed,
       coalesce(wake.last_error, sleep.last_error) AS last_error
  FROM curtailment_plan_miners AS pm
  JOIN hosting_miners AS miner USING (miner_id)
  LEFT JOIN curtailment_plan_steps AS sleep
         ON sleep.plan_id = pm.plan_id AND sleep.miner_id = pm.miner_id AND sleep.command = 'sleep'
        AND sleep.round = 1
  LEFT JOIN curtailment_plan_steps AS wake
         ON wake.plan_id = pm.plan_id AND wake.miner_id = pm.miner_id AND wake.command = 'wakeup'
 WHERE pm.plan_id = $1
 ORDER BY pm.shutdown_order
"""

SITE_EXISTS = "SELECT 1 FROM hosting_sites WHERE site_id = $1"
