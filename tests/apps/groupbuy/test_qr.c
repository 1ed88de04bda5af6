/* Pickup: mark ready for collection (tokens for counted contributions only,
 * only hashes and nonces stored), the trader's QR code in SVG, PNG and JSON,
 * and verification at the counter: the supplier's staff, another supplier
 * (404, audited), forged tokens (404, audited), a second scan (409), wrong
 * states, roles and bodies, and two scans of one code at once.
 *
 * Groups are put in supplier_accepted state with SQL (plus the ledger rows an
 * acceptance writes, so the ledger still reconciles). */
#include "support/fixture.h"
#include "apps/groupbuy/groupbuy.h"
#include <stdlib.h>
#include <string.h>

TestSuite(groupbuy_qr, .init = gb_start, .fini = gb_stop);

struct world {
    int64_t group, c1, c2, c3;     /* trader1 3 paid, trader2 2 paid, trader3 1 unpaid (cancelled) */
};

/* Completed and accepted: status, supplier order, and the supplier credit. */
static void accept_by_sql(int64_t group)
{
    struct db *db = test_db();
    int64_t qty = test_scalar("SELECT " GB_COMMITTED_SQL("$1"), group);
    int64_t total = test_scalar("SELECT COALESCE(SUM(paid_amount_cents), 0) FROM groupbuy_contributions c WHERE "
                              "c.group_id = $1 AND c.status = 'active' AND c.payment_status = 'paid' AND "
                              "c.refund_status IS NULL", group);
    int64_t supplier = test_scalar("SELECT supplier_id FROM groupbuy_groups WHERE id = $1", group);
    char number[64];
    snprintf(number, sizeof number, "ORD-%lld-1700000000", (long long)group);
    cr_assert_eq(db_begin(db), 0);
    cr_assert_eq(db_exec(db, "UPDATE groupbuy_contributions SET status = 'cancelled' WHERE group_id = $1 AND "
                             "payment_status <> 'paid'", DB_I(group)) >= 0, 1);
    cr_assert_eq(db_exec(db, "UPDATE groupbuy_groups SET status = 'completed', supplier_status = 'supplier_accepted', "
                             "completed_at = " GB_NOW_SQL ", supplier_response_at = " GB_NOW_SQL " WHERE id = $1",
                         DB_I(group)), 1);
    int64_t order = 0;
    cr_assert_eq(db_int(db, &order, "INSERT INTO groupbuy_supplier_orders (order_number, group_id, supplier_id, "
                                    "quantity, total_cents, currency, status, responded_at) VALUES ($1, $2, $3, $4, $5, "
                                    "'USD', 'accepted', " GB_NOW_SQL ") RETURNING id",
                        DB_S(number), DB_I(group), DB_I(supplier), DB_I(qty), DB_I(total)), 1);
    cr_assert_eq(groupbuy_ledger_add(db, "escrow", supplier, group, 0, order, "escrow_release", -total, "USD", number), 0);
    cr_assert_eq(groupbuy_ledger_add(db, "supplier", supplier, group, 0, order, "order_credit", total, "USD", number), 0);
    cr_assert_eq(db_commit(db), 0);
}

static struct world accepted_world(void)
{
    struct world w;
    w.group = gb_group(1, 4, 60);
    w.c1 = gb_paid(w.group, "gb_trader1", 3);
    w.c2 = gb_paid(w.group, "gb_trader2", 2);
    w.c3 = gb_contribution(w.group, "gb_trader3", 1);
    accept_by_sql(w.group);
    return w;
}

static struct resp *mark_ready(int64_t group, const char *as)
{
    return api_post(pathf(GB "/admin/groups/%lld/mark-ready-for-collection", group), as, NULL, "%s", "");
}

static void ready_world(struct world *w)
{
    *w = accepted_world();
    struct resp *r = mark_ready(w->group, "gb_admin");
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
}

/* The trader's token through the JSON format; copied into out. */
static void fetch_token(int64_t group, const char *trader, char out[65])
{
    struct resp *r = api_get(pathf(GB "/groups/%lld/qr-code?format=json", group), trader);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_eq(strlen(jstr(r->json, "token")), 64);
    snprintf(out, 65, "%s", jstr(r->json, "token"));
    resp_free(r);
}

static struct resp *verify(const char *as, const char *token)
{
    return api_post(GB "/admin/qr/verify", as, NULL, "{\"token\":\"%s\"}", token);
}

static int64_t count_s(const char *sql, const char *text)
{
    int64_t n = -1;
    db_int(test_db(), &n, sql, DB_S(text));
    return n;
}

static bool is_hex64(const char *s)
{
    if (!s || strlen(s) != 64) return false;
    for (; *s; s++)
        if (!strchr("0123456789abcdef", *s)) return false;
    return true;
}

/* ------------------------------------------------------------ mark ready */

GbTest(groupbuy_qr, mark_ready_issues_tokens_for_counted_contributions)
{
    struct world w = accepted_world();
    struct resp *r = mark_ready(w.group, "gb_admin");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_eq(jint(r->json, "id"), w.group);
    cr_assert_str_eq(jstr(r->json, "supplier_status"), "ready_for_collection");
    cr_assert(jstr(r->json, "ready_for_collection_at"));
    cr_assert_eq(jint(r->json, "qr_tokens_issued"), 2);
    resp_free(r);

    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_groups WHERE id = $1 AND supplier_status = "
                           "'ready_for_collection' AND ready_for_collection_at IS NOT NULL", w.group), 1);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_supplier_orders WHERE group_id = $1 AND "
                           "admin_verification_status = 'verified' AND admin_verified_at IS NOT NULL AND "
                           "qr_codes_generated = 1 AND admin_verified_by = (SELECT id FROM users WHERE username = "
                           "'gb_admin')", w.group), 1);
    /* the two paid contributions have a hash and a nonce; the unpaid one none */
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_contributions WHERE group_id = $1 AND qr_token_hash IS NOT "
                           "NULL AND length(qr_token_hash) = 64 AND length(qr_nonce) = 64 AND qr_issued_at IS NOT NULL",
                           w.group), 2);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_contributions WHERE id = $1 AND qr_token_hash IS NULL "
                           "AND qr_nonce IS NULL", w.c3), 1);
    cr_assert_eq(test_scalar("SELECT COUNT(DISTINCT qr_token_hash) FROM groupbuy_contributions WHERE group_id = $1",
                           w.group), 2);
    /* the plain token is nowhere in the database: not in the row, the audit,
     * the events or the notifications */
    for (int i = 0; i < 2; i++) {
        int64_t c = i ? w.c2 : w.c1;
        char *nonce = NULL, token[65], hash[65];
        struct db_rows rows;
        cr_assert_eq(db_query(test_db(), &rows, "SELECT qr_nonce, qr_token_hash FROM groupbuy_contributions "
                                                "WHERE id = $1", DB_I(c)), 0);
        cr_assert(db_step(&rows));
        nonce = xstrdup(db_col_text(&rows, 0));
        snprintf(hash, sizeof hash, "%s", db_col_text(&rows, 1));
        db_rows_close(&rows);
        cr_assert_eq(groupbuy_qr_token(c, nonce, token), 0);
        char sha[65];
        crypto_sha256_hex(token, 64, sha);
        cr_assert_str_eq(sha, hash, "the stored hash is SHA-256 of the token text");
        cr_assert_eq(count_s("SELECT COUNT(*) FROM groupbuy_contributions c WHERE instr(CAST(json_array(c.id, "
                             "c.group_id, c.trader_id, c.payment_reference, c.qr_token_hash, c.qr_nonce, "
                             "c.payment_provider, c.qr_issued_at) AS TEXT), $1) > 0", token), 0);
        cr_assert_eq(count_s("SELECT (SELECT COUNT(*) FROM audit_log WHERE instr(summary, $1) > 0) + (SELECT COUNT(*) "
                             "FROM outbox WHERE instr(payload, $1) > 0) + (SELECT COUNT(*) FROM notifications WHERE "
                             "instr(data, $1) > 0 OR instr(title, $1) > 0)", token), 0);
        free(nonce);
    }
    /* notified, audited, announced */
    cr_assert_eq(test_count("SELECT COUNT(*) FROM notifications WHERE kind = 'groupbuy.ready_for_collection'"), 2);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM notifications WHERE kind = 'groupbuy.ready_for_collection' AND "
                           "user_id = (SELECT id FROM users WHERE username = 'gb_trader1') AND "
                           "CAST(json_extract(data, '$.quantity') AS INTEGER) = 3 AND CAST(json_extract(data, '$.group_id') AS INTEGER) = $1", w.group), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM notifications WHERE user_id = "
                            "(SELECT id FROM users WHERE username = 'gb_trader3')"), 0);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'groupbuy.group.marked_ready' AND "
                           "target_id = $1 AND CAST(json_extract(summary, '$.qr_issued') AS INTEGER) = 2 AND user_id = "
                           "(SELECT id FROM users WHERE username = 'gb_admin')", w.group), 1);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM outbox WHERE type = 'group.ready_for_collection' AND topic = "
                           "'groupbuy.group.' || $1 AND CAST(json_extract(payload, '$.qr_tokens_issued') AS INTEGER) = 2", w.group), 1);

    /* once only: the group is no longer supplier_accepted */
    resp_check(mark_ready(w.group, "gb_admin"), 409, "invalid_state");
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'groupbuy.group.marked_ready'"), 1);
}

GbTest(groupbuy_qr, mark_ready_refusals)
{
    struct world w = accepted_world();
    int64_t open = gb_group(3, 5, 60);
    gb_paid(open, "gb_trader1", 2);
    resp_check(mark_ready(w.group, NULL), 401, NULL);
    resp_check(mark_ready(w.group, "gb_trader1"), 403, "forbidden");
    resp_check(mark_ready(w.group, "gb_sup1"), 403, "forbidden");
    resp_check(mark_ready(w.group, "gb_staff1"), 403, "forbidden");
    resp_check(mark_ready(w.group, "gb_nobody"), 403, "forbidden");
    struct resp *r = api_post(pathf(GB "/admin/groups/%lld/mark-ready-for-collection", w.group), "gb_admin", NULL,
                             "{\"force\":true}");
    cr_assert_eq(r->status, 400, "%s", r->body);
    cr_assert_str_eq(resp_error_code(r), "validation_failed");
    cr_assert(strstr(r->body, "force"));
    resp_free(r);
    resp_check(api_post(pathf(GB "/admin/groups/%lld/mark-ready-for-collection", w.group), "gb_admin", NULL, "[]"), 400,
              NULL);
    resp_check(mark_ready(99999, "gb_admin"), 404, "not_found");
    resp_check(mark_ready(open, "gb_admin"), 409, "invalid_state");
    /* pending supplier and rejected are not accepted either */
    cr_assert_eq(db_exec(test_db(), "UPDATE groupbuy_groups SET supplier_status = 'pending_supplier' WHERE id = $1",
                         DB_I(w.group)), 1);
    resp_check(mark_ready(w.group, "gb_admin"), 409, "invalid_state");
    cr_assert_eq(test_count("SELECT COUNT(*) FROM groupbuy_contributions WHERE qr_token_hash IS NOT NULL"), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'groupbuy.group.marked_ready'"), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM groupbuy_supplier_orders WHERE qr_codes_generated = 1"), 0);
    cr_assert_eq(db_exec(test_db(), "UPDATE groupbuy_groups SET supplier_status = 'supplier_accepted' WHERE id = $1",
                         DB_I(w.group)), 1);
    resp_check(mark_ready(w.group, "gb_admin"), 200, NULL);
}

/* --------------------------------------------------------------- qr-code */

GbTest(groupbuy_qr, qr_code_formats)
{
    struct world w;
    ready_world(&w);
    /* svg is the default */
    struct resp *r = api_get(pathf(GB "/groups/%lld/qr-code", w.group), "gb_trader1");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(resp_header(r, "Content-Type"), "image/svg+xml");
    cr_assert_str_eq(resp_header(r, "Cache-Control"), "no-store");
    cr_assert_eq(strncmp(r->body, "<svg", 4), 0, "%.40s", r->body);
    cr_assert(strstr(r->body, "viewBox=\"0 0 "));
    cr_assert(strstr(r->body, "</svg>"));
    resp_free(r);
    r = api_get(pathf(GB "/groups/%lld/qr-code?format=svg", w.group), "gb_trader1");
    cr_assert_eq(r->status, 200);
    resp_free(r);

    r = api_get(pathf(GB "/groups/%lld/qr-code?format=png", w.group), "gb_trader1");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(resp_header(r, "Content-Type"), "image/png");
    cr_assert_str_eq(resp_header(r, "Cache-Control"), "no-store");
    cr_assert_gt(r->len, 33);
    cr_assert_eq(memcmp(r->body, "\x89PNG\r\n\x1a\n", 8), 0);
    const unsigned char *ihdr = (const unsigned char *)r->body + 16;
    unsigned wpx = (unsigned)ihdr[0] << 24 | (unsigned)ihdr[1] << 16 | (unsigned)ihdr[2] << 8 | ihdr[3];
    unsigned hpx = (unsigned)ihdr[4] << 24 | (unsigned)ihdr[5] << 16 | (unsigned)ihdr[6] << 8 | ihdr[7];
    cr_assert_eq(wpx, hpx);
    cr_assert_eq(wpx % 8, 0, "8 px per module");
    cr_assert_geq(wpx, (21 + 8) * 8, "at least a version-1 code with its quiet zone");
    resp_free(r);

    r = api_get(pathf(GB "/groups/%lld/qr-code?format=json", w.group), "gb_trader1");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(resp_header(r, "Cache-Control"), "no-store");
    const char *token = jstr(r->json, "token");
    cr_assert(is_hex64(token), "%s", token);
    char sha[65], first[65];
    snprintf(first, sizeof first, "%s", token);
    crypto_sha256_hex(token, 64, sha);
    cr_assert_eq(count_s("SELECT COUNT(*) FROM groupbuy_contributions WHERE qr_token_hash = $1", sha), 1);
    cr_assert_eq(jint(r->json, "contribution_id"), w.c1);
    cr_assert_eq(jint(r->json, "group_id"), w.group);
    cr_assert_eq(jint(r->json, "quantity"), 3);
    cr_assert_str_eq(jstr(r->json, "pickup_location"), "Warehouse 4, Kano Road");
    cr_assert(json_is_false(json_object_get(r->json, "is_collected")));
    cr_assert(json_is_null(json_object_get(r->json, "collected_at")));
    cr_assert_eq(strncmp(jstr(r->json, "svg"), "<svg", 4), 0);
    cr_assert_null(json_object_get(r->json, "qr_nonce"));
    cr_assert_null(json_object_get(r->json, "qr_token_hash"));
    resp_free(r);

    /* the same code again; the other trader gets their own */
    char again[65], other[65];
    fetch_token(w.group, "gb_trader1", again);
    cr_assert_str_eq(first, again);
    fetch_token(w.group, "gb_trader2", other);
    cr_assert_str_neq(first, other);
    char p[200];
    snprintf(p, sizeof p, GB "/groups/%lld/qr-code?format=json&contribution_id=%lld", (long long)w.group,
             (long long)w.c1);
    r = api_get(p, "gb_trader1");
    cr_assert_eq(r->status, 200);
    cr_assert_str_eq(jstr(r->json, "token"), first);
    resp_free(r);
    /* still fetchable after collection, saying so */
    resp_check(verify("gb_staff1", first), 200, NULL);
    r = api_get(pathf(GB "/groups/%lld/qr-code?format=json", w.group), "gb_trader1");
    cr_assert_eq(r->status, 200);
    cr_assert(json_is_true(json_object_get(r->json, "is_collected")));
    cr_assert(jstr(r->json, "collected_at"));
    resp_free(r);
}

GbTest(groupbuy_qr, qr_code_refusals)
{
    struct world w = accepted_world();
    /* accepted but not ready yet */
    resp_check(api_get(pathf(GB "/groups/%lld/qr-code", w.group), "gb_trader1"), 409, "not_ready");
    resp_check(api_post(pathf(GB "/admin/groups/%lld/mark-ready-for-collection", w.group), "gb_admin", NULL, "{}"), 200,
              NULL);
    resp_check(api_get(pathf(GB "/groups/%lld/qr-code?format=gif", w.group), "gb_trader1"), 400, "validation_failed");
    resp_check(api_get(pathf(GB "/groups/%lld/qr-code?format=", w.group), "gb_trader1"), 400, "validation_failed");
    resp_check(api_get(pathf(GB "/groups/%lld/qr-code?contribution_id=abc", w.group), "gb_trader1"), 400,
              "validation_failed");
    resp_check(api_get(pathf(GB "/groups/%lld/qr-code?contribution_id=0", w.group), "gb_trader1"), 400,
              "validation_failed");
    resp_check(api_get(GB "/groups/99999/qr-code", "gb_trader1"), 404, "not_found");
    /* trader3's contribution was never paid: no code; trader1 cannot ask for trader2's */
    resp_check(api_get(pathf(GB "/groups/%lld/qr-code", w.group), "gb_trader3"), 404, "not_found");
    char p[200];
    snprintf(p, sizeof p, GB "/groups/%lld/qr-code?format=json&contribution_id=%lld", (long long)w.group,
             (long long)w.c2);
    resp_check(api_get(p, "gb_trader1"), 404, "not_found");
    snprintf(p, sizeof p, GB "/groups/%lld/qr-code?format=json&contribution_id=%lld", (long long)w.group,
             (long long)w.c3);
    resp_check(api_get(p, "gb_trader3"), 404, "not_found");
    /* only traders read codes */
    resp_check(api_get(pathf(GB "/groups/%lld/qr-code", w.group), NULL), 401, NULL);
    resp_check(api_get(pathf(GB "/groups/%lld/qr-code", w.group), "gb_nobody"), 403, "forbidden");
    resp_check(api_get(pathf(GB "/groups/%lld/qr-code", w.group), "gb_sup1"), 403, "forbidden");
    resp_check(api_get(pathf(GB "/groups/%lld/qr-code", w.group), "gb_staff1"), 403, "forbidden");
    resp_check(api_get(pathf(GB "/groups/%lld/qr-code", w.group), "gb_admin"), 403, "forbidden");
    /* a group of another state */
    int64_t open = gb_group(2, 20, 60);
    resp_check(api_get(pathf(GB "/groups/%lld/qr-code", open), "gb_trader1"), 409, "not_ready");
}

/* ---------------------------------------------------------------- verify */

GbTest(groupbuy_qr, verify_by_staff_once)
{
    struct world w;
    char t1[65], t2[65];
    ready_world(&w);
    fetch_token(w.group, "gb_trader1", t1);
    fetch_token(w.group, "gb_trader2", t2);

    struct resp *r = verify("gb_staff1", t1);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_eq(jint(r->json, "contribution_id"), w.c1);
    cr_assert_eq(jint(r->json, "group_id"), w.group);
    cr_assert_eq(jint(r->json, "trader_id"), test_user_id("gb_trader1"));
    cr_assert_str_eq(jstr(r->json, "trader_username"), "gb_trader1");
    cr_assert_eq(jint(r->json, "quantity"), 3);
    cr_assert(json_is_true(json_object_get(r->json, "is_collected")));
    char at[32];
    snprintf(at, sizeof at, "%s", jstr(r->json, "collected_at"));
    cr_assert_eq(strlen(at), 20);
    resp_free(r);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_contributions WHERE id = $1 AND is_collected = 1 AND "
                           "collected_at IS NOT NULL AND collected_by = (SELECT id FROM users WHERE username = "
                           "'gb_staff1')", w.c1), 1);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'groupbuy.qr.verified' AND target_id = $1 "
                           "AND user_id = (SELECT id FROM users WHERE username = 'gb_staff1') AND request_id IS NOT NULL",
                           w.c1), 1);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM outbox WHERE type = 'contribution.collected' AND "
                           "CAST(json_extract(payload, '$.contribution_id') AS INTEGER) = $1", w.c1), 1);
    cr_assert_eq(count_s("SELECT COUNT(*) FROM audit_log WHERE instr(summary, $1) > 0", t1), 0);

    /* the second scan */
    r = verify("gb_staff1", t1);
    cr_assert_eq(r->status, 409, "%s", r->body);
    cr_assert_str_eq(resp_error_code(r), "already_collected");
    json_t *d = json_array_get(json_object_get(json_object_get(r->json, "error"), "details"), 0);
    cr_assert_str_eq(jstr(d, "collected_at"), at);
    resp_free(r);
    resp_check(verify("gb_admin", t1), 409, "already_collected");
    resp_check(verify("gb_sup1", t1), 409, "already_collected");
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'groupbuy.qr.verified'"), 1);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_contributions WHERE id = $1 AND collected_at = "
                           "(SELECT json_extract(summary, '$.collected_at') FROM audit_log WHERE action = "
                           "'groupbuy.qr.verified')", w.c1), 1);

    /* the supplier himself and the admin may scan too */
    r = verify("gb_sup1", t2);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_eq(jint(r->json, "contribution_id"), w.c2);
    resp_free(r);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM groupbuy_contributions WHERE is_collected = 1"), 2);
}

GbTest(groupbuy_qr, verify_refusals_are_audited)
{
    struct world w;
    char t1[65];
    ready_world(&w);
    fetch_token(w.group, "gb_trader1", t1);

    /* another supplier: 404 as if unknown, audited */
    struct resp *r = verify("gb_sup2", t1);
    cr_assert_eq(r->status, 404, "%s", r->body);
    cr_assert_str_eq(resp_error_code(r), "not_found");
    char body_other[512];
    snprintf(body_other, sizeof body_other, "%s", r->body);
    resp_free(r);
    char sha[65];
    crypto_sha256_hex(t1, 64, sha);
    sha[12] = 0;
    cr_assert_eq(count_s("SELECT COUNT(*) FROM audit_log WHERE action = 'groupbuy.qr.rejected' AND "
                         "json_extract(summary, '$.reason') = 'other_supplier' AND json_extract(summary, "
                         "'$.sha256_prefix') = $1 AND target_type = 'contribution'", sha), 1);
    cr_assert_eq(test_scalar("SELECT is_collected FROM groupbuy_contributions WHERE id = $1", w.c1), 0);

    /* forged and malformed tokens */
    char forged[65];
    crypto_random_token(forged, 32);
    r = verify("gb_staff1", forged);
    cr_assert_eq(r->status, 404, "%s", r->body);
    cr_assert_str_eq(r->body, body_other, "the other supplier's answer says nothing more");
    resp_free(r);
    crypto_sha256_hex(forged, 64, sha);
    sha[12] = 0;
    cr_assert_eq(count_s("SELECT COUNT(*) FROM audit_log WHERE action = 'groupbuy.qr.rejected' AND "
                         "json_extract(summary, '$.reason') = 'unknown_token' AND json_extract(summary, "
                         "'$.sha256_prefix') = $1 AND user_id = (SELECT id FROM users WHERE username = 'gb_staff1')",
                         sha), 1);
    resp_check(verify("gb_admin", "not-a-token"), 404, "not_found");
    resp_check(verify("gb_staff1", ""), 404, "not_found");
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'groupbuy.qr.rejected' AND "
                            "json_extract(summary, '$.reason') = 'unknown_token'"), 3);
    cr_assert_eq(count_s("SELECT COUNT(*) FROM audit_log WHERE instr(summary, $1) > 0", forged), 0);
    cr_assert_eq(count_s("SELECT COUNT(*) FROM audit_log WHERE instr(summary, $1) > 0", t1), 0);

    /* roles and bodies: nothing audited, nothing collected */
    int64_t audited = test_count("SELECT COUNT(*) FROM audit_log");
    resp_check(verify(NULL, t1), 401, NULL);
    resp_check(verify("gb_trader1", t1), 403, "forbidden");
    resp_check(verify("gb_nobody", t1), 403, "forbidden");
    resp_check(api_post(GB "/admin/qr/verify", "gb_staff1", NULL, "{}"), 400, "validation_failed");
    resp_check(api_post(GB "/admin/qr/verify", "gb_staff1", NULL, "{\"token\":42}"), 400, "validation_failed");
    resp_check(api_post(GB "/admin/qr/verify", "gb_staff1", NULL, "{\"token\":\"%s\",\"force\":1}", t1), 400,
              "validation_failed");
    resp_check(api_post(GB "/admin/qr/verify", "gb_staff1", NULL, "\"%s\"", t1), 400, NULL);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log"), audited);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM groupbuy_contributions WHERE is_collected = 1"), 0);
    resp_check(verify("gb_staff1", t1), 200, NULL);
}

GbTest(groupbuy_qr, verify_wrong_states)
{
    struct world w;
    char t1[65];
    ready_world(&w);
    fetch_token(w.group, "gb_trader1", t1);
    struct db *db = test_db();
    cr_assert_eq(db_exec(db, "UPDATE groupbuy_groups SET supplier_status = 'supplier_accepted' WHERE id = $1",
                         DB_I(w.group)), 1);
    resp_check(verify("gb_staff1", t1), 409, "not_ready");
    cr_assert_eq(db_exec(db, "UPDATE groupbuy_groups SET supplier_status = 'ready_for_collection' WHERE id = $1",
                         DB_I(w.group)), 1);
    cr_assert_eq(db_exec(db, "UPDATE groupbuy_contributions SET refund_status = 'pending' WHERE id = $1", DB_I(w.c1)),
                 1);
    resp_check(verify("gb_staff1", t1), 409, "refunded");
    cr_assert_eq(db_exec(db, "UPDATE groupbuy_contributions SET refund_status = NULL WHERE id = $1", DB_I(w.c1)), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'groupbuy.qr.verified'"), 0);
    /* the internal function refuses the same states */
    cr_assert_eq(groupbuy_qr_collect(db, w.c2, test_user_id("gb_staff1")), 1);
    cr_assert_eq(groupbuy_qr_collect(db, w.c2, test_user_id("gb_staff1")), 0);
    cr_assert_eq(groupbuy_qr_collect(db, w.c3, test_user_id("gb_staff1")), 0, "no token, no collection");
    resp_check(verify("gb_staff1", t1), 200, NULL);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'groupbuy.qr.verified'"), 2);
}

/* ------------------------------------------------------------------ race */

#define RACE 10

struct race {
    char tokens[RACE][65];
    char *auth[2];
    int token;                      /* the one being scanned now */
    int status[2];
    char code[2][40];
};

static void scan_one(int i, void *arg)
{
    struct race *rc = arg;
    char body[128];
    snprintf(body, sizeof body, "{\"token\":\"%s\"}", rc->tokens[rc->token]);
    struct resp *r = api("POST", GB "/admin/qr/verify", rc->auth[i], body);
    rc->status[i] = r->status;
    snprintf(rc->code[i], sizeof rc->code[i], "%s", resp_error_code(r));
    resp_free(r);
}

GbTest(groupbuy_qr, two_scans_at_once_collect_once)
{
    static const char *traders[] = {"gb_trader1", "gb_trader2", "gb_trader3"};
    int64_t g = gb_group(2, 20, 60), ids[RACE];
    for (int i = 0; i < RACE; i++) ids[i] = gb_paid(g, traders[i % 3], 2);
    accept_by_sql(g);
    resp_check(api_post(pathf(GB "/admin/groups/%lld/mark-ready-for-collection", g), "gb_admin", NULL, "%s", ""), 200,
              NULL);
    struct race rc = {.auth = {test_token("gb_staff1"), test_token("gb_sup1")}};
    for (int i = 0; i < RACE; i++) {
        char *nonce = db_text(test_db(), "SELECT qr_nonce FROM groupbuy_contributions WHERE id = $1", DB_I(ids[i]));
        cr_assert(nonce);
        cr_assert_eq(groupbuy_qr_token(ids[i], nonce, rc.tokens[i]), 0);
        free(nonce);
    }
    for (int t = 0; t < RACE; t++) {
        rc.token = t;
        run_concurrently(2, scan_one, &rc);
        int ok = (rc.status[0] == 200) + (rc.status[1] == 200);
        int again = (rc.status[0] == 409 && !strcmp(rc.code[0], "already_collected")) +
                    (rc.status[1] == 409 && !strcmp(rc.code[1], "already_collected"));
        cr_assert_eq(ok, 1, "token %d: %d %d", t, rc.status[0], rc.status[1]);
        cr_assert_eq(again, 1, "token %d: %d %s / %d %s", t, rc.status[0], rc.code[0], rc.status[1], rc.code[1]);
        cr_assert_eq(test_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'groupbuy.qr.verified' AND "
                               "target_id = $1", ids[t]), 1);
        cr_assert_eq(test_scalar("SELECT COUNT(*) FROM outbox WHERE type = 'contribution.collected' AND "
                               "CAST(json_extract(payload, '$.contribution_id') AS INTEGER) = $1", ids[t]), 1);
        cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_contributions WHERE id = $1 AND is_collected = 1 AND "
                               "collected_at = (SELECT json_extract(summary, '$.collected_at') FROM audit_log WHERE "
                               "action = 'groupbuy.qr.verified' AND target_id = $1)", ids[t]), 1);
    }
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_contributions WHERE group_id = $1 AND is_collected = 1", g),
                 RACE);
    free(rc.auth[0]);
    free(rc.auth[1]);
}
