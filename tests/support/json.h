/* json.h -- short getters for JSON answers in tests: a missing key or a
 * value of another type reads as 0 / NULL, like jansson's *_value(). */
#ifndef ATRIUM_TEST_JSON_H
#define ATRIUM_TEST_JSON_H
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

int64_t jint(json_t *o, const char *key);
const char *jstr(json_t *o, const char *key);
double jnum(json_t *o, const char *key);      /* integer or real */
/* The first object of array whose key is the string value, or NULL. */
json_t *jfind(json_t *array, const char *key, const char *value);
/* Does array hold the string value? */
bool jhas(json_t *array, const char *value);
#endif
