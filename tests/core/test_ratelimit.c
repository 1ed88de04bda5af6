/* test_ratelimit.c -- token buckets: capacity, Retry-After, keys, unlimited,
 * reset, refill, sweep/growth and concurrent takes on one key. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "atrium.h"

static void setup(void)
{
    ratelimit_init();
}

static void teardown(void)
{
    ratelimit_cleanup();
}

TestSuite(ratelimit, .init = setup, .fini = teardown);

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

Test(ratelimit, capacity_then_refuse)
{
    struct rate r = {3, 3.0 / 3600};             /* 3/hour */
    int retry = -1;
    for (int i = 0; i < 3; i++)
        cr_assert(ratelimit_take("ip:1.2.3.4", &r, &retry), "take %d should be allowed", i + 1);
    cr_assert_eq(retry, -1, "retry_after must not be touched when allowed");
    cr_assert_not(ratelimit_take("ip:1.2.3.4", &r, &retry));
    cr_assert_geq(retry, 1);
    cr_assert_eq(retry, 1200, "3/hour refills one token every 1200 s, got %d", retry);
    cr_assert_not(ratelimit_take("ip:1.2.3.4", &r, NULL), "a NULL retry pointer is allowed");
}

Test(ratelimit, login_rate_retry_after)
{
    struct rate r = {10, 10.0 / 60};             /* 10/minute */
    int retry = 0;
    for (int i = 0; i < 10; i++)
        cr_assert(ratelimit_take("login-ip:10.0.0.1", &r, &retry));
    cr_assert_not(ratelimit_take("login-ip:10.0.0.1", &r, &retry));
    cr_assert_eq(retry, 6, "10/minute -> one token per 6 s, got %d", retry);
}

Test(ratelimit, retry_after_at_least_one)
{
    struct rate r = {1, 10};                     /* a token every 100 ms */
    int retry = 0;
    cr_assert(ratelimit_take("user:1", &r, &retry));
    cr_assert_not(ratelimit_take("user:1", &r, &retry));
    cr_assert_eq(retry, 1);
}

Test(ratelimit, no_refill_is_capped)
{
    struct rate r = {1, 0};
    int retry = 0;
    cr_assert(ratelimit_take("user:2", &r, &retry));
    cr_assert_not(ratelimit_take("user:2", &r, &retry));
    cr_assert_geq(retry, 1);
    cr_assert_leq(retry, 86400);
}

Test(ratelimit, keys_are_independent)
{
    struct rate r = {2, 1.0 / 3600};
    int retry;
    cr_assert(ratelimit_take("ip:a", &r, &retry));
    cr_assert(ratelimit_take("ip:a", &r, &retry));
    cr_assert_not(ratelimit_take("ip:a", &r, &retry));
    cr_assert(ratelimit_take("ip:b", &r, &retry));
    cr_assert(ratelimit_take("ip:b", &r, &retry));
    cr_assert_not(ratelimit_take("ip:b", &r, &retry));
    cr_assert(ratelimit_take("login-user:a", &r, &retry));
}

Test(ratelimit, unlimited)
{
    struct rate zero = {0, 0}, negative = {-1, 5};
    int retry = 0;
    for (int i = 0; i < 10000; i++) {
        cr_assert(ratelimit_take("ip:unlimited", &zero, &retry));
        cr_assert(ratelimit_take("ip:unlimited", &negative, &retry));
    }
    cr_assert(ratelimit_take("ip:unlimited", NULL, &retry));
    cr_assert_eq(retry, 0);
}

Test(ratelimit, reset_forgets_buckets)
{
    struct rate r = {1, 1.0 / 3600};
    int retry;
    cr_assert(ratelimit_take("ip:r", &r, &retry));
    cr_assert_not(ratelimit_take("ip:r", &r, &retry));
    ratelimit_reset();
    cr_assert(ratelimit_take("ip:r", &r, &retry), "a reset bucket starts full");
    cr_assert_not(ratelimit_take("ip:r", &r, &retry));
}

Test(ratelimit, refills_over_time)
{
    struct rate r = {1, 20};                     /* a token every 50 ms */
    int retry;
    cr_assert(ratelimit_take("ip:refill", &r, &retry));
    cr_assert_not(ratelimit_take("ip:refill", &r, &retry));
    sleep_ms(120);
    cr_assert(ratelimit_take("ip:refill", &r, &retry));
}

/* Many keys: shards grow and get swept; a bucket that is not full must survive
 * the sweep, and every slow bucket must still be found after the rehashes. */
Test(ratelimit, many_keys_grow_and_sweep)
{
    struct rate slow = {1, 1e-6}, fast = {1, 1e9};
    char key[64];
    int retry;
    cr_assert(ratelimit_take("keep", &slow, &retry));
    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof key, "slow:%d", i);
        cr_assert(ratelimit_take(key, &slow, &retry));
    }
    for (int i = 0; i < 150000; i++) {            /* full again at once: swept */
        snprintf(key, sizeof key, "fast:%d", i);
        cr_assert(ratelimit_take(key, &fast, &retry));
    }
    cr_assert_not(ratelimit_take("keep", &slow, &retry), "an empty bucket must not be swept");
    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof key, "slow:%d", i);
        cr_assert_not(ratelimit_take(key, &slow, &retry), "slow:%d lost", i);
    }
}

#define NTHREADS 8
#define NTAKES   1000

struct worker {
    const char *key;
    struct rate rate;
    atomic_int *allowed;
};

static void *take_loop(void *arg)
{
    struct worker *w = arg;
    int retry;
    for (int i = 0; i < NTAKES; i++)
        if (ratelimit_take(w->key, &w->rate, &retry))
            atomic_fetch_add(w->allowed, 1);
    return NULL;
}

Test(ratelimit, concurrent_takes_one_key)
{
    atomic_int allowed = 0;
    struct worker w = {"ip:shared", {500, 1e-9}, &allowed};
    pthread_t th[NTHREADS];
    for (int i = 0; i < NTHREADS; i++)
        cr_assert_eq(pthread_create(&th[i], NULL, take_loop, &w), 0);
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(th[i], NULL);
    cr_assert_eq(atomic_load(&allowed), 500, "allowed %d of 8000 takes", atomic_load(&allowed));
}

Test(ratelimit, concurrent_takes_own_keys)
{
    atomic_int allowed[NTHREADS];
    struct worker w[NTHREADS];
    pthread_t th[NTHREADS];
    static const char *const keys[NTHREADS] = {"u:0", "u:1", "u:2", "u:3", "u:4", "u:5", "u:6", "u:7"};
    for (int i = 0; i < NTHREADS; i++) {
        atomic_init(&allowed[i], 0);
        w[i] = (struct worker){keys[i], {100, 1e-9}, &allowed[i]};
        cr_assert_eq(pthread_create(&th[i], NULL, take_loop, &w[i]), 0);
    }
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < NTHREADS; i++)
        cr_assert_eq(atomic_load(&allowed[i]), 100, "key %s allowed %d", keys[i], atomic_load(&allowed[i]));
}
