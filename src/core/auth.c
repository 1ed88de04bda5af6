/* auth.c -- passwords (argon2id and the password policy), user creation and
 * the account endpoints: register, login, refresh, logout, /me.
 *
 * Tokens are session.c's and TOTP codes are totp.c's. Hashing runs on the
 * worker pool (the routes that hash are marked slow) and never inside a write
 * transaction: that would hold the database's write lock for the whole
 * argon2id computation. */
#include "atrium.h"
#include "internal.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#define COMMON_PASSWORDS "src/core/data/common-passwords.txt"
#define PASSWORD_MIN 8

/* ---------------------------------------------------------- argon2id */

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static bool sodium_ok;

static void init_sodium(void)
{
    sodium_ok = sodium_init() >= 0;
}

int auth_hash_password(const char *password, char out[128])
{
    unsigned long long ops = cfg.pwhash_ops > 0 ? (unsigned long long)cfg.pwhash_ops : crypto_pwhash_OPSLIMIT_INTERACTIVE;
    size_t mem = cfg.pwhash_mem >= 8192 ? cfg.pwhash_mem : crypto_pwhash_MEMLIMIT_INTERACTIVE;
    pthread_once(&sodium_once, init_sodium);
    if (!sodium_ok) return -1;
    return crypto_pwhash_str_alg(out, password, strlen(password), ops, mem, crypto_pwhash_ALG_ARGON2ID13) == 0 ? 0 : -1;
}

bool auth_verify_password(const char *hash, const char *password)
{
    pthread_once(&sodium_once, init_sodium);
    return sodium_ok && hash && crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

/* ----------------------------------------------------- password policy */

static struct {
    char *buf;
    char **v;
    size_t n;
} common;
static pthread_once_t common_once = PTHREAD_ONCE_INIT;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The embedded list: sorted (LC_ALL=C), lowercase, one per line. */
static void load_common(void)
{
    const struct embedded_file *f = embed_find(COMMON_PASSWORDS);
    if (!f) {
        log_error("%s is not embedded: the common-password check is off", COMMON_PASSWORDS);
        return;
    }
    common.buf = xmalloc((size_t)f->len + 1);
    memcpy(common.buf, f->data, (size_t)f->len);
    common.buf[f->len] = 0;
    size_t cap = 1;
    for (const char *p = common.buf; *p; p++) cap += *p == '\n';
    common.v = xmalloc(cap * sizeof *common.v);
    char *save = NULL;
    for (char *line = strtok_r(common.buf, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save))
        common.v[common.n++] = line;
    for (size_t i = 1; i < common.n; i++)
        if (strcmp(common.v[i - 1], common.v[i]) > 0) {   /* a hand-edited list: sort it once */
            qsort(common.v, common.n, sizeof *common.v, cmp_str);
            break;
        }
}

static bool is_common(const char *lower)
{
    pthread_once(&common_once, load_common);
    return common.n && bsearch(&lower, common.v, common.n, sizeof *common.v, cmp_str);
}

static char *lower_dup(const char *s, size_t n)
{
    char *out = xmalloc(n + 1);
    for (size_t i = 0; i < n; i++) out[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
    out[n] = 0;
    return out;
}

/* Edit distance, or limit + 1 as soon as it is certainly above limit. */
static size_t levenshtein(const char *a, const char *b, size_t limit)
{
    size_t n = strlen(a), m = strlen(b), row[260];
    if ((n > m ? n - m : m - n) > limit || n >= 260 || m >= 260) return limit + 1;
    for (size_t j = 0; j <= m; j++) row[j] = j;
    for (size_t i = 1; i <= n; i++) {
        size_t diag = row[0], best = row[0] = i;
        for (size_t j = 1; j <= m; j++) {
            size_t up = row[j], v = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < v) v = up + 1;
            if (row[j - 1] + 1 < v) v = row[j - 1] + 1;
            row[j] = v;
            diag = up;
            if (v < best) best = v;
        }
        if (best > limit) return limit + 1;
    }
    return row[m];
}

/* Both lowercase. */
static bool similar_to(const char *pw, const char *name)
{
    size_t n = strlen(name);
    if (!n) return false;
    return (n >= 3 && strstr(pw, name)) || strstr(name, pw) || levenshtein(pw, name, 3) <= 3;
}

const char *auth_password_problem(const char *password, const char *username, const char *email)
{
    size_t chars = 0, len = strlen(password);
    bool digits = true;
    for (const unsigned char *p = (const unsigned char *)password; *p; p++) {
        chars += (*p & 0xC0) != 0x80;          /* UTF-8 code points */
        digits = digits && *p >= '0' && *p <= '9';
    }
    if (chars < PASSWORD_MIN) return "password_too_short";
    if (digits) return "password_all_digits";
    char *pw = lower_dup(password, len), *user = NULL, *local = NULL;
    const char *problem = NULL;
    if (is_common(pw)) problem = "password_common";
    if (!problem && username && similar_to(pw, user = lower_dup(username, strlen(username))))
        problem = "password_similar";
    if (!problem && email && strchr(email, '@') && similar_to(pw, local = lower_dup(email, strcspn(email, "@"))))
        problem = "password_similar";
    sodium_memzero(pw, len);
    free(pw);
    free(user);
    free(local);
    return problem;
}

/* ------------------------------------------------------------- users */

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) n += (*p & 0xC0) != 0x80;
    return n;
}

static bool valid_username(const char *u)
{
    size_t n = strlen(u);
    if (n < 3 || n > 32) return false;
    return strspn(u, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

bool auth_email_valid(const char *e)
{
    size_t n = strlen(e);
    const char *at = strchr(e, '@'), *dot;
    if (!n || n > 254 || !at || at == e || strchr(at + 1, '@')) return false;
    if (!(dot = strrchr(at + 1, '.')) || dot == at + 1 || !dot[1]) return false;
    for (const unsigned char *p = (const unsigned char *)e; *p; p++)
        if (*p <= ' ' || *p == 0x7f) return false;
    return true;
}

static bool valid_display_name(const char *d)
{
    for (const unsigned char *p = (const unsigned char *)d; *p; p++)
        if (*p < ' ' || *p == 0x7f) return false;
    return utf8_chars(d) <= 100;
}

const char *auth_user_problem(const char *username, const char *password, const char *email,
                              const char *display_name)
{
    if (username && !valid_username(username)) return "username_invalid";
    if (email && !auth_email_valid(email)) return "email_invalid";
    if (display_name && !valid_display_name(display_name)) return "display_name_invalid";
    return password ? auth_password_problem(password, username, email) : NULL;
}

/* Inside the caller's transaction. */
static int insert_user(struct db *db, const char *username, const char *hash, const char *email,
                       const char *display_name, int64_t *id_out, const char **problem)
{
    int64_t taken = 0;
    *problem = NULL;
    if (db_int(db, &taken, "SELECT CASE WHEN EXISTS (SELECT 1 FROM users WHERE username = $1) THEN 1 "
                           "WHEN EXISTS (SELECT 1 FROM users WHERE email = $2) THEN 2 ELSE 0 END",
               DB_S(username), DB_S(email)) != 1)
        return -1;
    if (taken) {
        *problem = taken == 1 ? "username_taken" : "email_taken";
        return -1;
    }
    if (db_int(db, id_out, "INSERT INTO users (username, email, display_name, password_hash) "
                           "VALUES ($1, $2, $3, $4) RETURNING id",
               DB_S(username), DB_S(email), DB_S(display_name ? display_name : username), DB_S(hash)) != 1) {
        if (db_constraint_failed(db)) *problem = "username_taken";
        return -1;
    }
    return 0;
}

int auth_create_user(struct db *db, const char *username, const char *password, const char *email,
                     const char *display_name, int64_t *id_out, const char **problem)
{
    char hash[128];
    if ((*problem = auth_user_problem(username, password, email, display_name))) return -1;
    if (auth_hash_password(password, hash) < 0) return -1;
    return insert_user(db, username, hash, email, display_name, id_out, problem);
}

int auth_create_user_hashed(struct db *db, const char *username, const char *password_hash, const char *email,
                            const char *display_name, int64_t *id_out, const char **problem)
{
    if ((*problem = auth_user_problem(username, NULL, email, display_name))) return -1;
    if (!password_hash || strncmp(password_hash, "$argon2", 7)) {
        log_error("auth_create_user_hashed: not an argon2 hash");
        return -1;
    }
    return insert_user(db, username, password_hash, email, display_name, id_out, problem);
}

json_t *auth_user_json(struct db *db, int64_t user_id, bool with_access)
{
    json_t *user = db_json_one(db, "SELECT " AUTH_USER_COLUMNS " FROM users WHERE id = $1", DB_I(user_id));
    if (!user || !with_access) return user;
    json_t *access = rbac_user_json(db, user_id);
    if (!access) {
        json_decref(user);
        return NULL;
    }
    json_object_update(user, access);
    json_decref(access);
    return user;
}

/* problem: the stable code clients read in details (docs/API.md), never
 * translated; message: the human text, in the caller's language. */
static const struct {
    const char *problem, *field, *message;
} problems[] = {
    {"password_too_short", "password", N_("password must be at least 8 characters")},
    {"password_all_digits", "password", N_("password must not be only digits")},
    {"password_common", "password", N_("password is too common")},
    {"password_similar", "password", N_("password is too similar to the username or email")},
    {"username_invalid", "username", N_("username must be 3-32 letters, digits, '.', '_' or '-'")},
    {"email_invalid", "email", N_("email is not a valid address")},
    {"display_name_invalid", "display_name", N_("display_name must be at most 100 printable characters")},
    {NULL, NULL, NULL},
};

/* 400 validation_failed naming `field` with the problem's code and text. */
static void reply_problem(struct req *r, const char *field, const char *problem)
{
    size_t i = 0;
    while (problems[i].problem && strcmp(problems[i].problem, problem)) i++;
    reply_json(r, 400, json_pack("{s:{s:s, s:s, s:[{s:s, s:s}]}}", "error", "code", "validation_failed", "message",
                                 problems[i].message ? tr(r, problems[i].message) : problem, "details", "field", field,
                                 "problem", problem));
}

void auth_reply_user_problem(struct req *r, const char *problem)
{
    if (!problem) {
        reply_db_error(r);
    } else if (!strcmp(problem, "username_taken")) {
        reply_error(r, 409, "username_taken", "username is already taken");
    } else if (!strcmp(problem, "email_taken")) {
        reply_error(r, 409, "email_taken", "email is already registered");
    } else {
        size_t i = 0;
        while (problems[i].problem && strcmp(problems[i].problem, problem)) i++;
        reply_problem(r, problems[i].field ? problems[i].field : "body", problem);
    }
}

void auth_register_user(struct req *r, const char *action)
{
    const char *username, *password, *email, *display_name = NULL, *language = NULL, *problem = NULL;
    char hash[128];
    int64_t id = 0;
    json_t *user = NULL;
    if (req_unpack(r, "{s:s, s:s, s:s, s?s, s?s}", "username", &username, "password", &password, "email", &email,
                   "display_name", &display_name, "language", &language) < 0)
        return;
    if (language && strcmp(language, "en") && strcmp(language, "es")) {
        reply_invalid(r, "language", "must be \"en\" or \"es\"");
        return;
    }
    if (!display_name) display_name = username;
    if ((problem = auth_user_problem(username, password, email, display_name))) {
        auth_reply_user_problem(r, problem);
        return;
    }
    if (auth_hash_password(password, hash) < 0 || db_begin(r->db) < 0) {
        reply_db_error(r);
        return;
    }
    /* No language unless one is given: until then Accept-Language decides. */
    if (insert_user(r->db, username, hash, email, display_name, &id, &problem) < 0 ||
        (language && db_exec(r->db, "UPDATE users SET language = $2 WHERE id = $1", DB_I(id), DB_S(language)) != 1) ||
        !(user = auth_user_json(r->db, id, false)) ||
        audit_write(r->db, r, "core", action, "user", id, json_pack("{s:s}", "username", username)) < 0 ||
        db_commit(r->db) < 0) {
        db_rollback(r->db);
        json_decref(user);
        auth_reply_user_problem(r, problem);
        return;
    }
    reply_json(r, 201, user);
}

/* ------------------------------------------------------------ handlers */

void auth_register(struct req *r)
{
    if (!cfg.open_registration && !rbac_can(r, "core.users.manage", NULL, 0)) {
        reply_error(r, 403, "registration_closed", "registration is closed; ask an administrator for an account");
        return;
    }
    auth_register_user(r, "core.user.registered");
}

static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static char dummy_hash[128];

/* A hash with the current cost, for unknown usernames: they cost what a
 * wrong password costs, so timing does not tell which usernames exist. */
static void make_dummy_hash(void)
{
    char pw[33];
    pthread_once(&sodium_once, init_sodium);
    crypto_random_token(pw, 16);
    if (auth_hash_password(pw, dummy_hash) < 0) dummy_hash[0] = 0;
}

static bool login_allowed(struct req *r, const char *username)
{
    char *user_key = pool_printf(r->pool, "login-user:%.64s", username);
    int retry = 0;
    for (char *p = user_key; *p; p++)
        if (*p >= 'A' && *p <= 'Z') *p = (char)(*p + 32);
    /* in the database: one budget across every instance */
    if (ratelimit_take_db(r->db, pool_printf(r->pool, "login-ip:%s", r->client_ip), &cfg.rate_login, &retry) &&
        ratelimit_take_db(r->db, user_key, &cfg.rate_login, &retry))
        return true;
    char secs[16];
    snprintf(secs, sizeof secs, "%d", retry);
    reply_header(r, "Retry-After", secs);
    reply_error(r, 429, "rate_limited", "too many login attempts, retry in %d s", retry);
    metrics_count("rate_limited", "login", 1);
    return false;
}

/* Counted always; audited (login.failed) when the account exists. */
static void login_failed(struct req *r, int64_t user_id, const char *code, const char *reason)
{
    metrics_count("auth_failures", reason, 1);
    if (user_id && db_begin(r->db) == 0 &&
        (audit_write(r->db, r, "core", "core.user.login_failed", "user", user_id, json_pack("{s:s}", "reason", reason)) < 0 ||
         db_commit(r->db) < 0))
        db_rollback(r->db);
    if (!strcmp(code, "totp_required")) reply_error(r, 401, code, "this account needs a TOTP or recovery code");
    else if (!strcmp(code, "invalid_totp")) reply_error(r, 401, code, "the TOTP or recovery code is not valid");
    else reply_error(r, 401, code, "invalid username or password");
}

struct login_user {
    int64_t id;
    char *hash;
    bool active, totp;
};

static int find_login_user(struct req *r, const char *username, struct login_user *u)
{
    struct db_rows rows;
    memset(u, 0, sizeof *u);
    if (db_query(r->db, &rows, "SELECT id, password_hash, status = 'active', totp_enabled FROM users "
                               "WHERE username = $1", DB_S(username)) < 0)
        return -1;
    if (db_step(&rows)) {
        u->id = db_col_int(&rows, 0);
        u->hash = pool_strdup(r->pool, db_col_text(&rows, 1));
        u->active = db_col_int(&rows, 2);
        u->totp = db_col_int(&rows, 3);
    }
    db_rows_close(&rows);
    return 0;
}

void auth_login(struct req *r)
{
    const char *username, *password, *code = NULL;
    struct login_user u;
    if (req_unpack(r, "{s:s, s:s, s?s}", "username", &username, "password", &password, "totp_code", &code) < 0 ||
        !login_allowed(r, username))
        return;
    if (find_login_user(r, username, &u) < 0) {
        reply_db_error(r);
        return;
    }
    if (!u.id) {
        pthread_once(&dummy_once, make_dummy_hash);
        auth_verify_password(dummy_hash, password);
        login_failed(r, 0, "invalid_credentials", "unknown_user");
        return;
    }
    if (!auth_verify_password(u.hash, password)) {
        login_failed(r, u.id, "invalid_credentials", "bad_password");
        return;
    }
    if (!u.active) {
        login_failed(r, u.id, "invalid_credentials", "disabled");
        return;
    }
    if (u.totp && (!code || !*code)) {
        login_failed(r, 0, "totp_required", "totp_required");
        return;
    }
    if (db_begin(r->db) < 0) {
        reply_db_error(r);
        return;
    }
    if (u.totp && totp_check_login(r->db, u.id, code) < 0) {
        db_rollback(r->db);
        login_failed(r, u.id, "invalid_totp", "invalid_totp");
        return;
    }
    json_t *pair = session_issue(r->db, u.id, 0), *user = pair ? auth_user_json(r->db, u.id, false) : NULL;
    if (!user || audit_write(r->db, r, "core", "core.user.logged_in", "user", u.id, json_pack("{s:b}", "second_factor", u.totp)) < 0 ||
        db_commit(r->db) < 0) {
        db_rollback(r->db);
        json_decref(pair);
        json_decref(user);
        reply_db_error(r);
        return;
    }
    json_object_set_new(pair, "user", user);
    reply_json(r, 200, pair);
}

void auth_refresh(struct req *r)
{
    const char *token;
    json_t *pair = NULL;
    int64_t user_id = 0;
    if (req_unpack(r, "{s:s}", "refresh_token", &token) < 0) return;
    if (db_begin(r->db) < 0) {
        reply_db_error(r);
        return;
    }
    int rc = session_refresh(r->db, token, &pair, &user_id);
    if (rc == -1) {
        db_rollback(r->db);
        metrics_count("auth_failures", "invalid_refresh", 1);
        reply_error(r, 401, "invalid_token", "refresh token is invalid or expired");
        return;
    }
    /* a reuse revokes the family: that must commit although the answer is 401 */
    if (audit_write(r->db, r, "core", rc == -2 ? "core.token.reuse_detected" : "core.token.refreshed", "user", user_id, NULL) < 0 ||
        db_commit(r->db) < 0) {
        db_rollback(r->db);
        json_decref(pair);
        reply_db_error(r);
        return;
    }
    if (rc == -2) {
        metrics_count("auth_failures", "refresh_reuse", 1);
        log_warn("spent refresh token presented again for user %lld: token family revoked", (long long)user_id);
        reply_error(r, 401, "refresh_token_reused", "this refresh token was already used; sign in again");
        return;
    }
    reply_json(r, 200, pair);
}

void auth_logout(struct req *r)
{
    int64_t family = session_family_of(r->db, r->user.token_id);
    if (!family || db_begin(r->db) < 0) {
        reply_db_error(r);
        return;
    }
    if (session_revoke_family(r->db, family, "logout") < 0 ||
        audit_write(r->db, r, "core", "core.user.logged_out", "user", r->user.id, NULL) < 0 || db_commit(r->db) < 0) {
        db_rollback(r->db);
        reply_db_error(r);
        return;
    }
    reply_json(r, 200, json_pack("{s:s}", "status", "logged_out"));
}

void me_get(struct req *r)
{
    json_t *user = auth_user_json(r->db, r->user.id, true);
    if (!user) reply_db_error(r);
    else reply_json(r, 200, user);
}

void me_language(struct req *r)
{
    const char *language;
    json_t *user = NULL;
    if (req_unpack(r, "{s:s}", "language", &language) < 0) return;
    if (strcmp(language, "en") && strcmp(language, "es")) {
        reply_invalid(r, "language", "must be \"en\" or \"es\"");
        return;
    }
    if (db_begin(r->db) < 0) {
        reply_db_error(r);
        return;
    }
    if (db_exec(r->db, "UPDATE users SET language = $2, updated_at = strftime('%Y-%m-%dT%H:%M:%SZ','now') "
                       "WHERE id = $1", DB_I(r->user.id), DB_S(language)) != 1 ||
        audit_write(r->db, r, "core", "core.user.language_changed", "user", r->user.id, json_pack("{s:s}", "language", language)) < 0 ||
        !(user = auth_user_json(r->db, r->user.id, false)) || db_commit(r->db) < 0) {
        db_rollback(r->db);
        json_decref(user);
        reply_db_error(r);
        return;
    }
    reply_json(r, 200, user);
}

/* POST /me/password {current_password, new_password}: the signed-in user
 * changes their own password (a one-time password from an administrator or
 * the registrar, or any other). The current one must match; the new one
 * meets the policy and differs from it. Every session ends, this one too:
 * the client signs in again with the new password. Two argon2id operations
 * (the route is slow). */
void me_password(struct req *r)
{
    const char *current, *fresh, *problem;
    char hash[128];
    json_t *u = NULL;
    if (req_unpack(r, "{s:s, s:s}", "current_password", &current, "new_password", &fresh) < 0) return;
    u = db_json_one(r->db, "SELECT username, COALESCE(email, '') AS email, password_hash FROM users WHERE id = $1",
                    DB_I(r->user.id));
    if (!u) {
        reply_db_error(r);
        return;
    }
    /* guessing the current password with a stolen token costs what guessing
     * it at the login does: the same budget, the same audit row */
    if (!login_allowed(r, json_string_value(json_object_get(u, "username")))) goto out;
    if (!auth_verify_password(json_string_value(json_object_get(u, "password_hash")), current)) {
        metrics_count("auth_failures", "wrong_current_password", 1);
        if (db_begin(r->db) == 0 &&
            (audit_write(r->db, r, "core", "core.user.login_failed", "user", r->user.id,
                         json_pack("{s:s}", "reason", "wrong_current_password")) < 0 ||
             db_commit(r->db) < 0))
            db_rollback(r->db);
        reply_invalid(r, "current_password", "is not your current password");
        goto out;
    }
    if (!strcmp(current, fresh)) {
        reply_invalid(r, "new_password", "must differ from the current password");
        goto out;
    }
    if ((problem = auth_password_problem(fresh, json_string_value(json_object_get(u, "username")),
                                         json_string_value(json_object_get(u, "email"))))) {
        reply_problem(r, "new_password", problem);
        goto out;
    }
    if (auth_hash_password(fresh, hash) < 0 || db_begin(r->db) < 0) {
        reply_db_error(r);
        goto out;
    }
    /* guarded by the hash just verified: of two changes at once, one wins */
    int changed = db_exec(r->db, "UPDATE users SET password_hash = $2, updated_at = strftime('%Y-%m-%dT%H:%M:%SZ',"
                                 "'now') WHERE id = $1 AND password_hash = $3",
                          DB_I(r->user.id), DB_S(hash), DB_S(json_string_value(json_object_get(u, "password_hash"))));
    if (changed == 0) {
        db_rollback(r->db);
        reply_error(r, 409, "password_changed", "the password changed meanwhile; sign in again");
        goto out;
    }
    if (changed != 1 || session_revoke_user(r->db, r->user.id, "password_changed") < 0 ||
        audit_write(r->db, r, "core", "core.user.password_changed", "user", r->user.id, NULL) < 0 ||
        db_commit(r->db) < 0) {
        db_rollback(r->db);
        reply_db_error(r);
        goto out;
    }
    reply_json(r, 200, json_pack("{s:b, s:b}", "changed", 1, "signed_out", 1));
out:
    sodium_memzero(hash, sizeof hash);
    json_decref(u);
}
