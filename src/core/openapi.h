/* openapi.h -- the API contract (openapi.c): the OpenAPI 3.1 document built
 * from the route tables and each app's api.json, the pages that show it, and
 * the endpoint tables of `atrium routes` (the docs' generated sections). */
#ifndef ATRIUM_OPENAPI_H
#define ATRIUM_OPENAPI_H
#include <stdbool.h>
#include <stdio.h>

/* The vendored ReDoc (vendor/redoc/, see docs/THIRD_PARTY.md). Its version is
 * in the bundle's URL, so browsers may cache it for a year. */
#define REDOC_VERSION "2.5.2"
#define REDOC_BUNDLE_PATH "/api/docs/redoc-" REDOC_VERSION ".standalone.js"

void openapi_json(struct req *r);       /* GET /api/v1/openapi.json */
void openapi_docs_page(struct req *r);  /* GET /api/docs */
void openapi_docs_bundle(struct req *r); /* GET REDOC_BUNDLE_PATH */

/* The document of the registered routes (built on the first call, any
 * thread, then cached): its serialized text, or NULL if it cannot be built. */
const char *openapi_text(size_t *len);

/* `atrium routes`: app's endpoint table (method, path, permission, body,
 * answers) from its route table and api.json, as aligned text or as the
 * Markdown table the docs hold. -1 when the app is unknown. */
int openapi_print_routes(FILE *out, const char *app, bool markdown);
#endif
