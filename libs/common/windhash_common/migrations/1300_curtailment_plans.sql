-- Smart curtailment (issue #20, services/plans, docs/PLANS.md): plans for a site, the miners each plan
-- curtails in their shutdown order, every command the executor sends them, the plan's timeline, half-hourly
-- power prices, each site's automatic policy and the decisions it took with their inputs.

-- A plan's status (pending → approved → executing → executed, or cancelled / failed) and phase (what its
-- miners are doing: idle → shutting_down → holding → recovering → recovered) change only through
-- windhash_plans.domain.plan_states, which refuses every illegal transition; here, only the values.
CREATE TABLE curtailment_plans (
    plan_id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_id               bigint NOT NULL REFERENCES hosting_sites (site_id),
    plan_type             text NOT NULL CHECK (plan_type IN ('manual', 'scheduled', 'automatic')),
    -- Automatic plans curtail one model's miners (the policy decides per site and model).
    miner_model           text REFERENCES miner_models (name),
    target_reduction_mw   numeric(12, 6) NOT NULL CHECK (target_reduction_mw > 0),
    -- A manual plan runs when approved, for hold_minutes; a scheduled one at scheduled_at.
    hold_minutes          integer CHECK (hold_minutes > 0),
    scheduled_at          timestamptz,
    recovery_at           timestamptz CHECK (recovery_at > scheduled_at),
    status                text NOT NULL DEFAULT 'pending'
                          CHECK (status IN ('pending', 'approved', 'executing', 'executed', 'cancelled', 'failed')),
    phase                 text NOT NULL DEFAULT 'idle'
                          CHECK (phase IN ('idle', 'shutting_down', 'holding', 'recovering', 'recovered')),
    failure_reason        text CHECK (length(failure_reason) <= 2000),
    note                  text NOT NULL DEFAULT '' CHECK (length(note) <= 1000),
    miners_affected       integer NOT NULL DEFAULT 0 CHECK (miners_affected >= 0),
    -- Measured from miner_telemetry after the shutdown (docs/PLANS.md, "Measuring"); NULL until measured.
    power_before_mw       numeric(14, 6),
    power_after_mw        numeric(14, 6),
    power_reduced_mw      numeric(14, 6),
    -- When the executor's consumer planned the plan's sleep and wake-up commands (from its events).
    sleeps_planned_at     timestamptz,
    wakeups_planned_at    timestamptz,
    started_at            timestamptz,
    executed_at           timestamptz,
    recovery_started_at   timestamptz,
    recovered_at          timestamptz,
    created_by            uuid REFERENCES users (id),
    created_by_actor      text NOT NULL CHECK (created_by_actor <> '' AND length(created_by_actor) <= 200),
    approved_by           uuid REFERENCES users (id),
    approved_at           timestamptz,
    -- A client retrying a create with the same key gets the plan it already made (the write is idempotent).
    idempotency_key       text UNIQUE CHECK (length(idempotency_key) BETWEEN 1 AND 200),
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    CHECK ((plan_type = 'automatic') = (miner_model IS NOT NULL)),
    CHECK (plan_type <> 'manual' OR hold_minutes IS NOT NULL),
    CHECK (plan_type = 'manual' OR (scheduled_at IS NOT NULL AND recovery_at IS NOT NULL)),
    CHECK (status NOT IN ('approved', 'executing', 'executed') OR recovery_at IS NOT NULL)
);
CREATE INDEX curtailment_plans_site ON curtailment_plans (site_id, created_at DESC);
CREATE INDEX curtailment_plans_open ON curtailment_plans (status, phase)
    WHERE phase <> 'recovered' AND status NOT IN ('cancelled', 'failed', 'executed');
-- The policy makes at most one automatic plan per site, model and decision time.
CREATE UNIQUE INDEX curtailment_plans_automatic ON curtailment_plans (site_id, miner_model, scheduled_at)
    WHERE plan_type = 'automatic';

-- The miners a plan curtails, in their shutdown order (windhash_plans.domain.miner_choice), with what they
-- drew and how efficient they were when chosen.
CREATE TABLE curtailment_plan_miners (
    plan_id              bigint NOT NULL REFERENCES curtailment_plans (plan_id),
    miner_id             bigint NOT NULL REFERENCES hosting_miners (miner_id),
    shutdown_order       integer NOT NULL CHECK (shutdown_order > 0),
    drawing_w            numeric(12, 3) NOT NULL CHECK (drawing_w > 0),
    efficiency_j_per_th  numeric(12, 4) NOT NULL CHECK (efficiency_j_per_th > 0),
    temperature_c        real,
    -- Measured from telemetry (NULL: no reading in the window).
    power_before_w       numeric(12, 3),
    power_after_w        numeric(12, 3),
    PRIMARY KEY (plan_id, miner_id),
    UNIQUE (plan_id, shutdown_order)
);
CREATE INDEX curtailment_plan_miners_miner ON curtailment_plan_miners (miner_id);

-- Every command the executor sends, planned ahead (due_at) and recorded before it goes out: `sending` is
-- written and committed before the command, `done` after the miner answered. A step found `sending` after a
-- crash is settled by reading the miner's state first, so no command is ever sent twice.
-- `round` counts sleeps of one miner in one plan (a miner that rebooted awake is put back to sleep).
CREATE TABLE curtailment_plan_steps (
    step_id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    plan_id      bigint NOT NULL REFERENCES curtailment_plans (plan_id),
    miner_id     bigint NOT NULL REFERENCES hosting_miners (miner_id),
    command      text NOT NULL CHECK (command IN ('sleep', 'wakeup')),
    round        integer NOT NULL DEFAULT 1 CHECK (round > 0),
    sequence     integer NOT NULL CHECK (sequence > 0),
    due_at       timestamptz NOT NULL,
    state        text NOT NULL DEFAULT 'pending'
                 CHECK (state IN ('pending', 'sending', 'done', 'failed', 'skipped')),
    attempts     integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_try_at  timestamptz,
    sent_at      timestamptz,
    done_at      timestamptz,
    -- True when the miner was found already in the wanted state after a crash (no command was sent).
    observed     boolean NOT NULL DEFAULT false,
    last_error   text CHECK (length(last_error) <= 1000),
    UNIQUE (plan_id, miner_id, command, round)
);
CREATE INDEX curtailment_plan_steps_due ON curtailment_plan_steps (due_at) WHERE state IN ('pending', 'sending');

-- The plan's timeline: every transition, who made it and what came with it (measurements, reasons).
CREATE TABLE curtailment_plan_events (
    event_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    plan_id      bigint NOT NULL REFERENCES curtailment_plans (plan_id),
    event_type   text NOT NULL CHECK (event_type ~ '^plan\.[a-z_]{1,40}$'),
    status       text NOT NULL,
    phase        text NOT NULL,
    actor        text NOT NULL CHECK (actor <> '' AND length(actor) <= 200),
    user_id      uuid REFERENCES users (id),
    occurred_at  timestamptz NOT NULL DEFAULT now(),
    details      jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX curtailment_plan_events_plan ON curtailment_plan_events (plan_id, event_id);

-- Half-hourly power prices: Elexon's market index (the volume-weighted price of its providers with volume),
-- by settlement date and period. A period without a price has no row: never a default.
CREATE TABLE power_prices (
    settlement_date    date NOT NULL,
    settlement_period  smallint NOT NULL CHECK (settlement_period BETWEEN 1 AND 50),
    start_time         timestamptz NOT NULL UNIQUE,
    price_gbp_per_mwh  numeric(10, 2) NOT NULL CHECK (price_gbp_per_mwh BETWEEN -10000 AND 10000),
    volume_mwh         numeric(14, 3) NOT NULL CHECK (volume_mwh > 0),
    source             text NOT NULL CHECK (source <> ''),
    synthetic          boolean NOT NULL,
    fetched_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (settlement_date, settlement_period)
);

-- Each site's automatic policy (off until an administrator turns it on; their approval stands for the
-- automatic plans it makes) and its price: a fixed tariff, or the market index.
CREATE TABLE plan_site_policies (
    site_id              bigint PRIMARY KEY REFERENCES hosting_sites (site_id),
    automatic_enabled    boolean NOT NULL DEFAULT false,
    price_source         text NOT NULL DEFAULT 'market_index' CHECK (price_source IN ('tariff', 'market_index')),
    tariff_gbp_per_mwh   numeric(10, 2),
    hysteresis_fraction  numeric(5, 4) NOT NULL DEFAULT 0.05 CHECK (hysteresis_fraction >= 0 AND hysteresis_fraction < 1),
    min_on_minutes       integer NOT NULL DEFAULT 30 CHECK (min_on_minutes >= 0),
    min_off_minutes      integer NOT NULL DEFAULT 30 CHECK (min_off_minutes >= 0),
    max_hold_minutes     integer NOT NULL DEFAULT 240 CHECK (max_hold_minutes > 0),
    updated_by           uuid REFERENCES users (id),
    updated_by_actor     text NOT NULL,
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CHECK (price_source <> 'tariff' OR tariff_gbp_per_mwh IS NOT NULL)
);

-- A client's miners at a site that every plan keeps running (windhash_plans.domain.miner_choice).
CREATE TABLE plan_client_minimums (
    site_id             bigint NOT NULL REFERENCES hosting_sites (site_id),
    client_id           uuid NOT NULL REFERENCES clients (id),
    min_running_miners  integer NOT NULL CHECK (min_running_miners >= 0),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (site_id, client_id)
);

-- The automatic policy's decisions with their inputs, for audit: one row whenever the decision for a site and
-- model changes (its action or its reason), and every curtail and resume.
CREATE TABLE automatic_decisions (
    decision_id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_id                    bigint NOT NULL REFERENCES hosting_sites (site_id),
    miner_model                text NOT NULL REFERENCES miner_models (name),
    decided_at                 timestamptz NOT NULL,
    period_start               timestamptz NOT NULL,
    action                     text NOT NULL CHECK (action IN ('curtail', 'resume', 'keep_running', 'keep_curtailed')),
    reason                     text NOT NULL,
    price_source               text NOT NULL,
    power_price_gbp_per_mwh    numeric(10, 2),
    hashprice_gbp_per_mwh      numeric(14, 4),
    difficulty                 numeric(34, 4),
    block_reward_btc           numeric(12, 8),
    btc_price_gbp              numeric(14, 2),
    market_observed_at         timestamptz,
    plan_id                    bigint REFERENCES curtailment_plans (plan_id)
);
CREATE INDEX automatic_decisions_site ON automatic_decisions (site_id, miner_model, decided_at DESC);

-- ---------- row-level security ----------
-- A client sees the plans that affect its miners, their miners and commands (its own miners only: through
-- hosting_miners' policy), and their timeline; only staff create or change them.
ALTER TABLE curtailment_plans ENABLE ROW LEVEL SECURITY;
CREATE POLICY request_identity ON curtailment_plans
    USING (windhash_request_sees_every_client()
           OR EXISTS (SELECT 1 FROM curtailment_plan_miners AS pm
                        JOIN hosting_miners AS owned USING (miner_id)
                       WHERE pm.plan_id = curtailment_plans.plan_id))
    WITH CHECK (windhash_request_sees_every_client());
CREATE POLICY services_see_all ON curtailment_plans TO windhash_operator, windhash_plans
    USING (true) WITH CHECK (true);

SELECT windhash_enable_miner_rls(tbl, ARRAY['windhash_operator', 'windhash_plans']::regrole[])
  FROM unnest(ARRAY['curtailment_plan_miners', 'curtailment_plan_steps']::regclass[]) AS tbl;

ALTER TABLE curtailment_plan_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY request_identity ON curtailment_plan_events
    USING (EXISTS (SELECT 1 FROM curtailment_plans AS plan WHERE plan.plan_id = curtailment_plan_events.plan_id));
CREATE POLICY services_see_all ON curtailment_plan_events TO windhash_operator, windhash_plans
    USING (true) WITH CHECK (true);

-- The automatic decisions compare a whole site's economics: staff only.
ALTER TABLE automatic_decisions ENABLE ROW LEVEL SECURITY;
CREATE POLICY request_identity ON automatic_decisions USING (windhash_request_sees_every_client());
CREATE POLICY services_see_all ON automatic_decisions TO windhash_operator, windhash_plans
    USING (true) WITH CHECK (true);

-- The executor reads every site, miner and reading and changes miners' status and log: policies of its own
-- beside the fleet's (permissive policies add up), so the fleet's role lists stay the fleet's.
CREATE POLICY plans_see_all ON hosting_sites TO windhash_plans USING (true) WITH CHECK (true);
CREATE POLICY plans_see_all ON hosting_miners TO windhash_plans USING (true) WITH CHECK (true);
CREATE POLICY plans_see_all ON miner_operation_log TO windhash_plans USING (true) WITH CHECK (true);
CREATE POLICY plans_see_all ON miner_telemetry TO windhash_plans USING (true) WITH CHECK (true);
CREATE POLICY plans_see_all ON miner_telemetry_latest TO windhash_plans USING (true) WITH CHECK (true);
