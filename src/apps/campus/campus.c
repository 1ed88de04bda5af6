/* campus.c -- school enrollment: its roles, its whole route table (who may
 * call what, in one place), its jobs. Handlers live in one file per resource
 * or workflow (campus.h). */
#include "campus.h"

#define P CAMPUS_PREFIX

/* ------------------------------------------------------------------ roles */

/* Everyone signed in to campus reads the catalog. */
#define CATALOG_READ "campus.catalog.read"

static const char *const student_perms[] = {CATALOG_READ, "campus.enrollments.create", "campus.enrollments.read",
                                            "campus.enrollments.drop", NULL};
static const char *const cashier_perms[] = {CATALOG_READ, NULL};
/* A cashier supervisor also voids payments (the spec: "registrar or cashier
 * supervisor"). */
static const char *const cashier_supervisor_perms[] = {CATALOG_READ, NULL};
/* Scoped to one section: its roster and its grades. */
static const char *const faculty_perms[] = {CATALOG_READ, "campus.roster.read", NULL};
/* campus.students.manage: acts for any student (enrolls them, overrides a
 * schedule conflict, drops after the window). */
static const char *const registrar_perms[] = {CATALOG_READ, "campus.students.manage", "campus.enrollments.create",
                                              "campus.enrollments.read", "campus.enrollments.drop",
                                              "campus.roster.read", NULL};
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

    /* enrollment */
    {"POST", P "/enrollments", campus_enrollments_create, "campus.enrollments.create", 0},
    {"GET", P "/enrollments", campus_enrollments_list, "campus.enrollments.read", 0,
     "student_id,semester_id,status,page,page_size"},
    {"DELETE", P "/enrollments/{id:int}", campus_enrollments_drop, "campus.enrollments.drop", 0},
    {0},
};

const struct app campus_app = {
    .name = "campus",
    .migrations_dir = "src/apps/campus/migrations/",
    .routes = campus_routes,
    .roles = campus_roles,
    .api_doc = "src/apps/campus/api.json",
    .scope_exists = campus_scope_exists,
};
