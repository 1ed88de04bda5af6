/* test_realtime.c -- realtime over SSE and WebSocket against the real server:
 * authentication and topic authorization at subscribe time, committed events
 * arriving (and rolled-back ones never), resumption from Last-Event-ID with no
 * gaps or duplicates, heartbeats, the ?access_token= fallback, the WebSocket
 * handshake, frames, ping/pong and resume, overflow of a slow subscriber, and
 * shutdown with clients connected.
 *
 * Clients are raw TCP sockets so the test sees exactly what goes on the wire
 * (chunked SSE, WebSocket frames). Every wait is bounded (WAIT_MS). */
#include "support/harness.h"
#include <arpa/inet.h>
#include <errno.h>
#include <nettle/sha1.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define WAIT_MS 5000

static const char ws_key[] = "dGhlIHNhbXBsZSBub25jZQ==";

TestSuite(realtime, .timeout = 60);

/* ------------------------------------------------------------- test app */

/* "rtapp.room.<n>" topics are open to every signed-in user; other rtapp.*
 * topics to nobody. */
static bool rtapp_topic_allowed(struct req *r, const char *topic)
{
    return r->user.id > 0 && !strncmp(topic, "rtapp.room.", 11);
}

static const struct app rtapp = {.name = "rtapp", .topic_allowed = rtapp_topic_allowed};
static const struct app rtnohook = {.name = "rtnohook"};

static void start(void)
{
    srv_start_with(NULL, &rtapp);
    app_register_test(&rtnohook);
}

/* ------------------------------------------------------------- wire client */

struct client {
    int fd;
    int status;
    char head[8192];            /* response head */
    bool chunked, eof;
    char *raw;                  /* bytes after the head, still chunked */
    size_t rlen, rcap;
    char *body;                 /* decoded body (SSE text or WebSocket frames) */
    size_t blen, bcap, pos;     /* pos: what the test consumed */
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Append to a NUL-terminated buffer whose capacity doubles: a stream of tens
 * of megabytes arriving in 8 KiB chunks must cost O(n), not a realloc (a full
 * copy under ASan) per chunk. */
static void append(char **buf, size_t *len, size_t *cap, const char *data, size_t n)
{
    if (*len + n + 1 > *cap) {
        size_t want = *cap ? *cap : 4096;
        while (want < *len + n + 1) want *= 2;
        *buf = xrealloc(*buf, want);
        *cap = want;
    }
    memcpy(*buf + *len, data, n);
    *len += n;
    (*buf)[*len] = 0;
}

/* Move whole chunks from raw to body. */
static void dechunk(struct client *c)
{
    size_t off = 0;
    while (!c->eof) {
        char *p = c->raw + off, *crlf = memmem(p, c->rlen - off, "\r\n", 2);
        if (!crlf) break;
        size_t size = strtoul(p, NULL, 16), line = (size_t)(crlf - p) + 2;
        if (size == 0) {
            c->eof = true;
            off = c->rlen;
            break;
        }
        if (c->rlen - off < line + size + 2) break;
        append(&c->body, &c->blen, &c->bcap, p + line, size);
        off += line + size + 2;
    }
    if (off) {
        memmove(c->raw, c->raw + off, c->rlen - off);
        c->rlen -= off;
        c->raw[c->rlen] = 0;
    }
}

static void take(struct client *c, const char *data, size_t n)
{
    if (c->chunked) {
        append(&c->raw, &c->rlen, &c->rcap, data, n);
        dechunk(c);
    } else {
        append(&c->body, &c->blen, &c->bcap, data, n);
    }
}

/* Read what arrives within ms; false on timeout or end of stream. */
static bool pump(struct client *c, int ms)
{
    if (c->eof) return false;
    struct pollfd p = {.fd = c->fd, .events = POLLIN};
    if (poll(&p, 1, ms) <= 0) return false;
    char buf[65536];
    ssize_t n = recv(c->fd, buf, sizeof buf, 0);
    if (n <= 0) {
        c->eof = true;
        return false;
    }
    take(c, buf, (size_t)n);
    return true;
}

/* Connect, send `request` and read the response head. */
static struct client *open_raw(const char *request)
{
    struct client *c = xcalloc(1, sizeof *c);
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)srv_port())};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    cr_assert_eq(connect(c->fd, (struct sockaddr *)&a, sizeof a), 0, "connect: %s", strerror(errno));
    size_t len = strlen(request);
    cr_assert_eq(send(c->fd, request, len, MSG_NOSIGNAL), (ssize_t)len);
    char *head = NULL;
    size_t hlen = 0, hcap = 0;
    int64_t deadline = now_ms() + WAIT_MS;
    char *end = NULL;
    while (!end && now_ms() < deadline) {
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        if (poll(&p, 1, 100) <= 0) continue;
        char buf[4096];
        ssize_t n = recv(c->fd, buf, sizeof buf, 0);
        cr_assert_gt(n, 0, "connection closed before the response head");
        append(&head, &hlen, &hcap, buf, (size_t)n);
        end = strstr(head, "\r\n\r\n");
    }
    cr_assert_not_null(end, "no response head within %d ms", WAIT_MS);
    size_t hsize = (size_t)(end - head) + 4;
    cr_assert_lt(hsize, sizeof c->head);
    memcpy(c->head, head, hsize);
    c->head[hsize] = 0;
    cr_assert_eq(sscanf(c->head, "HTTP/1.1 %d", &c->status), 1, "bad head: %s", c->head);
    c->chunked = strcasestr(c->head, "Transfer-Encoding: chunked") != NULL;
    take(c, head + hsize, hlen - hsize);
    free(head);
    return c;
}

static void client_close(struct client *c)
{
    if (!c) return;
    close(c->fd);
    free(c->raw);
    free(c->body);
    free(c);
}

/* The value of a response header (static buffer) or NULL. */
static const char *head_value(struct client *c, const char *name)
{
    static char value[512];
    size_t n = strlen(name);
    for (const char *p = strstr(c->head, "\r\n"); p && p[2]; p = strstr(p + 2, "\r\n")) {
        if (!strncasecmp(p + 2, name, n) && p[2 + n] == ':') {
            const char *v = p + 3 + n;
            while (*v == ' ') v++;
            snprintf(value, sizeof value, "%.*s", (int)strcspn(v, "\r\n"), v);
            return value;
        }
    }
    return NULL;
}

/* ----------------------------------------------------------------- SSE */

static struct client *sse_open(const char *query, const char *token, const char *extra_header)
{
    char req[4096];
    snprintf(req, sizeof req,
             "GET /api/v1/realtime/sse%s HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n%s%s%s%s\r\n",
             query ? query : "", token ? "Authorization: Bearer " : "", token ? token : "", token ? "\r\n" : "",
             extra_header ? extra_header : "");
    return open_raw(req);
}

/* The next SSE frame (text before the blank line), malloc'd, or NULL. */
static char *sse_frame(struct client *c, int ms)
{
    int64_t deadline = now_ms() + ms;
    for (;;) {
        char *end = c->blen > c->pos ? strstr(c->body + c->pos, "\n\n") : NULL;
        if (end) {
            char *f = xasprintf("%.*s", (int)(end - (c->body + c->pos)), c->body + c->pos);
            c->pos = (size_t)(end - c->body) + 2;
            return f;
        }
        int64_t left = deadline - now_ms();
        if (left <= 0) return NULL;
        pump(c, (int)left);
        if (c->eof && !strstr(c->body ? c->body + c->pos : "", "\n\n")) return NULL;
    }
}

/* The next frame that is an event (skips comments and retry:). */
static char *sse_event(struct client *c, int ms)
{
    int64_t deadline = now_ms() + ms;
    for (;;) {
        int64_t left = deadline - now_ms();
        char *f = sse_frame(c, left > 0 ? (int)left : 0);
        if (!f || (f[0] != ':' && strncmp(f, "retry:", 6))) return f;
        free(f);
    }
}

static int64_t frame_id(const char *f)
{
    const char *p = f ? strstr(f, "id: ") : NULL;
    return p ? strtoll(p + 4, NULL, 10) : -1;
}

/* The data: line of a frame, parsed. */
static json_t *frame_data(const char *f)
{
    const char *p = f ? strstr(f, "data: ") : NULL;
    if (!p) return NULL;
    p += 6;
    return json_loadb(p, strcspn(p, "\n"), 0, NULL);
}

/* An open stream: 200, event-stream, and the ":ok" preamble. */
static struct client *sse_ready(const char *query, const char *token)
{
    struct client *c = sse_open(query, token, NULL);
    cr_assert_eq(c->status, 200, "SSE status %d: %s", c->status, c->body ? c->body : "");
    cr_assert_str_eq(head_value(c, "Content-Type"), "text/event-stream");
    char *f = sse_frame(c, WAIT_MS);
    cr_assert_not_null(f, "no preamble");
    cr_assert_str_eq(f, ":ok");
    free(f);
    f = sse_frame(c, WAIT_MS);
    cr_assert_str_eq(f, "retry: 3000");
    free(f);
    return c;
}

/* ---------------------------------------------------------------- events */

/* Commit one event; returns its outbox id. */
static int64_t emit(const char *topic, const char *type, const char *payload)
{
    struct db *db = test_db();
    cr_assert_eq(db_begin(db), 0);
    cr_assert_eq(events_emit(db, topic, type, json_loads(payload, 0, NULL)), 0);
    int64_t id = 0;
    cr_assert_eq(db_int(db, &id, "SELECT MAX(id) FROM outbox"), 1);
    cr_assert_eq(db_commit(db), 0);
    return id;
}

/* Wait until the dispatcher has handed every committed event to the hub, so
 * a subscriber that joins now gets only events committed after it. */
static void wait_dispatched(void)
{
    int64_t pending = 1;
    for (int64_t t0 = now_ms(); pending && now_ms() - t0 < 30000; usleep(20000))
        db_int(test_db(), &pending, "SELECT COUNT(*) FROM outbox WHERE dispatched_at IS NULL");
    cr_assert_eq(pending, 0, "the dispatcher did not get through the events");
}

static void expect_event(const char *frame, int64_t id, const char *topic, const char *type, const char *key, int value)
{
    cr_assert_not_null(frame, "event %lld did not arrive", (long long)id);
    cr_assert_eq(frame_id(frame), id, "frame: %s", frame);
    char line[256];
    snprintf(line, sizeof line, "\nevent: %s\n", type);
    cr_assert(strstr(frame, line), "frame: %s", frame);
    json_t *d = frame_data(frame);
    cr_assert_not_null(d, "frame: %s", frame);
    cr_assert_str_eq(json_string_value(json_object_get(d, "topic")), topic);
    cr_assert_str_eq(json_string_value(json_object_get(d, "type")), type);
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(d, "payload"), key)), value, "frame: %s", frame);
    json_decref(d);
}

/* ----------------------------------------------------------- SSE: access */

Test(realtime, sse_unauthenticated_401)
{
    start();
    struct resp *r = api("GET", "/api/v1/realtime/sse", NULL, NULL);
    cr_expect_eq(r->status, 401);
    resp_free(r);
    r = api("GET", "/api/v1/realtime/sse?access_token=not-a-token", NULL, NULL);
    cr_expect_eq(r->status, 401);
    cr_expect_str_eq(resp_error_code(r), "invalid_token");
    resp_free(r);
    srv_stop();
}

Test(realtime, sse_topic_authorization)
{
    start();
    test_user("alice", NULL, NULL, NULL, 0);
    int64_t bob = test_user("bob", NULL, NULL, NULL, 0);
    test_user("boss", "core", "admin", NULL, 0);
    char *tok = test_token("alice"), *boss = test_token("boss"), path[256];
    static const struct {
        const char *topics;
        int status;
        const char *code;
    } cases[] = {
        {"core.audit", 403, "topic_forbidden"},         /* needs core.audit.read */
        {"rtapp.secret", 403, "topic_forbidden"},       /* the app's hook says no */
        {"nosuchapp.x", 403, "topic_forbidden"},        /* unknown app */
        {"rtnohook.x", 403, "topic_forbidden"},         /* app without a topic hook */
        {"rtapp.room.1,rtapp.secret", 403, "topic_forbidden"},  /* one bad topic spoils all */
        {"Rtapp.room.1", 400, "validation_failed"},     /* upper case */
        {"rtapp.room.1,,x", 400, "validation_failed"},  /* empty topic */
        {"a%20b", 400, "validation_failed"},
        {0},
    };
    for (size_t i = 0; cases[i].topics; i++) {
        snprintf(path, sizeof path, "/api/v1/realtime/sse?topics=%s", cases[i].topics);
        struct resp *r = api("GET", path, tok, NULL);
        cr_expect_eq(r->status, cases[i].status, "%s -> %d %s", cases[i].topics, r->status, r->body);
        cr_expect_str_eq(resp_error_code(r), cases[i].code, "%s", cases[i].topics);
        resp_free(r);
    }
    /* another user's topic */
    snprintf(path, sizeof path, "/api/v1/realtime/sse?topics=user.%lld", (long long)bob);
    struct resp *r = api("GET", path, tok, NULL);
    cr_expect_eq(r->status, 403);
    cr_expect_str_eq(resp_error_code(r), "topic_forbidden");
    resp_free(r);
    /* too long a topic, too many topics */
    char many[1024] = "/api/v1/realtime/sse?topics=";
    for (int i = 0; i < 33; i++) snprintf(many + strlen(many), sizeof many - strlen(many), "%srtapp.room.%d", i ? "," : "", i);
    r = api("GET", many, tok, NULL);
    cr_expect_eq(r->status, 400);
    resp_free(r);
    char longt[300];
    snprintf(longt, sizeof longt, "/api/v1/realtime/sse?topics=rtapp.room.%0129d", 1);
    r = api("GET", longt, tok, NULL);
    cr_expect_eq(r->status, 400);
    resp_free(r);
    /* allowed: an admin on core.*, anyone on their own topic and open rooms */
    struct client *c = sse_ready("?topics=core.audit,rtapp.room.1", boss);
    client_close(c);
    snprintf(path, sizeof path, "?topics=user.%lld,rtapp.room.1,rtapp.room.1", (long long)test_user_id("alice"));
    c = sse_ready(path, tok);
    client_close(c);
    free(tok);
    free(boss);
    srv_stop();
}

Test(realtime, sse_access_token_query_parameter)
{
    start();
    test_user("alice", NULL, NULL, NULL, 0);
    char *tok = test_token("alice"), q[512];
    snprintf(q, sizeof q, "?topics=rtapp.room.1&access_token=%s", tok);
    struct client *c = sse_ready(q, NULL);
    int64_t id = emit("rtapp.room.1", "room.said", "{\"n\": 1}");
    char *f = sse_event(c, WAIT_MS);
    expect_event(f, id, "rtapp.room.1", "room.said", "n", 1);
    free(f);
    client_close(c);
    /* only streams take it: elsewhere it is ignored */
    snprintf(q, sizeof q, "/api/v1/me?access_token=%s", tok);
    struct resp *r = api("GET", q, NULL, NULL);
    cr_expect_eq(r->status, 401);
    resp_free(r);
    free(tok);
    srv_stop();
}

/* ----------------------------------------------------------- SSE: events */

Test(realtime, sse_committed_event_arrives)
{
    start();
    int64_t alice = test_user("alice", NULL, NULL, NULL, 0);
    char *tok = test_token("alice");
    struct client *c = sse_ready("?topics=rtapp.room.1", tok);
    emit("rtapp.room.2", "room.said", "{\"n\": 0}");           /* not subscribed */
    int64_t id = emit("rtapp.room.1", "room.said", "{\"n\": 1}");
    char *f = sse_event(c, WAIT_MS);
    expect_event(f, id, "rtapp.room.1", "room.said", "n", 1);
    cr_expect(strstr(f, "\ndata: {\"topic\":\"rtapp.room.1\",\"type\":\"room.said\",\"payload\":{\"n\":1}}"),
              "frame: %s", f);
    free(f);
    /* the caller's own user.<id> topic is always included */
    char own[64];
    snprintf(own, sizeof own, "user.%lld", (long long)alice);
    id = emit(own, "notification.created", "{\"n\": 2}");
    f = sse_event(c, WAIT_MS);
    expect_event(f, id, own, "notification.created", "n", 2);
    free(f);
    client_close(c);
    free(tok);
    srv_stop();
}

Test(realtime, sse_rolled_back_event_never_arrives)
{
    start();
    test_user("alice", NULL, NULL, NULL, 0);
    char *tok = test_token("alice");
    struct client *c = sse_ready("?topics=rtapp.room.1", tok);
    struct db *db = test_db();
    cr_assert_eq(db_begin(db), 0);
    cr_assert_eq(events_emit(db, "rtapp.room.1", "room.doomed", json_pack("{s:i}", "n", 9)), 0);
    db_rollback(db);
    int64_t id = emit("rtapp.room.1", "room.said", "{\"n\": 1}");
    char *f = sse_event(c, WAIT_MS);               /* the committed one comes first and alone */
    expect_event(f, id, "rtapp.room.1", "room.said", "n", 1);
    free(f);
    f = sse_event(c, 300);
    cr_expect_null(f, "unexpected: %s", f);
    free(f);
    cr_expect_null(strstr(c->body, "room.doomed"));
    client_close(c);
    free(tok);
    srv_stop();
}

Test(realtime, sse_resume_replays_missed_events)
{
    start();
    test_user("alice", NULL, NULL, NULL, 0);
    char *tok = test_token("alice");
    int64_t ids[5];
    for (int i = 0; i < 4; i++) {
        ids[i] = emit(i == 1 ? "rtapp.room.9" : "rtapp.room.1", "room.said", i == 1 ? "{\"n\": -1}" : "{\"n\": 0}");
    }
    /* the client saw ids[0]; ids[1] is on another topic; it missed ids[2], ids[3] */
    char hdr[64];
    snprintf(hdr, sizeof hdr, "Last-Event-ID: %lld\r\n", (long long)ids[0]);
    struct client *c = sse_open("?topics=rtapp.room.1", tok, hdr);
    cr_assert_eq(c->status, 200);
    char *f = sse_event(c, WAIT_MS);
    cr_expect_eq(frame_id(f), ids[2], "frame: %s", f);
    free(f);
    f = sse_event(c, WAIT_MS);
    cr_expect_eq(frame_id(f), ids[3], "frame: %s", f);
    free(f);
    ids[4] = emit("rtapp.room.1", "room.said", "{\"n\": 4}");     /* then live, no gap */
    f = sse_event(c, WAIT_MS);
    expect_event(f, ids[4], "rtapp.room.1", "room.said", "n", 4);
    free(f);
    f = sse_event(c, 300);                                          /* and no duplicates */
    cr_expect_null(f, "unexpected: %s", f);
    free(f);
    client_close(c);

    /* ?last_event_id= does the same; nothing missed -> nothing replayed */
    char q[128];
    snprintf(q, sizeof q, "?topics=rtapp.room.1&last_event_id=%lld", (long long)ids[4]);
    c = sse_ready(q, tok);
    f = sse_event(c, 300);
    cr_expect_null(f, "unexpected: %s", f);
    free(f);
    client_close(c);
    struct resp *r = api("GET", "/api/v1/realtime/sse?last_event_id=x1", tok, NULL);
    cr_expect_eq(r->status, 400);
    resp_free(r);
    free(tok);
    srv_stop();
}

/* Events committed while the subscriber joins and replays are neither lost
 * nor doubled. */
static void *writer(void *arg)
{
    struct db *db = db_thread();
    for (int k = 0; k < 100; k++) {
        if (db_begin(db) < 0) break;
        events_emit(db, "rtapp.room.1", "room.said", json_pack("{s:i}", "n", k));
        if (db_commit(db) < 0) break;
        usleep(1000);
    }
    db_thread_close();
    return NULL;
}

Test(realtime, sse_resume_during_writes_has_no_gaps_or_duplicates)
{
    start();
    test_user("alice", NULL, NULL, NULL, 0);
    char *tok = test_token("alice");
    int64_t first = emit("rtapp.room.1", "room.said", "{\"n\": 0}");
    for (int k = 0; k < 30; k++) emit("rtapp.room.1", "room.said", "{\"n\": 1}");
    char hdr[64];
    snprintf(hdr, sizeof hdr, "Last-Event-ID: %lld\r\n", (long long)first);
    pthread_t t;
    pthread_create(&t, NULL, writer, NULL);
    usleep(20000);
    struct client *c = sse_open("?topics=rtapp.room.1", tok, hdr);    /* while the writer commits */
    pthread_join(t, NULL);
    cr_assert_eq(c->status, 200);
    int64_t expect = 0, last = first;
    cr_assert_eq(db_int(test_db(), &expect, "SELECT COUNT(*) FROM outbox WHERE id > $1", DB_I(first)), 1);
    cr_assert_eq(expect, 130);
    for (int64_t n = 0; n < expect; n++) {
        char *f = sse_event(c, WAIT_MS);
        cr_assert_not_null(f, "only %lld of %lld events", (long long)n, (long long)expect);
        int64_t id = frame_id(f);
        free(f);
        cr_assert_gt(id, last, "out of order or duplicate: %lld after %lld", (long long)id, (long long)last);
        last = id;
    }
    char *f = sse_event(c, 300);
    cr_expect_null(f, "unexpected: %s", f);
    free(f);
    client_close(c);
    free(tok);
    srv_stop();
}

Test(realtime, sse_future_last_event_id_does_not_hide_new_events)
{
    start();
    test_user("alice", NULL, NULL, NULL, 0);
    char *tok = test_token("alice");
    emit("rtapp.room.1", "room.said", "{\"n\": 0}");
    struct client *c = sse_open("?topics=rtapp.room.1", tok, "Last-Event-ID: 999999\r\n");
    cr_assert_eq(c->status, 200);
    int64_t id = emit("rtapp.room.1", "room.said", "{\"n\": 1}");
    char *f = sse_event(c, WAIT_MS);
    expect_event(f, id, "rtapp.room.1", "room.said", "n", 1);
    free(f);
    client_close(c);
    free(tok);
    srv_stop();
}

/* Clients coming and going (SSE and WebSocket, some hanging up mid-stream)
 * while events are published and heartbeats run: nothing hangs or crashes,
 * and the server still serves afterwards. */
struct churn {
    const char *tok;
    atomic_int failures;
};

static int raw_connect(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)srv_port())};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void churn_one(int i, void *arg)
{
    struct churn *ch = arg;
    for (int round = 0; round < 40; round++) {
        int fd = raw_connect();
        if (fd < 0) {
            atomic_fetch_add(&ch->failures, 1);
            continue;
        }
        char req[1024];
        if ((i + round) % 2)
            snprintf(req, sizeof req, "GET /api/v1/realtime/sse?topics=rtapp.room.1 HTTP/1.1\r\nHost: x\r\n"
                                      "Authorization: Bearer %s\r\n\r\n", ch->tok);
        else
            snprintf(req, sizeof req, "GET /api/v1/realtime/ws?topics=rtapp.room.1 HTTP/1.1\r\nHost: x\r\n"
                                      "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                                      "Sec-WebSocket-Key: %s\r\nAuthorization: Bearer %s\r\n\r\n", ws_key, ch->tok);
        send(fd, req, strlen(req), MSG_NOSIGNAL);
        char buf[8192];
        struct pollfd p = {.fd = fd, .events = POLLIN};
        ssize_t n = poll(&p, 1, WAIT_MS) == 1 ? recv(fd, buf, sizeof buf - 1, 0) : -1;
        if (n <= 0 || (strncmp(buf, "HTTP/1.1 200", 12) && strncmp(buf, "HTTP/1.1 101", 12)))
            atomic_fetch_add(&ch->failures, 1);
        if (round % 3 == 0) usleep(5000);           /* stay a while, take some events */
        close(fd);
    }
}

static void *churn_main(void *arg)
{
    run_concurrently(4, churn_one, arg);
    return NULL;
}

Test(realtime, churn_while_publishing)
{
    setenv("ATRIUM_REALTIME_HEARTBEAT", "1", 1);
    start();
    test_user("alice", NULL, NULL, NULL, 0);
    char *tok = test_token("alice");
    struct churn ch = {.tok = tok};
    pthread_t w, c;
    pthread_create(&w, NULL, writer, NULL);
    pthread_create(&c, NULL, churn_main, &ch);
    pthread_join(c, NULL);
    pthread_join(w, NULL);
    cr_expect_eq(atomic_load(&ch.failures), 0);
    wait_dispatched();                              /* the writer's events are out */
    struct client *s = sse_ready("?topics=rtapp.room.1", tok);
    int64_t id = emit("rtapp.room.1", "room.said", "{\"n\": 5}");
    char *f = sse_event(s, WAIT_MS);
    expect_event(f, id, "rtapp.room.1", "room.said", "n", 5);
    free(f);
    client_close(s);
    free(tok);
    srv_stop();
}

Test(realtime, sse_heartbeat_arrives)
{
    setenv("ATRIUM_REALTIME_HEARTBEAT", "1", 1);
    start();
    test_user("alice", NULL, NULL, NULL, 0);
    char *tok = test_token("alice");
    struct client *c = sse_ready(NULL, tok);
    char *f = sse_frame(c, WAIT_MS);
    cr_expect_not_null(f, "no heartbeat within %d ms", WAIT_MS);
    if (f) cr_expect_str_eq(f, ":hb");
    free(f);
    client_close(c);
    free(tok);
    srv_stop();
}

Test(realtime, sse_slow_reader_overflows_then_resumes)
{
    start();
    test_user("alice", NULL, NULL, NULL, 0);
    char *tok = test_token("alice");
    struct client *c = sse_ready("?topics=rtapp.room.1", tok);
    /* 36 MB of events while the client reads nothing: socket buffers fill,
     * then the bounded queue, and the stream ends with "event: overflow" */
    char *big = xmalloc(70000);
    snprintf(big, 70000, "{\"n\": 1, \"pad\": \"%0*d\"}", 60000, 0);
    struct db *db = test_db();
    cr_assert_eq(db_begin(db), 0);
    for (int i = 0; i < 600; i++) cr_assert_eq(events_emit(db, "rtapp.room.1", "room.big", json_loads(big, 0, NULL)), 0);
    cr_assert_eq(db_commit(db), 0);
    free(big);
    wait_dispatched();
    int64_t last = 0, count = 0;
    bool overflow = false;
    for (;;) {
        char *f = sse_event(c, WAIT_MS);
        if (!f) break;
        if (!strncmp(f, "event: overflow", 15)) overflow = true;
        else if (frame_id(f) > 0) {
            cr_assert_gt(frame_id(f), last);
            last = frame_id(f);
            count++;
        }
        free(f);
        if (overflow) break;
    }
    cr_assert(overflow, "no overflow after %lld events", (long long)count);
    cr_assert_lt(count, 600);
    /* the server closed it (the last chunk may come in a read of its own);
     * resuming from the last id gets the rest, in order */
    for (int64_t t0 = now_ms(), left; !c->eof && (left = t0 + WAIT_MS - now_ms()) > 0;) pump(c, (int)left);
    cr_expect(c->eof, "stream still open after overflow");
    cr_expect_eq(c->blen, c->pos, "data after the overflow: %.80s", c->body + c->pos);
    client_close(c);
    char hdr[64];
    snprintf(hdr, sizeof hdr, "Last-Event-ID: %lld\r\n", (long long)last);
    c = sse_open("?topics=rtapp.room.1", tok, hdr);
    int64_t total = 0;
    db_int(test_db(), &total, "SELECT COUNT(*) FROM outbox");
    while (count < total) {
        char *f = sse_event(c, WAIT_MS);
        cr_assert_not_null(f, "resumed stream stopped at %lld of %lld", (long long)count, (long long)total);
        cr_assert_gt(frame_id(f), last, "frame: %.80s", f);
        last = frame_id(f);
        count++;
        free(f);
    }
    client_close(c);
    free(tok);
    srv_stop();
}

/* ------------------------------------------------------------ WebSocket */


static struct client *ws_open(const char *query, const char *token, const char *key, const char *version)
{
    char req[4096];
    snprintf(req, sizeof req,
             "GET /api/v1/realtime/ws%s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
             "Connection: keep-alive, Upgrade\r\n%s%s%sSec-WebSocket-Version: %s\r\n"
             "Authorization: Bearer %s\r\n\r\n",
             query ? query : "", key ? "Sec-WebSocket-Key: " : "", key ? key : "", key ? "\r\n" : "",
             version ? version : "13", token);
    return open_raw(req);
}

static void expected_accept(const char *key, char out[29])
{
    struct sha1_ctx c;
    uint8_t d[SHA1_DIGEST_SIZE];
    sha1_init(&c);
    sha1_update(&c, strlen(key), (const uint8_t *)key);
    sha1_update(&c, 36, (const uint8_t *)"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    sha1_digest(&c, sizeof d, d);
    sodium_bin2base64(out, 29, d, sizeof d, sodium_base64_VARIANT_ORIGINAL);
}

/* Next server frame: returns its opcode (payload malloc'd into *data), or -1. */
static int ws_frame(struct client *c, char **data, size_t *len, int ms)
{
    int64_t deadline = now_ms() + ms;
    for (;;) {
        size_t avail = c->blen - c->pos;
        const unsigned char *p = (const unsigned char *)c->body + c->pos;
        if (avail >= 2) {
            cr_assert_eq(p[1] & 0x80, 0, "server frames are not masked");
            size_t hl = 2, n = p[1] & 0x7f;
            if (n == 126) hl = 4;
            else if (n == 127) hl = 10;
            if (avail >= hl) {
                if (n == 126) n = (size_t)p[2] << 8 | p[3];
                else if (n == 127) {
                    n = 0;
                    for (int i = 2; i < 10; i++) n = n << 8 | p[i];
                }
                if (avail >= hl + n) {
                    cr_assert(p[0] & 0x80, "fragmented frame");
                    *data = xmalloc(n + 1);
                    memcpy(*data, p + hl, n);
                    (*data)[n] = 0;
                    *len = n;
                    c->pos += hl + n;
                    return p[0] & 0x0f;
                }
            }
        }
        int64_t left = deadline - now_ms();
        if (left <= 0 || !pump(c, (int)left)) {
            if (c->eof || deadline - now_ms() <= 0) return -1;
        }
    }
}

/* Next text message, parsed (skips pings). */
static json_t *ws_json(struct client *c, int ms)
{
    int64_t deadline = now_ms() + ms;
    for (;;) {
        char *data;
        size_t len;
        int64_t left = deadline - now_ms();
        int op = ws_frame(c, &data, &len, left > 0 ? (int)left : 0);
        if (op < 0) return NULL;
        json_t *j = op == 1 ? json_loadb(data, len, 0, NULL) : NULL;
        free(data);
        if (op == 1) return j;
        if (op == 8) return NULL;
    }
}

static void ws_send(struct client *c, int opcode, const char *text)
{
    size_t n = strlen(text);
    cr_assert_lt(n, 126);
    unsigned char frame[256], mask[4] = {0x12, 0x34, 0x56, 0x78};
    frame[0] = (unsigned char)(0x80 | opcode);
    frame[1] = (unsigned char)(0x80 | n);
    memcpy(frame + 2, mask, 4);
    for (size_t i = 0; i < n; i++) frame[6 + i] = (unsigned char)text[i] ^ mask[i % 4];
    cr_assert_eq(send(c->fd, frame, 6 + n, MSG_NOSIGNAL), (ssize_t)(6 + n));
}

static struct client *ws_ready(const char *query, const char *token)
{
    struct client *c = ws_open(query, token, ws_key, NULL);
    cr_assert_eq(c->status, 101, "WS status %d: %s", c->status, c->body ? c->body : "");
    return c;
}

Test(realtime, ws_handshake_and_accept_key)
{
    start();
    test_user("alice", NULL, NULL, NULL, 0);
    char *tok = test_token("alice"), accept[29];
    struct client *c = ws_ready("?topics=rtapp.room.1", tok);
    expected_accept(ws_key, accept);
    cr_expect_str_eq(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");     /* RFC 6455's own example */
    const char *v = head_value(c, "Sec-WebSocket-Accept");
    cr_assert_not_null(v, "head: %s", c->head);
    cr_expect_str_eq(v, accept);
    v = head_value(c, "Upgrade");
    cr_expect(v && !strcasecmp(v, "websocket"), "head: %s", c->head);
    v = head_value(c, "Connection");
    cr_expect(v && strcasestr(v, "upgrade"), "head: %s", c->head);
    client_close(c);
    free(tok);
    srv_stop();
}

Test(realtime, ws_bad_handshakes)
{
    start();
    test_user("alice", NULL, NULL, NULL, 0);
    char *tok = test_token("alice");
    struct client *c = ws_open(NULL, tok, NULL, NULL);             /* no key */
    cr_expect_eq(c->status, 400);
    cr_expect(c->body && strstr(c->body, "bad_handshake"));
    client_close(c);
    c = ws_open(NULL, tok, "short", NULL);                          /* not 16 bytes of base64 */
    cr_expect_eq(c->status, 400);
    client_close(c);
    c = ws_open(NULL, tok, ws_key, "8");                            /* old protocol version */
    cr_expect_eq(c->status, 426);
    cr_expect_str_eq(head_value(c, "Sec-WebSocket-Version"), "13");
    client_close(c);
    struct resp *r = api("GET", "/api/v1/realtime/ws", tok, NULL);  /* plain GET, no upgrade */
    cr_expect_eq(r->status, 400);
    resp_free(r);
    r = api("GET", "/api/v1/realtime/ws", NULL, NULL);
    cr_expect_eq(r->status, 401);
    resp_free(r);
    c = ws_open("?topics=rtapp.secret", tok, ws_key, NULL);         /* authorized like SSE */
    cr_expect_eq(c->status, 403);
    cr_expect(c->body && strstr(c->body, "topic_forbidden"));
    client_close(c);
    free(tok);
    srv_stop();
}

Test(realtime, ws_event_arrives_as_text_frame)
{
    start();
    test_user("alice", NULL, NULL, NULL, 0);
    char *tok = test_token("alice");
    struct client *c = ws_ready("?topics=rtapp.room.1,rtapp.room.2", tok);
    ws_send(c, 1, "{\"type\":\"ping\"}");          /* a round trip: the subscription is live */
    json_t *j = ws_json(c, WAIT_MS);
    json_decref(j);
    int64_t id = emit("rtapp.room.2", "room.said", "{\"n\": 7}");
    j = ws_json(c, WAIT_MS);
    cr_assert_not_null(j, "no event frame");
    cr_expect_eq(json_integer_value(json_object_get(j, "id")), id);
    cr_expect_str_eq(json_string_value(json_object_get(j, "topic")), "rtapp.room.2");
    cr_expect_str_eq(json_string_value(json_object_get(j, "type")), "room.said");
    cr_expect_eq(json_integer_value(json_object_get(json_object_get(j, "payload"), "n")), 7);
    json_decref(j);
    client_close(c);
    free(tok);
    srv_stop();
}

Test(realtime, ws_ping_pong_and_protocol_ping)
{
    start();
    test_user("alice", NULL, NULL, NULL, 0);
    char *tok = test_token("alice");
    struct client *c = ws_ready(NULL, tok);
    ws_send(c, 1, "{\"type\":\"ping\"}");
    json_t *j = ws_json(c, WAIT_MS);
    cr_assert_not_null(j, "no pong");
    cr_expect_str_eq(json_string_value(json_object_get(j, "type")), "pong");
    json_decref(j);
    ws_send(c, 9, "hi");                             /* a ping frame -> pong frame */
    char *data;
    size_t len;
    cr_expect_eq(ws_frame(c, &data, &len, WAIT_MS), 10);
    cr_expect_eq(len, 2);
    free(data);
    ws_send(c, 1, "nonsense");
    j = ws_json(c, WAIT_MS);
    cr_expect_str_eq(json_string_value(json_object_get(j, "code")), "bad_message");
    json_decref(j);
    ws_send(c, 8, "");                               /* close -> close */
    cr_expect_eq(ws_frame(c, &data, &len, WAIT_MS), 8);
    free(data);
    client_close(c);
    free(tok);
    srv_stop();
}

Test(realtime, ws_heartbeat_ping_frames)
{
    setenv("ATRIUM_REALTIME_HEARTBEAT", "1", 1);
    start();
    test_user("alice", NULL, NULL, NULL, 0);
    char *tok = test_token("alice");
    struct client *c = ws_ready(NULL, tok);
    char *data;
    size_t len;
    cr_expect_eq(ws_frame(c, &data, &len, WAIT_MS), 9, "no ping frame within %d ms", WAIT_MS);
    free(data);
    client_close(c);
    free(tok);
    srv_stop();
}

Test(realtime, ws_resume_replays_missed_events)
{
    start();
    test_user("alice", NULL, NULL, NULL, 0);
    char *tok = test_token("alice");
    int64_t a = emit("rtapp.room.1", "room.said", "{\"n\": 1}");
    int64_t b = emit("rtapp.room.1", "room.said", "{\"n\": 2}");
    int64_t d = emit("rtapp.room.1", "room.said", "{\"n\": 3}");
    wait_dispatched();                              /* a, b, d must not arrive live */
    struct client *c = ws_ready("?topics=rtapp.room.1", tok);
    char msg[96];
    snprintf(msg, sizeof msg, "{\"type\":\"resume\",\"last_event_id\":%lld}", (long long)a);
    ws_send(c, 1, msg);
    json_t *j = ws_json(c, WAIT_MS);
    cr_expect_eq(json_integer_value(json_object_get(j, "id")), b);
    json_decref(j);
    j = ws_json(c, WAIT_MS);
    cr_expect_eq(json_integer_value(json_object_get(j, "id")), d);
    json_decref(j);
    int64_t e = emit("rtapp.room.1", "room.said", "{\"n\": 4}");
    j = ws_json(c, WAIT_MS);
    cr_expect_eq(json_integer_value(json_object_get(j, "id")), e);
    json_decref(j);
    ws_send(c, 1, msg);                             /* again: nothing not already sent */
    ws_send(c, 1, "{\"type\":\"ping\"}");
    j = ws_json(c, WAIT_MS);
    cr_expect_str_eq(json_string_value(json_object_get(j, "type")), "pong", "got %s",
                     json_dumps(j, JSON_COMPACT));
    json_decref(j);
    client_close(c);
    /* ?last_event_id= at connect replays too */
    char q[96];
    snprintf(q, sizeof q, "?topics=rtapp.room.1&last_event_id=%lld", (long long)d);
    c = ws_ready(q, tok);
    j = ws_json(c, WAIT_MS);
    cr_expect_eq(json_integer_value(json_object_get(j, "id")), e);
    json_decref(j);
    client_close(c);
    free(tok);
    srv_stop();
}

Test(realtime, shutdown_closes_connected_clients)
{
    start();
    test_user("alice", NULL, NULL, NULL, 0);
    char *tok = test_token("alice");
    struct client *s = sse_ready(NULL, tok);
    struct client *w = ws_ready(NULL, tok);
    ws_send(w, 1, "{\"type\":\"ping\"}");
    json_t *j = ws_json(w, WAIT_MS);
    json_decref(j);
    free(tok);
    srv_stop();                                     /* must not hang on open streams */
    char *data;
    size_t len;
    int op = ws_frame(w, &data, &len, WAIT_MS);
    cr_expect_eq(op, 8, "WebSocket got no close frame");
    if (op == 8) {
        cr_expect_geq(len, 2);
        cr_expect_eq(((unsigned char)data[0] << 8) | (unsigned char)data[1], 1001);
        free(data);
    }
    while (pump(s, WAIT_MS)) {}
    cr_expect(s->eof, "SSE stream not ended");
    client_close(s);
    client_close(w);
}
