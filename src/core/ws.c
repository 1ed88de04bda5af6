/* ws.c -- realtime over WebSocket: the upgrade handshake on libmicrohttpd and
 * ONE event-loop thread (epoll + wslay's event API) that owns every upgraded
 * socket, so 10,000 idle connections cost 10,000 small structs, not threads.
 *
 * Life of a connection:
 *   realtime_ws() (I/O thread) checks the handshake and the topics, parks the
 *   subscription under a numbered handshake and answers 101 with an upgrade
 *   response; MHD then calls on_upgrade() with the socket, which builds a
 *   ws_conn and hands it to the loop (new list + eventfd). The loop joins it to
 *   the hub, replays ?last_event_id= if given, and from then on:
 *     - readable: wslay_event_recv (pings are answered by wslay; our text
 *       messages: {"type":"ping"} -> {"type":"pong"}, {"type":"resume",
 *       "last_event_id":N} -> replay);
 *     - an event for it: the hub (any thread) queues it on the subscriber and
 *       puts the connection on the dirty list; the loop moves queued messages
 *       into wslay (at most WS_INFLIGHT at a time, so a slow reader overflows
 *       the subscriber's bounded queue instead of growing wslay's) and sends;
 *     - heartbeat (timer thread): a ping frame to everyone; a connection that
 *       sent nothing for max(3 heartbeats, 30 s) is closed;
 *     - close or error: leave the hub, MHD_upgrade_action(CLOSE).
 * Messages out are {"id","topic","type","payload"}, as the SSE data plus id. */
#include "atrium.h"
#include "internal.h"
#include "realtime.h"
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nettle/sha1.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <wslay/wslay.h>

#define WS_INFLIGHT 64                  /* messages handed to wslay per connection */
#define WS_MAX_IN (64 * 1024)           /* largest message accepted from a client */
#define WS_CLOSE_GRACE 5                /* seconds to wait for the peer's close frame */
#define WS_HANDSHAKE_TTL 60             /* seconds a 101 may take to turn into a socket */

struct ws_conn {
    int fd;
    struct MHD_UpgradeResponseHandle *urh;
    wslay_event_context_ptr ctx;
    struct rt_sub *sub;
    char *extra;                        /* bytes MHD read past the request head */
    size_t extra_len, extra_off;
    int64_t resume_from;                /* ?last_event_id= at connect, -1: none */
    uint32_t events;                    /* epoll mask registered */
    bool registered, closing;
    bool in_dirty;                      /* loop_lock */
    time_t last_rx, close_by;
    struct ws_conn *prev, *next;        /* the loop's connections (loop thread only) */
    struct ws_conn *next_pending;       /* new or dirty list (loop_lock) */
};

enum { LOOP_OFF, LOOP_RUNNING, LOOP_STOPPING };

static pthread_mutex_t loop_lock = PTHREAD_MUTEX_INITIALIZER;
static int loop_state;                  /* loop_lock */
static struct ws_conn *new_list, *dirty_list;   /* loop_lock */
static bool ping_due, signaled;         /* loop_lock */
static pthread_t loop_thread;
static int epfd = -1, evfd = -1;
static struct ws_conn *conns;           /* loop thread only */

static time_t mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

/* loop_lock held: make sure the loop looks at its lists soon. */
static void signal_loop(void)
{
    if (!signaled && evfd >= 0) {
        signaled = true;
        eventfd_write(evfd, 1);
    }
}

/* ------------------------------------------------------------ handshakes */

struct handshake {
    uint64_t id;
    int64_t user_id, last_event_id;
    char **topics;
    size_t ntopics;
    time_t at;
    struct handshake *next;
};

static pthread_mutex_t hs_lock = PTHREAD_MUTEX_INITIALIZER;
static struct handshake *handshakes;
static uint64_t hs_seq;

/* MHD offers no way to free an upgrade response's closure when the upgrade
 * never happens (client gone before the 101 went out), so the closure is just
 * a number; the subscription waits here and ws_reap() forgets stale ones. */
static uint64_t hs_park(int64_t user_id, char **topics, size_t n, int64_t last)
{
    struct handshake *h = xcalloc(1, sizeof *h);
    h->user_id = user_id;
    h->topics = topics;
    h->ntopics = n;
    h->last_event_id = last;
    h->at = mono_now();
    pthread_mutex_lock(&hs_lock);
    h->id = ++hs_seq;
    h->next = handshakes;
    handshakes = h;
    pthread_mutex_unlock(&hs_lock);
    return h->id;
}

static struct handshake *hs_take(uint64_t id)
{
    pthread_mutex_lock(&hs_lock);
    struct handshake **pp = &handshakes;
    while (*pp && (*pp)->id != id) pp = &(*pp)->next;
    struct handshake *h = *pp;
    if (h) *pp = h->next;
    pthread_mutex_unlock(&hs_lock);
    return h;
}

static void hs_free(struct handshake *h)
{
    rt_free_topics(h->topics, h->ntopics);
    free(h);
}

static void hs_reap(time_t older_than)
{
    pthread_mutex_lock(&hs_lock);
    for (struct handshake **pp = &handshakes; *pp;) {
        struct handshake *h = *pp;
        if (h->at < older_than) {
            *pp = h->next;
            hs_free(h);
        } else {
            pp = &h->next;
        }
    }
    pthread_mutex_unlock(&hs_lock);
}

void ws_reap(void)
{
    hs_reap(mono_now() - WS_HANDSHAKE_TTL);
}

/* Is `token` one of the comma-separated tokens of header value v? */
static bool has_token(const char *v, const char *token)
{
    size_t n = strlen(token);
    while (v && *v) {
        v += strspn(v, " \t,");
        size_t len = strcspn(v, ",");
        size_t trim = len;
        while (trim && (v[trim - 1] == ' ' || v[trim - 1] == '\t')) trim--;
        if (trim == n && !strncasecmp(v, token, n)) return true;
        v += len;
    }
    return false;
}

/* Sec-WebSocket-Accept = base64(SHA-1(key + GUID)), RFC 6455 section 4.2.2. */
static void accept_key(const char *key, char out[29])
{
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    struct sha1_ctx c;
    uint8_t digest[SHA1_DIGEST_SIZE];
    sha1_init(&c);
    sha1_update(&c, strlen(key), (const uint8_t *)key);
    sha1_update(&c, sizeof guid - 1, (const uint8_t *)guid);
    sha1_digest(&c, sizeof digest, digest);
    sodium_bin2base64(out, 29, digest, sizeof digest, sodium_base64_VARIANT_ORIGINAL);
}

/* -------------------------------------------------------- wslay callbacks */

static ssize_t on_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *user)
{
    struct ws_conn *c = user;
    if (c->extra_off < c->extra_len) {
        size_t k = c->extra_len - c->extra_off;
        if (k > len) k = len;
        memcpy(buf, c->extra + c->extra_off, k);
        c->extra_off += k;
        return (ssize_t)k;
    }
    ssize_t n;
    while ((n = recv(c->fd, buf, len, 0)) < 0 && errno == EINTR) {}
    if (n > 0) {
        c->last_rx = mono_now();
        return n;
    }
    wslay_event_set_error(ctx, n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? WSLAY_ERR_WOULDBLOCK
                                                                                   : WSLAY_ERR_CALLBACK_FAILURE);
    return -1;
}

static ssize_t on_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags, void *user)
{
    struct ws_conn *c = user;
    ssize_t n;
    while ((n = send(c->fd, data, len, MSG_NOSIGNAL)) < 0 && errno == EINTR) {}
    if (n >= 0) return n;
    wslay_event_set_error(ctx, errno == EAGAIN || errno == EWOULDBLOCK ? WSLAY_ERR_WOULDBLOCK
                                                                       : WSLAY_ERR_CALLBACK_FAILURE);
    return -1;
}

static void queue_text(struct ws_conn *c, const char *text, size_t len)
{
    struct wslay_event_msg m = {WSLAY_TEXT_FRAME, (const uint8_t *)text, len};
    wslay_event_queue_msg(c->ctx, &m);
}

#define QUEUE_LITERAL(c, lit) queue_text(c, lit, sizeof(lit) - 1)

static void on_message(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg, void *user)
{
    struct ws_conn *c = user;
    if (arg->opcode != WSLAY_TEXT_FRAME) return;       /* ping/pong/close: wslay's business */
    json_t *j = json_loadb((const char *)arg->msg, arg->msg_length, 0, NULL);
    const char *type = json_string_value(json_object_get(j, "type"));
    json_t *last = json_object_get(j, "last_event_id");
    int64_t upto;
    if (type && !strcmp(type, "ping")) {
        QUEUE_LITERAL(c, "{\"type\":\"pong\"}");
    } else if (type && !strcmp(type, "resume") && json_is_integer(last) && json_integer_value(last) >= 0) {
        if (rt_replay(c->sub, db_thread(), json_integer_value(last), false, &upto) < 0)
            QUEUE_LITERAL(c, "{\"type\":\"error\",\"code\":\"internal\"}");
    } else {
        QUEUE_LITERAL(c, "{\"type\":\"error\",\"code\":\"bad_message\"}");
    }
    json_decref(j);
}

static const struct wslay_event_callbacks callbacks = {
    .recv_callback = on_recv,
    .send_callback = on_send,
    .on_msg_recv_callback = on_message,
};

/* --------------------------------------------------------------- the loop */

/* Hub -> loop (any thread, hub lock held): this connection has messages. */
static void ws_wake(struct rt_sub *sub)
{
    struct ws_conn *c = sub->owner;
    pthread_mutex_lock(&loop_lock);
    if (!c->in_dirty) {
        c->in_dirty = true;
        c->next_pending = dirty_list;
        dirty_list = c;
    }
    signal_loop();
    pthread_mutex_unlock(&loop_lock);
}

/* Watch for what wslay wants; a connection that wants nothing is done. */
static void update_events(struct ws_conn *c, time_t now)
{
    int r = wslay_event_want_read(c->ctx), w = wslay_event_want_write(c->ctx);
    if (!r && !w) {
        c->closing = true;
        return;
    }
    if (wslay_event_get_close_sent(c->ctx) && !c->close_by) c->close_by = now + WS_CLOSE_GRACE;
    uint32_t ev = (r ? EPOLLIN : 0) | (w ? EPOLLOUT : 0);
    if (ev != c->events) {
        struct epoll_event e = {.events = ev, .data.ptr = c};
        epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &e);
        c->events = ev;
    }
}

/* Move queued messages from the subscriber into wslay, then send. */
static void flush(struct ws_conn *c, time_t now)
{
    struct rt_msg *batch[WS_INFLIGHT];
    size_t n = 0, room = WS_INFLIGHT;
    size_t queued = wslay_event_get_queued_msg_count(c->ctx);
    room = queued < room ? room - queued : 0;
    pthread_mutex_lock(&c->sub->lock);
    while (n < room && c->sub->head) batch[n++] = rt_pop(c->sub);
    pthread_mutex_unlock(&c->sub->lock);
    for (size_t i = 0; i < n; i++) {
        struct rt_msg *m = batch[i];
        if (m->kind == RT_EVENT) {
            queue_text(c, m->ws, m->ws_len);
        } else if (m->kind == RT_OVERFLOW) {
            queue_text(c, m->ws, m->ws_len);
            wslay_event_queue_close(c->ctx, 1013, (const uint8_t *)"overflow", 8);
        } else if (m->kind == RT_END) {
            wslay_event_queue_close(c->ctx, WSLAY_CODE_GOING_AWAY, NULL, 0);
        }
        rt_msg_unref(m);
    }
    if (wslay_event_send(c->ctx) != 0) c->closing = true;
    else update_events(c, now);
}

static void ws_free(struct ws_conn *c)
{
    if (c->ctx) wslay_event_context_free(c->ctx);
    MHD_upgrade_action(c->urh, MHD_UPGRADE_ACTION_CLOSE);
    rt_sub_free(c->sub);
    free(c->extra);
    free(c);
}

/* Loop thread: leave the hub, forget the socket, give it back to MHD. */
static void ws_close(struct ws_conn *c)
{
    if (c->registered) {
        epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
        if (c->prev) c->prev->next = c->next;
        else conns = c->next;
        if (c->next) c->next->prev = c->prev;
        rt_unsubscribe(c->sub);          /* after this nobody puts it on the dirty list */
    }
    pthread_mutex_lock(&loop_lock);
    if (c->in_dirty) {
        struct ws_conn **pp = &dirty_list;
        while (*pp && *pp != c) pp = &(*pp)->next_pending;
        if (*pp) *pp = c->next_pending;
        c->in_dirty = false;
    }
    pthread_mutex_unlock(&loop_lock);
    ws_free(c);
}

static void ws_register(struct ws_conn *c, time_t now)
{
    struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &e) < 0) {
        log_warn("realtime: epoll_ctl: %s", strerror(errno));
        ws_close(c);
        return;
    }
    c->events = EPOLLIN;
    c->registered = true;
    c->last_rx = now;
    c->prev = NULL;
    c->next = conns;
    if (conns) conns->prev = c;
    conns = c;
    rt_subscribe(c->sub);
    int64_t upto;
    if (c->resume_from >= 0 && rt_replay(c->sub, db_thread(), c->resume_from, false, &upto) < 0)
        QUEUE_LITERAL(c, "{\"type\":\"error\",\"code\":\"internal\"}");
    if (c->extra_len && wslay_event_recv(c->ctx) != 0) {
        c->closing = true;
        return;
    }
    flush(c, now);
}

static void ping_all(time_t now)
{
    int hb = rt_heartbeat_seconds();
    time_t idle_limit = 3 * hb > 30 ? 3 * hb : 30;
    for (struct ws_conn *c = conns; c; c = c->next) {
        if (c->closing) continue;
        if (now - c->last_rx > idle_limit) {
            c->closing = true;
            continue;
        }
        struct wslay_event_msg m = {WSLAY_PING, NULL, 0};
        wslay_event_queue_msg(c->ctx, &m);
        flush(c, now);
    }
}

static void *loop_main(void *arg)
{
    struct epoll_event evs[64];
    struct ws_conn **dirty = NULL;
    size_t dirty_cap = 0;
    bool stop = false;
    while (!stop) {
        int n = epoll_wait(epfd, evs, 64, 1000);
        time_t now = mono_now();
        for (int i = 0; i < n; i++) {
            struct ws_conn *c = evs[i].data.ptr;
            if (!c) {
                eventfd_t v;
                eventfd_read(evfd, &v);
                continue;
            }
            if (c->closing) continue;
            if ((evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && wslay_event_recv(c->ctx) != 0) {
                c->closing = true;
                continue;
            }
            flush(c, now);      /* what recv queued (pongs, replays) and what EPOLLOUT allows */
        }
        /* Take the lists. The dirty ones go to an array: once in_dirty is
         * clear, a publisher may put a connection on the list again. */
        pthread_mutex_lock(&loop_lock);
        struct ws_conn *fresh = new_list;
        size_t ndirty = 0;
        for (struct ws_conn *c = dirty_list; c; c = c->next_pending) {
            if (ndirty == dirty_cap) {
                dirty_cap = dirty_cap ? dirty_cap * 2 : 64;
                dirty = xrealloc(dirty, dirty_cap * sizeof *dirty);
            }
            dirty[ndirty++] = c;
            c->in_dirty = false;
        }
        new_list = dirty_list = NULL;
        bool ping = ping_due;
        ping_due = signaled = false;
        stop = loop_state == LOOP_STOPPING;
        pthread_mutex_unlock(&loop_lock);

        while (fresh) {
            struct ws_conn *c = fresh;
            fresh = c->next_pending;
            ws_register(c, now);
        }
        for (size_t i = 0; i < ndirty; i++)
            if (dirty[i]->registered && !dirty[i]->closing) flush(dirty[i], now);
        if (ping) ping_all(now);
        for (struct ws_conn *c = conns, *next; c; c = next) {
            next = c->next;
            if (c->closing || (c->close_by && now >= c->close_by)) ws_close(c);
        }
    }
    /* Shutdown: a close frame to everyone (best effort), then hand back. */
    while (conns) {
        struct ws_conn *c = conns;
        wslay_event_queue_close(c->ctx, WSLAY_CODE_GOING_AWAY, (const uint8_t *)"shutdown", 8);
        wslay_event_send(c->ctx);
        ws_close(c);
    }
    free(dirty);
    db_thread_close();
    return NULL;
}

/* MHD, on the I/O thread, after the 101 went out: the socket is ours. */
static void on_upgrade(void *cls, struct MHD_Connection *connection, void *con_cls, const char *extra_in,
                       size_t extra_in_size, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
    struct handshake *h = hs_take((uint64_t)(uintptr_t)cls);
    if (!h) {                                  /* reaped, or realtime went away */
        MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
        return;
    }
    struct ws_conn *c = xcalloc(1, sizeof *c);
    c->fd = sock;
    c->urh = urh;
    c->resume_from = h->last_event_id;
    c->sub = rt_sub_new(h->user_id, h->topics, h->ntopics, true);
    c->sub->owner = c;
    c->sub->wake = ws_wake;
    h->topics = NULL;
    h->ntopics = 0;
    hs_free(h);
    if (extra_in_size) {
        c->extra = xmalloc(extra_in_size);
        memcpy(c->extra, extra_in, extra_in_size);
        c->extra_len = extra_in_size;
    }
    int fl = fcntl(sock, F_GETFL);
    if (fl >= 0 && !(fl & O_NONBLOCK)) fcntl(sock, F_SETFL, fl | O_NONBLOCK);
    int one = 1;
    setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (wslay_event_context_server_init(&c->ctx, &callbacks, c) != 0) {
        c->ctx = NULL;
        ws_free(c);
        return;
    }
    wslay_event_config_set_max_recv_msg_length(c->ctx, WS_MAX_IN);
    pthread_mutex_lock(&loop_lock);
    bool ok = loop_state == LOOP_RUNNING;
    if (ok) {
        c->next_pending = new_list;
        new_list = c;
        signal_loop();
    }
    pthread_mutex_unlock(&loop_lock);
    if (!ok) ws_free(c);
}

/* --------------------------------------------------------------- handler */

void realtime_ws(struct req *r)
{
    const char *key = req_header(r, "Sec-WebSocket-Key");
    const char *version = req_header(r, "Sec-WebSocket-Version");
    unsigned char raw[32];
    size_t rawlen = 0;
    if (!has_token(req_header(r, "Upgrade"), "websocket") || !has_token(req_header(r, "Connection"), "upgrade")) {
        reply_error(r, 400, "bad_handshake", "a WebSocket upgrade request is required");
        return;
    }
    if (!version || strcmp(version, "13")) {
        reply_header(r, "Sec-WebSocket-Version", "13");
        reply_error(r, 426, "bad_handshake", "Sec-WebSocket-Version must be 13");
        return;
    }
    if (!key || sodium_base642bin(raw, sizeof raw, key, strlen(key), NULL, &rawlen, NULL,
                                  sodium_base64_VARIANT_ORIGINAL) != 0 || rawlen != 16) {
        reply_error(r, 400, "bad_handshake", "Sec-WebSocket-Key is missing or invalid");
        return;
    }
    int64_t last;
    char **topics;
    size_t n;
    if (rt_last_id_from_req(r, &last) < 0 || rt_topics_from_req(r, &topics, &n) < 0) return;
    pthread_mutex_lock(&loop_lock);
    bool up = loop_state == LOOP_RUNNING;
    pthread_mutex_unlock(&loop_lock);
    if (!up) {
        rt_free_topics(topics, n);
        reply_error(r, 503, "unavailable", "realtime is not running");
        return;
    }
    char accept[29];
    accept_key(key, accept);
    uint64_t id = hs_park(r->user.id, topics, n, last);
    struct MHD_Response *resp = MHD_create_response_for_upgrade(on_upgrade, (void *)(uintptr_t)id);
    if (!resp) {
        struct handshake *h = hs_take(id);
        if (h) hs_free(h);
        reply_error(r, 500, "internal", "internal error");
        return;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_UPGRADE, "websocket");
    MHD_add_response_header(resp, "Sec-WebSocket-Accept", accept);
    MHD_add_response_header(resp, "X-Request-Id", r->request_id);
    http_set_response(r, MHD_HTTP_SWITCHING_PROTOCOLS, resp);
}

/* -------------------------------------------------------------- lifecycle */

void ws_heartbeat(void)
{
    pthread_mutex_lock(&loop_lock);
    if (loop_state == LOOP_RUNNING) {
        ping_due = true;
        signal_loop();
    }
    pthread_mutex_unlock(&loop_lock);
}

int ws_start(void)
{
    pthread_mutex_lock(&loop_lock);
    int state = loop_state;
    pthread_mutex_unlock(&loop_lock);
    if (state != LOOP_OFF) return 0;
    epfd = epoll_create1(EPOLL_CLOEXEC);
    evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct epoll_event e = {.events = EPOLLIN, .data.ptr = NULL};
    if (epfd < 0 || evfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, evfd, &e) < 0) {
        log_error("realtime: epoll/eventfd: %s", strerror(errno));
        goto fail;
    }
    signaled = ping_due = false;
    loop_state = LOOP_RUNNING;
    if (pthread_create(&loop_thread, NULL, loop_main, NULL)) {
        log_error("realtime: cannot start the WebSocket thread");
        loop_state = LOOP_OFF;
        goto fail;
    }
    return 0;
fail:
    if (epfd >= 0) close(epfd);
    if (evfd >= 0) close(evfd);
    epfd = evfd = -1;
    return -1;
}

/* Close every WebSocket and stop the loop. Before MHD_stop_daemon: MHD must
 * get its upgraded sockets back first (http_stop calls this). Idempotent. */
void ws_stop(void)
{
    pthread_mutex_lock(&loop_lock);
    bool was_running = loop_state == LOOP_RUNNING;
    if (was_running) {
        loop_state = LOOP_STOPPING;
        signaled = false;
        signal_loop();
    }
    pthread_mutex_unlock(&loop_lock);
    if (!was_running) return;
    pthread_join(loop_thread, NULL);
    pthread_mutex_lock(&loop_lock);
    struct ws_conn *fresh = new_list;         /* handed over after the loop's last look */
    new_list = NULL;
    loop_state = LOOP_OFF;
    pthread_mutex_unlock(&loop_lock);
    while (fresh) {
        struct ws_conn *c = fresh;
        fresh = c->next_pending;
        ws_free(c);
    }
    close(epfd);
    close(evfd);
    epfd = evfd = -1;
    hs_reap(INT64_MAX);
}
