-- The statements of GET /api/v1/codepop/stores/1/orders?page_size=50 as
-- atrium runs them (token, roles, store scope, total, page), for pgbench.
-- :token is a token hash (a miss costs the same index probe as a hit).
SELECT t.id, u.id, u.username, COALESCE(u.language, '') FROM auth_tokens t JOIN users u ON u.id = t.user_id JOIN token_families f ON f.id = t.family_id WHERE t.token_hash = :token AND t.kind = 'access' AND t.expires_at > 0 AND f.revoked_at IS NULL;
SELECT 0, app, role, scope_type, scope_id FROM user_roles WHERE user_id = :uid UNION ALL SELECT 1, '', permission, effect, 0 FROM user_permissions WHERE user_id = :uid;
SELECT region_id FROM codepop_stores WHERE id = 1;
SELECT COALESCE(SUM(n), 0) FROM codepop_store_order_counts WHERE store_id = 1 AND (CAST(NULL AS TEXT) IS NULL OR status = NULL);
SELECT o.id, o.store_id, o.user_id, o.status, o.payment_status, o.total_cents, o.currency, o.pickup_time, o.preparation_minutes, o.created_at, o.updated_at FROM codepop_orders o WHERE o.store_id = 1 AND o.created_at >= COALESCE(NULL, '') AND o.created_at < COALESCE(NULL, '9999') AND (CAST(NULL AS TEXT) IS NULL OR o.status = NULL) ORDER BY o.created_at DESC, o.id DESC LIMIT 50 OFFSET 0;
