/* app.h -- the one interface an app implements.
 *
 * An app is a room of the house: it brings its migrations, routes, roles, jobs,
 * event sinks, seeder, settings and API description; the core knows it only
 * through this struct. The build lists every folder under src/apps/ (or the
 * APPS= subset) in a generated file, build/gen/apps.c, that defines
 * atrium_apps[]: `<name>_app` is the symbol each app folder must define. */
#ifndef ATRIUM_APP_H
#define ATRIUM_APP_H

struct db;
struct req;
struct route;
struct job;
struct event_sink;
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <jansson.h>

/* A role: the permissions it grants plus those of the role it inherits.
 * scope_type names what a scoped assignment of it points at ("store",
 * "region"); NULL means the role is only ever global. */
struct role {
    const char *name;           /* "manager" */
    const char *inherits;       /* "staff" or NULL */
    const char *scope_type;     /* "store" or NULL */
    const char *const *perms;   /* NULL-terminated: "codepop.orders.read", ... ("app.*" wildcard allowed) */
};

struct seed_opts {
    unsigned seed;              /* --seed N: fixes the random generator */
    const char *password;       /* --password, default atrium-demo-pass */
    const char *password_hash;  /* argon2id hash of password, computed once */
    bool clear;                 /* --clear: delete the app's rows first */
    bool progress;              /* stdout is a terminal */
    int argc;                   /* the whole `atrium seed ...` command line, for */
    char **argv;                /*   app-specific flags (--orders N, ...) */
};

struct app {
    const char *name;                   /* "codepop" */
    const char *migrations_dir;         /* "src/apps/codepop/migrations/" (embedded) */
    const struct route *routes;         /* terminated by {0} */
    const struct role *roles;           /* terminated by {0} */
    /* Permissions no role lists, checked in handlers and given only by a
     * per-user grant (NULL-terminated, may be NULL); with the roles' and the
     * routes' permissions they are what a grant may name (GET /admin/roles). */
    const char *const *grant_only_perms;
    const struct job *jobs;             /* terminated by {0} */
    const struct event_sink *sinks;     /* terminated by {0} */
    int (*init)(void);                  /* after migrations, before serving; may be NULL */
    void (*cleanup)(void);
    int (*seed)(struct db *db, const struct seed_opts *opts);
    /* The app's own settings (ATRIUM_NODE_*, ...): configure() reads and
     * validates them from the environment (a --config file is already merged
     * into it) during config_load(), writing a message into err on failure;
     * config_print() prints them for `atrium config check`, secrets masked.
     * Both may be NULL. configure() runs for every enabled app (ATRIUM_APPS). */
    int (*configure)(char *err, size_t errlen);
    void (*config_print)(FILE *out);
    /* Extra facts for /api/v1/health/detailed, under "apps": {"<name>": ...}
     * (a node's identity and peers). May be NULL. */
    json_t *(*health)(struct db *db);
    /* The app's API description, an embedded JSON file (src/apps/<app>/api.json):
     * summaries, query-parameter types, body and answer schemas for each route
     * of `routes`, keyed "METHOD /pattern". openapi.c joins it with the route
     * table into /api/v1/openapi.json. NULL: routes are published undescribed. */
    const char *api_doc;
    /* Realtime: may the caller subscribe to `topic` ("codepop.store.7")? Topics
     * are routed to the app named by their first segment; NULL = no topics. */
    bool (*topic_allowed)(struct req *r, const char *topic);
    /* Role grants: does the target of a scoped assignment exist (store 7,
     * region 3)? scope_type is one of the app's roles' scope types. NULL: every
     * positive id is taken as existing (an app with scoped roles should set it). */
    bool (*scope_exists)(struct db *db, const char *scope_type, int64_t id);
};

/* For topic_allowed: the id of "<prefix><positive integer>" topics
 * ("codepop.store." + "7" -> 7); 0 when the topic has another shape. */
int64_t app_topic_id(const char *topic, const char *prefix);

/* Every compiled-in app, core first, NULL-terminated (generated: build/gen/apps.c). */
extern const struct app *const atrium_apps[];
const struct app *app_find(const char *name);
/* Roles of `app`, for rbac.c; NULL if the app or role is unknown. */
const struct role *app_role(const char *app, const char *role);
/* "<app>.audit.read" into buf: reads the app's rows of the audit log. Every
 * app has it; its role named "admin" holds it without listing it
 * (app_role_reads_audit), except the core's, whose admin holds core.*. */
#define APP_PERM_MAX 96
const char *app_audit_perm(const char *app, char buf[APP_PERM_MAX]);
bool app_role_reads_audit(const char *app, const struct role *role);
/* Tests only: make an extra app (roles, topics) known to app_find/app_role
 * and GET /admin/roles; app_test(i) is the i-th one, NULL past the last. */
void app_register_test(const struct app *app);
const struct app *app_test(size_t i);
#endif
