-- PostgreSQL only. Rows inserted with explicit ids (table rebuilds in
-- migrations, demo seeds with fixed ids) leave an identity column's sequence
-- behind its table; the next insert would then collide. SQLite's INTEGER
-- PRIMARY KEY always continues after the largest id (and starts at 1 again in
-- an emptied table), so db_sync_ids() calls this after migrations, seeds and
-- a seed's --clear to give PostgreSQL the same behaviour.
CREATE OR REPLACE FUNCTION atrium_sync_identities() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    r record;
    m bigint;
    n bigint := 0;
BEGIN
    FOR r IN SELECT c.relname AS t, a.attname AS col
             FROM pg_attribute a
             JOIN pg_class c ON c.oid = a.attrelid
             JOIN pg_namespace s ON s.oid = c.relnamespace
             WHERE a.attidentity <> '' AND c.relkind = 'r' AND s.nspname = current_schema() LOOP
        EXECUTE format('SELECT MAX(%I) FROM %I', r.col, r.t) INTO m;
        IF m IS NOT NULL THEN
            PERFORM setval(pg_get_serial_sequence(quote_ident(r.t), r.col), m);
        ELSE                            -- emptied: start at 1 again, as SQLite does
            PERFORM setval(pg_get_serial_sequence(quote_ident(r.t), r.col), 1, false);
        END IF;
        n := n + 1;
    END LOOP;
    RETURN n;
END $$;
