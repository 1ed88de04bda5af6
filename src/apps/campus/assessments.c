/* assessments.c -- what a student owes for a semester and what is paid.
 *
 * The assessment is recomputed inside every transaction that changes the
 * student's enrollment (enrollments.c): units enrolled x the program's rate
 * per unit, plus the semester's fees (those for every program and those for
 * the student's) when at least one unit is enrolled, split into the
 * semester's `months` equal installments with the remainder on the last,
 * due on the semester's start day of each month (the month's last day when
 * it has fewer days). Then the posted payments are allocated again, in
 * payment order, to the oldest unpaid installment first (campus_allocate);
 * what is left of them is credit; and each month's exam permit is unlocked
 * exactly when its installment is fully paid (an installment of 0 is paid)
 * and something is owed at all (a student with no units has no permits).
 *
 * Everything here runs inside the caller's transaction and returns 0 or -1. */
#include "campus.h"
#include <stdio.h>
#include <string.h>

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* starts_on "YYYY-MM-DD" plus `add` months, the day clamped to the month. */
static int due_date(const char *starts_on, int add, char out[11])
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, m, d;
    if (!starts_on || sscanf(starts_on, "%4d-%2d-%2d", &y, &m, &d) != 3 || m < 1 || m > 12) return -1;
    m += add;
    y += (m - 1) / 12;
    m = (m - 1) % 12 + 1;
    int last = days[m - 1] + (m == 2 && leap(y));
    snprintf(out, 11, "%04d-%02d-%02d", y, m, d < last ? d : last);
    return 0;
}

/* The permit rows of the semester, one per month, each with a code a
 * proctor checks (created once; a recompute keeps them). */
static int permits_ensure(struct db *db, int64_t student_id, int64_t semester_id, int months)
{
    for (int m = 1; m <= months; m++) {
        char code[17];
        crypto_random_token(code, 8);
        if (db_exec(db, "INSERT INTO campus_permits (student_id, semester_id, month, code) VALUES ($1, $2, $3, $4) "
                        "ON CONFLICT (student_id, semester_id, month) DO NOTHING",
                    DB_I(student_id), DB_I(semester_id), DB_I(m), DB_S(code)) < 0)
            return -1;
    }
    return 0;
}

/* The months of an assessment whose installment is paid, when anything is owed. */
#define PAID_MONTHS "(SELECT i.month FROM campus_installments i JOIN campus_assessments a ON a.id = i.assessment_id " \
                    "WHERE i.assessment_id = $3 AND i.paid_cents >= i.amount_cents AND a.total_cents > 0)"

/* Unlock the months fully paid, lock the others again. */
static int permits_sync(struct db *db, int64_t assessment_id, int64_t student_id, int64_t semester_id)
{
    if (db_exec(db, "UPDATE campus_permits SET unlocked_at = " CAMPUS_NOW_SQL " WHERE student_id = $1 AND "
                    "semester_id = $2 AND unlocked_at IS NULL AND month IN " PAID_MONTHS,
                DB_I(student_id), DB_I(semester_id), DB_I(assessment_id)) < 0)
        return -1;
    return db_exec(db, "UPDATE campus_permits SET unlocked_at = NULL WHERE student_id = $1 AND semester_id = $2 "
                       "AND unlocked_at IS NOT NULL AND month NOT IN " PAID_MONTHS,
                   DB_I(student_id), DB_I(semester_id), DB_I(assessment_id)) < 0 ? -1 : 0;
}

/* Allocate `amount` of payment_id to the oldest unpaid installments of the
 * assessment; returns what is left (credit), or -1. */
static int64_t allocate_one(struct db *db, int64_t assessment_id, int64_t payment_id, int64_t amount)
{
    json_t *open = db_json_all(db, "SELECT id, amount_cents - paid_cents AS due FROM campus_installments "
                                   "WHERE assessment_id = $1 AND paid_cents < amount_cents ORDER BY month",
                               DB_I(assessment_id));
    if (!open) return -1;
    size_t i;
    json_t *v;
    json_array_foreach(open, i, v) {
        if (amount <= 0) break;
        int64_t id = json_integer_value(json_object_get(v, "id"));
        int64_t due = json_integer_value(json_object_get(v, "due"));
        int64_t take = amount < due ? amount : due;
        if (db_exec(db, "INSERT INTO campus_allocations (payment_id, installment_id, amount_cents) VALUES ($1, $2, $3)",
                    DB_I(payment_id), DB_I(id), DB_I(take)) != 1 ||
            db_exec(db, "UPDATE campus_installments SET paid_cents = paid_cents + $2 WHERE id = $1", DB_I(id),
                    DB_I(take)) != 1) {
            json_decref(open);
            return -1;
        }
        amount -= take;
    }
    json_decref(open);
    return amount;
}

int campus_allocate(struct db *db, int64_t student_id, int64_t semester_id)
{
    int64_t assessment_id = 0;
    if (db_int(db, &assessment_id, "SELECT id FROM campus_assessments WHERE student_id = $1 AND semester_id = $2",
               DB_I(student_id), DB_I(semester_id)) < 0)
        return -1;
    if (!assessment_id) return 0;       /* nothing owed yet: payments stay credit */
    if (db_exec(db, "DELETE FROM campus_allocations WHERE installment_id IN (SELECT id FROM campus_installments "
                    "WHERE assessment_id = $1)", DB_I(assessment_id)) < 0 ||
        db_exec(db, "UPDATE campus_installments SET paid_cents = 0 WHERE assessment_id = $1", DB_I(assessment_id)) < 0)
        return -1;
    json_t *pays = db_json_all(db, "SELECT id, amount_cents FROM campus_payments WHERE student_id = $1 AND "
                                   "semester_id = $2 AND status = 'posted' ORDER BY id",
                               DB_I(student_id), DB_I(semester_id));
    if (!pays) return -1;
    size_t i;
    json_t *v;
    int rc = 0;
    json_array_foreach(pays, i, v) {
        if (allocate_one(db, assessment_id, json_integer_value(json_object_get(v, "id")),
                         json_integer_value(json_object_get(v, "amount_cents"))) < 0) {
            rc = -1;
            break;
        }
    }
    json_decref(pays);
    return rc < 0 ? -1 : permits_sync(db, assessment_id, student_id, semester_id);
}

int64_t campus_allocate_payment(struct db *db, int64_t student_id, int64_t semester_id, int64_t payment_id,
                                int64_t amount)
{
    int64_t assessment_id = 0;
    if (db_int(db, &assessment_id, "SELECT id FROM campus_assessments WHERE student_id = $1 AND semester_id = $2",
               DB_I(student_id), DB_I(semester_id)) < 0)
        return -1;
    if (!assessment_id) return amount;
    int64_t left = allocate_one(db, assessment_id, payment_id, amount);
    if (left < 0 || permits_sync(db, assessment_id, student_id, semester_id) < 0) return -1;
    return left;
}

int campus_assess(struct db *db, int64_t student_id, int64_t semester_id)
{
    json_t *s = db_json_one(db,
                            "SELECT (SELECT COALESCE(SUM(e.units), 0) FROM campus_enrollments e WHERE e.student_id = $1 "
                            "AND e.semester_id = $2 AND e.status = 'enrolled') AS units, p.rate_per_unit_cents AS rate, "
                            "p.currency, (SELECT COALESCE(SUM(f.amount_cents), 0) FROM campus_fees f WHERE "
                            "f.semester_id = $2 AND (f.program_id IS NULL OR f.program_id = p.id)) AS fees, "
                            "se.months, se.starts_on FROM campus_students st JOIN campus_programs p ON "
                            "p.id = st.program_id JOIN campus_semesters se ON se.id = $2 WHERE st.id = $1",
                            DB_I(student_id), DB_I(semester_id));
    int rc = -1;
    if (!s) return -1;
    int64_t units = json_integer_value(json_object_get(s, "units"));
    int64_t tuition = units * json_integer_value(json_object_get(s, "rate"));
    int64_t fees = units > 0 ? json_integer_value(json_object_get(s, "fees")) : 0;
    int64_t total = tuition + fees, id = 0;
    int months = (int)json_integer_value(json_object_get(s, "months"));
    const char *starts_on = json_string_value(json_object_get(s, "starts_on"));
    if (db_int(db, &id, "INSERT INTO campus_assessments (student_id, semester_id, units, tuition_cents, fees_cents, "
                        "total_cents, currency) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (student_id, semester_id) "
                        "DO UPDATE SET units = excluded.units, tuition_cents = excluded.tuition_cents, fees_cents = "
                        "excluded.fees_cents, total_cents = excluded.total_cents, computed_at = " CAMPUS_NOW_SQL " "
                        "RETURNING id",
               DB_I(student_id), DB_I(semester_id), DB_I(units), DB_I(tuition), DB_I(fees), DB_I(total),
               DB_S(json_string_value(json_object_get(s, "currency")))) != 1)
        goto out;
    for (int m = 1; m <= months; m++) {
        char due[11];
        int64_t amount = total / months + (m == months ? total % months : 0);
        if (due_date(starts_on, m - 1, due) < 0 ||
            db_exec(db, "INSERT INTO campus_installments (assessment_id, month, due_on, amount_cents) VALUES "
                        "($1, $2, $3, $4) ON CONFLICT (assessment_id, month) DO UPDATE SET due_on = excluded.due_on, "
                        "amount_cents = excluded.amount_cents",
                    DB_I(id), DB_I(m), DB_S(due), DB_I(amount)) != 1)
            goto out;
    }
    if (permits_ensure(db, student_id, semester_id, months) < 0) goto out;
    rc = campus_allocate(db, student_id, semester_id);
out:
    json_decref(s);
    return rc;
}

json_t *campus_assessment_json(struct db *db, int64_t student_id, int64_t semester_id)
{
    return db_json_one(db,
                       "SELECT a.id, a.student_id, a.semester_id, a.units, a.tuition_cents, a.fees_cents, a.total_cents, "
                       "a.currency, (SELECT COALESCE(SUM(i.paid_cents), 0) FROM campus_installments i WHERE "
                       "i.assessment_id = a.id) AS paid_cents, a.computed_at, (SELECT json_group_array(json(x)) FROM "
                       "(SELECT json_object('month', i.month, 'due_on', i.due_on, 'amount_cents', i.amount_cents, "
                       "'paid_cents', i.paid_cents, 'overdue', CASE WHEN i.overdue = 1 THEN json('true') ELSE "
                       "json('false') END) AS x FROM campus_installments i WHERE i.assessment_id = a.id ORDER BY "
                       "i.month) t) AS installments__json FROM campus_assessments a WHERE a.student_id = $1 AND "
                       "a.semester_id = $2",
                       DB_I(student_id), DB_I(semester_id));
}
