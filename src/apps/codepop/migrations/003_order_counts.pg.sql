-- Orders per (store, status), kept by triggers in the same transaction as the
-- order change (the SQLite twin, 003_order_counts.sqlite.sql, says why).
CREATE TABLE codepop_store_order_counts (
    store_id BIGINT NOT NULL,
    status   TEXT NOT NULL,
    n        BIGINT NOT NULL,
    PRIMARY KEY (store_id, status)
);

INSERT INTO codepop_store_order_counts (store_id, status, n)
    SELECT store_id, status, COUNT(*) FROM codepop_orders GROUP BY store_id, status;

CREATE FUNCTION codepop_order_counts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE codepop_store_order_counts SET n = n - 1 WHERE store_id = OLD.store_id AND status = OLD.status;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO codepop_store_order_counts (store_id, status, n) VALUES (NEW.store_id, NEW.status, 1)
            ON CONFLICT (store_id, status) DO UPDATE SET n = codepop_store_order_counts.n + 1;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER codepop_order_counts_insert AFTER INSERT ON codepop_orders
    FOR EACH ROW EXECUTE FUNCTION codepop_order_counts();
CREATE TRIGGER codepop_order_counts_update AFTER UPDATE OF status, store_id ON codepop_orders
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.store_id IS DISTINCT FROM NEW.store_id)
    EXECUTE FUNCTION codepop_order_counts();
CREATE TRIGGER codepop_order_counts_delete AFTER DELETE ON codepop_orders
    FOR EACH ROW EXECUTE FUNCTION codepop_order_counts();
