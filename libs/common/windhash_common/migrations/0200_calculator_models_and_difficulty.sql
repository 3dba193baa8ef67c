-- Calculator: seed miner models, keep difficulty exactly as published, find pending periods cheaply.

-- Difficulty is a ratio of targets, not an integer: published histories carry fractions (e.g. 83126997340024.6).
-- numeric(30, 0) would round it silently, so the stored difficulty would not be the one the BTC was computed with.
ALTER TABLE settlement_periods ALTER COLUMN difficulty TYPE numeric(34, 4);
ALTER TABLE bitcoin_calculations ALTER COLUMN difficulty TYPE numeric(34, 4);

CREATE INDEX settlement_periods_pending ON settlement_periods (settlement_date)
    WHERE status = 'pending_difficulty';

-- Manufacturers' published specs (stock firmware, nominal mode). Release dates are the month the model was
-- launched (day 1 when only the month is published).
INSERT INTO miner_models (name, manufacturer, hashrate_ths, power_w, release_date) VALUES
    ('S9',       'Bitmain', 13.5,  1323, '2016-06-01'),
    ('M20S',     'MicroBT', 68,    3360, '2019-04-01'),
    ('S19J_PRO', 'Bitmain', 100,   3050, '2021-06-01'),
    ('S21',      'Bitmain', 200,   3500, '2023-09-01'),
    ('M60S',     'MicroBT', 186,   3441, '2023-10-01'),
    ('S21_XP',   'Bitmain', 270,   3645, '2024-06-01')
ON CONFLICT (name) DO NOTHING;
