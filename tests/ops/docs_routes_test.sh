#!/usr/bin/env bash
# Each docs page's endpoint table (docs/API.md for the core, docs/apps/<app>.md)
# is exactly what `atrium routes APP --markdown` prints: a route, permission or
# api.json change without `make docs` fails here.
cd "$(dirname "$0")/../.." && . tests/ops/lib.sh

scripts/docs-routes --check || FAILED=1
finish
