#!/usr/bin/env bash
# PostgreSQL (make test-pg): the real CLI backs up a seeded database with
# pg_dump, restores it into a fresh database with `atrium restore`, and the copy
# passes `atrium audit verify` with every table's row count the same. A
# corrupted dump is refused; the URL's password appears in no output.
cd "$(dirname "$0")/../.." && . tests/ops/lib.sh

if [ -z "${ATRIUM_TEST_PG:-}" ]; then
    not_ok "ATRIUM_TEST_PG is set (make test-pg starts the server)"
    finish
fi
src=atrium_bk_src_$$
dst=atrium_bk_dst_$$
admin() { psql -X -q -v ON_ERROR_STOP=1 "$ATRIUM_TEST_PG/postgres" -c "$1" >/dev/null; }
q() { psql -X -A -t -q -v ON_ERROR_STOP=1 "$ATRIUM_TEST_PG/$1" -c "$2"; }
trap 'admin "DROP DATABASE IF EXISTS $src WITH (FORCE)"; admin "DROP DATABASE IF EXISTS $dst WITH (FORCE)"; cleanup' EXIT
admin "CREATE DATABASE $src" && admin "CREATE DATABASE $dst" || { not_ok "create the databases"; finish; }
export ATRIUM_DB=$ATRIUM_TEST_PG/$src
# no key file beside a PostgreSQL database: the key comes from the environment
export ATRIUM_ENCRYPTION_KEY=${ATRIUM_ENCRYPTION_KEY:-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')}

"$ATRIUM_BIN" migrate >"$WORK/migrate.out" 2>&1
check "atrium migrate" [ $? = 0 ]
"$ATRIUM_BIN" seed all >"$WORK/seed.out" 2>&1
rc=$?
check "atrium seed all" [ $rc = 0 ]
[ $rc = 0 ] || tail -5 "$WORK/seed.out"

# A password in the URL (the test server trusts loopback, so any will do) must
# reach pg_dump without showing up in any output.
secret=Never-Print-Me-9
url_pw=${ATRIUM_TEST_PG/postgres@/postgres:$secret@}/$src
ATRIUM_DB=$url_pw ATRIUM_LOG_LEVEL=debug "$ATRIUM_BIN" backup >"$WORK/backup.out" 2>"$WORK/backup.err"
rc=$?
check "atrium backup succeeded" [ $rc = 0 ]
[ $rc = 0 ] || cat "$WORK/backup.err"
file=$(cat "$WORK/backup.out")
check "it wrote ATRIUM_BACKUP_DIR/atrium-<UTC>.pgdump" \
    sh -c "echo '$file' | grep -Eq '^$ATRIUM_BACKUP_DIR/atrium-[0-9]{8}T[0-9]{6}Z(-[0-9]+)?\.pgdump$'"
check "the checksum beside it verifies with sha256sum" \
    sh -c "cd '$ATRIUM_BACKUP_DIR' && sha256sum -c --quiet '$(basename "$file").sha256'"
check "pg_restore reads it as a custom-format archive" sh -c "pg_restore --list '$file' >/dev/null"
check "the password is in no output of backup" sh -c "! grep -q '$secret' '$WORK/backup.out' '$WORK/backup.err'"

export ATRIUM_DB=$ATRIUM_TEST_PG/$dst
"$ATRIUM_BIN" restore "$file" >/dev/null 2>&1
check "restore without --confirm refuses" [ $? = 2 ]
ATRIUM_DB=${ATRIUM_TEST_PG/postgres@/postgres:$secret@}/$dst ATRIUM_LOG_LEVEL=debug \
    "$ATRIUM_BIN" restore "$file" --confirm >"$WORK/restore.out" 2>&1
rc=$?
check "atrium restore --confirm into a fresh database" [ $rc = 0 ]
[ $rc = 0 ] || cat "$WORK/restore.out"
check "the password is in no output of restore" sh -c "! grep -q '$secret' '$WORK/restore.out'"
check "atrium audit verify on the restored database" sh -c "'$ATRIUM_BIN' audit verify >/dev/null"

tables=$(q "$src" "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
differ=""
for t in $tables; do
    [ "$(q "$src" "SELECT count(*) FROM $t")" = "$(q "$dst" "SELECT count(*) FROM $t")" ] || differ="$differ $t"
done
check "every table's row count is the same ($(echo "$tables" | wc -w) tables;${differ:- none} differ)" \
    [ -n "$tables" -a -z "$differ" ]
for t in users audit_log codepop_orders groupbuy_groups; do
    check "$t holds the seeded rows ($(q "$dst" "SELECT count(*) FROM $t"))" [ "$(q "$dst" "SELECT count(*) FROM $t")" -gt 0 ]
done
check "the audit chain ends on the same hash" \
    [ "$(q "$src" "SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1")" = \
      "$(q "$dst" "SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1")" ]

before=$(q "$dst" "SELECT count(*) FROM audit_log")
printf 'x' | dd of="$file" bs=1 seek=100 conv=notrunc 2>/dev/null
"$ATRIUM_BIN" restore "$file" --confirm >/dev/null 2>"$WORK/corrupt.err"
check "a corrupted backup is refused" [ $? = 1 ]
check "... with 'checksum mismatch'" grep -q "restore failed: checksum mismatch" "$WORK/corrupt.err"
check "... and the database is as it was" [ "$(q "$dst" "SELECT count(*) FROM audit_log")" = "$before" ]
finish
