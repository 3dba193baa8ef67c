-- A wind BM unit Elexon's reference data stops listing (a farm retired or re-registered) stops counting as
-- wind curtailment from a settlement date on, with its history kept: its records before that date stay,
-- the ingestor keeps none from it on. NULL: the unit counts. `windhash bmunits sync` sets it (issue #21,
-- item 9); a unit listed again counts again.
ALTER TABLE wind_bm_units ADD COLUMN counts_until date;

COMMENT ON COLUMN wind_bm_units.counts_until IS
    'First settlement date on which the unit no longer counts as wind curtailment; NULL: it counts';
