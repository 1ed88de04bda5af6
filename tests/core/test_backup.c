/* test_backup.c -- backup_create()/backup_restore(): round trip, writes during the
 * backup, corrupted and missing checksums, newer schema, pruning, moving aside. */
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

#include "atrium.h"

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
    char *buf = malloc(1 << 20);
    *len = fread(buf, 1, (1 << 20) - 1, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
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
