-- Reconciliation: when each scheduled job of the self-check last ran, so "once a day" holds across restarts
-- and across the instances that take turns holding the self-check's advisory lock.
CREATE TABLE reconcile_jobs (
    job          text PRIMARY KEY,
    last_run_on  date NOT NULL,
    last_result  jsonb,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
