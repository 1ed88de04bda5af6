/* router.c -- the route table every app feeds (http_register_routes), route
 * matching with typed parameters (replies are in reply.c, request readers in
 * request.c). Matching is a scan over pre-split patterns: ~100 routes cost well under
 * a microsecond, and the table stays the single place where a route's method,
 * permission and flags are visible. */
#include "atrium.h"
#include "internal.h"
#include <stdlib.h>
#include <string.h>

#define MAX_SEGS 12

enum seg_kind { SEG_LIT, SEG_TEXT, SEG_INT, SEG_UUID };

struct compiled {
    const struct route *route;
    int nsegs;
    struct { enum seg_kind kind; const char *lit; size_t len; } seg[MAX_SEGS];
};

static const struct route **table;
static size_t ntable, cap;
static struct compiled *compiled;

void http_register_routes(const struct route *routes)
{
    for (const struct route *r = routes; r && r->method; r++) {
        if (ntable == cap) {
            cap = cap ? cap * 2 : 64;
            table = xrealloc(table, cap * sizeof *table);
        }
        table[ntable++] = r;
    }
}

/* The table by value. Made again only when routes were added, so once the
 * server runs (router_freeze) every caller, on any thread, shares one copy:
 * openapi.c reads it while tests may too. */
static struct route *flat;
static size_t nflat;

static void flatten(void)
{
    free(flat);
    flat = xcalloc(ntable + 1, sizeof *flat);
    for (size_t i = 0; i < ntable; i++) flat[i] = *table[i];
    nflat = ntable;
}

const struct route *http_routes(size_t *n)
{
    if (!flat || nflat != ntable) flatten();
    *n = nflat;
    return flat;
}

size_t router_count(void) { return ntable; }

static const char *route_label(size_t idx, const char **method)
{
    if (idx >= ntable) {
        *method = "*";
        return "unmatched";
    }
    *method = table[idx]->method;
    return table[idx]->pattern;
}

static void compile(struct compiled *c, const struct route *r)
{
    c->route = r;
    c->nsegs = 0;
    for (const char *p = r->pattern; *p == '/' && c->nsegs < MAX_SEGS;) {
        const char *start = ++p, *end = strchr(start, '/');
        size_t len = end ? (size_t)(end - start) : strlen(start);
        int i = c->nsegs++;
        c->seg[i].lit = start;
        c->seg[i].len = len;
        c->seg[i].kind = SEG_LIT;
        if (len > 2 && start[0] == '{') {
            const char *colon = memchr(start, ':', len);
            c->seg[i].kind = !colon ? SEG_TEXT : !strncmp(colon, ":int}", 5) ? SEG_INT
                           : !strncmp(colon, ":uuid}", 6) ? SEG_UUID : SEG_TEXT;
        }
        p = start + len;
    }
}

void router_freeze(void)
{
    free(compiled);
    compiled = xcalloc(ntable ? ntable : 1, sizeof *compiled);
    for (size_t i = 0; i < ntable; i++) compile(&compiled[i], table[i]);
    flatten();
    metrics_init(ntable, route_label);
}

void router_reset(void)
{
    free(table);
    free(compiled);
    free(flat);
    table = NULL;
    compiled = NULL;
    flat = NULL;
    ntable = cap = nflat = 0;
}

static bool is_uuid(const char *s, size_t n)
{
    if (n != 36) return false;
    for (size_t i = 0; i < n; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        char c = s[i];
        if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    }
    return true;
}

/* Does path match c? Fills params into r when it does. */
static bool match_one(const struct compiled *c, struct req *r, char segs[][256], size_t *lens, int nsegs)
{
    if (nsegs != c->nsegs) return false;
    int np = 0;
    for (int i = 0; i < nsegs; i++) {
        switch (c->seg[i].kind) {
        case SEG_LIT:
            if (lens[i] != c->seg[i].len || memcmp(segs[i], c->seg[i].lit, lens[i])) return false;
            break;
        case SEG_INT: {
            if (!lens[i] || lens[i] > 18) return false;
            int64_t v = 0;
            for (size_t k = 0; k < lens[i]; k++) {
                if (segs[i][k] < '0' || segs[i][k] > '9') return false;
                v = v * 10 + (segs[i][k] - '0');
            }
            if (v <= 0) return false;
            if (np < REQ_MAX_PARAMS) r->param_int[np] = v;
        } /* fall through: keep the text too */
        /* FALLTHROUGH */
        case SEG_UUID:
            if (c->seg[i].kind == SEG_UUID && !is_uuid(segs[i], lens[i])) return false;
        /* FALLTHROUGH */
        case SEG_TEXT:
            if (!lens[i]) return false;
            if (np < REQ_MAX_PARAMS) r->param[np] = pool_strdup(r->pool, segs[i]);
            np++;
            break;
        }
    }
    return true;
}

int router_match(struct req *r)
{
    char segs[MAX_SEGS][256];
    size_t lens[MAX_SEGS];
    int nsegs = 0;
    for (const char *p = r->path; *p == '/';) {
        const char *start = ++p, *end = strchr(start, '/');
        size_t len = end ? (size_t)(end - start) : strlen(start);
        if (nsegs == MAX_SEGS || len >= 256) {
            reply_not_found(r);
            return -1;
        }
        memcpy(segs[nsegs], start, len);
        segs[nsegs][len] = 0;
        lens[nsegs++] = len;
        p = start + len;
    }
    if (nsegs && !lens[nsegs - 1] && nsegs > 1) nsegs--;    /* trailing slash */
    unsigned allowed = 0;
    for (size_t i = 0; i < ntable; i++) {
        if (!match_one(&compiled[i], r, segs, lens, nsegs)) continue;
        int m = !strcmp(table[i]->method, "GET") ? HTTP_GET : !strcmp(table[i]->method, "POST") ? HTTP_POST
              : !strcmp(table[i]->method, "PUT") ? HTTP_PUT : !strcmp(table[i]->method, "PATCH") ? HTTP_PATCH
              : HTTP_DELETE;
        if (m == r->method || (m == HTTP_GET && r->method == HTTP_HEAD)) {
            r->route = table[i];
            r->route_index = (int)i;
            return 0;
        }
        allowed |= (unsigned)m;
    }
    if (!allowed) {
        reply_error(r, 404, "not_found", "no route for %s", r->path);
        return -1;
    }
    char allow[64] = "";
    const char *names[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};
    for (int b = 0; b < 5; b++)
        if (allowed & (1u << b)) snprintf(allow + strlen(allow), sizeof allow - strlen(allow), "%s%s", *allow ? ", " : "", names[b]);
    reply_header(r, "Allow", allow);
    reply_error(r, 405, "method_not_allowed", "method not allowed; allowed: %s", allow);
    return -1;
}
