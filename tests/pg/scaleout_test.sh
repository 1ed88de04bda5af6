#!/usr/bin/env bash
# Two real atrium processes (A and B) on one PostgreSQL database: what one
# instance does, the other sees; nothing runs twice; a killed instance loses no
# acknowledged write and its leased job is finished by the other.
# Runs in `make test-pg` (scripts/run-tests TEST_DB=pg provides ATRIUM_TEST_PG).
. tests/ops/lib.sh
[[ -n ${ATRIUM_TEST_PG:-} ]] || { echo "not ok - ATRIUM_TEST_PG is not set (run through make test-pg)"; exit 1; }

DB=scaleout_$$
PIDS=()
cleanup_all() {
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    psql -X -q "$ATRIUM_TEST_PG/postgres" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1
    cleanup
}
trap cleanup_all EXIT
psql -X -q "$ATRIUM_TEST_PG/postgres" -c "CREATE DATABASE $DB" || exit 1
export ATRIUM_DB="$ATRIUM_TEST_PG/$DB"
export ATRIUM_ENCRYPTION_KEY=${ATRIUM_ENCRYPTION_KEY:-$(openssl rand -hex 32)}   # shared by A and B
sql() { psql -X -qAt "$ATRIUM_DB" -c "$1"; }

"$ATRIUM_BIN" migrate >/dev/null && "$ATRIUM_BIN" seed codepop >/dev/null || { echo "not ok - migrate and seed"; exit 1; }

# start NAME [ENV=VALUE...]: an instance on an ephemeral port; sets PORT_<NAME>, PID_<NAME>.
start() {
    local name=$1 log="$WORK/$1.log" port=""
    shift
    env "$@" ATRIUM_LISTEN=127.0.0.1:0 "$ATRIUM_BIN" serve >"$log" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    for _ in $(seq 1 200); do
        port=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" | head -1)
        [[ -n $port ]] && break
        sleep 0.05
    done
    [[ -n $port ]] || { echo "instance $name did not start:"; cat "$log"; exit 1; }
    printf -v "PORT_$name" %s "$port"
    printf -v "PID_$name" %s "$pid"
}
api() {   # api PORT METHOD PATH [TOKEN] [BODY] [extra curl args...]
    local port=$1 method=$2 path=$3 token=${4:-} body=${5:-}
    shift 5 2>/dev/null || shift $#
    curl -s -X "$method" ${token:+-H "Authorization: Bearer $token"} ${body:+-H "Content-Type: application/json" -d "$body"} \
        "$@" "http://127.0.0.1:$port$path"
}
login() {   # login PORT USER -> access token
    api "$1" POST /api/v1/auth/login "" "{\"username\":\"$2\",\"password\":\"atrium-demo-pass\"}" | jq -r .access_token
}
pickup=$(date -u -d '+30 min' +%Y-%m-%dT%H:%M:%SZ)
order_body='{"store_id":1,"items":[{"drink_id":1,"quantity":1}],"pickup_time":"'"$pickup"'"}'

start A
start B

# --- sessions: a token issued by A works on B --------------------------------
tok=$(login "$PORT_A" codepop.user.1)
me=$(api "$PORT_B" GET /api/v1/me "$tok" | jq -r .username)
check "a token from A works on B" test "$me" = codepop.user.1
api "$PORT_A" POST /api/v1/auth/logout "$tok" '{}' >/dev/null
status=$(api "$PORT_B" GET /api/v1/me "$tok" "" -o /dev/null -w '%{http_code}')
check "a logout on A holds on B (401)" test "$status" = 401
tok=$(login "$PORT_B" codepop.user.1)

# --- idempotency: a key used on A replays on B --------------------------------
sql "UPDATE codepop_store_inventory SET quantity = 1000 WHERE store_id = 1" >/dev/null
mine="SELECT COUNT(*) FROM codepop_orders WHERE user_id = (SELECT id FROM users WHERE username = 'codepop.user.1')"
orders_before=$(sql "$mine")
first=$(api "$PORT_A" POST /api/v1/codepop/orders "$tok" "$order_body" -H "Idempotency-Key: so-$$-1")
again=$(api "$PORT_B" POST /api/v1/codepop/orders "$tok" "$order_body" -H "Idempotency-Key: so-$$-1" -D "$WORK/h")
id1=$(jq -r .id <<<"$first")
check "the order was made on A" test -n "$id1" -a "$id1" != null
check "the same key on B replays A's answer" test "$(jq -r .id <<<"$again")" = "$id1"
check "B says it replayed" grep -qi '^Idempotent-Replayed: true' "$WORK/h"
check "one order, not two" test "$(sql "$mine")" = $((orders_before + 1))

# --- realtime: an event committed through A reaches SSE and WS on B -----------
admin=$(login "$PORT_A" admin)
curl -sN -H "Authorization: Bearer $admin" "http://127.0.0.1:$PORT_B/api/v1/realtime/sse?topics=codepop.store.1" \
    >"$WORK/sse" 2>/dev/null &
sse_pid=$!
PIDS+=("$sse_pid")
python3 - "$PORT_B" "$admin" >"$WORK/ws" 2>&1 <<'PY' &
import base64, os, socket, sys, time
port, token = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port), timeout=20)
key = base64.b64encode(os.urandom(16)).decode()
s.sendall((f"GET /api/v1/realtime/ws?topics=codepop.store.1 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
           f"Authorization: Bearer {token}\r\n\r\n").encode())
buf = b""
while b"\r\n\r\n" not in buf:
    buf += s.recv(4096)
head, buf = buf.split(b"\r\n\r\n", 1)
print(head.split(b"\r\n")[0].decode(), flush=True)
end = time.time() + 20
while time.time() < end:
    while len(buf) >= 2:
        n = buf[1] & 0x7f
        off = 2
        if n == 126: n, off = int.from_bytes(buf[2:4], "big"), 4
        elif n == 127: n, off = int.from_bytes(buf[2:10], "big"), 10
        if len(buf) < off + n: break
        frame, buf = buf[off:off + n], buf[off + n:]
        print(frame.decode(errors="replace"), flush=True)
        if b"order.created" in frame.lower() or b"ORDER_CREATED" in frame:
            sys.exit(0)
    chunk = s.recv(4096)
    if not chunk: break
    buf += chunk
sys.exit(1)
PY
ws_pid=$!
sleep 1
made=$(api "$PORT_A" POST /api/v1/codepop/orders "$tok" "$order_body" | jq -r .id)
for _ in $(seq 1 60); do grep -q "ORDER_CREATED" "$WORK/sse" && break; sleep 0.1; done
check "SSE on B receives the order committed on A" grep -q "ORDER_CREATED" "$WORK/sse"
check "the SSE event carries an outbox id to resume from" grep -q '^id: [0-9]' "$WORK/sse"
wait "$ws_pid"
check "WebSocket on B receives the order committed on A" test $? -eq 0
kill "$sse_pid" 2>/dev/null
last=$(sed -n 's/^id: \([0-9]*\).*/\1/p' "$WORK/sse" | tail -1)
api "$PORT_A" POST /api/v1/codepop/orders "$tok" "$order_body" >/dev/null
timeout 3 curl -sN -H "Authorization: Bearer $admin" -H "Last-Event-ID: $last" \
    "http://127.0.0.1:$PORT_A/api/v1/realtime/sse?topics=codepop.store.1" >"$WORK/resumed" 2>/dev/null
missed=$(sql "SELECT COUNT(*) FROM outbox WHERE topic = 'codepop.store.1' AND id > $last")
check "resuming on A from B's last event id gets exactly what was missed ($missed events after order $made)" \
    test "$(grep -c '^id: ' "$WORK/resumed")" = "$missed" -a "$missed" -ge 1

# --- the last units of stock: 1,000 concurrent orders split over A and B ------
sql "UPDATE codepop_store_inventory SET quantity = 1000 WHERE store_id = 1;
     UPDATE codepop_store_inventory SET quantity = 20 WHERE store_id = 1 AND item_name = 'Cherry Syrup'" >/dev/null
before=$(sql "SELECT COUNT(*) FROM codepop_orders")
users=()
for u in $(seq 1 10); do users+=("$(login "$PORT_A" "codepop.user.$u")"); done
: >"$WORK/race.cfg"
for i in $(seq 0 999); do
    port=$PORT_A; ((i % 2)) && port=$PORT_B
    cat >>"$WORK/race.cfg" <<EOF
url = "http://127.0.0.1:$port/api/v1/codepop/orders"
request = "POST"
header = "Authorization: Bearer ${users[$((i % 10))]}"
header = "Content-Type: application/json"
data = "$(sed 's/"/\\"/g' <<<"$order_body")"
write-out = "%{http_code}\n"
output = "/dev/null"
EOF
    ((i < 999)) && echo next >>"$WORK/race.cfg"
done
# a subscriber on B hears every event of the race, committed on A or B, in id order
start=$(sql "SELECT COALESCE(MAX(id), 0) FROM outbox")
timeout 60 curl -sN -H "Authorization: Bearer $admin" \
    "http://127.0.0.1:$PORT_B/api/v1/realtime/sse?topics=codepop.store.1" >"$WORK/race.sse" 2>/dev/null &
race_sse=$!
sleep 1
curl -s --parallel --parallel-max 100 -K "$WORK/race.cfg" >"$WORK/race.out" 2>"$WORK/race.err"
created=$(grep -c '^201$' "$WORK/race.out")
refused=$(grep -c '^409$' "$WORK/race.out")
check "exactly the stock is sold (20 created, got $created)" test "$created" = 20
check "every other order is refused out of stock (980, got $refused; $(sort "$WORK/race.out" | uniq -c | tr '\n' ' '))" \
    test "$refused" = 980
check "no order beyond the stock in the database" test "$(sql "SELECT COUNT(*) FROM codepop_orders") " = "$((before + 20)) "
check "the stock is 0, never negative" test "$(sql "SELECT quantity FROM codepop_store_inventory WHERE store_id = 1 AND item_name = 'Cherry Syrup'")" = 0
check "the audit chain is intact after concurrent writers on two instances" "$ATRIUM_BIN" audit verify
sql "SELECT id FROM outbox WHERE topic = 'codepop.store.1' AND id > $start ORDER BY id" >"$WORK/race.want"
for _ in $(seq 1 50); do
    [ "$(grep -c '^id: ' "$WORK/race.sse")" -ge "$(wc -l <"$WORK/race.want")" ] && break
    sleep 0.1
done
kill "$race_sse" 2>/dev/null
sed -n 's/^id: \([0-9]*\).*/\1/p' "$WORK/race.sse" >"$WORK/race.got"
check "SSE on B got every event of the race, in id order ($(wc -l <"$WORK/race.want") in the outbox, $(wc -l <"$WORK/race.got") streamed)" \
    cmp -s "$WORK/race.want" "$WORK/race.got"
check "and one ORDER_CREATED per order sold" test "$(grep -c '^event: ORDER_CREATED$' "$WORK/race.sse")" = 20

# --- a periodic job scheduled on both instances runs once per period ---------
sql "DELETE FROM job_runs WHERE job = 'codepop.p2p_deliver'" >/dev/null
t0=$(date +%s)
sleep 9
runs=$(sql "SELECT COUNT(*) FROM job_runs WHERE job = 'codepop.p2p_deliver'")
t1=$(date +%s)
# every 2 s: at most one run per period (+1 at each edge); two schedulers running it would double that
check "codepop.p2p_deliver ran once per period on two schedulers ($runs runs in $((t1 - t0)) s)" \
    test "$runs" -ge 2 -a "$runs" -le $(( (t1 - t0) / 2 + 2 ))
check "no two runs of it overlapped" test "$(sql "SELECT COUNT(*) FROM job_runs a JOIN job_runs b ON a.id < b.id
    AND a.job = b.job AND a.job = 'codepop.p2p_deliver' AND b.started_at < a.finished_at")" = 0

# --- SIGKILL: no acknowledged write lost; the leased job is taken over -------
kill -TERM "$PID_A" "$PID_B"
wait "$PID_A" "$PID_B" 2>/dev/null
sql "UPDATE jobs SET next_run_at = 0, locked_until = 0, last_status = NULL WHERE name = 'core.cleanup'; DELETE FROM job_runs WHERE job = 'core.cleanup'" >/dev/null
start A ATRIUM_JOB_DELAY=core.cleanup:600000 ATRIUM_JOB_LEASE=4
for _ in $(seq 1 100); do
    [[ $(sql "SELECT COUNT(*) FROM job_runs WHERE job = 'core.cleanup' AND status = 'running'") = 1 ]] && break
    sleep 0.1
done
check "A holds core.cleanup's lease" test "$(sql "SELECT COUNT(*) FROM jobs WHERE name = 'core.cleanup' AND locked_by IS NOT NULL")" = 1
start B ATRIUM_JOB_LEASE=4
sql "UPDATE codepop_store_inventory SET quantity = 100000 WHERE store_id = 1" >/dev/null
tokA=$(login "$PORT_A" codepop.user.2)
: >"$WORK/acked"
(
    for i in $(seq 1 400); do
        out=$(curl -s -m 5 -H "Authorization: Bearer $tokA" -H "Content-Type: application/json" -d "$order_body" \
            -w '\n%{http_code}' "http://127.0.0.1:$PORT_A/api/v1/codepop/orders") || break
        [[ ${out##*$'\n'} == 201 ]] && jq -r .id <<<"${out%$'\n'*}" >>"$WORK/acked"
    done
) &
load=$!
sleep 1.5
kill -9 "$PID_A"
wait "$load" 2>/dev/null
acked=$(wc -l <"$WORK/acked")
missing=0
while read -r id; do
    [[ $(sql "SELECT COUNT(*) FROM codepop_orders WHERE id = $id") = 1 ]] || missing=$((missing + 1))
done <"$WORK/acked"
check "A was killed mid-load ($acked orders acknowledged before)" test "$acked" -gt 0 -a "$acked" -lt 400
check "every order A acknowledged is in the database ($missing missing)" test "$missing" = 0
tokB=$(login "$PORT_B" codepop.user.2)
check "B still serves" test "$(api "$PORT_B" POST /api/v1/codepop/orders "$tokB" "$order_body" -o /dev/null -w '%{http_code}')" = 201
for _ in $(seq 1 150); do
    [[ $(sql "SELECT last_status FROM jobs WHERE name = 'core.cleanup'") = ok ]] && break
    sleep 0.1
done
check "B finished core.cleanup after A's lease lapsed" test "$(sql "SELECT last_status FROM jobs WHERE name = 'core.cleanup'")" = ok
runs=$(sql "SELECT string_agg(status, ',' ORDER BY id) FROM job_runs WHERE job = 'core.cleanup'")
check "A's run stays recorded as running (it crashed), B's as ok ($runs)" test "$runs" = "running,ok"
check "the audit chain verifies after the crash" "$ATRIUM_BIN" audit verify

# --- readiness follows the database ------------------------------------------
check "B is ready" test "$(api "$PORT_B" GET /health/ready "" "" -o /dev/null -w '%{http_code}')" = 200
psql -X -q "$ATRIUM_TEST_PG/postgres" -c "DROP DATABASE $DB WITH (FORCE)" >/dev/null
ready=$(api "$PORT_B" GET /health/ready "" "" -w ' %{http_code}')
check "without its database B is not ready (503, database false): $ready" \
    test "${ready##* }" = 503 -a "$(jq -r .database <<<"${ready% *}")" = false
check "and still live" test "$(api "$PORT_B" GET /health/live "" "" -o /dev/null -w '%{http_code}')" = 200
finish
