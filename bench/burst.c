/* burst: fire N HTTP requests at once with libcurl's multi interface and
 * print how they were answered. Used by bench/campus for "1,000 concurrent
 * payments" and "1,000 concurrent enrollments".
 *
 *   burst URL METHOD TOKEN N BODY_TEMPLATE [--key-prefix P] [--first F] [--max-conns M]
 *
 * Request i (0 <= i < N) has the body BODY_TEMPLATE with every %d replaced by
 * F + i (F defaults to 1: student ids), the header "Authorization: Bearer
 * TOKEN" (none when TOKEN is "-"), and with --key-prefix "Idempotency-Key:
 * P-<i>". All N transfers are added before the first curl_multi_perform, so
 * they start together; --max-conns (default N) caps the connections open at
 * once and queues the rest inside libcurl.
 *
 * Output, one line: the count per HTTP status (0 = no answer), latency
 * p50/p95/p99/max in ms, measured from the start of the burst to each answer
 * (so with --max-conns < N the client's queueing counts too), the wall time
 * and requests/s. The first body of each non-2xx status goes to stderr. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

struct xfer {
    char *body;
    struct curl_slist *headers;
    double done_ms;             /* since the burst's start */
    long status;                /* 0: no HTTP answer */
    char reply[512];            /* the start of the answer's body */
    size_t reply_len;
};

static void *xmalloc(size_t n)
{
    void *p = calloc(1, n ? n : 1);
    if (!p) {
        fprintf(stderr, "burst: out of memory\n");
        exit(1);
    }
    return p;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *user)
{
    struct xfer *x = user;
    size_t n = size * nmemb, room = sizeof x->reply - 1 - x->reply_len;
    memcpy(x->reply + x->reply_len, data, n < room ? n : room);
    x->reply_len += n < room ? n : room;
    return n;
}

/* The template with every %d replaced by `value`. */
static char *expand(const char *tmpl, long value)
{
    size_t count = 0;
    for (const char *p = tmpl; (p = strstr(p, "%d")); p += 2) count++;
    char num[24];
    int numlen = snprintf(num, sizeof num, "%ld", value);
    char *out = xmalloc(strlen(tmpl) + count * (size_t)numlen + 1), *o = out;
    for (const char *p = tmpl; *p;) {
        if (p[0] == '%' && p[1] == 'd') {
            memcpy(o, num, (size_t)numlen);
            o += numlen;
            p += 2;
        } else {
            *o++ = *p++;
        }
    }
    *o = 0;
    return out;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double percentile(const double *sorted, int n, double p)
{
    int i = (int)(p / 100.0 * n + 0.999999) - 1;       /* nearest rank */
    return sorted[i < 0 ? 0 : i >= n ? n - 1 : i];
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: burst URL METHOD TOKEN N BODY_TEMPLATE [--key-prefix P] [--first F] [--max-conns M]\n");
        return 2;
    }
    const char *url = argv[1], *method = argv[2], *token = argv[3], *tmpl = argv[5], *prefix = NULL;
    int n = atoi(argv[4]), max_conns = 0;
    long first = 1;
    for (int i = 6; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--key-prefix")) prefix = argv[i + 1];
        else if (!strcmp(argv[i], "--first")) first = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--max-conns")) max_conns = atoi(argv[i + 1]);
        else {
            fprintf(stderr, "burst: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (n < 1) {
        fprintf(stderr, "burst: N must be at least 1\n");
        return 2;
    }
    if (max_conns < 1 || max_conns > n) max_conns = n;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)max_conns + 64) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > (rlim_t)max_conns + 64 ? (rlim_t)max_conns + 64
                                                                                              : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }

    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM *multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)max_conns);
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)max_conns);
    struct xfer *xs = xmalloc(sizeof *xs * (size_t)n);
    char line[256];
    for (int i = 0; i < n; i++) {
        struct xfer *x = &xs[i];
        CURL *h = curl_easy_init();
        if (!h) {
            fprintf(stderr, "burst: curl_easy_init failed\n");
            return 1;
        }
        x->body = expand(tmpl, first + i);
        x->headers = curl_slist_append(NULL, "Content-Type: application/json");
        if (strcmp(token, "-")) {
            snprintf(line, sizeof line, "Authorization: Bearer %s", token);
            x->headers = curl_slist_append(x->headers, line);
        }
        if (prefix) {
            snprintf(line, sizeof line, "Idempotency-Key: %s-%d", prefix, i);
            x->headers = curl_slist_append(x->headers, line);
        }
        x->headers = curl_slist_append(x->headers, "Expect:");     /* no 100-continue round trip */
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
        if (strcmp(method, "GET")) curl_easy_setopt(h, CURLOPT_POSTFIELDS, x->body);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, x->headers);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
        curl_easy_setopt(h, CURLOPT_PRIVATE, x);
        curl_easy_setopt(h, CURLOPT_TIMEOUT, 120L);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_multi_add_handle(multi, h);
    }

    double start = now_ms();
    int running = 1, finished = 0;
    while (running || finished < n) {
        if (curl_multi_perform(multi, &running) != CURLM_OK) break;
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(multi, &left))) {
            if (m->msg != CURLMSG_DONE) continue;
            struct xfer *x;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
            x->done_ms = now_ms() - start;
            if (m->data.result == CURLE_OK) curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &x->status);
            else snprintf(x->reply, sizeof x->reply, "%s", curl_easy_strerror(m->data.result));
            curl_multi_remove_handle(multi, m->easy_handle);
            curl_easy_cleanup(m->easy_handle);
            finished++;
        }
        if (running) curl_multi_poll(multi, NULL, 0, 100, NULL);
        else if (finished < n) break;
    }
    double wall = now_ms() - start;

    /* statuses in ascending order, each with its count */
    long statuses[16];
    int counts[16], kinds = 0;
    double *lat = xmalloc(sizeof *lat * (size_t)n);
    for (int i = 0; i < n; i++) {
        lat[i] = xs[i].done_ms;
        int k = 0;
        while (k < kinds && statuses[k] != xs[i].status) k++;
        if (k == kinds && kinds < 16) {
            statuses[kinds] = xs[i].status, counts[kinds++] = 0;
            if (xs[i].status < 200 || xs[i].status >= 300)
                fprintf(stderr, "burst: first %ld answer: %s\n", xs[i].status, xs[i].reply);
        }
        if (k < kinds) counts[k]++;
    }
    for (int a = 0; a < kinds; a++)
        for (int b = a + 1; b < kinds; b++)
            if (statuses[b] < statuses[a]) {
                long s = statuses[a];
                int c = counts[a];
                statuses[a] = statuses[b], counts[a] = counts[b];
                statuses[b] = s, counts[b] = c;
            }
    qsort(lat, (size_t)n, sizeof *lat, cmp_double);
    printf("n %d, status", n);
    for (int k = 0; k < kinds; k++) printf(" %ld:%d", statuses[k], counts[k]);
    printf(", p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms, wall %.3f s, %.0f req/s\n", percentile(lat, n, 50),
           percentile(lat, n, 95), percentile(lat, n, 99), lat[n - 1], wall / 1e3, n / (wall / 1e3));

    for (int i = 0; i < n; i++) {
        free(xs[i].body);
        curl_slist_free_all(xs[i].headers);
    }
    free(xs);
    free(lat);
    curl_multi_cleanup(multi);
    curl_global_cleanup();
    return 0;
}
