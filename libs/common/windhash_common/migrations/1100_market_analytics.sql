-- Market data (services/market): one snapshot per 15-minute slot, the outcome of every slot the service has
-- looked at, and technical indicators per snapshot. Keys are the slot's start (UTC), so a retried or
-- backfilled slot converges on one row.

CREATE TABLE market_analytics (
    slot_at            timestamptz PRIMARY KEY,
    price_usd          numeric(14, 2) NOT NULL CHECK (price_usd > 0),
    price_gbp          numeric(14, 2) NOT NULL CHECK (price_gbp > 0),
    volume_24h_usd     numeric(20, 2) NOT NULL CHECK (volume_24h_usd >= 0),
    hashrate_ehs       numeric(14, 3) NOT NULL CHECK (hashrate_ehs > 0),
    difficulty         numeric(30, 4) NOT NULL CHECK (difficulty > 0),
    block_height       integer NOT NULL CHECK (block_height >= 0),
    block_reward_btc   numeric(12, 8) NOT NULL CHECK (block_reward_btc > 0),
    price_quoted_at    timestamptz NOT NULL,
    block_mined_at     timestamptz NOT NULL,
    collected_at       timestamptz NOT NULL,
    backfilled         boolean NOT NULL,
    synthetic          boolean NOT NULL
);

-- Every slot the service decided about: taken live, backfilled from history, refused (implausible values,
-- with the reason) or missed (a source failed, or its history has no data for the slot). A refused or missed
-- slot has no market_analytics row: a gap stays a gap.
CREATE TABLE market_slots (
    slot_at     timestamptz PRIMARY KEY,
    status      text NOT NULL CHECK (status IN ('taken', 'backfilled', 'refused', 'missed')),
    reason      text,
    attempts    integer NOT NULL DEFAULT 1,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX market_slots_problems ON market_slots (updated_at) WHERE status IN ('refused', 'missed');

-- Indicators over the snapshot series of USD prices, ordered by slot (windhash_market.indicators); NULL while
-- an indicator is warming up.
CREATE TABLE technical_indicators (
    slot_at         timestamptz PRIMARY KEY REFERENCES market_analytics ON DELETE CASCADE,
    rsi_14          double precision CHECK (rsi_14 BETWEEN 0 AND 100),
    macd            double precision,
    macd_signal     double precision,
    macd_histogram  double precision,
    bb_upper        double precision,
    bb_middle       double precision,
    bb_lower        double precision,
    ema_12          double precision,
    ema_26          double precision,
    signal          text NOT NULL CHECK (signal IN ('BUY', 'SELL', 'NEUTRAL')),
    computed_at     timestamptz NOT NULL DEFAULT now()
);
