-- A session belongs to the one-time password that was current when it began (the directory's hash of
-- it), and says whether it was begun by signing in with that one-time password. A new one-time
-- password (`mtp people add` again) ends every session begun before it, and only a session begun
-- with the one-time password may choose the new password. Sessions begun before this change end.
DELETE FROM intake.web_sessions;
ALTER TABLE intake.web_sessions ADD COLUMN issued_sha256 text NOT NULL;
ALTER TABLE intake.web_sessions ADD COLUMN with_one_time_password boolean NOT NULL;
