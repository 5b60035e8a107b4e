/* config_cohorts.c: loading `cohorts` and the rules' scope and action
 * (config_cohorts.h, docs/semantics.md section 12). */
#include "config_cohorts.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "inpath.h"

#define COHORT_VALUE_MAX LABEL_NAME_MAX

static int load_field(const json_t *v, sw_cohorts *k, const char *src, char *err, size_t errlen)
{
    inpath p;
    const char *why = "does not parse";
    if (!json_is_string(v))
        return config_key_err(err, errlen, src, "cohorts.field",
                              "expected an input path (a string)");
    size_t n = json_string_length(v);
    if (n == 0 || n > SW_PATH_MAX)
        return config_key_err(err, errlen, src, "cohorts.field", "expected 1 to %d characters",
                              SW_PATH_MAX);
    if (inpath_parse(json_string_value(v), &p, &why) != 0)
        return config_key_err(err, errlen, src, "cohorts.field", "\"%s\": %s", json_string_value(v),
                              why);
    memcpy(k->field, json_string_value(v), n + 1);
    return 0;
}

static int load_values(const json_t *v, sw_cohorts *k, const char *src, char *err,
                       size_t errlen)
{
    if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > SW_MAX_COHORTS)
        return config_key_err(err, errlen, src, "cohorts.values",
                              "expected an array of 1 to %d values",
                              SW_MAX_COHORTS);
    size_t i;
    const json_t *x;
    json_array_foreach(v, i, x) {
        char key[40];
        snprintf(key, sizeof(key), "cohorts.values[%zu]", i);
        const char *s = json_string_value(x);
        if (s == NULL || !config_name_ok(s, json_string_length(x), COHORT_VALUE_MAX))
            return config_key_err(err, errlen, src, key, "expected 1 to %d characters of "
                                  "[A-Za-z0-9_.-]", COHORT_VALUE_MAX);
        if (strcmp(s, "other") == 0)
            return config_key_err(err, errlen, src, key,
                                  "\"other\" is the cohort of every value not "
                                  "listed; it cannot be listed");
        int rc = labels_add(&k->values, s);
        if (rc == -EEXIST)
            return config_key_err(err, errlen, src, key, "\"%s\" is listed twice", s);
        if (rc != 0)
            return config_key_err(err, errlen, src, key, "cannot be added (%s)", strerror(-rc));
    }
    return 0;
}

static int load_max(const json_t *v, sw_cohorts *k, const char *src, char *err, size_t errlen)
{
    k->max = k->values.n;
    if (v == NULL)
        return 0;
    json_int_t m = json_is_integer(v) ? json_integer_value(v) : -1;
    int lo = k->values.n > 0 ? k->values.n : 1;
    if (m < lo || m > SW_MAX_COHORTS)
        return config_key_err(err, errlen, src, "cohorts.max", "expected an integer %d..%d (the "
                              "cohorts kept, listed values included)", lo, SW_MAX_COHORTS);
    k->max = (int)m;
    return 0;
}

int config_cohorts_load(const json_t *obj, sw_cohorts *out, const char *src, char *err,
                        size_t errlen)
{
    sw_cohorts k;
    memset(&k, 0, sizeof(k));
    if (!json_is_object(obj))
        return config_key_err(err, errlen, src, "cohorts",
                              "expected an object with field, and values or max");
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        if (strcmp(key, "field") != 0 && strcmp(key, "values") != 0 && strcmp(key, "max") != 0) {
            char path[80];
            snprintf(path, sizeof(path), "cohorts.%.60s", key);
            return config_key_err(err, errlen, src, path, "unknown key");
        }
    }
    const json_t *vals = json_object_get(obj, "values"), *max = json_object_get(obj, "max");
    if (vals == NULL && max == NULL)
        return config_key_err(err, errlen, src, "cohorts.values",
                              "missing: list the values, or give max (first come, first kept)");
    if (load_field(json_object_get(obj, "field"), &k, src, err, errlen) != 0 ||
        (vals && load_values(vals, &k, src, err, errlen) != 0) ||
        load_max(max, &k, src, err, errlen) != 0)
        return -1;
    k.enabled = 1;
    *out = k;
    return 0;
}

/* A list of cohort values (or "other") into r->cohort_mask. */
static int load_scope_list(const json_t *v, const sw_cohorts *k, sw_rule *r, const char *base,
                           const char *src, char *err, size_t errlen)
{
    size_t i;
    const json_t *x;
    if (json_array_size(v) == 0)
        return config_key_err(err, errlen, src, base, "an empty list of cohorts judges nowhere");
    json_array_foreach(v, i, x) {
        char key[128];
        snprintf(key, sizeof(key), "%s[%zu]", base, i);
        const char *s = json_string_value(x);
        if (s == NULL)
            return config_key_err(err, errlen, src, key, "expected a cohort value (a string)");
        int c = strcmp(s, "other") == 0 ? k->max
                                        : labels_lookup(&k->values, s, json_string_length(x));
        if (c == k->values.n && strcmp(s, "other") != 0)
            return config_key_err(err, errlen, src, key, "\"%s\" is not in cohorts.values (nor "
                                  "\"other\"; a value kept first come cannot be named)", s);
        r->cohort_mask |= 1u << c;
    }
    r->cohort_scope = SW_SCOPE_LIST;
    return 0;
}

static int load_scope(const json_t *v, const sw_cohorts *k, sw_rule *r, const char *base,
                      const char *src, char *err, size_t errlen)
{
    char key[80];
    snprintf(key, sizeof(key), "%s.cohorts", base);
    const char *s = json_string_value(v);
    if (s && strcmp(s, "whole") == 0)
        return 0;
    if (!k->enabled)
        return config_key_err(err, errlen, src, key, "needs a cohorts section");
    if (s && strcmp(s, "each") == 0) {
        r->cohort_scope = SW_SCOPE_EACH;
        return 0;
    }
    if (json_is_array(v))
        return load_scope_list(v, k, r, key, src, err, errlen);
    return config_key_err(err, errlen, src, key, "expected \"whole\", \"each\" or a list of cohort "
                          "values");
}

/* A cohort named by value (or "other"): its index, or -1. */
static int cohort_index(const sw_cohorts *k, const json_t *v)
{
    const char *s = json_string_value(v);
    if (s == NULL)
        return -1;
    if (strcmp(s, "other") == 0)
        return k->max;
    int c = labels_lookup(&k->values, s, json_string_length(v));
    return c < k->values.n ? c : -1;
}

static int load_cmp_cohort(const json_t *cmp, const char *name, const sw_cohorts *k, int *out,
                           const char *base, const char *src, char *err, size_t errlen)
{
    char key[112];
    snprintf(key, sizeof(key), "%s.compare.%s", base, name);
    const json_t *v = json_object_get(cmp, name);
    if (v == NULL)
        return config_key_err(err, errlen, src, key, "missing (a cohort value or \"other\")");
    if ((*out = cohort_index(k, v)) < 0)
        return config_key_err(err, errlen, src, key, "expected a value of cohorts.values or "
                              "\"other\"");
    return 0;
}

static int load_cmp_numbers(const json_t *cmp, sw_rule *r, const char *base, const char *src,
                            char *err, size_t errlen)
{
    char key[112];
    const json_t *v;
    if ((v = json_object_get(cmp, "alpha")) != NULL) {
        snprintf(key, sizeof(key), "%s.compare.alpha", base);
        double a = json_is_number(v) ? json_number_value(v) : -1;
        if (!(a > 0 && a < 1))
            return config_key_err(err, errlen, src, key, "expected a number > 0 and < 1");
        r->cmp_alpha = a;
    }
    if ((v = json_object_get(cmp, "horizon_s")) != NULL) {
        snprintf(key, sizeof(key), "%s.compare.horizon_s", base);
        json_int_t h = json_is_integer(v) ? json_integer_value(v) : 0;
        if (h < 1 || h > 31536000)
            return config_key_err(err, errlen, src, key,
                                  "expected an integer 1..31536000 (a year)");
        r->cmp_horizon_s = (int64_t)h;
    }
    return 0;
}

/* What a comparison rule may not have, and the metrics it can compare. */
static int cmp_rule_ok(const json_t *o, const sw_rule *r, const char *base, const char *src,
                       char *err, size_t errlen)
{
    static const char *const refused[] = {"confidence", "windows_s", "cohorts"};
    char key[112];
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        if (json_object_get(o, refused[i]) != NULL) {
            snprintf(key, sizeof(key), "%s.%s", base, refused[i]);
            return config_key_err(err, errlen, src, key, "not with compare");
        }
    snprintf(key, sizeof(key), "%s.metric", base);
    if (r->metric != M_ERROR_RATE && r->metric != M_SUCCESS_RATE &&
        r->metric != M_TIME_CONSTRAINT_SUCCESS_RATE && r->metric != M_LATENCY_MEAN_MS)
        return config_key_err(err, errlen, src, key, "compare judges error_rate, success_rate, "
                              "time_constraint_success_rate or latency_mean_ms");
    snprintf(key, sizeof(key), "%s.op", base);
    if (r->op == OP_EQ)
        return config_key_err(err, errlen, src, key, "compare needs a direction: > >= < <=");
    return 0;
}

static int load_compare(const json_t *o, const json_t *cmp, const sw_cohorts *k, sw_rule *r,
                        const char *base, const char *src, char *err, size_t errlen)
{
    char key[112];
    snprintf(key, sizeof(key), "%s.compare", base);
    if (!k->enabled)
        return config_key_err(err, errlen, src, key, "needs a cohorts section");
    if (!json_is_object(cmp))
        return config_key_err(err, errlen, src, key,
                              "expected an object with treatment and control");
    const char *name;
    const json_t *v;
    json_object_foreach((json_t *)cmp, name, v) {
        if (strcmp(name, "treatment") && strcmp(name, "control") && strcmp(name, "alpha") &&
            strcmp(name, "horizon_s")) {
            snprintf(key, sizeof(key), "%s.compare.%.40s", base, name);
            return config_key_err(err, errlen, src, key, "unknown key");
        }
    }
    r->cmp_alpha = 0.05;
    r->cmp_horizon_s = 172800;
    if (cmp_rule_ok(o, r, base, src, err, errlen) != 0 ||
        load_cmp_cohort(cmp, "treatment", k, &r->cmp_treatment, base, src, err, errlen) != 0 ||
        load_cmp_cohort(cmp, "control", k, &r->cmp_control, base, src, err, errlen) != 0 ||
        load_cmp_numbers(cmp, r, base, src, err, errlen) != 0)
        return -1;
    if (r->cmp_treatment == r->cmp_control) {
        snprintf(key, sizeof(key), "%s.compare.control", base);
        return config_key_err(err, errlen, src, key, "the same cohort as the treatment");
    }
    r->cohort_scope = SW_SCOPE_COMPARE;
    return 0;
}

int config_cohorts_rule(const json_t *o, const sw_cohorts *k, sw_rule *r, const char *base,
                        const char *src, char *err, size_t errlen)
{
    const json_t *v = json_object_get(o, "cohorts"), *a = json_object_get(o, "action");
    const json_t *cmp = json_object_get(o, "compare");
    r->cohort_scope = SW_SCOPE_WHOLE;
    r->cohort_mask = 0;
    r->action = SW_ACTION_DISABLE_FLAG;
    if (cmp && load_compare(o, cmp, k, r, base, src, err, errlen) != 0)
        return -1;
    if (v && !cmp && load_scope(v, k, r, base, src, err, errlen) != 0)
        return -1;
    if (a == NULL)
        return 0;
    char key[80];
    snprintf(key, sizeof(key), "%s.action", base);
    const char *s = json_string_value(a);
    if (s && strcmp(s, "disable_flag") == 0)
        return 0;
    if (s && strcmp(s, "rollback_cohort") == 0) {
        if (r->cohort_scope == SW_SCOPE_WHOLE)
            return config_key_err(err, errlen, src, key, "rollback_cohort needs a rule judged in "
                                  "cohorts (\"cohorts\": \"each\" or a list, or compare)");
        r->action = SW_ACTION_ROLLBACK_COHORT;
        return 0;
    }
    return config_key_err(err, errlen, src, key,
                          "expected \"disable_flag\" or \"rollback_cohort\"");
}

const char *config_cohort_name(const sw_cohorts *k, int c)
{
    return c < k->values.n ? k->values.names[c] : c >= k->max ? "other" : NULL;
}

json_t *config_cohorts_dump(const sw_cohorts *k)
{
    json_t *o = json_object(), *vals = json_array();
    if (o == NULL || vals == NULL ||
        json_object_set_new(o, "field", json_string(k->field)) != 0) {
        json_decref(o);
        json_decref(vals);
        return NULL;
    }
    for (int c = 0; c < k->values.n; c++)
        if (json_array_append_new(vals, json_string(k->values.names[c])) != 0) {
            json_decref(vals);
            json_decref(o);
            return NULL;
        }
    if (json_object_set_new(o, "values", vals) != 0 ||
        (k->max > k->values.n && json_object_set_new(o, "max", json_integer(k->max)) != 0)) {
        json_decref(o);
        return NULL;
    }
    return o;
}

int config_cohorts_dump_rule(const sw_cohorts *k, const sw_rule *r, json_t *o)
{
    int rc = 0;
    if (r->cohort_scope == SW_SCOPE_EACH) {
        rc |= json_object_set_new(o, "cohorts", json_string("each"));
    } else if (r->cohort_scope == SW_SCOPE_LIST) {
        json_t *a = json_array();
        for (int c = 0; a && c <= k->max; c++)
            if (r->cohort_mask >> c & 1u && config_cohort_name(k, c))
                rc |= json_array_append_new(a, json_string(config_cohort_name(k, c)));
        rc |= a ? json_object_set_new(o, "cohorts", a) : -1;
    }
    if (r->cohort_scope == SW_SCOPE_COMPARE) {
        json_t *c = json_object();
        if (c == NULL)
            return -1;
        rc |= json_object_set_new(c, "treatment",
                                  json_string(config_cohort_name(k, r->cmp_treatment)));
        rc |= json_object_set_new(c, "control", json_string(config_cohort_name(k, r->cmp_control)));
        rc |= json_object_set_new(c, "alpha", json_real(r->cmp_alpha));
        rc |= json_object_set_new(c, "horizon_s", json_integer(r->cmp_horizon_s));
        rc |= json_object_set_new(o, "compare", c);
    }
    if (r->action == SW_ACTION_ROLLBACK_COHORT)
        rc |= json_object_set_new(o, "action", json_string("rollback_cohort"));
    return rc ? -1 : 0;
}
