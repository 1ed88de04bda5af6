#!/usr/bin/env bash
# The fault-injection walks (tests/**/test_faults.c) under AddressSanitizer and
# UndefinedBehaviorSanitizer, in every `make test`: a failure injected at any
# database step must leave no partial state *and* leak or corrupt nothing
# (issue #9). Builds them in build-asan/ (reused by `make test-asan`); under
# `make test-asan` itself the suite already runs them there, so this skips.
# Prints "ok - name" / "not ok - name"; exits 1 if any failed.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
if [ "$BUILD" = build-asan ]; then
    echo "ok - the suite itself runs under ASan: the fault walks ran there"
    exit 0
fi
failed=0
bins=$(find tests -name 'test_faults.c' | sort | sed 's|^tests/\(.*\)\.c$|build-asan/tests/\1|')
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if make -j"$(nproc)" BUILD=build-asan SAN=1 $bins >"$log" 2>&1; then
    echo "ok - the fault walks build under ASan/UBSan"
else
    echo "not ok - the fault walks build under ASan/UBSan"; tail -30 "$log" | sed 's/^/#   /'
    exit 1
fi
for b in $bins; do
    if "$b" --jobs 2 -S --color=never >"$log" 2>&1 && ! grep -q "Sanitizer" "$log"; then
        echo "ok - ${b#build-asan/tests/} under ASan: $(grep -a 'Synthesis' "$log" | tail -1 | sed 's/.*Synthesis: //')"
    else
        echo "not ok - ${b#build-asan/tests/} under ASan"; grep -v '^{' "$log" | tail -40 | sed 's/^/#   /'
        failed=1
    fi
done
exit $failed
