/* common.c -- groupbuy helpers shared by its resources: the caller's supplier
 * scope checks, audit rows, realtime events and notifications, and the ledger row
 * every money movement writes. It calls no other groupbuy file: payment.c and
 * refunds.c build on it, payment.c on refunds.c too (a late payment requests
 * its refund), never the other way round. */
#include "groupbuy.h"
#include <stdlib.h>

/* ------------------------------------------------------------------ scope */

bool groupbuy_can_supplier(struct req *r, const char *perm, int64_t supplier_id)
{
    return rbac_can(r, perm, "supplier", supplier_id);
}

int groupbuy_require_supplier(struct req *r, const char *perm, int64_t supplier_id)
{
    int64_t one = 0;
    if (db_int(r->db, &one, "SELECT 1 FROM groupbuy_suppliers WHERE id = $1", DB_I(supplier_id)) != 1) {
        reply_error(r, 404, "not_found", "no supplier %lld", (long long)supplier_id);
        return -1;
    }
    if (groupbuy_can_supplier(r, perm, supplier_id)) return 0;
    reply_error(r, 403, "forbidden", "missing permission %s for supplier %lld", perm, (long long)supplier_id);
    return -1;
}

/* ------------------------------------------------------------------ audit */

int groupbuy_audit(struct db *db, struct req *r, int64_t actor_id, const char *action, const char *target_type,
                   int64_t target_id, json_t *summary)
{
    return r ? audit_write(db, r, "groupbuy", action, target_type, target_id, summary)
             : audit_write_as(db, actor_id, "groupbuy", action, target_type, target_id, summary);
}

/* ------------------------------------------------------ events and notices */

int groupbuy_emit(struct db *db, int64_t group_id, const char *type, json_t *payload)
{
    char topic[64];
    snprintf(topic, sizeof topic, "groupbuy.group.%lld", (long long)group_id);
    return events_emit(db, topic, type, payload ? payload : json_object());
}

/* Notify every user the query names (one column of user ids), in-app,
 * inside the caller's transaction; data stolen. */
static int notify_users_of(struct db *db, const char *sql, const struct db_arg *args, const char *kind,
                           const char *title, json_t *data)
{
    struct db_rows rows;
    int64_t *ids = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    if (db_query_(db, &rows, sql, args) < 0) {
        json_decref(data);
        return -1;
    }
    while (db_step(&rows)) {
        if (n == cap) ids = xrealloc(ids, (cap = cap ? cap * 2 : 8) * sizeof *ids);
        ids[n++] = db_col_int(&rows, 0);
    }
    if (db_rows_failed(&rows)) rc = -1;     /* not "nobody to tell" */
    db_rows_close(&rows);
    for (size_t i = 0; i < n && rc == 0; i++) rc = notify_user(db, ids[i], kind, title, json_deep_copy(data));
    free(ids);
    json_decref(data);
    return rc;
}

int groupbuy_notify_supplier(struct db *db, int64_t supplier_id, const char *kind, const char *title, json_t *data)
{
    return notify_users_of(db, "SELECT DISTINCT user_id FROM user_roles WHERE app = 'groupbuy' AND role IN "
                               "('supplier', 'supplier_staff') AND scope_type = 'supplier' AND scope_id = $1 "
                               "ORDER BY user_id", DB_ARGS(DB_I(supplier_id)), kind, title, data);
}

int groupbuy_notify_traders(struct db *db, int64_t group_id, bool counted_only, const char *kind, const char *title,
                            json_t *data)
{
    return notify_users_of(db, "SELECT DISTINCT trader_id FROM groupbuy_contributions c WHERE group_id = $1 AND "
                               "($2 = 0 OR c.id IN (SELECT id FROM " GB_COUNTED " WHERE group_id = $1)) "
                               "ORDER BY trader_id",
                           DB_ARGS(DB_I(group_id), DB_I(counted_only)), kind, title, data);
}

/* ----------------------------------------------------------------- ledger */

int groupbuy_ledger_add(struct db *db, const char *account, int64_t supplier_id, int64_t group_id,
                        int64_t contribution_id, int64_t order_id, const char *entry_type, int64_t amount_cents,
                        const char *currency, const char *reference)
{
    return db_exec(db, "INSERT INTO groupbuy_ledger (account, supplier_id, group_id, contribution_id, order_id, "
                       "entry_type, amount_cents, currency, reference) VALUES ($1, $2, $3, NULLIF($4, 0), "
                       "NULLIF($5, 0), $6, $7, $8, $9)",
                   DB_S(account), DB_I(supplier_id), DB_I(group_id), DB_I(contribution_id), DB_I(order_id),
                   DB_S(entry_type), DB_I(amount_cents), DB_S(currency), DB_S(reference)) == 1 ? 0 : -1;
}
