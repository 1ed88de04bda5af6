/* admissions.c -- public admissions: anyone applies and looks the
 * application up; the registrar lists, approves or rejects.
 *
 * POST /admissions/applications {first_name, last_name, email, program_id,
 * birth_date?, phone?, previous_school?} (public) files an application,
 * status submitted, under an unguessable reference ("APP-" and 10 characters
 * of an alphabet without look-alikes: ~49 bits), and emails the reference.
 * Every field is checked and every problem named at once (details). An email
 * with an application still pending for the same program is 409
 * duplicate_application; a partial unique index keeps it so under races.
 *
 * POST /admissions/status {reference, email} (public; POST keeps the email
 * out of URLs and logs) answers the status only when both match (the email
 * in any case); any mismatch is the same 404, so nothing can be enumerated.
 *
 * The registrar (campus.admissions.manage) lists and reads applications,
 * approves one -- in one transaction: the guarded UPDATE ... WHERE status =
 * 'submitted' whose row count decides races, the student record (number
 * "<year>-<5 digits>", as the school numbers students), the user account
 * (username = the student number, the application's email, a random
 * one-time password shown once in the answer -- never emailed: mail and the
 * notifier's log are no place for a password; the registrar hands it over
 * and the student replaces it with POST /api/v1/me/password) with the campus
 * student role -- or rejects one with a reason. The argon2id hash of the
 * password is computed before the transaction opens (the route is slow).
 *
 * Emails go out in the language the applicant applied in. */
#include "campus.h"
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_NAME 100
#define MAX_SCHOOL 200
#define MAX_REASON 500
#define DISPLAY_MAX 100         /* the core's limit on a display name, in characters */

/* No 0/O, 1/I/L, U: read aloud and typed back without confusion. */
static const char ref_alphabet[] = "23456789ABCDEFGHJKMNPQRSTVWXYZ";
#define REF_CHARS 10
/* The one-time password: 4 groups of 5 from 56 characters (~116 bits). */
static const char pw_alphabet[] = "23456789abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ";

#define APPLICATION_SELECT                                                                                     \
    "SELECT a.id, a.reference, a.status, a.first_name, a.last_name, a.email, a.birth_date, a.phone, "           \
    "a.previous_school, a.language, a.program_id, p.code AS program_code, p.name AS program_name, "             \
    "a.created_at AS submitted_at, a.decided_by, a.decided_at, a.decision_reason, a.student_id, "              \
    "st.number AS student_number FROM campus_applications a JOIN campus_programs p ON p.id = a.program_id "     \
    "LEFT JOIN campus_students st ON st.id = a.student_id "

static void random_chars(char *out, size_t n, const char *alphabet)
{
    uint32_t len = (uint32_t)strlen(alphabet);
    for (size_t i = 0; i < n; i++) out[i] = alphabet[randombytes_uniform(len)];
    out[n] = 0;
}

/* A copy (request pool) without surrounding blanks, ASCII-folded when fold
 * is 'l' (lower) or 'u' (upper); NULL stays NULL. */
static char *clean(struct req *r, const char *s, char fold)
{
    if (!s) return NULL;
    while (*s && strchr(" \t\r\n", *s)) s++;
    char *c = pool_strdup(r->pool, s);
    size_t n = strlen(c);
    while (n && strchr(" \t\r\n", c[n - 1])) c[--n] = 0;
    for (char *p = c; *p; p++) {
        if (fold == 'l' && *p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
        if (fold == 'u' && *p >= 'a' && *p <= 'z') *p = (char)(*p - 'a' + 'A');
    }
    return c;
}

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) n += (*p & 0xC0) != 0x80;
    return n;
}

static bool has_control(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < ' ' || *p == 0x7f) return true;
    return false;
}

/* YYYY-MM-DD, a real day, from 1900-01-01 to today (UTC). */
static bool birth_date_ok(const char *d)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, m, day, len = 0;
    if (strlen(d) != 10 || sscanf(d, "%4d-%2d-%2d%n", &y, &m, &day, &len) != 3 || len != 10 || d[4] != '-' ||
        d[7] != '-' || strspn(d, "0123456789-") != 10)
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1900 || m < 1 || m > 12 || day < 1 || day > days[m - 1] + (m == 2 && leap)) return false;
    char today[16];
    time_t now = time(NULL);
    struct tm tm;
    strftime(today, sizeof today, "%Y-%m-%d", gmtime_r(&now, &tm));
    return strcmp(d, today) <= 0;
}

/* 7 to 20 characters: digits (at least 7), spaces, - . ( ) and a leading +. */
static bool phone_ok(const char *p)
{
    size_t n = strlen(p), digits = 0;
    if (n < 7 || n > 20) return false;
    for (size_t i = 0; i < n; i++) {
        if (p[i] >= '0' && p[i] <= '9') digits++;
        else if (!(p[i] == '+' && i == 0) && !strchr(" -.()", p[i])) return false;
    }
    return digits >= 7;
}

/* ----------------------------------------------------- the form's problems */

/* Every problem of a form at once: 400 validation_failed whose details name
 * each field (the message is the first one's). */
struct problems {
    json_t *details;
    char first[512];
};

static void problem(struct req *r, struct problems *p, const char *field, const char *text)
{
    const char *t = tr(r, text);
    if (!p->details) {
        p->details = json_array();
        snprintf(p->first, sizeof p->first, tr(r, "%s %s"), field, t);
    }
    json_array_append_new(p->details, json_pack("{s:s, s:s}", "field", field, "problem", t));
}

/* A name or other text of 1..max characters, no control characters. */
static void text_field(struct req *r, struct problems *p, const char *field, const char *v, size_t max, bool required)
{
    if (!v) {
        if (required) problem(r, p, field, N_("is required"));
    } else if (!*v) {
        problem(r, p, field, N_("must not be blank"));
    } else if (utf8_chars(v) > max) {
        if (max == MAX_NAME) problem(r, p, field, N_("must be at most 100 characters"));
        else problem(r, p, field, N_("must be at most 200 characters"));
    } else if (has_control(v)) {
        problem(r, p, field, N_("must not contain control characters"));
    }
}

/* 0, or -1 after replying 400 with every problem found. */
static int problems_reply(struct req *r, struct problems *p)
{
    if (!p->details) return 0;
    reply_json(r, 400, json_pack("{s:{s:s, s:s, s:o}}", "error", "code", "validation_failed", "message", p->first,
                                 "details", p->details));
    p->details = NULL;
    return -1;
}

/* ------------------------------------------------------------------ email */

/* The applicant's email in their language; a failure to send is logged
 * and answered as email_sent false, the decision stands. */
static bool email_applicant(struct req *r, const char *to, const char *subject, const char *text)
{
    if (notify_send(r->db, "email", to, subject, text) == 0) return true;
    log_warn("campus admissions: the email to the applicant was not sent");
    return false;
}

/* --------------------------------------------------------------- helpers */

/* The next free student number of this year, "<year>-<5 digits>" (the
 * school's format): one past the largest of the year, skipping any that a
 * student or a username already has. Inside the transaction; 0 or -1. */
static int next_student_number(struct db *db, char out[16])
{
    char prefix[8];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    snprintf(prefix, sizeof prefix, "%04d-", tm.tm_year + 1900);
    char *top = db_text(db, "SELECT MAX(number) FROM campus_students WHERE substr(number, 1, 5) = $1 AND "
                            "length(number) = 10", DB_S(prefix));
    long seq = 0;
    if (top && strspn(top + 5, "0123456789") == 5) seq = strtol(top + 5, NULL, 10);
    free(top);
    for (int tries = 0; tries < 1000 && ++seq <= 99999; tries++) {
        int64_t taken = 0;
        snprintf(out, 16, "%s%05ld", prefix, seq);
        if (db_int(db, &taken, "SELECT (SELECT COUNT(*) FROM campus_students WHERE number = $1) + (SELECT COUNT(*) "
                               "FROM users WHERE username = $2)", DB_S(out), DB_S(out)) != 1)
            return -1;
        if (!taken) return 0;
    }
    log_error("campus admissions: no free student number for %s", prefix);
    return -1;
}

/* "First Last" cut to the core's display-name limit on a character boundary. */
static char *display_name(struct req *r, const char *first, const char *last)
{
    char *d = pool_printf(r->pool, "%s %s", first, last);
    size_t chars = 0;
    for (char *p = d; *p; p++) {
        if (((unsigned char)*p & 0xC0) != 0x80 && ++chars > DISPLAY_MAX) {
            *p = 0;
            break;
        }
    }
    return d;
}

/* After a guarded UPDATE changed nothing (outside the transaction): 404
 * when there is no such application, else 409 invalid_state. */
static void reply_not_submitted(struct req *r, int64_t id)
{
    char *status = db_text(r->db, "SELECT status FROM campus_applications WHERE id = $1", DB_I(id));
    if (!status) reply_not_found(r);
    else reply_error(r, 409, "invalid_state", "the application is %s: only a submitted one can be decided", status);
    free(status);
}

/* A new reference no application has. Inside the transaction; 0 or -1. */
static int new_reference(struct db *db, char out[4 + REF_CHARS + 1])
{
    for (int tries = 0; tries < 8; tries++) {
        int64_t taken = 0;
        memcpy(out, "APP-", 4);
        random_chars(out + 4, REF_CHARS, ref_alphabet);
        if (db_int(db, &taken, "SELECT COUNT(*) FROM campus_applications WHERE reference = $1", DB_S(out)) != 1)
            return -1;
        if (!taken) return 0;
    }
    return -1;
}

static const char *str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* ----------------------------------------------------------------- routes */

/* The public: apply, look an application up. */

void campus_admissions_apply(struct req *r)
{
    const char *first = NULL, *last = NULL, *email = NULL, *birth = NULL, *phone = NULL, *school = NULL;
    char ref[4 + REF_CHARS + 1], subject[256], text[4096];
    json_int_t program = 0;
    int64_t id = 0, pending = 0;
    json_t *prog = NULL, *row = NULL;
    struct problems p = {0};
    if (req_unpack(r, "{s:s, s:s, s:s, s:I, s?s, s?s, s?s}", "first_name", &first, "last_name", &last, "email",
                   &email, "program_id", &program, "birth_date", &birth, "phone", &phone, "previous_school",
                   &school) < 0)
        return;
    first = clean(r, first, 0);
    last = clean(r, last, 0);
    email = clean(r, email, 'l');
    birth = clean(r, birth, 0);
    phone = clean(r, phone, 0);
    school = clean(r, school, 0);
    text_field(r, &p, "first_name", first, MAX_NAME, true);
    text_field(r, &p, "last_name", last, MAX_NAME, true);
    if (!auth_email_valid(email))      /* the core's rule: an approval always makes an account */
        problem(r, &p, "email", N_("is not a valid email address"));
    if (program < 1 || !(prog = db_json_one(r->db, "SELECT code, name FROM campus_programs WHERE id = $1",
                                           DB_I(program))))
        problem(r, &p, "program_id", N_("is not a program of the school"));
    if (birth && !birth_date_ok(birth)) problem(r, &p, "birth_date", N_("must be a past date (YYYY-MM-DD)"));
    if (phone && !phone_ok(phone))
        problem(r, &p, "phone", N_("must be 7 to 20 characters: digits, spaces, - . ( ) and a leading +"));
    text_field(r, &p, "previous_school", school, MAX_SCHOOL, false);
    if (problems_reply(r, &p) < 0) goto out;

    if (db_begin(r->db) < 0) goto db_error;
    if (db_int(r->db, &pending, "SELECT COUNT(*) FROM campus_applications WHERE email = $1 AND program_id = $2 AND "
                                "status = 'submitted'", DB_S(email), DB_I(program)) != 1)
        goto rollback;
    if (pending) {
        db_rollback(r->db);
        reply_error(r, 409, "duplicate_application",
                    "this email already has an application pending for this program");
        goto out;
    }
    if (new_reference(r->db, ref) < 0) goto rollback;
    if (db_int(r->db, &id, "INSERT INTO campus_applications (reference, first_name, last_name, email, program_id, "
                           "birth_date, phone, previous_school, language) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
                           "RETURNING id",
               DB_S(ref), DB_S(first), DB_S(last), DB_S(email), DB_I(program), DB_S(birth), DB_S(phone),
               DB_S(school), DB_S(r->lang)) != 1) {
        bool dup = db_constraint_failed(r->db);     /* the pending index, should a race get past the check */
        db_rollback(r->db);
        if (dup) reply_error(r, 409, "duplicate_application",
                             "this email already has an application pending for this program");
        else reply_db_error(r);
        goto out;
    }
    if (!(row = db_json_one(r->db, "SELECT reference, status, program_id, created_at AS submitted_at FROM "
                                   "campus_applications WHERE id = $1", DB_I(id))) ||
        audit_write(r->db, r, "campus", "campus.application.submitted", "application", id,
                    json_pack("{s:s, s:I}", "reference", ref, "program_id", (json_int_t)program)) < 0 ||
        db_commit(r->db) < 0) {
        json_decref(row);
        goto rollback;
    }
    snprintf(subject, sizeof subject, i18n_text(r->lang, "Your application %s was received"), ref);
    snprintf(text, sizeof text,
             /* nothing the form's author typed goes into the text: the public
              * form must not relay someone's words to any address */
             i18n_text(r->lang, "Hello,\n\nWe received an application to %s (%s) for this email address. Its "
                                "reference is %s.\nWith the reference and this email address you can check its "
                                "status at any time. If you did not apply, you can ignore this message.\n"),
             str(prog, "name"), str(prog, "code"), ref);
    email_applicant(r, email, subject, text);
    reply_json(r, 201, row);
    goto out;
rollback:
    db_rollback(r->db);
db_error:
    reply_db_error(r);
out:
    json_decref(p.details);
    json_decref(prog);
}

void campus_admissions_status(struct req *r)
{
    const char *ref = NULL, *email = NULL;
    if (req_unpack(r, "{s:s, s:s}", "reference", &ref, "email", &email) < 0) return;
    json_t *a = db_json_one(r->db, "SELECT a.reference, a.status, json_object('id', p.id, 'code', p.code, 'name', "
                                   "p.name) AS program__json, a.created_at AS submitted_at, a.decided_at, "
                                   "a.decision_reason, st.number AS student_number FROM campus_applications a JOIN "
                                   "campus_programs p ON p.id = a.program_id LEFT JOIN campus_students st ON "
                                   "st.id = a.student_id WHERE a.reference = $1 AND a.email = $2",
                            DB_S(clean(r, ref, 'u')), DB_S(clean(r, email, 'l')));
    if (!a) {
        /* unknown reference, another email: one answer, so nothing is learned */
        reply_error(r, 404, "not_found", "no application matches this reference and email");
        return;
    }
    if (strcmp(str(a, "status"), "rejected")) json_object_del(a, "decision_reason");
    if (strcmp(str(a, "status"), "approved")) json_object_del(a, "student_number");
    reply_json(r, 200, a);
}

/* The registrar: list, read, approve, reject. */

void campus_admissions_list(struct req *r)
{
    struct page pg;
    const char *status = req_query(r, "status"), *q = req_query(r, "q");
    if (req_page(r, &pg) < 0) return;
    if (status && strcmp(status, "submitted") && strcmp(status, "approved") && strcmp(status, "rejected")) {
        reply_invalid(r, "status", "must be submitted, approved or rejected");
        return;
    }
#define WHERE                                                                                                  \
    "WHERE (CAST($1 AS TEXT) IS NULL OR a.status = $1) AND (CAST($2 AS TEXT) IS NULL OR a.reference LIKE '%' || " \
    "$2 || '%' OR a.email LIKE '%' || $2 || '%' OR a.first_name LIKE '%' || $2 || '%' OR a.last_name LIKE '%' " \
    "|| $2 || '%') "
    reply_page(r, &pg, "SELECT COUNT(*) FROM campus_applications a " WHERE,
               APPLICATION_SELECT WHERE "ORDER BY a.id LIMIT $3 OFFSET $4", DB_S(status), DB_S(q));
#undef WHERE
}

void campus_admissions_get(struct req *r)
{
    json_t *a = db_json_one(r->db, APPLICATION_SELECT "WHERE a.id = $1", DB_I(r->param_int[0]));
    if (!a) {
        reply_not_found(r);
        return;
    }
    reply_json(r, 200, a);
}

void campus_admissions_approve(struct req *r)
{
    int64_t id = r->param_int[0], user = 0, student = 0;
    json_int_t year = 1;
    char password[24], hash[128] = "", number[16], subject[256], text[4096];
    const char *problem_code = NULL, *lang;
    json_t *a = NULL, *out = NULL;
    bool submitted, sent;
    int n;
    if (r->body && req_unpack(r, "{s?I}", "year_level", &year) < 0) return;
    if (year < 1 || year > 6) {
        reply_invalid(r, "year_level", "must be a whole number from 1 to 6");
        return;
    }
    /* Before the slow hash: an application already decided (or none) answers at once. */
    char *status = db_text(r->db, "SELECT status FROM campus_applications WHERE id = $1", DB_I(id));
    submitted = status && !strcmp(status, "submitted");
    free(status);
    if (!submitted) {
        reply_not_submitted(r, id);
        return;
    }
    for (int g = 0; g < 4; g++) {         /* xxxxx-xxxxx-xxxxx-xxxxx */
        random_chars(password + g * 6, 5, pw_alphabet);
        password[g * 6 + 5] = '-';
    }
    password[23] = 0;
    if (auth_hash_password(password, hash) < 0) goto db_error;

    if (db_begin(r->db) < 0) goto db_error;
    n = db_exec(r->db, "UPDATE campus_applications SET status = 'approved', decided_by = $2, decided_at = "
                       CAMPUS_NOW_SQL " WHERE id = $1 AND status = 'submitted'", DB_I(id), DB_I(r->user.id));
    if (n < 0) goto rollback;
    if (n == 0) {               /* another registrar decided it first */
        db_rollback(r->db);
        reply_not_submitted(r, id);
        goto out;
    }
    if (!(a = db_json_one(r->db, "SELECT a.reference, a.first_name, a.last_name, a.email, a.program_id, "
                                 "a.language, p.name AS program_name FROM campus_applications a JOIN campus_programs "
                                 "p ON p.id = a.program_id WHERE a.id = $1", DB_I(id))) ||
        next_student_number(r->db, number) < 0)
        goto rollback;
    if (auth_create_user_hashed(r->db, number, hash, str(a, "email"),
                                display_name(r, str(a, "first_name"), str(a, "last_name")), &user,
                                &problem_code) < 0) {
        db_rollback(r->db);
        if (problem_code && !strcmp(problem_code, "email_taken"))
            reply_error(r, 409, "email_taken", "a user with this email already exists: nothing was changed");
        else reply_db_error(r);
        goto out;
    }
    if (rbac_grant_role(r->db, r, user, "campus", "student", NULL, 0) < 0 ||
        db_int(r->db, &student, "INSERT INTO campus_students (user_id, number, program_id, year_level, first_name, "
                                "last_name, email) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
               DB_I(user), DB_S(number), DB_I(json_integer_value(json_object_get(a, "program_id"))), DB_I(year),
               DB_S(str(a, "first_name")), DB_S(str(a, "last_name")), DB_S(str(a, "email"))) != 1 ||
        db_exec(r->db, "UPDATE campus_applications SET student_id = $2 WHERE id = $1", DB_I(id), DB_I(student)) != 1 ||
        audit_write(r->db, r, "campus", "campus.application.approved", "application", id,
                    json_pack("{s:s, s:I, s:s, s:I, s:I}", "reference", str(a, "reference"), "student_id",
                              (json_int_t)student, "student_number", number, "user_id", (json_int_t)user,
                              "year_level", year)) < 0 ||
        !(out = db_json_one(r->db, APPLICATION_SELECT "WHERE a.id = $1", DB_I(id))) || db_commit(r->db) < 0)
        goto rollback;

    lang = str(a, "language");
    snprintf(subject, sizeof subject, i18n_text(lang, "Your application %s was approved"), str(a, "reference"));
    snprintf(text, sizeof text,
             i18n_text(lang, "Dear %s %s,\n\nWelcome! Your application to %s was approved. Your student number is "
                             "%s, which is also your username.\n\nThe registrar's office gives you a one-time "
                             "password in person. After you sign in with it, choose your own password.\n"),
             str(a, "first_name"), str(a, "last_name"), str(a, "program_name"), number);
    sent = email_applicant(r, str(a, "email"), subject, text);
    sodium_memzero(text, sizeof text);
    json_object_set_new(out, "student", json_pack("{s:I, s:s}", "id", (json_int_t)student, "number", number));
    json_object_set_new(out, "account", json_pack("{s:I, s:s, s:s}", "user_id", (json_int_t)user, "username", number,
                                                  "temporary_password", password));
    json_object_set_new(out, "email_sent", json_boolean(sent));
    reply_header(r, "Cache-Control", "no-store");
    reply_json(r, 200, out);
    out = NULL;
    goto out;
rollback:
    db_rollback(r->db);
db_error:
    reply_db_error(r);
out:
    sodium_memzero(password, sizeof password);
    sodium_memzero(hash, sizeof hash);
    json_decref(a);
    json_decref(out);
}

void campus_admissions_reject(struct req *r)
{
    int64_t id = r->param_int[0];
    const char *reason = NULL, *lang;
    char subject[256], text[4096];
    json_t *out = NULL;
    int n;
    if (req_unpack(r, "{s:s}", "reason", &reason) < 0 || req_text(r, "reason", reason, MAX_REASON, true) < 0) return;
    reason = clean(r, reason, 0);
    if (db_begin(r->db) < 0) goto db_error;
    n = db_exec(r->db, "UPDATE campus_applications SET status = 'rejected', decision_reason = $2, decided_by = $3, "
                       "decided_at = " CAMPUS_NOW_SQL " WHERE id = $1 AND status = 'submitted'",
                DB_I(id), DB_S(reason), DB_I(r->user.id));
    if (n < 0) goto rollback;
    if (n == 0) {
        db_rollback(r->db);
        reply_not_submitted(r, id);
        return;
    }
    if (!(out = db_json_one(r->db, APPLICATION_SELECT "WHERE a.id = $1", DB_I(id))) ||
        audit_write(r->db, r, "campus", "campus.application.rejected", "application", id,
                    json_pack("{s:s, s:s}", "reference", str(out, "reference"), "reason", reason)) < 0 ||
        db_commit(r->db) < 0)
        goto rollback;
    lang = str(out, "language");
    snprintf(subject, sizeof subject, i18n_text(lang, "Your application %s was not accepted"), str(out, "reference"));
    snprintf(text, sizeof text,
             i18n_text(lang, "Dear %s %s,\n\nWe are sorry: your application to %s was not accepted.\nReason: %s\n"),
             str(out, "first_name"), str(out, "last_name"), str(out, "program_name"), reason);
    json_object_set_new(out, "email_sent", json_boolean(email_applicant(r, str(out, "email"), subject, text)));
    reply_json(r, 200, out);
    return;
rollback:
    json_decref(out);
    db_rollback(r->db);
db_error:
    reply_db_error(r);
}
