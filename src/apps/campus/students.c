/* students.c -- the student's profile and weekly schedule; the cashier's
 * and registrar's student search.
 *
 * A student reads their own profile and schedule (another student's is
 * 404); cashiers, the registrar and admins anyone's (campus.students.read_all).
 * The schedule lists the sections the student is enrolled in (waitlisted
 * ones are not on it) with their meetings, for the semester asked or the
 * latest one they are enrolled in. Search matches the student number or the
 * name, any case. */
#include "campus.h"

#define READ_ALL "campus.students.read_all"

#define STUDENT_SELECT                                                                                         \
    "SELECT st.id, st.number, st.first_name, st.last_name, st.email, st.year_level, st.status, st.user_id, "   \
    "st.program_id, p.code AS program_code, p.name AS program_name, st.created_at FROM campus_students st "      \
    "JOIN campus_programs p ON p.id = st.program_id "

void campus_students_get(struct req *r)
{
    int64_t id = r->param_int[0];
    if (campus_require_student(r, READ_ALL, id) < 0) return;
    json_t *s = db_json_one(r->db, STUDENT_SELECT "WHERE st.id = $1", DB_I(id));
    if (!s) {
        reply_db_error(r);
        return;
    }
    reply_json(r, 200, s);
}

#define SEARCH_WHERE                                                                                           \
    "WHERE CAST($1 AS TEXT) IS NULL OR st.number LIKE '%' || $1 || '%' OR st.last_name LIKE '%' || $1 || '%' "  \
    "OR st.first_name LIKE '%' || $1 || '%' "

void campus_students_search(struct req *r)
{
    struct page pg;
    const char *q = req_query(r, "q");
    if (req_page(r, &pg) < 0) return;
    reply_page(r, &pg, "SELECT COUNT(*) FROM campus_students st " SEARCH_WHERE,
               STUDENT_SELECT SEARCH_WHERE "ORDER BY st.last_name, st.first_name, st.id LIMIT $2 OFFSET $3", DB_S(q));
}

/* One row per meeting (a section without meetings: one row, day NULL), in
 * week order; sections follow their first meeting, meetingless ones last.
 * Assembled here: one indexed read, no subquery per section (bench/campus). */
static json_t *schedule_items(struct db *db, int64_t student, int64_t semester, int64_t *units)
{
    struct db_rows rows;
    json_t *items = json_array(), *sec = NULL, *meetings = NULL, *late = json_array();
    *units = 0;
    if (db_query(db, &rows, "SELECT c.id, c.code, s.code, s.title, e.units, c.room, c.faculty_id, m.day, m.starts_at, "
                            "m.ends_at FROM campus_enrollments e JOIN campus_sections c ON c.id = e.section_id JOIN "
                            "campus_subjects s ON s.id = c.subject_id LEFT JOIN campus_meetings m ON m.section_id = "
                            "c.id WHERE e.student_id = $1 AND e.semester_id = $2 AND e.status = 'enrolled' ORDER BY "
                            "m.day IS NULL, m.day, m.starts_at, c.code, c.id",
                 DB_I(student), DB_I(semester)) < 0)
        goto fail;
    /* the rows come in meeting order: a section is placed at its first one */
    json_t *by_id = json_object();
    while (db_step(&rows)) {
        int64_t id = db_col_int(&rows, 0);
        char key[24];
        snprintf(key, sizeof key, "%lld", (long long)id);
        sec = json_object_get(by_id, key);
        if (!sec) {
            sec = json_pack("{s:I, s:s, s:s, s:s, s:I, s:s, s:o, s:[]}", "section_id", (json_int_t)id, "section_code",
                            db_col_text(&rows, 1), "subject_code", db_col_text(&rows, 2), "title", db_col_text(&rows, 3),
                            "units", (json_int_t)db_col_int(&rows, 4), "room", db_col_text(&rows, 5), "faculty_id",
                            db_col_null(&rows, 6) ? json_null() : json_integer(db_col_int(&rows, 6)), "meetings");
            json_object_set_new(by_id, key, sec);
            json_array_append(db_col_null(&rows, 7) ? late : items, sec);
            *units += db_col_int(&rows, 4);
        }
        meetings = json_object_get(sec, "meetings");
        if (!db_col_null(&rows, 7))
            json_array_append_new(meetings, json_pack("{s:I, s:s, s:s}", "day", (json_int_t)db_col_int(&rows, 7),
                                                      "starts_at", db_col_text(&rows, 8), "ends_at",
                                                      db_col_text(&rows, 9)));
    }
    json_decref(by_id);
    bool failed = db_rows_failed(&rows);
    db_rows_close(&rows);
    if (failed) goto fail;
    json_array_extend(items, late);
    json_decref(late);
    return items;
fail:
    json_decref(items);
    json_decref(late);
    return NULL;
}

void campus_students_schedule(struct req *r)
{
    int64_t student = r->param_int[0], semester = 0, units = 0;
    if (req_query_int(r, "semester_id", 0, &semester) < 0 || campus_require_student(r, READ_ALL, student) < 0)
        return;
    if (!semester)
        db_int(r->db, &semester, "SELECT e.semester_id FROM campus_enrollments e JOIN campus_semesters s ON "
                                 "s.id = e.semester_id WHERE e.student_id = $1 AND e.status = 'enrolled' ORDER BY "
                                 "s.starts_on DESC LIMIT 1",
               DB_I(student));
    json_t *items = schedule_items(r->db, student, semester, &units);
    if (!items) {
        reply_db_error(r);
        return;
    }
    reply_json(r, 200, json_pack("{s:I, s:o, s:I, s:o}", "student_id", (json_int_t)student, "semester_id",
                                 semester ? json_integer(semester) : json_null(), "units", (json_int_t)units, "items",
                                 items));
}
