#!/usr/bin/env bash
# A fresh clone: `make run` builds, migrates, seeds demo data on first start,
# serves, and answers /health/ready with 200; the demo admin can sign in.
cd "$(dirname "$0")/../.." && . tests/ops/lib.sh

git clone -q "$PWD" "$WORK/clone" || { not_ok "clone"; finish; }
cd "$WORK/clone"
ATRIUM_DB="$WORK/clone/data/atrium.db" ATRIUM_LISTEN=127.0.0.1:0 ATRIUM_LOG_LEVEL=warn \
    make -j2 run >"$WORK/run.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 1200); do
    PORT=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$WORK/run.log" | head -1)
    [ -n "$PORT" ] && break
    kill -0 $SERVER_PID 2>/dev/null || break
    sleep 0.25
done
check "make run starts the server" [ -n "$PORT" ]
check "make run printed how to sign in" grep -q 'atrium-demo-pass' "$WORK/run.log"
check "/health/ready is 200 on seeded data" [ "$(curl -s -o /dev/null -w '%{http_code}' "$(url /health/ready)")" = 200 ]
check "the demo admin exists" [ "$(sql "$WORK/clone/data/atrium.db" "SELECT COUNT(*) FROM users WHERE username='admin'")" = 1 ]
code=$(curl -s -o "$WORK/login.json" -w '%{http_code}' -X POST "$(url /api/v1/auth/login)" \
    -H 'Content-Type: application/json' -d '{"username":"admin","password":"atrium-demo-pass"}')
check "the demo admin signs in" [ "$code" = 200 ]
pkill -TERM -P "$SERVER_PID"          # make's child: scripts/run exec'd into atrium
wait $SERVER_PID 2>/dev/null
SERVER_PID=
finish
