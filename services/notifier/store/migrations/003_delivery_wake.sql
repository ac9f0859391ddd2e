-- Wake the delivery workers when deliveries are queued, at commit, without a round trip per row.
CREATE FUNCTION notifier.deliveries_wake() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('notifier_deliveries', '');
    RETURN NULL;
END $$;
CREATE TRIGGER deliveries_wake AFTER INSERT ON notifier.deliveries
    FOR EACH STATEMENT EXECUTE FUNCTION notifier.deliveries_wake();
