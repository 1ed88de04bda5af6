#!/usr/bin/env bash
# codepop peer to peer, end to end: two real `atrium serve` processes on
# loopback, each with its own database seeded with the same reference data --
# a hub node (hub 1) and a store node (store 1, supplied by hub 1).
#
#   supply request at the store -> mirrored at the hub -> approved at the hub
#   -> approved + scheduled delivery at the store -> in_transit, delivered at
#   the hub -> the store's stock rises by exactly the quantities, once.
#   Hub stopped: new events wait pending at the store; hub restarted (same
#   database): they all arrive, each applied once. Forged and replayed
#   requests get 401.
cd "$(dirname "$0")/../../.." && . tests/ops/lib.sh

HUB_PID= STORE_PID=
cleanup() {
    [ -n "$HUB_PID" ] && kill -9 "$HUB_PID" 2>/dev/null
    [ -n "$STORE_PID" ] && kill -9 "$STORE_PID" 2>/dev/null
    rm -rf "$WORK"
}

uuid() { cat /proc/sys/kernel/random/uuid; }
# A loopback port nobody listens on now (bounded tries), below the kernel's
# ephemeral range so that no outbound connection of another test holds it.
free_port() {
    local p low
    read -r low _ </proc/sys/net/ipv4/ip_local_port_range
    ((low > 12000)) || low=32768
    for _ in $(seq 1 100); do
        p=$((10000 + RANDOM % (low - 10000)))
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
    done
    return 1
}
# poll SECONDS COMMAND...: true as soon as the command succeeds.
poll() {
    local until=$((SECONDS + $1)); shift
    while ((SECONDS < until)); do "$@" && return 0; sleep 0.25; done
    "$@"
}

for tool in curl jq sqlite3 openssl; do
    command -v "$tool" >/dev/null || { not_ok "$tool is installed (scripts/setup)"; finish; }
done

HUB_ID=$(uuid) STORE_NODE_ID=$(uuid)
SECRET=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
mkdir -p "$WORK/hub" "$WORK/store"
HUB_DB=$WORK/hub/atrium.db STORE_DB=$WORK/store/atrium.db
export ATRIUM_JOBS=1 ATRIUM_P2P_SECRET=$SECRET ATRIUM_P2P_MAX_BACKOFF=4 ATRIUM_LOG_LEVEL=warn
unset ATRIUM_DB

# start NAME PORT ENV...: serve in the background, wait until /health/live answers.
start() {
    local name=$1 port=$2 pid; shift 2
    env ATRIUM_DB="$WORK/$name/atrium.db" ATRIUM_LISTEN="127.0.0.1:$port" ATRIUM_NODE_URL="http://127.0.0.1:$port" \
        "$@" "$ATRIUM_BIN" serve >>"$WORK/$name.log" 2>&1 &
    pid=$!
    if [ "$name" = hub ]; then HUB_PID=$pid; else STORE_PID=$pid; fi
    poll 15 curl -sf -o /dev/null "http://127.0.0.1:$port/health/live" && kill -0 "$pid" 2>/dev/null && return 0
    echo "# $name did not start:"; sed 's/^/#   /' "$WORK/$name.log" | tail -20
    return 1
}
start_hub() {
    start hub "$HUB_PORT" ATRIUM_NODE_TYPE=hub ATRIUM_NODE_ID="$HUB_ID" ATRIUM_NODE_HUB_ID=1
}
start_store() {
    start store "$STORE_PORT" ATRIUM_NODE_TYPE=store ATRIUM_NODE_ID="$STORE_NODE_ID" ATRIUM_NODE_STORE_ID=1 \
        ATRIUM_HUB_URL="$HUB"
}
stop() {    # stop hub|store: SIGTERM, wait, exit status
    local pid rc
    if [ "$1" = hub ]; then pid=$HUB_PID; HUB_PID=; else pid=$STORE_PID; STORE_PID=; fi
    kill -TERM "$pid" && wait "$pid"
}

# --- two seeded databases, two nodes --------------------------------------
for n in hub store; do
    ATRIUM_DB="$WORK/$n/atrium.db" "$ATRIUM_BIN" seed codepop --seed 7 --orders 0 >"$WORK/seed-$n.log" 2>&1 ||
        { not_ok "seed the $n database"; cat "$WORK/seed-$n.log"; finish; }
done
check "both databases hold the same reference data" \
    [ "$(sql "$HUB_DB" 'SELECT group_concat(id || name || supply_hub_id) FROM codepop_stores')" = \
      "$(sql "$STORE_DB" 'SELECT group_concat(id || name || supply_hub_id) FROM codepop_stores')" ]
check "store 1 is supplied by hub 1" [ "$(sql "$STORE_DB" 'SELECT supply_hub_id FROM codepop_stores WHERE id = 1')" = 1 ]

# start_on NAME: a free port, retried when another process takes it first.
start_on() {
    local port
    for _ in 1 2 3; do
        port=$(free_port) || return 1
        if [ "$1" = hub ]; then HUB_PORT=$port HUB=http://127.0.0.1:$port; start_hub && return 0
        else STORE_PORT=$port STORE=http://127.0.0.1:$port; start_store && return 0; fi
        grep -q "already in use" "$WORK/$1.log" || return 1
    done
    return 1
}
start_on hub || { not_ok "hub node starts"; finish; }
start_on store || { not_ok "store node starts"; finish; }
ok "hub ($HUB_PORT) and store ($STORE_PORT) nodes start"

hub_known() { [ "$(sql "$STORE_DB" "SELECT COUNT(*) FROM codepop_nodes WHERE node_id = '$HUB_ID' AND status = 'active'")" = 1 ]; }
check "the store registered with the hub at startup" poll 10 hub_known
check "the hub knows the store node (credential sealed)" [ "$(sql "$HUB_DB" \
    "SELECT COUNT(*) FROM codepop_nodes WHERE node_id = '$STORE_NODE_ID' AND store_id = 1 AND length(credential) > 64")" = 1 ]

login() {   # login BASE USERNAME -> access token
    curl -s -X POST "$1/api/v1/auth/login" -H 'Content-Type: application/json' \
        -d "{\"username\":\"$2\",\"password\":\"atrium-demo-pass\"}" | jq -r '.access_token // empty'
}
MGR=$(login "$STORE" codepop.manager.1)
LOGI=$(login "$HUB" codepop.logistics.A)
ADMIN=$(login "$STORE" codepop.admin)
check "store manager, hub logistics manager and admin log in" [ -n "$MGR" -a -n "$LOGI" -a -n "$ADMIN" ]

call() {    # call METHOD URL TOKEN [BODY] -> body on stdout, status in $WORK/status
    curl -s -o "$WORK/body" -w '%{http_code}' -X "$1" "$2" -H "Authorization: Bearer $3" \
        -H 'Content-Type: application/json' -H "Idempotency-Key: $(uuid)" ${4:+-d "$4"} >"$WORK/status"
    cat "$WORK/body"
}
status() { cat "$WORK/status"; }
stock() { sql "$STORE_DB" "SELECT quantity FROM codepop_store_inventory WHERE store_id = 1 AND item_name = '$1'"; }
new_request() {     # new_request QTY -> uuid of a supply request made at the store node
    call POST "$STORE/api/v1/codepop/supply-requests" "$MGR" \
        "{\"items\":[{\"item_name\":\"Cherry Syrup\",\"item_type\":\"Syrups\",\"quantity\":$1},{\"item_name\":\"Cups\",\"item_type\":\"Cups\",\"quantity\":200}],\"urgency\":\"HIGH\",\"notes\":\"p2p scenario\"}" |
        jq -r '.uuid // empty'
}

# --- supply request: store -> hub -> store ---------------------------------
cherry0=$(stock 'Cherry Syrup') cups0=$(stock Cups)
R1=$(new_request 40)
check "the store manager creates a supply request at the store node" [ "$(status)" = 201 -a -n "$R1" ]
at_hub() { [ "$(sql "$HUB_DB" "SELECT COUNT(*) FROM codepop_supply_requests WHERE uuid = '$1'")" = 1 ]; }
check "it appears at the hub within 20 s" poll 20 at_hub "$R1"
HID=$(sql "$HUB_DB" "SELECT id FROM codepop_supply_requests WHERE uuid = '$R1'")
total=$(call GET "$HUB/api/v1/codepop/supply-requests?status=pending&store_id=1" "$LOGI" | jq -r '[.items[] | select(.uuid == "'"$R1"'")] | length')
check "the hub's logistics manager sees it pending with its items" [ "$total" = 1 ]
sent() { [ "$(sql "$STORE_DB" "SELECT status FROM codepop_p2p_events WHERE event_type = 'SUPPLY_REQUEST_CREATED' \
              AND payload LIKE '%$R1%'")" = delivered ]; }
check "the store's outbox row is delivered" poll 5 sent

DID=$(call POST "$HUB/api/v1/codepop/supply-requests/$HID/approve" "$LOGI" '{}' | jq -r '.delivery_id // empty')
check "the hub's logistics manager approves at the hub" [ "$(status)" = 200 -a -n "$DID" ]
approved() {
    [ "$(sql "$STORE_DB" "SELECT r.status || '/' || d.status FROM codepop_supply_requests r JOIN codepop_deliveries d \
          ON d.supply_request_uuid = r.uuid WHERE r.uuid = '$R1'")" = approved/scheduled ]
}
check "the store sees approved and a scheduled delivery" poll 20 approved
mstatus=$(call GET "$STORE/api/v1/codepop/supply-requests?store_id=1" "$MGR" | jq -r '.items[] | select(.uuid == "'"$R1"'") | .status')
check "the store manager reads approved through the API" [ "$mstatus" = approved ]

call POST "$HUB/api/v1/codepop/deliveries/$DID/status" "$LOGI" '{"status":"in_transit"}' >/dev/null
check "the hub marks the delivery in_transit" [ "$(status)" = 200 ]
call POST "$HUB/api/v1/codepop/deliveries/$DID/status" "$LOGI" '{"status":"delivered"}' >/dev/null
check "the hub marks the delivery delivered" [ "$(status)" = 200 ]
delivered() { [ "$(sql "$STORE_DB" "SELECT status FROM codepop_deliveries WHERE supply_request_uuid = '$R1'")" = delivered ]; }
check "the store sees delivered" poll 20 delivered
sleep 3     # a few more delivery rounds: nothing may arrive twice
check "store stock rose by exactly the quantities, once (Cherry $cherry0 -> $(stock 'Cherry Syrup'), Cups $cups0 -> $(stock Cups))" \
    [ "$(stock 'Cherry Syrup')" = $((cherry0 + 40)) -a "$(stock Cups)" = $((cups0 + 200)) ]
check "each hub event was received once at the store" [ "$(sql "$STORE_DB" \
    "SELECT group_concat(event_type || ':' || n) FROM (SELECT event_type, COUNT(*) n FROM codepop_p2p_inbox GROUP BY event_type ORDER BY event_type)")" = \
    "DELIVERY_SCHEDULED:1,DELIVERY_STATUS_CHANGED:2,SUPPLY_REQUEST_APPROVED:1" ]

# --- hub down: events wait; hub back: all arrive, once each ---------------
check "the hub stops cleanly" stop hub
R2=$(new_request 11)
R3=$(new_request 12)
check "two more requests are created at the store while the hub is down" [ -n "$R2" -a -n "$R3" ]
tried() { [ "$(sql "$STORE_DB" "SELECT COUNT(*) FROM codepop_p2p_events WHERE status = 'pending' AND attempts >= 1 \
              AND (payload LIKE '%$R2%' OR payload LIKE '%$R3%')")" -ge 1 ]; }
check "their events stay pending after failed attempts" poll 10 tried
check "nothing for them is delivered or failed" [ "$(sql "$STORE_DB" "SELECT COUNT(*) FROM codepop_p2p_events \
    WHERE status <> 'pending' AND (payload LIKE '%$R2%' OR payload LIKE '%$R3%')")" = 0 ]
pend=$(call GET "$STORE/api/v1/codepop/p2p/health" "" | jq -r '.outbox.pending')
check "the store's /p2p/health shows the backlog ($pend pending)" [ "$pend" = 2 ]

start_hub || { not_ok "the hub restarts on the same database"; finish; }
both() { at_hub "$R2" && at_hub "$R3"; }
check "after the restart both requests arrive at the hub" poll 30 both
drained() { [ "$(sql "$STORE_DB" "SELECT COUNT(*) FROM codepop_p2p_events WHERE status <> 'delivered'")" = 0 ]; }
check "the store's outbox drains (all delivered)" poll 20 drained
sleep 3
check "each request is mirrored once at the hub" [ "$(sql "$HUB_DB" \
    "SELECT COUNT(*) FROM codepop_supply_requests WHERE uuid IN ('$R1', '$R2', '$R3')")" = 3 ]
check "the hub's inbox holds each SUPPLY_REQUEST_CREATED once" [ "$(sql "$HUB_DB" \
    "SELECT COUNT(*) || '/' || COUNT(DISTINCT event_id) FROM codepop_p2p_inbox WHERE event_type = 'SUPPLY_REQUEST_CREATED'")" = 3/3 ]
check "mirrored items match (no doubles)" [ "$(sql "$HUB_DB" "SELECT COUNT(*) FROM codepop_supply_request_items i \
    JOIN codepop_supply_requests r ON r.id = i.request_id WHERE r.uuid IN ('$R1', '$R2', '$R3')")" = 6 ]
seen=$(call GET "$HUB/api/v1/codepop/p2p/health" "" | jq -r '.peers[] | select(.node_id == "'"$STORE_NODE_ID"'") | .last_contact_at')
check "the hub's /p2p/health lists the store with its last contact ($seen)" [ -n "$seen" -a "$seen" != null ]

# --- forged and replayed requests ------------------------------------------
hmac() { printf '%s' "$2" | openssl dgst -sha256 -hmac "$1" | sed 's/^.*= //'; }
post_signed() {     # post_signed NODE TS SIGNATURE PATH BODY -> status code; body in $WORK/body
    curl -s -o "$WORK/body" -w '%{http_code}' -X POST "$HUB$4" -H 'Content-Type: application/json' \
        -H "X-Atrium-Node: $1" -H "X-Atrium-Timestamp: $2" -H "X-Atrium-Signature: $3" --data-binary "$5"
}
EVENTS=/api/v1/codepop/p2p/events
ts=$(date +%s)
ev="{\"event_id\":\"$(uuid)\",\"event_type\":\"SUPPLY_REQUEST_CREATED\",\"source_node_id\":\"$STORE_NODE_ID\",\"created_at\":\"2026-01-01T00:00:00Z\",\"payload\":{}}"
code=$(post_signed "$STORE_NODE_ID" "$ts" "$(hmac not-the-credential "$(printf 'POST\n%s\n%s\n%s' "$EVENTS" "$ts" "$ev")")" "$EVENTS" "$ev")
check "a forged signature is refused with 401 invalid_signature" [ "$code" = 401 -a "$(jq -r .error.code "$WORK/body")" = invalid_signature ]

# A third node registers with the bootstrap secret; one of its requests is captured and sent twice.
NODE3=$(uuid)
reg="{\"node_id\":\"$NODE3\",\"node_type\":\"store\",\"url\":\"http://127.0.0.1:9\",\"store_id\":2,\"timestamp\":$ts}"
code=$(post_signed "$NODE3" "$ts" "$(hmac "$SECRET" "$(printf 'POST\n%s\n%s\n%s' /api/v1/codepop/p2p/nodes/register "$ts" "$reg")")" \
    /api/v1/codepop/p2p/nodes/register "$reg")
CRED=$(jq -r '.credential // empty' "$WORK/body")
check "registration with the bootstrap secret answers a credential" [ "$code" = 201 -a ${#CRED} = 64 ]
ev="{\"event_id\":\"$(uuid)\",\"event_type\":\"SCENARIO_PING\",\"source_node_id\":\"$NODE3\",\"created_at\":\"2026-01-01T00:00:00Z\",\"payload\":{\"n\":1}}"
sig=$(hmac "$CRED" "$(printf 'POST\n%s\n%s\n%s' "$EVENTS" "$ts" "$ev")")
code=$(post_signed "$NODE3" "$ts" "$sig" "$EVENTS" "$ev")
check "a correctly signed event is accepted" [ "$code" = 200 -a "$(jq -r .status "$WORK/body")" = applied ]
code=$(post_signed "$NODE3" "$ts" "$sig" "$EVENTS" "$ev")
check "the same request replayed is refused with 401 replayed" [ "$code" = 401 -a "$(jq -r .error.code "$WORK/body")" = replayed ]
old=$((ts - 400))
code=$(post_signed "$NODE3" "$old" "$(hmac "$CRED" "$(printf 'POST\n%s\n%s\n%s' "$EVENTS" "$old" "$ev")")" "$EVENTS" "$ev")
check "a request older than 5 minutes is refused with 401" [ "$code" = 401 ]
check "the ping was recorded once" [ "$(sql "$HUB_DB" "SELECT COUNT(*) FROM codepop_p2p_inbox WHERE event_type = 'SCENARIO_PING'")" = 1 ]

n=$(call GET "$STORE/api/v1/codepop/p2p/nodes" "$ADMIN" | jq -r '.total')
no_credentials() { ! grep -q credential "$WORK/body"; }
check "the store's admin lists its nodes (the hub), without credentials" [ "$n" = 1 ]
check "the node list shows no credential" no_credentials
check "the hub stops cleanly" stop hub
check "the store stops cleanly" stop store
check "the audit chains verify" sh -c "ATRIUM_DB='$HUB_DB' '$ATRIUM_BIN' audit verify >/dev/null && ATRIUM_DB='$STORE_DB' '$ATRIUM_BIN' audit verify >/dev/null"
finish
