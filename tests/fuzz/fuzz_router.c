/* libFuzzer harness: route matching over every compiled-in route table.
 * Input: first byte picks the method, the rest is the request path.
 * Invariant: a match leaves no reply; a miss replies exactly 404 or 405. */
#include "atrium.h"
#include "internal.h"
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char err[256];
    setenv("ATRIUM_LOG_LEVEL", "error", 1);
    if (config_load(NULL, err, sizeof err) < 0) abort();
    for (const struct app *const *a = atrium_apps; *a; a++) http_register_routes((*a)->routes);
    router_freeze();
    return 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    if (size < 1 || size > 4096) return 0;
    struct req r = {0};
    r.pool = pool_new();
    char *path = pool_alloc(r.pool, size);
    memcpy(path, data + 1, size - 1);
    path[size - 1] = 0;
    r.path = path;
    r.method = 1 << (data[0] % 5);
    int rc = router_match(&r);
    if (rc == 0 && (!r.route || r.status)) abort();
    if (rc < 0 && r.status != 404 && r.status != 405) abort();
    for (int i = 0; rc == 0 && i < REQ_MAX_PARAMS; i++)
        if (r.param_int[i] < 0) abort();
    free(r.resp_body);
    json_decref(r.resp_headers);
    pool_free(r.pool);
    return 0;
}
