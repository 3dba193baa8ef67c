-- Periods whose derived figures cannot be stored (windhash_common.curtailment_facts.storable_figures: the BTC
-- of an absurd difficulty, a period's energy or cashflow beyond what its day's summaries hold). The write path
-- refuses such a period before writing anything of it, records it here with the reason in the same
-- transaction (the calculator also dead-letters its message), and deletes the row when the period is
-- written later. Status, metrics, `windhash ingest` and `reconcile analyze` count these periods as failed.
CREATE TABLE unstorable_periods (
    settlement_date    date NOT NULL,
    settlement_period  smallint NOT NULL CHECK (settlement_period BETWEEN 1 AND 50),
    content_hash       text NOT NULL,
    reason             text NOT NULL,
    refused_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (settlement_date, settlement_period)
);
