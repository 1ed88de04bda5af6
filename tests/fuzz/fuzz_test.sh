#!/usr/bin/env bash
# CI's bounded fuzz run: build the libFuzzer harnesses with clang and run each
# for FUZZ_SECONDS (default 10; `make fuzz` runs longer). A crash fails it.
cd "$(dirname "$0")/../.." || exit 1
command -v clang >/dev/null || { echo "not ok - clang is missing (scripts/setup installs it)"; exit 1; }
if ! make --no-print-directory BUILD=build-fuzz SAN=fuzz CC=clang fuzz-build >build-fuzz.log 2>&1; then
    echo "not ok - fuzz harnesses build"; tail -20 build-fuzz.log; rm -f build-fuzz.log; exit 1
fi
rm -f build-fuzz.log
exec tests/fuzz/run build-fuzz "${FUZZ_SECONDS:-10}"
