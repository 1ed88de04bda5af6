/* authz.h -- authorization matrices: run them, and check that one covers
 * every route of an app for every kind of caller.
 *
 * A row is one call as a user (made with test_user(); NULL = anonymous) and
 * the status it must get. For completeness the user stands for its one role
 * in the app (looked up in user_roles), or for "no role" when it has none
 * there; a row whose user holds a scoped role says whether the target is in
 * that scope (`.out = true` when it is not). */
#ifndef ATRIUM_TEST_AUTHZ_H
#define ATRIUM_TEST_AUTHZ_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct route;

struct authz_case {
    const char *method;
    const char *path;
    const char *as;              /* username made with test_user(), or NULL */
    int expect;
    const char *body;            /* NULL: "{}" for POST/PATCH/PUT */
    bool out;                    /* the target is outside the caller's scoped role */
};
/* Every mismatch is reported, not just the first. */
void authz_run(const struct authz_case *cases);

/* A cell of the matrix no row fills: a route of the app's table and a caller,
 * "anonymous", "no role", "<role>" (global) or "<role> in scope" / "<role>
 * out of scope" (scoped roles). */
struct authz_gap {
    const struct route *route;
    char caller[96];
};
/* The gaps of `matrices` (a NULL-terminated list of {0}-terminated tables)
 * against app_find(app)->routes and the app's roles, in route table order
 * and role order; returns their count and sets *gaps (free() it). */
size_t authz_gaps(const char *app, const struct authz_case *const *matrices, struct authz_gap **gaps);
/* Fails the test naming every gap. */
void authz_complete(const char *app, const struct authz_case *const *matrices);

/* Role and permission grants by the core admin `as` to user `user_id`: each
 * case POSTs body to /api/v1/admin/users/{id}/roles (GRANT_ROLE) or
 * .../permissions (GRANT_PERM) and must get its status (every mismatch is
 * reported). Terminated by a case with body NULL. */
enum grant_kind { GRANT_ROLE, GRANT_PERM };
struct grant_case {
    enum grant_kind kind;
    const char *body;
    int status;
};
void grants_run(const char *as, int64_t user_id, const struct grant_case *cases);

/* An app's admin reads that app's audit rows and only them: `admin` gets the
 * one row of `action` written for app (a core row is not listed), 403 naming
 * core.audit.read without ?app=, and `other` (a role of the app that is not
 * its admin) 403 naming "<app>.audit.read". */
void audit_app_reader_check(const char *app, const char *action, const char *admin, const char *other);
#endif
