/* common.c -- what the campus resources share: which scopes exist (a
 * faculty role is scoped to one section), the caller's student record, the
 * section scope check. */
#include "campus.h"
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
