#!/usr/bin/env bash
# campus from the command line and over the wire, with the real binary:
# `atrium seed campus` printing its accounts, `atrium jobs run` for the INC
# expiry (what it changed, and nothing the second time) and the daily jobs,
# then the demo accounts signing in and the registrar's and a student's
# first calls; the CSV report as a file.
cd "$(dirname "$0")/../../.." && . tests/ops/lib.sh
export ATRIUM_JOBS=0

check "migrate" sh -c "'$ATRIUM_BIN' migrate >/dev/null"
"$ATRIUM_BIN" seed campus >"$WORK/seed.out"
check "seed campus prints the registrar" grep -q '^campus.registrar.1 ' "$WORK/seed.out"
check "seed campus prints ten students" [ "$(grep -c '^campus.student.[0-9]* ' "$WORK/seed.out")" = 10 ]
"$ATRIUM_BIN" jobs run campus.inc_expiry >"$WORK/inc1.out"
check "inc_expiry names the grade it failed" \
    grep -Eq '^(ok: )?enrollment [0-9]+: student 10, CS101, INC of [0-9-]{10}, deadline [0-9-]{10} -> 5.0$' "$WORK/inc1.out"
check "inc_expiry summary" grep -q 'expired 1 INC grade(s), 1 within a deadline moved by leave$' "$WORK/inc1.out"
before=$(sql "$ATRIUM_DB" "SELECT (SELECT COUNT(*) FROM audit_log) || '/' || (SELECT group_concat(kind) FROM campus_grades)")
"$ATRIUM_BIN" jobs run campus.inc_expiry >"$WORK/inc2.out"
check "a second run expires nothing" grep -q 'expired 0 INC grade(s), 1 within a deadline moved by leave$' "$WORK/inc2.out"
after=$(sql "$ATRIUM_DB" "SELECT (SELECT COUNT(*) FROM audit_log) || '/' || (SELECT group_concat(kind) FROM campus_grades)")
check "a second run changes nothing" [ "$before" = "$after" ]
"$ATRIUM_BIN" jobs run campus.installments >"$WORK/inst.out"
check "installments marks the seeded overdue months" grep -Eq '[1-9][0-9]* marked overdue, ' "$WORK/inst.out"
check "jobs list names the campus jobs" [ "$("$ATRIUM_BIN" jobs list | grep -c '^campus\.')" = 6 ]

start_server || { not_ok "server starts"; finish; }
login() { curl -s "$(url /api/v1/auth/login)" -H 'Content-Type: application/json' \
    -d "{\"username\":\"$1\",\"password\":\"atrium-demo-pass\"}" | jq -r .access_token; }
reg=$(login campus.registrar.1)
stu=$(login campus.student.3)
check "the registrar signs in" [ -n "$reg" ] && [ "$reg" != null ]
code=$(curl -s -o "$WORK/enroll.json" -w '%{http_code}' "$(url /api/v1/campus/enrollments)" \
    -H "Authorization: Bearer $stu" -H 'Content-Type: application/json' -d '{"section_id":2}')
check "student 3 is refused CS102 for its prerequisite" sh -c "[ $code = 409 ] && jq -e '.error.code == \"prerequisites_missing\" and .error.details[0].subject_code == \"CS101\"' '$WORK/enroll.json' >/dev/null"
curl -s -D "$WORK/h" -o "$WORK/report.csv" "$(url /api/v1/campus/reports/enrollment?format=csv)" -H "Authorization: Bearer $reg"
check "the enrollment report comes as a CSV file" grep -qi '^content-disposition: attachment; filename="campus-enrollment-' "$WORK/h"
check "the CSV has a row per section and a total" [ "$(grep -c '^section,' "$WORK/report.csv")" = 16 ]
stop_server
finish
