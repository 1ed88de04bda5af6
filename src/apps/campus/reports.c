/* reports.c -- the cashiers' daily collections and the registrar's
 * enrollment report, each as JSON or CSV (?format=csv, or Accept: text/csv).
 *
 * GET /reports/collections?date=YYYY-MM-DD&cashier_id= (cashiers, cashier
 * supervisors, the registrar): the payments taken on one UTC day (created_at
 * in [date 00:00:00Z, next day 00:00:00Z)), default today, by the cashier
 * named or all. Those still posted are the collections: their count and
 * amount, by method, and by cashier with each cashier's methods. Those of the
 * day voided since are listed apart (the same totals and every payment), so
 * posted + voided are the receipts the day issued and a drawer reconciles
 * against the posted ones. A payment belongs to the day it was taken: a void
 * made later moves it from that day's posted totals to its voided ones. One
 * SELECT reads it all (one consistent snapshot on both databases); the daily
 * cashier-report job calls campus_collections_json() too.
 *
 * GET /reports/enrollment?semester_id= (the registrar): every section of the
 * semester (default: the one whose enrollment window is open, else the
 * latest by start date) with its capacity, enrolled and waitlisted students
 * counted from the enrollment rows (not the sections' counters), seats left
 * (capacity - enrolled, never below 0) and fill rate, plus the semester's
 * totals. The fill rate is enrolled / capacity in percent with one decimal,
 * rounded half up from integers in C (so the same on both databases).
 *
 * Choices: amounts of every currency are added together (a school runs one;
 * `currency` names it, null on a day without payments), as groupbuy's
 * ledger does; lists are ordered by cashier id, method, section code. */
#include "campus.h"
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------ collections */

/* The day's payments of one status; $1 from, $2 to (UTC text), $3 the cashier or 0. */
#define DAY_FROM                                                                                               \
    "FROM campus_payments p WHERE p.created_at >= $1 AND p.created_at < $2 AND ($3 = 0 OR p.cashier_id = $3) "
#define DAY_OF(s) DAY_FROM "AND p.status = '" s "' "
#define BY_METHOD_JSON(s, more)                                                                                \
    "(SELECT json_group_array(json(y)) FROM (SELECT json_object('method', p.method, 'count', COUNT(*), "         \
    "'amount_cents', SUM(p.amount_cents)) AS y " DAY_OF(s) more "GROUP BY p.method ORDER BY p.method) t)"
/* count, amount, by method and by cashier (each with its methods) of status s */
#define TALLY(s)                                                                                               \
    "(SELECT COUNT(*) " DAY_OF(s) ") AS " s "_count, (SELECT COALESCE(SUM(p.amount_cents), 0) " DAY_OF(s)      \
    ") AS " s "_amount_cents, " BY_METHOD_JSON(s, "") " AS " s "_by_method__json, "                            \
    "(SELECT json_group_array(json(x)) FROM (SELECT json_object('cashier_id', c.cashier_id, 'username', "        \
    "u.username, 'display_name', u.display_name, 'count', c.n, 'amount_cents', c.amount, 'by_method', "         \
    "json(" BY_METHOD_JSON(s, "AND p.cashier_id = c.cashier_id ") ")) AS x FROM (SELECT p.cashier_id, COUNT(*) " \
    "AS n, SUM(p.amount_cents) AS amount " DAY_OF(s) "GROUP BY p.cashier_id) c JOIN users u ON "                 \
    "u.id = c.cashier_id ORDER BY c.cashier_id) t) AS " s "_by_cashier__json, "

static const char collections_sql[] =
    "SELECT " TALLY("posted") TALLY("void")
    "(SELECT json_group_array(json(x)) FROM (SELECT json_object('id', p.id, 'receipt_number', p.receipt_number, "
    "'student_id', p.student_id, 'cashier_id', p.cashier_id, 'method', p.method, 'amount_cents', p.amount_cents, "
    "'created_at', p.created_at, 'voided_by', p.voided_by, 'voided_at', p.voided_at, 'void_reason', "
    "p.void_reason) AS x " DAY_OF("void") "ORDER BY p.id) t) AS void_items__json, "
    "(SELECT MIN(p.currency) " DAY_FROM ") AS currency";

/* A real calendar day written YYYY-MM-DD; next gets the day after it. */
static bool day_bounds(const char *day, char next[11])
{
    int64_t d;
    if (!date_parse(day, &d)) return false;
    date_format(d + 1, next);
    return true;
}

/* {count, amount_cents, by_method, by_cashier} of status s from the row. */
static json_t *tally_of(json_t *row, const char *s)
{
    char key[32];
    json_t *out = json_object();
    const char *const parts[] = {"count", "amount_cents", "by_method", "by_cashier", NULL};
    for (int i = 0; parts[i]; i++) {
        snprintf(key, sizeof key, "%s_%s", s, parts[i]);
        json_object_set(out, parts[i], json_object_get(row, key));
    }
    return out;
}

json_t *campus_collections_json(struct db *db, const char *date, int64_t cashier_id)
{
    char next[11], from[32], to[32];
    if (!date || !day_bounds(date, next)) return NULL;
    snprintf(from, sizeof from, "%sT00:00:00Z", date);
    snprintf(to, sizeof to, "%sT00:00:00Z", next);
    json_t *row = db_json_one(db, collections_sql, DB_S(from), DB_S(to), DB_I(cashier_id));
    if (!row) return NULL;
    json_t *voided = tally_of(row, "void");
    json_object_set(voided, "items", json_object_get(row, "void_items"));
    json_t *out = json_pack("{s:s, s:s, s:s, s:o, s:O, s:o, s:o}", "date", date, "from", from, "to", to,
                            "cashier_id", cashier_id ? json_integer(cashier_id) : json_null(), "currency",
                            json_object_get(row, "currency"), "posted", tally_of(row, "posted"), "voided", voided);
    json_decref(row);
    return out;
}

static void row_start(struct csv *c, json_t *rep, const char *status, const char *kind)
{
    csv_text(c, json_string_value(json_object_get(rep, "date")));
    csv_text(c, status);
    csv_text(c, kind);
}

static void blanks(struct csv *c, int n)
{
    while (n--) csv_text(c, NULL);
}

static void row_end(struct csv *c, json_t *rep, json_t *tally)
{
    csv_int(c, json_integer_value(json_object_get(tally, "count")));
    csv_int(c, json_integer_value(json_object_get(tally, "amount_cents")));
    csv_text(c, json_string_value(json_object_get(rep, "currency")));
    csv_end_row(c);
}

/* The rows of one status: each cashier's methods then the cashier's total,
 * each method's total, the status's total (always, zero on an empty day). */
static void collections_rows(struct csv *c, json_t *rep, const char *status, json_t *t)
{
    static const char *const who[] = {"cashier_id", "username", "display_name", NULL};
    json_t *cashier, *m;
    size_t i, k;
    json_array_foreach(json_object_get(t, "by_cashier"), i, cashier) {
        json_array_foreach(json_object_get(cashier, "by_method"), k, m) {
            row_start(c, rep, status, "cashier_method");
            csv_fields_json(c, cashier, who);
            csv_text(c, json_string_value(json_object_get(m, "method")));
            row_end(c, rep, m);
        }
        row_start(c, rep, status, "cashier_total");
        csv_fields_json(c, cashier, who);
        csv_text(c, NULL);
        row_end(c, rep, cashier);
    }
    json_array_foreach(json_object_get(t, "by_method"), i, m) {
        row_start(c, rep, status, "method_total");
        blanks(c, 3);
        csv_text(c, json_string_value(json_object_get(m, "method")));
        row_end(c, rep, m);
    }
    row_start(c, rep, status, "total");
    blanks(c, 4);
    row_end(c, rep, t);
}

void campus_collections_csv(json_t *report, struct csv *out)
{
    static const char *const header[] = {"date", "status", "kind", "cashier_id", "cashier_username", "cashier_name",
                                         "method", "count", "amount_cents", "currency", NULL};
    csv_header(out, header);
    collections_rows(out, report, "posted", json_object_get(report, "posted"));
    collections_rows(out, report, "void", json_object_get(report, "voided"));
}

/* ------------------------------------------------------------- enrollment */

/* n / d in tenths of a percent, rounded half up (0 when d is 0). */
static int64_t permille(int64_t n, int64_t d)
{
    return d > 0 ? (2000 * n + d) / (2 * d) : 0;
}

/* Seats left and the fill rate of a section or of the totals. */
static void fill(json_t *o, int64_t capacity, int64_t enrolled, int64_t seats_left)
{
    json_object_set_new(o, "seats_left", json_integer(seats_left));
    json_object_set_new(o, "fill_rate_pct", json_real((double)permille(enrolled, capacity) / 10));
}

/* The semester asked (0: open for enrollment, else the latest); NULL after a reply. */
static json_t *semester_of(struct req *r, int64_t id)
{
    json_t *s = db_json_one(r->db, "SELECT se.id, se.code, se.name, se.starts_on, se.ends_on, "
                                   CAMPUS_WINDOW_OPEN("se") " AS enrollment_open__bool FROM campus_semesters se "
                                   "WHERE $1 = 0 OR se.id = $1 ORDER BY " CAMPUS_WINDOW_OPEN("se") " DESC, "
                                   "se.starts_on DESC, se.id DESC LIMIT 1",
                            DB_I(id));
    if (s) return s;
    if (id) reply_error(r, 404, "not_found", "no semester %lld", (long long)id);
    else reply_error(r, 404, "not_found", "there is no semester yet");
    return NULL;
}

static const char *const section_cols[] = {"section_id", "section_code", "subject_code", "subject_title",
                                           "faculty_id", "faculty_name", "capacity", "enrolled", "waitlisted",
                                           "seats_left", "fill_rate_pct", NULL};

static void enrollment_csv(struct req *r, json_t *rep)
{
    struct csv c = {0};
    size_t i;
    json_t *s;
    csv_text(&c, "kind");
    csv_header(&c, section_cols);
    json_array_foreach(json_object_get(rep, "sections"), i, s) {
        csv_text(&c, "section");
        csv_fields_json(&c, s, section_cols);
        csv_end_row(&c);
    }
    csv_text(&c, "total");
    csv_fields_json(&c, json_object_get(rep, "totals"), section_cols);
    csv_end_row(&c);
    char name[96];
    snprintf(name, sizeof name, "campus-enrollment-%s.csv",
             json_string_value(json_object_get(json_object_get(rep, "semester"), "code")));
    reply_csv(r, name, &c);
}

/* ----------------------------------------------------------------- routes */

void campus_reports_collections(struct req *r)
{
    int64_t cashier = 0;
    char today[11];
    const char *date = req_query(r, "date");
    int csv = req_format_csv(r);
    if (csv < 0 || req_query_int(r, "cashier_id", 0, &cashier) < 0) return;
    if (req_query(r, "cashier_id") && cashier < 1) {
        reply_invalid(r, "cashier_id", "must be a positive integer");
        return;
    }
    if (!date) {
        date_format(date_today(), today);
        date = today;
    } else if (!date_parse(date, NULL)) {
        reply_invalid(r, "date", "must be a date (YYYY-MM-DD)");
        return;
    }
    json_t *rep = campus_collections_json(r->db, date, cashier);
    if (!rep) {
        reply_db_error(r);
        return;
    }
    if (!csv) {
        reply_json(r, 200, rep);
        return;
    }
    struct csv c = {0};
    char name[96];
    campus_collections_csv(rep, &c);
    if (cashier) snprintf(name, sizeof name, "campus-collections-%s-cashier-%lld.csv", date, (long long)cashier);
    else snprintf(name, sizeof name, "campus-collections-%s.csv", date);
    json_decref(rep);
    reply_csv(r, name, &c);
}

void campus_reports_enrollment(struct req *r)
{
    int64_t id = 0;
    int csv = req_format_csv(r);
    if (csv < 0 || req_query_int(r, "semester_id", 0, &id) < 0) return;
    if (req_query(r, "semester_id") && id < 1) {
        reply_invalid(r, "semester_id", "must be a positive integer");
        return;
    }
    json_t *semester = semester_of(r, id);
    if (!semester) return;
    json_t *sections = db_json_all(r->db, "SELECT c.id AS section_id, c.code AS section_code, s.code AS subject_code, "
                                          "s.title AS subject_title, c.faculty_id, u.display_name AS faculty_name, "
                                          "c.capacity, (SELECT COUNT(*) FROM campus_enrollments e WHERE e.section_id "
                                          "= c.id AND e.status = 'enrolled') AS enrolled, (SELECT COUNT(*) FROM "
                                          "campus_enrollments e WHERE e.section_id = c.id AND e.status = 'waitlisted') "
                                          "AS waitlisted FROM campus_sections c JOIN campus_subjects s ON "
                                          "s.id = c.subject_id LEFT JOIN users u ON u.id = c.faculty_id "
                                          "WHERE c.semester_id = $1 ORDER BY c.code, c.id",
                                      DB_I(json_integer_value(json_object_get(semester, "id"))));
    if (!sections) {
        json_decref(semester);
        reply_db_error(r);
        return;
    }
    int64_t capacity = 0, enrolled = 0, waitlisted = 0, seats_left = 0;
    size_t i;
    json_t *s;
    json_array_foreach(sections, i, s) {
        int64_t cap = json_integer_value(json_object_get(s, "capacity"));
        int64_t in = json_integer_value(json_object_get(s, "enrolled"));
        int64_t left = cap > in ? cap - in : 0;
        fill(s, cap, in, left);
        capacity += cap, enrolled += in, seats_left += left;
        waitlisted += json_integer_value(json_object_get(s, "waitlisted"));
    }
    json_t *totals = json_pack("{s:I, s:I, s:I, s:I}", "sections", (json_int_t)json_array_size(sections), "capacity",
                               (json_int_t)capacity, "enrolled", (json_int_t)enrolled, "waitlisted",
                               (json_int_t)waitlisted);
    fill(totals, capacity, enrolled, seats_left);
    json_t *rep = json_pack("{s:o, s:o, s:o}", "semester", semester, "sections", sections, "totals", totals);
    if (csv) {
        enrollment_csv(r, rep);
        json_decref(rep);
    } else {
        reply_json(r, 200, rep);
    }
}
