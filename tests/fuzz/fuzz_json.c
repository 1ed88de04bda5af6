/* libFuzzer harness: JSON bodies through the strict validation handlers use
 * (jansson parse, json_unpack_ex with JSON_STRICT, and our translation of its
 * errors into {field, problem}). Invariant: either the body unpacks, or the
 * reply is a 400 whose JSON has error.details[0].field. */
#include "atrium.h"
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char err[256];
    setenv("ATRIUM_LOG_LEVEL", "error", 1);
    return config_load(NULL, err, sizeof err) < 0 ? (abort(), 0) : 0;
}

static void check_reply(struct req *r, int rc)
{
    if (rc == 0) {
        if (r->status) abort();
        return;
    }
    if (r->status != 400) abort();
    json_t *body = json_loadb(r->resp_body, r->resp_len, 0, NULL);
    json_t *error = json_object_get(body, "error");
    if (!json_is_string(json_object_get(error, "code"))) abort();
    json_t *detail = json_array_get(json_object_get(error, "details"), 0);
    if (detail && !json_is_string(json_object_get(detail, "field"))) abort();
    json_decref(body);
    free(r->resp_body);
    r->resp_body = NULL;
    r->status = 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    json_error_t e;
    json_t *body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &e);
    if (!body) return 0;
    struct req r = {0};
    r.pool = pool_new();
    r.body = json_is_object(body) ? body : NULL;
    const char *s1, *s2, *s3 = NULL;
    json_int_t i1;
    json_t *o1;
    int q;
    check_reply(&r, req_unpack(&r, "{s:s, s:s, s?s}", "username", &s1, "password", &s2, "totp_code", &s3));
    check_reply(&r, req_unpack(&r, "{s:I, s:o, s:s}", "store_id", &i1, "items", &o1, "pickup_time", &s1));
    check_reply(&r, req_unpack(&r, "{s:s, s:i}", "name", &s1, "quantity", &q));
    check_reply(&r, req_unpack_loose(&r, "{s?s, s?s}", "status", &s1, "email", &s2));
    json_decref(body);
    pool_free(r.pool);
    return 0;
}
