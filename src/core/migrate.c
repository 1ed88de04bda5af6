/* migrate.c -- schema migrations embedded in the binary.
 *
 * Each app (and the core, as app "core") keeps NNN_name.sql files in its
 * migrations folder; they are compiled in (embed.h), applied in order, each in
 * its own transaction together with its schema_migrations row, so a crash
 * never leaves a half-applied migration recorded as done. Called by `atrium
 * migrate`, `atrium serve` at start, and tests.
 *
 * Dialects: NNN_name.sql runs on both databases (db_sql.c maps its column
 * types for PostgreSQL); NNN_name.sqlite.sql only on SQLite and
 * NNN_name.pg.sql only on PostgreSQL, for the part that truly differs
 * (triggers, table rebuilds, compatibility functions). A version is one
 * migration per database: a .sqlite.sql and a .pg.sql may share it.
 *
 * Several instances starting at once on one PostgreSQL database migrate
 * once: the whole run holds an advisory lock (db_migration_lock), and each
 * migration is checked for again under it. */
#include "atrium.h"
#include "internal.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CORE_MIGRATIONS "src/core/migrations/"

static const char *bootstrap =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " app TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL,"
    " applied_at TEXT NOT NULL,"                 /* set from C: no time function before 000 */
    " PRIMARY KEY (app, version))";

const struct embedded_file *embed_find(const char *path)
{
    for (const struct embedded_file *f = embedded_files; f->path; f++)
        if (!strcmp(f->path, path)) return f;
    return NULL;
}

enum dialect { ANY_DIALECT, SQLITE, POSTGRES };

static bool other_dialect(const char *base, size_t blen, enum dialect d)
{
    bool pg = blen > 7 && !strcmp(base + blen - 7, ".pg.sql");
    bool lite = blen > 11 && !strcmp(base + blen - 11, ".sqlite.sql");
    return (d == SQLITE && pg) || (d == POSTGRES && lite);
}

/* Calls fn for each migration file under dir in order for dialect d; stops
 * on nonzero. */
static int each_migration(const char *dir, enum dialect d,
                          int (*fn)(const struct embedded_file *, int version, const char *name, void *),
                          void *arg)
{
    size_t n = strlen(dir);
    for (const struct embedded_file *f = embedded_files; f->path; f++) {
        if (strncmp(f->path, dir, n) || strchr(f->path + n, '/')) continue;
        const char *base = f->path + n;
        size_t blen = strlen(base);
        if (blen < 5 || strcmp(base + blen - 4, ".sql") || other_dialect(base, blen, d)) continue;
        int rc = fn(f, atoi(base), base, arg);
        if (rc) return rc;
    }
    return 0;
}

struct apply_ctx {
    struct db *db;
    const char *app;
    int applied;
    bool dry;                   /* only count what is missing */
};

/* A migration's name without its folder, dialect and extension:
 * "003_order_counts" for 003_order_counts.sql and 003_order_counts.sqlite.sql
 * alike (a file split per dialect later keeps its identity), and for the
 * whole path early versions recorded. *name is moved past the folder. */
static size_t stem_len(const char **name)
{
    const char *slash = strrchr(*name, '/');
    if (slash) *name = slash + 1;
    size_t n = strlen(*name);
    static const char *const tails[] = {".sqlite.sql", ".pg.sql", ".sql", NULL};
    for (int i = 0; tails[i]; i++) {
        size_t t = strlen(tails[i]);
        if (n > t && !strcmp(*name + n - t, tails[i])) return n - t;
    }
    return n;
}

static int apply_one(const struct embedded_file *f, int version, const char *name, void *arg)
{
    struct apply_ctx *c = arg;
    char *applied = NULL;
    struct db_rows rows;
    if (db_query(c->db, &rows, "SELECT name FROM schema_migrations WHERE app = $1 AND version = $2", DB_S(c->app),
                 DB_I(version)) < 0)
        return -1;
    if (db_step(&rows)) applied = xstrdup(db_col_text(&rows, 0));
    bool failed = db_rows_failed(&rows);
    db_rows_close(&rows);
    if (failed) {
        free(applied);
        return -1;
    }
    if (applied) {
        /* A version is applied once; a file that now carries another
         * migration under that version would be skipped silently. */
        const char *was = applied, *is = name;
        size_t was_len = stem_len(&was), is_len = stem_len(&is);
        bool same = was_len == is_len && !strncmp(was, is, is_len);
        if (!same)
            log_error("migration %s version %d was applied as %s, but this build has %s there: a migration "
                      "is never renumbered or replaced; give the new one the next free number", c->app, version,
                      applied, name);
        free(applied);
        return same ? 0 : -1;
    }
    c->applied++;
    if (c->dry) return 0;
    char now[32];
    time_t t = time(NULL);
    struct tm tm;
    strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
    if (db_begin(c->db) < 0) return -1;
    if (db_exec_script(c->db, (const char *)f->data) < 0 ||
        db_exec(c->db, "INSERT INTO schema_migrations (app, version, name, applied_at) VALUES ($1, $2, $3, $4)",
                DB_S(c->app), DB_I(version), DB_S(name), DB_S(now)) < 0) {
        log_error("migration %s/%s failed", c->app, name);
        db_rollback(c->db);
        return -1;
    }
    if (db_commit(c->db) < 0) return -1;
    log_info("applied migration %s/%s", c->app, name);
    return 0;
}

static int run_dir(struct db *db, const char *app, const char *dir, bool dry)
{
    if (db_exec_script(db, bootstrap) < 0) return -1;
    struct apply_ctx c = {.db = db, .app = app, .dry = dry};
    if (each_migration(dir, db_is_pg(db) ? POSTGRES : SQLITE, apply_one, &c)) return -1;
    return c.applied;
}

int migrate_dir(struct db *db, const char *app, const char *dir)
{
    return run_dir(db, app, dir, false);
}

static int run_all(struct db *db, bool dry)
{
    int total = run_dir(db, "core", CORE_MIGRATIONS, dry);
    if (total < 0) return -1;
    for (const struct app *const *a = atrium_apps; *a; a++) {
        if (!(*a)->migrations_dir || !config_app_enabled((*a)->name)) continue;
        int n = run_dir(db, (*a)->name, (*a)->migrations_dir, dry);
        if (n < 0) return -1;
        total += n;
    }
    return total;
}

int migrate_all(struct db *db)
{
    if (db_migration_lock(db, true) < 0) return -1;
    int rc = run_all(db, false);
    if (rc > 0 && db_sync_ids(db, false) < 0) rc = -1;     /* rebuilt tables keep their ids */
    db_migration_lock(db, false);
    return rc;
}

bool migrate_current(struct db *db)
{
    return run_all(db, true) == 0;
}

struct known_ctx { int version; };

static int match_version(const struct embedded_file *f, int version, const char *name, void *arg)
{
    return version == ((struct known_ctx *)arg)->version;
}

bool migrate_known(const char *app, int version)
{
    const char *dir = NULL;
    if (!strcmp(app, "core")) dir = CORE_MIGRATIONS;
    else if (app_find(app)) dir = app_find(app)->migrations_dir;
    struct known_ctx c = {version};
    return dir && each_migration(dir, ANY_DIALECT, match_version, &c) == 1;
}
