/* call.c -- see call.h. */
#include "harness.h"
#include <stdarg.h>
#include <stdlib.h>

struct resp *api_as(const char *as, const char *method, const char *path, const char *body)
{
    char *tok = as ? test_token(as) : NULL;
    struct resp *r = api(method, path, tok, body);
    free(tok);
    return r;
}

struct resp *api_callf(const char *method, const char *as, const char *body, const char *fmt, ...)
{
    char path[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof path, fmt, ap);
    va_end(ap);
    return api_as(as, method, path, body);
}

struct resp *api_get(const char *path, const char *as)
{
    return api_as(as, "GET", path, NULL);
}

struct resp *api_post(const char *path, const char *as, const char *key, const char *fmt, ...)
{
    char body[8192], header[300];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    cr_assert_lt(n, (int)sizeof body, "POST %s: body too long", path);
    snprintf(header, sizeof header, "Idempotency-Key: %s", key ? key : "");
    const char *headers[] = {header, NULL};
    char *tok = as ? test_token(as) : NULL;
    struct resp *r = api_h("POST", path, tok, body, key ? headers : NULL);
    free(tok);
    return r;
}

struct resp *api_json(const char *method, const char *path, const char *token, json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    struct resp *r = api(method, path, token, text);
    free(text);
    json_decref(body);
    return r;
}

struct resp *api_login(const char *username, const char *password)
{
    return api_json("POST", "/api/v1/auth/login", NULL,
                    json_pack("{s:s, s:s}", "username", username, "password", password));
}

void resp_expect(struct resp *r, int status, const char *code)
{
    cr_assert_eq(r->status, status, "expected %d %s, got %d: %s", status, code ? code : "", r->status, r->body);
    if (code) cr_assert_str_eq(resp_error_code(r), code, "body: %s", r->body);
}

void resp_check(struct resp *r, int status, const char *code)
{
    resp_expect(r, status, code);
    resp_free(r);
}

const char *resp_error_str(struct resp *r, const char *key)
{
    const char *s = json_string_value(json_object_get(json_object_get(r->json, "error"), key));
    return s ? s : "";
}

const char *resp_error_field(struct resp *r)
{
    json_t *d = json_array_get(json_object_get(json_object_get(r->json, "error"), "details"), 0);
    const char *f = json_string_value(json_object_get(d, "field"));
    return f ? f : "";
}

const char *pathf(const char *fmt, long long id)
{
    static __thread char buf[8][200];
    static __thread unsigned k;
    char *out = buf[k++ % 8];
    snprintf(out, sizeof buf[0], fmt, id);
    return out;
}
