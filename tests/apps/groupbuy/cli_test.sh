#!/usr/bin/env bash
# groupbuy from the command line and over the wire, with the real binary:
# `atrium seed groupbuy`, `atrium jobs run groupbuy.auto_complete` printing
# what it did and why it skipped (and nothing the second time), then a served
# trader paying with a pending sandbox charge settled by a webhook signed with
# openssl, the way docs/PAYMENTS.md shows it; and who may follow a group's
# realtime topic.
cd "$(dirname "$0")/../../.." && . tests/ops/lib.sh
export ATRIUM_SANDBOX_WEBHOOK_SECRET=cli-test-secret ATRIUM_JOBS=0

check "migrate" sh -c "'$ATRIUM_BIN' migrate >/dev/null"
check "seed groupbuy prints the accounts" sh -c "'$ATRIUM_BIN' seed groupbuy | grep -q '^groupbuy.trader.1 '"
out=$("$ATRIUM_BIN" jobs run groupbuy.auto_complete)
check "auto_complete completes the ready group" sh -c "echo '$out' | grep -Eq '^group [0-9]+: completed, order ORD-[0-9]+-[0-9]+$'"
check "auto_complete fails the group short of its MOQ and refunds it" \
    sh -c "echo '$out' | grep -Eq '^group [0-9]+: failed \(MOQ not met: [0-9]+ of [0-9]+\), [0-9]+ refund\(s\): [0-9]+ refunded, 0 failed$'"
check "auto_complete says why it skipped" sh -c "echo '$out' | grep -Eq '^group [0-9]+: skipped: deadline not reached$'"
check "auto_complete summary" sh -c "echo '$out' | grep -Eq '^completed 1, failed 1, skipped [0-9]+$'"
before=$(sql "$ATRIUM_DB" "SELECT (SELECT COUNT(*) FROM groupbuy_ledger) || '/' || (SELECT COUNT(*) FROM audit_log) || '/' || (SELECT group_concat(status) FROM groupbuy_groups)")
out=$("$ATRIUM_BIN" jobs run groupbuy.auto_complete)
check "a second run completes and fails nothing" sh -c "echo '$out' | grep -Eq '^completed 0, failed 0, skipped [0-9]+$'"
after=$(sql "$ATRIUM_DB" "SELECT (SELECT COUNT(*) FROM groupbuy_ledger) || '/' || (SELECT COUNT(*) FROM audit_log) || '/' || (SELECT group_concat(status) FROM groupbuy_groups)")
check "a second run changes nothing" [ "$before" = "$after" ]

check "a user without a groupbuy role" sh -c "'$ATRIUM_BIN' user add outsider --password 'Violet-Tundra-93' >/dev/null"
start_server || { not_ok "server starts"; finish; }
token=$(curl -s "$(url /api/v1/auth/login)" -H 'Content-Type: application/json' \
    -d '{"username":"groupbuy.trader.1","password":"atrium-demo-pass"}' | jq -r .access_token)
group=$(sql "$ATRIUM_DB" "SELECT id FROM groupbuy_groups WHERE status = 'open' AND deadline > strftime('%Y-%m-%dT%H:%M:%SZ','now') ORDER BY id LIMIT 1")
joined=$(curl -s "$(url /api/v1/groupbuy/groups/$group/join)" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' -H "Idempotency-Key: cli-join-$group" -d '{"quantity":1}')
contribution=$(echo "$joined" | jq -r .id)
check "a trader joins an open group" [ "$(echo "$joined" | jq -r .payment_status)" = unpaid ]
paid=$(curl -s -w '\n%{http_code}' "$(url /api/v1/groupbuy/contributions/$contribution/pay)" \
    -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -H "Idempotency-Key: cli-pay-$contribution" -d '{"payment_token":"tok_pending"}')
check "a pending charge answers 202" [ "$(echo "$paid" | tail -1)" = 202 ]
amount=$(echo "$paid" | head -1 | jq -r .amount_cents)
body="{\"id\":\"evt_cli_$contribution\",\"type\":\"charge.succeeded\",\"data\":{\"reference\":\"GB-C$contribution-1\",\"provider_ref\":\"sbx_ch_cli$contribution\",\"amount_cents\":$amount,\"currency\":\"USD\"}}"
sig=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$ATRIUM_SANDBOX_WEBHOOK_SECRET" | sed 's/^.*= //')
hook() { curl -s -o /dev/null -w '%{http_code}' "$(url /api/v1/groupbuy/payments/webhook/sandbox)" \
    -H 'Content-Type: application/json' -H "X-Sandbox-Signature: $1" -d "$body"; }
check "a forged webhook is 401" [ "$(hook 00"${sig:2}")" = 401 ]
check "the signed webhook is applied" [ "$(hook "$sig")" = 200 ]
check "the same webhook again is a duplicate" [ "$(curl -s "$(url /api/v1/groupbuy/payments/webhook/sandbox)" \
    -H 'Content-Type: application/json' -H "X-Sandbox-Signature: $sig" -d "$body" | jq -r .status)" = duplicate ]
check "the contribution is paid once" [ "$(sql "$ATRIUM_DB" "SELECT payment_status || ':' || (SELECT COUNT(*) FROM groupbuy_payments WHERE contribution_id = $contribution) FROM groupbuy_contributions WHERE id = $contribution")" = paid:1 ]
admin=$(curl -s "$(url /api/v1/auth/login)" -H 'Content-Type: application/json' \
    -d '{"username":"groupbuy.admin.1","password":"atrium-demo-pass"}' | jq -r .access_token)
check "the ledger reconciles" [ "$(curl -s "$(url /api/v1/groupbuy/admin/ledger)" -H "Authorization: Bearer $admin" | jq -r .balanced)" = true ]
sse() { curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$(url "/api/v1/realtime/sse?topics=$1")" \
    -H "Authorization: Bearer $token" -H 'Accept: text/event-stream'; }
check "a trader may follow a group's realtime topic" [ "$(sse groupbuy.group.$group)" = 200 ]
check "but not a topic groupbuy does not have" [ "$(sse groupbuy.ledger.1)" = 403 ]
token=$(curl -s "$(url /api/v1/auth/login)" -H 'Content-Type: application/json' \
    -d '{"username":"outsider","password":"Violet-Tundra-93"}' | jq -r .access_token)
check "a user without a groupbuy role may not follow a group" [ "$(sse groupbuy.group.$group)" = 403 ]
check "server stops cleanly" stop_server
finish
