/* config_alertmanager.c: loading the `alertmanager` section
 * (docs/configuration.md, docs/operations.md "Alertmanager"). Invariant:
 * every key is checked for type and range, unknown keys are refused by
 * name, and a is written only when the whole section is valid. */
#include "config_alertmanager.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define AM_RESEND_MAX_S 86400
#define AM_TIMEOUT_MAX_MS 60000

void config_am_defaults(sw_alertmanager *a)
{
    memset(a, 0, sizeof(*a));
    a->resend_s = 60;
    a->timeout_ms = 5000;
}

/* A string of 0..SW_STR_MAX bytes without NUL; an URL also starts with
 * http:// or https:// and is not empty. */
static int load_text(const json_t *v, char *dst, const char *key, int url, const char *src,
                     char *err, size_t errlen)
{
    if (!json_is_string(v))
        return config_key_err(err, errlen, src, key, "expected a string");
    size_t n = json_string_length(v);
    const char *s = json_string_value(v);
    if (n > SW_STR_MAX || memchr(s, '\0', n) != NULL)
        return config_key_err(err, errlen, src, key, "longer than %d bytes or holding a NUL",
                              SW_STR_MAX);
    if (url && strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0)
        return config_key_err(err, errlen, src, key, "expected an http:// or https:// URL");
    memcpy(dst, s, n);
    dst[n] = '\0';
    return 0;
}

static int load_urls(const json_t *v, sw_alertmanager *a, const char *src, char *err,
                     size_t errlen)
{
    if (!json_is_array(v) || json_array_size(v) < 1 || json_array_size(v) > SW_AM_MAX_URLS)
        return config_key_err(err, errlen, src, "alertmanager.urls",
                              "expected an array of 1..%d URLs",
                              SW_AM_MAX_URLS);
    a->n_urls = (int)json_array_size(v);
    for (int i = 0; i < a->n_urls; i++) {
        char key[40];
        snprintf(key, sizeof(key), "alertmanager.urls[%d]", i);
        if (load_text(json_array_get(v, (size_t)i), a->urls[i], key, 1, src, err, errlen))
            return -1;
        size_t n = strlen(a->urls[i]);
        while (n > 0 && a->urls[i][n - 1] == '/') /* the API path is appended */
            a->urls[i][--n] = '\0';
    }
    return 0;
}

static int load_int(const json_t *v, int64_t *dst, int64_t lo, int64_t hi, const char *key,
                    const char *src, char *err, size_t errlen)
{
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return config_key_err(err, errlen, src, key,
                              "expected an integer %" PRId64 "..%" PRId64, lo,
                              hi);
    *dst = (int64_t)json_integer_value(v);
    return 0;
}

static int load_key(const char *k, const json_t *v, sw_alertmanager *a, const char *src,
                    char *err, size_t errlen)
{
    if (strcmp(k, "urls") == 0)
        return load_urls(v, a, src, err, errlen);
    if (strcmp(k, "resend_s") == 0)
        return load_int(v, &a->resend_s, 1, AM_RESEND_MAX_S, "alertmanager.resend_s", src, err,
                        errlen);
    if (strcmp(k, "timeout_ms") == 0)
        return load_int(v, &a->timeout_ms, 1, AM_TIMEOUT_MAX_MS, "alertmanager.timeout_ms", src,
                        err, errlen);
    if (strcmp(k, "generator_url") == 0)
        return load_text(v, a->generator_url, "alertmanager.generator_url", 0, src, err, errlen);
    char key[80];
    snprintf(key, sizeof(key), "alertmanager.%.60s", k);
    return config_key_err(err, errlen, src, key, "unknown key");
}

int config_am_load(const json_t *obj, sw_alertmanager *a, const char *src, char *err,
                   size_t errlen)
{
    sw_alertmanager tmp;
    config_am_defaults(&tmp);
    if (json_is_null(obj)) {
        *a = tmp;
        return 0;
    }
    if (!json_is_object(obj))
        return config_key_err(err, errlen, src, "alertmanager",
                              "expected an object (or null: off)");
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)obj, k, v) {
        if (load_key(k, v, &tmp, src, err, errlen))
            return -1;
    }
    if (tmp.n_urls == 0)
        return config_key_err(err, errlen, src, "alertmanager.urls", "required (1..%d URLs)",
                              SW_AM_MAX_URLS);
    tmp.enabled = 1;
    *a = tmp;
    return 0;
}

json_t *config_am_dump(const sw_alertmanager *a)
{
    if (!a->enabled)
        return json_null();
    json_t *urls = json_array();
    for (int i = 0; urls && i < a->n_urls; i++)
        if (json_array_append_new(urls, json_string(a->urls[i])) != 0) {
            json_decref(urls);
            return NULL;
        }
    if (urls == NULL)
        return NULL;
    return json_pack("{s:o,s:I,s:I,s:s}", "urls", urls, "resend_s", (json_int_t)a->resend_s,
                     "timeout_ms", (json_int_t)a->timeout_ms, "generator_url", a->generator_url);
}
