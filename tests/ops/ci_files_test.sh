#!/usr/bin/env bash
# Checks the operations files: Prometheus rules, executable scripts, .env.example.
# Prints "ok - name" / "not ok - name" per check; exits 1 if any failed.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1

failed=0
ok()     { echo "ok - $1"; }
not_ok() { echo "not ok - $1"; failed=1; }
check()  {   # check NAME COMMAND...: ok when the command succeeds, else show its output
    local name=$1 out; shift
    if out=$("$@" 2>&1); then ok "$name"; else not_ok "$name"; printf '%s\n' "$out" | sed 's/^/#   /'; fi
}

# --- Prometheus ------------------------------------------------------------
if command -v promtool >/dev/null; then
    check "promtool check rules deploy/prometheus/alerts.yml" promtool check rules deploy/prometheus/alerts.yml
    check "promtool test rules deploy/prometheus/alerts_test.yml" promtool test rules deploy/prometheus/alerts_test.yml
    check "promtool check config deploy/prometheus/prometheus.yml" promtool check config --syntax-only deploy/prometheus/prometheus.yml
else
    not_ok "promtool is installed (scripts/setup installs the prometheus package)"
fi

alerts_cover() {
    local m
    for m in atrium_http_requests_total atrium_http_request_duration_seconds_bucket atrium_ready \
             atrium_outbox_backlog atrium_job_failures_total atrium_payment_failures_total \
             atrium_auth_failures_total atrium_disk_free_ratio atrium_last_backup_timestamp_seconds; do
        grep -q "$m" deploy/prometheus/alerts.yml || { echo "no rule uses $m"; return 1; }
    done
}
check "alert rules cover every required metric" alerts_cover

# --- executable scripts ----------------------------------------------------
executables() {
    local f bad=0
    for f in .ci/run scripts/setup scripts/run-tests; do
        [[ -f $f ]] || { echo "missing: $f"; bad=1; continue; }
    done
    # every file with a #! line in .ci/, scripts/ and bench/, and every shell test
    while IFS= read -r f; do
        [[ $f == tests/* ]] || [[ $(head -c 2 "$f") == '#!' ]] || continue
        [[ -x $f ]] || { echo "not executable: $f"; bad=1; }
    done < <(find .ci scripts bench -maxdepth 1 -type f 2>/dev/null
             find tests -name '*_test.sh' -type f)
    return $bad
}
check "scripts and shell tests are executable" executables

bash_syntax() {
    local f bad=0
    for f in .ci/run scripts/* tests/*/*_test.sh; do
        [[ -f $f ]] && head -n 1 "$f" | grep -q bash || continue
        bash -n "$f" || bad=1
    done
    return $bad
}
check "bash scripts parse (bash -n)" bash_syntax

# --- .env.example ----------------------------------------------------------
env_exists() { [[ -f .env.example ]]; }
check ".env.example exists" env_exists

. tests/ops/env_check.sh
check ".env.example has only placeholders for secrets" env_no_secrets .env.example

env_complete() {
    local v bad=0
    [[ -f .env.example && -f README.md ]] || return 1
    for v in $(grep -o 'ATRIUM_[A-Z0-9_]*[A-Z0-9]' README.md | sort -u); do
        grep -q "^#\? \?$v=" .env.example || { echo "README names $v, .env.example does not"; bad=1; }
    done
    return $bad
}
check ".env.example lists every ATRIUM_* variable of the README" env_complete

gitignore_env() {
    # a real .env must never be committed
    [[ ! -d .git ]] && return 0
    ! git ls-files --error-unmatch .env >/dev/null 2>&1
}
check "no .env file is tracked by git" gitignore_env

exit $failed
