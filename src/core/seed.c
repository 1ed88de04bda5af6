/* seed.c -- `atrium seed` and `atrium user`: demo data and account
 * administration from the command line. Demo accounts share one argon2id hash
 * of the demo password, computed once, so seeding hundreds of accounts does not
 * cost hundreds of hash computations. Every change is audited as actor "cli". */
#include "atrium.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static json_t *accounts;       /* [[username, what], ...] printed at the end */

void seed_account(const char *username, const char *what)
{
    if (!accounts) accounts = json_array();
    json_array_append_new(accounts, json_pack("[s, s]", username, what));
}

static int64_t user_id(struct db *db, const char *username)
{
    int64_t id = 0;
    return db_int(db, &id, "SELECT id FROM users WHERE username = $1", DB_S(username)) == 1 ? id : 0;
}

int64_t seed_user(struct db *db, const char *username, const char *display_name, const char *password_hash,
                  const char *app, const char *role, const char *scope_type, int64_t scope_id)
{
    int64_t id = user_id(db, username);
    if (!id) {
        if (db_int(db, &id, "INSERT INTO users (username, email, display_name, password_hash) "
                            "VALUES ($1, $2, $3, $4) RETURNING id",
                   DB_S(username), DB_NULL, DB_S(display_name), DB_S(password_hash)) != 1)
            return -1;
    }
    if (app && db_exec(db, "INSERT INTO user_roles (user_id, app, role, scope_type, scope_id) "
                           "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                       DB_I(id), DB_S(app), DB_S(role), DB_S(scope_type ? scope_type : ""), DB_I(scope_id)) < 0)
        return -1;
    return id;
}

static void print_accounts(const char *password)
{
    size_t i;
    json_t *row;
    printf("\n%-32s %s\n", "ACCOUNT", "WHAT");
    json_array_foreach(accounts, i, row)
        printf("%-32s %s\n", json_string_value(json_array_get(row, 0)), json_string_value(json_array_get(row, 1)));
    printf("\nEvery account's password: %s\n", password);
    json_decref(accounts);
    accounts = NULL;
}

int seed_run(struct db *db, const char *which, struct seed_opts *opts)
{
    char hash[128];
    if (auth_hash_password(opts->password, hash) < 0) {
        fprintf(stderr, "atrium: cannot hash the demo password\n");
        return -1;
    }
    opts->password_hash = hash;
    if (db_begin(db) < 0) return -1;
    /* The demo admin can do everything: the core's admin role and each enabled
     * app's role named "admin" (which also reads that app's audit rows). */
    int64_t admin = seed_user(db, "admin", "Administrator", hash, "core", "admin", NULL, 0);
    for (const struct app *const *a = atrium_apps; *a && admin > 0; a++)
        if (strcmp((*a)->name, "core") && config_app_enabled((*a)->name) && app_role((*a)->name, "admin"))
            admin = seed_user(db, "admin", "Administrator", hash, (*a)->name, "admin", NULL, 0);
    if (admin < 0 || audit_write_as(db, 0, "core", "core.demo_data.seeded", "user", admin, json_pack("{s:s}", "app", which)) < 0 ||
        db_commit(db) < 0) {
        db_rollback(db);
        return -1;
    }
    seed_account("admin", "admin of the core and of every enabled app");
    for (const struct app *const *a = atrium_apps; *a; a++) {
        if (!(*a)->seed || !config_app_enabled((*a)->name)) continue;
        if (strcmp(which, "all") && strcmp(which, (*a)->name)) continue;
        if (opts->progress) printf("seeding %s...\n", (*a)->name);
        if ((*a)->seed(db, opts) < 0) {
            fprintf(stderr, "atrium: seeding %s failed\n", (*a)->name);
            return -1;
        }
    }
    print_accounts(opts->password);
    return 0;
}

/* ------------------------------------------------------------ atrium user */

/* --password, else one line from standard input. */
static char *read_password(const char *given)
{
    if (given) return xstrdup(given);
    char line[512];
    if (isatty(STDIN_FILENO)) fprintf(stderr, "password: ");
    if (!fgets(line, sizeof line, stdin)) return NULL;
    line[strcspn(line, "\r\n")] = 0;
    return xstrdup(line);
}

int user_cli_add(struct db *db, const char *username, const char *password, const char *email,
                 const char *display_name, bool admin)
{
    char *pw = read_password(password);
    const char *problem = NULL;
    int64_t id = 0;
    int rc = 1;
    if (!pw) goto out;
    if (db_begin(db) < 0) goto out;
    if (auth_create_user(db, username, pw, email, display_name ? display_name : username, &id, &problem) < 0) {
        db_rollback(db);
        fprintf(stderr, "atrium: cannot add user: %s\n", problem ? problem : "database error");
        goto out;
    }
    if ((admin && db_exec(db, "INSERT INTO user_roles (user_id, app, role) VALUES ($1, 'core', 'admin')", DB_I(id)) < 0) ||
        audit_write_as(db, 0, "core", "core.user.created", "user", id,
                       json_pack("{s:s, s:b}", "username", username, "admin", admin)) < 0 ||
        db_commit(db) < 0) {
        db_rollback(db);
        goto out;
    }
    printf("user %s created with id %lld\n", username, (long long)id);
    rc = 0;
out:
    free(pw);
    return rc;
}

int user_cli_passwd(struct db *db, const char *username, const char *password)
{
    char *pw = read_password(password), hash[128];
    int64_t id = user_id(db, username);
    int rc = 1;
    const char *problem;
    if (!pw || !id) {
        fprintf(stderr, "atrium: no such user '%s'\n", username);
        goto out;
    }
    if ((problem = auth_password_problem(pw, username, NULL))) {
        fprintf(stderr, "atrium: password refused: %s\n", problem);
        goto out;
    }
    if (auth_hash_password(pw, hash) < 0 || db_begin(db) < 0) goto out;
    if (db_exec(db, "UPDATE users SET password_hash = $2, updated_at = strftime('%Y-%m-%dT%H:%M:%SZ','now') "
                    "WHERE id = $1", DB_I(id), DB_S(hash)) < 0 ||
        audit_write_as(db, 0, "core", "core.user.password_reset", "user", id, NULL) < 0 || db_commit(db) < 0) {
        db_rollback(db);
        goto out;
    }
    printf("password changed for %s\n", username);
    rc = 0;
out:
    free(pw);
    return rc;
}

int user_cli_role(struct db *db, const char *username, const char *app, const char *role, const char *scope,
                  bool remove)
{
    char scope_type[32] = "";
    long long scope_id = 0;
    int64_t id = user_id(db, username);
    if (!id || !app || !role) {
        fprintf(stderr, !id ? "atrium: no such user\n" : "usage: atrium user role USERNAME APP ROLE [--scope TYPE:ID]\n");
        return !id ? 1 : 2;
    }
    const struct role *def = app_role(app, role);
    const struct app *a = app_find(app);
    if (!def) {
        fprintf(stderr, "atrium: app %s has no role %s\n", app, role);
        return 2;
    }
    if (scope && sscanf(scope, "%31[a-z_]:%lld", scope_type, &scope_id) != 2) {
        fprintf(stderr, "atrium: --scope must look like store:7\n");
        return 2;
    }
    if (!remove && (!def->scope_type != !scope || (scope && (strcmp(scope_type, def->scope_type) || scope_id <= 0)))) {
        fprintf(stderr, def->scope_type ? "atrium: %s.%s needs --scope %s:ID\n" : "atrium: %s.%s is global; give no --scope\n",
                app, role, def->scope_type);
        return 2;
    }
    if (!remove && scope && a->scope_exists && !a->scope_exists(db, scope_type, scope_id)) {
        fprintf(stderr, "atrium: %s %lld does not exist\n", scope_type, scope_id);
        return 1;
    }
    if (db_begin(db) < 0) return 1;
    int n = remove ? db_exec(db, "DELETE FROM user_roles WHERE user_id=$1 AND app=$2 AND role=$3 AND scope_type=$4 "
                                 "AND scope_id=$5", DB_I(id), DB_S(app), DB_S(role), DB_S(scope_type), DB_I(scope_id))
                   : db_exec(db, "INSERT INTO user_roles (user_id, app, role, scope_type, scope_id) "
                                 "VALUES ($1,$2,$3,$4,$5) ON CONFLICT DO NOTHING", DB_I(id), DB_S(app), DB_S(role), DB_S(scope_type),
                             DB_I(scope_id));
    if (n < 0 || audit_write_as(db, 0, "core", remove ? "core.user.role_removed" : "core.user.role_granted", "user", id,
                                json_pack("{s:s, s:s, s:s, s:I}", "app", app, "role", role, "scope_type", scope_type,
                                          "scope_id", (json_int_t)scope_id)) < 0 ||
        db_commit(db) < 0) {
        db_rollback(db);
        return 1;
    }
    printf("%s %s.%s%s%s for %s\n", remove ? "removed" : "assigned", app, role, scope ? " on " : "", scope ? scope : "",
           username);
    return 0;
}

/* ------------------------------------------------------------------ random */

void seed_rng_init(struct seed_rng *g, uint64_t seed, uint64_t stream)
{
    uint64_t z = seed * 0x9E3779B97F4A7C15ull + stream;     /* splitmix64 */
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    g->s = (z ^ (z >> 31)) | 1;
}

uint64_t seed_rng_next(struct seed_rng *g)                  /* xorshift64* */
{
    g->s ^= g->s >> 12;
    g->s ^= g->s << 25;
    g->s ^= g->s >> 27;
    return g->s * 0x2545F4914F6CDD1Dull;
}

int64_t seed_rng_range(struct seed_rng *g, int64_t lo, int64_t hi)
{
    uint64_t x = seed_rng_next(g);                          /* always one step: sequences stay aligned */
    return hi <= lo ? lo : lo + (int64_t)(x % (uint64_t)(hi - lo + 1));
}

int seed_clear(struct db *db, const char *app, const char *const *tables)
{
    char sql[128];
    for (const char *const *t = tables; *t; t++) {
        snprintf(sql, sizeof sql, "DELETE FROM %s", *t);
        if (db_exec(db, sql) < 0) return -1;
    }
    if (db_exec(db, "DELETE FROM user_roles WHERE app = $1", DB_S(app)) < 0) return -1;
    return db_sync_ids(db, true);
}
