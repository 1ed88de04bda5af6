/* campus.c -- school enrollment: its roles, its whole route table (who may
 * call what, in one place), its jobs. Handlers live in one file per resource
 * or workflow (campus.h). */
#include "campus.h"

#define P CAMPUS_PREFIX

/* ------------------------------------------------------------------ roles */

/* Everyone signed in to campus reads the catalog. */
#define CATALOG_READ "campus.catalog.read"

/* campus.payments.read: one's own payments, bill and permits; with
 * campus.payments.read_all, anyone's. */
static const char *const student_perms[] = {CATALOG_READ, "campus.enrollments.create", "campus.enrollments.read",
                                            "campus.enrollments.drop", "campus.payments.read", "campus.grades.read",
                                            "campus.students.read", NULL};
static const char *const cashier_perms[] = {CATALOG_READ, "campus.payments.create", "campus.payments.read",
                                            "campus.payments.read_all", "campus.students.read",
                                            "campus.students.read_all", "campus.students.search",
                                            "campus.reports.collections", NULL};
/* A cashier supervisor also voids payments (the spec: "registrar or cashier
 * supervisor"). */
static const char *const cashier_supervisor_perms[] = {"campus.payments.void", NULL};
/* Scoped to one section: its roster and its grades; as a proctor, checks
 * exam permits. */
static const char *const faculty_perms[] = {CATALOG_READ, "campus.roster.read", "campus.permits.check",
                                            "campus.grades.submit", NULL};
/* campus.students.manage: acts for any student (enrolls them, overrides a
 * schedule conflict, drops after the window). campus.admissions.manage:
 * reads, approves and rejects applications. campus.catalog.manage: adds
 * semesters (and moves their enrollment window), subjects and sections. */
static const char *const registrar_perms[] = {CATALOG_READ, "campus.students.manage", "campus.enrollments.create",
                                              "campus.enrollments.read", "campus.enrollments.drop",
                                              "campus.roster.read", "campus.payments.read", "campus.payments.read_all",
                                              "campus.payments.void", "campus.permits.check", "campus.grades.read",
                                              "campus.grades.finalize", "campus.grades.correct", "campus.students.read",
                                              "campus.leaves.manage", "campus.sections.manage",
                                              "campus.admissions.manage", "campus.reports.collections",
                                              "campus.reports.enrollment", "campus.students.read_all",
                                              "campus.students.search", "campus.catalog.manage", NULL};
static const char *const admin_perms[] = {"campus.*", NULL};

static const struct role campus_roles[] = {
    {"student", NULL, NULL, student_perms},
    {"cashier", NULL, NULL, cashier_perms},
    {"cashier_supervisor", "cashier", NULL, cashier_supervisor_perms},
    {"faculty", NULL, "section", faculty_perms},
    {"registrar", NULL, NULL, registrar_perms},
    {"admin", NULL, NULL, admin_perms},
    {0},
};

/* ----------------------------------------------------------------- routes */

/* The last field lists the query parameters each handler reads; any other is
 * refused. api.json describes them. */
static const struct route campus_routes[] = {
    /* the catalog */
    {"GET", P "/programs", campus_programs_list, CATALOG_READ, 0, "page,page_size"},
    {"GET", P "/semesters", campus_semesters_list, CATALOG_READ, 0, "page,page_size"},
    {"GET", P "/semesters/{id:int}", campus_semesters_get, CATALOG_READ, 0},
    {"GET", P "/subjects", campus_subjects_list, CATALOG_READ, 0, "q,page,page_size"},
    {"GET", P "/subjects/{id:int}", campus_subjects_get, CATALOG_READ, 0},
    {"GET", P "/sections", campus_sections_list, CATALOG_READ, 0, "semester_id,subject_id,faculty_id,page,page_size"},
    {"GET", P "/sections/{id:int}", campus_sections_get, CATALOG_READ, 0},
    {"GET", P "/sections/{id:int}/roster", campus_sections_roster, "campus.roster.read", 0},
    {"PATCH", P "/sections/{id:int}", campus_sections_update, "campus.sections.manage", 0},

    /* managing the catalog (the registrar) */
    {"POST", P "/semesters", campus_semesters_create, "campus.catalog.manage", 0},
    {"PATCH", P "/semesters/{id:int}", campus_semesters_update, "campus.catalog.manage", 0},
    {"POST", P "/subjects", campus_subjects_create, "campus.catalog.manage", 0},
    {"PUT", P "/subjects/{id:int}/prerequisites", campus_subjects_prerequisites, "campus.catalog.manage", 0},
    {"POST", P "/sections", campus_sections_create, "campus.catalog.manage", 0},

    /* enrollment */
    {"POST", P "/enrollments", campus_enrollments_create, "campus.enrollments.create", 0},
    {"GET", P "/enrollments", campus_enrollments_list, "campus.enrollments.read", 0,
     "student_id,semester_id,status,page,page_size"},
    {"DELETE", P "/enrollments/{id:int}", campus_enrollments_drop, "campus.enrollments.drop", 0},

    /* students */
    {"GET", P "/students", campus_students_search, "campus.students.search", 0, "q,page,page_size"},
    {"GET", P "/students/{id:int}", campus_students_get, "campus.students.read", 0},
    {"GET", P "/students/{id:int}/schedule", campus_students_schedule, "campus.students.read", 0, "semester_id"},

    /* leaves of absence */
    {"POST", P "/students/{id:int}/leaves", campus_leaves_create, "campus.leaves.manage", 0},
    {"GET", P "/students/{id:int}/leaves", campus_leaves_list, "campus.students.read", 0},
    {"DELETE", P "/students/{id:int}/leaves/{leave_id:int}", campus_leaves_cancel, "campus.leaves.manage", 0},

    /* money: the bill, payments, receipts, voids; exam permits */
    {"GET", P "/students/{id:int}/assessment", campus_students_assessment, "campus.payments.read", 0, "semester_id"},
    {"POST", P "/payments", campus_payments_create, "campus.payments.create", ROUTE_IDEMPOTENT},
    {"GET", P "/payments", campus_payments_list, "campus.payments.read", 0,
     "student_id,semester_id,date,page,page_size"},
    {"GET", P "/payments/{id:int}", campus_payments_get, "campus.payments.read", 0},
    {"POST", P "/payments/{id:int}/void", campus_payments_void, "campus.payments.void", ROUTE_IDEMPOTENT},
    {"GET", P "/students/{id:int}/permits", campus_students_permits, "campus.payments.read", 0, "semester_id"},
    {"GET", P "/permits/check", campus_permits_check, "campus.permits.check", 0, "code"},

    /* grades and GPA */
    {"PUT", P "/enrollments/{id:int}/grade", campus_grades_submit, "campus.grades.submit", 0},
    {"POST", P "/enrollments/{id:int}/grade/finalize", campus_grades_finalize, "campus.grades.finalize", 0},
    {"POST", P "/enrollments/{id:int}/grade/correct", campus_grades_correct, "campus.grades.correct", 0},
    {"GET", P "/students/{id:int}/grades", campus_students_grades, "campus.grades.read", 0, "semester_id"},
    {"GET", P "/students/{id:int}/gpa", campus_students_gpa, "campus.grades.read", 0, "semester_id"},

    /* admissions: applying and the status lookup are public (applicants have
     * no account); approving makes one (argon2id: slow) */
    {"POST", P "/admissions/applications", campus_admissions_apply, PERM_PUBLIC, 0},
    {"POST", P "/admissions/status", campus_admissions_status, PERM_PUBLIC, 0},
    {"GET", P "/admissions/applications", campus_admissions_list, "campus.admissions.manage", 0,
     "status,q,page,page_size"},
    {"GET", P "/admissions/applications/{id:int}", campus_admissions_get, "campus.admissions.manage", 0},
    {"POST", P "/admissions/applications/{id:int}/approve", campus_admissions_approve, "campus.admissions.manage",
     ROUTE_SLOW},
    {"POST", P "/admissions/applications/{id:int}/reject", campus_admissions_reject, "campus.admissions.manage", 0},

    /* reports: JSON, or CSV with ?format=csv */
    {"GET", P "/reports/collections", campus_reports_collections, "campus.reports.collections", ROUTE_SLOW,
     "date,cashier_id,format"},
    {"GET", P "/reports/enrollment", campus_reports_enrollment, "campus.reports.enrollment", ROUTE_SLOW,
     "semester_id,format"},
    {0},
};

/* ------------------------------------------------------------------- jobs */

static const struct job campus_jobs[] = {
    {"campus.inc_expiry", 86400, campus_inc_expiry_job},
    {"campus.leave_status", 3600, campus_leave_status_job},
    {"campus.installments", 3600, campus_installments_job},
    {"campus.waitlist", 3600, campus_waitlist_job},
    {"campus.window_notices", 900, campus_window_notices_job},
    {"campus.cashier_report", 3600, campus_cashier_report_job},
    {0},
};

const struct app campus_app = {
    .name = "campus",
    .migrations_dir = "src/apps/campus/migrations/",
    .routes = campus_routes,
    .roles = campus_roles,
    .jobs = campus_jobs,
    .seed = campus_seed,
    .api_doc = "src/apps/campus/api.json",
    .scope_exists = campus_scope_exists,
};
