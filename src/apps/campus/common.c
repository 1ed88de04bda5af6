/* common.c -- what the campus resources share: which scopes exist (a
 * faculty role is scoped to one section), the caller's student record, the
 * section scope check, a section's teacher and room. */
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

int campus_faculty_check(struct req *r, int64_t user_id)
{
    int64_t n = 0;
    if (db_int(r->db, &n, "SELECT COUNT(*) FROM users WHERE id = $1 AND status = 'active'", DB_I(user_id)) != 1) {
        reply_db_error(r);
        return -1;
    }
    if (!n) {
        reply_invalid(r, "faculty_id", "must be the id of an active user");
        return -1;
    }
    return 0;
}

/* Two meetings clash on the same day when each starts before the other
 * ends (back to back is fine); rooms are the same whatever their case. */
int campus_room_check(struct req *r, int64_t section_id)
{
    json_t *clash = db_json_one(r->db, "SELECT o.id AS section_id, o.code AS section_code, o.room, m2.day, "
                                       "m2.starts_at, m2.ends_at FROM campus_sections c JOIN campus_meetings m1 ON "
                                       "m1.section_id = c.id JOIN campus_sections o ON o.semester_id = c.semester_id "
                                       "AND o.id <> c.id AND LOWER(o.room) = LOWER(c.room) JOIN campus_meetings m2 ON "
                                       "m2.section_id = o.id AND m2.day = m1.day AND m1.starts_at < m2.ends_at AND "
                                       "m2.starts_at < m1.ends_at WHERE c.id = $1 AND c.room <> '' "
                                       "ORDER BY o.code, m2.day, m2.starts_at LIMIT 1",
                                   DB_I(section_id));
    if (!clash) return 0;       /* free (a failed read: http.c answers 500 and undoes the request) */
    char msg[200];
    snprintf(msg, sizeof msg, tr(r, "the room %s is taken by %s at that time"),
             json_string_value(json_object_get(clash, "room")),
             json_string_value(json_object_get(clash, "section_code")));
    reply_json(r, 409, json_pack("{s:{s:s, s:s, s:o}}", "error", "code", "room_conflict", "message", msg, "details",
                                 clash));
    return -1;
}

static int notify_v(struct db *db, int64_t user, const char *lang, const char *kind, json_t *data, const char *fmt,
                    va_list ap) __attribute__((format(printf, 6, 0)));
static int notify_v(struct db *db, int64_t user, const char *lang, const char *kind, json_t *data, const char *fmt,
                    va_list ap)
{
    char title[256];
    vsnprintf(title, sizeof title, i18n_text(lang, fmt), ap);
    return notify_user(db, user, kind, title, data);
}

int campus_notify_user(struct db *db, int64_t user_id, const char *lang, const char *kind, json_t *data,
                       const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = notify_v(db, user_id, lang, kind, data, fmt, ap);
    va_end(ap);
    return rc;
}

int campus_notify(struct db *db, int64_t student_id, const char *kind, json_t *data, const char *fmt, ...)
{
    json_t *who = db_json_one(db, "SELECT st.user_id, COALESCE(u.language, 'en') AS language FROM campus_students st "
                                  "LEFT JOIN users u ON u.id = st.user_id WHERE st.id = $1",
                              DB_I(student_id));
    int64_t user = who ? json_integer_value(json_object_get(who, "user_id")) : 0;
    int rc = who ? 0 : -1;
    if (user) {
        va_list ap;
        va_start(ap, fmt);
        rc = notify_v(db, user, json_string_value(json_object_get(who, "language")), kind, data, fmt, ap);
        va_end(ap);
    } else {
        json_decref(data);      /* no account (yet): nobody to tell */
    }
    json_decref(who);
    return rc;
}
