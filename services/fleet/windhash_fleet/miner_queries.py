"""SQL of the collector: a shard's miners, and status changes with their log row (migration 1200)."""

SHARD_MINERS = """
SELECT miner_id, serial_number, site_id, status, api_host, api_port
  FROM hosting_miners
 WHERE telemetry_enabled AND mod(miner_id, $1) = $2
 ORDER BY miner_id
"""

# Changes the status only from what the rule expected (another writer, e.g. an operator setting maintenance,
# may have changed it since the shard was loaded): no row back means nothing was changed.
CHANGE_STATUS = """
UPDATE hosting_miners
   SET status = $3, status_changed_at = now(), updated_at = now()
 WHERE miner_id = $1 AND status = $2
RETURNING miner_id
"""

LOG_OPERATION = """
INSERT INTO miner_operation_log (miner_id, operation, actor, details) VALUES ($1, $2, $3, $4::jsonb)
"""
