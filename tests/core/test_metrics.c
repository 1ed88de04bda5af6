/* test_metrics.c -- request counters, histograms, named counters and gauges,
 * label escaping, re-init, and the exposition passing `promtool check metrics`. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "atrium.h"

static const char *two_routes(size_t idx, const char **method)
{
    static const char *const patterns[] = {"/a", "/b/{id:int}"};
    static const char *const methods[] = {"GET", "POST"};
    *method = methods[idx];
    return patterns[idx];
}

static const char *weird_route(size_t idx, const char **method)
{
    *method = "GET";
    return "/we\"ird\\path\n";
}

static void setup(void)
{
    metrics_init(2, two_routes);
}

static void teardown(void)
{
    metrics_cleanup();
}

TestSuite(metrics, .init = setup, .fini = teardown);

/* The exposition, as a NUL-terminated string the test frees. */
static char *render(void)
{
    size_t len = 0;
    char *text = metrics_render(&len);
    cr_assert_not_null(text);
    cr_assert_eq(strlen(text), len);
    cr_assert(len > 0 && text[len - 1] == '\n', "exposition must end with a newline");
    return text;
}

/* Number of whole lines of text equal to line. */
static int count_line(const char *text, const char *line)
{
    int n = 0;
    size_t len = strlen(line);
    for (const char *p = text; (p = strstr(p, line)); p += len)
        if ((p == text || p[-1] == '\n') && p[len] == '\n')
            n++;
    return n;
}

#define expect_line(text, line) \
    cr_expect_eq(count_line(text, line), 1, "missing line: %s\n--- exposition:\n%s", line, text)

Test(metrics, request_counters)
{
    metrics_request(0, 200, 500);
    metrics_request(0, 200, 700);
    metrics_request(0, 404, 1500);
    metrics_request(1, 201, 3000);
    metrics_request(1, 418, 10);                  /* not in the table: "other" */
    metrics_request(2, 404, 10);                  /* nroutes: unmatched */
    metrics_request(99, 404, 10);                 /* out of range: unmatched */
    char *t = render();
    expect_line(t, "atrium_http_requests_total{route=\"/a\",method=\"GET\",status=\"200\"} 2");
    expect_line(t, "atrium_http_requests_total{route=\"/a\",method=\"GET\",status=\"404\"} 1");
    expect_line(t, "atrium_http_requests_total{route=\"/b/{id:int}\",method=\"POST\",status=\"201\"} 1");
    expect_line(t, "atrium_http_requests_total{route=\"/b/{id:int}\",method=\"POST\",status=\"other\"} 1");
    expect_line(t, "atrium_http_requests_total{route=\"unmatched\",method=\"*\",status=\"404\"} 2");
    cr_expect_null(strstr(t, "status=\"500\""), "statuses never seen are not rendered");
    expect_line(t, "# TYPE atrium_http_requests_total counter");
    expect_line(t, "atrium_up 1");
    expect_line(t, "atrium_build_info{version=\"" ATRIUM_VERSION "\"} 1");
    free(t);
}

Test(metrics, histogram_is_cumulative)
{
    static const uint64_t durations[] = {500, 700, 1000, 1500, 30000, 800000, 10000000};
    const size_t n = sizeof durations / sizeof durations[0];
    for (size_t i = 0; i < n; i++)
        metrics_request(0, 200, durations[i]);
    char *t = render();
    /* 1000 us is exactly the 0.001 bound: le is inclusive. */
    expect_line(t, "atrium_http_request_duration_seconds_bucket{route=\"/a\",method=\"GET\",le=\"0.001\"} 3");
    expect_line(t, "atrium_http_request_duration_seconds_bucket{route=\"/a\",method=\"GET\",le=\"0.0025\"} 4");
    expect_line(t, "atrium_http_request_duration_seconds_bucket{route=\"/a\",method=\"GET\",le=\"0.05\"} 5");
    expect_line(t, "atrium_http_request_duration_seconds_bucket{route=\"/a\",method=\"GET\",le=\"1\"} 6");
    expect_line(t, "atrium_http_request_duration_seconds_bucket{route=\"/a\",method=\"GET\",le=\"5\"} 6");
    expect_line(t, "atrium_http_request_duration_seconds_bucket{route=\"/a\",method=\"GET\",le=\"+Inf\"} 7");
    expect_line(t, "atrium_http_request_duration_seconds_count{route=\"/a\",method=\"GET\"} 7");
    expect_line(t, "atrium_http_request_duration_seconds_sum{route=\"/a\",method=\"GET\"} 10.8337");
    expect_line(t, "# TYPE atrium_http_request_duration_seconds histogram");

    /* Every bucket line of /a, in order: non-decreasing, 13 of them, last == count. */
    const char *prefix = "atrium_http_request_duration_seconds_bucket{route=\"/a\",method=\"GET\",le=\"";
    unsigned long long prev = 0, v = 0;
    int buckets = 0;
    for (const char *p = t; (p = strstr(p, prefix)); p++) {
        const char *sp = strchr(p, ' ');
        cr_assert_not_null(sp);
        v = strtoull(sp + 1, NULL, 10);
        cr_expect_geq(v, prev, "bucket counts must be cumulative");
        prev = v;
        buckets++;
    }
    cr_expect_eq(buckets, 13);
    cr_expect_eq(v, n);
    cr_expect_null(strstr(t, "route=\"/b/{id:int}\",method=\"POST\",le="), "idle routes have no histogram");
    free(t);
}

Test(metrics, request_before_init_is_noop)
{
    metrics_cleanup();
    metrics_request(0, 200, 100);                 /* no state: must not crash */
    char *t = render();
    cr_expect_null(strstr(t, "atrium_http_requests_total{"));
    expect_line(t, "atrium_up 1");
    free(t);
    metrics_init(2, two_routes);                   /* re-init starts from zero */
    metrics_request(1, 204, 100);
    metrics_init(2, two_routes);                   /* and init over init replaces */
    metrics_request(1, 204, 100);
    t = render();
    expect_line(t, "atrium_http_requests_total{route=\"/b/{id:int}\",method=\"POST\",status=\"204\"} 1");
    free(t);
}

Test(metrics, label_values_are_escaped)
{
    metrics_cleanup();
    metrics_init(1, weird_route);
    metrics_request(0, 200, 100);
    metrics_count("auth_failures", "a\"b\\c\nd", 1);
    char *t = render();
    expect_line(t, "atrium_http_requests_total{route=\"/we\\\"ird\\\\path\\n\",method=\"GET\",status=\"200\"} 1");
    expect_line(t, "atrium_auth_failures_total{reason=\"a\\\"b\\\\c\\nd\"} 1");
    free(t);
}

Test(metrics, named_counters_and_label_keys)
{
    metrics_count("auth_failures", "bad_password", 1);
    metrics_count("orders", "shop", 2);
    metrics_count("auth_failures", "totp_invalid", 1);    /* same family, registered later */
    metrics_count("auth_failures", "bad_password", 2);
    metrics_count("rate_limited", "ip", 1);
    metrics_count("job_runs", "backup", 1);
    metrics_count("job_failures", "backup", 1);
    metrics_count("payment_failures", "stripe", 1);
    metrics_count("payments", "stripe", 1);
    metrics_count("refunds", "shop", 1);
    metrics_count("widgets", "blue", 5);
    metrics_count("restarts", NULL, 4);
    metrics_db_time(1500000);
    metrics_db_time(500000);
    char *t = render();
    expect_line(t, "atrium_auth_failures_total{reason=\"bad_password\"} 3");
    expect_line(t, "atrium_auth_failures_total{reason=\"totp_invalid\"} 1");
    expect_line(t, "atrium_orders_total{app=\"shop\"} 2");
    expect_line(t, "atrium_rate_limited_total{scope=\"ip\"} 1");
    expect_line(t, "atrium_job_runs_total{job=\"backup\"} 1");
    expect_line(t, "atrium_job_failures_total{job=\"backup\"} 1");
    expect_line(t, "atrium_payment_failures_total{provider=\"stripe\"} 1");
    expect_line(t, "atrium_payments_total{provider=\"stripe\"} 1");
    expect_line(t, "atrium_refunds_total{app=\"shop\"} 1");
    expect_line(t, "atrium_widgets_total{kind=\"blue\"} 5");
    expect_line(t, "atrium_restarts_total 4");
    expect_line(t, "atrium_db_time_seconds_total 2");
    expect_line(t, "# TYPE atrium_auth_failures_total counter");
    expect_line(t, "# HELP atrium_auth_failures_total Failed authentication attempts by reason.");
    /* The family's samples follow its TYPE line together. */
    const char *type = strstr(t, "# TYPE atrium_auth_failures_total counter\n");
    cr_assert_not_null(type);
    const char *s1 = strchr(type, '\n') + 1, *s2 = strchr(s1, '\n') + 1;
    cr_expect_eq(strncmp(s1, "atrium_auth_failures_total{", 27), 0);
    cr_expect_eq(strncmp(s2, "atrium_auth_failures_total{", 27), 0);
    free(t);
}

Test(metrics, gauges)
{
    metrics_gauge("realtime_subscribers", 3);
    metrics_gauge("realtime_subscribers", 7);
    metrics_gauge("outbox_backlog", 0);
    metrics_gauge("ready", 1);
    metrics_gauge_f("disk_free_ratio", 0.25);
    metrics_gauge("up", 0);                       /* builtin families are not duplicated */
    metrics_count("http_requests", NULL, 1);
    char *t = render();
    expect_line(t, "atrium_realtime_subscribers 7");
    expect_line(t, "atrium_outbox_backlog 0");
    expect_line(t, "atrium_ready 1");
    expect_line(t, "atrium_disk_free_ratio 0.25");
    expect_line(t, "# TYPE atrium_disk_free_ratio gauge");
    expect_line(t, "# TYPE atrium_up gauge");
    expect_line(t, "atrium_up 1");
    expect_line(t, "# TYPE atrium_http_requests_total counter");
    cr_expect_null(strstr(t, "atrium_http_requests_total 1"));
    free(t);
}

Test(metrics, series_table_is_bounded)
{
    char label[32];
    for (int i = 0; i < 100; i++) {
        snprintf(label, sizeof label, "l%d", i);
        metrics_count("spam", label, 1);
    }
    char *t = render();
    expect_line(t, "atrium_spam_total{kind=\"l63\"} 1");
    cr_expect_null(strstr(t, "kind=\"l64\""), "the 65th pair is dropped");
    free(t);
}

#define NTHREADS 8
#define NREQ     10000

static void *hammer(void *arg)
{
    for (int i = 0; i < NREQ; i++) {
        metrics_request((size_t)i % 3, i % 2 ? 200 : 500, (uint64_t)i);
        metrics_count("job_runs", i % 2 ? "a" : "b", 1);
    }
    return NULL;
}

Test(metrics, concurrent_updates_are_exact)
{
    pthread_t th[NTHREADS];
    for (int i = 0; i < NTHREADS; i++)
        cr_assert_eq(pthread_create(&th[i], NULL, hammer, NULL), 0);
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(th[i], NULL);
    char *t = render();
    char line[256];
    snprintf(line, sizeof line, "atrium_job_runs_total{job=\"a\"} %d", NTHREADS * NREQ / 2);
    expect_line(t, line);
    snprintf(line, sizeof line, "atrium_job_runs_total{job=\"b\"} %d", NTHREADS * NREQ / 2);
    expect_line(t, line);
    int per_route = (NREQ / 3 + (NREQ % 3 > 0)) * NTHREADS;   /* i % 3 == 0: 3334 of 10000 */
    snprintf(line, sizeof line, "atrium_http_request_duration_seconds_count{route=\"/a\",method=\"GET\"} %d",
             per_route);
    expect_line(t, line);
    free(t);
}

Test(metrics, promtool_accepts_exposition)
{
    if (system("command -v promtool >/dev/null 2>&1") != 0)
        cr_assert_fail("promtool not found in PATH: install it (Debian: prometheus package) to run "
                       "this test; CI installs it");
    metrics_cleanup();
    metrics_init(2, two_routes);
    metrics_request(0, 200, 1200);
    metrics_request(0, 429, 50);
    metrics_request(1, 201, 80000);
    metrics_request(2, 404, 30);
    metrics_db_time(1234);
    metrics_count("auth_failures", "bad_password", 1);
    metrics_count("orders", "shop", 1);
    metrics_count("auth_failures", "we\"ird\\\n", 1);
    metrics_count("restarts", NULL, 1);
    metrics_gauge("outbox_backlog", 12);
    metrics_gauge_f("disk_free_ratio", 0.731);
    char *t = render();
    const char *tmpdir = getenv("TMPDIR");
    char path[512], cmd[600];
    snprintf(path, sizeof path, "%s/atrium-metrics-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    FILE *f = fdopen(fd, "w");
    cr_assert_not_null(f);
    fputs(t, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "promtool check metrics < '%s'", path);
    int rc = system(cmd);
    unlink(path);
    cr_expect(WIFEXITED(rc) && WEXITSTATUS(rc) == 0, "promtool check metrics failed (rc %d) on:\n%s", rc, t);
    free(t);
}
