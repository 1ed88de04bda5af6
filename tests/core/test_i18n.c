/* Messages in the caller's language: Accept-Language and the user's stored
 * language pick Spanish, the machine codes never change, English stays the
 * default, unknown texts fall back to themselves, and lookups are safe from
 * many threads at once. */
#include "support/harness.h"
#include <dirent.h>
#include <locale.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

TestSuite(i18n, .init = srv_start, .fini = srv_stop);

static const char *const ES[] = {"Accept-Language: es-ES,es;q=0.9,en;q=0.5", NULL};
static const char *const EN[] = {"Accept-Language: en-US,en;q=0.9", NULL};
static const char *const FR[] = {"Accept-Language: fr-FR", NULL};

static const char *message(struct resp *r)
{
    return json_string_value(json_object_get(json_object_get(r->json, "error"), "message"));
}

static const char *detail(struct resp *r, const char *key)
{
    json_t *d = json_array_get(json_object_get(json_object_get(r->json, "error"), "details"), 0);
    return json_string_value(json_object_get(d, key));
}

static void expect(struct resp *r, int status, const char *code, const char *msg)
{
    cr_assert_eq(r->status, status, "status %d != %d: %s", r->status, status, r->body);
    cr_assert_str_eq(resp_error_code(r), code, "%s", r->body);
    cr_assert_str_eq(message(r), msg, "%s", r->body);
}

Test(i18n, spanish_locale_is_installed)
{
    locale_t es = newlocale(LC_MESSAGES_MASK, "es_ES.UTF-8", (locale_t)0);
    cr_assert(es, "es_ES.UTF-8 is missing: scripts/setup generates it (every Spanish test below fails without it)");
    freelocale(es);
}

Test(i18n, unknown_route_speaks_the_header_language)
{
    struct resp *r = api_h("GET", "/api/v1/nothing/here", NULL, NULL, ES);
    expect(r, 404, "not_found", "no hay ninguna ruta para /api/v1/nothing/here");
    resp_free(r);
    r = api_h("DELETE", "/health/live", NULL, NULL, ES);          /* a translated format with an argument */
    expect(r, 405, "method_not_allowed", "método no permitido; permitidos: GET");
    resp_free(r);
}

Test(i18n, validation_problem_and_message_in_spanish)
{
    struct resp *r = api_h("POST", "/api/v1/auth/login", NULL, "{\"username\":\"alice\"}", ES);
    expect(r, 400, "validation_failed", "el campo password es obligatorio");
    cr_assert_str_eq(detail(r, "field"), "password", "the field name stays the API's");
    cr_assert_str_eq(detail(r, "problem"), "es obligatorio");
    resp_free(r);
    r = api_h("POST", "/api/v1/auth/login", NULL, "{\"username\":\"alice\",\"password\":\"x\",\"extra\":1}", ES);
    expect(r, 400, "validation_failed", "el campo extra no es un campo conocido");
    resp_free(r);
    r = api_h("POST", "/api/v1/auth/login", NULL, "{\"username\":1,\"password\":\"x\"}", ES);
    cr_assert_eq(r->status, 400, "%s", r->body);
    cr_assert(!strncmp(detail(r, "problem"), "tiene un tipo incorrecto (", 26), "formatted problem: %s", r->body);
    resp_free(r);
}

Test(i18n, stored_language_wins_without_and_over_the_header)
{
    test_user("alice", "core", "auditor", NULL, 0);     /* a role: the plain "missing permission" message */
    char *tok = test_token("alice");
    struct resp *r = api("POST", "/api/v1/me/language", tok, "{\"language\":\"fr\"}");
    expect(r, 400, "validation_failed", "language must be \"en\" or \"es\"");
    resp_free(r);
    r = api("POST", "/api/v1/me/language", tok, "{\"language\":\"es\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
    r = api("POST", "/api/v1/me/language", tok, "{\"language\":\"fr\"}");
    expect(r, 400, "validation_failed", "el campo language debe ser \"en\" o \"es\"");
    cr_assert_str_eq(detail(r, "problem"), "debe ser \"en\" o \"es\"");
    resp_free(r);
    r = api_h("GET", "/api/v1/admin/users", tok, NULL, EN);     /* the header does not override the user */
    expect(r, 403, "forbidden", "falta el permiso core.users.read");
    resp_free(r);
    free(tok);
}

Test(i18n, english_stays_english)
{
    const char *const *headers[] = {NULL, EN, FR};
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
        struct resp *r = api_h("GET", "/api/v1/nothing/here", NULL, NULL, headers[i]);
        expect(r, 404, "not_found", "no route for /api/v1/nothing/here");
        resp_free(r);
        r = api_h("POST", "/api/v1/auth/login", NULL, "{\"username\":\"alice\"}", headers[i]);
        expect(r, 400, "validation_failed", "password is required");
        cr_assert_str_eq(detail(r, "problem"), "is required");
        resp_free(r);
    }
}

Test(i18n, lookups_fall_back_to_the_msgid)
{
    static const char unknown[] = "a message no catalog has";
    cr_assert_str_eq(i18n_text("es", "not found"), "no encontrado");
    cr_assert_eq(i18n_text("es", unknown), unknown, "untranslated: the msgid itself");
    const char *msgid = "internal error";
    cr_assert_eq(i18n_text("en", msgid), msgid, "English is the msgid");
    cr_assert_eq(i18n_text("fr", msgid), msgid, "an unknown language is English");
    cr_assert_eq(i18n_text(NULL, msgid), msgid, "no language (a request built outside http.c)");
    cr_assert_str_eq(i18n_text("es", ""), "", "\"\" is not the catalog header");
}

/* Many threads, both languages, interleaved: every answer right, and each
 * thread left in its own (global) locale afterwards. */
static atomic_int wrong;

static void lookups(int i, void *arg)
{
    static const struct { const char *lang, *msgid, *want; } cases[] = {
        {"es", "not found", "no encontrado"},
        {"en", "not found", "not found"},
        {"es", "authentication required", "se requiere autenticación"},
        {"es", "no route for %s", "no hay ninguna ruta para %s"},
        {"fr", "internal error", "internal error"},
        {"es", "a message no catalog has", "a message no catalog has"},
    };
    size_t n = sizeof cases / sizeof cases[0];
    for (int k = 0; k < 3000; k++) {
        size_t c = (size_t)(k + i) % n;
        if (strcmp(i18n_text(cases[c].lang, cases[c].msgid), cases[c].want)) atomic_fetch_add(&wrong, 1);
    }
    if (uselocale((locale_t)0) != LC_GLOBAL_LOCALE) atomic_fetch_add(&wrong, 1);
}

Test(i18n, lookups_are_safe_from_many_threads)
{
    run_concurrently(16, lookups, NULL);
    cr_assert_eq(atomic_load(&wrong), 0, "%d wrong lookups", atomic_load(&wrong));
}

static int entries(const char *path)
{
    DIR *d = opendir(path);
    cr_assert(d, "opendir %s", path);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += strncmp(e->d_name, "atrium-locale.", 14) == 0;
    closedir(d);
    return n;
}

/* The catalogs live in a private temp dir for the server's lifetime only. */
Test(i18n_lifecycle, catalog_dir_removed_at_shutdown)
{
    char tmp[] = "/tmp/atrium-i18n-XXXXXX";
    cr_assert(mkdtemp(tmp));
    setenv("TMPDIR", tmp, 1);
    srv_start();
    cr_assert_eq(entries(tmp), 1, "one catalog dir while serving");
    srv_stop();
    cr_assert_eq(entries(tmp), 0, "removed at shutdown");
    const char *msgid = "not found";
    cr_assert_eq(i18n_text("es", msgid), msgid, "after shutdown: English");
    rmdir(tmp);
}
