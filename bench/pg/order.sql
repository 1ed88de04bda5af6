-- The statements of one POST /api/v1/codepop/orders (one drink, three recipe
-- items) as atrium runs them inside its transaction, for pgbench: idempotency
-- lookup, price, store, recipe needs, guarded stock decrements, order, lines,
-- outbox, notify, audit tail and row, the answer, the idempotency record.
-- No advisory lock: PostgreSQL alone, as concurrent as it can be.
\set store random(1, 25)
\set drink random(1, 20)
\set k random(1, 1000000000)
BEGIN;
SELECT route, body_hash, status, content_type, response FROM idempotency_keys WHERE user_id = :uid AND key = 'pgb-' || :k AND created_at > 0;
SELECT CAST(l.key AS BIGINT), CASE WHEN d.id IS NULL THEN 0 ELSE 1 END, d.price_cents, d.complexity FROM atrium_json_each('[{"drink_id":' || :drink || ',"quantity":1}]') l LEFT JOIN codepop_drinks d ON d.id = CAST(atrium_json_extract(l.value, '$.drink_id') AS BIGINT) ORDER BY CAST(l.key AS BIGINT);
SELECT s.timezone, s.opens_at, s.closes_at, m.status AS machine FROM codepop_stores s LEFT JOIN codepop_machines m ON m.store_id = s.id WHERE s.id = :store;
SELECT ri.item_name AS item, SUM(ri.amount * 1) AS needed FROM codepop_recipe_items ri WHERE ri.drink_id = :drink GROUP BY ri.item_name ORDER BY ri.item_name;
UPDATE codepop_store_inventory SET quantity = quantity - 1, updated_at = atrium_strftime('%Y-%m-%dT%H:%M:%SZ','now') WHERE store_id = :store AND item_name = (SELECT item_name FROM codepop_recipe_items WHERE drink_id = :drink ORDER BY item_name LIMIT 1) AND quantity - 1 >= 0 RETURNING id, quantity, threshold_level, low_notified;
UPDATE codepop_store_inventory SET quantity = quantity - 1, updated_at = atrium_strftime('%Y-%m-%dT%H:%M:%SZ','now') WHERE store_id = :store AND item_name = (SELECT item_name FROM codepop_recipe_items WHERE drink_id = :drink ORDER BY item_name OFFSET 1 LIMIT 1) AND quantity - 1 >= 0 RETURNING id, quantity, threshold_level, low_notified;
UPDATE codepop_store_inventory SET quantity = quantity - 1, updated_at = atrium_strftime('%Y-%m-%dT%H:%M:%SZ','now') WHERE store_id = :store AND item_name = (SELECT item_name FROM codepop_recipe_items WHERE drink_id = :drink ORDER BY item_name OFFSET 2 LIMIT 1) AND quantity - 1 >= 0 RETURNING id, quantity, threshold_level, low_notified;
INSERT INTO codepop_orders (store_id, user_id, total_cents, pickup_time, preparation_minutes) VALUES (:store, :uid, 450, '2026-12-08T10:00:00Z', 5) RETURNING id \gset
INSERT INTO codepop_order_lines (order_id, drink_id, quantity, unit_price_cents, line_total_cents) VALUES (:id, :drink, 1, 450, 450);
INSERT INTO outbox (event_id, topic, type, payload) VALUES (gen_random_uuid()::text, 'codepop.store.1', 'ORDER_CREATED', '{"order_id":1,"store_id":1,"user_id":38,"status":"pending","total_cents":450}');
SELECT pg_notify('atrium_outbox', '');
SELECT COALESCE((SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1), 'x');
INSERT INTO audit_log (at, user_id, app, action, target_type, target_id, request_id, client_ip, summary, prev_hash, hash) VALUES ('2026-12-07T20:00:00Z', :uid, 'codepop', 'codepop.order.created', 'order', :id, 'rid', '127.0.0.1', '{"a":1}', 'x', md5(random()::text));
SELECT o.id, o.store_id, o.user_id, o.status, o.payment_status, o.total_cents, o.currency, o.pickup_time, o.preparation_minutes, o.created_at, o.updated_at, (SELECT COALESCE(json_agg(x), '[]'::json) FROM (SELECT json_build_object('id', l.id, 'drink_id', l.drink_id, 'name', d.name, 'quantity', l.quantity) AS x FROM codepop_order_lines l JOIN codepop_drinks d ON d.id = l.drink_id WHERE l.order_id = o.id ORDER BY l.id) t) AS lines FROM codepop_orders o WHERE o.id = :id;
INSERT INTO idempotency_keys (user_id, key, route, body_hash, status, content_type, response, created_at) VALUES (:uid, 'pgb-' || :k || '-' || :id, 'POST /x', 'h', 201, 'application/json', '\x7b7d'::bytea, 1) ON CONFLICT (user_id, key) DO NOTHING;
COMMIT;
