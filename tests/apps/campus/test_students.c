/* campus students over HTTP: the profile, the weekly schedule (enrolled
 * sections only, by their first meeting, units summed), the search by
 * number or name, and who may see whom. */
#include "support/fixture.h"
#include <stdlib.h>
#include <string.h>

TestSuite(campus_students, .init = cs_start, .fini = srv_stop);

static struct resp *get(const char *as, const char *path)
{
    char *tok = test_token(as);
    struct resp *r = api("GET", path, tok, NULL);
    free(tok);
    return r;
}

static void enroll(const char *as, const char *body, const char *status)
{
    char *tok = test_token(as);
    struct resp *r = api("POST", CP "/enrollments", tok, body);
    cr_assert_eq(r->status, 201, "%s", r->body);
    cr_assert_str_eq(jstr(r->json, "status"), status);
    resp_free(r);
    free(tok);
}

Test(campus_students, profile_and_who_sees_it)
{
    struct resp *r = get("cs_stu1", CP "/students/1");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(jstr(r->json, "number"), "2026-00001");
    cr_assert_str_eq(jstr(r->json, "program_code"), "BSCS");
    cr_assert_str_eq(jstr(r->json, "status"), "active");
    cr_assert_eq(jint(r->json, "user_id"), test_user_id("cs_stu1"));
    resp_free(r);
    r = get("cs_stu2", CP "/students/1");
    cr_assert_eq(r->status, 404, "another student's profile does not exist for them");
    resp_free(r);
    r = get("cs_cashier", CP "/students/1");
    cr_assert_eq(r->status, 200);
    resp_free(r);
    r = get("cs_registrar", CP "/students/99");
    cr_assert_eq(r->status, 404);
    resp_free(r);
    r = get("cs_fac1", CP "/students/1");
    cr_assert_eq(r->status, 403);
    resp_free(r);
}

Test(campus_students, schedule_lists_enrolled_sections_by_first_meeting)
{
    enroll("cs_stu1", "{\"section_id\":4}", "enrolled");          /* PE1-A Friday */
    enroll("cs_stu1", "{\"section_id\":1}", "enrolled");          /* CS101-A Monday 08:00 */
    test_fixture_sql("full", "UPDATE campus_sections SET capacity = 1, enrolled = 1 WHERE id = 3");
    enroll("cs_registrar", "{\"section_id\":3,\"student_id\":1,\"override_reason\":\"ok\"}", "waitlisted");
    struct resp *r = get("cs_stu1", CP "/students/1/schedule");
    cr_assert_eq(r->status, 200, "%s", r->body);
    json_t *it = json_object_get(r->json, "items");
    cr_assert_eq(json_array_size(it), 2, "the waitlisted section is not on it: %s", r->body);
    cr_assert_str_eq(jstr(json_array_get(it, 0), "section_code"), "CS101-A");
    cr_assert_str_eq(jstr(json_array_get(it, 1), "section_code"), "PE1-A");
    cr_assert_eq(json_array_size(json_object_get(json_array_get(it, 0), "meetings")), 2);
    cr_assert_eq(jint(r->json, "units"), 5);
    cr_assert_eq(jint(r->json, "semester_id"), 1, "the latest semester enrolled in");
    resp_free(r);
    r = get("cs_stu2", CP "/students/2/schedule");
    cr_assert_eq(r->status, 200);
    cr_assert_eq(json_array_size(json_object_get(r->json, "items")), 0);
    cr_assert(json_is_null(json_object_get(r->json, "semester_id")));
    resp_free(r);
    r = get("cs_stu2", CP "/students/1/schedule");
    cr_assert_eq(r->status, 404);
    resp_free(r);
}

Test(campus_students, search_by_number_or_name)
{
    struct resp *r = get("cs_cashier", CP "/students?q=00002");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_eq(jint(r->json, "total"), 1);
    cr_assert_eq(jint(json_array_get(json_object_get(r->json, "items"), 0), "id"), 2);
    resp_free(r);
    r = get("cs_registrar", CP "/students?q=student");
    cr_assert_eq(jint(r->json, "total"), 3, "first names, any case: %s", r->body);
    resp_free(r);
    r = get("cs_registrar", CP "/students");
    cr_assert_eq(jint(r->json, "total"), 3);
    resp_free(r);
    r = get("cs_stu1", CP "/students?q=1");
    cr_assert_eq(r->status, 403, "students do not search students");
    resp_free(r);
}
