#!/usr/bin/env bash
# The OpenAPI contract on a live server: /api/v1/openapi.json passes
# `redocly lint` (the recommended ruleset, tools/openapi/redocly.yaml) with no
# error and no warning, and /api/docs serves ReDoc from the binary alone.
cd "$(dirname "$0")/../.." && . tests/ops/lib.sh

REDOCLY=tools/openapi/node_modules/.bin/redocly
# No telemetry or update check: the test talks to nothing but the server.
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true

start_server || { not_ok "server starts"; finish; }
code=$(curl -s -o "$WORK/openapi.json" -w '%{http_code}' "$(url /api/v1/openapi.json)")
check "openapi.json answers 200" [ "$code" = 200 ]
version=$("$ATRIUM_BIN" version | cut -d' ' -f2)
check "it is OpenAPI 3.1 of version $version" [ "$(jq -r '.openapi + " " + .info.version' "$WORK/openapi.json")" = "3.1.0 $version" ]
if [ -x "$REDOCLY" ]; then
    "$REDOCLY" lint --config tools/openapi/redocly.yaml --format=stylish "$WORK/openapi.json" >"$WORK/lint.txt" 2>&1
    rc=$?
    check "redocly lint finds no error" [ "$rc" = 0 ]
    check "redocly lint finds no warning" sh -c "! grep -qi 'warning' '$WORK/lint.txt'"
    [ "$rc" = 0 ] && ! grep -qi warning "$WORK/lint.txt" || cat "$WORK/lint.txt"
else
    not_ok "redocly is installed (run scripts/setup)"
fi

code=$(curl -s -D "$WORK/h" -o "$WORK/docs.html" -w '%{http_code}' "$(url /api/docs)")
check "/api/docs answers 200" [ "$code" = 200 ]
check "/api/docs is HTML" grep -qi '^Content-Type: text/html' "$WORK/h"
check "/api/docs forbids scripts from elsewhere" grep -qi "^Content-Security-Policy: .*script-src 'self'" "$WORK/h"
check "/api/docs renders the server's own document" grep -q 'spec-url="/api/v1/openapi.json"' "$WORK/docs.html"
check "/api/docs names no other host" sh -c "! grep -q '//' '$WORK/docs.html'"
bundle=$(sed -n 's/.*<script src="\([^"]*\)".*/\1/p' "$WORK/docs.html")
code=$(curl -s -D "$WORK/hb" -o "$WORK/bundle.js" -w '%{http_code}' "$(url "$bundle")")
check "the ReDoc bundle is served ($bundle)" [ "$code" = 200 ]
check "it is the vendored bundle, byte for byte" cmp -s "$WORK/bundle.js" vendor/redoc/redoc.standalone.js
check "it may be cached for a year" grep -qi '^Cache-Control: public, max-age=31536000, immutable' "$WORK/hb"
check "it loads no fonts or scripts from a CDN" \
    sh -c "! grep -Eq 'fonts\.googleapis|fonts\.gstatic|unpkg\.com|jsdelivr|cdnjs' '$WORK/bundle.js'"
stop_server
finish
