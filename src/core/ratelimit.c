/* ratelimit.c -- in-memory token buckets keyed by string (ratelimit.h).
 *
 * NSHARDS shards, each a chained hash table behind its own mutex; a key's shard
 * and slot come from one 64-bit hash (FNV-1a plus a murmur finaliser). The lock
 * is held for the lookup and the refill arithmetic only: allocations (a new
 * bucket, a first or bigger slot array) happen with the lock released and are
 * installed on the next acquisition, and swept buckets are freed after unlock.
 *
 * A bucket starts full (capacity tokens), refills at per_second tokens per
 * second of CLOCK_MONOTONIC time up to capacity, and each allowed call takes one
 * token. Buckets are swept lazily: when a shard grows past its sweep mark,
 * buckets that would be full by now are dropped (forgetting them is equivalent
 * to keeping them, since a new bucket starts full). */
#include "atrium.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define NSHARDS       64            /* power of two */
#define INITIAL_SLOTS 64            /* per shard, power of two */
#define SWEEP_MIN     1024          /* sweep a shard once it holds more buckets than this */
#define MAX_RETRY_S   86400         /* cap for Retry-After (rates without refill) */

struct bucket {
    struct bucket *next;
    uint64_t hash;
    double tokens;
    double last;                    /* CLOCK_MONOTONIC seconds of the last refill */
    double capacity, per_second;    /* the rate of the last take, for the sweep */
    char key[];
};

struct shard {
    pthread_mutex_t mu;
    struct bucket **slots;          /* NULL until the first bucket */
    size_t nslots, count;
    size_t sweep_at;                /* 0: SWEEP_MIN */
} __attribute__((aligned(64)));     /* one cache line each: no false sharing */

static struct shard shards[NSHARDS] = {[0 ... NSHARDS - 1] = {.mu = PTHREAD_MUTEX_INITIALIZER}};

static uint64_t key_hash(const char *key)
{
    uint64_t h = 0xcbf29ce484222325ULL;            /* FNV-1a 64 */
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        h ^= *p;
        h *= 0x100000001b3ULL;
    }
    h ^= h >> 33;                                   /* murmur3 fmix64: spread into low bits */
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t slot_of(uint64_t hash, size_t nslots)
{
    return (size_t)(hash >> 6) & (nslots - 1);      /* low 6 bits pick the shard */
}

static struct bucket *lookup(struct shard *s, uint64_t hash, const char *key)
{
    if (!s->slots)
        return NULL;
    for (struct bucket *b = s->slots[slot_of(hash, s->nslots)]; b; b = b->next)
        if (b->hash == hash && strcmp(b->key, key) == 0)
            return b;
    return NULL;
}

static bool would_be_full(const struct bucket *b, double now)
{
    double t = b->tokens;
    if (b->per_second > 0 && now > b->last)
        t += (now - b->last) * b->per_second;
    return t >= b->capacity;
}

/* Unlink every bucket that would be full now; returns them as a list to free
 * after unlocking. Called with the lock held. */
static struct bucket *sweep(struct shard *s, double now)
{
    struct bucket *garbage = NULL;
    for (size_t i = 0; i < s->nslots; i++) {
        struct bucket **pp = &s->slots[i];
        while (*pp) {
            struct bucket *b = *pp;
            if (would_be_full(b, now)) {
                *pp = b->next;
                b->next = garbage;
                garbage = b;
                s->count--;
            } else {
                pp = &b->next;
            }
        }
    }
    s->sweep_at = s->count * 2 > SWEEP_MIN ? s->count * 2 : SWEEP_MIN;
    return garbage;
}

static void free_chain(struct bucket *b)
{
    while (b) {
        struct bucket *next = b->next;
        free(b);
        b = next;
    }
}

/* Rehash shard s into `want` slots, allocated outside the lock. */
static void shard_grow(struct shard *s, size_t want)
{
    struct bucket **table = xcalloc(want, sizeof *table), **old = NULL;
    pthread_mutex_lock(&s->mu);
    if (s->slots && s->nslots < want) {
        for (size_t i = 0; i < s->nslots; i++) {
            struct bucket *b = s->slots[i];
            while (b) {
                struct bucket *next = b->next;
                size_t j = slot_of(b->hash, want);
                b->next = table[j];
                table[j] = b;
                b = next;
            }
        }
        old = s->slots;
        s->slots = table;
        s->nslots = want;
        table = NULL;
    }
    pthread_mutex_unlock(&s->mu);
    free(table);
    free(old);
}

/* Refill b at `rate` up to capacity and take one token. On refusal sets *wait
 * to the seconds until one token is available (INFINITY without refill). */
static bool bucket_take(struct bucket *b, const struct rate *rate, double now, double *wait)
{
    if (now > b->last) {
        if (rate->per_second > 0)
            b->tokens += (now - b->last) * rate->per_second;
        b->last = now;
    }
    if (b->tokens > rate->capacity)
        b->tokens = rate->capacity;
    b->capacity = rate->capacity;
    b->per_second = rate->per_second;
    if (b->tokens >= 1) {
        b->tokens -= 1;
        return true;
    }
    *wait = rate->per_second > 0 ? (1 - b->tokens) / rate->per_second : INFINITY;
    return false;
}

/* Whole seconds for a header: at least min, at most MAX_RETRY_S. */
static int whole_seconds(double s, int min)
{
    double w = ceil(s - 1e-9);                      /* 10/minute: 1/(1/6) is 6, not 6.0000001 */
    if (!(w >= min))
        w = min;
    if (w > MAX_RETRY_S)
        w = MAX_RETRY_S;
    return (int)w;
}

bool ratelimit_take(const char *key, const struct rate *rate, int *retry_after_s)
{
    struct ratelimit_state st;
    bool allowed = ratelimit_take_state(key, rate, &st);
    if (!allowed && retry_after_s)
        *retry_after_s = st.retry_after_s;
    return allowed;
}

bool ratelimit_take_state(const char *key, const struct rate *rate, struct ratelimit_state *st)
{
    memset(st, 0, sizeof *st);
    if (!rate || !(rate->capacity > 0))
        return true;                                /* unlimited */
    if (!key)
        key = "";
    uint64_t hash = key_hash(key);
    struct shard *s = &shards[hash & (NSHARDS - 1)];
    double now = now_s(), wait = 0;
    struct bucket *fresh = NULL, *garbage = NULL, *b;
    struct bucket **table = NULL;
    size_t grow_to = 0;
    bool allowed;

    for (;;) {
        pthread_mutex_lock(&s->mu);
        b = lookup(s, hash, key);
        if (b || (fresh && (s->slots || table)))
            break;
        /* A new key: allocate its bucket (and the shard's first table) unlocked. */
        bool want_table = !s->slots;
        pthread_mutex_unlock(&s->mu);
        if (!fresh) {
            size_t klen = strlen(key) + 1;
            fresh = xmalloc(sizeof *fresh + klen);
            memcpy(fresh->key, key, klen);
            fresh->hash = hash;
        }
        if (want_table && !table)
            table = xcalloc(INITIAL_SLOTS, sizeof *table);
    }
    if (!b) {
        if (!s->slots) {
            s->slots = table;
            s->nslots = INITIAL_SLOTS;
            table = NULL;
        }
        if (s->count >= (s->sweep_at ? s->sweep_at : SWEEP_MIN))
            garbage = sweep(s, now);
        b = fresh;
        fresh = NULL;
        b->tokens = rate->capacity;                 /* a new bucket starts full */
        b->last = now;
        size_t i = slot_of(hash, s->nslots);
        b->next = s->slots[i];
        s->slots[i] = b;
        s->count++;
        if (s->count > s->nslots)
            grow_to = s->nslots * 2;
    }
    allowed = bucket_take(b, rate, now, &wait);
    double left = b->tokens;
    pthread_mutex_unlock(&s->mu);

    free(fresh);
    free(table);
    free_chain(garbage);
    if (grow_to)
        shard_grow(s, grow_to);
    st->limit = (long)rate->capacity;
    st->remaining = left >= 1 ? (long)floor(left) : 0;
    st->reset_s = rate->per_second > 0 ? whole_seconds((rate->capacity - left) / rate->per_second, 0) : MAX_RETRY_S;
    if (!allowed)
        st->retry_after_s = whole_seconds(wait, 1);
    return allowed;
}

void ratelimit_reset(void)
{
    for (size_t i = 0; i < NSHARDS; i++) {
        struct shard *s = &shards[i];
        pthread_mutex_lock(&s->mu);
        struct bucket **slots = s->slots;
        size_t nslots = s->nslots;
        s->slots = NULL;
        s->nslots = s->count = s->sweep_at = 0;
        pthread_mutex_unlock(&s->mu);
        for (size_t j = 0; j < nslots; j++)
            free_chain(slots[j]);
        free(slots);
    }
}

/* The shard mutexes are statically initialised, so init only starts clean;
 * ratelimit_take() works before it too. */
void ratelimit_init(void)
{
    ratelimit_reset();
}

void ratelimit_cleanup(void)
{
    ratelimit_reset();
}
