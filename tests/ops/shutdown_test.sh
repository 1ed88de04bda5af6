#!/usr/bin/env bash
# SIGTERM during a write load: every request that got a 2xx is in the database
# after restart; the server exits 0 after finishing in-flight requests.
cd "$(dirname "$0")/../.." && . tests/ops/lib.sh

start_server || { not_ok "server starts"; finish; }
writer() {   # writer N: register users w<N>_<i> until the server goes away
    local i=0 misses=0
    while [ $misses -lt 5 ]; do
        if register "w$1_$i"; then echo "w$1_$i" >>"$WORK/acked.$1"; misses=0; else misses=$((misses + 1)); fi
        i=$((i + 1))
    done
}
writers=()
for n in 1 2 3 4 5 6; do writer $n & writers+=($!); done
sleep 2
stop_server; rc=$?
wait "${writers[@]}"
check "server exits 0 on SIGTERM under load" [ "$rc" = 0 ]
check "server logged a clean stop" grep -q "stopped cleanly" "$WORK/server.log"
cat "$WORK"/acked.* >"$WORK/acked" 2>/dev/null
acked=$(wc -l <"$WORK/acked")
check "writes were acknowledged before the stop ($acked)" [ "$acked" -gt 10 ]

start_server || not_ok "server restarts"
missing=0
while read -r name; do
    [ "$(sql "$ATRIUM_DB" "SELECT COUNT(*) FROM users WHERE username = '$name'")" = 1 ] || missing=$((missing + 1))
done <"$WORK/acked"
check "every acknowledged write survived ($missing missing of $acked)" [ "$missing" = 0 ]
check "integrity_check ok after restart" [ "$(sql "$ATRIUM_DB" 'PRAGMA integrity_check')" = ok ]
check "ready after restart" [ "$(curl -s -o /dev/null -w '%{http_code}' "$(url /health/ready)")" = 200 ]
stop_server
finish
