/* ratelimit_db.c -- token buckets kept in the database, shared by every
 * instance on it (login limits: a password guesser spreading attempts over
 * instances meets one budget). The other limits (per IP, per user) stay in
 * memory per instance (ratelimit.c): they guard an instance's own capacity.
 *
 * One upsert refills the bucket by the time elapsed since its last take, takes
 * a token when there is one and records whether it did, so concurrent takes
 * on any instance never both spend the last token (the row is written under
 * the database's write lock). The caller's held transaction is committed at
 * once (db_thread_flush) so the slow password check that follows a login's
 * take never runs with the write lock held. Rows idle for a day are deleted
 * by core.cleanup (ratelimit_db_expire). */
#include "atrium.h"
#include "internal.h"
#include "ratelimit.h"
#include <math.h>
#include <time.h>

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool ratelimit_take_db(struct db *db, const char *key, const struct rate *rate, int *retry_after_s)
{
    if (!rate || rate->capacity <= 0) return true;
    double now = wall_now();
    struct db_rows rows;
    bool allowed = true;
    double tokens = rate->capacity;
    /* refilled = min(capacity, tokens + elapsed * per_second) */
#define REFILLED "min($2, rate_buckets.tokens + max(0, $3 - rate_buckets.at) * $4)"
    if (db_query(db, &rows,
                 "INSERT INTO rate_buckets (key, tokens, at, allowed) VALUES ($1, $2 - 1, $3, 1) "
                 "ON CONFLICT (key) DO UPDATE SET "
                 "tokens = CASE WHEN " REFILLED " >= 1 THEN " REFILLED " - 1 ELSE " REFILLED " END, "
                 "allowed = CASE WHEN " REFILLED " >= 1 THEN 1 ELSE 0 END, at = $3 "
                 "RETURNING allowed, tokens",
                 DB_S(key), DB_D(rate->capacity), DB_D(now), DB_D(rate->per_second)) == 0 &&
        db_step(&rows)) {
        allowed = db_col_int(&rows, 0) != 0;
        tokens = db_col_real(&rows, 1);
    } else {
        log_warn("rate limit %s: database unavailable, not limiting", key);
    }
#undef REFILLED
    db_rows_close(&rows);
    db_thread_flush();
    if (!allowed && retry_after_s) {
        double wait = rate->per_second > 0 ? (1.0 - tokens) / rate->per_second : 86400;
        *retry_after_s = wait < 1 ? 1 : wait > 86400 ? 86400 : (int)ceil(wait);
    }
    return allowed;
}

int ratelimit_db_expire(struct db *db)
{
    return db_exec(db, "DELETE FROM rate_buckets WHERE at < $1", DB_D(wall_now() - 86400));
}
