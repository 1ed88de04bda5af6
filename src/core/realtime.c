/* realtime.c -- committed events to browsers: messages, subscriber queues,
 * the hub, the event sink, topic authorization, the heartbeat timer and the
 * lifecycle. Server-Sent Events and replay from the outbox live in sse.c, the
 * WebSocket side in ws.c; realtime.h says how they share subscribers and in
 * which order locks are taken.
 *
 *   events.c dispatcher --deliver()--> hub --> subscriber queues --> SSE / WS
 *
 * Threads: none per connection. SSE streams are parked MHD connections woken
 * with stream_wake(); WebSockets belong to the one loop thread of ws.c; one
 * timer thread sends heartbeats. Event ids are outbox ids, so a client that
 * reconnects with the last id it saw gets exactly what it missed (sse.c).
 *
 * Order: the hub publishes outbox ids in increasing order (see deliver()). */
#include "atrium.h"
#include "internal.h"
#include "realtime.h"
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S(text) (char *)(text), sizeof(text) - 1
static struct rt_msg msg_overflow = {-1, RT_OVERFLOW, 0, S("event: overflow\ndata: {}\n\n"), S("{\"type\":\"overflow\"}")};
struct rt_msg rt_msg_end = {-1, RT_END, 0, S(""), NULL, 0};
#undef S

static bool running;
static bool sink_added;
static int heartbeat_s = 15;

/* --------------------------------------------------------------- messages */

void rt_msg_unref(struct rt_msg *m)
{
    if (!m || atomic_load(&m->refs) < 0) return;
    if (atomic_fetch_sub(&m->refs, 1) == 1) {
        free(m->sse);
        free(m->ws);
        free(m);
    }
}

static struct rt_msg *msg_ref(struct rt_msg *m)
{
    if (atomic_load(&m->refs) >= 0) atomic_fetch_add(&m->refs, 1);
    return m;
}

/* One event, formatted once for every subscriber: the SSE frame and the WS
 * text. payload is borrowed (NULL: JSON null). */
struct rt_msg *rt_msg_event(int64_t id, const char *topic, const char *type, json_t *payload)
{
    json_t *p = payload ? payload : json_null();
    json_t *data = json_pack("{s:s, s:s, s:O}", "topic", topic, "type", type, "payload", p);
    json_t *ws = json_pack("{s:I, s:s, s:s, s:O}", "id", (json_int_t)id, "topic", topic, "type", type, "payload", p);
    char *d = data ? json_dumps(data, JSON_COMPACT) : NULL;
    char *w = ws ? json_dumps(ws, JSON_COMPACT) : NULL;
    json_decref(data);
    json_decref(ws);
    if (!d || !w) {
        free(d);
        free(w);
        log_warn("realtime: event %lld on %s cannot be encoded", (long long)id, topic);
        return NULL;
    }
    char *etype = xstrdup(type);
    for (char *c = etype; *c; c++)
        if ((unsigned char)*c < 0x20) *c = '_';     /* one SSE field per line */
    struct rt_msg *m = xcalloc(1, sizeof *m);
    atomic_init(&m->refs, 1);
    m->kind = RT_EVENT;
    m->id = id;
    m->sse = xasprintf("id: %lld\nevent: %s\ndata: %s\n\n", (long long)id, etype, d);
    m->sse_len = strlen(m->sse);
    m->ws = w;
    m->ws_len = strlen(w);
    free(etype);
    free(d);
    return m;
}

struct rt_msg *rt_msg_ws_text(const char *json)
{
    struct rt_msg *m = xcalloc(1, sizeof *m);
    atomic_init(&m->refs, 1);
    m->kind = RT_EVENT;
    m->ws = xstrdup(json);
    m->ws_len = strlen(json);
    return m;
}

/* ------------------------------------------------------------ subscribers */

struct rt_sub *rt_sub_new(int64_t user_id, char **topics, size_t ntopics, bool is_ws)
{
    struct rt_sub *s = xcalloc(1, sizeof *s);
    pthread_mutex_init(&s->lock, NULL);
    s->user_id = user_id;
    s->topics = topics;
    s->ntopics = ntopics;
    s->is_ws = is_ws;
    return s;
}

void rt_append(struct rt_sub *s, struct rt_msg *m, bool live)
{
    struct rt_node *n = xmalloc(sizeof *n);
    n->msg = msg_ref(m);
    n->live = live;
    n->next = NULL;
    if (s->tail) s->tail->next = n;
    else s->head = n;
    s->tail = n;
    if (live) s->live++;
}

struct rt_msg *rt_pop(struct rt_sub *s)
{
    struct rt_node *n = s->head;
    if (!n) return NULL;
    s->head = n->next;
    if (!s->head) s->tail = NULL;
    if (n->live) s->live--;
    s->off = 0;
    struct rt_msg *m = n->msg;
    free(n);
    return m;
}

void rt_free_topics(char **topics, size_t n)
{
    for (size_t i = 0; i < n; i++) free(topics[i]);
    free(topics);
}

void rt_sub_free(struct rt_sub *s)
{
    if (!s) return;
    for (struct rt_msg *m; (m = rt_pop(s));) rt_msg_unref(m);
    rt_free_topics(s->topics, s->ntopics);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

/* A live event for one subscriber; true when its owner must be woken. */
static bool push_live(struct rt_sub *s, struct rt_msg *m)
{
    bool wake = false;
    pthread_mutex_lock(&s->lock);
    if (!s->stopped && m->id > s->floor) {
        if (s->live >= RT_QUEUE_MAX) {          /* too slow: end it, the client resumes */
            s->stopped = true;
            rt_append(s, &msg_overflow, false);
            metrics_count("realtime_overflows", NULL, 1);
        } else {
            rt_append(s, m, true);
            s->floor = m->id;
            if (!s->cover) s->cover = m->id;
        }
        wake = true;
    }
    pthread_mutex_unlock(&s->lock);
    return wake;
}

bool rt_sub_end(struct rt_sub *s)
{
    pthread_mutex_lock(&s->lock);
    bool was = s->stopped;
    if (!was) {
        s->stopped = true;
        rt_append(s, &rt_msg_end, false);
    }
    pthread_mutex_unlock(&s->lock);
    return !was;
}

/* -------------------------------------------------------------------- hub */

#define NBUCKETS 1024

struct topic_entry {
    struct topic_entry *next;
    struct rt_sub **subs;
    size_t n, cap;
    char name[];
};

static pthread_mutex_t hub_lock = PTHREAD_MUTEX_INITIALIZER;
static struct topic_entry *buckets[NBUCKETS];
static struct rt_sub *all_subs;
static int64_t nsubs;

/* The slot holding topic's entry, or the empty slot at the end of its chain. */
static struct topic_entry **slot_of(const char *topic)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)topic; *p; p++) h = (h ^ *p) * 16777619u;
    struct topic_entry **pp = &buckets[h % NBUCKETS];
    while (*pp && strcmp((*pp)->name, topic)) pp = &(*pp)->next;
    return pp;
}

void rt_subscribe(struct rt_sub *s)
{
    pthread_mutex_lock(&hub_lock);
    if (!s->subscribed) {
        for (size_t i = 0; i < s->ntopics; i++) {
            struct topic_entry **pp = slot_of(s->topics[i]), *e = *pp;
            if (!e) {
                size_t len = strlen(s->topics[i]);
                e = *pp = xcalloc(1, sizeof *e + len + 1);
                memcpy(e->name, s->topics[i], len + 1);
            }
            if (e->n == e->cap) {
                e->cap = e->cap ? e->cap * 2 : 4;
                e->subs = xrealloc(e->subs, e->cap * sizeof *e->subs);
            }
            e->subs[e->n++] = s;
        }
        s->prev = NULL;
        s->next = all_subs;
        if (all_subs) all_subs->prev = s;
        all_subs = s;
        s->subscribed = true;
        metrics_gauge("realtime_subscribers", ++nsubs);
    }
    pthread_mutex_unlock(&hub_lock);
}

void rt_unsubscribe(struct rt_sub *s)
{
    pthread_mutex_lock(&hub_lock);
    if (s->subscribed) {
        for (size_t i = 0; i < s->ntopics; i++) {
            struct topic_entry **pp = slot_of(s->topics[i]), *e = *pp;
            if (!e) continue;
            for (size_t j = 0; j < e->n; j++)
                if (e->subs[j] == s) {
                    e->subs[j] = e->subs[--e->n];
                    break;
                }
            if (!e->n) {
                *pp = e->next;
                free(e->subs);
                free(e);
            }
        }
        if (s->prev) s->prev->next = s->next;
        else all_subs = s->next;
        if (s->next) s->next->prev = s->prev;
        s->prev = s->next = NULL;
        s->subscribed = false;
        metrics_gauge("realtime_subscribers", --nsubs);
    }
    pthread_mutex_unlock(&hub_lock);
}

static int64_t hub_count(void)
{
    pthread_mutex_lock(&hub_lock);
    int64_t n = nsubs;
    pthread_mutex_unlock(&hub_lock);
    return n;
}

void rt_each_sub(bool (*fn)(struct rt_sub *s))
{
    pthread_mutex_lock(&hub_lock);
    for (struct rt_sub *s = all_subs; s; s = s->next)
        if (fn(s)) s->wake(s);
    pthread_mutex_unlock(&hub_lock);
}

static void publish(int64_t id, const char *topic, const char *type, json_t *payload)
{
    pthread_mutex_lock(&hub_lock);
    struct topic_entry *e = *slot_of(topic);
    struct rt_msg *m = e ? rt_msg_event(id, topic, type, payload) : NULL;
    if (m) {
        for (size_t i = 0; i < e->n; i++)
            if (push_live(e->subs[i], m)) e->subs[i]->wake(e->subs[i]);
        rt_msg_unref(m);
    }
    pthread_mutex_unlock(&hub_lock);
}

/* The event sink: runs on the dispatcher thread after the event committed.
 *
 * The dispatcher hands out fresh events before retries, so an event held back
 * by another sink's failure can come after newer ones. Subscribers must see
 * ids in order (a client resumes from the last id it saw), so the hub keeps a
 * high-water mark of published outbox ids and, when an event skips ahead,
 * publishes the rows in between from the outbox first (with SQLite's single
 * writer, every row below a committed id is committed or gone). Events at or
 * below the mark were published already: retries and duplicates end here. */
static pthread_mutex_t pull_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t hwm = -1;        /* highest outbox id published; -1: not yet known */

#define RT_PULL_MAX 1000        /* rows published ahead of a late event, at most */

static int deliver(struct db *db, const char *event_id, const char *topic, const char *type, json_t *payload)
{
    int64_t id = 0, max = 0;
    pthread_mutex_lock(&pull_lock);
    int rc = db_int(db, &id, "SELECT id FROM outbox WHERE event_id = $1", DB_S(event_id));
    if (rc <= 0) goto out;
    if (hwm < 0) hwm = id - 1;
    if (id <= hwm) {            /* a retry -- unless ids restarted in an emptied outbox */
        if (db_int(db, &max, "SELECT COALESCE(MAX(id), 0) FROM outbox") == 1 && max >= hwm) goto out;
        hwm = id - 1;
    }
    if (id == hwm + 1 || !hub_count()) {
        publish(id, topic, type, payload);
    } else {
        struct db_rows rows;
        rc = db_query(db, &rows, "SELECT id, topic, type, payload FROM outbox WHERE id > $1 AND id <= $2 ORDER BY id",
                      DB_I(hwm > id - RT_PULL_MAX ? hwm : id - RT_PULL_MAX), DB_I(id));
        if (rc < 0) goto out;
        while (db_step(&rows)) {
            json_t *p = json_loads(db_col_text(&rows, 3), JSON_DECODE_ANY, NULL);
            publish(db_col_int(&rows, 0), db_col_text(&rows, 1), db_col_text(&rows, 2), p);
            json_decref(p);
        }
        rc = rows.last_rc == SQLITE_DONE ? 0 : -1;
        db_rows_close(&rows);
        if (rc < 0) goto out;
    }
    hwm = id;
    rc = 0;
out:
    pthread_mutex_unlock(&pull_lock);
    return rc < 0 ? -1 : 0;
}

static const struct event_sink sink = {"realtime", "", deliver};

/* Events committed by other instances on the same PostgreSQL database: the
 * sink above sees only what this instance's dispatcher claims, so on every
 * NOTIFY (and once a second) the rows above the mark are published from the
 * outbox. Write transactions commit one at a time (db.c), so outbox ids
 * commit in increasing order and nothing below the mark can appear later. */
static void tail(void)
{
    struct db *db = db_thread();
    if (!db) return;
    pthread_mutex_lock(&pull_lock);
    int64_t max = 0;
    if (db_int(db, &max, "SELECT COALESCE(MAX(id), 0) FROM outbox") == 1) {
        if (hwm < 0) {
            /* not known (no mark at start): the dispatcher's first event sets it */
        } else if (!hub_count() || max < hwm) {
            hwm = max;              /* nobody listens (or an emptied outbox): just move on */
        } else if (max > hwm) {
            struct db_rows rows;
            if (db_query(db, &rows, "SELECT id, topic, type, payload FROM outbox WHERE id > $1 ORDER BY id LIMIT $2",
                         DB_I(max - hwm > RT_PULL_MAX ? max - RT_PULL_MAX : hwm), DB_I(RT_PULL_MAX)) == 0) {
                while (db_step(&rows)) {
                    json_t *p = json_loads(db_col_text(&rows, 3), JSON_DECODE_ANY, NULL);
                    publish(db_col_int(&rows, 0), db_col_text(&rows, 1), db_col_text(&rows, 2), p);
                    json_decref(p);
                    hwm = db_col_int(&rows, 0);
                }
                db_rows_close(&rows);
            }
        }
    }
    pthread_mutex_unlock(&pull_lock);
}

/* ----------------------------------------------------------------- topics */

static bool topic_valid(const char *t, size_t len)
{
    if (len < 1 || len > RT_TOPIC_MAX) return false;
    for (size_t i = 0; i < len; i++) {
        char c = t[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-')) return false;
    }
    return true;
}

/* user.<id> only for that user; core.* with core.audit.read; anything else
 * is the business of the app named by the first segment. */
static bool topic_allowed(struct req *r, const char *topic)
{
    char first[RT_TOPIC_MAX + 1];
    size_t n = strcspn(topic, ".");
    snprintf(first, sizeof first, "%.*s", (int)n, topic);
    if (!strcmp(first, "user")) {
        char own[32];
        int k = snprintf(own, sizeof own, "user.%lld", (long long)r->user.id);
        return r->user.id > 0 && !strncmp(topic, own, (size_t)k) && (topic[k] == 0 || topic[k] == '.');
    }
    if (!strcmp(first, "core")) return rbac_can(r, "core.audit.read", NULL, 0);
    const struct app *a = app_find(first);
    return a && a->topic_allowed && config_app_enabled(first) && a->topic_allowed(r, topic);
}

int rt_topics_from_req(struct req *r, char ***out, size_t *nout)
{
    const char *q = req_query(r, "topics");
    char **t = xcalloc(RT_MAX_TOPICS + 1, sizeof *t);
    size_t n = 0, named = 0;
    t[n++] = xasprintf("user.%lld", (long long)r->user.id);
    for (const char *p = q && *q ? q : NULL; p;) {
        size_t len = strcspn(p, ",");
        if (!topic_valid(p, len)) {
            reply_invalid(r, "topics", "each topic is 1-128 characters of a-z, 0-9, '.', '_', '-'");
            goto fail;
        }
        if (++named > RT_MAX_TOPICS) {
            reply_invalid(r, "topics", "at most 32 topics");
            goto fail;
        }
        bool dup = false;
        for (size_t i = 0; i < n && !dup; i++) dup = strlen(t[i]) == len && !strncmp(t[i], p, len);
        if (!dup) t[n++] = xasprintf("%.*s", (int)len, p);
        p = p[len] ? p + len + 1 : NULL;
    }
    for (size_t i = 1; i < n; i++)
        if (!topic_allowed(r, t[i])) {
            reply_error(r, 403, "topic_forbidden", "not allowed to subscribe to %s", t[i]);
            goto fail;
        }
    *out = t;
    *nout = n;
    return 0;
fail:
    rt_free_topics(t, n);
    return -1;
}

/* ------------------------------------------------------------ heartbeats */

static pthread_t timer;
static pthread_mutex_t timer_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t timer_cond;
static bool timer_stop;

int rt_heartbeat_seconds(void)
{
    return heartbeat_s;
}

bool rt_running(void)
{
    return running;
}

static void *timer_main(void *arg)
{
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    pthread_mutex_lock(&timer_lock);
    while (!timer_stop) {
        next.tv_sec += heartbeat_s;
        while (!timer_stop && pthread_cond_timedwait(&timer_cond, &timer_lock, &next) == 0) {}
        if (timer_stop) break;
        pthread_mutex_unlock(&timer_lock);
        sse_heartbeat();
        ws_heartbeat();
        ws_reap();
        pthread_mutex_lock(&timer_lock);
    }
    pthread_mutex_unlock(&timer_lock);
    return NULL;
}

/* -------------------------------------------------------------- lifecycle */

int realtime_init(void)
{
    if (running) return 0;
    const char *hb = getenv("ATRIUM_REALTIME_HEARTBEAT");
    heartbeat_s = 15;
    if (hb && *hb) {
        char *end;
        long v = strtol(hb, &end, 10);
        if (*end || v < 1 || v > 3600) log_warn("ATRIUM_REALTIME_HEARTBEAT=%s is not 1..3600 seconds; using 15", hb);
        else heartbeat_s = (int)v;
    }
    if (!sink_added) {
        events_add_sink(&sink);
        sink_added = true;
    }
    if (ws_start() < 0) return -1;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&timer_cond, &ca);
    pthread_condattr_destroy(&ca);
    timer_stop = false;
    if (pthread_create(&timer, NULL, timer_main, NULL)) {
        log_error("realtime: cannot start the heartbeat thread");
        pthread_cond_destroy(&timer_cond);
        ws_stop();
        return -1;
    }
    running = true;
    /* live subscribers get what commits from now on (older events: Last-Event-ID
     * replay, sse.c); a mark unknown until the first event could let the tail
     * skip events committed before it and not yet dispatched */
    struct db *db = db_thread();
    int64_t max = 0;
    pthread_mutex_lock(&pull_lock);
    if (db && db_int(db, &max, "SELECT COALESCE(MAX(id), 0) FROM outbox") == 1) hwm = max;
    pthread_mutex_unlock(&pull_lock);
    if (db_listen_start(EVENTS_CHANNEL, tail) < 0) log_warn("realtime: events of other instances will not arrive");
    pthread_mutex_lock(&hub_lock);
    metrics_gauge("realtime_subscribers", nsubs);
    pthread_mutex_unlock(&hub_lock);
    return 0;
}

void realtime_close_all(void)
{
    ws_stop();
}

void realtime_cleanup(void)
{
    db_listen_stop();
    ws_stop();
    if (!running) return;
    pthread_mutex_lock(&timer_lock);
    timer_stop = true;
    pthread_cond_signal(&timer_cond);
    pthread_mutex_unlock(&timer_lock);
    pthread_join(timer, NULL);
    pthread_cond_destroy(&timer_cond);
    running = false;
    /* Streams still open (http_stop normally ended them) end now; each
     * leaves the hub from its done callback, freeing the topic table. */
    rt_each_sub(rt_sub_end);
}
