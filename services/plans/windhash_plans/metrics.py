"""The plans worker's metrics (on WINDHASH_METRICS_PORT, 9108; the HTTP app's /metrics has the same
process-wide registry). Alerts in deploy/prometheus/alerts.yml (`WindhashPlans*`), dashboard
deploy/grafana/dashboards/plans.json."""

from prometheus_client import Counter, Gauge, Histogram

COMMANDS = Counter(
    "windhash_plans_commands_total",
    "Commands to miners by the executor, by command (sleep, wakeup) and outcome: sent, already (the miner"
    " was found so: nothing sent), retry (a try failed), failed (gave up), skipped (no longer wanted)",
    ["command", "outcome"],
)
COMMAND_SECONDS = Histogram(
    "windhash_plans_command_seconds",
    "Time to read a miner's state and, when needed, send it a command",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
TRANSITIONS = Counter(
    "windhash_plans_transitions_total", "Plan transitions made by the worker, by event", ["event"]
)
STEPS_OVERDUE_SECONDS = Gauge(
    "windhash_plans_steps_overdue_seconds",
    "How long the most overdue command has been due (0 when none is)",
)
MINERS_PAST_RECOVERY = Gauge(
    "windhash_plans_miners_past_recovery",
    "Miners a plan put to sleep and has not woken although its recovery time passed over a minute ago",
)
WAKEUPS_FAILED = Counter(
    "windhash_plans_wakeups_failed_total", "Miners the executor could not wake after every try"
)
POWER_REDUCED_MW = Gauge(
    "windhash_plans_power_reduced_mw", "Power reduction measured from telemetry for the latest plan executed"
)
EXECUTOR_HOLDS_LEASE = Gauge(
    "windhash_plans_executor_lease_held", "1 while this worker holds the executor's lease (plans/executor)"
)
DECISIONS = Counter(
    "windhash_plans_automatic_decisions_total",
    "Decisions of the automatic policy, by action (curtail, resume, keep_running, keep_curtailed)",
    ["action"],
)
PRICE_SYNCS = Counter(
    "windhash_plans_price_syncs_total",
    "Power price syncs from Elexon's market index, by outcome",
    ["outcome"],
)
POWER_PRICE_AGE_SECONDS = Gauge(
    "windhash_plans_power_price_age_seconds",
    "Age of the newest half-hourly power price stored (from its period's start)",
)


def export_zeros() -> None:
    """Every labelled series at 0 from the start, so dashboards and rates have data before the first plan."""
    for command in ("sleep", "wakeup"):
        for outcome in ("sent", "already", "retry", "failed", "skipped"):
            COMMANDS.labels(command, outcome)
    for action in ("approve", "start", "measured", "shutdown_failed", "fail", "recovery_due", "recovered"):
        TRANSITIONS.labels(action)
    for decision in ("curtail", "resume", "keep_running", "keep_curtailed"):
        DECISIONS.labels(decision)
    for outcome in ("done", "failed"):
        PRICE_SYNCS.labels(outcome)
