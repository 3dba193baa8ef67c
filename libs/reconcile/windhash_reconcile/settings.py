"""Reconciliation's configuration: the ingestor's (to re-fetch from Elexon) and the calculator's (to replay
through its write path) in one `Settings`, plus the self-check's own knobs (environment `WINDHASH_*`)."""

from pydantic import Field
from windhash_calculator.settings import CalculatorSettings
from windhash_ingestor.settings import IngestorSettings


class ReconcileSettings(IngestorSettings, CalculatorSettings):
    # Each repair run appends a unique suffix, so two runs never share (or leave behind) stored positions.
    reconcile_replay_group: str = "windhash-reconcile-replay"
    reconcile_periods_per_transaction: int = Field(default=200, ge=1)
    self_check_days: int = Field(default=7, ge=1, description="Days before today re-checked for revisions.")
    self_check_interval_s: float = Field(default=86400.0, gt=0, description="A daily check by default.")
    self_check_previous_month: bool = Field(
        default=True, description="Also reconcile the previous calendar month, once a day."
    )
    # The CLI's `self-check --loop` serves metrics only when a port is given; in the ingestor the ingestor's
    # metrics server (the same default registry) exports the gauge.
    metrics_port: int = 0
