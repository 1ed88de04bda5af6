/* boot.c -- bringing the house up and down, shared by `atrium serve` and the
 * in-process API tests: load the message catalogs, migrate, register every
 * enabled app's routes, roles, jobs and event sinks, start the server and
 * background threads; and the reverse on shutdown (SIGTERM): stop accepting,
 * finish in-flight requests, stop jobs at a safe point, close the database. */
#include "atrium.h"
#include "internal.h"
#include <sodium.h>

static bool apps_inited;

int atrium_init(void)
{
    if (sodium_init() < 0) {
        log_error("libsodium failed to initialise");
        return -1;
    }
    ratelimit_init();
    i18n_init();
    struct db *db = db_thread();
    if (!db) return -1;
    if (migrate_all(db) < 0) return -1;
    router_reset();
    for (const struct app *const *a = atrium_apps; *a; a++) {
        if (!config_app_enabled((*a)->name)) continue;
        http_register_routes((*a)->routes);
        if ((*a)->jobs) jobs_register((*a)->jobs);
        for (const struct event_sink *s = (*a)->sinks; s && s->name; s++) events_add_sink(s);
        if ((*a)->init && (*a)->init() < 0) {
            log_error("app %s failed to initialise", (*a)->name);
            return -1;
        }
    }
    apps_inited = true;
    return jobs_sync(db) < 0 ? -1 : 0;
}

int atrium_start(void)
{
    if (http_start() < 0 || events_start() < 0 || realtime_init() < 0) return -1;
    if (cfg.jobs_enabled && jobs_start() < 0) return -1;
    return 0;
}

void atrium_shutdown(void)
{
    http_stop();
    jobs_stop();
    events_stop();
    realtime_cleanup();
    if (apps_inited)
        for (const struct app *const *a = atrium_apps; *a; a++)
            if ((*a)->cleanup && config_app_enabled((*a)->name)) (*a)->cleanup();
    apps_inited = false;
    db_close_all();
    ratelimit_cleanup();
    metrics_cleanup();
    i18n_cleanup();
}
