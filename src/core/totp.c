/* totp.c -- two-factor authentication with TOTP (RFC 6238, liboath):
 * setup, enable, disable, and the check login makes.
 *
 * The secret is 20 random bytes, kept as base32 text sealed under
 * ATRIUM_ENCRYPTION_KEY (crypto_seal_text). Setup stores a pending secret
 * (totp_enabled = 0) and ten recovery codes, of which only SHA-256 hashes are
 * kept; enable proves the authenticator works with one code. Each accepted
 * code records its absolute time step in users.totp_last_step and only later
 * steps are accepted after it, so a code cannot be replayed inside its window.
 * Every check runs inside the caller's write transaction, so two requests
 * cannot both spend the same code. */
#include "atrium.h"
#include "internal.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <liboath/oath.h>
#include <sodium.h>

#define TOTP_STEP 30
#define TOTP_DIGITS 6
#define TOTP_WINDOW 1
#define SECRET_BYTES 20
#define RECOVERY_CODES 10
#define RECOVERY_LEN 10                 /* shown as xxxxx-xxxxx */

static const char recovery_alphabet[] = "abcdefghjkmnpqrstuvwxyz23456789";   /* no 0/o, 1/l/i */

static pthread_once_t oath_once = PTHREAD_ONCE_INIT;
static bool oath_ok;

static void init_oath(void)
{
    oath_ok = oath_init() == OATH_OK;
    if (!oath_ok) log_error("liboath failed to initialise: TOTP is unavailable");
}

struct totp_state {
    bool found, enabled;
    char *secret;               /* base32, opened; NULL when none */
    int64_t last_step;
};

static void state_free(struct totp_state *st)
{
    if (st->secret) {
        sodium_memzero(st->secret, strlen(st->secret));
        free(st->secret);
    }
    st->secret = NULL;
}

static int state_load(struct db *db, int64_t user_id, struct totp_state *st)
{
    struct db_rows rows;
    memset(st, 0, sizeof *st);
    if (db_query(db, &rows, "SELECT totp_enabled, totp_secret, totp_last_step FROM users WHERE id = $1",
                 DB_I(user_id)) < 0)
        return -1;
    int rc = 0;
    if (db_step(&rows)) {
        st->found = true;
        st->enabled = db_col_int(&rows, 0);
        st->last_step = db_col_int(&rows, 2);
        if (!db_col_null(&rows, 1) && !(st->secret = crypto_open_text(db_col_text(&rows, 1)))) {
            log_error("TOTP secret of user %lld cannot be opened (encryption key changed?)", (long long)user_id);
            rc = -1;
        }
    }
    db_rows_close(&rows);
    return rc;
}

static bool six_digits(const char *code)
{
    return strlen(code) == TOTP_DIGITS && strspn(code, "0123456789") == TOTP_DIGITS;
}

/* The time step `code` belongs to when it is valid now (window +-1 step) and
 * later than last_step; else -1. */
static int64_t code_step(const char *secret, const char *code, int64_t last_step)
{
    char *key = NULL;
    size_t keylen = 0;
    int pos = 0;
    uint64_t counter = 0;
    pthread_once(&oath_once, init_oath);
    if (!oath_ok || !secret || !six_digits(code) ||
        oath_base32_decode(secret, strlen(secret), &key, &keylen) != OATH_OK)
        return -1;
    int rc = oath_totp_validate3(key, keylen, time(NULL), TOTP_STEP, 0, TOTP_WINDOW, &pos, &counter, code);
    sodium_memzero(key, keylen);
    free(key);
    return rc >= 0 && (int64_t)counter > last_step ? (int64_t)counter : -1;
}

/* Letters and digits only, lowercased: "ABCDE-fghjk" and "abcdefghjk" match. */
static int normalize_recovery(const char *in, char out[RECOVERY_LEN + 1])
{
    size_t n = 0;
    for (const char *p = in; *p; p++) {
        char c = *p >= 'A' && *p <= 'Z' ? (char)(*p + 32) : *p;
        if (c == '-' || c == ' ') continue;
        if (n == RECOVERY_LEN || !strchr(recovery_alphabet, c)) return -1;
        out[n++] = c;
    }
    out[n] = 0;
    return n == RECOVERY_LEN ? 0 : -1;
}

static int use_recovery_code(struct db *db, int64_t user_id, const char *code)
{
    char norm[RECOVERY_LEN + 1], hash[65];
    if (normalize_recovery(code, norm) < 0) return -1;
    crypto_sha256_hex(norm, RECOVERY_LEN, hash);
    return db_exec(db, "UPDATE totp_recovery_codes SET used_at = strftime('%Y-%m-%dT%H:%M:%SZ','now') "
                       "WHERE id = (SELECT id FROM totp_recovery_codes WHERE user_id = $1 AND code_hash = $2 "
                       "AND used_at IS NULL LIMIT 1)", DB_I(user_id), DB_S(hash)) == 1 ? 0 : -1;
}

/* A fresh TOTP code or an unused recovery code of an enabled user; spends it. */
static int spend_code(struct db *db, int64_t user_id, const struct totp_state *st, const char *code)
{
    if (!st->enabled || !st->secret) return -1;
    if (!six_digits(code)) return use_recovery_code(db, user_id, code);
    int64_t step = code_step(st->secret, code, st->last_step);
    if (step < 0) return -1;
    return db_exec(db, "UPDATE users SET totp_last_step = $2 WHERE id = $1", DB_I(user_id), DB_I(step)) == 1 ? 0 : -1;
}

int totp_check_login(struct db *db, int64_t user_id, const char *code)
{
    struct totp_state st;
    int rc = state_load(db, user_id, &st) < 0 ? -1 : spend_code(db, user_id, &st, code);
    state_free(&st);
    return rc;
}

/* ------------------------------------------------------------ handlers */

/* Percent-encode everything outside RFC 3986's unreserved characters. */
static const char *uri_escape(struct pool *pool, const char *s)
{
    char *out = pool_alloc(pool, strlen(s) * 3 + 1), *o = out;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (strchr("-._~", *p) || (*p >= '0' && *p <= '9') || ((*p | 32) >= 'a' && (*p | 32) <= 'z'))
            *o++ = (char)*p;
        else
            o += sprintf(o, "%%%02X", *p);
    }
    *o = 0;
    return out;
}

/* Replaces the user's recovery codes; returns the plain codes. */
static json_t *new_recovery_codes(struct db *db, int64_t user_id)
{
    json_t *codes = json_array();
    if (db_exec(db, "DELETE FROM totp_recovery_codes WHERE user_id = $1", DB_I(user_id)) < 0) goto fail;
    for (int i = 0; i < RECOVERY_CODES; i++) {
        char raw[RECOVERY_LEN + 1], shown[RECOVERY_LEN + 2], hash[65];
        for (int j = 0; j < RECOVERY_LEN; j++)
            raw[j] = recovery_alphabet[randombytes_uniform(sizeof recovery_alphabet - 1)];
        raw[RECOVERY_LEN] = 0;
        snprintf(shown, sizeof shown, "%.5s-%s", raw, raw + 5);
        crypto_sha256_hex(raw, RECOVERY_LEN, hash);
        if (db_exec(db, "INSERT INTO totp_recovery_codes (user_id, code_hash) VALUES ($1, $2)", DB_I(user_id),
                    DB_S(hash)) < 0)
            goto fail;
        json_array_append_new(codes, json_string(shown));
    }
    return codes;
fail:
    json_decref(codes);
    return NULL;
}

void auth_totp_setup(struct req *r)
{
    struct totp_state st = {0};
    unsigned char raw[SECRET_BYTES];
    char *secret = NULL, *sealed = NULL;
    size_t secret_len = 0;
    json_t *codes = NULL;
    pthread_once(&oath_once, init_oath);
    if (!oath_ok || db_begin(r->db) < 0) goto fail;
    if (state_load(r->db, r->user.id, &st) < 0 && !st.found) goto fail;
    if (st.enabled) {
        db_rollback(r->db);
        reply_error(r, 409, "totp_already_enabled", "two-factor authentication is already on; disable it first");
        goto out;
    }
    randombytes_buf(raw, sizeof raw);
    if (oath_base32_encode((const char *)raw, sizeof raw, &secret, &secret_len) != OATH_OK ||
        !(sealed = crypto_seal_text(secret)) ||
        db_exec(r->db, "UPDATE users SET totp_secret = $2, totp_enabled = 0, totp_last_step = 0, "
                       "updated_at = strftime('%Y-%m-%dT%H:%M:%SZ','now') WHERE id = $1",
                DB_I(r->user.id), DB_S(sealed)) != 1 ||
        !(codes = new_recovery_codes(r->db, r->user.id)) ||
        audit_write(r->db, r, "core", "core.user.totp_set_up", "user", r->user.id, NULL) < 0 || db_commit(r->db) < 0)
        goto fail;
    const char *uri = pool_printf(r->pool, "otpauth://totp/atrium:%s?secret=%s&issuer=atrium&algorithm=SHA1"
                                           "&digits=%d&period=%d",
                                  uri_escape(r->pool, r->user.username), secret, TOTP_DIGITS, TOTP_STEP);
    reply_json(r, 200, json_pack("{s:s, s:s, s:o}", "secret", secret, "otpauth_uri", uri, "recovery_codes", codes));
    codes = NULL;
    goto out;
fail:
    db_rollback(r->db);
    reply_db_error(r);
out:
    sodium_memzero(raw, sizeof raw);
    if (secret) sodium_memzero(secret, secret_len);
    free(secret);
    free(sealed);
    json_decref(codes);
    state_free(&st);
}

/* Shared by enable and disable: read {code}, open a transaction, load the
 * state. Returns 0 with the transaction open, -1 when it already replied. */
static int begin_change(struct req *r, const char **code, struct totp_state *st)
{
    memset(st, 0, sizeof *st);
    if (req_unpack(r, "{s:s}", "code", code) < 0) return -1;
    if (db_begin(r->db) < 0) {
        reply_db_error(r);
        return -1;
    }
    if (state_load(r->db, r->user.id, st) < 0 || !st->found) {
        db_rollback(r->db);
        state_free(st);
        reply_db_error(r);
        return -1;
    }
    return 0;
}

static void finish_change(struct req *r, bool enabled)
{
    if (audit_write(r->db, r, "core", enabled ? "core.user.totp_enabled" : "core.user.totp_disabled", "user", r->user.id, NULL) < 0 ||
        db_commit(r->db) < 0) {
        db_rollback(r->db);
        reply_db_error(r);
        return;
    }
    reply_json(r, 200, json_pack("{s:b}", "totp_enabled", enabled));
}

/* message: a N_()-marked English text, translated here. */
static void refuse(struct req *r, int status, const char *code, const char *message)
{
    db_rollback(r->db);
    reply_error(r, status, code, "%s", tr(r, message));
}

void auth_totp_enable(struct req *r)
{
    const char *code;
    struct totp_state st;
    int64_t step;
    if (begin_change(r, &code, &st) < 0) return;
    if (st.enabled)
        refuse(r, 409, "totp_already_enabled", N_("two-factor authentication is already on"));
    else if (!st.secret)
        refuse(r, 409, "totp_not_set_up", N_("call /api/v1/auth/totp/setup first"));
    else if ((step = code_step(st.secret, code, st.last_step)) < 0)
        refuse(r, 400, "invalid_totp", N_("the code is not valid; check the authenticator's clock"));
    else if (db_exec(r->db, "UPDATE users SET totp_enabled = 1, totp_last_step = $2, "
                            "updated_at = strftime('%Y-%m-%dT%H:%M:%SZ','now') WHERE id = $1",
                     DB_I(r->user.id), DB_I(step)) != 1)
        refuse(r, 500, "internal", N_("internal error"));
    else
        finish_change(r, true);
    state_free(&st);
}

void auth_totp_disable(struct req *r)
{
    const char *code;
    struct totp_state st;
    if (begin_change(r, &code, &st) < 0) return;
    if (!st.enabled)
        refuse(r, 409, "totp_not_enabled", N_("two-factor authentication is not on"));
    else if (spend_code(r->db, r->user.id, &st, code) < 0)
        refuse(r, 400, "invalid_totp", N_("the TOTP or recovery code is not valid"));
    else if (db_exec(r->db, "UPDATE users SET totp_secret = NULL, totp_enabled = 0, totp_last_step = 0, "
                            "updated_at = strftime('%Y-%m-%dT%H:%M:%SZ','now') WHERE id = $1",
                     DB_I(r->user.id)) != 1 ||
             db_exec(r->db, "DELETE FROM totp_recovery_codes WHERE user_id = $1", DB_I(r->user.id)) < 0)
        refuse(r, 500, "internal", N_("internal error"));
    else
        finish_change(r, false);
    state_free(&st);
}
