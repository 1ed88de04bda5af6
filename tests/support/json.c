/* json.c -- see json.h. */
#include "json.h"
#include <string.h>

int64_t jint(json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

const char *jstr(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

double jnum(json_t *o, const char *key)
{
    return json_number_value(json_object_get(o, key));
}

json_t *jfind(json_t *array, const char *key, const char *value)
{
    size_t i;
    json_t *o;
    json_array_foreach(array, i, o) {
        const char *s = jstr(o, key);
        if (s && !strcmp(s, value)) return o;
    }
    return NULL;
}

bool jhas(json_t *array, const char *value)
{
    size_t i;
    json_t *v;
    json_array_foreach(array, i, v) {
        const char *s = json_string_value(v);
        if (s && !strcmp(s, value)) return true;
    }
    return false;
}
