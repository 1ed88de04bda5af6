/* harness.c -- see harness.h. */
#include "harness.h"
#include <curl/curl.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static char dir[256];
static bool running;
static char pg_name[64];        /* this test's PostgreSQL database, "" on SQLite */

bool test_pg_admin(const char *sql)
{
    char *url = xasprintf("%s/postgres", getenv("ATRIUM_TEST_PG"));
    PGconn *c = PQconnectdb(url);
    free(url);
    PGresult *res = PQexec(c, sql);
    bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok) fprintf(stderr, "pg_admin: %s: %s", sql, PQerrorMessage(c));
    PQclear(res);
    PQfinish(c);
    return ok;
}

/* ATRIUM_TEST_PG set (make test-pg): a fresh database copied from the
 * migrated template scripts/run-tests made; else a SQLite file in dir. */
static char *test_database(void)
{
    const char *pg = getenv("ATRIUM_TEST_PG");
    if (!pg || !*pg) return xasprintf("%s/atrium.db", dir);
    /* PostgreSQL has no directory for a key file: instances share a key */
    setenv("ATRIUM_ENCRYPTION_KEY", "7e57000000000000000000000000000000000000000000000000000000000001", 0);
    static int seq;
    snprintf(pg_name, sizeof pg_name, "t_%d_%d", (int)getpid(), ++seq);
    char *sql = xasprintf("CREATE DATABASE %s TEMPLATE atrium_template", pg_name);
    bool ok = false;
    for (int i = 0; i < 50 && !(ok = test_pg_admin(sql)); i++) usleep(100000);   /* template busy */
    free(sql);
    cr_assert(ok, "cannot create the test database %s", pg_name);
    return xasprintf("%s/%s", pg, pg_name);
}

static void env_default(const char *name, const char *value)
{
    setenv(name, value, 0);
}

void srv_start(void)
{
    srv_start_with(NULL, NULL);
}

void srv_start_with(const struct route *extra, const struct app *test_app)
{
    char err[512];
    snprintf(dir, sizeof dir, "/tmp/atrium-test-XXXXXX");
    cr_assert(mkdtemp(dir), "mkdtemp");
    char *db = test_database();
    setenv("ATRIUM_DB", db, 1);
    free(db);
    env_default("ATRIUM_LISTEN", "127.0.0.1:0");
    env_default("ATRIUM_RATE_ANON", "100000/hour");
    env_default("ATRIUM_RATE_USER", "100000/hour");
    env_default("ATRIUM_RATE_LOGIN", "100000/hour");
    env_default("ATRIUM_PWHASH_OPS", "1");
    env_default("ATRIUM_PWHASH_MEM", "65536");
    env_default("ATRIUM_JOBS", "0");
    env_default("ATRIUM_LOG_LEVEL", "error");
    env_default("ATRIUM_WORKERS", "8");
    env_default("ATRIUM_BACKUP_DIR", "/tmp");
    cr_assert_eq(config_load(NULL, err, sizeof err), 0, "config: %s", err);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (test_app) app_register_test(test_app);
    cr_assert_eq(atrium_init(), 0, "atrium_init");
    if (extra) http_register_routes(extra);
    cr_assert_eq(atrium_start(), 0, "atrium_start");
    running = true;
}

void srv_stop(void)
{
    if (!running) return;
    running = false;
    atrium_shutdown();
    curl_global_cleanup();
    if (pg_name[0]) {
        char *sql = xasprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", pg_name);
        test_pg_admin(sql);
        free(sql);
        pg_name[0] = 0;
    }
    char *cmd = xasprintf("rm -rf '%s'", dir);
    if (system(cmd)) {}
    free(cmd);
}

void test_fixture_sql(const char *what, const char *sql)
{
    cr_assert_eq(db_exec_script(test_db(), sql), 0, "%s fixture", what);
    cr_assert_eq(db_sync_ids(test_db(), false), 0, "%s fixture: ids", what);
}

bool test_on_pg(void)
{
    const char *pg = getenv("ATRIUM_TEST_PG");
    return pg && *pg;
}

int srv_port(void) { return http_port(); }
const char *srv_dir(void) { return dir; }
struct db *test_db(void) { return db_thread(); }

struct buf {
    char *p;
    size_t n;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct buf *b = ud;
    size_t n = size * nmemb;
    b->p = xrealloc(b->p, b->n + n + 1);
    memcpy(b->p + b->n, ptr, n);
    b->n += n;
    b->p[b->n] = 0;
    return n;
}

struct resp *api_h(const char *method, const char *path, const char *token, const char *body,
                   const char *const *headers)
{
    CURL *c = curl_easy_init();
    struct buf data = {0}, head = {0};
    struct curl_slist *hl = NULL;
    char url[2048], line[4200];
    bool has_ctype = false;
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", srv_port(), path);
    for (const char *const *h = headers; h && *h; h++) {
        hl = curl_slist_append(hl, *h);
        if (!strncasecmp(*h, "Content-Type:", 13)) has_ctype = true;
    }
    if (body && !has_ctype) hl = curl_slist_append(hl, "Content-Type: application/json");
    if (token) {
        snprintf(line, sizeof line, "Authorization: Bearer %s", token);
        hl = curl_slist_append(hl, line);
    }
    hl = curl_slist_append(hl, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    if (!strcmp(method, "HEAD")) curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &data);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &head);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    CURLcode rc = curl_easy_perform(c);
    cr_assert_eq(rc, CURLE_OK, "%s %s: %s", method, path, curl_easy_strerror(rc));
    struct resp *r = xcalloc(1, sizeof *r);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    r->status = (int)status;
    r->body = data.p ? data.p : xstrdup("");
    r->len = data.n;
    r->headers = head.p ? head.p : xstrdup("");
    r->json = json_loadb(r->body, r->len, JSON_DECODE_ANY, NULL);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    return r;
}

struct resp *api(const char *method, const char *path, const char *token, const char *body)
{
    return api_h(method, path, token, body, NULL);
}

const char *resp_header(struct resp *r, const char *name)
{
    static __thread char value[1024];
    size_t n = strlen(name);
    for (const char *p = r->headers; p && *p;) {
        if (!strncasecmp(p, name, n) && p[n] == ':') {
            p += n + 1;
            while (*p == ' ') p++;
            size_t len = strcspn(p, "\r\n");
            snprintf(value, sizeof value, "%.*s", (int)len, p);
            return value;
        }
        const char *nl = strchr(p, '\n');
        p = nl ? nl + 1 : NULL;
    }
    return NULL;
}

const char *resp_error_code(struct resp *r)
{
    const char *code = json_string_value(json_object_get(json_object_get(r->json, "error"), "code"));
    return code ? code : "";
}

void resp_free(struct resp *r)
{
    if (!r) return;
    json_decref(r->json);
    free(r->body);
    free(r->headers);
    free(r);
}

int64_t test_user(const char *username, const char *app, const char *role, const char *scope_type, int64_t scope_id)
{
    static char hash[128];
    if (!hash[0]) cr_assert_eq(auth_hash_password(TEST_PASSWORD, hash), 0, "hash");
    struct db *db = test_db();
    cr_assert_eq(db_begin(db), 0);
    int64_t id = seed_user(db, username, username, hash, app, role, scope_type, scope_id);
    cr_assert_gt(id, 0, "seed_user %s", username);
    cr_assert_eq(db_commit(db), 0);
    return id;
}

int64_t test_user_id(const char *username)
{
    int64_t id = 0;
    db_int(test_db(), &id, "SELECT id FROM users WHERE username = $1", DB_S(username));
    return id;
}

char *test_token(const char *username)
{
    struct db *db = test_db();
    int64_t id = test_user_id(username);
    cr_assert_gt(id, 0, "no user %s", username);
    cr_assert_eq(db_begin(db), 0);
    json_t *pair = session_issue(db, id, 0);
    cr_assert(pair);
    cr_assert_eq(db_commit(db), 0);
    char *tok = xstrdup(json_string_value(json_object_get(pair, "access_token")));
    json_decref(pair);
    return tok;
}

int64_t test_count(const char *sql)
{
    int64_t n = -1;
    cr_assert_eq(db_int(test_db(), &n, sql), 1, "count: %s", sql);
    return n;
}

int64_t test_countf(const char *fmt, ...)
{
    char sql[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    cr_assert_lt(n, (int)sizeof sql, "count: SQL too long");
    return test_count(sql);
}

int64_t test_scalar(const char *sql, int64_t arg)
{
    int64_t v = -1;
    db_int(test_db(), &v, sql, DB_I(arg));
    return v;
}

char *test_text(const char *sql)
{
    char *s = db_text(test_db(), sql);
    cr_assert(s, "query: %s", sql);
    return s;
}

const char *test_text_of(const char *sql, int64_t arg)
{
    static char bufs[8][128];
    static int next;
    char *buf = bufs[next++ % 8], *t = db_text(test_db(), sql, DB_I(arg));
    snprintf(buf, sizeof bufs[0], "%s", t ? t : "(none)");
    free(t);
    return buf;
}

void test_expect_role(const char *app, const char *username, const char *role, const char *scope_type, int64_t scope_id)
{
    int64_t n = -1;
    cr_assert_eq(db_int(test_db(), &n, "SELECT COUNT(*) FROM users u JOIN user_roles ur ON ur.user_id = u.id "
                                       "WHERE u.username = $1 AND ur.app = $2 AND ur.role = $3 "
                                       "AND ur.scope_type = $4 AND ur.scope_id = $5",
                        DB_S(username), DB_S(app), DB_S(role), DB_S(scope_type), DB_I(scope_id)), 1);
    cr_expect_eq(n, 1, "%s should be %s %s on %s %lld", username, app, role, scope_type, (long long)scope_id);
}

int64_t test_audit_count(const char *app, const char *action)
{
    int64_t n = -1;
    if (app) db_int(test_db(), &n, "SELECT COUNT(*) FROM audit_log WHERE action = $1 AND app = $2", DB_S(action), DB_S(app));
    else db_int(test_db(), &n, "SELECT COUNT(*) FROM audit_log WHERE action = $1", DB_S(action));
    return n;
}

void test_audit_row(const char *app, const char *action, const char *target_type, int64_t target_id)
{
    struct db *db = test_db();
    cr_assert_eq(db_begin(db), 0);
    cr_assert_eq(audit_write_as(db, 0, app, action, target_type, target_id, NULL), 0, "audit row %s", action);
    cr_assert_eq(db_commit(db), 0);
}

struct conc {
    pthread_barrier_t barrier;
    void (*fn)(int, void *);
    void *arg;
    int i;
    pthread_mutex_t lock;
};

static void *conc_main(void *p)
{
    struct conc *c = p;
    pthread_mutex_lock(&c->lock);
    int i = c->i++;
    pthread_mutex_unlock(&c->lock);
    pthread_barrier_wait(&c->barrier);
    c->fn(i, c->arg);
    db_thread_close();
    return NULL;
}

void run_concurrently(int n, void (*fn)(int i, void *arg), void *arg)
{
    struct conc c = {.fn = fn, .arg = arg};
    pthread_mutex_init(&c.lock, NULL);
    pthread_barrier_init(&c.barrier, NULL, (unsigned)n);
    pthread_t *t = xcalloc((size_t)n, sizeof *t);
    for (int i = 0; i < n; i++) pthread_create(&t[i], NULL, conc_main, &c);
    for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
    free(t);
    pthread_barrier_destroy(&c.barrier);
    pthread_mutex_destroy(&c.lock);
}
