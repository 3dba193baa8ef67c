-- Days whose summaries must be recomputed because an input other than a calculated period changed: today the
-- BTC price of the day (bitcoin value columns). A trigger marks them, whoever wrote the price (CLI, calculator,
-- plain SQL); the aggregator drains the table and recomputes those days, their months and years.
CREATE TABLE summary_stale_days (
    settlement_date  date PRIMARY KEY,
    reason           text NOT NULL,
    marked_at        timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION mark_price_day_stale() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO summary_stale_days (settlement_date, reason) VALUES (OLD.price_date, 'btc_prices')
        ON CONFLICT (settlement_date) DO NOTHING;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO summary_stale_days (settlement_date, reason) VALUES (NEW.price_date, 'btc_prices')
        ON CONFLICT (settlement_date) DO NOTHING;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER btc_prices_insert_delete_marks_stale AFTER INSERT OR DELETE ON btc_prices
    FOR EACH ROW EXECUTE FUNCTION mark_price_day_stale();

-- An upsert that rewrites the same price marks nothing.
CREATE TRIGGER btc_prices_update_marks_stale AFTER UPDATE ON btc_prices
    FOR EACH ROW WHEN (OLD.price_date IS DISTINCT FROM NEW.price_date OR OLD.gbp IS DISTINCT FROM NEW.gbp
                       OR OLD.usd IS DISTINCT FROM NEW.usd)
    EXECUTE FUNCTION mark_price_day_stale();
