-- Deliveries queued by a consumer batch are born leased to the instance that queued them, which
-- sends them as soon as its transaction commits. Only rows left for any worker to claim (no lease)
-- need to wake the delivery workers.
CREATE OR REPLACE FUNCTION notifier.deliveries_wake() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM queued WHERE lease_until IS NULL) THEN
        PERFORM pg_notify('notifier_deliveries', '');
    END IF;
    RETURN NULL;
END $$;
DROP TRIGGER deliveries_wake ON notifier.deliveries;
CREATE TRIGGER deliveries_wake AFTER INSERT ON notifier.deliveries
    REFERENCING NEW TABLE AS queued
    FOR EACH STATEMENT EXECUTE FUNCTION notifier.deliveries_wake();
