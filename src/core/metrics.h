/* metrics.h -- Prometheus metrics (metrics.c).
 *
 * Request metrics are recorded per route index (the route table position, so no
 * string hashing on the hot path), method and status; counters are lock-free
 * atomics. metrics_render() writes the Prometheus text exposition format
 * (version 0.0.4) that `promtool check metrics` accepts. */
#ifndef ATRIUM_METRICS_H
#define ATRIUM_METRICS_H
#include <stddef.h>
#include <stdint.h>

/* Called once before serving with the route table size and a lookup for each
 * route's (method, pattern) used as labels: route_label(idx, &method) returns
 * the pattern and sets method. Index `nroutes` is route="unmatched",
 * method="*". Calling it again replaces the table (tests); it and
 * metrics_cleanup() must not race with recording. Before init (and after
 * cleanup) metrics_request() is a no-op. */
void metrics_init(size_t nroutes, const char *(*route_label)(size_t idx, const char **method));
void metrics_cleanup(void);
/* One finished request: route index (nroutes for 404s; larger indexes count
 * as unmatched), status, duration. Lock-free. */
void metrics_request(size_t route_idx, int status, uint64_t duration_us);
void metrics_db_time(uint64_t duration_us);

/* Named counters (atrium_<name>_total) with one optional label value, e.g.
 * metrics_count("auth_failures", "bad_password", 1). Names are registered on first
 * use; a fixed small number (64) of name/label pairs is supported (more are
 * dropped). The label key depends on the name: auth_failures->reason,
 * rate_limited->scope, job_runs/job_failures->job, payments/payment_failures->
 * provider, orders/refunds->app, anything else->kind; label NULL: no label. */
void metrics_count(const char *name, const char *label, uint64_t n);
/* Gauges (atrium_<name>) set by the owner module: realtime subscribers,
 * outbox backlog, ready. A fixed small number (32) of names is supported;
 * metrics_gauge() is metrics_gauge_f() with an integer value. */
void metrics_gauge(const char *name, int64_t value);
/* Same for fractional values, e.g. metrics_gauge_f("disk_free_ratio", 0.42). */
void metrics_gauge_f(const char *name, double value);

/* The whole exposition; caller frees. */
char *metrics_render(size_t *len);
#endif
