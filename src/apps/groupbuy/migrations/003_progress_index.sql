-- Progress to MOQ (GB_COMMITTED_SQL, contributors) reads only counted
-- contributions: a partial covering index lets those subqueries read the
-- index alone (a page of 50 open groups with 100 contributions each: about
-- 3x faster, see bench/README.md).
CREATE INDEX groupbuy_contributions_counted ON groupbuy_contributions(group_id, trader_id, quantity)
    WHERE status = 'active' AND payment_status = 'paid' AND refund_status IS NULL;
