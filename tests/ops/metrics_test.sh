#!/usr/bin/env bash
# /metrics on a live server passes promtool; the token protects it when set;
# health endpoints are never rate limited.
cd "$(dirname "$0")/../.." && . tests/ops/lib.sh

export ATRIUM_RATE_ANON=5/hour
start_server || { not_ok "server starts"; finish; }
for _ in $(seq 1 20); do curl -s -o /dev/null "$(url /health/live)"; done
check "health is never rate limited" [ "$(curl -s -o /dev/null -w '%{http_code}' "$(url /health/live)")" = 200 ]
for _ in 1 2 3 4 5; do curl -s -o /dev/null "$(url /api/v1/nothing)"; done
code=$(curl -s -D "$WORK/h" -o /dev/null -w '%{http_code}' "$(url /api/v1/nothing)")
check "anonymous rate limit answers 429" [ "$code" = 429 ]
check "429 carries Retry-After" grep -qi '^Retry-After: [0-9]' "$WORK/h"
curl -s "$(url /metrics)" >"$WORK/metrics.txt"
check "metrics pass promtool check metrics" sh -c "promtool check metrics <'$WORK/metrics.txt'"
check "metrics count requests by route" grep -q 'atrium_http_requests_total{route="/health/live",method="GET",status="200"} 21' "$WORK/metrics.txt"
check "metrics count rate-limited calls" grep -q 'atrium_rate_limited_total' "$WORK/metrics.txt"
check "readiness gauge is 1" grep -q '^atrium_ready 1' "$WORK/metrics.txt"
stop_server

export ATRIUM_METRICS_TOKEN=scrape-token-123
start_server || { not_ok "server starts with a metrics token"; finish; }
check "metrics without the token is 401" [ "$(curl -s -o /dev/null -w '%{http_code}' "$(url /metrics)")" = 401 ]
check "metrics with the token is 200" [ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer scrape-token-123' "$(url /metrics)")" = 200 ]
stop_server
check "alert rules pass promtool check rules" promtool check rules deploy/prometheus/alerts.yml
finish
