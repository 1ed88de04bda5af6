/* catalog_manage.c -- the registrar writes the catalog (campus.catalog.manage;
 * admins too).
 *
 * POST /semesters {code, name, starts_on, ends_on, enrollment_opens_at,
 * enrollment_closes_at, months, fees?}: real dates, starts_on < ends_on; the
 * window in RFC 3339 UTC (YYYY-MM-DDTHH:MM:SSZ exactly), opens < closes;
 * months 1..12; fees [{name, amount_cents, program_id?}] written with it.
 * PATCH /semesters/{id} {name?, enrollment_opens_at?, enrollment_closes_at?}
 * moves or extends the window (opens < closes after the change).
 * POST /subjects {code, title, units, prerequisites?}; PUT
 * /subjects/{id}/prerequisites {prerequisites} replaces the list and refuses
 * a cycle (409 prerequisite_cycle naming the chain).
 * POST /sections {semester_id, subject_id, code, capacity, room?,
 * faculty_id?, meetings}: meetings well formed and apart from each other, the
 * room free at those times in the semester (409 room_conflict); the faculty
 * gets the faculty role scoped to the new section in the same transaction.
 *
 * The body's shape is checked first (400 validation_failed naming the field,
 * meetings[1].ends_at); then, inside the write transaction, what it refers to
 * (400 naming the field too: a reference is part of the body); then the code
 * (409 duplicate_code, in any case: a semester's and a subject's among all, a
 * section's within its semester). Writes run one at a time (BEGIN IMMEDIATE;
 * on PostgreSQL these routes are not ROUTE_ROW_LOCKS), so a check and its
 * write never race. Each write is audited as campus.<resource>.created or
 * .updated. */
#include "campus.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CODE_CHARS 20
#define NAME_CHARS 100
#define TITLE_CHARS 200
#define ROOM_CHARS 40
#define MAX_FEES 20
#define MAX_PREREQS 20
#define MAX_MEETINGS 14
#define MAX_FEE_CENTS 100000000000LL
/* A cycle is named by its shortest chain; no catalog chains this deep. */
#define MAX_CHAIN 64

/* ------------------------------------------------------------- body checks */

/* 400 naming array[i] or array[i].sub; always -1. */
static int item_invalid(struct req *r, const char *array, size_t i, const char *sub, const char *problem)
{
    char field[64];
    snprintf(field, sizeof field, "%s[%zu]%s%s", array, i, sub ? "." : "", sub ? sub : "");
    reply_invalid(r, field, problem);
    return -1;
}

/* Codes are identifiers people type and print: 1..CODE_CHARS letters, digits,
 * '-', '_' or '.'. */
static int code_check(struct req *r, const char *code)
{
    size_t n = strlen(code);
    if (n >= 1 && n <= CODE_CHARS &&
        strspn(code, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") == n)
        return 0;
    reply_invalidf(r, "code", "must be 1 to %d letters, digits, '-', '_' or '.'", CODE_CHARS);
    return -1;
}

/* "YYYY-MM-DDTHH:MM:SSZ" naming a real instant, written the one way (no
 * offset, no fraction, no leap second); NULL (absent) passes. */
static int time_check(struct req *r, const char *field, const char *value)
{
    struct tm tm = {0};
    char back[32] = "";
    if (!value) return 0;
    const char *end = strlen(value) == 20 ? strptime(value, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;
    if (end && !*end) {
        time_t t = timegm(&tm);
        strftime(back, sizeof back, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
    }
    if (!strcmp(back, value)) return 0;
    reply_invalid(r, field, "must be an RFC 3339 UTC time like 2026-11-21T09:30:00Z");
    return -1;
}

/* "HH:MM", 00:00 to 23:59. */
static bool hhmm_ok(const char *s)
{
    return s && strlen(s) == 5 && strspn(s, "0123456789") == 2 && s[2] == ':' && strspn(s + 3, "0123456789") == 2 &&
           (s[0] - '0') * 10 + (s[1] - '0') < 24 && s[3] < '6';
}

/* fees?: [{name, amount_cents, program_id?}] (program_id absent or null:
 * every program); the programs are checked in the transaction. */
static int fees_check(struct req *r, json_t *fees)
{
    size_t i;
    json_t *v;
    char field[48];
    if (!fees) return 0;
    if (!json_is_array(fees) || json_array_size(fees) > MAX_FEES) {
        reply_invalidf(r, "fees", "must be an array of at most %d fees", MAX_FEES);
        return -1;
    }
    json_array_foreach(fees, i, v) {
        json_t *amount = json_object_get(v, "amount_cents"), *program = json_object_get(v, "program_id");
        if (!json_is_object(v))
            return item_invalid(r, "fees", i, NULL, N_("must be an object {name, amount_cents, program_id?}"));
        snprintf(field, sizeof field, "fees[%zu].name", i);
        if (req_text(r, field, json_string_value(json_object_get(v, "name")), NAME_CHARS, true) < 0) return -1;
        if (!json_is_integer(amount) || json_integer_value(amount) < 0 || json_integer_value(amount) > MAX_FEE_CENTS)
            return item_invalid(r, "fees", i, "amount_cents", N_("must be an integer from 0 to 100000000000"));
        if (program && !json_is_null(program) && (!json_is_integer(program) || json_integer_value(program) < 1))
            return item_invalid(r, "fees", i, "program_id", N_("must be a program id or null"));
        if (json_object_size(v) != 2 + (program != NULL))
            return item_invalid(r, "fees", i, NULL, N_("has unknown fields (allowed: name, amount_cents, program_id)"));
    }
    return 0;
}

struct prereq {
    int64_t id;
    int grade;                  /* hundredths */
};

/* prerequisites: [{subject_id, min_grade}], each subject once; min_grade a
 * JSON number from 1.0 to 5.0 in steps of 0.25. */
static int prereqs_parse(struct req *r, json_t *list, struct prereq *out, size_t *n)
{
    size_t i;
    json_t *v;
    *n = 0;
    if (!list) return 0;
    if (!json_is_array(list) || json_array_size(list) > MAX_PREREQS) {
        reply_invalidf(r, "prerequisites", "must be an array of at most %d prerequisites", MAX_PREREQS);
        return -1;
    }
    json_array_foreach(list, i, v) {
        json_t *id = json_object_get(v, "subject_id"), *g = json_object_get(v, "min_grade");
        double x = json_number_value(g);
        int h = x >= 1 && x <= 5 ? (int)lround(x * 100) : 0;
        if (!json_is_object(v))
            return item_invalid(r, "prerequisites", i, NULL, N_("must be an object {subject_id, min_grade}"));
        if (!json_is_integer(id) || json_integer_value(id) < 1)
            return item_invalid(r, "prerequisites", i, "subject_id", N_("must be a subject id"));
        if (!json_is_number(g) || !h || fabs(x * 100 - h) > 1e-6 || h % 25)
            return item_invalid(r, "prerequisites", i, "min_grade",
                                N_("must be a number from 1.0 to 5.0 in steps of 0.25"));
        if (json_object_size(v) != 2)
            return item_invalid(r, "prerequisites", i, NULL, N_("has unknown fields (allowed: subject_id, min_grade)"));
        for (size_t j = 0; j < i; j++) {
            if (out[j].id != json_integer_value(id)) continue;
            char field[48];
            snprintf(field, sizeof field, "prerequisites[%zu].subject_id", i);
            reply_invalidf(r, field, "repeats prerequisites[%zu]", j);
            return -1;
        }
        out[i] = (struct prereq){json_integer_value(id), h};
        *n = i + 1;
    }
    return 0;
}

struct meeting {
    int64_t day;
    const char *starts_at, *ends_at;        /* the body's */
};

/* meetings: 1..MAX_MEETINGS [{day, starts_at, ends_at}], none overlapping
 * another on its day (back to back is fine). */
static int meetings_parse(struct req *r, json_t *list, struct meeting *out, size_t *n)
{
    size_t i;
    json_t *v;
    if (!json_is_array(list) || json_array_size(list) < 1 || json_array_size(list) > MAX_MEETINGS) {
        reply_invalidf(r, "meetings", "must be an array of 1 to %d meetings", MAX_MEETINGS);
        return -1;
    }
    json_array_foreach(list, i, v) {
        json_t *day = json_object_get(v, "day");
        const char *from = json_string_value(json_object_get(v, "starts_at"));
        const char *to = json_string_value(json_object_get(v, "ends_at"));
        if (!json_is_object(v))
            return item_invalid(r, "meetings", i, NULL, N_("must be an object {day, starts_at, ends_at}"));
        if (!json_is_integer(day) || json_integer_value(day) < 1 || json_integer_value(day) > 7)
            return item_invalid(r, "meetings", i, "day", N_("must be 1 (Monday) to 7 (Sunday)"));
        if (!hhmm_ok(from)) return item_invalid(r, "meetings", i, "starts_at", N_("must be a time HH:MM"));
        if (!hhmm_ok(to)) return item_invalid(r, "meetings", i, "ends_at", N_("must be a time HH:MM"));
        if (strcmp(from, to) >= 0) return item_invalid(r, "meetings", i, "ends_at", N_("must be after starts_at"));
        if (json_object_size(v) != 3)
            return item_invalid(r, "meetings", i, NULL, N_("has unknown fields (allowed: day, starts_at, ends_at)"));
        out[i] = (struct meeting){json_integer_value(day), from, to};
        for (size_t j = 0; j < i; j++) {
            if (out[j].day != out[i].day || strcmp(out[j].starts_at, to) >= 0 || strcmp(from, out[j].ends_at) >= 0)
                continue;
            char field[32];
            snprintf(field, sizeof field, "meetings[%zu]", i);
            reply_invalidf(r, field, "overlaps meetings[%zu]", j);
            return -1;
        }
    }
    *n = i;
    return 0;
}

/* ------------------------------------------------- checks in the transaction */

/* The row sql counts (taking $1 = id) exists; else 400 naming field. -1
 * after a reply. */
static int ref_check(struct req *r, const char *sql, int64_t id, const char *field, const char *problem)
{
    int64_t n = 0;
    if (db_int(r->db, &n, sql, DB_I(id)) != 1) {
        reply_db_error(r);
        return -1;
    }
    if (n) return 0;
    reply_invalid(r, field, problem);
    return -1;
}

/* sql counts the rows that already have the code: 409 duplicate_code. */
static int code_free_(struct req *r, const char *code, const char *sql, const struct db_arg *args)
{
    int64_t n = 0;
    if (db_int_(r->db, &n, sql, args) != 1) {
        reply_db_error(r);
        return -1;
    }
    if (!n) return 0;
    reply_error(r, 409, "duplicate_code", "the code %s is already taken", code);
    return -1;
}
#define code_free(r, code, sql, ...) code_free_(r, code, sql, DB_ARGS(__VA_ARGS__))

/* Would `subject` requiring `requires` close a cycle? It does when `requires`
 * already leads back to `subject` through the prerequisites of others (the
 * subject's own are being replaced, so the walk stops at it): 409
 * prerequisite_cycle with the chain, each code requiring the next. The first
 * query only answers yes or no, visiting each subject once. The second spells
 * the chain: both databases walk a recursive query breadth first and stop at
 * the first row the LIMIT takes, so it is a shortest one. */
static int cycle_check(struct req *r, int64_t subject, int64_t requires)
{
    int64_t n = 0;
    if (db_int(r->db, &n, "WITH RECURSIVE reach(id) AS (SELECT CAST($1 AS INTEGER) UNION SELECT p.requires_id FROM "
                          "campus_prerequisites p JOIN reach ON p.subject_id = reach.id WHERE reach.id <> $2) "
                          "SELECT COUNT(*) FROM reach WHERE id = $2",
               DB_I(requires), DB_I(subject)) != 1) {
        reply_db_error(r);
        return -1;
    }
    if (!n) return 0;
    char *chain = db_text(r->db, "WITH RECURSIVE chain(id, path, depth) AS (SELECT s.id, CAST(t.code AS TEXT) || "
                                 "' > ' || s.code, 1 FROM campus_subjects s JOIN campus_subjects t ON t.id = $2 "
                                 "WHERE s.id = $1 UNION ALL SELECT p.requires_id, c.path || ' > ' || s.code, "
                                 "c.depth + 1 FROM chain c JOIN campus_prerequisites p ON p.subject_id = c.id "
                                 "JOIN campus_subjects s ON s.id = p.requires_id WHERE c.id <> $2 AND c.depth < $3) "
                                 "SELECT path FROM chain WHERE id = $2 LIMIT 1",
                             DB_I(requires), DB_I(subject), DB_I(MAX_CHAIN));
    if (!chain) {
        reply_db_error(r);
        return -1;
    }
    char msg[512], *copy = xstrdup(chain), *save = NULL;
    json_t *codes = json_array();
    for (char *code = strtok_r(copy, " >", &save); code; code = strtok_r(NULL, " >", &save))
        json_array_append_new(codes, json_string(code));
    snprintf(msg, sizeof msg, tr(r, "the prerequisites would form a cycle: %s"), chain);
    free(copy);
    free(chain);
    reply_json(r, 409, json_pack("{s:{s:s, s:s, s:{s:I, s:o}}}", "error", "code", "prerequisite_cycle", "message", msg,
                                 "details", "subject_id", (json_int_t)requires, "chain", codes));
    return -1;
}

/* The subjects exist, none is `subject` itself (0: a new subject), none
 * closes a cycle. -1 after a reply. */
static int prereqs_check(struct req *r, int64_t subject, const struct prereq *p, size_t n)
{
    char field[48];
    for (size_t i = 0; i < n; i++) {
        snprintf(field, sizeof field, "prerequisites[%zu].subject_id", i);
        if (p[i].id == subject) {
            reply_invalid(r, field, "a subject cannot require itself");
            return -1;
        }
        if (ref_check(r, "SELECT COUNT(*) FROM campus_subjects WHERE id = $1", p[i].id, field,
                      N_("no such subject")) < 0)
            return -1;
    }
    /* a new subject is required by nobody yet: it cannot close a cycle */
    for (size_t i = 0; subject && i < n; i++)
        if (cycle_check(r, subject, p[i].id) < 0) return -1;
    return 0;
}

/* A subject answer's prerequisites for its audit row: {subject_id,
 * min_grade} each (the log redacts every key holding "code"). New. */
static json_t *prereqs_summary(json_t *subject)
{
    json_t *out = json_array(), *v;
    size_t i;
    json_array_foreach(json_object_get(subject, "prerequisites"), i, v)
        json_array_append_new(out, json_pack("{s:O, s:O}", "subject_id", json_object_get(v, "subject_id"),
                                             "min_grade", json_object_get(v, "min_grade")));
    return out;
}

static int prereqs_write(struct db *db, int64_t subject, const struct prereq *p, size_t n)
{
    if (db_exec(db, "DELETE FROM campus_prerequisites WHERE subject_id = $1", DB_I(subject)) < 0) return -1;
    for (size_t i = 0; i < n; i++)
        if (db_exec(db, "INSERT INTO campus_prerequisites (subject_id, requires_id, min_grade) VALUES ($1, $2, $3)",
                    DB_I(subject), DB_I(p[i].id), DB_I(p[i].grade)) != 1)
            return -1;
    return 0;
}

/* ---------------------------------------------------------------- semesters */

void campus_semesters_create(struct req *r)
{
    const char *code, *name, *starts_on, *ends_on, *opens, *closes;
    json_int_t months = 0;
    json_t *fees = NULL, *out = NULL, *v;
    int64_t from, to, id = 0;
    size_t i;
    if (req_unpack(r, "{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s?o}", "code", &code, "name", &name, "starts_on",
                   &starts_on, "ends_on", &ends_on, "enrollment_opens_at", &opens, "enrollment_closes_at", &closes,
                   "months", &months, "fees", &fees) < 0 ||
        code_check(r, code) < 0 || req_text(r, "name", name, NAME_CHARS, true) < 0)
        return;
    if (req_date(r, "starts_on", starts_on, &from) < 0 || req_date(r, "ends_on", ends_on, &to) < 0) return;
    if (to <= from) {
        reply_invalid(r, "ends_on", "must be after starts_on");
        return;
    }
    if (time_check(r, "enrollment_opens_at", opens) < 0 || time_check(r, "enrollment_closes_at", closes) < 0) return;
    if (strcmp(opens, closes) >= 0) {
        reply_invalid(r, "enrollment_closes_at", "must be after enrollment_opens_at");
        return;
    }
    if (months < 1 || months > 12) {
        reply_invalid(r, "months", "must be 1 to 12");
        return;
    }
    if (fees_check(r, fees) < 0) return;
    if (db_begin(r->db) < 0) goto db_error;
    json_array_foreach(fees, i, v) {
        char field[48];
        snprintf(field, sizeof field, "fees[%zu].program_id", i);
        int64_t program = json_integer_value(json_object_get(v, "program_id"));     /* null: 0 */
        if (program && ref_check(r, "SELECT COUNT(*) FROM campus_programs WHERE id = $1", program, field,
                                 N_("no such program")) < 0)
            goto refused;
    }
    if (code_free(r, code, "SELECT COUNT(*) FROM campus_semesters WHERE LOWER(code) = LOWER($1)", DB_S(code)) < 0)
        goto refused;
    if (db_int(r->db, &id, "INSERT INTO campus_semesters (code, name, starts_on, ends_on, enrollment_opens_at, "
                           "enrollment_closes_at, months) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
               DB_S(code), DB_S(name), DB_S(starts_on), DB_S(ends_on), DB_S(opens), DB_S(closes), DB_I(months)) != 1)
        goto rollback;
    json_array_foreach(fees, i, v) {
        int64_t program = json_integer_value(json_object_get(v, "program_id"));
        if (db_exec(r->db, "INSERT INTO campus_fees (semester_id, program_id, name, amount_cents) VALUES ($1, $2, $3, "
                           "$4)", DB_I(id), program ? DB_I(program) : DB_NULL,
                    DB_S(json_string_value(json_object_get(v, "name"))),
                    DB_I(json_integer_value(json_object_get(v, "amount_cents")))) != 1)
            goto rollback;
    }
    out = campus_semester_json(r->db, id);
    if (!out ||
        audit_write(r->db, r, "campus", "campus.semester.created", "semester", id,
                    json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:O}", "semester", code, "name", name, "starts_on",
                              starts_on, "ends_on", ends_on, "enrollment_opens_at", opens, "enrollment_closes_at",
                              closes, "months", months, "fees", json_object_get(out, "fees"))) < 0 ||
        db_commit(r->db) < 0)
        goto rollback;
    reply_json(r, 201, out);
    out = NULL;
    goto out;
refused:                        /* replied */
    db_rollback(r->db);
    goto out;
rollback:
    db_rollback(r->db);
db_error:
    reply_db_error(r);
out:
    json_decref(out);
}

/* The window moves or grows; the class dates and the months stay (they
 * shape installments already billed). */
void campus_semesters_update(struct req *r)
{
    int64_t id = r->param_int[0];
    const char *name = NULL, *opens = NULL, *closes = NULL;
    json_t *was = NULL, *out = NULL;
    if (req_unpack(r, "{s?s, s?s, s?s}", "name", &name, "enrollment_opens_at", &opens, "enrollment_closes_at",
                   &closes) < 0 ||
        req_text(r, "name", name, NAME_CHARS, false) < 0 || time_check(r, "enrollment_opens_at", opens) < 0 ||
        time_check(r, "enrollment_closes_at", closes) < 0)
        return;
    if (!name && !opens && !closes) {
        reply_invalid(r, "name", "give name, enrollment_opens_at or enrollment_closes_at");
        return;
    }
    if (db_begin(r->db) < 0) goto db_error;
    was = db_json_one(r->db, "SELECT name, enrollment_opens_at, enrollment_closes_at FROM campus_semesters "
                             "WHERE id = $1", DB_I(id));
    if (!was) {
        db_rollback(r->db);
        reply_not_found(r);
        goto out;
    }
    const char *o = opens ? opens : json_string_value(json_object_get(was, "enrollment_opens_at"));
    const char *c = closes ? closes : json_string_value(json_object_get(was, "enrollment_closes_at"));
    if (strcmp(o, c) >= 0) {
        db_rollback(r->db);
        if (closes) reply_invalid(r, "enrollment_closes_at", "must be after enrollment_opens_at");
        else reply_invalid(r, "enrollment_opens_at", "must be before enrollment_closes_at");
        goto out;
    }
    if (db_exec(r->db, "UPDATE campus_semesters SET name = COALESCE($2, name), enrollment_opens_at = $3, "
                       "enrollment_closes_at = $4 WHERE id = $1", DB_I(id), DB_S(name), DB_S(o), DB_S(c)) != 1 ||
        audit_write(r->db, r, "campus", "campus.semester.updated", "semester", id,
                    json_pack("{s:O, s:O, s:O, s:s?, s:s?, s:s?}", "name_was", json_object_get(was, "name"),
                              "enrollment_opens_at_was", json_object_get(was, "enrollment_opens_at"),
                              "enrollment_closes_at_was", json_object_get(was, "enrollment_closes_at"), "name", name,
                              "enrollment_opens_at", opens, "enrollment_closes_at", closes)) < 0 ||
        !(out = campus_semester_json(r->db, id)) || db_commit(r->db) < 0)
        goto rollback;
    reply_json(r, 200, out);
    out = NULL;
    goto out;
rollback:
    db_rollback(r->db);
db_error:
    reply_db_error(r);
out:
    json_decref(out);
    json_decref(was);
}

/* ----------------------------------------------------------------- subjects */

void campus_subjects_create(struct req *r)
{
    const char *code, *title;
    json_int_t units = 0;
    json_t *list = NULL, *out = NULL;
    struct prereq p[MAX_PREREQS];
    size_t n = 0;
    int64_t id = 0;
    if (req_unpack(r, "{s:s, s:s, s:I, s?o}", "code", &code, "title", &title, "units", &units, "prerequisites",
                   &list) < 0 ||
        code_check(r, code) < 0 || req_text(r, "title", title, TITLE_CHARS, true) < 0)
        return;
    if (units < 1 || units > 10) {
        reply_invalid(r, "units", "must be 1 to 10");
        return;
    }
    if (prereqs_parse(r, list, p, &n) < 0) return;
    if (db_begin(r->db) < 0) goto db_error;
    if (prereqs_check(r, 0, p, n) < 0 ||
        code_free(r, code, "SELECT COUNT(*) FROM campus_subjects WHERE LOWER(code) = LOWER($1)", DB_S(code)) < 0) {
        db_rollback(r->db);
        goto out;
    }
    if (db_int(r->db, &id, "INSERT INTO campus_subjects (code, title, units) VALUES ($1, $2, $3) RETURNING id",
               DB_S(code), DB_S(title), DB_I(units)) != 1 ||
        prereqs_write(r->db, id, p, n) < 0 || !(out = campus_subject_json(r->db, id)) ||
        audit_write(r->db, r, "campus", "campus.subject.created", "subject", id,
                    json_pack("{s:s, s:s, s:I, s:o}", "subject", code, "title", title, "units", units,
                              "prerequisites", prereqs_summary(out))) < 0 ||
        db_commit(r->db) < 0)
        goto rollback;
    reply_json(r, 201, out);
    out = NULL;
    goto out;
rollback:
    db_rollback(r->db);
db_error:
    reply_db_error(r);
out:
    json_decref(out);
}

/* The list replaces the subject's prerequisites (empty: none). Students
 * already enrolled keep their seats: prerequisites are checked when one
 * enrolls. */
void campus_subjects_prerequisites(struct req *r)
{
    int64_t id = r->param_int[0];
    json_t *list = NULL, *was = NULL, *out = NULL;
    struct prereq p[MAX_PREREQS];
    size_t n = 0;
    if (req_unpack(r, "{s:o}", "prerequisites", &list) < 0 || prereqs_parse(r, list, p, &n) < 0) return;
    if (db_begin(r->db) < 0) goto db_error;
    if (!(was = campus_subject_json(r->db, id))) {
        db_rollback(r->db);
        reply_not_found(r);
        goto out;
    }
    if (prereqs_check(r, id, p, n) < 0) {
        db_rollback(r->db);
        goto out;
    }
    if (prereqs_write(r->db, id, p, n) < 0 || !(out = campus_subject_json(r->db, id)) ||
        audit_write(r->db, r, "campus", "campus.subject.updated", "subject", id,
                    json_pack("{s:O, s:o, s:o}", "subject", json_object_get(was, "code"), "prerequisites_was",
                              prereqs_summary(was), "prerequisites", prereqs_summary(out))) < 0 ||
        db_commit(r->db) < 0)
        goto rollback;
    reply_json(r, 200, out);
    out = NULL;
    goto out;
rollback:
    db_rollback(r->db);
db_error:
    reply_db_error(r);
out:
    json_decref(out);
    json_decref(was);
}

/* ----------------------------------------------------------------- sections */

void campus_sections_create(struct req *r)
{
    json_int_t semester = 0, subject = 0, capacity = 0, faculty = 0;
    const char *code, *room = NULL;
    json_t *list = NULL, *out = NULL;
    struct meeting m[MAX_MEETINGS];
    size_t n = 0;
    int64_t id = 0;
    if (req_unpack(r, "{s:I, s:I, s:s, s:I, s?s, s?I, s:o}", "semester_id", &semester, "subject_id", &subject, "code",
                   &code, "capacity", &capacity, "room", &room, "faculty_id", &faculty, "meetings", &list) < 0 ||
        code_check(r, code) < 0 || req_text(r, "room", room, ROOM_CHARS, false) < 0)
        return;
    bool has_faculty = json_object_get(r->body, "faculty_id") != NULL;
    if (capacity < 1 || capacity > 10000) {
        reply_invalid(r, "capacity", "must be 1 to 10000");
        return;
    }
    if (meetings_parse(r, list, m, &n) < 0) return;
    if (db_begin(r->db) < 0) goto db_error;
    if (ref_check(r, "SELECT COUNT(*) FROM campus_semesters WHERE id = $1", semester, "semester_id",
                  N_("no such semester")) < 0 ||
        ref_check(r, "SELECT COUNT(*) FROM campus_subjects WHERE id = $1", subject, "subject_id",
                  N_("no such subject")) < 0 ||
        (has_faculty && campus_faculty_check(r, faculty) < 0) ||
        code_free(r, code, "SELECT COUNT(*) FROM campus_sections WHERE semester_id = $1 AND LOWER(code) = LOWER($2)",
                  DB_I(semester), DB_S(code)) < 0)
        goto refused;
    if (db_int(r->db, &id, "INSERT INTO campus_sections (semester_id, subject_id, code, faculty_id, room, capacity) "
                           "VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
               DB_I(semester), DB_I(subject), DB_S(code), has_faculty ? DB_I(faculty) : DB_NULL,
               DB_S(room ? room : ""), DB_I(capacity)) != 1)
        goto rollback;
    for (size_t i = 0; i < n; i++)
        if (db_exec(r->db, "INSERT INTO campus_meetings (section_id, day, starts_at, ends_at) VALUES ($1, $2, $3, $4)",
                    DB_I(id), DB_I(m[i].day), DB_S(m[i].starts_at), DB_S(m[i].ends_at)) != 1)
            goto rollback;
    if (room && campus_room_check(r, id) < 0) goto refused;         /* replied 409 */
    /* the teacher reads the roster and grades at once: the role commits with the section */
    if ((has_faculty && rbac_grant_role(r->db, r, faculty, "campus", "faculty", "section", id) < 0) ||
        !(out = campus_section_json(r->db, id)) ||
        audit_write(r->db, r, "campus", "campus.section.created", "section", id,
                    json_pack("{s:I, s:I, s:s, s:I, s:s?, s:o?, s:O}", "semester_id", semester, "subject_id", subject,
                              "section", code, "capacity", capacity, "room", room, "faculty_id",
                              has_faculty ? json_integer(faculty) : NULL, "meetings",
                              json_object_get(out, "meetings"))) < 0 ||
        db_commit(r->db) < 0)
        goto rollback;
    reply_json(r, 201, out);
    out = NULL;
    goto out;
refused:                        /* replied */
    db_rollback(r->db);
    goto out;
rollback:
    db_rollback(r->db);
db_error:
    reply_db_error(r);
out:
    json_decref(out);
}
