/* catalog.c -- what the school offers: programs, semesters, subjects with
 * their prerequisite chains, and sections with their meetings and seats.
 * Everyone with a campus role reads it (campus.catalog.read); the registrar
 * writes it (catalog_manage.c), answering with the same rows.
 *
 * Grades and minimum grades are hundredths in the database (300) and
 * numbers on the 1.00-5.00 scale in the API (3.0); seats_left is capacity
 * minus enrolled, never below 0. */
#include "campus.h"

#define PREREQS_JSON(subject)                                                                                  \
    "(SELECT json_group_array(json(x)) FROM (SELECT json_object('subject_id', s2.id, 'code', s2.code, "        \
    "'title', s2.title, 'min_grade', " CAMPUS_GRADE_NUM("p.min_grade") ") AS x FROM campus_prerequisites p "         \
    "JOIN campus_subjects s2 ON s2.id = p.requires_id WHERE p.subject_id = " subject " ORDER BY s2.code) t)"

#define SUBJECT_SELECT                                                                                         \
    "SELECT s.id, s.code, s.title, s.units, " PREREQS_JSON("s.id") " AS prerequisites__json, s.created_at "    \
    "FROM campus_subjects s "

#define SECTION_SELECT                                                                                         \
    "SELECT c.id, c.semester_id, se.code AS semester_code, c.code, c.subject_id, s.code AS subject_code, s.title AS subject_title, "    \
    "s.units, c.faculty_id, c.room, c.capacity, c.enrolled, c.waitlisted, "                                   \
    "CASE WHEN c.capacity > c.enrolled THEN c.capacity - c.enrolled ELSE 0 END AS seats_left, "               \
    CAMPUS_MEETINGS_JSON("c.id") " AS meetings__json FROM campus_sections c "                                         \
    "JOIN campus_subjects s ON s.id = c.subject_id JOIN campus_semesters se ON se.id = c.semester_id "

#define SEMESTER_COLUMNS                                                                                       \
    "SELECT se.id, se.code, se.name, se.starts_on, se.ends_on, se.enrollment_opens_at, se.enrollment_closes_at, " \
    "se.months, " CAMPUS_WINDOW_OPEN("se") " AS enrollment_open__bool "
#define SEMESTER_SELECT SEMESTER_COLUMNS "FROM campus_semesters se "

/* One semester's answer also lists its fees (program_id null: every program). */
#define FEES_JSON                                                                                              \
    "(SELECT json_group_array(json(x)) FROM (SELECT json_object('id', f.id, 'name', f.name, 'amount_cents', "  \
    "f.amount_cents, 'program_id', f.program_id) AS x FROM campus_fees f WHERE f.semester_id = se.id "         \
    "ORDER BY f.id) t) AS fees__json "

json_t *campus_semester_json(struct db *db, int64_t id)
{
    return db_json_one(db, SEMESTER_COLUMNS ", " FEES_JSON "FROM campus_semesters se WHERE se.id = $1", DB_I(id));
}

json_t *campus_subject_json(struct db *db, int64_t id)
{
    return db_json_one(db, SUBJECT_SELECT "WHERE s.id = $1", DB_I(id));
}

json_t *campus_section_json(struct db *db, int64_t id)
{
    return db_json_one(db, SECTION_SELECT "WHERE c.id = $1", DB_I(id));
}

static void reply_one(struct req *r, json_t *row)
{
    if (row) reply_json(r, 200, row);
    else reply_not_found(r);
}

/* ----------------------------------------------------------------- routes */

void campus_programs_list(struct req *r)
{
    struct page pg;
    if (req_page(r, &pg) < 0) return;
    reply_page(r, &pg, "SELECT COUNT(*) FROM campus_programs",
               "SELECT id, code, name, rate_per_unit_cents, currency, created_at FROM campus_programs "
               "ORDER BY code LIMIT $1 OFFSET $2");
}

void campus_semesters_list(struct req *r)
{
    struct page pg;
    if (req_page(r, &pg) < 0) return;
    reply_page(r, &pg, "SELECT COUNT(*) FROM campus_semesters",
               SEMESTER_SELECT "ORDER BY se.starts_on DESC, se.id DESC LIMIT $1 OFFSET $2");
}

void campus_semesters_get(struct req *r)
{
    reply_one(r, campus_semester_json(r->db, r->param_int[0]));
}

/* ?q= matches the code or the title (case-insensitive). */
void campus_subjects_list(struct req *r)
{
    struct page pg;
    const char *q = req_query(r, "q");
    if (req_page(r, &pg) < 0) return;
    reply_page(r, &pg,
               "SELECT COUNT(*) FROM campus_subjects s WHERE CAST($1 AS TEXT) IS NULL OR s.code LIKE '%' || $1 || '%' "
               "OR s.title LIKE '%' || $1 || '%'",
               SUBJECT_SELECT "WHERE CAST($1 AS TEXT) IS NULL OR s.code LIKE '%' || $1 || '%' "
                              "OR s.title LIKE '%' || $1 || '%' ORDER BY s.code LIMIT $2 OFFSET $3",
               DB_S(q));
}

void campus_subjects_get(struct req *r)
{
    reply_one(r, campus_subject_json(r->db, r->param_int[0]));
}

#define SECTIONS_WHERE                                                                                         \
    "WHERE ($1 = 0 OR c.semester_id = $1) AND ($2 = 0 OR c.subject_id = $2) AND ($3 = 0 OR c.faculty_id = $3) "

void campus_sections_list(struct req *r)
{
    struct page pg;
    int64_t semester = 0, subject = 0, faculty = 0;
    if (req_query_int(r, "semester_id", 0, &semester) < 0 || req_query_int(r, "subject_id", 0, &subject) < 0 ||
        req_query_int(r, "faculty_id", 0, &faculty) < 0 || req_page(r, &pg) < 0)
        return;
    reply_page(r, &pg, "SELECT COUNT(*) FROM campus_sections c " SECTIONS_WHERE,
               SECTION_SELECT SECTIONS_WHERE "ORDER BY se.starts_on DESC, c.code LIMIT $4 OFFSET $5",
               DB_I(semester), DB_I(subject), DB_I(faculty));
}

void campus_sections_get(struct req *r)
{
    reply_one(r, campus_section_json(r->db, r->param_int[0]));
}
