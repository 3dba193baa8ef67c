"""SQL the plans read from the fleet's telemetry (migration 1200, 1210): readings around a shutdown, and each
miner's newest reading when choosing miners."""

# Raw readings of the plan's miners from the start of the "before" window to now (the natural key's index
# (miner_id, recorded_at) serves it; partitions outside the range are pruned).
READINGS_SINCE = """
SELECT miner_id, recorded_at, power_w, sleeping
  FROM miner_telemetry
 WHERE miner_id = ANY($1::bigint[]) AND recorded_at >= $2 AND recorded_at <= $3
 ORDER BY miner_id, recorded_at
"""

# A site's miners with their model's nameplate and their newest reading (if recent), to choose from.
SITE_CANDIDATES = """
SELECT miner.miner_id, miner.serial_number, miner.miner_model, miner.status, miner.client_id,
       model.power_w AS nameplate_power_w, model.hashrate_ths AS nameplate_hashrate_ths,
       latest.power_w, latest.hashrate_ths, latest.temperature_c
  FROM hosting_miners AS miner
  JOIN miner_models AS model ON model.name = miner.miner_model
  LEFT JOIN miner_telemetry_latest AS latest
         ON latest.miner_id = miner.miner_id AND latest.recorded_at >= $2 AND NOT latest.sleeping
 WHERE miner.site_id = $1 AND miner.status <> 'retired'
 ORDER BY miner.miner_id
"""

CLIENT_MINIMUMS = "SELECT client_id, min_running_miners FROM plan_client_minimums WHERE site_id = $1"
