/* events.c -- the transactional outbox and its dispatcher.
 *
 * A state change that others must hear about calls events_emit() inside its
 * own transaction: the event row commits with the change or not at all. The
 * dispatcher thread reads pending rows (dispatched_at IS NULL) in id order and
 * hands each to every registered sink whose type_prefix matches; when all of
 * them accept it the row is marked dispatched, otherwise attempts/last_error
 * are bumped and it stays pending. Delivery is at-least-once (a sink that
 * succeeded may see the event again when another one failed, or after a crash
 * before the round was recorded); consumers deduplicate by event_id.
 *
 * Rounds are serialized inside the process (one dispatch mutex), and a round
 * claims its rows in the database first (claimed_until, a lease of
 * CLAIM_LEASE_S), so neither this process nor another instance on the same
 * database hands the same event out twice concurrently; the rows of an
 * instance that died mid-round are taken over when the lease lapses. Fresh events go
 * before retries, so a sink failing on some events cannot starve new ones;
 * the dispatcher retries failed events at most once a second.
 *
 * The thread wakes on events_kick() (events_start() registers it as the
 * database's commit hook, so it runs after every commit, on any thread: it
 * only takes a mutex for a moment and never touches the database) and every
 * second as a safety net. Before events_start() and after
 * events_stop() a kick is a no-op. Sinks run outside any transaction; a sink
 * that writes opens its own. */
#include "atrium.h"
#include "internal.h"
#include <pthread.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_SINKS   16
#define BATCH       200
#define RETRY_EVERY 1           /* seconds between retry rounds of the thread */
#define CLAIM_LEASE_S 60        /* a round's claim on its rows */

static const struct event_sink *sinks[MAX_SINKS];
static size_t nsinks;
static pthread_mutex_t sinks_lock = PTHREAD_MUTEX_INITIALIZER;

static pthread_mutex_t round_lock = PTHREAD_MUTEX_INITIALIZER;   /* one round at a time */

static pthread_mutex_t wake_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake_cond;                /* CLOCK_MONOTONIC, see cond_init() */
static pthread_once_t cond_once = PTHREAD_ONCE_INIT;
static pthread_t thread;
#define DISPATCH_COALESCE_US 2000

static bool started, stop_requested, kicked;
static int accepting;           /* atomic: kicks count only while the thread runs */

struct pending {
    int64_t id;
    char *event_id, *topic, *type, *payload;
    const char *error;          /* name of the first sink that failed, or NULL */
};

/* ------------------------------------------------------------------ emit */

struct outbox_row {             /* appended by outbox_append (db_append) */
    char event_id[37];
    char *topic, *type, *payload;
};

static void outbox_row_free(void *arg)
{
    struct outbox_row *row = arg;
    free(row->topic);
    free(row->type);
    free(row->payload);
    free(row);
}

static int outbox_append(struct db *db, void *arg)
{
    struct outbox_row *row = arg;
    return db_exec(db, "INSERT INTO outbox (event_id, topic, type, payload) VALUES ($1, $2, $3, $4)",
                   DB_S(row->event_id), DB_S(row->topic), DB_S(row->type), DB_S(row->payload)) < 0 ? -1 : 0;
}

int events_emit(struct db *db, const char *topic, const char *type, json_t *payload)
{
    int rc = -1;
    if (!payload) payload = json_object();
    if (!db_in_tx(db)) {
        log_error("events_emit(%s) outside a transaction", type ? type : "?");
        goto out;
    }
    if (!topic || !*topic || !type || !*type) {
        log_error("events_emit without topic or type");
        goto out;
    }
    struct outbox_row *row = xcalloc(1, sizeof *row);
    uuid_v4(row->event_id);
    row->topic = xstrdup(topic);
    row->type = xstrdup(type);
    row->payload = json_dumps(payload, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!row->payload) row->payload = xstrdup("{}");
    /* other instances hear of it on commit; the row goes in at the commit in
     * row-lock mode, so that ids commit in order (realtime resumes from the
     * last id) */
    if (db_notify(db, EVENTS_CHANNEL) < 0) outbox_row_free(row);
    else rc = db_append(db, outbox_append, row, outbox_row_free);
out:
    json_decref(payload);
    return rc;
}

/* ----------------------------------------------------------------- sinks */

void events_add_sink(const struct event_sink *sink)
{
    if (!sink || !sink->deliver) return;
    pthread_mutex_lock(&sinks_lock);
    size_t i;
    for (i = 0; i < nsinks && sinks[i] != sink; i++)
        ;
    if (i == nsinks) {
        if (nsinks < MAX_SINKS) sinks[nsinks++] = sink;
        else log_error("events: too many sinks, %s ignored", sink->name ? sink->name : "?");
    }
    pthread_mutex_unlock(&sinks_lock);
}

static size_t sinks_snapshot(const struct event_sink **out)
{
    pthread_mutex_lock(&sinks_lock);
    size_t n = nsinks;
    memcpy(out, sinks, n * sizeof *out);
    pthread_mutex_unlock(&sinks_lock);
    return n;
}

static bool matches(const struct event_sink *s, const char *type)
{
    return !s->type_prefix || !strncmp(type, s->type_prefix, strlen(s->type_prefix));
}

/* ---------------------------------------------------------------- rounds */

static int by_id(const void *a, const void *b)
{
    int64_t x = ((const struct pending *)a)->id, y = ((const struct pending *)b)->id;
    return (x > y) - (x < y);
}

static void pending_free(struct pending *evs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(evs[i].event_id);
        free(evs[i].topic);
        free(evs[i].type);
        free(evs[i].payload);
    }
}

/* Claim up to max pending rows (fresh or retries) for this round, in id order. */
static size_t load(struct db *db, struct pending *out, size_t max, bool retries)
{
    static const char *const sql[2] = {
        "UPDATE outbox SET claimed_until = $2, claimed_by = $3 WHERE id IN (SELECT id FROM outbox "
        "WHERE dispatched_at IS NULL AND attempts = 0 AND claimed_until < $4 ORDER BY id LIMIT $1) "
        "RETURNING id, event_id, topic, type, payload",
        "UPDATE outbox SET claimed_until = $2, claimed_by = $3 WHERE id IN (SELECT id FROM outbox "
        "WHERE dispatched_at IS NULL AND attempts > 0 AND claimed_until < $4 ORDER BY id LIMIT $1) "
        "RETURNING id, event_id, topic, type, payload",
    };
    static const char *const any[2] = {
        "SELECT 1 FROM outbox WHERE dispatched_at IS NULL AND attempts = 0 AND claimed_until < $1 LIMIT 1",
        "SELECT 1 FROM outbox WHERE dispatched_at IS NULL AND attempts > 0 AND claimed_until < $1 LIMIT 1",
    };
    static char me[64];
    if (!me[0]) snprintf(me, sizeof me, "pid %d", (int)getpid());
    int64_t now = (int64_t)time(NULL), found = 0;
    struct db_rows rows;
    size_t n = 0;
    /* nothing to claim: no write, no commit (a commit would kick the dispatcher again) */
    if (!max || db_int(db, &found, any[retries], DB_I(now)) != 1) return 0;
    /* one claimer at a time (the claim lock), beside the requests' row-lock transactions */
    if (db_begin(db) < 0) return 0;
    if (db_lock_outbox_claim(db) < 0 ||
        db_query(db, &rows, sql[retries], DB_I(max), DB_I(now + CLAIM_LEASE_S), DB_S(me), DB_I(now)) < 0) {
        db_rollback(db);
        return 0;
    }
    while (n < max && db_step(&rows)) {
        out[n].id = db_col_int(&rows, 0);
        out[n].event_id = xstrdup(db_col_text(&rows, 1));
        out[n].topic = xstrdup(db_col_text(&rows, 2));
        out[n].type = xstrdup(db_col_text(&rows, 3));
        out[n].payload = xstrdup(db_col_text(&rows, 4));
        out[n].error = NULL;
        n++;
    }
    bool failed = db_rows_failed(&rows);
    db_rows_close(&rows);
    if (failed || db_commit(db) < 0) {     /* not claimed: someone takes them later */
        if (failed) db_rollback(db);
        pending_free(out, n);
        return 0;
    }
    qsort(out, n, sizeof *out, by_id);
    return n;
}

static void deliver(struct db *db, struct pending *ev, const struct event_sink *const *snap, size_t ns)
{
    json_t *payload = json_loads(ev->payload, JSON_DECODE_ANY, NULL);
    if (!payload) {
        log_error("outbox event %s has a malformed payload", ev->event_id);
        payload = json_object();
    }
    for (size_t i = 0; i < ns && !ev->error; i++) {
        if (!matches(snap[i], ev->type)) continue;
        int rc = snap[i]->deliver(db, ev->event_id, ev->topic, ev->type, payload);
        if (db_in_tx(db)) {
            log_error("event sink %s returned inside a transaction; rolled back", snap[i]->name);
            while (db_in_tx(db)) db_rollback(db);
            rc = -1;
        }
        if (rc < 0) ev->error = snap[i]->name ? snap[i]->name : "?";
    }
    json_decref(payload);
}

/* Mark the round's outcome in one transaction. Returns events dispatched. */
static int record(struct db *db, struct pending *evs, size_t n)
{
    int done = 0;
    if (!n) return 0;
    if (db_begin(db) < 0) return 0;
    for (size_t i = 0; i < n; i++) {
        int rc;
        if (!evs[i].error) {
            rc = db_exec(db, "UPDATE outbox SET dispatched_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = $1",
                         DB_I(evs[i].id));
            done++;
        } else {
            char *err = xasprintf("sink %s failed", evs[i].error);
            rc = db_exec(db, "UPDATE outbox SET attempts = attempts + 1, last_error = $2, claimed_until = 0 WHERE id = $1",
                         DB_I(evs[i].id), DB_S(err));
            free(err);
        }
        if (rc < 0) {
            db_rollback(db);
            return 0;
        }
    }
    return db_commit(db) < 0 ? 0 : done;
}

/* One batch: fresh events first, then (when allowed) retries of failed ones.
 * *fresh gets the number of fresh rows taken (a full batch means: go again). */
static int dispatch_round(struct db *db, bool retries, size_t *fresh)
{
    static struct pending evs[BATCH];
    const struct event_sink *snap[MAX_SINKS];
    int done;
    *fresh = 0;
    if (db_in_tx(db)) {
        log_error("events_dispatch_once inside a transaction");
        return -1;
    }
    pthread_mutex_lock(&round_lock);
    db_row_locks(db, true);     /* claims and their marks: see load(); the sinks run as usual */
    size_t n = *fresh = load(db, evs, BATCH, false);
    if (retries) n += load(db, evs + n, BATCH - n, true);
    db_row_locks(db, false);
    size_t ns = sinks_snapshot(snap);
    for (size_t i = 0; i < n; i++) deliver(db, &evs[i], snap, ns);
    db_row_locks(db, true);
    done = record(db, evs, n);
    db_row_locks(db, false);
    pending_free(evs, n);
    pthread_mutex_unlock(&round_lock);
    int64_t backlog = events_backlog(db);
    if (backlog >= 0) metrics_gauge("outbox_backlog", backlog);
    return done;
}

int events_dispatch_once(struct db *db)
{
    size_t fresh;
    return dispatch_round(db, true, &fresh);
}

int64_t events_backlog(struct db *db)
{
    int64_t n = 0;
    return db_int(db, &n, "SELECT COUNT(*) FROM outbox WHERE dispatched_at IS NULL") < 0 ? -1 : n;
}

/* ---------------------------------------------------------------- thread */

void events_kick(void)
{
    if (!__atomic_load_n(&accepting, __ATOMIC_ACQUIRE)) return;
    pthread_mutex_lock(&wake_lock);
    kicked = true;
    pthread_cond_signal(&wake_cond);
    pthread_mutex_unlock(&wake_lock);
}

/* A round, then more rounds of fresh events while batches come back full.
 * Every round consumes its fresh rows (dispatched or attempts > 0), so this
 * ends; max_rounds bounds it when producers keep up. */
static void drain(struct db *db, bool retries, int max_rounds)
{
    size_t fresh;
    dispatch_round(db, retries, &fresh);
    while (fresh == BATCH && --max_rounds > 0) dispatch_round(db, false, &fresh);
}

static void *dispatcher_main(void *arg)
{
    struct db *db = db_thread();
    time_t last_retry = 0;
    pthread_mutex_lock(&wake_lock);
    while (!stop_requested) {
        if (!kicked) {
            struct timespec until;
            clock_gettime(CLOCK_MONOTONIC, &until);
            until.tv_sec += 1;
            pthread_cond_timedwait(&wake_cond, &wake_lock, &until);
        }
        if (stop_requested) break;
        pthread_mutex_unlock(&wake_lock);
        /* Let a burst of commits gather: one round then delivers and marks
         * them in one transaction instead of one per commit (+2 ms latency). */
        usleep(DISPATCH_COALESCE_US);
        pthread_mutex_lock(&wake_lock);
        kicked = false;
        pthread_mutex_unlock(&wake_lock);
        db = db_thread();           /* every round: reopens a connection PostgreSQL dropped */
        if (db) {
            time_t now = time(NULL);
            bool retries = now - last_retry >= RETRY_EVERY;
            if (retries) last_retry = now;
            drain(db, retries, 8);
        }
        pthread_mutex_lock(&wake_lock);
    }
    pthread_mutex_unlock(&wake_lock);
    if (db) drain(db, true, 64);               /* what is pending now, once */
    db_thread_close();
    return NULL;
}

static void cond_init(void)
{
    cond_init_monotonic(&wake_cond);
}

int events_start(void)
{
    pthread_once(&cond_once, cond_init);
    int rc = 0;
    pthread_mutex_lock(&wake_lock);
    if (!started) {
        stop_requested = false;
        kicked = true;                          /* deliver what a previous run left */
        rc = pthread_create(&thread, NULL, dispatcher_main, NULL);
        if (rc == 0) {
            started = true;
            db_on_commit(events_kick);
            __atomic_store_n(&accepting, 1, __ATOMIC_RELEASE);
        } else {
            log_error("events: cannot start the dispatcher thread");
        }
    }
    pthread_mutex_unlock(&wake_lock);
    return rc == 0 ? 0 : -1;
}

void events_stop(void)
{
    pthread_mutex_lock(&wake_lock);
    if (!started) {
        pthread_mutex_unlock(&wake_lock);
        return;
    }
    __atomic_store_n(&accepting, 0, __ATOMIC_RELEASE);
    stop_requested = true;
    pthread_cond_signal(&wake_cond);
    pthread_mutex_unlock(&wake_lock);
    pthread_join(thread, NULL);
    pthread_mutex_lock(&wake_lock);
    started = false;
    pthread_mutex_unlock(&wake_lock);
}
