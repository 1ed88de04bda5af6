# Shared helpers for shell scenarios (sourced). Each scenario prints
# "ok - name" / "not ok - name" lines and exits non-zero if anything failed.
set -u
ATRIUM_BIN=${ATRIUM_BIN:-$PWD/build/atrium}
FAILED=0
WORK=$(mktemp -d "${TMPDIR:-/tmp}/atrium-ops.XXXXXX")
SERVER_PID=
PORT=

cleanup() {
    [ -n "$SERVER_PID" ] && kill -9 "$SERVER_PID" 2>/dev/null
    if [ "$FAILED" != 0 ] && [ -s "$WORK/server.log" ]; then   # CI keeps only what is printed
        echo "# last lines of the server log:"; tail -n 20 "$WORK/server.log" | sed 's/^/#   /'
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

ok() { echo "ok - $1"; }
not_ok() { echo "not ok - $1"; FAILED=1; }
check() {   # check NAME COMMAND...
    local name=$1; shift
    if "$@"; then ok "$name"; else not_ok "$name"; fi
}
finish() { exit "$FAILED"; }

# Test-friendly defaults: cheap argon2id, generous limits, quiet logs.
export ATRIUM_PWHASH_OPS=${ATRIUM_PWHASH_OPS:-1}
export ATRIUM_PWHASH_MEM=${ATRIUM_PWHASH_MEM:-65536}
export ATRIUM_RATE_ANON=${ATRIUM_RATE_ANON:-1000000/hour}
export ATRIUM_RATE_USER=${ATRIUM_RATE_USER:-1000000/hour}
export ATRIUM_RATE_LOGIN=${ATRIUM_RATE_LOGIN:-1000000/hour}
export ATRIUM_LOG_LEVEL=${ATRIUM_LOG_LEVEL:-warn}
export ATRIUM_DB=${ATRIUM_DB:-$WORK/atrium.db}
export ATRIUM_BACKUP_DIR=${ATRIUM_BACKUP_DIR:-$WORK/backups}

# start_server: serve on an ephemeral port; sets SERVER_PID and PORT.
start_server() {
    ATRIUM_LISTEN=127.0.0.1:0 "$ATRIUM_BIN" serve >"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 200); do
        PORT=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$WORK/server.log" | head -1)
        [ -n "$PORT" ] && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.05
    done
    echo "server did not start:"; cat "$WORK/server.log"
    return 1
}

# stop_server: SIGTERM and wait; returns the server's exit status.
stop_server() {
    kill -TERM "$SERVER_PID"
    wait "$SERVER_PID"
    local rc=$?
    SERVER_PID=
    return $rc
}

url() { echo "http://127.0.0.1:$PORT$1"; }

# register NAME: 0 when the server answered 201.
register() {
    local code
    code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$(url /api/v1/auth/register)" \
        -H 'Content-Type: application/json' \
        -d "{\"username\":\"$1\",\"password\":\"Quiet-River-Lantern-77\",\"email\":\"$1@example.com\"}" 2>/dev/null)
    [ "$code" = 201 ]
}

sql() { sqlite3 -batch -noheader "$1" "$2"; }
