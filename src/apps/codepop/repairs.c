/* repairs.c -- repair schedules. Repair staff of the machine's region plan a
 * visit (scheduled, assigned to themselves), start it (in_progress, machine
 * repair_start), complete it (completed, machine normal, last maintenance
 * today, a repair_end log row with the duration) or cancel it. Each step is
 * one transaction with its state check; a step from the wrong state is 409
 * invalid_transition.
 *
 * Choices where the spec is silent: any repair staff of the region (or an
 * admin) may start, complete or cancel a schedule, not only its assignee;
 * dates are UTC; cancelling an in_progress repair puts the machine back to the
 * status it had before this repair started, provided it is still in
 * repair_start (if someone reported another status meanwhile, that stays). */
#include "codepop.h"
#include <string.h>

#define NOW_SQL "strftime('%Y-%m-%dT%H:%M:%SZ','now')"

#define SCHEDULE_SELECT \
    "SELECT rs.id, rs.uuid, rs.machine_id, rs.store_id, s.name AS store_name, s.region_id, s.lat, s.lon, "         \
    "rs.assigned_to, rs.scheduled_date, rs.scheduled_time, rs.action_type, rs.estimated_duration_minutes, "        \
    "rs.status, rs.actual_start_time, rs.actual_end_time, rs.notes, rs.created_at "                                \
    "FROM codepop_repair_schedules rs JOIN codepop_stores s ON s.id = rs.store_id "
#define SCOPE_WHERE \
    "($1 = 1 OR " DB_IN_IDS("rs.store_id", 2) " OR " DB_IN_IDS("s.region_id", 3) ") "

static const char *const actions[] = {"INSPECTION", "PREVENTIVE_MAINTENANCE", "EMERGENCY_REPAIR", "PART_REPLACEMENT",
                                      NULL};
static const char *const statuses[] = {"scheduled", "in_progress", "completed", "cancelled", NULL};

static bool one_of(const char *s, const char *const *set)
{
    for (; s && *set; set++)
        if (!strcmp(s, *set)) return true;
    return false;
}

static bool valid_hhmm(const char *s)
{
    return s && strlen(s) == 5 && s[2] == ':' && s[0] >= '0' && s[0] <= '2' && s[1] >= '0' && s[1] <= '9' &&
           s[3] >= '0' && s[3] <= '5' && s[4] >= '0' && s[4] <= '9' && (s[0] < '2' || s[1] <= '3');
}

static const char *today(struct req *r)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    char *out = pool_alloc(r->pool, 11);
    strftime(out, 11, "%Y-%m-%d", &tm);
    return out;
}

static json_t *schedule_json(struct db *db, int64_t id)
{
    return db_json_one(db, SCHEDULE_SELECT "WHERE rs.id = $1", DB_I(id));
}

/* ---------------------------------------------------------------- create */

static int check_create(struct req *r, const char *date, const char *time_, const char *action, json_int_t minutes)
{
    if (req_date(r, "scheduled_date", date, NULL) < 0) return -1;
    if (strcmp(date, today(r)) < 0) reply_invalid(r, "scheduled_date", "must be today or later");
    else if (!valid_hhmm(time_)) reply_invalid(r, "scheduled_time", "must be a time HH:MM");
    else if (!one_of(action, actions))
        reply_invalid(r, "action_type",
                      "must be INSPECTION, PREVENTIVE_MAINTENANCE, EMERGENCY_REPAIR or PART_REPLACEMENT");
    else if (minutes < 1 || minutes > 1440) reply_invalid(r, "estimated_duration_minutes", "must be 1 to 1440");
    else return 0;
    return -1;
}

void codepop_repairs_create(struct req *r)
{
    json_int_t machine_id, minutes;
    const char *date, *time_, *action, *notes = "";
    int64_t store_id = 0;
    json_t *s = NULL;
    char uuid[37];
    if (req_unpack(r, "{s:I, s:s, s:s, s:s, s:I, s?s}", "machine_id", &machine_id, "scheduled_date", &date,
                   "scheduled_time", &time_, "action_type", &action, "estimated_duration_minutes", &minutes, "notes",
                   &notes) < 0 ||
        check_create(r, date, time_, action, minutes) < 0)
        return;
    if (strlen(notes) > 2000) {
        reply_invalid(r, "notes", "must be at most 2000 bytes");
        return;
    }
    if (db_int(r->db, &store_id, "SELECT store_id FROM codepop_machines WHERE id = $1", DB_I(machine_id)) != 1) {
        reply_error(r, 404, "not_found", "no machine %lld", (long long)machine_id);
        return;
    }
    if (codepop_require_store(r, "codepop.repairs.manage", store_id) < 0) return;
    int64_t id;
    uuid_v4(uuid);
    if (db_begin(r->db) < 0) goto fail;
    if (db_int(r->db, &id, "INSERT INTO codepop_repair_schedules (uuid, machine_id, store_id, assigned_to, "
                           "scheduled_date, scheduled_time, action_type, estimated_duration_minutes, notes) "
                           "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
               DB_S(uuid), DB_I(machine_id), DB_I(store_id), DB_I(r->user.id), DB_S(date), DB_S(time_), DB_S(action),
               DB_I(minutes), DB_S(notes)) != 1)
        goto rollback;
    if (!(s = schedule_json(r->db, id)) ||
        audit_write(r->db, r, "codepop", "codepop.repair_schedule.created", "repair_schedule", id,
                    json_pack("{s:s, s:I, s:s, s:s, s:s}", "uuid", uuid, "machine_id", machine_id, "scheduled_date",
                              date, "scheduled_time", time_, "action_type", action)) < 0 ||
        codepop_emit(r->db, store_id, "REPAIR_SCHEDULED",
                     json_pack("{s:s, s:I, s:I, s:I, s:s, s:s, s:s, s:I, s:s}", "uuid", uuid, "machine_id", machine_id,
                               "store_id", (json_int_t)store_id, "assigned_to", (json_int_t)r->user.id,
                               "scheduled_date", date, "scheduled_time", time_, "action_type", action,
                               "estimated_duration_minutes", minutes, "status", "scheduled")) < 0 ||
        db_commit(r->db) < 0)
        goto rollback;
    reply_json(r, 201, s);
    return;
rollback:
    db_rollback(r->db);
    json_decref(s);
fail:
    reply_db_error(r);
}

/* ------------------------------------------------------------------ read */

void codepop_repairs_list(struct req *r)
{
    struct scope_list sc;
    struct page pg;
    int64_t assigned = 0, machine_id, store_id;
    const char *status = req_query(r, "status"), *date = req_query(r, "date"), *who = req_query(r, "assigned_to");
    if (req_page(r, &pg) < 0 || req_query_int(r, "machine_id", 0, &machine_id) < 0 ||
        req_query_int(r, "store_id", 0, &store_id) < 0)
        return;
    if (status && !one_of(status, statuses)) {
        reply_invalid(r, "status", "must be scheduled, in_progress, completed or cancelled");
        return;
    }
    if (date && req_date(r, "date", date, NULL) < 0) return;
    if (who && !strcmp(who, "me")) assigned = r->user.id;
    else if (who && req_query_int(r, "assigned_to", 0, &assigned) < 0) return;
    rbac_scope_list(r, "codepop.repairs.read", &sc, CODEPOP_SCOPE_TYPES);
#define LIST_WHERE "WHERE " SCOPE_WHERE "AND (CAST($4 AS TEXT) IS NULL OR rs.status = $4) "                          \
                   "AND (CAST($5 AS TEXT) IS NULL OR rs.scheduled_date = $5) "                                           \
                   "AND ($6 = 0 OR rs.assigned_to = $6) AND ($7 = 0 OR rs.machine_id = $7) "                          \
                   "AND ($8 = 0 OR rs.store_id = $8) "
    reply_page(r, &pg, "SELECT COUNT(*) FROM codepop_repair_schedules rs "
               "JOIN codepop_stores s ON s.id = rs.store_id " LIST_WHERE,
               SCHEDULE_SELECT LIST_WHERE
               "ORDER BY rs.scheduled_date, rs.scheduled_time, rs.id LIMIT $9 OFFSET $10",
               CODEPOP_SCOPE_ARGS(&sc), DB_S(status), DB_S(date), DB_I(assigned), DB_I(machine_id), DB_I(store_id));
}

void codepop_repairs_get(struct req *r)
{
    struct scope_list sc;
    rbac_scope_list(r, "codepop.repairs.read", &sc, CODEPOP_SCOPE_TYPES);
    json_t *s = db_json_one(r->db, SCHEDULE_SELECT "WHERE " SCOPE_WHERE "AND rs.id = $4", CODEPOP_SCOPE_ARGS(&sc),
                            DB_I(r->param_int[0]));
    if (!s) reply_not_found(r);
    else reply_json(r, 200, s);
}

/* ----------------------------------------------------------- transitions */

struct step {
    const char *to;             /* the schedule's new status */
    const char *from;           /* allowed current states, JSON array */
    const char *action;         /* audit action */
};

/* 404 / 403 / the body, then BEGIN and the guarded status update: on success
 * the transaction is open and *sched holds the schedule as it was. */
static int step_begin(struct req *r, const struct step *st, const char *notes, json_t **sched)
{
    int64_t id = r->param_int[0], store_id = 0;
    *sched = NULL;
    if (db_int(r->db, &store_id, "SELECT store_id FROM codepop_repair_schedules WHERE id = $1", DB_I(id)) != 1) {
        reply_not_found(r);
        return -1;
    }
    if (codepop_require_store(r, "codepop.repairs.manage", store_id) < 0) return -1;
    if (db_begin(r->db) < 0) {
        reply_db_error(r);
        return -1;
    }
    *sched = schedule_json(r->db, id);
    int n = *sched ? db_exec(r->db, "UPDATE codepop_repair_schedules SET status = $2, "
                                    "actual_start_time = CASE WHEN $2 = 'in_progress' THEN " NOW_SQL
                                    " ELSE actual_start_time END, "
                                    "actual_end_time = CASE WHEN $2 = 'completed' THEN " NOW_SQL
                                    " ELSE actual_end_time END, "
                                    "notes = COALESCE($4, notes) "
                                    "WHERE id = $1 AND status IN (SELECT value FROM json_each($3))",
                             DB_I(id), DB_S(st->to), DB_S(st->from), DB_S(notes))
                   : -1;
    if (n == 1) return 0;
    db_rollback(r->db);
    if (n == 0)
        reply_error(r, 409, "invalid_transition", "a %s repair cannot become %s",
                    json_string_value(json_object_get(*sched, "status")), st->to);
    else reply_db_error(r);
    json_decref(*sched);
    *sched = NULL;
    return -1;
}

/* Audit, commit and answer the schedule as it is now. */
static void step_end(struct req *r, const struct step *st, json_t *before, json_t *summary)
{
    int64_t id = r->param_int[0];
    json_t *now = schedule_json(r->db, id);
    json_object_set_new(summary, "uuid", json_deep_copy(json_object_get(before, "uuid")));
    json_object_set_new(summary, "from", json_deep_copy(json_object_get(before, "status")));
    json_object_set_new(summary, "to", json_string(st->to));
    json_decref(before);
    if (!now) json_decref(summary);         /* audit_write would have stolen it */
    if (!now || audit_write(r->db, r, "codepop", st->action, "repair_schedule", id, summary) < 0 ||
        db_commit(r->db) < 0) {
        db_rollback(r->db);
        json_decref(now);
        reply_db_error(r);
        return;
    }
    reply_json(r, 200, now);
}

static void step_fail(struct req *r, json_t *before, json_t *summary)
{
    db_rollback(r->db);
    json_decref(before);
    json_decref(summary);
    reply_db_error(r);
}

static const char *started_note(struct req *r, int64_t id)
{
    return pool_printf(r->pool, "repair schedule %lld started", (long long)id);
}

void codepop_repairs_start(struct req *r)
{
    static const struct step st = {"in_progress", "[\"scheduled\"]", "codepop.repair_schedule.started"};
    json_t *s, *summary = json_object();
    int64_t log_id = 0;
    if (req_no_fields(r) < 0) {
        json_decref(summary);
        return;
    }
    if (step_begin(r, &st, NULL, &s) < 0) {
        json_decref(summary);
        return;
    }
    if (codepop_machine_set_status(r->db, r->user.id, json_integer_value(json_object_get(s, "machine_id")),
                                   "repair_start", NULL, json_string_value(json_object_get(s, "action_type")),
                                   started_note(r, r->param_int[0]), -1, &log_id) < 0)
    {
        step_fail(r, s, summary);
        return;
    }
    json_object_set_new(summary, "log_id", json_integer(log_id));
    step_end(r, &st, s, summary);
}

void codepop_repairs_complete(struct req *r)
{
    static const struct step st = {"completed", "[\"in_progress\"]", "codepop.repair_schedule.completed"};
    const char *notes = NULL;
    json_t *s, *summary;
    int64_t minutes = 0, log_id = 0, id = r->param_int[0];
    if (r->body && req_unpack(r, "{s?s}", "notes", &notes) < 0) return;
    if (notes && strlen(notes) > 2000) {
        reply_invalid(r, "notes", "must be at most 2000 bytes");
        return;
    }
    if (step_begin(r, &st, notes, &s) < 0) return;
    summary = json_object();
    int64_t machine_id = json_integer_value(json_object_get(s, "machine_id"));
    if (db_int(r->db, &minutes, "SELECT CAST(ROUND((julianday(actual_end_time) - julianday(actual_start_time)) "
                                "* 1440) AS INTEGER) FROM codepop_repair_schedules WHERE id = $1", DB_I(id)) != 1 ||
        codepop_machine_set_status(r->db, r->user.id, machine_id, "normal", "repair_end",
                                   json_string_value(json_object_get(s, "action_type")), notes ? notes : "", minutes,
                                   &log_id) < 0 ||
        db_exec(r->db, "UPDATE codepop_machines SET last_maintenance_date = date('now') WHERE id = $1",
                DB_I(machine_id)) != 1)
    {
        step_fail(r, s, summary);
        return;
    }
    json_object_set_new(summary, "log_id", json_integer(log_id));
    json_object_set_new(summary, "duration_minutes", json_integer(minutes));
    step_end(r, &st, s, summary);
}

/* An in_progress repair is cancelled: the machine goes back to the status
 * this repair's start found, if nobody has reported another one since. */
static int restore_machine(struct req *r, json_t *s, json_t *summary)
{
    int64_t machine_id = json_integer_value(json_object_get(s, "machine_id"));
    char *now = db_text(r->db, "SELECT status FROM codepop_machines WHERE id = $1", DB_I(machine_id));
    char *before = db_text(r->db, "SELECT previous_status FROM codepop_maintenance_logs WHERE machine_id = $1 "
                                  "AND new_status = 'repair_start' AND notes = $2 ORDER BY id DESC LIMIT 1",
                           DB_I(machine_id), DB_S(started_note(r, r->param_int[0])));
    int rc = now ? 0 : -1;
    if (now && before && !strcmp(now, "repair_start") && strcmp(before, "repair_start")) {
        const char *note = pool_printf(r->pool, "repair schedule %lld cancelled", (long long)r->param_int[0]);
        rc = codepop_machine_set_status(r->db, r->user.id, machine_id, before, NULL,
                                        json_string_value(json_object_get(s, "action_type")), note, -1, NULL);
        json_object_set_new(summary, "machine_status", json_string(before));
    }
    free(now);
    free(before);
    return rc;
}

void codepop_repairs_cancel(struct req *r)
{
    static const struct step st = {"cancelled", "[\"scheduled\",\"in_progress\"]", "codepop.repair_schedule.cancelled"};
    const char *reason = NULL;
    json_t *s, *summary;
    if (r->body && req_unpack(r, "{s?s}", "reason", &reason) < 0) return;
    if (reason && strlen(reason) > 2000) {
        reply_invalid(r, "reason", "must be at most 2000 bytes");
        return;
    }
    if (step_begin(r, &st, NULL, &s) < 0) return;
    summary = json_object();
    if (!strcmp(json_string_value(json_object_get(s, "status")), "in_progress") && restore_machine(r, s, summary) < 0) {
        step_fail(r, s, summary);
        return;
    }
    if (reason) json_object_set_new(summary, "reason", json_string(reason));
    step_end(r, &st, s, summary);
}
