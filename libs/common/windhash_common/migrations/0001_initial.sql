-- windhash schema, version 1. Every fact table has a natural unique key and every write is an upsert or a
-- replace-by-key, so replaying any input converges on the same rows.

CREATE TABLE wind_bm_units (
    elexon_bm_unit          text PRIMARY KEY,
    national_grid_bm_unit   text,
    bm_unit_name            text,
    lead_party_name         text,
    generation_capacity_mw  numeric(10, 3),
    fuel_type               text NOT NULL DEFAULT 'WIND',
    first_seen              timestamptz NOT NULL DEFAULT now(),
    last_seen               timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE miner_models (
    name                 text PRIMARY KEY,
    manufacturer         text NOT NULL,
    hashrate_ths         numeric(12, 3) NOT NULL CHECK (hashrate_ths > 0),
    power_w              numeric(12, 3) NOT NULL CHECK (power_w > 0),
    efficiency_j_per_th  numeric(12, 4) GENERATED ALWAYS AS (power_w / hashrate_ths) STORED,
    release_date         date,
    active               boolean NOT NULL DEFAULT true,
    added_at             timestamptz NOT NULL DEFAULT now()
);

-- What the ingestor fetched for each settlement period, and whether it succeeded.
CREATE TABLE ingestion_progress (
    settlement_date    date NOT NULL,
    settlement_period  smallint NOT NULL CHECK (settlement_period BETWEEN 1 AND 50),
    status             text NOT NULL CHECK (status IN ('ok', 'failed')),
    record_count       integer,
    energy_mwh         numeric(14, 6),
    content_hash       text,
    error              text,
    attempts           integer NOT NULL DEFAULT 1,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (settlement_date, settlement_period)
);

-- The period snapshot the calculator last applied; guards against an older snapshot replacing a newer one.
CREATE TABLE settlement_periods (
    settlement_date    date NOT NULL,
    settlement_period  smallint NOT NULL CHECK (settlement_period BETWEEN 1 AND 50),
    period_start_utc   timestamptz NOT NULL,
    content_hash       text NOT NULL,
    fetched_at         timestamptz NOT NULL,
    record_count       integer NOT NULL,
    status             text NOT NULL CHECK (status IN ('calculated', 'pending_difficulty')),
    difficulty         numeric(30, 0),
    synthetic          boolean NOT NULL,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (settlement_date, settlement_period)
);

CREATE TABLE curtailment_records (
    settlement_date             date NOT NULL,
    settlement_period           smallint NOT NULL,
    bm_unit                     text NOT NULL,
    acceptance_id               bigint NOT NULL,
    bid_offer_pair_id           integer NOT NULL,
    sequence_number             integer NOT NULL,
    lead_party_name             text,
    created_at                  timestamptz,
    volume_mwh                  numeric(14, 6) NOT NULL CHECK (volume_mwh < 0),
    original_price_gbp_per_mwh  numeric(12, 4) NOT NULL,
    final_price_gbp_per_mwh     numeric(12, 4),
    cashflow_gbp                numeric(16, 4) NOT NULL,
    so_flag                     boolean NOT NULL,
    cadl_flag                   boolean,
    PRIMARY KEY (settlement_date, settlement_period, bm_unit, acceptance_id, bid_offer_pair_id),
    FOREIGN KEY (settlement_date, settlement_period) REFERENCES settlement_periods ON DELETE CASCADE
);
CREATE INDEX curtailment_records_bm_unit ON curtailment_records (bm_unit, settlement_date);

CREATE TABLE bitcoin_calculations (
    settlement_date     date NOT NULL,
    settlement_period   smallint NOT NULL,
    bm_unit             text NOT NULL,
    acceptance_id       bigint NOT NULL,
    bid_offer_pair_id   integer NOT NULL,
    miner_model         text NOT NULL REFERENCES miner_models ON DELETE CASCADE,
    energy_mwh          numeric(14, 6) NOT NULL CHECK (energy_mwh >= 0),
    difficulty          numeric(30, 0) NOT NULL,
    block_reward_btc    numeric(12, 8) NOT NULL,
    btc                 numeric(20, 8) NOT NULL,
    PRIMARY KEY (settlement_date, settlement_period, bm_unit, acceptance_id, bid_offer_pair_id, miner_model),
    FOREIGN KEY (settlement_date, settlement_period, bm_unit, acceptance_id, bid_offer_pair_id)
        REFERENCES curtailment_records ON DELETE CASCADE
);
CREATE INDEX bitcoin_calculations_model_date ON bitcoin_calculations (miner_model, settlement_date);

-- Daily BTC price, GBP and USD; a missing day means no fiat value for that day, never today's price.
CREATE TABLE btc_prices (
    price_date  date PRIMARY KEY,
    gbp         numeric(14, 2),
    usd         numeric(14, 2),
    source      text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Summaries: each row equals an aggregate of the facts above (`windhash summaries verify` checks it).
CREATE TABLE curtailment_daily (
    settlement_date     date PRIMARY KEY,
    energy_mwh          numeric(16, 6) NOT NULL,
    cashflow_gbp        numeric(18, 4) NOT NULL,
    record_count        integer NOT NULL,
    periods_curtailed   integer NOT NULL,
    bm_units_curtailed  integer NOT NULL,
    updated_at          timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE curtailment_monthly (
    month               date PRIMARY KEY CHECK (extract(day FROM month) = 1),
    energy_mwh          numeric(18, 6) NOT NULL,
    cashflow_gbp        numeric(20, 4) NOT NULL,
    record_count        integer NOT NULL,
    periods_curtailed   integer NOT NULL,
    bm_units_curtailed  integer NOT NULL,
    updated_at          timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE curtailment_yearly (
    year                integer PRIMARY KEY,
    energy_mwh          numeric(20, 6) NOT NULL,
    cashflow_gbp        numeric(22, 4) NOT NULL,
    record_count        integer NOT NULL,
    periods_curtailed   integer NOT NULL,
    bm_units_curtailed  integer NOT NULL,
    updated_at          timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE bitcoin_daily (
    settlement_date          date NOT NULL,
    miner_model              text NOT NULL REFERENCES miner_models ON DELETE CASCADE,
    btc                      numeric(20, 8) NOT NULL,
    energy_mwh               numeric(16, 6) NOT NULL,
    difficulty_min           numeric(30, 0) NOT NULL,
    difficulty_max           numeric(30, 0) NOT NULL,
    difficulty_weighted      numeric(30, 2) NOT NULL,
    value_gbp                numeric(20, 2),
    value_usd                numeric(20, 2),
    updated_at               timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (settlement_date, miner_model)
);

CREATE TABLE bitcoin_monthly (
    month                    date NOT NULL CHECK (extract(day FROM month) = 1),
    miner_model              text NOT NULL REFERENCES miner_models ON DELETE CASCADE,
    btc                      numeric(22, 8) NOT NULL,
    energy_mwh               numeric(18, 6) NOT NULL,
    difficulty_min           numeric(30, 0) NOT NULL,
    difficulty_max           numeric(30, 0) NOT NULL,
    difficulty_weighted      numeric(30, 2) NOT NULL,
    value_gbp                numeric(22, 2),
    value_usd                numeric(22, 2),
    days_without_price       integer NOT NULL DEFAULT 0,
    updated_at               timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (month, miner_model)
);

CREATE TABLE bitcoin_yearly (
    year                     integer NOT NULL,
    miner_model              text NOT NULL REFERENCES miner_models ON DELETE CASCADE,
    btc                      numeric(24, 8) NOT NULL,
    energy_mwh               numeric(20, 6) NOT NULL,
    difficulty_min           numeric(30, 0) NOT NULL,
    difficulty_max           numeric(30, 0) NOT NULL,
    difficulty_weighted      numeric(30, 2) NOT NULL,
    value_gbp                numeric(24, 2),
    value_usd                numeric(24, 2),
    days_without_price       integer NOT NULL DEFAULT 0,
    updated_at               timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (year, miner_model)
);

CREATE TABLE bm_unit_daily (
    settlement_date  date NOT NULL,
    bm_unit          text NOT NULL,
    lead_party_name  text,
    energy_mwh       numeric(16, 6) NOT NULL,
    cashflow_gbp     numeric(18, 4) NOT NULL,
    record_count     integer NOT NULL,
    PRIMARY KEY (settlement_date, bm_unit)
);

CREATE TABLE lead_party_daily (
    settlement_date     date NOT NULL,
    lead_party_name     text NOT NULL,
    energy_mwh          numeric(16, 6) NOT NULL,
    cashflow_gbp        numeric(18, 4) NOT NULL,
    record_count        integer NOT NULL,
    bm_units_curtailed  integer NOT NULL,
    PRIMARY KEY (settlement_date, lead_party_name)
);

-- The Kafka position each consumer group has applied, written in the same transaction as its effects.
CREATE TABLE consumer_positions (
    consumer_group  text NOT NULL,
    topic           text NOT NULL,
    partition       integer NOT NULL,
    next_offset     bigint NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer_group, topic, partition)
);

-- Events that must follow a database write: written in the writer's transaction, published by a relay.
CREATE TABLE outbox (
    id            bigserial PRIMARY KEY,
    topic         text NOT NULL,
    key           bytea,
    payload       jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    published_at  timestamptz
);
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;
