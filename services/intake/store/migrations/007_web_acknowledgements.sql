-- A council coordinator's acknowledgement of a safeguarding alert, shown to their colleagues on the
-- board: who (the person's id in the directory) and when. One per alert; the first stands.
CREATE TABLE intake.web_alert_acknowledgements (
    event_key  text        PRIMARY KEY,  -- intake.alerts.event_key
    org_id     text        NOT NULL,
    person_id  text        NOT NULL,
    at         timestamptz NOT NULL
);
