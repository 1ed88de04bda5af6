/* The campus seeder, in-process on a fresh database: each situation of the
 * spec's test data, checked through the API as the demo accounts see it;
 * money that reconciles; the INC expiry job on the seeded world; seeding
 * again (a no-op) and --clear. */
#include "support/call.h"
#include "support/harness.h"
#include "apps/campus/campus.h"
#include <stdlib.h>
#include <string.h>

#define CP "/api/v1/campus"

TestSuite(campus_seed, .init = srv_start, .fini = srv_stop);

static char hash[128];

static int seed(bool clear)
{
    if (!hash[0]) cr_assert_eq(auth_hash_password("atrium-demo-pass", hash), 0);
    char *argv[] = {"atrium", "seed", "campus", NULL};
    struct seed_opts o = {.password = "atrium-demo-pass", .password_hash = hash, .clear = clear, .argc = 3,
                          .argv = argv};
    return campus_seed(test_db(), &o);
}

static void refused(const char *user, const char *body, const char *code)
{
    struct resp *r = api_as(user, "POST", CP "/enrollments", body);
    cr_assert_eq(r->status, 409, "%s %s: %s", user, body, r->body);
    cr_assert_str_eq(resp_error_code(r), code, "%s: %s", user, r->body);
    resp_free(r);
}

static int64_t section(const char *code)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT id FROM campus_sections WHERE code = '%s'", code);
    return test_count(sql);
}

static json_t *get_json(const char *user, const char *path)
{
    struct resp *r = api_as(user, "GET", path, NULL);
    cr_assert_eq(r->status, 200, "%s %s: %s", user, path, r->body);
    json_t *j = json_incref(r->json);
    resp_free(r);
    return j;
}

/* The INC of the student's grade list and its deadline. */
static const char *inc_deadline(const char *user, int student)
{
    static char out[16];
    char path[64];
    snprintf(path, sizeof path, CP "/students/%d/grades", student);
    json_t *g = get_json(user, path), *v;
    size_t i;
    out[0] = 0;
    json_array_foreach(json_object_get(g, "items"), i, v)
        if (!strcmp(json_string_value(json_object_get(v, "kind")), "INC"))
            snprintf(out, sizeof out, "%s", json_string_value(json_object_get(v, "inc_deadline")));
    json_decref(g);
    return out;
}

static const char *date_from_today(int64_t days)
{
    static char out[4][11];
    static int k;
    k = (k + 1) % 4;
    date_format(date_today() + days, out[k]);
    return out[k];
}

Test(campus_seed, every_situation_of_the_spec_as_the_demo_accounts_see_it)
{
    cr_assert_eq(seed(false), 0);
    char body[96];

    /* student 3 failed CS101: CS102 is refused, naming it */
    snprintf(body, sizeof body, "{\"section_id\":%lld}", (long long)section("CS102-A"));
    refused("campus.student.3", body, "prerequisites_missing");
    /* student 2 carries 27 units: five more pass the cap */
    json_t *sched = get_json("campus.student.2", CP "/students/2/schedule");
    cr_assert_eq(json_integer_value(json_object_get(sched, "units")), 27);
    json_decref(sched);
    snprintf(body, sizeof body, "{\"section_id\":%lld}", (long long)section("MATH1-A"));
    refused("campus.student.2", body, "unit_cap_exceeded");
    /* a graduate and a student on leave cannot enroll; the new student can */
    snprintf(body, sizeof body, "{\"section_id\":%lld}", (long long)section("ENG1-B"));
    refused("campus.student.8", body, "student_not_active");
    refused("campus.student.5", body, "student_not_active");
    struct resp *r = api_as("campus.student.9", "POST", CP "/enrollments", body);    /* the last seat of ENG1-B */
    cr_assert_eq(r->status, 201, "%s", r->body);
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "status")), "enrolled");
    resp_free(r);
    /* student 6 waits first in the full MATH1-A */
    json_t *mine = get_json("campus.student.6", CP "/enrollments?status=waitlisted");
    json_t *e = json_array_get(json_object_get(mine, "items"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(e, "section_code")), "MATH1-A");
    cr_assert_eq(json_integer_value(json_object_get(e, "waitlist_position")), 1);
    json_decref(mine);
    cr_assert_eq(test_count("SELECT capacity - enrolled FROM campus_sections WHERE code = 'MATH1-A'"), 0);
    /* student 7's clash, overridden by the registrar with a reason */
    cr_assert_eq(test_count("SELECT COUNT(*) FROM campus_enrollments e JOIN campus_sections c ON c.id = e.section_id "
                            "WHERE e.student_id = 7 AND c.code = 'CS101-B' AND e.override_reason IS NOT NULL"), 1);
    /* student 1 paid month 1 and part of month 2; a duplicate was voided */
    json_t *permits = get_json("campus.student.1", CP "/students/1/permits?semester_id=3");
    char *text = json_dumps(permits, JSON_COMPACT);
    json_t *items = json_object_get(permits, "items");
    cr_assert(json_array_size(items) == 5, "%s", text);
    for (size_t m = 0; m < 5; m++)
        cr_assert_eq(json_is_string(json_object_get(json_array_get(items, m), "unlocked_at")), m == 0, "month %zu: %s",
                     m + 1, text);
    free(text);
    json_decref(permits);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM campus_payments WHERE student_id = 1 AND status = 'void'"), 1);
    /* student 2 paid everything */
    cr_assert_eq(test_count("SELECT COUNT(*) FROM campus_permits WHERE student_id = 2 AND semester_id = 3 AND "
                            "unlocked_at IS NOT NULL"), 5);
    /* INC deadlines: student 4's a year on; student 5's moved by two leaves (30 + 61 days) */
    cr_assert_str_eq(inc_deadline("campus.student.4", 4), date_from_today(date_add_years(date_today() - 60, 1) -
                                                                          date_today()));
    cr_assert_str_eq(inc_deadline("campus.registrar.1", 5),
                     date_from_today(date_add_years(date_today() - 380, 1) + 91 - date_today()));
    cr_assert_str_eq(test_text_of("SELECT status FROM campus_students WHERE id = $1", 5), "on_leave");
    /* admissions: two waiting, one approved (student 9), one rejected */
    cr_assert_eq(test_count("SELECT COUNT(*) FROM campus_applications WHERE status = 'submitted'"), 2);
    cr_assert_eq(test_count("SELECT student_id FROM campus_applications WHERE status = 'approved'"), 9);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM campus_applications WHERE status = 'rejected'"), 1);
    /* faculty 3 teaches MATH1-A: its roster */
    char path[64];
    snprintf(path, sizeof path, CP "/sections/%lld/roster", (long long)section("MATH1-A"));
    json_decref(get_json("campus.faculty.3", path));
    r = api_as("campus.faculty.1", "GET", path, NULL);
    cr_assert_eq(r->status, 403);
    resp_free(r);
}

Test(campus_seed, the_money_and_the_counters_reconcile)
{
    cr_assert_eq(seed(false), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM campus_installments i WHERE i.paid_cents <> (SELECT "
                            "COALESCE(SUM(a.amount_cents), 0) FROM campus_allocations a JOIN campus_payments p ON "
                            "p.id = a.payment_id WHERE a.installment_id = i.id AND p.status = 'posted') OR i.paid_cents "
                            "> i.amount_cents"), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM campus_allocations a JOIN campus_payments p ON p.id = a.payment_id "
                            "WHERE p.status = 'void'"), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM campus_assessments a WHERE a.total_cents <> (SELECT "
                            "SUM(i.amount_cents) FROM campus_installments i WHERE i.assessment_id = a.id)"), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM campus_permits p JOIN campus_assessments a ON a.student_id = "
                            "p.student_id AND a.semester_id = p.semester_id JOIN campus_installments i ON "
                            "i.assessment_id = a.id AND i.month = p.month WHERE (p.unlocked_at IS NOT NULL) <> "
                            "(i.paid_cents >= i.amount_cents)"), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM campus_sections c WHERE c.enrolled <> (SELECT COUNT(*) FROM "
                            "campus_enrollments e WHERE e.section_id = c.id AND e.status = 'enrolled') OR c.waitlisted "
                            "<> (SELECT COUNT(*) FROM campus_enrollments e WHERE e.section_id = c.id AND e.status = "
                            "'waitlisted') OR c.enrolled > c.capacity"), 0);
    cr_assert_gt(test_count("SELECT COUNT(DISTINCT method) FROM campus_payments WHERE semester_id = 3"), 3);
    cr_assert_eq(test_audit_count("campus", "campus.demo_data.seeded"), 1);
}

Test(campus_seed, the_expiry_job_fails_the_expired_inc_and_spares_the_one_leaves_moved)
{
    cr_assert_eq(seed(false), 0);
    char *out = NULL;
    cr_assert_eq(jobs_run(test_db(), "campus.inc_expiry", &out), 0, "%s", out ? out : "");
    cr_assert(strstr(out, "expired 1 INC grade(s), 1 within a deadline moved by leave"), "%s", out);
    cr_assert(strstr(out, "student 10"), "%s", out);
    free(out);
    cr_assert_str_eq(inc_deadline("campus.student.10", 10), "");
}

Test(campus_seed, seeding_again_is_a_no_op_and_clear_seeds_afresh)
{
    cr_assert_eq(seed(false), 0);
    int64_t students = test_count("SELECT COUNT(*) FROM campus_students");
    int64_t payments = test_count("SELECT COUNT(*) FROM campus_payments");
    cr_assert_eq(students, 50);
    cr_assert_eq(seed(false), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM campus_payments"), payments);
    cr_assert_eq(seed(true), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM campus_students"), students);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM campus_payments"), payments);
    cr_assert_eq(test_count("SELECT MIN(id) FROM campus_students"), 1, "ids start over");
    cr_assert_eq(test_count("SELECT COUNT(*) FROM user_roles WHERE app = 'campus' AND role = 'faculty'"), 20,
                 "one per section taught");
}
