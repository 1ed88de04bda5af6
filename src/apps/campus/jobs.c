/* jobs.c -- campus background jobs (registered in campus.c; the core's
 * scheduler runs them, `atrium jobs run NAME` by hand). Each is idempotent:
 * a second run on the same day changes nothing, because every change is a
 * guarded UPDATE or an insert that a key refuses. Each change is its own
 * transaction (one failure does not undo the others), writes its audit row
 * as the system and tells the student; the result text says what changed.
 *
 *   campus.inc_expiry      INC older than its deadline (a year, moved by
 *                          leaves) becomes a final 5.0
 *   campus.leave_status    students on leave today are on_leave, back to
 *                          active when no leave covers today
 *   campus.installments    unpaid installments past due become overdue (and
 *                          back when paid); a reminder DUE_SOON_DAYS before
 *                          the due date, once per installment
 *   campus.waitlist        a section with a free seat and a waitlist seats
 *                          the waitlist in order (drops and capacity changes
 *                          already do; this is the safety net)
 *   campus.window_notices  students hear when enrollment opens, a day before
 *                          it closes, and when it has closed (once each)
 * Days are UTC dates. */
#include "campus.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DUE_SOON_DAYS 3
#define MAX_LINES     20        /* detail lines in a job's result */

/* A job's result: counters and the first MAX_LINES details. */
struct report {
    FILE *f;
    char *text;
    size_t len;
    int lines, more, errors;
};

static void report_open(struct report *rp)
{
    memset(rp, 0, sizeof *rp);
    rp->f = open_memstream(&rp->text, &rp->len);
}

static void report_line(struct report *rp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report_line(struct report *rp, const char *fmt, ...)
{
    if (rp->lines++ >= MAX_LINES) {
        rp->more++;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vfprintf(rp->f, fmt, ap);
    va_end(ap);
    fputc('\n', rp->f);
}

/* Closes the report with its summary line; the job's return code. */
static int report_close(struct report *rp, char **result, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int report_close(struct report *rp, char **result, const char *fmt, ...)
{
    if (rp->more) fprintf(rp->f, "... and %d more\n", rp->more);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(rp->f, fmt, ap);
    va_end(ap);
    if (rp->errors) fprintf(rp->f, ", %d error(s)", rp->errors);
    fclose(rp->f);
    *result = rp->text;
    return rp->errors ? -1 : 0;
}

/* Commit what fn did in its own transaction, or roll it back: 1 changed,
 * 0 nothing to change, -1 error (counted). */
static int in_tx(struct db *db, struct report *rp, int (*fn)(struct db *db, json_t *row, void *arg), json_t *row,
                 void *arg)
{
    if (db_begin(db) < 0) {
        rp->errors++;
        return -1;
    }
    int rc = fn(db, row, arg);
    if (rc == 1 && db_commit(db) == 0) return 1;
    db_rollback(db);
    if (rc != 0) rp->errors++;
    return rc == 0 ? 0 : -1;
}

/* Amounts as "1,234.50" in emails (the API keeps integer cents). */
static void money_text(int64_t cents, char out[32])
{
    char digits[24];
    int64_t whole = (cents < 0 ? -cents : cents) / 100;
    snprintf(digits, sizeof digits, "%lld", (long long)whole);
    size_t n = strlen(digits), k = 0;
    if (cents < 0) out[k++] = '-';
    for (size_t i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0) out[k++] = ',';
        out[k++] = digits[i];
    }
    snprintf(out + k, 32 - k, ".%02lld", (long long)((cents < 0 ? -cents : cents) % 100));
}

/* Each row of a list (stolen; NULL: the read failed) through fn in its own
 * transaction; the rows changed. *spared (may be NULL) counts the rows fn
 * had nothing to do for. */
static int each_in_tx(struct db *db, struct report *rp, json_t *rows,
                      int (*fn)(struct db *db, json_t *row, void *arg), void *arg, int *spared)
{
    int changed = 0;
    size_t i;
    json_t *row;
    if (!rows) rp->errors++;
    json_array_foreach(rows, i, row) {
        int rc = in_tx(db, rp, fn, row, arg);
        if (rc == 1) changed++;
        else if (rc == 0 && spared) (*spared)++;
    }
    json_decref(rows);
    return changed;
}

static void today_text(char out[11])
{
    date_format(date_today(), out);
}

/* ------------------------------------------------------------- INC expiry */

static int expire_one(struct db *db, json_t *row, void *arg)
{
    struct report *rp = arg;
    int64_t grade = json_integer_value(json_object_get(row, "id"));
    int64_t enrollment = json_integer_value(json_object_get(row, "enrollment_id"));
    int64_t student = json_integer_value(json_object_get(row, "student_id"));
    const char *subject = json_string_value(json_object_get(row, "subject_code"));
    const char *given_on = json_string_value(json_object_get(row, "inc_given_on"));
    int64_t given, deadline;
    if (!date_parse(given_on, &given)) return -1;
    if ((deadline = campus_inc_deadline(db, student, given)) < 0) return -1;
    if (deadline >= date_today()) return 0;     /* a leave moved it: still open */
    char due[11];
    date_format(deadline, due);
    int n = db_exec(db, "UPDATE campus_grades SET kind = 'numeric', value = 500, status = 'finalized', inc_expired_at = "
                        CAMPUS_NOW_SQL ", finalized_at = COALESCE(finalized_at, " CAMPUS_NOW_SQL "), updated_at = "
                        CAMPUS_NOW_SQL " WHERE id = $1 AND kind = 'INC' AND inc_given_on = $2",
                    DB_I(grade), DB_S(given_on));
    if (n <= 0) return n;       /* completed or given again meanwhile: nothing to do */
    if (audit_write_as(db, 0, "campus", "campus.grade.inc_expired", "enrollment", enrollment,
                       json_pack("{s:I, s:s, s:s, s:s, s:s}", "student_id", (json_int_t)student, "subject_code",
                                 subject, "inc_given_on", given_on, "deadline", due, "to", "5.0")) < 0 ||
        campus_notify(db, student, "campus.grade.inc_expired",
                      json_pack("{s:I, s:s, s:s}", "enrollment_id", (json_int_t)enrollment, "subject_code", subject,
                                "deadline", due),
                      N_("Your INC in %s is now 5.0: its deadline %s has passed"), subject, due) < 0)
        return -1;
    report_line(rp, "enrollment %lld: student %lld, %s, INC of %s, deadline %s -> 5.0", (long long)enrollment,
                (long long)student, subject, given_on, due);
    return 1;
}

int campus_inc_expiry_job(struct db *db, char **result)
{
    struct report rp;
    char cutoff[11];
    int expired = 0, open = 0;
    report_open(&rp);
    date_format(date_add_years(date_today(), -1), cutoff);     /* no deadline comes before given + a year */
    json_t *rows = db_json_all(db, "SELECT g.id, g.enrollment_id, e.student_id, g.inc_given_on, s.code AS subject_code "
                                   "FROM campus_grades g JOIN campus_enrollments e ON e.id = g.enrollment_id JOIN "
                                   "campus_sections c ON c.id = e.section_id JOIN campus_subjects s ON s.id = "
                                   "c.subject_id WHERE g.kind = 'INC' AND g.inc_given_on < $1 ORDER BY g.id",
                               DB_S(cutoff));
    expired = each_in_tx(db, &rp, rows, expire_one, &rp, &open);
    return report_close(&rp, result, "expired %d INC grade(s), %d within a deadline moved by leave", expired, open);
}

/* ------------------------------------------------------------ leave status */

/* "A leave of the student covers the day": the list and each guarded
 * update ask the same question (a leave recorded in between is seen). */
#define LEAVE_TODAY(student, day)                                                                              \
    "EXISTS (SELECT 1 FROM campus_leaves l WHERE l.student_id = " student " AND l.starts_on <= " day           \
    " AND l.ends_on >= " day ")"

static int set_status(struct db *db, json_t *row, void *arg)
{
    struct report *rp = arg;
    int64_t student = json_integer_value(json_object_get(row, "id"));
    const char *from = json_string_value(json_object_get(row, "status"));
    const char *to = strcmp(from, "active") ? "active" : "on_leave";
    char today[11];
    today_text(today);
    int n = db_exec(db, "UPDATE campus_students SET status = $2, updated_at = " CAMPUS_NOW_SQL " WHERE id = $1 AND "
                        "status = $3 AND (status = 'active') = " LEAVE_TODAY("campus_students.id", "$4"),
                    DB_I(student), DB_S(to), DB_S(from), DB_S(today));
    if (n <= 0) return n;
    if (audit_write_as(db, 0, "campus", "campus.student.status_changed", "student", student,
                       json_pack("{s:s, s:s, s:s}", "from", from, "to", to, "why",
                                 *to == 'o' ? "a leave of absence starts" : "no leave covers today")) < 0 ||
        campus_notify(db, student, "campus.student.status_changed", json_pack("{s:s}", "status", to),
                      *to == 'o' ? N_("Your leave of absence has started") : N_("Welcome back: your leave has ended")) <
            0)
        return -1;
    report_line(rp, "student %lld: %s -> %s", (long long)student, from, to);
    return 1;
}

int campus_leave_status_job(struct db *db, char **result)
{
    struct report rp;
    char today[11];
    int changed = 0;
    report_open(&rp);
    today_text(today);
    json_t *rows = db_json_all(db, "SELECT st.id, st.status FROM campus_students st WHERE (st.status = 'active') = "
                                   LEAVE_TODAY("st.id", "$1") " AND st.status IN ('active', 'on_leave') ORDER BY st.id",
                               DB_S(today));
    changed = each_in_tx(db, &rp, rows, set_status, &rp, NULL);
    return report_close(&rp, result, "%d student status change(s)", changed);
}

/* ------------------------------------------------------------ installments */

#define INSTALLMENT_ROW                                                                                        \
    "SELECT i.id, i.month, i.due_on, i.amount_cents - i.paid_cents AS owed_cents, a.currency, a.student_id, "  \
    "se.code AS semester_code, st.email, COALESCE(u.language, 'en') AS language FROM campus_installments i "     \
    "JOIN campus_assessments a ON a.id = i.assessment_id JOIN campus_semesters se ON se.id = a.semester_id "     \
    "JOIN campus_students st ON st.id = a.student_id LEFT JOIN users u ON u.id = st.user_id "

static json_t *installment_data(json_t *row)
{
    return json_pack("{s:O, s:O, s:O, s:O, s:O}", "installment_id", json_object_get(row, "id"), "month",
                     json_object_get(row, "month"), "due_on", json_object_get(row, "due_on"), "owed_cents",
                     json_object_get(row, "owed_cents"), "semester_code", json_object_get(row, "semester_code"));
}

struct installment {
    int64_t id, month, student, owed;
    const char *due_on, *semester, *currency, *email, *language;
};

static void installment_read(json_t *row, struct installment *in)
{
    in->id = json_integer_value(json_object_get(row, "id"));
    in->month = json_integer_value(json_object_get(row, "month"));
    in->student = json_integer_value(json_object_get(row, "student_id"));
    in->owed = json_integer_value(json_object_get(row, "owed_cents"));
    in->due_on = json_string_value(json_object_get(row, "due_on"));
    in->semester = json_string_value(json_object_get(row, "semester_code"));
    in->currency = json_string_value(json_object_get(row, "currency"));
    in->email = json_string_value(json_object_get(row, "email"));
    in->language = json_string_value(json_object_get(row, "language"));
}

/* An email beside the in-app notification (the notifier's adapter), in the
 * student's language; subject is marked with N_(). */
static int email_student(struct db *db, const struct installment *in, const char *subject)
{
    char owed[32];
    money_text(in->owed, owed);
    subject = i18n_text(in->language, subject);
    char *line = xasprintf(i18n_text(in->language, "%s, month %lld: %s %s due on %s.\n"), in->semester,
                           (long long)in->month, owed, in->currency, in->due_on);
    char *text = xasprintf("%s\n\n%s", subject, line);
    free(line);
    int rc = in->email && *in->email ? notify_send(db, "email", in->email, subject, text) : 0;
    free(text);
    return rc;
}

static int mark_overdue(struct db *db, json_t *row, void *arg)
{
    struct report *rp = arg;
    struct installment in;
    installment_read(row, &in);
    int n = db_exec(db, "UPDATE campus_installments SET overdue = 1 WHERE id = $1 AND overdue = 0 AND paid_cents < "
                        "amount_cents", DB_I(in.id));
    if (n <= 0) return n;
    if (audit_write_as(db, 0, "campus", "campus.installment.overdue", "installment", in.id,
                       json_pack("{s:I, s:s, s:I, s:s, s:I}", "student_id", (json_int_t)in.student, "semester_code",
                                 in.semester, "month", (json_int_t)in.month, "due_on", in.due_on, "owed_cents",
                                 (json_int_t)in.owed)) < 0 ||
        campus_notify(db, in.student, "campus.installment.overdue", installment_data(row),
                      N_("Month %lld of %s is overdue since %s"), (long long)in.month, in.semester, in.due_on) < 0 ||
        email_student(db, &in, N_("Your installment is overdue")) < 0)
        return -1;
    report_line(rp, "installment %lld: student %lld, %s month %lld, due %s: overdue", (long long)in.id,
                (long long)in.student, in.semester, (long long)in.month, in.due_on);
    return 1;
}

static int remind(struct db *db, json_t *row, void *arg)
{
    struct report *rp = arg;
    struct installment in;
    char today[11];
    today_text(today);
    installment_read(row, &in);
    int n = db_exec(db, "UPDATE campus_installments SET reminded_on = $2 WHERE id = $1 AND reminded_on IS NULL AND "
                        "paid_cents < amount_cents", DB_I(in.id), DB_S(today));
    if (n <= 0) return n;
    if (audit_write_as(db, 0, "campus", "campus.installment.reminded", "installment", in.id,
                       json_pack("{s:I, s:s, s:I, s:s}", "student_id", (json_int_t)in.student, "semester_code",
                                 in.semester, "month", (json_int_t)in.month, "due_on", in.due_on)) < 0 ||
        campus_notify(db, in.student, "campus.installment.due", installment_data(row), N_("Month %lld of %s is due on %s"),
                      (long long)in.month, in.semester, in.due_on) < 0 ||
        email_student(db, &in, N_("Your installment is due soon")) < 0)
        return -1;
    report_line(rp, "installment %lld: student %lld, %s month %lld, due %s: reminded", (long long)in.id,
                (long long)in.student, in.semester, (long long)in.month, in.due_on);
    return 1;
}

int campus_installments_job(struct db *db, char **result)
{
    struct report rp;
    char today[11], soon[11];
    int overdue = 0, reminded = 0, cleared = 0;
    report_open(&rp);
    today_text(today);
    date_format(date_today() + DUE_SOON_DAYS, soon);
    json_t *late = db_json_all(db, INSTALLMENT_ROW "WHERE i.due_on < $1 AND i.overdue = 0 AND i.paid_cents < "
                                                   "i.amount_cents ORDER BY i.id", DB_S(today));
    json_t *due = db_json_all(db, INSTALLMENT_ROW "WHERE i.due_on >= $1 AND i.due_on <= $2 AND i.reminded_on IS NULL "
                                                  "AND i.paid_cents < i.amount_cents ORDER BY i.id",
                              DB_S(today), DB_S(soon));
    overdue = each_in_tx(db, &rp, late, mark_overdue, &rp, NULL);
    reminded = each_in_tx(db, &rp, due, remind, &rp, NULL);
    /* paid since: no longer overdue (a plain flag, no one to tell) */
    if (db_begin(db) < 0 ||
        (cleared = db_exec(db, "UPDATE campus_installments SET overdue = 0 WHERE overdue = 1 AND paid_cents >= "
                               "amount_cents")) < 0 ||
        db_commit(db) < 0) {
        if (db_in_tx(db)) db_rollback(db);
        rp.errors++;
        cleared = 0;
    }
    return report_close(&rp, result, "%d marked overdue, %d reminded, %d paid and cleared", overdue, reminded,
                        cleared);
}

/* ---------------------------------------------------------------- waitlist */

static int fill_section(struct db *db, json_t *row, void *arg)
{
    struct report *rp = arg;
    int64_t section = json_integer_value(json_object_get(row, "id")), n = 0, seated = 0;
    if (db_int(db, &n, "SELECT capacity - enrolled FROM campus_sections WHERE id = $1", DB_I(section)) != 1) return -1;
    for (; seated < n; seated++) {
        int rc = campus_promote(db, NULL, section);
        if (rc < 0) return -1;
        if (rc == 0) break;
    }
    if (!seated) return 0;
    report_line(rp, "section %lld (%s): %lld seated from the waitlist", (long long)section,
                json_string_value(json_object_get(row, "code")), (long long)seated);
    return 1;
}

int campus_waitlist_job(struct db *db, char **result)
{
    struct report rp;
    char today[11];
    int filled = 0;
    report_open(&rp);
    today_text(today);
    json_t *rows = db_json_all(db, "SELECT c.id, c.code FROM campus_sections c JOIN campus_semesters se ON se.id = "
                                   "c.semester_id WHERE c.enrolled < c.capacity AND c.waitlisted > 0 AND se.ends_on >= "
                                   "$1 ORDER BY c.id", DB_S(today));
    filled = each_in_tx(db, &rp, rows, fill_section, &rp, NULL);
    return report_close(&rp, result, "%d section(s) seated from their waitlist", filled);
}

/* ---------------------------------------------------------- window notices */

/* Each notice's condition on semester se: $1 its kind, $2 now, $3 a day
 * ahead (closing) or two days ago (closed: only a window that closed
 * lately, so a new install does not announce old semesters). */
struct notice {
    const char *kind;
    const char *when;
    const char *title;
};

static const struct notice notices[] = {
    {"opened", "se.enrollment_opens_at <= $2 AND $2 < se.enrollment_closes_at", N_("Enrollment for %s is open until %s")},
    {"closing", "se.enrollment_opens_at <= $2 AND $2 < se.enrollment_closes_at AND se.enrollment_closes_at <= $3",
     N_("Enrollment for %s closes at %s")},
    {"closed", "se.enrollment_closes_at <= $2 AND se.enrollment_closes_at > $3", N_("Enrollment for %s closed at %s")},
    {0},
};

struct send_arg {
    struct report *rp;
    const struct notice *n;
};

static int send_notice(struct db *db, json_t *row, void *arg)
{
    struct send_arg *a = arg;
    int64_t semester = json_integer_value(json_object_get(row, "id")), count = 0;
    const char *code = json_string_value(json_object_get(row, "code"));
    const char *closes = json_string_value(json_object_get(row, "enrollment_closes_at"));
    int n = db_exec(db, "INSERT INTO campus_notices (semester_id, kind) VALUES ($1, $2) ON CONFLICT (semester_id, "
                        "kind) DO NOTHING", DB_I(semester), DB_S(a->n->kind));
    if (n <= 0) return n;       /* sent before */
    json_t *students = db_json_all(db, "SELECT st.user_id, COALESCE(u.language, 'en') AS language FROM "
                                       "campus_students st JOIN users u ON u.id = st.user_id WHERE st.status = "
                                       "'active' ORDER BY st.id");
    if (!students) return -1;
    size_t i;
    json_t *s;
    json_array_foreach(students, i, s) {
        if (campus_notify_user(db, json_integer_value(json_object_get(s, "user_id")),
                               json_string_value(json_object_get(s, "language")), "campus.enrollment.window",
                               json_pack("{s:I, s:s, s:s, s:s}", "semester_id", (json_int_t)semester, "semester_code",
                                         code, "notice", a->n->kind, "closes_at", closes),
                               a->n->title, code, closes) < 0) {
            json_decref(students);
            return -1;
        }
        count++;
    }
    json_decref(students);
    if (db_exec(db, "UPDATE campus_notices SET recipients = $3 WHERE semester_id = $1 AND kind = $2", DB_I(semester),
                DB_S(a->n->kind), DB_I(count)) != 1 ||
        audit_write_as(db, 0, "campus", "campus.semester.window_notice", "semester", semester,
                       json_pack("{s:s, s:s, s:I}", "semester_code", code, "notice", a->n->kind, "recipients",
                                 (json_int_t)count)) < 0)
        return -1;
    report_line(a->rp, "semester %s: %s notice to %lld student(s)", code, a->n->kind, (long long)count);
    return 1;
}

static void rfc3339(time_t t, char out[21])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int campus_window_notices_job(struct db *db, char **result)
{
    struct report rp;
    char now[21], day_ahead[21], two_days_ago[21];
    time_t t = time(NULL);
    int sent = 0;
    report_open(&rp);
    rfc3339(t, now);
    rfc3339(t + 86400, day_ahead);
    rfc3339(t - 2 * 86400, two_days_ago);
    for (const struct notice *n = notices; n->kind; n++) {
        char *sql = xasprintf("SELECT se.id, se.code, se.enrollment_closes_at FROM campus_semesters se WHERE %s AND "
                              "NOT EXISTS (SELECT 1 FROM campus_notices x WHERE x.semester_id = se.id AND x.kind = $1) "
                              "ORDER BY se.id",
                              n->when);
        const struct db_arg args[] = {DB_S(n->kind), DB_S(now),
                                      !strcmp(n->kind, "opened")    ? (struct db_arg){0}
                                      : !strcmp(n->kind, "closing") ? DB_S(day_ahead)
                                                                    : DB_S(two_days_ago),
                                      {0}};
        json_t *rows = db_json_all_(db, sql, args);
        free(sql);
        struct send_arg a = {&rp, n};
        sent += each_in_tx(db, &rp, rows, send_notice, &a, NULL);
    }
    return report_close(&rp, result, "%d enrollment window notice(s) sent", sent);
}

/* ------------------------------------------------------ cashier report */

/* The email: totals, then by method and by cashier (the day's drawer). */
static char *report_text(json_t *rep, const char *lang)
{
    char *text = NULL, amount[32];
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    json_t *posted = json_object_get(rep, "posted"), *voided = json_object_get(rep, "voided"), *v;
    const char *currency = json_string_value(json_object_get(rep, "currency"));
    size_t i;
    money_text(json_integer_value(json_object_get(posted, "amount_cents")), amount);
    fprintf(f, i18n_text(lang, "Collections of %s (UTC): %lld payment(s), %s %s\n"),
            json_string_value(json_object_get(rep, "date")),
            (long long)json_integer_value(json_object_get(posted, "count")), amount, currency ? currency : "");
    fprintf(f, "\n%s\n", i18n_text(lang, "By method:"));
    json_array_foreach(json_object_get(posted, "by_method"), i, v) {
        money_text(json_integer_value(json_object_get(v, "amount_cents")), amount);
        fprintf(f, "  %-14s %5lld  %s\n", json_string_value(json_object_get(v, "method")),
                (long long)json_integer_value(json_object_get(v, "count")), amount);
    }
    fprintf(f, "\n%s\n", i18n_text(lang, "By cashier:"));
    json_array_foreach(json_object_get(posted, "by_cashier"), i, v) {
        money_text(json_integer_value(json_object_get(v, "amount_cents")), amount);
        fprintf(f, "  %-20s %5lld  %s\n", json_string_value(json_object_get(v, "username")),
                (long long)json_integer_value(json_object_get(v, "count")), amount);
    }
    money_text(json_integer_value(json_object_get(voided, "amount_cents")), amount);
    fprintf(f, "\n");
    fprintf(f, i18n_text(lang, "Voided: %lld payment(s), %s\n"),
            (long long)json_integer_value(json_object_get(voided, "count")), amount);
    fclose(f);
    return text;
}

/* Yesterday's collections (a UTC day) to every active cashier supervisor
 * and campus admin: in-app with the report as data, and by email. Once per
 * day: campus_daily_reports holds the day. */
int campus_cashier_report_job(struct db *db, char **result)
{
    struct report rp;
    char day[11];
    int sent = 0;
    report_open(&rp);
    date_format(date_today() - 1, day);
    json_t *rep = campus_collections_json(db, day, 0), *people = NULL;
    if (!rep) {
        rp.errors++;
        goto out;
    }
    people = db_json_all(db, "SELECT DISTINCT u.id, COALESCE(u.email, '') AS email, COALESCE(u.language, 'en') AS "
                             "language FROM user_roles ur JOIN users u ON u.id = ur.user_id WHERE ur.app = 'campus' "
                             "AND ur.role IN ('cashier_supervisor', 'admin') AND u.status = 'active' ORDER BY u.id");
    json_t *posted = json_object_get(rep, "posted");
    int64_t count = json_integer_value(json_object_get(posted, "count"));
    int64_t amount = json_integer_value(json_object_get(posted, "amount_cents"));
    if (!people || db_begin(db) < 0) {
        rp.errors++;
        goto out;
    }
    int n = db_exec(db, "INSERT INTO campus_daily_reports (day, payments, amount_cents, recipients) VALUES ($1, $2, $3, "
                        "$4) ON CONFLICT (day) DO NOTHING",
                    DB_S(day), DB_I(count), DB_I(amount), DB_I((int64_t)json_array_size(people)));
    if (n <= 0) {
        db_rollback(db);
        if (n < 0) rp.errors++;
        goto out;
    }
    size_t i;
    json_t *p;
    json_array_foreach(people, i, p) {
        const char *lang = json_string_value(json_object_get(p, "language"));
        const char *email = json_string_value(json_object_get(p, "email"));
        char title[160], money[32];
        money_text(amount, money);
        snprintf(title, sizeof title, i18n_text(lang, "Collections of %s: %lld payment(s), %s"), day,
                 (long long)count, money);
        char *text = report_text(rep, lang);
        int rc = notify_user(db, json_integer_value(json_object_get(p, "id")), "campus.report.collections", title,
                             json_deep_copy(rep));
        if (rc == 0 && *email) rc = notify_send(db, "email", email, title, text);
        free(text);
        if (rc < 0) {
            rp.errors++;
            db_rollback(db);
            goto out;
        }
    }
    if (audit_write_as(db, 0, "campus", "campus.report.sent", "report", 0,
                       json_pack("{s:s, s:s, s:I, s:I, s:I}", "report", "collections", "day", day, "payments",
                                 (json_int_t)count, "amount_cents", (json_int_t)amount, "recipients",
                                 (json_int_t)json_array_size(people))) < 0 ||
        db_commit(db) < 0) {
        db_rollback(db);
        rp.errors++;
        goto out;
    }
    sent = (int)json_array_size(people);
    report_line(&rp, "%s: %lld payment(s), %lld cents, to %d people", day, (long long)count, (long long)amount, sent);
out:
    json_decref(rep);
    json_decref(people);
    return report_close(&rp, result, "collections report of %s sent to %d people", day, sent);
}
