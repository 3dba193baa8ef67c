-- The hosting fleet: sites, the miners hosted there, what was done to each, and their telemetry.
--
-- One model registry for both halves of the platform: `miner_models` (0001) already holds manufacturer,
-- hashrate, power, the derived efficiency (J/TH) and release date; the fleet adds the launch price. A missing
-- price stays NULL (unknown), never a default.
ALTER TABLE miner_models
    ADD COLUMN msrp_usd numeric(12, 2) CHECK (msrp_usd >= 0);

-- A site's miner counts (total, active) are not stored: `hosting_site_miner_counts` derives them, so they can
-- never disagree with the miners.
CREATE TABLE hosting_sites (
    site_id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name               text NOT NULL UNIQUE CHECK (name <> '' AND length(name) <= 200),
    location           text NOT NULL DEFAULT '' CHECK (length(location) <= 500),
    power_capacity_mw  numeric(10, 3) NOT NULL CHECK (power_capacity_mw > 0),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);

-- `miner_id` is the internal key telemetry rows carry (8 bytes instead of a serial per row) and the collector
-- shards by (miner_id mod shards); the serial number is the natural key every event and operator uses.
-- `client_id` has no foreign key yet: the accounts work defines clients in parallel; the key and row-level
-- security by client are added when both land.
CREATE TABLE hosting_miners (
    miner_id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    serial_number      text NOT NULL UNIQUE CHECK (serial_number ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    miner_model        text NOT NULL REFERENCES miner_models (name),
    site_id            bigint NOT NULL REFERENCES hosting_sites (site_id),
    status             text NOT NULL DEFAULT 'active'
                       CHECK (status IN ('active', 'offline', 'maintenance', 'curtailed')),
    status_changed_at  timestamptz NOT NULL DEFAULT now(),
    api_host           text NOT NULL CHECK (api_host <> '' AND length(api_host) <= 253),
    api_port           integer NOT NULL DEFAULT 4028 CHECK (api_port BETWEEN 1 AND 65535),
    telemetry_enabled  boolean NOT NULL DEFAULT true,
    client_id          uuid,
    purchase_date      date,
    warranty_expires   date CHECK (warranty_expires >= purchase_date),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (api_host, api_port)
);
CREATE INDEX hosting_miners_site_status ON hosting_miners (site_id, status);
CREATE INDEX hosting_miners_client ON hosting_miners (client_id) WHERE client_id IS NOT NULL;

CREATE VIEW hosting_site_miner_counts AS
SELECT site.site_id,
       count(miner.miner_id) AS total_miners,
       count(miner.miner_id) FILTER (WHERE miner.status = 'active') AS active_miners
  FROM hosting_sites site
  LEFT JOIN hosting_miners miner USING (site_id)
 GROUP BY site.site_id;

-- Every change to a miner: who (a user, or a system actor such as 'fleet-collector/shard-0'), what, before
-- and after. `performed_by` is the user's id, without a foreign key until the accounts work lands.
CREATE TABLE miner_operation_log (
    operation_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    miner_id       bigint NOT NULL REFERENCES hosting_miners (miner_id),
    operation      text NOT NULL CHECK (operation ~ '^[a-z][a-z_]{0,39}$'),
    performed_by   uuid,
    actor          text NOT NULL CHECK (actor <> '' AND length(actor) <= 200),
    details        jsonb NOT NULL DEFAULT '{}'::jsonb,
    performed_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX miner_operation_log_miner ON miner_operation_log (miner_id, performed_at);
CREATE INDEX miner_operation_log_time ON miner_operation_log (performed_at);

-- One reading per miner per poll, partitioned by UTC day: 6,000 miners once a minute is 8.64 M rows a day,
-- kept 90 days. Retention drops whole partitions (never row DELETEs); partitions are created ahead by
-- `ensure_miner_telemetry_partitions`, and there is no default partition, so a reading for a day that has no
-- partition is refused rather than parked where a later partition could not be created.
-- (miner_id, recorded_at) is the natural key that makes every write idempotent.
CREATE TABLE miner_telemetry (
    miner_id       bigint NOT NULL,
    recorded_at    timestamptz NOT NULL,
    hashrate_ths   double precision NOT NULL CHECK (hashrate_ths >= 0),
    temperature_c  real NOT NULL,
    power_w        double precision NOT NULL CHECK (power_w >= 0),
    fan_rpm        integer NOT NULL CHECK (fan_rpm >= 0),
    sleeping       boolean NOT NULL,
    PRIMARY KEY (miner_id, recorded_at)
) PARTITION BY RANGE (recorded_at);

-- Partition of one UTC day: miner_telemetry_pYYYYMMDD. The maintenance functions find partitions by this
-- name, so a table named otherwise is never dropped by retention.
CREATE FUNCTION miner_telemetry_partition_name(day date) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT 'miner_telemetry_p' || to_char(day, 'YYYYMMDD') $$;

-- Creates the partitions of the days first_day .. first_day + days_ahead (inclusive) that do not exist;
-- returns how many it created. Idempotent, and safe when two writers call it at once (advisory lock).
CREATE FUNCTION ensure_miner_telemetry_partitions(first_day date, days_ahead integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    day date;
    created integer := 0;
BEGIN
    IF days_ahead < 0 OR days_ahead > 366 THEN
        RAISE EXCEPTION 'days_ahead must be 0 to 366, got %', days_ahead;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('miner_telemetry_partitions'));
    FOR day IN SELECT generate_series(first_day, first_day + days_ahead, interval '1 day')::date LOOP
        IF to_regclass(miner_telemetry_partition_name(day)) IS NULL THEN
            EXECUTE format(
                'CREATE TABLE %I PARTITION OF miner_telemetry FOR VALUES FROM (%L) TO (%L)',
                miner_telemetry_partition_name(day),
                (day::timestamp AT TIME ZONE 'UTC'),
                ((day + 1)::timestamp AT TIME ZONE 'UTC')
            );
            created := created + 1;
        END IF;
    END LOOP;
    RETURN created;
END $$;

-- Drops every daily partition whose whole day is before `keep_from` (a UTC date); returns the dropped names.
CREATE FUNCTION drop_miner_telemetry_partitions_before(keep_from date) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
    partition_name text;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('miner_telemetry_partitions'));
    FOR partition_name IN
        SELECT child.relname
          FROM pg_inherits
          JOIN pg_class child ON child.oid = pg_inherits.inhrelid
         WHERE pg_inherits.inhparent = 'miner_telemetry'::regclass
           AND child.relname ~ '^miner_telemetry_p[0-9]{8}$'
           AND to_date(substr(child.relname, 18), 'YYYYMMDD') < keep_from
         ORDER BY child.relname
    LOOP
        EXECUTE format('DROP TABLE %I', partition_name);
        RETURN NEXT partition_name;
    END LOOP;
END $$;
