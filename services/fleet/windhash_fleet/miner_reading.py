"""A miner's reply to the collector's poll, read into a `MinerTelemetryEvent`.

One poll is one request, `summary+stats+power+config` (LuxOS answers the joined commands on one connection):
- hashrate: `summary` SUMMARY[0]["GHS 5s"] / 1000 (TH/s);
- temperature: `stats` STATS[1]["temp_max"] (the hottest sensor, °C);
- fans: `stats` STATS[1]["fan1".."fanN"] with N = "fan_num", as their mean RPM;
- power: `power` POWER[0]["Watts"];
- asleep: `config` CONFIG[0]["CurtailMode"] is "Sleep"; uptime: SUMMARY[0]["Elapsed"];
- the miner is the one registered at that address: `config` CONFIG[0]["SerialNumber"] is its serial.
Anything missing, of the wrong type, or out of the schema's bounds is a `ReadingError` with the reason.
"""

from datetime import datetime
from typing import Any, Final

from pydantic import ValidationError
from windhash_common.events_fleet import MinerTelemetryEvent

POLL_COMMANDS: Final = ("summary", "stats", "power", "config")


class ReadingError(Exception):
    """The miner answered, but not with a reading we can keep; `outcome` is the metric label."""

    def __init__(self, outcome: str, detail: str) -> None:
        super().__init__(f"{outcome}: {detail}")
        self.outcome = outcome
        self.detail = detail


def _section(reply: dict[str, Any], name: str, index: int = 0) -> dict[str, Any]:
    rows = reply.get(name)
    if not isinstance(rows, list) or len(rows) <= index or not isinstance(rows[index], dict):
        raise ReadingError("missing_field", f"no {name}[{index}] section")
    row: dict[str, Any] = rows[index]
    return row


def _number(row: dict[str, Any], key: str) -> float:
    value = row.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ReadingError("missing_field", f"{key!r} is {type(value).__name__}, not a number")
    return float(value)


def read_telemetry(
    serial: str, replies: dict[str, dict[str, Any]], received_at: datetime
) -> MinerTelemetryEvent:
    """The telemetry event of one poll's replies (keyed by command)."""
    summary = _section(replies["summary"], "SUMMARY")
    stats = _section(replies["stats"], "STATS", 1)
    power = _section(replies["power"], "POWER")
    config = _section(replies["config"], "CONFIG")
    reported_serial = config.get("SerialNumber")
    if reported_serial != serial:
        raise ReadingError(
            "wrong_miner", f"expected serial {serial}, the miner says {str(reported_serial)[:64]}"
        )
    fan_count = int(_number(stats, "fan_num"))
    if not 0 <= fan_count <= 64:
        raise ReadingError("invalid", f"fan_num {fan_count} is not a fan count")
    fans = [_number(stats, f"fan{number}") for number in range(1, fan_count + 1)]
    try:
        return MinerTelemetryEvent(
            miner_serial=serial,
            recorded_at=received_at,
            hashrate_ths=_number(summary, "GHS 5s") / 1000,
            temperature_c=_number(stats, "temp_max"),
            power_w=_number(power, "Watts"),
            fan_rpm=round(sum(fans) / fan_count) if fan_count else 0,
            fan_count=fan_count,
            sleeping=config.get("CurtailMode") == "Sleep",
            uptime_s=int(_number(summary, "Elapsed")),
            synthetic=config.get("Synthetic") is True,
        )
    except ValidationError as error:
        raise ReadingError("invalid", _first_error(error)) from None


def _first_error(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']} (got {first.get('input')!r:.40})"
