/* Joining a group over HTTP: the contribution priced at the group's bulk
 * price (audit, event, nothing counted until paid), the product's minimum and
 * the group's per-trader maximum (cancelled or refunded parts do not count),
 * closed groups, roles, invalid bodies, Idempotency-Key replay, and 30
 * concurrent joins by one trader that never pass the maximum. */
#include "support/fixture.h"
#include "apps/groupbuy/groupbuy.h"
#include <stdlib.h>
#include <string.h>

TestSuite(groupbuy_join, .init = gb_start, .fini = gb_stop);

static struct resp *join(int64_t group, const char *as, const char *key, const char *body)
{
    char path[96];
    snprintf(path, sizeof path, GB "/groups/%lld/join", (long long)group);
    return api_post(path, as, key, "%s", body);
}

static struct resp *join_qty(int64_t group, const char *as, int quantity)
{
    char body[64];
    snprintf(body, sizeof body, "{\"quantity\":%d}", quantity);
    return join(group, as, NULL, body);
}

static void expect_invalid(struct resp *r, const char *field, const char *problem)
{
    cr_assert_eq(r->status, 400, "%d %s", r->status, r->body);
    cr_assert_str_eq(resp_error_code(r), "validation_failed");
    json_t *d = json_array_get(json_object_get(json_object_get(r->json, "error"), "details"), 0);
    cr_assert_str_eq(jstr(d, "field"), field, "%s", r->body);
    if (problem) cr_assert_str_eq(jstr(d, "problem"), problem, "%s", r->body);
    resp_free(r);
}

static int64_t contributions(int64_t group)
{
    return test_scalar("SELECT COUNT(*) FROM groupbuy_contributions WHERE group_id = $1", group);
}

GbTest(groupbuy_join, join_prices_at_bulk)
{
    int64_t g = gb_group(1, 10, 60);
    struct resp *r = join_qty(g, "gb_trader1", 3);
    cr_assert_eq(r->status, 201, "%s", r->body);
    json_t *c = r->json;
    int64_t id = jint(c, "id");
    cr_assert_eq(jint(c, "group_id"), g);
    cr_assert_eq(jint(c, "trader_id"), test_user_id("gb_trader1"));
    cr_assert_eq(jint(c, "quantity"), 3);
    cr_assert_eq(jint(c, "amount_cents"), 7500, "3 x bulk 2500");
    cr_assert_str_eq(jstr(c, "currency"), "USD");
    cr_assert_str_eq(jstr(c, "status"), "active");
    cr_assert_str_eq(jstr(c, "payment_status"), "unpaid");
    cr_assert_eq(jint(c, "paid_amount_cents"), 0);
    cr_assert(json_is_null(json_object_get(c, "payment_reference")));
    cr_assert(json_is_null(json_object_get(c, "refund_status")));
    cr_assert(json_is_false(json_object_get(c, "is_collected")));
    cr_assert(json_is_false(json_object_get(c, "qr_issued")));
    cr_assert_null(json_object_get(c, "qr_token_hash"));
    cr_assert_null(json_object_get(c, "qr_nonce"));
    resp_free(r);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'groupbuy.contribution.created' AND "
                           "target_id = $1 AND CAST(json_extract(summary, '$.amount_cents') AS INTEGER) = 7500", id), 1);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM outbox WHERE topic = 'groupbuy.group.' || $1 AND type = "
                           "'contribution.created'", g), 1);
    cr_assert_eq(test_scalar("SELECT " GB_COMMITTED_SQL("$1"), g), 0, "unpaid does not count");

    /* the group's snapshot price wins over the product's current one */
    cr_assert_eq(db_exec(test_db(), "UPDATE groupbuy_products SET bulk_price_cents = 1000 WHERE id = 1"), 1);
    r = join_qty(g, "gb_trader2", 2);
    cr_assert_eq(r->status, 201, "%s", r->body);
    cr_assert_eq(jint(r->json, "amount_cents"), 5000);
    resp_free(r);

    /* the trader sees it; others do not */
    char path[96];
    snprintf(path, sizeof path, GB "/contributions/%lld", (long long)id);
    resp_check(api_get(path, "gb_trader1"), 200, NULL);
    resp_check(api_get(path, "gb_trader2"), 404, "not_found");
    resp_check(api_get(path, "gb_admin"), 200, NULL);
}

GbTest(groupbuy_join, min_and_max_per_trader)
{
    int64_t beans = gb_group(2, 20, 60);                     /* min 2, no max */
    expect_invalid(join_qty(beans, "gb_trader1", 1), "quantity", "must be at least 2");
    resp_check(join_qty(beans, "gb_trader1", 2), 201, NULL);
    resp_check(join_qty(beans, "gb_trader1", 500), 201, NULL);

    int64_t rice = gb_group(1, 10, 60);                      /* max 5 */
    resp_check(join_qty(rice, "gb_trader1", 3), 201, NULL);
    struct resp *r = join_qty(rice, "gb_trader1", 3);
    cr_assert_eq(r->status, 409, "%s", r->body);
    cr_assert_str_eq(resp_error_code(r), "max_per_trader_exceeded");
    json_t *d = json_object_get(json_object_get(r->json, "error"), "details");
    cr_assert_eq(jint(d, "max"), 5);
    cr_assert_eq(jint(d, "already"), 3);
    resp_free(r);
    resp_check(join_qty(rice, "gb_trader2", 5), 201, NULL);
    int64_t last = 0;
    r = join_qty(rice, "gb_trader1", 2);
    cr_assert_eq(r->status, 201, "%s", r->body);
    last = jint(r->json, "id");
    resp_free(r);
    resp_check(join_qty(rice, "gb_trader1", 1), 409, "max_per_trader_exceeded");

    /* a cancelled part, or one being refunded, frees its room */
    cr_assert_eq(db_exec(test_db(), "UPDATE groupbuy_contributions SET status = 'cancelled' WHERE id = $1", DB_I(last)), 1);
    resp_check(join_qty(rice, "gb_trader1", 2), 201, NULL);
    resp_check(join_qty(rice, "gb_trader1", 1), 409, "max_per_trader_exceeded");

    /* the group's own max overrides the product's */
    cr_assert_eq(db_exec(test_db(), "UPDATE groupbuy_groups SET max_per_trader = 2 WHERE id = $1", DB_I(beans)), 1);
    resp_check(join_qty(beans, "gb_trader2", 3), 409, "max_per_trader_exceeded");
    resp_check(join_qty(beans, "gb_trader2", 2), 201, NULL);
    cr_assert_eq(contributions(rice), 4);
}

GbTest(groupbuy_join, closed_groups)
{
    int64_t past = gb_group(1, 10, 60);
    gb_set_deadline(past, -1);
    resp_check(join_qty(past, "gb_trader1", 1), 409, "group_closed");
    int64_t failed = gb_group(1, 10, 60);
    cr_assert_eq(db_exec(test_db(), "UPDATE groupbuy_groups SET status = 'failed' WHERE id = $1", DB_I(failed)), 1);
    resp_check(join_qty(failed, "gb_trader1", 1), 409, "group_closed");
    int64_t completed = gb_group(1, 10, 60);
    cr_assert_eq(db_exec(test_db(), "UPDATE groupbuy_groups SET status = 'completed' WHERE id = $1", DB_I(completed)),
                 1);
    resp_check(join_qty(completed, "gb_trader1", 1), 409, "group_closed");
    resp_check(join_qty(999, "gb_trader1", 1), 404, "not_found");
    cr_assert_eq(test_count("SELECT COUNT(*) FROM groupbuy_contributions"), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'groupbuy.contribution.created'"), 0);
}

GbTest(groupbuy_join, only_traders_join)
{
    int64_t g = gb_group(1, 10, 60);
    resp_check(join_qty(g, "gb_admin", 1), 403, "forbidden");
    resp_check(join_qty(g, "gb_sup1", 1), 403, "forbidden");
    resp_check(join_qty(g, "gb_staff1", 1), 403, "forbidden");
    resp_check(join_qty(g, "gb_nobody", 1), 403, "forbidden");
    resp_check(join_qty(g, NULL, 1), 401, NULL);
    cr_assert_eq(contributions(g), 0);
}

GbTest(groupbuy_join, invalid_bodies)
{
    int64_t g = gb_group(2, 20, 60);
    expect_invalid(join(g, "gb_trader1", NULL, "{}"), "quantity", "is required");
    expect_invalid(join_qty(g, "gb_trader1", 0), "quantity", NULL);
    expect_invalid(join_qty(g, "gb_trader1", -4), "quantity", NULL);
    expect_invalid(join_qty(g, "gb_trader1", 100001), "quantity", NULL);
    expect_invalid(join(g, "gb_trader1", NULL, "{\"quantity\":\"3\"}"), "body", NULL);
    expect_invalid(join(g, "gb_trader1", NULL, "{\"quantity\":2.5}"), "body", NULL);
    expect_invalid(join(g, "gb_trader1", NULL, "{\"quantity\":3,\"note\":\"x\"}"), "note", "is not a known field");
    resp_check(join(g, "gb_trader1", NULL, "[3]"), 400, "invalid_json");
    resp_check(join(g, "gb_trader1", NULL, "{\"quantity\":"), 400, "invalid_json");
    cr_assert_eq(contributions(g), 0);
}

GbTest(groupbuy_join, idempotency_key_replays)
{
    int64_t g = gb_group(1, 10, 60);
    struct resp *a = join(g, "gb_trader1", "join-key-1", "{\"quantity\":2}");
    struct resp *b = join(g, "gb_trader1", "join-key-1", "{\"quantity\":2}");
    cr_assert_eq(a->status, 201, "%s", a->body);
    cr_assert_eq(b->status, 201, "%s", b->body);
    cr_assert_eq(jint(a->json, "id"), jint(b->json, "id"));
    cr_assert_str_eq(resp_header(b, "Idempotent-Replayed"), "true");
    resp_free(a);
    resp_free(b);
    resp_check(join(g, "gb_trader1", "join-key-1", "{\"quantity\":3}"), 409, NULL);
    cr_assert_eq(contributions(g), 1);
    resp_check(join(g, "gb_trader1", "join-key-2", "{\"quantity\":2}"), 201, NULL);
    cr_assert_eq(contributions(g), 2);
}

struct race {
    const char *path, *token;
    int status[30];
    char code[30][40];
};

static void racer(int i, void *arg)
{
    struct race *rc = arg;
    struct resp *r = api("POST", rc->path, rc->token, "{\"quantity\":1}");
    rc->status[i] = r->status;
    snprintf(rc->code[i], sizeof rc->code[i], "%s", resp_error_code(r));
    resp_free(r);
}

GbTest(groupbuy_join, concurrent_joins_never_pass_the_max)
{
    int64_t g = gb_group(1, 10, 60);                         /* max 5 per trader */
    char path[96];
    snprintf(path, sizeof path, GB "/groups/%lld/join", (long long)g);
    struct race rc = {.path = path, .token = test_token("gb_trader1")};
    run_concurrently(30, racer, &rc);
    int created = 0, refused = 0;
    for (int i = 0; i < 30; i++) {
        if (rc.status[i] == 201) created++;
        else if (rc.status[i] == 409 && !strcmp(rc.code[i], "max_per_trader_exceeded")) refused++;
        else cr_assert_fail("join %d: %d %s", i, rc.status[i], rc.code[i]);
    }
    cr_assert_eq(created, 5);
    cr_assert_eq(refused, 25);
    cr_assert_eq(test_scalar("SELECT SUM(quantity) FROM groupbuy_contributions WHERE group_id = $1", g), 5);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'groupbuy.contribution.created'"), 5);
    free((char *)rc.token);
}
