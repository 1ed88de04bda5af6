-- Core schema: identity, access, audit, idempotency, outbox, notifications, jobs.
-- Times are stored as UTC RFC 3339 text (for JSON) or unix seconds (for expiry math).

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE COLLATE NOCASE,
    email         TEXT UNIQUE COLLATE NOCASE,
    display_name  TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    language      TEXT NOT NULL DEFAULT 'en' CHECK (language IN ('en', 'es')),
    status        TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    totp_secret   TEXT,                       -- sealed with ATRIUM_ENCRYPTION_KEY
    totp_enabled  INTEGER NOT NULL DEFAULT 0,
    totp_last_step INTEGER NOT NULL DEFAULT 0, -- a code's time step is usable once
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

CREATE TABLE totp_recovery_codes (
    id        INTEGER PRIMARY KEY,
    user_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at   TEXT
);
CREATE INDEX totp_recovery_user ON totp_recovery_codes(user_id);

-- A login starts a family; every refresh rotates within it. Reusing a spent
-- refresh token revokes the whole family.
CREATE TABLE token_families (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    revoked_at    TEXT,
    revoke_reason TEXT
);

CREATE TABLE auth_tokens (
    id         INTEGER PRIMARY KEY,
    family_id  INTEGER NOT NULL REFERENCES token_families(id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
    token_hash TEXT NOT NULL UNIQUE,          -- SHA-256 hex of the token; the token is never stored
    expires_at INTEGER NOT NULL,              -- unix seconds
    spent_at   INTEGER                        -- refresh tokens: when rotated
);
CREATE INDEX auth_tokens_family ON auth_tokens(family_id);

CREATE TABLE user_roles (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    app        TEXT NOT NULL,
    role       TEXT NOT NULL,
    scope_type TEXT NOT NULL DEFAULT '',      -- '' = global
    scope_id   INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    UNIQUE (user_id, app, role, scope_type, scope_id)
);

CREATE TABLE user_permissions (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    permission TEXT NOT NULL,
    effect     TEXT NOT NULL CHECK (effect IN ('grant', 'revoke')),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    UNIQUE (user_id, permission)
);

-- Append-only, hash-chained: hash = SHA-256(prev_hash || canonical row content).
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    user_id     INTEGER,
    app         TEXT NOT NULL,
    action      TEXT NOT NULL,
    target_type TEXT,
    target_id   INTEGER,
    request_id  TEXT,
    client_ip   TEXT,
    summary     TEXT NOT NULL DEFAULT '{}',
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_log_app_action ON audit_log(app, action);
CREATE INDEX audit_log_user ON audit_log(user_id);
CREATE INDEX audit_log_at ON audit_log(at);
-- append-only: the triggers are per dialect, 004_audit_append_only.*.sql

CREATE TABLE idempotency_keys (
    user_id     INTEGER NOT NULL,             -- 0 for anonymous callers
    key         TEXT NOT NULL,
    route       TEXT NOT NULL,                -- "POST /api/v1/..."
    body_hash   TEXT NOT NULL,
    status      INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    response    BLOB NOT NULL,
    created_at  INTEGER NOT NULL,             -- unix seconds; rows live 24 h
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_created ON idempotency_keys(created_at);

CREATE TABLE outbox (
    id            INTEGER PRIMARY KEY AUTOINCREMENT, -- realtime event id (resume point); never reused
    event_id      TEXT NOT NULL UNIQUE,       -- UUID, for deduplication by consumers
    topic         TEXT NOT NULL,
    type          TEXT NOT NULL,
    payload       TEXT NOT NULL,
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    dispatched_at TEXT,
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT
);
CREATE INDEX outbox_pending ON outbox(id) WHERE dispatched_at IS NULL;
CREATE INDEX outbox_topic ON outbox(topic, id);

CREATE TABLE notifications (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    title      TEXT NOT NULL,
    data       TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    read_at    TEXT
);
CREATE INDEX notifications_user ON notifications(user_id, id);

-- What the outbound channel adapters sent (the built-in "log" adapter only records).
CREATE TABLE notification_log (
    id         INTEGER PRIMARY KEY,
    channel    TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'push')),
    recipient  TEXT NOT NULL,
    subject    TEXT NOT NULL DEFAULT '',
    body       TEXT NOT NULL,
    adapter    TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

CREATE TABLE jobs (
    name                 TEXT PRIMARY KEY,
    interval_s           INTEGER NOT NULL,
    next_run_at          INTEGER NOT NULL,    -- unix seconds
    locked_by            TEXT,                -- instance that claimed the run
    locked_until         INTEGER NOT NULL DEFAULT 0,
    last_run_at          TEXT,
    last_status          TEXT,
    last_result          TEXT,
    runs                 INTEGER NOT NULL DEFAULT 0,
    failures             INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE job_runs (
    id          INTEGER PRIMARY KEY,
    job         TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    status      TEXT NOT NULL CHECK (status IN ('running', 'ok', 'failed')),
    result      TEXT
);
CREATE INDEX job_runs_job ON job_runs(job, id);
