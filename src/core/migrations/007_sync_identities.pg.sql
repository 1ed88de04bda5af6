-- PostgreSQL only. Rows inserted with explicit ids (table rebuilds in
-- migrations, demo seeds with fixed ids) leave an identity column's sequence
-- behind its table; the next insert would then collide. SQLite's INTEGER
-- PRIMARY KEY always continues after the largest id (and starts at 1 again in
-- an emptied table), so db_sync_ids() calls this after migrations and seeds
-- (restart_empty: after a seed's --clear) to give PostgreSQL the same
-- behaviour. A sequence only moves forward, except an emptied table's on
-- restart_empty; db_sync_ids runs it under the write lock, so no insert of
-- another instance is in flight.
CREATE OR REPLACE FUNCTION atrium_sync_identities(restart_empty boolean) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    r record;
    m bigint;
    seq text;
    n bigint := 0;
BEGIN
    FOR r IN SELECT c.relname AS t, a.attname AS col
             FROM pg_attribute a
             JOIN pg_class c ON c.oid = a.attrelid
             JOIN pg_namespace s ON s.oid = c.relnamespace
             WHERE a.attidentity <> '' AND c.relkind = 'r' AND s.nspname = current_schema() LOOP
        seq := pg_get_serial_sequence(quote_ident(r.t), r.col);
        EXECUTE format('SELECT MAX(%I) FROM %I', r.col, r.t) INTO m;
        IF m IS NOT NULL THEN
            EXECUTE format('SELECT setval(%L, GREATEST(%s, (SELECT last_value FROM %s)))', seq, m, seq);
        ELSIF restart_empty THEN
            PERFORM setval(seq, 1, false);
        END IF;
        n := n + 1;
    END LOOP;
    RETURN n;
END $$;
