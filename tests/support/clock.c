/* clock.c -- see clock.h. */
#include "clock.h"
#include <stdio.h>
#include <time.h>

/* Rotating buffers: a single one (as codepop's old cp_time_in had) made
 * time_in(30) and time_in(90) in one call print the same text. */
static const char *utc(time_t offset, const char *format)
{
    static __thread char buf[8][32];
    static __thread unsigned k;
    char *out = buf[k++ % 8];
    time_t t = time(NULL) + offset;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, sizeof buf[0], format, &tm);
    return out;
}

const char *time_in(int minutes)
{
    return utc((time_t)minutes * 60, "%Y-%m-%dT%H:%M:%SZ");
}

const char *date_in(int days)
{
    return utc((time_t)days * 86400, "%Y-%m-%d");
}
