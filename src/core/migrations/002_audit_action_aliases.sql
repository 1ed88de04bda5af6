-- Audit actions are named <app>.<resource>.<past-tense verb> (codepop.order.created,
-- core.user.role_granted). Rows written before that rename keep the action they were
-- hashed with: the log is append-only and hash-chained, so rewriting it would break
-- the proof `atrium audit verify` gives. This table maps each old name to its new one
-- so that GET /api/v1/audit filters and lists old rows under the new names too. Each
-- app inserts its own mappings in its own migration.
CREATE TABLE audit_action_aliases (
    app        TEXT NOT NULL,
    old_action TEXT NOT NULL,
    action     TEXT NOT NULL,
    PRIMARY KEY (app, old_action)
);
CREATE INDEX audit_action_aliases_action ON audit_action_aliases(action);
