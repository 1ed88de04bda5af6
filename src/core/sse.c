/* sse.c -- realtime over Server-Sent Events, and replay from the outbox
 * (which the WebSocket side in ws.c uses too). The hub, the event sink and
 * topic authorization live in realtime.c; realtime.h says how the files share
 * subscribers and in which order locks are taken.
 *
 * An SSE stream is a parked MHD connection (stream.c): the hub queues
 * messages on the subscriber and wakes the stream; the reader copies them out
 * on the I/O thread. No thread per connection.
 *
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

#define S(text) (char *)(text), sizeof(text) - 1
static struct rt_msg msg_hello = {-1, RT_HELLO, 0, S(":ok\n\nretry: 3000\n\n"), NULL, 0};
static struct rt_msg msg_hb = {-1, RT_HB, 0, S(":hb\n\n"), NULL, 0};
#undef S

/* ----------------------------------------------------------------- replay */

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
            struct rt_msg *m = rt_msg_event(db_col_int(&rows, 0), db_col_text(&rows, 1), db_col_text(&rows, 2), payload);
            json_decref(payload);
            last = db_col_int(&rows, 0);
            count++;
            if (m) {
                rt_append(&tmp, m, false);
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
            rt_append(&tmp, &rt_msg_end, false);
        } else if (more) {                            /* WS: ask the client to resume again */
            char text[96];
            snprintf(text, sizeof text, "{\"type\":\"replay_more\",\"last_event_id\":%lld}", (long long)last);
            struct rt_msg *m = rt_msg_ws_text(text);
            rt_append(&tmp, m, false);
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
    if (!rt_running()) {
        rt_free_topics(topics, n);
        reply_error(r, 503, "unavailable", "realtime is not running");
        return;
    }
    struct rt_sub *s = rt_sub_new(r->user.id, topics, n, false);
    rt_append(s, &msg_hello, false);
    s->wake = sse_wake;
    s->owner = reply_stream(r, "text/event-stream", sse_read, s, sse_done);
    rt_subscribe(s);
    int64_t upto;
    if (last >= 0 && rt_replay(s, r->db, last, true, &upto) < 0) rt_sub_end(s);   /* client retries */
}

/* An SSE comment for an idle stream (busy ones are alive anyway); hub_lock
 * held, see rt_each_sub(). */
static bool heartbeat_one(struct rt_sub *s)
{
    if (s->is_ws) return false;
    pthread_mutex_lock(&s->lock);
    bool idle = !s->head && !s->stopped;
    if (idle) rt_append(s, &msg_hb, false);
    pthread_mutex_unlock(&s->lock);
    return idle;
}

void sse_heartbeat(void)
{
    rt_each_sub(heartbeat_one);
}
