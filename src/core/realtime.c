/* realtime.c -- committed events to browsers: the hub, topic authorization,
 * replay from the outbox, Server-Sent Events and the heartbeat timer. The
 * WebSocket side lives in ws.c; realtime.h says how the two share subscribers
 * and in which order locks are taken.
 *
 *   events.c dispatcher --deliver()--> hub --> subscriber queues --> SSE / WS
 *
 * Threads: none per connection. SSE streams are parked MHD connections woken
 * with stream_wake(); WebSockets belong to the one loop thread of ws.c; one
 * timer thread sends heartbeats. Event ids are outbox ids, so a client that
 * reconnects with the last id it saw gets exactly what it missed.
 *
 * Order: the hub publishes outbox ids in increasing order (see deliver()).
 * Resumption without duplicates or gaps: a subscriber joins the hub first,
 * then replays outbox rows newer than the client's last id. Live events that
 * arrive meanwhile wait behind the replay; those the replay already covered
 * (id <= the last replayed id, or <= the client's own last id) are dropped,
 * and so is a dispatcher retry of an event already queued (id <= floor). */
#include "atrium.h"
#include "internal.h"
#include "realtime.h"
#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S(text) (char *)(text), sizeof(text) - 1
static struct rt_msg msg_hello = {-1, RT_HELLO, 0, S(":ok\n\nretry: 3000\n\n"), NULL, 0};
static struct rt_msg msg_hb = {-1, RT_HB, 0, S(":hb\n\n"), NULL, 0};
static struct rt_msg msg_overflow = {-1, RT_OVERFLOW, 0, S("event: overflow\ndata: {}\n\n"), S("{\"type\":\"overflow\"}")};
static struct rt_msg msg_end = {-1, RT_END, 0, S(""), NULL, 0};
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
static struct rt_msg *msg_event(int64_t id, const char *topic, const char *type, json_t *payload)
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

/* sub->lock held; takes its own reference to m. */
static void append(struct rt_sub *s, struct rt_msg *m, bool live)
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
            append(s, &msg_overflow, false);
            metrics_count("realtime_overflows", NULL, 1);
        } else {
            append(s, m, true);
            s->floor = m->id;
            if (!s->cover) s->cover = m->id;
        }
        wake = true;
    }
    pthread_mutex_unlock(&s->lock);
    return wake;
}

/* Queue the final message: no more live events, close after the queue. */
static bool sub_end(struct rt_sub *s)
{
    pthread_mutex_lock(&s->lock);
    bool was = s->stopped;
    if (!was) {
        s->stopped = true;
        append(s, &msg_end, false);
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

static void publish(int64_t id, const char *topic, const char *type, json_t *payload)
{
    pthread_mutex_lock(&hub_lock);
    struct topic_entry *e = *slot_of(topic);
    struct rt_msg *m = e ? msg_event(id, topic, type, payload) : NULL;
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

/* ----------------------------------------------------------------- replay */

/* Drop queued live events with id <= upto (sub->lock held). */
static void drop_live_upto(struct rt_sub *s, int64_t upto)
{
    for (struct rt_node **pp = &s->head; *pp;) {
        struct rt_node *n = *pp;
        if (n->live && n->msg->id <= upto) {
            *pp = n->next;
            s->live--;
            rt_msg_unref(n->msg);
            free(n);
        } else {
            pp = &n->next;
        }
    }
    s->tail = NULL;
    for (struct rt_node *n = s->head; n; n = n->next) s->tail = n;
}

int rt_replay(struct rt_sub *s, struct db *db, int64_t after, bool end_if_more, int64_t *last_out)
{
    /* An id from the future (another database, an outbox that started over)
     * must not hide the events to come: clamp it to the newest row. */
    int64_t newest = 0;
    if (db_int(db, &newest, "SELECT COALESCE(MAX(id), 0) FROM outbox") < 0) return -1;
    if (after > newest) after = newest;
    *last_out = after;
    pthread_mutex_lock(&s->lock);
    if (s->floor < after) s->floor = after;          /* the client has those */
    int64_t upper = s->cover ? s->cover : INT64_MAX;
    bool stopped = s->stopped;
    pthread_mutex_unlock(&s->lock);
    if (stopped || upper - 1 <= after) return 0;

    /* SELECT ... WHERE id > $1 AND id < $2 AND topic IN ($3, ...) */
    size_t nargs = 2 + s->ntopics, len = 0, cap = 200 + 6 * s->ntopics;
    struct db_arg *args = xcalloc(nargs + 1, sizeof *args);
    char *sql = xmalloc(cap);
    args[0] = DB_I(after);
    args[1] = DB_I(upper);
    len = (size_t)snprintf(sql, cap, "SELECT id, topic, type, payload FROM outbox WHERE id > $1 AND id < $2 AND topic IN (");
    for (size_t i = 0; i < s->ntopics; i++) {
        args[2 + i] = DB_S(s->topics[i]);
        len += (size_t)snprintf(sql + len, cap - len, "%s$%zu", i ? ", " : "", i + 3);
    }
    snprintf(sql + len, cap - len, ") ORDER BY id LIMIT %d", RT_REPLAY_MAX + 1);

    struct rt_sub tmp = {0};                          /* the replayed messages, in order */
    int count = 0;
    bool more = false, failed = false;
    int64_t last = after;
    struct db_rows rows;
    if (db_query_(db, &rows, sql, args) < 0) {
        failed = true;
    } else {
        while (db_step(&rows)) {
            if (count == RT_REPLAY_MAX) {
                more = true;
                break;
            }
            json_t *payload = json_loads(db_col_text(&rows, 3), JSON_DECODE_ANY, NULL);
            struct rt_msg *m = msg_event(db_col_int(&rows, 0), db_col_text(&rows, 1), db_col_text(&rows, 2), payload);
            json_decref(payload);
            last = db_col_int(&rows, 0);
            count++;
            if (m) {
                append(&tmp, m, false);
                rt_msg_unref(m);
            }
        }
        failed = !more && rows.last_rc != SQLITE_DONE;
        db_rows_close(&rows);
    }
    free(sql);
    free(args);

    pthread_mutex_lock(&s->lock);
    if (!failed && !s->stopped) {
        drop_live_upto(s, last);
        if (more && end_if_more) {                    /* SSE: end here, resume from `last` */
            drop_live_upto(s, INT64_MAX);
            s->stopped = true;
            append(&tmp, &msg_end, false);
        } else if (more) {                            /* WS: ask the client to resume again */
            char text[96];
            snprintf(text, sizeof text, "{\"type\":\"replay_more\",\"last_event_id\":%lld}", (long long)last);
            struct rt_msg *m = rt_msg_ws_text(text);
            append(&tmp, m, false);
            rt_msg_unref(m);
        }
        if (tmp.head) {                               /* behind the preamble, ahead of live events */
            struct rt_node **pp = &s->head;
            while (*pp && !(*pp)->live) pp = &(*pp)->next;
            tmp.tail->next = *pp;
            if (!*pp) s->tail = tmp.tail;
            *pp = tmp.head;
            tmp.head = tmp.tail = NULL;
        }
        if (s->floor < last) s->floor = last;
        if (!more) {
            if (!s->cover || s->cover > after + 1) s->cover = after + 1;
        } else if (s->cover && s->cover <= last) {
            s->cover = 0;
            for (struct rt_node *n = s->head; n; n = n->next)
                if (n->live) {
                    s->cover = n->msg->id;
                    break;
                }
        }
    }
    pthread_mutex_unlock(&s->lock);
    for (struct rt_msg *m; (m = rt_pop(&tmp));) rt_msg_unref(m);
    *last_out = last;
    return failed ? -1 : count;
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

int rt_last_id_from_req(struct req *r, int64_t *out)
{
    const char *v = req_header(r, "Last-Event-ID");
    if (!v || !*v) v = req_query(r, "last_event_id");
    *out = -1;
    if (!v || !*v) return 0;
    char *end;
    errno = 0;
    long long id = strtoll(v, &end, 10);
    if (errno || *end || id < 0 || *v == '-' || *v == '+' || *v == ' ') {
        reply_invalid(r, "last_event_id", "must be a non-negative integer");
        return -1;
    }
    *out = id;
    return 0;
}

/* -------------------------------------------------------------------- SSE */

/* Runs on the I/O thread under the stream's lock: copy out what is queued. */
static long sse_read(void *ctx, char *buf, size_t max)
{
    struct rt_sub *s = ctx;
    size_t n = 0;
    pthread_mutex_lock(&s->lock);
    while (s->head && n < max && !s->ended) {
        struct rt_msg *m = s->head->msg;
        size_t k = m->sse_len - s->off;
        if (k > max - n) k = max - n;
        memcpy(buf + n, m->sse + s->off, k);
        n += k;
        s->off += k;
        if (s->off < m->sse_len) break;
        if (m->kind == RT_OVERFLOW || m->kind == RT_END) s->ended = true;
        rt_msg_unref(rt_pop(s));
    }
    long ret = n == 0 && s->ended ? -1 : (long)n;
    pthread_mutex_unlock(&s->lock);
    return ret;
}

static void sse_wake(struct rt_sub *s)
{
    stream_wake(s->owner);
}

/* The connection is gone: leave the hub (nobody wakes us after this). */
static void sse_done(void *ctx)
{
    struct rt_sub *s = ctx;
    rt_unsubscribe(s);
    rt_sub_free(s);
}

void realtime_sse(struct req *r)
{
    int64_t last;
    char **topics;
    size_t n;
    if (rt_last_id_from_req(r, &last) < 0 || rt_topics_from_req(r, &topics, &n) < 0) return;
    if (!running) {
        rt_free_topics(topics, n);
        reply_error(r, 503, "unavailable", "realtime is not running");
        return;
    }
    struct rt_sub *s = rt_sub_new(r->user.id, topics, n, false);
    append(s, &msg_hello, false);
    s->wake = sse_wake;
    s->owner = reply_stream(r, "text/event-stream", sse_read, s, sse_done);
    rt_subscribe(s);
    int64_t upto;
    if (last >= 0 && rt_replay(s, r->db, last, true, &upto) < 0) sub_end(s);   /* client retries */
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

/* An SSE comment for every idle stream (busy ones are alive anyway). */
static void heartbeat_sse(void)
{
    pthread_mutex_lock(&hub_lock);
    for (struct rt_sub *s = all_subs; s; s = s->next) {
        if (s->is_ws) continue;
        pthread_mutex_lock(&s->lock);
        bool idle = !s->head && !s->stopped;
        if (idle) append(s, &msg_hb, false);
        pthread_mutex_unlock(&s->lock);
        if (idle) s->wake(s);
    }
    pthread_mutex_unlock(&hub_lock);
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
        heartbeat_sse();
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
    pthread_mutex_lock(&hub_lock);
    for (struct rt_sub *s = all_subs; s; s = s->next)
        if (sub_end(s)) s->wake(s);
    pthread_mutex_unlock(&hub_lock);
}
