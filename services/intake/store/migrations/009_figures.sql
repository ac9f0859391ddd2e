-- Each authority's figures (docs/domain.md rule 21) as the scheduler last published them, for the senior
-- manager's page: counts only, one row per authority and period (month, quarter or financial year).
CREATE TABLE intake.figures (
    authority  text        NOT NULL,
    period     text        NOT NULL,
    kind       text        NOT NULL,
    first_day  date        NOT NULL,
    last_day   date        NOT NULL,
    as_of      timestamptz NOT NULL,
    figures    jsonb       NOT NULL,
    PRIMARY KEY (authority, period)
);
