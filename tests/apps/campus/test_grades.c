/* campus grades over HTTP: the section's faculty submits (numbers in the
 * allowed steps, INC, DRP), the registrar finalizes and alone corrects with
 * a reason, every change audited; wrong scope, role, state and body change
 * nothing; GPA per semester and cumulative, units-weighted. */
#include "support/call.h"
#include "support/fixture.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TestSuite(campus_grades, .init = cs_start, .fini = srv_stop);

static int64_t enroll(const char *as, int64_t section)
{
    char body[64];
    snprintf(body, sizeof body, "{\"section_id\":%lld}", (long long)section);
    char *tok = test_token(as);
    struct resp *r = api("POST", CP "/enrollments", tok, body);
    cr_assert_eq(r->status, 201, "%s", r->body);
    int64_t id = jint(r->json, "id");
    resp_free(r);
    free(tok);
    return id;
}

static struct resp *submit(const char *as, int64_t e, const char *grade)
{
    char body[64];
    snprintf(body, sizeof body, "{\"grade\":%s}", grade);
    return api_callf("PUT", as, body, CP "/enrollments/%lld/grade", (long long)e);
}

static int64_t audits(const char *action)
{
    return test_countf("SELECT COUNT(*) FROM audit_log WHERE action = '%s'", action);
}

Test(campus_grades, submit_finalize_correct)
{
    int64_t e = enroll("cs_stu1", 1);
    struct resp *r = submit("cs_fac1", e, "\"1.75\"");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(jstr(r->json, "status"), "submitted");
    cr_assert_str_eq(jstr(r->json, "kind"), "numeric");
    cr_assert_float_eq(json_number_value(json_object_get(r->json, "value")), 1.75, 1e-9);
    resp_free(r);
    r = submit("cs_fac1", e, "2");              /* a number, replacing the draft */
    cr_assert_float_eq(json_number_value(json_object_get(r->json, "value")), 2.0, 1e-9);
    resp_free(r);
    cr_assert_eq(audits("campus.grade.submitted"), 2);

    resp_check(api_callf("POST", "cs_fac1", "{}", CP "/enrollments/%lld/grade/finalize", (long long)e), 403, "forbidden");
    r = api_callf("POST", "cs_registrar", "{}", CP "/enrollments/%lld/grade/finalize", (long long)e);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(jstr(r->json, "status"), "finalized");
    cr_assert_eq(jint(r->json, "finalized_by"), test_user_id("cs_registrar"));
    resp_free(r);
    resp_check(api_callf("POST", "cs_registrar", "{}", CP "/enrollments/%lld/grade/finalize", (long long)e), 409,
           "grade_finalized");
    resp_check(submit("cs_fac1", e, "\"1.0\""), 409, "grade_finalized");

    resp_check(api_callf("POST", "cs_registrar", "{\"grade\":1.5}", CP "/enrollments/%lld/grade/correct", (long long)e), 400,
           "validation_failed");                /* a reason is required */
    resp_check(api_callf("POST", "cs_fac1", "{\"grade\":1.5,\"reason\":\"typo\"}", CP "/enrollments/%lld/grade/correct",
                (long long)e), 403, "forbidden");
    r = api_callf("POST", "cs_registrar", "{\"grade\":1.5,\"reason\":\"encoding error\"}",
             CP "/enrollments/%lld/grade/correct", (long long)e);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_float_eq(json_number_value(json_object_get(r->json, "value")), 1.5, 1e-9);
    cr_assert_str_eq(jstr(r->json, "status"), "finalized", "a correction keeps it final");
    resp_free(r);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM campus_grade_corrections WHERE old_value = 200 AND new_value = 150 "
                            "AND reason = 'encoding error'"), 1);
    cr_assert_eq(audits("campus.grade.finalized"), 1);
    cr_assert_eq(audits("campus.grade.corrected"), 1);
}

Test(campus_grades, bad_grades_scope_and_states_change_nothing)
{
    int64_t e = enroll("cs_stu1", 1);
    static const char *const bad[] = {"3.3", "6.0", "0.75", "3.25", "4.5", "\"A\"", "\"1.7x\"", "true", "null", NULL};
    for (int i = 0; bad[i]; i++) resp_check(submit("cs_fac1", e, bad[i]), 400, "validation_failed");
    resp_check(api_callf("PUT", "cs_fac1", "{}", CP "/enrollments/%lld/grade", (long long)e), 400, "validation_failed");
    resp_check(submit("cs_fac2", e, "\"2.0\""), 403, "forbidden");          /* another section's teacher */
    resp_check(submit("cs_stu1", e, "\"1.0\""), 403, "forbidden");          /* no such permission */
    resp_check(submit("cs_registrar", e, "\"1.0\""), 403, "forbidden");     /* submits are faculty's */
    resp_check(submit("cs_fac1", 999, "\"1.0\""), 404, "not_found");
    resp_check(api_callf("POST", "cs_registrar", "{}", CP "/enrollments/%lld/grade/finalize", (long long)e), 409, "no_grade");
    cr_assert_eq(test_count("SELECT COUNT(*) FROM campus_grades"), 0);
    /* a dropped enrollment takes no grade */
    resp_check(api_callf("DELETE", "cs_stu1", NULL, CP "/enrollments/%lld", (long long)e), 200, NULL);
    resp_check(submit("cs_fac1", e, "\"2.0\""), 409, "not_enrolled");
    /* a submitted grade is the faculty's to change, not a correction */
    int64_t e2 = enroll("cs_stu2", 1);
    resp_check(submit("cs_fac1", e2, "\"INC\""), 200, NULL);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM campus_grades WHERE kind = 'INC' AND value IS NULL AND "
                            "inc_given_on IS NOT NULL"), 1);
    resp_check(api_callf("POST", "cs_registrar", "{\"grade\":\"DRP\",\"reason\":\"x\"}", CP "/enrollments/%lld/grade/correct",
                (long long)e2), 409, "not_finalized");
    cr_assert_eq(test_count("SELECT COUNT(*) FROM campus_grade_corrections"), 0);
}

Test(campus_grades, gpa_per_semester_and_cumulative)
{
    int64_t a = enroll("cs_stu1", 1), b = enroll("cs_stu1", 4);      /* 3 and 2 units */
    resp_check(submit("cs_fac1", a, "1.75"), 200, NULL);
    resp_check(submit("cs_admin", b, "\"2.5\""), 200, NULL);
    char *sql = xasprintf("INSERT INTO campus_enrollments (student_id, section_id, semester_id, units, status) VALUES "
                          "(1, 5, 2, 3, 'enrolled');"
                          "INSERT INTO campus_grades (enrollment_id, kind, value, status) SELECT MAX(id), 'numeric', 100, "
                          "'finalized' FROM campus_enrollments;");
    test_fixture_sql("a past grade", sql);
    free(sql);
    struct resp *r = api_callf("GET", "cs_stu1", NULL, CP "/students/1/gpa?semester_id=1");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert(json_is_null(json_object_get(json_object_get(r->json, "semester"), "gpa")), "nothing final yet: %s",
              r->body);
    resp_free(r);
    resp_check(api_callf("POST", "cs_registrar", "{}", CP "/enrollments/%lld/grade/finalize", (long long)a), 200, NULL);
    resp_check(api_callf("POST", "cs_registrar", "{}", CP "/enrollments/%lld/grade/finalize", (long long)b), 200, NULL);
    r = api_callf("GET", "cs_stu1", NULL, CP "/students/1/gpa?semester_id=1");
    json_t *sem = json_object_get(r->json, "semester"), *all = json_object_get(r->json, "cumulative");
    /* (1.75 x 3 + 2.5 x 2) / 5 = 2.05; with 1.0 x 3 before: 13.25 / 8 = 1.656 -> 1.66 */
    cr_assert_float_eq(json_number_value(json_object_get(sem, "gpa")), 2.05, 1e-9, "%s", r->body);
    cr_assert_eq(jint(sem, "units"), 5);
    cr_assert_float_eq(json_number_value(json_object_get(all, "gpa")), 1.66, 1e-9, "%s", r->body);
    cr_assert_eq(jint(all, "units"), 8);
    resp_free(r);
    /* INC and DRP never count */
    int64_t c = enroll("cs_stu2", 1);
    resp_check(submit("cs_fac1", c, "\"DRP\""), 200, NULL);
    resp_check(api_callf("POST", "cs_registrar", "{}", CP "/enrollments/%lld/grade/finalize", (long long)c), 200, NULL);
    r = api_callf("GET", "cs_registrar", NULL, CP "/students/2/gpa");
    cr_assert(json_is_null(json_object_get(json_object_get(r->json, "cumulative"), "gpa")), "%s", r->body);
    resp_free(r);

    r = api_callf("GET", "cs_stu1", NULL, CP "/students/1/grades");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_eq(json_array_size(json_object_get(r->json, "items")), 3);
    cr_assert_str_eq(jstr(json_array_get(json_object_get(r->json, "items"), 0), "subject_code"), "CS101",
                     "the current semester first");
    resp_free(r);
    resp_check(api_callf("GET", "cs_stu2", NULL, CP "/students/1/grades"), 404, "not_found");
    resp_check(api_callf("GET", "cs_stu2", NULL, CP "/students/1/gpa"), 404, "not_found");
}

/* ------------------------------------------------------------- the race */

static int64_t race_enrollment;
static int race_status[20];

static void finalizer(int i, void *arg)
{
    (void)arg;
    struct resp *r = api_callf("POST", "cs_registrar", "{}", CP "/enrollments/%lld/grade/finalize", (long long)race_enrollment);
    race_status[i] = r->status;
    resp_free(r);
}

Test(campus_grades, concurrent_finalizations_finalize_once)
{
    race_enrollment = enroll("cs_stu1", 1);
    resp_check(submit("cs_fac1", race_enrollment, "\"2.25\""), 200, NULL);
    run_concurrently(20, finalizer, NULL);
    int ok = 0, refused = 0;
    for (int i = 0; i < 20; i++) ok += race_status[i] == 200, refused += race_status[i] == 409;
    cr_assert_eq(ok, 1, "exactly one finalizes");
    cr_assert_eq(refused, 19, "the others find it final");
    cr_assert_eq(audits("campus.grade.finalized"), 1, "one audit row");
}
