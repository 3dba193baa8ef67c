"""Event schemas on the wire (JSON, pydantic v2). Each carries `schema_version`; a change that old consumers
cannot read gets a new version and a new topic suffix (`.v2`)."""

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from windhash_common.settlement_calendar import check_period, period_start_utc

MAX_PERIODS_IN_DAY = 50


class CurtailmentRecord(BaseModel):
    """One accepted bid of a wind BM unit from Elexon's settlement stack, with its Elexon identity."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    bm_unit: str = Field(min_length=1)
    acceptance_id: int
    bid_offer_pair_id: int
    sequence_number: int
    created_at: AwareDatetime | None
    volume_mwh: Decimal = Field(lt=0, description="Signed as Elexon gives it: negative for a bid.")
    original_price_gbp_per_mwh: Decimal
    final_price_gbp_per_mwh: Decimal | None
    cashflow_gbp: Decimal = Field(description="volume × original price; positive when the farm was paid.")
    so_flag: bool
    cadl_flag: bool | None

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.bm_unit, self.acceptance_id, self.bid_offer_pair_id)


# One serializer call for all records and one reused encoder: the same text as
# json.dumps(record.model_dump(mode="json"), sort_keys=True) per record, at a fraction of the cost.
_RECORDS_AS_JSON = TypeAdapter(tuple[CurtailmentRecord, ...])
_CANONICAL_JSON = json.JSONEncoder(sort_keys=True)


def content_hash(records: tuple[CurtailmentRecord, ...]) -> str:
    """A hash of a period's records that ignores their order, so an unchanged re-fetch hashes the same."""
    dumped = _RECORDS_AS_JSON.dump_python(tuple(records), mode="json")
    rows = sorted(_CANONICAL_JSON.encode(row) for row in dumped)
    canonical = "[" + ",".join(rows) + "]"
    return hashlib.sha256(canonical.encode()).hexdigest()


class SettlementPeriodEvent(BaseModel):
    """The full snapshot of one settlement period's wind curtailment. A later event for the same
    (date, period) replaces the earlier one downstream; an event with no records says the period had no
    curtailment."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = 1
    settlement_date: date
    settlement_period: int = Field(ge=1, le=MAX_PERIODS_IN_DAY)
    period_start_utc: AwareDatetime
    records: tuple[CurtailmentRecord, ...]
    content_hash: str
    fetched_at: AwareDatetime
    synthetic: bool = Field(description="True when the data came from windhash's synthetic Elexon server.")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        check_period(self.settlement_date, self.settlement_period)
        if self.period_start_utc != period_start_utc(self.settlement_date, self.settlement_period):
            raise ValueError("period_start_utc does not match the settlement calendar")
        keys = [record.key for record in self.records]
        if len(set(keys)) != len(keys):
            raise ValueError("two records share a (bm_unit, acceptance_id, bid_offer_pair_id) key")
        if self.content_hash != content_hash(self.records):
            raise ValueError("content_hash does not match the records")
        return self

    @classmethod
    def build(
        cls,
        settlement_date: date,
        settlement_period: int,
        records: tuple[CurtailmentRecord, ...],
        fetched_at: datetime,
        synthetic: bool,
    ) -> "SettlementPeriodEvent":
        return cls(
            settlement_date=settlement_date,
            settlement_period=settlement_period,
            period_start_utc=period_start_utc(settlement_date, settlement_period),
            records=records,
            content_hash=content_hash(records),
            fetched_at=fetched_at,
            synthetic=synthetic,
        )

    @property
    def kafka_key(self) -> bytes:
        return period_key(self.settlement_date, self.settlement_period)


def period_key(settlement_date: date, settlement_period: int) -> bytes:
    return f"{settlement_date.isoformat()}/{settlement_period:02d}".encode()


PeriodStatus = Literal["calculated", "pending_difficulty"]


class PeriodCalculatedEvent(BaseModel):
    """Published (through the outbox) after the calculator committed a period's records and calculations."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = 1
    settlement_date: date
    settlement_period: int = Field(ge=1, le=MAX_PERIODS_IN_DAY)
    content_hash: str
    record_count: int = Field(ge=0)
    status: PeriodStatus
    calculated_at: AwareDatetime

    @property
    def kafka_key(self) -> bytes:
        # Keyed by date so one aggregator instance sees every change to a day in order.
        return self.settlement_date.isoformat().encode()


class DeadLetter(BaseModel):
    """Whatever a service could not accept, with why, so nothing is lost and nothing blocks a partition."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = 1
    service: str
    reason: str
    source_topic: str | None = None
    source_partition: int | None = None
    source_offset: int | None = None
    settlement_date: date | None = None
    settlement_period: int | None = None
    payload: str = Field(description="The raw input, decoded as UTF-8 with replacement where it was not.")
    failed_at: AwareDatetime
