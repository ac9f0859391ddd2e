-- People signing in to the web pages (services/intake/web/): their sessions, kept here so that any
-- intake instance answers them and signing out ends them everywhere (only a hash of the cookie's
-- value is stored); the passwords people chose at their first sign-in (argon2id hashes); and failed
-- sign-ins, counted per person and per address to slow guessing.
CREATE TABLE intake.web_sessions (
    id_sha256   text        PRIMARY KEY,
    org_id      text        NOT NULL,
    person_id   text        NOT NULL,
    csrf        text        NOT NULL,
    created_at  timestamptz NOT NULL,
    seen_at     timestamptz NOT NULL
);
CREATE INDEX web_sessions_person ON intake.web_sessions (org_id, person_id);

CREATE TABLE intake.web_passwords (
    org_id           text        NOT NULL,
    person_id        text        NOT NULL,
    password_argon2  text        NOT NULL,
    changed_at       timestamptz NOT NULL,
    PRIMARY KEY (org_id, person_id)
);

CREATE TABLE intake.web_sign_in_failures (
    subject  text        NOT NULL,  -- 'person:<org>/<id>' or 'address:<ip>'
    at       timestamptz NOT NULL
);
CREATE INDEX web_sign_in_failures_subject ON intake.web_sign_in_failures (subject, at);

-- The coordinator's board reads a council's children by the authority part of their key.
CREATE INDEX tasks_child_prefix ON intake.tasks (child_key text_pattern_ops);
CREATE INDEX episodes_child_prefix ON intake.episodes (child_key text_pattern_ops);
CREATE INDEX alerts_child_prefix ON intake.alerts (child_key text_pattern_ops);
-- Who holds each task, for the board (the latest assignment of each).
CREATE INDEX assignments_task ON intake.assignments (task_id, assigned_at DESC NULLS LAST, updated_at DESC);
