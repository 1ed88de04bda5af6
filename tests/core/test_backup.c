/* test_backup.c -- backup_create()/backup_restore(): round trip, writes during the
 * backup, corrupted and missing checksums, newer schema, pruning, moving aside.
 * Suite `backup` is SQLite's (it runs in both `make test` and `make test-pg`:
 * it works on its own files); suite `pg_backup` is PostgreSQL's pg_dump /
 * pg_restore and runs only under `make test-pg` (ATRIUM_TEST_PG set). */
#include <criterion/criterion.h>

#include <dirent.h>
#include <ftw.h>
#include <glob.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "support/harness.h"

static char root[64];
static char errbuf[512];

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(p);
}

static void setup(void)
{
    strcpy(root, "/tmp/atrium-backup-test-XXXXXX");
    cr_assert_not_null(mkdtemp(root));
    errbuf[0] = '\0';
}

static void teardown(void)
{
    nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static char *path_of(const char *name)
{
    static char buf[8][256];
    static int i;
    char *p = buf[i++ % 8];
    snprintf(p, 256, "%s/%s", root, name);
    return p;
}

static bool exists(const char *p)
{
    struct stat st;
    return lstat(p, &st) == 0;
}

static sqlite3 *open_db(const char *path)
{
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    cr_assert_eq(sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL), SQLITE_OK);
    return db;
}

static void exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    cr_assert_eq(rc, SQLITE_OK, "%s: %s", sql, msg ? msg : "");
}

/* A WAL database shaped like atrium's: schema_migrations (core 1) plus items. */
static void make_db(const char *path, int rows)
{
    sqlite3 *db = open_db(path);
    exec(db, "CREATE TABLE schema_migrations(app TEXT, version INTEGER, name TEXT, applied_at TEXT);"
             "INSERT INTO schema_migrations VALUES ('core', 1, '001_core', '2024-01-01T00:00:00Z');"
             "CREATE TABLE items(id INTEGER PRIMARY KEY, v TEXT, b BLOB);"
             "BEGIN");
    for (int i = 0; i < rows; i++) {
        char sql[128];
        snprintf(sql, sizeof sql, "INSERT INTO items(v, b) VALUES ('item %d', randomblob(%d))", i, 100 + i % 300);
        exec(db, sql);
    }
    exec(db, "COMMIT");
    sqlite3_close(db);
}

static long long query_int(const char *path, const char *sql)
{
    sqlite3 *db = open_db(path);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    long long v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static char *query_text(const char *path, const char *sql)
{
    sqlite3 *db = open_db(path);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    const char *t = (const char *)sqlite3_column_text(st, 0);
    char *v = strdup(t ? t : "");
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static char *dump(const char *path)
{
    return query_text(path, "SELECT (SELECT group_concat(id || ':' || v || ':' || hex(b), ',') FROM "
                            "(SELECT * FROM items ORDER BY id)) || '|' || (SELECT group_concat(app || version "
                            "|| name, ',') FROM schema_migrations)");
}

static void assert_integrity(const char *path)
{
    char *r = query_text(path, "PRAGMA integrity_check");
    cr_assert_str_eq(r, "ok");
    free(r);
}

static char *read_file(const char *p, size_t *len)
{
    FILE *f = fopen(p, "rb");
    cr_assert_not_null(f, "%s", p);
    cr_assert_eq(fseek(f, 0, SEEK_END), 0);
    long size = ftell(f);
    rewind(f);
    char *buf = malloc((size_t)size + 1);
    *len = fread(buf, 1, (size_t)size, f);
    cr_assert_eq(*len, (size_t)size);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

/* "<sha256 hex>  <name>\n" of the file, as sha256sum prints it. */
static void expected_sum(const char *file, char *out, size_t outlen)
{
    unsigned char h[crypto_hash_sha256_BYTES];
    char hex[65];
    size_t len;
    char *data = read_file(file, &len);
    cr_assert_eq(sodium_init() < 0, false);
    crypto_hash_sha256(h, (const unsigned char *)data, len);
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    snprintf(out, outlen, "%s  %s\n", hex, strrchr(file, '/') + 1);
    free(data);
}

static int last_done = -1, last_total = -1, progress_calls;
static void on_progress(int done, int total)
{
    cr_assert(done >= 0 && done <= total, "progress %d/%d", done, total);
    last_done = done, last_total = total;
    progress_calls++;
}

static void take_backup(const char *db, const char *dir, int keep_days, char *out)
{
    int rc = backup_create(db, dir, keep_days, on_progress, out, 512, errbuf, sizeof errbuf);
    cr_assert_eq(rc, 0, "backup_create: %s", errbuf);
}

/* SQLite-only: backup and restore of the SQLite file (the online backup API,
 * PRAGMA integrity_check, sqlite3_* writers); PostgreSQL's pg_dump path has
 * its own tests. */
TestSuite(backup, .init = setup, .fini = teardown);

Test(backup, round_trip)
{
    char out[512];
    make_db(path_of("src.db"), 500);
    take_backup(path_of("src.db"), path_of("bk/nested"), 30, out);
    cr_assert_eq(last_done, last_total);
    cr_assert_gt(last_total, 0);

    /* name: DIR/atrium-YYYYMMDDTHHMMSSZ.db.gz */
    const char *name = strrchr(out, '/') + 1;
    cr_assert_eq(strncmp(out, path_of("bk/nested/"), strlen(path_of("bk/nested/"))), 0);
    cr_assert_eq(strlen(name), strlen("atrium-20240101T000000Z.db.gz"), "%s", name);
    cr_assert_eq(strncmp(name, "atrium-", 7), 0);
    cr_assert_eq(name[15], 'T');
    cr_assert_eq(name[22], 'Z');
    cr_assert_str_eq(name + 23, ".db.gz");

    /* FILE.sha256 in sha256sum format, matching a libsodium digest of the file */
    char sumpath[600], want[600], hex[65];
    unsigned char h[crypto_hash_sha256_BYTES];
    size_t len, sumlen;
    snprintf(sumpath, sizeof sumpath, "%s.sha256", out);
    char *gz = read_file(out, &len), *sum = read_file(sumpath, &sumlen);
    cr_assert_eq(sodium_init() < 0, false);
    crypto_hash_sha256(h, (const unsigned char *)gz, len);
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    snprintf(want, sizeof want, "%s  %s\n", hex, name);
    cr_assert_str_eq(sum, want);
    cr_assert_eq((unsigned char)gz[0], 0x1f);
    cr_assert_eq((unsigned char)gz[1], 0x8b);
    free(gz);
    free(sum);

    /* nothing else (no temp files) left in the backup directory */
    int n = 0;
    DIR *d = opendir(path_of("bk/nested"));
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    cr_assert_eq(n, 2);
    glob_t g;
    cr_assert_eq(glob(path_of("bk/nested/.*tmp*"), 0, NULL, &g), GLOB_NOMATCH);

    last_done = last_total = -1;
    cr_assert_eq(backup_restore(out, path_of("restored.db"), on_progress, errbuf, sizeof errbuf), 0, "%s", errbuf);
    cr_assert_eq(last_done, last_total);
    cr_assert_gt(last_total, 0);
    char *a = dump(path_of("src.db")), *b = dump(path_of("restored.db"));
    cr_assert_gt(strlen(a), 1000);
    cr_assert_str_eq(a, b);
    free(a);
    free(b);
    assert_integrity(path_of("restored.db"));
    cr_assert_eq(query_int(path_of("restored.db"), "SELECT count(*) FROM items"), 500);
    cr_assert_not(exists(path_of("restored.db.restore-tmp")));
    cr_assert_eq(glob(path_of("restored.db.before-restore-*"), 0, NULL, &g), GLOB_NOMATCH);
}

struct writer {
    const char *path;
    atomic_bool stop;
    atomic_llong last;          /* highest id whose transaction has committed */
};

static void *writer_main(void *arg)
{
    struct writer *w = arg;
    sqlite3 *db = open_db(w->path);
    sqlite3_stmt *st;
    exec(db, "PRAGMA synchronous=NORMAL");
    cr_assert_eq(sqlite3_prepare_v2(db, "INSERT INTO items(v, b) VALUES ('w', randomblob(200))", -1, &st, NULL),
                 SQLITE_OK);
    while (!atomic_load(&w->stop)) {
        int rc = sqlite3_step(st);          /* autocommit: each insert its own transaction */
        sqlite3_reset(st);
        if (rc == SQLITE_DONE)
            atomic_store(&w->last, sqlite3_last_insert_rowid(db));
        else
            cr_assert(rc == SQLITE_BUSY, "insert: %s", sqlite3_errmsg(db));
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return NULL;
}

static struct writer *slow_writer;
static long long during_first = -1, during_last = -1;
static void slow_progress(int done, int total)
{
    /* copy steps are spread out so that the writer commits between them */
    if (during_first < 0)
        during_first = atomic_load(&slow_writer->last);
    during_last = atomic_load(&slow_writer->last);
    progress_calls++;
    usleep(2000);
}

Test(backup, consistent_under_concurrent_writes)
{
    char out[512];
    const int initial = 20000;
    make_db(path_of("live.db"), initial);
    struct writer w = {.path = path_of("live.db")};
    atomic_init(&w.stop, false);
    atomic_init(&w.last, initial);
    slow_writer = &w;
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, writer_main, &w), 0);
    while (atomic_load(&w.last) < initial + 300)
        usleep(1000);

    long long recorded = atomic_load(&w.last);   /* acknowledged before the backup starts */
    int rc = backup_create(w.path, path_of("bk"), 30, slow_progress, out, sizeof out, errbuf, sizeof errbuf);
    long long after = atomic_load(&w.last);
    atomic_store(&w.stop, true);
    pthread_join(t, NULL);
    cr_assert_eq(rc, 0, "backup_create: %s", errbuf);
    cr_assert_gt(progress_calls, 4, "copy ran in several steps");
    cr_assert_gt(during_last, during_first, "writer committed while the backup ran");
    cr_assert_gt(after, recorded);

    cr_assert_eq(backup_restore(out, path_of("new.db"), NULL, errbuf, sizeof errbuf), 0, "%s", errbuf);
    assert_integrity(path_of("new.db"));
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM items WHERE id <= %lld", recorded);
    cr_assert_eq(query_int(path_of("new.db"), sql), recorded);
    long long max = query_int(path_of("new.db"), "SELECT max(id) FROM items");
    cr_assert_geq(max, recorded);
    cr_assert_leq(max, after);
    cr_assert_eq(query_int(path_of("new.db"), "SELECT count(*) FROM items"), max);
}

Test(backup, corrupted_file_is_refused)
{
    char out[512];
    make_db(path_of("src.db"), 200);
    take_backup(path_of("src.db"), path_of("bk"), 30, out);
    make_db(path_of("target.db"), 7);

    FILE *f = fopen(out, "r+b");
    cr_assert_not_null(f);
    fseek(f, 40, SEEK_SET);
    int c = fgetc(f);
    fseek(f, 40, SEEK_SET);
    fputc(c ^ 0x01, f);
    fclose(f);

    cr_assert_eq(backup_restore(out, path_of("target.db"), NULL, errbuf, sizeof errbuf), -1);
    cr_assert_str_eq(errbuf, "checksum mismatch");
    cr_assert_eq(query_int(path_of("target.db"), "SELECT count(*) FROM items"), 7);
    cr_assert_not(exists(path_of("target.db.restore-tmp")));
    glob_t g;
    cr_assert_eq(glob(path_of("target.db.before-restore-*"), 0, NULL, &g), GLOB_NOMATCH);
}

Test(backup, missing_checksum_is_refused)
{
    char out[512], sum[600];
    make_db(path_of("src.db"), 20);
    take_backup(path_of("src.db"), path_of("bk"), 30, out);
    make_db(path_of("target.db"), 7);
    snprintf(sum, sizeof sum, "%s.sha256", out);
    cr_assert_eq(unlink(sum), 0);

    cr_assert_eq(backup_restore(out, path_of("target.db"), NULL, errbuf, sizeof errbuf), -1);
    cr_assert_str_eq(errbuf, "checksum file missing");
    cr_assert_eq(query_int(path_of("target.db"), "SELECT count(*) FROM items"), 7);
    cr_assert_not(exists(path_of("target.db.restore-tmp")));
}

Test(backup, newer_schema_is_refused)
{
    char out[512];
    make_db(path_of("src.db"), 50);
    sqlite3 *db = open_db(path_of("src.db"));
    exec(db, "INSERT INTO schema_migrations VALUES ('core', 999, 'future', '2099-01-01T00:00:00Z')");
    sqlite3_close(db);
    take_backup(path_of("src.db"), path_of("bk"), 30, out);
    make_db(path_of("target.db"), 7);

    cr_assert_eq(backup_restore(out, path_of("target.db"), NULL, errbuf, sizeof errbuf), -1);
    cr_assert_str_eq(errbuf, "backup is from a newer schema (app core version 999)");
    cr_assert_eq(query_int(path_of("target.db"), "SELECT count(*) FROM items"), 7);
    cr_assert_eq(query_int(path_of("target.db"), "SELECT count(*) FROM schema_migrations"), 1);
    cr_assert_not(exists(path_of("target.db.restore-tmp")));
    glob_t g;
    cr_assert_eq(glob(path_of("target.db.before-restore-*"), 0, NULL, &g), GLOB_NOMATCH);
}

static void fake_backup(const char *name, int age_days)
{
    struct timeval tv[2];
    gettimeofday(&tv[0], NULL);
    tv[0].tv_sec -= (time_t)age_days * 86400;
    tv[1] = tv[0];
    FILE *f = fopen(path_of(name), "w");
    cr_assert_not_null(f, "%s", name);
    fputs("x", f);
    fclose(f);
    cr_assert_eq(utimes(path_of(name), tv), 0);
}

Test(backup, prunes_old_backups)
{
    char out[512];
    make_db(path_of("src.db"), 20);
    cr_assert_eq(mkdir(path_of("bk"), 0700), 0);
    fake_backup("bk/atrium-20000101T000000Z.db.gz", 40);
    fake_backup("bk/atrium-20000101T000000Z.db.gz.sha256", 40);
    fake_backup("bk/atrium-20000102T000000Z-1.db.gz", 31);
    fake_backup("bk/atrium-20000103T000000Z.db.gz", 10);   /* younger than keep_days */
    fake_backup("bk/atrium-20000103T000000Z.db.gz.sha256", 10);
    fake_backup("bk/notes.txt", 40);                        /* not a backup */

    take_backup(path_of("src.db"), path_of("bk"), 0, out);  /* keep_days 0: no pruning */
    cr_assert(exists(path_of("bk/atrium-20000101T000000Z.db.gz")));

    take_backup(path_of("src.db"), path_of("bk"), 30, out);
    cr_assert_not(exists(path_of("bk/atrium-20000101T000000Z.db.gz")));
    cr_assert_not(exists(path_of("bk/atrium-20000101T000000Z.db.gz.sha256")));
    cr_assert_not(exists(path_of("bk/atrium-20000102T000000Z-1.db.gz")));
    cr_assert(exists(path_of("bk/atrium-20000103T000000Z.db.gz")));
    cr_assert(exists(path_of("bk/atrium-20000103T000000Z.db.gz.sha256")));
    cr_assert(exists(path_of("bk/notes.txt")));
    cr_assert(exists(out));
    char sum[600];
    snprintf(sum, sizeof sum, "%s.sha256", out);
    cr_assert(exists(sum));

    /* 2 fresh backups (+ .sha256) + the 10-day-old pair + notes.txt */
    glob_t g;
    cr_assert_eq(glob(path_of("bk/*"), 0, NULL, &g), 0);
    cr_assert_eq(g.gl_pathc, 7);
    globfree(&g);
}

Test(backup, restore_moves_old_database_aside)
{
    char out[512];
    make_db(path_of("src.db"), 30);
    take_backup(path_of("src.db"), path_of("bk"), 30, out);

    /* the current database has committed rows still only in its -wal */
    make_db(path_of("cur.db"), 5);
    sqlite3 *db = open_db(path_of("cur.db"));
    cr_assert_eq(sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL), SQLITE_OK);
    exec(db, "INSERT INTO items(v) VALUES ('only in wal')");
    sqlite3_close(db);
    cr_assert(exists(path_of("cur.db-wal")));

    cr_assert_eq(backup_restore(out, path_of("cur.db"), NULL, errbuf, sizeof errbuf), 0, "%s", errbuf);

    glob_t g;
    cr_assert_eq(glob(path_of("cur.db.before-restore-*"), 0, NULL, &g), 0);
    const char *aside = NULL;
    for (size_t i = 0; i < g.gl_pathc; i++)
        if (!strstr(g.gl_pathv[i] + strlen(root), "-wal") && !strstr(g.gl_pathv[i] + strlen(root), "-shm"))
            aside = g.gl_pathv[i];
    cr_assert_not_null(aside);
    const char *stamp = strstr(aside, ".before-restore-") + strlen(".before-restore-");
    cr_assert_eq(strlen(stamp), strlen("20240101T000000Z"), "%s", stamp);
    char wal[600];
    snprintf(wal, sizeof wal, "%s-wal", aside);
    cr_assert(exists(wal), "the old -wal moved with its database");
    cr_assert_not(exists(path_of("cur.db-wal")));
    cr_assert_eq(query_int(aside, "SELECT count(*) FROM items"), 6);
    cr_assert_eq(query_int(aside, "SELECT count(*) FROM items WHERE v = 'only in wal'"), 1);
    globfree(&g);

    assert_integrity(path_of("cur.db"));
    cr_assert_eq(query_int(path_of("cur.db"), "SELECT count(*) FROM items"), 30);
    cr_assert_not(exists(path_of("cur.db.restore-tmp")));

    /* a second restore in the same second keeps both older copies */
    cr_assert_eq(backup_restore(out, path_of("cur.db"), NULL, errbuf, sizeof errbuf), 0, "%s", errbuf);
    cr_assert_eq(glob(path_of("cur.db.before-restore-*[0-9Z]"), 0, NULL, &g), 0);
    cr_assert_geq(g.gl_pathc, 2);
    globfree(&g);
}

Test(backup, pgdump_into_sqlite_is_refused)
{
    char sum[600], line[600];
    FILE *f = fopen(path_of("x.pgdump"), "w");
    cr_assert_not_null(f);
    fputs("PGDMP\x01\x0e\x00 a pg_dump custom-format archive starts like this", f);
    fclose(f);
    expected_sum(path_of("x.pgdump"), line, sizeof line);
    snprintf(sum, sizeof sum, "%s.sha256", path_of("x.pgdump"));
    f = fopen(sum, "w");
    fputs(line, f);
    fclose(f);
    make_db(path_of("target.db"), 7);

    cr_assert_eq(backup_restore(path_of("x.pgdump"), path_of("target.db"), NULL, errbuf, sizeof errbuf), -1);
    char want[600];
    snprintf(want, sizeof want, "%s is a PostgreSQL backup (pg_dump); it cannot be restored into a SQLite database",
             path_of("x.pgdump"));
    cr_assert_str_eq(errbuf, want);
    cr_assert_eq(query_int(path_of("target.db"), "SELECT count(*) FROM items"), 7);
    cr_assert_not(exists(path_of("target.db.restore-tmp")));
}

Test(backup, database_url_password_is_masked)
{
    char *s = backup_db_name("postgres://app:s3cret@db.example:5432/atrium?sslmode=require&password=other");
    cr_assert_str_eq(s, "postgres://app:****@db.example:5432/atrium?sslmode=require&password=****");
    free(s);
    s = backup_db_name("postgresql://app@db/atrium");
    cr_assert_str_eq(s, "postgresql://app@db/atrium");
    free(s);
    s = backup_db_name("/var/lib/atrium/atrium.db");
    cr_assert_str_eq(s, "/var/lib/atrium/atrium.db");
    free(s);

    /* a backup that cannot connect names the database without its password
     * (port 1: nothing listens there, libpq answers at once) */
    char out[512];
    cr_assert_eq(backup_create("postgres://app:s3cret@127.0.0.1:1/atrium", path_of("bk"), 30, NULL, out, sizeof out,
                               errbuf, sizeof errbuf), -1);
    cr_assert(strstr(errbuf, "cannot connect to postgres://app:****@127.0.0.1:1/atrium: "), "%s", errbuf);
    cr_assert_null(strstr(errbuf, "s3cret"), "%s", errbuf);
    glob_t g;
    cr_assert_eq(glob(path_of("bk/*"), GLOB_PERIOD, NULL, &g), 0);   /* only . and .. */
    cr_assert_eq(g.gl_pathc, 2, "no file left behind");
    globfree(&g);
}

/* ------------------------------------------------------------ PostgreSQL */

static char fresh_names[4][64];
static int nfresh;

/* Every pg_backup test is about pg_dump/pg_restore: PostgreSQL only. */
static void pg_only(void)
{
    const char *pg = getenv("ATRIUM_TEST_PG");
    if (!pg || !*pg) cr_skip_test("PostgreSQL only (make test-pg sets ATRIUM_TEST_PG)");
}

/* srv_start() on a database copied from the migrated template, backups to root/bk. */
static void pg_start(void)
{
    pg_only();
    setenv("ATRIUM_BACKUP_DIR", path_of("bk"), 1);
    srv_start();
}

/* A new empty database on the test server (dropped by pg_teardown); its URL. */
static const char *fresh_db(void)
{
    static char url[8][256];
    cr_assert_lt(nfresh, 4);
    char *name = fresh_names[nfresh], sql[128];
    snprintf(name, 64, "bk_%d_%d", (int)getpid(), nfresh);
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
    cr_assert(test_pg_admin(sql), "%s", sql);
    snprintf(url[nfresh], sizeof url[0], "%s/%s", getenv("ATRIUM_TEST_PG"), name);
    return url[nfresh++];
}

static void pg_teardown(void)
{
    srv_stop();
    for (int i = 0; i < nfresh; i++) {
        char sql[128];
        snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", fresh_names[i]);
        test_pg_admin(sql);
    }
    nfresh = 0;
    teardown();
}

static struct db *open_url(const char *url)
{
    struct db *db = NULL;
    cr_assert_eq(db_open(url, &db), 0, "db_open %s", url);
    return db;
}

static int64_t count_in(struct db *db, const char *sql)
{
    int64_t n = -1;
    cr_assert_eq(db_int(db, &n, sql), 1, "%s: %s", sql, db_errmsg(db));
    return n;
}

/* Tables in the public schema: 0 for a database nothing was restored into. */
static int64_t tables_in(const char *url)
{
    struct db *db = open_url(url);
    int64_t n = count_in(db, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'");
    db_close(db);
    return n;
}

static void pg_backup_now(char *out)
{
    take_backup(cfg.db, path_of("bk"), 30, out);
    const char *name = strrchr(out, '/') + 1;   /* atrium-YYYYMMDDTHHMMSSZ[-N].pgdump */
    cr_assert_eq(strncmp(name, "atrium-", 7), 0, "%s", name);
    cr_assert_eq(name[15], 'T', "%s", name);
    cr_assert_eq(name[22], 'Z', "%s", name);
    cr_assert_str_eq(name + strlen(name) - 7, ".pgdump", "%s", name);
}

/* Skipped before anything is made: a skipped test does not run its .fini. */
static void pg_setup(void)
{
    if (!test_on_pg()) cr_skip_test("PostgreSQL only (make test-pg)");
    setup();
}

TestSuite(pg_backup, .init = pg_setup, .fini = pg_teardown);

#define WRITERS 3
static atomic_llong pg_last[WRITERS];   /* highest target_id writer k has committed */
static atomic_bool pg_stop;
static long long pg_during_first = -1, pg_during_last = -1;

/* Writer k: audit rows (target_type "wk", target_id 1, 2, ...), each committed
 * in its own transaction before it counts as acknowledged. */
static void *pg_writer(void *arg)
{
    int k = (int)(intptr_t)arg;
    char type[8];
    snprintf(type, sizeof type, "w%d", k);
    for (long long n = 1; !atomic_load(&pg_stop); n++) {
        test_audit_row("core", "core.user.created", type, n);
        atomic_store(&pg_last[k], n);
    }
    db_thread_close();
    return NULL;
}

static long long pg_written(void)
{
    long long n = 0;
    for (int k = 0; k < WRITERS; k++) n += atomic_load(&pg_last[k]);
    return n;
}

static void pg_slow_progress(int done, int total)
{
    if (pg_during_first < 0) pg_during_first = pg_written();
    pg_during_last = pg_written();
    on_progress(done, total);
    usleep(5000);               /* the backup lasts while the writers go on */
}

Test(pg_backup, restores_every_row_acknowledged_before_it_began)
{
    pg_start();
    pthread_t t[WRITERS];
    long long recorded[WRITERS], after[WRITERS];
    char out[512], sum[600], want[600];
    for (int k = 0; k < WRITERS; k++) {
        atomic_init(&pg_last[k], 0);
        cr_assert_eq(pthread_create(&t[k], NULL, pg_writer, (void *)(intptr_t)k), 0);
    }
    for (int k = 0; k < WRITERS; k++)
        while (atomic_load(&pg_last[k]) < 50) usleep(1000);

    for (int k = 0; k < WRITERS; k++) recorded[k] = atomic_load(&pg_last[k]);   /* acknowledged before */
    int rc = backup_create(cfg.db, path_of("bk"), 30, pg_slow_progress, out, sizeof out, errbuf, sizeof errbuf);
    for (int k = 0; k < WRITERS; k++) after[k] = atomic_load(&pg_last[k]);
    atomic_store(&pg_stop, true);
    for (int k = 0; k < WRITERS; k++) pthread_join(t[k], NULL);
    cr_assert_eq(rc, 0, "backup_create: %s", errbuf);
    cr_assert_eq(last_done, last_total);
    cr_assert_gt(last_total, 10, "one progress step per table");
    cr_assert_gt(pg_during_last, pg_during_first, "writers committed while the backup ran");

    /* the file, and its checksum in sha256sum format */
    const char *name = strrchr(out, '/') + 1;
    cr_assert_str_eq(name + 23, ".pgdump", "%s", name);
    snprintf(sum, sizeof sum, "%s.sha256", out);
    size_t len;
    char *got = read_file(sum, &len);
    expected_sum(out, want, sizeof want);
    cr_assert_str_eq(got, want);
    free(got);
    glob_t g;
    cr_assert_eq(glob(path_of("bk/.*tmp*"), 0, NULL, &g), GLOB_NOMATCH);
    cr_assert_eq(glob(path_of("bk/.atrium-backup-*"), 0, NULL, &g), GLOB_NOMATCH);

    const char *url = fresh_db();
    last_done = last_total = -1;
    cr_assert_eq(backup_restore(out, url, on_progress, errbuf, sizeof errbuf), 0, "backup_restore: %s", errbuf);
    cr_assert_eq(last_done, last_total);
    cr_assert_gt(last_total, 10);

    struct db *db = open_url(url), *src = test_db();
    for (int k = 0; k < WRITERS; k++) {
        char sql[200];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM audit_log WHERE target_type = 'w%d' AND target_id <= %lld", k,
                 recorded[k]);
        cr_assert_eq(count_in(db, sql), recorded[k], "writer %d: every acknowledged row restored", k);
        snprintf(sql, sizeof sql, "SELECT max(target_id) FROM audit_log WHERE target_type = 'w%d'", k);
        int64_t max = count_in(db, sql);
        cr_assert_geq(max, recorded[k]);
        cr_assert_leq(max, after[k]);
        snprintf(sql, sizeof sql, "SELECT count(*) FROM audit_log WHERE target_type = 'w%d'", k);
        cr_assert_eq(count_in(db, sql), max, "writer %d: one snapshot, no gap", k);
    }
    /* the same rows under the same ids as in the source */
    const char *ids = "SELECT string_agg(id::text || ':' || target_type || ':' || target_id::text, ',' ORDER BY id) "
                      "FROM audit_log WHERE id <= (SELECT max(id) FROM audit_log)";
    char *a = db_text(db, ids), *b = NULL;
    cr_assert_not_null(a, "%s", db_errmsg(db));
    int64_t restored_max = count_in(db, "SELECT max(id) FROM audit_log");
    b = db_text(src, "SELECT string_agg(id::text || ':' || target_type || ':' || target_id::text, ',' ORDER BY id) "
                     "FROM audit_log WHERE id <= $1", DB_I(restored_max));
    cr_assert_not_null(b);
    cr_assert_str_eq(a, b);
    free(a);
    free(b);
    cr_assert_eq(count_in(db, "SELECT count(*) FROM schema_migrations"),
                 count_in(src, "SELECT count(*) FROM schema_migrations"));

    /* `atrium audit verify` on the restored database */
    int64_t checked = 0;
    cr_assert_eq(audit_verify(db, &checked), 0);
    cr_assert_eq(checked, count_in(db, "SELECT count(*) FROM audit_log"));
    cr_assert_gt(checked, 3 * 50);

    /* the restored database takes new writes (its sequences came along) */
    cr_assert_eq(db_begin(db), 0);
    cr_assert_eq(audit_write_as(db, 0, "core", "core.user.created", "after", 1, NULL), 0, "%s", db_errmsg(db));
    cr_assert_eq(db_commit(db), 0);
    cr_assert_eq(audit_verify(db, &checked), 0);
    /* (a sequence is read outside the snapshot: ids may skip, never repeat) */
    cr_assert_gt(count_in(db, "SELECT max(id) FROM audit_log"), restored_max);
    cr_assert_eq(count_in(db, "SELECT count(*) FROM audit_log WHERE target_type = 'after'"), 1);
    db_close(db);
}

Test(pg_backup, corrupted_or_truncated_dump_is_refused)
{
    pg_start();
    char out[512], copy[600], sum[600], line[600];
    test_audit_row("core", "core.user.created", "user", 1);
    pg_backup_now(out);
    snprintf(sum, sizeof sum, "%s.sha256", out);
    snprintf(copy, sizeof copy, "%s.good", out);
    size_t len;
    char *good = read_file(out, &len);

    /* a restored copy with one row more than the backup: what a failed restore must leave alone */
    const char *url = fresh_db();
    cr_assert_eq(backup_restore(out, url, NULL, errbuf, sizeof errbuf), 0, "%s", errbuf);
    struct db *db = open_url(url);
    cr_assert_eq(db_begin(db), 0);
    cr_assert_eq(audit_write_as(db, 0, "core", "core.user.created", "kept", 7, NULL), 0);
    cr_assert_eq(db_commit(db), 0);
    int64_t before = count_in(db, "SELECT count(*) FROM audit_log");
    db_close(db);

    /* one flipped byte */
    FILE *f = fopen(out, "r+b");
    fseek(f, (long)len / 2, SEEK_SET);
    fputc(good[len / 2] ^ 0x01, f);
    fclose(f);
    cr_assert_eq(backup_restore(out, url, NULL, errbuf, sizeof errbuf), -1);
    cr_assert_str_eq(errbuf, "checksum mismatch");

    /* cut short */
    cr_assert_eq(truncate(out, (off_t)len / 2), 0);
    cr_assert_eq(backup_restore(out, url, NULL, errbuf, sizeof errbuf), -1);
    cr_assert_str_eq(errbuf, "checksum mismatch");

    /* cut short with a checksum to match: pg_restore fails and its one transaction rolls back */
    expected_sum(out, line, sizeof line);
    f = fopen(sum, "w");
    fputs(line, f);
    fclose(f);
    cr_assert_eq(backup_restore(out, url, NULL, errbuf, sizeof errbuf), -1);
    cr_assert(strstr(errbuf, "pg_restore failed: "), "%s", errbuf);

    /* no checksum at all */
    cr_assert_eq(unlink(sum), 0);
    cr_assert_eq(backup_restore(out, url, NULL, errbuf, sizeof errbuf), -1);
    cr_assert_str_eq(errbuf, "checksum file missing");

    db = open_url(url);
    cr_assert_eq(count_in(db, "SELECT count(*) FROM audit_log"), before, "the target is as it was");
    cr_assert_eq(count_in(db, "SELECT count(*) FROM audit_log WHERE target_type = 'kept'"), 1);
    int64_t checked;
    cr_assert_eq(audit_verify(db, &checked), 0);
    db_close(db);
    free(good);
}

Test(pg_backup, newer_schema_is_refused)
{
    pg_start();
    char out[512];
    cr_assert_eq(db_exec(test_db(), "INSERT INTO schema_migrations (app, version, name, applied_at) "
                                    "VALUES ('core', 999, 'future', '2099-01-01T00:00:00Z')"), 1);
    pg_backup_now(out);
    const char *url = fresh_db();
    cr_assert_eq(backup_restore(out, url, NULL, errbuf, sizeof errbuf), -1);
    cr_assert_str_eq(errbuf, "backup is from a newer schema (app core version 999)");
    cr_assert_eq(tables_in(url), 0);
}

Test(pg_backup, backup_of_the_other_database_is_refused)
{
    pg_start();
    char lite[512], pg[512], want[700];
    make_db(path_of("src.db"), 20);
    take_backup(path_of("src.db"), path_of("bk"), 30, lite);
    pg_backup_now(pg);

    const char *url = fresh_db();
    cr_assert_eq(backup_restore(lite, url, NULL, errbuf, sizeof errbuf), -1);
    snprintf(want, sizeof want, "%s is a SQLite backup; it cannot be restored into PostgreSQL", lite);
    cr_assert_str_eq(errbuf, want);
    cr_assert_eq(tables_in(url), 0);

    cr_assert_eq(backup_restore(pg, path_of("target.db"), NULL, errbuf, sizeof errbuf), -1);
    snprintf(want, sizeof want, "%s is a PostgreSQL backup (pg_dump); it cannot be restored into a SQLite database", pg);
    cr_assert_str_eq(errbuf, want);
    cr_assert_not(exists(path_of("target.db")));
}

Test(pg_backup, prunes_old_backups)
{
    pg_start();
    char out[512];
    cr_assert_eq(mkdir(path_of("bk"), 0700), 0);
    fake_backup("bk/atrium-20000101T000000Z.pgdump", 40);
    fake_backup("bk/atrium-20000101T000000Z.pgdump.sha256", 40);
    fake_backup("bk/atrium-20000102T000000Z-1.pgdump", 31);
    fake_backup("bk/atrium-20000102T000000Z.db.gz", 31);   /* the directory's SQLite past */
    fake_backup("bk/atrium-20000103T000000Z.pgdump", 10);  /* younger than keep_days */
    fake_backup("bk/atrium-20000103T000000Z.pgdump.sha256", 10);
    fake_backup("bk/notes.txt", 40);                        /* not a backup */

    take_backup(cfg.db, path_of("bk"), 0, out);             /* keep_days 0: no pruning */
    cr_assert(exists(path_of("bk/atrium-20000101T000000Z.pgdump")));

    pg_backup_now(out);
    cr_assert_not(exists(path_of("bk/atrium-20000101T000000Z.pgdump")));
    cr_assert_not(exists(path_of("bk/atrium-20000101T000000Z.pgdump.sha256")));
    cr_assert_not(exists(path_of("bk/atrium-20000102T000000Z-1.pgdump")));
    cr_assert_not(exists(path_of("bk/atrium-20000102T000000Z.db.gz")));
    cr_assert(exists(path_of("bk/atrium-20000103T000000Z.pgdump")));
    cr_assert(exists(path_of("bk/atrium-20000103T000000Z.pgdump.sha256")));
    cr_assert(exists(path_of("bk/notes.txt")));

    /* 2 fresh backups (+ .sha256) + the 10-day-old pair + notes.txt */
    glob_t g;
    cr_assert_eq(glob(path_of("bk/*"), 0, NULL, &g), 0);
    cr_assert_eq(g.gl_pathc, 7);
    globfree(&g);
}

Test(pg_backup, nightly_job_backs_up_postgresql)
{
    pg_start();
    char *result = NULL;
    cr_assert_eq(core_backup_job(test_db(), &result), 0, "%s", result ? result : "");
    char prefix[300];
    snprintf(prefix, sizeof prefix, "wrote %s/atrium-", path_of("bk"));
    cr_assert_eq(strncmp(result, prefix, strlen(prefix)), 0, "%s", result);
    const char *file = result + 6;
    cr_assert_str_eq(file + strlen(file) - 7, ".pgdump", "%s", result);
    char sum[600];
    snprintf(sum, sizeof sum, "%s.sha256", file);
    cr_assert(exists(file));
    cr_assert(exists(sum));

    /* /metrics reports it as the last backup */
    struct stat st;
    cr_assert_eq(stat(file, &st), 0);
    struct resp *r = api("GET", "/metrics", NULL, NULL);
    cr_assert_eq(r->status, 200);
    const char *m = strstr(r->body, "\natrium_last_backup_timestamp_seconds ");
    cr_assert_not_null(m, "%s", r->body);
    cr_assert_eq(strtoll(m + strlen("\natrium_last_backup_timestamp_seconds "), NULL, 10), (long long)st.st_mtime);
    resp_free(r);
    free(result);
}
