/* mem.c -- allocation wrappers that abort on out-of-memory, and the
 * per-request pool (a chain of blocks freed at once with the request). */
#include "atrium.h"
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static void oom(size_t n)
{
    fprintf(stderr, "atrium: out of memory allocating %zu bytes\n", n);
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) oom(n);
    return p;
}

void *xcalloc(size_t count, size_t n)
{
    void *p = calloc(count ? count : 1, n ? n : 1);
    if (!p) oom(count * n);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) oom(n);
    return q;
}

char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(xmalloc(n), s, n);
}

char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *out;
    va_start(ap, fmt);
    if (vasprintf(&out, fmt, ap) < 0) oom(0);
    va_end(ap);
    return out;
}

/* ------------------------------------------------------------------ pool */

#define POOL_BLOCK 4096

struct pool_block {
    struct pool_block *next;
    size_t used, size;
    max_align_t data[];
};

struct pool {
    struct pool_block *head;
};

struct pool *pool_new(void)
{
    return xcalloc(1, sizeof(struct pool));
}

void pool_free(struct pool *p)
{
    if (!p) return;
    for (struct pool_block *b = p->head, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    free(p);
}

void *pool_alloc(struct pool *p, size_t n)
{
    n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
    struct pool_block *b = p->head;
    if (!b || b->size - b->used < n) {
        size_t size = n > POOL_BLOCK ? n : POOL_BLOCK;
        b = xmalloc(sizeof(*b) + size);
        b->used = 0;
        b->size = size;
        b->next = p->head;
        p->head = b;
    }
    void *out = (char *)b->data + b->used;
    b->used += n;
    return memset(out, 0, n);
}

char *pool_strdup(struct pool *p, const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(pool_alloc(p, n), s, n);
}

char *pool_printf(struct pool *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *out = pool_alloc(p, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(out, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return out;
}
