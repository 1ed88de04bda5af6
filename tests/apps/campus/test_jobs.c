/* The campus jobs that follow money and seats: installments due and overdue,
 * the waitlist safety net (and a section's capacity, which seats the
 * waitlist at once), and the enrollment window notices. Each runs twice to
 * show it is idempotent. */
#include "support/clock.h"
#include "support/call.h"
#include "support/fixture.h"
#include <stdlib.h>
#include <string.h>

TestSuite(campus_jobs, .init = cs_start, .fini = srv_stop);

static void ok(const char *user, const char *method, const char *path, const char *body, int status)
{
    struct resp *r = api_as(user, method, path, body);
    cr_assert_eq(r->status, status, "%s %s: %s", method, path, r->body);
    resp_free(r);
}

static char *run_job(const char *name)
{
    char *result = NULL;
    cr_assert_eq(jobs_run(test_db(), name, &result), 0, "%s: %s", name, result ? result : "");
    return result;
}

static void expect_job(const char *name, const char *text)
{
    char *out = run_job(name);
    cr_assert(strstr(out, text), "%s: wanted \"%s\" in:\n%s", name, text, out);
    free(out);
}

static int64_t notes(const char *user, const char *kind)
{
    return test_countf("SELECT COUNT(*) FROM notifications WHERE user_id = %lld AND kind = '%s'",
                       (long long)test_user_id(user), kind);
}

/* ------------------------------------------------------------ installments */

/* Student 1 in CS101-A: 1,200,000 cents in five installments of 240,000.
 * Month 1 fell due ten days ago, month 2 falls due in two days, the rest
 * later. 100,000 paid: month 1 is still short. */
static void bill(void)
{
    ok("cs_stu1", "POST", CP "/enrollments", "{\"section_id\":1}", 201);
    char *sql = xasprintf("UPDATE campus_installments SET due_on = CASE month WHEN 1 THEN '%s' WHEN 2 THEN '%s' "
                          "ELSE '%s' END",
                          date_in(-10), date_in(2), date_in(40));
    test_fixture_sql("due dates", sql);
    free(sql);
    ok("cs_cashier", "POST", CP "/payments", "{\"student_id\":1,\"amount_cents\":100000,\"method\":\"cash\"}", 201);
}

static const char *flags(int month)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT overdue || ' ' || COALESCE(reminded_on, '-') FROM campus_installments WHERE "
                              "month = %d AND assessment_id = $1", month);
    return test_text_of(sql, test_scalar("SELECT id FROM campus_assessments WHERE student_id = $1", 1));
}

Test(campus_jobs, installments_turn_overdue_and_are_reminded_once_then_clear_when_paid)
{
    bill();
    expect_job("campus.installments", "1 marked overdue, 1 reminded, 0 paid and cleared");
    cr_assert_str_eq(flags(1), "1 -");
    char want[32];
    snprintf(want, sizeof want, "0 %s", date_in(0));
    cr_assert_str_eq(flags(2), want);
    cr_assert_str_eq(flags(3), "0 -");
    cr_assert_eq(notes("cs_stu1", "campus.installment.overdue"), 1);
    cr_assert_eq(notes("cs_stu1", "campus.installment.due"), 1);
    cr_assert_eq(test_audit_count("campus", "campus.installment.overdue"), 1);
    cr_assert_eq(test_audit_count("campus", "campus.installment.reminded"), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM notification_log WHERE channel = 'email' AND recipient = "
                            "'cs_stu1@school.test'"), 2);

    struct resp *r = api_as("cs_stu1", "GET", CP "/students/1/assessment", NULL);    /* the student sees it */
    cr_assert_eq(r->status, 200, "%s", r->body);
    json_t *m1 = json_array_get(json_object_get(r->json, "installments"), 0);
    cr_assert(json_is_true(json_object_get(m1, "overdue")), "%s", r->body);
    resp_free(r);

    expect_job("campus.installments", "0 marked overdue, 0 reminded, 0 paid and cleared");
    cr_assert_eq(notes("cs_stu1", "campus.installment.overdue"), 1);

    ok("cs_cashier", "POST", CP "/payments", "{\"student_id\":1,\"amount_cents\":140000,\"method\":\"card\"}", 201);
    expect_job("campus.installments", "0 marked overdue, 0 reminded, 1 paid and cleared");
    cr_assert_str_eq(flags(1), "0 -");
}

/* ---------------------------------------------------------------- waitlist */

/* MATH1-A seats two: students 1 and 2 take them, student 3 waits. */
static void full_section(void)
{
    ok("cs_stu1", "POST", CP "/enrollments", "{\"section_id\":3}", 201);
    ok("cs_stu2", "POST", CP "/enrollments", "{\"section_id\":3}", 201);
    struct resp *r = api_as("cs_stu3", "POST", CP "/enrollments", "{\"section_id\":3}");
    cr_assert_eq(r->status, 201, "%s", r->body);
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "status")), "waitlisted");
    resp_free(r);
}

static const char *stu3_in_math(void)
{
    return test_text_of("SELECT status FROM campus_enrollments WHERE student_id = $1 AND section_id = 3", 3);
}

static const char *section3(void)
{
    return test_text_of("SELECT capacity || '/' || enrolled || '/' || waitlisted || ' ' || room FROM campus_sections "
                        "WHERE id = $1", 3);
}

Test(campus_jobs, a_larger_capacity_seats_the_waitlist_at_once)
{
    full_section();
    ok("cs_registrar", "PATCH", CP "/sections/3", "{\"capacity\":1}", 409);     /* below the two seated */
    ok("cs_registrar", "PATCH", CP "/sections/3", "{\"capacity\":0}", 400);
    ok("cs_registrar", "PATCH", CP "/sections/3", "{}", 400);
    ok("cs_registrar", "PATCH", CP "/sections/3", "{\"capacity\":3,\"seats\":1}", 400);
    ok("cs_stu1", "PATCH", CP "/sections/3", "{\"capacity\":3}", 403);
    ok("cs_fac1", "PATCH", CP "/sections/3", "{\"capacity\":3}", 403);
    ok("cs_registrar", "PATCH", CP "/sections/99", "{\"capacity\":3}", 404);
    cr_assert_str_eq(section3(), "2/2/1 R201");
    cr_assert_eq(test_audit_count("campus", "campus.section.updated"), 0);

    struct resp *r = api_as("cs_registrar", "PATCH", CP "/sections/3", "{\"capacity\":3,\"room\":\"R305\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_eq(json_integer_value(json_object_get(r->json, "capacity")), 3);
    resp_free(r);
    cr_assert_str_eq(section3(), "3/3/0 R305");
    cr_assert_str_eq(stu3_in_math(), "enrolled");
    cr_assert_eq(test_audit_count("campus", "campus.section.updated"), 1);
    cr_assert_eq(test_audit_count("campus", "campus.enrollment.promoted"), 1);
    cr_assert_eq(notes("cs_stu3", "campus.waitlist.promoted"), 1);
    cr_assert_eq(test_scalar("SELECT units FROM campus_assessments WHERE student_id = $1 AND semester_id = 1", 3), 5,
                 "the promoted student is billed");
}

/* A student who went on leave while waiting keeps their place but is
 * passed over: the seat goes to the next active one, or stays free. */
Test(campus_jobs, a_waiting_student_on_leave_is_passed_over)
{
    full_section();
    test_fixture_sql("on leave", "UPDATE campus_students SET status = 'on_leave' WHERE id = 3");
    ok("cs_registrar", "PATCH", CP "/sections/3", "{\"capacity\":3}", 200);
    cr_assert_str_eq(stu3_in_math(), "waitlisted");
    cr_assert_str_eq(section3(), "3/2/1 R201");
    cr_assert_eq(notes("cs_stu3", "campus.waitlist.promoted"), 0);
    test_fixture_sql("back", "UPDATE campus_students SET status = 'active' WHERE id = 3");
    char *sql = xasprintf("UPDATE campus_semesters SET ends_on = '%s' WHERE id = 1", date_in(60));
    test_fixture_sql("classes still run", sql);
    free(sql);
    expect_job("campus.waitlist", "1 section(s) seated from their waitlist");
    cr_assert_str_eq(stu3_in_math(), "enrolled");
}

Test(campus_jobs, the_waitlist_job_seats_whoever_waits_for_a_free_seat_once)
{
    full_section();
    char *sql = xasprintf("UPDATE campus_semesters SET ends_on = '%s' WHERE id = 1", date_in(60));
    test_fixture_sql("classes still run", sql);
    free(sql);
    test_fixture_sql("capacity by import", "UPDATE campus_sections SET capacity = 4 WHERE id = 3");
    expect_job("campus.waitlist", "1 section(s) seated from their waitlist");
    cr_assert_str_eq(stu3_in_math(), "enrolled");
    cr_assert_str_eq(section3(), "4/3/0 R201");
    cr_assert_eq(notes("cs_stu3", "campus.waitlist.promoted"), 1);
    cr_assert_eq(test_countf("SELECT COUNT(*) FROM audit_log WHERE action = 'campus.enrollment.promoted' AND "
                             "COALESCE(user_id, 0) = 0"), 1, "promoted by the system");
    expect_job("campus.waitlist", "0 section(s) seated from their waitlist");
}

/* ---------------------------------------------------------- window notices */

static int64_t window_notes(void)
{
    return test_count("SELECT COUNT(*) FROM notifications WHERE kind = 'campus.enrollment.window'");
}

Test(campus_jobs, window_notices_go_to_active_students_once_each)
{
    test_fixture_sql("on leave", "UPDATE campus_students SET status = 'on_leave' WHERE id = 3");
    expect_job("campus.window_notices", "1 enrollment window notice(s) sent");
    cr_assert_eq(window_notes(), 2, "students 1 and 2; not the one on leave");
    cr_assert_eq(test_count("SELECT recipients FROM campus_notices WHERE semester_id = 1 AND kind = 'opened'"), 2);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM campus_notices WHERE semester_id = 2"), 0,
                 "a window closed long ago is not announced");
    expect_job("campus.window_notices", "0 enrollment window notice(s) sent");

    char *sql = xasprintf("UPDATE campus_semesters SET enrollment_closes_at = '%s' WHERE id = 1", time_in(120));
    test_fixture_sql("closes soon", sql);
    free(sql);
    expect_job("campus.window_notices", "1 enrollment window notice(s) sent");
    cr_assert_eq(test_count("SELECT COUNT(*) FROM campus_notices WHERE semester_id = 1 AND kind = 'closing'"), 1);
    sql = xasprintf("UPDATE campus_semesters SET enrollment_closes_at = '%s' WHERE id = 1", time_in(-60));
    test_fixture_sql("closed", sql);
    free(sql);
    expect_job("campus.window_notices", "1 enrollment window notice(s) sent");
    expect_job("campus.window_notices", "0 enrollment window notice(s) sent");
    cr_assert_eq(window_notes(), 6);
    cr_assert_eq(test_audit_count("campus", "campus.semester.window_notice"), 3);
    cr_assert_eq(notes("cs_stu1", "campus.enrollment.window"), 3);
}

/* ---------------------------------------------------------- cashier report */

/* Yesterday's payments (moved back a day by SQL): two posted by the cashier,
 * one voided; the report goes to the cashier supervisor and the admin (not
 * to the plain cashier), in-app and by email, once. */
Test(campus_jobs, the_daily_cashier_report_goes_to_supervisors_and_admins_once)
{
    ok("cs_stu1", "POST", CP "/enrollments", "{\"section_id\":1}", 201);
    ok("cs_cashier", "POST", CP "/payments", "{\"student_id\":1,\"amount_cents\":150000,\"method\":\"cash\"}", 201);
    ok("cs_cashier", "POST", CP "/payments", "{\"student_id\":1,\"amount_cents\":25050,\"method\":\"card\"}", 201);
    ok("cs_cashier", "POST", CP "/payments", "{\"student_id\":1,\"amount_cents\":999,\"method\":\"cash\"}", 201);
    ok("cs_super", "POST", CP "/payments/3/void", "{\"reason\":\"typed twice\"}", 200);
    char *sql = xasprintf("UPDATE campus_payments SET created_at = '%sT10:00:00Z'", date_in(-1));
    test_fixture_sql("yesterday", sql);
    free(sql);
    test_fixture_sql("emails", "UPDATE users SET email = username || '@staff.test' WHERE username IN ('cs_super', "
                               "'cs_admin', 'cs_cashier')");

    expect_job("campus.cashier_report", "sent to 2 people");
    cr_assert_eq(notes("cs_super", "campus.report.collections"), 1);
    cr_assert_eq(notes("cs_admin", "campus.report.collections"), 1);
    cr_assert_eq(notes("cs_cashier", "campus.report.collections"), 0);
    char want[96];
    snprintf(want, sizeof want, "Collections of %s: 2 payment(s), 1,750.50", date_in(-1));
    cr_assert_str_eq(test_text_of("SELECT title FROM notifications WHERE kind = 'campus.report.collections' AND "
                                  "user_id = $1", test_user_id("cs_super")), want);
    char *mail = test_text("SELECT body FROM notification_log WHERE recipient = 'cs_admin@staff.test'");
    cr_assert(strstr(mail, "cash") && strstr(mail, "card") && strstr(mail, "cs_cashier") &&
                  strstr(mail, "Voided: 1 payment(s), 9.99"), "%s", mail);
    free(mail);
    cr_assert_str_eq(test_text_of("SELECT payments || '/' || amount_cents || '/' || recipients FROM "
                                  "campus_daily_reports WHERE recipients >= $1", 0), "2/175050/2");
    cr_assert_eq(test_audit_count("campus", "campus.report.sent"), 1);

    expect_job("campus.cashier_report", "sent to 0 people");       /* once per day */
    cr_assert_eq(notes("cs_super", "campus.report.collections"), 1);
}
