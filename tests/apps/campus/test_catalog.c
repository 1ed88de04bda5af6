/* The campus catalog over HTTP: programs, semesters (is enrollment open
 * now), subjects with their prerequisite chains and ?q=, sections with
 * meetings and seats and their filters; unknown ids are 404, bad filters
 * 400. Who may read it is in test_authz.c. */
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
