-- What the figures loop looks at to find authorities whose figures may have changed since its last round.
CREATE INDEX facts_by_received ON scheduler.facts (received_at);
CREATE INDEX timers_by_fired ON scheduler.timers (fired_at) WHERE fired_at IS NOT NULL;
CREATE INDEX episodes_by_offer_due ON scheduler.episodes (offer_due_at) WHERE offer_due_at IS NOT NULL;

-- What was last published for each authority's period (figures_loop.py publishes only what changed).
CREATE TABLE scheduler.figures_sent (
    authority  text        NOT NULL,
    period     text        NOT NULL,
    digest     text        NOT NULL,
    as_of      timestamptz NOT NULL,
    PRIMARY KEY (authority, period)
);
