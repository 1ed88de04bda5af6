#!/usr/bin/env bash
# atrium backup while writes run: the restore passes integrity_check and holds
# every write acknowledged before the backup began; restore keeps the old file.
cd "$(dirname "$0")/../.." && . tests/ops/lib.sh

start_server || { not_ok "server starts"; finish; }
writer() {
    local i=0
    while [ ! -f "$WORK/stop" ]; do
        register "b$1_$i" && echo "b$1_$i" >>"$WORK/acked.$1"
        i=$((i + 1))
    done
}
writers=()
for n in 1 2 3; do writer $n & writers+=($!); done
sleep 1.5
cat "$WORK"/acked.* >"$WORK/before" 2>/dev/null   # acknowledged before the backup began
file=$("$ATRIUM_BIN" backup --to "$WORK/backups" 2>"$WORK/backup.err")
rc=$?
sleep 0.5
touch "$WORK/stop"
wait "${writers[@]}"
stop_server
check "backup succeeded while writes ran" [ "$rc" = 0 ]
check "backup file and checksum exist" [ -f "$file" -a -f "$file.sha256" ]
check "checksum verifies with sha256sum" sh -c "cd '$WORK/backups' && sha256sum -c --quiet '$(basename "$file").sha256'"

target="$WORK/restored/atrium.db"
mkdir -p "$WORK/restored"
echo "old" >"$target"
ATRIUM_DB=$target "$ATRIUM_BIN" restore "$file" >/dev/null 2>&1
check "restore without --confirm refuses" [ $? = 2 ]
check "restore with --confirm succeeds" env ATRIUM_DB="$target" "$ATRIUM_BIN" restore "$file" --confirm
check "old database kept aside" sh -c "ls '$WORK/restored' | grep -q before-restore"
check "restored database passes integrity_check" [ "$(sql "$target" 'PRAGMA integrity_check')" = ok ]
before=$(wc -l <"$WORK/before")
missing=0
while read -r name; do
    [ "$(sql "$target" "SELECT COUNT(*) FROM users WHERE username = '$name'")" = 1 ] || missing=$((missing + 1))
done <"$WORK/before"
check "every write acknowledged before the backup is restored ($missing missing of $before)" [ "$before" -gt 0 -a "$missing" = 0 ]
check "audit chain of the restored database verifies" env ATRIUM_DB="$target" "$ATRIUM_BIN" audit verify
printf 'x' | dd of="$file" bs=1 seek=100 conv=notrunc 2>/dev/null
ATRIUM_DB="$WORK/other.db" "$ATRIUM_BIN" restore "$file" --confirm >/dev/null 2>"$WORK/restore.err"
check "a corrupted backup is refused" grep -q "checksum" "$WORK/restore.err"
finish
