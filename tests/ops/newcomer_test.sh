#!/usr/bin/env bash
# What a newcomer runs into with the real binary (issue #9, section 6): the
# CLI's database and read-only commands, `config check` printing limits as the
# README writes them, the README itself (no links outside the repository,
# every demo account it names logs in after `atrium seed all`), and the demo
# admin reaching every app.
cd "$(dirname "$0")/../.." && . tests/ops/lib.sh

# --- item 2: read-only commands never create a database
missing=$WORK/missing/atrium.db
out=$(ATRIUM_DB=$missing "$ATRIUM_BIN" audit verify 2>&1); rc=$?
check "audit verify on a missing database exits 1" [ "$rc" = 1 ]
check "audit verify names the missing file" sh -c "echo '$out' | grep -q 'no database at $missing'"
check "audit verify created nothing" [ ! -e "$missing" ]
check "user passwd on a missing database creates nothing" \
    sh -c "! ATRIUM_DB='$missing' '$ATRIUM_BIN' user passwd admin --password 'Amber-Glacier-51' 2>/dev/null && [ ! -e '$missing' ]"
ATRIUM_DB=$WORK/empty.db "$ATRIUM_BIN" migrate >/dev/null
out=$(ATRIUM_DB=$WORK/empty.db "$ATRIUM_BIN" audit verify 2>&1); rc=$?
check "audit verify on an empty database exits 1" [ "$rc" = 1 ]
check "audit verify says the log is empty" sh -c "echo '$out' | grep -q 'audit log of .* is empty'"

# ... and without ATRIUM_DB the checkout's binary uses the checkout's database, from anywhere
elsewhere=$WORK/elsewhere; mkdir -p "$elsewhere"
out=$(cd "$elsewhere" && env -u ATRIUM_DB "$ATRIUM_BIN" audit verify 2>&1)
check "without ATRIUM_DB the CLI says which database it uses" \
    sh -c "echo '$out' | grep -q 'using $PWD/data/atrium.db'"
check "and creates nothing where it was started" [ ! -e "$elsewhere/data" ]

# --- item 9: limits printed as written
out=$(ATRIUM_RATE_ANON=100/hour ATRIUM_RATE_USER=1000/hour ATRIUM_RATE_LOGIN=10/minute "$ATRIUM_BIN" config check)
check "config check prints 100/hour" sh -c "echo '$out' | grep -q '^ATRIUM_RATE_ANON  *100/hour$'"
check "config check prints 10/minute" sh -c "echo '$out' | grep -q '^ATRIUM_RATE_LOGIN  *10/minute$'"

# --- item 10: the README
check "README links nothing outside the repository" sh -c "! grep -n -e '\.\./' -e 'shared/spec' README.md"
accounts=$(sed -n '/<!-- demo-accounts:begin -->/,/<!-- demo-accounts:end -->/p' README.md | grep -o '`[a-z][a-zA-Z0-9._]*`' | tr -d '`' | sort -u)
check "README names demo accounts" [ "$(echo "$accounts" | wc -w)" -ge 5 ]

"$ATRIUM_BIN" seed all >/dev/null 2>&1
start_server
login() {   # login USER: prints the access token
    curl -s "$(url /api/v1/auth/login)" -H 'Content-Type: application/json' \
        -d "{\"username\":\"$1\",\"password\":\"atrium-demo-pass\"}" | sed -n 's/.*"access_token":"\([0-9a-f]*\)".*/\1/p'
}
for a in $accounts; do
    check "README account $a logs in" [ -n "$(login "$a")" ]
done

# --- item 1: the demo admin can do everything in every enabled app
tok=$(login admin)
status() { curl -s -o /dev/null -w '%{http_code}' "$(url "$1")" -H "Authorization: Bearer $tok"; }
check "admin reads codepop supply requests" [ "$(status /api/v1/codepop/supply-requests)" = 200 ]
check "admin reads the groupbuy ledger" [ "$(status /api/v1/groupbuy/admin/ledger)" = 200 ]
tok=$(login codepop.admin)
check "codepop.admin reads codepop's audit rows" [ "$(status '/api/v1/audit?app=codepop')" = 200 ]
check "codepop.admin may not read the whole log" [ "$(status /api/v1/audit)" = 403 ]
stop_server
finish
