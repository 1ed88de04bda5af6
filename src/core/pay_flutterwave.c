/* pay_flutterwave.c -- the Flutterwave v3 adapter (payments.h).
 *
 * Environment (read at every call): ATRIUM_FLUTTERWAVE_SECRET_KEY (Bearer),
 * ATRIUM_FLUTTERWAVE_WEBHOOK_HASH (the dashboard's "secret hash", sent back in
 * the verif-hash header), ATRIUM_FLUTTERWAVE_BASE_URL (default
 * https://api.flutterwave.com). Amounts go out as major units written with
 * exactly two decimals ("1234.50"), spliced into the JSON text so no binary
 * float ever reaches the wire; they come back as JSON numbers and are rounded
 * to the nearest cent.
 *
 * Outcome mapping, for every call: transport failure, HTTP 5xx, 408, 429 or an
 * unreadable answer -> -1/PAY_ERROR (safe to retry); any other 4xx or
 * "status":"error" -> PAY_DECLINED with the provider's message; otherwise
 * data.status decides. Statuses this file does not know map to PAY_PENDING
 * (ask again later) rather than a final answer. provider_ref is data.id as
 * decimal text; only such ids are put into URLs. A refund's comments carry
 * our refund reference for the dashboard: Flutterwave does not deduplicate
 * refunds on it, so callers must not repeat a refund that already succeeded. */
#include "atrium.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FLW_TIMEOUT_S 15

static const char *env_or(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return v && *v ? v : dflt;
}

static void copy(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

static int fail(struct pay_result *out, enum pay_status st, const char *fmt, const char *arg)
{
    out->status = st;
    snprintf(out->message, sizeof out->message, fmt, arg ? arg : "");
    return st == PAY_ERROR ? -1 : 0;
}

static bool all_digits(const char *s)
{
    if (!s || !*s || strlen(s) > 20) return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s)) return false;
    return true;
}

static void urlencode(const char *s, char *out, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (; *s && o + 4 < n; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = 0;
}

/* One API call. 0 with *data (an object inside *root) when the provider
 * accepted the call; 0 with out->status = PAY_DECLINED when it refused; -1
 * with PAY_ERROR otherwise. The caller frees *root. */
static int flw_call(const char *method, const char *path, const char *body, struct pay_result *out,
                    json_t **root, json_t **data)
{
    char url[1024], auth[512], err[256];
    const char *base = env_or("ATRIUM_FLUTTERWAVE_BASE_URL", "https://api.flutterwave.com");
    size_t blen = strlen(base);
    long status;
    char *resp = NULL;
    const char *st = NULL, *msg = NULL;
    *root = *data = NULL;
    while (blen && base[blen - 1] == '/') blen--;
    snprintf(url, sizeof url, "%.*s%s", (int)blen, base, path);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", env_or("ATRIUM_FLUTTERWAVE_SECRET_KEY", ""));
    const char *headers[] = {auth, "Content-Type: application/json", "Accept: application/json", NULL};
    if (httpc_request(method, url, headers, body, FLW_TIMEOUT_S, &status, &resp, err, sizeof err) < 0)
        return fail(out, PAY_ERROR, "flutterwave: %s", err);
    *root = json_loads(resp, 0, NULL);
    free(resp);
    json_unpack(*root, "{s?s, s?s, s?o}", "status", &st, "message", &msg, "data", data);
    json_t *got = *data;
    *data = NULL;
    if (status >= 500 || status == 408 || status == 429) {
        char what[300];
        snprintf(what, sizeof what, "HTTP %ld%s%s", status, msg ? ": " : "", msg ? msg : "");
        return fail(out, PAY_ERROR, "flutterwave: %s", what);
    }
    if (status >= 400 || (st && strcmp(st, "error") == 0)) {
        if (msg) return fail(out, PAY_DECLINED, "%s", msg);
        snprintf(err, sizeof err, "HTTP %ld", status);
        return fail(out, PAY_DECLINED, "flutterwave: %s", err);
    }
    if (status < 200 || status >= 300 || !json_is_object(got))
        return fail(out, PAY_ERROR, "flutterwave: %s", "unexpected answer");
    copy(out->message, sizeof out->message, msg);
    *data = got;
    return 0;
}

static void id_text(json_t *v, char *out, size_t n)
{
    if (json_is_integer(v)) snprintf(out, n, "%lld", (long long)json_integer_value(v));
    else if (json_is_string(v)) copy(out, n, json_string_value(v));
}

/* The charge fields of a transaction object (charge and verify answers). */
static void read_transaction(json_t *data, struct pay_result *out)
{
    const char *status = json_string_value(json_object_get(data, "status"));
    json_t *amount = json_object_get(data, "amount");
    id_text(json_object_get(data, "id"), out->provider_ref, sizeof out->provider_ref);
    if (json_is_string(json_object_get(data, "tx_ref")))
        copy(out->reference, sizeof out->reference, json_string_value(json_object_get(data, "tx_ref")));
    if (json_is_string(json_object_get(data, "currency")))
        copy(out->currency, sizeof out->currency, json_string_value(json_object_get(data, "currency")));
    if (json_is_number(amount)) out->amount_cents = pay_cents_from_major(json_number_value(amount));
    status = status ? status : "";
    out->status = strcmp(status, "successful") == 0 ? PAY_SUCCEEDED
                : strcmp(status, "failed") == 0     ? PAY_DECLINED
                                                    : PAY_PENDING;
    if (out->status == PAY_DECLINED) {
        const char *why = json_string_value(json_object_get(data, "processor_response"));
        copy(out->message, sizeof out->message, why && *why ? why : "charge failed");
    }
}

/* `{"amount":<major>,` followed by the rest of obj's compact JSON text. */
static char *with_amount(json_t *obj, int64_t cents)
{
    char major[32];
    pay_major(cents, major);
    char *rest = json_dumps(obj, JSON_COMPACT);
    char *text = xasprintf("{\"amount\":%s%s%s", major, rest && strcmp(rest, "{}") ? "," : "}",
                           rest && strcmp(rest, "{}") ? rest + 1 : "");
    free(rest);
    json_decref(obj);
    return text;
}

static int flw_charge(const struct pay_charge *c, struct pay_result *out)
{
    json_t *root, *data;
    memset(out, 0, sizeof *out);
    copy(out->reference, sizeof out->reference, c->reference);
    copy(out->currency, sizeof out->currency, c->currency);
    out->amount_cents = c->amount_cents;
    if (c->amount_cents <= 0) return fail(out, PAY_DECLINED, "%s", "invalid amount");
    json_t *obj = json_pack("{s:s, s:s, s:s}", "token", c->token ? c->token : "", "currency",
                            c->currency ? c->currency : "", "tx_ref", c->reference ? c->reference : "");
    if (c->email) json_object_set_new(obj, "email", json_string(c->email));
    char *body = with_amount(obj, c->amount_cents);
    int rc = flw_call("POST", "/v3/tokenized-charges", body, out, &root, &data);
    if (rc == 0 && data) read_transaction(data, out);
    free(body);
    json_decref(root);
    return rc;
}

static int flw_verify(const char *provider_ref, const char *reference, struct pay_result *out)
{
    char path[512], enc[400];
    json_t *root, *data;
    memset(out, 0, sizeof *out);
    copy(out->reference, sizeof out->reference, reference);
    if (all_digits(provider_ref)) {
        snprintf(path, sizeof path, "/v3/transactions/%s/verify", provider_ref);
    } else if (reference && *reference && strlen(reference) < 128) {
        urlencode(reference, enc, sizeof enc);
        snprintf(path, sizeof path, "/v3/transactions/verify_by_reference?tx_ref=%s", enc);
    } else {
        return fail(out, PAY_DECLINED, "%s", "no such charge");
    }
    int rc = flw_call("GET", path, NULL, out, &root, &data);
    if (rc == 0 && data) read_transaction(data, out);
    json_decref(root);
    return rc;
}

static int flw_refund(const char *charge_ref, int64_t amount_cents, const char *currency, const char *reference,
                      struct pay_result *out)
{
    char path[128];
    json_t *root, *data;
    memset(out, 0, sizeof *out);
    copy(out->reference, sizeof out->reference, reference);
    copy(out->currency, sizeof out->currency, currency);
    out->amount_cents = amount_cents;
    if (!all_digits(charge_ref)) return fail(out, PAY_DECLINED, "%s", "no such charge");
    if (amount_cents <= 0) return fail(out, PAY_DECLINED, "%s", "invalid refund amount");
    snprintf(path, sizeof path, "/v3/transactions/%s/refund", charge_ref);
    json_t *obj = json_object();
    if (reference && *reference) json_object_set_new(obj, "comments", json_string(reference));
    char *body = with_amount(obj, amount_cents);
    int rc = flw_call("POST", path, body, out, &root, &data);
    if (rc == 0 && data) {
        const char *st = json_string_value(json_object_get(data, "status"));
        json_t *amount = json_object_get(data, "amount_refunded");
        id_text(json_object_get(data, "id"), out->provider_ref, sizeof out->provider_ref);
        if (json_is_number(amount)) out->amount_cents = pay_cents_from_major(json_number_value(amount));
        st = st ? st : "";
        out->status = strcmp(st, "completed") == 0 ? PAY_SUCCEEDED
                    : strcmp(st, "failed") == 0    ? PAY_DECLINED
                                                   : PAY_PENDING;
    }
    free(body);
    json_decref(root);
    return rc;
}

static bool put(char *dst, size_t n, const char *src)
{
    if (!src || strlen(src) >= n) return false;
    memcpy(dst, src, strlen(src) + 1);
    return true;
}

static int flw_parse_webhook(struct req *r, struct pay_webhook *ev)
{
    const char *hash = getenv("ATRIUM_FLUTTERWAVE_WEBHOOK_HASH");
    const char *event, *ref = NULL, *cur = NULL, *st = "";
    json_t *id = NULL, *amount = NULL;
    char idtext[32] = "";
    memset(ev, 0, sizeof *ev);
    if (!hash || !*hash || !crypto_str_equal(req_header(r, "verif-hash"), hash)) return -1;
    json_t *j = r->raw_body ? json_loadb(r->raw_body, r->raw_len, 0, NULL) : NULL;
    int rc = -1;
    if (!j || json_unpack(j, "{s:s, s:{s:o, s?s, s?o, s?s, s?s}}", "event", &event, "data", "id", &id, "tx_ref",
                          &ref, "amount", &amount, "currency", &cur, "status", &st) < 0)
        goto out;
    id_text(id, idtext, sizeof idtext);
    bool completed = strcmp(event, "charge.completed") == 0;
    ev->status = completed && strcmp(st, "successful") == 0 ? PAY_SUCCEEDED
               : completed && strcmp(st, "failed") == 0     ? PAY_DECLINED
                                                            : PAY_PENDING;
    if (ev->status != PAY_PENDING && (!ref || !*ref || !cur || !json_is_number(amount))) goto out;
    if (!*idtext || strlen(event) + strlen(idtext) + 2 > sizeof ev->event_id) goto out;
    snprintf(ev->event_id, sizeof ev->event_id, "%s:%s", event, idtext);
    if (!put(ev->type, sizeof ev->type,
             ev->status == PAY_SUCCEEDED ? "charge.succeeded" : ev->status == PAY_DECLINED ? "charge.failed" : event) ||
        !put(ev->reference, sizeof ev->reference, ref ? ref : "") ||
        !put(ev->currency, sizeof ev->currency, cur ? cur : ""))
        goto out;
    copy(ev->provider_ref, sizeof ev->provider_ref, idtext);
    if (json_is_number(amount)) ev->amount_cents = pay_cents_from_major(json_number_value(amount));
    rc = 0;
out:
    json_decref(j);
    if (rc < 0) memset(ev, 0, sizeof *ev);
    return rc;
}

const struct pay_provider pay_flutterwave = {
    .name = "flutterwave",
    .refund_dedup = false,
    .charge = flw_charge,
    .verify = flw_verify,
    .refund = flw_refund,
    .parse_webhook = flw_parse_webhook,
};
