/* payments.c -- the provider registry and amount helpers (payments.h).
 *
 * Configuration is read from the environment at every call (no caching) so an
 * operator's change shows on the next request and tests can setenv freely.
 * "sandbox" is always available; "flutterwave" only once its secret key is
 * set. Amounts cross provider APIs as major units with two decimals. */
#include "atrium.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const struct pay_provider pay_sandbox;
extern const struct pay_provider pay_flutterwave;

static bool env_set(const char *name)
{
    const char *v = getenv(name);
    return v && *v;
}

const struct pay_provider *pay_provider(const char *name)
{
    if (!name) return NULL;
    if (strcmp(name, "sandbox") == 0) return &pay_sandbox;
    if (strcmp(name, "flutterwave") == 0 && env_set("ATRIUM_FLUTTERWAVE_SECRET_KEY")) return &pay_flutterwave;
    return NULL;
}

const char *pay_default(void)
{
    const char *v = getenv("ATRIUM_PAYMENT_PROVIDER");
    return v && *v ? v : "sandbox";
}

const char *const *pay_providers(void)
{
    static const char *const only_sandbox[] = {"sandbox", NULL};
    static const char *const both[] = {"sandbox", "flutterwave", NULL};
    return env_set("ATRIUM_FLUTTERWAVE_SECRET_KEY") ? both : only_sandbox;
}

void pay_major(int64_t cents, char out[32])
{
    const char *sign = cents < 0 ? "-" : "";
    uint64_t u = cents < 0 ? (uint64_t)0 - (uint64_t)cents : (uint64_t)cents;
    snprintf(out, 32, "%s%llu.%02llu", sign, (unsigned long long)(u / 100), (unsigned long long)(u % 100));
}

int64_t pay_cents_from_major(double major)
{
    return (int64_t)llround(major * 100.0);
}
