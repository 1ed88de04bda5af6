-- campus 003: what the jobs sent, each once: a row is the proof.
-- Which enrollment-window notices a semester has sent (campus.window_notices).
-- kind: opened (the window is open), closing (it closes within a day),
-- closed (it has just closed).
CREATE TABLE campus_notices (
    semester_id INTEGER NOT NULL REFERENCES campus_semesters(id),
    kind TEXT NOT NULL CHECK (kind IN ('opened', 'closing', 'closed')),
    recipients INTEGER NOT NULL DEFAULT 0,
    sent_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),
    PRIMARY KEY (semester_id, kind)
);

-- The daily collections report of one UTC day (campus.cashier_report).
CREATE TABLE campus_daily_reports (
    day TEXT PRIMARY KEY,
    payments INTEGER NOT NULL,
    amount_cents INTEGER NOT NULL,
    recipients INTEGER NOT NULL,
    sent_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now'))
);
