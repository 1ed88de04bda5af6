-- campus admissions (admissions.c): what an applicant may add to the form,
-- the language their emails go out in (the one they applied in), and at
-- most one pending application per email and program, so two submissions
-- racing cannot both land. Emails are stored lower case.
ALTER TABLE campus_applications ADD COLUMN birth_date TEXT;
ALTER TABLE campus_applications ADD COLUMN phone TEXT;
ALTER TABLE campus_applications ADD COLUMN previous_school TEXT;
ALTER TABLE campus_applications ADD COLUMN language TEXT NOT NULL DEFAULT 'en' CHECK (language IN ('en', 'es'));
CREATE UNIQUE INDEX campus_applications_pending ON campus_applications(email, program_id)
    WHERE status = 'submitted';
CREATE INDEX campus_applications_status ON campus_applications(status, id);
