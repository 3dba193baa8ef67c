"""The fleet HTTP app's responses: declared, so its OpenAPI document is the contract (and each list's CSV has
these columns)."""

from datetime import date, datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field


class SiteView(BaseModel):
    site_id: int
    name: str
    location: str
    power_capacity_mw: Decimal
    power_now_kw: Decimal = Field(description="Σ power of the site's miners reporting now (visible to you).")
    hashrate_now_ths: Decimal
    utilisation_pct: Decimal | None = Field(description="Power now ÷ capacity.")
    miners: int = Field(description="Miners at the site, retired ones aside.")
    reporting: int = Field(description="Miners whose newest reading is younger than two poll intervals.")
    active: int
    offline: int
    curtailed: int
    maintenance: int
    retired: int


class MinerView(BaseModel):
    serial_number: str
    miner_model: str
    site_id: int
    site_name: str
    status: str
    api_host: str
    api_port: int
    telemetry_enabled: bool
    client_id: UUID | None
    client_name: str | None
    purchase_date: date | None
    warranty_expires: date | None
    status_changed_at: datetime
    reading_at: datetime | None = Field(description="The newest reading's time.")
    hashrate_ths: float | None
    power_w: float | None
    temperature_c: float | None
    j_per_th: Decimal | None
    reporting: bool


class MinerPage(BaseModel):
    total: int = Field(description="Miners matching the filters, all pages.")
    items: list[MinerView]


class SeriesPoint(BaseModel):
    bucket_start: datetime
    avg_hashrate_ths: Decimal
    avg_power_w: Decimal
    max_temperature_c: float
    readings: int


class MinerSeries(BaseModel):
    serial_number: str
    start: datetime
    end: datetime
    bucket_seconds: int
    points: list[SeriesPoint]


class RollupFigures(BaseModel):
    period_start: datetime
    avg_hashrate_ths: Decimal | None
    uptime_pct: Decimal | None
    energy_kwh: Decimal
    j_per_th: Decimal | None
    max_temperature_c: float
    readings: int


class OperationView(BaseModel):
    operation_id: int
    operation: str
    actor: str
    performed_by: UUID | None
    details: str = Field(description="JSON: before and after, or what the operation did.")
    performed_at: datetime


class ModelView(BaseModel):
    name: str
    manufacturer: str
    hashrate_ths: Decimal
    power_w: Decimal
    efficiency_j_per_th: Decimal
    release_date: date | None
    msrp_usd: Decimal | None
    active: bool = Field(description="Calculated by the analytics (windhash miners add); else recorded only.")


class RankedMiner(BaseModel):
    serial_number: str
    site_name: str
    temperature_c: float | None = None
    j_per_th: Decimal | None = None
    hashrate_ths: float
    power_w: float


class FleetHour(BaseModel):
    period_start: datetime
    avg_hashrate_ths: Decimal | None
    energy_kwh: Decimal


class FleetCounts(BaseModel):
    miners: int
    reporting: int
    active: int
    offline: int
    curtailed: int
    maintenance: int


class FleetOverview(BaseModel):
    poll_interval_s: float
    power_now_kw: Decimal
    capacity_mw: Decimal
    hashrate_now_ths: Decimal
    counts: FleetCounts
    sites: list[SiteView]
    hottest: list[RankedMiner]
    least_efficient: list[RankedMiner]
    hashrate_by_hour: list[FleetHour] = Field(description="The last 24 hours, from the miner-hour rollups.")


ImportOutcome = Literal["created", "updated", "moved", "unchanged", "error"]


class ImportRow(BaseModel):
    line: int = Field(description="The CSV line (the header is line 1).")
    serial_number: str | None
    outcome: ImportOutcome
    error: str | None = None


class ImportReport(BaseModel):
    rows: int
    created: int
    updated: int
    moved: int
    unchanged: int
    errors: int
    results: list[ImportRow]
