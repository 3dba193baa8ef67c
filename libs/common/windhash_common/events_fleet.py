"""Event schemas of the hosting fleet (JSON, pydantic v2), like `events.py`: each carries `schema_version`.

Telemetry is validated where it is made (the collector) and again where it is read (the writer): a value that
is not a number (NaN, Infinity), negative, or beyond what any ASIC can report is refused by the schema, so the
writer can dead-letter it with pydantic's reason. The bounds are physical, not per model: a reading far from
its model's nominal figures is a real observation (a failing board, a curtailed miner) and is kept.
"""

from typing import Annotated, Any, Final, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

# The largest figures any reading may carry. In 2026 the largest air or hydro units hash ~0.5 PH/s on ~6 kW;
# these leave an order of magnitude of room and still refuse a unit mix-up (H/s for TH/s, mW for W).
MAX_HASHRATE_THS: Final = 10_000.0
MAX_POWER_W: Final = 100_000.0
MIN_TEMPERATURE_C: Final = -60.0
MAX_TEMPERATURE_C: Final = 200.0
MAX_FAN_RPM: Final = 50_000
SERIAL_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"

Serial = Annotated[str, Field(pattern=SERIAL_PATTERN)]
MinerStatus = Literal["active", "offline", "maintenance", "curtailed", "retired"]


HashrateThs = Annotated[float, Field(ge=0.0, le=MAX_HASHRATE_THS, allow_inf_nan=False)]
PowerW = Annotated[float, Field(ge=0.0, le=MAX_POWER_W, allow_inf_nan=False)]
TemperatureC = Annotated[float, Field(ge=MIN_TEMPERATURE_C, le=MAX_TEMPERATURE_C, allow_inf_nan=False)]


class MinerTelemetryEvent(BaseModel):
    """One poll's reading of one miner, as it answered over the cgminer RPC API; keyed by its serial."""

    # strict: a string where a number belongs is a wrong type, not a number to coerce.
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    schema_version: Literal[1] = 1
    miner_serial: Serial
    recorded_at: AwareDatetime = Field(description="When the collector received the reply.")
    hashrate_ths: HashrateThs = Field(description="5-second average hashrate, TH/s.")
    temperature_c: TemperatureC = Field(description="Hottest sensor, °C.")
    power_w: PowerW = Field(description="Power drawn, W.")
    fan_rpm: int = Field(ge=0, le=MAX_FAN_RPM, description="Mean speed of the fans, RPM.")
    fan_count: int = Field(ge=0, le=64)
    sleeping: bool = Field(description="The firmware reports the miner curtailed (LuxOS CurtailMode Sleep).")
    uptime_s: int = Field(ge=0, le=100 * 365 * 86400)
    synthetic: bool = Field(description="True when the reply came from windhash's fleet simulator.")

    @property
    def kafka_key(self) -> bytes:
        return self.miner_serial.encode()


class MinerStatusChangedEvent(BaseModel):
    """A miner's status changed: `miner.offline` when it stopped answering, `miner.online` when it answered
    again. Written to the outbox in the same transaction as the status, so it is never lost nor invented."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = 1
    event_type: Literal["miner.offline", "miner.online"]
    miner_serial: Serial
    site_id: int = Field(ge=1)
    status_before: MinerStatus
    status_after: MinerStatus
    reason: str = Field(max_length=500)
    consecutive_failures: int = Field(ge=0)
    actor: str = Field(min_length=1, max_length=200)
    changed_at: AwareDatetime

    @property
    def kafka_key(self) -> bytes:
        return self.miner_serial.encode()


FleetChange = Literal[
    "miner.created",
    "miner.updated",
    "miner.moved",
    "miner.retired",
    "site.created",
    "site.updated",
    "model.created",
    "model.updated",
]


class FleetChangedEvent(BaseModel):
    """A change to the fleet's registry (a miner, a site, a model) by a person or a command: written to the
    outbox in the transaction of the change, with its audit row and, for a miner, its operation-log row."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = 1
    event_type: FleetChange
    subject: str = Field(min_length=1, max_length=200, description="A serial, or a site's or model's name.")
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    actor: str = Field(min_length=1, max_length=200)
    actor_user_id: UUID | None = None
    changed_at: AwareDatetime

    @property
    def kafka_key(self) -> bytes:
        # The changes to one thing stay in order.
        return f"{self.event_type.split('.')[0]}/{self.subject}".encode()
