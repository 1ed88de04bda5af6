/* http.c -- the whole HTTP layer: libmicrohttpd in epoll mode with one I/O
 * thread per core, a worker pool for slow routes, and the request pipeline
 *
 *   CORS preflight -> route match (404/405) -> body limits, content type, JSON
 *   (413/415/400) -> bearer token (401) -> rate limit (429) -> route permission
 *   (403) -> query parameter names (400) -> idempotency key (replay/409) -> handler
 *
 * Apps never see libmicrohttpd types: they get a struct req and answer with
 * reply_*(). Every response is one buffer (MHD sends headers and body with a
 * single writev). Route matching and replies live in router.c. */
#include "atrium.h"
#include "internal.h"
#include "metrics.h"
#include <arpa/inet.h>
#include <microhttpd.h>
#include <pthread.h>
#include <sodium.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/resource.h>
#include <unistd.h>
#include <sodium.h>

/* Per-request state hung on MHD's connection-class pointer. */
struct conn_state {
    struct req r;
    struct MHD_Connection *conn;
    char *body;                 /* accumulated upload */
    size_t body_len, body_cap;
    bool too_large;
    bool dispatched;            /* handler started (inline or on the pool) */
    bool answered;              /* r.status/resp_* are final */
    bool checks_on_worker;      /* PostgreSQL: auth, rate and permission checks run on the pool too */
    struct stream *stream;      /* ROUTE_STREAM: long-lived response */
    struct MHD_Response *custom;  /* a handler-built MHD response (WebSocket upgrade) */
    unsigned custom_status;
    uint64_t started_us;
    struct conn_state *next_job;
};

static struct MHD_Daemon *daemon_;
static atomic_int in_flight;
static atomic_bool stopping;
static bool offload_all;        /* PostgreSQL: every request that uses the database runs on the pool */

/* ------------------------------------------------------------ worker pool */

static pthread_t *workers;
static int nworkers;
static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t queue_cond = PTHREAD_COND_INITIALIZER;
static struct conn_state *queue_head, *queue_tail;
static bool queue_closed;

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void run_handler(struct conn_state *s);
static bool request_checks(struct conn_state *s);

static void *worker_main(void *arg)
{
    for (;;) {
        pthread_mutex_lock(&queue_lock);
        while (!queue_head && !queue_closed) pthread_cond_wait(&queue_cond, &queue_lock);
        struct conn_state *s = queue_head;
        if (s) {
            queue_head = s->next_job;
            if (!queue_head) queue_tail = NULL;
        }
        pthread_mutex_unlock(&queue_lock);
        if (!s) break;
        if (!s->checks_on_worker || request_checks(s)) run_handler(s);
        MHD_resume_connection(s->conn);
    }
    db_thread_close();
    return NULL;
}

/* Suspend the connection and hand it to the worker pool. Once http_stop()
 * has closed the queue the workers are gone and a suspended connection
 * would never resume (MHD_stop_daemon() aborts the process on one), so a
 * request whose headers arrive that late is answered 503 here instead.
 * Closed-check and suspend sit under one lock for exactly that reason. */
static void enqueue(struct conn_state *s)
{
    pthread_mutex_lock(&queue_lock);
    if (queue_closed) {
        pthread_mutex_unlock(&queue_lock);
        reply_error(&s->r, 503, "unavailable", "the server is stopping");
        s->answered = true;
        return;
    }
    MHD_suspend_connection(s->conn);
    s->next_job = NULL;
    if (queue_tail) queue_tail->next_job = s;
    else queue_head = s;
    queue_tail = s;
    pthread_cond_signal(&queue_cond);
    pthread_mutex_unlock(&queue_lock);
}

/* ---------------------------------------------------------- request parts */

const char *req_header(struct req *r, const char *name)
{
    struct conn_state *s = r->internal;
    return s ? MHD_lookup_connection_value(s->conn, MHD_HEADER_KIND, name) : NULL;
}

const char *req_query(struct req *r, const char *name)
{
    struct conn_state *s = r->internal;
    return s ? MHD_lookup_connection_value(s->conn, MHD_GET_ARGUMENT_KIND, name) : NULL;
}

/* Is addr one of ATRIUM_TRUSTED_PROXIES (exact addresses, comma-separated)? */
static bool trusted_proxy(const char *addr, size_t n)
{
    for (const char *p = cfg.trusted_proxies; p && *p;) {
        while (*p == ' ' || *p == ',') p++;
        size_t len = strcspn(p, ", ");
        if (len && len == n && !strncmp(p, addr, n)) return true;
        p += len;
    }
    return false;
}

/* Behind trusted proxies the client is the rightmost X-Forwarded-For entry
 * that is not itself a trusted proxy; anything unparsable keeps the peer. */
static const char *forwarded_for(struct req *r, struct MHD_Connection *conn, const char *peer)
{
    const char *xff = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Forwarded-For");
    if (!xff || !trusted_proxy(peer, strlen(peer))) return peer;
    const char *end = xff + strlen(xff);
    while (end > xff) {
        const char *start = end;
        while (start > xff && start[-1] != ',') start--;
        const char *a = start, *b = end;
        while (a < b && *a == ' ') a++;
        while (b > a && b[-1] == ' ') b--;
        char ip[INET6_ADDRSTRLEN];
        unsigned char bin[sizeof(struct in6_addr)];
        if (b - a <= 0 || (size_t)(b - a) >= sizeof ip) return peer;
        memcpy(ip, a, (size_t)(b - a));
        ip[b - a] = 0;
        if (inet_pton(AF_INET, ip, bin) != 1 && inet_pton(AF_INET6, ip, bin) != 1) return peer;
        if (!trusted_proxy(ip, strlen(ip))) return pool_strdup(r->pool, ip);
        end = start > xff ? start - 1 : xff;
    }
    return peer;
}

static const char *client_ip(struct req *r, struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    char buf[INET6_ADDRSTRLEN] = "unknown";
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf, sizeof buf);
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, buf, sizeof buf);
    }
    return forwarded_for(r, conn, pool_strdup(r->pool, buf));
}

/* Echo the client's X-Request-Id when it is sane, else make one. */
static const char *request_id(struct req *r)
{
    const char *given = req_header(r, "X-Request-Id");
    if (given) {
        size_t n = strlen(given);
        bool ok = n > 0 && n <= 64;
        for (size_t i = 0; ok && i < n; i++)
            ok = (given[i] >= 'a' && given[i] <= 'z') || (given[i] >= 'A' && given[i] <= 'Z') ||
                 (given[i] >= '0' && given[i] <= '9') || given[i] == '-' || given[i] == '_' || given[i] == '.';
        if (ok) return pool_strdup(r->pool, given);
    }
    unsigned char raw[8];
    char *hex = pool_alloc(r->pool, 17);
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(hex, 17, raw, sizeof raw);
    return hex;
}

/* The caller's language before we know who they are, so even a 404 for an
 * unknown path speaks it; a signed-in user's stored language wins later. */
static const char *header_lang(struct req *r)
{
    const char *accept = req_header(r, "Accept-Language");
    return accept && !strncasecmp(accept, "es", 2) ? "es" : "en";
}

static int method_of(const char *m)
{
    static const struct { const char *name; int bit; } map[] = {
        {"GET", HTTP_GET}, {"POST", HTTP_POST}, {"PUT", HTTP_PUT}, {"PATCH", HTTP_PATCH},
        {"DELETE", HTTP_DELETE}, {"OPTIONS", HTTP_OPTIONS}, {"HEAD", HTTP_HEAD},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(m, map[i].name)) return map[i].bit;
    return 0;
}

/* ------------------------------------------------------------- responses */

static bool origin_allowed(const char *origin)
{
    if (!origin || !cfg.cors_origins) return false;
    size_t n = strlen(origin);
    for (const char *p = cfg.cors_origins; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        while (len && *p == ' ') p++, len--;
        if ((len == n && !strncmp(p, origin, n)) || (len == 1 && *p == '*')) return true;
        if (!end) break;
        p = end + 1;
    }
    return false;
}

static void add_common_headers(struct conn_state *s, struct MHD_Response *resp)
{
    struct req *r = &s->r;
    MHD_add_response_header(resp, "X-Request-Id", r->request_id);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    if (!json_object_get(r->resp_headers, "Cache-Control"))   /* a handler may allow caching */
        MHD_add_response_header(resp, "Cache-Control", "no-store");
    const char *origin = req_header(r, "Origin");
    if (origin_allowed(origin)) {
        MHD_add_response_header(resp, "Access-Control-Allow-Origin", origin);
        MHD_add_response_header(resp, "Vary", "Origin");
    }
    const char *key;
    json_t *v;
    json_object_foreach(r->resp_headers, key, v) MHD_add_response_header(resp, key, json_string_value(v));
}

static enum MHD_Result queue_answer(struct conn_state *s)
{
    struct req *r = &s->r;
    if (!r->status) reply_error(r, 500, "internal", "internal error");
    struct MHD_Response *resp = MHD_create_response_from_buffer(r->resp_len, r->resp_body, MHD_RESPMEM_MUST_FREE);
    r->resp_body = NULL;        /* MHD owns it now */
    MHD_add_response_header(resp, "Content-Type", r->resp_type ? r->resp_type : "application/json; charset=utf-8");
    add_common_headers(s, resp);
    if (r->status == 413 || stopping) MHD_add_response_header(resp, "Connection", "close");
    enum MHD_Result ret = MHD_queue_response(s->conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* ------------------------------------------------------------- pipeline */

/* A failure of ours (database, internal): what the handler did is undone.
 * Other 5xx (502 provider_unavailable) are answers about someone else, and
 * what the handler recorded about them stays. */
static bool our_failure(int status)
{
    return status == 500 || status == 503;
}

/* Runs the handler with idempotency around it; on the worker pool or inline.
 *
 * The handler's transactions are held (db_hold, see db.c) until its answer
 * is known, then committed with the Idempotency-Key row (idem_end), or rolled
 * back when the answer is a failure of ours: a server error never leaves half
 * of a request behind. A handler that met a database error and answered
 * anything else (a failed read taken for "not found", an error ignored) is
 * answered 500 and undone. */
/* Forget an answer that is not sent (a run of the handler that is repeated),
 * keeping the headers set before the handler ran (rate limits). */
static void reply_forget(struct req *r, json_t *headers_before)
{
    free(r->resp_body);
    r->resp_body = NULL;
    r->resp_len = 0;
    r->resp_type = NULL;
    r->status = 0;
    if (r->resp_headers) json_object_clear(r->resp_headers);
    if (r->resp_headers && headers_before) json_object_update(r->resp_headers, headers_before);
}

/* One run of the handler inside a held transaction. true when PostgreSQL
 * refused it as a conflict (serialization failure, deadlock): everything it
 * did is rolled back and it may run again. */
static bool run_once(struct conn_state *s, bool last)
{
    struct req *r = &s->r;
    unsigned long errors = db_errors(r->db);
    db_retryable(r->db);               /* clear */
    /* only PostgreSQL refuses a request as a conflict to run again */
    json_t *headers_before = db_is_pg(r->db) && r->resp_headers ? json_copy(r->resp_headers) : NULL;
    db_row_locks(r->db, r->route->flags & ROUTE_ROW_LOCKS);
    db_hold(r->db);
    if (!(r->route->flags & ROUTE_IDEMPOTENT) || idem_begin(r) == 0) {
        r->route->fn(r);
        if (db_in_tx(r->db)) {          /* a handler forgot to end its transaction */
            log_error("handler %s %s left a transaction open", r->route->method, r->route->pattern);
            while (db_in_tx(r->db)) db_rollback(r->db);
            reply_db_error(r);
        }
        if (db_errors(r->db) != errors && !our_failure(r->status)) {
            log_warn("%s %s answered %d after a database error; answering 500", r->route->method,
                     r->route->pattern, r->status);
            reply_db_error(r);
        }
        idem_end(r);
    }
    bool may_retry = !s->stream && !s->custom && !last;
    bool conflict = db_retryable(r->db) && may_retry;
    if (db_hold_end(r->db, !conflict && !our_failure(r->status)) < 0) {
        /* row-lock mode waits for the tail lock at the commit: a conflict there runs it again too */
        if (!conflict && db_retryable(r->db) && may_retry) conflict = true;
        else reply_db_error(r);
    }
    db_row_locks(r->db, false);
    idem_release(r);
    if (conflict) reply_forget(r, headers_before);
    json_decref(headers_before);
    return conflict;
}

#define CONFLICT_RETRIES 20

static void run_handler(struct conn_state *s)
{
    struct req *r = &s->r;
    if (r->route->flags & ROUTE_NO_DB) {    /* probes answer while the database is away */
        r->db = NULL;
        r->route->fn(r);
        s->answered = true;
        return;
    }
    r->db = db_thread();
    if (!r->db) {
        reply_error(r, 503, "unavailable", "database unavailable");
        s->answered = s->stream == NULL && s->custom == NULL;
        return;
    }
    db_fault_scope(true);
    for (int attempt = 0; run_once(s, attempt == CONFLICT_RETRIES); attempt++) {
        metrics_count("db_conflict_retries", r->route->pattern, 1);
        usleep((useconds_t)(randombytes_uniform(1000u << (attempt < 6 ? attempt : 6))));
    }
    db_fault_scope(false);
    s->answered = s->stream == NULL && s->custom == NULL;
}

static int check_body(struct conn_state *s)
{
    struct req *r = &s->r;
    if (s->too_large) {
        reply_error(r, 413, "payload_too_large", "body is larger than %zu bytes", cfg.max_body);
        return -1;
    }
    r->raw_body = s->body ? s->body : "";
    r->raw_len = s->body_len;
    if (!s->body_len || (r->route->flags & ROUTE_RAW_BODY)) return 0;
    const char *ctype = req_header(r, "Content-Type");
    if (!ctype || strncasecmp(ctype, "application/json", 16) || (ctype[16] && ctype[16] != ';' && ctype[16] != ' ')) {
        reply_error(r, 415, "unsupported_media_type", "Content-Type must be application/json");
        return -1;
    }
    json_error_t err;
    r->body = json_loadb(s->body, s->body_len, JSON_REJECT_DUPLICATES, &err);
    if (!r->body) {
        reply_error(r, 400, "invalid_json", "body is not valid JSON: %s (line %d)", err.text, err.line);
        return -1;
    }
    if (!json_is_object(r->body)) {
        reply_error(r, 400, "invalid_json", "body must be a JSON object");
        return -1;
    }
    return 0;
}

static int check_auth(struct conn_state *s)
{
    struct req *r = &s->r;
    const char *authz = req_header(r, "Authorization");
    const char *token = authz && !strncasecmp(authz, "Bearer ", 7) ? authz + 7 : NULL;
    /* Browsers' EventSource cannot set headers: streams also take ?access_token=. */
    if (!authz && (r->route->flags & ROUTE_STREAM)) token = req_query(r, "access_token");
    if (token) {
        r->db = db_thread();
        if (!r->db) {
            reply_error(r, 503, "unavailable", "database unavailable");
            return -1;
        }
        if (auth_authenticate(r, token) == 0) {
            r->lang = r->user.language[0] ? r->user.language : r->lang;
        } else if (r->route->perm != PERM_PUBLIC) {
            metrics_count("auth_failures", "invalid_token", 1);
            reply_error(r, 401, "invalid_token", "access token is invalid or expired");
            return -1;
        }
    }
    if (r->route->perm != PERM_PUBLIC && !r->user.id) {
        reply_error(r, 401, "unauthorized", "authentication required");
        return -1;
    }
    return 0;
}

static int check_rate(struct conn_state *s)
{
    struct req *r = &s->r;
    if (r->route && (r->route->flags & ROUTE_NO_RATELIMIT)) return 0;
    char key[96], num[24];
    struct ratelimit_state st;
    if (r->user.id) snprintf(key, sizeof key, "user:%lld", (long long)r->user.id);
    else snprintf(key, sizeof key, "ip:%s", r->client_ip);
    bool allowed = ratelimit_take_state(key, r->user.id ? &cfg.rate_user : &cfg.rate_anon, &st);
    if (st.limit) {             /* every limited answer says where the caller stands */
        snprintf(num, sizeof num, "%ld", st.limit);
        reply_header(r, "RateLimit-Limit", num);
        snprintf(num, sizeof num, "%ld", st.remaining);
        reply_header(r, "RateLimit-Remaining", num);
        snprintf(num, sizeof num, "%d", st.reset_s);
        reply_header(r, "RateLimit-Reset", num);
    }
    if (allowed) return 0;
    snprintf(num, sizeof num, "%d", st.retry_after_s);
    reply_header(r, "Retry-After", num);
    reply_error(r, 429, "rate_limited", "too many requests, retry in %d s", st.retry_after_s);
    metrics_count("rate_limited", r->user.id ? "user" : "ip", 1);
    return -1;
}

static int check_permission(struct conn_state *s)
{
    struct req *r = &s->r;
    const char *perm = r->route->perm;
    if (perm == PERM_PUBLIC || !strcmp(perm, PERM_USER)) return 0;
    return rbac_require(r, perm, NULL, 0);
}

/* Unknown query parameters are refused like unknown body fields: a typo
 * (?stauts=) must not silently widen a list. Runs after the permission check,
 * so a caller who may not use the route learns nothing from it. */
struct query_scan {
    const char *accepted;       /* the route's comma list, or NULL */
    const char *unknown;        /* first name not in it */
};

static bool name_listed(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; p && *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && !strncmp(p, name, n)) return true;
        p += len + (p[len] == ',');
    }
    return false;
}

static enum MHD_Result query_name(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    struct query_scan *q = cls;
    if (name_listed(q->accepted, key)) return MHD_YES;
    q->unknown = key;
    return MHD_NO;
}

static int check_query(struct conn_state *s)
{
    struct req *r = &s->r;
    struct query_scan q = {r->route->query, NULL};
    MHD_get_connection_values(s->conn, MHD_GET_ARGUMENT_KIND, query_name, &q);
    if (!q.unknown) return 0;
    char msg[512];
    snprintf(msg, sizeof msg, tr(r, "unknown query parameter %s"), q.unknown);
    reply_json(r, 400, json_pack("{s:{s:s, s:s, s:[{s:s, s:s}]}}", "error", "code", "unknown_parameter",
                                 "message", msg, "details", "field", q.unknown, "problem",
                                 tr(r, "is not a known parameter")));
    return -1;
}

/* The checks before the handler (body, auth, rate, permission, query).
 * false: refused, the reply is set and final. */
static bool request_checks(struct conn_state *s)
{
    if (check_body(s) < 0 || check_auth(s) < 0 || check_rate(s) < 0 ||
        check_permission(s) < 0 || check_query(s) < 0) {
        s->answered = true;
        return false;
    }
    return true;
}

/* Everything before the handler; on a refusal the reply is already set. */
static void dispatch(struct conn_state *s)
{
    struct req *r = &s->r;
    s->dispatched = true;
    if (router_match(r) < 0) {      /* unknown paths still cost the caller a token */
        check_rate(s);
        s->answered = true;
        return;
    }
    /* With PostgreSQL every database call is a network round trip: a request
     * that touches the database (its checks too) waits on the worker pool,
     * never on an I/O thread, which would stall every connection it serves. */
    if (offload_all && !(r->route->flags & ROUTE_NO_DB)) {
        s->checks_on_worker = true;
        enqueue(s);
        return;
    }
    if (!request_checks(s)) return;
    if (r->route->flags & (ROUTE_SLOW | ROUTE_IDEMPOTENT)) {
        enqueue(s);
        return;
    }
    run_handler(s);
}

static void cors_preflight(struct conn_state *s)
{
    struct req *r = &s->r;
    const char *origin = req_header(r, "Origin");
    if (!origin_allowed(origin)) {
        reply_error(r, 403, "cors_forbidden", "origin not allowed");
        return;
    }
    reply_header(r, "Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS");
    reply_header(r, "Access-Control-Allow-Headers", "Authorization, Content-Type, Idempotency-Key, X-Request-Id");
    reply_header(r, "Access-Control-Max-Age", "600");
    reply_raw(r, 204, "text/plain", "", 0);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    struct conn_state *s = *con_cls;
    if (!s) {
        s = xcalloc(1, sizeof *s);
        s->conn = conn;
        s->started_us = now_us();
        s->r.pool = pool_new();
        s->r.internal = s;
        s->r.path = pool_strdup(s->r.pool, url);
        s->r.method = method_of(method);
        s->r.route_index = -1;
        s->r.request_id = request_id(&s->r);
        s->r.client_ip = client_ip(&s->r, conn);
        s->r.lang = header_lang(&s->r);
        *con_cls = s;
        atomic_fetch_add(&in_flight, 1);
        const char *len = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (len && strtoull(len, NULL, 10) > cfg.max_body) s->too_large = true;
        return MHD_YES;
    }
    if (*upload_size) {
        if (!s->too_large && s->body_len + *upload_size > cfg.max_body) s->too_large = true;
        if (!s->too_large) {
            if (s->body_len + *upload_size + 1 > s->body_cap) {
                s->body_cap = (s->body_len + *upload_size + 1) * 2;
                s->body = xrealloc(s->body, s->body_cap);
            }
            memcpy(s->body + s->body_len, upload, *upload_size);
            s->body_len += *upload_size;
            s->body[s->body_len] = 0;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (s->stream) return stream_queue(s->stream, conn, s);
    if (!s->dispatched) {
        if (s->r.method == HTTP_OPTIONS) {
            s->dispatched = s->answered = true;
            cors_preflight(s);
        } else {
            dispatch(s);
        }
    }
    if (s->stream) return stream_queue(s->stream, conn, s);
    if (s->custom) {
        enum MHD_Result ret = MHD_queue_response(conn, s->custom_status, s->custom);
        MHD_destroy_response(s->custom);
        s->custom = NULL;
        return ret;
    }
    if (!s->answered) return MHD_YES;      /* suspended on the worker pool */
    return queue_answer(s);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    struct conn_state *s = *con_cls;
    if (!s) return;
    struct req *r = &s->r;
    uint64_t dur = now_us() - s->started_us;
    metrics_request(r->route_index < 0 ? router_count() : (size_t)r->route_index, r->status, dur);
    if (cfg.log_level <= LOG_INFO) {
        log_json(LOG_INFO, json_pack("{s:s, s:I, s:s, s:s, s:i, s:I}", "request_id", r->request_id,
                                     "user_id", (json_int_t)r->user.id, "route",
                                     r->route ? r->route->pattern : "unmatched", "path", r->path,
                                     "status", r->status, "duration_us", (json_int_t)dur),
                 "%s %s", r->route ? r->route->method : "-", r->path);
    }
    rbac_release(r);
    json_decref(r->body);
    json_decref(r->resp_headers);
    free(r->resp_body);
    free(s->body);
    pool_free(r->pool);
    free(s);
    *con_cls = NULL;
    atomic_fetch_sub(&in_flight, 1);
}

static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* While stopping, a new connection is closed as soon as it is accepted.
 * MHD_quiesce_daemon() is not used for that: on an epoll daemon with its own
 * threads it races MHD's workers for the listen socket and aborts the process
 * ("Failed to remove listen FD from epoll set", an open libmicrohttpd defect
 * seen here at about one stop in a few thousand). */
static enum MHD_Result accept_policy(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    return atomic_load(&stopping) ? MHD_NO : MHD_YES;
}

int http_start(void)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)cfg.listen_port)};
    if (inet_pton(AF_INET, strcmp(cfg.listen_host, "localhost") ? cfg.listen_host : "127.0.0.1", &addr.sin_addr) != 1) {
        log_error("ATRIUM_LISTEN host must be an IPv4 address: %s", cfg.listen_host);
        return -1;
    }
    signal(SIGPIPE, SIG_IGN);
    raise_fd_limit();
    atomic_store(&stopping, false);
    router_freeze();
    queue_closed = false;
    offload_all = db_url_is_pg(cfg.db);
    nworkers = cfg.workers;
    workers = xcalloc((size_t)nworkers, sizeof *workers);
    for (int i = 0; i < nworkers; i++) pthread_create(&workers[i], NULL, worker_main, NULL);
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_ALLOW_UPGRADE |
                     MHD_USE_ERROR_LOG | MHD_USE_TURBO;
    daemon_ = MHD_start_daemon(flags, 0, accept_policy, NULL, on_request, NULL,
                               MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                               MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg.io_threads,
                               MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
                               MHD_OPTION_CONNECTION_LIMIT, (unsigned)20000,
                               MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)300,
                               MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024,
                               MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)8192,
                               MHD_OPTION_END);
    if (!daemon_) {
        log_error("cannot listen on %s:%d", cfg.listen_host, cfg.listen_port);
        http_stop();
        return -1;
    }
    return 0;
}


int http_port(void)
{
    const union MHD_DaemonInfo *info = daemon_ ? MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    return info ? info->port : -1;
}

/* Close the worker queue and join the workers; a request dispatched after
 * this is answered 503 (enqueue). http_stop() calls it between the drain and
 * the daemon's stop; a test calls it alone to stand in that window. */
void http_stop_workers(void)
{
    pthread_mutex_lock(&queue_lock);
    queue_closed = true;
    pthread_cond_broadcast(&queue_cond);
    pthread_mutex_unlock(&queue_lock);
    for (int i = 0; i < nworkers; i++) pthread_join(workers[i], NULL);
    free(workers);
    workers = NULL;
    nworkers = 0;
}

/* Stop accepting, let in-flight requests finish (bounded: 10 s), end streams,
 * then stop the I/O threads and the worker pool. */
void http_stop(void)
{
    atomic_store(&stopping, true);     /* accept_policy() turns new connections away */
    if (daemon_) {
        streams_close_all();
        realtime_close_all();       /* WebSockets: MHD wants upgraded sockets back first */
        for (int i = 0; i < 1000 && atomic_load(&in_flight) > 0; i++) usleep(10000);
        if (atomic_load(&in_flight) > 0) log_warn("stopping with %d requests still open", atomic_load(&in_flight));
    }
    http_stop_workers();
    if (daemon_) MHD_stop_daemon(daemon_);
    daemon_ = NULL;
}

struct MHD_Connection *http_connection(struct req *r)
{
    return ((struct conn_state *)r->internal)->conn;
}

void http_set_stream(struct req *r, struct stream *st)
{
    ((struct conn_state *)r->internal)->stream = st;
}

void http_set_response(struct req *r, unsigned status, struct MHD_Response *resp)
{
    struct conn_state *s = r->internal;
    s->custom = resp;
    s->custom_status = status;
    r->status = (int)status;
}

bool http_stopping(void)
{
    return atomic_load(&stopping);
}
