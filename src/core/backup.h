/* backup.h -- online backup and restore of the database: SQLite in backup.c,
 * PostgreSQL (ATRIUM_DB=postgres://...) in backup_pg.c, chosen by db_path.
 *
 * backup: SQLite's online backup API copies a consistent snapshot (one read
 * transaction) to a temporary file while writers go on; the copy is checked with
 * PRAGMA integrity_check, gzip-compressed with zlib to
 * DIR/atrium-YYYYMMDDTHHMMSSZ.db.gz, and a SHA-256 checksum is written next to it
 * as FILE.sha256 ("<hex>  <name>\n", sha256sum format). Backups older than
 * keep_days in DIR are deleted afterwards.
 *
 * restore: verifies the checksum, decompresses to a temp file beside the target,
 * runs integrity_check, refuses a file whose schema_migrations holds versions
 * this binary does not know (newer schema), moves the current database aside to
 * DB.before-restore-<timestamp> and renames the new file into place (atomic on
 * one filesystem). The server must not be running against the target.
 *
 * PostgreSQL: backup is pg_dump's custom format (one snapshot) to
 * DIR/atrium-YYYYMMDDTHHMMSSZ.pgdump with the same .sha256 and retention;
 * restore verifies the checksum and the schema, then pg_restore --clean in one
 * transaction replaces the contents of the database db_path names (nothing is
 * kept aside). A backup of the other kind of database is refused. */
#ifndef ATRIUM_BACKUP_H
#define ATRIUM_BACKUP_H
#include <stddef.h>

/* progress: called with (done, total) pages; may be NULL. backup_create reports
 * the copy after each 256-page step, then the compression starting again from 0;
 * backup_restore reports the decompression. On PostgreSQL the unit is a table
 * whose data pg_dump / pg_restore has copied. */
typedef void (*backup_progress_fn)(int done, int total);

/* Writes the path of the created file into out (size outlen). Returns 0 or -1
 * with a message in err. DIR is created (mode 0700) if missing; when the name is
 * taken, -1, -2 ... goes before ".db.gz" (".pgdump"). keep_days <= 0 disables
 * pruning.
 *
 * backup_restore errors include "checksum file missing", "checksum mismatch" and
 * "backup is from a newer schema (app X version N)"; on any error the current
 * database is left untouched. */
int backup_create(const char *db_path, const char *dir, int keep_days, backup_progress_fn progress,
                  char *out, size_t outlen, char *err, size_t errlen);
int backup_restore(const char *file, const char *db_path, backup_progress_fn progress,
                   char *err, size_t errlen);
/* db as it may be shown: a postgres:// URL with its password as ****; free() it. */
char *backup_db_name(const char *db);
#endif
