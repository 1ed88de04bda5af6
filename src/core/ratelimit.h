/* ratelimit.h -- in-memory token buckets (ratelimit.c).
 *
 * Keys are strings ("ip:1.2.3.4", "user:42", "login-ip:1.2.3.4",
 * "login-user:bob"). Buckets live in a sharded hash table, one mutex per shard,
 * so concurrent requests on different keys do not contend. Idle buckets that
 * have refilled completely are swept lazily. */
#ifndef ATRIUM_RATELIMIT_H
#define ATRIUM_RATELIMIT_H
#include <stdbool.h>

struct rate;
void ratelimit_init(void);
void ratelimit_cleanup(void);
/* Take one token from `key`'s bucket. Returns true when allowed; when refused
 * sets *retry_after_s (>= 1) to the whole seconds until a token is available
 * (retry_after_s may be NULL). A new bucket starts full; rate->capacity <= 0
 * (or rate NULL) means unlimited. Safe before ratelimit_init(). */
bool ratelimit_take(const char *key, const struct rate *rate, int *retry_after_s);
/* The same, also reporting the bucket for the RateLimit-* headers: limit
 * (capacity), remaining (whole tokens left), reset_s (seconds until the
 * bucket is full again) and, when refused, retry_after_s. An unlimited rate
 * reports limit 0. */
struct ratelimit_state {
    long limit, remaining;
    int reset_s, retry_after_s;
};
bool ratelimit_take_state(const char *key, const struct rate *rate, struct ratelimit_state *st);
/* The same on a bucket kept in the database, shared by all instances
 * (ratelimit_db.c: login limits). Commits what the request holds. */
struct db;
bool ratelimit_take_db(struct db *db, const char *key, const struct rate *rate, int *retry_after_s);
int ratelimit_db_expire(struct db *db);          /* core.cleanup: idle rows */
/* Forget every bucket (tests, config reload). */
void ratelimit_reset(void);
#endif
