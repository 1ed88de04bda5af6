-- PostgreSQL only: SQLite's date, time and JSON functions that atrium's SQL
-- uses, with SQLite's semantics, under the names db_sql.c gives them
-- (strftime -> atrium_strftime, ...). Times are UTC text like
-- '2026-12-07T16:19:01Z'; a value SQLite could not read gives NULL here too.
CREATE EXTENSION IF NOT EXISTS citext;

-- A time value plus SQLite modifiers ('+1 day', '-7 days', 'start of day',
-- 'start of month', 'unixepoch', 'utc', 'localtime') as a UTC timestamp.
CREATE OR REPLACE FUNCTION atrium_time(ts text, mods text[]) RETURNS timestamp
LANGUAGE plpgsql STABLE AS $$
DECLARE
    t timestamp;
    m text;
BEGIN
    IF ts IS NULL THEN
        RETURN NULL;
    END IF;
    IF lower(ts) = 'now' THEN
        t := statement_timestamp() AT TIME ZONE 'UTC';
    ELSIF 'unixepoch' = ANY (mods) THEN
        t := to_timestamp(ts::double precision) AT TIME ZONE 'UTC';
    ELSIF ts ~ '^[0-9]+(\.[0-9]+)?$' THEN
        t := (timestamp '-4713-11-24 12:00:00' + ts::double precision * interval '1 day');
    ELSE
        BEGIN
            t := ts::timestamp;
        EXCEPTION WHEN others THEN
            RETURN NULL;
        END;
    END IF;
    FOREACH m IN ARRAY coalesce(mods, '{}') LOOP
        m := lower(btrim(m));
        IF m IN ('unixepoch', 'utc', 'localtime', 'auto') THEN
            CONTINUE;
        ELSIF m = 'start of day' THEN
            t := date_trunc('day', t);
        ELSIF m = 'start of month' THEN
            t := date_trunc('month', t);
        ELSIF m = 'start of year' THEN
            t := date_trunc('year', t);
        ELSIF m ~ '^[+-]?[0-9]+(\.[0-9]+)? *(second|minute|hour|day|month|year)s?$' THEN
            t := t + m::interval;
        ELSIF m ~ '^weekday [0-6]$' THEN
            t := t + ((substr(m, 9)::int - extract(dow FROM t)::int + 7) % 7) * interval '1 day';
        ELSE
            RETURN NULL;
        END IF;
    END LOOP;
    RETURN t;
END $$;

-- SQLite's strftime: %Y %m %d %H %M %S %f %s %w %j %W %%; other text as is.
CREATE OR REPLACE FUNCTION atrium_strftime(fmt text, ts text, VARIADIC mods text[] DEFAULT '{}') RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    t timestamp := atrium_time(ts, mods);
    out text := '';
    i int := 1;
    c text;
BEGIN
    IF t IS NULL OR fmt IS NULL THEN
        RETURN NULL;
    END IF;
    IF fmt = '%Y-%m-%dT%H:%M:%SZ' THEN
        RETURN to_char(t, 'YYYY-MM-DD"T"HH24:MI:SS"Z"');
    END IF;
    WHILE i <= length(fmt) LOOP
        c := substr(fmt, i, 1);
        IF c = '%' AND i < length(fmt) THEN
            i := i + 1;
            c := substr(fmt, i, 1);
            out := out || CASE c
                WHEN 'Y' THEN to_char(t, 'YYYY')
                WHEN 'm' THEN to_char(t, 'MM')
                WHEN 'd' THEN to_char(t, 'DD')
                WHEN 'H' THEN to_char(t, 'HH24')
                WHEN 'M' THEN to_char(t, 'MI')
                WHEN 'S' THEN to_char(t, 'SS')
                WHEN 'f' THEN to_char(t, 'SS.MS')
                WHEN 's' THEN floor(extract(epoch FROM t))::bigint::text
                WHEN 'w' THEN extract(dow FROM t)::int::text
                WHEN 'j' THEN to_char(t, 'DDD')
                WHEN 'W' THEN to_char(t, 'WW')
                WHEN '%' THEN '%'
                ELSE '%' || c END;
        ELSE
            out := out || c;
        END IF;
        i := i + 1;
    END LOOP;
    RETURN out;
END $$;

CREATE OR REPLACE FUNCTION atrium_strftime(fmt text, ts double precision, VARIADIC mods text[] DEFAULT '{}')
RETURNS text LANGUAGE sql STABLE AS $$ SELECT atrium_strftime(fmt, ts::text, VARIADIC mods) $$;

CREATE OR REPLACE FUNCTION atrium_date(ts text, VARIADIC mods text[] DEFAULT '{}') RETURNS text
LANGUAGE sql STABLE AS $$ SELECT to_char(atrium_time(ts, mods), 'YYYY-MM-DD') $$;

CREATE OR REPLACE FUNCTION atrium_datetime(ts text, VARIADIC mods text[] DEFAULT '{}') RETURNS text
LANGUAGE sql STABLE AS $$ SELECT to_char(atrium_time(ts, mods), 'YYYY-MM-DD HH24:MI:SS') $$;

CREATE OR REPLACE FUNCTION atrium_datetime(ts double precision, VARIADIC mods text[] DEFAULT '{}') RETURNS text
LANGUAGE sql STABLE AS $$ SELECT atrium_datetime(ts::text, VARIADIC mods) $$;

CREATE OR REPLACE FUNCTION atrium_julianday(ts text, VARIADIC mods text[] DEFAULT '{}') RETURNS double precision
LANGUAGE sql STABLE AS $$ SELECT extract(epoch FROM atrium_time(ts, mods))::double precision / 86400.0 + 2440587.5 $$;

CREATE OR REPLACE FUNCTION atrium_unixepoch(ts text, VARIADIC mods text[] DEFAULT '{}') RETURNS bigint
LANGUAGE sql STABLE AS $$ SELECT floor(extract(epoch FROM atrium_time(ts, mods)))::bigint $$;

-- json_extract(json, '$.a.b') / '$[2]': the value as text (strings unquoted,
-- objects and arrays as JSON text), NULL when absent or not JSON.
CREATE OR REPLACE FUNCTION atrium_json_extract(doc text, path text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    parts text[];
BEGIN
    IF doc IS NULL OR path IS NULL OR left(path, 1) <> '$' THEN
        RETURN NULL;
    END IF;
    parts := regexp_split_to_array(
        btrim(regexp_replace(regexp_replace(substr(path, 2), '\[([0-9]+)\]', '.\1', 'g'), '\.+', '.', 'g'), '.'),
        '\.');
    IF parts = '{""}' THEN
        RETURN doc::json #>> '{}';
    END IF;
    RETURN doc::json #>> parts;
EXCEPTION WHEN others THEN
    RETURN NULL;
END $$;

-- json_each over an array (key = index) or an object (key = member name);
-- value as text like atrium_json_extract's.
CREATE OR REPLACE FUNCTION atrium_json_each(doc text) RETURNS TABLE (key text, value text)
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF doc IS NULL THEN
        RETURN;
    END IF;
    IF json_typeof(doc::json) = 'array' THEN
        RETURN QUERY SELECT (e.n - 1)::text, e.v FROM json_array_elements_text(doc::json) WITH ORDINALITY AS e(v, n);
    ELSIF json_typeof(doc::json) = 'object' THEN
        RETURN QUERY SELECT e.key, e.value FROM json_each_text(doc::json) AS e;
    END IF;
END $$;
