/* csv.c -- CSV answers (RFC 4180) for reports and exports: an incremental
 * writer, rows from JSON objects, the json/csv choice of a request, and the
 * attachment reply.
 *
 * Quoting: a field holding a comma, a double quote, CR or LF is enclosed in
 * double quotes, its quotes doubled; every row (the header too) ends with
 * CRLF. Formula injection: a text field starting with = + - @ TAB or CR would
 * be run as a formula by a spreadsheet, so it gets a leading ' (OWASP's
 * advice); numbers are written as they are, so a negative amount stays a
 * number. No byte-order mark: the Content-Type names UTF-8. */
#include "atrium.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void put(struct csv *c, const char *s, size_t n)
{
    if (c->len + n + 1 > c->cap) {
        size_t cap = c->cap ? c->cap : 256;
        while (c->len + n + 1 > cap) cap *= 2;
        c->buf = xrealloc(c->buf, cap);
        c->cap = cap;
    }
    memcpy(c->buf + c->len, s, n);
    c->len += n;
    c->buf[c->len] = 0;
}

/* The separator before every field but a row's first. */
static void field_start(struct csv *c)
{
    if (c->fields++) put(c, ",", 1);
}

/* One field: guard (a leading ') then the text, quoted when it must be. */
static void field(struct csv *c, const char *s, bool guard)
{
    field_start(c);
    bool quote = strpbrk(s, ",\"\r\n") != NULL;
    if (quote) put(c, "\"", 1);
    if (guard && *s && strchr("=+-@\t\r", *s)) put(c, "'", 1);
    for (const char *q; (q = strchr(s, '"')); s = q + 1) {
        put(c, s, (size_t)(q - s) + 1);
        put(c, "\"", 1);
    }
    put(c, s, strlen(s));
    if (quote) put(c, "\"", 1);
}

/* -?digits[.digits][(e|E)[+-]digits]: what csv_num() writes unguarded. */
static bool is_number(const char *s)
{
    if (*s == '-') s++;
    if (*s < '0' || *s > '9') return false;
    while (*s >= '0' && *s <= '9') s++;
    if (*s == '.') {
        s++;
        if (*s < '0' || *s > '9') return false;
        while (*s >= '0' && *s <= '9') s++;
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-') s++;
        if (*s < '0' || *s > '9') return false;
        while (*s >= '0' && *s <= '9') s++;
    }
    return !*s;
}

void csv_text(struct csv *c, const char *s)
{
    field(c, s ? s : "", true);
}

void csv_int(struct csv *c, int64_t v)
{
    char n[24];
    snprintf(n, sizeof n, "%lld", (long long)v);
    field(c, n, false);
}

void csv_num(struct csv *c, const char *number)
{
    if (number && is_number(number)) field(c, number, false);
    else csv_text(c, number);
}

void csv_end_row(struct csv *c)
{
    put(c, "\r\n", 2);
    c->fields = 0;
}

void csv_header(struct csv *c, const char *const *names)
{
    for (; *names; names++) csv_text(c, *names);
    csv_end_row(c);
}

/* A JSON value as its field: text guarded, numbers as the JSON answer spells
 * them (jansson, 15 significant digits as reply_json), booleans true/false,
 * null empty, arrays and objects as their compact JSON text. */
static void json_field(struct csv *c, json_t *v)
{
    if (json_is_string(v)) {
        csv_text(c, json_string_value(v));
    } else if (json_is_integer(v)) {
        csv_int(c, json_integer_value(v));
    } else if (json_is_real(v) || json_is_boolean(v)) {
        char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
        field(c, s ? s : "", false);
        free(s);
    } else if (json_is_object(v) || json_is_array(v)) {
        char *s = json_dumps(v, JSON_COMPACT);
        csv_text(c, s);
        free(s);
    } else {
        field(c, "", false);
    }
}

void csv_fields_json(struct csv *c, json_t *obj, const char *const *keys)
{
    for (; *keys; keys++) json_field(c, json_object_get(obj, *keys));
}

void csv_from_json(struct csv *c, json_t *rows, const char *const *keys)
{
    size_t i;
    json_t *row;
    csv_header(c, keys);
    json_array_foreach(rows, i, row) {
        csv_fields_json(c, row, keys);
        csv_end_row(c);
    }
}

void csv_free(struct csv *c)
{
    free(c->buf);
    *c = (struct csv){0};
}

/* ------------------------------------------------------------ the answer */

int req_format_csv(struct req *r)
{
    const char *f = req_query(r, "format"), *accept;
    if (f) {
        if (!strcmp(f, "csv")) return 1;
        if (!strcmp(f, "json")) return 0;
        reply_invalid(r, "format", "must be json or csv");
        return -1;
    }
    accept = req_header(r, "Accept");
    return accept && strcasestr(accept, "text/csv") ? 1 : 0;
}

void reply_csv(struct req *r, const char *filename, struct csv *c)
{
    /* only [A-Za-z0-9._-] in the file name: nothing can break out of the
     * quoted header value (quotes, CR, LF) or name a path */
    char name[128], disposition[160];
    size_t n = 0;
    for (const char *p = filename && *filename ? filename : "export.csv"; *p && n < sizeof name - 1; p++) {
        bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                  *p == '.' || *p == '-' || *p == '_';
        name[n++] = ok ? *p : '_';
    }
    name[n] = 0;
    snprintf(disposition, sizeof disposition, "attachment; filename=\"%s\"", name);
    free(r->resp_body);
    r->resp_body = c->buf ? c->buf : xstrdup("");
    r->resp_len = c->len;
    r->resp_type = "text/csv; charset=utf-8";
    r->status = 200;
    *c = (struct csv){0};
    reply_header(r, "Content-Disposition", disposition);
}
