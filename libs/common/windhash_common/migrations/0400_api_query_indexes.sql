-- Indexes the query API needs for its filters (lead party, BM unit) and rankings over a span of dates.
CREATE INDEX IF NOT EXISTS bm_unit_daily_bm_unit_date ON bm_unit_daily (bm_unit, settlement_date);
CREATE INDEX IF NOT EXISTS bm_unit_daily_lead_party_date ON bm_unit_daily (lead_party_name, settlement_date);
CREATE INDEX IF NOT EXISTS lead_party_daily_lead_party_date ON lead_party_daily (lead_party_name, settlement_date);
CREATE INDEX IF NOT EXISTS curtailment_records_lead_party_date ON curtailment_records (lead_party_name, settlement_date);
CREATE INDEX IF NOT EXISTS wind_bm_units_lead_party ON wind_bm_units (lead_party_name);
-- The failed-periods list on the status page reads only failures, newest first.
CREATE INDEX IF NOT EXISTS ingestion_progress_failed ON ingestion_progress (updated_at DESC) WHERE status = 'failed';
