/* session.c -- opaque bearer tokens. A login starts a token family; each
 * refresh spends the refresh token and issues a new pair in the same family.
 * Presenting a spent refresh token again means it was stolen or replayed: the
 * whole family is revoked. Only SHA-256 hashes of tokens are stored.
 * Called by auth.c (login/refresh/logout) and http.c (every request). */
#include "atrium.h"
#include "internal.h"
#include <string.h>

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

static int insert_token(struct db *db, int64_t family, int64_t user_id, const char *kind, int ttl, char out[65])
{
    char hash[65];
    crypto_random_token(out, 32);
    crypto_sha256_hex(out, 64, hash);
    return db_exec(db, "INSERT INTO auth_tokens (family_id, user_id, kind, token_hash, expires_at) "
                       "VALUES ($1, $2, $3, $4, $5)",
                   DB_I(family), DB_I(user_id), DB_S(kind), DB_S(hash), DB_I(now_s() + ttl));
}

json_t *session_issue(struct db *db, int64_t user_id, int64_t family_id)
{
    char access[65], refresh[65];
    if (!family_id) {
        if (db_int(db, &family_id, "INSERT INTO token_families (user_id) VALUES ($1) RETURNING id", DB_I(user_id)) != 1)
            return NULL;
    }
    if (insert_token(db, family_id, user_id, "access", cfg.access_ttl, access) < 0 ||
        insert_token(db, family_id, user_id, "refresh", cfg.refresh_ttl, refresh) < 0)
        return NULL;
    return json_pack("{s:s, s:s, s:s, s:i}", "access_token", access, "refresh_token", refresh, "token_type",
                     "Bearer", "expires_in", cfg.access_ttl);
}

int session_revoke_family(struct db *db, int64_t family_id, const char *reason)
{
    if (db_exec(db, "UPDATE token_families SET revoked_at = strftime('%Y-%m-%dT%H:%M:%SZ','now'), "
                    "revoke_reason = $2 WHERE id = $1 AND revoked_at IS NULL",
                DB_I(family_id), DB_S(reason)) < 0)
        return -1;
    return db_exec(db, "DELETE FROM auth_tokens WHERE family_id = $1 AND kind = 'access'", DB_I(family_id)) < 0 ? -1 : 0;
}

int session_revoke_user(struct db *db, int64_t user_id, const char *reason)
{
    if (db_exec(db, "UPDATE token_families SET revoked_at = strftime('%Y-%m-%dT%H:%M:%SZ','now'), "
                    "revoke_reason = $2 WHERE user_id = $1 AND revoked_at IS NULL",
                DB_I(user_id), DB_S(reason)) < 0)
        return -1;
    return db_exec(db, "DELETE FROM auth_tokens WHERE user_id = $1 AND kind = 'access'", DB_I(user_id)) < 0 ? -1 : 0;
}

int64_t session_family_of(struct db *db, int64_t token_id)
{
    int64_t family = 0;
    db_int(db, &family, "SELECT family_id FROM auth_tokens WHERE id = $1", DB_I(token_id));
    return family;
}

int session_refresh(struct db *db, const char *refresh_token, json_t **pair, int64_t *user_id)
{
    char hash[65];
    crypto_sha256_hex(refresh_token, strlen(refresh_token), hash);
    struct db_rows rows;
    if (db_query(db, &rows,
                 "SELECT t.id, t.family_id, t.user_id, t.spent_at IS NOT NULL, t.expires_at, "
                 "       f.revoked_at IS NOT NULL, u.status = 'active' "
                 "FROM auth_tokens t JOIN token_families f ON f.id = t.family_id JOIN users u ON u.id = t.user_id "
                 "WHERE t.token_hash = $1 AND t.kind = 'refresh'", DB_S(hash)) < 0)
        return -1;
    if (!db_step(&rows)) {
        db_rows_close(&rows);
        return -1;
    }
    int64_t id = db_col_int(&rows, 0), family = db_col_int(&rows, 1);
    bool spent = db_col_int(&rows, 3), revoked = db_col_int(&rows, 5), active = db_col_int(&rows, 6);
    int64_t expires = db_col_int(&rows, 4);
    *user_id = db_col_int(&rows, 2);
    db_rows_close(&rows);
    if (spent) {
        session_revoke_family(db, family, "refresh_token_reuse");
        return -2;
    }
    if (revoked || !active || expires <= now_s()) return -1;
    if (db_exec(db, "UPDATE auth_tokens SET spent_at = $2 WHERE id = $1", DB_I(id), DB_I(now_s())) < 0 ||
        db_exec(db, "DELETE FROM auth_tokens WHERE family_id = $1 AND kind = 'access'", DB_I(family)) < 0)
        return -1;
    *pair = session_issue(db, *user_id, family);
    return *pair ? 0 : -1;
}

int auth_authenticate(struct req *r, const char *token)
{
    char hash[65];
    size_t n = strlen(token);
    if (n != 64) return -1;
    crypto_sha256_hex(token, n, hash);
    struct db_rows rows;
    if (db_query(r->db, &rows,
                 "SELECT t.id, u.id, u.username, COALESCE(u.language, '') FROM auth_tokens t "
                 "JOIN users u ON u.id = t.user_id JOIN token_families f ON f.id = t.family_id "
                 "WHERE t.token_hash = $1 AND t.kind = 'access' AND t.expires_at > $2 "
                 "AND f.revoked_at IS NULL AND u.status = 'active'", DB_S(hash), DB_I(now_s())) < 0)
        return -1;
    int rc = -1;
    if (db_step(&rows)) {
        r->user.token_id = db_col_int(&rows, 0);
        r->user.id = db_col_int(&rows, 1);
        snprintf(r->user.username, sizeof r->user.username, "%s", db_col_text(&rows, 2));
        snprintf(r->user.language, sizeof r->user.language, "%s", db_col_text(&rows, 3));
        rc = 0;
    }
    db_rows_close(&rows);
    return rc;
}
