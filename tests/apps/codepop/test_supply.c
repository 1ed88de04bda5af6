/* Supply chain end to end over HTTP: create -> approve (hub stock taken, a
 * delivery scheduled by urgency) -> in_transit -> delivered (store stock raised
 * exactly once); reject; cancel (hub stock back); roles and scope; invalid
 * bodies; insufficient hub stock; concurrent approvals never overdraw the
 * hub; and the peer-event functions p2p.c calls, applied twice. */
#include "support/fixture.h"
#include "apps/codepop/codepop.h"
#include <string.h>

TestSuite(codepop_supply, .init = cp_start, .fini = srv_stop);

#define SR "/api/v1/codepop/supply-requests"
#define DL "/api/v1/codepop/deliveries"

/* A request as cp_mgr1 for store 1; returns its id. */
static int64_t create(const char *urgency, int cups, int cherry)
{
    struct resp *r = api_post(SR, "cp_mgr1", NULL,
                             "{\"urgency\":\"%s\",\"notes\":\"weekend\",\"items\":["
                             "{\"item_name\":\"Cups\",\"item_type\":\"Cups\",\"quantity\":%d},"
                             "{\"item_name\":\"Cherry Syrup\",\"item_type\":\"Syrups\",\"quantity\":%d}]}",
                             urgency, cups, cherry);
    cr_assert_eq(r->status, 201, "create: %d %s", r->status, r->body);
    int64_t id = jint(r->json, "id");
    resp_free(r);
    return id;
}

static struct resp *act(int64_t id, const char *what, const char *as, const char *body)
{
    char path[128];
    snprintf(path, sizeof path, SR "/%lld/%s", (long long)id, what);
    return api_post(path, as, NULL, "%s", body);
}

static struct resp *set_status(int64_t delivery, const char *status, const char *as, const char *key)
{
    char path[128], body[64], header[96];
    snprintf(path, sizeof path, DL "/%lld/status", (long long)delivery);
    snprintf(body, sizeof body, "{\"status\":\"%s\"}", status);
    snprintf(header, sizeof header, "Idempotency-Key: %s", key ? key : "");
    const char *headers[] = {header, NULL};
    char *tok = test_token(as);
    struct resp *r = api_h("POST", path, tok, body, key ? headers : NULL);
    free(tok);
    return r;
}

/* Approve as cp_log_c; returns the delivery id. */
static int64_t approve(int64_t id)
{
    struct resp *r = act(id, "approve", "cp_log_c", "{}");
    cr_assert_eq(r->status, 200, "approve: %d %s", r->status, r->body);
    int64_t d = jint(json_object_get(r->json, "delivery"), "id");
    resp_free(r);
    return d;
}

Test(codepop_supply, whole_flow)
{
    struct resp *r = api_post(SR, "cp_mgr1", NULL,
                             "{\"urgency\":\"NORMAL\",\"items\":[{\"item_name\":\"Cups\",\"item_type\":\"Cups\","
                             "\"quantity\":40},{\"item_name\":\"Cherry Syrup\",\"item_type\":\"Syrups\",\"quantity\":7}]}");
    cr_assert_eq(r->status, 201, "%s", r->body);
    int64_t id = jint(r->json, "id");
    char uuid[40];
    snprintf(uuid, sizeof uuid, "%s", jstr(r->json, "uuid"));
    cr_assert_str_eq(jstr(r->json, "status"), "pending");
    cr_assert_eq(jint(r->json, "store_id"), 1, "store 1 is cp_mgr1's only store");
    cr_assert_eq(strlen(uuid), 36);
    cr_assert_eq(json_array_size(json_object_get(r->json, "items")), 2);
    cr_assert_eq(jint(r->json, "requested_by"), test_user_id("cp_mgr1"));
    resp_free(r);
    char sql[512];
    /* two items: [1] exists, [2] does not (json_array_length has no PostgreSQL twin) */
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM outbox WHERE topic = 'codepop.store.1' AND type = "
                              "'SUPPLY_REQUEST_CREATED' AND json_extract(payload, '$.uuid') = '%s' AND "
                              "json_extract(payload, '$.items[1]') IS NOT NULL AND json_extract(payload, '$.items[2]') IS NULL "
                              "AND json_extract(payload, '$.created_at') IS NOT NULL", uuid);
    cr_assert_eq(test_count(sql), 1, "the full request is emitted for the hub");
    cr_assert_eq(test_countf("SELECT COUNT(*) FROM audit_log WHERE action = 'codepop.supply_request.created' AND target_id = %lld", (long long)id), 1);

    /* approve: hub 1 loses exactly the items, a delivery is scheduled in 2 days */
    r = act(id, "approve", "cp_log_c", "{}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(jstr(r->json, "status"), "approved");
    cr_assert_eq(jint(r->json, "reviewed_by"), test_user_id("cp_log_c"));
    cr_assert(jstr(r->json, "approved_at"));
    json_t *d = json_object_get(r->json, "delivery");
    int64_t did = jint(d, "id");
    cr_assert_str_eq(jstr(d, "status"), "scheduled");
    cr_assert_str_eq(jstr(d, "scheduled_date"), date_in(2));
    cr_assert_str_eq(jstr(d, "supply_request_uuid"), uuid);
    cr_assert_eq(jint(d, "supply_request_id"), id);
    cr_assert_eq(jint(d, "hub_id"), 1);
    resp_free(r);
    cr_assert_eq(cp_hub_stock(1, "Cups"), 4960);
    cr_assert_eq(cp_hub_stock(1, "Cherry Syrup"), 4993);
    cr_assert_eq(cp_hub_stock(1, "Vanilla Syrup"), 5000);
    cr_assert_eq(cp_hub_stock(2, "Cups"), 5000);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM outbox WHERE type IN ('SUPPLY_REQUEST_APPROVED', "
                            "'DELIVERY_SCHEDULED') AND topic = 'codepop.store.1'"), 2);
    cr_assert_eq(test_countf("SELECT COUNT(*) FROM audit_log WHERE action = 'codepop.supply_request.approved' AND target_id = %lld", (long long)id), 1);

    /* the delivery lists with its request's id and uuid */
    r = api_get(DL, "cp_mgr1");
    cr_assert_eq(r->status, 200);
    cr_assert_eq(jint(r->json, "total"), 1);
    json_t *item = json_array_get(json_object_get(r->json, "items"), 0);
    cr_assert_eq(jint(item, "supply_request_id"), id);
    cr_assert_str_eq(jstr(item, "supply_request_uuid"), uuid);
    cr_assert_eq(json_array_size(json_object_get(item, "items")), 2);
    resp_free(r);

    /* delivered straight from scheduled is not a transition */
    resp_check(set_status(did, "delivered", "cp_log_c", NULL), 409, "invalid_transition");
    r = set_status(did, "in_transit", "cp_log_c", NULL);
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
    cr_assert_eq(cp_stock(1, "Cups"), 500);

    /* delivered raises store 1's stock once; the replay and a second try don't */
    r = set_status(did, "delivered", "cp_log_c", "deliver-1");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(jstr(r->json, "status"), "delivered");
    cr_assert(json_is_true(json_object_get(r->json, "stock_applied")));
    resp_free(r);
    cr_assert_eq(cp_stock(1, "Cups"), 540);
    cr_assert_eq(cp_stock(1, "Cherry Syrup"), 107);
    r = set_status(did, "delivered", "cp_log_c", "deliver-1");
    cr_assert_eq(r->status, 200);
    cr_assert_str_eq(resp_header(r, "Idempotent-Replayed"), "true");
    resp_free(r);
    resp_check(set_status(did, "delivered", "cp_log_c", NULL), 409, NULL);
    resp_check(set_status(did, "cancelled", "cp_log_c", NULL), 409, NULL);
    cr_assert_eq(cp_stock(1, "Cups"), 540);
    cr_assert_eq(cp_stock(2, "Cups"), 500);
    cr_assert_eq(cp_hub_stock(1, "Cups"), 4960);
    cr_assert_eq(test_countf("SELECT COUNT(*) FROM audit_log WHERE action = 'codepop.delivery.status_changed' AND target_id = %lld", (long long)did), 2);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM outbox WHERE type = 'DELIVERY_STATUS_CHANGED' AND "
                            "json_extract(payload, '$.status') = 'delivered' AND "
                            "json_extract(payload, '$.items[1]') IS NOT NULL AND "
                            "json_extract(payload, '$.items[2]') IS NULL"), 1);

    /* approving again is a state conflict */
    resp_check(act(id, "approve", "cp_log_c", "{}"), 409, "invalid_state");
    cr_assert_eq(cp_hub_stock(1, "Cups"), 4960);
}

Test(codepop_supply, delivery_date_by_urgency)
{
    const char *urgency[] = {"CRITICAL", "HIGH", "NORMAL", "LOW"};
    int days[] = {0, 1, 2, 2};
    for (int i = 0; i < 4; i++) {
        int64_t did = approve(create(urgency[i], 1, 1));
        char path[64];
        snprintf(path, sizeof path, DL "/%lld", (long long)did);
        struct resp *r = api_get(path, "cp_log_c");
        cr_assert_eq(r->status, 200);
        cr_assert_str_eq(jstr(r->json, "scheduled_date"), date_in(days[i]), "%s", urgency[i]);
        cr_assert_str_eq(jstr(r->json, "urgency"), urgency[i]);
        resp_free(r);
    }
}

Test(codepop_supply, reject)
{
    int64_t id = create("HIGH", 10, 10);
    resp_check(act(id, "reject", "cp_log_c", "{}"), 400, NULL);
    resp_check(act(id, "reject", "cp_log_c", "{\"reason\":\"  \"}"), 400, NULL);
    struct resp *r = act(id, "reject", "cp_log_c", "{\"reason\":\"budget freeze\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(jstr(r->json, "status"), "rejected");
    cr_assert_str_eq(jstr(r->json, "rejected_reason"), "budget freeze");
    cr_assert_eq(jint(r->json, "reviewed_by"), test_user_id("cp_log_c"));
    resp_free(r);
    resp_check(act(id, "reject", "cp_log_c", "{\"reason\":\"again\"}"), 409, NULL);
    resp_check(act(id, "approve", "cp_log_c", "{}"), 409, "invalid_state");
    cr_assert_eq(cp_hub_stock(1, "Cups"), 5000);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_deliveries"), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM outbox WHERE type = 'SUPPLY_REQUEST_REJECTED'"), 1);
    cr_assert_eq(test_countf("SELECT COUNT(*) FROM audit_log WHERE action = 'codepop.supply_request.rejected' AND target_id = %lld", (long long)id), 1);
}

Test(codepop_supply, cancel_returns_hub_stock)
{
    int64_t a = approve(create("NORMAL", 100, 20)), b = approve(create("NORMAL", 50, 5));
    cr_assert_eq(cp_hub_stock(1, "Cups"), 4850);
    struct resp *r = set_status(a, "cancelled", "cp_log_c", NULL);
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
    cr_assert_eq(cp_hub_stock(1, "Cups"), 4950);
    cr_assert_eq(cp_hub_stock(1, "Cherry Syrup"), 4995);
    r = set_status(b, "in_transit", "cp_log_c", NULL);
    resp_free(r);
    resp_check(set_status(b, "cancelled", "cp_log_c", NULL), 200, NULL);
    cr_assert_eq(cp_hub_stock(1, "Cups"), 5000);
    cr_assert_eq(cp_hub_stock(1, "Cherry Syrup"), 5000);
    resp_check(set_status(b, "cancelled", "cp_log_c", NULL), 409, NULL);
    resp_check(set_status(a, "in_transit", "cp_log_c", NULL), 409, NULL);
    cr_assert_eq(cp_hub_stock(1, "Cups"), 5000);
    cr_assert_eq(cp_stock(1, "Cups"), 500);
    resp_check(set_status(a, "LOST", "cp_log_c", NULL), 400, NULL);
}

Test(codepop_supply, roles_and_scope)
{
    int64_t id = create("NORMAL", 5, 5);
    char get[64], apr[80], rej[80], st[80];
    snprintf(get, sizeof get, SR "/%lld", (long long)id);
    snprintf(apr, sizeof apr, SR "/%lld/approve", (long long)id);
    snprintf(rej, sizeof rej, SR "/%lld/reject", (long long)id);
    const struct authz_case before[] = {
        {"POST", SR, NULL, 401, "{}"},
        {"POST", SR, "cp_user1", 403, "{}"},
        {"POST", SR, "cp_log_c", 403, "{}"},
        {"POST", SR, "cp_nobody", 403, "{}"},
        {"POST", SR, "cp_mgr1", 403,
         "{\"store_id\":2,\"urgency\":\"LOW\",\"items\":[{\"item_name\":\"Cups\",\"item_type\":\"Cups\",\"quantity\":1}]}"},
        {"POST", SR, "cp_mgr1", 404,
         "{\"store_id\":99,\"urgency\":\"LOW\",\"items\":[{\"item_name\":\"Cups\",\"item_type\":\"Cups\",\"quantity\":1}]}"},
        {"GET", SR, "cp_user1", 403},
        {"GET", get, "cp_mgr1", 200},
        {"GET", get, "cp_mgr2", 404},
        {"GET", get, "cp_log_c", 200},
        {"GET", get, "cp_log_e", 404},
        {"GET", get, "cp_admin", 200},
        {"GET", get, "cp_rep_c", 403},
        {"POST", apr, "cp_log_e", 403},
        {"POST", apr, "cp_mgr1", 403},
        {"POST", apr, "cp_mgr2", 403},
        {"POST", apr, "cp_user1", 403},
        {"POST", rej, "cp_log_e", 403, "{\"reason\":\"no\"}"},
        {"POST", SR "/999/approve", "cp_log_c", 404},
        {0},
    };
    authz_run(before);
    cr_assert_eq(cp_hub_stock(1, "Cups"), 5000);
    int64_t did = approve(id);
    snprintf(st, sizeof st, DL "/%lld/status", (long long)did);
    snprintf(get, sizeof get, DL "/%lld", (long long)did);
    const struct authz_case after[] = {
        {"GET", get, "cp_mgr1", 200},
        {"GET", get, "cp_mgr2", 404},
        {"GET", get, "cp_log_e", 404},
        {"GET", DL, "cp_user1", 403},
        {"POST", st, "cp_mgr1", 403, "{\"status\":\"in_transit\"}"},
        {"POST", st, "cp_log_e", 403, "{\"status\":\"in_transit\"}"},
        {"POST", st, "cp_rep_c", 403, "{\"status\":\"in_transit\"}"},
        {"POST", DL "/999/status", "cp_log_c", 404, "{\"status\":\"in_transit\"}"},
        {0},
    };
    authz_run(after);

    /* lists only hold what the caller may see */
    struct resp *r = api_get(SR, "cp_mgr2");
    cr_assert_eq(jint(r->json, "total"), 0);
    resp_free(r);
    r = api_get(SR, "cp_log_e");
    cr_assert_eq(jint(r->json, "total"), 0);
    resp_free(r);
    r = api_get(SR "?status=approved&store_id=1", "cp_log_c");
    cr_assert_eq(jint(r->json, "total"), 1);
    resp_free(r);
    r = api_get(SR "?status=pending", "cp_admin");
    cr_assert_eq(jint(r->json, "total"), 0);
    resp_free(r);
    resp_check(api_get(SR "?urgency=SOON", "cp_admin"), 400, NULL);
    r = api_get(DL, "cp_mgr2");
    cr_assert_eq(jint(r->json, "total"), 0);
    resp_free(r);
}

Test(codepop_supply, invalid_bodies_change_nothing)
{
    static const struct {
        const char *body, *field;
    } cases[] = {
        {"{\"urgency\":\"LOW\",\"items\":[]}", "items"},
        {"{\"urgency\":\"LOW\",\"items\":[{\"item_name\":\"Cups\",\"item_type\":\"Cups\",\"quantity\":0}]}",
         "items[0].quantity"},
        {"{\"urgency\":\"LOW\",\"items\":[{\"item_name\":\"Cups\",\"item_type\":\"Cups\",\"quantity\":1},"
         "{\"item_name\":\"Cola Syrup\",\"item_type\":\"Syrups\",\"quantity\":10001}]}", "items[1].quantity"},
        {"{\"urgency\":\"LOW\",\"items\":[{\"item_name\":\"Cups\",\"item_type\":\"Cups\",\"quantity\":\"5\"}]}",
         "items[0].quantity"},
        {"{\"urgency\":\"SOON\",\"items\":[{\"item_name\":\"Cups\",\"item_type\":\"Cups\",\"quantity\":1}]}", "urgency"},
        {"{\"items\":[{\"item_name\":\"Cups\",\"item_type\":\"Cups\",\"quantity\":1}]}", "urgency"},
        {"{\"urgency\":\"LOW\",\"items\":[{\"item_name\":\"\",\"item_type\":\"Cups\",\"quantity\":1}]}",
         "items[0].item_name"},
        {"{\"urgency\":\"LOW\",\"items\":[{\"item_type\":\"Cups\",\"quantity\":1}]}", "items[0].item_name"},
        {"{\"urgency\":\"LOW\",\"items\":[{\"item_name\":\"Cups\",\"item_type\":\"Cups\",\"quantity\":1,\"x\":1}]}",
         "items[0].x"},
        {"{\"urgency\":\"LOW\",\"items\":[{\"item_name\":\"Cups\",\"item_type\":\"Cups\",\"quantity\":1},"
         "{\"item_name\":\"Cups\",\"item_type\":\"Cups\",\"quantity\":2}]}", "items[1].item_name"},
        {"{\"urgency\":\"LOW\",\"extra\":1,\"items\":[{\"item_name\":\"Cups\",\"item_type\":\"Cups\",\"quantity\":1}]}",
         "extra"},
        {"{\"urgency\":\"LOW\",\"items\":{}}", "items"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct resp *r = api_post(SR, "cp_mgr1", NULL, "%s", cases[i].body);
        cr_assert_eq(r->status, 400, "case %zu: %d %s", i, r->status, r->body);
        json_t *detail = json_array_get(json_object_get(json_object_get(r->json, "error"), "details"), 0);
        cr_assert_str_eq(jstr(detail, "field"), cases[i].field, "case %zu: %s", i, r->body);
        resp_free(r);
    }
    char big[4096] = "{\"urgency\":\"LOW\",\"items\":[", name[160];
    for (int i = 0; i < 51; i++)
        snprintf(big + strlen(big), sizeof big - strlen(big), "%s{\"item_name\":\"I%d\",\"item_type\":\"T\",\"quantity\":1}",
                 i ? "," : "", i);
    strcat(big, "]}");
    resp_check(api_post(SR, "cp_mgr1", NULL, "%s", big), 400, NULL);
    memset(name, 'a', 101);
    name[101] = 0;
    struct resp *r = api_post(SR, "cp_mgr1", NULL,
                             "{\"urgency\":\"LOW\",\"items\":[{\"item_name\":\"%s\",\"item_type\":\"T\",\"quantity\":1}]}",
                name);
    cr_assert_eq(r->status, 400);
    resp_free(r);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_supply_requests"), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM outbox WHERE type LIKE 'SUPPLY%'"), 0);
}

Test(codepop_supply, which_store)
{
    /* a manager of two stores must say which; an admin must always say */
    test_user("cp_mgr12", "codepop", "manager", "store", 1);
    cr_assert_eq(db_exec(test_db(), "INSERT INTO user_roles (user_id, app, role, scope_type, scope_id) "
                                    "VALUES ($1, 'codepop', 'manager', 'store', 2)", DB_I(test_user_id("cp_mgr12"))), 1);
    const char *items = "\"urgency\":\"LOW\",\"items\":[{\"item_name\":\"Cups\",\"item_type\":\"Cups\",\"quantity\":1}]";
    resp_check(api_post(SR, "cp_mgr12", NULL, "{%s}", items), 400, NULL);
    resp_check(api_post(SR, "cp_admin", NULL, "{%s}", items), 400, NULL);
    struct resp *r = api_post(SR, "cp_mgr12", NULL, "{\"store_id\":2,%s}", items);
    cr_assert_eq(r->status, 201, "%s", r->body);
    cr_assert_eq(jint(r->json, "store_id"), 2);
    resp_free(r);
    resp_check(api_post(SR, "cp_admin", NULL, "{\"store_id\":3,%s}", items), 201, NULL);
}

Test(codepop_supply, insufficient_hub_stock)
{
    cr_assert_eq(db_exec(test_db(), "UPDATE codepop_hub_inventory SET quantity = 10 "
                                    "WHERE hub_id = 1 AND item_name = 'Cups'"), 1);
    int64_t id = create("CRITICAL", 30, 5);
    struct resp *r = act(id, "approve", "cp_log_c", "{}");
    cr_assert_eq(r->status, 409);
    cr_assert_str_eq(resp_error_code(r), "insufficient_hub_stock");
    cr_assert(strstr(r->body, "Cups"), "%s", r->body);
    json_t *detail = json_array_get(json_object_get(json_object_get(r->json, "error"), "details"), 0);
    cr_assert_eq(jint(detail, "available"), 10);
    cr_assert_eq(jint(detail, "needed"), 30);
    resp_free(r);
    /* nothing changed: not the Cherry Syrup taken first, not the status */
    cr_assert_eq(cp_hub_stock(1, "Cups"), 10);
    cr_assert_eq(cp_hub_stock(1, "Cherry Syrup"), 5000);
    cr_assert_eq(test_countf("SELECT COUNT(*) FROM codepop_supply_requests WHERE id = %lld AND status = 'pending' "
                       "AND reviewed_by IS NULL", (long long)id), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_deliveries"), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'codepop.supply_request.approved'"), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM outbox WHERE type = 'DELIVERY_SCHEDULED'"), 0);
    /* an item the hub does not carry at all */
    r = api_post(SR, "cp_mgr1", NULL, "{\"urgency\":\"LOW\",\"items\":[{\"item_name\":\"Mango Syrup\",\"item_type\":\"Syrups\","
                               "\"quantity\":1}]}");
    int64_t other = jint(r->json, "id");
    resp_free(r);
    resp_check(act(other, "approve", "cp_log_c", "{}"), 409, "insufficient_hub_stock");
}

/* ----------------------------------------------------------------- races */

struct race {
    int64_t ids[10];
    char *tokens[2];
    int status[10];
    char code[10][32];
};

static void approve_one(int i, void *arg)
{
    struct race *rc = arg;
    char path[96];
    snprintf(path, sizeof path, SR "/%lld/approve", (long long)rc->ids[i]);
    struct resp *r = api("POST", path, rc->tokens[i % 2], "{}");
    rc->status[i] = r->status;
    snprintf(rc->code[i], sizeof rc->code[i], "%s", resp_error_code(r));
    resp_free(r);
}

Test(codepop_supply, concurrent_approvals_never_overdraw)
{
    struct race rc = {0};
    test_user("cp_log_c2", "codepop", "logistics_manager", "region", 1);
    cr_assert_eq(db_exec(test_db(), "UPDATE codepop_hub_inventory SET quantity = 100 "
                                    "WHERE hub_id = 1 AND item_name = 'Cups'"), 1);
    for (int i = 0; i < 10; i++) rc.ids[i] = create("NORMAL", 30, 1);
    rc.tokens[0] = test_token("cp_log_c");
    rc.tokens[1] = test_token("cp_log_c2");
    run_concurrently(10, approve_one, &rc);
    int ok = 0, short_ = 0;
    for (int i = 0; i < 10; i++) {
        if (rc.status[i] == 200) ok++;
        else if (rc.status[i] == 409 && !strcmp(rc.code[i], "insufficient_hub_stock")) short_++;
    }
    cr_assert_eq(ok, 3, "approved %d", ok);
    cr_assert_eq(short_, 7);
    cr_assert_eq(cp_hub_stock(1, "Cups"), 10);
    cr_assert_eq(cp_hub_stock(1, "Cherry Syrup"), 4997);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_deliveries"), 3);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_supply_requests WHERE status = 'approved'"), 3);

    /* the same request approved by both at once: one wins */
    struct race same = {0};
    int64_t one = create("LOW", 1, 1);
    for (int i = 0; i < 10; i++) same.ids[i] = one;
    same.tokens[0] = rc.tokens[0];
    same.tokens[1] = rc.tokens[1];
    run_concurrently(10, approve_one, &same);
    ok = 0;
    for (int i = 0; i < 10; i++) ok += same.status[i] == 200;
    cr_assert_eq(ok, 1);
    cr_assert_eq(cp_hub_stock(1, "Cups"), 9);
    free(rc.tokens[0]);
    free(rc.tokens[1]);
}

/* ------------------------------------------------------------ peer events */

Test(codepop_supply, peer_functions_are_idempotent)
{
    struct db *db = test_db();
    const char *ru = "11111111-2222-4333-8444-555555555555", *du = "66666666-7777-4888-9999-aaaaaaaaaaaa";
    json_t *req = json_pack("{s:s, s:i, s:s, s:s, s:s, s:i, s:[{s:s, s:s, s:i}, {s:s, s:s, s:i}]}", "uuid", ru,
                            "store_id", 3, "urgency", "HIGH", "notes", "from the store node", "created_at",
                            "2026-01-02T03:04:05Z", "requested_by", 77, "items", "item_name", "Cups", "item_type",
                            "Cups", "quantity", 25, "item_name", "Cola Syrup", "item_type", "Syrups", "quantity", 4);
    cr_assert_eq(codepop_supply_mirror(db, req, "node-store-3"), 0);
    cr_assert_eq(codepop_supply_mirror(db, req, "node-store-3"), 0);
    json_decref(req);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_supply_requests WHERE "
                            "uuid = '11111111-2222-4333-8444-555555555555' AND origin_node_id = 'node-store-3' "
                            "AND created_at = '2026-01-02T03:04:05Z' AND status = 'pending'"), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_supply_request_items"), 2);

    json_t *mark = json_pack("{s:s, s:i, s:s}", "uuid", ru, "reviewed_by", 9, "approved_at", "2026-01-02T05:00:00Z");
    cr_assert_eq(codepop_supply_mark(db, ru, "approved", mark), 0);
    cr_assert_eq(codepop_supply_mark(db, ru, "approved", mark), 0);
    cr_assert_eq(codepop_supply_mark(db, ru, "rejected", mark), 0, "a decided request stays decided");
    json_decref(mark);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_supply_requests WHERE status = 'approved' AND reviewed_by = 9 "
                            "AND approved_at = '2026-01-02T05:00:00Z'"), 1);
    cr_assert_eq(codepop_supply_mark(db, "00000000-0000-4000-8000-000000000000", "approved", NULL), -1);

    json_t *d = json_pack("{s:s, s:s, s:i, s:i, s:s, s:s}", "uuid", du, "supply_request_uuid", ru, "hub_id", 2,
                          "store_id", 3, "scheduled_date", "2026-01-03", "status", "scheduled");
    cr_assert_eq(codepop_delivery_mirror(db, d), 0);
    cr_assert_eq(codepop_delivery_mirror(db, d), 0);
    json_object_set_new(d, "uuid", json_string("99999999-7777-4888-9999-aaaaaaaaaaaa"));
    json_object_set_new(d, "supply_request_uuid", json_string("00000000-0000-4000-8000-000000000000"));
    cr_assert_eq(codepop_delivery_mirror(db, d), -1, "its request is unknown here");
    json_decref(d);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_deliveries"), 1);

    cr_assert_eq(codepop_delivery_apply_status(db, du, "in_transit"), 0);
    cr_assert_eq(codepop_delivery_apply_status(db, du, "delivered"), 0);
    cr_assert_eq(codepop_delivery_apply_status(db, du, "delivered"), 0);
    cr_assert_eq(codepop_delivery_apply_status(db, du, "in_transit"), 0, "a late event does not move it back");
    cr_assert_eq(codepop_delivery_apply_status(db, du, "cancelled"), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_deliveries WHERE status = 'delivered' AND stock_applied = 1"), 1);
    cr_assert_eq(cp_stock(3, "Cups"), 525);
    cr_assert_eq(cp_stock(3, "Cola Syrup"), 104);
    cr_assert_eq(cp_hub_stock(2, "Cups"), 5000, "the hub's stock is the hub node's business");
    cr_assert_eq(codepop_delivery_apply_status(db, "00000000-0000-4000-8000-000000000000", "delivered"), -1);
}

Test(codepop_supply, store_node_leaves_reviews_to_the_hub)
{
    int64_t id = create("LOW", 1, 1);
    int64_t did = approve(create("LOW", 2, 2));
    codepop_node.is_store = true;
    codepop_node.store_id = 1;
    resp_check(act(id, "approve", "cp_log_c", "{}"), 409, "not_owner");
    resp_check(act(id, "reject", "cp_log_c", "{\"reason\":\"x\"}"), 409, NULL);
    resp_check(set_status(did, "in_transit", "cp_log_c", NULL), 409, NULL);
    /* on a store node the request is for that store by default */
    const char *one = "\"urgency\":\"LOW\",\"items\":[{\"item_name\":\"Cups\",\"item_type\":\"Cups\",\"quantity\":1}]";
    struct resp *r = api_post(SR, "cp_admin", NULL, "{%s}", one);
    cr_assert_eq(r->status, 201, "%s", r->body);
    cr_assert_eq(jint(r->json, "store_id"), 1);
    resp_free(r);
    resp_check(api_post(SR, "cp_admin", NULL, "{\"store_id\":2,%s}", one), 409, "not_owner");
    codepop_node.is_store = false;
    codepop_node.store_id = 0;
}
