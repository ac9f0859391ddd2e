-- The audit trail is append-only for intake's own database role (see shared/migrations.py: the role
-- gets no UPDATE or DELETE on it). Its one way to remove rows is this function, which runs with the
-- schema owner's rights and removes only records older than a year, oldest first, a batch at a time:
-- the retention period the directory sets (`retention.audit_days`, at least 365; a day's leeway here
-- for a service clock ahead of the database's).
CREATE FUNCTION intake.purge_audit(cutoff timestamptz, batch integer)
RETURNS SETOF bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF cutoff > now() - interval '364 days' THEN
        RAISE EXCEPTION 'audit records are kept at least 365 days (cutoff %)', cutoff
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN QUERY
        DELETE FROM intake.audit WHERE seq IN (
            SELECT seq FROM intake.audit WHERE at < cutoff ORDER BY seq LIMIT batch
        ) RETURNING seq;
END;
$$;
