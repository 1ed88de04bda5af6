-- What counts toward a group's MOQ, defined once: active, paid contributions
-- with no refund started. Completion (GB_COMMITTED_SQL), QR issuing, notices
-- and the kept progress below all read this view.
CREATE VIEW groupbuy_counted_contributions AS
    SELECT * FROM groupbuy_contributions
    WHERE status = 'active' AND payment_status = 'paid' AND refund_status IS NULL;

-- Reads of the view use this partial covering index alone.
CREATE INDEX groupbuy_contributions_counted ON groupbuy_contributions(group_id, trader_id, quantity)
    WHERE status = 'active' AND payment_status = 'paid' AND refund_status IS NULL;

-- Progress to MOQ for lists: every group keeps its committed quantity and its
-- number of contributors, recounted by triggers whenever a contribution's
-- counted state can change. A page of 50 open groups then reads 50 rows
-- instead of running aggregates per group (see bench/README.md). Completion
-- still recounts inside its own transaction; the tests compare both after
-- every test.
ALTER TABLE groupbuy_groups ADD COLUMN quantity_committed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE groupbuy_groups ADD COLUMN contributors INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER groupbuy_progress_insert AFTER INSERT ON groupbuy_contributions
WHEN EXISTS (SELECT 1 FROM groupbuy_counted_contributions WHERE id = NEW.id)     -- a join starts unpaid: no recount
BEGIN
    UPDATE groupbuy_groups SET (quantity_committed, contributors) = (SELECT COALESCE(SUM(quantity), 0),
        COUNT(DISTINCT trader_id) FROM groupbuy_counted_contributions WHERE group_id = groupbuy_groups.id)
    WHERE id = NEW.group_id;
END;

CREATE TRIGGER groupbuy_progress_update AFTER UPDATE OF status, payment_status, refund_status, quantity, group_id
ON groupbuy_contributions
BEGIN
    UPDATE groupbuy_groups SET (quantity_committed, contributors) = (SELECT COALESCE(SUM(quantity), 0),
        COUNT(DISTINCT trader_id) FROM groupbuy_counted_contributions WHERE group_id = groupbuy_groups.id)
    WHERE id IN (OLD.group_id, NEW.group_id);
END;

CREATE TRIGGER groupbuy_progress_delete AFTER DELETE ON groupbuy_contributions
BEGIN
    UPDATE groupbuy_groups SET (quantity_committed, contributors) = (SELECT COALESCE(SUM(quantity), 0),
        COUNT(DISTINCT trader_id) FROM groupbuy_counted_contributions WHERE group_id = groupbuy_groups.id)
    WHERE id = OLD.group_id;
END;
