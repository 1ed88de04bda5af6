/* router.c -- the route table every app feeds (http_register_routes), route
 * matching with typed parameters, and the reply/validation helpers handlers
 * use. Matching is a scan over pre-split patterns: ~100 routes cost well under
 * a microsecond, and the table stays the single place where a route's method,
 * permission and flags are visible. */
#include "atrium.h"
#include "internal.h"
#include <math.h>
#include <stdarg.h>
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

const struct route *http_routes(size_t *n)
{
    static struct route *flat;
    free(flat);
    flat = xcalloc(ntable + 1, sizeof *flat);
    for (size_t i = 0; i < ntable; i++) flat[i] = *table[i];
    *n = ntable;
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
    metrics_init(ntable, route_label);
}

void router_reset(void)
{
    free(table);
    free(compiled);
    table = NULL;
    compiled = NULL;
    ntable = cap = 0;
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

/* ---------------------------------------------------------------- replies */

void reply_raw(struct req *r, int status, const char *content_type, const void *data, size_t len)
{
    free(r->resp_body);
    r->resp_body = xmalloc(len + 1);
    memcpy(r->resp_body, data, len);
    r->resp_body[len] = 0;
    r->resp_len = len;
    r->resp_type = content_type;
    r->status = status;
}

void reply_json(struct req *r, int status, json_t *body)
{
    free(r->resp_body);
    r->resp_body = json_dumps(body, JSON_COMPACT);
    r->resp_len = r->resp_body ? strlen(r->resp_body) : 0;
    r->resp_type = "application/json; charset=utf-8";
    r->status = status;
    json_decref(body);
}

void reply_header(struct req *r, const char *name, const char *value)
{
    if (!r->resp_headers) r->resp_headers = json_object();
    json_object_set_new(r->resp_headers, name, json_string(value));
}

static void error_with_details(struct req *r, int status, const char *code, const char *msg, json_t *details)
{
    json_t *err = json_pack("{s:s, s:s}", "code", code, "message", msg);
    if (details) json_object_set_new(err, "details", details);
    reply_json(r, status, json_pack("{s:o}", "error", err));
}

/* The format is the msgid: translated first, then formatted (make po keeps
 * the translations' conversions identical, msgfmt --check enforces it). */
void reply_error(struct req *r, int status, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, tr(r, fmt), ap);
    va_end(ap);
    error_with_details(r, status, code, msg, NULL);
}

/* problem is already in the caller's language (or not ours to translate). */
static void invalid_as_is(struct req *r, const char *field, const char *problem)
{
    char msg[512];
    /* TRANSLATORS: a field's name as the API spells it, then its problem: "quantity must be positive" */
    snprintf(msg, sizeof msg, tr(r, "%s %s"), field, problem);
    error_with_details(r, 400, "validation_failed", msg,
                       json_pack("[{s:s, s:s}]", "field", field, "problem", problem));
}

void reply_invalid(struct req *r, const char *field, const char *problem)
{
    invalid_as_is(r, field, tr(r, problem));
}

void reply_invalidf(struct req *r, const char *field, const char *fmt, ...)
{
    char problem[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(problem, sizeof problem, tr(r, fmt), ap);
    va_end(ap);
    invalid_as_is(r, field, problem);
}

void reply_list(struct req *r, json_t *items, const struct page *pg, int64_t total)
{
    reply_json(r, 200, json_pack("{s:o, s:I, s:I, s:I}", "items", items, "page", (json_int_t)pg->page,
                                 "page_size", (json_int_t)pg->size, "total", (json_int_t)total));
}

void reply_page_(struct req *r, const struct page *pg, const char *count_sql, const char *page_sql,
                 const struct db_arg *args)
{
    struct db_arg all[16];
    int n = 0;
    while (args[n].type && n < 13) {
        all[n] = args[n];
        n++;
    }
    all[n++] = DB_I(pg->size);
    all[n++] = DB_I(pg->offset);
    all[n] = (struct db_arg){0};
    int64_t total = 0;
    json_t *items = NULL;
    if (db_int_(r->db, &total, count_sql, args) != 1 || !(items = db_json_all_(r->db, page_sql, all))) {
        reply_db_error(r);
        return;
    }
    reply_list(r, items, pg, total);
}

/* ------------------------------------------------------------- validation */

/* jansson says "Object item not found: name" / "1 object item(s) left
 * unpacked: extra" / "Expected string, got integer"; turn that into a field
 * and a problem for the details array. */
static void reply_unpack_error(struct req *r, const json_error_t *err)
{
    const char *text = err->text, *p;
    char field[128] = "body";
    if ((p = strstr(text, "item not found: "))) {
        snprintf(field, sizeof field, "%s", p + 16);
        reply_invalid(r, field, "is required");
    } else if ((p = strstr(text, "left unpacked: "))) {
        snprintf(field, sizeof field, "%s", p + 15);
        field[strcspn(field, ",")] = 0;
        reply_invalid(r, field, "is not a known field");
    } else if (!strncmp(text, "Expected ", 9)) {
        reply_invalidf(r, field, "has the wrong type (%s)", text);   /* jansson's words stay English */
    } else {
        invalid_as_is(r, field, text);
    }
}

static int unpack(struct req *r, int flags, const char *fmt, va_list ap)
{
    json_error_t err;
    if (!r->body) {
        reply_error(r, 400, "invalid_json", "a JSON object body is required");
        return -1;
    }
    if (json_vunpack_ex(r->body, &err, flags, fmt, ap) == 0) return 0;
    reply_unpack_error(r, &err);
    return -1;
}

int req_unpack(struct req *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = unpack(r, JSON_STRICT, fmt, ap);
    va_end(ap);
    return rc;
}

int req_unpack_loose(struct req *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = unpack(r, 0, fmt, ap);
    va_end(ap);
    return rc;
}

int req_query_int(struct req *r, const char *name, int64_t dflt, int64_t *out)
{
    const char *v = req_query(r, name);
    if (!v) {
        *out = dflt;
        return 0;
    }
    char *end;
    long long n = strtoll(v, &end, 10);
    if (!*v || *end) {
        reply_invalid(r, name, "must be an integer");
        return -1;
    }
    *out = n;
    return 0;
}

int req_query_real(struct req *r, const char *name, double min, double max, bool open_min, double *out)
{
    const char *v = req_query(r, name);
    char *end;
    if (!v || !*v) {
        reply_invalid(r, name, "is required");
        return -1;
    }
    *out = strtod(v, &end);
    if (*end || !isfinite(*out)) {
        reply_invalid(r, name, "must be a number");
        return -1;
    }
    if (*out < min || *out > max || (open_min && *out == min)) {
        reply_invalidf(r, name, "must be %s %g and <= %g", open_min ? ">" : ">=", min, max);
        return -1;
    }
    return 0;
}

int req_page(struct req *r, struct page *pg)
{
    if (req_query_int(r, "page", 1, &pg->page) < 0 || req_query_int(r, "page_size", 50, &pg->size) < 0)
        return -1;
    if (pg->page < 1) {
        reply_invalid(r, "page", "must be >= 1");
        return -1;
    }
    if (pg->size < 1 || pg->size > 100) {
        reply_invalid(r, "page_size", "must be between 1 and 100");
        return -1;
    }
    pg->offset = (pg->page - 1) * pg->size;
    return 0;
}

/* ------------------------------------------------------------ body checks */

int req_no_fields(struct req *r)
{
    if (!r->body || !json_object_size(r->body)) return 0;
    reply_invalid(r, json_object_iter_key(json_object_iter(r->body)), "is not a known field");
    return -1;
}

int req_text(struct req *r, const char *field, const char *value, size_t max, bool required)
{
    if (!value) {
        if (!required) return 0;
        reply_invalid(r, field, "is required");
        return -1;
    }
    size_t chars = 0;
    bool blank = true;
    for (const char *s = value; *s; s++) {
        if (((unsigned char)*s & 0xC0) != 0x80) chars++;
        if (!strchr(" \t\r\n", *s)) blank = false;
    }
    if (blank) {
        reply_invalid(r, field, "must not be blank");
        return -1;
    }
    if (chars > max) {
        reply_invalidf(r, field, "must be at most %zu characters", max);
        return -1;
    }
    return 0;
}
