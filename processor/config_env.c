/* config_env.c: what is layered on a loaded config: environment overrides,
 * the fingerprint replicas compare, and the effective config as JSON. The
 * fingerprint and the dump walk the key table of config.c, so a key added
 * there is hashed and printed without touching this file. */
#include "config_env.h"
#include "config_alertmanager.h"
#include "config_input.h"
#include "config_cohorts.h"
#include "config_soak.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- environment ------------------------------------------------------- */

int config_apply_env(sw_config *cfg, char *errstr, size_t errlen)
{
    const struct {
        const char *var;
        char *dst;
    } vars[] = {
        {"SOAKWATCH_BROKERS", cfg->brokers},
        {"SOAKWATCH_INPUT_TOPIC", cfg->input_topic},
        {"SOAKWATCH_OUTPUT_TOPIC", cfg->output_topic},
        {"SOAKWATCH_GROUP", cfg->group},
        {"SOAKWATCH_DEAD_LETTER_TOPIC", cfg->dead_letter_topic},
        {"SOAKWATCH_CONTROL_TOPIC", cfg->control_topic},
        {"SOAKWATCH_HTTP", cfg->http_listen},
    };
    const size_t nvars = sizeof(vars) / sizeof(vars[0]);
    /* Check every variable before changing anything. */
    for (size_t i = 0; i < nvars; i++) {
        const char *v = getenv(vars[i].var);
        if (v == NULL)
            continue;
        if (strlen(v) > SW_STR_MAX) {
            snprintf(errstr, errlen, "%s: longer than %d bytes", vars[i].var, SW_STR_MAX);
            return -1;
        }
        if (vars[i].dst == cfg->http_listen && v[0] && !config_listen_ok(v)) {
            snprintf(errstr, errlen, "SOAKWATCH_HTTP: \"%s\" is not ADDR:PORT or [V6ADDR]:PORT",
                     v);
            for (char *c = errstr; errlen && *c; c++)
                if ((unsigned char)*c < 0x20 || *c == 0x7f)
                    *c = '?'; /* keep the message on one line */
            return -1;
        }
        int topic = vars[i].dst == cfg->input_topic || vars[i].dst == cfg->output_topic ||
                    vars[i].dst == cfg->group;
        if (topic && v[0] == '\0') {
            snprintf(errstr, errlen, "%s: must not be empty", vars[i].var);
            return -1;
        }
    }
    for (size_t i = 0; i < nvars; i++) {
        const char *v = getenv(vars[i].var);
        if (v == NULL)
            continue;
        size_t n = strlen(v);
        memset(vars[i].dst, 0, SW_STR_MAX + 1);
        memcpy(vars[i].dst, v, n);
    }
    return 0;
}

/* ---- fingerprint ------------------------------------------------------- */

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= FNV_PRIME;
    }
    return h;
}

/* Hash "name=value\n"; strings carry their length so no two renderings of
 * different configs can run together. */
static uint64_t fnv_kv(uint64_t h, const char *name, const char *val)
{
    char len[24];
    snprintf(len, sizeof(len), "%zu:", strlen(val));
    h = fnv(h, name, strlen(name));
    h = fnv(h, "=", 1);
    h = fnv(h, len, strlen(len));
    h = fnv(h, val, strlen(val));
    return fnv(h, "\n", 1);
}

static uint64_t fnv_i64(uint64_t h, const char *name, int64_t v)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%" PRId64, v);
    return fnv_kv(h, name, buf);
}

static uint64_t fnv_dbl(uint64_t h, const char *name, double v)
{
    char buf[40];
    snprintf(buf, sizeof(buf), "%.17g", v);
    return fnv_kv(h, name, buf);
}

static uint64_t fnv_labels(uint64_t h, const char *name, const sw_labels *l)
{
    h = fnv_i64(h, name, l->n);
    for (int i = 0; i < l->n && i < WIN_MAX_LABELS; i++)
        h = fnv_kv(h, name, l->names[i]);
    return h;
}

static uint64_t fnv_rule(uint64_t h, const sw_config *cfg, const sw_rule *r)
{
    char metric[SW_RULE_NAME_MAX + LABEL_NAME_MAX + 2];
    if (config_metric_format(cfg, r, metric, sizeof(metric)) != 0)
        metric[0] = '\0';
    h = fnv_kv(h, "rule.name", r->name);
    h = fnv_kv(h, "rule.metric", metric);
    h = fnv_kv(h, "rule.op", config_op_name(r->op));
    h = fnv_dbl(h, "rule.threshold", r->threshold);
    h = fnv_i64(h, "rule.window_s", r->window_s);
    h = fnv_i64(h, "rule.min_samples", r->min_samples);
    if (r->has_resolve_threshold)
        h = fnv_dbl(h, "rule.resolve_threshold", r->resolve_threshold);
    h = fnv_i64(h, "rule.keep_firing_for_s", r->keep_firing_for_s);
    h = fnv_i64(h, "rule.latch", r->latch);
    h = fnv_i64(h, "rule.hold_when_no_data", r->hold_when_no_data);
    h = fnv_dbl(h, "rule.confidence", r->confidence);
    for (int k = 0; k < r->n_extra_windows && k < SW_MAX_EXTRA_WINDOWS; k++)
        h = fnv_i64(h, "rule.windows_s", r->extra_windows_s[k]);
    if (r->cohort_scope != SW_SCOPE_WHOLE) { /* the whole topic's rules hash as before */
        h = fnv_i64(h, "rule.cohorts", r->cohort_scope);
        h = fnv_i64(h, "rule.cohort_mask", r->cohort_mask);
        h = fnv_i64(h, "rule.action", r->action);
        if (r->cohort_scope == SW_SCOPE_COMPARE) {
            h = fnv_i64(h, "rule.compare.treatment", r->cmp_treatment);
            h = fnv_i64(h, "rule.compare.control", r->cmp_control);
            h = fnv_dbl(h, "rule.compare.alpha", r->cmp_alpha);
            h = fnv_i64(h, "rule.compare.horizon_s", r->cmp_horizon_s);
        }
    }
    return h;
}

/* Kafka and HTTP settings say where data flows, not what is computed. */
static int semantic_key(const cfg_key *k)
{
    return strncmp(k->path, "kafka", 5) != 0 && strncmp(k->path, "http", 4) != 0;
}

void config_fingerprint(const sw_config *cfg, char out[17])
{
    uint64_t h = fnv(FNV_OFFSET, "soakwatch-config-1\n", 19);
    for (int i = 0; i < cfg_n_keys; i++) {
        const cfg_key *k = &cfg_keys[i];
        if (!semantic_key(k))
            continue;
        /* The built-in rollback check keeps the fingerprints of configs
         * that do not mention it, as the flat input does. */
        if (strncmp(k->path, "rollback", 8) == 0 && config_rollback_is_default(cfg))
            continue;
        const char *p = (const char *)cfg + k->off;
        switch (k->type) {
        case CK_OBJ:
        case CK_PROPS:
            break;
        case CK_INT: {
            int64_t v;
            memcpy(&v, p, sizeof(v));
            h = fnv_i64(h, k->path, v);
            break;
        }
        case CK_SIZE: {
            size_t v;
            memcpy(&v, p, sizeof(v));
            h = fnv_i64(h, k->path, (int64_t)v);
            break;
        }
        case CK_DBL: {
            double v;
            memcpy(&v, p, sizeof(v));
            h = fnv_dbl(h, k->path, v);
            break;
        }
        case CK_BOOL: {
            int v;
            memcpy(&v, p, sizeof(v));
            h = fnv_i64(h, k->path, v);
            break;
        }
        case CK_STR: {
            char s[SW_STR_MAX + 1];
            memcpy(s, p, SW_STR_MAX);
            s[SW_STR_MAX] = '\0';
            h = fnv_kv(h, k->path, s);
            break;
        }
        case CK_WINDOWS3: {
            int64_t w[3];
            memcpy(w, p, sizeof(w));
            for (int j = 0; j < 3; j++)
                h = fnv_i64(h, k->path, w[j]);
            break;
        }
        case CK_LABELS:
            h = fnv_labels(h, k->path, (const sw_labels *)(const void *)p);
            break;
        case CK_INPUT:
            /* Only a mapped input changes the fingerprint: configs that
             * read the flat contract keep theirs. The struct is zeroed
             * before it is filled, so equal mappings hash equal. */
            if (!config_input_is_flat(&cfg->input))
                h = fnv(h, (const char *)&cfg->input, sizeof(cfg->input));
            break;
        case CK_SOAK:
            break; /* the cadence reads the stream; it changes no trigger or status */
        case CK_ALERTMANAGER:
            break; /* a destination, like kafka and http: where alerts go */
        case CK_COHORTS:
            if (cfg->cohorts.enabled) {
                h = fnv_kv(h, "cohorts.field", cfg->cohorts.field);
                h = fnv_labels(h, "cohorts.values", &cfg->cohorts.values);
                if (cfg->cohorts.max > cfg->cohorts.values.n)
                    h = fnv_i64(h, "cohorts.max", cfg->cohorts.max);
            }
            break;
        case CK_RULES:
            h = fnv_i64(h, "rules", cfg->n_rules);
            for (int r = 0; r < cfg->n_rules && r < SW_MAX_RULES; r++)
                h = fnv_rule(h, cfg, &cfg->rules[r]);
            break;
        }
    }
    snprintf(out, 17, "%016" PRIx64, h);
}

/* ---- JSON dump ----------------------------------------------------------- */

/* Whole numbers print as integers ("threshold": 5000); they read back to
 * the same double. */
static json_t *json_num(double v)
{
    if (v == floor(v) && fabs(v) < 9007199254740992.0 && !(v == 0 && signbit(v)))
        return json_integer((json_int_t)v);
    return json_real(v);
}

/* Set key on obj, taking val; a NULL val (allocation failure) fails. */
static int put(json_t *obj, const char *key, json_t *val)
{
    return val == NULL || json_object_set_new(obj, key, val) != 0 ? -1 : 0;
}

static json_t *dump_labels(const sw_labels *l)
{
    json_t *a = json_array();
    for (int i = 0; a && i < l->n && i < WIN_MAX_LABELS; i++)
        if (json_array_append_new(a, json_string(l->names[i])) != 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

static json_t *dump_rule(const sw_config *cfg, const sw_rule *r)
{
    char metric[SW_RULE_NAME_MAX + LABEL_NAME_MAX + 2];
    json_t *o = json_object();
    if (o == NULL || config_metric_format(cfg, r, metric, sizeof(metric)) != 0)
        goto err;
    int rc = put(o, "name", json_string(r->name));
    rc |= put(o, "metric", json_string(metric));
    rc |= put(o, "op", json_string(config_op_name(r->op)));
    rc |= put(o, "threshold", json_num(r->threshold));
    rc |= put(o, "window_s", json_integer(r->window_s));
    rc |= put(o, "min_samples", json_integer(r->min_samples));
    if (r->has_resolve_threshold)
        rc |= put(o, "resolve_threshold", json_num(r->resolve_threshold));
    if (r->keep_firing_for_s)
        rc |= put(o, "keep_firing_for_s", json_integer(r->keep_firing_for_s));
    if (r->latch)
        rc |= put(o, "latch", json_true());
    if (r->hold_when_no_data)
        rc |= put(o, "hold_when_no_data", json_true());
    if (r->confidence != 0)
        rc |= put(o, "confidence", json_num(r->confidence));
    if (r->n_extra_windows > 0) {
        json_t *w = json_array();
        for (int k = 0; w && k < r->n_extra_windows && k < SW_MAX_EXTRA_WINDOWS; k++)
            rc |= json_array_append_new(w, json_integer(r->extra_windows_s[k]));
        rc |= put(o, "windows_s", w);
    }
    rc |= config_cohorts_dump_rule(&cfg->cohorts, r, o);
    if (rc)
        goto err;
    return o;
err:
    json_decref(o);
    return NULL;
}

static json_t *dump_value(const sw_config *cfg, const cfg_key *k)
{
    const char *p = (const char *)cfg + k->off;
    switch (k->type) {
    case CK_OBJ:
        return json_object();
    case CK_INT: {
        int64_t v;
        memcpy(&v, p, sizeof(v));
        return json_integer(v);
    }
    case CK_SIZE: {
        size_t v;
        memcpy(&v, p, sizeof(v));
        return json_integer((json_int_t)v);
    }
    case CK_DBL: {
        double v;
        memcpy(&v, p, sizeof(v));
        return json_num(v);
    }
    case CK_BOOL: {
        int v;
        memcpy(&v, p, sizeof(v));
        return json_boolean(v);
    }
    case CK_STR:
        return json_stringn(p, strnlen(p, SW_STR_MAX));
    case CK_WINDOWS3: {
        int64_t w[3];
        memcpy(w, p, sizeof(w));
        return json_pack("[III]", (json_int_t)w[0], (json_int_t)w[1], (json_int_t)w[2]);
    }
    case CK_LABELS:
        return dump_labels((const sw_labels *)(const void *)p);
    case CK_RULES: {
        json_t *a = json_array();
        for (int r = 0; a && r < cfg->n_rules && r < SW_MAX_RULES; r++)
            if (json_array_append_new(a, dump_rule(cfg, &cfg->rules[r])) != 0) {
                json_decref(a);
                return NULL;
            }
        return a;
    }
    case CK_INPUT:
        return config_input_dump(&cfg->input);
    case CK_SOAK:
        return config_soak_dump(&cfg->soak);
    case CK_ALERTMANAGER:
        return config_am_dump(&cfg->alertmanager);
    case CK_COHORTS:
        return config_cohorts_dump(&cfg->cohorts);
    case CK_PROPS: {
        json_t *o = json_object();
        for (int i = 0; o && i < cfg->n_kafka_props && i < SW_MAX_KAFKA_PROPS; i++)
            if (put(o, cfg->kafka_props[i].key, json_string(cfg->kafka_props[i].value))) {
                json_decref(o);
                return NULL;
            }
        return o;
    }
    }
    return NULL;
}

/* Fewest significant digits that read back to the same double. */
static int digits_needed(double v)
{
    char buf[40];
    for (int p = 1; p < 17; p++) {
        snprintf(buf, sizeof(buf), "%.*g", p, v);
        if (strtod(buf, NULL) == v)
            return p;
    }
    return 17;
}

/* The precision that prints every real of the tree exactly: 0.1 prints as
 * 0.1, not 0.10000000000000001, unless some value needs all 17 digits. */
static int tree_precision(const json_t *j)
{
    int p = 1, q;
    size_t i;
    const char *k;
    const json_t *v;
    switch (json_typeof(j)) {
    case JSON_REAL:
        return digits_needed(json_real_value(j));
    case JSON_ARRAY:
        json_array_foreach(j, i, v) {
            q = tree_precision(v);
            p = q > p ? q : p;
        }
        return p;
    case JSON_OBJECT:
        json_object_foreach((json_t *)j, k, v) {
            q = tree_precision(v);
            p = q > p ? q : p;
        }
        return p;
    default:
        return 1;
    }
}

int config_dump_json(const sw_config *cfg, char **out)
{
    *out = NULL;
    json_t *root = json_object();
    if (root == NULL)
        return -ENOMEM;
    int rc = 0;
    for (int i = 0; i < cfg_n_keys && rc == 0; i++) {
        const cfg_key *k = &cfg_keys[i];
        if ((k->type == CK_SOAK && !cfg->soak.enabled) ||
            (k->type == CK_ALERTMANAGER && !cfg->alertmanager.enabled) ||
            (k->type == CK_COHORTS && !cfg->cohorts.enabled))
            continue; /* off: absent, as in a file without it */
        /* The parent object comes earlier in the table: "status" before
         * "status.window_s". */
        json_t *parent = root;
        const char *name = k->path, *dot = strchr(k->path, '.');
        if (dot != NULL) {
            char pname[64];
            size_t pn = (size_t)(dot - k->path);
            if (pn >= sizeof(pname)) {
                rc = -EINVAL;
                break;
            }
            memcpy(pname, k->path, pn);
            pname[pn] = '\0';
            parent = json_object_get(root, pname);
            name = dot + 1;
            if (parent == NULL) {
                rc = -EINVAL;
                break;
            }
        }
        if (put(parent, name, dump_value(cfg, k)) != 0)
            rc = -ENOMEM;
    }
    if (rc == 0) {
        size_t flags = JSON_INDENT(2) | JSON_PRESERVE_ORDER |
                       JSON_REAL_PRECISION(tree_precision(root));
        /* Measured, then written into a buffer of that size, not with
         * json_dumps: when its own buffer cannot grow in the middle of an
         * object key, jansson drops the key's bytes and carries on, and
         * the document it returns is not JSON. */
        size_t n = json_dumpb(root, NULL, 0, flags);
        *out = n ? malloc(n + 1) : NULL;
        if (*out == NULL || json_dumpb(root, *out, n, flags) != n) {
            free(*out);
            *out = NULL;
            rc = -ENOMEM;
        } else {
            (*out)[n] = '\0';
        }
    }
    json_decref(root);
    return rc;
}
