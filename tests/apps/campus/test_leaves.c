/* Leaves of absence, the INC deadline they move, and the jobs that follow
 * the calendar: campus.inc_expiry and campus.leave_status. */
#include "support/clock.h"
#include "support/call.h"
#include "support/fixture.h"
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

TestSuite(campus_leaves, .init = cs_start, .fini = srv_stop);

static struct resp *leave(int64_t student, const char *from, const char *to, const char *reason)
{
    char path[64], *body = xasprintf("{\"starts_on\":\"%s\",\"ends_on\":\"%s\",\"reason\":\"%s\"}", from, to, reason);
    snprintf(path, sizeof path, CP "/students/%lld/leaves", (long long)student);
    struct resp *r = api_as("cs_registrar", "POST", path, body);
    free(body);
    return r;
}

static const char *student_status(int64_t id)
{
    return test_text_of("SELECT status FROM campus_students WHERE id = $1", id);
}

static int64_t leaves_of(int64_t student)
{
    return test_countf("SELECT COUNT(*) FROM campus_leaves WHERE student_id = %lld", (long long)student);
}

static char *run_job(const char *name)
{
    char *result = NULL;
    cr_assert_eq(jobs_run(test_db(), name, &result), 0, "%s: %s", name, result ? result : "");
    return result;
}

/* ------------------------------------------------------------------ the API */

Test(campus_leaves, a_future_leave_is_recorded_audited_and_told_but_changes_no_status)
{
    struct resp *r = leave(1, date_in(10), date_in(39), "Family matters");
    cr_assert_eq(r->status, 201, "%s", r->body);
    cr_assert_eq(json_integer_value(json_object_get(r->json, "days")), 30);
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "starts_on")), date_in(10));
    cr_assert_eq(json_integer_value(json_object_get(r->json, "recorded_by")), test_user_id("cs_registrar"));
    resp_free(r);
    cr_assert_str_eq(student_status(1), "active");
    cr_assert_eq(test_audit_count("campus", "campus.leave.recorded"), 1);
    cr_assert_eq(test_countf("SELECT COUNT(*) FROM notifications WHERE user_id = %lld AND kind = "
                             "'campus.leave.recorded'", (long long)test_user_id("cs_stu1")), 1);

    r = api_as("cs_stu1", "GET", CP "/students/1/leaves", NULL);      /* their own */
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_eq(json_array_size(json_object_get(r->json, "items")), 1);
    resp_free(r);
    r = api_as("cs_stu2", "GET", CP "/students/1/leaves", NULL);      /* another's: as if absent */
    cr_assert_eq(r->status, 404);
    resp_free(r);
}

Test(campus_leaves, a_leave_covering_today_puts_the_student_on_leave_and_stops_enrollment)
{
    struct resp *r = leave(1, date_in(-2), date_in(5), "Medical");
    cr_assert_eq(r->status, 201, "%s", r->body);
    resp_free(r);
    cr_assert_str_eq(student_status(1), "on_leave");
    r = api_as("cs_stu1", "POST", CP "/enrollments", "{\"section_id\":1}");
    cr_assert_eq(r->status, 409, "%s", r->body);
    cr_assert_str_eq(resp_error_code(r), "student_not_active");
    resp_free(r);
}

Test(campus_leaves, bad_bodies_overlaps_and_wrong_callers_change_nothing)
{
    static const struct {
        const char *body, *field;
    } bad[] = {
        {"{\"starts_on\":\"2026-02-30\",\"ends_on\":\"2026-03-10\",\"reason\":\"x\"}", "starts_on"},
        {"{\"starts_on\":\"2026-03-10\",\"ends_on\":\"10/03/2026\",\"reason\":\"x\"}", "ends_on"},
        {"{\"starts_on\":\"2026-03-10\",\"ends_on\":\"2026-03-09\",\"reason\":\"x\"}", "ends_on"},
        {"{\"starts_on\":\"2026-01-01\",\"ends_on\":\"2028-01-01\",\"reason\":\"x\"}", "ends_on"},
        {"{\"starts_on\":\"2026-03-10\",\"ends_on\":\"2026-03-12\",\"reason\":\"  \"}", "reason"},
        {"{\"starts_on\":\"2026-03-10\",\"ends_on\":\"2026-03-12\"}", "reason"},
        {"{\"starts_on\":\"2026-03-10\",\"ends_on\":\"2026-03-12\",\"reason\":\"x\",\"extra\":1}", "extra"},
    };
    char *tok = test_token("cs_registrar");
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct resp *r = api("POST", CP "/students/1/leaves", tok, bad[i].body);
        cr_assert_eq(r->status, 400, "%s: %s", bad[i].body, r->body);
        json_t *d = json_array_get(json_object_get(json_object_get(r->json, "error"), "details"), 0);
        cr_assert_str_eq(json_string_value(json_object_get(d, "field")), bad[i].field, "%s", r->body);
        resp_free(r);
    }
    free(tok);
    struct resp *r = leave(99, "2026-03-10", "2026-03-12", "x");
    cr_assert_eq(r->status, 404);
    resp_free(r);
    cr_assert_eq(leaves_of(1), 0);

    r = leave(1, "2026-03-10", "2026-03-20", "First");
    cr_assert_eq(r->status, 201, "%s", r->body);
    int64_t first = json_integer_value(json_object_get(r->json, "id"));
    resp_free(r);
    r = leave(1, "2026-03-20", "2026-04-02", "Second");        /* shares a day */
    cr_assert_eq(r->status, 409, "%s", r->body);
    cr_assert_str_eq(resp_error_code(r), "leave_overlap");
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(json_object_get(r->json, "error"), "details"), "id")),
                 first);
    resp_free(r);

    test_fixture_sql("graduate", "UPDATE campus_students SET status = 'graduated' WHERE id = 2");
    r = leave(2, "2026-03-10", "2026-03-12", "x");
    cr_assert_eq(r->status, 409);
    cr_assert_str_eq(resp_error_code(r), "invalid_state");
    resp_free(r);

    r = api_as("cs_stu1", "POST", CP "/students/1/leaves", "{\"starts_on\":\"2026-05-01\",\"ends_on\":\"2026-05-02\","
                                                      "\"reason\":\"x\"}");
    cr_assert_eq(r->status, 403);
    resp_free(r);
    r = api_as("cs_cashier", "POST", CP "/students/1/leaves", "{\"starts_on\":\"2026-05-01\",\"ends_on\":\"2026-05-02\","
                                                         "\"reason\":\"x\"}");
    cr_assert_eq(r->status, 403);
    resp_free(r);
    cr_assert_eq(leaves_of(1), 1);
    cr_assert_eq(leaves_of(2), 0);
    cr_assert_eq(test_audit_count("campus", "campus.leave.recorded"), 1);
}

Test(campus_leaves, a_leave_not_started_is_cancelled_a_started_one_is_not)
{
    struct resp *r = leave(1, date_in(20), date_in(25), "Trip");
    int64_t future = json_integer_value(json_object_get(r->json, "id"));
    resp_free(r);
    r = leave(1, date_in(-30), date_in(-20), "Sick");
    int64_t past = json_integer_value(json_object_get(r->json, "id"));
    resp_free(r);
    char path[80];
    snprintf(path, sizeof path, CP "/students/1/leaves/%lld", (long long)past);
    r = api_as("cs_registrar", "DELETE", path, NULL);
    cr_assert_eq(r->status, 409);
    cr_assert_str_eq(resp_error_code(r), "leave_started");
    resp_free(r);
    snprintf(path, sizeof path, CP "/students/2/leaves/%lld", (long long)future);     /* not student 2's */
    r = api_as("cs_registrar", "DELETE", path, NULL);
    cr_assert_eq(r->status, 404);
    resp_free(r);
    cr_assert_eq(leaves_of(1), 2);
    snprintf(path, sizeof path, CP "/students/1/leaves/%lld", (long long)future);
    r = api_as("cs_registrar", "DELETE", path, NULL);
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
    cr_assert_eq(leaves_of(1), 1);
    cr_assert_eq(test_audit_count("campus", "campus.leave.cancelled"), 1);
}

/* Ten registrars record overlapping leaves for one student at once: one
 * is recorded, the others meet it (409 leave_overlap), one audit row. */
static void leave_racer(int i, void *arg)
{
    char body[128];
    snprintf(body, sizeof body, "{\"starts_on\":\"2026-03-%02d\",\"ends_on\":\"2026-04-20\",\"reason\":\"r%d\"}",
             1 + i, i);
    struct resp *r = api_as("cs_registrar", "POST", CP "/students/1/leaves", body);
    cr_assert(r->status == 201 || (r->status == 409 && !strcmp(resp_error_code(r), "leave_overlap")), "%s", r->body);
    atomic_fetch_add((atomic_int *)arg, r->status == 201);
    resp_free(r);
}

Test(campus_leaves, overlapping_leaves_at_once_record_one)
{
    atomic_int recorded = 0;
    run_concurrently(10, leave_racer, &recorded);
    cr_assert_eq(atomic_load(&recorded), 1);
    cr_assert_eq(leaves_of(1), 1);
    cr_assert_eq(test_audit_count("campus", "campus.leave.recorded"), 1);
}

/* ----------------------------------------------------------- INC deadlines */

/* An INC in CS101-Z (semester 2) for the student, given on `given`. */
static int64_t inc_grade(int64_t student, const char *given)
{
    char *sql = xasprintf("INSERT INTO campus_enrollments (student_id, section_id, semester_id, units, status, "
                          "enrolled_at) VALUES (%lld, 5, 2, 3, 'enrolled', '2025-11-01T00:00:00Z')",
                          (long long)student);
    test_fixture_sql("enrollment", sql);
    free(sql);
    int64_t enrollment = test_scalar("SELECT MAX(id) FROM campus_enrollments WHERE student_id = $1", student);
    sql = xasprintf("INSERT INTO campus_grades (enrollment_id, kind, status, inc_given_on, submitted_at, finalized_at) "
                    "VALUES (%lld, 'INC', 'finalized', '%s', '%sT00:00:00Z', '%sT00:00:00Z')",
                    (long long)enrollment, given, given, given);
    test_fixture_sql("INC grade", sql);
    free(sql);
    return enrollment;
}

static const char *deadline_shown(const char *user, int64_t student)
{
    static char out[16];
    char path[64];
    snprintf(path, sizeof path, CP "/students/%lld/grades", (long long)student);
    struct resp *r = api_as(user, "GET", path, NULL);
    cr_assert_eq(r->status, 200, "%s", r->body);
    snprintf(out, sizeof out, "%s",
             json_string_value(json_object_get(json_array_get(json_object_get(r->json, "items"), 0), "inc_deadline")));
    resp_free(r);
    return out;
}

/* Given 2024-01-10, so a year later is 2025-01-10; the leaves: one from
 * before the INC (only its 10 days after it count), 60 days in the summer,
 * 6 days that start before the moved deadline (2025-03-21) and push it to
 * 2025-03-27, and one after that, which moves nothing. */
Test(campus_leaves, leaves_move_the_inc_deadline_by_their_days)
{
    inc_grade(2, "2024-01-10");
    cr_assert_str_eq(deadline_shown("cs_stu2", 2), "2025-01-10");
    struct resp *r;
    const char *leaves[][2] = {{"2023-12-20", "2024-01-19"}, {"2024-06-01", "2024-07-30"},
                               {"2025-03-15", "2025-03-20"}, {"2025-04-01", "2025-04-30"}};
    for (int i = 0; i < 4; i++) {
        r = leave(2, leaves[i][0], leaves[i][1], "History");
        cr_assert_eq(r->status, 201, "%s", r->body);
        resp_free(r);
    }
    cr_assert_str_eq(deadline_shown("cs_registrar", 2), "2025-03-27");
    cr_assert_str_eq(student_status(2), "active", "past leaves change no status");
}

Test(campus_leaves, the_expiry_job_fails_expired_inc_once_and_spares_one_a_leave_moved)
{
    int64_t expired = inc_grade(2, date_in(-400));
    int64_t moved = inc_grade(1, date_in(-400));
    struct resp *r = leave(1, date_in(-300), date_in(-201), "Long leave");   /* 100 days: deadline in ~65 days */
    cr_assert_eq(r->status, 201, "%s", r->body);
    resp_free(r);
    int64_t fresh = inc_grade(3, date_in(-30));

    char *out = run_job("campus.inc_expiry");
    cr_assert(strstr(out, "expired 1 INC grade(s), 1 within a deadline moved by leave"), "%s", out);
    free(out);
    const char *q = "SELECT g.kind || ' ' || COALESCE(CAST(g.value AS TEXT), '-') || ' ' || g.status || ' ' || "
                    "CASE WHEN g.inc_expired_at IS NULL THEN 'live' ELSE 'expired' END FROM campus_grades g "
                    "WHERE g.enrollment_id = $1";
    cr_assert_str_eq(test_text_of(q, expired), "numeric 500 finalized expired");
    cr_assert_str_eq(test_text_of(q, moved), "INC - finalized live");
    cr_assert_str_eq(test_text_of(q, fresh), "INC - finalized live");
    cr_assert_eq(test_audit_count("campus", "campus.grade.inc_expired"), 1);
    cr_assert_eq(test_countf("SELECT COUNT(*) FROM audit_log WHERE action = 'campus.grade.inc_expired' AND "
                             "target_id = %lld AND COALESCE(user_id, 0) = 0", (long long)expired), 1);
    cr_assert_eq(test_countf("SELECT COUNT(*) FROM notifications WHERE user_id = %lld AND kind = "
                             "'campus.grade.inc_expired'", (long long)test_user_id("cs_stu2")), 1);

    r = api_as("cs_stu2", "GET", CP "/students/2/gpa", NULL);            /* the 5.0 counts now */
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_eq(json_real_value(json_object_get(json_object_get(r->json, "cumulative"), "gpa")), 5.0);
    resp_free(r);

    out = run_job("campus.inc_expiry");                                 /* idempotent */
    cr_assert(strstr(out, "expired 0 INC grade(s)"), "%s", out);
    free(out);
    cr_assert_eq(test_audit_count("campus", "campus.grade.inc_expired"), 1);
}

/* The deadline is the last day: an INC whose deadline is today stays, one
 * whose deadline was yesterday goes. */
Test(campus_leaves, the_deadline_day_itself_is_still_in_time)
{
    char today[11], day_before[11];
    int64_t t = date_today();
    date_format(date_add_years(t, -1), today);                /* given a year ago: deadline today */
    date_format(date_add_years(t, -1) - 1, day_before);       /* a day earlier: deadline yesterday */
    int64_t on_time = inc_grade(1, today), late = inc_grade(2, day_before);
    char *out = run_job("campus.inc_expiry");
    cr_assert(strstr(out, "expired 1 INC grade(s)"), "%s", out);
    free(out);
    const char *q = "SELECT kind FROM campus_grades WHERE enrollment_id = $1";
    cr_assert_str_eq(test_text_of(q, on_time), "INC");
    cr_assert_str_eq(test_text_of(q, late), "numeric");
}

/* An expired INC the registrar reopens (a correction back to INC) starts a
 * new year and loses its expiry mark; the job leaves it alone. */
Test(campus_leaves, a_reopened_inc_starts_a_new_clock)
{
    int64_t e = inc_grade(2, date_in(-400));
    free(run_job("campus.inc_expiry"));
    char path[80];
    snprintf(path, sizeof path, CP "/enrollments/%lld/grade/correct", (long long)e);
    struct resp *r = api_as("cs_registrar", "POST", path, "{\"grade\":\"INC\",\"reason\":\"medical papers arrived\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "inc_given_on")), date_in(0));
    cr_assert(json_is_null(json_object_get(r->json, "inc_expired_at")), "%s", r->body);
    resp_free(r);
    char *out = run_job("campus.inc_expiry");
    cr_assert(strstr(out, "expired 0 INC grade(s)"), "%s", out);
    free(out);
}

/* -------------------------------------------------------------- leave status */

Test(campus_leaves, the_status_job_follows_the_calendar_both_ways_once)
{
    test_fixture_sql("leave today", "INSERT INTO campus_leaves (student_id, starts_on, ends_on, reason) VALUES "
                                    "(3, '2000-01-01', '2999-12-31', 'imported')");
    test_fixture_sql("back", "UPDATE campus_students SET status = 'on_leave' WHERE id = 2");
    test_fixture_sql("graduate", "UPDATE campus_students SET status = 'graduated' WHERE id = 1");
    char *out = run_job("campus.leave_status");
    cr_assert(strstr(out, "2 student status change(s)"), "%s", out);
    free(out);
    cr_assert_str_eq(student_status(3), "on_leave");
    cr_assert_str_eq(student_status(2), "active");
    cr_assert_str_eq(student_status(1), "graduated", "graduates stay graduated");
    cr_assert_eq(test_audit_count("campus", "campus.student.status_changed"), 2);
    out = run_job("campus.leave_status");
    cr_assert(strstr(out, "0 student status change(s)"), "%s", out);
    free(out);
}
