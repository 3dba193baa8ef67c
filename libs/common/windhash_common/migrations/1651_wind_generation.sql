-- Wind output per settlement period, from Elexon's generation outturn by fuel type (FUELHH, fuel WIND:
-- transmission-metered wind) and actual wind generation (AGWS, B1630: offshore and onshore), the
-- denominators of the curtailed share of wind output (issue #21, item 11). Average MW over the period, as
-- Elexon publishes them; NULL where that source has no row. One row per period (natural key); a re-fetch
-- replaces it.
CREATE TABLE wind_generation (
    settlement_date     date NOT NULL,
    settlement_period   smallint NOT NULL CHECK (settlement_period BETWEEN 1 AND 50),
    metered_wind_mw     numeric(10, 1) CHECK (metered_wind_mw BETWEEN 0 AND 100000),
    offshore_wind_mw    numeric(10, 1) CHECK (offshore_wind_mw BETWEEN 0 AND 100000),
    onshore_wind_mw     numeric(10, 1) CHECK (onshore_wind_mw BETWEEN 0 AND 100000),
    synthetic           boolean NOT NULL,
    fetched_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (settlement_date, settlement_period)
);
