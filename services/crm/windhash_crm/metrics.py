"""The CRM service's Prometheus metrics, served by its HTTP app on /metrics (WINDHASH_CRM_PORT, 8084). The
outbox relay's are `windhash_outbox_*{service="crm"}` (windhash_common.outbox_relay)."""

from prometheus_client import REGISTRY, Counter, Gauge
from windhash_common.http_metrics import RequestMetrics

from windhash_crm.settings import OVERDUE_JOB, REMINDER_JOB

HTTP = RequestMetrics(REGISTRY, "windhash_crm")
"""windhash_crm_requests_total and windhash_crm_request_duration_seconds, per route template."""
CHANGES = Counter(
    "windhash_crm_changes_total",
    "Changes made through the CRM (audited), by action, e.g. crm.lead.create, crm.invoice.send",
    ["action"],
)
JOB_RUNS = Counter(
    "windhash_crm_job_runs_total",
    "Runs of a scheduled CRM job, by job key (crm/overdue-invoices, crm/activity-reminders) and outcome (ok,"
    " failed)",
    ["job_key", "outcome"],
)
JOB_LAST_SUCCESS = Gauge(
    "windhash_crm_job_last_success_timestamp_seconds",
    "When a scheduled CRM job last ran to the end",
    ["job_key"],
)
JOB_LEASE_HELD = Gauge(
    "windhash_crm_job_lease_held", "1 while this process holds the job's lease", ["job_key"]
)
INVOICES_MARKED_OVERDUE = Counter(
    "windhash_crm_invoices_marked_overdue_total", "Sent invoices the overdue job found past their due date"
)
REMINDERS_FIRED = Counter("windhash_crm_reminders_fired_total", "Activity reminders sent to their owners")

# Exported at 0 from the start, so rates and alerts see every job (a standby instance's last success stays 0;
# the alert takes the latest over every instance).
for _job in (OVERDUE_JOB, REMINDER_JOB):
    JOB_RUNS.labels(_job, "ok")
    JOB_RUNS.labels(_job, "failed")
    JOB_LEASE_HELD.labels(_job)
    JOB_LAST_SUCCESS.labels(_job)
