/* reply.c -- how a handler answers: JSON bodies, the one error shape
 * ({"error": {code, message, details?}}), validation errors naming a field,
 * lists and pages. Every handler and most core modules call these; they
 * depend only on the request and the i18n lookup, never on the router. */
#include "atrium.h"
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

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
    /* 15 significant digits: a stored 40.704 comes back as 40.704, not
     * 40.704000000000001 (jansson's default is 17, every bit of the double). */
    r->resp_body = json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(15));
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
void reply_invalid_as_is(struct req *r, const char *field, const char *problem)
{
    char msg[512];
    /* TRANSLATORS: a field's name as the API spells it, then its problem: "quantity must be positive" */
    snprintf(msg, sizeof msg, tr(r, "%s %s"), field, problem);
    error_with_details(r, 400, "validation_failed", msg,
                       json_pack("[{s:s, s:s}]", "field", field, "problem", problem));
}

void reply_invalid(struct req *r, const char *field, const char *problem)
{
    reply_invalid_as_is(r, field, tr(r, problem));
}

void reply_invalidf(struct req *r, const char *field, const char *fmt, ...)
{
    char problem[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(problem, sizeof problem, tr(r, fmt), ap);
    va_end(ap);
    reply_invalid_as_is(r, field, problem);
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

