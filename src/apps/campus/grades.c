/* grades.c -- grades, their finalization and corrections; GPA.
 *
 * PUT /enrollments/{id}/grade {grade}: the section's faculty (a faculty
 * role scoped to the section; admins too) submits or replaces the grade of
 * an enrolled student while it is not finalized. A grade is a number on the
 * 1.0 (best) to 5.0 (failed) scale -- 1.00 to 3.00 in quarter steps, 4.0
 * (conditional) or 5.0 -- or "INC" (incomplete: it must be completed within
 * a year, see the INC expiry job) or "DRP" (dropped the course); numbers may
 * come as JSON numbers or strings ("1.75").
 * POST /enrollments/{id}/grade/finalize: the registrar makes it final.
 * POST /enrollments/{id}/grade/correct {grade, reason}: the registrar alone
 * changes a final grade, with a reason kept in campus_grade_corrections.
 * Every change writes its audit row.
 *
 * GPA = Σ(grade × units) / Σ units over finalized numeric grades, per
 * semester and cumulative, rounded to hundredths (half up). */
#include "campus.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct grade {
    const char *kind;           /* "numeric", "INC", "DRP" */
    int value;                  /* hundredths when numeric */
};

/* Parses a grade from the body's `grade`; replies 400 and returns -1. */
static int grade_parse(struct req *r, json_t *v, struct grade *g)
{
    double x = 0;
    char *end = NULL;
    const char *s = json_string_value(v);
    g->value = 0;
    if (s && (!strcmp(s, "INC") || !strcmp(s, "DRP"))) {
        g->kind = s[0] == 'I' ? "INC" : "DRP";
        return 0;
    }
    if (json_is_number(v)) x = json_number_value(v);
    else if (s && *s) x = strtod(s, &end);
    bool parsed = json_is_number(v) || (s && end && !*end);
    int h = (int)lround(x * 100);
    bool step = parsed && fabs(x * 100 - h) < 1e-6 && ((h >= 100 && h <= 300 && h % 25 == 0) || h == 400 || h == 500);
    if (!step) {
        reply_invalid(r, "grade", "must be 1.0 to 3.0 in steps of 0.25, 4.0, 5.0, \"INC\" or \"DRP\"");
        return -1;
    }
    g->kind = "numeric";
    g->value = h;
    return 0;
}

static json_t *grade_text(const char *kind, int64_t value)
{
    if (strcmp(kind, "numeric")) return json_string(kind);
    return json_real((double)value / 100);
}

#define GRADE_SELECT                                                                                           \
    "SELECT g.id, g.enrollment_id, e.student_id, e.section_id, c.code AS section_code, s.code AS subject_code, " \
    "s.title AS subject_title, e.units, e.semester_id, g.kind, CASE WHEN g.kind = 'numeric' THEN "               \
    CAMPUS_GRADE_NUM("g.value") " END AS value, g.status, g.inc_given_on, g.inc_expired_at, g.submitted_by, "    \
    "g.submitted_at, g.finalized_by, g.finalized_at, g.updated_at FROM campus_grades g JOIN campus_enrollments e " \
    "ON e.id = g.enrollment_id JOIN campus_sections c ON c.id = e.section_id JOIN campus_subjects s ON "         \
    "s.id = c.subject_id "

/* An INC grade shows its deadline (moved by leaves, leaves.c). 0, or -1
 * when it cannot be read (a database error: http.c answers 500). */
static int add_deadline(struct db *db, json_t *g)
{
    int64_t given, deadline;
    const char *on = json_string_value(json_object_get(g, "inc_given_on"));
    if (strcmp(json_string_value(json_object_get(g, "kind")), "INC") || !date_parse(on, &given)) return 0;
    deadline = campus_inc_deadline(db, json_integer_value(json_object_get(g, "student_id")), given);
    if (deadline < 0) return -1;
    char text[11];
    date_format(deadline, text);
    json_object_set_new(g, "inc_deadline", json_string(text));
    return 0;
}

struct target {
    int64_t enrollment, student, section, grade_id;
    char status[16], grade_status[16], kind[8];
    int64_t value;
};

/* Inside the transaction: the enrollment and its grade, if any. 1, 0 none. */
static int target_load(struct db *db, int64_t enrollment, struct target *t)
{
    json_t *row = db_json_one(db, "SELECT e.student_id, e.section_id, e.status, COALESCE(g.id, 0) AS grade_id, "
                                  "COALESCE(g.status, '') AS grade_status, COALESCE(g.kind, '') AS kind, "
                                  "COALESCE(g.value, 0) AS value FROM campus_enrollments e LEFT JOIN campus_grades g "
                                  "ON g.enrollment_id = e.id WHERE e.id = $1",
                              DB_I(enrollment));
    if (!row) return 0;
    t->enrollment = enrollment;
    t->student = json_integer_value(json_object_get(row, "student_id"));
    t->section = json_integer_value(json_object_get(row, "section_id"));
    t->grade_id = json_integer_value(json_object_get(row, "grade_id"));
    t->value = json_integer_value(json_object_get(row, "value"));
    snprintf(t->status, sizeof t->status, "%s", json_string_value(json_object_get(row, "status")));
    snprintf(t->grade_status, sizeof t->grade_status, "%s", json_string_value(json_object_get(row, "grade_status")));
    snprintf(t->kind, sizeof t->kind, "%s", json_string_value(json_object_get(row, "kind")));
    json_decref(row);
    return 1;
}

/* Opens the transaction and loads the enrollment of the path; replies
 * 404 (or 500) and returns -1 when there is none. */
static int begin_with_target(struct req *r, struct target *t)
{
    if (db_begin(r->db) < 0) {
        reply_db_error(r);
        return -1;
    }
    if (!target_load(r->db, r->param_int[0], t)) {
        db_rollback(r->db);
        reply_not_found(r);
        return -1;
    }
    return 0;
}

/* Commit and answer the grade of the enrollment (or roll back and 500). */
static void grade_reply(struct req *r, int64_t enrollment)
{
    json_t *g = db_json_one(r->db, GRADE_SELECT "WHERE g.enrollment_id = $1", DB_I(enrollment));
    if (!g || add_deadline(r->db, g) < 0 || db_commit(r->db) < 0) {
        json_decref(g);
        db_rollback(r->db);
        reply_db_error(r);
        return;
    }
    reply_json(r, 200, g);
}

/* ----------------------------------------------------------------- routes */

void campus_grades_submit(struct req *r)
{
    json_t *v = NULL;
    struct grade g;
    struct target t;
    if (req_unpack(r, "{s:o}", "grade", &v) < 0 || grade_parse(r, v, &g) < 0) return;
    if (begin_with_target(r, &t) < 0) return;
    if (!rbac_can(r, "campus.grades.submit", "section", t.section)) {
        db_rollback(r->db);
        reply_error(r, 403, "forbidden", "not your section");
        return;
    }
    if (strcmp(t.status, "enrolled") || !strcmp(t.grade_status, "finalized")) {
        db_rollback(r->db);
        if (strcmp(t.status, "enrolled")) reply_error(r, 409, "not_enrolled", "the enrollment is %s", t.status);
        else reply_error(r, 409, "grade_finalized", "the grade is final: the registrar corrects it");
        return;
    }
    if (db_exec(r->db, "INSERT INTO campus_grades (enrollment_id, kind, value, status, inc_given_on, submitted_by, "
                       "submitted_at) VALUES ($1, $2, $3, 'submitted', CASE WHEN $2 = 'INC' THEN substr(" CAMPUS_NOW_SQL
                       ", 1, 10) END, $4, " CAMPUS_NOW_SQL ") ON CONFLICT (enrollment_id) DO UPDATE SET kind = "
                       "excluded.kind, value = excluded.value, inc_given_on = excluded.inc_given_on, submitted_by = "
                       "excluded.submitted_by, submitted_at = excluded.submitted_at, updated_at = " CAMPUS_NOW_SQL,
                DB_I(t.enrollment), DB_S(g.kind), g.value ? DB_I(g.value) : DB_NULL, DB_I(r->user.id)) != 1 ||
        audit_write(r->db, r, "campus", "campus.grade.submitted", "enrollment", t.enrollment,
                    json_pack("{s:I, s:I, s:o}", "student_id", (json_int_t)t.student, "section_id",
                              (json_int_t)t.section, "grade", grade_text(g.kind, g.value))) < 0)
        goto rollback;
    grade_reply(r, t.enrollment);
    return;
rollback:
    db_rollback(r->db);
    reply_db_error(r);
}

void campus_grades_finalize(struct req *r)
{
    struct target t;
    if (req_no_fields(r) < 0) return;
    if (begin_with_target(r, &t) < 0) return;
    if (strcmp(t.grade_status, "submitted")) {
        db_rollback(r->db);
        if (!t.grade_id) reply_error(r, 409, "no_grade", "no grade was submitted");
        else reply_error(r, 409, "grade_finalized", "the grade is already final");
        return;
    }
    if (db_exec(r->db, "UPDATE campus_grades SET status = 'finalized', finalized_by = $2, finalized_at = " CAMPUS_NOW_SQL
                       ", updated_at = " CAMPUS_NOW_SQL " WHERE id = $1 AND status = 'submitted'",
                DB_I(t.grade_id), DB_I(r->user.id)) != 1 ||
        audit_write(r->db, r, "campus", "campus.grade.finalized", "enrollment", t.enrollment,
                    json_pack("{s:I, s:o}", "student_id", (json_int_t)t.student, "grade",
                              grade_text(t.kind, t.value))) < 0)
        goto rollback;
    grade_reply(r, t.enrollment);
    return;
rollback:
    db_rollback(r->db);
    reply_db_error(r);
}

void campus_grades_correct(struct req *r)
{
    json_t *v = NULL;
    const char *reason = NULL;
    struct grade g;
    struct target t;
    if (req_unpack(r, "{s:o, s:s}", "grade", &v, "reason", &reason) < 0 || grade_parse(r, v, &g) < 0 ||
        req_text(r, "reason", reason, 500, true) < 0)
        return;
    if (begin_with_target(r, &t) < 0) return;
    if (strcmp(t.grade_status, "finalized")) {
        db_rollback(r->db);
        reply_error(r, 409, "not_finalized", "only a final grade is corrected; the section's faculty changes it");
        return;
    }
    if (db_exec(r->db, "INSERT INTO campus_grade_corrections (grade_id, old_kind, old_value, new_kind, new_value, reason, "
                       "corrected_by) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                DB_I(t.grade_id), DB_S(t.kind), strcmp(t.kind, "numeric") ? DB_NULL : DB_I(t.value), DB_S(g.kind),
                g.value ? DB_I(g.value) : DB_NULL, DB_S(reason), DB_I(r->user.id)) != 1 ||
        /* an INC corrected into INC keeps its clock; a grade corrected back
         * into INC (an expired one reopened) starts a new one */
        db_exec(r->db, "UPDATE campus_grades SET inc_given_on = CASE WHEN $2 <> 'INC' THEN NULL WHEN kind = 'INC' THEN "
                       "inc_given_on ELSE substr(" CAMPUS_NOW_SQL ", 1, 10) END, inc_expired_at = CASE WHEN $2 = 'INC' "
                       "THEN NULL ELSE inc_expired_at END, kind = $2, value = $3, updated_at = " CAMPUS_NOW_SQL
                       " WHERE id = $1",
                DB_I(t.grade_id), DB_S(g.kind), g.value ? DB_I(g.value) : DB_NULL) != 1 ||
        audit_write(r->db, r, "campus", "campus.grade.corrected", "enrollment", t.enrollment,
                    json_pack("{s:I, s:o, s:o, s:s}", "student_id", (json_int_t)t.student, "from",
                              grade_text(t.kind, t.value), "to", grade_text(g.kind, g.value), "reason", reason)) < 0)
        goto rollback;
    grade_reply(r, t.enrollment);
    return;
rollback:
    db_rollback(r->db);
    reply_db_error(r);
}

/* A student's grades, newest semester first; their own, or anyone's for
 * the registrar. Drafts and submitted grades show with their status. */
void campus_students_grades(struct req *r)
{
    int64_t student = r->param_int[0], semester = 0;
    if (req_query_int(r, "semester_id", 0, &semester) < 0 ||
        campus_require_student(r, "campus.students.manage", student) < 0)
        return;
    json_t *items = db_json_all(r->db, GRADE_SELECT "JOIN campus_semesters se ON se.id = e.semester_id WHERE "
                                                    "e.student_id = $1 AND ($2 = 0 OR e.semester_id = $2) ORDER BY "
                                                    "se.starts_on DESC, s.code",
                                DB_I(student), DB_I(semester));
    size_t i;
    json_t *v;
    json_array_foreach(items, i, v) if (add_deadline(r->db, v) < 0) {
        json_decref(items);
        items = NULL;
        break;
    }
    if (!items) {
        reply_db_error(r);
        return;
    }
    reply_json(r, 200, json_pack("{s:I, s:o}", "student_id", (json_int_t)student, "items", items));
}

/* {gpa, units} over finalized numeric grades (of one semester, or all: 0). */
static json_t *gpa_of(struct db *db, int64_t student, int64_t semester)
{
    json_t *row = db_json_one(db, "SELECT COALESCE(SUM(g.value * e.units), 0) AS points, COALESCE(SUM(e.units), 0) "
                                  "AS units FROM campus_grades g JOIN campus_enrollments e ON e.id = g.enrollment_id "
                                  "WHERE e.student_id = $1 AND ($2 = 0 OR e.semester_id = $2) AND g.status = "
                                  "'finalized' AND g.kind = 'numeric'",
                              DB_I(student), DB_I(semester));
    if (!row) return NULL;
    int64_t points = json_integer_value(json_object_get(row, "points"));
    int64_t units = json_integer_value(json_object_get(row, "units"));
    json_decref(row);
    /* hundredths, half up: (points + units / 2) / units */
    return json_pack("{s:o, s:I}", "gpa", units ? json_real((double)((points + units / 2) / units) / 100) : json_null(),
                     "units", (json_int_t)units);
}

void campus_students_gpa(struct req *r)
{
    int64_t student = r->param_int[0], semester = 0;
    if (req_query_int(r, "semester_id", 0, &semester) < 0 ||
        campus_require_student(r, "campus.students.manage", student) < 0)
        return;
    json_t *all = gpa_of(r->db, student, 0), *sem = semester ? gpa_of(r->db, student, semester) : json_null();
    if (!all || !sem) {
        json_decref(all);
        json_decref(sem);
        reply_db_error(r);
        return;
    }
    if (semester) json_object_set_new(sem, "semester_id", json_integer(semester));
    reply_json(r, 200, json_pack("{s:I, s:o, s:o}", "student_id", (json_int_t)student, "semester", sem,
                                 "cumulative", all));
}
