/* scopes.c -- the target groupbuy's scoped roles point at (app.h
 * scope_exists): a supplier account, for its owner and its counter staff. */
#include "groupbuy.h"
#include <string.h>

bool groupbuy_scope_exists(struct db *db, const char *scope_type, int64_t id)
{
    int64_t n = 0;
    return !strcmp(scope_type, "supplier") &&
           db_int(db, &n, "SELECT COUNT(*) FROM groupbuy_suppliers WHERE id = $1", DB_I(id)) == 1 && n;
}
