/* The campus catalog over HTTP: programs, semesters (is enrollment open
 * now), subjects with their prerequisite chains and ?q=, sections with
 * meetings and seats and their filters; unknown ids are 404, bad filters
 * 400. Who may read it is in test_authz.c.
 *
 * Then the registrar's side: new semesters with fees and their window moved,
 * new subjects with prerequisites (never a cycle), new sections with their
 * meetings, room and faculty (who gets the section's faculty role at once),
 * the faculty of a section reassigned; every refused body changes nothing. */
#include "support/fixture.h"
#include <stdlib.h>
#include <string.h>

TestSuite(campus_catalog, .init = cs_start, .fini = srv_stop);

static struct resp *get(const char *as, const char *path)
{
    char *tok = test_token(as);
    struct resp *r = api("GET", path, tok, NULL);
    free(tok);
    return r;
}

static json_t *items(struct resp *r)
{
    cr_assert_eq(r->status, 200, "%d %s", r->status, r->body);
    return json_object_get(r->json, "items");
}

Test(campus_catalog, programs_and_semesters)
{
    struct resp *r = get("cs_stu1", CP "/programs");
    json_t *p = json_array_get(items(r), 0);
    cr_assert_str_eq(jstr(p, "code"), "BSCS");
    cr_assert_eq(jint(p, "rate_per_unit_cents"), 150000);
    cr_assert_str_eq(jstr(p, "currency"), "PHP");
    cr_assert_eq(jint(r->json, "total"), 1);
    resp_free(r);

    r = get("cs_cashier", CP "/semesters");
    json_t *s = items(r);
    cr_assert_eq(json_array_size(s), 2);
    cr_assert_str_eq(jstr(json_array_get(s, 0), "code"), "2026-1", "newest first");
    cr_assert(json_is_true(json_object_get(json_array_get(s, 0), "enrollment_open")));
    cr_assert(json_is_false(json_object_get(json_array_get(s, 1), "enrollment_open")));
    cr_assert_eq(jint(json_array_get(s, 0), "months"), 5);
    resp_free(r);

    r = get("cs_fac1", CP "/semesters/2");
    cr_assert_eq(r->status, 200);
    cr_assert_str_eq(jstr(r->json, "starts_on"), "2025-11-03");
    resp_free(r);
    r = get("cs_fac1", CP "/semesters/99");
    cr_assert_eq(r->status, 404);
    cr_assert_str_eq(resp_error_code(r), "not_found");
    resp_free(r);
}

Test(campus_catalog, subjects_carry_their_prerequisites)
{
    struct resp *r = get("cs_stu2", CP "/subjects/3");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(jstr(r->json, "code"), "CS201");
    cr_assert_eq(jint(r->json, "units"), 3);
    json_t *pre = json_object_get(r->json, "prerequisites");
    cr_assert_eq(json_array_size(pre), 1);
    cr_assert_str_eq(jstr(json_array_get(pre, 0), "code"), "CS102");
    cr_assert_float_eq(json_number_value(json_object_get(json_array_get(pre, 0), "min_grade")), 2.5, 1e-9);
    resp_free(r);

    r = get("cs_stu2", CP "/subjects/1");
    cr_assert_eq(json_array_size(json_object_get(r->json, "prerequisites")), 0, "none: an empty list, not null");
    resp_free(r);

    r = get("cs_stu2", CP "/subjects?q=cs1");
    json_t *it = items(r);
    cr_assert_eq(json_array_size(it), 2, "CS101 and CS102, any case: %s", r->body);
    cr_assert_str_eq(jstr(json_array_get(it, 0), "code"), "CS101");
    resp_free(r);
    r = get("cs_stu2", CP "/subjects?q=algebra");
    cr_assert_eq(json_array_size(items(r)), 1, "the title matches too");
    resp_free(r);
    r = get("cs_stu2", CP "/subjects?q=zzz");
    cr_assert_eq(json_array_size(items(r)), 0);
    cr_assert_eq(jint(r->json, "total"), 0);
    resp_free(r);
    r = get("cs_stu2", CP "/subjects/99");
    cr_assert_eq(r->status, 404);
    resp_free(r);
}

Test(campus_catalog, sections_with_meetings_seats_and_filters)
{
    struct resp *r = get("cs_registrar", CP "/sections/1");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(jstr(r->json, "code"), "CS101-A");
    cr_assert_str_eq(jstr(r->json, "subject_code"), "CS101");
    cr_assert_eq(jint(r->json, "units"), 3);
    cr_assert_eq(jint(r->json, "capacity"), 40);
    cr_assert_eq(jint(r->json, "seats_left"), 40);
    cr_assert_eq(jint(r->json, "faculty_id"), test_user_id("cs_fac1"));
    json_t *m = json_object_get(r->json, "meetings");
    cr_assert_eq(json_array_size(m), 2);
    cr_assert_eq(jint(json_array_get(m, 0), "day"), 1);
    cr_assert_str_eq(jstr(json_array_get(m, 0), "starts_at"), "08:00");
    cr_assert_str_eq(jstr(json_array_get(m, 1), "ends_at"), "09:30");
    resp_free(r);

    r = get("cs_registrar", CP "/sections/4");
    cr_assert(json_is_null(json_object_get(r->json, "faculty_id")), "no teacher yet: null");
    resp_free(r);

    r = get("cs_stu1", CP "/sections?semester_id=1");
    cr_assert_eq(json_array_size(items(r)), 4);
    cr_assert_str_eq(jstr(json_array_get(items(r), 0), "code"), "CS101-A", "by code");
    resp_free(r);
    r = get("cs_stu1", CP "/sections?subject_id=1");
    cr_assert_eq(json_array_size(items(r)), 2, "both semesters' CS101");
    cr_assert_str_eq(jstr(json_array_get(items(r), 0), "code"), "CS101-A", "newest semester first");
    resp_free(r);
    char path[96];
    snprintf(path, sizeof path, CP "/sections?semester_id=1&faculty_id=%lld", (long long)test_user_id("cs_fac1"));
    r = get("cs_stu1", path);
    cr_assert_eq(json_array_size(items(r)), 2, "CS101-A and MATH1-A");
    resp_free(r);

    r = get("cs_stu1", CP "/sections?semester_id=abc");
    cr_assert_eq(r->status, 400);
    resp_free(r);
    r = get("cs_stu1", CP "/sections?room=R101");
    cr_assert_eq(r->status, 400, "unknown parameter");
    resp_free(r);
    r = get("cs_stu1", CP "/sections/99");
    cr_assert_eq(r->status, 404);
    resp_free(r);
}

/* ------------------------------------------------------- managing the catalog */

/* The rows every catalog write could touch, as one line to compare. */
static void counts(char out[200])
{
    snprintf(out, 200, "semesters %lld fees %lld subjects %lld prerequisites %lld sections %lld meetings %lld "
                       "roles %lld audit %lld",
             (long long)test_count("SELECT COUNT(*) FROM campus_semesters"),
             (long long)test_count("SELECT COUNT(*) FROM campus_fees"),
             (long long)test_count("SELECT COUNT(*) FROM campus_subjects"),
             (long long)test_count("SELECT COUNT(*) FROM campus_prerequisites"),
             (long long)test_count("SELECT COUNT(*) FROM campus_sections"),
             (long long)test_count("SELECT COUNT(*) FROM campus_meetings"),
             (long long)test_count("SELECT COUNT(*) FROM user_roles"),
             (long long)test_count("SELECT COUNT(*) FROM audit_log"));
}

/* base with the keys of changes set (a null value removes the key); free() it. */
static char *with(const char *base, const char *changes)
{
    json_t *b = json_loads(base, 0, NULL), *c = json_loads(changes, 0, NULL), *v;
    const char *key;
    cr_assert(b && c, "bad test JSON: %s / %s", base, changes);
    json_object_foreach(c, key, v) {
        if (json_is_null(v)) json_object_del(b, key);
        else json_object_set(b, key, v);
    }
    char *text = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    json_decref(c);
    return text;
}

struct bad {
    const char *changes;        /* applied to the route's good body */
    int status;
    const char *code, *field;   /* field: error.details[0].field, or NULL */
};

/* Each body is refused as said, and no row anywhere changes. */
static void refused_all(const char *method, const char *path, const char *base, const struct bad *cases)
{
    char before[200], after[200];
    counts(before);
    for (const struct bad *b = cases; b->changes; b++) {
        char *body = with(base, b->changes);
        struct resp *r = api_as("cs_registrar", method, path, body);
        cr_assert_eq(r->status, b->status, "%s %s: %d %s", path, body, r->status, r->body);
        cr_assert_str_eq(resp_error_code(r), b->code, "%s: %s", body, r->body);
        if (b->field) cr_assert_str_eq(resp_error_field(r), b->field, "%s: %s", body, r->body);
        resp_free(r);
        free(body);
        counts(after);
        cr_assert_str_eq(after, before, "%s changed rows", b->changes);
    }
}

/* The summary of the one audit row of action on target, written by as. */
static json_t *audit_of(const char *action, int64_t target, const char *as)
{
    cr_assert_eq(test_countf("SELECT COUNT(*) FROM audit_log WHERE app = 'campus' AND action = '%s' AND "
                             "target_id = %lld AND user_id = %lld", action, (long long)target,
                             (long long)test_user_id(as)),
                 1, "one %s row for %lld by %s", action, (long long)target, as);
    char *sql = xasprintf("SELECT summary FROM audit_log WHERE action = '%s' AND target_id = %lld", action,
                          (long long)target);
    char *text = test_text(sql);
    json_t *j = json_loads(text, 0, NULL);
    cr_assert(j, "%s", text);
    free(sql);
    free(text);
    return j;
}

#define SEMESTER                                                                                               \
    "{\"code\":\"2027-1\",\"name\":\"First semester 2027\",\"starts_on\":\"2027-06-01\",\"ends_on\":\"2027-10-31\"," \
    "\"enrollment_opens_at\":\"2027-05-01T00:00:00Z\",\"enrollment_closes_at\":\"2027-06-15T12:30:00Z\","          \
    "\"months\":5,\"fees\":[{\"name\":\"Library\",\"amount_cents\":250000},"                                       \
    "{\"name\":\"Laboratory\",\"amount_cents\":500000,\"program_id\":1}]}"

Test(campus_catalog, a_semester_is_created_with_its_fees)
{
    struct resp *r = api_as("cs_registrar", "POST", CP "/semesters", SEMESTER);
    cr_assert_eq(r->status, 201, "%s", r->body);
    int64_t id = jint(r->json, "id");
    cr_assert_str_eq(jstr(r->json, "code"), "2027-1");
    cr_assert_str_eq(jstr(r->json, "enrollment_closes_at"), "2027-06-15T12:30:00Z");
    cr_assert(json_is_false(json_object_get(r->json, "enrollment_open")), "opens next year");
    json_t *fees = json_object_get(r->json, "fees");
    cr_assert_eq(json_array_size(fees), 2, "%s", r->body);
    cr_assert_str_eq(jstr(json_array_get(fees, 0), "name"), "Library");
    cr_assert(json_is_null(json_object_get(json_array_get(fees, 0), "program_id")), "every program");
    cr_assert_eq(jint(json_array_get(fees, 1), "program_id"), 1);
    cr_assert_eq(jint(json_array_get(fees, 1), "amount_cents"), 500000);
    resp_free(r);

    cr_assert_str_eq(test_text_of("SELECT code || ' ' || name || ' ' || starts_on || ' ' || ends_on || ' ' || "
                                  "enrollment_opens_at || ' ' || enrollment_closes_at || ' ' || CAST(months AS TEXT) "
                                  "FROM campus_semesters WHERE id = $1", id),
                     "2027-1 First semester 2027 2027-06-01 2027-10-31 2027-05-01T00:00:00Z 2027-06-15T12:30:00Z 5");
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM campus_fees WHERE semester_id = $1", id), 2);
    cr_assert_eq(test_scalar("SELECT SUM(amount_cents) FROM campus_fees WHERE semester_id = $1 AND "
                             "program_id IS NULL AND name = 'Library'", id), 250000);
    cr_assert_eq(test_scalar("SELECT amount_cents FROM campus_fees WHERE semester_id = $1 AND program_id = 1 AND "
                             "name = 'Laboratory'", id), 500000);
    json_t *a = audit_of("campus.semester.created", id, "cs_registrar");
    cr_assert_str_eq(jstr(a, "semester"), "2027-1");
    cr_assert_eq(jint(a, "months"), 5);
    cr_assert_eq(json_array_size(json_object_get(a, "fees")), 2);
    json_decref(a);

    r = api_callf("GET", "cs_stu1", NULL, CP "/semesters/%lld", (long long)id);
    cr_assert_eq(json_array_size(json_object_get(r->json, "fees")), 2, "a semester's answer lists its fees");
    resp_free(r);
    r = api_as("cs_admin", "POST", CP "/semesters", "{\"code\":\"2027-2\",\"name\":\"Second\",\"starts_on\":"
               "\"2027-11-02\",\"ends_on\":\"2028-03-31\",\"enrollment_opens_at\":\"2027-10-01T00:00:00Z\","
               "\"enrollment_closes_at\":\"2027-11-10T00:00:00Z\",\"months\":1}");
    cr_assert_eq(r->status, 201, "fees are optional, and admins manage the catalog too: %s", r->body);
    cr_assert_eq(json_array_size(json_object_get(r->json, "fees")), 0);
    resp_free(r);
}

Test(campus_catalog, a_refused_semester_changes_nothing)
{
    static const struct bad cases[] = {
        {"{\"code\":\"2026-1\"}", 409, "duplicate_code", NULL},
        {"{\"code\":\"20 27\"}", 400, "validation_failed", "code"},
        {"{\"code\":\"\"}", 400, "validation_failed", "code"},
        {"{\"name\":\"  \"}", 400, "validation_failed", "name"},
        {"{\"name\":null}", 400, "validation_failed", "name"},
        {"{\"starts_on\":\"2027-02-30\"}", 400, "validation_failed", "starts_on"},
        {"{\"ends_on\":\"2027/10/31\"}", 400, "validation_failed", "ends_on"},
        {"{\"ends_on\":\"2027-06-01\"}", 400, "validation_failed", "ends_on"},
        {"{\"ends_on\":\"2027-05-31\"}", 400, "validation_failed", "ends_on"},
        {"{\"enrollment_opens_at\":\"2027-05-01T00:00:00+08:00\"}", 400, "validation_failed", "enrollment_opens_at"},
        {"{\"enrollment_opens_at\":\"2027-05-01 00:00:00Z\"}", 400, "validation_failed", "enrollment_opens_at"},
        {"{\"enrollment_opens_at\":\"2027-05-01T00:00:00.000Z\"}", 400, "validation_failed", "enrollment_opens_at"},
        {"{\"enrollment_opens_at\":\"2027-05-01T00:00Z\"}", 400, "validation_failed", "enrollment_opens_at"},
        {"{\"enrollment_opens_at\":\"2027-02-29T00:00:00Z\"}", 400, "validation_failed", "enrollment_opens_at"},
        {"{\"enrollment_closes_at\":\"2027-06-15T24:00:00Z\"}", 400, "validation_failed", "enrollment_closes_at"},
        {"{\"enrollment_closes_at\":\"2027-06-15T12:00:60Z\"}", 400, "validation_failed", "enrollment_closes_at"},
        {"{\"enrollment_closes_at\":\"2027-05-01T00:00:00Z\"}", 400, "validation_failed", "enrollment_closes_at"},
        {"{\"enrollment_closes_at\":\"2027-04-30T23:59:59Z\"}", 400, "validation_failed", "enrollment_closes_at"},
        {"{\"months\":0}", 400, "validation_failed", "months"},
        {"{\"months\":13}", 400, "validation_failed", "months"},
        {"{\"months\":null}", 400, "validation_failed", "months"},
        {"{\"fees\":{}}", 400, "validation_failed", "fees"},
        {"{\"fees\":[{\"name\":\"Lab\",\"amount_cents\":-1}]}", 400, "validation_failed", "fees[0].amount_cents"},
        {"{\"fees\":[{\"name\":\"Lab\",\"amount_cents\":100000000001}]}", 400, "validation_failed",
         "fees[0].amount_cents"},
        {"{\"fees\":[{\"name\":\"Lab\",\"amount_cents\":1.5}]}", 400, "validation_failed", "fees[0].amount_cents"},
        {"{\"fees\":[{\"name\":\"Lab\",\"amount_cents\":1},{\"amount_cents\":1}]}", 400, "validation_failed",
         "fees[1].name"},
        {"{\"fees\":[{\"name\":\"Lab\",\"amount_cents\":1,\"program_id\":0}]}", 400, "validation_failed",
         "fees[0].program_id"},
        {"{\"fees\":[{\"name\":\"Lab\",\"amount_cents\":1,\"program_id\":1},{\"name\":\"X\",\"amount_cents\":1,"
         "\"program_id\":99}]}", 400, "validation_failed", "fees[1].program_id"},
        {"{\"fees\":[{\"name\":\"Lab\",\"amount_cents\":1,\"per\":\"unit\"}]}", 400, "validation_failed", "fees[0]"},
        {"{\"fees\":[7]}", 400, "validation_failed", "fees[0]"},
        {"{\"currency\":\"PHP\"}", 400, "validation_failed", "currency"},
        {0},
    };
    refused_all("POST", CP "/semesters", SEMESTER, cases);
    /* the largest fee and the widest month count are fine */
    char *body = with(SEMESTER, "{\"months\":12,\"fees\":[{\"name\":\"Lab\",\"amount_cents\":100000000000,"
                                "\"program_id\":null},{\"name\":\"Free\",\"amount_cents\":0}]}");
    resp_check(api_as("cs_registrar", "POST", CP "/semesters", body), 201, NULL);
    free(body);
}

Test(campus_catalog, the_enrollment_window_moves_and_extends)
{
    /* semester 2 closed last year: the registrar opens a late window */
    struct resp *r = api_as("cs_registrar", "PATCH", CP "/semesters/2",
                            "{\"enrollment_opens_at\":\"2025-10-01T00:00:00Z\","
                            "\"enrollment_closes_at\":\"2099-01-01T00:00:00Z\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert(json_is_true(json_object_get(r->json, "enrollment_open")), "%s", r->body);
    cr_assert_str_eq(jstr(r->json, "name"), "Second semester 2025", "unchanged");
    resp_free(r);
    cr_assert_str_eq(test_text_of("SELECT enrollment_opens_at || ' ' || enrollment_closes_at || ' ' || name FROM "
                                  "campus_semesters WHERE id = $1", 2),
                     "2025-10-01T00:00:00Z 2099-01-01T00:00:00Z Second semester 2025");
    json_t *a = audit_of("campus.semester.updated", 2, "cs_registrar");
    cr_assert_str_eq(jstr(a, "enrollment_closes_at_was"), "2025-10-31T00:00:00Z", "the old value");
    cr_assert_str_eq(jstr(a, "enrollment_opens_at_was"), "2025-10-01T00:00:00Z");
    cr_assert_str_eq(jstr(a, "name_was"), "Second semester 2025");
    cr_assert_str_eq(jstr(a, "enrollment_closes_at"), "2099-01-01T00:00:00Z");
    cr_assert(json_is_null(json_object_get(a, "name")), "not given");
    json_decref(a);
    /* and a student enrolls in its section at once */
    r = api_as("cs_stu1", "POST", CP "/enrollments", "{\"section_id\":5}");
    cr_assert_eq(r->status, 201, "%s", r->body);
    resp_free(r);

    r = api_as("cs_registrar", "PATCH", CP "/semesters/2", "{\"name\":\"2nd semester 2025\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(jstr(r->json, "name"), "2nd semester 2025");
    cr_assert_str_eq(jstr(r->json, "enrollment_closes_at"), "2099-01-01T00:00:00Z", "the window stays");
    resp_free(r);

    static const struct bad cases[] = {
        {"{\"enrollment_opens_at\":\"2099-01-01T00:00:00Z\"}", 400, "validation_failed", "enrollment_opens_at"},
        {"{\"enrollment_closes_at\":\"2025-09-30T00:00:00Z\"}", 400, "validation_failed", "enrollment_closes_at"},
        {"{\"enrollment_opens_at\":\"2030-01-01T00:00:00Z\",\"enrollment_closes_at\":\"2029-01-01T00:00:00Z\"}", 400,
         "validation_failed", "enrollment_closes_at"},
        {"{\"enrollment_closes_at\":\"2099-01-01\"}", 400, "validation_failed", "enrollment_closes_at"},
        {"{\"name\":\"\"}", 400, "validation_failed", "name"},
        {"{\"starts_on\":\"2025-11-04\"}", 400, "validation_failed", "starts_on"},
        {"{\"months\":4}", 400, "validation_failed", "months"},
        {0},
    };
    refused_all("PATCH", CP "/semesters/2", "{}", cases);
    resp_check(api_as("cs_registrar", "PATCH", CP "/semesters/2", "{}"), 400, "validation_failed");
    resp_check(api_as("cs_registrar", "PATCH", CP "/semesters/99", "{\"name\":\"x\"}"), 404, "not_found");
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'campus.semester.updated'"), 2);
}

#define SUBJECT                                                                                                \
    "{\"code\":\"CS301\",\"title\":\"Algorithms\",\"units\":3,\"prerequisites\":[{\"subject_id\":3,"         \
    "\"min_grade\":2.5},{\"subject_id\":4,\"min_grade\":3}]}"

Test(campus_catalog, a_subject_is_created_with_its_prerequisites)
{
    struct resp *r = api_as("cs_registrar", "POST", CP "/subjects", SUBJECT);
    cr_assert_eq(r->status, 201, "%s", r->body);
    int64_t id = jint(r->json, "id");
    cr_assert_str_eq(jstr(r->json, "code"), "CS301");
    cr_assert_eq(jint(r->json, "units"), 3);
    json_t *pre = json_object_get(r->json, "prerequisites");
    cr_assert_eq(json_array_size(pre), 2);
    cr_assert_str_eq(jstr(json_array_get(pre, 0), "code"), "CS201");
    cr_assert_float_eq(jnum(json_array_get(pre, 0), "min_grade"), 2.5, 1e-9);
    cr_assert_str_eq(jstr(json_array_get(pre, 1), "code"), "MATH1");
    cr_assert_float_eq(jnum(json_array_get(pre, 1), "min_grade"), 3.0, 1e-9);
    resp_free(r);

    cr_assert_str_eq(test_text_of("SELECT code || ' ' || title || ' ' || CAST(units AS TEXT) FROM campus_subjects "
                                  "WHERE id = $1", id), "CS301 Algorithms 3");
    cr_assert_eq(test_scalar("SELECT min_grade FROM campus_prerequisites WHERE subject_id = $1 AND requires_id = 3",
                             id), 250, "hundredths");
    cr_assert_eq(test_scalar("SELECT min_grade FROM campus_prerequisites WHERE subject_id = $1 AND requires_id = 4",
                             id), 300);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM campus_prerequisites WHERE subject_id = $1", id), 2);
    json_t *a = audit_of("campus.subject.created", id, "cs_registrar");
    cr_assert_str_eq(jstr(a, "subject"), "CS301");
    cr_assert_eq(json_array_size(json_object_get(a, "prerequisites")), 2);
    cr_assert_eq(jint(json_array_get(json_object_get(a, "prerequisites"), 0), "subject_id"), 3);
    json_decref(a);

    r = api_as("cs_registrar", "POST", CP "/subjects", "{\"code\":\"PE2\",\"title\":\"Team Sports\",\"units\":2}");
    cr_assert_eq(r->status, 201, "%s", r->body);
    cr_assert_eq(json_array_size(json_object_get(r->json, "prerequisites")), 0, "none: []");
    resp_free(r);
}

Test(campus_catalog, a_refused_subject_changes_nothing)
{
    static const struct bad cases[] = {
        {"{\"code\":\"CS101\"}", 409, "duplicate_code", NULL},
        {"{\"code\":\"cs101\"}", 409, "duplicate_code", NULL},
        {"{\"code\":\"CS 301\"}", 400, "validation_failed", "code"},
        {"{\"code\":\"ABCDEFGHIJKLMNOPQRSTU\"}", 400, "validation_failed", "code"},
        {"{\"title\":null}", 400, "validation_failed", "title"},
        {"{\"units\":0}", 400, "validation_failed", "units"},
        {"{\"units\":11}", 400, "validation_failed", "units"},
        {"{\"units\":2.5}", 400, "validation_failed", "body"},     /* jansson names no field for a type */
        {"{\"prerequisites\":[{\"subject_id\":3,\"min_grade\":3.3}]}", 400, "validation_failed",
         "prerequisites[0].min_grade"},
        {"{\"prerequisites\":[{\"subject_id\":3,\"min_grade\":0.75}]}", 400, "validation_failed",
         "prerequisites[0].min_grade"},
        {"{\"prerequisites\":[{\"subject_id\":3,\"min_grade\":5.25}]}", 400, "validation_failed",
         "prerequisites[0].min_grade"},
        {"{\"prerequisites\":[{\"subject_id\":3,\"min_grade\":\"3.0\"}]}", 400, "validation_failed",
         "prerequisites[0].min_grade"},
        {"{\"prerequisites\":[{\"subject_id\":3}]}", 400, "validation_failed", "prerequisites[0].min_grade"},
        {"{\"prerequisites\":[{\"subject_id\":0,\"min_grade\":3}]}", 400, "validation_failed",
         "prerequisites[0].subject_id"},
        {"{\"prerequisites\":[{\"subject_id\":99,\"min_grade\":3}]}", 400, "validation_failed",
         "prerequisites[0].subject_id"},
        {"{\"prerequisites\":[{\"subject_id\":3,\"min_grade\":3},{\"subject_id\":3,\"min_grade\":2}]}", 400,
         "validation_failed", "prerequisites[1].subject_id"},
        {"{\"prerequisites\":[{\"subject_id\":3,\"min_grade\":3,\"note\":1}]}", 400, "validation_failed",
         "prerequisites[0]"},
        {"{\"prerequisites\":3}", 400, "validation_failed", "prerequisites"},
        {0},
    };
    refused_all("POST", CP "/subjects", SUBJECT, cases);
    /* the ends of the scale are fine */
    resp_check(api_as("cs_registrar", "POST", CP "/subjects", "{\"code\":\"X1\",\"title\":\"X\",\"units\":10,"
                      "\"prerequisites\":[{\"subject_id\":1,\"min_grade\":1},{\"subject_id\":2,\"min_grade\":5.0},"
                      "{\"subject_id\":3,\"min_grade\":4.75}]}"),
               201, NULL);
}

Test(campus_catalog, prerequisites_are_replaced_but_never_in_a_cycle)
{
    char before[200], after[200];
    counts(before);
    /* CS102 requires CS101, CS201 requires CS102: CS101 requiring CS201 closes the loop */
    struct resp *r = api_as("cs_registrar", "PUT", CP "/subjects/1/prerequisites",
                            "{\"prerequisites\":[{\"subject_id\":5,\"min_grade\":3},"
                            "{\"subject_id\":3,\"min_grade\":3}]}");
    cr_assert_eq(r->status, 409, "%s", r->body);
    cr_assert_str_eq(resp_error_code(r), "prerequisite_cycle");
    json_t *d = json_object_get(json_object_get(r->json, "error"), "details");
    cr_assert_eq(jint(d, "subject_id"), 3);
    char *chain = json_dumps(json_object_get(d, "chain"), JSON_COMPACT);
    cr_assert_str_eq(chain, "[\"CS101\",\"CS201\",\"CS102\",\"CS101\"]");
    free(chain);
    cr_assert(strstr(resp_error_str(r, "message"), "CS101 > CS201 > CS102 > CS101"), "%s", r->body);
    resp_free(r);
    r = api_as("cs_registrar", "PUT", CP "/subjects/1/prerequisites",
               "{\"prerequisites\":[{\"subject_id\":2,\"min_grade\":3}]}");
    cr_assert_eq(r->status, 409, "%s", r->body);
    cr_assert(strstr(resp_error_str(r, "message"), "CS101 > CS102 > CS101"), "%s", r->body);
    resp_free(r);
    r = api_as("cs_registrar", "PUT", CP "/subjects/1/prerequisites",
               "{\"prerequisites\":[{\"subject_id\":1,\"min_grade\":3}]}");
    resp_expect(r, 400, "validation_failed");
    cr_assert_str_eq(resp_error_field(r), "prerequisites[0].subject_id", "itself");
    resp_free(r);
    resp_check(api_as("cs_registrar", "PUT", CP "/subjects/1/prerequisites", "{}"), 400, "validation_failed");
    resp_check(api_as("cs_registrar", "PUT", CP "/subjects/99/prerequisites", "{\"prerequisites\":[]}"), 404,
               "not_found");
    counts(after);
    cr_assert_str_eq(after, before);

    /* CS201 now requires CS101 at 2.0 and MATH1 at 3.0 instead of CS102 */
    r = api_as("cs_registrar", "PUT", CP "/subjects/3/prerequisites",
               "{\"prerequisites\":[{\"subject_id\":1,\"min_grade\":2.0},{\"subject_id\":4,\"min_grade\":3}]}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_eq(json_array_size(json_object_get(r->json, "prerequisites")), 2);
    resp_free(r);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM campus_prerequisites WHERE subject_id = $1", 3), 2);
    cr_assert_eq(test_scalar("SELECT min_grade FROM campus_prerequisites WHERE subject_id = 3 AND requires_id = $1", 1),
                 200);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM campus_prerequisites WHERE subject_id = 3 AND requires_id = $1", 2),
                 0, "CS102 no longer");
    json_t *a = audit_of("campus.subject.updated", 3, "cs_registrar");
    cr_assert_eq(jint(json_array_get(json_object_get(a, "prerequisites_was"), 0), "subject_id"), 2, "CS102");
    cr_assert_float_eq(jnum(json_array_get(json_object_get(a, "prerequisites_was"), 0), "min_grade"), 2.5, 1e-9);
    cr_assert_eq(json_array_size(json_object_get(a, "prerequisites")), 2);
    json_decref(a);
    /* CS201 requires CS101 directly now: still no way back */
    resp_check(api_as("cs_registrar", "PUT", CP "/subjects/1/prerequisites",
                      "{\"prerequisites\":[{\"subject_id\":3,\"min_grade\":3}]}"),
               409, "prerequisite_cycle");
    /* but CS102 (which nothing requires now but itself requires CS101) may require CS201 */
    resp_check(api_as("cs_registrar", "PUT", CP "/subjects/2/prerequisites",
                      "{\"prerequisites\":[{\"subject_id\":1,\"min_grade\":3},{\"subject_id\":3,\"min_grade\":3}]}"),
               200, NULL);
    r = api_as("cs_registrar", "PUT", CP "/subjects/3/prerequisites", "{\"prerequisites\":[]}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_eq(json_array_size(json_object_get(r->json, "prerequisites")), 0);
    resp_free(r);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM campus_prerequisites WHERE subject_id = $1", 3), 0);
}

#define SECTION                                                                                                \
    "{\"semester_id\":1,\"subject_id\":5,\"code\":\"PE1-B\",\"capacity\":2,\"room\":\"Gym\","                 \
    "\"meetings\":[{\"day\":2,\"starts_at\":\"13:00\",\"ends_at\":\"15:00\"},"                                 \
    "{\"day\":4,\"starts_at\":\"13:00\",\"ends_at\":\"14:00\"}]}"

Test(campus_catalog, a_section_is_created_and_its_faculty_teaches_at_once)
{
    int64_t fac = test_user("cs_newfac", NULL, NULL, NULL, 0);
    char body[600];
    snprintf(body, sizeof body, "%.*s,\"faculty_id\":%lld}", (int)strlen(SECTION) - 1, SECTION, (long long)fac);
    struct resp *r = api_as("cs_registrar", "POST", CP "/sections", body);
    cr_assert_eq(r->status, 201, "%s", r->body);
    int64_t id = jint(r->json, "id");
    cr_assert_str_eq(jstr(r->json, "code"), "PE1-B");
    cr_assert_str_eq(jstr(r->json, "subject_code"), "PE1");
    cr_assert_str_eq(jstr(r->json, "semester_code"), "2026-1");
    cr_assert_eq(jint(r->json, "faculty_id"), fac);
    cr_assert_eq(jint(r->json, "capacity"), 2);
    cr_assert_eq(jint(r->json, "seats_left"), 2);
    json_t *m = json_object_get(r->json, "meetings");
    cr_assert_eq(json_array_size(m), 2);
    cr_assert_eq(jint(json_array_get(m, 1), "day"), 4);
    cr_assert_str_eq(jstr(json_array_get(m, 1), "ends_at"), "14:00");
    resp_free(r);

    cr_assert_str_eq(test_text_of("SELECT CAST(semester_id AS TEXT) || ' ' || CAST(subject_id AS TEXT) || ' ' || code "
                                  "|| ' ' || room || ' ' || CAST(capacity AS TEXT) || ' ' || CAST(enrolled AS TEXT) "
                                  "FROM campus_sections WHERE id = $1", id),
                     "1 5 PE1-B Gym 2 0");
    cr_assert_eq(test_scalar("SELECT faculty_id FROM campus_sections WHERE id = $1", id), fac);
    cr_assert_str_eq(test_text_of("SELECT CAST(day AS TEXT) || ' ' || starts_at || '-' || ends_at FROM "
                                  "campus_meetings WHERE section_id = $1 AND day = 2", id), "2 13:00-15:00");
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM campus_meetings WHERE section_id = $1", id), 2);
    test_expect_role("campus", "cs_newfac", "faculty", "section", id);
    json_t *a = audit_of("campus.section.created", id, "cs_registrar");
    cr_assert_str_eq(jstr(a, "section"), "PE1-B");
    cr_assert_eq(jint(a, "faculty_id"), fac);
    cr_assert_eq(json_array_size(json_object_get(a, "meetings")), 2);
    json_decref(a);
    cr_assert_eq(test_countf("SELECT COUNT(*) FROM audit_log WHERE action = 'core.user.role_granted' AND "
                             "target_id = %lld", (long long)fac), 1, "the grant is audited by the core");

    /* the teacher reads the roster at once; a student enrolls in the new section */
    r = api_callf("GET", "cs_newfac", NULL, CP "/sections/%lld/roster", (long long)id);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_eq(json_array_size(json_object_get(r->json, "items")), 0);
    resp_free(r);
    resp_check(api_as("cs_newfac", "GET", CP "/sections/1/roster", NULL), 403, "forbidden");
    snprintf(body, sizeof body, "{\"section_id\":%lld}", (long long)id);
    r = api_as("cs_stu1", "POST", CP "/enrollments", body);
    cr_assert_eq(r->status, 201, "%s", r->body);
    cr_assert_str_eq(jstr(r->json, "status"), "enrolled");
    cr_assert_eq(jint(r->json, "units"), 2);
    resp_free(r);
    r = api_callf("GET", "cs_newfac", NULL, CP "/sections/%lld/roster", (long long)id);
    cr_assert_eq(json_array_size(json_object_get(r->json, "items")), 1, "%s", r->body);
    cr_assert_eq(jint(json_array_get(json_object_get(r->json, "items"), 0), "student_id"), 1);
    resp_free(r);
    cr_assert_eq(test_scalar("SELECT enrolled FROM campus_sections WHERE id = $1", id), 1);

    /* without faculty or room: no role, room '' */
    r = api_as("cs_registrar", "POST", CP "/sections", "{\"semester_id\":2,\"subject_id\":1,\"code\":\"CS101-A\","
               "\"capacity\":10000,\"meetings\":[{\"day\":7,\"starts_at\":\"00:00\",\"ends_at\":\"23:59\"}]}");
    cr_assert_eq(r->status, 201, "CS101-A is taken in semester 1 only: %s", r->body);
    cr_assert(json_is_null(json_object_get(r->json, "faculty_id")));
    cr_assert_str_eq(jstr(r->json, "room"), "");
    resp_free(r);
}

Test(campus_catalog, a_refused_section_changes_nothing)
{
    int64_t off = test_user("cs_gone", NULL, NULL, NULL, 0);
    char *sql = xasprintf("UPDATE users SET status = 'disabled' WHERE id = %lld", (long long)off);
    test_fixture_sql("disabled user", sql);
    free(sql);
    char disabled[64];
    snprintf(disabled, sizeof disabled, "{\"faculty_id\":%lld}", (long long)off);
    const struct bad cases[] = {
        {"{\"code\":\"CS101-A\"}", 409, "duplicate_code", NULL},
        {"{\"code\":\"cs101-a\"}", 409, "duplicate_code", NULL},
        {"{\"code\":\"PE1 B\"}", 400, "validation_failed", "code"},
        {"{\"semester_id\":99}", 400, "validation_failed", "semester_id"},
        {"{\"subject_id\":99}", 400, "validation_failed", "subject_id"},
        {"{\"faculty_id\":99999}", 400, "validation_failed", "faculty_id"},
        {disabled, 400, "validation_failed", "faculty_id"},
        {"{\"capacity\":0}", 400, "validation_failed", "capacity"},
        {"{\"capacity\":10001}", 400, "validation_failed", "capacity"},
        {"{\"room\":\" \"}", 400, "validation_failed", "room"},
        {"{\"meetings\":[]}", 400, "validation_failed", "meetings"},
        {"{\"meetings\":null}", 400, "validation_failed", "meetings"},
        {"{\"meetings\":[{\"day\":0,\"starts_at\":\"13:00\",\"ends_at\":\"15:00\"}]}", 400, "validation_failed",
         "meetings[0].day"},
        {"{\"meetings\":[{\"day\":8,\"starts_at\":\"13:00\",\"ends_at\":\"15:00\"}]}", 400, "validation_failed",
         "meetings[0].day"},
        {"{\"meetings\":[{\"day\":1,\"starts_at\":\"8:00\",\"ends_at\":\"15:00\"}]}", 400, "validation_failed",
         "meetings[0].starts_at"},
        {"{\"meetings\":[{\"day\":1,\"starts_at\":\"13:00\",\"ends_at\":\"24:00\"}]}", 400, "validation_failed",
         "meetings[0].ends_at"},
        {"{\"meetings\":[{\"day\":1,\"starts_at\":\"13:60\",\"ends_at\":\"15:00\"}]}", 400, "validation_failed",
         "meetings[0].starts_at"},
        {"{\"meetings\":[{\"day\":1,\"starts_at\":\"13:00\",\"ends_at\":\"13:00\"}]}", 400, "validation_failed",
         "meetings[0].ends_at"},
        {"{\"meetings\":[{\"day\":1,\"starts_at\":\"13:00\",\"ends_at\":\"15:00\",\"room\":\"A\"}]}", 400,
         "validation_failed", "meetings[0]"},
        /* two meetings of the section overlapping on a day */
        {"{\"meetings\":[{\"day\":2,\"starts_at\":\"13:00\",\"ends_at\":\"15:00\"},{\"day\":3,\"starts_at\":"
         "\"13:00\",\"ends_at\":\"15:00\"},{\"day\":2,\"starts_at\":\"14:59\",\"ends_at\":\"16:00\"}]}",
         400, "validation_failed", "meetings[2]"},
        {"{\"meetings\":[{\"day\":2,\"starts_at\":\"13:00\",\"ends_at\":\"15:00\"},{\"day\":2,\"starts_at\":"
         "\"12:00\",\"ends_at\":\"16:00\"}]}", 400, "validation_failed", "meetings[1]"},
        {"{\"enrolled\":3}", 400, "validation_failed", "enrolled"},
        {0},
    };
    refused_all("POST", CP "/sections", SECTION, cases);
    struct resp *r = api_as("cs_registrar", "POST", CP "/sections", "{\"semester_id\":1,\"subject_id\":5,\"code\":"
                            "\"PE1-C\",\"capacity\":5,\"meetings\":[{\"day\":2,\"starts_at\":\"13:00\",\"ends_at\":"
                            "\"15:00\"},{\"day\":2,\"starts_at\":\"15:00\",\"ends_at\":\"16:00\"}]}");
    cr_assert_eq(r->status, 201, "back to back is fine: %s", r->body);
    resp_free(r);
}

Test(campus_catalog, a_room_is_not_double_booked)
{
    char before[200], after[200];
    counts(before);
    /* CS101-A holds R101 on Monday and Wednesday, 08:00-09:30 */
    struct resp *r = api_as("cs_registrar", "POST", CP "/sections", "{\"semester_id\":1,\"subject_id\":5,\"code\":"
                            "\"PE1-B\",\"capacity\":5,\"room\":\"r101\",\"meetings\":[{\"day\":5,\"starts_at\":"
                            "\"08:00\",\"ends_at\":\"09:00\"},{\"day\":3,\"starts_at\":\"09:00\",\"ends_at\":"
                            "\"10:00\"}]}");
    cr_assert_eq(r->status, 409, "%s", r->body);
    cr_assert_str_eq(resp_error_code(r), "room_conflict");
    json_t *d = json_object_get(json_object_get(r->json, "error"), "details");
    cr_assert_str_eq(jstr(d, "section_code"), "CS101-A", "%s", r->body);
    cr_assert_eq(jint(d, "section_id"), 1);
    cr_assert_eq(jint(d, "day"), 3);
    cr_assert_str_eq(jstr(d, "starts_at"), "08:00");
    cr_assert(strstr(resp_error_str(r, "message"), "CS101-A"), "%s", r->body);
    resp_free(r);
    /* MATH1-A (Mon/Wed 09:00-10:30) moving into R101 would clash too */
    r = api_as("cs_registrar", "PATCH", CP "/sections/3", "{\"room\":\"R101\",\"capacity\":3}");
    cr_assert_eq(r->status, 409, "%s", r->body);
    cr_assert_str_eq(resp_error_code(r), "room_conflict");
    resp_free(r);
    counts(after);
    cr_assert_str_eq(after, before);
    cr_assert_str_eq(test_text_of("SELECT room FROM campus_sections WHERE id = $1", 3), "R201");
    cr_assert_eq(test_scalar("SELECT capacity FROM campus_sections WHERE id = $1", 3), 2);

    /* back to back in R101, or R101 in another semester's time, is fine */
    resp_check(api_as("cs_registrar", "POST", CP "/sections", "{\"semester_id\":1,\"subject_id\":5,\"code\":"
                      "\"PE1-B\",\"capacity\":5,\"room\":\"R101\",\"meetings\":[{\"day\":1,\"starts_at\":\"09:30\","
                      "\"ends_at\":\"11:00\"}]}"),
               201, NULL);
    resp_check(api_as("cs_registrar", "PATCH", CP "/sections/2", "{\"room\":\"R101\"}"), 200, NULL);
}

Test(campus_catalog, a_section_gets_a_new_faculty)
{
    int64_t fac = test_user("cs_newfac", NULL, NULL, NULL, 0);
    char body[64];
    snprintf(body, sizeof body, "{\"faculty_id\":%lld}", (long long)fac);
    resp_check(api_as("cs_newfac", "GET", CP "/sections/4/roster", NULL), 403, NULL);
    struct resp *r = api_as("cs_registrar", "PATCH", CP "/sections/4", body);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_eq(jint(r->json, "faculty_id"), fac);
    cr_assert_eq(jint(r->json, "capacity"), 25, "unchanged");
    cr_assert_str_eq(jstr(r->json, "room"), "Gym", "unchanged");
    resp_free(r);
    test_expect_role("campus", "cs_newfac", "faculty", "section", 4);
    resp_check(api_as("cs_newfac", "GET", CP "/sections/4/roster", NULL), 200, NULL);
    json_t *a = audit_of("campus.section.updated", 4, "cs_registrar");
    cr_assert(json_is_null(json_object_get(a, "faculty_id_was")));
    cr_assert_eq(jint(a, "faculty_id"), fac);
    cr_assert_eq(jint(a, "capacity_was"), 25);
    json_decref(a);

    /* to cs_fac2: they teach it now; the old grant stays (the core takes no role back) */
    snprintf(body, sizeof body, "{\"faculty_id\":%lld}", (long long)test_user_id("cs_fac2"));
    resp_check(api_as("cs_registrar", "PATCH", CP "/sections/4", body), 200, NULL);
    cr_assert_eq(test_scalar("SELECT faculty_id FROM campus_sections WHERE id = $1", 4), test_user_id("cs_fac2"));
    resp_check(api_as("cs_fac2", "GET", CP "/sections/4/roster", NULL), 200, NULL);
    cr_assert_eq(test_countf("SELECT COUNT(*) FROM user_roles WHERE user_id = %lld AND scope_id = 4",
                             (long long)fac), 1);

    char before[200], after[200];
    counts(before);
    r = api_as("cs_registrar", "PATCH", CP "/sections/4", "{\"faculty_id\":99999,\"capacity\":30}");
    resp_expect(r, 400, "validation_failed");
    cr_assert_str_eq(resp_error_field(r), "faculty_id");
    resp_free(r);
    resp_check(api_as("cs_registrar", "PATCH", CP "/sections/4", "{\"faculty_id\":\"x\"}"), 400, "validation_failed");
    counts(after);
    cr_assert_str_eq(after, before);
    cr_assert_eq(test_scalar("SELECT capacity FROM campus_sections WHERE id = $1", 4), 25);
    cr_assert_eq(test_scalar("SELECT faculty_id FROM campus_sections WHERE id = $1", 4), test_user_id("cs_fac2"));
}

Test(campus_catalog, only_the_registrar_and_admins_manage_the_catalog)
{
    static const char *const who[] = {"cs_stu1", "cs_cashier", "cs_super", "cs_fac1", "cs_nobody", NULL};
    static const struct {
        const char *method, *path, *body;
    } calls[] = {
        {"POST", CP "/semesters", SEMESTER},
        {"PATCH", CP "/semesters/1", "{\"enrollment_closes_at\":\"2099-01-01T00:00:00Z\"}"},
        {"POST", CP "/subjects", SUBJECT},
        {"PUT", CP "/subjects/3/prerequisites", "{\"prerequisites\":[]}"},
        {"POST", CP "/sections", SECTION},
        {NULL, NULL, NULL},
    };
    char before[200], after[200];
    counts(before);
    for (int i = 0; calls[i].method; i++) {
        for (int k = 0; who[k]; k++) {
            struct resp *r = api_as(who[k], calls[i].method, calls[i].path, calls[i].body);
            cr_assert_eq(r->status, 403, "%s %s by %s: %d %s", calls[i].method, calls[i].path, who[k], r->status,
                         r->body);
            cr_assert_str_eq(resp_error_str(r, "permission"), "campus.catalog.manage", "%s", r->body);
            resp_free(r);
        }
        resp_check(api_as(NULL, calls[i].method, calls[i].path, calls[i].body), 401, NULL);
    }
    counts(after);
    cr_assert_str_eq(after, before);
    for (int i = 0; calls[i].method; i++) {
        struct resp *r = api_as("cs_admin", calls[i].method, calls[i].path, calls[i].body);
        cr_assert_eq(r->status / 100, 2, "%s %s by the admin: %d %s", calls[i].method, calls[i].path, r->status,
                     r->body);
        resp_free(r);
    }
    /* a section's faculty changes only by the registrar (campus.sections.manage) */
    struct resp *r = api_as("cs_fac1", "PATCH", CP "/sections/1", "{\"faculty_id\":1}");
    resp_expect(r, 403, "forbidden");
    cr_assert_str_eq(resp_error_str(r, "permission"), "campus.sections.manage");
    resp_free(r);
}
