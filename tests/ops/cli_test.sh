#!/usr/bin/env bash
# The command line: every command's --help, config check with secrets masked,
# user administration, jobs, and audit verify catching a tampered row.
cd "$(dirname "$0")/../.." && . tests/ops/lib.sh

for cmd in serve migrate seed backup restore user audit jobs config routes version; do
    check "atrium $cmd --help" sh -c "'$ATRIUM_BIN' $cmd --help | grep -q '^usage: atrium $cmd'"
done
check "unknown command exits 2" sh -c "'$ATRIUM_BIN' frobnicate 2>/dev/null; [ \$? = 2 ]"
check "version" sh -c "'$ATRIUM_BIN' version | grep -q '^atrium [0-9]'"

key=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
out=$(ATRIUM_ENCRYPTION_KEY=$key ATRIUM_METRICS_TOKEN=s3cr3t-token "$ATRIUM_BIN" config check)
check "config check is valid" sh -c "echo '$out' | grep -q 'configuration is valid'"
check "config check masks secrets" sh -c "! echo '$out' | grep -q -e '$key' -e 's3cr3t-token'"
check "config check rejects a bad rate" sh -c "ATRIUM_RATE_ANON=lots '$ATRIUM_BIN' config check 2>&1 | grep -q ATRIUM_RATE_ANON"
check "config check rejects a short key" sh -c "ATRIUM_ENCRYPTION_KEY=abc '$ATRIUM_BIN' config check 2>/dev/null; [ \$? = 2 ]"

check "migrate" "$ATRIUM_BIN" migrate
check "migrate again applies nothing" sh -c "'$ATRIUM_BIN' migrate | grep -q 'applied 0'"
check "seed core prints the accounts" sh -c "'$ATRIUM_BIN' seed core | grep -q '^admin '"
check "user add" sh -c "'$ATRIUM_BIN' user add carol --password 'Violet-Tundra-93' --email carol@example.com >/dev/null"
check "user add refuses a weak password" sh -c "! '$ATRIUM_BIN' user add dave --password 12345678 2>/dev/null"
check "user passwd from stdin" sh -c "echo 'Amber-Glacier-51' | '$ATRIUM_BIN' user passwd carol >/dev/null"
check "user role assigns" sh -c "'$ATRIUM_BIN' user role carol core auditor >/dev/null"
check "role row exists" [ "$(sql "$ATRIUM_DB" "SELECT COUNT(*) FROM user_roles r JOIN users u ON u.id=r.user_id WHERE u.username='carol' AND r.role='auditor'")" = 1 ]
check "user role refuses an unknown role" sh -c "! '$ATRIUM_BIN' user role carol core wizard 2>/dev/null"
check "jobs list shows core jobs" sh -c "'$ATRIUM_BIN' jobs list | grep -q core.cleanup"
check "jobs run core.cleanup" sh -c "'$ATRIUM_BIN' jobs run core.cleanup | grep -q '^ok'"
check "jobs run unknown fails" sh -c "! '$ATRIUM_BIN' jobs run no.such.job 2>/dev/null"

check "audit verify on an intact log" sh -c "'$ATRIUM_BIN' audit verify | grep -q intact"
row=$(sql "$ATRIUM_DB" "SELECT id FROM audit_log ORDER BY id LIMIT 1 OFFSET 1")
sql "$ATRIUM_DB" "UPDATE audit_log SET action='x' WHERE id=$row" 2>/dev/null
check "the database refuses UPDATE on audit_log" [ "$(sql "$ATRIUM_DB" "SELECT action FROM audit_log WHERE id=$row")" != x ]
sql "$ATRIUM_DB" "DROP TRIGGER audit_log_no_update; UPDATE audit_log SET summary='{\"forged\":1}' WHERE id=$row"
out=$("$ATRIUM_BIN" audit verify); rc=$?
check "audit verify fails after tampering" [ "$rc" = 1 ]
check "audit verify names row $row" sh -c "echo '$out' | grep -q 'row $row '"
finish
