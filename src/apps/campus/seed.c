/* seed.c -- `atrium seed campus [--clear]`: a small school with every
 * situation of the spec's test data, dated around today.
 *
 *   programs   BSCS, BSIT, BSA, each with its rate per unit
 *   semesters  1 long past (an INC from it is past its deadline), 2 last
 *              term (grades, the prerequisites passed or failed), 3 current
 *              (classes started 20 days ago, late enrollment open 10 more
 *              days, month 1 already due)
 *   subjects   15, with prerequisite chains CS101 > CS102 > CS201 > CS301,
 *              CS102 > CS202, MATH1 > MATH2, MATH1 > PHYS1, PE1 > PE2
 *   sections   16 this term: MATH1-A seats 3 and is full with a waitlist,
 *              ENG1-B seats 5 with one left, MATH1-A clashes with CS101-A,
 *              CS101-B with MATH2-A; a few last term and one long ago
 *   accounts   campus.admin.1, campus.registrar.1, campus.cashier.1,
 *              campus.supervisor.1 (cashier supervisor), campus.faculty.1..4
 *              (each scoped to their sections), campus.student.1..10; 40 more
 *              students without accounts fill the sections
 *   students   1 partly paid (permit 1 unlocked, one voided payment),
 *              2 at 27 units and fully paid, 3 failed CS101 (CS102 refused:
 *              prerequisites), 4 with a live INC, 5 on leave with an INC whose
 *              deadline two leaves moved, 6 waitlisted in MATH1-A, 7 with a
 *              schedule conflict the registrar overrode, 8 graduated, 9 new
 *              (no enrollment yet), 10 with an INC past its deadline (the
 *              first run of campus.inc_expiry makes it 5.0)
 *   admissions two applications waiting, one approved, one rejected
 *
 * Rows are written directly (past semesters cannot be enrolled through the
 * API); the money goes through the app's own functions (campus_assess,
 * campus_payment_record) so bills, allocations and permits reconcile. One
 * transaction. Seeding again without --clear is a no-op. */
#include "campus.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NFACULTY  4
#define NSTUDENTS 10            /* with accounts */
#define NEXTRA    40            /* without */
#define CURRENT   3             /* the current semester's id */

static const char *const clear_tables[] = {
    "campus_notices", "campus_grade_corrections", "campus_grades", "campus_allocations", "campus_payments",
    "campus_permits", "campus_installments", "campus_assessments", "campus_leaves", "campus_applications",
    "campus_enrollments", "campus_meetings", "campus_sections", "campus_prerequisites", "campus_subjects",
    "campus_fees", "campus_students", "campus_semesters", "campus_programs", NULL};

/* ------------------------------------------------------------ fixed data */

static const struct program {
    const char *code, *name;
    int rate;
} programs[] = {
    {"BSCS", "BS Computer Science", 150000},
    {"BSIT", "BS Information Technology", 140000},
    {"BSA", "BS Accountancy", 160000},
};

static const struct subject {
    const char *code, *title;
    int units;
    const char *requires;       /* a subject code, or NULL */
    int min_grade;              /* hundredths */
} subjects[] = {
    {"CS101", "Introduction to Computing", 3, NULL, 0},
    {"CS102", "Computer Programming 1", 3, "CS101", 300},
    {"CS201", "Data Structures and Algorithms", 3, "CS102", 250},
    {"CS202", "Object-Oriented Programming", 3, "CS102", 300},
    {"CS301", "Design and Analysis of Algorithms", 3, "CS201", 250},
    {"MATH1", "College Algebra", 5, NULL, 0},
    {"MATH2", "Calculus 1", 5, "MATH1", 300},
    {"ENG1", "Purposive Communication", 3, NULL, 0},
    {"FIL1", "Komunikasyon sa Filipino", 3, NULL, 0},
    {"PE1", "Physical Fitness", 2, NULL, 0},
    {"PE2", "Rhythmic Activities", 2, "PE1", 300},
    {"NSTP1", "Civic Welfare Training Service 1", 3, NULL, 0},
    {"PHYS1", "Physics for Computing", 4, "MATH1", 300},
    {"HIST1", "Readings in Philippine History", 3, NULL, 0},
    {"ACC101", "Financial Accounting 1", 3, NULL, 0},
};
#define NSUBJECTS (int)(sizeof subjects / sizeof *subjects)

/* Sections; ids follow this order. days: ISO weekdays as digits. */
static const struct section {
    int semester;
    const char *code, *subject, *room, *days, *from, *to;
    int faculty;                /* 1..NFACULTY, 0 none */
    int capacity;
} sections[] = {
    /* 1..16: the current semester */
    {CURRENT, "CS101-A", "CS101", "R101", "13", "08:00", "09:30", 1, 40},
    {CURRENT, "CS102-A", "CS102", "R102", "24", "08:00", "09:30", 1, 35},
    {CURRENT, "CS201-A", "CS201", "R201", "13", "10:00", "11:30", 2, 30},
    {CURRENT, "CS202-A", "CS202", "R202", "24", "10:00", "11:30", 2, 30},
    {CURRENT, "CS301-A", "CS301", "R203", "5", "08:00", "11:00", 2, 25},
    {CURRENT, "MATH1-A", "MATH1", "R301", "13", "09:00", "10:30", 3, 3},
    {CURRENT, "MATH2-A", "MATH2", "R302", "24", "13:00", "15:00", 3, 30},
    {CURRENT, "ENG1-A", "ENG1", "R401", "13", "13:00", "14:30", 4, 40},
    {CURRENT, "FIL1-A", "FIL1", "R402", "24", "15:00", "16:30", 4, 40},
    {CURRENT, "PE1-A", "PE1", "Gym", "5", "13:00", "15:00", 0, 30},
    {CURRENT, "PE2-A", "PE2", "Gym", "6", "08:00", "10:00", 0, 30},
    {CURRENT, "NSTP1-A", "NSTP1", "R101", "6", "10:00", "13:00", 4, 50},
    {CURRENT, "PHYS1-A", "PHYS1", "Lab 1", "135", "15:00", "16:20", 3, 30},
    {CURRENT, "HIST1-A", "HIST1", "R403", "24", "16:30", "18:00", 4, 40},
    {CURRENT, "CS101-B", "CS101", "R101", "24", "13:00", "14:30", 1, 40},
    {CURRENT, "ENG1-B", "ENG1", "R404", "5", "15:00", "16:30", 4, 5},
    /* 17..22: last semester */
    {2, "CS101-P", "CS101", "R101", "13", "08:00", "09:30", 1, 40},
    {2, "CS102-P", "CS102", "R102", "24", "08:00", "09:30", 1, 40},
    {2, "MATH1-P", "MATH1", "R301", "13", "10:00", "11:30", 3, 40},
    {2, "PE1-P", "PE1", "Gym", "5", "13:00", "15:00", 0, 40},
    {2, "ENG1-P", "ENG1", "R401", "24", "13:00", "14:30", 4, 40},
    {2, "ACC101-P", "ACC101", "R501", "24", "15:00", "16:30", 4, 40},
    /* 23: long ago */
    {1, "CS101-O", "CS101", "R101", "13", "08:00", "09:30", 1, 40},
};
#define NSECTIONS (int)(sizeof sections / sizeof *sections)

static const char *const first_names[] = {"Andrea", "Paolo", "Bea", "Miguel", "Carla", "Jose", "Kristine", "Rafael",
                                          "Angelica", "Mark", "Patricia", "Joshua", "Nicole", "Carlo", "Danica",
                                          "Francis", "Jasmine", "Luis", "Camille", "Gabriel"};
static const char *const last_names[] = {"Santos", "Reyes", "Cruz", "Bautista", "Garcia", "Mendoza", "Torres",
                                         "Flores", "Villanueva", "Ramos", "Aquino", "Castillo", "Navarro",
                                         "Domingo", "Mercado"};

/* The students with accounts and what each of them is for. */
static const char *const student_roles[NSTUDENTS] = {
    "partly paid: permit 1 unlocked, one payment voided", "at 27 units, fully paid: every permit",
    "failed CS101 last term: CS102 is refused (prerequisites)", "an INC in CS102 last term, still within its year",
    "on leave now; an INC whose deadline two leaves moved", "waitlisted in MATH1-A (full)",
    "MATH2-A and CS101-B clash: the registrar overrode it", "graduated", "new: nothing enrolled yet",
    "an INC past its deadline: campus.inc_expiry makes it 5.0"};

/* ----------------------------------------------------------------- world */

struct world {
    int64_t today;              /* days since the epoch */
    int64_t registrar, cashier, supervisor, faculty[NFACULTY + 1];
    int64_t student_user[NSTUDENTS + 1];
    int enrollments, payments, grades;
};

static const char *day(const struct world *w, int offset, char out[11])
{
    date_format(w->today + offset, out);
    return out;
}

static const char *at(const struct world *w, int offset_days, int hour, char out[21])
{
    time_t t = (time_t)(w->today + offset_days) * 86400 + hour * 3600;
    struct tm tm;
    strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
    return out;
}

static int subject_id(const char *code)
{
    for (int i = 0; i < NSUBJECTS; i++)
        if (!strcmp(subjects[i].code, code)) return i + 1;
    return 0;
}

static int section_id(const char *code)
{
    for (int i = 0; i < NSECTIONS; i++)
        if (!strcmp(sections[i].code, code)) return i + 1;
    return 0;
}

/* --------------------------------------------------------------- catalog */

static int seed_semesters(struct db *db, const struct world *w)
{
    /* id, starts (days from today), ends, window opens, window closes */
    static const int dates[3][4] = {{-560, -410, -590, -565}, {-200, -60, -230, -205}, {-20, 130, -25, 10}};
    static const char *const names[] = {"Second semester (two years ago)", "First semester (last term)",
                                        "Second semester (this term)"};
    for (int i = 0; i < 3; i++) {
        char from[11], to[11], opens[21], closes[21], code[16];
        day(w, dates[i][0], from);
        snprintf(code, sizeof code, "%.7s", from);     /* the year and month it starts: unique, 180 days apart */
        if (db_exec(db, "INSERT INTO campus_semesters (id, code, name, starts_on, ends_on, enrollment_opens_at, "
                        "enrollment_closes_at, months) VALUES ($1, $2, $3, $4, $5, $6, $7, 5)",
                    DB_I(i + 1), DB_S(code), DB_S(names[i]), DB_S(from), DB_S(day(w, dates[i][1], to)),
                    DB_S(at(w, dates[i][2], 0, opens)), DB_S(at(w, dates[i][3], 0, closes))) != 1)
            return -1;
    }
    return 0;
}

static int seed_catalog(struct db *db, const struct world *w)
{
    for (int i = 0; i < 3; i++)
        if (db_exec(db, "INSERT INTO campus_programs (id, code, name, rate_per_unit_cents, currency) VALUES ($1, $2, "
                        "$3, $4, 'PHP')",
                    DB_I(i + 1), DB_S(programs[i].code), DB_S(programs[i].name), DB_I(programs[i].rate)) != 1)
            return -1;
    if (seed_semesters(db, w) < 0 ||
        db_exec(db, "INSERT INTO campus_fees (semester_id, program_id, name, amount_cents) VALUES (3, NULL, 'Library', "
                    "250000), (3, NULL, 'Athletics', 100000), (3, 1, 'Computer laboratory', 500000), (3, 2, 'Computer "
                    "laboratory', 500000), (2, NULL, 'Library', 250000), (1, NULL, 'Library', 200000)") != 6)
        return -1;
    for (int i = 0; i < NSUBJECTS; i++) {
        const struct subject *s = &subjects[i];
        if (db_exec(db, "INSERT INTO campus_subjects (id, code, title, units) VALUES ($1, $2, $3, $4)", DB_I(i + 1),
                    DB_S(s->code), DB_S(s->title), DB_I(s->units)) != 1 ||
            (s->requires && db_exec(db, "INSERT INTO campus_prerequisites (subject_id, requires_id, min_grade) VALUES "
                                        "($1, $2, $3)",
                                    DB_I(i + 1), DB_I(subject_id(s->requires)), DB_I(s->min_grade)) != 1))
            return -1;
    }
    for (int i = 0; i < NSECTIONS; i++) {
        const struct section *c = &sections[i];
        if (db_exec(db, "INSERT INTO campus_sections (id, semester_id, subject_id, code, faculty_id, room, capacity) "
                        "VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    DB_I(i + 1), DB_I(c->semester), DB_I(subject_id(c->subject)), DB_S(c->code),
                    c->faculty ? DB_I(w->faculty[c->faculty]) : DB_NULL, DB_S(c->room), DB_I(c->capacity)) != 1)
            return -1;
        for (const char *d = c->days; *d; d++)
            if (db_exec(db, "INSERT INTO campus_meetings (section_id, day, starts_at, ends_at) VALUES ($1, $2, $3, $4)",
                        DB_I(i + 1), DB_I(*d - '0'), DB_S(c->from), DB_S(c->to)) != 1)
                return -1;
    }
    return 0;
}

/* ------------------------------------------------------------ accounts */

static int seed_staff(struct db *db, struct world *w, const struct seed_opts *o)
{
    const char *h = o->password_hash;
    if (seed_user(db, "campus.admin.1", "Campus Administrator", h, "campus", "admin", NULL, 0) < 0 ||
        (w->registrar = seed_user(db, "campus.registrar.1", "Teresita Manalo (Registrar)", h, "campus", "registrar",
                                  NULL, 0)) < 0 ||
        (w->cashier = seed_user(db, "campus.cashier.1", "Rowena Dizon (Cashier)", h, "campus", "cashier", NULL, 0)) < 0 ||
        (w->supervisor = seed_user(db, "campus.supervisor.1", "Ernesto Lim (Cashier supervisor)", h, "campus",
                                   "cashier_supervisor", NULL, 0)) < 0)
        return -1;
    static const char *const names[NFACULTY] = {"Prof. Lorna Javier", "Prof. Ramon Sison", "Prof. Edith Tan",
                                                "Prof. Noel Pascual"};
    for (int f = 1; f <= NFACULTY; f++) {
        char user[32];
        snprintf(user, sizeof user, "campus.faculty.%d", f);
        if ((w->faculty[f] = seed_user(db, user, names[f - 1], h, NULL, NULL, NULL, 0)) < 0) return -1;
    }
    return 0;
}

/* Faculty roles are scoped to each section they teach (after the sections). */
static int seed_faculty_scopes(struct db *db, const struct world *w, const struct seed_opts *o)
{
    for (int i = 0; i < NSECTIONS; i++) {
        int f = sections[i].faculty;
        char user[32];
        snprintf(user, sizeof user, "campus.faculty.%d", f);
        if (f && seed_user(db, user, "", o->password_hash, "campus", "faculty", "section", i + 1) < 0) return -1;
    }
    return 0;
}

/* Students 1..NSTUDENTS have accounts; the rest are names only. Student 8
 * has graduated, student 5 is on leave (set with the leaves). */
static int seed_students(struct db *db, struct world *w, const struct seed_opts *o)
{
    for (int i = 1; i <= NSTUDENTS + NEXTRA; i++) {
        const char *first = first_names[(i * 7) % 20], *last = last_names[(i * 11) % 15];
        char number[16], email[96], user[32], display[96];
        snprintf(number, sizeof number, "2025-%05d", i);
        snprintf(email, sizeof email, "%s.%s.%d@students.school.example", first, last, i);
        for (char *c = email; *c; c++) *c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
        int64_t uid = 0;
        if (i <= NSTUDENTS) {
            snprintf(user, sizeof user, "campus.student.%d", i);
            snprintf(display, sizeof display, "%s %s", first, last);
            if ((uid = seed_user(db, user, display, o->password_hash, "campus", "student", NULL, 0)) < 0) return -1;
            w->student_user[i] = uid;
        }
        if (db_exec(db, "INSERT INTO campus_students (id, user_id, number, program_id, year_level, status, first_name, "
                        "last_name, email) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    DB_I(i), uid ? DB_I(uid) : DB_NULL, DB_S(number), DB_I(i > NSTUDENTS ? 1 + i % 3 : i == 4 ? 2 : i == 8 ? 3 : 1),
                    DB_I(i == 8 ? 4 : 1 + i % 3), DB_S(i == 8 ? "graduated" : "active"), DB_S(first), DB_S(last),
                    DB_S(email)) != 1)
            return -1;
    }
    return 0;
}

/* -------------------------------------------------------------- history */

static int enroll(struct db *db, struct world *w, int student, const char *section, const char *status,
                  const char *override)
{
    int id = section_id(section);
    char when[21];
    const struct section *c = &sections[id - 1];
    at(w, c->semester == CURRENT ? -22 : c->semester == 2 ? -210 : -570, 9, when);
    w->enrollments++;
    return db_exec(db, "INSERT INTO campus_enrollments (student_id, section_id, semester_id, units, status, "
                       "override_reason, override_by, created_by, enrolled_at, created_at, updated_at) VALUES ($1, $2, "
                       "$3, $4, $5, $6, $7, $7, $8, $9, $9)",
                   DB_I(student), DB_I(id), DB_I(c->semester), DB_I(subjects[subject_id(c->subject) - 1].units),
                   DB_S(status), DB_S(override), override ? DB_I(w->registrar) : DB_NULL,
                   !strcmp(status, "enrolled") ? DB_S(when) : DB_NULL, DB_S(when)) == 1
               ? 0 : -1;
}

/* A grade of the student's enrollment in section: "2.25", "INC" (given on
 * `inc_offset` days from today) or "DRP"; finalized by the registrar. */
static int grade(struct db *db, struct world *w, int student, const char *section, const char *value, int inc_offset)
{
    int64_t enrollment = 0;
    char given[11], final[21];
    const struct section *c = &sections[section_id(section) - 1];
    if (enroll(db, w, student, section, "enrolled", NULL) < 0 ||
        db_int(db, &enrollment, "SELECT MAX(id) FROM campus_enrollments WHERE student_id = $1", DB_I(student)) != 1)
        return -1;
    bool inc = !strcmp(value, "INC"), drp = !strcmp(value, "DRP");
    int64_t hundredths = inc || drp ? 0 : (int64_t)(strtod(value, NULL) * 100 + 0.5);
    at(w, inc ? inc_offset : c->semester == 2 ? -58 : -408, 10, final);
    w->grades++;
    return db_exec(db, "INSERT INTO campus_grades (enrollment_id, kind, value, status, inc_given_on, submitted_by, "
                       "submitted_at, finalized_by, finalized_at, updated_at) VALUES ($1, $2, $3, 'finalized', $4, $5, "
                       "$6, $7, $6, $6)",
                   DB_I(enrollment), DB_S(inc ? "INC" : drp ? "DRP" : "numeric"), hundredths ? DB_I(hundredths) : DB_NULL,
                   inc ? DB_S(day(w, inc_offset, given)) : DB_NULL, c->faculty ? DB_I(w->faculty[c->faculty]) : DB_NULL,
                   DB_S(final), DB_I(w->registrar)) == 1
               ? 0 : -1;
}

/* Last term and before: grades that make the prerequisites and the INCs. */
static int seed_history(struct db *db, struct world *w)
{
    static const struct {
        int student;
        const char *section, *grade;
        int inc_offset;
    } rows[] = {
        {1, "CS101-P", "2.00", 0}, {1, "MATH1-P", "2.50", 0}, {1, "PE1-P", "1.75", 0}, {1, "ENG1-P", "1.50", 0},
        {2, "CS101-O", "1.75", 0}, {2, "CS102-P", "2.25", 0}, {2, "MATH1-P", "2.00", 0}, {2, "PE1-P", "1.25", 0},
        {3, "CS101-P", "5.00", 0}, {3, "ENG1-P", "2.75", 0},
        {4, "CS101-O", "2.50", 0}, {4, "CS102-P", "INC", -60}, {4, "MATH1-P", "2.75", 0},
        {5, "CS101-O", "INC", -380}, {5, "PE1-P", "1.50", 0},
        {6, "ENG1-P", "2.00", 0}, {6, "PE1-P", "DRP", 0},
        {7, "ENG1-P", "1.50", 0}, {7, "MATH1-P", "2.25", 0},
        {8, "CS101-O", "1.25", 0}, {8, "CS102-P", "1.50", 0}, {8, "ACC101-P", "1.00", 0},
        {10, "CS101-O", "INC", -405}, {10, "ENG1-P", "3.00", 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++)
        if (grade(db, w, rows[i].student, rows[i].section, rows[i].grade, rows[i].inc_offset) < 0) return -1;
    /* Student 5: a month's leave last term (inside the INC's year) and the
     * current one; both move the INC's deadline. */
    char a[11], b[11], c[11], d[11];
    return db_exec(db, "INSERT INTO campus_leaves (student_id, starts_on, ends_on, reason, recorded_by) VALUES "
                       "(5, $1, $2, 'Medical leave (dengue)', $5), (5, $3, $4, 'Family emergency abroad', $5)",
                   DB_S(day(w, -200, a)), DB_S(day(w, -171, b)), DB_S(day(w, -10, c)), DB_S(day(w, 50, d)),
                   DB_I(w->registrar)) == 2 &&
                   db_exec(db, "UPDATE campus_students SET status = 'on_leave' WHERE id = 5") == 1
               ? 0 : -1;
}

/* ------------------------------------------------------------ this term */

static int seed_current(struct db *db, struct world *w)
{
    static const struct {
        int student;
        const char *sections;   /* space-separated codes */
    } loads[] = {
        {1, "CS102-A MATH2-A PE2-A FIL1-A NSTP1-A"},
        {2, "CS201-A CS202-A MATH2-A PHYS1-A ENG1-A FIL1-A HIST1-A NSTP1-A"},     /* 27 units */
        {3, "CS101-B FIL1-A PE1-A HIST1-A"},
        {4, "ENG1-A FIL1-A PE1-A MATH2-A"},
        {6, "CS101-B HIST1-A PE1-A"},
        {10, "FIL1-A HIST1-A NSTP1-A PE1-A"},
    };
    for (size_t i = 0; i < sizeof loads / sizeof *loads; i++) {
        char list[128], *save = NULL;
        snprintf(list, sizeof list, "%s", loads[i].sections);
        for (char *code = strtok_r(list, " ", &save); code; code = strtok_r(NULL, " ", &save))
            if (enroll(db, w, loads[i].student, code, "enrolled", NULL) < 0) return -1;
    }
    if (enroll(db, w, 7, "MATH2-A", "enrolled", NULL) < 0 ||
        enroll(db, w, 7, "CS101-B", "enrolled", "Graduating student; the instructor holds make-up sessions") < 0 ||
        enroll(db, w, 7, "PE1-A", "enrolled", NULL) < 0)
        return -1;
    /* the others fill the sections: MATH1-A full (student 6 waits), ENG1-B with one seat left */
    for (int s = NSTUDENTS + 1; s <= NSTUDENTS + NEXTRA; s++) {
        if ((s <= NSTUDENTS + 3 && enroll(db, w, s, "MATH1-A", "enrolled", NULL) < 0) ||
            (s > NSTUDENTS + 3 && s <= NSTUDENTS + 7 && enroll(db, w, s, "ENG1-B", "enrolled", NULL) < 0) ||
            enroll(db, w, s, s <= NSTUDENTS + 3 || s % 2 == 0 ? "CS101-B" : "CS101-A", "enrolled", NULL) < 0 ||
            (s > NSTUDENTS + 7 && enroll(db, w, s, s % 3 ? "NSTP1-A" : "FIL1-A", "enrolled", NULL) < 0) ||
            enroll(db, w, s, s % 2 ? "PE1-A" : "HIST1-A", "enrolled", NULL) < 0)
            return -1;
    }
    if (enroll(db, w, 6, "MATH1-A", "waitlisted", NULL) < 0 ||
        enroll(db, w, NSTUDENTS + 8, "MATH1-A", "waitlisted", NULL) < 0)
        return -1;
    /* the counters, then every bill of every semester */
    if (db_exec(db, "UPDATE campus_sections SET enrolled = (SELECT COUNT(*) FROM campus_enrollments e WHERE "
                    "e.section_id = campus_sections.id AND e.status = 'enrolled'), waitlisted = (SELECT COUNT(*) FROM "
                    "campus_enrollments e WHERE e.section_id = campus_sections.id AND e.status = 'waitlisted')") < 0)
        return -1;
    json_t *bills = db_json_all(db, "SELECT DISTINCT student_id, semester_id FROM campus_enrollments ORDER BY "
                                    "semester_id, student_id");
    size_t i;
    json_t *b;
    int rc = bills ? 0 : -1;
    json_array_foreach(bills, i, b) if (rc == 0) rc = campus_assess(db, json_integer_value(json_object_get(b, "student_id")),
                                                                   json_integer_value(json_object_get(b, "semester_id")));
    json_decref(bills);
    return rc;
}

/* ---------------------------------------------------------------- money */

static int64_t pay(struct db *db, struct world *w, int student, int semester, int64_t amount, const char *method,
                   const char *reference, int64_t cashier)
{
    int64_t id = campus_payment_record(db, student, semester, "PHP", amount, method, reference, cashier);
    if (id > 0) w->payments++;
    return id;
}

static int64_t owed(struct db *db, int student, int semester)
{
    int64_t total = -1;
    db_int(db, &total, "SELECT total_cents FROM campus_assessments WHERE student_id = $1 AND semester_id = $2",
           DB_I(student), DB_I(semester));
    return total;
}

/* Past terms are paid in full; this term: student 1 pays month 1 and part
 * of month 2 (and a duplicate the supervisor voided), student 2 all, the
 * others a month or part of one, by cash, card, bank transfer and e-wallet. */
static int seed_money(struct db *db, struct world *w)
{
    static const char *const methods[] = {"cash", "card", "bank_transfer", "e_wallet", "check"};
    json_t *past = db_json_all(db, "SELECT student_id, semester_id, total_cents FROM campus_assessments WHERE "
                                   "semester_id <> $1 ORDER BY id", DB_I(CURRENT));
    size_t i;
    json_t *a;
    int rc = past ? 0 : -1;
    json_array_foreach(past, i, a) if (rc == 0 && pay(db, w, (int)json_integer_value(json_object_get(a, "student_id")),
                                                      (int)json_integer_value(json_object_get(a, "semester_id")),
                                                      json_integer_value(json_object_get(a, "total_cents")), "cash", "",
                                                      w->cashier) < 0) rc = -1;
    json_decref(past);
    if (rc < 0) return -1;
    int64_t one = owed(db, 1, CURRENT), two = owed(db, 2, CURRENT);
    int64_t dup;
    if (one <= 0 || two <= 0 || pay(db, w, 1, CURRENT, one / 5 + one / 10, "e_wallet", "GCash 0917-555-0142", w->cashier) < 0 ||
        (dup = pay(db, w, 1, CURRENT, one / 5, "cash", "", w->cashier)) < 0 ||
        db_exec(db, "UPDATE campus_payments SET status = 'void', void_reason = 'Entered twice at the window', "
                    "voided_by = $2, voided_at = " CAMPUS_NOW_SQL " WHERE id = $1", DB_I(dup), DB_I(w->supervisor)) != 1 ||
        campus_allocate(db, 1, CURRENT) < 0 ||
        pay(db, w, 2, CURRENT, two, "bank_transfer", "BDO ref 88120455", w->cashier) < 0)
        return -1;
    for (int s = 4; s <= NSTUDENTS + NEXTRA; s++) {
        int64_t total = owed(db, s, CURRENT);
        if (total <= 0 || s % 3 == 0) continue;    /* a third has not paid yet */
        if (pay(db, w, s, CURRENT, s % 2 ? total / 5 : total / 8, methods[s % 5], "",
                s % 4 ? w->cashier : w->supervisor) < 0)
            return -1;
    }
    return 0;
}

/* ----------------------------------------------------------- admissions */

static int seed_admissions(struct db *db, const struct world *w)
{
    char a[21], b[21], c[21], d[21];
    return db_exec(db, "INSERT INTO campus_applications (reference, first_name, last_name, email, program_id, status, "
                       "decision_reason, decided_by, decided_at, created_at) VALUES "
                       "('APP-DEMO7K3Q9X', 'Lea', 'Manalastas', 'lea.manalastas@mail.example', 1, 'submitted', NULL, "
                       "NULL, NULL, $1), "
                       "('APP-DEMO4M8W2R', 'Jerome', 'Abad', 'jerome.abad@mail.example', 2, 'submitted', NULL, NULL, "
                       "NULL, $2), "
                       "('APP-DEMO3H5N8L', 'Kevin', 'Uy', 'kevin.uy@mail.example', 3, 'rejected', 'The program is full "
                       "for this year; please apply again next term', $3, $4, $4)",
                   DB_S(at(w, -2, 14, a)), DB_S(at(w, -1, 9, b)), DB_I(w->registrar), DB_S(at(w, -5, 16, c))) == 3 &&
                   /* student 9 came in through admissions a month ago */
                   db_exec(db, "INSERT INTO campus_applications (reference, first_name, last_name, email, program_id, "
                               "status, decided_by, decided_at, student_id, created_at) SELECT 'APP-DEMO9P2T6V', "
                               "first_name, last_name, email, program_id, 'approved', $1, $2, id, $2 FROM "
                               "campus_students WHERE id = 9",
                           DB_I(w->registrar), DB_S(at(w, -30, 11, d))) == 1
               ? 0 : -1;
}

/* ------------------------------------------------------------------ seed */

static void list_accounts(void)
{
    seed_account("campus.admin.1", "campus admin: everything");
    seed_account("campus.registrar.1", "registrar: enrolls anyone, overrides, leaves, grades, admissions");
    seed_account("campus.cashier.1", "cashier: student search, payments, receipts, daily collections");
    seed_account("campus.supervisor.1", "cashier supervisor: a cashier who also voids payments");
    seed_account("campus.faculty.<1..4>", "faculty: rosters and grades of their sections, permit checks");
    for (int i = 0; i < NSTUDENTS; i++) {
        char user[32];
        snprintf(user, sizeof user, "campus.student.%d", i + 1);
        seed_account(user, student_roles[i]);
    }
}

static int seed_all(struct db *db, struct world *w, const struct seed_opts *o)
{
    if ((o->clear && seed_clear(db, "campus", clear_tables) < 0) || seed_staff(db, w, o) < 0 ||
        seed_catalog(db, w) < 0 || seed_faculty_scopes(db, w, o) < 0 || seed_students(db, w, o) < 0 ||
        seed_history(db, w) < 0 || seed_current(db, w) < 0 || seed_money(db, w) < 0 || seed_admissions(db, w) < 0 ||
        db_sync_ids(db, false) < 0)
        return -1;
    return audit_write_as(db, 0, "campus", "campus.demo_data.seeded", "app", 0,
                          json_pack("{s:b, s:i, s:i, s:i, s:i, s:i, s:i}", "cleared", o->clear, "subjects", NSUBJECTS,
                                    "sections", NSECTIONS, "students", NSTUDENTS + NEXTRA, "enrollments",
                                    w->enrollments, "grades", w->grades, "payments", w->payments));
}

int campus_seed(struct db *db, const struct seed_opts *opts)
{
    struct world w = {.today = date_today()};
    int64_t present = 0;
    if (!opts->password_hash) {
        fprintf(stderr, "atrium: campus_seed needs the demo password hash\n");
        return -1;
    }
    if (!opts->clear) {
        if (db_int(db, &present, "SELECT COUNT(*) FROM campus_programs") != 1) return -1;
        if (present > 0) {
            printf("campus: demo data already present (%lld programs); nothing seeded (use --clear to reseed)\n",
                   (long long)present);
            list_accounts();
            return 0;
        }
    }
    if (db_begin(db) < 0) return -1;
    if (seed_all(db, &w, opts) < 0 || db_commit(db) < 0) {
        db_rollback(db);
        return -1;
    }
    if (opts->progress)
        printf("  campus: %d subjects, %d sections, %d students, %d enrollments, %d grades, %d payments\n", NSUBJECTS,
               NSECTIONS, NSTUDENTS + NEXTRA, w.enrollments, w.grades, w.payments);
    list_accounts();
    return 0;
}
