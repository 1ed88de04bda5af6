/* machines.c -- one drink machine per store: its status and its maintenance
 * log. The store's managers and the region's repair staff report a status;
 * every change writes a log row with the previous status, emits
 * MACHINE_STATUS_CHANGED on codepop.store.<id>, and `error` notifies the
 * store's managers and the region's repair staff (orders.c refuses new orders
 * while the machine is in error).
 *
 * Reporting the status the machine already has is not a change: 200 with the
 * machine as it is ("changed": false), no log row, no event, no audit row. */
#include "codepop.h"
#include <string.h>

#define MACHINE_SELECT \
    "SELECT m.id, m.store_id, s.name AS store_name, s.region_id, m.serial, m.status, m.last_maintenance_date " \
    "FROM codepop_machines m JOIN codepop_stores s ON s.id = m.store_id "
#define LOG_SELECT \
    "SELECT l.id, l.uuid, l.machine_id, l.store_id, s.region_id, l.previous_status, l.new_status, l.action_type, " \
    "l.performed_by, l.notes, l.duration_minutes, l.created_at "                                                  \
    "FROM codepop_maintenance_logs l JOIN codepop_stores s ON s.id = l.store_id "
#define SCOPE_WHERE(t) \
    "($1 = 1 OR " DB_IN_IDS(t ".store_id", 2) " OR " DB_IN_IDS("s.region_id", 3) ") "

static const char *const statuses[] = {"normal", "warning", "error", "repair_start", "repair_end", "offline", NULL};

static bool known_status(const char *s)
{
    for (int i = 0; s && statuses[i]; i++)
        if (!strcmp(s, statuses[i])) return true;
    return false;
}

static int notify_error(struct db *db, int64_t store_id, const char *serial, json_t *data)
{
    char title[160];
    snprintf(title, sizeof title, "Machine %s reported an error", serial);
    if (codepop_notify_role(db, "manager", store_id, "machine.error", title, json_deep_copy(data)) < 0) {
        json_decref(data);
        return -1;
    }
    return codepop_notify_role(db, "repair_staff", store_id, "machine.error", title, data);
}

int codepop_machine_set_status(struct db *db, int64_t user_id, int64_t machine_id, const char *status,
                               const char *log_status, const char *action_type, const char *notes,
                               int64_t duration_minutes, int64_t *log_id)
{
    json_t *m = NULL, *event = NULL;
    char uuid[37];
    if (!known_status(status)) return -1;
    if (db_begin(db) < 0) return -1;
    if (!(m = db_json_one(db, MACHINE_SELECT "WHERE m.id = $1", DB_I(machine_id)))) goto fail;
    const char *prev = json_string_value(json_object_get(m, "status"));
    int64_t store_id = json_integer_value(json_object_get(m, "store_id"));
    bool changed = strcmp(prev, status) != 0;
    int64_t lid;
    uuid_v4(uuid);
    if ((changed && db_exec(db, "UPDATE codepop_machines SET status = $2 WHERE id = $1", DB_I(machine_id),
                            DB_S(status)) != 1) ||
        db_int(db, &lid, "INSERT INTO codepop_maintenance_logs (uuid, machine_id, store_id, previous_status, "
                         "new_status, action_type, performed_by, notes, duration_minutes) "
                         "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                DB_S(uuid), DB_I(machine_id), DB_I(store_id), DB_S(prev), DB_S(log_status ? log_status : status),
                DB_S(action_type), user_id ? DB_I(user_id) : DB_NULL, DB_S(notes ? notes : ""),
                duration_minutes >= 0 ? DB_I(duration_minutes) : DB_NULL) != 1)
        goto fail;
    if (log_id) *log_id = lid;
    if (changed) {
        event = json_pack("{s:I, s:I, s:O, s:O, s:s, s:s, s:I, s:s, s:s?, s:o}", "machine_id", (json_int_t)machine_id,
                          "store_id", (json_int_t)store_id, "serial", json_object_get(m, "serial"), "previous_status",
                          json_object_get(m, "status"), "status", status, "log_uuid", uuid, "log_id", (json_int_t)lid,
                          "notes", notes ? notes : "", "action_type", action_type, "performed_by",
                          user_id ? json_integer(user_id) : json_null());
        if ((!strcmp(status, "error") &&
             notify_error(db, store_id, json_string_value(json_object_get(m, "serial")), json_deep_copy(event)) < 0) ||
            codepop_emit(db, store_id, "MACHINE_STATUS_CHANGED", event) < 0)
            goto fail;
    }
    json_decref(m);
    return db_commit(db);
fail:
    json_decref(m);
    db_rollback(db);
    return -1;
}

/* ------------------------------------------------------------------ read */

void codepop_machines_list(struct req *r)
{
    struct scope_list sc;
    struct page pg;
    int64_t store_id;
    const char *status = req_query(r, "status");
    if (req_page(r, &pg) < 0 || req_query_int(r, "store_id", 0, &store_id) < 0) return;
    if (status && !known_status(status)) {
        reply_invalid(r, "status", "must be normal, warning, error, repair_start, repair_end or offline");
        return;
    }
    rbac_scope_list(r, "codepop.machines.read", &sc, CODEPOP_SCOPE_TYPES);
#define MACHINES_WHERE "WHERE " SCOPE_WHERE("m") "AND (CAST($4 AS TEXT) IS NULL OR m.status = $4) AND ($5 = 0 OR m.store_id = $5) "
    reply_page(r, &pg, "SELECT COUNT(*) FROM codepop_machines m JOIN codepop_stores s ON s.id = m.store_id " MACHINES_WHERE,
               MACHINE_SELECT MACHINES_WHERE "ORDER BY m.id LIMIT $6 OFFSET $7",
               CODEPOP_SCOPE_ARGS(&sc), DB_S(status), DB_I(store_id));
}

void codepop_machines_get(struct req *r)
{
    struct scope_list sc;
    rbac_scope_list(r, "codepop.machines.read", &sc, CODEPOP_SCOPE_TYPES);
    json_t *m = db_json_one(r->db, MACHINE_SELECT "WHERE " SCOPE_WHERE("m") "AND m.id = $4", CODEPOP_SCOPE_ARGS(&sc),
                            DB_I(r->param_int[0]));
    if (!m) reply_not_found(r);
    else reply_json(r, 200, m);
}

void codepop_maintenance_list(struct req *r)
{
    struct scope_list sc;
    struct page pg;
    int64_t machine_id, store_id;
    if (req_page(r, &pg) < 0 || req_query_int(r, "machine_id", 0, &machine_id) < 0 ||
        req_query_int(r, "store_id", 0, &store_id) < 0)
        return;
    rbac_scope_list(r, "codepop.machines.read", &sc, CODEPOP_SCOPE_TYPES);
#define LOGS_WHERE "WHERE " SCOPE_WHERE("l") "AND ($4 = 0 OR l.machine_id = $4) AND ($5 = 0 OR l.store_id = $5) "
    reply_page(r, &pg, "SELECT COUNT(*) FROM codepop_maintenance_logs l JOIN codepop_stores s ON s.id = l.store_id " LOGS_WHERE,
               LOG_SELECT LOGS_WHERE "ORDER BY l.id DESC LIMIT $6 OFFSET $7",
               CODEPOP_SCOPE_ARGS(&sc), DB_I(machine_id), DB_I(store_id));
}

void codepop_maintenance_get(struct req *r)
{
    struct scope_list sc;
    rbac_scope_list(r, "codepop.machines.read", &sc, CODEPOP_SCOPE_TYPES);
    json_t *l = db_json_one(r->db, LOG_SELECT "WHERE " SCOPE_WHERE("l") "AND l.id = $4", CODEPOP_SCOPE_ARGS(&sc),
                            DB_I(r->param_int[0]));
    if (!l) reply_not_found(r);
    else reply_json(r, 200, l);
}

/* ---------------------------------------------------------------- report */

void codepop_machines_status(struct req *r)
{
    int64_t id = r->param_int[0], store_id = 0, log_id = 0;
    const char *status, *notes = "";
    json_t *m = NULL;
    char *prev = NULL;
    /* scope first: a caller outside the store learns nothing from validation */
    if (db_int(r->db, &store_id, "SELECT store_id FROM codepop_machines WHERE id = $1", DB_I(id)) != 1) {
        reply_not_found(r);
        return;
    }
    if (codepop_require_store(r, "codepop.machines.report", store_id) < 0) return;
    if (req_unpack(r, "{s:s, s?s}", "status", &status, "notes", &notes) < 0) return;
    if (!known_status(status)) {
        reply_invalid(r, "status", "must be normal, warning, error, repair_start, repair_end or offline");
        return;
    }
    if (strlen(notes) > 2000) {
        reply_invalid(r, "notes", "must be at most 2000 bytes");
        return;
    }
    if (db_begin(r->db) < 0) goto fail;
    if (!(prev = db_text(r->db, "SELECT status FROM codepop_machines WHERE id = $1", DB_I(id)))) goto rollback;
    bool changed = strcmp(prev, status) != 0;
    if (changed && (codepop_machine_set_status(r->db, r->user.id, id, status, NULL, NULL, notes, -1, &log_id) < 0 ||
                    audit_write(r->db, r, "codepop", "codepop.machine.status_changed", "machine", id,
                                json_pack("{s:s, s:s, s:I}", "from", prev, "to", status, "log_id",
                                          (json_int_t)log_id)) < 0))
        goto rollback;
    if (!(m = db_json_one(r->db, MACHINE_SELECT "WHERE m.id = $1", DB_I(id))) || db_commit(r->db) < 0) goto rollback;
    json_object_set_new(m, "changed", json_boolean(changed));
    json_object_set_new(m, "previous_status", json_string(prev));
    json_object_set_new(m, "log_id", log_id ? json_integer(log_id) : json_null());
    free(prev);
    reply_json(r, 200, m);
    return;
rollback:
    db_rollback(r->db);
    json_decref(m);
    free(prev);
fail:
    reply_db_error(r);
}
