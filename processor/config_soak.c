/* config_soak.c: loading the `soak` section (docs/semantics.md section 11,
 * docs/configuration.md). Invariant: every key is checked for type and
 * range, unknown keys are refused by name, and s is written only when the
 * whole section is valid. */
#include "config_soak.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"

#define SOAK_MAX_HOURS 8760 /* a year */

void config_soak_defaults(sw_soak *s)
{
    memset(s, 0, sizeof(*s));
    s->start_ms = INT64_MIN;
    s->hours = 48;
    strcpy(s->title, "Stream5 Staging Update");
    s->success_rate_min = 0.95;
    s->latency_mean_max_ms = 2000;
    s->error_rate_max = 0.05;
    s->compression_success_min = 0.80;
    static const char *const defs[][2] = {
        {"qa", "QA sign-off on integration tests"},
        {"ops", "Ops confirms stability"},
        {"support", "Support ready"},
        {"docs", "Documentation reviewed"},
        {"no_regressions", "No regressions in existing functionality"},
    };
    for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++) {
        strcpy(s->signoffs[i].key, defs[i][0]);
        strcpy(s->signoffs[i].title, defs[i][1]);
    }
    s->n_signoffs = (int)(sizeof(defs) / sizeof(defs[0]));
}

int config_soak_signoff_index(const sw_soak *s, const char *key)
{
    for (int i = 0; i < s->n_signoffs; i++)
        if (strcmp(s->signoffs[i].key, key) == 0)
            return i;
    return -1;
}

int config_soak_parse_start(const char *text, int64_t *ms)
{
    size_t n = strlen(text);
    if (n == 0)
        return -1;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno == 0 && end == text + n && text[0] != '+' && text[0] != ' ') {
        *ms = (int64_t)v;
        return *ms < 0 || *ms > SW_TS_MAX_MS ? -1 : 0;
    }
    return dec_rfc3339_parse(text, n, ms) == 0 ? 0 : -1;
}

static int load_start(const json_t *v, sw_soak *s, const char *src, char *err, size_t errlen)
{
    int64_t ms = 0;
    if (json_is_integer(v)) {
        ms = (int64_t)json_integer_value(v);
        if (ms < 0 || ms > SW_TS_MAX_MS)
            return config_key_err(err, errlen, src, "soak.start",
                                  "%" PRId64 " out of range 0..%" PRId64,
                                  ms, (int64_t)SW_TS_MAX_MS);
    } else if (!json_is_string(v) ||
               dec_rfc3339_parse(json_string_value(v), json_string_length(v), &ms) != 0) {
        return config_key_err(err, errlen, src, "soak.start",
                              "expected an RFC 3339 time or integer milliseconds");
    }
    s->start_ms = ms;
    return 0;
}

static int load_text(const json_t *v, char *dst, const char *key, int allow_empty,
                     const char *src, char *err, size_t errlen)
{
    if (!json_is_string(v))
        return config_key_err(err, errlen, src, key, "expected a string");
    size_t n = json_string_length(v);
    if (n > SW_STR_MAX || memchr(json_string_value(v), '\0', n) != NULL)
        return config_key_err(err, errlen, src, key, "longer than %d bytes or holding a NUL",
                              SW_STR_MAX);
    if (n == 0 && !allow_empty)
        return config_key_err(err, errlen, src, key, "must not be empty");
    memcpy(dst, json_string_value(v), n);
    dst[n] = '\0';
    return 0;
}

static int load_rate(const json_t *v, double *dst, double max, const char *key, const char *src,
                     char *err, size_t errlen)
{
    if (!json_is_number(v))
        return config_key_err(err, errlen, src, key, "expected a number");
    double x = json_number_value(v);
    if (!(x >= 0 && x <= max))
        return config_key_err(err, errlen, src, key, "%g out of range 0..%g", x, max);
    *dst = x;
    return 0;
}

static int load_targets(const json_t *obj, sw_soak *s, const char *src, char *err, size_t errlen)
{
    if (!json_is_object(obj))
        return config_key_err(err, errlen, src, "soak.targets", "expected an object");
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)obj, k, v) {
        char key[80];
        snprintf(key, sizeof(key), "soak.targets.%.50s", k);
        int rc;
        if (strcmp(k, "success_rate_min") == 0)
            rc = load_rate(v, &s->success_rate_min, 1, key, src, err, errlen);
        else if (strcmp(k, "error_rate_max") == 0)
            rc = load_rate(v, &s->error_rate_max, 1, key, src, err, errlen);
        else if (strcmp(k, "compression_success_min") == 0)
            rc = load_rate(v, &s->compression_success_min, 1, key, src, err, errlen);
        else if (strcmp(k, "latency_mean_max_ms") == 0)
            rc = load_rate(v, &s->latency_mean_max_ms, 1e12, key, src, err, errlen);
        else
            rc = config_key_err(err, errlen, src, key, "unknown key");
        if (rc)
            return -1;
    }
    return 0;
}

/* soak.signoffs: [{"key", "title"}, ...], keys unique; [] for none. */
static int load_signoffs(const json_t *arr, sw_soak *s, const char *src, char *err,
                         size_t errlen)
{
    if (!json_is_array(arr) || json_array_size(arr) > SW_SOAK_MAX_SIGNOFFS)
        return config_key_err(err, errlen, src, "soak.signoffs", "expected an array of at most %d",
                              SW_SOAK_MAX_SIGNOFFS);
    s->n_signoffs = 0;
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *o = json_array_get(arr, i);
        const json_t *k = json_object_get(o, "key"), *t = json_object_get(o, "title");
        struct sw_signoff_def *d = &s->signoffs[i];
        if (!json_is_object(o) || json_object_size(o) != 2 || !json_is_string(k) ||
            json_string_length(k) == 0 || json_string_length(k) > SW_SIGNOFF_KEY_MAX ||
            strlen(json_string_value(k)) != json_string_length(k) ||
            load_text(t, d->title, "soak.signoffs[].title", 0, src, err, errlen) != 0)
            return config_key_err(err, errlen, src, "soak.signoffs",
                                  "entry %zu: expected {\"key\": 1..%d bytes, \"title\": text}", i,
                                  SW_SIGNOFF_KEY_MAX);
        strcpy(d->key, json_string_value(k));
        if (config_soak_signoff_index(s, d->key) >= 0)
            return config_key_err(err, errlen, src, "soak.signoffs",
                                  "key \"%s\" given twice", d->key);
        s->n_signoffs++;
    }
    return 0;
}

static int load_key(const char *k, const json_t *v, sw_soak *s, const char *src, char *err,
                    size_t errlen)
{
    if (strcmp(k, "start") == 0)
        return load_start(v, s, src, err, errlen);
    if (strcmp(k, "hours") == 0) {
        if (!json_is_integer(v) || json_integer_value(v) < 1 ||
            json_integer_value(v) > SOAK_MAX_HOURS)
            return config_key_err(err, errlen, src, "soak.hours", "expected an integer 1..%d",
                                  SOAK_MAX_HOURS);
        s->hours = (int64_t)json_integer_value(v);
        return 0;
    }
    if (strcmp(k, "title") == 0)
        return load_text(v, s->title, "soak.title", 0, src, err, errlen);
    if (strcmp(k, "dashboard_url") == 0)
        return load_text(v, s->dashboard_url, "soak.dashboard_url", 1, src, err, errlen);
    if (strcmp(k, "targets") == 0)
        return load_targets(v, s, src, err, errlen);
    if (strcmp(k, "signoffs") == 0)
        return load_signoffs(v, s, src, err, errlen);
    char key[80];
    snprintf(key, sizeof(key), "soak.%.60s", k);
    return config_key_err(err, errlen, src, key, "unknown key");
}

int config_soak_load(const json_t *obj, sw_soak *s, const char *src, char *err, size_t errlen)
{
    sw_soak tmp;
    config_soak_defaults(&tmp);
    if (json_is_null(obj)) {
        *s = tmp;
        return 0;
    }
    if (!json_is_object(obj))
        return config_key_err(err, errlen, src, "soak", "expected an object (or null: off)");
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)obj, k, v) {
        if (load_key(k, v, &tmp, src, err, errlen))
            return -1;
    }
    tmp.enabled = 1;
    *s = tmp;
    return 0;
}

json_t *config_soak_dump(const sw_soak *s)
{
    if (!s->enabled)
        return json_null();
    json_t *t = json_pack("{s:f,s:f,s:f,s:f}", "success_rate_min", s->success_rate_min,
                          "latency_mean_max_ms", s->latency_mean_max_ms, "error_rate_max",
                          s->error_rate_max, "compression_success_min",
                          s->compression_success_min);
    json_t *o = t ? json_pack("{s:I,s:s,s:s,s:o}", "hours", (json_int_t)s->hours, "title",
                              s->title, "dashboard_url", s->dashboard_url, "targets", t)
                  : NULL;
    json_t *so = o ? json_array() : NULL;
    for (int i = 0; so && i < s->n_signoffs; i++)
        json_array_append_new(so, json_pack("{s:s,s:s}", "key", s->signoffs[i].key, "title",
                                            s->signoffs[i].title));
    if (o && (so == NULL || json_object_set_new(o, "signoffs", so) != 0)) {
        json_decref(o);
        return NULL;
    }
    if (o && s->start_ms != INT64_MIN &&
        json_object_set_new(o, "start", json_integer((json_int_t)s->start_ms)) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}
