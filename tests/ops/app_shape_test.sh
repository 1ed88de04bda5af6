#!/usr/bin/env bash
# The core knows no app (docs/ARCHITECTURE.md, "An app"):
#   - no app's name appears in src/core/ outside comments;
#   - the build's app list (build/gen/apps.c) is exactly the folders under src/apps/;
#   - an app is removed by deleting its folder: a copy of the tree without
#     groupbuy builds, migrates, serves, answers 404 for groupbuy's routes, and
#     every test binary left in it (the core's, codepop's) builds and passes.
# Prints "ok - name" / "not ok - name" per check; exits 1 if any failed.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
source tests/ops/lib.sh

apps=$(ls -d src/apps/*/ | xargs -n1 basename | sort)
# The apps that exist and the ones the spec plans: none may be named by the core.
names=$(printf '%s\n' $apps shop campus kibray | sort -u | paste -sd'|')

core_names_no_app() {
    local f hits=0
    for f in src/core/*.c src/core/*.h; do
        # gcc -fpreprocessed drops comments without expanding anything else.
        if gcc -fpreprocessed -dD -E -P "$f" 2>/dev/null | grep -nwE "$names"; then
            echo "^ in $f"; hits=1
        fi
    done
    for f in src/core/migrations/*.sql; do
        if sed 's/--.*//' "$f" | grep -nwE "$names"; then echo "^ in $f"; hits=1; fi
    done
    return $hits
}
check "no app is named in src/core outside comments" core_names_no_app

generated_list() {
    local listed
    listed=$(sed -n 's/^    &\([a-z_]*\)_app,$/\1/p' "$BUILD/gen/apps.c" | grep -v '^core$' | sort)
    [ "$listed" = "$apps" ] || { echo "apps.c lists: $listed; folders: $apps"; return 1; }
}
check "the build's app list is the folders under src/apps" generated_list

# --- an app removed by deleting its folder ----------------------------------
# The copy reuses this build's objects (timestamps kept), so only the generated
# app list, the embedded files and the links are redone.
TREE=$WORK/tree
mkdir -p "$TREE"
# The files git knows (tracked, or new and not ignored), as they are now.
git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
    tar --null -T - -cf - | tar -xf - -C "$TREE"
mkdir -p "$TREE/$BUILD"
cp -a "$BUILD/obj" "$BUILD/tools" "$TREE/$BUILD"/ 2>/dev/null
rm -rf "$TREE/src/apps/groupbuy" "$TREE/tests/apps/groupbuy" "$TREE/$BUILD/obj/src/apps/groupbuy" \
    "$TREE/$BUILD/obj/tests/apps/groupbuy"

# Every Criterion test left in the tree: the core's and the remaining apps'.
tests=$(cd "$TREE" && ls tests/core/test_*.c tests/apps/*/test_*.c | sed "s|^tests/\(.*\)\.c\$|$BUILD/tests/\1|")
wanted="$BUILD/atrium $tests"
san=
[ "$BUILD" = build-asan ] && san="SAN=1"
if make -C "$TREE" -j2 BUILD="$BUILD" $san $wanted >"$WORK/build.log" 2>&1; then
    ok "a tree without src/apps/groupbuy builds"
else
    not_ok "a tree without src/apps/groupbuy builds"; tail -30 "$WORK/build.log" | sed 's/^/#   /'
    finish
fi
check "the app list no longer names groupbuy" bash -c "! grep -q groupbuy_app '$TREE/$BUILD/gen/apps.c'"

ATRIUM_BIN=$TREE/$BUILD/atrium
check "migrate runs without groupbuy" "$ATRIUM_BIN" migrate
start_server || { not_ok "serves without groupbuy"; finish; }
check "ready without groupbuy" bash -c "[ \$(curl -s -o /dev/null -w '%{http_code}' $(url /health/ready)) = 200 ]"
check "groupbuy's routes are gone (404)" \
    bash -c "[ \$(curl -s -o /dev/null -w '%{http_code}' $(url /api/v1/groupbuy/groups)) = 404 ]"
check "codepop still answers" bash -c "[ \$(curl -s -o /dev/null -w '%{http_code}' $(url /api/v1/codepop/drinks)) = 200 ]"
check "no groupbuy table was made" bash -c "! sqlite3 '$ATRIUM_DB' .tables | grep -q groupbuy"
stop_server

for t in $wanted; do
    case $t in */tests/*) ;; *) continue ;; esac
    if (cd "$TREE" && "./$t" --jobs 2 -S --color=never >"$WORK/t.log" 2>&1); then
        ok "${t#"$BUILD"/tests/} passes without groupbuy"
    else
        not_ok "${t#"$BUILD"/tests/} passes without groupbuy"; tail -30 "$WORK/t.log" | sed 's/^/#   /'
    fi
done
finish
