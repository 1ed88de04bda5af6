-- campus: programs and their fees, semesters, subjects with prerequisite
-- chains, sections and their meetings, students, enrollments and waitlists,
-- assessments with monthly installments, payments and their allocations,
-- exam permits, grades, leaves of absence and admissions.
-- Times are RFC 3339 UTC text, dates YYYY-MM-DD, meeting times HH:MM in the
-- school's time; money is integer cents with a currency code. Grades are
-- hundredths on the 1.00 (best) to 5.00 (failed) scale: 100..500, so that no
-- float ever compares a grade. Portable SQL only (docs/ARCHITECTURE.md).

CREATE TABLE campus_programs (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    rate_per_unit_cents INTEGER NOT NULL CHECK (rate_per_unit_cents >= 0),
    currency TEXT NOT NULL DEFAULT 'PHP',
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now'))
);

-- A semester: classes from starts_on to ends_on, enrollment inside
-- [enrollment_opens_at, enrollment_closes_at), fees paid in `months` equal
-- monthly installments due on the same day of each month from starts_on.
CREATE TABLE campus_semesters (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL,
    enrollment_opens_at TEXT NOT NULL,
    enrollment_closes_at TEXT NOT NULL,
    months INTEGER NOT NULL CHECK (months BETWEEN 1 AND 12),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),
    CHECK (starts_on < ends_on),
    CHECK (enrollment_opens_at < enrollment_closes_at)
);

-- Fees on top of tuition: for every program of the semester (program_id
-- NULL) or for one program.
CREATE TABLE campus_fees (
    id INTEGER PRIMARY KEY,
    semester_id INTEGER NOT NULL REFERENCES campus_semesters(id),
    program_id INTEGER REFERENCES campus_programs(id),
    name TEXT NOT NULL,
    amount_cents INTEGER NOT NULL CHECK (amount_cents >= 0)
);
CREATE INDEX campus_fees_semester ON campus_fees(semester_id, program_id);

CREATE TABLE campus_subjects (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    units INTEGER NOT NULL CHECK (units BETWEEN 1 AND 10),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now'))
);

-- subject_id requires a finalized grade in requires_id at or better than
-- min_grade (hundredths; 300 = the usual passing 3.00).
CREATE TABLE campus_prerequisites (
    subject_id INTEGER NOT NULL REFERENCES campus_subjects(id),
    requires_id INTEGER NOT NULL REFERENCES campus_subjects(id),
    min_grade INTEGER NOT NULL DEFAULT 300 CHECK (min_grade BETWEEN 100 AND 500),
    PRIMARY KEY (subject_id, requires_id),
    CHECK (subject_id <> requires_id)
);
CREATE INDEX campus_prerequisites_requires ON campus_prerequisites(requires_id);

-- enrolled and waitlisted are kept by the enrollment code in the same
-- transaction as the enrollment rows (a recount is in the tests).
CREATE TABLE campus_sections (
    id INTEGER PRIMARY KEY,
    semester_id INTEGER NOT NULL REFERENCES campus_semesters(id),
    subject_id INTEGER NOT NULL REFERENCES campus_subjects(id),
    code TEXT NOT NULL,
    faculty_id INTEGER REFERENCES users(id),
    room TEXT NOT NULL DEFAULT '',
    capacity INTEGER NOT NULL CHECK (capacity >= 1),
    enrolled INTEGER NOT NULL DEFAULT 0 CHECK (enrolled >= 0),
    waitlisted INTEGER NOT NULL DEFAULT 0 CHECK (waitlisted >= 0),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),
    UNIQUE (semester_id, code)
);
CREATE INDEX campus_sections_subject ON campus_sections(subject_id, semester_id);
CREATE INDEX campus_sections_faculty ON campus_sections(faculty_id, semester_id);

-- day: ISO weekday, 1 = Monday .. 7 = Sunday.
CREATE TABLE campus_meetings (
    id INTEGER PRIMARY KEY,
    section_id INTEGER NOT NULL REFERENCES campus_sections(id),
    day INTEGER NOT NULL CHECK (day BETWEEN 1 AND 7),
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    CHECK (starts_at < ends_at)
);
CREATE INDEX campus_meetings_section ON campus_meetings(section_id);

CREATE TABLE campus_students (
    id INTEGER PRIMARY KEY,
    user_id INTEGER UNIQUE REFERENCES users(id),
    number TEXT NOT NULL UNIQUE,
    program_id INTEGER NOT NULL REFERENCES campus_programs(id),
    year_level INTEGER NOT NULL CHECK (year_level BETWEEN 1 AND 6),
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'on_leave', 'graduated')),
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    email TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now'))
);
CREATE INDEX campus_students_name ON campus_students(last_name, first_name);

-- One row per attempt: a drop keeps its row (status dropped) and a later
-- enrollment in the same section is a new row. units and semester_id copy
-- the section's, so a semester's load is one indexed sum. A waitlisted row
-- waits in id order (its position is the count of waitlisted rows before it).
CREATE TABLE campus_enrollments (
    id INTEGER PRIMARY KEY,
    student_id INTEGER NOT NULL REFERENCES campus_students(id),
    section_id INTEGER NOT NULL REFERENCES campus_sections(id),
    semester_id INTEGER NOT NULL REFERENCES campus_semesters(id),
    units INTEGER NOT NULL CHECK (units >= 1),
    status TEXT NOT NULL CHECK (status IN ('enrolled', 'dropped', 'waitlisted')),
    override_reason TEXT,
    override_by INTEGER REFERENCES users(id),
    created_by INTEGER REFERENCES users(id),
    enrolled_at TEXT,
    dropped_at TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now'))
);
CREATE UNIQUE INDEX campus_enrollments_live ON campus_enrollments(student_id, section_id)
    WHERE status IN ('enrolled', 'waitlisted');
CREATE INDEX campus_enrollments_student ON campus_enrollments(student_id, semester_id, status);
CREATE INDEX campus_enrollments_section ON campus_enrollments(section_id, status, id);

-- The semester's bill, recomputed on every enrollment change: units x the
-- program's rate plus the semester's fees, in `months` installments.
CREATE TABLE campus_assessments (
    id INTEGER PRIMARY KEY,
    student_id INTEGER NOT NULL REFERENCES campus_students(id),
    semester_id INTEGER NOT NULL REFERENCES campus_semesters(id),
    units INTEGER NOT NULL DEFAULT 0,
    tuition_cents INTEGER NOT NULL DEFAULT 0 CHECK (tuition_cents >= 0),
    fees_cents INTEGER NOT NULL DEFAULT 0 CHECK (fees_cents >= 0),
    total_cents INTEGER NOT NULL DEFAULT 0 CHECK (total_cents >= 0),
    currency TEXT NOT NULL,
    computed_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),
    UNIQUE (student_id, semester_id)
);

-- amount_cents: equal shares, the remainder on the last month. paid_cents is
-- the sum of the allocations to it (kept in the same transaction).
CREATE TABLE campus_installments (
    id INTEGER PRIMARY KEY,
    assessment_id INTEGER NOT NULL REFERENCES campus_assessments(id),
    month INTEGER NOT NULL CHECK (month BETWEEN 1 AND 12),
    due_on TEXT NOT NULL,
    amount_cents INTEGER NOT NULL CHECK (amount_cents >= 0),
    paid_cents INTEGER NOT NULL DEFAULT 0 CHECK (paid_cents >= 0),
    overdue INTEGER NOT NULL DEFAULT 0 CHECK (overdue IN (0, 1)),
    reminded_on TEXT,
    UNIQUE (assessment_id, month)
);

CREATE TABLE campus_payments (
    id INTEGER PRIMARY KEY,
    student_id INTEGER NOT NULL REFERENCES campus_students(id),
    semester_id INTEGER NOT NULL REFERENCES campus_semesters(id),
    amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
    currency TEXT NOT NULL,
    method TEXT NOT NULL CHECK (method IN ('cash', 'card', 'bank_transfer', 'check', 'e_wallet')),
    reference TEXT NOT NULL DEFAULT '',
    receipt_number TEXT NOT NULL UNIQUE,
    cashier_id INTEGER NOT NULL REFERENCES users(id),
    status TEXT NOT NULL DEFAULT 'posted' CHECK (status IN ('posted', 'void')),
    void_reason TEXT,
    voided_by INTEGER REFERENCES users(id),
    voided_at TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now'))
);
CREATE INDEX campus_payments_student ON campus_payments(student_id, semester_id, status, id);
CREATE INDEX campus_payments_day ON campus_payments(created_at, cashier_id);

-- Which installment each payment paid, oldest unpaid first; a posted
-- payment's amount minus its allocations is credit for the next ones.
CREATE TABLE campus_allocations (
    id INTEGER PRIMARY KEY,
    payment_id INTEGER NOT NULL REFERENCES campus_payments(id),
    installment_id INTEGER NOT NULL REFERENCES campus_installments(id),
    amount_cents INTEGER NOT NULL CHECK (amount_cents > 0)
);
CREATE INDEX campus_allocations_payment ON campus_allocations(payment_id);
CREATE INDEX campus_allocations_installment ON campus_allocations(installment_id);

-- The exam permit of one month: unlocked when that month's installment is
-- fully paid, locked again (unlocked_at NULL) when a void unpays it.
CREATE TABLE campus_permits (
    id INTEGER PRIMARY KEY,
    student_id INTEGER NOT NULL REFERENCES campus_students(id),
    semester_id INTEGER NOT NULL REFERENCES campus_semesters(id),
    month INTEGER NOT NULL CHECK (month BETWEEN 1 AND 12),
    code TEXT NOT NULL UNIQUE,
    unlocked_at TEXT,
    UNIQUE (student_id, semester_id, month)
);

-- One grade per enrollment. kind numeric carries value (hundredths); INC
-- carries inc_deadline (a year after it was given, moved by leaves);
-- DRP neither.
CREATE TABLE campus_grades (
    id INTEGER PRIMARY KEY,
    enrollment_id INTEGER NOT NULL UNIQUE REFERENCES campus_enrollments(id),
    kind TEXT NOT NULL CHECK (kind IN ('numeric', 'INC', 'DRP')),
    value INTEGER CHECK (value IS NULL OR value BETWEEN 100 AND 500),
    status TEXT NOT NULL DEFAULT 'submitted' CHECK (status IN ('draft', 'submitted', 'finalized')),
    inc_given_on TEXT,
    inc_expired_at TEXT,
    submitted_by INTEGER REFERENCES users(id),
    submitted_at TEXT,
    finalized_by INTEGER REFERENCES users(id),
    finalized_at TEXT,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),
    CHECK ((kind = 'numeric') = (value IS NOT NULL))
);
CREATE INDEX campus_grades_inc ON campus_grades(kind, status, inc_given_on);

CREATE TABLE campus_grade_corrections (
    id INTEGER PRIMARY KEY,
    grade_id INTEGER NOT NULL REFERENCES campus_grades(id),
    old_kind TEXT NOT NULL,
    old_value INTEGER,
    new_kind TEXT NOT NULL,
    new_value INTEGER,
    reason TEXT NOT NULL,
    corrected_by INTEGER NOT NULL REFERENCES users(id),
    corrected_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now'))
);
CREATE INDEX campus_grade_corrections_grade ON campus_grade_corrections(grade_id);

CREATE TABLE campus_leaves (
    id INTEGER PRIMARY KEY,
    student_id INTEGER NOT NULL REFERENCES campus_students(id),
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    recorded_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),
    CHECK (starts_on <= ends_on)
);
CREATE INDEX campus_leaves_student ON campus_leaves(student_id, starts_on);

-- Public admissions: looked up by reference and email together, so a
-- reference alone reveals nothing.
CREATE TABLE campus_applications (
    id INTEGER PRIMARY KEY,
    reference TEXT NOT NULL UNIQUE,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    email TEXT NOT NULL,
    program_id INTEGER NOT NULL REFERENCES campus_programs(id),
    status TEXT NOT NULL DEFAULT 'submitted' CHECK (status IN ('submitted', 'approved', 'rejected')),
    decision_reason TEXT,
    decided_by INTEGER REFERENCES users(id),
    decided_at TEXT,
    student_id INTEGER REFERENCES campus_students(id),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now'))
);
CREATE INDEX campus_applications_email ON campus_applications(email);
