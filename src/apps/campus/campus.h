/* campus.h -- shared by the files of the campus app only. The route table in
 * campus.c names every handler declared here; each lives in the file of its
 * resource or workflow:
 *
 *   common.c      scope checks (a faculty member's sections), the student of the caller,
 *                 a section's faculty and room checks
 *   catalog.c     programs, semesters, subjects with prerequisites, sections with meetings
 *   catalog_manage.c
 *                 the registrar's side: new semesters (with fees) and their
 *                 enrollment window, new subjects and their prerequisites (no
 *                 cycles), new sections (meetings, room, faculty and its role)
 *   enrollments.c enroll (rules, waitlist), drop (promotion), lists, a section's roster
 *   assessments.c the semester's bill, installments, allocation of payments, permits
 *   payments.c    payments, receipts, voids; a student's bill and permits; the permit check
 *   grades.c      grades submitted, finalized, corrected; a student's grades and GPA
 *   students.c    a student's profile and schedule; the student search
 *   admissions.c  public applications and their status lookup; the registrar's
 *                 list, approval (student, account, role) and rejection
 *   reports.c     the daily collections and the enrollment report, JSON or CSV
 *   leaves.c      leaves of absence; the INC deadline they move
 *   seed.c        `atrium seed campus`: a school in every situation of the spec
 *   jobs.c        the background jobs: INC expiry, leave status, installments
 *                 due and overdue, waitlist promotion, enrollment window notices
 *
 * docs/apps/campus.md says what is built and the choices made.
 */
#ifndef CAMPUS_H
#define CAMPUS_H
#include "atrium.h"

#define CAMPUS_PREFIX "/api/v1/campus"
#define CAMPUS_NOW_SQL "strftime('%Y-%m-%dT%H:%M:%SZ','now')"

/* SQL pieces the resources share (one spelling each). */
/* A grade's hundredths column as a JSON number on both databases. */
#define CAMPUS_GRADE_NUM(col) "CAST(" col " AS REAL) / 100"
/* 1 while the semester `se` takes enrollments, else 0. */
#define CAMPUS_WINDOW_OPEN(se)                                                                                 \
    "CASE WHEN " se ".enrollment_opens_at <= " CAMPUS_NOW_SQL " AND " CAMPUS_NOW_SQL " < " se                 \
    ".enrollment_closes_at THEN 1 ELSE 0 END"
/* A section's meetings as a JSON array, by day and time. */
#define CAMPUS_MEETINGS_JSON(section)                                                                          \
    "(SELECT json_group_array(json(x)) FROM (SELECT json_object('day', m.day, 'starts_at', m.starts_at, "     \
    "'ends_at', m.ends_at) AS x FROM campus_meetings m WHERE m.section_id = " section                          \
    " ORDER BY m.day, m.starts_at) t)"
/* Enrollment `e`'s place on its section's waitlist (arrival order), or NULL. */
#define CAMPUS_WAITLIST_POSITION(e)                                                                            \
    "CASE WHEN " e ".status = 'waitlisted' THEN (SELECT COUNT(*) FROM campus_enrollments w WHERE "             \
    "w.section_id = " e ".section_id AND w.status = 'waitlisted' AND w.id <= " e ".id) END"

/* ------------------------------------------------------------------ scope */

bool campus_scope_exists(struct db *db, const char *scope_type, int64_t id);
/* The caller's student id, 0 when they have no student record. */
int64_t campus_student_of(struct req *r);
/* The ?student_id= of a list as the caller may ask it: with all_perm
 * anyone's (0: everyone's); without it only their own (another student's is
 * 404; no student record gives -1, which matches nothing). -1 after a reply. */
int campus_list_student(struct req *r, const char *all_perm, int64_t *student);
/* A student's own data, or anyone's with all_perm: 404 otherwise (and when
 * there is no such student); -1 after a reply. */
int campus_require_student(struct req *r, const char *all_perm, int64_t student_id);
/* 404 when there is no such section, 403 when the caller may not do perm in
 * it (a faculty member's role is scoped to their sections); -1 after a reply. */
int campus_require_section(struct req *r, const char *perm, int64_t section_id);

/* Is user_id an active user, who may teach a section? 0, or -1 after a
 * reply (400 naming faculty_id, or 500). */
int campus_faculty_check(struct req *r, int64_t user_id);
/* After a section's room or meetings were written, inside the transaction:
 * 0 when no other section of its semester has that room at an overlapping
 * time, else -1 after 409 room_conflict naming that section (details: it,
 * the room and the clashing meeting). */
int campus_room_check(struct req *r, int64_t section_id);

/* An in-app notification to the student's account (none: nothing to do),
 * the title translated into their language: mark fmt with N_(). data is
 * stolen. Inside the caller's transaction; 0 or -1. */
int campus_notify(struct db *db, int64_t student_id, const char *kind, json_t *data, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* The same to a user whose language is known (lists that read it at once). */
int campus_notify_user(struct db *db, int64_t user_id, const char *lang, const char *kind, json_t *data,
                       const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* -------------------------------------------------------- enrollments.c */

/* Seat the first waitlisted student of the section (assessed, audited as r,
 * or the system when r is NULL, and notified): 1, 0 nobody waits, -1 error. */
int campus_promote(struct db *db, struct req *r, int64_t section_id);

/* ------------------------------------------------------------- leaves.c */

/* The last day to complete an INC given on `given` (days since the epoch):
 * a year later, moved by every day of the student's leaves of absence from
 * then on (a leave that starts before the deadline pushes it further).
 * -1 on a database error. */
int64_t campus_inc_deadline(struct db *db, int64_t student_id, int64_t given);

/* ------------------------------------------------------ assessments.c
 * Inside the caller's transaction; 0 or -1. */

/* Recompute the student's semester assessment and installments, allocate the
 * posted payments again and bring the permits in line. */
int campus_assess(struct db *db, int64_t student_id, int64_t semester_id);
/* Allocate every posted payment again, oldest installment first; permits follow. */
int campus_allocate(struct db *db, int64_t student_id, int64_t semester_id);
/* Allocate one new payment's amount; returns the credit left, or -1. */
int64_t campus_allocate_payment(struct db *db, int64_t student_id, int64_t semester_id, int64_t payment_id,
                                int64_t amount);
json_t *campus_assessment_json(struct db *db, int64_t student_id, int64_t semester_id);

/* ----------------------------------------------------------- payments.c */

/* Record a posted payment with its receipt number and allocate it (the
 * handler and the seed); its id, or -1. Inside the caller's transaction. */
int64_t campus_payment_record(struct db *db, int64_t student, int64_t semester, const char *currency, int64_t amount,
                              const char *method, const char *reference, int64_t cashier);

/* ---------------------------------------------------------- reports.c */

/* The collections of one UTC day (date "YYYY-MM-DD"), of one cashier or all
 * (cashier_id 0): {date, from, to, cashier_id, currency, posted: {count,
 * amount_cents, by_method, by_cashier}, voided: {the same, items}} from one
 * SELECT. The endpoint and the daily cashier-report job share it. NULL on a
 * database error or a date that is not a real YYYY-MM-DD day. */
json_t *campus_collections_json(struct db *db, const char *date, int64_t cashier_id);
/* That report as CSV rows (docs/apps/campus.md "Reports"), header first. */
void campus_collections_csv(json_t *report, struct csv *out);

/* ------------------------------------------------------------ catalog.c */

/* One semester (with its fees), subject (with its prerequisites) or section
 * (with its meetings and seats) as the API answers it; NULL when none. */
json_t *campus_semester_json(struct db *db, int64_t id);
json_t *campus_subject_json(struct db *db, int64_t id);
json_t *campus_section_json(struct db *db, int64_t id);

/* --------------------------------------------------------------- handlers */

/* catalog.c */
void campus_programs_list(struct req *r);
void campus_semesters_list(struct req *r);
void campus_semesters_get(struct req *r);
void campus_subjects_list(struct req *r);
void campus_subjects_get(struct req *r);
void campus_sections_list(struct req *r);
void campus_sections_get(struct req *r);
/* catalog_manage.c */
void campus_semesters_create(struct req *r);
void campus_semesters_update(struct req *r);
void campus_subjects_create(struct req *r);
void campus_subjects_prerequisites(struct req *r);
void campus_sections_create(struct req *r);
/* enrollments.c */
void campus_enrollments_create(struct req *r);
void campus_enrollments_drop(struct req *r);
void campus_enrollments_list(struct req *r);
void campus_sections_roster(struct req *r);
void campus_sections_update(struct req *r);
/* payments.c */
void campus_payments_create(struct req *r);
void campus_payments_list(struct req *r);
void campus_payments_get(struct req *r);
void campus_payments_void(struct req *r);
void campus_students_assessment(struct req *r);
void campus_students_permits(struct req *r);
void campus_permits_check(struct req *r);
/* students.c */
void campus_students_get(struct req *r);
void campus_students_search(struct req *r);
void campus_students_schedule(struct req *r);
/* leaves.c */
void campus_leaves_create(struct req *r);
void campus_leaves_list(struct req *r);
void campus_leaves_cancel(struct req *r);
/* jobs.c */
int campus_inc_expiry_job(struct db *db, char **result);
int campus_leave_status_job(struct db *db, char **result);
int campus_installments_job(struct db *db, char **result);
int campus_waitlist_job(struct db *db, char **result);
int campus_window_notices_job(struct db *db, char **result);
int campus_cashier_report_job(struct db *db, char **result);
/* seed.c */
int campus_seed(struct db *db, const struct seed_opts *opts);
/* grades.c */
void campus_grades_submit(struct req *r);
void campus_grades_finalize(struct req *r);
void campus_grades_correct(struct req *r);
void campus_students_grades(struct req *r);
void campus_students_gpa(struct req *r);
/* admissions.c */
void campus_admissions_apply(struct req *r);
void campus_admissions_status(struct req *r);
void campus_admissions_list(struct req *r);
void campus_admissions_get(struct req *r);
void campus_admissions_approve(struct req *r);
void campus_admissions_reject(struct req *r);
/* reports.c */
void campus_reports_collections(struct req *r);
void campus_reports_enrollment(struct req *r);

#endif
