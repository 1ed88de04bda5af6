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

void campus_students_schedule(struct req *r)
{
    int64_t student = r->param_int[0], semester = 0;
    if (req_query_int(r, "semester_id", 0, &semester) < 0 || campus_require_student(r, READ_ALL, student) < 0)
        return;
    if (!semester)
        db_int(r->db, &semester, "SELECT e.semester_id FROM campus_enrollments e JOIN campus_semesters s ON "
                                 "s.id = e.semester_id WHERE e.student_id = $1 AND e.status = 'enrolled' ORDER BY "
                                 "s.starts_on DESC LIMIT 1",
               DB_I(student));
    json_t *items = db_json_all(r->db,
                                "SELECT c.id AS section_id, c.code AS section_code, s.code AS subject_code, s.title, "
                                "e.units, c.room, c.faculty_id, " CAMPUS_MEETINGS_JSON("c.id") " AS meetings__json "
                                "FROM campus_enrollments e JOIN campus_sections c ON c.id = e.section_id "
                                "JOIN campus_subjects s ON s.id = c.subject_id WHERE e.student_id = $1 AND "
                                "e.semester_id = $2 AND e.status = 'enrolled' "
                                /* first meeting of the week: "1 08:00" sorts as text; none last on both databases */
                                "ORDER BY COALESCE((SELECT MIN(CAST(m.day AS TEXT) || ' ' || m.starts_at) FROM "
                                "campus_meetings m WHERE m.section_id = c.id), '9'), c.code",
                                DB_I(student), DB_I(semester));
    if (!items) {
        reply_db_error(r);
        return;
    }
    int64_t units = 0;
    size_t i;
    json_t *v;
    json_array_foreach(items, i, v) units += json_integer_value(json_object_get(v, "units"));
    reply_json(r, 200, json_pack("{s:I, s:o, s:I, s:o}", "student_id", (json_int_t)student, "semester_id",
                                 semester ? json_integer(semester) : json_null(), "units", (json_int_t)units, "items",
                                 items));
}
