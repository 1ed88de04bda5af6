/* backup.c -- online backup and restore of the SQLite database (see backup.h),
 * and what both databases' backups share (backup_int.h); a postgres:// target
 * goes to backup_pg.c.
 *
 * Consistency under concurrent writers: the source connection opens an explicit
 * read transaction (BEGIN; SELECT ...) before sqlite3_backup_init() and keeps it
 * until the copy is done. sqlite3_backup_step() then reuses that transaction
 * instead of opening one per step, so every step reads the same WAL snapshot:
 * writers on other connections go on committing (WAL readers never block
 * writers), the source pager never sees a change, and the backup is never
 * restarted -- it terminates however busy the writers are. The copy holds exactly
 * what was committed when the snapshot began, i.e. every write acknowledged
 * before backup_create() was called. Copying 256 pages per step (all from the
 * same snapshot) only serves progress reporting. Without the explicit
 * transaction every step would take a fresh snapshot and each foreign commit
 * between steps would restart the copy, possibly forever (tested: it does).
 *
 * The copy is switched to journal_mode=DELETE before it is verified and
 * compressed, so a backup is one self-contained file (no -wal/-shm needed);
 * db_open() turns WAL back on when the restored database is first opened.
 *
 * Progress, in pages of the snapshot: backup reports the copy (after each step),
 * then the compression from 0 again; restore reports the decompression. */
#include "atrium.h"
#include "backup_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>
#include <zlib.h>

#define STEP_PAGES 256
#define CHUNK (256 * 1024)
#define NSUFFIX 4
/* A database is its main file plus these companions ("" is the main file). */
static const char *const suffixes[NSUFFIX] = {"", "-wal", "-shm", "-journal"};

int backup_fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err && errlen) vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

void backup_stamp(char out[20])
{
    time_t now = time(NULL);
    struct tm tm;
    strftime(out, 20, "%Y%m%dT%H%M%SZ", gmtime_r(&now, &tm));
}

int backup_mkdir_p(const char *dir)
{
    char *p = xstrdup(dir);
    int rc = 0;
    for (char *s = p + 1; rc == 0 && *s; s++) {
        if (*s != '/') continue;
        *s = '\0';
        rc = mkdir(p, 0700) < 0 && errno != EEXIST ? -1 : 0;
        *s = '/';
    }
    if (rc == 0 && mkdir(p, 0700) < 0 && errno != EEXIST) rc = -1;
    free(p);
    return rc;
}

static void remove_db_files(const char *path)
{
    for (int i = 0; i < NSUFFIX; i++) {
        char *p = xasprintf("%s%s", path, suffixes[i]);
        unlink(p);
        free(p);
    }
}

/* Read-write without create (a WAL reader may need to create -shm), busy timeout first. */
static int open_rw(const char *path, sqlite3 **db, char *err, size_t errlen)
{
    if (sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK)
        return sqlite3_busy_timeout(*db, 5000), 0;
    backup_fail(err, errlen, "%s: %s", path, *db ? sqlite3_errmsg(*db) : "out of memory");
    sqlite3_close(*db);
    *db = NULL;
    return -1;
}

static int check_integrity(sqlite3 *db, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW)
        FAIL("integrity check: %s", sqlite3_errmsg(db));
    const char *res = (const char *)sqlite3_column_text(st, 0);
    if (!res || strcmp(res, "ok") != 0) FAIL("integrity check failed: %s", res ? res : "(null)");
    if (sqlite3_step(st) != SQLITE_DONE) FAIL("integrity check failed");
    rc = 0;
out:
    sqlite3_finalize(st);
    return rc;
}

int backup_sha256_file(const char *path, char hex[65])
{
    crypto_hash_sha256_state st;
    unsigned char h[crypto_hash_sha256_BYTES], *buf = xmalloc(CHUNK);
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc = -1;
    ssize_t n = -1;
    crypto_hash_sha256_init(&st);
    while (fd >= 0 && ((n = read(fd, buf, CHUNK)) > 0 || (n < 0 && errno == EINTR)))
        if (n > 0) crypto_hash_sha256_update(&st, buf, (unsigned long long)n);
    if (n == 0) {
        crypto_hash_sha256_final(&st, h);
        sodium_bin2hex(hex, 65, h, sizeof h);
        rc = 0;
    }
    if (fd >= 0) close(fd);
    free(buf);
    return rc;
}

/* gzip (level 6) the file `src` of `total` pages into outfd, which stays open. */
static int compress_file(const char *src, int outfd, int total, backup_progress_fn progress,
                         char *err, size_t errlen)
{
    char *buf = xmalloc(CHUNK);
    int in = open(src, O_RDONLY | O_CLOEXEC), zfd = dup(outfd), rc = -1, zerr;
    gzFile z = zfd >= 0 ? gzdopen(zfd, "wb6") : NULL;
    struct stat st;
    long long bytes = 0;
    ssize_t n;
    if (!z && zfd >= 0) close(zfd);
    if (in < 0 || !z || fstat(in, &st) < 0) FAIL("compress: %s", strerror(errno));
    while ((n = read(in, buf, CHUNK)) != 0) {
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) FAIL("compress: %s", strerror(errno));
        if (gzwrite(z, buf, (unsigned)n) != (int)n) FAIL("compress: %s", gzerror(z, &zerr));
        bytes += n;
        if (progress && st.st_size > 0) progress((int)(bytes * total / st.st_size), total);
    }
    zerr = gzclose(z);
    z = NULL;
    if (zerr != Z_OK) FAIL("compress: zlib error %d", zerr);
    rc = 0;
out:
    if (z) gzclose(z);
    if (in >= 0) close(in);
    free(buf);
    return rc;
}

/* Delete old backups of either database (one directory may have held both). */
void backup_prune(const char *dir, int keep_days)
{
    time_t cutoff = time(NULL) - (time_t)keep_days * 86400;
    DIR *d = keep_days > 0 ? opendir(dir) : NULL;
    struct dirent *e;
    struct stat st;
    while (d && (e = readdir(d))) {
        if (fnmatch("atrium-*.db.gz", e->d_name, FNM_PERIOD) != 0 &&
            fnmatch("atrium-*.pgdump", e->d_name, FNM_PERIOD) != 0)
            continue;
        char *p = xasprintf("%s/%s", dir, e->d_name), *s = xasprintf("%s.sha256", p);
        if (lstat(p, &st) == 0 && S_ISREG(st.st_mode) && st.st_mtime < cutoff &&
            (unlink(p) < 0 || (unlink(s) < 0 && errno != ENOENT)))
            log_warn("backup: cannot prune %s: %s", p, strerror(errno));
        free(p);
        free(s);
    }
    if (d) closedir(d);
}

int backup_write_sum(const char *file, char *err, size_t errlen)
{
    char *sum = xasprintf("%s.sha256", file), hex[65];
    const char *name = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
    FILE *f = NULL;
    int rc = -1, s;
    bool made = false;
    if (backup_sha256_file(file, hex) < 0 || !(f = fopen(sum, "we"))) FAIL("checksum: %s", strerror(errno));
    made = true;
    s = fprintf(f, "%s  %s\n", hex, name) < 0 || fflush(f) != 0 || fsync(fileno(f)) < 0;
    s |= fclose(f) != 0;
    if (s) FAIL("%s: %s", sum, strerror(errno));
    rc = 0;
out:
    if (rc < 0 && made) unlink(sum);
    free(sum);
    return rc;
}

enum backup_kind backup_kind(const char *file)
{
    unsigned char head[5] = {0};
    FILE *f = fopen(file, "rbe");
    size_t n = f ? fread(head, 1, sizeof head, f) : 0;
    if (f) fclose(f);
    if (n >= 2 && head[0] == 0x1f && head[1] == 0x8b) return BACKUP_SQLITE_GZ;
    if (n == 5 && !memcmp(head, "PGDMP", 5)) return BACKUP_PGDUMP;   /* pg_dump's custom format */
    return BACKUP_UNKNOWN;
}

int backup_create(const char *db_path, const char *dir, int keep_days, backup_progress_fn progress,
                  char *out, size_t outlen, char *err, size_t errlen)
{
    if (db_url_is_pg(db_path)) return backup_pg_create(db_path, dir, keep_days, progress, out, outlen, err, errlen);
    sqlite3 *src = NULL, *dst = NULL;
    sqlite3_backup *bk = NULL;
    char *tmp = xasprintf("%s/.atrium-backup-XXXXXX", dir), *gz = NULL, stamp[20];
    int rc = -1, fd = -1, s, total, busy = 0;
    bool tmp_made = false, gz_made = false;

    if (sodium_init() < 0 || backup_mkdir_p(dir) < 0 || (fd = mkstemp(tmp)) < 0)
        FAIL("backup directory %s: %s", dir, strerror(errno));
    tmp_made = true;
    close(fd);
    fd = -1;
    if (open_rw(db_path, &src, err, errlen) < 0 || open_rw(tmp, &dst, err, errlen) < 0) goto out;
    sqlite3_exec(dst, "PRAGMA synchronous=OFF", NULL, NULL, NULL);   /* a disposable copy */
    if (sqlite3_exec(src, "BEGIN; SELECT 1 FROM sqlite_master LIMIT 1;", NULL, NULL, NULL) != SQLITE_OK)
        FAIL("%s: %s", db_path, sqlite3_errmsg(src));
    if (!(bk = sqlite3_backup_init(dst, "main", src, "main"))) FAIL("backup: %s", sqlite3_errmsg(dst));
    while ((s = sqlite3_backup_step(bk, STEP_PAGES)) != SQLITE_DONE) {
        if ((s == SQLITE_BUSY || s == SQLITE_LOCKED) && ++busy < 1000) {
            sqlite3_sleep(5);
            continue;
        }
        if (s != SQLITE_OK) FAIL("backup: %s", sqlite3_errstr(s));
        total = sqlite3_backup_pagecount(bk);
        if (progress) progress(total - sqlite3_backup_remaining(bk), total);
    }
    total = sqlite3_backup_pagecount(bk);
    if (progress) progress(total, total);
    s = sqlite3_backup_finish(bk);
    bk = NULL;
    sqlite3_close(src);         /* ends the read transaction: checkpoints may proceed */
    src = NULL;
    if (s != SQLITE_OK) FAIL("backup: %s", sqlite3_errstr(s));
    if (sqlite3_exec(dst, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL) != SQLITE_OK)
        FAIL("backup: %s", sqlite3_errmsg(dst));
    if (check_integrity(dst, err, errlen) < 0) goto out;
    s = sqlite3_close(dst);
    dst = NULL;
    if (s != SQLITE_OK) FAIL("backup: %s", sqlite3_errstr(s));

    /* Claim a fresh name atomically: atrium-STAMP.db.gz, else atrium-STAMP-1.db.gz, ... */
    backup_stamp(stamp);
    for (int i = 0; fd < 0; i++) {
        free(gz);
        gz = i ? xasprintf("%s/atrium-%s-%d.db.gz", dir, stamp, i)
               : xasprintf("%s/atrium-%s.db.gz", dir, stamp);
        fd = open(gz, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 && (errno != EEXIST || i > 1000))
            FAIL("%s: %s", gz, strerror(errno));
    }
    gz_made = true;
    if (out && strlen(gz) >= outlen) FAIL("output path too long");
    if (compress_file(tmp, fd, total, progress, err, errlen) < 0) goto out;
    s = fsync(fd);
    s |= close(fd);             /* the descriptor is gone even if close() fails */
    fd = -1;
    if (s < 0) FAIL("%s: %s", gz, strerror(errno));

    if (backup_write_sum(gz, err, errlen) < 0) goto out;
    if (out) snprintf(out, outlen, "%s", gz);
    rc = 0;
    backup_prune(dir, keep_days);
out:
    if (bk) sqlite3_backup_finish(bk);
    sqlite3_close(src);         /* NULL is a no-op; an open read transaction ends */
    sqlite3_close(dst);
    if (fd >= 0) close(fd);
    if (tmp_made) remove_db_files(tmp);
    if (rc < 0 && gz_made) unlink(gz);
    free(tmp);
    free(gz);
    return rc;
}

/* Expected digest from FILE.sha256 ("<64 hex>  <name>"). */
static int read_sum(const char *path, char hex[65], char *err, size_t errlen)
{
    char line[256] = {0};
    FILE *f = fopen(path, "re");
    if (!f)
        return errno == ENOENT ? backup_fail(err, errlen, "checksum file missing")
                               : backup_fail(err, errlen, "%s: %s", path, strerror(errno));
    bool ok = fgets(line, sizeof line, f) && strspn(line, "0123456789abcdefABCDEF") == 64 &&
              (line[64] == ' ' || line[64] == '\n' || line[64] == '\0');
    fclose(f);
    if (!ok) return backup_fail(err, errlen, "checksum file malformed");
    snprintf(hex, 65, "%.64s", line);
    return 0;
}

int backup_verify_sum(const char *file, char *err, size_t errlen)
{
    char *sum = xasprintf("%s.sha256", file), want[65], got[65];
    int rc = -1;
    if (sodium_init() < 0) FAIL("libsodium initialisation failed");
    if (read_sum(sum, want, err, errlen) < 0) goto out;
    if (backup_sha256_file(file, got) < 0) FAIL("%s: %s", file, strerror(errno));
    if (strcasecmp(want, got) != 0) FAIL("checksum mismatch");
    rc = 0;
out:
    free(sum);
    return rc;
}

/* gunzip file into a fresh tmp, with the permissions of `like` if that exists. */
static int decompress(const char *file, const char *tmp, const char *like, backup_progress_fn progress,
                      char *err, size_t errlen)
{
    unsigned char *buf = xmalloc(CHUNK);
    struct stat st;
    int out = -1, rc = -1, n, s, zerr, total = 0, done;
    long long bytes = 0, page = 0;
    gzFile z = gzopen(file, "rb");
    remove_db_files(tmp);       /* a stale tmp-journal would be replayed into the new file */
    if (!z || (out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
        FAIL("%s: %s", z ? tmp : file, strerror(errno));
    if (stat(like, &st) == 0) fchmod(out, st.st_mode & 0777);
    if (gzdirect(z)) FAIL("%s: not a gzip file", file);
    while ((n = gzread(z, buf, CHUNK)) > 0) {
        if (bytes == 0 && n >= 100) {   /* SQLite header: page size at 16, page count at 28 */
            page = (buf[16] << 8 | buf[17]) == 1 ? 65536 : (buf[16] << 8 | buf[17]);
            total = (int)((unsigned)buf[28] << 24 | buf[29] << 16 | buf[30] << 8 | buf[31]);
        }
        for (ssize_t w, off = 0; off < n; off += w > 0 ? w : 0)
            if ((w = write(out, buf + off, (size_t)(n - off))) < 0 && errno != EINTR)
                FAIL("%s: %s", tmp, strerror(errno));
        bytes += n;
        done = page > 0 ? (int)(bytes / page) : 0;
        if (progress) progress(done, total > done ? total : done);
    }
    if (n < 0) FAIL("decompress: %s", gzerror(z, &zerr));
    zerr = gzclose_r(z);
    z = NULL;
    if (zerr != Z_OK) FAIL("decompress: truncated or corrupt gzip file");
    s = fsync(out);
    s |= close(out);
    out = -1;
    if (s < 0) FAIL("%s: %s", tmp, strerror(errno));
    rc = 0;
out:
    if (z) gzclose_r(z);
    if (out >= 0) close(out);
    free(buf);
    return rc;
}

/* Move db_path (and its -wal/-shm/-journal) aside, rename tmp into place; undo on failure. */
static int swap_in(const char *tmp, const char *db_path, char *err, size_t errlen)
{
    char stamp[20], *aside = NULL, *dir = xstrdup(db_path), *slash, *from = NULL, *to = NULL;
    struct stat st;
    int rc = -1, moved = 0, dfd;
    backup_stamp(stamp);
    for (int i = 0; !aside || lstat(aside, &st) == 0; i++) {   /* never overwrite an older copy */
        free(aside);
        aside = i ? xasprintf("%s.before-restore-%s-%d", db_path, stamp, i)
                  : xasprintf("%s.before-restore-%s", db_path, stamp);
    }
    for (int i = 0; i < NSUFFIX; i++, free(from), free(to), from = to = NULL) {
        from = xasprintf("%s%s", db_path, suffixes[i]);
        to = xasprintf("%s%s", aside, suffixes[i]);
        if (rename(from, to) == 0)
            moved |= 1 << i;
        else if (errno != ENOENT)
            FAIL("cannot move %s aside: %s", from, strerror(errno));
    }
    if (rename(tmp, db_path) < 0) FAIL("cannot rename %s: %s", tmp, strerror(errno));
    if (moved & 1) log_info("restore: previous database kept as %s", aside);
    if ((slash = strrchr(dir, '/')))    /* make the renames durable: fsync the directory */
        slash[slash == dir] = '\0';     /* "/x.db" -> "/" */
    if ((dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
        fsync(dfd);
        close(dfd);
    }
    rc = 0;
out:
    free(from);
    free(to);
    for (int i = 0; rc < 0 && i < NSUFFIX; i++) {   /* put back what was moved */
        if (!(moved & 1 << i)) continue;
        char *a = xasprintf("%s%s", aside, suffixes[i]), *b = xasprintf("%s%s", db_path, suffixes[i]);
        rename(a, b);
        free(a);
        free(b);
    }
    free(aside);
    free(dir);
    return rc;
}

int backup_restore(const char *file, const char *db_path, backup_progress_fn progress,
                   char *err, size_t errlen)
{
    if (db_url_is_pg(db_path)) return backup_pg_restore(file, db_path, progress, err, errlen);
    char *tmp = xasprintf("%s.restore-tmp", db_path);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int rc = -1, s;
    bool tmp_made = false;

    if (backup_verify_sum(file, err, errlen) < 0) goto out;
    if (backup_kind(file) == BACKUP_PGDUMP)
        FAIL("%s is a PostgreSQL backup (pg_dump); it cannot be restored into a SQLite database", file);
    tmp_made = true;
    if (decompress(file, tmp, db_path, progress, err, errlen) < 0 || open_rw(tmp, &db, err, errlen) < 0 ||
        check_integrity(db, err, errlen) < 0)
        goto out;
    if (sqlite3_prepare_v2(db, "SELECT app, version FROM schema_migrations", -1, &st, NULL) != SQLITE_OK)
        FAIL("not an atrium database: %s", sqlite3_errmsg(db));
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        const char *app = (const char *)sqlite3_column_text(st, 0);
        int version = sqlite3_column_int(st, 1);
        if (!migrate_known(app ? app : "", version))
            FAIL("backup is from a newer schema (app %s version %d)", app ? app : "", version);
    }
    if (s != SQLITE_DONE) FAIL("schema_migrations: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    st = NULL;
    s = sqlite3_close(db);
    db = NULL;
    if (s != SQLITE_OK) FAIL("%s: %s", tmp, sqlite3_errstr(s));
    if (swap_in(tmp, db_path, err, errlen) < 0) goto out;
    rc = 0;
out:
    sqlite3_finalize(st);
    sqlite3_close(db);
    if (tmp_made)
        remove_db_files(tmp);   /* after success only stray companions can be left */
    free(tmp);
    return rc;
}
