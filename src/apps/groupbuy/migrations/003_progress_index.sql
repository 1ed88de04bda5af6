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

-- The triggers are per dialect: 005_triggers.*.sql.
