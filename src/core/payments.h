/* payments.h -- the payment-provider interface (payments.c) and an outbound
 * HTTP client for adapters (httpc.c). Included from atrium.h.
 *
 * A provider charges a saved payment method, refunds a charge, reports a
 * charge's status, and verifies its own webhooks. Adapters are chosen by name:
 *   "sandbox"      built in, offline, deterministic (pay_sandbox.c);
 *   "flutterwave"  Flutterwave v3 API shapes, `verif-hash` webhooks
 *                  (pay_flutterwave.c), enabled by ATRIUM_FLUTTERWAVE_SECRET_KEY.
 * Every call here may block on the network: call them only from slow routes
 * (ROUTE_SLOW), jobs or the CLI, and never inside a database transaction. */
#ifndef ATRIUM_PAYMENTS_H
#define ATRIUM_PAYMENTS_H
#include <stdbool.h>
#include <stdint.h>

struct req;

enum pay_status {
    PAY_SUCCEEDED = 1,          /* money moved */
    PAY_PENDING,                /* accepted, final answer comes later (webhook / verify) */
    PAY_DECLINED,               /* the provider said no: do not retry the same call */
    PAY_ERROR,                  /* transport or provider failure: safe to retry */
};

struct pay_charge {
    int64_t amount_cents;
    const char *currency;       /* ISO 4217, "USD" */
    const char *reference;      /* ours, unique per attempt ("GB-C12-1"): the provider's tx_ref */
    const char *token;          /* saved payment method from the client; may be NULL (sandbox) */
    const char *email;          /* customer e-mail; may be NULL */
};

/* What a provider answered. Strings are always NUL-terminated. */
struct pay_result {
    enum pay_status status;
    char provider_ref[128];     /* the provider's id of the charge or refund */
    char reference[128];        /* our reference, echoed (charges) */
    int64_t amount_cents;       /* as the provider reports it; 0 if it did not say */
    char currency[8];
    char message[256];          /* provider's words, for logs and 402/502 bodies */
};

/* A webhook whose signature checked out. */
struct pay_webhook {
    char event_id[160];         /* stable per event: the deduplication key */
    char type[64];              /* normalised: "charge.succeeded", "charge.failed", or the provider's own */
    char reference[128];        /* our reference (tx_ref) */
    char provider_ref[128];     /* the provider's charge id */
    enum pay_status status;
    int64_t amount_cents;
    char currency[8];
};

struct pay_provider {
    const char *name;
    /* Does the provider deduplicate refunds on our reference? If not, a
     * refund whose answer was lost must not be sent again blindly. */
    bool refund_dedup;
    /* Charge c. Returns 0 when the provider answered (out->status says how),
     * -1 on transport failure (out->status = PAY_ERROR). */
    int (*charge)(const struct pay_charge *c, struct pay_result *out);
    /* The current state of a charge, by the provider's id or else our
     * reference. NULL when the provider's webhooks are authoritative. */
    int (*verify)(const char *provider_ref, const char *reference, struct pay_result *out);
    /* Refund amount_cents of a charge. `reference` is ours and unique per
     * refund (providers that support it deduplicate on it). Same returns. */
    int (*refund)(const char *charge_provider_ref, int64_t amount_cents, const char *currency,
                  const char *reference, struct pay_result *out);
    /* Check the signature on r's raw body and headers, then parse the event.
     * 0 and *ev filled, or -1 (bad or missing signature, unparseable body). */
    int (*parse_webhook)(struct req *r, struct pay_webhook *ev);
};

/* The provider called `name` when it is compiled in and configured; NULL
 * otherwise. pay_default() is ATRIUM_PAYMENT_PROVIDER (default "sandbox").
 * The sandbox counts as configured only while it is the default or
 * ATRIUM_SANDBOX_ENABLED=1 (it approves anything). Without
 * ATRIUM_SANDBOX_WEBHOOK_SECRET its webhooks are off and it has a verify
 * instead, which settles a pending charge when asked (docs/PAYMENTS.md). */
const struct pay_provider *pay_provider(const char *name);
const char *pay_default(void);
/* The variable that enables p's webhooks (its signing secret) when it is unset
 * or empty, so that every webhook of p is refused; NULL when they are on. */
const char *pay_webhooks_disabled(const struct pay_provider *p);
/* Names of the configured providers, NULL-terminated (health, docs). */
const char *const *pay_providers(void);

/* cents <-> major units with two decimals, the way provider APIs write
 * amounts ("1234.50"); pay_cents_from_major rounds to the nearest cent. */
void pay_major(int64_t cents, char out[32]);
int64_t pay_cents_from_major(double major);

/* sandbox test hooks (pay_sandbox.c): the signature header is
 * X-Sandbox-Signature: hex HMAC-SHA256(ATRIUM_SANDBOX_WEBHOOK_SECRET, body). */
void pay_sandbox_sign(const char *body, size_t len, char out[65]);
int pay_sandbox_refund_calls(void);     /* refunds attempted in this process */

/* ---------------------------------------------------------------- httpc */

/* One outbound HTTP request with libcurl. headers: NULL-terminated
 * "Name: value" list or NULL; body may be NULL. On success returns 0 with
 * *status and *resp (malloc'd, NUL-terminated, may be empty); on transport
 * failure -1 with a message in err. Only http and https. */
int httpc_request(const char *method, const char *url, const char *const *headers, const char *body,
                  long timeout_s, long *status, char **resp, char *err, size_t errlen);
#endif
