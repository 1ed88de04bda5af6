/* backup_int.h -- what backup.c (SQLite) and backup_pg.c (PostgreSQL) share:
 * the file naming, the SHA-256 checksum file beside a backup, retention. */
#ifndef ATRIUM_BACKUP_INT_H
#define ATRIUM_BACKUP_INT_H
#include <stddef.h>

/* Functions taking (err, errlen) report with FAIL: set err, jump to the single cleanup label. */
#define FAIL(...) do { backup_fail(err, errlen, __VA_ARGS__); goto out; } while (0)
__attribute__((format(printf, 3, 4))) int backup_fail(char *err, size_t errlen, const char *fmt, ...);

void backup_stamp(char out[20]);                        /* UTC YYYYMMDDTHHMMSSZ */
int backup_mkdir_p(const char *dir);                    /* mode 0700, parents too */
int backup_sha256_file(const char *path, char hex[65]);
/* Write FILE.sha256 ("<hex>  <name>\n", sha256sum format), fsynced. */
int backup_write_sum(const char *file, char *err, size_t errlen);
/* FILE against FILE.sha256: "checksum file missing", "checksum file malformed",
 * "checksum mismatch". */
int backup_verify_sum(const char *file, char *err, size_t errlen);
/* Delete atrium-*.db.gz and atrium-*.pgdump (with their .sha256) in dir whose
 * mtime is older than keep_days; keep_days <= 0 keeps everything. */
void backup_prune(const char *dir, int keep_days);

enum backup_kind { BACKUP_UNKNOWN, BACKUP_SQLITE_GZ, BACKUP_PGDUMP };
enum backup_kind backup_kind(const char *file);         /* by the file's first bytes */

int backup_pg_create(const char *url, const char *dir, int keep_days, backup_progress_fn progress,
                     char *out, size_t outlen, char *err, size_t errlen);
int backup_pg_restore(const char *file, const char *url, backup_progress_fn progress, char *err, size_t errlen);
#endif
