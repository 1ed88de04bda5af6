/* clock.h -- times relative to now, as the API writes them (UTC). Each
 * returns one of eight rotating buffers, so several results can be used in
 * one expression (a start and an end). */
#ifndef ATRIUM_TEST_CLOCK_H
#define ATRIUM_TEST_CLOCK_H

/* RFC 3339 UTC, `minutes` from now (negative: in the past). */
const char *time_in(int minutes);
/* A UTC date (YYYY-MM-DD), `days` from today. */
const char *date_in(int days);
#endif
