/* call.h -- requests as a test user and checks of their answers, on top of
 * api()/api_h() (harness.h). `as` is a username made with test_user(), or
 * NULL for an anonymous call; its token is issued directly. */
#ifndef ATRIUM_TEST_CALL_H
#define ATRIUM_TEST_CALL_H
#include <jansson.h>

struct resp;

/* Any method with a raw body (NULL: none). */
struct resp *api_as(const char *as, const char *method, const char *path, const char *body);
/* The same with the path from a printf-style format. */
struct resp *api_callf(const char *method, const char *as, const char *body, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
struct resp *api_get(const char *path, const char *as);
/* POST a body built by a printf-style format; key: an Idempotency-Key or NULL. */
struct resp *api_post(const char *path, const char *as, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A call with a JSON body (stolen; NULL: no body) and a raw token or NULL. */
struct resp *api_json(const char *method, const char *path, const char *token, json_t *body);
/* POST /api/v1/auth/login with a username and password. */
struct resp *api_login(const char *username, const char *password);

/* The status, and error.code when code is not NULL; resp_check also frees r. */
void resp_expect(struct resp *r, int status, const char *code);
void resp_check(struct resp *r, int status, const char *code);
/* error.<key> as text, or "" ("permission": which one a 403 names). */
const char *resp_error_str(struct resp *r, const char *key);
/* error.details[0].field, or "" (which field a validation error names). */
const char *resp_error_field(struct resp *r);

/* A path from a printf format with one id ("/groups/%lld/join"); eight
 * results stay valid at once. */
const char *pathf(const char *fmt, long long id);
#endif
