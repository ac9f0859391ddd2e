-- Each reader's pages follow a number of their own, moved on whenever the read model takes in an event
-- about that reader's children (a council: its own, and those placed in its area) or assignments (a
-- provider), or a coordinator acknowledges one of its alerts. Nothing else moves it.
CREATE TABLE intake.web_versions (
    reader  text PRIMARY KEY,  -- authority:<code> or provider:<organisation id>
    version bigint NOT NULL
);
-- The page a session last looked at, as the audit trail recorded it: fetching it again to show what
-- changed is not another view.
ALTER TABLE intake.web_sessions ADD COLUMN viewed text;
