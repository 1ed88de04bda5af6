/* date.c -- calendar dates as days since 1970-01-01 (UTC), for the rules that
 * count days: INC deadlines moved by leaves, due dates, date query
 * parameters. Written YYYY-MM-DD everywhere (the API, the database). */
#include "atrium.h"
#include <string.h>
#include <time.h>

bool date_parse(const char *s, int64_t *days)
{
    struct tm tm = {0};
    const char *end = s && strlen(s) == 10 ? strptime(s, "%Y-%m-%d", &tm) : NULL;
    if (!end || *end) return false;
    time_t t = timegm(&tm);
    char again[16];
    date_format(t / 86400, again);
    if (strcmp(again, s)) return false;         /* 2026-02-30 and friends */
    if (days) *days = t / 86400;
    return true;
}

void date_format(int64_t days, char out[11])
{
    time_t t = (time_t)days * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

int64_t date_today(void)
{
    return (int64_t)time(NULL) / 86400;
}

/* The same month and day `years` later; 29 February becomes 1 March. */
int64_t date_add_years(int64_t days, int years)
{
    time_t t = (time_t)days * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    tm.tm_year += years;
    return (int64_t)timegm(&tm) / 86400;
}
