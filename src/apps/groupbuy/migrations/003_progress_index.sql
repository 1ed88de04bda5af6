-- Progress to MOQ for lists: every group keeps its committed quantity and its
-- number of contributors (counted contributions only: active, paid, no refund
-- started), recomputed by triggers whenever a contribution's counted state
-- can change. A page of 50 open groups then reads 50 rows instead of running
-- three aggregates per group (see bench/README.md).
--
-- Completion still computes the committed quantity itself (GB_COMMITTED_SQL)
-- inside its transaction; the tests compare both after every test.
ALTER TABLE groupbuy_groups ADD COLUMN quantity_committed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE groupbuy_groups ADD COLUMN contributors INTEGER NOT NULL DEFAULT 0;

-- The recount reads only this partial covering index.
CREATE INDEX groupbuy_contributions_counted ON groupbuy_contributions(group_id, trader_id, quantity)
    WHERE status = 'active' AND payment_status = 'paid' AND refund_status IS NULL;

CREATE TRIGGER groupbuy_progress_insert AFTER INSERT ON groupbuy_contributions
WHEN NEW.status = 'active' AND NEW.payment_status = 'paid' AND NEW.refund_status IS NULL
BEGIN
    UPDATE groupbuy_groups SET
        quantity_committed = (SELECT COALESCE(SUM(quantity), 0) FROM groupbuy_contributions WHERE group_id = NEW.group_id
                              AND status = 'active' AND payment_status = 'paid' AND refund_status IS NULL),
        contributors = (SELECT COUNT(DISTINCT trader_id) FROM groupbuy_contributions WHERE group_id = NEW.group_id
                        AND status = 'active' AND payment_status = 'paid' AND refund_status IS NULL)
    WHERE id = NEW.group_id;
END;

CREATE TRIGGER groupbuy_progress_update AFTER UPDATE OF status, payment_status, refund_status, quantity, group_id
ON groupbuy_contributions
BEGIN
    UPDATE groupbuy_groups SET
        quantity_committed = (SELECT COALESCE(SUM(c.quantity), 0) FROM groupbuy_contributions c
                              WHERE c.group_id = groupbuy_groups.id AND c.status = 'active'
                              AND c.payment_status = 'paid' AND c.refund_status IS NULL),
        contributors = (SELECT COUNT(DISTINCT c.trader_id) FROM groupbuy_contributions c
                        WHERE c.group_id = groupbuy_groups.id AND c.status = 'active'
                        AND c.payment_status = 'paid' AND c.refund_status IS NULL)
    WHERE id IN (OLD.group_id, NEW.group_id);
END;

CREATE TRIGGER groupbuy_progress_delete AFTER DELETE ON groupbuy_contributions
WHEN OLD.status = 'active' AND OLD.payment_status = 'paid' AND OLD.refund_status IS NULL
BEGIN
    UPDATE groupbuy_groups SET
        quantity_committed = (SELECT COALESCE(SUM(quantity), 0) FROM groupbuy_contributions WHERE group_id = OLD.group_id
                              AND status = 'active' AND payment_status = 'paid' AND refund_status IS NULL),
        contributors = (SELECT COUNT(DISTINCT trader_id) FROM groupbuy_contributions WHERE group_id = OLD.group_id
                        AND status = 'active' AND payment_status = 'paid' AND refund_status IS NULL)
    WHERE id = OLD.group_id;
END;
