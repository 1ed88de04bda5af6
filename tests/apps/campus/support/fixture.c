/* fixture.c -- see fixture.h. */
#include "fixture.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The enrollment window of semester 1 is open now: opened a day ago,
 * closes in a week. */
static void window(char opens[32], char closes[32])
{
    time_t now = time(NULL), a = now - 86400, b = now + 7 * 86400;
    struct tm tm;
    strftime(opens, 32, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&a, &tm));
    strftime(closes, 32, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&b, &tm));
}

void cs_fixture(void)
{
    char opens[32], closes[32];
    window(opens, closes);
    int64_t fac1 = test_user("cs_fac1", "campus", "faculty", "section", 1);
    int64_t fac2 = test_user("cs_fac2", "campus", "faculty", "section", 2);
    char *sql = xasprintf(
        "INSERT INTO campus_programs (id, code, name, rate_per_unit_cents, currency) VALUES"
        " (1, 'BSCS', 'BS Computer Science', 150000, 'PHP');"
        "INSERT INTO campus_semesters (id, code, name, starts_on, ends_on, enrollment_opens_at,"
        " enrollment_closes_at, months) VALUES"
        " (1, '2026-1', 'First semester 2026', '2026-06-01', '2026-10-31', '%s', '%s', 5),"
        " (2, '2025-2', 'Second semester 2025', '2025-11-03', '2026-03-31', '2025-10-01T00:00:00Z',"
        " '2025-10-31T00:00:00Z', 5);"
        "INSERT INTO campus_fees (semester_id, program_id, name, amount_cents) VALUES"
        " (1, NULL, 'Library', 250000), (1, 1, 'Laboratory', 500000);"
        "INSERT INTO campus_subjects (id, code, title, units) VALUES"
        " (1, 'CS101', 'Introduction to Computing', 3), (2, 'CS102', 'Programming 1', 3),"
        " (3, 'CS201', 'Data Structures', 3), (4, 'MATH1', 'College Algebra', 5), (5, 'PE1', 'Physical Fitness', 2);"
        "INSERT INTO campus_prerequisites (subject_id, requires_id, min_grade) VALUES (2, 1, 300), (3, 2, 250);"
        "INSERT INTO campus_sections (id, semester_id, subject_id, code, faculty_id, room, capacity) VALUES"
        " (1, 1, 1, 'CS101-A', %lld, 'R101', 40), (2, 1, 2, 'CS102-A', %lld, 'R102', 30),"
        " (3, 1, 4, 'MATH1-A', %lld, 'R201', 2), (4, 1, 5, 'PE1-A', NULL, 'Gym', 25),"
        " (5, 2, 1, 'CS101-Z', %lld, 'R101', 40);"
        "INSERT INTO campus_meetings (section_id, day, starts_at, ends_at) VALUES"
        " (1, 1, '08:00', '09:30'), (1, 3, '08:00', '09:30'), (2, 2, '10:00', '11:30'), (2, 4, '10:00', '11:30'),"
        " (3, 1, '09:00', '10:30'), (3, 3, '09:00', '10:30'), (4, 5, '13:00', '15:00'), (5, 1, '08:00', '11:00');",
        opens, closes, (long long)fac1, (long long)fac2, (long long)fac1, (long long)fac1);
    test_fixture_sql("campus", sql);
    free(sql);

    test_user("cs_admin", "campus", "admin", NULL, 0);
    test_user("cs_registrar", "campus", "registrar", NULL, 0);
    test_user("cs_cashier", "campus", "cashier", NULL, 0);
    test_user("cs_super", "campus", "cashier_supervisor", NULL, 0);
    test_user("cs_nobody", NULL, NULL, NULL, 0);
    for (int i = 1; i <= 3; i++) {
        char name[16];
        snprintf(name, sizeof name, "cs_stu%d", i);
        int64_t uid = test_user(name, "campus", "student", NULL, 0);
        char *st = xasprintf("INSERT INTO campus_students (id, user_id, number, program_id, year_level, first_name,"
                             " last_name, email) VALUES (%d, %lld, '2026-%05d', 1, 1, 'Student', '%d', '%s@school.test')",
                             i, (long long)uid, i, i, name);
        test_fixture_sql("campus student", st);
        free(st);
    }
}

void cs_start(void)
{
    srv_start();
    cs_fixture();
}
