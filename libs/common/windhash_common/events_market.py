"""Market events on the wire (JSON, pydantic v2), versioned like events.py: a change old consumers cannot
read gets a new version and a new topic suffix."""

from decimal import Decimal
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class MarketSnapshotEvent(BaseModel):
    """One market snapshot of a 15-minute slot (a `market_analytics` row), published once it is stored. Every
    value passed `windhash_common.reference_bounds`; a slot without a plausible snapshot has no event."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = 1
    slot_at: AwareDatetime = Field(description="Start of the slot (UTC, a multiple of the interval).")
    price_usd: Decimal = Field(gt=0)
    price_gbp: Decimal = Field(gt=0)
    volume_24h_usd: Decimal = Field(ge=0)
    hashrate_ehs: Decimal = Field(gt=0)
    difficulty: Decimal = Field(gt=0)
    block_height: int = Field(ge=0)
    block_reward_btc: Decimal = Field(gt=0)
    collected_at: AwareDatetime
    backfilled: bool = Field(description="Taken later from the sources' history, not live in its slot.")
    synthetic: bool = Field(description="True when the data came from windhash's synthetic market server.")

    @property
    def kafka_key(self) -> bytes:
        return self.slot_at.isoformat().encode()
