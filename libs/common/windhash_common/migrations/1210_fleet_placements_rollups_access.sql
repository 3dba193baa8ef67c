-- The hosting fleet, second half (issue #19): owners and actors as foreign keys now that accounts exist,
-- retired miners, where each miner was and when (placements), the telemetry rollups, and row-level security:
-- a client sees its own miners and only their telemetry, rollups and log rows.

-- Accounts have landed (1000): a miner's owner is a client organisation, a log row's actor a user.
ALTER TABLE hosting_miners
    ADD CONSTRAINT hosting_miners_client_fk FOREIGN KEY (client_id) REFERENCES clients (id);
ALTER TABLE miner_operation_log
    ADD CONSTRAINT miner_operation_log_performed_by_fk FOREIGN KEY (performed_by) REFERENCES users (id);
CREATE INDEX miner_operation_log_performed_by ON miner_operation_log (performed_by)
    WHERE performed_by IS NOT NULL;

-- A retired miner has left the fleet: never polled again, its history (telemetry, log) kept. Its address can be
-- given to a new miner, so the address is unique among the miners still in the fleet only.
ALTER TABLE hosting_miners DROP CONSTRAINT hosting_miners_status_check;
ALTER TABLE hosting_miners ADD CONSTRAINT hosting_miners_status_check
    CHECK (status IN ('active', 'offline', 'maintenance', 'curtailed', 'retired'));
ALTER TABLE hosting_miners ADD CONSTRAINT hosting_miners_retired_not_polled
    CHECK (status <> 'retired' OR NOT telemetry_enabled);
ALTER TABLE hosting_miners DROP CONSTRAINT hosting_miners_api_host_api_port_key;
CREATE UNIQUE INDEX hosting_miners_address ON hosting_miners (api_host, api_port) WHERE status <> 'retired';
CREATE INDEX hosting_miners_model ON hosting_miners (miner_model);

-- Where each miner was, and when: a move closes one placement and opens the next at the same instant. A
-- reading belongs to the site its miner was placed at when it was recorded, so a move never rewrites a site's
-- past rollups and a recompute from the raw telemetry gives the same figures. A miner's first placement starts
-- at -infinity (a reading can never predate it); retiring closes the open one.
CREATE TABLE hosting_miner_placements (
    miner_id    bigint NOT NULL REFERENCES hosting_miners (miner_id),
    site_id     bigint NOT NULL REFERENCES hosting_sites (site_id),
    placed_at   timestamptz NOT NULL,
    removed_at  timestamptz CHECK (removed_at > placed_at),
    PRIMARY KEY (miner_id, placed_at)
);
CREATE UNIQUE INDEX hosting_miner_placements_open ON hosting_miner_placements (miner_id) WHERE removed_at IS NULL;
CREATE INDEX hosting_miner_placements_site ON hosting_miner_placements (site_id, placed_at);
INSERT INTO hosting_miner_placements (miner_id, site_id, placed_at)
SELECT miner_id, site_id, '-infinity' FROM hosting_miners;

-- The rollups (docs/FLEET.md, "Rollups"): counts, sums and maxima of the raw readings, never averages, so the
-- writer adds each batch's readings to them in the batch's transaction and a recompute from miner_telemetry
-- gives the same rows. Sums are exact integers (hashrate in MH/s, power in mW, each reading rounded to those
-- units once), so the order readings are added in cannot change them, and adding integers costs a tenth of
-- adding numerics. "Hashing" readings: hashrate > 0 and not asleep; hours and days are UTC.
CREATE TABLE miner_telemetry_hourly (
    miner_id             bigint NOT NULL REFERENCES hosting_miners (miner_id),
    hour                 timestamptz NOT NULL CHECK (hour = date_trunc('hour', hour, 'UTC')),
    readings             integer NOT NULL CHECK (readings > 0),
    hashing_readings     integer NOT NULL CHECK (hashing_readings BETWEEN 0 AND readings),
    hashrate_mhs_sum     bigint NOT NULL,
    power_mw_sum         bigint NOT NULL,
    hashing_power_mw_sum bigint NOT NULL,
    temperature_c_max    real NOT NULL,
    PRIMARY KEY (miner_id, hour)
) WITH (fillfactor = 70);  -- a miner's current hour is rewritten by every batch: room for in-page (HOT) updates
CREATE INDEX miner_telemetry_hourly_hour ON miner_telemetry_hourly (hour);

CREATE TABLE site_telemetry_hourly (
    site_id              bigint NOT NULL REFERENCES hosting_sites (site_id),
    hour                 timestamptz NOT NULL CHECK (hour = date_trunc('hour', hour, 'UTC')),
    readings             integer NOT NULL CHECK (readings > 0),
    hashing_readings     integer NOT NULL CHECK (hashing_readings BETWEEN 0 AND readings),
    hashrate_mhs_sum     bigint NOT NULL,
    power_mw_sum         bigint NOT NULL,
    hashing_power_mw_sum bigint NOT NULL,
    temperature_c_max    real NOT NULL,
    PRIMARY KEY (site_id, hour)
);

CREATE TABLE site_telemetry_daily (
    site_id              bigint NOT NULL REFERENCES hosting_sites (site_id),
    day                  date NOT NULL,
    readings             integer NOT NULL CHECK (readings > 0),
    hashing_readings     integer NOT NULL CHECK (hashing_readings BETWEEN 0 AND readings),
    hashrate_mhs_sum     bigint NOT NULL,
    power_mw_sum         bigint NOT NULL,
    hashing_power_mw_sum bigint NOT NULL,
    temperature_c_max    real NOT NULL,
    PRIMARY KEY (site_id, day)
);

-- Each miner's newest reading: a site's power now, the hottest and least efficient miners.
CREATE TABLE miner_telemetry_latest (
    miner_id       bigint PRIMARY KEY REFERENCES hosting_miners (miner_id),
    recorded_at    timestamptz NOT NULL,
    hashrate_ths   double precision NOT NULL,
    temperature_c  real NOT NULL,
    power_w        double precision NOT NULL,
    fan_rpm        integer NOT NULL,
    sleeping       boolean NOT NULL
) WITH (fillfactor = 50);  -- every row is rewritten by every batch that reads its miner

-- ---------- row-level security ----------
-- Staff see every client's rows (windhash.client_scope = 'all', set by request_identity).
CREATE FUNCTION windhash_request_sees_every_client() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(current_setting('windhash.client_scope', true), '') = 'all'
$$;

-- A row keyed by a miner is visible exactly when its miner is: the policy reads hosting_miners, whose own
-- policy (by client) applies, so "who owns a miner" has one home and a move between clients moves the whole
-- history with it. For the background roles in `see_all` the second policy is `true`, which PostgreSQL folds
-- away: the writer's inserts and the rollups pay nothing for it (docs/BENCHMARKS.md measures it).
CREATE FUNCTION windhash_enable_miner_rls(tbl regclass, see_all regrole[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
    EXECUTE format(
        'CREATE POLICY request_identity ON %1$s USING (EXISTS ('
        'SELECT 1 FROM hosting_miners AS owned WHERE owned.miner_id = %1$s.miner_id))',
        tbl
    );
    EXECUTE format(
        'CREATE POLICY services_see_all ON %s TO %s USING (true) WITH CHECK (true)',
        tbl, array_to_string(see_all::text[], ', ')
    );
END
$$;

SELECT windhash_enable_client_rls('hosting_miners', 'client_id',
                                  ARRAY['windhash_operator', 'windhash_fleet']::regrole[]);
SELECT windhash_enable_miner_rls(tbl, ARRAY['windhash_operator', 'windhash_fleet']::regrole[])
  FROM unnest(ARRAY['hosting_miner_placements', 'miner_operation_log', 'miner_telemetry',
                    'miner_telemetry_hourly', 'miner_telemetry_latest']::regclass[]) AS tbl;

-- A site is visible to staff, and to a client that has a miner there (again through hosting_miners' policy);
-- only staff may change one.
ALTER TABLE hosting_sites ENABLE ROW LEVEL SECURITY;
CREATE POLICY request_identity ON hosting_sites
    USING (windhash_request_sees_every_client()
           OR EXISTS (SELECT 1 FROM hosting_miners AS hosted WHERE hosted.site_id = hosting_sites.site_id))
    WITH CHECK (windhash_request_sees_every_client());
CREATE POLICY services_see_all ON hosting_sites TO windhash_operator, windhash_fleet USING (true) WITH CHECK (true);

-- A site's rollups add up every client's miners there: staff only.
ALTER TABLE site_telemetry_hourly ENABLE ROW LEVEL SECURITY;
ALTER TABLE site_telemetry_daily ENABLE ROW LEVEL SECURITY;
CREATE POLICY request_identity ON site_telemetry_hourly USING (windhash_request_sees_every_client());
CREATE POLICY request_identity ON site_telemetry_daily USING (windhash_request_sees_every_client());
CREATE POLICY services_see_all ON site_telemetry_hourly TO windhash_operator, windhash_fleet
    USING (true) WITH CHECK (true);
CREATE POLICY services_see_all ON site_telemetry_daily TO windhash_operator, windhash_fleet
    USING (true) WITH CHECK (true);

-- The counts view reads the miners as whoever asks, not as its owner (which would bypass their policy).
ALTER VIEW hosting_site_miner_counts SET (security_invoker = true);

-- The telemetry writer COPYs a batch straight into its day's partition: COPY into a table with row-level
-- security is refused to every role that does not bypass it, and a partition has no policy of its own (its
-- rows are read through miner_telemetry, whose policy applies). So each partition grants INSERT to the
-- writer's role and nothing to anyone else (db_privileges.PARTITION_PRIVILEGES re-grants it after every
-- migration); the same definition as 1200's, plus the grant.
CREATE OR REPLACE FUNCTION ensure_miner_telemetry_partitions(first_day date, days_ahead integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
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
            EXECUTE format('GRANT INSERT ON %I TO windhash_fleet', miner_telemetry_partition_name(day));
            created := created + 1;
        END IF;
    END LOOP;
    RETURN created;
END $$;
