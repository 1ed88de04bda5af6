-- groupbuy's triggers on SQLite (PostgreSQL: 005_triggers.pg.sql). Databases
-- made before PostgreSQL support have them from 001 and 003 already.
CREATE TRIGGER IF NOT EXISTS groupbuy_ledger_no_update BEFORE UPDATE ON groupbuy_ledger
BEGIN SELECT RAISE(ABORT, 'groupbuy_ledger rows are never updated'); END;

CREATE TRIGGER IF NOT EXISTS groupbuy_progress_insert AFTER INSERT ON groupbuy_contributions
WHEN EXISTS (SELECT 1 FROM groupbuy_counted_contributions WHERE id = NEW.id)     -- a join starts unpaid: no recount
BEGIN
    UPDATE groupbuy_groups SET (quantity_committed, contributors) = (SELECT COALESCE(SUM(quantity), 0),
        COUNT(DISTINCT trader_id) FROM groupbuy_counted_contributions WHERE group_id = groupbuy_groups.id)
    WHERE id = NEW.group_id;
END;

CREATE TRIGGER IF NOT EXISTS groupbuy_progress_update AFTER UPDATE OF status, payment_status, refund_status, quantity, group_id
ON groupbuy_contributions
BEGIN
    UPDATE groupbuy_groups SET (quantity_committed, contributors) = (SELECT COALESCE(SUM(quantity), 0),
        COUNT(DISTINCT trader_id) FROM groupbuy_counted_contributions WHERE group_id = groupbuy_groups.id)
    WHERE id IN (OLD.group_id, NEW.group_id);
END;

CREATE TRIGGER IF NOT EXISTS groupbuy_progress_delete AFTER DELETE ON groupbuy_contributions
BEGIN
    UPDATE groupbuy_groups SET (quantity_committed, contributors) = (SELECT COALESCE(SUM(quantity), 0),
        COUNT(DISTINCT trader_id) FROM groupbuy_counted_contributions WHERE group_id = groupbuy_groups.id)
    WHERE id = OLD.group_id;
END;
