/* atrium.h -- the hub header every core file and every app includes.
 *
 * It declares the core's public API, grouped by module, in the order a request
 * meets them: memory, config, log, i18n, db, http (request/response),
 * auth/rbac, audit, events, notifications, jobs. Modules with a larger surface
 * keep their own header (ratelimit.h, metrics.h, backup.h, embed.h) included
 * from here.
 *
 * Conventions:
 *   - functions that can fail return 0 on success and -1 on failure;
 *   - functions named *_or_reply() send the error response themselves, so a
 *     handler stays flat:  if (req_unpack(r, "{s:s}", "name", &name) < 0) return;
 *   - allocation never fails: xmalloc() and friends abort on out-of-memory.
 */
#ifndef ATRIUM_H
#define ATRIUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <jansson.h>

#include "embed.h"
#include "ratelimit.h"
#include "metrics.h"
#include "backup.h"
#include "payments.h"

#define ATRIUM_VERSION "0.1.0"

struct req;
struct db;
struct seed_opts;
struct job;
struct event_sink;

/* ------------------------------------------------------------------ memory */

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A pool lives as long as one request (or one job run); everything allocated
 * from it is freed at once by pool_free(). */
struct pool;
struct pool *pool_new(void);
void pool_free(struct pool *p);
void *pool_alloc(struct pool *p, size_t n);          /* zeroed */
char *pool_strdup(struct pool *p, const char *s);
char *pool_printf(struct pool *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ------------------------------------------------------------------ config */

struct rate {                   /* "100/hour" -> capacity 100, refill 100/3600 per s */
    double capacity;
    double per_second;
};

struct config {
    char listen_host[64];       /* ATRIUM_LISTEN host part, default 127.0.0.1 */
    int listen_port;            /* ATRIUM_LISTEN port part, default 8080; 0 = ephemeral */
    char *db;                   /* ATRIUM_DB, default ./data/atrium.db */
    char *apps;                 /* ATRIUM_APPS, comma list, default "all" */
    int log_level;              /* ATRIUM_LOG_LEVEL: 0 debug, 1 info, 2 warn, 3 error */
    unsigned char enc_key[32];  /* ATRIUM_ENCRYPTION_KEY (64 hex chars) */
    bool enc_key_set;
    struct rate rate_anon;      /* ATRIUM_RATE_ANON, default 100/hour */
    struct rate rate_user;      /* ATRIUM_RATE_USER, default 1000/hour */
    struct rate rate_login;     /* ATRIUM_RATE_LOGIN, default 10/minute */
    char *cors_origins;         /* ATRIUM_CORS_ORIGINS, comma list or NULL */
    char *trusted_proxies;      /* ATRIUM_TRUSTED_PROXIES: addresses whose X-Forwarded-For is believed */
    size_t max_body;            /* ATRIUM_MAX_BODY, default 1 MiB */
    bool open_registration;     /* ATRIUM_OPEN_REGISTRATION, default 1 */
    char *metrics_token;        /* ATRIUM_METRICS_TOKEN or NULL (open) */
    int io_threads;             /* ATRIUM_IO_THREADS, default = cores */
    int workers;                /* ATRIUM_WORKERS (slow-route pool), default 2*cores+2 */
    int access_ttl;             /* ATRIUM_ACCESS_TTL seconds, default 900 */
    int refresh_ttl;            /* ATRIUM_REFRESH_TTL seconds, default 30 days */
    int backup_keep_days;       /* ATRIUM_BACKUP_KEEP_DAYS, default 30 */
    char *backup_dir;           /* ATRIUM_BACKUP_DIR, default ./data/backups */
    bool jobs_enabled;          /* ATRIUM_JOBS, default 1: run the job scheduler in serve */
    int job_lease_s;            /* ATRIUM_JOB_LEASE, default 3600: a crashed run's job is taken over after it */
    bool db_group_commit;       /* ATRIUM_DB_SYNC=group (default) or full; see db.c */
    int pwhash_ops;             /* ATRIUM_PWHASH_OPS/MEM: argon2id cost (default libsodium */
    size_t pwhash_mem;          /*   "interactive"); tests lower them */
};

extern struct config cfg;

/* Fill `cfg` from the environment (and, if file != NULL, KEY=VALUE lines of that
 * file first, the environment winning). On error writes a message to err. */
int config_load(const char *file, char *err, size_t errlen);
void config_print(FILE *out);   /* effective configuration, secrets masked */
bool config_app_enabled(const char *app);
int config_parse_rate(const char *s, struct rate *out);

/* --------------------------------------------------------------------- log */

enum { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };
/* One JSON object per line on stdout: {"time","level","msg", ...extra}.
 * `extra` (may be NULL) is a JSON object merged in and released. */
void log_json(int level, json_t *extra, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#define log_debug(...) log_json(LOG_DEBUG, NULL, __VA_ARGS__)
#define log_info(...)  log_json(LOG_INFO, NULL, __VA_ARGS__)
#define log_warn(...)  log_json(LOG_WARN, NULL, __VA_ARGS__)
#define log_error(...) log_json(LOG_ERROR, NULL, __VA_ARGS__)

/* -------------------------------------------------------------------- i18n */

/* The API's human messages in the caller's language (i18n.c): GNU gettext
 * catalogs compiled from po/<lang>.po and embedded in the binary. msgids are
 * the English texts (for reply_error(), the format string). The replies
 * translate by themselves: reply_error() its format, reply_invalid() its
 * problem, reply_invalidf() its format; tr() is for a message built otherwise. */
int i18n_init(void);            /* atrium_init(); warns once and falls back to English */
void i18n_cleanup(void);        /* atrium_shutdown(): removes the catalogs' temp dir */
/* The translation of msgid into lang ("es"), or msgid itself (English, no
 * translation, catalogs unavailable). Any thread; the result lives forever. */
const char *i18n_text(const char *lang, const char *msgid) __attribute__((format_arg(2)));
#define tr(r, msgid) i18n_text((r)->lang, msgid)
/* Marks a message for extraction (make po) that is translated later, where
 * the caller's language is known (a table of messages, a wrapper's argument). */
#define N_(msgid) msgid

/* ---------------------------------------------------------------- database */

/* A connection. Not shared between threads: each thread has its own from
 * db_thread(). SQL uses $1..$N placeholders (PostgreSQL style) on every
 * backend; arguments are passed as typed DB_* values, never formatted in. */
struct db;

struct db_arg {
    char type;                  /* 'i' int, 'd' real, 's' text, 'b' blob, 'n' null, 0 end */
    int64_t i;
    double d;
    const char *s;
    size_t n;                   /* blob length */
};
#define DB_I(x)     ((struct db_arg){.type = 'i', .i = (int64_t)(x)})
#define DB_D(x)     ((struct db_arg){.type = 'd', .d = (double)(x)})
#define DB_S(x)     ((struct db_arg){.type = 's', .s = (x)})       /* NULL binds SQL NULL */
#define DB_B(p, len) ((struct db_arg){.type = 'b', .s = (const char *)(p), .n = (len)})
#define DB_NULL     ((struct db_arg){.type = 'n'})
#define DB_ARGS(...) ((const struct db_arg[]){__VA_ARGS__ __VA_OPT__(,) {0}})

struct db_rows {                /* an open result set; see db_query() */
    struct db *db;
    void *stmt;
    bool owned;                 /* private statement, finalized on close */
    bool implicit_tx;           /* a write outside db_begin: committed on close */
    int last_rc;                /* backend code of the last step */
};

int db_open(const char *path, struct db **out);   /* WAL, busy_timeout, foreign keys */
void db_close(struct db *db);
struct db *db_thread(void);      /* this thread's connection to cfg.db, opened on first use */
void db_thread_close(void);      /* close this thread's connection (thread exit, shutdown) */
void db_close_all(void);         /* shutdown: close every thread's connection */

/* Write transactions are BEGIN IMMEDIATE. They nest: an inner begin/commit is a
 * no-op, an inner rollback makes the outermost commit roll back and fail. */
int db_begin(struct db *db);
int db_commit(struct db *db);
void db_rollback(struct db *db);
bool db_in_tx(struct db *db);
/* Inside a transaction: until it ends, one transaction at a time holds name,
 * across instances (a ROUTE_ROW_LOCKS handler serializes its check-and-write
 * per resource: "groupbuy.group:12"). Wherever write transactions already run
 * one at a time (SQLite; every other route on PostgreSQL) it does nothing. */
int db_lock(struct db *db, const char *name);

/* Each takes the SQL and its arguments. Errors are logged and return -1. */
int db_exec_(struct db *db, const char *sql, const struct db_arg *args);          /* -> rows changed */
int db_int_(struct db *db, int64_t *out, const char *sql, const struct db_arg *args); /* -> 1 row, 0 none */
char *db_text_(struct db *db, const char *sql, const struct db_arg *args);        /* malloc'd or NULL */
json_t *db_json_one_(struct db *db, const char *sql, const struct db_arg *args);  /* object or NULL */
json_t *db_json_all_(struct db *db, const char *sql, const struct db_arg *args);  /* array (never NULL on success) */
int db_query_(struct db *db, struct db_rows *rows, const char *sql, const struct db_arg *args);
#define db_exec(db, sql, ...)      db_exec_(db, sql, DB_ARGS(__VA_ARGS__))
#define db_int(db, out, sql, ...)  db_int_(db, out, sql, DB_ARGS(__VA_ARGS__))
#define db_text(db, sql, ...)      db_text_(db, sql, DB_ARGS(__VA_ARGS__))
#define db_json_one(db, sql, ...)  db_json_one_(db, sql, DB_ARGS(__VA_ARGS__))
#define db_json_all(db, sql, ...)  db_json_all_(db, sql, DB_ARGS(__VA_ARGS__))
#define db_query(db, rows, sql, ...) db_query_(db, rows, sql, DB_ARGS(__VA_ARGS__))
/* "col is one of the ids in the JSON array text bound as $n" (rbac_scope_list):
 * the one place that spells the dialect's JSON-array membership test. */
#define DB_IN_IDS(col, n) col " IN (SELECT CAST(value AS INTEGER) FROM json_each($" #n "))"
/* Column-name conventions for db_json_*: a name ending in "__json" is parsed as
 * JSON, "__bool" becomes true/false; the suffix is dropped from the key. */

bool db_step(struct db_rows *rows);                   /* next row; false at end or error */
int64_t db_col_int(struct db_rows *rows, int col);
double db_col_real(struct db_rows *rows, int col);
const char *db_col_text(struct db_rows *rows, int col);   /* valid until next step */
const void *db_col_blob(struct db_rows *rows, int col, size_t *len);
bool db_col_null(struct db_rows *rows, int col);
void db_rows_close(struct db_rows *rows);
bool db_rows_failed(const struct db_rows *rows);   /* db_step() stopped on an error, not at the end */

int db_exec_script(struct db *db, const char *sql);  /* ;-separated, no args (migrations) */
int64_t db_last_id(struct db *db);
bool db_constraint_failed(struct db *db);     /* last error was a UNIQUE/FK/CHECK violation */
const char *db_errmsg(struct db *db);
void *db_handle(struct db *db);               /* backend handle (sqlite3 * or PGconn *) for backup/tests */
bool db_is_pg(struct db *db);                 /* PostgreSQL (ATRIUM_DB=postgres://...), else SQLite */
bool db_url_is_pg(const char *db);            /* does this ATRIUM_DB value name PostgreSQL? */
/* After rows were inserted with explicit ids (seeds, table rebuilds): make the
 * next generated id follow the largest one, as SQLite always does; with
 * restart_empty (seed --clear) an emptied table starts at 1 again. Nothing on
 * SQLite. */
int db_sync_ids(struct db *db, bool restart_empty);

/* Migrations: embedded SQL files under `dir` ("src/core/migrations/"), applied
 * in file-name order, each in its own transaction, recorded in schema_migrations
 * as (app, version, name). Returns the count applied or -1. */
int migrate_dir(struct db *db, const char *app, const char *dir);
int migrate_all(struct db *db);               /* core, then every enabled app */
bool migrate_current(struct db *db);          /* nothing left to apply */
/* Does this binary ship migration `version` of `app`? (restore refuses newer schemas) */
bool migrate_known(const char *app, int version);

/* ---------------------------------------------------------------- identity */

struct user_ctx {
    int64_t id;                 /* 0: anonymous */
    char username[64];
    char language[8];           /* "en" / "es" */
    int64_t token_id;           /* the access token row that authenticated this request */
};

/* Permissions the caller holds, loaded once per request (one indexed query)
 * on first use. `scope_type` NULL means "any scope": the route-table check. */
bool rbac_can(struct req *r, const char *perm, const char *scope_type, int64_t scope_id);
/* Same, but replies 403 forbidden and returns -1 when not allowed. */
int rbac_require(struct req *r, const char *perm, const char *scope_type, int64_t scope_id);
/* For list queries: the scope ids of `scope_type` in which the caller holds perm.
 * Sets *global when a role without scope grants it (then the list is empty). */
int64_t *rbac_scopes(struct req *r, const char *perm, const char *scope_type, bool *global, size_t *n);
/* The caller's scope for a list query, so that scope is enforced inside the
 * query and never by filtering afterwards: whether perm is held without scope
 * (every row), and for each scope type asked the ids where it is held, as JSON
 * array text ("[7,9]", pool memory) bound as one parameter and read with
 * DB_IN_IDS:
 *     struct scope_list sc;
 *     rbac_scope_list(r, "codepop.machines.read", &sc, "store", "region");
 *     ... WHERE ($1 = 1 OR " DB_IN_IDS("m.store_id", 2) " OR " DB_IN_IDS("s.region_id", 3) ")",
 *         DB_I(sc.global), DB_S(sc.ids[0]), DB_S(sc.ids[1]) */
#define SCOPE_TYPES_MAX 3
struct scope_list {
    bool global;
    const char *ids[SCOPE_TYPES_MAX];   /* one per scope type asked, in order */
};
void rbac_scope_list_(struct req *r, const char *perm, const char *const *types, struct scope_list *out);
#define rbac_scope_list(r, perm, out, ...) rbac_scope_list_(r, perm, (const char *const[]){__VA_ARGS__, NULL}, out)
json_t *rbac_user_json(struct db *db, int64_t user_id);  /* {roles:[...], permissions:[...]} */
/* Give user_id the role of app (scope_type NULL or "": global; otherwise the
 * role's scope type and a positive id), inside the caller's transaction,
 * audited as core.user.role_granted by r's caller (r NULL: the system) --
 * what an app does when its own workflow makes an account (campus admissions).
 * Already held: 0, nothing written. -1 for an unknown app or role, a scope
 * that does not fit the role or does not exist (the app's scope_exists), or a
 * database error. */
int rbac_grant_role(struct db *db, struct req *r, int64_t user_id, const char *app, const char *role,
                    const char *scope_type, int64_t scope_id);

/* Password hashing (argon2id, cfg.pwhash_*) -- call only from slow routes or CLI. */
/* The rule for a user's email: one @, a dot in the domain, no blanks or
 * control characters, at most 254 bytes (apps that make accounts check it
 * early). */
bool auth_email_valid(const char *email);
int auth_hash_password(const char *password, char out[128]);
bool auth_verify_password(const char *hash, const char *password);
/* NULL if acceptable, otherwise the reason code: password_too_short,
 * password_all_digits, password_common, password_similar. */
const char *auth_password_problem(const char *password, const char *username, const char *email);
int auth_create_user(struct db *db, const char *username, const char *password, const char *email,
                     const char *display_name, int64_t *id_out, const char **problem);
/* The same with a hash made beforehand by auth_hash_password(), so the slow
 * argon2id runs before the caller opens its write transaction; the password
 * policy (auth_password_problem) is then the caller's to check. Inside the
 * caller's transaction; *problem as above (username_taken, email_taken, ...). */
int auth_create_user_hashed(struct db *db, const char *username, const char *password_hash, const char *email,
                            const char *display_name, int64_t *id_out, const char **problem);

/* Sensitive fields at rest: libsodium XChaCha20-Poly1305 under cfg.enc_key.
 * Ciphertext is base64 text (nonce||ct). Returns malloc'd strings or NULL. */
char *crypto_seal_text(const char *plain);
char *crypto_open_text(const char *sealed);
void crypto_random_token(char *out, size_t bytes);      /* out gets 2*bytes hex + NUL */
void crypto_sha256_hex(const void *data, size_t len, char out[65]);
void uuid_v4(char out[37]);
/* HMAC-SHA256 under the encryption key, domain-separated by `context`
 * ("groupbuy.qr"): secrets the server can recompute but the database alone
 * cannot reveal. -1 when no key is available. */
int crypto_keyed_hash(const char *context, const void *msg, size_t len, unsigned char out[32]);
/* HMAC-SHA256(secret, msg) as 64 hex characters (webhook signatures). */
int crypto_hmac_sha256_hex(const char *secret, const void *msg, size_t len, char out[65]);
/* Constant-time comparison of two strings (signatures, shared hashes). */
bool crypto_str_equal(const char *a, const char *b);

/* ------------------------------------------------------------------- dates */

/* Calendar dates YYYY-MM-DD as days since 1970-01-01 (UTC). date_parse is
 * true only for a real date so written (days may be NULL: just validate). */
bool date_parse(const char *s, int64_t *days);
void date_format(int64_t days, char out[11]);
int64_t date_today(void);
int64_t date_add_years(int64_t days, int years);   /* 29 February + 1 year: 1 March */

/* ------------------------------------------------------------------- http */

enum http_method { HTTP_GET = 1, HTTP_POST = 2, HTTP_PUT = 4, HTTP_PATCH = 8, HTTP_DELETE = 16,
                   HTTP_OPTIONS = 32, HTTP_HEAD = 64 };

struct req;
typedef void (*route_fn)(struct req *r);

enum route_flags {
    ROUTE_SLOW = 1,             /* run on the worker pool (hashing, big queries, outbound calls) */
    ROUTE_IDEMPOTENT = 2,       /* honours Idempotency-Key (money and stock) */
    ROUTE_NO_RATELIMIT = 4,     /* probes and scrapers */
    ROUTE_STREAM = 8,           /* handler takes over the connection (SSE) */
    ROUTE_RAW_BODY = 16,        /* body is not JSON (webhooks keep the raw bytes) */
    ROUTE_NO_DB = 32,           /* answers without the request's connection (probes: r->db is NULL) */
    ROUTE_ROW_LOCKS = 64,       /* PostgreSQL: its write transactions run beside each other, not one at a
                                   time: the handler's check-and-writes are race-free on their own (guarded
                                   UPDATEs, db_lock); see db.c "Row locks" */
};

/* Who may call a route: PERM_PUBLIC (anyone), PERM_USER (any signed-in user),
 * or a permission string "app.resource.action" checked with rbac_can(any scope). */
#define PERM_PUBLIC NULL
#define PERM_USER   "@user"

/* Pattern segments: literal, {name} (text), {name:int} (positive integer),
 * {name:uuid}. Parameters are read with req_param_int()/req_param() by index. */
struct route {
    const char *method;         /* "GET", "POST", ... */
    const char *pattern;        /* "/api/v1/admin/users/{id:int}" */
    route_fn fn;
    const char *perm;
    unsigned flags;
    /* The query parameters the route accepts, comma-separated
     * ("status,store_id,sort,page,page_size"); any other is answered 400
     * unknown_parameter naming it before the handler runs. NULL: none. Their
     * types and meaning are documented in the app's api.json (openapi.c). */
    const char *query;
};

#define REQ_MAX_PARAMS 4

/* One request. Fields marked [in] are set before the handler runs; handlers
 * write the response only through reply_*(). */
struct req {
    struct pool *pool;          /* [in] freed with the request */
    int method;                 /* [in] HTTP_* */
    const char *path;           /* [in] decoded path without query */
    const struct route *route;  /* [in] the matched route */
    int route_index;            /* [in] index in the global route table (metrics) */
    const char *request_id;     /* [in] X-Request-Id */
    const char *client_ip;      /* [in] */
    int64_t param_int[REQ_MAX_PARAMS];     /* [in] {x:int} parameters by position */
    const char *param[REQ_MAX_PARAMS];     /* [in] every parameter as text */
    json_t *body;               /* [in] parsed JSON body (object) or NULL */
    const char *raw_body;       /* [in] the body bytes (NUL-terminated) */
    size_t raw_len;
    struct user_ctx user;       /* [in] caller; user.id == 0 when anonymous */
    const char *lang;           /* [in] "en"/"es": user's, else Accept-Language */
    struct db *db;              /* [in] this thread's connection */
    void *perms;                /* rbac cache (rbac.c) */
    void *idem;                 /* idempotency key state (idempotency.c) */
    /* response */
    int status;
    char *resp_body;            /* malloc'd */
    size_t resp_len;
    const char *resp_type;
    json_t *resp_headers;       /* object of extra headers */
    void *internal;             /* http.c */
};

/* Query string value or NULL. */
const char *req_query(struct req *r, const char *name);
const char *req_header(struct req *r, const char *name);
/* Strict body validation with json_unpack_ex(JSON_STRICT): unknown or missing
 * keys and wrong types reply 400 validation_failed naming the field. */
int req_unpack(struct req *r, const char *fmt, ...);
/* Like req_unpack but unknown keys are allowed (PATCH-style partial bodies). */
int req_unpack_loose(struct req *r, const char *fmt, ...);

/* A body with no fields, or none at all (accept, complete, approve...):
 * replies 400 naming the first field and returns -1 otherwise. */
int req_no_fields(struct req *r);
/* A date field YYYY-MM-DD that is a real day (days may be NULL); replies
 * 400 naming the field and returns -1 otherwise. */
int req_date(struct req *r, const char *field, const char *value, int64_t *days);
/* A text field of 1..max characters (UTF-8), not only blanks; NULL (absent)
 * is allowed unless required. Replies 400 naming the field and returns -1. */
int req_text(struct req *r, const char *field, const char *value, size_t max, bool required);

struct page { int64_t page, size, offset; };
/* Reads ?page=&page_size= (default 1/50, max 100); replies 400 on bad values. */
int req_page(struct req *r, struct page *pg);
/* Reads an integer query parameter; absent -> *out = dflt; bad -> 400. */
int req_query_int(struct req *r, const char *name, int64_t dflt, int64_t *out);
/* A required real query parameter within [min, max] (min itself excluded when
 * open_min); absent, not a number or out of range -> 400 naming it. */
int req_query_real(struct req *r, const char *name, double min, double max, bool open_min, double *out);

void reply_json(struct req *r, int status, json_t *body);           /* steals body */
void reply_error(struct req *r, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* 400 validation_failed with one {field, problem} detail. */
void reply_invalid(struct req *r, const char *field, const char *problem);
/* Same, with the problem formatted ("must be at least %lld"). */
void reply_invalidf(struct req *r, const char *field, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void reply_raw(struct req *r, int status, const char *content_type, const void *data, size_t len);
void reply_header(struct req *r, const char *name, const char *value);
void reply_list(struct req *r, json_t *items, const struct page *pg, int64_t total); /* steals items */
/* One page of a list: count_sql takes the filter arguments; page_sql takes the
 * same ones followed by LIMIT and OFFSET (the next two placeholders). Replies
 * the list shape, or 500. At most 13 filter arguments. */
void reply_page_(struct req *r, const struct page *pg, const char *count_sql, const char *page_sql,
                 const struct db_arg *args);
#define reply_page(r, pg, count_sql, page_sql, ...) \
    reply_page_(r, pg, count_sql, page_sql, DB_ARGS(__VA_ARGS__))
/* Common errors. */
#define reply_not_found(r)  reply_error(r, 404, "not_found", "not found")
#define reply_forbidden(r)  reply_error(r, 403, "forbidden", "not allowed")
#define reply_db_error(r)   reply_error(r, 500, "internal", "internal error")

/* CSV answers (csv.c): reports and exports, RFC 4180. A field holding a
 * comma, a double quote, CR or LF is quoted with its quotes doubled; rows end
 * with CRLF. A text field starting with = + - @ TAB or CR gets a leading '
 * (OWASP's guard against formula injection); numbers are written as they are
 * (a negative amount stays a number). Build the text with a zeroed writer:
 *     struct csv c = {0};
 *     csv_header(&c, (const char *const[]){"id", "name", "amount_cents", NULL});
 *     csv_int(&c, 7); csv_text(&c, "Cruz, Ana"); csv_int(&c, -1500); csv_end_row(&c);
 *     reply_csv(r, "payments-2026-03-14.csv", &c);
 * Allocation never fails (xrealloc). */
struct csv {
    char *buf;                  /* the text so far, NUL-terminated (NULL while empty) */
    size_t len, cap;
    size_t fields;              /* fields written in the current row */
};
void csv_text(struct csv *c, const char *s);        /* a text field, guarded; NULL is an empty field */
void csv_int(struct csv *c, int64_t v);             /* a number field */
/* A number already formatted ("12.5", "-3", "1e+20"), written unguarded; anything
 * that is not a plain number is written as text (guarded) instead. */
void csv_num(struct csv *c, const char *number);
void csv_end_row(struct csv *c);
/* Text fields (column names) appended to the current row, then the row ends. */
void csv_header(struct csv *c, const char *const *names);
/* Fields from a JSON object's keys, in order, appended to the current row (not
 * ended): strings as text (guarded), numbers as the JSON answer spells them,
 * booleans true/false, null or missing empty, arrays and objects as JSON text. */
void csv_fields_json(struct csv *c, json_t *obj, const char *const *keys);
/* A header row of keys, then one row per object of the array rows. */
void csv_from_json(struct csv *c, json_t *rows, const char *const *keys);
void csv_free(struct csv *c);                       /* the writer is zeroed again */
/* Does the caller want CSV? ?format=csv (1) or json (0); without ?format=, an
 * Accept header naming text/csv (1), else JSON (0). Another format: 400
 * naming "format", -1. The route lists "format" among its query parameters. */
int req_format_csv(struct req *r);
/* 200 text/csv; charset=utf-8 with Content-Disposition: attachment and the
 * file name (only [A-Za-z0-9._-] kept, others become _). Takes c's text; c is
 * zeroed. */
void reply_csv(struct req *r, const char *filename, struct csv *c);

/* The whole house (boot.c), for serve and in-process tests: atrium_init()
 * migrates and registers every enabled app; atrium_start() listens and starts
 * the dispatcher, realtime and jobs; atrium_shutdown() stops it all gracefully. */
int atrium_init(void);
int atrium_start(void);
void atrium_shutdown(void);

/* CLI back ends (seed.c): `atrium seed` and `atrium user ...`. */
int seed_run(struct db *db, const char *which, struct seed_opts *opts);
int user_cli_add(struct db *db, const char *username, const char *password, const char *email,
                 const char *display_name, bool admin);
int user_cli_passwd(struct db *db, const char *username, const char *password);
int user_cli_role(struct db *db, const char *username, const char *app, const char *role, const char *scope,
                  bool remove);
/* Create or find a demo user with a precomputed hash; assigns (app, role,
 * scope) when app != NULL. Used by app seeders. Returns the id or -1. */
int64_t seed_user(struct db *db, const char *username, const char *display_name, const char *password_hash,
                  const char *app, const char *role, const char *scope_type, int64_t scope_id);
/* A small deterministic random generator for seeders (--seed N): splitmix64
 * seeding, xorshift64* steps; `stream` separates independent sequences. */
struct seed_rng {
    uint64_t s;
};
void seed_rng_init(struct seed_rng *g, uint64_t seed, uint64_t stream);
uint64_t seed_rng_next(struct seed_rng *g);
int64_t seed_rng_range(struct seed_rng *g, int64_t lo, int64_t hi);   /* inclusive; lo when hi <= lo */
/* One line of the accounts table printed at the end of `atrium seed`. */
void seed_account(const char *username, const char *what);
/* `seed <app> --clear`: delete the rows of tables (children first, NULL
 * ended) and the app's role grants; generated ids start over as in a fresh
 * database. -1 on a database error. */
int seed_clear(struct db *db, const char *app, const char *const *tables);

/* Server lifecycle (serve command, in-process API tests). */
int http_start(void);           /* binds cfg.listen_host:listen_port (0 -> ephemeral) */
int http_port(void);            /* the bound port */
void http_stop(void);           /* stop accepting, finish in-flight, join workers */
void http_register_routes(const struct route *routes);  /* before http_start() */
const struct route *http_routes(size_t *n);             /* registered table, for tests/metrics */
/* Long-lived responses (Server-Sent Events) for ROUTE_STREAM handlers. The
 * reader fills buf and returns the byte count, 0 when it has nothing now (the
 * connection is parked, costing no thread, until stream_wake()), or -1 to end
 * the response. done(ctx) runs once when the connection goes away. */
struct stream;
typedef long (*stream_read_fn)(void *ctx, char *buf, size_t max);
struct stream *reply_stream(struct req *r, const char *content_type, stream_read_fn read, void *ctx,
                            void (*done)(void *ctx));
void stream_wake(struct stream *st);        /* any thread: data is ready */

/* ------------------------------------------------------------------- audit */

/* Append one hash-chained audit row inside the caller's open transaction.
 * audit_write takes the actor, request id and client address from r (NULL:
 * the system, actor 0); audit_write_as names the actor (CLI, jobs). summary
 * is stolen. */
int audit_write(struct db *db, struct req *r, const char *app, const char *action,
                const char *target_type, int64_t target_id, json_t *summary);
int audit_write_as(struct db *db, int64_t actor_id, const char *app, const char *action,
                   const char *target_type, int64_t target_id, json_t *summary);
/* Recompute the chain; returns 0 when intact, else the id of the first bad row. */
int64_t audit_verify(struct db *db, int64_t *rows_checked);

/* ------------------------------------------------------------------ events */

/* Write a domain event into the outbox inside the caller's transaction.
 * topic "codepop.store.7"; type "order.created"; payload stolen. */
int events_emit(struct db *db, const char *topic, const char *type, json_t *payload);

/* A consumer of committed events (realtime fan-out, notifications, P2P).
 * deliver() returns 0 when handled; on -1 the event is retried later. */
struct event_sink {
    const char *name;
    const char *type_prefix;    /* "" for every event */
    int (*deliver)(struct db *db, const char *event_id, const char *topic, const char *type,
                   json_t *payload);
};
void events_add_sink(const struct event_sink *sink);
void events_kick(void);         /* nudge the dispatcher after a commit */
int events_dispatch_once(struct db *db);   /* deliver pending events; returns count */

/* ---------------------------------------------------------- notifications */

/* In-app notification (inside the caller's transaction) + realtime event on
 * topic "user.<id>". */
int notify_user(struct db *db, int64_t user_id, const char *kind, const char *title, json_t *data);
/* Outbound channel (email/sms/push) through the configured adapter ("log"). */
int notify_send(struct db *db, const char *channel, const char *to, const char *subject,
                const char *text);

/* -------------------------------------------------------------------- jobs */

struct job {
    const char *name;           /* "groupbuy.auto_complete" */
    int interval_s;             /* 0: one-off, run only by hand */
    /* Runs the job; writes a short human summary into *result (malloc'd). */
    int (*run)(struct db *db, char **result);
};
void jobs_register(const struct job *jobs);
int jobs_sync(struct db *db);          /* create schedule rows for registered jobs */
int jobs_run(struct db *db, const char *name, char **result);   /* by hand; -1 unknown */
int jobs_start(void);                  /* scheduler thread inside serve */
void jobs_stop(void);                  /* stop at a safe point, join */
const struct job *jobs_list(size_t *n);

/* -------------------------------------------------------------------- apps */

#include "app.h"

#endif
