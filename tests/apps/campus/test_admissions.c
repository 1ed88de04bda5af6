/* campus admissions over HTTP: anyone applies (every field checked, nothing
 * written on a bad body, one pending application per email and program)
 * and looks the application up by reference and email (any mismatch is the
 * same 404); the registrar lists, reads, approves (a student, an account that
 * signs in with the one-time password, the student role, all in one
 * transaction) and rejects with a reason; decided applications stay decided;
 * other roles are refused; ten registrars approving at once approve once. */
#include "support/call.h"
#include "support/fixture.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

TestSuite(campus_admissions, .init = cs_start, .fini = srv_stop);

#define APPLY CP "/admissions/applications"
#define STATUS CP "/admissions/status"

static int64_t audits(const char *action)
{
    return test_countf("SELECT COUNT(*) FROM audit_log WHERE action = '%s'", action);
}

/* Applies (anonymous) and returns the reference (static, 4 at once). */
static const char *apply_as(const char *first, const char *email, const char *lang)
{
    static char refs[4][32];
    static int next;
    char body[256], header[64];
    snprintf(body, sizeof body, "{\"first_name\":\"%s\",\"last_name\":\"Cruz\",\"email\":\"%s\",\"program_id\":1}",
             first, email);
    snprintf(header, sizeof header, "Accept-Language: %s", lang);
    const char *const headers[] = {header, NULL};
    struct resp *r = api_h("POST", APPLY, NULL, body, headers);
    cr_assert_eq(r->status, 201, "%s", r->body);
    char *ref = refs[next++ % 4];
    snprintf(ref, 32, "%s", jstr(r->json, "reference"));
    resp_free(r);
    return ref;
}

static const char *apply(const char *first, const char *email)
{
    return apply_as(first, email, "en");
}

static int64_t id_of(const char *ref)
{
    return test_countf("SELECT id FROM campus_applications WHERE reference = '%s'", ref);
}

static struct resp *lookup(const char *ref, const char *email)
{
    char body[256];
    snprintf(body, sizeof body, "{\"reference\":\"%s\",\"email\":\"%s\"}", ref, email);
    return api("POST", STATUS, NULL, body);
}

static struct resp *approve(const char *as, int64_t id, const char *body)
{
    return api_callf("POST", as, body, APPLY "/%lld/approve", (long long)id);
}

static struct resp *reject(const char *as, int64_t id, const char *body)
{
    return api_callf("POST", as, body, APPLY "/%lld/reject", (long long)id);
}

/* What an approval or a rejection touches, as one comparable text. */
static char *state(int64_t id)
{
    return xasprintf("%s|%lld students|%lld users|%lld roles|%lld audit|%lld mails",
                     test_text_of("SELECT status || COALESCE(student_id, 0) FROM campus_applications WHERE id = $1",
                                  id),
                     (long long)test_count("SELECT COUNT(*) FROM campus_students"),
                     (long long)test_count("SELECT COUNT(*) FROM users"),
                     (long long)test_count("SELECT COUNT(*) FROM user_roles"),
                     (long long)test_count("SELECT COUNT(*) FROM audit_log"),
                     (long long)test_count("SELECT COUNT(*) FROM notification_log"));
}

/* ------------------------------------------------------------- applying */

Test(campus_admissions, apply_files_a_submitted_application_and_emails_the_reference)
{
    struct resp *r = api("POST", APPLY, NULL,
                         "{\"first_name\":\" Ana \",\"last_name\":\"Cruz\",\"email\":\"Ana.Cruz@Example.COM\","
                         "\"program_id\":1,\"birth_date\":\"2007-02-28\",\"phone\":\"+63 917 555 0101\","
                         "\"previous_school\":\"Rizal High School\"}");
    cr_assert_eq(r->status, 201, "%s", r->body);
    const char *ref = jstr(r->json, "reference");
    cr_assert_eq(strlen(ref), 14, "%s", ref);
    cr_assert(!strncmp(ref, "APP-", 4) && strspn(ref + 4, "23456789ABCDEFGHJKMNPQRSTVWXYZ") == 10, "%s", ref);
    cr_assert_str_eq(jstr(r->json, "status"), "submitted");
    cr_assert_eq(jint(r->json, "program_id"), 1);
    cr_assert(jstr(r->json, "submitted_at") && strlen(jstr(r->json, "submitted_at")) == 20, "%s", r->body);
    cr_assert_eq(json_object_size(r->json), 4, "nothing else, no id: %s", r->body);
    int64_t id = id_of(ref);
    cr_assert_eq(test_countf("SELECT COUNT(*) FROM campus_applications WHERE id = %lld AND email = "
                             "'ana.cruz@example.com' AND first_name = 'Ana' AND birth_date = '2007-02-28' AND phone = "
                             "'+63 917 555 0101' AND previous_school = 'Rizal High School' AND language = 'en' AND "
                             "status = 'submitted' AND student_id IS NULL", (long long)id), 1);
    cr_assert_eq(test_countf("SELECT COUNT(*) FROM audit_log WHERE action = 'campus.application.submitted' AND "
                             "target_id = %lld AND COALESCE(user_id, 0) = 0", (long long)id), 1, "anonymous actor");
    char *body = test_text("SELECT body FROM notification_log WHERE channel = 'email' AND recipient = "
                           "'ana.cruz@example.com'");
    cr_assert(strstr(body, ref), "the email carries the reference: %s", body);
    cr_assert(!strstr(body, "Ana") && !strstr(body, "Cruz"), "nothing the form's author typed: %s", body);
    free(body);
    resp_free(r);

    /* in Spanish: the emails follow the language of the application */
    const char *es = apply_as("Berta", "berta@example.com", "es");
    cr_assert_eq(test_countf("SELECT COUNT(*) FROM campus_applications WHERE reference = '%s' AND language = 'es'", es),
                 1);
    char *subject = test_text("SELECT subject FROM notification_log WHERE recipient = 'berta@example.com'");
    cr_assert(strstr(subject, "solicitud"), "%s", subject);
    free(subject);
}

Test(campus_admissions, bad_applications_change_nothing)
{
    static const struct {
        const char *body, *field;
    } bad[] = {
        {"{\"last_name\":\"Cruz\",\"email\":\"a@b.co\",\"program_id\":1}", "first_name"},
        {"{\"first_name\":\"Ana\",\"last_name\":\"  \",\"email\":\"a@b.co\",\"program_id\":1}", "last_name"},
        {"{\"first_name\":\"Ana\",\"last_name\":\"Cruz\",\"email\":\"not-an-email\",\"program_id\":1}", "email"},
        {"{\"first_name\":\"Ana\",\"last_name\":\"Cruz\",\"email\":\"a@b\",\"program_id\":1}", "email"},
        {"{\"first_name\":\"Ana\",\"last_name\":\"Cruz\",\"email\":\"a b@c.co\",\"program_id\":1}", "email"},
        {"{\"first_name\":\"Ana\",\"last_name\":\"Cruz\",\"email\":\"a@b.co\",\"program_id\":99}", "program_id"},
        {"{\"first_name\":\"Ana\",\"last_name\":\"Cruz\",\"email\":\"a@b.co\",\"program_id\":0}", "program_id"},
        {"{\"first_name\":\"Ana\",\"last_name\":\"Cruz\",\"email\":\"a@b.co\",\"program_id\":\"1\"}", "body"},
        {"{\"first_name\":\"Ana\",\"last_name\":\"Cruz\",\"email\":\"a@b.co\",\"program_id\":1,\"birth_date\":"
         "\"2999-01-01\"}", "birth_date"},
        {"{\"first_name\":\"Ana\",\"last_name\":\"Cruz\",\"email\":\"a@b.co\",\"program_id\":1,\"birth_date\":"
         "\"2005-02-30\"}", "birth_date"},
        {"{\"first_name\":\"Ana\",\"last_name\":\"Cruz\",\"email\":\"a@b.co\",\"program_id\":1,\"birth_date\":"
         "\"05-01-01\"}", "birth_date"},
        {"{\"first_name\":\"Ana\",\"last_name\":\"Cruz\",\"email\":\"a@b.co\",\"program_id\":1,\"phone\":\"call me\"}",
         "phone"},
        {"{\"first_name\":\"Ana\",\"last_name\":\"Cruz\",\"email\":\"a@b.co\",\"program_id\":1,\"phone\":\"12\"}",
         "phone"},
        {"{\"first_name\":\"Ana\\u0007\",\"last_name\":\"Cruz\",\"email\":\"a@b.co\",\"program_id\":1}", "first_name"},
        {"{\"first_name\":\"Ana\",\"last_name\":\"Cruz\",\"email\":\"a@b.co\",\"program_id\":1,\"admin\":true}",
         "admin"},
        {NULL, NULL},
    };
    for (int i = 0; bad[i].body; i++) {
        struct resp *r = api("POST", APPLY, NULL, bad[i].body);
        resp_expect(r, 400, "validation_failed");
        cr_assert_str_eq(resp_error_field(r), bad[i].field, "%s -> %s", bad[i].body, r->body);
        resp_free(r);
    }
    char body[512], school[202];
    memset(school, 'x', 201);
    school[201] = 0;
    snprintf(body, sizeof body, "{\"first_name\":\"Ana\",\"last_name\":\"Cruz\",\"email\":\"a@b.co\",\"program_id\":1,"
             "\"previous_school\":\"%s\"}", school);
    struct resp *r = api("POST", APPLY, NULL, body);
    resp_expect(r, 400, "validation_failed");
    cr_assert_str_eq(resp_error_field(r), "previous_school");
    resp_free(r);
    /* every problem of the form at once */
    r = api("POST", APPLY, NULL, "{\"first_name\":\"\",\"last_name\":\"Cruz\",\"email\":\"x\",\"program_id\":99,"
                                 "\"phone\":\"?\"}");
    resp_expect(r, 400, "validation_failed");
    json_t *details = json_object_get(json_object_get(r->json, "error"), "details");
    cr_assert_eq(json_array_size(details), 4, "%s", r->body);
    cr_assert_str_eq(jstr(json_array_get(details, 3), "field"), "phone");
    resp_free(r);
    resp_check(api("POST", APPLY, NULL, "[1]"), 400, NULL);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM campus_applications"), 0);
    cr_assert_eq(audits("campus.application.submitted"), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM notification_log"), 0);
}

Test(campus_admissions, a_second_pending_application_is_a_duplicate)
{
    const char *first = apply("Ana", "ana@example.com");
    struct resp *r = api("POST", APPLY, NULL, "{\"first_name\":\"Ana\",\"last_name\":\"Other\",\"email\":"
                                              "\"ANA@example.com\",\"program_id\":1}");
    resp_expect(r, 409, "duplicate_application");
    cr_assert(!strstr(r->body, first), "nothing of the first one is revealed: %s", r->body);
    resp_free(r);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM campus_applications"), 1);
    cr_assert_eq(audits("campus.application.submitted"), 1);
    /* another program is another application */
    test_fixture_sql("program 2", "INSERT INTO campus_programs (id, code, name, rate_per_unit_cents) VALUES "
                                  "(2, 'BSIT', 'BS Information Technology', 140000)");
    resp_check(api("POST", APPLY, NULL, "{\"first_name\":\"Ana\",\"last_name\":\"Cruz\",\"email\":\"ana@example.com\","
                                    "\"program_id\":2}"), 201, NULL);
    /* once decided, the same email may apply again */
    resp_check(reject("cs_registrar", id_of(first), "{\"reason\":\"incomplete documents\"}"), 200, NULL);
    apply("Ana", "ana@example.com");
    cr_assert_eq(test_count("SELECT COUNT(*) FROM campus_applications"), 3);
}

/* --------------------------------------------------------- status lookup */

Test(campus_admissions, status_lookup_needs_the_reference_and_the_email)
{
    const char *ref = apply("Ana", "ana@example.com"), *other = apply("Ben", "ben@example.com");
    struct resp *r = lookup(ref, "ana@example.com");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(jstr(r->json, "reference"), ref);
    cr_assert_str_eq(jstr(r->json, "status"), "submitted");
    json_t *program = json_object_get(r->json, "program");
    cr_assert_eq(jint(program, "id"), 1);
    cr_assert_str_eq(jstr(program, "code"), "BSCS");
    cr_assert_str_eq(jstr(program, "name"), "BS Computer Science");
    cr_assert(jstr(r->json, "submitted_at"));
    cr_assert(json_is_null(json_object_get(r->json, "decided_at")), "%s", r->body);
    cr_assert(!json_object_get(r->json, "decision_reason") && !json_object_get(r->json, "student_number"), "%s",
              r->body);
    cr_assert(!json_object_get(r->json, "email") && !json_object_get(r->json, "id"), "%s", r->body);
    resp_free(r);

    /* any case of the email, a reference typed in lower case */
    char lower[32];
    snprintf(lower, sizeof lower, "%s", ref);
    for (char *p = lower; *p; p++) *p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
    resp_check(lookup(lower, "ANA@Example.com"), 200, NULL);

    /* every mismatch: one and the same answer */
    struct resp *first = lookup("APP-2222222222", "ana@example.com");
    resp_expect(first, 404, "not_found");
    const char *const wrong[][2] = {
        {ref, "ben@example.com"}, {other, "ana@example.com"}, {ref, "ana@example.org"},
        {"APP-2222222222", "nobody@example.com"}, {"", ""}, {ref, ""}, {"", "ana@example.com"},
    };
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        r = lookup(wrong[i][0], wrong[i][1]);
        cr_assert_eq(r->status, 404, "%s/%s: %s", wrong[i][0], wrong[i][1], r->body);
        cr_assert_str_eq(r->body, first->body, "%s/%s", wrong[i][0], wrong[i][1]);
        resp_free(r);
    }
    resp_free(first);
    resp_check(api("POST", STATUS, NULL, "{\"reference\":\"x\"}"), 400, "validation_failed");
    const char *const spanish[] = {"Accept-Language: es", NULL};
    r = api_h("POST", STATUS, NULL, "{\"reference\":\"APP-2222222222\",\"email\":\"a@b.co\"}", spanish);
    resp_expect(r, 404, "not_found");
    cr_assert_str_eq(jstr(json_object_get(r->json, "error"), "message"),
                     "ninguna solicitud coincide con esta referencia y este correo electrónico");
    resp_free(r);

    /* decided: the reason of a rejection, the number of an approval */
    resp_check(reject("cs_registrar", id_of(other), "{\"reason\":\"the program is full\"}"), 200, NULL);
    r = lookup(other, "ben@example.com");
    cr_assert_str_eq(jstr(r->json, "status"), "rejected");
    cr_assert_str_eq(jstr(r->json, "decision_reason"), "the program is full");
    cr_assert(jstr(r->json, "decided_at"), "%s", r->body);
    cr_assert(!json_object_get(r->json, "student_number"), "%s", r->body);
    resp_free(r);
    resp_check(approve("cs_registrar", id_of(ref), "{}"), 200, NULL);
    r = lookup(ref, "ana@example.com");
    cr_assert_str_eq(jstr(r->json, "status"), "approved");
    cr_assert_str_eq(jstr(r->json, "student_number"),
                     test_text_of("SELECT st.number FROM campus_students st JOIN campus_applications a ON "
                                  "a.student_id = st.id WHERE a.id = $1", id_of(ref)));
    cr_assert(!json_object_get(r->json, "decision_reason"), "%s", r->body);
    resp_free(r);
}

/* ------------------------------------------------------------ registrar */

Test(campus_admissions, the_registrar_lists_and_reads_applications)
{
    const char *a = apply("Ana", "ana@example.com");
    apply("Ben", "ben@example.com");
    apply("Carla", "carla@example.com");
    resp_check(reject("cs_registrar", id_of(a), "{\"reason\":\"late\"}"), 200, NULL);
    struct resp *r = api_callf("GET", "cs_registrar", NULL, APPLY);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_eq(jint(r->json, "total"), 3);
    cr_assert_str_eq(jstr(json_array_get(json_object_get(r->json, "items"), 0), "first_name"), "Ana", "arrival order");
    resp_free(r);
    r = api_callf("GET", "cs_registrar", NULL, APPLY "?status=submitted&page_size=1");
    cr_assert_eq(jint(r->json, "total"), 2, "%s", r->body);
    cr_assert_eq(json_array_size(json_object_get(r->json, "items")), 1);
    resp_free(r);
    r = api_callf("GET", "cs_admin", NULL, APPLY "?q=carla");
    cr_assert_eq(jint(r->json, "total"), 1, "%s", r->body);
    resp_free(r);
    r = api_callf("GET", "cs_registrar", NULL, APPLY "?q=%s", a + 4);
    cr_assert_eq(jint(r->json, "total"), 1, "by reference: %s", r->body);
    cr_assert_str_eq(jstr(json_array_get(json_object_get(r->json, "items"), 0), "status"), "rejected");
    resp_free(r);
    resp_check(api_callf("GET", "cs_registrar", NULL, APPLY "?status=pending"), 400, "validation_failed");
    resp_check(api_callf("GET", "cs_registrar", NULL, APPLY "?sort=id"), 400, "unknown_parameter");

    r = api_callf("GET", "cs_registrar", NULL, APPLY "/%lld", (long long)id_of(a));
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(jstr(r->json, "email"), "ana@example.com");
    cr_assert_str_eq(jstr(r->json, "program_code"), "BSCS");
    cr_assert_str_eq(jstr(r->json, "decision_reason"), "late");
    cr_assert_eq(jint(r->json, "decided_by"), test_user_id("cs_registrar"));
    resp_free(r);
    resp_check(api_callf("GET", "cs_registrar", NULL, APPLY "/999"), 404, "not_found");
}

Test(campus_admissions, approval_makes_the_student_and_an_account_that_signs_in)
{
    const char *ref = apply("Ana", "ana@example.com");
    int64_t id = id_of(ref);
    struct resp *r = approve("cs_registrar", id, "{\"year_level\":2}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(resp_header(r, "Cache-Control"), "no-store");
    cr_assert_str_eq(jstr(r->json, "status"), "approved");
    cr_assert_eq(jint(r->json, "decided_by"), test_user_id("cs_registrar"));
    json_t *student = json_object_get(r->json, "student"), *account = json_object_get(r->json, "account");
    char number[16];
    snprintf(number, sizeof number, "%s", jstr(student, "number"));
    cr_assert(strlen(number) == 10 && number[4] == '-' && strspn(number, "0123456789") == 4 &&
                  strspn(number + 5, "0123456789") == 5, "<year>-<5 digits>: %s", number);
    cr_assert_str_eq(jstr(account, "username"), number);
    char password[64];
    snprintf(password, sizeof password, "%s", jstr(account, "temporary_password"));
    cr_assert_geq(strlen(password), 16, "%s", password);
    cr_assert_eq(jint(r->json, "student_id"), jint(student, "id"));
    cr_assert_str_eq(jstr(r->json, "student_number"), number);
    int64_t sid = jint(student, "id"), uid = jint(account, "user_id");

    cr_assert_eq(test_countf("SELECT COUNT(*) FROM campus_students WHERE id = %lld AND user_id = %lld AND number = "
                             "'%s' AND program_id = 1 AND year_level = 2 AND status = 'active' AND first_name = 'Ana' "
                             "AND email = 'ana@example.com'", (long long)sid, (long long)uid, number), 1);
    cr_assert_eq(test_countf("SELECT COUNT(*) FROM users WHERE id = %lld AND username = '%s' AND email = "
                             "'ana@example.com' AND display_name = 'Ana Cruz' AND status = 'active'",
                             (long long)uid, number), 1);
    cr_assert_eq(test_countf("SELECT COUNT(*) FROM campus_applications WHERE id = %lld AND student_id = %lld AND "
                             "decided_at IS NOT NULL", (long long)id, (long long)sid), 1);
    test_expect_role("campus", number, "student", "", 0);
    cr_assert_eq(audits("campus.application.approved"), 1);
    cr_assert_eq(test_countf("SELECT COUNT(*) FROM audit_log WHERE action = 'core.user.role_granted' AND target_id = "
                             "%lld", (long long)uid), 1);
    char *mail = test_text("SELECT body FROM notification_log WHERE recipient = 'ana@example.com' ORDER BY id DESC "
                           "LIMIT 1");
    cr_assert(strstr(mail, number) && !strstr(mail, password), "the username emailed, never the password: %s", mail);
    cr_assert_eq(test_countf("SELECT COUNT(*) FROM notification_log WHERE body LIKE '%%%s%%'", password), 0);
    free(mail);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM users WHERE password_hash LIKE '$argon2id$%'"),
                 test_count("SELECT COUNT(*) FROM users"), "stored as argon2id");

    /* the new student signs in with it and reads their own profile */
    struct resp *login = api_login(number, password);
    cr_assert_eq(login->status, 200, "%s", login->body);
    struct resp *me = api("GET", pathf(CP "/students/%lld", (long long)sid), jstr(login->json, "access_token"), NULL);
    cr_assert_eq(me->status, 200, "%s", me->body);
    cr_assert_str_eq(jstr(me->json, "number"), number);
    resp_free(me);
    /* ... and replaces the one-time password with their own */
    char *body = xasprintf("{\"current_password\":\"%s\",\"new_password\":\"Mango-Harbor-Lights-7\"}", password);
    me = api("POST", "/api/v1/me/password", jstr(login->json, "access_token"), body);
    cr_assert_eq(me->status, 200, "%s", me->body);
    free(body);
    resp_free(me);
    resp_free(login);
    login = api_login(number, password);
    cr_assert_eq(login->status, 401, "the one-time password is spent");
    resp_free(login);
    login = api_login(number, "Mango-Harbor-Lights-7");
    cr_assert_eq(login->status, 200, "%s", login->body);
    resp_free(login);
    resp_free(r);

    /* the next approval takes the next number */
    int64_t id2 = id_of(apply("Ben", "ben@example.com"));
    r = approve("cs_admin", id2, NULL);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_eq(strtol(jstr(json_object_get(r->json, "student"), "number") + 5, NULL, 10),
                 strtol(number + 5, NULL, 10) + 1, "%s", r->body);
    cr_assert_eq(test_countf("SELECT year_level FROM campus_students WHERE id = %lld",
                             (long long)jint(json_object_get(r->json, "student"), "id")), 1, "year 1 by default");
    resp_free(r);
}

/* Someone may have registered the next number as a username (open
 * registration): it is skipped, and that account gets nothing. */
Test(campus_admissions, a_number_taken_as_a_username_is_skipped)
{
    char year[8], taken[16], next[16];
    time_t now = time(NULL);
    struct tm tm;
    strftime(year, sizeof year, "%Y", gmtime_r(&now, &tm));
    /* the fixture numbers its students <year>-00001.. in order */
    int64_t last = test_countf("SELECT COUNT(*) FROM campus_students WHERE number LIKE '%s-%%'", year);
    snprintf(taken, sizeof taken, "%s-%05lld", year, (long long)last + 1);
    snprintf(next, sizeof next, "%s-%05lld", year, (long long)last + 2);
    int64_t squatter = test_user(taken, NULL, NULL, NULL, 0);
    struct resp *r = approve("cs_registrar", id_of(apply("Ana", "ana@example.com")), "{}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(jstr(json_object_get(r->json, "student"), "number"), next);
    cr_assert_str_eq(jstr(json_object_get(r->json, "account"), "username"), next);
    resp_free(r);
    cr_assert_eq(test_countf("SELECT COUNT(*) FROM user_roles WHERE user_id = %lld", (long long)squatter), 0);
    cr_assert_eq(test_countf("SELECT COUNT(*) FROM campus_students WHERE user_id = %lld", (long long)squatter), 0);
}

Test(campus_admissions, a_decided_application_stays_decided)
{
    int64_t a = id_of(apply("Ana", "ana@example.com")), b = id_of(apply("Ben", "ben@example.com"));
    resp_check(approve("cs_registrar", a, "{}"), 200, NULL);
    char *before = state(a);
    resp_check(approve("cs_registrar", a, "{}"), 409, "invalid_state");
    resp_check(reject("cs_registrar", a, "{\"reason\":\"changed my mind\"}"), 409, "invalid_state");
    char *after = state(a);
    cr_assert_str_eq(after, before, "nothing changes");
    free(before);
    free(after);

    /* a rejection needs a reason, then is final */
    before = state(b);
    resp_check(reject("cs_registrar", b, "{}"), 400, "validation_failed");
    resp_check(reject("cs_registrar", b, "{\"reason\":\"   \"}"), 400, "validation_failed");
    resp_check(reject("cs_registrar", b, "{\"reason\":\"x\",\"extra\":1}"), 400, "validation_failed");
    resp_check(approve("cs_registrar", b, "{\"year_level\":7}"), 400, "validation_failed");
    resp_check(approve("cs_registrar", b, "{\"year_level\":0}"), 400, "validation_failed");
    resp_check(approve("cs_registrar", b, "{\"year\":1}"), 400, "validation_failed");
    after = state(b);
    cr_assert_str_eq(after, before, "bad bodies change nothing");
    free(after);
    free(before);
    struct resp *r = reject("cs_registrar", b, "{\"reason\":\"incomplete documents\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(jstr(r->json, "status"), "rejected");
    cr_assert_str_eq(jstr(r->json, "decision_reason"), "incomplete documents");
    resp_free(r);
    cr_assert_eq(audits("campus.application.rejected"), 1);
    char *mail = test_text("SELECT body FROM notification_log WHERE recipient = 'ben@example.com' ORDER BY id DESC "
                           "LIMIT 1");
    cr_assert(strstr(mail, "incomplete documents"), "%s", mail);
    free(mail);
    before = state(b);
    resp_check(approve("cs_registrar", b, "{}"), 409, "invalid_state");
    resp_check(reject("cs_registrar", b, "{\"reason\":\"again\"}"), 409, "invalid_state");
    after = state(b);
    cr_assert_str_eq(after, before);
    free(after);
    free(before);
    resp_check(approve("cs_registrar", 999, "{}"), 404, "not_found");
    resp_check(reject("cs_registrar", 999, "{\"reason\":\"x\"}"), 404, "not_found");
}

Test(campus_admissions, an_email_with_an_account_is_not_approved)
{
    test_fixture_sql("an account with the email", "UPDATE users SET email = 'taken@example.com' WHERE username = "
                                                  "'cs_nobody'");
    int64_t id = id_of(apply("Ana", "Taken@Example.com"));
    char *before = state(id);
    struct resp *r = approve("cs_registrar", id, "{}");
    resp_expect(r, 409, "email_taken");
    resp_free(r);
    char *after = state(id);
    cr_assert_str_eq(after, before, "nothing changes");
    free(after);
    free(before);
    cr_assert_eq(audits("campus.application.approved"), 0);
    /* it can still be rejected */
    resp_check(reject("cs_registrar", id, "{\"reason\":\"already a student\"}"), 200, NULL);
}

Test(campus_admissions, only_the_registrar_decides)
{
    int64_t id = id_of(apply("Ana", "ana@example.com"));
    char *before = state(id);
    static const char *const others[] = {"cs_stu1", "cs_cashier", "cs_super", "cs_fac1", "cs_nobody", NULL};
    for (int i = 0; others[i]; i++) {
        resp_check(api_callf("GET", others[i], NULL, APPLY), 403, "forbidden");
        resp_check(api_callf("GET", others[i], NULL, APPLY "/%lld", (long long)id), 403, "forbidden");
        resp_check(approve(others[i], id, "{}"), 403, "forbidden");
        resp_check(reject(others[i], id, "{\"reason\":\"x\"}"), 403, "forbidden");
    }
    resp_check(api_callf("GET", NULL, NULL, APPLY), 401, NULL);
    resp_check(api_callf("GET", NULL, NULL, APPLY "/%lld", (long long)id), 401, NULL);
    resp_check(approve(NULL, id, "{}"), 401, NULL);
    resp_check(reject(NULL, id, "{\"reason\":\"x\"}"), 401, NULL);
    struct resp *r = api_callf("GET", "cs_cashier", NULL, APPLY);
    cr_assert_str_eq(resp_error_str(r, "permission"), "campus.admissions.manage");
    resp_free(r);
    char *after = state(id);
    cr_assert_str_eq(after, before);
    free(after);
    free(before);
}

/* ------------------------------------------------------------- the race */

static char race_path[96], *race_tok;
static int race_status[10];

static void approver(int i, void *arg)
{
    (void)arg;
    struct resp *r = api("POST", race_path, race_tok, "{}");
    race_status[i] = r->status;
    resp_free(r);
}

Test(campus_admissions, concurrent_approvals_approve_once)
{
    snprintf(race_path, sizeof race_path, APPLY "/%lld/approve", (long long)id_of(apply("Ana", "ana@example.com")));
    int64_t students = test_count("SELECT COUNT(*) FROM campus_students");
    int64_t users = test_count("SELECT COUNT(*) FROM users");
    race_tok = test_token("cs_registrar");
    run_concurrently(10, approver, NULL);
    free(race_tok);
    int ok = 0, refused = 0;
    for (int i = 0; i < 10; i++) ok += race_status[i] == 200, refused += race_status[i] == 409;
    cr_assert_eq(ok, 1, "exactly one approves");
    cr_assert_eq(refused, 9, "the others find it decided");
    cr_assert_eq(test_count("SELECT COUNT(*) FROM campus_students"), students + 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM users"), users + 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM users WHERE email = 'ana@example.com'"), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM campus_students WHERE email = 'ana@example.com'"), 1);
    cr_assert_eq(audits("campus.application.approved"), 1);
    cr_assert_eq(audits("core.user.role_granted"), 1);
}
