/* campus.h -- shared by the files of the campus app only. The route table in
 * campus.c names every handler declared here; each lives in the file of its
 * resource or workflow:
 *
 *   common.c      scope checks (a faculty member's sections), the student of the caller
 *   catalog.c     programs, semesters, subjects with prerequisites, sections with meetings
 *
 * Still to come (issue #11): enrollment and waitlists, assessments,
 * payments and allocations, permits, grades and GPA, leaves, INC expiry,
 * admissions, reports, jobs, seed. docs/apps/campus.md says what is built.
 */
#ifndef CAMPUS_H
#define CAMPUS_H
#include "atrium.h"

#define CAMPUS_PREFIX "/api/v1/campus"
#define CAMPUS_NOW_SQL "strftime('%Y-%m-%dT%H:%M:%SZ','now')"

/* ------------------------------------------------------------------ scope */

bool campus_scope_exists(struct db *db, const char *scope_type, int64_t id);

/* --------------------------------------------------------------- handlers */

/* catalog.c */
void campus_programs_list(struct req *r);
void campus_semesters_list(struct req *r);
void campus_semesters_get(struct req *r);
void campus_subjects_list(struct req *r);
void campus_subjects_get(struct req *r);
void campus_sections_list(struct req *r);
void campus_sections_get(struct req *r);

#endif
