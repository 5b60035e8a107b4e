/* otlp.c: OTLP/JSON logs to plain record objects. Only the structure of the
 * export is known here; what a record means is the decoder's business. */
#include "otlp.h"

#include <stdint.h>
#include <string.h>

/* A string of an optional '-' (when neg_ok) and 1 to 19 digits that fits
 * int64: its value. Returns 0 or -1. */
static int digits_int(const char *s, size_t n, int neg_ok, int64_t *out)
{
    int neg = 0;
    if (neg_ok && n > 0 && s[0] == '-') {
        neg = 1;
        s++;
        n--;
    }
    if (n < 1 || n > 19)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > (uint64_t)INT64_MAX + (uint64_t)neg)
        return -1;
    *out = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
    return 0;
}

static json_t *kv_object(json_t *arr);

/* An AnyValue, converted (a new reference; null when it is none). */
static json_t *any_value(json_t *v)
{
    if (!json_is_object(v))
        return json_null();
    json_t *x;
    if ((x = json_object_get(v, "stringValue")) && json_is_string(x))
        return json_incref(x);
    if ((x = json_object_get(v, "boolValue")) && json_is_boolean(x))
        return json_incref(x);
    if ((x = json_object_get(v, "intValue"))) {
        int64_t i;
        if (json_is_integer(x))
            return json_incref(x);
        if (json_is_string(x) &&
            digits_int(json_string_value(x), json_string_length(x), 1, &i) == 0)
            return json_integer(i);
    }
    if ((x = json_object_get(v, "doubleValue")) && json_is_number(x))
        return json_incref(x);
    json_t *vals;
    if ((x = json_object_get(v, "kvlistValue")) && json_is_object(x) &&
        (vals = json_object_get(x, "values")) && json_is_array(vals))
        return kv_object(vals);
    if ((x = json_object_get(v, "arrayValue")) && json_is_object(x) &&
        (vals = json_object_get(x, "values")) && json_is_array(vals)) {
        json_t *a = json_array();
        size_t i;
        json_t *el;
        json_array_foreach(vals, i, el)
            json_array_append_new(a, any_value(el));
        return a;
    }
    return json_null();
}

/* [{"key": K, "value": V}, ...] as {K: V, ...}; later duplicates win. */
static json_t *kv_object(json_t *arr)
{
    json_t *o = json_object();
    size_t i;
    json_t *el;
    json_array_foreach(arr, i, el) {
        json_t *k = json_is_object(el) ? json_object_get(el, "key") : NULL;
        if (k && json_is_string(k))
            json_object_set_new(o, json_string_value(k), any_value(json_object_get(el, "value")));
    }
    return o;
}

/* A nanosecond time as milliseconds, rounded down; -1 when there is none. */
static int nano_ms(json_t *v, int64_t *ms)
{
    int64_t ns;
    if (json_is_integer(v))
        ns = json_integer_value(v);
    else if (!json_is_string(v) ||
             digits_int(json_string_value(v), json_string_length(v), 0, &ns) != 0)
        return -1;
    *ms = ns / 1000000 - (ns % 1000000 < 0);
    return 0;
}

static json_t *attrs_of(json_t *owner)
{
    json_t *a = json_is_object(owner) ? json_object_get(owner, "attributes") : NULL;
    if (json_is_array(a))
        return kv_object(a);
    return json_object();
}

static json_t *record_of(json_t *resource, json_t *lr)
{
    json_t *r = json_object();
    json_t *raw_body = json_object_get(lr, "body");
    json_t *body = raw_body ? any_value(raw_body) : NULL; /* none: the key is absent */
    if (json_is_string(body)) {
        json_error_t err;
        json_t *doc = json_loadb(json_string_value(body), json_string_length(body), 0, &err);
        if (doc && json_is_object(doc)) {
            json_decref(body);
            body = doc;
        } else {
            json_decref(doc);
        }
    }
    if (body)
        json_object_set_new(r, "body", body);
    json_object_set_new(r, "attributes", attrs_of(lr));
    json_object_set_new(r, "resource", attrs_of(resource));
    int64_t ms;
    if (nano_ms(json_object_get(lr, "timeUnixNano"), &ms) == 0)
        json_object_set_new(r, "timeUnixMs", json_integer(ms));
    if (nano_ms(json_object_get(lr, "observedTimeUnixNano"), &ms) == 0)
        json_object_set_new(r, "observedTimeUnixMs", json_integer(ms));
    json_t *sev = json_object_get(lr, "severityText");
    if (json_is_string(sev))
        json_object_set(r, "severityText", sev);
    return r;
}

/* The array at key of an object: 1 and *out, 0 when absent, -1 when present
 * and not an array. */
static int array_at(json_t *o, const char *key, json_t **out)
{
    json_t *a = json_object_get(o, key);
    if (a == NULL)
        return 0;
    if (!json_is_array(a))
        return -1;
    *out = a;
    return 1;
}

int otlp_records(const char *buf, size_t len, otlp_record_fn fn, void *ud)
{
    json_error_t err;
    json_t *doc = json_loadb(buf, len, 0, &err);
    json_t *rls = NULL;
    if (doc == NULL || !json_is_object(doc) || array_at(doc, "resourceLogs", &rls) != 1) {
        json_decref(doc);
        return -1;
    }
    size_t i, j, k;
    json_t *rl, *sl, *lr;
    json_array_foreach(rls, i, rl) {
        json_t *sls = NULL;
        int has = json_is_object(rl) ? array_at(rl, "scopeLogs", &sls) : -1;
        if (has < 0)
            fn(ud, NULL);
        if (has <= 0)
            continue;
        json_t *resource = json_object_get(rl, "resource");
        json_array_foreach(sls, j, sl) {
            json_t *lrs = NULL;
            int hl = json_is_object(sl) ? array_at(sl, "logRecords", &lrs) : -1;
            if (hl < 0)
                fn(ud, NULL);
            if (hl <= 0)
                continue;
            json_array_foreach(lrs, k, lr) {
                if (!json_is_object(lr)) {
                    fn(ud, NULL);
                    continue;
                }
                json_t *rec = record_of(resource, lr);
                fn(ud, rec);
                json_decref(rec);
            }
        }
    }
    json_decref(doc);
    return 0;
}
