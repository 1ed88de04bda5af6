/* db_sql.c -- the SQL that atrium writes, as PostgreSQL reads it.
 *
 * atrium's SQL is written once, in the common subset of SQLite 3.40 and
 * PostgreSQL 15 ($N parameters, ON CONFLICT, RETURNING, CAST, COALESCE). A few
 * SQLite functions have no PostgreSQL spelling of the same name; rather than
 * a macro in every statement, db_pg.c passes each statement once (when it is
 * prepared and cached) through db_pg_sql(), which renames them:
 *
 *   json_object(..)       -> json_build_object(..)
 *   json_array(..)        -> json_build_array(..)
 *   json_group_array(x)   -> COALESCE(json_agg(x), '[]'::json)   (SQLite: [] for no rows)
 *   json(x)               -> ((x)::json)
 *   max(a, b) / min(a, b) -> GREATEST(a, b) / LEAST(a, b)        (the aggregates stay)
 *   strftime date datetime julianday unixepoch json_extract json_each
 *                         -> atrium_<name>(..), SQLite's semantics in PL/pgSQL
 *                            (core migration 000_postgres_compat.pg.sql)
 *   instr(a, b)           -> strpos(a, b)
 *   ifnull(a, b)          -> COALESCE(a, b)
 *   LIKE                  -> ILIKE (SQLite's LIKE ignores ASCII case)
 *   REAL                  -> DOUBLE PRECISION (SQLite's REAL is 8 bytes)
 *   INTEGER               -> BIGINT (CAST(x AS INTEGER): SQLite's are 64-bit)
 *
 * Migrations (db_pg_ddl) also map column types: INTEGER -> BIGINT (every
 * integer is an int64 in C), INTEGER PRIMARY KEY [AUTOINCREMENT] -> BIGINT
 * identity, BLOB -> BYTEA, TEXT ... COLLATE NOCASE -> CITEXT; WITHOUT ROWID
 * is dropped. What cannot be renamed (triggers, table rebuilds) lives in a
 * per-dialect migration file (migrate.c).
 *
 * String literals, quoted identifiers and comments are copied untouched. */
#include "atrium.h"
#include "internal.h"
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

struct out {
    char *p;
    size_t n, cap;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->n + n + 1 > o->cap) {
        o->cap = (o->n + n + 1) * 2;
        o->p = xrealloc(o->p, o->cap);
    }
    memcpy(o->p + o->n, s, n);
    o->n += n;
    o->p[o->n] = 0;
}

static void puts_(struct out *o, const char *s) { put(o, s, strlen(s)); }

static bool ident_start(char c) { return isalpha((unsigned char)c) || c == '_'; }
static bool ident_char(char c) { return isalnum((unsigned char)c) || c == '_'; }

/* End of the quoted run starting at p (a ' or "), doubled quotes inside. */
static const char *skip_quoted(const char *p)
{
    char q = *p++;
    while (*p) {
        if (*p == q && p[1] == q) p += 2;
        else if (*p == q) return p + 1;
        else p++;
    }
    return p;
}

static const char *skip_space(const char *p)
{
    while (isspace((unsigned char)*p)) p++;
    return p;
}

/* From p, inside one level of parentheses: the first comma or closing
 * parenthesis of that level (or the end), or -- when word is given -- that
 * keyword at that level if it comes first. Quoted text and nested
 * parentheses are stepped over. */
static const char *scan_level(const char *p, const char *word)
{
    size_t wn = word ? strlen(word) : 0;
    for (int depth = 0; *p; p++) {
        if (*p == '\'' || *p == '"') {
            p = skip_quoted(p) - 1;
            continue;
        }
        if (*p == '(') depth++;
        else if (*p == ')' && depth-- == 0) return p;
        else if (*p == ',' && depth == 0) return p;
        else if (wn && depth == 0 && !strncasecmp(p, word, wn) && !ident_char(p[wn])) return p;
    }
    return p;
}

/* p at '(' : does the parenthesis hold a comma at its own level? */
static bool has_top_comma(const char *p)
{
    return *scan_level(p + 1, NULL) == ',';
}

/* p after a column type: does the rest of this column definition (up to a
 * comma or parenthesis of the table's level) say COLLATE NOCASE? */
static bool column_nocase(const char *p)
{
    const char *q = scan_level(p, "COLLATE");
    if (*q != 'C' && *q != 'c') return false;
    q = skip_space(q + 7);
    return !strncasecmp(q, "NOCASE", 6) && !ident_char(q[6]);
}

static bool word_is(const char *w, size_t n, const char *s)
{
    return strlen(s) == n && !strncasecmp(w, s, n);
}

/* The word at p (length n) followed by s (after white space)? -> after it. */
static const char *followed_by(const char *p, const char *s)
{
    p = skip_space(p);
    size_t n = strlen(s);
    return !strncasecmp(p, s, n) && !ident_char(p[n]) ? p + n : NULL;
}

#define MAX_DEPTH 64

static const struct { const char *from, *to; } renames[] = {
    {"json_object", "json_build_object"}, {"json_array", "json_build_array"},
    {"strftime", "atrium_strftime"},      {"date", "atrium_date"},
    {"datetime", "atrium_datetime"},      {"julianday", "atrium_julianday"},
    {"unixepoch", "atrium_unixepoch"},    {"json_extract", "atrium_json_extract"},
    {"json_each", "atrium_json_each"},    {"instr", "strpos"},
    {"ifnull", "COALESCE"},
};

/* Words (not followed by a parenthesis) said otherwise on PostgreSQL. */
static const struct { const char *from, *to; bool ddl_only; } keywords[] = {
    {"LIKE", "ILIKE", false},             /* SQLite's LIKE ignores ASCII case */
    {"REAL", "DOUBLE PRECISION", false},  /* SQLite's REAL is 8 bytes */
    {"INTEGER", "BIGINT", false},         /* and its INTEGER 64 bits */
    {"BLOB", "BYTEA", true},
};

static char *rewrite(const char *sql, bool ddl)
{
    struct out o = {0};
    const char *close[MAX_DEPTH];      /* text to add after each open parenthesis closes */
    int depth = 0;
    const char *pending = NULL;        /* closer for the next '(' (a renamed function's) */
    const char *open_as = "(";
    puts_(&o, "");
    for (const char *p = sql; *p;) {
        if (*p == '\'' || *p == '"') {
            const char *e = skip_quoted(p);
            put(&o, p, (size_t)(e - p));
            p = e;
            continue;
        }
        if (p[0] == '-' && p[1] == '-') {
            size_t n = strcspn(p, "\n");
            put(&o, p, n);
            p += n;
            continue;
        }
        if (*p == '(') {
            if (depth < MAX_DEPTH) close[depth] = pending ? pending : "";
            depth++;
            puts_(&o, pending ? open_as : "(");
            pending = NULL;
            open_as = "(";
            p++;
            continue;
        }
        if (*p == ')') {
            puts_(&o, ")");
            if (depth > 0 && --depth < MAX_DEPTH) puts_(&o, close[depth]);
            p++;
            continue;
        }
        if (!ident_start(*p) || (p > sql && (ident_char(p[-1]) || p[-1] == '$' || p[-1] == '.'))) {
            put(&o, p, 1);
            p++;
            continue;
        }
        const char *w = p;
        while (ident_char(*p)) p++;
        size_t n = (size_t)(p - w);
        const char *after = skip_space(p);
        if (*after == '(') {
            bool done = false;
            for (size_t i = 0; i < sizeof renames / sizeof renames[0] && !done; i++) {
                if (word_is(w, n, renames[i].from)) {
                    puts_(&o, renames[i].to);
                    done = true;
                }
            }
            if (done) continue;
            if (word_is(w, n, "json_group_array")) {
                puts_(&o, "COALESCE(json_agg");
                pending = ", '[]'::json)";
                continue;
            }
            if (word_is(w, n, "json")) {
                puts_(&o, "(");
                pending = "::json)";
                continue;
            }
            if ((word_is(w, n, "max") || word_is(w, n, "min")) && has_top_comma(after)) {
                puts_(&o, word_is(w, n, "max") ? "GREATEST" : "LEAST");
                continue;
            }
            put(&o, w, n);
            continue;
        }
        const char *q;
        if (ddl && word_is(w, n, "INTEGER") && (q = followed_by(p, "PRIMARY")) && (q = followed_by(q, "KEY"))) {
            puts_(&o, "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY");
            p = q;
            if ((q = followed_by(p, "AUTOINCREMENT"))) p = q;
            continue;
        }
        if (ddl && word_is(w, n, "TEXT") && column_nocase(p)) {
            puts_(&o, "CITEXT");
            continue;
        }
        if (ddl && ((word_is(w, n, "COLLATE") && (q = followed_by(p, "NOCASE"))) ||
                    (word_is(w, n, "WITHOUT") && (q = followed_by(p, "ROWID"))))) {
            p = q;              /* dropped */
            continue;
        }
        const char *to = NULL;
        for (size_t i = 0; i < sizeof keywords / sizeof keywords[0] && !to; i++)
            if ((ddl || !keywords[i].ddl_only) && word_is(w, n, keywords[i].from)) to = keywords[i].to;
        if (to) puts_(&o, to);
        else put(&o, w, n);
    }
    return o.p;
}

char *db_pg_sql(const char *sql) { return rewrite(sql, false); }
char *db_pg_ddl(const char *sql) { return rewrite(sql, true); }
