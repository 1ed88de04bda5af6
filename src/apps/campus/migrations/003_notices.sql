-- campus 003: which enrollment-window notices a semester has sent (the
-- campus.window_notices job sends each once: a row is the proof).
-- kind: opened (the window is open), closing (it closes within a day),
-- closed (it has just closed).
CREATE TABLE campus_notices (
    semester_id INTEGER NOT NULL REFERENCES campus_semesters(id),
    kind TEXT NOT NULL CHECK (kind IN ('opened', 'closing', 'closed')),
    recipients INTEGER NOT NULL DEFAULT 0,
    sent_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),
    PRIMARY KEY (semester_id, kind)
);
