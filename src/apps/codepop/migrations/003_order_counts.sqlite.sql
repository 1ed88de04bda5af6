-- Orders per (store, status), kept by triggers in the same transaction as the
-- order change, so a store's order list can answer `total` without counting
-- every order of the store on each page (100,000 index entries per request).
CREATE TABLE codepop_store_order_counts (
    store_id INTEGER NOT NULL,
    status   TEXT NOT NULL,
    n        INTEGER NOT NULL,
    PRIMARY KEY (store_id, status)
) WITHOUT ROWID;

INSERT INTO codepop_store_order_counts (store_id, status, n)
    SELECT store_id, status, COUNT(*) FROM codepop_orders GROUP BY store_id, status;

CREATE TRIGGER codepop_order_counts_insert AFTER INSERT ON codepop_orders
BEGIN
    INSERT INTO codepop_store_order_counts (store_id, status, n) VALUES (NEW.store_id, NEW.status, 1)
        ON CONFLICT (store_id, status) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER codepop_order_counts_update AFTER UPDATE OF status, store_id ON codepop_orders
    WHEN OLD.status IS NOT NEW.status OR OLD.store_id IS NOT NEW.store_id
BEGIN
    UPDATE codepop_store_order_counts SET n = n - 1 WHERE store_id = OLD.store_id AND status = OLD.status;
    INSERT INTO codepop_store_order_counts (store_id, status, n) VALUES (NEW.store_id, NEW.status, 1)
        ON CONFLICT (store_id, status) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER codepop_order_counts_delete AFTER DELETE ON codepop_orders
BEGIN
    UPDATE codepop_store_order_counts SET n = n - 1 WHERE store_id = OLD.store_id AND status = OLD.status;
END;
