/* log.c -- JSON-lines logging to stdout: one object per line, written with a
 * single fwrite under the stdio lock so lines from threads never interleave.
 * Callers never log passwords, tokens or personal data. */
#include "atrium.h"
#include <stdarg.h>
#include <stdlib.h>
#include <sys/time.h>

static const char *level_names[] = {"debug", "info", "warn", "error"};

void log_json(int level, json_t *extra, const char *fmt, ...)
{
    if (level < cfg.log_level) {
        json_decref(extra);
        return;
    }
    char msg[1024], when[40];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);

    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(tv.tv_usec / 1000));

    json_t *o = json_pack("{s:s, s:s, s:s}", "time", when, "level", level_names[level & 3], "msg", msg);
    if (extra) json_object_update(o, extra);
    json_decref(extra);
    char *line = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!line) return;
    flockfile(stdout);
    fputs(line, stdout);
    fputc('\n', stdout);
    fflush(stdout);
    funlockfile(stdout);
    free(line);
}
