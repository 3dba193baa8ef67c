-- Difficulty is stored exactly as published (numeric(34, 4), migration 0200); the summaries' min and max are
-- values of that column, so they need the same precision or they would differ from the facts they summarise.
ALTER TABLE bitcoin_daily ALTER COLUMN difficulty_min TYPE numeric(34, 4),
                          ALTER COLUMN difficulty_max TYPE numeric(34, 4);
ALTER TABLE bitcoin_monthly ALTER COLUMN difficulty_min TYPE numeric(34, 4),
                            ALTER COLUMN difficulty_max TYPE numeric(34, 4);
ALTER TABLE bitcoin_yearly ALTER COLUMN difficulty_min TYPE numeric(34, 4),
                           ALTER COLUMN difficulty_max TYPE numeric(34, 4);
