/* Repair schedules: schedule -> start -> complete (machine normal, last
 * maintenance today, a repair_end log row with the duration, all in one
 * transaction); cancel; wrong transitions; other regions; validation. */
#include "support/fixture.h"
#include <string.h>

TestSuite(codepop_repairs, .init = cp_start, .fini = srv_stop);

#define RS "/api/v1/codepop/repair-schedules"

static int64_t schedule(const char *as, int machine, const char *action)
{
    struct resp *r = api_post(RS, as, NULL,
                             "{\"machine_id\":%d,\"scheduled_date\":\"%s\",\"scheduled_time\":\"09:30\","
                             "\"action_type\":\"%s\",\"estimated_duration_minutes\":60}",
                             machine, date_in(0), action);
    cr_assert_eq(r->status, 201, "schedule: %d %s", r->status, r->body);
    int64_t id = jint(r->json, "id");
    resp_free(r);
    return id;
}

static struct resp *step(int64_t id, const char *what, const char *as, const char *body)
{
    char path[96];
    snprintf(path, sizeof path, RS "/%lld/%s", (long long)id, what);
    if (body) return api_post(path, as, NULL, "%s", body);
    char *tok = test_token(as);
    struct resp *r = api("POST", path, tok, NULL);
    free(tok);
    return r;
}

#define machine_status(id) test_text_of("SELECT status FROM codepop_machines WHERE id = $1", id)

Test(codepop_repairs, schedule_start_complete)
{
    int64_t rep = test_user_id("cp_rep_c");
    struct resp *r = api_post(RS, "cp_rep_c", NULL,
                             "{\"machine_id\":1,\"scheduled_date\":\"%s\",\"scheduled_time\":\"09:30\","
                             "\"action_type\":\"PREVENTIVE_MAINTENANCE\",\"estimated_duration_minutes\":60}", date_in(0));
    cr_assert_eq(r->status, 201, "%s", r->body);
    int64_t id = jint(r->json, "id");
    cr_assert_str_eq(jstr(r->json, "status"), "scheduled");
    cr_assert_eq(jint(r->json, "assigned_to"), rep);
    cr_assert_eq(jint(r->json, "store_id"), 1);
    cr_assert_eq(strlen(jstr(r->json, "uuid")), 36);
    resp_free(r);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM outbox WHERE topic = 'codepop.store.1' AND type = 'REPAIR_SCHEDULED'"), 1);
    cr_assert_eq(test_countf("SELECT COUNT(*) FROM audit_log WHERE action = 'codepop.repair_schedule.created' AND target_id = %lld", (long long)id), 1);

    r = step(id, "complete", "cp_rep_c", "{}");
    cr_assert_eq(r->status, 409, "complete before start");
    cr_assert_str_eq(resp_error_code(r), "invalid_transition");
    resp_free(r);

    r = step(id, "start", "cp_rep_c", "{}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(jstr(r->json, "status"), "in_progress");
    cr_assert(jstr(r->json, "actual_start_time"));
    resp_free(r);
    cr_assert_str_eq(machine_status(1), "repair_start");
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_maintenance_logs WHERE machine_id = 1 AND "
                            "previous_status = 'normal' AND new_status = 'repair_start' AND "
                            "action_type = 'PREVENTIVE_MAINTENANCE'"), 1);
    r = step(id, "start", "cp_rep_c", "{}");
    cr_assert_eq(r->status, 409);
    resp_free(r);

    /* pretend the work took 45 minutes */
    cr_assert_eq(db_exec(test_db(), "UPDATE codepop_repair_schedules SET actual_start_time = "
                                    "strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-45 minutes') WHERE id = $1", DB_I(id)), 1);
    r = step(id, "complete", "cp_rep_c", "{\"notes\":\"replaced the pump\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(jstr(r->json, "status"), "completed");
    cr_assert(jstr(r->json, "actual_end_time"));
    cr_assert_str_eq(jstr(r->json, "notes"), "replaced the pump");
    resp_free(r);
    cr_assert_str_eq(machine_status(1), "normal");
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM codepop_machines WHERE id = 1 AND last_maintenance_date = '%s'",
             date_in(0));
    cr_assert_eq(test_count(sql), 1);
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM codepop_maintenance_logs WHERE machine_id = 1 AND "
                              "previous_status = 'repair_start' AND new_status = 'repair_end' AND action_type = "
                              "'PREVENTIVE_MAINTENANCE' AND performed_by = %lld AND notes = 'replaced the pump' AND "
                              "duration_minutes = 45", (long long)rep);
    cr_assert_eq(test_count(sql), 1);
    cr_assert_eq(test_countf("SELECT COUNT(*) FROM audit_log WHERE action IN ('codepop.repair_schedule.started', 'codepop.repair_schedule.completed') "
                   "AND target_id = %lld", (long long)id), 2);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM outbox WHERE type = 'MACHINE_STATUS_CHANGED' AND topic = "
                            "'codepop.store.1'"), 2);

    r = step(id, "complete", "cp_rep_c", "{}");
    cr_assert_eq(r->status, 409);
    resp_free(r);
    r = step(id, "cancel", "cp_rep_c", "{}");
    cr_assert_eq(r->status, 409);
    resp_free(r);
}

Test(codepop_repairs, complete_is_one_transaction)
{
    int64_t id = schedule("cp_rep_c", 2, "EMERGENCY_REPAIR");
    struct resp *r = step(id, "start", "cp_rep_c", "{}");
    cr_assert_eq(r->status, 200);
    resp_free(r);
    /* make the last write of completion (the repair_end log row) fail */
    cr_assert_eq(db_exec_script(test_db(), test_on_pg()
        ? "CREATE FUNCTION fail_end() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'boom'; END $$;"
          "CREATE TRIGGER fail_end BEFORE INSERT ON codepop_maintenance_logs FOR EACH ROW "
          "WHEN (NEW.new_status = 'repair_end') EXECUTE FUNCTION fail_end()"
        : "CREATE TRIGGER fail_end BEFORE INSERT ON codepop_maintenance_logs "
          "WHEN NEW.new_status = 'repair_end' BEGIN SELECT RAISE(ABORT, 'boom'); END"), 0);
    r = step(id, "complete", "cp_rep_c", "{\"notes\":\"done\"}");
    cr_assert_eq(r->status, 500, "%s", r->body);
    resp_free(r);
    cr_assert_eq(test_countf("SELECT COUNT(*) FROM codepop_repair_schedules WHERE id = %lld AND status = 'in_progress' "
                   "AND actual_end_time IS NULL AND notes = ''", (long long)id), 1);
    cr_assert_str_eq(machine_status(2), "repair_start");
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_machines WHERE id = 2 AND last_maintenance_date IS NULL"), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'codepop.repair_schedule.completed'"), 0);
    cr_assert_eq(db_exec_script(test_db(), test_on_pg() ? "DROP TRIGGER fail_end ON codepop_maintenance_logs"
                                                        : "DROP TRIGGER fail_end"), 0);
    r = step(id, "complete", "cp_rep_c", "{\"notes\":\"done\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
    cr_assert_str_eq(machine_status(2), "normal");
}

Test(codepop_repairs, cancel)
{
    /* scheduled: cancelled, the machine untouched */
    int64_t a = schedule("cp_rep_c", 1, "INSPECTION");
    struct resp *r = step(a, "cancel", "cp_rep_c", "{\"reason\":\"store closed\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(jstr(r->json, "status"), "cancelled");
    resp_free(r);
    cr_assert_str_eq(machine_status(1), "normal");
    r = step(a, "start", "cp_rep_c", "{}");
    cr_assert_eq(r->status, 409);
    resp_free(r);
    r = step(a, "cancel", "cp_rep_c", "{}");
    cr_assert_eq(r->status, 409);
    resp_free(r);

    /* in progress: the machine goes back to what it was before the repair */
    r = api_post("/api/v1/codepop/machines/1/status", "cp_mgr1", NULL, "{\"status\":\"error\"}");
    cr_assert_eq(r->status, 200);
    resp_free(r);
    int64_t b = schedule("cp_rep_c", 1, "EMERGENCY_REPAIR");
    r = step(b, "start", "cp_rep_c", "{}");
    resp_free(r);
    cr_assert_str_eq(machine_status(1), "repair_start");
    r = step(b, "cancel", "cp_rep_c", NULL);
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
    cr_assert_str_eq(machine_status(1), "error");
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_maintenance_logs WHERE machine_id = 1 AND "
                            "previous_status = 'repair_start' AND new_status = 'error'"), 1);
    cr_assert_eq(test_countf("SELECT COUNT(*) FROM audit_log WHERE action = 'codepop.repair_schedule.cancelled' AND target_id = %lld", (long long)b), 1);
    r = step(b, "complete", "cp_rep_c", "{}");
    cr_assert_eq(r->status, 409);
    resp_free(r);
}

Test(codepop_repairs, regions_and_roles)
{
    int64_t id = schedule("cp_rep_c", 1, "INSPECTION");
    int64_t east = schedule("cp_rep_e", 3, "INSPECTION");
    char one[64], start[80];
    snprintf(one, sizeof one, RS "/%lld", (long long)id);
    snprintf(start, sizeof start, RS "/%lld/start", (long long)id);
    char body[256];
    snprintf(body, sizeof body, "{\"machine_id\":1,\"scheduled_date\":\"%s\",\"scheduled_time\":\"10:00\","
                                "\"action_type\":\"INSPECTION\",\"estimated_duration_minutes\":30}", date_in(1));
    const struct authz_case cases[] = {
        {"POST", RS, "cp_rep_e", 403, body},
        {"POST", RS, "cp_mgr1", 403, body},
        {"POST", RS, "cp_log_c", 403, body},
        {"POST", RS, "cp_user1", 403, body},
        {"POST", RS, NULL, 401, body},
        {"POST", start, "cp_rep_e", 403},
        {"POST", start, "cp_mgr1", 403},
        {"GET", one, "cp_mgr1", 200},
        {"GET", one, "cp_rep_c", 200},
        {"GET", one, "cp_mgr2", 404},
        {"GET", one, "cp_rep_e", 404},
        {"GET", one, "cp_log_c", 403},
        {"GET", RS "/999", "cp_admin", 404},
        {"POST", RS "/999/start", "cp_rep_c", 404},
        {0},
    };
    authz_run(cases);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_repair_schedules"), 2);
    struct resp *r = api_get(RS, "cp_mgr1");
    cr_assert_eq(jint(r->json, "total"), 1);
    resp_free(r);
    r = api_get(RS, "cp_rep_e");
    cr_assert_eq(jint(r->json, "total"), 1);
    cr_assert_eq(jint(json_array_get(json_object_get(r->json, "items"), 0), "id"), east);
    resp_free(r);
    r = api_get(RS, "cp_admin");
    cr_assert_eq(jint(r->json, "total"), 2);
    resp_free(r);
    /* a colleague of the same region may take the job over; an admin too */
    test_user("cp_rep_c2", "codepop", "repair_staff", "region", 1);
    r = step(id, "start", "cp_rep_c2", "{}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
    r = api_get(RS "?assigned_to=me", "cp_rep_c2");
    cr_assert_eq(jint(r->json, "total"), 0);
    resp_free(r);
    r = api_get(RS "?assigned_to=me&status=in_progress", "cp_rep_c");
    cr_assert_eq(jint(r->json, "total"), 1);
    resp_free(r);
    char path[96];
    snprintf(path, sizeof path, RS "?date=%s", date_in(1));
    r = api_get(path, "cp_admin");
    cr_assert_eq(jint(r->json, "total"), 0);
    resp_free(r);
    r = api_get(RS "?date=yesterday", "cp_admin");
    cr_assert_eq(r->status, 400);
    resp_free(r);
    r = api_get(RS "?assigned_to=bob", "cp_admin");
    cr_assert_eq(r->status, 400);
    resp_free(r);
}

Test(codepop_repairs, validation)
{
    static const struct {
        const char *fmt;
        int status;
    } cases[] = {
        {"{\"machine_id\":1,\"scheduled_date\":\"%s\",\"scheduled_time\":\"09:30\",\"action_type\":\"INSPECTION\","
         "\"estimated_duration_minutes\":60}", 201},
        {"{\"machine_id\":1,\"scheduled_date\":\"2020-01-01\",\"scheduled_time\":\"09:30\",\"action_type\":\"INSPECTION\","
         "\"estimated_duration_minutes\":60}%.0s", 400},
        {"{\"machine_id\":1,\"scheduled_date\":\"2099-02-30\",\"scheduled_time\":\"09:30\",\"action_type\":\"INSPECTION\","
         "\"estimated_duration_minutes\":60}%.0s", 400},
        {"{\"machine_id\":1,\"scheduled_date\":\"%s\",\"scheduled_time\":\"24:00\",\"action_type\":\"INSPECTION\","
         "\"estimated_duration_minutes\":60}", 400},
        {"{\"machine_id\":1,\"scheduled_date\":\"%s\",\"scheduled_time\":\"9:30\",\"action_type\":\"INSPECTION\","
         "\"estimated_duration_minutes\":60}", 400},
        {"{\"machine_id\":1,\"scheduled_date\":\"%s\",\"scheduled_time\":\"09:30\",\"action_type\":\"POLISH\","
         "\"estimated_duration_minutes\":60}", 400},
        {"{\"machine_id\":1,\"scheduled_date\":\"%s\",\"scheduled_time\":\"09:30\",\"action_type\":\"INSPECTION\","
         "\"estimated_duration_minutes\":0}", 400},
        {"{\"machine_id\":1,\"scheduled_date\":\"%s\",\"scheduled_time\":\"09:30\",\"action_type\":\"INSPECTION\","
         "\"estimated_duration_minutes\":1441}", 400},
        {"{\"machine_id\":1,\"scheduled_date\":\"%s\",\"scheduled_time\":\"09:30\",\"action_type\":\"INSPECTION\"}", 400},
        {"{\"machine_id\":99,\"scheduled_date\":\"%s\",\"scheduled_time\":\"09:30\",\"action_type\":\"INSPECTION\","
         "\"estimated_duration_minutes\":60}", 404},
        {"{\"machine_id\":1,\"scheduled_date\":\"%s\",\"scheduled_time\":\"23:59\",\"action_type\":\"PART_REPLACEMENT\","
         "\"estimated_duration_minutes\":1440,\"notes\":\"bring the spare\"}", 201},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct resp *r = api_post(RS, "cp_rep_c", NULL, cases[i].fmt, date_in(0));
        cr_assert_eq(r->status, cases[i].status, "case %zu: %d %s", i, r->status, r->body);
        resp_free(r);
    }
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_repair_schedules"), 2);
    struct resp *r = step(1, "complete", "cp_rep_c", "{\"notes\":7}");
    cr_assert_eq(r->status, 400);
    resp_free(r);
}
