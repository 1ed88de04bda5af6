/* request.c -- how a handler reads its request: strict JSON bodies (unknown
 * or missing fields are a 400 naming the field), query parameters, pages and
 * common body checks. Each replies its own 400 and returns -1, so handlers
 * stay flat. */
#include "atrium.h"
#include "internal.h"
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

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
        reply_invalid_as_is(r, field, text);
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

int req_date(struct req *r, const char *field, const char *value, int64_t *days)
{
    if (date_parse(value, days)) return 0;
    reply_invalid(r, field, "must be a date YYYY-MM-DD");
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
