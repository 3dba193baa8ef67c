"""The figures people read, derived from the rollups' sums (`rollup_tables`): each in words, then in SQL.

Each reading stands for one poll interval (`fleet_poll_interval_s`, the `$interval` below, in seconds):
- average hashrate (TH/s) = Σ hashrate × interval / the period's seconds: a miner silent for half the hour
  averaged half its hashrate; a site's is the sum of its miners';
- uptime % = hashing readings × interval / the seconds the miner (a site: each of its miners) was placed
  there in the period, elapsed so far, capped at 100;
- energy (kWh) = Σ power (W) × interval / 3,600,000;
- efficiency (J/TH) = Σ power of the hashing readings / Σ hashrate: joules per terahash while mining
  (NULL when it did not hash);
- maximum temperature (°C) = the hottest reading.
Each miner's "now" (`miner_telemetry_latest`) counts while its newest reading is younger than two intervals:
a site's power now is the sum over its miners that are reporting.
"""

from typing import Final

# The seconds of a period (`start`, `length`) a placement (`p`) covers, up to now.
_PLACED_SECONDS = """
extract(epoch FROM least(coalesce(p.removed_at, 'infinity'), {start} + {length}, now())
                 - greatest(p.placed_at, {start}))"""


def placed_seconds(start: str, length: str, where: str) -> str:
    """Σ seconds of the placements matching `where` within the period starting at `start`."""
    covered = _PLACED_SECONDS.format(start=start, length=length)
    return f"""(SELECT coalesce(sum(greatest({covered}, 0)), 0) FROM hosting_miner_placements AS p
  WHERE {where} AND p.placed_at < {start} + {length}
    AND (p.removed_at IS NULL OR p.removed_at > {start}))"""


def figures(start: str, length: str, placed: str) -> str:
    """The derived figures of a rollup row `t` of period (`start`, `length`); `$1` is the interval."""
    elapsed = f"extract(epoch FROM least({start} + {length}, now()) - {start})"
    return f"""
       round((t.hashrate_mhs_sum / 1e6 * $1 / nullif({elapsed}, 0))::numeric, 3) AS avg_hashrate_ths,
       round(least(100, 100 * t.hashing_readings * $1 / nullif({placed}, 0))::numeric, 2) AS uptime_pct,
       round((t.power_mw_sum / 1e3 * $1 / 3600000)::numeric, 4) AS energy_kwh,
       round((t.hashing_power_mw_sum * 1e3 / nullif(t.hashrate_mhs_sum, 0))::numeric, 2) AS j_per_th,
       t.temperature_c_max AS max_temperature_c,
       t.readings"""


_HOUR = "interval '1 hour'"
_DAY = "interval '1 day'"
_DAY_START = "(t.day::timestamp AT TIME ZONE 'UTC')"

MINER_HOURS: Final = f"""
SELECT t.hour AS period_start,
       {figures("t.hour", _HOUR, placed_seconds("t.hour", _HOUR, "p.miner_id = t.miner_id"))}
  FROM miner_telemetry_hourly AS t
 WHERE t.miner_id = $2 AND t.hour >= $3 AND t.hour < $4
 ORDER BY t.hour"""

SITE_HOURS: Final = f"""
SELECT t.hour AS period_start,
       {figures("t.hour", _HOUR, placed_seconds("t.hour", _HOUR, "p.site_id = t.site_id"))}
  FROM site_telemetry_hourly AS t
 WHERE t.site_id = $2 AND t.hour >= $3 AND t.hour < $4
 ORDER BY t.hour"""

SITE_DAYS: Final = f"""
SELECT {_DAY_START} AS period_start,
       {figures(_DAY_START, _DAY, placed_seconds(_DAY_START, _DAY, "p.site_id = t.site_id"))}
  FROM site_telemetry_daily AS t
 WHERE t.site_id = $2 AND {_DAY_START} >= $3 AND {_DAY_START} < $4
 ORDER BY t.day"""

# The fleet's (as the caller sees it) average hashrate per hour: the sum over the visible miners' hours.
FLEET_HASHRATE_HOURS: Final = """
SELECT t.hour AS period_start,
       round((sum(t.hashrate_mhs_sum) / 1e6 * $1
              / nullif(extract(epoch FROM least(t.hour + interval '1 hour', now()) - t.hour), 0))::numeric, 3)
           AS avg_hashrate_ths,
       round((sum(t.power_mw_sum) / 1e3 * $1 / 3600000)::numeric, 4) AS energy_kwh
  FROM miner_telemetry_hourly AS t
 WHERE t.hour >= $2
 GROUP BY t.hour
 ORDER BY t.hour"""
