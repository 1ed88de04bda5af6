-- groupbuy's triggers on PostgreSQL (SQLite: 005_triggers.sqlite.sql, which
-- says why each exists).
CREATE TRIGGER groupbuy_ledger_no_update BEFORE UPDATE ON groupbuy_ledger
    FOR EACH ROW EXECUTE FUNCTION atrium_refuse_change('groupbuy_ledger rows are never updated');

-- Progress to MOQ kept on the group: recounted from the view whenever a
-- contribution's counted state can change.
CREATE FUNCTION groupbuy_progress_recount(gid BIGINT) RETURNS void LANGUAGE sql AS $$
    UPDATE groupbuy_groups SET (quantity_committed, contributors) = (SELECT COALESCE(SUM(quantity), 0),
        COUNT(DISTINCT trader_id) FROM groupbuy_counted_contributions WHERE group_id = groupbuy_groups.id)
    WHERE id = gid;
$$;
CREATE FUNCTION groupbuy_progress() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF EXISTS (SELECT 1 FROM groupbuy_counted_contributions WHERE id = NEW.id) THEN
            PERFORM groupbuy_progress_recount(NEW.group_id);
        END IF;
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM groupbuy_progress_recount(OLD.group_id);
        IF NEW.group_id IS DISTINCT FROM OLD.group_id THEN
            PERFORM groupbuy_progress_recount(NEW.group_id);
        END IF;
    ELSE
        PERFORM groupbuy_progress_recount(OLD.group_id);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER groupbuy_progress_insert AFTER INSERT ON groupbuy_contributions
    FOR EACH ROW EXECUTE FUNCTION groupbuy_progress();
CREATE TRIGGER groupbuy_progress_update
    AFTER UPDATE OF status, payment_status, refund_status, quantity, group_id ON groupbuy_contributions
    FOR EACH ROW EXECUTE FUNCTION groupbuy_progress();
CREATE TRIGGER groupbuy_progress_delete AFTER DELETE ON groupbuy_contributions
    FOR EACH ROW EXECUTE FUNCTION groupbuy_progress();
