-- The fact tables' foreign keys go: their writers keep the integrity, and `windhash summaries verify` checks it.
--
-- Why: the calculator's write path is CPU-bound, and PostgreSQL spent most of its share of it in foreign key
-- triggers, which fire once per inserted row (an index probe of the parent plus a KEY SHARE row lock).
-- Measured, PostgreSQL backend CPU (utime+stime) of one COPY of 90,000 bitcoin_calculations rows (500 periods
-- x 30 records x 6 models), two runs on the 2-core dev machine:
--     primary key + bitcoin_calculations_model_date + both foreign keys   2.9-3.9 s
--     without the foreign key to miner_models                              2.2-2.4 s
--     without both foreign keys                                            0.6-0.7 s
--     without both foreign keys and bitcoin_calculations_model_date        0.3-0.4 s
-- curtailment_records' key to settlement_periods costs the same kind of per-row check on 1/6 of the rows: a
-- COPY of those 15,000 records takes 0.30 s with it and 0.16 s without (~5 s of backend CPU a year). With all
-- three gone nothing on the write path runs a per-row trigger. The calculator's whole write path for those
-- 500 periods, with the calculator's changes that came with this migration (COPY text, no staging table),
-- went from 3.8 s to 0.8 s of backend CPU (bench/bench_calculator_writes.py, median of 5).
--
-- What replaces the cascades: every path that replaces or removes a period's records deletes its calculations
-- by the primary key prefix (settlement_date, settlement_period) in the same transaction (calculator batches,
-- pending-difficulty recompute, reconcile's forced replay); a model's calculations are deleted by name when it
-- is re-added or deactivated (`windhash miners add`); nothing deletes miner_models. What the keys guaranteed is
-- checked instead: calculations without their record, of an unknown model or in a period not calculated,
-- records without their period, and records x active models missing their calculation in a calculated period
-- (windhash_aggregator.verify.verify_facts, part of `windhash summaries verify`). A DELETE by hand now leaves
-- the dependent rows behind: verify reports them, `windhash reconcile` replays the periods concerned.
--
-- bitcoin_calculations_model_date (miner_model, settlement_date): EXPLAIN on a year of data (3.16 M
-- calculations) shows no query using it: the API's filtered series and mining queries drive from
-- curtailment_records' lead party / BM unit indexes into the primary key, the aggregator, reconcile and the
-- period audit read by settlement_date (the primary key's prefix). The one user was the delete of a model's
-- calculations by `windhash miners add`, which takes the same time (~0.4 s a year) as a sequential scan.
-- The summary tables keep their keys to miner_models: they are small and written once per day and model.

ALTER TABLE bitcoin_calculations DROP CONSTRAINT bitcoin_calculations_miner_model_fkey;
ALTER TABLE bitcoin_calculations DROP CONSTRAINT bitcoin_calculations_settlement_date_settlement_period_bm__fkey;
ALTER TABLE curtailment_records DROP CONSTRAINT curtailment_records_settlement_date_settlement_period_fkey;
DROP INDEX bitcoin_calculations_model_date;
