/* embed.h -- files compiled into the binary (migrations, data lists, web assets).
 * The table is generated at build time by tools/embed.c into build/gen/embedded.c. */
#ifndef ATRIUM_EMBED_H
#define ATRIUM_EMBED_H
#include <stddef.h>

struct embedded_file {
    const char *path;           /* source-tree path, e.g. "src/core/migrations/001_core.sql" */
    const unsigned char *data;  /* NUL-terminated copy of the file */
    long len;
};
extern const struct embedded_file embedded_files[];   /* ends with path == NULL */

const struct embedded_file *embed_find(const char *path);
#endif
