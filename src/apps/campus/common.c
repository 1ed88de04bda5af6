/* common.c -- what the campus resources share: which scopes exist (a
 * faculty role is scoped to one section), the caller's student record, the
 * section scope check. */
#include "campus.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

bool campus_scope_exists(struct db *db, const char *scope_type, int64_t id)
{
    int64_t n = 0;
    return !strcmp(scope_type, "section") &&
           db_int(db, &n, "SELECT COUNT(*) FROM campus_sections WHERE id = $1", DB_I(id)) == 1 && n;
}

int64_t campus_student_of(struct req *r)
{
    int64_t id = 0;
    if (!r->user.id) return 0;
    db_int(r->db, &id, "SELECT id FROM campus_students WHERE user_id = $1", DB_I(r->user.id));
    return id;
}

int campus_list_student(struct req *r, const char *all_perm, int64_t *student)
{
    if (req_query_int(r, "student_id", 0, student) < 0) return -1;
    if (rbac_can(r, all_perm, NULL, 0)) return 0;
    int64_t own = campus_student_of(r);
    if (*student && *student != own) {     /* another student's: as if it did not exist */
        reply_not_found(r);
        return -1;
    }
    *student = own ? own : -1;
    return 0;
}

int campus_require_student(struct req *r, const char *all_perm, int64_t student_id)
{
    int64_t n = 0;
    if ((!rbac_can(r, all_perm, NULL, 0) && student_id != campus_student_of(r)) ||
        db_int(r->db, &n, "SELECT COUNT(*) FROM campus_students WHERE id = $1", DB_I(student_id)) != 1 || !n) {
        reply_not_found(r);
        return -1;
    }
    return 0;
}

int campus_require_section(struct req *r, const char *perm, int64_t section_id)
{
    int64_t n = 0;
    if (db_int(r->db, &n, "SELECT COUNT(*) FROM campus_sections WHERE id = $1", DB_I(section_id)) != 1) {
        reply_db_error(r);
        return -1;
    }
    if (!n) {
        reply_not_found(r);
        return -1;
    }
    if (!rbac_can(r, perm, "section", section_id)) {
        reply_error(r, 403, "forbidden", "not your section");
        return -1;
    }
    return 0;
}

int campus_notify(struct db *db, int64_t student_id, const char *kind, json_t *data, const char *fmt, ...)
{
    int rc = -1;
    json_t *who = db_json_one(db, "SELECT st.user_id, COALESCE(u.language, 'en') AS language FROM campus_students st "
                                  "LEFT JOIN users u ON u.id = st.user_id WHERE st.id = $1",
                              DB_I(student_id));
    int64_t user = who ? json_integer_value(json_object_get(who, "user_id")) : 0;
    if (!user) {                /* no account (yet): nobody to tell */
        rc = who ? 0 : -1;
        goto out;
    }
    char title[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(title, sizeof title, i18n_text(json_string_value(json_object_get(who, "language")), fmt), ap);
    va_end(ap);
    rc = notify_user(db, user, kind, title, data);
    data = NULL;
out:
    json_decref(data);
    json_decref(who);
    return rc;
}
