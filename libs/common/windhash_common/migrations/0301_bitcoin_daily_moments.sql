-- The exact per-day sums behind bitcoin_daily.difficulty_weighted (which is rounded), so the aggregator rolls
-- months and years up from daily rows instead of rescanning a year of bitcoin_calculations on every batch.
-- A summary table like the others: `windhash summaries verify` checks it against the facts.
CREATE TABLE bitcoin_daily_moments (
    settlement_date      date NOT NULL,
    miner_model          text NOT NULL REFERENCES miner_models ON DELETE CASCADE,
    energy_x_difficulty  numeric NOT NULL,
    difficulty_sum       numeric NOT NULL,
    calculations         integer NOT NULL,
    PRIMARY KEY (settlement_date, miner_model)
);

INSERT INTO bitcoin_daily_moments (settlement_date, miner_model, energy_x_difficulty, difficulty_sum, calculations)
SELECT settlement_date, miner_model, sum(energy_mwh * difficulty), sum(difficulty), count(*)
FROM bitcoin_calculations
GROUP BY settlement_date, miner_model;
