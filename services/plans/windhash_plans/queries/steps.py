"""SQL of the executor's commands (`curtailment_plan_steps`, migration 1300): planning them, finding the due
ones, recording each before and after it goes out."""

INSERT_STEPS = """
INSERT INTO curtailment_plan_steps (plan_id, miner_id, command, round, sequence, due_at)
SELECT $1, miner_id, command, round, sequence, due_at
  FROM unnest($2::bigint[], $3::text[], $4::int[], $5::int[], $6::timestamptz[])
       AS step(miner_id, command, round, sequence, due_at)
ON CONFLICT (plan_id, miner_id, command, round) DO NOTHING
"""

MARK_SLEEPS_PLANNED = "UPDATE curtailment_plans SET sleeps_planned_at = $2 WHERE plan_id = $1"
MARK_WAKEUPS_PLANNED = "UPDATE curtailment_plans SET wakeups_planned_at = $2 WHERE plan_id = $1"

SKIP_PENDING_SLEEPS = """
UPDATE curtailment_plan_steps SET state = 'skipped', done_at = $2, last_error = 'the plan is recovering'
 WHERE plan_id = $1 AND command = 'sleep' AND state = 'pending'
"""

# Every miner a sleep was (or may have been) sent to, in shutdown order: woken in the reverse order.
MINERS_TO_WAKE = """
SELECT pm.miner_id
  FROM curtailment_plan_miners AS pm
 WHERE pm.plan_id = $1
   AND EXISTS (SELECT 1 FROM curtailment_plan_steps AS step
                WHERE step.plan_id = pm.plan_id AND step.miner_id = pm.miner_id AND step.command = 'sleep'
                  AND step.state IN ('sending', 'done', 'failed'))
 ORDER BY pm.shutdown_order
"""

# Plans still holding a miner that came back awake: its last sleep round, to put it back to sleep.
HOLDING_PLANS_OF_MINER = """
SELECT plan.plan_id, pm.shutdown_order, max(step.round) AS last_round
  FROM hosting_miners AS miner
  JOIN curtailment_plan_miners AS pm USING (miner_id)
  JOIN curtailment_plans AS plan USING (plan_id)
  JOIN curtailment_plan_steps AS step
       ON step.plan_id = pm.plan_id AND step.miner_id = pm.miner_id AND step.command = 'sleep'
 WHERE miner.serial_number = $1 AND plan.phase IN ('shutting_down', 'holding')
 GROUP BY plan.plan_id, pm.shutdown_order
HAVING bool_and(step.state IN ('done', 'failed', 'skipped'))
"""

MINER_ID = "SELECT miner_id FROM hosting_miners WHERE serial_number = $1"

# Commands due now, with what sending them needs: the miner's address and the plan's state. A command is due
# at its due time and, after a failed try, at its next try.
DUE_STEPS = """
SELECT step.step_id, step.plan_id, step.miner_id, step.command, step.round, step.sequence, step.due_at,
       step.state, step.attempts, miner.serial_number, miner.api_host, miner.api_port,
       (SELECT max(other.sent_at) FROM curtailment_plan_steps AS other
         WHERE other.plan_id = step.plan_id AND other.command = step.command
           AND other.step_id <> step.step_id)
       AS last_sent_at
  FROM curtailment_plan_steps AS step
  JOIN hosting_miners AS miner USING (miner_id)
 WHERE step.state IN ('pending', 'sending') AND step.due_at <= $1
   AND (step.next_try_at IS NULL OR step.next_try_at <= $1)
 ORDER BY step.due_at, step.step_id
 LIMIT $2
"""

LOCK_STEP = """
SELECT step_id, plan_id, command, state, attempts FROM curtailment_plan_steps WHERE step_id = $1 FOR UPDATE
"""

CLAIM_STEP = """
UPDATE curtailment_plan_steps SET state = 'sending', attempts = attempts + 1, sent_at = $2, next_try_at = NULL
 WHERE step_id = $1
RETURNING attempts
"""

FINISH_STEP = """
UPDATE curtailment_plan_steps SET state = $2, done_at = $3, observed = $4, last_error = $5
 WHERE step_id = $1 AND state = 'sending'
RETURNING step_id
"""

RETRY_STEP = """
UPDATE curtailment_plan_steps SET next_try_at = $2, last_error = $3 WHERE step_id = $1 AND state = 'sending'
"""

SKIP_STEP = """
UPDATE curtailment_plan_steps SET state = 'skipped', done_at = $2, last_error = $3
 WHERE step_id = $1 AND state IN ('pending', 'sending')
"""

MARK_MINER = """
UPDATE hosting_miners SET status = $3, status_changed_at = now(), updated_at = now()
 WHERE miner_id = $1 AND status = $2
"""

LOG_OPERATION = """
INSERT INTO miner_operation_log (miner_id, operation, performed_by, actor, details)
VALUES ($1, $2, $3, $4, $5::jsonb)
"""

# Plans whose commands of one kind are all settled (none pending or in flight): a shutdown to measure, or a
# recovery to close.
PLANS_SETTLED = """
SELECT plan.plan_id, plan.site_id, plan.status, plan.phase, plan.target_reduction_mw, plan.started_at,
       plan.recovery_at, plan.wakeups_planned_at, plan.recovery_started_at
  FROM curtailment_plans AS plan
 WHERE plan.phase = $1
   AND NOT EXISTS (SELECT 1 FROM curtailment_plan_steps AS step
                    WHERE step.plan_id = plan.plan_id AND step.state IN ('pending', 'sending'))
"""

SLEEP_OUTCOMES = """
SELECT step.miner_id, miner.serial_number, step.state, step.done_at, step.last_error
  FROM curtailment_plan_steps AS step
  JOIN hosting_miners AS miner USING (miner_id)
 WHERE step.plan_id = $1 AND step.command = 'sleep' AND step.round = 1
 ORDER BY step.sequence
"""

WAKEUP_FAILURES = """
SELECT miner.serial_number, step.last_error
  FROM curtailment_plan_steps AS step JOIN hosting_miners AS miner USING (miner_id)
 WHERE step.plan_id = $1 AND step.command = 'wakeup' AND step.state = 'failed'
"""

# Plans whose time has come: approved ones past their recovery time (never started), executing or holding
# ones at or past it, and recovering ones whose wake-ups were never planned.
PLANS_DUE = """
SELECT plan_id, status, phase, recovery_at, recovery_started_at, wakeups_planned_at
  FROM curtailment_plans
 WHERE (phase IN ('idle', 'shutting_down', 'holding') AND status IN ('approved', 'executing', 'executed')
        AND recovery_at <= $1)
    OR (phase = 'recovering' AND wakeups_planned_at IS NULL AND recovery_started_at <= $2)
"""

# How long the most overdue command has waited (seconds), ignoring those waiting for a retry.
MOST_OVERDUE = """
SELECT extract(epoch FROM $1 - min(due_at))::float8
  FROM curtailment_plan_steps
 WHERE state IN ('pending', 'sending') AND due_at <= $1 AND (next_try_at IS NULL OR next_try_at <= $1)
"""

# Miners a plan put to sleep that are not awake again although the plan's recovery began (or was due) before
# $1: what nobody may ever leave behind.
MINERS_PAST_RECOVERY = """
SELECT count(*) FROM (
    SELECT DISTINCT slept.plan_id, slept.miner_id
      FROM curtailment_plan_steps AS slept
      JOIN curtailment_plans AS plan USING (plan_id)
     WHERE slept.command = 'sleep' AND slept.state = 'done'
       AND least(plan.recovery_at, plan.recovery_started_at) <= $1
       AND NOT EXISTS (SELECT 1 FROM curtailment_plan_steps AS woken
                        WHERE woken.plan_id = slept.plan_id AND woken.miner_id = slept.miner_id
                          AND woken.command = 'wakeup' AND woken.state = 'done')
) AS stranded
"""
