/* json.c -- see json.h. */
#include "json.h"

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
