"""The CRM service's settings (environment `WINDHASH_*`); who may do what comes from AccessSettings."""

from zoneinfo import ZoneInfo

from pydantic import Field, field_validator
from windhash_common.access.settings import AccessSettings

from windhash_crm.domain.scoring import ScoringRule

DEFAULT_CRM_PORT = 8084
OVERDUE_JOB = "crm/overdue-invoices"
REMINDER_JOB = "crm/activity-reminders"


class CrmSettings(AccessSettings):
    # Its HTTP app (and /metrics): the API forwards /api/v1/crm/... here.
    crm_host: str = "127.0.0.1"
    crm_port: int = DEFAULT_CRM_PORT
    db_pool_min_size: int = Field(default=1, ge=1)
    db_pool_max_size: int = Field(default=8, ge=1)
    # Scheduled jobs, one runner each across every instance (job leases, `windhash jobs crm/`).
    crm_job_interval_seconds: float = Field(default=60.0, gt=0)
    crm_lease_ttl_seconds: float = Field(default=60.0, gt=0)
    crm_relay_interval_seconds: float = Field(default=2.0, gt=0)
    crm_relay_batch: int = Field(default=500, ge=1)
    # Dates of invoices, their due dates and "overdue" are days where the business invoices.
    crm_time_zone: str = "Europe/London"
    crm_payment_terms_days: int = Field(default=30, ge=0, le=365)
    # An activity with a due time and no reminder time of its own reminds its owner this long before.
    crm_reminder_minutes_before: int = Field(default=60, ge=0, le=60 * 24 * 30)
    # The lead score's weights (windhash_crm.domain.scoring), as JSON.
    crm_scoring_rule: ScoringRule = Field(default_factory=ScoringRule)
    # Who issues the invoices: printed at the head of every PDF.
    crm_invoice_issuer: str = "windhash Hosting (synthetic demo issuer)"
    crm_invoice_issuer_address: str = "1 Turbine Row, Aberdeen AB10 1AA, United Kingdom"
    crm_invoice_payment_details: str = "Pay by bank transfer quoting the invoice number."

    @field_validator("crm_time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        ZoneInfo(value)  # raises for an unknown zone
        return value
