/* metrics.c -- Prometheus metrics and their text exposition (metrics.h).
 *
 * Request metrics live in one array indexed by route (routes with the same
 * pattern and method share a slot, so no series is emitted twice); each slot
 * holds relaxed atomic counters per known status code and per histogram bucket,
 * so metrics_request() takes no lock. Named counters and gauges are small fixed
 * tables: registration (first use of a name/label pair) is serialised by a
 * mutex, lookups and updates are lock-free. Label values are escaped once, when
 * they are registered. metrics_init()/metrics_cleanup() must not race with the
 * recording functions (they run before serving and after shutdown). */
#include "atrium.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static const int status_codes[] = {200, 201, 202, 204, 301, 304, 400, 401, 403,
                                   404, 405, 409, 413, 415, 429, 500, 503};
#define NSTATUS (sizeof status_codes / sizeof status_codes[0])  /* slot NSTATUS: "other" */

static const uint64_t bucket_us[] = {1000, 2500, 5000, 10000, 25000, 50000, 100000,
                                     250000, 500000, 1000000, 2500000, 5000000};
static const char *const bucket_le[] = {"0.001", "0.0025", "0.005", "0.01", "0.025", "0.05",
                                        "0.1", "0.25", "0.5", "1", "2.5", "5"};
#define NBUCKETS (sizeof bucket_us / sizeof bucket_us[0])       /* slot NBUCKETS: +Inf */

enum { COUNTER, GAUGE };
#define MAX_SERIES 64
static const size_t max_series[2] = {MAX_SERIES, 32};  /* name/label pairs per kind */

struct route_stats {
    char *route, *method;                    /* escaped label values */
    _Atomic uint64_t status[NSTATUS + 1];
    _Atomic uint64_t bucket[NBUCKETS + 1];   /* per bucket, not cumulative */
    _Atomic uint64_t sum_us;
};

struct state {
    size_t nroutes, nstats;
    size_t *slot;                            /* route index 0..nroutes -> stats[] */
    struct route_stats *stats;
};

struct series {                              /* a named counter or gauge */
    char *name, *label, *label_esc;          /* sanitized name; label NULL: none */
    _Atomic uint64_t value;                  /* count, or the gauge's double bits */
};

static const struct {
    int kind;
    const char *name, *label_key, *help;
} known_series[] = {
    {COUNTER, "auth_failures", "reason", "Failed authentication attempts by reason."},
    {COUNTER, "rate_limited", "scope", "Requests refused by the rate limiter by scope."},
    {COUNTER, "job_runs", "job", "Background job runs by job."},
    {COUNTER, "job_failures", "job", "Background job failures by job."},
    {COUNTER, "payment_failures", "provider", "Failed payment attempts by provider."},
    {COUNTER, "payments", "provider", "Payments completed by provider."},
    {COUNTER, "refunds", "app", "Refunds issued by app."},
    {COUNTER, "orders", "app", "Orders placed by app."},
    {GAUGE, "realtime_subscribers", NULL, "Open realtime subscriptions."},
    {GAUGE, "outbox_backlog", NULL, "Domain events waiting in the outbox."},
    {GAUGE, "ready", NULL, "1 when the readiness checks pass, else 0."},
    {GAUGE, "disk_free_ratio", NULL, "Free fraction of the database filesystem."},
};

/* Families render() always writes; named series may not reuse them. */
static const char *const builtin_families[] = {
    "atrium_up", "atrium_build_info", "atrium_http_requests_total",
    "atrium_http_request_duration_seconds", "atrium_db_time_seconds_total",
};

static struct state *_Atomic state;
static _Atomic uint64_t db_us;
static struct series series[2][MAX_SERIES];
static _Atomic size_t nseries[2];
static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;

/* ----------------------------------------------------------------- text */

/* Label value escaping of the text format: backslash, double quote, newline. */
static char *escape_label(const char *s)
{
    char *out = xmalloc(strlen(s) * 2 + 1), *o = out;
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            *o++ = '\\', *o++ = *s;
        else if (*s == '\n')
            *o++ = '\\', *o++ = 'n';
        else
            *o++ = *s;
    }
    *o = 0;
    return out;
}

/* Metric names allow [a-zA-Z0-9_:] after our "atrium_" prefix; anything else
 * becomes '_' (at registration; lookups compare through the same mapping, so the
 * hot path allocates nothing). */
static char name_char(char c)
{
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == ':';
    return ok ? c : '_';
}

static char *sanitize_name(const char *s)
{
    char *out = xstrdup(s);
    for (char *p = out; *p; p++)
        *p = name_char(*p);
    return out;
}

static bool name_eq(const char *clean, const char *raw)
{
    for (; *clean && *raw; clean++, raw++)
        if (*clean != name_char(*raw))
            return false;
    return *clean == *raw;
}

/* Shortest of %.15g / %.17g that reads back exactly; NaN and infinities as
 * the text format spells them. */
static const char *fmt_double(char out[40], double v)
{
    if (isnan(v))
        return "NaN";
    if (isinf(v))
        return v > 0 ? "+Inf" : "-Inf";
    snprintf(out, 40, "%.15g", v);
    if (strtod(out, NULL) != v)
        snprintf(out, 40, "%.17g", v);
    return out;
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* ------------------------------------------------------------- requests */

static void state_free(struct state *st)
{
    if (!st)
        return;
    for (size_t i = 0; i < st->nstats; i++) {
        free(st->stats[i].route);
        free(st->stats[i].method);
    }
    free(st->stats);
    free(st->slot);
    free(st);
}

void metrics_init(size_t nroutes, const char *(*route_label)(size_t idx, const char **method))
{
    struct state *st = xcalloc(1, sizeof *st);
    st->nroutes = nroutes;
    st->slot = xcalloc(nroutes + 1, sizeof *st->slot);
    st->stats = xcalloc(nroutes + 1, sizeof *st->stats);
    for (size_t i = 0; i <= nroutes; i++) {
        const char *route = "unmatched", *method = "*";
        if (i < nroutes) {
            const char *m = NULL, *p = route_label ? route_label(i, &m) : NULL;
            route = p ? p : "unknown";
            method = m ? m : "*";
        }
        char *r = escape_label(route), *m = escape_label(method);
        size_t j = 0;
        while (j < st->nstats && (strcmp(st->stats[j].route, r) || strcmp(st->stats[j].method, m)))
            j++;
        if (j == st->nstats) {
            st->stats[j].route = r;
            st->stats[j].method = m;
            st->nstats++;
        } else {
            free(r);
            free(m);
        }
        st->slot[i] = j;
    }
    state_free(atomic_exchange(&state, st));     /* re-init replaces the old table */
}

static size_t status_index(int status)
{
    for (size_t i = 0; i < NSTATUS; i++)
        if (status_codes[i] == status)
            return i;
    return NSTATUS;
}

void metrics_request(size_t route_idx, int status, uint64_t duration_us)
{
    struct state *st = atomic_load_explicit(&state, memory_order_acquire);
    if (!st)
        return;
    struct route_stats *rs = &st->stats[st->slot[route_idx < st->nroutes ? route_idx : st->nroutes]];
    size_t b = 0;
    while (b < NBUCKETS && duration_us > bucket_us[b])
        b++;
    atomic_fetch_add_explicit(&rs->bucket[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&rs->sum_us, duration_us, memory_order_relaxed);
    atomic_fetch_add_explicit(&rs->status[status_index(status)], 1, memory_order_relaxed);
}

void metrics_db_time(uint64_t duration_us)
{
    atomic_fetch_add_explicit(&db_us, duration_us, memory_order_relaxed);
}

static void render_requests(FILE *f, const struct state *st)
{
    family(f, "atrium_http_requests_total", "counter", "HTTP requests by route, method and status.");
    for (size_t i = 0; st && i < st->nstats; i++) {
        const struct route_stats *rs = &st->stats[i];
        for (size_t s = 0; s <= NSTATUS; s++) {
            uint64_t v = atomic_load_explicit(&rs->status[s], memory_order_relaxed);
            if (!v)
                continue;
            char code[16];
            if (s < NSTATUS)
                snprintf(code, sizeof code, "%d", status_codes[s]);
            else
                strcpy(code, "other");
            fprintf(f, "atrium_http_requests_total{route=\"%s\",method=\"%s\",status=\"%s\"} %" PRIu64 "\n",
                    rs->route, rs->method, code, v);
        }
    }
    family(f, "atrium_http_request_duration_seconds", "histogram",
           "HTTP request latency by route and method.");
    for (size_t i = 0; st && i < st->nstats; i++) {
        const struct route_stats *rs = &st->stats[i];
        uint64_t counts[NBUCKETS + 1], total = 0;
        for (size_t k = 0; k <= NBUCKETS; k++)      /* one snapshot: +Inf == _count */
            total += counts[k] = atomic_load_explicit(&rs->bucket[k], memory_order_relaxed);
        if (!total)
            continue;
        uint64_t cum = 0;
        for (size_t k = 0; k <= NBUCKETS; k++) {
            cum += counts[k];
            fprintf(f, "atrium_http_request_duration_seconds_bucket{route=\"%s\",method=\"%s\",le=\"%s\"} %" PRIu64 "\n",
                    rs->route, rs->method, k < NBUCKETS ? bucket_le[k] : "+Inf", cum);
        }
        char num[40];
        double sum = (double)atomic_load_explicit(&rs->sum_us, memory_order_relaxed) / 1e6;
        fprintf(f, "atrium_http_request_duration_seconds_sum{route=\"%s\",method=\"%s\"} %s\n",
                rs->route, rs->method, fmt_double(num, sum));
        fprintf(f, "atrium_http_request_duration_seconds_count{route=\"%s\",method=\"%s\"} %" PRIu64 "\n",
                rs->route, rs->method, total);
    }
}

/* ------------------------------------------------------ counters, gauges */

/* HELP text and label key of a known series; NULL (and "kind") otherwise. */
static const char *known(int kind, const char *name, const char **label_key)
{
    for (size_t i = 0; i < sizeof known_series / sizeof known_series[0]; i++)
        if (known_series[i].kind == kind && strcmp(known_series[i].name, name) == 0) {
            *label_key = known_series[i].label_key;
            return known_series[i].help;
        }
    *label_key = "kind";
    return NULL;
}

static const char *family_fmt(int kind)
{
    return kind == COUNTER ? "atrium_%s_total" : "atrium_%s";
}

/* Would a new series `clean` of `kind` reuse a family already written (a
 * builtin, or the other kind's)? Two families of one name break the scrape. */
static bool family_taken(int kind, const char *clean)
{
    char fam[256], other[256];
    snprintf(fam, sizeof fam, family_fmt(kind), clean);
    for (size_t i = 0; i < sizeof builtin_families / sizeof builtin_families[0]; i++)
        if (strcmp(fam, builtin_families[i]) == 0)
            return true;
    size_t n = atomic_load_explicit(&nseries[!kind], memory_order_relaxed);
    for (size_t i = 0; i < n; i++) {
        snprintf(other, sizeof other, family_fmt(!kind), series[!kind][i].name);
        if (strcmp(fam, other) == 0)
            return true;
    }
    return false;
}

static struct series *series_find(int kind, size_t n, const char *name, const char *label)
{
    for (size_t i = 0; i < n; i++) {
        struct series *s = &series[kind][i];
        if (name_eq(s->name, name) && (s->label && label ? !strcmp(s->label, label) : s->label == label))
            return s;
    }
    return NULL;
}

/* The series (name, label) of `kind`, registered on first use. NULL when the
 * table is full or the name is taken by another family (then it is dropped). */
static struct series *series_get(int kind, const char *name, const char *label)
{
    if (!name || !*name)
        return NULL;
    struct series *s = series_find(kind, atomic_load_explicit(&nseries[kind], memory_order_acquire),
                                   name, label);
    if (s)
        return s;
    pthread_mutex_lock(&reg_mu);
    size_t n = atomic_load_explicit(&nseries[kind], memory_order_relaxed);
    s = series_find(kind, n, name, label);
    if (!s && n < max_series[kind]) {
        char *clean = sanitize_name(name);
        if (family_taken(kind, clean)) {
            free(clean);
        } else {
            s = &series[kind][n];
            s->name = clean;
            s->label = label ? xstrdup(label) : NULL;
            s->label_esc = label ? escape_label(label) : NULL;
            atomic_store_explicit(&s->value, 0, memory_order_relaxed);
            atomic_store_explicit(&nseries[kind], n + 1, memory_order_release);
        }
    }
    pthread_mutex_unlock(&reg_mu);
    return s;
}

void metrics_count(const char *name, const char *label, uint64_t n)
{
    struct series *s = series_get(COUNTER, name, label);
    if (s)
        atomic_fetch_add_explicit(&s->value, n, memory_order_relaxed);
}

void metrics_gauge_f(const char *name, double value)
{
    uint64_t bits;
    memcpy(&bits, &value, sizeof bits);
    struct series *s = series_get(GAUGE, name, NULL);
    if (s)
        atomic_store_explicit(&s->value, bits, memory_order_relaxed);
}

void metrics_gauge(const char *name, int64_t value)
{
    metrics_gauge_f(name, (double)value);
}

/* Each family once, all of its samples together (promtool insists). */
static void render_series(FILE *f, int kind)
{
    size_t n = atomic_load_explicit(&nseries[kind], memory_order_acquire);
    const char *suffix = kind == COUNTER ? "_total" : "";
    for (size_t i = 0; i < n; i++) {
        const char *name = series[kind][i].name;
        size_t first = 0;
        while (strcmp(series[kind][first].name, name) != 0)
            first++;
        if (first < i)
            continue;                              /* family already written */
        const char *key, *help = known(kind, name, &key);
        fprintf(f, "# HELP atrium_%s%s %s%s\n# TYPE atrium_%s%s %s\n", name, suffix,
                help ? help : kind == COUNTER ? "Count of events: " : "Gauge: ", help ? "" : name,
                name, suffix, kind == COUNTER ? "counter" : "gauge");
        for (size_t j = i; j < n; j++) {
            const struct series *s = &series[kind][j];
            if (strcmp(s->name, name) != 0)
                continue;
            uint64_t v = atomic_load_explicit(&s->value, memory_order_relaxed);
            char num[40];
            double d;
            memcpy(&d, &v, sizeof d);
            if (kind == COUNTER)
                snprintf(num, sizeof num, "%" PRIu64, v);
            const char *val = kind == COUNTER ? num : fmt_double(num, d);
            if (s->label_esc)
                fprintf(f, "atrium_%s%s{%s=\"%s\"} %s\n", name, suffix, key, s->label_esc, val);
            else
                fprintf(f, "atrium_%s%s %s\n", name, suffix, val);
        }
    }
}

char *metrics_render(size_t *len)
{
    struct state *st = atomic_load_explicit(&state, memory_order_acquire);
    char *buf = NULL, num[40];
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    if (!f)
        abort();                                   /* out of memory, as xmalloc() */

    family(f, "atrium_up", "gauge", "1 while the atrium process is serving.");
    fprintf(f, "atrium_up 1\n");
    family(f, "atrium_build_info", "gauge", "Build information; the value is always 1.");
    fprintf(f, "atrium_build_info{version=\"%s\"} 1\n", ATRIUM_VERSION);
    render_requests(f, st);
    family(f, "atrium_db_time_seconds_total", "counter", "Time spent in database calls.");
    fprintf(f, "atrium_db_time_seconds_total %s\n",
            fmt_double(num, (double)atomic_load_explicit(&db_us, memory_order_relaxed) / 1e6));
    render_series(f, COUNTER);
    render_series(f, GAUGE);
    if (fclose(f) != 0 || !buf)
        abort();
    if (len)
        *len = n;
    return buf;
}

void metrics_cleanup(void)
{
    state_free(atomic_exchange(&state, NULL));
    atomic_store(&db_us, 0);
    pthread_mutex_lock(&reg_mu);
    for (int kind = COUNTER; kind <= GAUGE; kind++) {
        size_t n = atomic_exchange(&nseries[kind], 0);
        for (size_t i = 0; i < n; i++) {
            free(series[kind][i].name);
            free(series[kind][i].label);
            free(series[kind][i].label_esc);
        }
    }
    pthread_mutex_unlock(&reg_mu);
}
