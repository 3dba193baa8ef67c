-- One holder per background job (market poller, reconcile self-check, each telemetry collector shard, ...),
-- visible to operators: who holds it, on which host, since when, last heartbeat. A lease expires unless its
-- holder renews it, so a crashed holder's job is taken over after `expires_at`; `version` grows by one at each
-- change of holder and serves as a fencing token. Every time is PostgreSQL's clock, so holders on hosts with
-- skewed clocks still agree.
CREATE TABLE scheduler_locks (
    job_key       text PRIMARY KEY CHECK (job_key <> '' AND length(job_key) <= 200),
    holder        text NOT NULL,
    hostname      text NOT NULL,
    pid           integer NOT NULL,
    acquired_at   timestamptz NOT NULL,
    heartbeat_at  timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    version       bigint NOT NULL CHECK (version >= 1)
);
