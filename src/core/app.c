/* app.c -- the core's side of the app interface (app.h): finding an app and
 * its roles by name. Which apps exist is not written here: the build
 * generates the list `atrium_apps[]` from the folders under src/apps/
 * (build/gen/apps.c, see the Makefile), so adding an app is adding a folder. */
#include "atrium.h"
#include <stdlib.h>
#include <string.h>

static const struct app *test_apps[4];

void app_register_test(const struct app *app)
{
    for (size_t i = 0; i < sizeof test_apps / sizeof test_apps[0]; i++)
        if (!test_apps[i] || test_apps[i] == app) {
            test_apps[i] = app;
            return;
        }
}

const struct app *app_test(size_t i)
{
    return i < sizeof test_apps / sizeof test_apps[0] ? test_apps[i] : NULL;
}

const struct app *app_find(const char *name)
{
    for (const struct app *const *a = atrium_apps; *a; a++)
        if (!strcmp((*a)->name, name)) return *a;
    for (size_t i = 0; i < sizeof test_apps / sizeof test_apps[0] && test_apps[i]; i++)
        if (!strcmp(test_apps[i]->name, name)) return test_apps[i];
    return NULL;
}

int64_t app_topic_id(const char *topic, const char *prefix)
{
    size_t n = strlen(prefix);
    char *end;
    if (strncmp(topic, prefix, n) || topic[n] < '0' || topic[n] > '9') return 0;
    long long id = strtoll(topic + n, &end, 10);
    return *end || id <= 0 ? 0 : id;
}

const char *app_audit_perm(const char *app, char buf[APP_PERM_MAX])
{
    snprintf(buf, APP_PERM_MAX, "%s.audit.read", app);
    return buf;
}

bool app_role_reads_audit(const char *app, const struct role *role)
{
    return role && !strcmp(role->name, "admin") && strcmp(app, "core");
}

const struct role *app_role(const char *app, const char *role)
{
    const struct app *a = app_find(app);
    for (const struct role *r = a ? a->roles : NULL; r && r->name; r++)
        if (!strcmp(r->name, role)) return r;
    return NULL;
}
