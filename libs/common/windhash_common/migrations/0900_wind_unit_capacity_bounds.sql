-- A BM unit's capacity is a finite figure from 0 to 100,000 MW, or unknown (NULL). numeric accepts 'NaN',
-- which no JSON number can carry and every sum it enters becomes; `bmunits sync` now skips such units, and
-- this makes the table refuse them too. A value already stored that is no capacity becomes unknown.
UPDATE wind_bm_units SET generation_capacity_mw = NULL
WHERE generation_capacity_mw = 'NaN' OR generation_capacity_mw < 0 OR generation_capacity_mw > 100000;

ALTER TABLE wind_bm_units ADD CONSTRAINT wind_bm_units_capacity_is_a_capacity
    CHECK (generation_capacity_mw IS NULL OR generation_capacity_mw BETWEEN 0 AND 100000);
