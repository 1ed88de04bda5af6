/* Calendar dates (date.c): what is a real date, the day arithmetic the
 * INC deadlines and the daily reports rest on. */
#include "support/harness.h"

Test(date, only_real_dates_written_yyyy_mm_dd_parse)
{
    int64_t d = 0;
    cr_assert(date_parse("1970-01-01", &d));
    cr_assert_eq(d, 0);
    cr_assert(date_parse("2024-02-29", &d), "a leap day");
    cr_assert_eq(d, 19782);
    static const char *const bad[] = {"2026-02-29", "2026-02-30", "2026-13-01", "2026-00-10", "2026-1-01",
                                      "2026-01-1",  "26-01-01",   "2026/01/01", "2026-01-01x", "", NULL};
    for (int i = 0; bad[i]; i++) cr_assert_not(date_parse(bad[i], &d), "%s", bad[i]);
    cr_assert_not(date_parse(NULL, &d));
    cr_assert(date_parse("1969-12-31", &d), "before the epoch");
    cr_assert_eq(d, -1);
}

Test(date, a_year_later_and_back)
{
    int64_t d;
    char out[11];
    cr_assert(date_parse("2024-02-29", &d));
    date_format(date_add_years(d, 1), out);
    cr_assert_str_eq(out, "2025-03-01", "29 February + 1 year is 1 March");
    cr_assert(date_parse("2025-01-10", &d));
    date_format(date_add_years(d, 1), out);
    cr_assert_str_eq(out, "2026-01-10");
    date_format(date_add_years(d, -1), out);
    cr_assert_str_eq(out, "2024-01-10");
    cr_assert(date_parse("2025-12-31", &d));
    date_format(d + 1, out);
    cr_assert_str_eq(out, "2026-01-01");
    date_format(-1, out);
    cr_assert_str_eq(out, "1969-12-31");
}
