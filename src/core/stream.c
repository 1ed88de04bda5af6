/* stream.c -- long-lived streaming responses (SSE) on libmicrohttpd.
 *
 * A stream's reader runs on the I/O thread when MHD wants data. With nothing
 * to send it suspends the connection (no thread, no polling) and stream_wake()
 * resumes it from any thread. `pending` closes the race where a wake arrives
 * between the reader's empty answer and the suspension. Called by sse.c. */
#include "atrium.h"
#include "internal.h"
#include <microhttpd.h>
#include <pthread.h>
#include <stdlib.h>

struct stream {
    pthread_mutex_t lock;
    struct MHD_Connection *conn;
    stream_read_fn read;
    void *ctx;
    void (*done)(void *ctx);
    const char *content_type;
    bool queued, suspended, pending, closed;
    struct stream *prev, *next;
};

static pthread_mutex_t list_lock = PTHREAD_MUTEX_INITIALIZER;
static struct stream *streams;

struct stream *reply_stream(struct req *r, const char *content_type, stream_read_fn read, void *ctx,
                            void (*done)(void *ctx))
{
    struct stream *st = xcalloc(1, sizeof *st);
    pthread_mutex_init(&st->lock, NULL);
    st->conn = http_connection(r);
    st->read = read;
    st->ctx = ctx;
    st->done = done;
    st->content_type = content_type;
    pthread_mutex_lock(&list_lock);
    st->next = streams;
    if (streams) streams->prev = st;
    streams = st;
    pthread_mutex_unlock(&list_lock);
    r->status = 200;
    http_set_stream(r, st);
    return st;
}

static ssize_t on_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct stream *st = cls;
    pthread_mutex_lock(&st->lock);
    ssize_t n = 0;
    for (;;) {
        if (st->closed) {
            n = MHD_CONTENT_READER_END_OF_STREAM;
            break;
        }
        st->pending = false;
        n = st->read(st->ctx, buf, max);
        if (n < 0) {
            st->closed = true;
            n = MHD_CONTENT_READER_END_OF_STREAM;
            break;
        }
        if (n > 0 || st->pending) {
            if (n > 0) break;
            continue;       /* woken while reading: look again */
        }
        st->suspended = true;
        MHD_suspend_connection(st->conn);
        break;
    }
    pthread_mutex_unlock(&st->lock);
    return n;
}

static void on_free(void *cls)
{
    struct stream *st = cls;
    pthread_mutex_lock(&list_lock);
    if (st->prev) st->prev->next = st->next;
    else streams = st->next;
    if (st->next) st->next->prev = st->prev;
    pthread_mutex_unlock(&list_lock);
    if (st->done) st->done(st->ctx);
    pthread_mutex_destroy(&st->lock);
    free(st);
}

void stream_wake(struct stream *st)
{
    pthread_mutex_lock(&st->lock);
    st->pending = true;
    if (st->suspended) {
        st->suspended = false;
        MHD_resume_connection(st->conn);
    }
    pthread_mutex_unlock(&st->lock);
}

int stream_queue(struct stream *st, struct MHD_Connection *conn, struct conn_state *s)
{
    if (st->queued) return MHD_YES;
    st->queued = true;
    struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, on_read, st, on_free);
    MHD_add_response_header(resp, "Content-Type", st->content_type);
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return ret;
}

void streams_close_all(void)
{
    pthread_mutex_lock(&list_lock);
    for (struct stream *st = streams; st; st = st->next) {
        pthread_mutex_lock(&st->lock);
        st->closed = true;
        st->pending = true;
        if (st->suspended) {
            st->suspended = false;
            MHD_resume_connection(st->conn);
        }
        pthread_mutex_unlock(&st->lock);
    }
    pthread_mutex_unlock(&list_lock);
}
