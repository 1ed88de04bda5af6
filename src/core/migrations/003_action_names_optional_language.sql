-- 1. The core's audit actions follow <app>.<resource>.<past-tense verb>. Rows
-- written before keep their recorded action (the chain hashes it); these
-- aliases let GET /api/v1/audit list and filter them under the new names.
INSERT INTO audit_action_aliases (app, old_action, action) VALUES
    ('core', 'seed', 'core.demo_data.seeded'),
    ('core', 'user.register', 'core.user.registered'),
    ('core', 'user.create', 'core.user.created'),
    ('core', 'user.update', 'core.user.updated'),
    ('core', 'user.password_reset', 'core.user.password_reset'),
    ('core', 'user.language', 'core.user.language_changed'),
    ('core', 'role.assign', 'core.user.role_granted'),
    ('core', 'role.remove', 'core.user.role_removed'),
    ('core', 'permission.set', 'core.user.permission_set'),
    ('core', 'login', 'core.user.logged_in'),
    ('core', 'login.failed', 'core.user.login_failed'),
    ('core', 'logout', 'core.user.logged_out'),
    ('core', 'totp.setup', 'core.user.totp_set_up'),
    ('core', 'totp.enable', 'core.user.totp_enabled'),
    ('core', 'totp.disable', 'core.user.totp_disabled'),
    ('core', 'token.refresh', 'core.token.refreshed'),
    ('core', 'token.reuse_detected', 'core.token.reuse_detected'),
    ('core', 'notification.read', 'core.notification.read');

-- 2. users.language was NOT NULL DEFAULT 'en', so "never chose" and "chose
-- English" looked alike and Accept-Language was ignored for every signed-in
-- user. It becomes NULL unless chosen: kept where it is not the default or
-- where the audit log shows a choice (POST /me/language, an admin's PATCH).
ALTER TABLE users ADD COLUMN chosen_language TEXT CHECK (chosen_language IN ('en', 'es'));
UPDATE users SET chosen_language = language
 WHERE language <> 'en'
    OR id IN (SELECT target_id FROM audit_log
               WHERE app = 'core' AND target_type = 'user'
                 AND (action = 'user.language' OR (action = 'user.update' AND summary LIKE '%"language"%')));
ALTER TABLE users DROP COLUMN language;
ALTER TABLE users RENAME COLUMN chosen_language TO language;
