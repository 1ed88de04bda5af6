/* common.c -- codepop helpers shared by its resources: store/region checks, distances, preparation times, store
 * hours in the store's time zone, and notifications to a store's staff. */
#include "codepop.h"
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------------ scope */

int64_t codepop_store_region(struct db *db, int64_t store_id)
{
    int64_t region = 0;
    db_int(db, &region, "SELECT region_id FROM codepop_stores WHERE id = $1", DB_I(store_id));
    return region;
}

int64_t codepop_hub_region(struct db *db, int64_t hub_id)
{
    int64_t region = 0;
    db_int(db, &region, "SELECT region_id FROM codepop_hubs WHERE id = $1", DB_I(hub_id));
    return region;
}

bool codepop_can_store(struct req *r, const char *perm, int64_t store_id)
{
    if (rbac_can(r, perm, "store", store_id)) return true;
    int64_t region = codepop_store_region(r->db, store_id);
    return region && rbac_can(r, perm, "region", region);
}

int codepop_require_store(struct req *r, const char *perm, int64_t store_id)
{
    if (!codepop_store_region(r->db, store_id)) {
        reply_error(r, 404, "not_found", "no store %lld", (long long)store_id);
        return -1;
    }
    if (codepop_can_store(r, perm, store_id)) return 0;
    reply_error(r, 403, "forbidden", "missing permission %s for store %lld", perm, (long long)store_id);
    return -1;
}

int codepop_require_region(struct req *r, const char *perm, int64_t region_id)
{
    return rbac_require(r, perm, "region", region_id);
}

/* ------------------------------------------------------- time and distance */

double codepop_haversine_miles(double lat1, double lon1, double lat2, double lon2)
{
    const double rad = M_PI / 180.0, earth = 3958.8;
    double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
    double a = sin(dlat / 2) * sin(dlat / 2) + cos(lat1 * rad) * cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);
    return 2 * earth * asin(fmin(1.0, sqrt(a)));
}

int codepop_complexity_minutes(const char *complexity)
{
    if (!complexity) return -1;
    if (!strcmp(complexity, "simple")) return 2;
    if (!strcmp(complexity, "medium")) return 3;
    if (!strcmp(complexity, "complex")) return 5;
    return -1;
}

int codepop_prep_minutes(int max_complexity_minutes, int total_drinks)
{
    return max_complexity_minutes + (total_drinks > 2 ? total_drinks - 2 : 0);
}

static int hhmm(const char *s)
{
    int h, m;
    if (!s || sscanf(s, "%2d:%2d", &h, &m) != 2 || h < 0 || h > 24 || m < 0 || m > 59) return -1;
    return h * 60 + m;
}

/* glibc converts to local time only through TZ, which is process-wide, and
 * re-reads the zone file whenever TZ changes. So the UTC offset is cached per
 * (zone, hour): zone offsets change on hour boundaries, and an order asks for
 * a handful of zones. A miss holds tz_lock while it switches TZ; TZ is always
 * present in the environment (set at init), so switching it only swaps a
 * pointer that other threads may read through getenv(). */
#define TZ_CACHE 64

struct tz_entry {
    char zone[64];
    time_t hour;
    long offset;
};

static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tz_entry tz_cache[TZ_CACHE];

static int utc_offset(const char *zone, time_t t, long *offset)
{
    time_t hour = t / 3600;
    uint32_t h = (uint32_t)hour * 2654435761u;
    for (const char *p = zone; *p; p++) h = (h ^ (unsigned char)*p) * 16777619u;
    struct tz_entry *e = &tz_cache[h % TZ_CACHE];
    pthread_mutex_lock(&tz_lock);
    if (e->hour != hour || strcmp(e->zone, zone)) {
        char path[256];
        snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", zone);
        if (strlen(zone) >= sizeof e->zone || access(path, R_OK)) {
            pthread_mutex_unlock(&tz_lock);
            return -1;
        }
        struct tm local;
        setenv("TZ", zone, 1);
        tzset();
        localtime_r(&t, &local);
        setenv("TZ", "UTC", 1);
        tzset();
        snprintf(e->zone, sizeof e->zone, "%s", zone);
        e->hour = hour;
        e->offset = local.tm_gmtoff;
    }
    *offset = e->offset;
    pthread_mutex_unlock(&tz_lock);
    return 0;
}

int codepop_store_open_at(const char *zone, const char *opens_at, const char *closes_at, const char *utc)
{
    struct tm tm = {0};
    const char *end = utc ? strptime(utc, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
    int open = hhmm(opens_at), close = hhmm(closes_at);
    long offset;
    if (!end || (strcmp(end, "Z") && strcmp(end, "+00:00")) || open < 0 || close < 0 || !zone ||
        strstr(zone, ".."))
        return -1;
    time_t t = timegm(&tm);
    if (utc_offset(zone, t, &offset) < 0) return -1;
    time_t local_t = t + offset;
    struct tm local;
    gmtime_r(&local_t, &local);
    int now = local.tm_hour * 60 + local.tm_min;
    if (open <= close) return now >= open && now < close;
    return now >= open || now < close;      /* open past midnight */
}

/* ----------------------------------------------------------- notifications */

int codepop_notify_role(struct db *db, const char *role, int64_t store_id, const char *kind, const char *title,
                        json_t *data)
{
    struct db_rows rows;
    int rc = 0;
    int64_t region = codepop_store_region(db, store_id);
    if (db_query(db, &rows, "SELECT DISTINCT user_id FROM user_roles WHERE app = 'codepop' AND role = $1 "
                            "AND ((scope_type = 'store' AND scope_id = $2) OR (scope_type = 'region' AND scope_id = $3))",
                 DB_S(role), DB_I(store_id), DB_I(region)) < 0) {
        json_decref(data);
        return -1;
    }
    int64_t ids[256];
    size_t n = 0;
    while (db_step(&rows) && n < sizeof ids / sizeof ids[0]) ids[n++] = db_col_int(&rows, 0);
    if (db_rows_failed(&rows)) rc = -1;     /* not "nobody to tell" */
    db_rows_close(&rows);
    for (size_t i = 0; i < n && rc == 0; i++) rc = notify_user(db, ids[i], kind, title, json_deep_copy(data));
    json_decref(data);
    return rc;
}
