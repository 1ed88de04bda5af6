/* leaves.c -- leaves of absence, and the INC deadline they move.
 *
 * POST /students/{id}/leaves {starts_on, ends_on, reason} (the registrar)
 * records a leave: real dates, starts_on <= ends_on, at most MAX_DAYS days,
 * not overlapping another leave of the student (409 leave_overlap naming
 * it), and not for a graduated student (409 invalid_state). A leave may be
 * recorded after the fact (the paper came late); one that covers today puts
 * the student on leave at once, and the daily campus.leave_status job keeps
 * the status in line with the calendar after that (jobs.c).
 * GET /students/{id}/leaves: the student's own, or anyone's for the
 * registrar. DELETE /students/{id}/leaves/{leave_id}: a leave that has not
 * started is cancelled (409 leave_started otherwise: it already moved a
 * deadline and is history).
 *
 * An INC must be completed within a year; a leave pauses that clock, so
 * the deadline moves by the leave's days (campus_inc_deadline). Each change
 * writes its audit row and tells the student. */
#include "campus.h"
#include <stdlib.h>
#include <string.h>

#define MAX_DAYS 730

#define LEAVE_SELECT                                                                                           \
    "SELECT id, student_id, starts_on, ends_on, reason, recorded_by, created_at FROM campus_leaves "

/* Every leave row gets its length in days, both ends counted. */
static json_t *with_days(json_t *leave)
{
    int64_t from = 0, to = 0;
    if (date_parse(json_string_value(json_object_get(leave, "starts_on")), &from) &&
        date_parse(json_string_value(json_object_get(leave, "ends_on")), &to))
        json_object_set_new(leave, "days", json_integer(to - from + 1));
    return leave;
}

int64_t campus_inc_deadline(struct db *db, int64_t student_id, int64_t given)
{
    char from[11];
    struct db_rows rows;
    int64_t deadline = date_add_years(given, 1);
    date_format(given, from);
    if (db_query(db, &rows, "SELECT starts_on, ends_on FROM campus_leaves WHERE student_id = $1 AND ends_on >= $2 "
                            "ORDER BY starts_on", DB_I(student_id), DB_S(from)) < 0)
        return -1;
    while (db_step(&rows)) {
        int64_t start, end;
        if (!date_parse(db_col_text(&rows, 0), &start) || !date_parse(db_col_text(&rows, 1), &end)) continue;
        if (start < given) start = given;       /* only the part after the INC was given */
        if (start > deadline) break;            /* after the clock ran out: moves nothing */
        deadline += end - start + 1;
    }
    bool failed = db_rows_failed(&rows);
    db_rows_close(&rows);
    return failed ? -1 : deadline;
}

/* ---------------------------------------------------------------- handlers */

void campus_leaves_create(struct req *r)
{
    int64_t student = r->param_int[0], from, to, today = date_today(), id = 0;
    const char *starts_on, *ends_on, *reason;
    if (req_unpack(r, "{s:s, s:s, s:s}", "starts_on", &starts_on, "ends_on", &ends_on, "reason", &reason) < 0) return;
    if (req_date(r, "starts_on", starts_on, &from) < 0 || req_date(r, "ends_on", ends_on, &to) < 0) return;
    if (to < from) {
        reply_invalid(r, "ends_on", "must not be before starts_on");
        return;
    }
    if (to - from + 1 > MAX_DAYS) {
        reply_invalidf(r, "ends_on", "a leave lasts at most %d days", MAX_DAYS);
        return;
    }
    if (req_text(r, "reason", reason, 500, true) < 0) return;
    if (db_begin(r->db) < 0) goto db_error;
    char *status = db_text(r->db, "SELECT status FROM campus_students WHERE id = $1", DB_I(student));
    if (!status || !strcmp(status, "graduated")) {
        db_rollback(r->db);
        if (status) reply_error(r, 409, "invalid_state", "a graduated student takes no leave");
        else reply_not_found(r);
        free(status);
        return;
    }
    bool covers_today = from <= today && today <= to, to_leave = covers_today && !strcmp(status, "active");
    free(status);
    json_t *other = db_json_one(r->db, LEAVE_SELECT "WHERE student_id = $1 AND starts_on <= $3 AND ends_on >= $2 "
                                                   "ORDER BY starts_on LIMIT 1",
                                DB_I(student), DB_S(starts_on), DB_S(ends_on));
    if (other) {
        db_rollback(r->db);
        char msg[160];
        snprintf(msg, sizeof msg, tr(r, "overlaps the leave from %s to %s"),
                 json_string_value(json_object_get(other, "starts_on")),
                 json_string_value(json_object_get(other, "ends_on")));
        reply_json(r, 409, json_pack("{s:{s:s, s:s, s:o}}", "error", "code", "leave_overlap", "message", msg,
                                     "details", with_days(other)));
        return;
    }
    if (db_int(r->db, &id, "INSERT INTO campus_leaves (student_id, starts_on, ends_on, reason, recorded_by) VALUES "
                           "($1, $2, $3, $4, $5) RETURNING id",
               DB_I(student), DB_S(starts_on), DB_S(ends_on), DB_S(reason), DB_I(r->user.id)) != 1 ||
        (to_leave && db_exec(r->db, "UPDATE campus_students SET status = 'on_leave', updated_at = " CAMPUS_NOW_SQL
                                    " WHERE id = $1 AND status = 'active'", DB_I(student)) != 1) ||
        audit_write(r->db, r, "campus", "campus.leave.recorded", "student", student,
                    json_pack("{s:I, s:s, s:s, s:s, s:b}", "leave_id", (json_int_t)id, "starts_on", starts_on,
                              "ends_on", ends_on, "reason", reason, "on_leave_now", to_leave)) < 0 ||
        campus_notify(r->db, student, "campus.leave.recorded",
                      json_pack("{s:I, s:s, s:s}", "leave_id", (json_int_t)id, "starts_on", starts_on, "ends_on",
                                ends_on),
                      N_("Leave of absence recorded from %s to %s"), starts_on, ends_on) < 0)
        goto rollback;
    json_t *out = db_json_one(r->db, LEAVE_SELECT "WHERE id = $1", DB_I(id));
    if (!out || db_commit(r->db) < 0) {
        json_decref(out);
        goto rollback;
    }
    reply_json(r, 201, with_days(out));
    return;
rollback:
    db_rollback(r->db);
db_error:
    reply_db_error(r);
}

void campus_leaves_list(struct req *r)
{
    int64_t student = r->param_int[0];
    if (campus_require_student(r, "campus.students.manage", student) < 0) return;
    json_t *items = db_json_all(r->db, LEAVE_SELECT "WHERE student_id = $1 ORDER BY starts_on DESC", DB_I(student));
    if (!items) {
        reply_db_error(r);
        return;
    }
    size_t i;
    json_t *v;
    json_array_foreach(items, i, v) with_days(v);
    reply_json(r, 200, json_pack("{s:I, s:o}", "student_id", (json_int_t)student, "items", items));
}

void campus_leaves_cancel(struct req *r)
{
    int64_t student = r->param_int[0], id = r->param_int[1], start;
    if (db_begin(r->db) < 0) goto db_error;
    json_t *leave = db_json_one(r->db, LEAVE_SELECT "WHERE id = $1 AND student_id = $2", DB_I(id), DB_I(student));
    if (!leave) {
        db_rollback(r->db);
        reply_not_found(r);
        return;
    }
    bool started = !date_parse(json_string_value(json_object_get(leave, "starts_on")), &start) ||
                   start <= date_today();
    if (started) {
        json_decref(leave);
        db_rollback(r->db);
        reply_error(r, 409, "leave_started", "a leave that has started is not cancelled");
        return;
    }
    if (db_exec(r->db, "DELETE FROM campus_leaves WHERE id = $1", DB_I(id)) != 1 ||
        audit_write(r->db, r, "campus", "campus.leave.cancelled", "student", student,
                    json_pack("{s:I, s:O, s:O}", "leave_id", (json_int_t)id, "starts_on",
                              json_object_get(leave, "starts_on"), "ends_on", json_object_get(leave, "ends_on"))) < 0 ||
        campus_notify(r->db, student, "campus.leave.cancelled", json_pack("{s:I}", "leave_id", (json_int_t)id),
                      N_("Leave of absence from %s cancelled"),
                      json_string_value(json_object_get(leave, "starts_on"))) < 0 ||
        db_commit(r->db) < 0) {
        json_decref(leave);
        goto rollback;
    }
    json_decref(leave);
    reply_json(r, 200, json_pack("{s:I, s:b}", "id", (json_int_t)id, "cancelled", 1));
    return;
rollback:
    db_rollback(r->db);
db_error:
    reply_db_error(r);
}
