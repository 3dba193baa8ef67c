"""The fleet HTTP app's reads: sites, miners, their newest readings, series and the operation log. Every
query runs in a transaction carrying the request's identity, so row-level security limits it to what the
caller may see (a client: its own miners, their readings and log; the sites where it has miners)."""

from typing import Final

# A miner reports "now" while its newest reading is younger than two poll intervals ($1, seconds).
_FRESH = "l.recorded_at > now() - make_interval(secs => 2 * $1)"

SITES: Final = f"""
SELECT s.site_id, s.name, s.location, s.power_capacity_mw,
       coalesce(round((sum(l.power_w) FILTER (WHERE {_FRESH}) / 1000)::numeric, 3), 0) AS power_now_kw,
       coalesce(round(sum(l.hashrate_ths) FILTER (WHERE {_FRESH})::numeric, 3), 0) AS hashrate_now_ths,
       count(m.miner_id) FILTER (WHERE m.status <> 'retired') AS miners,
       count(m.miner_id) FILTER (WHERE {_FRESH}) AS reporting,
       count(m.miner_id) FILTER (WHERE m.status = 'active') AS active,
       count(m.miner_id) FILTER (WHERE m.status = 'offline') AS offline,
       count(m.miner_id) FILTER (WHERE m.status = 'curtailed') AS curtailed,
       count(m.miner_id) FILTER (WHERE m.status = 'maintenance') AS maintenance,
       count(m.miner_id) FILTER (WHERE m.status = 'retired') AS retired
  FROM hosting_sites AS s
  LEFT JOIN hosting_miners AS m ON m.site_id = s.site_id
  LEFT JOIN miner_telemetry_latest AS l ON l.miner_id = m.miner_id
 WHERE $2::bigint IS NULL OR s.site_id = $2
 GROUP BY s.site_id
 ORDER BY s.name"""

# The miners' list: its columns, the sort keys a caller may name, and its filters ($2..$5, NULL = any).
MINER_COLUMNS: Final = f"""
       m.serial_number, m.miner_model, m.site_id, s.name AS site_name, m.status, m.api_host, m.api_port,
       m.telemetry_enabled, m.client_id, c.name AS client_name, m.purchase_date, m.warranty_expires,
       m.status_changed_at, l.recorded_at AS reading_at, l.hashrate_ths, l.power_w, l.temperature_c,
       round((l.power_w / nullif(l.hashrate_ths, 0))::numeric, 2) AS j_per_th,
       coalesce({_FRESH}, false) AS reporting"""
_MINERS_FROM = """
  FROM hosting_miners AS m
  JOIN hosting_sites AS s ON s.site_id = m.site_id
  LEFT JOIN clients AS c ON c.id = m.client_id
  LEFT JOIN miner_telemetry_latest AS l ON l.miner_id = m.miner_id
 WHERE ($2::bigint IS NULL OR m.site_id = $2)
   AND ($3::text IS NULL OR m.status = $3)
   AND ($4::uuid IS NULL OR m.client_id = $4)
   AND ($5::text IS NULL OR m.miner_model = $5)"""
SORT_KEYS: Final = {
    "serial": "m.serial_number",
    "status": "m.status",
    "model": "m.miner_model",
    "site": "s.name",
    "client": "c.name",
    "hashrate": "l.hashrate_ths",
    "power": "l.power_w",
    "temperature": "l.temperature_c",
    "efficiency": "(l.power_w / nullif(l.hashrate_ths, 0))",
    "reading_at": "l.recorded_at",
}


def miners_page(sort: str, descending: bool) -> str:
    """One page ($6 rows from $7) in the order asked, the serial breaking ties; missing readings last."""
    direction = "DESC" if descending else "ASC"
    return f"""
SELECT {MINER_COLUMNS}, count(*) OVER () AS total
{_MINERS_FROM}
 ORDER BY {SORT_KEYS[sort]} {direction} NULLS LAST, m.serial_number
 LIMIT $6 OFFSET $7"""


MINER: Final = f"""
SELECT m.miner_id, {MINER_COLUMNS}
  FROM hosting_miners AS m
  JOIN hosting_sites AS s ON s.site_id = m.site_id
  LEFT JOIN clients AS c ON c.id = m.client_id
  LEFT JOIN miner_telemetry_latest AS l ON l.miner_id = m.miner_id
 WHERE m.serial_number = $2"""

MINER_ID: Final = "SELECT miner_id FROM hosting_miners WHERE serial_number = $1"

# A miner's readings between $2 and $3, in buckets of $4 seconds (date_bin), at most a bucket per point.
MINER_SERIES: Final = """
SELECT date_bin(make_interval(secs => $4), recorded_at, $2) AS bucket_start,
       round(avg(hashrate_ths)::numeric, 3) AS avg_hashrate_ths,
       round(avg(power_w)::numeric, 1) AS avg_power_w,
       max(temperature_c) AS max_temperature_c,
       count(*) AS readings
  FROM miner_telemetry
 WHERE miner_id = $1 AND recorded_at >= $2 AND recorded_at < $3
 GROUP BY 1
 ORDER BY 1"""

OPERATIONS: Final = """
SELECT o.operation_id, o.operation, o.actor, o.performed_by, o.details::text AS details, o.performed_at
  FROM miner_operation_log AS o
 WHERE o.miner_id = $1
 ORDER BY o.performed_at DESC, o.operation_id DESC
 LIMIT $2"""

# The newest readings that count now, ranked: the hottest, and the least efficient while hashing.
HOTTEST: Final = f"""
SELECT m.serial_number, s.name AS site_name, l.temperature_c, l.hashrate_ths, l.power_w
  FROM miner_telemetry_latest AS l
  JOIN hosting_miners AS m ON m.miner_id = l.miner_id
  JOIN hosting_sites AS s ON s.site_id = m.site_id
 WHERE {_FRESH}
 ORDER BY l.temperature_c DESC, m.serial_number
 LIMIT $2"""

LEAST_EFFICIENT: Final = f"""
SELECT m.serial_number, s.name AS site_name, round((l.power_w / l.hashrate_ths)::numeric, 2) AS j_per_th,
       l.hashrate_ths, l.power_w
  FROM miner_telemetry_latest AS l
  JOIN hosting_miners AS m ON m.miner_id = l.miner_id
  JOIN hosting_sites AS s ON s.site_id = m.site_id
 WHERE {_FRESH} AND l.hashrate_ths > 0 AND NOT l.sleeping
 ORDER BY l.power_w / l.hashrate_ths DESC, m.serial_number
 LIMIT $2"""

MODELS: Final = """
SELECT name, manufacturer, hashrate_ths, power_w, efficiency_j_per_th, release_date, msrp_usd, active
  FROM miner_models
 ORDER BY name"""
