/* enrollments.c -- enrolling, waitlists and dropping; the enrollment lists
 * and a section's roster.
 *
 * POST /enrollments {section_id, student_id?, override_reason?, waitlist?}:
 * a student enrolls themself (student_id absent or their own); the
 * registrar (campus.students.manage) enrolls any student and alone may
 * record an override of a schedule conflict. The checks, in the order they
 * answer, inside one write transaction (so two requests never both pass a
 * check the other's write would fail):
 *   404 no such section or student; 409 enrollment_closed (outside the
 *   semester's window); 409 student_not_active; 409 already_enrolled (this
 *   section, or another section of the same subject this semester);
 *   409 prerequisites_missing (each missing subject and its minimum grade);
 *   409 unit_cap_exceeded (current + requested > 30); 409 schedule_conflict
 *   naming the clashing section, unless overridden; then a seat, or the
 *   waitlist (201, status waitlisted, its position) when the section is full
 *   or others already wait; `"waitlist": false` refuses instead
 *   (409 section_full).
 * Choices: a waitlisted entry counts toward the unit cap and the schedule
 * (it is a claim on the seat: promotion never breaks either rule); newcomers
 * queue behind a waitlist even when a seat is free; the waitlist is served
 * in arrival (id) order.
 *
 * DELETE /enrollments/{id}: the student (their own, while the window is
 * open) or the registrar (any time) drops it; a dropped seat goes at once,
 * in the same transaction, to the first waitlisted student, who is told by
 * a notification. An enrollment with a grade cannot be dropped (409
 * has_grade). Every change recomputes the assessment (assessments.c) and
 * writes its audit row. A read that fails looks like "none" here (404, no
 * clash); http.c answers such a request 500 and undoes it (it saw the
 * database error). */
#include "campus.h"
#include <string.h>

#define MAX_UNITS 30

#define ENROLLMENT_SELECT                                                                                      \
    "SELECT e.id, e.student_id, e.section_id, c.code AS section_code, s.code AS subject_code, e.semester_id, "  \
    "e.units, e.status, " CAMPUS_WAITLIST_POSITION("e") " AS waitlist_position, "                              \
    "e.override_reason, e.enrolled_at, e.dropped_at, e.created_at FROM campus_enrollments e "                  \
    "JOIN campus_sections c ON c.id = e.section_id JOIN campus_subjects s ON s.id = c.subject_id "

struct section {
    int64_t id, semester_id, subject_id, units, capacity, enrolled, waitlisted;
    char code[64];
    bool window_open;
};

static int section_load(struct db *db, int64_t id, struct section *sec)
{
    json_t *row = db_json_one(db, "SELECT c.semester_id, c.subject_id, s.units, c.capacity, c.enrolled, c.waitlisted, "
                                  "c.code, " CAMPUS_WINDOW_OPEN("se") " AS open FROM campus_sections c "
                                  "JOIN campus_subjects s ON s.id = c.subject_id JOIN campus_semesters se ON "
                                  "se.id = c.semester_id WHERE c.id = $1",
                              DB_I(id));
    if (!row) return 0;
    sec->id = id;
    sec->semester_id = json_integer_value(json_object_get(row, "semester_id"));
    sec->subject_id = json_integer_value(json_object_get(row, "subject_id"));
    sec->units = json_integer_value(json_object_get(row, "units"));
    sec->capacity = json_integer_value(json_object_get(row, "capacity"));
    sec->enrolled = json_integer_value(json_object_get(row, "enrolled"));
    sec->waitlisted = json_integer_value(json_object_get(row, "waitlisted"));
    snprintf(sec->code, sizeof sec->code, "%s", json_string_value(json_object_get(row, "code")));
    sec->window_open = json_integer_value(json_object_get(row, "open")) != 0;
    json_decref(row);
    return 1;
}

/* The live (enrolled or waitlisted) enrollments of the student this
 * semester count for units and the schedule. */
#define LIVE "e.student_id = $1 AND e.semester_id = $2 AND e.status IN ('enrolled', 'waitlisted')"

/* Replies 409 and returns -1 when a rule refuses; 0 when every rule passes;
 * -2 after a database error (replied). */
static int rules_check(struct req *r, int64_t student_id, const struct section *sec, bool override)
{
    struct db *db = r->db;
    int64_t n = 0, units = 0;
    if (db_int(db, &n, "SELECT COUNT(*) FROM campus_enrollments e JOIN campus_sections c ON c.id = e.section_id "
                       "WHERE " LIVE " AND (e.section_id = $3 OR c.subject_id = $4)",
               DB_I(student_id), DB_I(sec->semester_id), DB_I(sec->id), DB_I(sec->subject_id)) != 1)
        goto db_error;
    if (n) {
        reply_error(r, 409, "already_enrolled", "already enrolled or waitlisted in %s or a section of its subject",
                    sec->code);
        return -1;
    }
    /* each prerequisite needs a finalized numeric grade at or better (lower) than its minimum */
    json_t *missing = db_json_all(db, "SELECT s.code AS subject_code, " CAMPUS_GRADE_NUM("p.min_grade") " AS min_grade "
                                      "FROM campus_prerequisites p JOIN campus_subjects s ON s.id = p.requires_id "
                                      "WHERE p.subject_id = $2 AND NOT EXISTS (SELECT 1 FROM campus_grades g JOIN "
                                      "campus_enrollments e ON e.id = g.enrollment_id JOIN campus_sections c ON "
                                      "c.id = e.section_id WHERE e.student_id = $1 AND c.subject_id = p.requires_id "
                                      "AND g.status = 'finalized' AND g.kind = 'numeric' AND g.value <= p.min_grade) "
                                      "ORDER BY s.code",
                                  DB_I(student_id), DB_I(sec->subject_id));
    if (!missing) goto db_error;
    if (json_array_size(missing)) {
        reply_json(r, 409, json_pack("{s:{s:s, s:s, s:o}}", "error", "code", "prerequisites_missing", "message",
                                     tr(r, "prerequisites not passed"), "details", missing));
        return -1;
    }
    json_decref(missing);
    if (db_int(db, &units, "SELECT COALESCE(SUM(e.units), 0) FROM campus_enrollments e WHERE " LIVE,
               DB_I(student_id), DB_I(sec->semester_id)) != 1)
        goto db_error;
    if (units + sec->units > MAX_UNITS) {
        char msg[160];
        snprintf(msg, sizeof msg, tr(r, "at most %d units per semester: %lld enrolled, %lld requested"), MAX_UNITS,
                 (long long)units, (long long)sec->units);
        reply_json(r, 409, json_pack("{s:{s:s, s:s, s:{s:I, s:I, s:i}}}", "error", "code", "unit_cap_exceeded",
                                     "message", msg, "details", "current_units", (json_int_t)units, "requested_units",
                                     (json_int_t)sec->units, "max_units", MAX_UNITS));
        return -1;
    }
    if (override) return 0;
    /* two meetings clash on the same day when each starts before the other ends */
    json_t *clash = db_json_one(db, "SELECT c.id AS section_id, c.code AS section_code, m2.day, m2.starts_at, "
                                    "m2.ends_at FROM campus_enrollments e JOIN campus_sections c ON c.id = e.section_id "
                                    "JOIN campus_meetings m2 ON m2.section_id = c.id JOIN campus_meetings m1 ON "
                                    "m1.section_id = $3 AND m1.day = m2.day AND m1.starts_at < m2.ends_at AND "
                                    "m2.starts_at < m1.ends_at WHERE " LIVE " ORDER BY c.code, m2.day LIMIT 1",
                                DB_I(student_id), DB_I(sec->semester_id), DB_I(sec->id));
    if (clash) {
        char msg[160];
        snprintf(msg, sizeof msg, tr(r, "the schedule clashes with %s"),
                 json_string_value(json_object_get(clash, "section_code")));
        reply_json(r, 409, json_pack("{s:{s:s, s:s, s:o}}", "error", "code", "schedule_conflict", "message", msg,
                                     "details", clash));
        return -1;
    }
    return 0;
db_error:
    reply_db_error(r);
    return -2;
}

/* ------------------------------------------------------------------ enroll */

void campus_enrollments_create(struct req *r)
{
    json_int_t section_id = 0, student_id = 0;
    const char *override = NULL;
    int waitlist = 1;
    struct section sec;
    if (req_unpack(r, "{s:I, s?I, s?s, s?b}", "section_id", &section_id, "student_id", &student_id,
                   "override_reason", &override, "waitlist", &waitlist) < 0 ||
        req_text(r, "override_reason", override, 500, false) < 0)
        return;
    bool registrar = rbac_can(r, "campus.students.manage", NULL, 0);
    int64_t own = campus_student_of(r);
    if (!student_id) student_id = own;
    if (!registrar && (!student_id || student_id != own)) {
        reply_error(r, 403, "forbidden", "a student enrolls only themself");
        return;
    }
    if (override && !registrar) {
        reply_error(r, 403, "forbidden", "only the registrar records an override");
        return;
    }
    if (db_begin(r->db) < 0) goto db_error;
    if (!section_load(r->db, section_id, &sec)) {
        db_rollback(r->db);
        reply_error(r, 404, "not_found", "no section %lld", (long long)section_id);
        return;
    }
    char *status = db_text(r->db, "SELECT status FROM campus_students WHERE id = $1", DB_I(student_id));
    int rc = 0;
    if (!status) rc = -1, reply_error(r, 404, "not_found", "no student %lld", (long long)student_id);
    else if (!sec.window_open) rc = -1, reply_error(r, 409, "enrollment_closed", "enrollment for %s is closed", sec.code);
    else if (strcmp(status, "active")) rc = -1, reply_error(r, 409, "student_not_active", "the student is %s", status);
    free(status);
    if (rc == 0) rc = rules_check(r, student_id, &sec, override != NULL);
    if (rc < 0) {
        db_rollback(r->db);
        return;
    }
    /* a seat, unless the section is full or others already wait for one */
    int seated = sec.waitlisted ? 0
                                : db_exec(r->db, "UPDATE campus_sections SET enrolled = enrolled + 1 WHERE id = $1 "
                                                 "AND enrolled < capacity AND waitlisted = 0", DB_I(section_id));
    if (seated < 0) goto rollback;
    if (!seated && !waitlist) {
        db_rollback(r->db);
        reply_error(r, 409, "section_full", "%s is full", sec.code);
        return;
    }
    if (!seated && db_exec(r->db, "UPDATE campus_sections SET waitlisted = waitlisted + 1 WHERE id = $1",
                           DB_I(section_id)) != 1)
        goto rollback;
    int64_t id = 0;
    if (db_int(r->db, &id, "INSERT INTO campus_enrollments (student_id, section_id, semester_id, units, status, "
                           "override_reason, override_by, created_by, enrolled_at) VALUES ($1, $2, $3, $4, $5, $6, $7, "
                           "$8, CASE WHEN $5 = 'enrolled' THEN " CAMPUS_NOW_SQL " END) RETURNING id",
               DB_I(student_id), DB_I(section_id), DB_I(sec.semester_id), DB_I(sec.units),
               DB_S(seated ? "enrolled" : "waitlisted"), override ? DB_S(override) : DB_NULL,
               override ? DB_I(r->user.id) : DB_NULL, DB_I(r->user.id)) != 1)
        goto rollback;
    json_t *e = db_json_one(r->db, ENROLLMENT_SELECT "WHERE e.id = $1", DB_I(id));
    if (!e || (seated && campus_assess(r->db, student_id, sec.semester_id) < 0) ||
        audit_write(r->db, r, "campus", seated ? "campus.enrollment.created" : "campus.enrollment.waitlisted",
                    "enrollment", id,
                    json_pack("{s:I, s:I, s:s, s:s?}", "student_id", (json_int_t)student_id, "section_id",
                              (json_int_t)section_id, "section_code", sec.code, "override_reason", override)) < 0 ||
        db_commit(r->db) < 0) {
        json_decref(e);
        goto rollback;
    }
    reply_json(r, 201, e);
    return;
rollback:
    db_rollback(r->db);
db_error:
    reply_db_error(r);
}

/* -------------------------------------------------------------------- drop */

int campus_promote(struct db *db, struct req *r, int64_t section_id)
{
    /* the first who waits and may enroll now: one on leave (or graduated)
     * meanwhile keeps their place and is passed over */
    int64_t first = 0;
    int found = db_int(db, &first, "SELECT e.id FROM campus_enrollments e JOIN campus_students st ON st.id = "
                                   "e.student_id WHERE e.section_id = $1 AND e.status = 'waitlisted' AND st.status = "
                                   "'active' ORDER BY e.id LIMIT 1",
                       DB_I(section_id));
    if (found <= 0) return found;
    json_t *w = db_json_one(db, "SELECT e.id, e.student_id, e.semester_id, c.code FROM campus_enrollments e "
                                "JOIN campus_sections c ON c.id = e.section_id WHERE e.id = $1",
                            DB_I(first));
    if (!w) return -1;
    int64_t id = json_integer_value(json_object_get(w, "id"));
    int64_t student = json_integer_value(json_object_get(w, "student_id"));
    const char *code = json_string_value(json_object_get(w, "code"));
    int rc = db_exec(db, "UPDATE campus_enrollments SET status = 'enrolled', enrolled_at = " CAMPUS_NOW_SQL ", "
                         "updated_at = " CAMPUS_NOW_SQL " WHERE id = $1 AND status = 'waitlisted'", DB_I(id)) == 1 &&
                     db_exec(db, "UPDATE campus_sections SET enrolled = enrolled + 1, waitlisted = waitlisted - 1 "
                                 "WHERE id = $1", DB_I(section_id)) == 1 &&
                     campus_assess(db, student, json_integer_value(json_object_get(w, "semester_id"))) == 0 &&
                     audit_write(db, r, "campus", "campus.enrollment.promoted", "enrollment", id,
                                 json_pack("{s:I, s:I, s:s}", "student_id", (json_int_t)student, "section_id",
                                           (json_int_t)section_id, "section_code", code)) == 0 &&
                     campus_notify(db, student, "campus.waitlist.promoted",
                                   json_pack("{s:I, s:I, s:s}", "enrollment_id", (json_int_t)id, "section_id",
                                             (json_int_t)section_id, "section_code", code),
                                   N_("You are enrolled in %s"), code) == 0
                 ? 1 : -1;
    json_decref(w);
    return rc;
}

void campus_enrollments_drop(struct req *r)
{
    int64_t id = r->param_int[0];
    bool registrar = rbac_can(r, "campus.students.manage", NULL, 0);
    int64_t own = campus_student_of(r);
    if (db_begin(r->db) < 0) goto db_error;
    json_t *e = db_json_one(r->db, "SELECT e.student_id, e.section_id, e.semester_id, e.status, c.code, "
                                   "(SELECT COUNT(*) FROM campus_grades g WHERE g.enrollment_id = e.id) AS graded, "
                                   CAMPUS_WINDOW_OPEN("se") " AS open FROM campus_enrollments e "
                                   "JOIN campus_sections c ON c.id = e.section_id JOIN campus_semesters se ON "
                                   "se.id = e.semester_id WHERE e.id = $1",
                               DB_I(id));
    int64_t student = e ? json_integer_value(json_object_get(e, "student_id")) : 0;
    if (!e || (!registrar && student != own)) {      /* another student's: as if it did not exist */
        json_decref(e);
        db_rollback(r->db);
        reply_not_found(r);
        return;
    }
    int64_t section = json_integer_value(json_object_get(e, "section_id"));
    int64_t semester = json_integer_value(json_object_get(e, "semester_id"));
    char status[16], code[64];
    snprintf(status, sizeof status, "%s", json_string_value(json_object_get(e, "status")));
    snprintf(code, sizeof code, "%s", json_string_value(json_object_get(e, "code")));
    bool graded = json_integer_value(json_object_get(e, "graded")) != 0;
    bool open = json_integer_value(json_object_get(e, "open")) != 0;
    json_decref(e);
    if (!strcmp(status, "dropped") || graded || (!open && !registrar)) {
        db_rollback(r->db);
        if (!strcmp(status, "dropped")) reply_error(r, 409, "already_dropped", "the enrollment is already dropped");
        else if (graded) reply_error(r, 409, "has_grade", "an enrollment with a grade cannot be dropped");
        else reply_error(r, 409, "enrollment_closed", "enrollment is closed: the registrar drops it");
        return;
    }
    bool was_enrolled = !strcmp(status, "enrolled");
    if (db_exec(r->db, "UPDATE campus_enrollments SET status = 'dropped', dropped_at = " CAMPUS_NOW_SQL ", updated_at = "
                       CAMPUS_NOW_SQL " WHERE id = $1 AND status = $2", DB_I(id), DB_S(status)) != 1 ||
        db_exec(r->db, was_enrolled ? "UPDATE campus_sections SET enrolled = enrolled - 1 WHERE id = $1"
                                    : "UPDATE campus_sections SET waitlisted = waitlisted - 1 WHERE id = $1",
                DB_I(section)) != 1 ||
        (was_enrolled && campus_assess(r->db, student, semester) < 0) ||
        audit_write(r->db, r, "campus", "campus.enrollment.dropped", "enrollment", id,
                    json_pack("{s:I, s:I, s:s, s:s}", "student_id", (json_int_t)student, "section_id",
                              (json_int_t)section, "section_code", code, "was", status)) < 0 ||
        (was_enrolled && campus_promote(r->db, r, section) < 0))
        goto rollback;
    json_t *out = db_json_one(r->db, ENROLLMENT_SELECT "WHERE e.id = $1", DB_I(id));
    if (!out || db_commit(r->db) < 0) {
        json_decref(out);
        goto rollback;
    }
    reply_json(r, 200, out);
    return;
rollback:
    db_rollback(r->db);
db_error:
    reply_db_error(r);
}

/* ------------------------------------------------------------------- lists */

/* A student sees their own; the registrar anyone's (?student_id=). */
void campus_enrollments_list(struct req *r)
{
    struct page pg;
    int64_t student = 0, semester = 0;
    const char *status = req_query(r, "status");
    if (req_query_int(r, "semester_id", 0, &semester) < 0 || req_page(r, &pg) < 0) return;
    if (status && strcmp(status, "enrolled") && strcmp(status, "waitlisted") && strcmp(status, "dropped")) {
        reply_invalid(r, "status", "must be one of enrolled, waitlisted, dropped");
        return;
    }
    if (campus_list_student(r, "campus.students.manage", &student) < 0) return;
#define WHERE "WHERE ($1 = 0 OR e.student_id = $1) AND ($2 = 0 OR e.semester_id = $2) AND " \
              "(CAST($3 AS TEXT) IS NULL OR e.status = $3) "
    reply_page(r, &pg, "SELECT COUNT(*) FROM campus_enrollments e " WHERE,
               ENROLLMENT_SELECT WHERE "ORDER BY e.id DESC LIMIT $4 OFFSET $5", DB_I(student), DB_I(semester),
               DB_S(status));
#undef WHERE
}

/* Enrolled, then waitlisted in their order; the section's faculty (scope),
 * the registrar and admins. */
void campus_sections_roster(struct req *r)
{
    int64_t section = r->param_int[0];
    if (campus_require_section(r, "campus.roster.read", section) < 0) return;
    json_t *items = db_json_all(r->db, "SELECT e.id AS enrollment_id, e.status, st.id AS student_id, st.number, "
                                       "st.last_name, st.first_name, " CAMPUS_WAITLIST_POSITION("e")
                                       " AS waitlist_position FROM "
                                       "campus_enrollments e JOIN campus_students st ON st.id = e.student_id WHERE "
                                       "e.section_id = $1 AND e.status IN ('enrolled', 'waitlisted') ORDER BY "
                                       "CASE WHEN e.status = 'enrolled' THEN 0 ELSE 1 END, CASE WHEN e.status = "
                                       "'enrolled' THEN st.last_name ELSE '' END, e.id",
                                   DB_I(section));
    if (!items) {
        reply_db_error(r);
        return;
    }
    reply_json(r, 200, json_pack("{s:I, s:o}", "section_id", (json_int_t)section, "items", items));
}

/* ---------------------------------------------------------------- sections */

/* PATCH /sections/{id} {capacity?, room?, faculty_id?} (the registrar): a
 * capacity below the seats taken is refused (409 capacity_below_enrolled); a
 * larger one seats the waitlist at once, in order, in the same transaction.
 * A new room must be free at the section's meetings (409 room_conflict). A
 * new faculty gets the faculty role scoped to the section in the same
 * transaction; the previous one keeps theirs (the core has no call that
 * takes a role back: an admin removes it, DELETE /admin/users/{id}/roles/{role_id}). */
void campus_sections_update(struct req *r)
{
    int64_t id = r->param_int[0], capacity = 0, faculty = 0, seated = 0;
    const char *room = NULL;
    json_t *was = NULL;
    if (req_unpack(r, "{s?I, s?s, s?I}", "capacity", &capacity, "room", &room, "faculty_id", &faculty) < 0 ||
        req_text(r, "room", room, 40, false) < 0)
        return;
    bool has_faculty = json_object_get(r->body, "faculty_id") != NULL;
    if (json_object_get(r->body, "capacity") && (capacity < 1 || capacity > 10000)) {
        reply_invalid(r, "capacity", "must be 1 to 10000");
        return;
    }
    if (!capacity && !room && !has_faculty) {
        reply_invalid(r, "capacity", "give capacity, room or faculty_id");
        return;
    }
    if (db_begin(r->db) < 0) goto db_error;
    was = db_json_one(r->db, "SELECT capacity, enrolled, room, faculty_id FROM campus_sections WHERE id = $1",
                      DB_I(id));
    if (!was || (has_faculty && campus_faculty_check(r, faculty) < 0)) {
        db_rollback(r->db);
        if (!was) reply_not_found(r);
        goto out;
    }
    int64_t enrolled = json_integer_value(json_object_get(was, "enrolled"));
    if (capacity && capacity < enrolled) {
        db_rollback(r->db);
        reply_json(r, 409, json_pack("{s:{s:s, s:s, s:{s:I, s:I}}}", "error", "code", "capacity_below_enrolled",
                                     "message", tr(r, "the capacity cannot go below the students enrolled"), "details",
                                     "enrolled", (json_int_t)enrolled, "capacity", (json_int_t)capacity));
        goto out;
    }
    if (db_exec(r->db, "UPDATE campus_sections SET capacity = COALESCE($2, capacity), room = COALESCE($3, room), "
                       "faculty_id = COALESCE($4, faculty_id) WHERE id = $1", DB_I(id),
                capacity ? DB_I(capacity) : DB_NULL, DB_S(room), has_faculty ? DB_I(faculty) : DB_NULL) != 1)
        goto rollback;
    if (room && campus_room_check(r, id) < 0) {
        db_rollback(r->db);
        goto out;
    }
    if (has_faculty && rbac_grant_role(r->db, r, faculty, "campus", "faculty", "section", id) < 0) goto rollback;
    for (int64_t free_seats = capacity ? capacity - enrolled : 0; seated < free_seats; seated++) {
        int rc = campus_promote(r->db, r, id);
        if (rc < 0) goto rollback;
        if (rc == 0) break;
    }
    if (audit_write(r->db, r, "campus", "campus.section.updated", "section", id,
                    json_pack("{s:O, s:O, s:O, s:I, s:s?, s:o?, s:I}", "capacity_was",
                              json_object_get(was, "capacity"), "room_was", json_object_get(was, "room"),
                              "faculty_id_was", json_object_get(was, "faculty_id"), "capacity", (json_int_t)capacity,
                              "room", room, "faculty_id", has_faculty ? json_integer(faculty) : NULL, "seated",
                              (json_int_t)seated)) < 0 ||
        db_commit(r->db) < 0)
        goto rollback;
    campus_sections_get(r);
    goto out;
rollback:
    db_rollback(r->db);
db_error:
    reply_db_error(r);
out:
    json_decref(was);
}
