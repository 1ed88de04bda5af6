/* internal.h -- functions shared between core modules only; apps never include
 * this (their whole view of the core is atrium.h). */
#ifndef ATRIUM_INTERNAL_H
#define ATRIUM_INTERNAL_H
#include "atrium.h"
#include <pthread.h>

/* Condition variables whose timed waits use the monotonic clock, so a
 * wall-clock jump cannot stall a background thread (events.c, jobs.c). */
static inline void cond_init_monotonic(pthread_cond_t *c)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(c, &attr);
    pthread_condattr_destroy(&attr);
}

struct MHD_Connection;
struct conn_state;
struct stream;

/* reply.c: a validation error whose problem is already in the caller's
 * language (or not ours to translate, e.g. jansson's words). */
void reply_invalid_as_is(struct req *r, const char *field, const char *problem);

/* router.c */
int router_match(struct req *r);          /* sets r->route/params; replies 404/405 */
size_t router_count(void);                /* registered routes (index n = unmatched) */
void router_freeze(void);                 /* after registration: compile patterns, init metrics */
void router_reset(void);                  /* tests: forget every route */

/* http.c / stream.c */
int stream_queue(struct stream *st, struct MHD_Connection *conn, struct conn_state *s);
void streams_close_all(void);
bool http_stopping(void);
void http_stop_workers(void);                /* http_stop's step: close the worker queue */

/* auth/session.c: resolve a bearer token into r->user; -1 when invalid. */
int auth_authenticate(struct req *r, const char *token);

/* session.c: token pairs. Inside the caller's transaction.
 * session_issue: family_id 0 starts a new family. Returns the JSON
 * {access_token, refresh_token, token_type, expires_in}.
 * session_refresh: 0 ok, -1 unknown/expired token, -2 reuse of a spent token
 * (the family is revoked before returning). */
json_t *session_issue(struct db *db, int64_t user_id, int64_t family_id);
int session_refresh(struct db *db, const char *refresh_token, json_t **pair, int64_t *user_id);
int session_revoke_family(struct db *db, int64_t family_id, const char *reason);
int session_revoke_user(struct db *db, int64_t user_id, const char *reason);
int64_t session_family_of(struct db *db, int64_t token_id);
struct MHD_Connection *http_connection(struct req *r);
void http_set_stream(struct req *r, struct stream *st);
struct MHD_Response;
/* Queue a handler-built response instead of r's buffer (WebSocket upgrade);
 * the connection takes ownership of resp. */
void http_set_response(struct req *r, unsigned status, struct MHD_Response *resp);

/* rbac.c: the permissions a role holds (its own, inherited, implied) as keys
 * of set. */
void rbac_role_perms(json_t *set, const char *app, const struct role *role);
/* rbac.c: free the per-request permission cache; answer 403 naming perm
 * (error.permission). */
void rbac_release(struct req *r);
void rbac_reply_forbidden(struct req *r, const char *perm);
/* roles.c: may a per-user grant name perm? (a permission the app's roles list
 * or its routes need, <app>.audit.read, <app>.*, or a prefix.* covering one) */
bool roles_perm_known(const char *perm);

/* db.c: holding a request's transactions until its answer is known (see
 * db.c). db_hold: from now on an outermost commit keeps the transaction open;
 * db_hold_end commits (or rolls back) what is held and stops holding;
 * db_hold_flush / db_thread_flush commit what is held now and keep holding
 * (before a slow outside call). -1 when the commit failed (nothing of the
 * held transaction is kept). */
void db_hold(struct db *db);
int db_hold_end(struct db *db, bool commit);
int db_hold_flush(struct db *db);
int db_thread_flush(void);
/* db.c: failures on this connection so far that were not constraint
 * violations (http.c: did this handler meet one?). */
unsigned long db_errors(struct db *db);
/* db.c: did PostgreSQL refuse a statement since the last call as a conflict
 * to retry (serialization failure, deadlock)? http.c then runs the request
 * again instead of answering. Clears the flag. */
bool db_retryable(struct db *db);
/* db.c: take (true) or release the lock that makes one instance at a time
 * migrate a PostgreSQL database (session advisory lock); SQLite: nothing. */
int db_migration_lock(struct db *db, bool take);
/* db.c: the connection's next write transactions run in row-lock mode (see
 * db.c "Row locks"; http.c for ROUTE_ROW_LOCKS, the outbox dispatcher for its
 * claims) or, off, one at a time. */
void db_row_locks(struct db *db, bool on);
/* db.c: an append to a table read in id order as a log (the audit chain, the
 * outbox), inside a transaction. Where write transactions run one at a time
 * fn(db, arg) runs now. In row-lock mode it runs at the outermost COMMIT,
 * after the tail lock, so ids commit in order and the chain stays linear
 * while the serial part of the transaction is only its appends and COMMIT;
 * the appends of a scope that rolls back are dropped. fn's failure fails the
 * commit. drop(arg) is called once fn ran or was dropped. */
int db_append(struct db *db, int (*fn)(struct db *db, void *arg), void *arg, void (*drop)(void *arg));
/* db.c: db_lock for the core's own kinds, each in a key class of its own (no
 * client-chosen name can collide with another kind): one request per
 * Idempotency-Key (idempotency.c), one outbox claimer (events.c). */
int db_lock_idempotency(struct db *db, const char *name);
int db_lock_outbox_claim(struct db *db);
/* db.c, for /metrics: thread connections open, of them inside a transaction
 * now, and whether they are PostgreSQL's. */
void db_pool_stats(int *open, int *busy, bool *postgres);
/* db.c: other instances on the same PostgreSQL database hear of commits.
 * db_notify, inside a transaction, sends a notification on channel when it
 * commits; db_listen_start runs fn on a thread of its own after notifications
 * on channel (from any instance) and once a second. SQLite: one process, so
 * both do nothing (the commit hook, db_on_commit, is enough). */
int db_notify(struct db *db, const char *channel);
#define EVENTS_CHANNEL "atrium_outbox"  /* events.c notifies, realtime.c listens */
int db_listen_start(const char *channel, void (*fn)(void));
void db_listen_stop(void);
/* db.c: called after every durable commit, on the committing thread (the
 * events dispatcher registers its kick; one hook). */
void db_on_commit(void (*fn)(void));
/* db.c, fault injection for tests: the nth operation of kind `ops` (DB_OP_*)
 * on a thread inside a request handler (db_fault_scope) fails, once, as an
 * I/O error or SQLITE_BUSY. Disarmed it costs one predictable branch. */
enum { DB_OP_BEGIN = 1, DB_OP_PREPARE = 2, DB_OP_STEP = 4, DB_OP_COMMIT = 8, DB_OP_ALL = 15 };
void db_fault_arm(unsigned ops, long nth, bool busy);
void db_fault_disarm(void);
bool db_fault_fired(void);               /* the armed fault has happened */
void db_fault_scope(bool on);            /* http.c: this thread is running a handler */

/* idempotency.c: around handlers of ROUTE_IDEMPOTENT routes (worker pool).
 * idem_begin returns 0 to run the handler, 1 when it already replied (replay,
 * 409 key reuse, 400 bad key); idem_end stores the answer inside the held
 * transaction (a failure to store answers 500); idem_release, after the
 * commit, lets duplicates of the key in. */
int idem_begin(struct req *r);
void idem_end(struct req *r);
void idem_release(struct req *r);
int idem_expire(struct db *db);          /* delete keys older than 24 h */
/* Core route handlers (table in core.c). */
void health_live(struct req *r);            /* health.c */
void health_ready(struct req *r);
void health_detailed(struct req *r);
void metrics_endpoint(struct req *r);
void auth_register(struct req *r);          /* auth.c */
void auth_login(struct req *r);
void auth_refresh(struct req *r);
void auth_logout(struct req *r);
void me_get(struct req *r);
void me_language(struct req *r);
void me_password(struct req *r);              /* auth.c */
void auth_totp_setup(struct req *r);        /* totp.c */
void auth_totp_enable(struct req *r);
void auth_totp_disable(struct req *r);
/* auth.c: users, shared by the account and the administration handlers.
 * AUTH_USER_COLUMNS selects the public user object (never the hash);
 * auth_user_json adds roles/permissions/overrides when with_access.
 * auth_user_problem checks the fields given (NULL = not checked) and returns a
 * reason code (username_invalid, email_invalid, display_name_invalid,
 * password_*) or NULL; auth_reply_user_problem answers one (400 with details,
 * 409 for username_taken/email_taken, 500 for NULL). auth_register_user reads
 * {username, password, email, display_name?}, creates the user, audits
 * `action` and answers 201 with the user. */
#define AUTH_USER_COLUMNS "id, username, email, display_name, language, status, " \
                          "totp_enabled AS totp_enabled__bool, created_at"
json_t *auth_user_json(struct db *db, int64_t user_id, bool with_access);
const char *auth_user_problem(const char *username, const char *password, const char *email,
                              const char *display_name);
void auth_reply_user_problem(struct req *r, const char *problem);
void auth_register_user(struct req *r, const char *action);
/* totp.c, for login: 0 when code is a valid unused TOTP code or recovery code
 * of user_id (inside the caller's transaction: marks it used); -1 otherwise. */
int totp_check_login(struct db *db, int64_t user_id, const char *code);
void admin_users_list(struct req *r);       /* admin.c */
void admin_users_create(struct req *r);
void admin_users_get(struct req *r);
void admin_users_patch(struct req *r);
void admin_roles_add(struct req *r);
void admin_roles_remove(struct req *r);
void admin_permissions_set(struct req *r);
void admin_jobs_list(struct req *r);        /* jobs.c */
void admin_roles_list(struct req *r);       /* rbac.c */
void audit_list(struct req *r);             /* audit.c */
void notifications_list(struct req *r);     /* notify.c */
void notifications_read(struct req *r);
void realtime_sse(struct req *r);           /* sse.c */
void realtime_ws(struct req *r);            /* ws.c */

/* Core jobs (health.c). */
int core_cleanup_job(struct db *db, char **result);   /* expired tokens and idempotency keys */
int core_backup_job(struct db *db, char **result);    /* nightly backup */

/* Lifecycles called by serve (main.c). */
int events_start(void);                     /* events.c: outbox dispatcher thread */
void events_stop(void);
int64_t events_backlog(struct db *db);
int realtime_init(void);                    /* realtime.c: hub, heartbeats, WS loop */
void realtime_cleanup(void);
void realtime_close_all(void);              /* http_stop: close every WebSocket */
#endif
