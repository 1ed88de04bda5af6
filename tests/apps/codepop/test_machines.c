/* Machines: a status report writes a maintenance log row with the previous
 * status, emits MACHINE_STATUS_CHANGED on codepop.store.<id>, and `error`
 * notifies the store's managers and the region's repair staff; scope checks;
 * invalid statuses; the maintenance log lists. */
#include "support/fixture.h"
#include <string.h>

TestSuite(codepop_machines, .init = cp_start, .fini = srv_stop);

#define MC "/api/v1/codepop/machines"
#define ML "/api/v1/codepop/maintenance-logs"

static int64_t notes_of(const char *user)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM notifications WHERE kind = 'machine.error' AND user_id = %lld",
             (long long)test_user_id(user));
    return test_count(sql);
}

Test(codepop_machines, status_change_is_logged)
{
    struct resp *r = api_post(MC "/1/status", "cp_mgr1", NULL, "{\"status\":\"warning\",\"notes\":\"ice maker slow\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(jstr(r->json, "status"), "warning");
    cr_assert_str_eq(jstr(r->json, "previous_status"), "normal");
    cr_assert(json_is_true(json_object_get(r->json, "changed")));
    int64_t log1 = jint(r->json, "log_id");
    resp_free(r);
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM codepop_maintenance_logs WHERE id = %lld AND machine_id = 1 AND "
                              "store_id = 1 AND previous_status = 'normal' AND new_status = 'warning' AND "
                              "performed_by = %lld AND notes = 'ice maker slow' AND length(uuid) = 36",
             (long long)log1, (long long)test_user_id("cp_mgr1"));
    cr_assert_eq(test_count(sql), 1);
    cr_assert_eq(notes_of("cp_mgr1"), 0, "a warning notifies nobody");

    r = api_post(MC "/1/status", "cp_rep_c", NULL, "{\"status\":\"error\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(jstr(r->json, "previous_status"), "warning");
    resp_free(r);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_maintenance_logs WHERE machine_id = 1 AND "
                            "previous_status = 'warning' AND new_status = 'error'"), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_machines WHERE id = 1 AND status = 'error'"), 1);

    /* error: the store's managers and the region's repair staff hear of it */
    cr_assert_eq(notes_of("cp_mgr1"), 1);
    cr_assert_eq(notes_of("cp_rep_c"), 1);
    cr_assert_eq(notes_of("cp_mgr2"), 0);
    cr_assert_eq(notes_of("cp_rep_e"), 0);
    cr_assert_eq(notes_of("cp_log_c"), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM outbox WHERE topic = 'codepop.store.1' AND type = "
                            "'MACHINE_STATUS_CHANGED'"), 2);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM outbox WHERE topic = 'codepop.store.1' AND type = "
                            "'MACHINE_STATUS_CHANGED' AND json_extract(payload, '$.status') = 'error' AND "
                            "json_extract(payload, '$.previous_status') = 'warning' AND "
                            "CAST(json_extract(payload, '$.machine_id') AS INTEGER) = 1"), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'codepop.machine.status_changed' AND target_id = 1"), 2);

    /* the same status again is not a change: no log row, no event */
    r = api_post(MC "/1/status", "cp_rep_c", NULL, "{\"status\":\"error\",\"notes\":\"still broken\"}");
    cr_assert_eq(r->status, 200);
    cr_assert(json_is_false(json_object_get(r->json, "changed")));
    cr_assert(json_is_null(json_object_get(r->json, "log_id")));
    resp_free(r);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_maintenance_logs"), 2);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM outbox WHERE type = 'MACHINE_STATUS_CHANGED'"), 2);
    cr_assert_eq(notes_of("cp_mgr1"), 1);

    /* the log lists newest first, for those who may see the machine */
    r = api_get(ML "?machine_id=1", "cp_mgr1");
    cr_assert_eq(r->status, 200);
    cr_assert_eq(jint(r->json, "total"), 2);
    cr_assert_str_eq(jstr(json_array_get(json_object_get(r->json, "items"), 0), "new_status"), "error");
    resp_free(r);
    char path[64];
    snprintf(path, sizeof path, ML "/%lld", (long long)log1);
    const struct authz_case reads[] = {
        {"GET", path, "cp_mgr1", 200},
        {"GET", path, "cp_rep_c", 200},
        {"GET", path, "cp_admin", 200},
        {"GET", path, "cp_mgr2", 404},
        {"GET", path, "cp_rep_e", 404},
        {"GET", path, "cp_log_c", 403},
        {"GET", path, "cp_user1", 403},
        {"GET", ML, NULL, 401},
        {0},
    };
    authz_run(reads);
    r = api_get(ML, "cp_mgr2");
    cr_assert_eq(jint(r->json, "total"), 0);
    resp_free(r);
}

Test(codepop_machines, every_status_and_back)
{
    const char *seq[] = {"offline", "repair_start", "repair_end", "normal"};
    for (int i = 0; i < 4; i++) {
        struct resp *r = api_post(MC "/2/status", "cp_admin", NULL, "{\"status\":\"%s\"}", seq[i]);
        cr_assert_eq(r->status, 200, "%s: %s", seq[i], r->body);
        cr_assert_str_eq(jstr(r->json, "previous_status"), i ? seq[i - 1] : "normal");
        resp_free(r);
    }
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_maintenance_logs WHERE machine_id = 2"), 4);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM notifications"), 0);
}

Test(codepop_machines, scope)
{
    const char *w = "{\"status\":\"warning\"}";
    const struct authz_case cases[] = {
        {"POST", MC "/1/status", NULL, 401, w},
        {"POST", MC "/1/status", "cp_mgr2", 403, w},
        {"POST", MC "/1/status", "cp_rep_e", 403, w},
        {"POST", MC "/1/status", "cp_log_c", 403, w},
        {"POST", MC "/1/status", "cp_user1", 403, w},
        {"POST", MC "/1/status", "cp_nobody", 403, w},
        {"POST", MC "/99/status", "cp_admin", 404, w},
        {"GET", MC "/1", "cp_mgr1", 200},
        {"GET", MC "/1", "cp_rep_c", 200},
        {"GET", MC "/3", "cp_mgr1", 404},
        {"GET", MC "/3", "cp_rep_c", 404},
        {"GET", MC "/3", "cp_rep_e", 200},
        {"GET", MC "/1", "cp_log_c", 403},
        {"GET", MC "/1", "cp_user1", 403},
        {"GET", MC "/99", "cp_admin", 404},
        {0},
    };
    authz_run(cases);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_maintenance_logs"), 0);
    struct { const char *as; int total; } lists[] = {{"cp_mgr1", 1}, {"cp_rep_c", 2}, {"cp_rep_e", 1}, {"cp_admin", 3}};
    for (int i = 0; i < 4; i++) {
        struct resp *r = api_get(MC, lists[i].as);
        cr_assert_eq(r->status, 200);
        cr_assert_eq(jint(r->json, "total"), lists[i].total, "%s", lists[i].as);
        resp_free(r);
    }
    struct resp *r = api_post(MC "/3/status", "cp_rep_e", NULL, "%s", w);
    cr_assert_eq(r->status, 200);
    resp_free(r);
    r = api_get(MC "?status=warning", "cp_admin");
    cr_assert_eq(jint(r->json, "total"), 1);
    cr_assert_eq(jint(json_array_get(json_object_get(r->json, "items"), 0), "id"), 3);
    resp_free(r);
    r = api_get(MC "?status=broken", "cp_admin");
    cr_assert_eq(r->status, 400);
    resp_free(r);
}

Test(codepop_machines, invalid_bodies)
{
    const char *bodies[] = {"{\"status\":\"broken\"}", "{\"status\":\"ERROR\"}", "{}", "{\"status\":3}",
                            "{\"status\":\"error\",\"notes\":5}", "{\"status\":\"error\",\"who\":\"me\"}", "[]"};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        struct resp *r = api_post(MC "/1/status", "cp_mgr1", NULL, "%s", bodies[i]);
        cr_assert_eq(r->status, 400, "%s -> %d", bodies[i], r->status);
        resp_free(r);
    }
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_maintenance_logs"), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_machines WHERE status <> 'normal'"), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM notifications"), 0);
}
