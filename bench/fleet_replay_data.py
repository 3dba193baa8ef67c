"""A synthetic day of fleet telemetry for the replay benchmark: every miner read once a minute, as the
collector publishes it (`MinerTelemetryEvent` JSON keyed by serial), and the same readings as rows for the raw
COPY.

Deterministic (the same miner and minute always give the same reading), so the writer's rows and the raw COPY
baseline are the same rows without holding 8.64 M of them in memory. The values follow the simulator's models
(hashrate and power ± a few %, 60–70 °C, 4 fans); every reading is SYNTHETIC.
"""

import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

MODELS = (("S19J_PRO", 104.0, 3068.0), ("S21", 200.0, 3500.0), ("M60S", 186.0, 3441.0))
MINUTES_IN_DAY = 1440


@dataclass(frozen=True)
class ReplayDay:
    day: date
    miners: int
    minutes: int = MINUTES_IN_DAY
    serial_prefix: str = "BENCH"

    @property
    def readings(self) -> int:
        return self.miners * self.minutes

    def serial(self, miner: int) -> str:
        return f"{self.serial_prefix}-{miner:06d}"

    def moment(self, miner: int, minute: int) -> datetime:
        """Minute `minute` of the day, at the miner's own second (polls are spread over the minute)."""
        start = datetime(self.day.year, self.day.month, self.day.day, tzinfo=UTC)
        return start + timedelta(minutes=minute, seconds=miner % 60, microseconds=(miner * 7919) % 1_000_000)

    def values(self, miner: int, minute: int) -> tuple[float, float, float, int]:
        """hashrate TH/s, power W, temperature °C and mean fan RPM of one reading."""
        _, hashrate, power = MODELS[miner % len(MODELS)]
        jitter = zlib.crc32(f"{miner}:{minute}".encode()) / 0xFFFFFFFF  # 0..1, stable
        ratio = 0.97 + 0.06 * jitter
        return (
            round(hashrate * ratio, 3),
            float(round(power * (0.98 + 0.04 * jitter))),
            round(60.0 + 10.0 * jitter, 1),
            5200 + int(400 * jitter),
        )

    def message(self, miner: int, minute: int) -> tuple[bytes, bytes]:
        """(key, value) as the collector publishes it."""
        hashrate, power, temperature, fans = self.values(miner, minute)
        at = self.moment(miner, minute).isoformat()
        serial = self.serial(miner)
        value = (
            f'{{"schema_version":1,"miner_serial":"{serial}","recorded_at":"{at}","hashrate_ths":{hashrate},'
            f'"temperature_c":{temperature},"power_w":{power},"fan_rpm":{fans},"fan_count":4,'
            f'"sleeping":false,"uptime_s":{86400 + minute * 60},"synthetic":true}}'
        )
        return serial.encode(), value.encode()

    def row(self, miner_id: int, miner: int, minute: int) -> tuple[object, ...]:
        """The row the writer stores for the reading (miner_telemetry's columns)."""
        hashrate, power, temperature, fans = self.values(miner, minute)
        return (miner_id, self.moment(miner, minute), hashrate, temperature, power, fans, False)

    def in_time_order(self) -> Iterator[tuple[int, int]]:
        """(miner, minute) for the whole day, minute by minute, as the readings are taken."""
        for minute in range(self.minutes):
            for miner in range(self.miners):
                yield miner, minute
