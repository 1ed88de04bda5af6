-- audit_log is append-only (SQLite: RAISE(ABORT) triggers, the .sqlite.sql twin).
-- atrium_refuse_change(message) is the trigger for every table whose rows are
-- never changed (apps use it too: groupbuy's ledger).
CREATE FUNCTION atrium_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION atrium_refuse_change('audit_log is append-only');
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION atrium_refuse_change('audit_log is append-only');
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION atrium_refuse_change('audit_log is append-only');
