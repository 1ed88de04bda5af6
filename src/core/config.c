/* config.c -- configuration from ATRIUM_* environment variables (optionally
 * from a KEY=VALUE file given with --config; the environment wins). Called once
 * by main() before anything else; `cfg` is read-only afterwards. */
#include "atrium.h"
#include <ctype.h>
#include <math.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sodium.h>

struct config cfg = {.log_level = LOG_INFO};

static const char *env(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return v && *v ? v : dflt;
}

int config_parse_rate(const char *s, struct rate *out)
{
    char unit[16];
    double n;
    if (sscanf(s, "%lf/%15s", &n, unit) != 2 || n < 0) return -1;
    double secs;
    if (!strcmp(unit, "second") || !strcmp(unit, "s")) secs = 1;
    else if (!strcmp(unit, "minute") || !strcmp(unit, "m")) secs = 60;
    else if (!strcmp(unit, "hour") || !strcmp(unit, "h")) secs = 3600;
    else if (!strcmp(unit, "day") || !strcmp(unit, "d")) secs = 86400;
    else return -1;
    out->capacity = n;
    out->per_second = n / secs;
    return 0;
}

static int load_file(const char *file, char *err, size_t errlen)
{
    FILE *f = fopen(file, "r");
    if (!f) {
        snprintf(err, errlen, "cannot open config file %s: %s", file, strerror(errno));
        return -1;
    }
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        char *p = line;
        while (isspace((unsigned char)*p)) p++;
        if (*p == '#' || !*p) continue;
        char *eq = strchr(p, '=');
        if (!eq) continue;
        *eq = 0;
        char *v = eq + 1;
        v[strcspn(v, "\r\n")] = 0;
        setenv(p, v, 0);        /* the environment wins over the file */
    }
    fclose(f);
    return 0;
}

static int parse_int(const char *name, const char *dflt, long min, long max, long *out, char *err,
                     size_t errlen)
{
    const char *v = env(name, dflt);
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || *end || n < min || n > max) {
        snprintf(err, errlen, "%s must be an integer in [%ld, %ld], got '%s'", name, min, max, v);
        return -1;
    }
    *out = n;
    return 0;
}

static int parse_listen(char *err, size_t errlen)
{
    const char *v = env("ATRIUM_LISTEN", "127.0.0.1:8080");
    const char *colon = strrchr(v, ':');
    if (!colon || (size_t)(colon - v) >= sizeof cfg.listen_host || colon == v) {
        snprintf(err, errlen, "ATRIUM_LISTEN must be host:port, got '%s'", v);
        return -1;
    }
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535) {
        snprintf(err, errlen, "ATRIUM_LISTEN port out of range in '%s'", v);
        return -1;
    }
    memcpy(cfg.listen_host, v, (size_t)(colon - v));
    cfg.listen_host[colon - v] = 0;
    cfg.listen_port = (int)port;
    return 0;
}

static int parse_key(char *err, size_t errlen)
{
    const char *v = env("ATRIUM_ENCRYPTION_KEY", NULL);
    cfg.enc_key_set = false;
    if (!v) return 0;
    size_t n = 0;
    if (strlen(v) != 64 || sodium_hex2bin(cfg.enc_key, sizeof cfg.enc_key, v, 64, NULL, &n, NULL) || n != 32) {
        snprintf(err, errlen, "ATRIUM_ENCRYPTION_KEY must be 64 hex characters (32 bytes)");
        return -1;
    }
    cfg.enc_key_set = true;
    return 0;
}

static void replace(char **slot, const char *v)
{
    free(*slot);
    *slot = v ? xstrdup(v) : NULL;
}

int config_load(const char *file, char *err, size_t errlen)
{
    static const char *levels[] = {"debug", "info", "warn", "error"};
    long n;
    if (file && load_file(file, err, errlen) < 0) return -1;
    if (parse_listen(err, errlen) < 0 || parse_key(err, errlen) < 0) return -1;
    replace(&cfg.db, env("ATRIUM_DB", "./data/atrium.db"));
    /* a key file beside a PostgreSQL database does not exist, and instances
     * with keys of their own could not read each other's secrets */
    if (!cfg.enc_key_set && db_url_is_pg(cfg.db)) {
        snprintf(err, errlen, "ATRIUM_ENCRYPTION_KEY is required with PostgreSQL (every instance must share it)");
        return -1;
    }
    replace(&cfg.apps, env("ATRIUM_APPS", "all"));
    replace(&cfg.cors_origins, env("ATRIUM_CORS_ORIGINS", NULL));
    replace(&cfg.trusted_proxies, env("ATRIUM_TRUSTED_PROXIES", NULL));
    replace(&cfg.metrics_token, env("ATRIUM_METRICS_TOKEN", NULL));
    replace(&cfg.backup_dir, env("ATRIUM_BACKUP_DIR", "./data/backups"));

    const char *lvl = env("ATRIUM_LOG_LEVEL", "info");
    cfg.log_level = -1;
    for (int i = 0; i < 4; i++)
        if (!strcasecmp(lvl, levels[i])) cfg.log_level = i;
    if (cfg.log_level < 0) {
        snprintf(err, errlen, "ATRIUM_LOG_LEVEL must be debug, info, warn or error, got '%s'", lvl);
        return -1;
    }
    struct { const char *name, *dflt; struct rate *out; } rates[] = {
        {"ATRIUM_RATE_ANON", "100/hour", &cfg.rate_anon},
        {"ATRIUM_RATE_USER", "1000/hour", &cfg.rate_user},
        {"ATRIUM_RATE_LOGIN", "10/minute", &cfg.rate_login},
    };
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) {
        const char *v = env(rates[i].name, rates[i].dflt);
        if (config_parse_rate(v, rates[i].out) < 0) {
            snprintf(err, errlen, "%s must look like 100/hour (second, minute, hour, day), got '%s'",
                     rates[i].name, v);
            return -1;
        }
    }
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1) cores = 1;
    char dflt_io[16], dflt_workers[16];
    snprintf(dflt_io, sizeof dflt_io, "%ld", cores);
    /* PostgreSQL: workers wait on network round trips, not on the CPU */
    snprintf(dflt_workers, sizeof dflt_workers, "%ld", db_url_is_pg(cfg.db) ? 8 * cores + 8 : 2 * cores + 2);
    if (parse_int("ATRIUM_MAX_BODY", "1048576", 1024, 1L << 30, &n, err, errlen) < 0) return -1;
    cfg.max_body = (size_t)n;
    if (parse_int("ATRIUM_OPEN_REGISTRATION", "1", 0, 1, &n, err, errlen) < 0) return -1;
    cfg.open_registration = n;
    if (parse_int("ATRIUM_IO_THREADS", dflt_io, 1, 256, &n, err, errlen) < 0) return -1;
    cfg.io_threads = (int)n;
    if (parse_int("ATRIUM_WORKERS", dflt_workers, 1, 1024, &n, err, errlen) < 0) return -1;
    cfg.workers = (int)n;
    if (parse_int("ATRIUM_ACCESS_TTL", "900", 1, 86400 * 7, &n, err, errlen) < 0) return -1;
    cfg.access_ttl = (int)n;
    if (parse_int("ATRIUM_REFRESH_TTL", "2592000", 1, 86400 * 365, &n, err, errlen) < 0) return -1;
    cfg.refresh_ttl = (int)n;
    if (parse_int("ATRIUM_BACKUP_KEEP_DAYS", "30", 0, 3650, &n, err, errlen) < 0) return -1;
    cfg.backup_keep_days = (int)n;
    if (parse_int("ATRIUM_JOBS", "1", 0, 1, &n, err, errlen) < 0) return -1;
    cfg.jobs_enabled = n;
    if (parse_int("ATRIUM_JOB_LEASE", "3600", 2, 7 * 86400, &n, err, errlen) < 0) return -1;
    cfg.job_lease_s = n;
    if (parse_int("ATRIUM_PWHASH_OPS", "2", 1, 20, &n, err, errlen) < 0) return -1;
    cfg.pwhash_ops = (int)n;
    if (parse_int("ATRIUM_PWHASH_MEM", "67108864", 8192, 1L << 31, &n, err, errlen) < 0) return -1;
    cfg.pwhash_mem = (size_t)n;
    const char *sync = env("ATRIUM_DB_SYNC", "group");
    if (strcmp(sync, "group") && strcmp(sync, "full")) {
        snprintf(err, errlen, "ATRIUM_DB_SYNC must be group or full, got '%s'", sync);
        return -1;
    }
    cfg.db_group_commit = !strcmp(sync, "group");
    if (strcmp(cfg.apps, "all")) {
        char *copy = xstrdup(cfg.apps), *save = NULL;
        for (char *a = strtok_r(copy, ",", &save); a; a = strtok_r(NULL, ",", &save)) {
            if (!app_find(a)) {
                snprintf(err, errlen, "ATRIUM_APPS names an app this build does not have: '%s'", a);
                free(copy);
                return -1;
            }
        }
        free(copy);
    }
    /* A disabled app's settings are not its business today: not read, not checked. */
    for (const struct app *const *a = atrium_apps; *a; a++)
        if ((*a)->configure && config_app_enabled((*a)->name) && (*a)->configure(err, errlen) < 0) return -1;
    return 0;
}

bool config_app_enabled(const char *app)
{
    if (!strcmp(app, "core") || !cfg.apps || !strcmp(cfg.apps, "all")) return true;
    size_t n = strlen(app);
    for (const char *p = cfg.apps; (p = strstr(p, app)); p += n)
        if ((p == cfg.apps || p[-1] == ',') && (p[n] == ',' || p[n] == 0)) return true;
    return false;
}

static void print_rate(FILE *out, const char *name, const struct rate *r)
{
    /* As it was written: config_parse_rate made per_second = capacity / unit. */
    static const struct { double secs; const char *unit; } units[] = {
        {1, "second"}, {60, "minute"}, {3600, "hour"}, {86400, "day"}};
    const char *unit = "hour";
    double secs = r->per_second > 0 ? r->capacity / r->per_second : 3600;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (fabs(secs - units[i].secs) < 1e-6 * units[i].secs) unit = units[i].unit;
    fprintf(out, "%-26s %g/%s\n", name, r->capacity, unit);
}

/* Payment settings are read from the environment at each use (payments.c), so
 * they are shown from there too; secrets only as set or unset. */
static void print_payments(FILE *out, const char *mask)
{
    const char *provider = pay_default();
    const char *key = getenv("ATRIUM_FLUTTERWAVE_SECRET_KEY"), *hash = getenv("ATRIUM_FLUTTERWAVE_WEBHOOK_HASH");
    const char *url = getenv("ATRIUM_FLUTTERWAVE_BASE_URL"), *sbx = getenv("ATRIUM_SANDBOX_WEBHOOK_SECRET");
    fprintf(out, "%-26s %s%s\n", "ATRIUM_PAYMENT_PROVIDER", provider,
            pay_provider(provider) ? "" : " (NOT available: unknown or not configured)");
    fprintf(out, "%-26s %s\n", "ATRIUM_SANDBOX_ENABLED",
            pay_provider("sandbox") ? "sandbox available" : "sandbox off (a real provider is the default)");
    fprintf(out, "%-26s %s\n", "ATRIUM_SANDBOX_WEBHOOK_SECRET", sbx && *sbx ? mask : "(unset: sandbox webhooks are refused)");
    fprintf(out, "%-26s %s\n", "ATRIUM_FLUTTERWAVE_SECRET_KEY", key && *key ? mask : "(unset: flutterwave disabled)");
    fprintf(out, "%-26s %s\n", "ATRIUM_FLUTTERWAVE_WEBHOOK_HASH", hash && *hash ? mask : "(unset: flutterwave webhooks are refused)");
    fprintf(out, "%-26s %s\n", "ATRIUM_FLUTTERWAVE_BASE_URL", url && *url ? url : "https://api.flutterwave.com");
}

void config_print(FILE *out)
{
    const char *mask = "********";
    fprintf(out, "%-26s %s:%d\n", "ATRIUM_LISTEN", cfg.listen_host, cfg.listen_port);
    fprintf(out, "%-26s %s\n", "ATRIUM_DB", !db_url_is_pg(cfg.db) ? cfg.db : "postgres://********");
    fprintf(out, "%-26s %s\n", "ATRIUM_APPS", cfg.apps);
    fprintf(out, "%-26s %s\n", "ATRIUM_LOG_LEVEL", (const char *[]){"debug", "info", "warn", "error"}[cfg.log_level]);
    fprintf(out, "%-26s %s\n", "ATRIUM_ENCRYPTION_KEY", cfg.enc_key_set ? mask : "(unset: a key file beside the SQLite database is used)");
    print_rate(out, "ATRIUM_RATE_ANON", &cfg.rate_anon);
    print_rate(out, "ATRIUM_RATE_USER", &cfg.rate_user);
    print_rate(out, "ATRIUM_RATE_LOGIN", &cfg.rate_login);
    fprintf(out, "%-26s %s\n", "ATRIUM_CORS_ORIGINS", cfg.cors_origins ? cfg.cors_origins : "(none)");
    fprintf(out, "%-26s %s\n", "ATRIUM_TRUSTED_PROXIES", cfg.trusted_proxies ? cfg.trusted_proxies : "(none)");
    fprintf(out, "%-26s %zu\n", "ATRIUM_MAX_BODY", cfg.max_body);
    fprintf(out, "%-26s %d\n", "ATRIUM_OPEN_REGISTRATION", cfg.open_registration);
    fprintf(out, "%-26s %s\n", "ATRIUM_METRICS_TOKEN", cfg.metrics_token ? mask : "(none: /metrics is open)");
    fprintf(out, "%-26s %d\n", "ATRIUM_IO_THREADS", cfg.io_threads);
    fprintf(out, "%-26s %d\n", "ATRIUM_WORKERS", cfg.workers);
    fprintf(out, "%-26s %d\n", "ATRIUM_ACCESS_TTL", cfg.access_ttl);
    fprintf(out, "%-26s %d\n", "ATRIUM_REFRESH_TTL", cfg.refresh_ttl);
    fprintf(out, "%-26s %d\n", "ATRIUM_BACKUP_KEEP_DAYS", cfg.backup_keep_days);
    fprintf(out, "%-26s %s\n", "ATRIUM_BACKUP_DIR", cfg.backup_dir);
    fprintf(out, "%-26s %d\n", "ATRIUM_JOBS", cfg.jobs_enabled);
    fprintf(out, "%-26s %d s\n", "ATRIUM_JOB_LEASE", cfg.job_lease_s);
    fprintf(out, "%-26s %s\n", "ATRIUM_DB_SYNC", cfg.db_group_commit ? "group" : "full");
    print_payments(out, mask);
    for (const struct app *const *a = atrium_apps; *a; a++) {
        if (!(*a)->config_print) continue;
        bool on = config_app_enabled((*a)->name);
        fprintf(out, "\n[%s]%s\n", (*a)->name, on ? "" : " disabled by ATRIUM_APPS: its settings are not read");
        if (on) (*a)->config_print(out);
    }
}
