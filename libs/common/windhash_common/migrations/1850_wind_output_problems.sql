-- What a wind output fetch (services/ingestor wind_output.py) could not store, kept where status and the
-- metrics show it rather than only in a command's output: a row of Elexon's FUELHH or AGWS answer that was
-- skipped (a figure that is not a finite MW from 0 to 100,000, a period the day does not have), or a whole
-- day whose fetch failed. A day's problems are replaced each time the day is fetched (natural key: the day
-- and the problem's place in its list), so a day fetched whole again has none.
CREATE TABLE wind_output_problems (
    settlement_date  date NOT NULL,
    problem_no       smallint NOT NULL CHECK (problem_no >= 0),
    kind             text NOT NULL CHECK (kind IN ('row_skipped', 'day_failed')),
    detail           text NOT NULL CHECK (length(detail) <= 300),
    noted_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (settlement_date, problem_no)
);
