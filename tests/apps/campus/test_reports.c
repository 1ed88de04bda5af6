/* campus reports over HTTP: the cashiers' daily collections (posted by
 * method and by cashier, the voided apart, the UTC day's bounds, one cashier,
 * today by default) and the enrollment report (rows counted exactly, fill
 * rates rounded half up from integers, the default semester), each as JSON
 * and as CSV byte for byte; bad parameters; who may call what. */
#include "support/fixture.h"
#include <stdlib.h>
#include <string.h>

TestSuite(campus_reports, .init = cs_start, .fini = srv_stop);

#define DAY "2026-03-14"

static void sql(const char *text)
{
    cr_assert_geq(db_exec(test_db(), text), 0, "%s", text);
}

static int64_t enroll(const char *as, int64_t section, const char *want_status)
{
    struct resp *r = api_post(CP "/enrollments", as, NULL, "{\"section_id\":%lld}", (long long)section);
    resp_expect(r, 201, NULL);
    cr_assert_str_eq(jstr(r->json, "status"), want_status, "%s", r->body);
    int64_t id = jint(r->json, "id");
    resp_free(r);
    return id;
}

/* A payment by `as`, then dated `at` (UTC) so that days are the test's own. */
static int64_t pay(const char *as, int64_t student, int64_t cents, const char *method, const char *at)
{
    struct resp *r = api_post(CP "/payments", as, NULL, "{\"student_id\":%lld,\"amount_cents\":%lld,\"method\":\"%s\"}",
                              (long long)student, (long long)cents, method);
    resp_expect(r, 201, NULL);
    int64_t id = jint(r->json, "id");
    resp_free(r);
    if (at)
        cr_assert_eq(db_exec(test_db(), "UPDATE campus_payments SET created_at = $2 WHERE id = $1", DB_I(id), DB_S(at)),
                     1);
    return id;
}

/* stu1 in CS101-A and PE1-A, stu2 in MATH1-A: all assessed. Eight payments:
 * six on DAY (one of them voided), one the second before, one the second
 * after. The cashiers' names need quoting and the guard in CSV. */
static int64_t collections_world(void)
{
    enroll("cs_stu1", 1, "enrolled");
    enroll("cs_stu1", 4, "enrolled");
    enroll("cs_stu2", 3, "enrolled");
    sql("UPDATE users SET display_name = 'Cruz, Ana' WHERE username = 'cs_cashier'");
    sql("UPDATE users SET display_name = '=Lee \"Boss\"' WHERE username = 'cs_super'");
    pay("cs_cashier", 1, 100000, "cash", DAY "T00:00:00Z");        /* the day's first second */
    pay("cs_cashier", 2, 50000, "cash", DAY "T08:15:00Z");
    pay("cs_cashier", 1, 200000, "card", DAY "T09:00:00Z");
    int64_t voided = pay("cs_cashier", 2, 12345, "e_wallet", DAY "T10:00:00Z");
    pay("cs_super", 2, 30000, "cash", DAY "T11:30:00Z");
    pay("cs_super", 1, 400000, "bank_transfer", DAY "T23:59:59Z");  /* its last second */
    pay("cs_super", 1, 7500, "check", "2026-03-13T23:59:59Z");
    pay("cs_cashier", 2, 1000, "cash", "2026-03-15T00:00:00Z");
    resp_check(api_post(pathf(CP "/payments/%lld/void", (long long)voided), "cs_super", NULL,
                        "{\"reason\":\"wrong student\"}"),
               200, NULL);
    return voided;
}

static char *dump(json_t *v)
{
    return json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(15));
}

static void json_is(json_t *v, const char *want)
{
    char *got = dump(v);
    cr_assert_str_eq(got, want);
    free(got);
}

/* {count, amount_cents} of a tally and its list lengths */
static void tally_is(json_t *t, int64_t count, int64_t amount, size_t methods, size_t cashiers)
{
    char *text = dump(t);
    cr_assert_eq(jint(t, "count"), count, "%s", text);
    cr_assert_eq(jint(t, "amount_cents"), amount, "%s", text);
    cr_assert_eq(json_array_size(json_object_get(t, "by_method")), methods, "%s", text);
    cr_assert_eq(json_array_size(json_object_get(t, "by_cashier")), cashiers, "%s", text);
    free(text);
}

Test(campus_reports, collections_of_a_day_in_json)
{
    int64_t voided = collections_world();
    long long a = test_user_id("cs_cashier"), b = test_user_id("cs_super");
    struct resp *r = api_get(CP "/reports/collections?date=" DAY, "cs_cashier");
    resp_expect(r, 200, NULL);
    cr_assert_str_eq(resp_header(r, "Content-Type"), "application/json; charset=utf-8");
    cr_assert_str_eq(jstr(r->json, "date"), DAY);
    cr_assert_str_eq(jstr(r->json, "from"), DAY "T00:00:00Z");
    cr_assert_str_eq(jstr(r->json, "to"), "2026-03-15T00:00:00Z");
    cr_assert(json_is_null(json_object_get(r->json, "cashier_id")));
    cr_assert_str_eq(jstr(r->json, "currency"), "PHP");
    char want[2048];
    snprintf(want, sizeof want,
             "{\"amount_cents\":780000,\"by_cashier\":["
             "{\"amount_cents\":350000,\"by_method\":[{\"amount_cents\":200000,\"count\":1,\"method\":\"card\"},"
             "{\"amount_cents\":150000,\"count\":2,\"method\":\"cash\"}],\"cashier_id\":%lld,\"count\":3,"
             "\"display_name\":\"Cruz, Ana\",\"username\":\"cs_cashier\"},"
             "{\"amount_cents\":430000,\"by_method\":[{\"amount_cents\":400000,\"count\":1,"
             "\"method\":\"bank_transfer\"},"
             "{\"amount_cents\":30000,\"count\":1,\"method\":\"cash\"}],\"cashier_id\":%lld,\"count\":2,"
             "\"display_name\":\"=Lee \\\"Boss\\\"\",\"username\":\"cs_super\"}],"
             "\"by_method\":[{\"amount_cents\":400000,\"count\":1,\"method\":\"bank_transfer\"},"
             "{\"amount_cents\":200000,\"count\":1,\"method\":\"card\"},"
             "{\"amount_cents\":180000,\"count\":3,\"method\":\"cash\"}],\"count\":5}",
             a, b);
    json_is(json_object_get(r->json, "posted"), want);
    /* the voided payment, apart: the same totals and the payment itself */
    json_t *v = json_object_get(r->json, "voided");
    json_t *items = json_object_get(v, "items");
    cr_assert_eq(json_array_size(items), 1, "%s", r->body);
    json_t *item = json_array_get(items, 0);
    cr_assert_eq(jint(item, "id"), voided);
    cr_assert_str_eq(jstr(item, "receipt_number"), test_text_of("SELECT receipt_number FROM campus_payments "
                                                                "WHERE id = $1", voided));
    cr_assert_eq(jint(item, "amount_cents"), 12345);
    cr_assert_str_eq(jstr(item, "method"), "e_wallet");
    cr_assert_eq(jint(item, "cashier_id"), a);
    cr_assert_eq(jint(item, "voided_by"), b);
    cr_assert_str_eq(jstr(item, "void_reason"), "wrong student");
    cr_assert_str_eq(jstr(item, "created_at"), DAY "T10:00:00Z");
    json_object_del(v, "items");
    snprintf(want, sizeof want,
             "{\"amount_cents\":12345,\"by_cashier\":[{\"amount_cents\":12345,\"by_method\":[{\"amount_cents\":12345,"
             "\"count\":1,\"method\":\"e_wallet\"}],\"cashier_id\":%lld,\"count\":1,\"display_name\":\"Cruz, Ana\","
             "\"username\":\"cs_cashier\"}],\"by_method\":[{\"amount_cents\":12345,\"count\":1,"
             "\"method\":\"e_wallet\"}],"
             "\"count\":1}",
             a);
    json_is(v, want);
    resp_free(r);
    /* the posted totals are exactly the day's posted payments */
    cr_assert_eq(test_count("SELECT COALESCE(SUM(amount_cents), 0) FROM campus_payments WHERE status = 'posted' AND "
                            "created_at >= '" DAY "T00:00:00Z' AND created_at < '2026-03-15T00:00:00Z'"),
                 780000);
}

Test(campus_reports, day_bounds_one_cashier_and_a_day_without_payments)
{
    collections_world();
    long long a = test_user_id("cs_cashier"), b = test_user_id("cs_super");
    /* the second before and the second after belong to their own days */
    struct resp *r = api_get(CP "/reports/collections?date=2026-03-13", "cs_registrar");
    resp_expect(r, 200, NULL);
    json_t *posted = json_object_get(r->json, "posted");
    tally_is(posted, 1, 7500, 1, 1);
    cr_assert_str_eq(jstr(json_array_get(json_object_get(posted, "by_method"), 0), "method"), "check");
    tally_is(json_object_get(r->json, "voided"), 0, 0, 0, 0);
    resp_free(r);
    r = api_get(CP "/reports/collections?date=2026-03-15", "cs_super");
    resp_expect(r, 200, NULL);
    tally_is(json_object_get(r->json, "posted"), 1, 1000, 1, 1);
    resp_free(r);
    /* one cashier's */
    r = api_get(pathf(CP "/reports/collections?date=" DAY "&cashier_id=%lld", a), "cs_admin");
    resp_expect(r, 200, NULL);
    cr_assert_eq(jint(r->json, "cashier_id"), a);
    tally_is(json_object_get(r->json, "posted"), 3, 350000, 2, 1);
    tally_is(json_object_get(r->json, "voided"), 1, 12345, 1, 1);
    resp_free(r);
    r = api_get(pathf(CP "/reports/collections?date=" DAY "&cashier_id=%lld", b), "cs_cashier");
    resp_expect(r, 200, NULL);
    tally_is(json_object_get(r->json, "posted"), 2, 430000, 2, 1);
    tally_is(json_object_get(r->json, "voided"), 0, 0, 0, 0);
    resp_free(r);
    /* a day without payments: zeros, empty lists, no currency */
    r = api_get(CP "/reports/collections?date=2026-03-16", "cs_cashier");
    resp_expect(r, 200, NULL);
    tally_is(json_object_get(r->json, "posted"), 0, 0, 0, 0);
    tally_is(json_object_get(r->json, "voided"), 0, 0, 0, 0);
    cr_assert_eq(json_array_size(json_object_get(json_object_get(r->json, "voided"), "items")), 0);
    cr_assert(json_is_null(json_object_get(r->json, "currency")), "%s", r->body);
    resp_free(r);
    r = api_get(CP "/reports/collections?date=2026-03-16&format=csv", "cs_cashier");
    resp_expect(r, 200, NULL);
    cr_assert_str_eq(r->body, "date,status,kind,cashier_id,cashier_username,cashier_name,method,count,amount_cents,"
                              "currency\r\n"
                              "2026-03-16,posted,total,,,,,0,0,\r\n"
                              "2026-03-16,void,total,,,,,0,0,\r\n");
    resp_free(r);
}

Test(campus_reports, collections_as_csv_byte_for_byte)
{
    collections_world();
    long long a = test_user_id("cs_cashier"), b = test_user_id("cs_super");
    char want[4096];
    snprintf(want, sizeof want,
             "date,status,kind,cashier_id,cashier_username,cashier_name,method,count,amount_cents,currency\r\n"
             DAY ",posted,cashier_method,%lld,cs_cashier,\"Cruz, Ana\",card,1,200000,PHP\r\n"
             DAY ",posted,cashier_method,%lld,cs_cashier,\"Cruz, Ana\",cash,2,150000,PHP\r\n"
             DAY ",posted,cashier_total,%lld,cs_cashier,\"Cruz, Ana\",,3,350000,PHP\r\n"
             DAY ",posted,cashier_method,%lld,cs_super,\"'=Lee \"\"Boss\"\"\",bank_transfer,1,400000,PHP\r\n"
             DAY ",posted,cashier_method,%lld,cs_super,\"'=Lee \"\"Boss\"\"\",cash,1,30000,PHP\r\n"
             DAY ",posted,cashier_total,%lld,cs_super,\"'=Lee \"\"Boss\"\"\",,2,430000,PHP\r\n"
             DAY ",posted,method_total,,,,bank_transfer,1,400000,PHP\r\n"
             DAY ",posted,method_total,,,,card,1,200000,PHP\r\n"
             DAY ",posted,method_total,,,,cash,3,180000,PHP\r\n"
             DAY ",posted,total,,,,,5,780000,PHP\r\n"
             DAY ",void,cashier_method,%lld,cs_cashier,\"Cruz, Ana\",e_wallet,1,12345,PHP\r\n"
             DAY ",void,cashier_total,%lld,cs_cashier,\"Cruz, Ana\",,1,12345,PHP\r\n"
             DAY ",void,method_total,,,,e_wallet,1,12345,PHP\r\n"
             DAY ",void,total,,,,,1,12345,PHP\r\n",
             a, a, a, b, b, b, a, a);
    struct resp *r = api_get(CP "/reports/collections?date=" DAY "&format=csv", "cs_cashier");
    resp_expect(r, 200, NULL);
    cr_assert_str_eq(resp_header(r, "Content-Type"), "text/csv; charset=utf-8");
    cr_assert_str_eq(resp_header(r, "Content-Disposition"), "attachment; filename=\"campus-collections-" DAY ".csv\"");
    cr_assert_str_eq(r->body, want);
    cr_assert_eq(r->len, strlen(want));
    resp_free(r);
    /* the same through Accept: text/csv; a cashier's file is named after them */
    char *tok = test_token("cs_registrar");
    const char *accept[] = {"Accept: text/csv", NULL};
    r = api_h("GET", CP "/reports/collections?date=" DAY, tok, NULL, accept);
    resp_expect(r, 200, NULL);
    cr_assert_str_eq(r->body, want);
    resp_free(r);
    r = api_h("GET", pathf(CP "/reports/collections?date=" DAY "&cashier_id=%lld", b), tok, NULL, accept);
    resp_expect(r, 200, NULL);
    char name[128];
    snprintf(name, sizeof name, "attachment; filename=\"campus-collections-" DAY "-cashier-%lld.csv\"", b);
    cr_assert_str_eq(resp_header(r, "Content-Disposition"), name);
    cr_assert(strstr(r->body, ",posted,total,,,,,2,430000,PHP\r\n"), "%s", r->body);
    cr_assert(strstr(r->body, ",void,total,,,,,0,0,PHP\r\n"), "%s", r->body);
    resp_free(r);
    free(tok);
}

Test(campus_reports, collections_default_to_today_utc)
{
    enroll("cs_stu1", 1, "enrolled");
    pay("cs_cashier", 1, 2500, "card", NULL);
    pay("cs_cashier", 1, 99, "cash", "2026-03-14T12:00:00Z");
    struct resp *r = api_get(CP "/reports/collections", "cs_cashier");
    resp_expect(r, 200, NULL);
    cr_assert_str_eq(jstr(r->json, "date"), date_in(0));
    tally_is(json_object_get(r->json, "posted"), 1, 2500, 1, 1);
    resp_free(r);
}

Test(campus_reports, collections_bad_parameters)
{
    static const struct {
        const char *query, *field;
    } bad[] = {
        {"date=2026-02-30", "date"},    {"date=14-03-2026", "date"},       {"date=2026-3-14", "date"},
        {"date=", "date"},              {"date=2026-03-14T00:00:00Z", "date"}, {"cashier_id=abc", "cashier_id"},
        {"cashier_id=0", "cashier_id"}, {"cashier_id=-3", "cashier_id"},   {"format=xml", "format"},
        {"format=CSV", "format"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char path[160];
        snprintf(path, sizeof path, CP "/reports/collections?%s", bad[i].query);
        struct resp *r = api_get(path, "cs_cashier");
        resp_expect(r, 400, "validation_failed");
        cr_assert_str_eq(resp_error_field(r), bad[i].field, "%s: %s", bad[i].query, r->body);
        resp_free(r);
    }
    resp_check(api_get(CP "/reports/collections?day=2026-03-14", "cs_cashier"), 400, "unknown_parameter");
    char *tok = test_token("cs_cashier");
    const char *es[] = {"Accept-Language: es", NULL};
    struct resp *r = api_h("GET", CP "/reports/collections?date=2026-13-01", tok, NULL, es);
    resp_expect(r, 400, "validation_failed");
    cr_assert_str_eq(resp_error_str(r, "message"), "el campo date debe ser una fecha (YYYY-MM-DD)");
    resp_free(r);
    r = api_h("GET", CP "/reports/collections?format=pdf", tok, NULL, es);
    cr_assert_str_eq(resp_error_str(r, "message"), "el campo format debe ser json o csv");
    resp_free(r);
    free(tok);
}

/* ---------------------------------------------------------- enrollment */

/* Semester 1: stu1 in CS101-A and PE1-A; stu2 and stu3 take MATH1-A's two
 * seats and stu4 waits; stu4's PE1-A is dropped. Then MATH1-A grows to 3
 * seats (the waitlist is not promoted by that). */
static void enrollment_world(void)
{
    int64_t uid = test_user("cs_stu4", "campus", "student", NULL, 0);
    char *st = xasprintf("INSERT INTO campus_students (id, user_id, number, program_id, year_level, first_name, "
                         "last_name, email) VALUES (4, %lld, '2026-00004', 1, 1, 'Student', '4', "
                         "'cs_stu4@school.test')",
                         (long long)uid);
    test_fixture_sql("student 4", st);
    free(st);
    enroll("cs_stu1", 1, "enrolled");
    enroll("cs_stu1", 4, "enrolled");
    enroll("cs_stu2", 3, "enrolled");
    enroll("cs_stu3", 3, "enrolled");
    enroll("cs_stu4", 3, "waitlisted");
    int64_t pe = enroll("cs_stu4", 4, "enrolled");
    char *tok = test_token("cs_stu4");
    struct resp *r = api("DELETE", pathf(CP "/enrollments/%lld", pe), tok, NULL);
    resp_check(r, 200, NULL);
    free(tok);
    sql("UPDATE campus_sections SET capacity = 3 WHERE id = 3");
}

static void section_is(json_t *s, int64_t id, const char *code, int64_t capacity, int64_t enrolled, int64_t waitlisted,
                       int64_t seats_left, double fill)
{
    char *text = dump(s);
    cr_assert_eq(jint(s, "section_id"), id, "%s", text);
    cr_assert_str_eq(jstr(s, "section_code"), code, "%s", text);
    cr_assert_eq(jint(s, "capacity"), capacity, "%s", text);
    cr_assert_eq(jint(s, "enrolled"), enrolled, "%s", text);
    cr_assert_eq(jint(s, "waitlisted"), waitlisted, "%s", text);
    cr_assert_eq(jint(s, "seats_left"), seats_left, "%s", text);
    cr_assert(json_is_real(json_object_get(s, "fill_rate_pct")), "%s", text);
    cr_assert_eq(jnum(s, "fill_rate_pct"), fill, "%s", text);
    free(text);
}

Test(campus_reports, enrollment_per_section_in_json)
{
    enrollment_world();
    long long f1 = test_user_id("cs_fac1");
    struct resp *r = api_get(CP "/reports/enrollment", "cs_registrar");
    resp_expect(r, 200, NULL);
    json_t *se = json_object_get(r->json, "semester");
    cr_assert_eq(jint(se, "id"), 1, "the semester open for enrollment: %s", r->body);
    cr_assert_str_eq(jstr(se, "code"), "2026-1");
    cr_assert(json_is_true(json_object_get(se, "enrollment_open")));
    json_t *secs = json_object_get(r->json, "sections");
    cr_assert_eq(json_array_size(secs), 4, "%s", r->body);
    section_is(json_array_get(secs, 0), 1, "CS101-A", 40, 1, 0, 39, 2.5);
    section_is(json_array_get(secs, 1), 2, "CS102-A", 30, 0, 0, 30, 0.0);
    section_is(json_array_get(secs, 2), 3, "MATH1-A", 3, 2, 1, 1, 66.7);     /* 66.67 rounds up */
    section_is(json_array_get(secs, 3), 4, "PE1-A", 25, 1, 0, 24, 4.0);     /* the dropped one does not count */
    json_t *math = json_array_get(secs, 2);
    cr_assert_str_eq(jstr(math, "subject_code"), "MATH1");
    cr_assert_str_eq(jstr(math, "subject_title"), "College Algebra");
    cr_assert_eq(jint(math, "faculty_id"), f1);
    cr_assert_str_eq(jstr(math, "faculty_name"), "cs_fac1");
    cr_assert(json_is_null(json_object_get(json_array_get(secs, 3), "faculty_id")));
    cr_assert(json_is_null(json_object_get(json_array_get(secs, 3), "faculty_name")));
    json_is(json_object_get(r->json, "totals"), "{\"capacity\":98,\"enrolled\":4,\"fill_rate_pct\":4.1,"
                                                "\"seats_left\":94,\"sections\":4,\"waitlisted\":1}");
    cr_assert(strstr(r->body, "\"fill_rate_pct\":66.7}") && strstr(r->body, "\"fill_rate_pct\":0.0}"), "%s", r->body);
    /* exact: the rows counted, which the sections' counters agree with */
    cr_assert_eq(test_count("SELECT COUNT(*) FROM campus_enrollments WHERE semester_id = 1 AND status = 'enrolled'"),
                 4);
    cr_assert_eq(test_count("SELECT SUM(enrolled) FROM campus_sections WHERE semester_id = 1"), 4);
    cr_assert_eq(test_count("SELECT SUM(waitlisted) FROM campus_sections WHERE semester_id = 1"), 1);
    resp_free(r);
    /* the admin asks for the other semester: nothing enrolled */
    r = api_get(CP "/reports/enrollment?semester_id=2", "cs_admin");
    resp_expect(r, 200, NULL);
    cr_assert_eq(jint(json_object_get(r->json, "semester"), "id"), 2);
    cr_assert_eq(json_array_size(json_object_get(r->json, "sections")), 1);
    section_is(json_array_get(json_object_get(r->json, "sections"), 0), 5, "CS101-Z", 40, 0, 0, 40, 0.0);
    json_is(json_object_get(r->json, "totals"), "{\"capacity\":40,\"enrolled\":0,\"fill_rate_pct\":0.0,"
                                                "\"seats_left\":40,\"sections\":1,\"waitlisted\":0}");
    resp_free(r);
}

Test(campus_reports, enrollment_as_csv_byte_for_byte)
{
    enrollment_world();
    long long f1 = test_user_id("cs_fac1"), f2 = test_user_id("cs_fac2");
    char want[2048];
    snprintf(want, sizeof want,
             "kind,section_id,section_code,subject_code,subject_title,faculty_id,faculty_name,capacity,enrolled,"
             "waitlisted,seats_left,fill_rate_pct\r\n"
             "section,1,CS101-A,CS101,Introduction to Computing,%lld,cs_fac1,40,1,0,39,2.5\r\n"
             "section,2,CS102-A,CS102,Programming 1,%lld,cs_fac2,30,0,0,30,0.0\r\n"
             "section,3,MATH1-A,MATH1,College Algebra,%lld,cs_fac1,3,2,1,1,66.7\r\n"
             "section,4,PE1-A,PE1,Physical Fitness,,,25,1,0,24,4.0\r\n"
             "total,,,,,,,98,4,1,94,4.1\r\n",
             f1, f2, f1);
    struct resp *r = api_get(CP "/reports/enrollment?semester_id=1&format=csv", "cs_registrar");
    resp_expect(r, 200, NULL);
    cr_assert_str_eq(resp_header(r, "Content-Type"), "text/csv; charset=utf-8");
    cr_assert_str_eq(resp_header(r, "Content-Disposition"), "attachment; filename=\"campus-enrollment-2026-1.csv\"");
    cr_assert_str_eq(r->body, want);
    cr_assert_eq(r->len, strlen(want));
    resp_free(r);
}

Test(campus_reports, enrollment_default_semester)
{
    char *q;
    /* semester 1's window closes: the latest by start date is still semester 1 */
    q = xasprintf("UPDATE campus_semesters SET enrollment_opens_at = '%s', enrollment_closes_at = '%s' WHERE id = 1",
                  time_in(-3 * 1440), time_in(-2 * 1440));
    sql(q);
    free(q);
    struct resp *r = api_get(CP "/reports/enrollment", "cs_registrar");
    resp_expect(r, 200, NULL);
    cr_assert_eq(jint(json_object_get(r->json, "semester"), "id"), 1, "%s", r->body);
    cr_assert(json_is_false(json_object_get(json_object_get(r->json, "semester"), "enrollment_open")));
    resp_free(r);
    /* semester 2's window opens: an open window wins over a later start */
    q = xasprintf("UPDATE campus_semesters SET enrollment_opens_at = '%s', enrollment_closes_at = '%s' WHERE id = 2",
                  time_in(-1440), time_in(1440));
    sql(q);
    free(q);
    r = api_get(CP "/reports/enrollment", "cs_registrar");
    resp_expect(r, 200, NULL);
    cr_assert_eq(jint(json_object_get(r->json, "semester"), "id"), 2, "%s", r->body);
    resp_free(r);
}

Test(campus_reports, enrollment_bad_parameters)
{
    static const struct {
        const char *query, *field;
    } bad[] = {
        {"semester_id=abc", "semester_id"}, {"semester_id=0", "semester_id"}, {"semester_id=-1", "semester_id"},
        {"semester_id=", "semester_id"},    {"format=pdf", "format"},         {"format=", "format"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char path[160];
        snprintf(path, sizeof path, CP "/reports/enrollment?%s", bad[i].query);
        struct resp *r = api_get(path, "cs_registrar");
        resp_expect(r, 400, "validation_failed");
        cr_assert_str_eq(resp_error_field(r), bad[i].field, "%s: %s", bad[i].query, r->body);
        resp_free(r);
    }
    struct resp *r = api_get(CP "/reports/enrollment?semester_id=99", "cs_registrar");
    resp_expect(r, 404, "not_found");
    cr_assert_str_eq(resp_error_str(r, "message"), "no semester 99");
    resp_free(r);
}

Test(campus_reports, who_may_call_what)
{
    static const struct {
        const char *path, *as;
        int status;
        const char *perm;
    } calls[] = {
        {"/reports/collections", NULL, 401, NULL},
        {"/reports/enrollment", NULL, 401, NULL},
        {"/reports/collections?format=csv", NULL, 401, NULL},
        {"/reports/collections", "cs_nobody", 403, NULL},
        {"/reports/collections", "cs_stu1", 403, "campus.reports.collections"},
        {"/reports/collections?format=csv", "cs_stu1", 403, "campus.reports.collections"},
        {"/reports/enrollment", "cs_stu1", 403, "campus.reports.enrollment"},
        {"/reports/collections", "cs_fac1", 403, "campus.reports.collections"},
        {"/reports/enrollment", "cs_fac1", 403, "campus.reports.enrollment"},
        {"/reports/enrollment", "cs_cashier", 403, "campus.reports.enrollment"},
        {"/reports/enrollment?format=csv", "cs_super", 403, "campus.reports.enrollment"},
        {"/reports/collections", "cs_super", 200, NULL},
        {"/reports/collections", "cs_registrar", 200, NULL},
        {"/reports/enrollment", "cs_admin", 200, NULL},
    };
    for (size_t i = 0; i < sizeof calls / sizeof *calls; i++) {
        char path[160];
        snprintf(path, sizeof path, CP "%s", calls[i].path);
        struct resp *r = api_get(path, calls[i].as);
        const char *who = calls[i].as ? calls[i].as : "anonymous";
        cr_assert_eq(r->status, calls[i].status, "%s as %s: %s", path, who, r->body);
        if (calls[i].perm) cr_assert_str_eq(resp_error_str(r, "permission"), calls[i].perm, "%s", r->body);
        if (r->status >= 400)
            cr_assert_str_eq(resp_header(r, "Content-Type"), "application/json; charset=utf-8", "errors stay JSON");
        resp_free(r);
    }
}

/* A database with no semester at all. */
static void empty_start(void)
{
    srv_start();
    test_user("cs_registrar", "campus", "registrar", NULL, 0);
}

TestSuite(campus_reports_empty, .init = empty_start, .fini = srv_stop);

Test(campus_reports_empty, no_semester_yet)
{
    struct resp *r = api_get(CP "/reports/enrollment", "cs_registrar");
    resp_expect(r, 404, "not_found");
    cr_assert_str_eq(resp_error_str(r, "message"), "there is no semester yet");
    resp_free(r);
    r = api_get(CP "/reports/collections?format=csv&date=2026-01-01", "cs_registrar");
    resp_expect(r, 200, NULL);
    cr_assert_str_eq(r->body, "date,status,kind,cashier_id,cashier_username,cashier_name,method,count,amount_cents,"
                              "currency\r\n2026-01-01,posted,total,,,,,0,0,\r\n2026-01-01,void,total,,,,,0,0,\r\n");
    resp_free(r);
}
