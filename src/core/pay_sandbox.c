/* pay_sandbox.c -- the built-in offline payment provider (payments.h).
 *
 * Deterministic by test token (docs/PAYMENTS.md lists them). The sandbox keeps
 * no charge table: a charge's refund behaviour is encoded in its provider_ref
 * prefix ("sbx_ch_" normal, "sbx_chrf_" refunds decline, "sbx_chfl_" first
 * refund fails). The only state is in memory, per process, mutex-protected:
 * which flaky charges already failed once, and the refunds done by our
 * reference (a repeated reference answers the first refund's provider_ref,
 * like a real provider's deduplication). Both are bounded rings: the oldest
 * entries are forgotten after REFUND_MEMORY refunds.
 * Webhooks are authoritative (no verify) and signed with
 * X-Sandbox-Signature: hex HMAC-SHA256(ATRIUM_SANDBOX_WEBHOOK_SECRET, body).
 * Without that secret no webhook can arrive, so a tok_pending charge would
 * never settle: pay_provider() then hands out pay_sandbox_asked, which has a
 * verify that settles a pending charge when it is asked about it (a pay retry,
 * the close of a group). For that the sandbox remembers its charges by our
 * reference, in memory, per process, in a ring like the refunds; a charge it
 * does not remember (another process, or forgotten) is "no such charge".
 * A charge of 0 cents or less is declined ("invalid amount"). Event types
 * other than charge.succeeded/charge.failed are passed through
 * with status PAY_PENDING; every field of the body is required. */
#include "atrium.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REFUND_MEMORY 1024

struct seen {
    char key[128];
    char value[128];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct seen flaky[REFUND_MEMORY];        /* charge refs whose first refund already failed */
static struct seen done[REFUND_MEMORY];         /* refund reference -> refund provider_ref */
static unsigned flaky_next, done_next;

/* A charge, for verify: what a real provider keeps in its own records. */
struct charge {
    char reference[128], provider_ref[128], currency[8];
    int64_t amount_cents;
    enum pay_status status;
};
static struct charge charges[REFUND_MEMORY];
static unsigned charges_next;
static atomic_int refund_calls;

static void copy(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

static void result(struct pay_result *out, enum pay_status st, const char *message)
{
    out->status = st;
    copy(out->message, sizeof out->message, message);
}

static bool webhooks_on(void)
{
    const char *secret = getenv("ATRIUM_SANDBOX_WEBHOOK_SECRET");
    return secret && *secret;
}

static void remember_charge(const struct pay_result *res)
{
    if (!res->reference[0]) return;
    pthread_mutex_lock(&lock);
    struct charge *c = &charges[charges_next++ % REFUND_MEMORY];
    copy(c->reference, sizeof c->reference, res->reference);
    copy(c->provider_ref, sizeof c->provider_ref, res->provider_ref);
    copy(c->currency, sizeof c->currency, res->currency);
    c->amount_cents = res->amount_cents;
    c->status = res->status;
    pthread_mutex_unlock(&lock);
}

static void new_ref(char *out, size_t n, const char *prefix)
{
    char hex[25];
    crypto_random_token(hex, 12);
    snprintf(out, n, "%s%s", prefix, hex);
}

static int sbx_charge(const struct pay_charge *c, struct pay_result *out)
{
    const char *t = c->token && *c->token ? c->token : "tok_success";
    const char *prefix = "sbx_ch_";
    memset(out, 0, sizeof *out);
    copy(out->reference, sizeof out->reference, c->reference);
    copy(out->currency, sizeof out->currency, c->currency);
    out->amount_cents = c->amount_cents;
    if (strcmp(t, "tok_error") == 0) {
        result(out, PAY_ERROR, "sandbox: simulated outage");
        return -1;
    }
    if (c->amount_cents <= 0) {
        result(out, PAY_DECLINED, "invalid amount");
        remember_charge(out);
        return 0;
    }
    if (strcmp(t, "tok_declined") == 0) {
        result(out, PAY_DECLINED, "card declined");
        remember_charge(out);
        return 0;
    }
    if (strcmp(t, "tok_refund_fail") == 0) prefix = "sbx_chrf_";
    else if (strcmp(t, "tok_refund_flaky") == 0) prefix = "sbx_chfl_";
    else if (strcmp(t, "tok_success") != 0 && strcmp(t, "tok_pending") != 0) {
        result(out, PAY_DECLINED, "unknown test token");
        return 0;
    }
    new_ref(out->provider_ref, sizeof out->provider_ref, prefix);
    if (strcmp(t, "tok_pending") != 0) result(out, PAY_SUCCEEDED, "approved");
    else if (webhooks_on()) result(out, PAY_PENDING, "pending: settles by webhook");
    else result(out, PAY_PENDING, "pending: sandbox webhooks are disabled (set ATRIUM_SANDBOX_WEBHOOK_SECRET to "
                                  "enable them); pay again to have the sandbox settle this charge");
    remember_charge(out);
    return 0;
}

static struct seen *find(struct seen *table, const char *key)
{
    for (int i = 0; i < REFUND_MEMORY; i++)
        if (table[i].key[0] && strcmp(table[i].key, key) == 0) return &table[i];
    return NULL;
}

static void remember(struct seen *table, unsigned *next, const char *key, const char *value)
{
    struct seen *s = &table[(*next)++ % REFUND_MEMORY];
    copy(s->key, sizeof s->key, key);
    copy(s->value, sizeof s->value, value);
}

/* The first refund of a flaky charge in this process fails; true when this one must. */
static bool flaky_first(const char *charge_ref)
{
    pthread_mutex_lock(&lock);
    bool first = !find(flaky, charge_ref);
    if (first) remember(flaky, &flaky_next, charge_ref, "failed once");
    pthread_mutex_unlock(&lock);
    return first;
}

static bool refund_seen(const char *reference, char *provider_ref, size_t n)
{
    pthread_mutex_lock(&lock);
    struct seen *s = reference && *reference ? find(done, reference) : NULL;
    if (s) copy(provider_ref, n, s->value);
    pthread_mutex_unlock(&lock);
    return s != NULL;
}

static int sbx_refund(const char *charge_ref, int64_t amount_cents, const char *currency, const char *reference,
                      struct pay_result *out)
{
    atomic_fetch_add(&refund_calls, 1);
    memset(out, 0, sizeof *out);
    copy(out->reference, sizeof out->reference, reference);
    copy(out->currency, sizeof out->currency, currency);
    out->amount_cents = amount_cents;
    if (refund_seen(reference, out->provider_ref, sizeof out->provider_ref)) {
        result(out, PAY_SUCCEEDED, "refunded (duplicate reference)");
        return 0;
    }
    if (!charge_ref || strncmp(charge_ref, "sbx_ch", 6) != 0) {
        result(out, PAY_DECLINED, "no such charge");
        return 0;
    }
    if (amount_cents <= 0) {
        result(out, PAY_DECLINED, "invalid refund amount");
        return 0;
    }
    if (strncmp(charge_ref, "sbx_chrf_", 9) == 0) {
        result(out, PAY_DECLINED, "refund declined");
        return 0;
    }
    if (strncmp(charge_ref, "sbx_chfl_", 9) == 0 && flaky_first(charge_ref)) {
        result(out, PAY_ERROR, "sandbox: simulated refund outage");
        return -1;
    }
    new_ref(out->provider_ref, sizeof out->provider_ref, "sbx_rf_");
    result(out, PAY_SUCCEEDED, "refunded");
    if (reference && *reference) {
        pthread_mutex_lock(&lock);
        struct seen *s = find(done, reference);         /* a concurrent twin may have won */
        if (s) copy(out->provider_ref, sizeof out->provider_ref, s->value);
        else remember(done, &done_next, reference, out->provider_ref);
        pthread_mutex_unlock(&lock);
    }
    return 0;
}

void pay_sandbox_sign(const char *body, size_t len, char out[65])
{
    const char *secret = getenv("ATRIUM_SANDBOX_WEBHOOK_SECRET");
    out[0] = 0;
    if (secret && *secret) crypto_hmac_sha256_hex(secret, body, len, out);
}

int pay_sandbox_refund_calls(void)
{
    return atomic_load(&refund_calls);
}

static bool put(char *dst, size_t n, const char *src)
{
    if (!src || !*src || strlen(src) >= n) return false;
    memcpy(dst, src, strlen(src) + 1);
    return true;
}

static int sbx_parse_webhook(struct req *r, struct pay_webhook *ev)
{
    char want[65];
    const char *id, *type, *ref, *pref, *cur;
    json_int_t amount;
    memset(ev, 0, sizeof *ev);
    pay_sandbox_sign(r->raw_body ? r->raw_body : "", r->raw_body ? r->raw_len : 0, want);
    if (!want[0] || !crypto_str_equal(req_header(r, "X-Sandbox-Signature"), want)) return -1;
    json_t *j = r->raw_body ? json_loadb(r->raw_body, r->raw_len, 0, NULL) : NULL;
    int rc = -1;
    if (!j || json_unpack(j, "{s:s, s:s, s:{s:s, s:s, s:I, s:s}}", "id", &id, "type", &type, "data",
                          "reference", &ref, "provider_ref", &pref, "amount_cents", &amount, "currency", &cur) < 0)
        goto out;
    if (!put(ev->event_id, sizeof ev->event_id, id) || !put(ev->type, sizeof ev->type, type) ||
        !put(ev->reference, sizeof ev->reference, ref) || !put(ev->provider_ref, sizeof ev->provider_ref, pref) ||
        !put(ev->currency, sizeof ev->currency, cur) || amount < 0)
        goto out;
    ev->amount_cents = amount;
    ev->status = strcmp(type, "charge.succeeded") == 0 ? PAY_SUCCEEDED
               : strcmp(type, "charge.failed") == 0    ? PAY_DECLINED
                                                       : PAY_PENDING;
    rc = 0;
out:
    json_decref(j);
    if (rc < 0) memset(ev, 0, sizeof *ev);
    return rc;
}

/* The charge our reference names, newest first (a retried reference is
 * the same charge); a pending one settles now. */
static int sbx_verify(const char *provider_ref, const char *reference, struct pay_result *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&lock);
    struct charge *c = NULL;
    for (unsigned i = 0; i < REFUND_MEMORY && !c; i++) {
        struct charge *k = &charges[(charges_next - 1 - i) % REFUND_MEMORY];
        if (k->reference[0] && ((reference && strcmp(k->reference, reference) == 0) ||
                                (provider_ref && *provider_ref && strcmp(k->provider_ref, provider_ref) == 0)))
            c = k;
    }
    if (c && c->status == PAY_PENDING) c->status = PAY_SUCCEEDED;
    if (c) {
        copy(out->reference, sizeof out->reference, c->reference);
        copy(out->provider_ref, sizeof out->provider_ref, c->provider_ref);
        copy(out->currency, sizeof out->currency, c->currency);
        out->amount_cents = c->amount_cents;
        result(out, c->status, c->status == PAY_SUCCEEDED ? "approved" : "card declined");
    }
    pthread_mutex_unlock(&lock);
    if (!c) result(out, PAY_DECLINED, "no such charge");
    return 0;
}

/* With a webhook secret: webhooks are authoritative, nothing to ask. */
const struct pay_provider pay_sandbox = {
    .name = "sandbox",
    .refund_dedup = true,
    .charge = sbx_charge,
    .verify = NULL,
    .refund = sbx_refund,
    .parse_webhook = sbx_parse_webhook,
};

/* Without one: the same sandbox, which can be asked (and settles on asking). */
const struct pay_provider pay_sandbox_asked = {
    .name = "sandbox",
    .refund_dedup = true,
    .charge = sbx_charge,
    .verify = sbx_verify,
    .refund = sbx_refund,
    .parse_webhook = sbx_parse_webhook,
};
