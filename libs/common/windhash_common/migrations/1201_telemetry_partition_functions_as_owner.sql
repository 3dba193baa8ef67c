-- Creating and dropping miner_telemetry's partitions needs the table's owner. The fleet's writer and the
-- operator's CLI are not the owner (least privilege), so the two maintenance functions run as their owner
-- (windhash_owner) with a fixed search_path; who may call them is declared in db_privileges.FUNCTION_PRIVILEGES.
ALTER FUNCTION ensure_miner_telemetry_partitions(date, integer) SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION drop_miner_telemetry_partitions_before(date) SECURITY DEFINER SET search_path = public, pg_temp;
