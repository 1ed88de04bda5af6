/* payments.c -- cashiers' payments, receipts and voids; a student's
 * assessment and exam permits; the proctor's permit check.
 *
 * POST /payments {student_id, amount_cents, method, reference?, semester_id?}
 * (a cashier, with Idempotency-Key: the same key twice records one payment)
 * records the payment and allocates it to the oldest unpaid installment
 * first, in the same transaction; what is left is credit for the next
 * installments (assessments.c). A month whose installment becomes fully
 * paid unlocks its exam permit in that transaction. The answer lists the
 * allocations, the credit left and the permits it unlocked. semester_id
 * defaults to the latest semester the student is assessed in; a student with
 * no assessment there has nothing to pay (409 not_assessed).
 *
 * POST /payments/{id}/void {reason} (registrar or cashier supervisor)
 * reverses it: the payment stays, marked void with who and why, and every
 * posted payment of the semester is allocated again without it, which locks
 * again the permits that depended on it.
 *
 * Choices: receipt numbers are "OR-<id>" zero-padded (unique, in order);
 * amounts are 1 to 100,000,000,000 cents; methods are cash, card,
 * bank_transfer, check and e_wallet. */
#include "campus.h"
#include <string.h>

#define MAX_AMOUNT 100000000000LL

static const char *const methods[] = {"cash", "card", "bank_transfer", "check", "e_wallet", NULL};

#define PAYMENT_SELECT                                                                                         \
    "SELECT p.id, p.receipt_number, p.student_id, st.number AS student_number, st.last_name || ', ' || "        \
    "st.first_name AS student_name, p.semester_id, p.amount_cents, p.currency, p.method, p.reference, "        \
    "p.cashier_id, p.status, p.void_reason, p.voided_by, p.voided_at, p.created_at, (SELECT "                   \
    "json_group_array(json(x)) FROM (SELECT json_object('month', i.month, 'amount_cents', a.amount_cents) AS x " \
    "FROM campus_allocations a JOIN campus_installments i ON i.id = a.installment_id WHERE a.payment_id = p.id " \
    "ORDER BY i.month) t) AS allocations__json, p.amount_cents - (SELECT COALESCE(SUM(a.amount_cents), 0) FROM " \
    "campus_allocations a WHERE a.payment_id = p.id) AS credit_cents FROM campus_payments p JOIN "              \
    "campus_students st ON st.id = p.student_id "

static bool known_method(const char *m)
{
    for (int i = 0; methods[i]; i++)
        if (!strcmp(methods[i], m)) return true;
    return false;
}

/* Months of the semester whose permit is unlocked now, as a bit set. */
static unsigned unlocked_months(struct db *db, int64_t student, int64_t semester)
{
    struct db_rows rows;
    unsigned set = 0;
    if (db_query(db, &rows, "SELECT month FROM campus_permits WHERE student_id = $1 AND semester_id = $2 AND "
                            "unlocked_at IS NOT NULL", DB_I(student), DB_I(semester)) < 0)
        return 0;
    while (db_step(&rows)) set |= 1u << (db_col_int(&rows, 0) & 31);
    db_rows_close(&rows);
    return set;
}

static json_t *months_json(unsigned set)
{
    json_t *a = json_array();
    for (int m = 1; m <= 12; m++)
        if (set & (1u << m)) json_array_append_new(a, json_integer(m));
    return a;
}

int64_t campus_payment_record(struct db *db, int64_t student, int64_t semester, const char *currency, int64_t amount,
                              const char *method, const char *reference, int64_t cashier)
{
    char temp[37], receipt[32];
    int64_t id = 0;
    uuid_v4(temp);              /* unique until the id is known */
    if (db_int(db, &id, "INSERT INTO campus_payments (student_id, semester_id, amount_cents, currency, method, "
                        "reference, receipt_number, cashier_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
               DB_I(student), DB_I(semester), DB_I(amount), DB_S(currency), DB_S(method), DB_S(reference), DB_S(temp),
               DB_I(cashier)) != 1)
        return -1;
    snprintf(receipt, sizeof receipt, "OR-%08lld", (long long)id);
    if (db_exec(db, "UPDATE campus_payments SET receipt_number = $2 WHERE id = $1", DB_I(id), DB_S(receipt)) != 1 ||
        campus_allocate_payment(db, student, semester, id, amount) < 0)
        return -1;
    return id;
}

/* ----------------------------------------------------------------- routes */

void campus_payments_create(struct req *r)
{
    json_int_t student = 0, amount = 0, semester = 0;
    const char *method = NULL, *reference = "";
    if (req_unpack(r, "{s:I, s:I, s:s, s?s, s?I}", "student_id", &student, "amount_cents", &amount, "method", &method,
                   "reference", &reference, "semester_id", &semester) < 0 ||
        req_text(r, "reference", *reference ? reference : NULL, 100, false) < 0)
        return;
    if (amount < 1 || amount > MAX_AMOUNT) {
        reply_invalid(r, "amount_cents", "must be a whole number of cents from 1 to 100000000000");
        return;
    }
    if (!known_method(method)) {
        reply_invalid(r, "method", "must be one of cash, card, bank_transfer, check, e_wallet");
        return;
    }
    if (db_begin(r->db) < 0) goto db_error;
    json_t *a = db_json_one(r->db, "SELECT a.semester_id, a.currency FROM campus_assessments a JOIN campus_semesters s "
                                   "ON s.id = a.semester_id WHERE a.student_id = $1 AND ($2 = 0 OR a.semester_id = $2) "
                                   "ORDER BY s.starts_on DESC LIMIT 1",
                               DB_I(student), DB_I(semester));
    if (!a) {
        int64_t known = 0;
        db_int(r->db, &known, "SELECT COUNT(*) FROM campus_students WHERE id = $1", DB_I(student));
        db_rollback(r->db);
        if (!known) reply_error(r, 404, "not_found", "no student %lld", (long long)student);
        else reply_error(r, 409, "not_assessed", "the student has no assessment to pay in that semester");
        return;
    }
    semester = json_integer_value(json_object_get(a, "semester_id"));
    char currency[8];
    snprintf(currency, sizeof currency, "%s", json_string_value(json_object_get(a, "currency")));
    json_decref(a);
    unsigned before = unlocked_months(r->db, student, semester);
    char receipt[32];
    int64_t id = campus_payment_record(r->db, student, semester, currency, amount, method, reference, r->user.id);
    if (id < 0) goto rollback;
    snprintf(receipt, sizeof receipt, "OR-%08lld", (long long)id);
    unsigned unlocked = unlocked_months(r->db, student, semester) & ~before;
    json_t *p = db_json_one(r->db, PAYMENT_SELECT "WHERE p.id = $1", DB_I(id));
    if (!p ||
        audit_write(r->db, r, "campus", "campus.payment.posted", "payment", id,
                    json_pack("{s:I, s:I, s:I, s:s, s:s, s:o}", "student_id", (json_int_t)student, "semester_id",
                              (json_int_t)semester, "amount_cents", (json_int_t)amount, "method", method, "receipt",
                              receipt, "permits_unlocked", months_json(unlocked))) < 0 ||
        db_commit(r->db) < 0) {
        json_decref(p);
        goto rollback;
    }
    json_object_set_new(p, "permits_unlocked", months_json(unlocked));
    reply_json(r, 201, p);
    return;
rollback:
    db_rollback(r->db);
db_error:
    reply_db_error(r);
}

/* A student reads their own payments; cashiers and the registrar anyone's. */
void campus_payments_list(struct req *r)
{
    struct page pg;
    int64_t student = 0, semester = 0;
    const char *day = req_query(r, "date");
    if (req_query_int(r, "semester_id", 0, &semester) < 0 || req_page(r, &pg) < 0) return;
    if (day && (strlen(day) != 10 || day[4] != '-' || day[7] != '-')) {
        reply_invalid(r, "date", "must be a date (YYYY-MM-DD)");
        return;
    }
    if (campus_list_student(r, "campus.payments.read_all", &student) < 0) return;
#define WHERE "WHERE ($1 = 0 OR p.student_id = $1) AND ($2 = 0 OR p.semester_id = $2) AND " \
              "(CAST($3 AS TEXT) IS NULL OR substr(p.created_at, 1, 10) = $3) "
    reply_page(r, &pg, "SELECT COUNT(*) FROM campus_payments p " WHERE,
               PAYMENT_SELECT WHERE "ORDER BY p.id DESC LIMIT $4 OFFSET $5", DB_I(student), DB_I(semester), DB_S(day));
#undef WHERE
}

/* The receipt. */
void campus_payments_get(struct req *r)
{
    json_t *p = db_json_one(r->db, PAYMENT_SELECT "WHERE p.id = $1", DB_I(r->param_int[0]));
    if (p && !rbac_can(r, "campus.payments.read_all", NULL, 0) &&
        json_integer_value(json_object_get(p, "student_id")) != campus_student_of(r)) {
        json_decref(p);
        p = NULL;
    }
    if (!p) {
        reply_not_found(r);
        return;
    }
    reply_json(r, 200, p);
}

void campus_payments_void(struct req *r)
{
    int64_t id = r->param_int[0];
    const char *reason = NULL;
    if (req_unpack(r, "{s:s}", "reason", &reason) < 0 || req_text(r, "reason", reason, 500, true) < 0) return;
    if (db_begin(r->db) < 0) goto db_error;
    json_t *p = db_json_one(r->db, "SELECT student_id, semester_id, status FROM campus_payments WHERE id = $1", DB_I(id));
    if (!p) {
        db_rollback(r->db);
        reply_not_found(r);
        return;
    }
    int64_t student = json_integer_value(json_object_get(p, "student_id"));
    int64_t semester = json_integer_value(json_object_get(p, "semester_id"));
    bool posted = !strcmp(json_string_value(json_object_get(p, "status")), "posted");
    json_decref(p);
    if (!posted) {
        db_rollback(r->db);
        reply_error(r, 409, "already_void", "the payment is already void");
        return;
    }
    unsigned before = unlocked_months(r->db, student, semester);
    if (db_exec(r->db, "UPDATE campus_payments SET status = 'void', void_reason = $2, voided_by = $3, voided_at = "
                       CAMPUS_NOW_SQL " WHERE id = $1 AND status = 'posted'", DB_I(id), DB_S(reason),
                DB_I(r->user.id)) != 1 ||
        campus_allocate(r->db, student, semester) < 0)
        goto rollback;
    unsigned relocked = before & ~unlocked_months(r->db, student, semester);
    json_t *out = db_json_one(r->db, PAYMENT_SELECT "WHERE p.id = $1", DB_I(id));
    if (!out ||
        audit_write(r->db, r, "campus", "campus.payment.voided", "payment", id,
                    json_pack("{s:I, s:s, s:o}", "student_id", (json_int_t)student, "reason", reason,
                              "permits_locked", months_json(relocked))) < 0 ||
        db_commit(r->db) < 0) {
        json_decref(out);
        goto rollback;
    }
    json_object_set_new(out, "permits_locked", months_json(relocked));
    reply_json(r, 200, out);
    return;
rollback:
    db_rollback(r->db);
db_error:
    reply_db_error(r);
}

/* ------------------------------------------------- the student's bill, permits */

void campus_students_assessment(struct req *r)
{
    int64_t student = r->param_int[0], semester = 0;
    if (req_query_int(r, "semester_id", 0, &semester) < 0 || campus_require_student(r, "campus.payments.read_all", student) < 0) return;
    if (!semester)
        db_int(r->db, &semester, "SELECT a.semester_id FROM campus_assessments a JOIN campus_semesters s ON "
                                 "s.id = a.semester_id WHERE a.student_id = $1 ORDER BY s.starts_on DESC LIMIT 1",
               DB_I(student));
    json_t *a = campus_assessment_json(r->db, student, semester);
    if (!a) {
        reply_error(r, 404, "not_found", "no assessment");
        return;
    }
    reply_json(r, 200, a);
}

void campus_students_permits(struct req *r)
{
    int64_t student = r->param_int[0], semester = 0;
    if (req_query_int(r, "semester_id", 0, &semester) < 0 || campus_require_student(r, "campus.payments.read_all", student) < 0) return;
    json_t *items = db_json_all(r->db, "SELECT p.semester_id, s.code AS semester_code, p.month, p.code, "
                                       "CASE WHEN p.unlocked_at IS NULL THEN 0 ELSE 1 END AS unlocked__bool, "
                                       "p.unlocked_at FROM campus_permits p JOIN campus_semesters s ON "
                                       "s.id = p.semester_id WHERE p.student_id = $1 AND ($2 = 0 OR p.semester_id = $2) "
                                       "ORDER BY s.starts_on DESC, p.month",
                                   DB_I(student), DB_I(semester));
    if (!items) {
        reply_db_error(r);
        return;
    }
    reply_json(r, 200, json_pack("{s:I, s:o}", "student_id", (json_int_t)student, "items", items));
}

/* The proctor's question: may the bearer of this permit code sit the exam?
 * An unknown code is 404; a locked one answers valid false. */
void campus_permits_check(struct req *r)
{
    const char *code = req_query(r, "code");
    if (!code || !*code || strlen(code) > 64) {
        reply_invalid(r, "code", "is required: the permit's code");
        return;
    }
    json_t *p = db_json_one(r->db, "SELECT CASE WHEN p.unlocked_at IS NULL THEN 0 ELSE 1 END AS valid__bool, "
                                   "p.student_id, st.number AS student_number, st.last_name || ', ' || st.first_name "
                                   "AS student_name, p.semester_id, s.code AS semester_code, p.month, p.unlocked_at "
                                   "FROM campus_permits p JOIN campus_students st ON st.id = p.student_id JOIN "
                                   "campus_semesters s ON s.id = p.semester_id WHERE p.code = $1",
                               DB_S(code));
    if (!p) {
        reply_not_found(r);
        return;
    }
    reply_json(r, 200, p);
}
