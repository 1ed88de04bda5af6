/* campus enrollment over HTTP: enrolling with the assessment it recomputes,
 * every rule that refuses (window, status, already in, prerequisites, the
 * 30-unit cap, schedule conflicts and the registrar's override), the
 * waitlist and its promotion on a drop (with the notification), who may
 * see and drop what, invalid bodies, and the race for the last seats. */
#include "support/fixture.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>

TestSuite(campus_enrollments, .init = cs_start, .fini = srv_stop);

static struct resp *enroll(const char *as, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static struct resp *enroll(const char *as, const char *fmt, ...)
{
    char body[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    char *tok = test_token(as);
    struct resp *r = api("POST", CP "/enrollments", tok, body);
    free(tok);
    return r;
}

static int64_t enrolled(const char *as, int64_t section, const char *status)
{
    struct resp *r = enroll(as, "{\"section_id\":%lld}", (long long)section);
    cr_assert_eq(r->status, 201, "%s", r->body);
    cr_assert_str_eq(jstr(r->json, "status"), status, "%s", r->body);
    int64_t id = jint(r->json, "id");
    resp_free(r);
    return id;
}

static struct resp *drop(const char *as, int64_t id)
{
    char path[64];
    snprintf(path, sizeof path, CP "/enrollments/%lld", (long long)id);
    char *tok = test_token(as);
    struct resp *r = api("DELETE", path, tok, NULL);
    free(tok);
    return r;
}

static void refused(struct resp *r, int status, const char *code)
{
    cr_assert_eq(r->status, status, "%d %s", r->status, r->body);
    cr_assert_str_eq(resp_error_code(r), code, "%s", r->body);
    resp_free(r);
}

/* A finalized grade (hundredths) for the student in a section, straight in. */
static void graded(int64_t student, int64_t section, int value)
{
    char *sql = xasprintf("INSERT INTO campus_enrollments (student_id, section_id, semester_id, units, status) "
                          "SELECT %lld, id, semester_id, 3, 'enrolled' FROM campus_sections WHERE id = %lld;"
                          "INSERT INTO campus_grades (enrollment_id, kind, value, status) SELECT MAX(id), 'numeric', "
                          "%d, 'finalized' FROM campus_enrollments;",
                          (long long)student, (long long)section, value);
    test_fixture_sql("grade", sql);
    free(sql);
}

Test(campus_enrollments, enrolling_recomputes_the_assessment)
{
    int64_t id = enrolled("cs_stu1", 1, "enrolled");
    cr_assert_eq(test_scalar("SELECT enrolled FROM campus_sections WHERE id = $1", 1), 1);
    /* 3 units x 150000 + Library 250000 + Laboratory 500000 (BSCS) */
    cr_assert_eq(test_scalar("SELECT total_cents FROM campus_assessments WHERE student_id = $1", 1), 1200000);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM campus_installments WHERE amount_cents = $1", 240000), 5);
    cr_assert_str_eq(test_text_of("SELECT due_on FROM campus_installments WHERE month = $1", 5), "2026-10-01");
    cr_assert_eq(test_count("SELECT COUNT(*) FROM campus_permits WHERE student_id = 1 AND unlocked_at IS NULL"), 5,
                 "five permits, all locked: nothing paid");
    cr_assert_eq(test_countf("SELECT COUNT(*) FROM audit_log WHERE action = 'campus.enrollment.created' AND "
                             "target_id = %lld", (long long)id), 1);
    /* a second subject: 3 more units, the fees once */
    enrolled("cs_stu1", 4, "enrolled");
    cr_assert_eq(test_scalar("SELECT total_cents FROM campus_assessments WHERE student_id = $1", 1),
                 1200000 + 2 * 150000);
    cr_assert_eq(test_scalar("SELECT amount_cents FROM campus_installments WHERE month = $1", 5), 300000);
    /* 1,500,000 / 5 is even; 7 units would not be: the remainder goes last */
    test_fixture_sql("fees", "UPDATE campus_fees SET amount_cents = 250003 WHERE name = 'Library'");
    struct resp *r = drop("cs_stu1", id);
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
    /* 2 units x 150000 + 250003 + 500000 = 1050003: 210000 x 4 and 210003 */
    cr_assert_eq(test_scalar("SELECT total_cents FROM campus_assessments WHERE student_id = $1", 1), 1050003);
    cr_assert_eq(test_scalar("SELECT amount_cents FROM campus_installments WHERE month = $1", 1), 210000);
    cr_assert_eq(test_scalar("SELECT amount_cents FROM campus_installments WHERE month = $1", 5), 210003);
    /* nothing enrolled: nothing owed, and no permit unlocks for owing nothing */
    int64_t pe = test_scalar("SELECT id FROM campus_enrollments WHERE section_id = $1", 4);
    r = drop("cs_stu1", pe);
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
    cr_assert_eq(test_scalar("SELECT total_cents FROM campus_assessments WHERE student_id = $1", 1), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM campus_permits WHERE student_id = 1 AND unlocked_at IS NOT NULL"), 0);
}

Test(campus_enrollments, prerequisites_must_be_passed_and_finalized)
{
    struct resp *r = enroll("cs_stu1", "{\"section_id\":2}");
    cr_assert_eq(r->status, 409, "%s", r->body);
    cr_assert_str_eq(resp_error_code(r), "prerequisites_missing");
    json_t *d = json_array_get(json_object_get(json_object_get(r->json, "error"), "details"), 0);
    cr_assert_str_eq(jstr(d, "subject_code"), "CS101");
    cr_assert_float_eq(json_number_value(json_object_get(d, "min_grade")), 3.0, 1e-9);
    resp_free(r);
    graded(1, 5, 320);                  /* 3.20 is worse than 3.00: not passed */
    refused(enroll("cs_stu1", "{\"section_id\":2}"), 409, "prerequisites_missing");
    graded(2, 5, 175);                  /* 1.75: passed */
    enrolled("cs_stu2", 2, "enrolled");
    cr_assert_eq(test_count("SELECT COUNT(*) FROM campus_enrollments WHERE section_id = 2"), 1, "only stu2");
}

Test(campus_enrollments, schedule_conflicts_and_the_registrars_override)
{
    enrolled("cs_stu1", 1, "enrolled");             /* CS101-A Mon/Wed 08:00-09:30 */
    struct resp *r = enroll("cs_stu1", "{\"section_id\":3}");   /* MATH1-A Mon/Wed 09:00-10:30 */
    cr_assert_eq(r->status, 409, "%s", r->body);
    cr_assert_str_eq(resp_error_code(r), "schedule_conflict");
    json_t *d = json_object_get(json_object_get(r->json, "error"), "details");
    cr_assert_str_eq(jstr(d, "section_code"), "CS101-A");
    cr_assert_eq(jint(d, "section_id"), 1);
    cr_assert_not_null(strstr(jstr(json_object_get(r->json, "error"), "message"), "CS101-A"));
    resp_free(r);
    refused(enroll("cs_stu1", "{\"section_id\":3,\"override_reason\":\"dean allowed\"}"), 403, "forbidden");
    r = enroll("cs_registrar", "{\"section_id\":3,\"student_id\":1,\"override_reason\":\"dean allowed\"}");
    cr_assert_eq(r->status, 201, "%s", r->body);
    cr_assert_str_eq(jstr(r->json, "override_reason"), "dean allowed");
    cr_assert_eq(test_scalar("SELECT override_by FROM campus_enrollments WHERE id = $1", jint(r->json, "id")),
                 test_user_id("cs_registrar"));
    resp_free(r);
    /* back to back is no clash: PE1-A is Friday; a meeting ending at 09:30 and one starting then do not overlap */
    test_fixture_sql("meeting", "INSERT INTO campus_meetings (section_id, day, starts_at, ends_at) VALUES (4, 1, '07:00', '08:00')");
    enrolled("cs_stu1", 4, "enrolled");
}

Test(campus_enrollments, the_30_unit_cap_names_current_and_requested)
{
    /* stu2 carries 27 units in sections of their own (Saturday) */
    test_fixture_sql("load", "INSERT INTO campus_subjects (id, code, title, units) VALUES (6, 'BIG', 'Big', 9);"
                             "INSERT INTO campus_sections (id, semester_id, subject_id, code, capacity) VALUES"
                             " (6, 1, 6, 'BIG-A', 9), (7, 1, 6, 'BIG-B', 9), (8, 1, 6, 'BIG-C', 9);"
                             "INSERT INTO campus_enrollments (student_id, section_id, semester_id, units, status) VALUES"
                             " (2, 6, 1, 9, 'enrolled'), (2, 7, 1, 9, 'enrolled'), (2, 8, 1, 9, 'enrolled');");
    enrolled("cs_stu2", 1, "enrolled");             /* 27 + 3 = 30: allowed */
    struct resp *r = enroll("cs_stu2", "{\"section_id\":4}");
    cr_assert_eq(r->status, 409, "%s", r->body);
    cr_assert_str_eq(resp_error_code(r), "unit_cap_exceeded");
    json_t *d = json_object_get(json_object_get(r->json, "error"), "details");
    cr_assert_eq(jint(d, "current_units"), 30);
    cr_assert_eq(jint(d, "requested_units"), 2);
    cr_assert_eq(jint(d, "max_units"), 30);
    resp_free(r);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM campus_enrollments WHERE section_id = 4"), 0, "no change");
}

Test(campus_enrollments, waitlist_and_promotion_on_drop)
{
    int64_t a = enrolled("cs_stu1", 3, "enrolled");   /* MATH1-A: 2 seats */
    enrolled("cs_stu2", 3, "enrolled");
    struct resp *r = enroll("cs_stu3", "{\"section_id\":3}");
    cr_assert_eq(r->status, 201, "%s", r->body);
    cr_assert_str_eq(jstr(r->json, "status"), "waitlisted");
    cr_assert_eq(jint(r->json, "waitlist_position"), 1);
    int64_t w = jint(r->json, "id");
    resp_free(r);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM campus_assessments WHERE student_id = 3"), 0, "a waitlist is not billed");
    refused(enroll("cs_registrar", "{\"section_id\":3,\"student_id\":3}"), 409, "already_enrolled");
    r = drop("cs_stu1", a);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(jstr(r->json, "status"), "dropped");
    resp_free(r);
    cr_assert_str_eq(test_text_of("SELECT status FROM campus_enrollments WHERE id = $1", w), "enrolled");
    cr_assert_eq(test_scalar("SELECT enrolled FROM campus_sections WHERE id = $1", 3), 2);
    cr_assert_eq(test_scalar("SELECT waitlisted FROM campus_sections WHERE id = $1", 3), 0);
    cr_assert_eq(test_scalar("SELECT units FROM campus_assessments WHERE student_id = $1", 3), 5, "now billed");
    cr_assert_eq(test_countf("SELECT COUNT(*) FROM notifications WHERE user_id = %lld AND kind = "
                             "'campus.waitlist.promoted'", (long long)test_user_id("cs_stu3")), 1);
    cr_assert_eq(test_countf("SELECT COUNT(*) FROM audit_log WHERE action = 'campus.enrollment.promoted' AND "
                             "target_id = %lld", (long long)w), 1);
    refused(drop("cs_stu1", a), 409, "already_dropped");
    /* dropping a waitlist entry only leaves the queue */
    enrolled("cs_stu1", 3, "waitlisted");
    cr_assert_eq(test_scalar("SELECT waitlisted FROM campus_sections WHERE id = $1", 3), 1);
}

Test(campus_enrollments, wrong_state_scope_and_body_change_nothing)
{
    refused(enroll("cs_stu1", "{\"section_id\":5}"), 409, "enrollment_closed");   /* last semester */
    test_fixture_sql("leave", "UPDATE campus_students SET status = 'on_leave' WHERE id = 3");
    refused(enroll("cs_stu3", "{\"section_id\":1}"), 409, "student_not_active");
    refused(enroll("cs_stu1", "{\"section_id\":1,\"student_id\":2}"), 403, "forbidden");
    refused(enroll("cs_stu1", "{\"section_id\":999}"), 404, "not_found");
    refused(enroll("cs_registrar", "{\"section_id\":1,\"student_id\":999}"), 404, "not_found");
    refused(enroll("cs_stu1", "{}"), 400, "validation_failed");
    refused(enroll("cs_stu1", "{\"section_id\":\"1\"}"), 400, "validation_failed");
    refused(enroll("cs_stu1", "{\"section_id\":1,\"seat\":\"front\"}"), 400, "validation_failed");
    refused(enroll("cs_stu1", "{\"section_id\":1,\"waitlist\":\"no\"}"), 400, "validation_failed");
    cr_assert_eq(test_count("SELECT COUNT(*) FROM campus_enrollments"), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'campus.%'"), 0);

    int64_t mine = enrolled("cs_stu2", 1, "enrolled");
    refused(drop("cs_stu1", mine), 404, "not_found");       /* another student's: as if absent */
    char *tok = test_token("cs_stu1");
    struct resp *r = api("GET", CP "/enrollments?student_id=2", tok, NULL);
    cr_assert_eq(r->status, 404);
    resp_free(r);
    r = api("GET", CP "/enrollments", tok, NULL);
    cr_assert_eq(jint(r->json, "total"), 0, "stu1 sees only their own: %s", r->body);
    resp_free(r);
    free(tok);
    tok = test_token("cs_registrar");
    r = api("GET", CP "/enrollments?student_id=2&status=enrolled", tok, NULL);
    cr_assert_eq(jint(r->json, "total"), 1, "%s", r->body);
    resp_free(r);
    r = api("GET", CP "/enrollments?status=maybe", tok, NULL);
    cr_assert_eq(r->status, 400);
    resp_free(r);
    free(tok);
    char *g = xasprintf("INSERT INTO campus_grades (enrollment_id, kind, value, status) VALUES (%lld, 'numeric', "
                        "200, 'submitted')", (long long)mine);
    test_fixture_sql("grade", g);
    free(g);
    refused(drop("cs_registrar", mine), 409, "has_grade");
}

Test(campus_enrollments, the_roster_is_the_sections_faculty_and_the_registrars)
{
    test_fixture_sql("two seats", "UPDATE campus_sections SET capacity = 2 WHERE id = 1");
    enrolled("cs_stu2", 1, "enrolled");
    enrolled("cs_stu1", 1, "enrolled");
    enrolled("cs_stu3", 1, "waitlisted");
    char *tok = test_token("cs_fac1");
    struct resp *r = api("GET", CP "/sections/1/roster", tok, NULL);
    cr_assert_eq(r->status, 200, "%s", r->body);
    json_t *it = json_object_get(r->json, "items");
    cr_assert_eq(json_array_size(it), 3);
    cr_assert_eq(jint(json_array_get(it, 2), "student_id"), 3, "the waitlist last");
    cr_assert_eq(jint(json_array_get(it, 2), "waitlist_position"), 1);
    resp_free(r);
    free(tok);
    tok = test_token("cs_fac2");
    r = api("GET", CP "/sections/1/roster", tok, NULL);
    cr_assert_eq(r->status, 403, "another teacher's section");
    resp_free(r);
    free(tok);
}

/* ------------------------------------------------------------- the race */

static char *race_tok;

static void racer(int i, void *arg)
{
    (void)arg;
    char body[96];
    snprintf(body, sizeof body, "{\"section_id\":1,\"student_id\":%d}", 100 + i);
    struct resp *r = api("POST", CP "/enrollments", race_tok, body);
    cr_assert_eq(r->status, 201, "%s", r->body);
    resp_free(r);
}

/* The crowd: 1,000 students enrolled at once (by the registrar)
 * into CS101-A's 40 seats. */
Test(campus_enrollments, a_thousand_for_forty_seats_exactly_forty_the_rest_wait_in_order, .timeout = 300)
{
    char *sql = xasprintf("INSERT INTO campus_students (id, number, program_id, year_level, first_name, last_name, email) "
                          "SELECT 100 + n, 'R-' || CAST(n AS TEXT), 1, 1, 'Racer', CAST(n AS TEXT), 'r@school.test' "
                          "FROM (WITH RECURSIVE c(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM c WHERE n < 999) "
                          "SELECT n FROM c) t");
    test_fixture_sql("racers", sql);
    free(sql);
    race_tok = test_token("cs_registrar");
    run_concurrently(1000, racer, NULL);
    free(race_tok);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM campus_enrollments WHERE section_id = 1 AND status = 'enrolled'"), 40);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM campus_enrollments WHERE section_id = 1 AND status = 'waitlisted'"),
                 960);
    cr_assert_eq(test_scalar("SELECT enrolled FROM campus_sections WHERE id = $1", 1), 40);
    cr_assert_eq(test_scalar("SELECT waitlisted FROM campus_sections WHERE id = $1", 1), 960);
    /* every waitlisted entry arrived after every seated one */
    cr_assert_eq(test_count("SELECT COUNT(*) FROM campus_enrollments w JOIN campus_enrollments e ON "
                            "e.section_id = w.section_id AND e.status = 'enrolled' AND e.id > w.id WHERE "
                            "w.section_id = 1 AND w.status = 'waitlisted'"), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM campus_assessments WHERE semester_id = 1"), 40,
                 "only the seated are billed");
}

/* One student sends twelve 3-unit enrollments at once (36 units, no
 * meetings, no prerequisites): ten pass, two meet the cap, never above 30. */
static void unit_racer(int i, void *arg)
{
    char body[64];
    snprintf(body, sizeof body, "{\"section_id\":%d}", 200 + i);
    struct resp *r = api("POST", CP "/enrollments", race_tok, body);
    cr_assert(r->status == 201 || (r->status == 409 && !strcmp(resp_error_code(r), "unit_cap_exceeded")), "%s",
              r->body);
    atomic_fetch_add((atomic_int *)arg, r->status == 201);
    resp_free(r);
}

Test(campus_enrollments, thirty_six_units_at_once_never_pass_thirty)
{
    test_fixture_sql("twelve subjects", "INSERT INTO campus_subjects (id, code, title, units) SELECT 200 + n, "
                                        "'GE' || CAST(n AS TEXT), 'General education', 3 FROM (WITH RECURSIVE c(n) "
                                        "AS (SELECT 0 UNION ALL SELECT n + 1 FROM c WHERE n < 11) SELECT n FROM c) t");
    test_fixture_sql("twelve sections", "INSERT INTO campus_sections (id, semester_id, subject_id, code, capacity) "
                                        "SELECT id, 1, id, code || '-A', 40 FROM campus_subjects WHERE id >= 200");
    atomic_int seated = 0;
    race_tok = test_token("cs_stu1");
    run_concurrently(12, unit_racer, &seated);
    free(race_tok);
    cr_assert_eq(atomic_load(&seated), 10);
    cr_assert_eq(test_count("SELECT SUM(units) FROM campus_enrollments WHERE student_id = 1 AND status = 'enrolled'"),
                 30);
    cr_assert_eq(test_scalar("SELECT units FROM campus_assessments WHERE student_id = $1 AND semester_id = 1", 1), 30);
}
