-- Per (period, model) totals of bitcoin_calculations, kept by statement-level triggers, so the aggregator
-- recomputes a day's bitcoin summaries from 6 rows per period instead of ~30 x 6 calculation rows.
--
-- Why: in a year's backfill the aggregator recomputes every day several times (each batch of events
-- replaces the whole day of every event it holds), and each time summed `energy_mwh * difficulty` and four
-- other numeric aggregates over every calculation of the day. Measured with pg_stat_statements over a
-- year 2024 bench: that one statement was 21 s of PostgreSQL's execution time, second only to the
-- calculator's COPY. The totals are summed once, when the calculations are written, from the rows the
-- statement wrote (its transition table, no re-read of the table).
--
-- Statement-level, not row-level: one aggregate per INSERT/COPY/DELETE/UPDATE statement, where a row trigger
-- would run a statement per row (the per-row cost that migration 0600 removed). Triggers rather than each
-- writer: every path that changes calculations (calculator batches, pending-difficulty recompute, a new
-- model's history, reconcile's replay, a DELETE by hand) keeps the totals exact without knowing about them.
-- `windhash summaries verify` compares the table with the calculations like any summary table, and
-- `windhash summaries rebuild` recomputes it from them.
--
-- The columns are exact sums (numeric), so a day's bitcoin_daily and bitcoin_daily_moments from the totals
-- equal, digit for digit, the same aggregates over the calculations.
CREATE TABLE bitcoin_period_totals (
    settlement_date      date NOT NULL,
    settlement_period    smallint NOT NULL,
    miner_model          text NOT NULL,
    calculations         integer NOT NULL,
    energy_mwh           numeric NOT NULL,
    btc                  numeric NOT NULL,
    difficulty_min       numeric NOT NULL,
    difficulty_max       numeric NOT NULL,
    difficulty_sum       numeric NOT NULL,
    energy_x_difficulty  numeric NOT NULL,
    PRIMARY KEY (settlement_date, settlement_period, miner_model)
);

-- Added rows: their aggregates are added to the totals (sums add, min and max combine).
CREATE FUNCTION bitcoin_period_totals_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO bitcoin_period_totals AS totals
    SELECT settlement_date, settlement_period, miner_model, count(*), sum(energy_mwh), sum(btc),
           min(difficulty), max(difficulty), sum(difficulty), sum(energy_mwh * difficulty)
    FROM added
    GROUP BY settlement_date, settlement_period, miner_model
    ON CONFLICT (settlement_date, settlement_period, miner_model) DO UPDATE SET
        calculations = totals.calculations + EXCLUDED.calculations,
        energy_mwh = totals.energy_mwh + EXCLUDED.energy_mwh,
        btc = totals.btc + EXCLUDED.btc,
        difficulty_min = least(totals.difficulty_min, EXCLUDED.difficulty_min),
        difficulty_max = greatest(totals.difficulty_max, EXCLUDED.difficulty_max),
        difficulty_sum = totals.difficulty_sum + EXCLUDED.difficulty_sum,
        energy_x_difficulty = totals.energy_x_difficulty + EXCLUDED.energy_x_difficulty;
    RETURN NULL;
END $$;

-- Removed or changed rows: the totals of every (period, model) they belonged to are recomputed from what
-- remains (a min or max cannot be subtracted). Writers delete a period before rewriting it, usually
-- nothing, so this mostly returns at once.
CREATE FUNCTION bitcoin_period_totals_recompute(dates date[], periods smallint[], models text[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM bitcoin_period_totals AS totals
    USING unnest(dates, periods, models) AS k(settlement_date, settlement_period, miner_model)
    WHERE (totals.settlement_date, totals.settlement_period, totals.miner_model)
        = (k.settlement_date, k.settlement_period, k.miner_model);
    INSERT INTO bitcoin_period_totals
    SELECT c.settlement_date, c.settlement_period, c.miner_model, count(*), sum(c.energy_mwh), sum(c.btc),
           min(c.difficulty), max(c.difficulty), sum(c.difficulty), sum(c.energy_mwh * c.difficulty)
    FROM bitcoin_calculations AS c
    JOIN unnest(dates, periods, models) AS k(settlement_date, settlement_period, miner_model)
      ON (c.settlement_date, c.settlement_period, c.miner_model)
       = (k.settlement_date, k.settlement_period, k.miner_model)
    GROUP BY c.settlement_date, c.settlement_period, c.miner_model;
END $$;

CREATE FUNCTION bitcoin_period_totals_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM bitcoin_period_totals_recompute(
        array_agg(settlement_date), array_agg(settlement_period), array_agg(miner_model)
    )
    FROM (SELECT DISTINCT settlement_date, settlement_period, miner_model FROM removed) AS keys
    HAVING count(*) > 0;
    RETURN NULL;
END $$;

CREATE FUNCTION bitcoin_period_totals_after_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM bitcoin_period_totals_recompute(
        array_agg(settlement_date), array_agg(settlement_period), array_agg(miner_model)
    )
    FROM (SELECT settlement_date, settlement_period, miner_model FROM removed
          UNION SELECT settlement_date, settlement_period, miner_model FROM added) AS keys
    HAVING count(*) > 0;
    RETURN NULL;
END $$;

CREATE FUNCTION bitcoin_period_totals_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE bitcoin_period_totals;
    RETURN NULL;
END $$;

CREATE TRIGGER bitcoin_period_totals_after_insert AFTER INSERT ON bitcoin_calculations
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION bitcoin_period_totals_add();
CREATE TRIGGER bitcoin_period_totals_after_delete AFTER DELETE ON bitcoin_calculations
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION bitcoin_period_totals_after_delete();
CREATE TRIGGER bitcoin_period_totals_after_update AFTER UPDATE ON bitcoin_calculations
    REFERENCING OLD TABLE AS removed NEW TABLE AS added FOR EACH STATEMENT
    EXECUTE FUNCTION bitcoin_period_totals_after_update();
CREATE TRIGGER bitcoin_period_totals_after_truncate AFTER TRUNCATE ON bitcoin_calculations
    FOR EACH STATEMENT EXECUTE FUNCTION bitcoin_period_totals_truncate();

INSERT INTO bitcoin_period_totals
SELECT settlement_date, settlement_period, miner_model, count(*), sum(energy_mwh), sum(btc),
       min(difficulty), max(difficulty), sum(difficulty), sum(energy_mwh * difficulty)
FROM bitcoin_calculations
GROUP BY settlement_date, settlement_period, miner_model;
