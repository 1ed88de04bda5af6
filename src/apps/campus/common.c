/* common.c -- what the campus resources share: which scopes exist (a
 * faculty role is scoped to one section). */
#include "campus.h"
#include <string.h>

bool campus_scope_exists(struct db *db, const char *scope_type, int64_t id)
{
    int64_t n = 0;
    return !strcmp(scope_type, "section") &&
           db_int(db, &n, "SELECT COUNT(*) FROM campus_sections WHERE id = $1", DB_I(id)) == 1 && n;
}
