/* config_input.c: the `input` section. Every key is checked here, at load,
 * so that the decoder can compile a mapping that is known to be valid; an
 * unknown key, a wrong type or a bad path stops start-up naming the key. */
#include "config_input.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config_env.h"
#include "event.h"
#include "inpath.h"

#define KEY_MAX 160

static const char *const field_keys[SW_IN_FIELDS] = {
    "event", "time", "duration", "status", "reason", "strategy", "time_constraint",
};
static const char *const field_defaults[SW_IN_FIELDS] = {
    "event", "ts", "durationMs", "status", "reason", "compressionStrategy", "meetsTimeConstraint",
};
static const char *const kind_names[4] = {"requested", "succeeded", "fallback", "declined"};
static const char *const envelope_names[] = {"none", "field", "syslog", "otlp"};

void config_input_defaults(sw_input *in)
{
    memset(in, 0, sizeof(*in));
    in->envelope = SW_ENV_NONE;
    strcpy(in->envelope_field, "message");
    for (int f = 0; f < SW_IN_FIELDS; f++) {
        in->fields[f].n_paths = 1;
        strcpy(in->fields[f].paths[0], field_defaults[f]);
    }
    in->duration_required = 1;
    in->n_error_reasons = 1;
    strcpy(in->error_reasons[0], "internal_error");
    in->weight = 1;
    in->max_latency_ms = 60000;
    in->table_size = 65536;
}

int config_input_is_flat(const sw_input *in)
{
    sw_input d;
    config_input_defaults(&d);
    return memcmp(&d, in, sizeof(d)) == 0;
}

/* Key names are for messages: one too long for the buffer is cut. */
static void keyf(char *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void keyf(char *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, KEY_MAX, fmt, ap);
    va_end(ap);
}

/* A string of 1..max bytes without NUL into dst (zeroed first). */
static int get_string(const cfg_loader *c, const char *key, const json_t *j, size_t max, char *dst)
{
    if (!json_is_string(j))
        return cfg_err(c, key, "expected a string, got %s", cfg_json_kind(j));
    size_t n = json_string_length(j);
    const char *s = json_string_value(j);
    if (n == 0)
        return cfg_err(c, key, "must not be empty");
    if (memchr(s, '\0', n))
        return cfg_err(c, key, "contains a NUL character");
    if (n > max)
        return cfg_err(c, key, "longer than %zu bytes", max);
    memset(dst, 0, max + 1);
    memcpy(dst, s, n);
    return 0;
}

static int get_path(const cfg_loader *c, const char *key, const json_t *j, char *dst)
{
    if (get_string(c, key, j, SW_PATH_MAX, dst))
        return -1;
    inpath p;
    const char *why = NULL;
    if (inpath_parse(dst, &p, &why) != 0)
        return cfg_err(c, key, "\"%s\" is not a path: %s", dst, why);
    return 0;
}

static int get_int(const cfg_loader *c, const char *key, const json_t *j, int64_t lo, int64_t hi,
                   int64_t *out)
{
    if (!json_is_integer(j))
        return cfg_err(c, key, "expected an integer, got %s", cfg_json_kind(j));
    json_int_t v = json_integer_value(j);
    if (v < lo || v > hi)
        return cfg_err(c, key, "%" PRId64 " out of range %" PRId64 "..%" PRId64, (int64_t)v, lo, hi);
    *out = (int64_t)v;
    return 0;
}

/* Refuse keys of obj not in `allowed` (NULL-terminated). */
static int only_keys(const cfg_loader *c, const char *base, const json_t *obj,
                     const char *const *allowed)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v) {
        int ok = 0;
        for (int i = 0; allowed[i]; i++)
            ok |= strcmp(k, allowed[i]) == 0;
        if (!ok) {
            char key[KEY_MAX];
            keyf(key, "%s.%s", base, k);
            return cfg_err(c, key, "unknown key");
        }
    }
    return 0;
}

/* One path or a list of 1..4 (alternatives) into the field's paths. */
static int get_paths(const cfg_loader *c, const char *key, const json_t *j, int null_ok,
                     sw_field_map *f)
{
    memset(f->paths, 0, sizeof(f->paths));
    f->n_paths = 0;
    if (json_is_string(j)) {
        f->n_paths = 1;
        return get_path(c, key, j, f->paths[0]);
    }
    if (!json_is_array(j))
        return cfg_err(c, key, "expected a path%s, got %s",
                    null_ok ? ", a list of paths or null" : " or a list of paths", cfg_json_kind(j));
    size_t n = json_array_size(j);
    if (n < 1 || n > SW_MAX_PATH_ALTS)
        return cfg_err(c, key, "a list of 1 to %d paths, got %zu", SW_MAX_PATH_ALTS, n);
    char ik[KEY_MAX];
    for (size_t i = 0; i < n; i++) {
        keyf(ik, "%s[%zu]", key, i);
        if (get_path(c, ik, json_array_get(j, i), f->paths[i]))
            return -1;
    }
    f->n_paths = (int)n;
    return 0;
}

static int load_field(const cfg_loader *c, int fi, const json_t *j, sw_field_map *f)
{
    char key[KEY_MAX];
    keyf(key, "input.fields.%s", field_keys[fi]);
    memset(f, 0, sizeof(*f));
    if (json_is_null(j))
        return 0;
    if (!json_is_object(j))
        return get_paths(c, key, j, 1, f);
    if (fi != SW_IN_EVENT)
        return cfg_err(c, key, "only input.fields.event takes an object (prefix, token)");
    static const char *const allowed[] = {"path", "prefix", "token", NULL};
    if (only_keys(c, key, j, allowed))
        return -1;
    const json_t *path = json_object_get(j, "path");
    const json_t *prefix = json_object_get(j, "prefix");
    const json_t *token = json_object_get(j, "token");
    char sub[KEY_MAX];
    keyf(sub, "%s.path", key);
    if (path == NULL)
        return cfg_err(c, sub, "missing");
    if (get_paths(c, sub, path, 0, f))
        return -1;
    if (prefix && token)
        return cfg_err(c, key, "prefix and token exclude each other");
    if (prefix) {
        keyf(sub, "%s.prefix", key);
        f->extract = SW_EXTRACT_PREFIX;
        return get_string(c, sub, prefix, SW_AFFIX_MAX, f->affix);
    }
    if (token) {
        keyf(sub, "%s.token", key);
        f->extract = SW_EXTRACT_TOKEN;
        if (get_string(c, sub, token, SW_AFFIX_MAX, f->affix))
            return -1;
        if (strchr(f->affix, ' ') || strchr(f->affix, '='))
            return cfg_err(c, sub, "a token key holds no space and no '='");
    }
    return 0;
}

static int load_fields(const cfg_loader *c, const json_t *j, sw_input *in)
{
    if (!json_is_object(j))
        return cfg_err(c, "input.fields", "expected an object, got %s", cfg_json_kind(j));
    static const char *const allowed[] = {"event", "time", "duration", "status", "reason",
                                          "strategy", "time_constraint", NULL};
    if (only_keys(c, "input.fields", j, allowed))
        return -1;
    for (int f = 0; f < SW_IN_FIELDS; f++) {
        const json_t *v = json_object_get(j, field_keys[f]);
        if (v && load_field(c, f, v, &in->fields[f]))
            return -1;
    }
    return 0;
}

static int load_envelope(const cfg_loader *c, const json_t *j, sw_input *in)
{
    if (!json_is_object(j))
        return cfg_err(c, "input.envelope", "expected an object, got %s", cfg_json_kind(j));
    static const char *const allowed[] = {"type", "field", NULL};
    if (only_keys(c, "input.envelope", j, allowed))
        return -1;
    const json_t *type = json_object_get(j, "type");
    if (type == NULL)
        return cfg_err(c, "input.envelope.type", "missing (none, field, syslog or otlp)");
    char t[SW_STR_MAX + 1];
    if (get_string(c, "input.envelope.type", type, SW_STR_MAX, t))
        return -1;
    int found = -1;
    for (int i = 0; i < 4; i++)
        if (strcmp(t, envelope_names[i]) == 0)
            found = i;
    if (found < 0)
        return cfg_err(c, "input.envelope.type", "\"%s\" is not none, field, syslog or otlp", t);
    in->envelope = found;
    const json_t *field = json_object_get(j, "field");
    if (field) {
        if (found != SW_ENV_FIELD)
            return cfg_err(c, "input.envelope.field", "only with type \"field\"");
        return get_path(c, "input.envelope.field", field, in->envelope_field);
    }
    return 0;
}

static int load_filters(const cfg_loader *c, const json_t *j, sw_input *in)
{
    if (!json_is_array(j))
        return cfg_err(c, "input.filters", "expected an array, got %s", cfg_json_kind(j));
    if (json_array_size(j) > SW_MAX_FILTERS)
        return cfg_err(c, "input.filters", "more than %d filters", SW_MAX_FILTERS);
    memset(in->filters, 0, sizeof(in->filters));
    in->n_filters = 0;
    static const char *const allowed[] = {"events", "field", "equals", NULL};
    char key[KEY_MAX], sub[KEY_MAX];
    for (size_t i = 0; i < json_array_size(j); i++) {
        const json_t *o = json_array_get(j, i);
        sw_filter *f = &in->filters[i];
        keyf(key, "input.filters[%zu]", i);
        if (!json_is_object(o))
            return cfg_err(c, key, "expected an object, got %s", cfg_json_kind(o));
        if (only_keys(c, key, o, allowed))
            return -1;
        const json_t *events = json_object_get(o, "events");
        f->kinds = 0xf;
        if (events) {
            keyf(sub, "%s.events", key);
            if (!json_is_array(events) || json_array_size(events) == 0)
                return cfg_err(c, sub, "expected a non-empty array of event kinds");
            f->kinds = 0;
            for (size_t k = 0; k < json_array_size(events); k++) {
                const json_t *e = json_array_get(events, k);
                int kind = -1;
                for (int n = 0; n < 4 && json_is_string(e); n++)
                    if (strcmp(json_string_value(e), kind_names[n]) == 0)
                        kind = n;
                if (kind < 0)
                    return cfg_err(c, sub, "entry %zu is not requested, succeeded, fallback or "
                                "declined", k);
                f->kinds |= 1u << kind;
            }
        }
        keyf(sub, "%s.field", key);
        const json_t *field = json_object_get(o, "field");
        if (field == NULL)
            return cfg_err(c, sub, "missing");
        if (get_path(c, sub, field, f->path))
            return -1;
        keyf(sub, "%s.equals", key);
        const json_t *eq = json_object_get(o, "equals");
        if (eq == NULL)
            return cfg_err(c, sub, "missing");
        if (!json_is_array(eq) || json_array_size(eq) < 1 ||
            json_array_size(eq) > SW_MAX_FILTER_VALUES)
            return cfg_err(c, sub, "expected an array of 1 to %d strings", SW_MAX_FILTER_VALUES);
        for (size_t k = 0; k < json_array_size(eq); k++) {
            char vk[KEY_MAX];
            keyf(vk, "%s[%zu]", sub, k);
            if (get_string(c, vk, json_array_get(eq, k), SW_STR_MAX, f->values[k]))
                return -1;
        }
        f->n_values = (int)json_array_size(eq);
        in->n_filters++;
    }
    return 0;
}

static int load_weight(const cfg_loader *c, const json_t *j, sw_input *in)
{
    memset(in->weight_path, 0, sizeof(in->weight_path));
    in->weight = 1;
    if (json_is_integer(j))
        return get_int(c, "input.sample_weight", j, 1, SW_WEIGHT_MAX, &in->weight);
    if (!json_is_object(j))
        return cfg_err(c, "input.sample_weight", "expected an integer 1..%d or an object "
                    "{\"field\", \"default\"}, got %s", SW_WEIGHT_MAX, cfg_json_kind(j));
    static const char *const allowed[] = {"field", "default", NULL};
    if (only_keys(c, "input.sample_weight", j, allowed))
        return -1;
    const json_t *field = json_object_get(j, "field");
    if (field == NULL)
        return cfg_err(c, "input.sample_weight.field", "missing");
    if (get_path(c, "input.sample_weight.field", field, in->weight_path))
        return -1;
    const json_t *def = json_object_get(j, "default");
    if (def)
        return get_int(c, "input.sample_weight.default", def, 1, SW_WEIGHT_MAX, &in->weight);
    return 0;
}

static int load_correlate(const cfg_loader *c, const json_t *j, sw_input *in)
{
    if (!json_is_object(j))
        return cfg_err(c, "input.correlate", "expected an object, got %s", cfg_json_kind(j));
    static const char *const allowed[] = {"key", "max_latency_ms", "table_size", NULL};
    if (only_keys(c, "input.correlate", j, allowed))
        return -1;
    const json_t *key = json_object_get(j, "key");
    if (key == NULL)
        return cfg_err(c, "input.correlate.key", "missing");
    if (!json_is_array(key) || json_array_size(key) < 1 ||
        json_array_size(key) > SW_MAX_KEY_PATHS)
        return cfg_err(c, "input.correlate.key", "expected an array of 1 to %d paths",
                    SW_MAX_KEY_PATHS);
    memset(in->key_paths, 0, sizeof(in->key_paths));
    char k[KEY_MAX];
    for (size_t i = 0; i < json_array_size(key); i++) {
        keyf(k, "input.correlate.key[%zu]", i);
        if (get_path(c, k, json_array_get(key, i), in->key_paths[i]))
            return -1;
    }
    in->n_key_paths = (int)json_array_size(key);
    const json_t *v = json_object_get(j, "max_latency_ms");
    if (v && get_int(c, "input.correlate.max_latency_ms", v, 1, 3600000, &in->max_latency_ms))
        return -1;
    v = json_object_get(j, "table_size");
    if (v && get_int(c, "input.correlate.table_size", v, 16, 16777216, &in->table_size))
        return -1;
    in->correlate = 1;
    return 0;
}

static int load_error_reasons(const cfg_loader *c, const json_t *j, sw_input *in)
{
    if (!json_is_array(j) || json_array_size(j) > SW_MAX_ERROR_REASONS)
        return cfg_err(c, "input.error_reasons", "expected an array of at most %d strings",
                    SW_MAX_ERROR_REASONS);
    memset(in->error_reasons, 0, sizeof(in->error_reasons));
    char k[KEY_MAX];
    for (size_t i = 0; i < json_array_size(j); i++) {
        keyf(k, "input.error_reasons[%zu]", i);
        if (get_string(c, k, json_array_get(j, i), SW_STR_MAX, in->error_reasons[i]))
            return -1;
    }
    in->n_error_reasons = (int)json_array_size(j);
    return 0;
}

int config_input_load(const json_t *obj, sw_input *in, const char *src, char *err,
                      size_t errlen)
{
    cfg_loader c = {src, err, errlen};
    if (!json_is_object(obj))
        return cfg_err(&c, "input", "expected an object, got %s", cfg_json_kind(obj));
    static const char *const allowed[] = {"envelope", "fields", "duration_required",
                                          "error_reasons", "filters", "sample_weight",
                                          "correlate", NULL};
    if (only_keys(&c, "input", obj, allowed))
        return -1;
    sw_input tmp;
    config_input_defaults(&tmp);
    const json_t *v;
    if ((v = json_object_get(obj, "envelope")) && load_envelope(&c, v, &tmp))
        return -1;
    if ((v = json_object_get(obj, "fields")) && load_fields(&c, v, &tmp))
        return -1;
    if ((v = json_object_get(obj, "error_reasons")) && load_error_reasons(&c, v, &tmp))
        return -1;
    if ((v = json_object_get(obj, "filters")) && load_filters(&c, v, &tmp))
        return -1;
    if ((v = json_object_get(obj, "sample_weight")) && load_weight(&c, v, &tmp))
        return -1;
    if ((v = json_object_get(obj, "correlate")) && load_correlate(&c, v, &tmp))
        return -1;
    tmp.duration_required = !tmp.correlate;
    if ((v = json_object_get(obj, "duration_required"))) {
        if (!json_is_boolean(v))
            return cfg_err(&c, "input.duration_required", "expected a boolean, got %s",
                        cfg_json_kind(v));
        tmp.duration_required = json_is_true(v);
    }
    if (tmp.fields[SW_IN_EVENT].n_paths == 0)
        return cfg_err(&c, "input.fields.event", "the event name cannot be null");
    if (tmp.fields[SW_IN_TIME].n_paths == 0)
        return cfg_err(&c, "input.fields.time", "the event time cannot be null");
    if (tmp.duration_required && tmp.fields[SW_IN_DURATION].n_paths == 0)
        return cfg_err(&c, "input.duration_required",
                    "true, but input.fields.duration is null: no outcome could be accepted");
    *in = tmp;
    return 0;
}

int config_input_validate(const sw_input *in, char *err, size_t errlen)
{
    const char *bad = NULL;
    if (in->envelope < SW_ENV_NONE || in->envelope > SW_ENV_OTLP)
        bad = "input.envelope.type: out of range";
    else if (in->weight < 1 || in->weight > SW_WEIGHT_MAX)
        bad = "input.sample_weight: out of range 1..1000";
    else if (in->fields[SW_IN_EVENT].n_paths == 0 || in->fields[SW_IN_TIME].n_paths == 0)
        bad = "input.fields: the event name and time cannot be null";
    if (bad == NULL)
        return 0;
    snprintf(err, errlen, "%s", bad);
    return -1;
}

/* ---- the effective section as JSON -------------------------------------- */

static json_t *paths_json(const sw_field_map *f)
{
    if (f->n_paths == 0)
        return json_null();
    if (f->n_paths == 1)
        return json_string(f->paths[0]);
    json_t *a = json_array();
    for (int i = 0; a && i < f->n_paths; i++)
        if (json_array_append_new(a, json_string(f->paths[i])) != 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

/* Set key on obj, taking val; a NULL val or a failed set (out of memory)
 * marks the dump as failed: a half section must never be printed as the
 * effective config. */
static void dump_put(json_t *obj, const char *key, json_t *val, int *bad)
{
    if (val == NULL || json_object_set_new(obj, key, val) != 0)
        *bad = 1;
}

/* The same for an array element (jansson releases val when it fails). */
static void dump_append(json_t *arr, json_t *val, int *bad)
{
    if (json_array_append_new(arr, val) != 0)
        *bad = 1;
}

json_t *config_input_dump(const sw_input *in)
{
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
    int bad = 0;
    json_t *env = json_pack("{ss}", "type", envelope_names[in->envelope]);
    if (env && in->envelope == SW_ENV_FIELD)
        dump_put(env, "field", json_string(in->envelope_field), &bad);
    dump_put(o, "envelope", env, &bad);
    json_t *fields = json_object();
    for (int f = 0; fields && f < SW_IN_FIELDS; f++) {
        const sw_field_map *m = &in->fields[f];
        json_t *v = paths_json(m);
        if (m->extract != SW_EXTRACT_VALUE)
            v = json_pack("{so ss}", "path", v,
                          m->extract == SW_EXTRACT_PREFIX ? "prefix" : "token", m->affix);
        dump_put(fields, field_keys[f], v, &bad);
    }
    dump_put(o, "fields", fields, &bad);
    dump_put(o, "duration_required", json_boolean(in->duration_required), &bad);
    json_t *er = json_array();
    for (int i = 0; er && i < in->n_error_reasons; i++)
        dump_append(er, json_string(in->error_reasons[i]), &bad);
    dump_put(o, "error_reasons", er, &bad);
    json_t *fl = json_array();
    for (int i = 0; fl && i < in->n_filters; i++) {
        const sw_filter *f = &in->filters[i];
        json_t *ev = json_array(), *eq = json_array();
        for (int k = 0; ev && k < 4; k++)
            if (f->kinds & (1u << k))
                dump_append(ev, json_string(kind_names[k]), &bad);
        for (int k = 0; eq && k < f->n_values; k++)
            dump_append(eq, json_string(f->values[k]), &bad);
        dump_append(fl, json_pack("{so ss so}", "events", ev, "field", f->path, "equals", eq),
                    &bad);
    }
    dump_put(o, "filters", fl, &bad);
    if (in->weight_path[0])
        dump_put(o, "sample_weight", json_pack("{ss sI}", "field", in->weight_path,
                                               "default", (json_int_t)in->weight), &bad);
    else
        dump_put(o, "sample_weight", json_integer(in->weight), &bad);
    if (in->correlate) {
        json_t *key = json_array();
        for (int i = 0; key && i < in->n_key_paths; i++)
            dump_append(key, json_string(in->key_paths[i]), &bad);
        dump_put(o, "correlate",
                 json_pack("{so sI sI}", "key", key, "max_latency_ms",
                           (json_int_t)in->max_latency_ms, "table_size",
                           (json_int_t)in->table_size), &bad);
    }
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}
