/* The campus authorization matrix: every route x {anonymous, cs_nobody,
 * every campus role (faculty in and out of its section)}. The last test
 * checks with authz_complete() that every route has a row for every caller. */
#include "support/fixture.h"
#include <stdlib.h>

/* The world: cs_stu1 (student 1) enrolled in section 1, so assessed, and
 * payment 1 of 1,000 cents posted by cs_cashier. */
static void start(void)
{
    cs_start();
    char *tok = test_token("cs_stu1");
    struct resp *r = api("POST", CP "/enrollments", tok, "{\"section_id\":1}");
    cr_assert_eq(r->status, 201, "%s", r->body);
    resp_free(r);
    free(tok);
    tok = test_token("cs_cashier");
    r = api("POST", CP "/payments", tok, "{\"student_id\":1,\"amount_cents\":1000,\"method\":\"cash\"}");
    cr_assert_eq(r->status, 201, "%s", r->body);
    resp_free(r);
    free(tok);
}

TestSuite(campus_authz, .init = start, .fini = srv_stop);

/* Everyone with a campus role reads; no role 403; anonymous 401. */
#define READ_BY_ALL(p, ok)                                                                                      \
    {"GET", CP p, NULL, 401}, {"GET", CP p, "cs_nobody", 403}, {"GET", CP p, "cs_stu1", ok},                   \
        {"GET", CP p, "cs_cashier", ok}, {"GET", CP p, "cs_super", ok}, {"GET", CP p, "cs_fac1", ok},          \
        {"GET", CP p, "cs_fac2", ok, .out = true}, {"GET", CP p, "cs_registrar", ok}, {"GET", CP p, "cs_admin", ok}

static const struct authz_case catalog_cases[] = {
    READ_BY_ALL("/programs", 200),
    READ_BY_ALL("/semesters", 200),
    READ_BY_ALL("/semesters/1", 200),
    READ_BY_ALL("/subjects", 200),
    READ_BY_ALL("/subjects/1", 200),
    READ_BY_ALL("/sections", 200),
    READ_BY_ALL("/sections/1", 200),
    {0},
};

/* m p by everyone, each getting its status: anonymous, no role, student,
 * cashier, cashier supervisor, faculty in scope, faculty out of scope,
 * registrar, admin. */
#define ROW(m, p, stu, cash, sup, fac_in, fac_out, reg, adm)                                                   \
    {m, CP p, NULL, 401}, {m, CP p, "cs_nobody", 403}, {m, CP p, "cs_stu1", stu}, {m, CP p, "cs_cashier", cash}, \
        {m, CP p, "cs_super", sup}, {m, CP p, "cs_fac1", fac_in}, {m, CP p, "cs_fac2", fac_out, .out = true},   \
        {m, CP p, "cs_registrar", reg}, {m, CP p, "cs_admin", adm}

/* The roster of section 1 (cs_fac1 teaches it, cs_fac2 does not); the
 * enrollment routes with an empty body (400: authorized) and an unknown
 * enrollment (404). */
static const struct authz_case enrollment_cases[] = {
    ROW("GET", "/sections/1/roster", 403, 403, 403, 200, 403, 200, 200),
    ROW("POST", "/enrollments", 400, 403, 403, 403, 403, 400, 400),
    ROW("GET", "/enrollments", 200, 403, 403, 403, 403, 200, 200),
    ROW("DELETE", "/enrollments/99", 404, 403, 403, 403, 403, 404, 404),
    ROW("PATCH", "/sections/1", 403, 403, 403, 403, 403, 400, 400),
    {0},
};

/* Managing the catalog: the registrar and admins (an empty body: 400,
 * authorized); everyone else 403, faculty in any section too. */
static const struct authz_case catalog_manage_cases[] = {
    ROW("POST", "/semesters", 403, 403, 403, 403, 403, 400, 400),
    ROW("PATCH", "/semesters/1", 403, 403, 403, 403, 403, 400, 400),
    ROW("POST", "/subjects", 403, 403, 403, 403, 403, 400, 400),
    ROW("PUT", "/subjects/1/prerequisites", 403, 403, 403, 403, 403, 400, 400),
    ROW("POST", "/sections", 403, 403, 403, 403, 403, 400, 400),
    {0},
};

Test(campus_authz, catalog_manage)
{
    authz_run(catalog_manage_cases);
}

/* Leaves: the registrar records and cancels (an empty body 400, an unknown
 * leave 404); a student reads their own, a cashier nobody's (404: the
 * registrar's business). */
static const struct authz_case leave_cases[] = {
    ROW("POST", "/students/1/leaves", 403, 403, 403, 403, 403, 400, 400),
    ROW("GET", "/students/1/leaves", 200, 404, 404, 403, 403, 200, 200),
    ROW("DELETE", "/students/1/leaves/99", 403, 403, 403, 403, 403, 404, 404),
    {0},
};

/* Money: authorized callers with an empty body get 400; a student reads
 * only their own (student 1 is cs_stu1's). */
static const struct authz_case money_cases[] = {
    ROW("GET", "/students/1/assessment", 200, 200, 200, 403, 403, 200, 200),
    ROW("GET", "/students", 403, 200, 200, 403, 403, 200, 200),
    ROW("GET", "/students/1", 200, 200, 200, 403, 403, 200, 200),
    ROW("GET", "/students/1/schedule", 200, 200, 200, 403, 403, 200, 200),
    ROW("POST", "/payments", 403, 400, 400, 403, 403, 403, 400),
    ROW("GET", "/payments", 200, 200, 200, 403, 403, 200, 200),
    ROW("GET", "/payments/1", 200, 200, 200, 403, 403, 200, 200),
    ROW("POST", "/payments/1/void", 403, 403, 400, 403, 403, 400, 400),
    ROW("GET", "/students/1/permits", 200, 200, 200, 403, 403, 200, 200),
    ROW("GET", "/permits/check", 403, 403, 403, 400, 400, 400, 400),
    {0},
};

/* Grades of enrollment 1 (cs_stu1 in section 1, which cs_fac1 teaches): an
 * empty body is 400 for whoever holds the permission (the body is read
 * before the section); a valid one from another section's teacher is 403.
 * Nothing is submitted yet, so finalize is 409 and correct 400 (no body). */
static const struct authz_case grade_cases[] = {
    ROW("PUT", "/enrollments/1/grade", 403, 403, 403, 400, 400, 403, 400),
    {"PUT", CP "/enrollments/1/grade", "cs_fac2", 403, "{\"grade\":\"2.0\"}", .out = true},
    ROW("POST", "/enrollments/1/grade/finalize", 403, 403, 403, 403, 403, 409, 409),
    ROW("POST", "/enrollments/1/grade/correct", 403, 403, 403, 403, 403, 400, 400),
    ROW("GET", "/students/1/grades", 200, 403, 403, 403, 403, 200, 200),
    ROW("GET", "/students/1/gpa", 200, 403, 403, 403, 403, 200, 200),
    {0},
};

/* m p with body by everyone, each getting the same status (a public route). */
#define PUBLIC(m, p, st, body)                                                                                 \
    {m, CP p, NULL, st, body}, {m, CP p, "cs_nobody", st, body}, {m, CP p, "cs_stu1", st, body},              \
        {m, CP p, "cs_cashier", st, body}, {m, CP p, "cs_super", st, body}, {m, CP p, "cs_fac1", st, body},    \
        {m, CP p, "cs_fac2", st, body, .out = true}, {m, CP p, "cs_registrar", st, body},                       \
        {m, CP p, "cs_admin", st, body}

/* Admissions: applying and the lookup are public (an empty form is 400,
 * an unknown reference 404, for every caller alike); the rest is the
 * registrar's and the admin's (no application 99: 404; a rejection without
 * its reason: 400). */
static const struct authz_case admissions_cases[] = {
    PUBLIC("POST", "/admissions/applications", 400, NULL),
    PUBLIC("POST", "/admissions/status", 404, "{\"reference\":\"APP-2222222222\",\"email\":\"a@b.co\"}"),
    ROW("GET", "/admissions/applications", 403, 403, 403, 403, 403, 200, 200),
    ROW("GET", "/admissions/applications/99", 403, 403, 403, 403, 403, 404, 404),
    ROW("POST", "/admissions/applications/99/approve", 403, 403, 403, 403, 403, 404, 404),
    ROW("POST", "/admissions/applications/99/reject", 403, 403, 403, 403, 403, 400, 400),
    {0},
};

Test(campus_authz, admissions)
{
    authz_run(admissions_cases);
}

/* Reports: the day's collections for cashiers (and so cashier supervisors)
 * and the registrar; the enrollment report for the registrar; admins both.
 * A bad parameter is 400 only for whoever may call the route. */
static const struct authz_case report_cases[] = {
    ROW("GET", "/reports/collections", 403, 200, 200, 403, 403, 200, 200),
    ROW("GET", "/reports/collections?format=csv", 403, 200, 200, 403, 403, 200, 200),
    ROW("GET", "/reports/collections?date=2026-02-30", 403, 400, 400, 403, 403, 400, 400),
    ROW("GET", "/reports/enrollment", 403, 403, 403, 403, 403, 200, 200),
    ROW("GET", "/reports/enrollment?semester_id=1&format=csv", 403, 403, 403, 403, 403, 200, 200),
    ROW("GET", "/reports/enrollment?semester_id=99", 403, 403, 403, 403, 403, 404, 404),
    {0},
};

Test(campus_authz, reports)
{
    authz_run(report_cases);
}

Test(campus_authz, grades)
{
    authz_run(grade_cases);
}

Test(campus_authz, money)
{
    authz_run(money_cases);
}

Test(campus_authz, enrollment)
{
    authz_run(enrollment_cases);
}

Test(campus_authz, leaves)
{
    authz_run(leave_cases);
}

Test(campus_authz, catalog)
{
    authz_run(catalog_cases);
}

Test(campus_authz, every_route_every_caller)
{
    static const struct authz_case *const all[] = {catalog_cases,    catalog_manage_cases, enrollment_cases,
                                                   money_cases,      grade_cases,          admissions_cases,
                                                   leave_cases,      report_cases,         NULL};
    authz_complete("campus", all);
}
