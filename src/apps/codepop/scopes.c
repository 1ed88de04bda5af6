/* scopes.c -- the targets codepop's scoped roles point at (app.h scope_exists):
 * a manager's store, a logistics manager's or repair crew's region. */
#include "codepop.h"
#include <string.h>

bool codepop_scope_exists(struct db *db, const char *scope_type, int64_t id)
{
    int64_t n = 0;
    if (!strcmp(scope_type, "store"))
        return db_int(db, &n, "SELECT COUNT(*) FROM codepop_stores WHERE id = $1", DB_I(id)) == 1 && n;
    if (!strcmp(scope_type, "region"))
        return db_int(db, &n, "SELECT COUNT(*) FROM codepop_regions WHERE id = $1", DB_I(id)) == 1 && n;
    return false;
}
