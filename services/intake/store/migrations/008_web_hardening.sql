-- A person's chosen password belongs to the one-time password it replaced: issuing a new one-time
-- password (`mtp people add` again) resets the account. Existing choices keep working until then.
ALTER TABLE intake.web_passwords ADD COLUMN issued_argon2 text NOT NULL DEFAULT '';
-- The web pages ask every second whether the read model changed (its newest applied event).
CREATE INDEX applied_at ON intake.applied (applied_at);
-- purge_audit: a batch must be a positive number of records.
CREATE OR REPLACE FUNCTION intake.purge_audit(cutoff timestamptz, batch integer)
RETURNS SETOF bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF cutoff IS NULL OR cutoff > now() - interval '364 days' THEN
        RAISE EXCEPTION 'audit records are kept at least 365 days (cutoff %)', cutoff
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF batch IS NULL OR batch < 1 OR batch > 10000 THEN
        RAISE EXCEPTION 'a purge removes 1 to 10000 records at a time (batch %)', batch
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN QUERY
        DELETE FROM intake.audit WHERE seq IN (
            SELECT seq FROM intake.audit WHERE at < cutoff ORDER BY seq LIMIT batch
        ) RETURNING seq;
END;
$$;
