/* realtime.h -- private to realtime.c (hub, sink, topics, heartbeats), sse.c
 * (Server-Sent Events, replay) and ws.c (the WebSocket event loop). Nothing
 * else includes it.
 *
 * A subscriber (struct rt_sub) is one SSE stream or one WebSocket connection:
 * its topics, and a queue of messages waiting to be written. Committed events
 * are formatted once (struct rt_msg, shared by reference) and appended to the
 * queue of every subscriber of their topic; the subscriber's owner is then
 * woken (stream_wake() for SSE, the WebSocket loop's eventfd for WS).
 *
 * Locks, always taken in this order (never the other way):
 *   pull_lock (deliver)    ->  hub_lock
 *   hub_lock (realtime.c)  ->  sub->lock (also inside rt_each_sub's fn)
 *   hub_lock               ->  stream lock (stream_wake) / ws loop lock (wake)
 *   stream lock (SSE read) ->  sub->lock
 * A subscriber is only woken with hub_lock held, and it leaves the hub
 * (rt_unsubscribe takes hub_lock) before its owner is freed, so nobody wakes a
 * stream or connection that is gone. */
#ifndef ATRIUM_REALTIME_H
#define ATRIUM_REALTIME_H
#include "atrium.h"
#include <pthread.h>
#include <stdatomic.h>

#define RT_QUEUE_MAX 256        /* live messages a subscriber may have waiting */
#define RT_REPLAY_MAX 1000      /* outbox rows one replay sends */
#define RT_MAX_TOPICS 32        /* topics one subscription may name */
#define RT_TOPIC_MAX 128        /* bytes in one topic */

enum rt_kind {
    RT_EVENT,                   /* an event (or, WS only, a control message: id 0) */
    RT_HELLO,                   /* SSE preamble */
    RT_HB,                      /* SSE heartbeat comment */
    RT_OVERFLOW,                /* queue overflowed: last message, then close */
    RT_END,                     /* nothing more: close (shutdown, truncated replay) */
};

struct rt_msg {
    atomic_int refs;            /* < 0: static, never freed */
    enum rt_kind kind;
    int64_t id;                 /* outbox id (0 for non-events) */
    char *sse;                  /* SSE frame ("id: ..\nevent: ..\ndata: ..\n\n") */
    size_t sse_len;
    char *ws;                   /* WebSocket text message (JSON with "id") */
    size_t ws_len;
};

struct rt_node {
    struct rt_msg *msg;
    bool live;                  /* counts against RT_QUEUE_MAX */
    struct rt_node *next;
};

struct rt_sub {
    pthread_mutex_t lock;       /* the queue and the flags below */
    struct rt_node *head, *tail;
    size_t off;                 /* bytes of head already written (SSE) */
    size_t live;                /* live nodes queued */
    int64_t floor;              /* live events with id <= floor were queued already */
    int64_t cover;              /* every event >= cover on our topics is queued or sent
                                 * (0: unknown); bounds what a resume replays */
    bool stopped;               /* takes no more live events (overflow, end) */
    bool ended;                 /* SSE: the final message was written */

    /* Set before rt_subscribe(), constant after. */
    int64_t user_id;
    char **topics;              /* malloc'd, owned */
    size_t ntopics;
    bool is_ws;
    void (*wake)(struct rt_sub *sub);   /* called with hub_lock held */
    void *owner;                /* struct stream * (SSE) or struct ws_conn * (WS) */

    /* hub_lock */
    bool subscribed;
    struct rt_sub *prev, *next;
};

/* realtime.c */
extern struct rt_msg rt_msg_end;                /* static: "nothing more, close" */
struct rt_sub *rt_sub_new(int64_t user_id, char **topics, size_t ntopics, bool is_ws);
void rt_sub_free(struct rt_sub *sub);            /* after rt_unsubscribe() */
void rt_subscribe(struct rt_sub *sub);
void rt_unsubscribe(struct rt_sub *sub);
/* Queue m at the tail (sub->lock held); takes its own reference. live: a hub
 * event, counted against RT_QUEUE_MAX. */
void rt_append(struct rt_sub *sub, struct rt_msg *m, bool live);
/* Pop the head node (sub->lock held); returns its message (caller unrefs). */
struct rt_msg *rt_pop(struct rt_sub *sub);
/* Queue the final message (no more live events, close after the queue);
 * true when it did and the owner must be woken. Takes sub->lock. */
bool rt_sub_end(struct rt_sub *sub);
/* For every subscriber in the hub, with hub_lock held: fn(sub), then wake the
 * subscriber when fn returned true. */
void rt_each_sub(bool (*fn)(struct rt_sub *sub));
void rt_msg_unref(struct rt_msg *m);
/* One event, formatted once (SSE frame and WS text); payload is borrowed
 * (NULL: JSON null). NULL when it cannot be encoded. */
struct rt_msg *rt_msg_event(int64_t id, const char *topic, const char *type, json_t *payload);
struct rt_msg *rt_msg_ws_text(const char *json);  /* a WS control message (id 0) */
/* Parse and authorize ?topics= (plus the caller's own user.<id>); replies
 * 400/403 and returns -1 on refusal. */
int rt_topics_from_req(struct req *r, char ***topics, size_t *n);
void rt_free_topics(char **topics, size_t n);
int rt_heartbeat_seconds(void);
bool rt_running(void);                          /* between realtime_init and _cleanup */

/* sse.c */
/* Replay outbox rows with id > after on the subscriber's topics, in order,
 * ahead of the live events it has queued, without duplicates (see
 * sse.c). When more than RT_REPLAY_MAX rows are missing: if end_if_more,
 * the subscriber ends after the replayed rows (SSE: the client reconnects
 * from there); otherwise the WS control message {"type":"replay_more",
 * "last_event_id":N} follows them (the client resumes again from N).
 * *last gets the last replayed id. Returns the count or -1 (database error). */
int rt_replay(struct rt_sub *sub, struct db *db, int64_t after, bool end_if_more, int64_t *last);
/* Last-Event-ID header or ?last_event_id= -> *out (-1 when absent); 400 on junk. */
int rt_last_id_from_req(struct req *r, int64_t *out);
void sse_heartbeat(void);                       /* timer thread: ":hb" to idle streams */

/* ws.c */
int ws_start(void);
void ws_stop(void);                             /* closes every connection */
void ws_heartbeat(void);                        /* timer thread: ping everyone */
void ws_reap(void);                             /* timer thread: forget dead handshakes */
#endif
