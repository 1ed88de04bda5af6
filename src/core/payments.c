/* payments.c -- the provider registry and amount helpers (payments.h).
 *
 * Configuration is read from the environment at every call (no caching) so an
 * operator's change shows on the next request and tests can setenv freely.
 * "flutterwave" is available once its secret key is set. "sandbox" approves
 * whatever it is asked to, so it is available only while it is the default
 * provider (ATRIUM_PAYMENT_PROVIDER unset or "sandbox") or when
 * ATRIUM_SANDBOX_ENABLED=1: a deployment that takes real money never lets a
 * client pick the sandbox to "pay"; without ATRIUM_SANDBOX_WEBHOOK_SECRET it is
 * the variant that can be asked about a pending charge (pay_sandbox.c). Amounts cross provider APIs as major units with two decimals. */
#include "atrium.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const struct pay_provider pay_sandbox;
extern const struct pay_provider pay_sandbox_asked;
extern const struct pay_provider pay_flutterwave;

static bool env_set(const char *name)
{
    const char *v = getenv(name);
    return v && *v;
}

const char *pay_default(void)
{
    const char *v = getenv("ATRIUM_PAYMENT_PROVIDER");
    return v && *v ? v : "sandbox";
}

static bool sandbox_enabled(void)
{
    const char *v = getenv("ATRIUM_SANDBOX_ENABLED");
    return strcmp(pay_default(), "sandbox") == 0 || (v && strcmp(v, "1") == 0);
}

const struct pay_provider *pay_provider(const char *name)
{
    if (!name) return NULL;
    if (strcmp(name, "sandbox") == 0) {
        if (!sandbox_enabled()) return NULL;
        return env_set("ATRIUM_SANDBOX_WEBHOOK_SECRET") ? &pay_sandbox : &pay_sandbox_asked;
    }
    if (strcmp(name, "flutterwave") == 0 && env_set("ATRIUM_FLUTTERWAVE_SECRET_KEY")) return &pay_flutterwave;
    return NULL;
}

const char *pay_webhooks_disabled(const struct pay_provider *p)
{
    static const struct { const char *provider, *env; } secrets[] = {
        {"sandbox", "ATRIUM_SANDBOX_WEBHOOK_SECRET"},
        {"flutterwave", "ATRIUM_FLUTTERWAVE_WEBHOOK_HASH"},
    };
    for (size_t i = 0; p && i < sizeof secrets / sizeof *secrets; i++)
        if (strcmp(p->name, secrets[i].provider) == 0) return env_set(secrets[i].env) ? NULL : secrets[i].env;
    return NULL;
}

const char *const *pay_providers(void)
{
    static const char *const none[] = {NULL};
    static const char *const only_sandbox[] = {"sandbox", NULL};
    static const char *const only_flutterwave[] = {"flutterwave", NULL};
    static const char *const both[] = {"sandbox", "flutterwave", NULL};
    bool flw = env_set("ATRIUM_FLUTTERWAVE_SECRET_KEY");
    if (sandbox_enabled()) return flw ? both : only_sandbox;
    return flw ? only_flutterwave : none;
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
