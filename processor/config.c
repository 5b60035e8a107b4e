/* config.c: the built-in defaults, the JSON loader and the cross-field
 * checks. One table of keys (path, type, offset, range) drives loading,
 * validation, the fingerprint and the JSON dump, so they cannot disagree.
 * A load changes cfg only when the whole file is valid. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_alertmanager.h"
#include "config_env.h"
#include "config_input.h"
#include "config_cohorts.h"
#include "config_soak.h"

#define CONFIG_FILE_MAX (1 << 20) /* a config file is small; refuse anything bigger */
/* The rollback check's defaults (docs/semantics.md section 10): the plan's
 * "Immediate Rollback (< 5 minutes)", its "feature_not_available". */
#define ROLLBACK_VERIFY_WITHIN_S 300
#define ROLLBACK_REASON "feature_not_available"
#define ROLLBACK_UNAVAILABLE_MIN 1
#define ROLLBACK_QUIET_S 60
#define PATH_MAX_LEN 160

/* ---- the key table ---------------------------------------------------- */

#define OFF(f) offsetof(sw_config, f)

const cfg_key cfg_keys[] = {
    {"allowed_lateness_s", CK_INT, OFF(allowed_lateness_s), 0, 3600, 0, 0, 0},
    {"max_gap_s", CK_INT, OFF(max_gap_s), 1, CFG_MAX_GAP_S, 0, 0, 0},
    {"idle_timeout_s", CK_INT, OFF(idle_timeout_s), 1, 86400, 0, 0, 0},
    {"max_future_skew_s", CK_INT, OFF(max_future_skew_s), 0, CFG_MAX_GAP_S, 0, 0, 0},
    {"max_message_bytes", CK_SIZE, OFF(max_message_bytes), 256, 16777216, 0, 0, 0},
    {"status", CK_OBJ, 0, 0, 0, 0, 0, 0},
    {"status.interval_s", CK_INT, OFF(status_interval_s), 1, 86400, 0, 0, 0},
    {"status.window_s", CK_INT, OFF(status_window_s), 1, CFG_MAX_WINDOW_S, 0, 0, 0},
    {"status.min_outcomes", CK_INT, OFF(status_min_outcomes), 0, INT64_MAX, 0, 0, 0},
    {"status.success_rate_min", CK_DBL, OFF(status_success_rate_min), 0, 0, 0, 1, 0},
    {"status.error_rate_max", CK_DBL, OFF(status_error_rate_max), 0, 0, 0, 1, 0},
    {"status.latency_mean_max_ms", CK_DBL, OFF(status_latency_mean_max_ms), 0, 0, 0, 1e12, 0},
    {"status.windows_s", CK_WINDOWS3, OFF(status_windows_s), 0, 0, 0, 0, 0},
    {"events", CK_OBJ, 0, 0, 0, 0, 0, 0},
    {"events.requested", CK_STR, OFF(event_names[0]), 0, 0, 0, 0, 1},
    {"events.succeeded", CK_STR, OFF(event_names[1]), 0, 0, 0, 0, 1},
    {"events.fallback", CK_STR, OFF(event_names[2]), 0, 0, 0, 0, 1},
    {"events.declined", CK_STR, OFF(event_names[3]), 0, 0, 0, 0, 1},
    {"strategies", CK_LABELS, OFF(strategies), 0, 0, 0, 0, 0},
    {"fallback_reasons", CK_LABELS, OFF(reasons), 0, 0, 0, 0, 0},
    {"input", CK_INPUT, OFF(input), 0, 0, 0, 0, 0},
    {"feature", CK_STR, OFF(feature), 0, 0, 0, 0, 1},
    {"rules", CK_RULES, 0, 0, 0, 0, 0, 0},
    {"data_quality", CK_OBJ, 0, 0, 0, 0, 0, 0},
    {"data_quality.enabled", CK_BOOL, OFF(quality_enabled), 0, 0, 0, 0, 0},
    {"data_quality.max_watermark_lag_s", CK_INT, OFF(quality_max_watermark_lag_s), 1, 86400,
     0, 0, 0},
    {"provenance", CK_BOOL, OFF(provenance), 0, 0, 0, 0, 0},
    {"rollback", CK_OBJ, 0, 0, 0, 0, 0, 0},
    {"rollback.check", CK_BOOL, OFF(rollback_check), 0, 0, 0, 0, 0},
    {"rollback.verify_within_s", CK_INT, OFF(rollback_verify_within_s), 1, CFG_MAX_WINDOW_S,
     0, 0, 0},
    {"rollback.reason", CK_STR, OFF(rollback_reason), 0, 0, 0, 0, 1},
    {"rollback.unavailable_min", CK_INT, OFF(rollback_unavailable_min), 1, INT64_MAX, 0, 0, 0},
    {"rollback.quiet_s", CK_INT, OFF(rollback_quiet_s), 1, CFG_MAX_WINDOW_S, 0, 0, 0},
    {"kafka", CK_OBJ, 0, 0, 0, 0, 0, 0},
    {"kafka.brokers", CK_STR, OFF(brokers), 0, 0, 0, 0, 0},
    {"kafka.input_topic", CK_STR, OFF(input_topic), 0, 0, 0, 0, 1},
    {"kafka.output_topic", CK_STR, OFF(output_topic), 0, 0, 0, 0, 1},
    {"kafka.group", CK_STR, OFF(group), 0, 0, 0, 0, 1},
    {"kafka.dead_letter_topic", CK_STR, OFF(dead_letter_topic), 0, 0, 0, 0, 0},
    {"kafka.control_topic", CK_STR, OFF(control_topic), 0, 0, 0, 0, 0},
    {"kafka.properties", CK_PROPS, 0, 0, 0, 0, 0, 0},
    {"http", CK_OBJ, 0, 0, 0, 0, 0, 0},
    {"http.listen", CK_STR, OFF(http_listen), 0, 0, 0, 0, 0},
    {"soak", CK_SOAK, OFF(soak), 0, 0, 0, 0, 0},
    {"alertmanager", CK_ALERTMANAGER, OFF(alertmanager), 0, 0, 0, 0, 0},
    {"cohorts", CK_COHORTS, OFF(cohorts), 0, 0, 0, 0, 0},
};
const int cfg_n_keys = (int)(sizeof(cfg_keys) / sizeof(cfg_keys[0]));

static const char *const metric_names[M_METRIC_COUNT] = {
    "requests",        "outcomes",       "successes",      "errors",
    "declined",        "success_rate",   "error_rate",     "latency_mean_ms",
    "latency_p95_ms",  "latency_p99_ms", "time_constraint_success_rate",
    "strategies",      "fallback_reasons",
};

static const char *const op_names[] = {">", ">=", "<", "<=", "=="};

const char *config_metric_name(sw_metric m)
{
    return (int)m >= 0 && m < M_METRIC_COUNT ? metric_names[m] : "unknown";
}

const char *config_op_name(sw_op op)
{
    return (int)op >= 0 && op <= OP_EQ ? op_names[op] : "unknown";
}

/* ---- defaults ------------------------------------------------------------ */

static const char *const default_strategies[] = {
    "core_only", "core_plus_accessory", "core_plus_superset", "core_plus_block",
    "core_plus_block_and_superset", "none", "pending", "user_decline",
};

static const char *const default_reasons[] = {
    "plan_not_compressible", "plan_missing_content", "internal_error",
    "plan_not_found", "forbidden", "unauthorized", "invalid_request",
    "preview_failed", "feature_not_available",
};

static const struct {
    const char *name;
    sw_metric metric;
    sw_op op;
    double threshold;
    int64_t window_s, min_samples;
} default_rules[] = {
    {"error_rate_high", M_ERROR_RATE, OP_GT, 0.10, 300, 20},
    {"success_rate_low", M_SUCCESS_RATE, OP_LT, 0.90, 600, 20},
    {"latency_high", M_LATENCY_MEAN_MS, OP_GT, 5000, 300, 20},
    {"zero_requests", M_REQUESTS, OP_EQ, 0, 1800, 0},
};

/* Copy a string known to fit into a zeroed field, so that two configs with
 * the same content compare equal byte for byte. */
static void str_set(char *dst, size_t cap, const char *s, size_t len)
{
    memset(dst, 0, cap);
    memcpy(dst, s, len);
}

void config_defaults(sw_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->allowed_lateness_s = 2;
    cfg->max_gap_s = 86400;
    cfg->idle_timeout_s = 5;
    cfg->max_future_skew_s = 60;
    cfg->max_message_bytes = 65536;
    cfg->status_interval_s = 60;
    cfg->status_window_s = 300;
    cfg->status_min_outcomes = 20;
    cfg->status_success_rate_min = 0.95;
    cfg->status_error_rate_max = 0.05;
    cfg->status_latency_mean_max_ms = 2000;
    cfg->status_windows_s[0] = 300;
    cfg->status_windows_s[1] = 600;
    cfg->status_windows_s[2] = 1800;
    strcpy(cfg->event_names[0], "stream5.time_crunch_preview_requested");
    strcpy(cfg->event_names[1], "stream5.time_crunch_preview_succeeded");
    strcpy(cfg->event_names[2], "stream5.time_crunch_preview_fallback");
    strcpy(cfg->event_names[3], "stream5.time_crunch_preview_declined");
    for (size_t i = 0; i < sizeof(default_strategies) / sizeof(default_strategies[0]); i++)
        labels_add(&cfg->strategies, default_strategies[i]);
    for (size_t i = 0; i < sizeof(default_reasons) / sizeof(default_reasons[0]); i++)
        labels_add(&cfg->reasons, default_reasons[i]);
    config_input_defaults(&cfg->input);
    config_soak_defaults(&cfg->soak);
    config_am_defaults(&cfg->alertmanager);
    strcpy(cfg->feature, "feature.stream5_time_crunch_mode");
    cfg->n_rules = (int)(sizeof(default_rules) / sizeof(default_rules[0]));
    for (int i = 0; i < cfg->n_rules; i++) {
        sw_rule *r = &cfg->rules[i];
        strcpy(r->name, default_rules[i].name);
        r->metric = default_rules[i].metric;
        r->label = 0;
        strcpy(r->metric_name, metric_names[r->metric]);
        r->op = default_rules[i].op;
        r->threshold = default_rules[i].threshold;
        r->window_s = default_rules[i].window_s;
        r->min_samples = default_rules[i].min_samples;
    }
    strcpy(cfg->input_topic, "stream5.time_crunch.telemetry");
    strcpy(cfg->output_topic, "soakwatch.rollback");
    strcpy(cfg->group, "soakwatch");
    cfg->quality_max_watermark_lag_s = 60;
    cfg->rollback_check = 1;
    cfg->rollback_verify_within_s = ROLLBACK_VERIFY_WITHIN_S;
    strcpy(cfg->rollback_reason, ROLLBACK_REASON);
    cfg->rollback_unavailable_min = ROLLBACK_UNAVAILABLE_MIN;
    cfg->rollback_quiet_s = ROLLBACK_QUIET_S;
}

int config_rollback_is_default(const sw_config *cfg)
{
    return cfg->rollback_check == 1 && cfg->rollback_verify_within_s == ROLLBACK_VERIFY_WITHIN_S &&
           strcmp(cfg->rollback_reason, ROLLBACK_REASON) == 0 &&
           cfg->rollback_unavailable_min == ROLLBACK_UNAVAILABLE_MIN &&
           cfg->rollback_quiet_s == ROLLBACK_QUIET_S;
}

/* ---- shared helpers ---------------------------------------------------- */

int config_metric_format(const sw_config *cfg, const sw_rule *r, char *buf, size_t cap)
{
    int n;
    if (r->metric == M_STRATEGY)
        n = snprintf(buf, cap, "strategies.%s", labels_name(&cfg->strategies, r->label));
    else if (r->metric == M_FALLBACK_REASON)
        n = snprintf(buf, cap, "fallback_reasons.%s", labels_name(&cfg->reasons, r->label));
    else
        n = snprintf(buf, cap, "%s", config_metric_name(r->metric));
    return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

int64_t config_longest_window_s(const sw_config *cfg)
{
    int64_t w = cfg->status_window_s;
    for (int i = 0; i < 3; i++)
        if (cfg->status_windows_s[i] > w)
            w = cfg->status_windows_s[i];
    for (int r = 0; r < cfg->n_rules && r < SW_MAX_RULES; r++) {
        const sw_rule *rule = &cfg->rules[r];
        if (rule->window_s > w)
            w = rule->window_s;
        for (int k = 0; k < rule->n_extra_windows && k < SW_MAX_EXTRA_WINDOWS; k++)
            if (rule->extra_windows_s[k] > w)
                w = rule->extra_windows_s[k];
    }
    return w;
}

/* ---- validation -------------------------------------------------------- */

/* Messages echo what the file says; a control byte there (a newline in a
 * metric name) must not split the one-line message. */
static void one_line(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = '?';
}

static int verr(char *errstr, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int verr(char *errstr, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (errlen) {
        vsnprintf(errstr, errlen, fmt, ap);
        one_line(errstr);
    }
    va_end(ap);
    return -1;
}

/* A window length a ring can hold: 1..86400, whole minutes past the
 * per-second range. Returns NULL or what is wrong. */
static const char *window_problem(int64_t w)
{
    if (w < 1 || w > CFG_MAX_WINDOW_S)
        return "must be 1..86400";
    if (w > SW_FINE_MAX_WINDOW_S && w % 60 != 0)
        return "windows over 1800 s must be whole minutes";
    return NULL;
}

int config_name_ok(const char *s, size_t n, size_t max)
{
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '.' || ch == '-'))
            return 0;
    }
    return 1;
}

static int rule_name_ok(const char *s)
{
    return config_name_ok(s, strnlen(s, SW_RULE_NAME_MAX + 1), SW_RULE_NAME_MAX);
}

int config_listen_ok(const char *s)
{
    const char *colon;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (close == NULL || close == s + 1 || close[1] != ':')
            return 0;
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL || colon == s || memchr(s, ':', (size_t)(colon - s)) != NULL)
            return 0;
    }
    const char *p = colon + 1;
    if (*p == '\0' || strlen(p) > 5)
        return 0;
    long v = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return 0;
        v = v * 10 + (*p - '0');
    }
    return v <= 65535;
}

static int labels_check(const sw_labels *l, const char *key, char *errstr, size_t errlen)
{
    if (l->n < 0 || l->n > WIN_MAX_LABELS)
        return verr(errstr, errlen, "%s: more than %d names", key, WIN_MAX_LABELS);
    for (int i = 0; i < l->n; i++) {
        size_t n = strnlen(l->names[i], LABEL_NAME_MAX + 1);
        if (n == 0 || n > LABEL_NAME_MAX || n != l->lens[i])
            return verr(errstr, errlen, "%s[%d]: must be 1..%d bytes", key, i, LABEL_NAME_MAX);
        if (strcmp(l->names[i], "other") == 0)
            return verr(errstr, errlen, "%s[%d]: \"other\" is reserved for unlisted names", key,
                        i);
        for (int j = 0; j < i; j++)
            if (strcmp(l->names[i], l->names[j]) == 0)
                return verr(errstr, errlen, "%s[%d]: duplicate name \"%s\"", key, i,
                            l->names[i]);
    }
    return 0;
}

static int rate_metric(sw_metric m)
{
    return m == M_SUCCESS_RATE || m == M_ERROR_RATE || m == M_TIME_CONSTRAINT_SUCCESS_RATE;
}

static int rule_check(const sw_config *cfg, int i, char *errstr, size_t errlen)
{
    const sw_rule *r = &cfg->rules[i];
    if (!rule_name_ok(r->name))
        return verr(errstr, errlen, "rules[%d].name: must be 1..%d characters of "
                    "[A-Za-z0-9_.-]", i, SW_RULE_NAME_MAX);
    for (int j = 0; j < i; j++)
        if (strcmp(cfg->rules[j].name, r->name) == 0)
            return verr(errstr, errlen, "rules[%d].name: duplicate rule name \"%s\"", i,
                        r->name);
    if ((int)r->metric < 0 || r->metric >= M_METRIC_COUNT)
        return verr(errstr, errlen, "rules[%d].metric: unknown metric", i);
    if (r->metric == M_STRATEGY || r->metric == M_FALLBACK_REASON) {
        const sw_labels *l = r->metric == M_STRATEGY ? &cfg->strategies : &cfg->reasons;
        if (r->label < 0 || r->label > l->n)
            return verr(errstr, errlen, "rules[%d].metric: label index %d outside the list",
                        i, r->label);
    }
    if ((int)r->op < 0 || r->op > OP_EQ)
        return verr(errstr, errlen, "rules[%d].op: unknown operator", i);
    if (!isfinite(r->threshold))
        return verr(errstr, errlen, "rules[%d].threshold: must be a finite number", i);
    const char *wp = window_problem(r->window_s);
    if (wp)
        return verr(errstr, errlen, "rules[%d].window_s: %" PRId64 ": %s", i, r->window_s, wp);
    if (r->min_samples < 0)
        return verr(errstr, errlen, "rules[%d].min_samples: must be >= 0", i);
    if (r->has_resolve_threshold) {
        double rt = r->resolve_threshold;
        if (!isfinite(rt))
            return verr(errstr, errlen, "rules[%d].resolve_threshold: must be a finite number",
                        i);
        if (r->op == OP_EQ)
            return verr(errstr, errlen, "rules[%d].resolve_threshold: not allowed with \"==\"",
                        i);
        if ((r->op == OP_GT || r->op == OP_GE) && rt > r->threshold)
            return verr(errstr, errlen, "rules[%d].resolve_threshold: must be <= threshold "
                        "for \"%s\"", i, op_names[r->op]);
        if ((r->op == OP_LT || r->op == OP_LE) && rt < r->threshold)
            return verr(errstr, errlen, "rules[%d].resolve_threshold: must be >= threshold "
                        "for \"%s\"", i, op_names[r->op]);
    }
    if (r->keep_firing_for_s < 0 || r->keep_firing_for_s > CFG_MAX_WINDOW_S)
        return verr(errstr, errlen, "rules[%d].keep_firing_for_s: must be 0..86400", i);
    if (r->latch < 0 || r->latch > 1 || r->hold_when_no_data < 0 || r->hold_when_no_data > 1)
        return verr(errstr, errlen, "rules[%d]: latch and hold_when_no_data are 0 or 1", i);
    if (r->confidence != 0) {
        if (!(r->confidence > 0 && r->confidence < 1))
            return verr(errstr, errlen, "rules[%d].confidence: must be > 0 and < 1", i);
        if (!rate_metric(r->metric))
            return verr(errstr, errlen, "rules[%d].confidence: applies to success_rate, "
                        "error_rate and time_constraint_success_rate only", i);
        if (r->op == OP_EQ)
            return verr(errstr, errlen, "rules[%d].confidence: not allowed with \"==\"", i);
    }
    if (r->n_extra_windows < 0 || r->n_extra_windows > SW_MAX_EXTRA_WINDOWS)
        return verr(errstr, errlen, "rules[%d].windows_s: at most %d windows", i,
                    SW_MAX_EXTRA_WINDOWS);
    for (int k = 0; k < r->n_extra_windows; k++) {
        int64_t w = r->extra_windows_s[k];
        wp = window_problem(w);
        if (wp)
            return verr(errstr, errlen, "rules[%d].windows_s[%d]: %" PRId64 ": %s", i, k, w, wp);
        if (w == r->window_s)
            return verr(errstr, errlen, "rules[%d].windows_s[%d]: repeats window_s", i, k);
        for (int j = 0; j < k; j++)
            if (r->extra_windows_s[j] == w)
                return verr(errstr, errlen, "rules[%d].windows_s[%d]: duplicate window", i, k);
    }
    return 0;
}

/* Count a window among the distinct lengths; fails past WIN_MAX_WINDOWS. */
static int distinct_add(int64_t *seen, int *n, int64_t w)
{
    for (int i = 0; i < *n; i++)
        if (seen[i] == w)
            return 0;
    if (*n >= WIN_MAX_WINDOWS)
        return -1;
    seen[(*n)++] = w;
    return 0;
}

/* One key of the table within its type's range. */
static int key_check(const sw_config *cfg, const cfg_key *key, char *errstr, size_t errlen)
{
    const char *base = (const char *)cfg + key->off;
    if (key->type == CK_INT || key->type == CK_SIZE) {
        int64_t v;
        if (key->type == CK_SIZE) {
            size_t z;
            memcpy(&z, base, sizeof(z));
            v = z > (size_t)INT64_MAX ? INT64_MAX : (int64_t)z;
        } else {
            memcpy(&v, base, sizeof(v));
        }
        if (v < key->imin || v > key->imax)
            return verr(errstr, errlen, "%s: %" PRId64 " out of range %" PRId64 "..%" PRId64,
                        key->path, v, key->imin, key->imax);
    } else if (key->type == CK_DBL) {
        double v;
        memcpy(&v, base, sizeof(v));
        if (!(v >= key->dmin && v <= key->dmax))
            return verr(errstr, errlen, "%s: %g out of range %g..%g", key->path, v, key->dmin,
                        key->dmax);
    } else if (key->type == CK_STR) {
        size_t n = strnlen(base, SW_STR_MAX + 1);
        if (n > SW_STR_MAX)
            return verr(errstr, errlen, "%s: longer than %d bytes", key->path, SW_STR_MAX);
        if (n < key->min_len)
            return verr(errstr, errlen, "%s: must not be empty", key->path);
    } else if (key->type == CK_BOOL) {
        int v;
        memcpy(&v, base, sizeof(v));
        if (v != 0 && v != 1)
            return verr(errstr, errlen, "%s: must be 0 or 1", key->path);
    }
    return 0;
}

/* The status windows, the event names and the label lists. */
static int status_and_names_check(const sw_config *cfg, char *errstr, size_t errlen)
{
    for (int i = 0; i < 3; i++) {
        const char *wp = window_problem(cfg->status_windows_s[i]);
        if (wp)
            return verr(errstr, errlen, "status.windows_s[%d]: %" PRId64 ": %s", i,
                        cfg->status_windows_s[i], wp);
        for (int j = 0; j < i; j++)
            if (cfg->status_windows_s[j] == cfg->status_windows_s[i])
                return verr(errstr, errlen, "status.windows_s[%d]: duplicate window", i);
    }
    const char *wp = window_problem(cfg->status_window_s);
    if (wp)
        return verr(errstr, errlen, "status.window_s: %" PRId64 ": %s", cfg->status_window_s,
                    wp);
    static const char *const ev_keys[4] = {"requested", "succeeded", "fallback", "declined"};
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < i; j++)
            if (strcmp(cfg->event_names[i], cfg->event_names[j]) == 0)
                return verr(errstr, errlen, "events.%s: same name as events.%s", ev_keys[i],
                            ev_keys[j]);
    if (labels_check(&cfg->strategies, "strategies", errstr, errlen) ||
        labels_check(&cfg->reasons, "fallback_reasons", errstr, errlen))
        return -1;
    return 0;
}

/* The rules, the Kafka properties, the input mapping and the listen
 * address. */
static int sections_check(const sw_config *cfg, char *errstr, size_t errlen)
{
    if (cfg->n_rules < 0 || cfg->n_rules > SW_MAX_RULES)
        return verr(errstr, errlen, "rules: more than %d rules", SW_MAX_RULES);
    for (int i = 0; i < cfg->n_rules; i++)
        if (rule_check(cfg, i, errstr, errlen))
            return -1;
    if (cfg->n_kafka_props < 0 || cfg->n_kafka_props > SW_MAX_KAFKA_PROPS)
        return verr(errstr, errlen, "kafka.properties: more than %d properties",
                    SW_MAX_KAFKA_PROPS);
    for (int i = 0; i < cfg->n_kafka_props; i++) {
        const sw_kafka_prop *p = &cfg->kafka_props[i];
        size_t kn = strnlen(p->key, SW_STR_MAX + 1), vn = strnlen(p->value, SW_STR_MAX + 1);
        if (kn == 0 || kn > SW_STR_MAX || vn > SW_STR_MAX)
            return verr(errstr, errlen, "kafka.properties: entry %d: key must be 1..%d bytes, "
                        "value at most %d", i, SW_STR_MAX, SW_STR_MAX);
    }
    if (config_input_validate(&cfg->input, errstr, errlen))
        return -1;
    if (cfg->http_listen[0] && !config_listen_ok(cfg->http_listen))
        return verr(errstr, errlen, "http.listen: \"%s\" is not ADDR:PORT or [V6ADDR]:PORT",
                    cfg->http_listen);
    return 0;
}

/* Cross-field: the ring must hold every window, and lateness must leave
 * a window something to judge. */
static int windows_fit_check(const sw_config *cfg, char *errstr, size_t errlen)
{
    int64_t longest = config_longest_window_s(cfg);
    if (cfg->allowed_lateness_s >= longest)
        return verr(errstr, errlen, "allowed_lateness_s: %" PRId64 " must be less than the "
                    "longest window (%" PRId64 " s)", cfg->allowed_lateness_s, longest);
    int64_t seen[WIN_MAX_WINDOWS];
    int n = 0;
    if (distinct_add(seen, &n, cfg->status_window_s))
        return verr(errstr, errlen, "status.window_s: more than %d distinct window lengths",
                    WIN_MAX_WINDOWS);
    for (int i = 0; i < 3; i++)
        if (distinct_add(seen, &n, cfg->status_windows_s[i]))
            return verr(errstr, errlen, "status.windows_s[%d]: more than %d distinct window "
                        "lengths", i, WIN_MAX_WINDOWS);
    for (int r = 0; r < cfg->n_rules; r++) {
        const sw_rule *rule = &cfg->rules[r];
        if (distinct_add(seen, &n, rule->window_s))
            return verr(errstr, errlen, "rules[%d].window_s: more than %d distinct window "
                        "lengths in the config", r, WIN_MAX_WINDOWS);
        for (int k = 0; k < rule->n_extra_windows; k++)
            if (distinct_add(seen, &n, rule->extra_windows_s[k]))
                return verr(errstr, errlen, "rules[%d].windows_s[%d]: more than %d distinct "
                            "window lengths in the config", r, k, WIN_MAX_WINDOWS);
    }
    return 0;
}

/* The rollback check: silence fits in a watch, and the reason is a label
 * the windows count (when the check is on). A restart rebuilds
 * verify_within_s further back (engine_time.c), so a watch of any length
 * is rebuilt. */
static int rollback_section_check(const sw_config *cfg, char *errstr, size_t errlen)
{
    if (cfg->rollback_quiet_s > cfg->rollback_verify_within_s)
        return verr(errstr, errlen, "rollback.quiet_s: %" PRId64 " must be at most "
                    "rollback.verify_within_s (%" PRId64 ")", cfg->rollback_quiet_s,
                    cfg->rollback_verify_within_s);
    const char *reason = cfg->rollback_reason;
    size_t n = strnlen(reason, SW_STR_MAX + 1);
    if (cfg->rollback_check &&
        (n > SW_STR_MAX || labels_lookup(&cfg->reasons, reason, n) >= cfg->reasons.n))
        return verr(errstr, errlen, "rollback.reason: \"%.*s\" is not one of fallback_reasons "
                    "(list it there, or set rollback.check to false)", (int)(n > 64 ? 64 : n),
                    reason);
    return 0;
}

int config_key_err(char *err, size_t errlen, const char *src, const char *key, const char *fmt,
                   ...)
{
    char what[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    snprintf(err, errlen, "%s: %s: %s", src, key, what);
    return -1;
}

int config_validate(const sw_config *cfg, char *errstr, size_t errlen)
{
    for (int k = 0; k < cfg_n_keys; k++)
        if (key_check(cfg, &cfg_keys[k], errstr, errlen))
            return -1;
    if (status_and_names_check(cfg, errstr, errlen) || sections_check(cfg, errstr, errlen) ||
        windows_fit_check(cfg, errstr, errlen) || rollback_section_check(cfg, errstr, errlen))
        return -1;
    return 0;
}

/* ---- loading ----------------------------------------------------------- */

/* One line: "SRC: PATH: what is wrong". Always returns -1. */
int cfg_err(const cfg_loader *l, const char *path, const char *fmt, ...)
{
    if (l->errlen == 0)
        return -1;
    int n = snprintf(l->err, l->errlen, "%s: %s: ", l->src, path);
    if (n < 0 || (size_t)n >= l->errlen)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->err + n, l->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    one_line(l->err);
    return -1;
}

const char *cfg_json_kind(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_INTEGER: return "integer";
    case JSON_REAL: return "real number";
    case JSON_TRUE:
    case JSON_FALSE: return "boolean";
    case JSON_NULL: return "null";
    }
    return "unknown";
}

static int type_err(const cfg_loader *l, const char *path, const char *want, const json_t *got)
{
    return cfg_err(l, path, "expected %s, got %s", want, cfg_json_kind(got));
}

/* Key paths are for messages: a path too long for the buffer is cut. */
static void pathf(char *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void pathf(char *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, PATH_MAX_LEN, fmt, ap);
    va_end(ap);
}

static void path_join(char *out, const char *base, const char *key)
{
    if (base[0])
        pathf(out, "%s.%s", base, key);
    else
        pathf(out, "%s", key);
}

static int get_int(const cfg_loader *l, const char *path, const json_t *j, int64_t min, int64_t max,
                   int64_t *out)
{
    if (!json_is_integer(j))
        return type_err(l, path, "an integer", j);
    json_int_t v = json_integer_value(j);
    if (v < min || v > max) {
        if (max == INT64_MAX)
            return cfg_err(l, path, "%" PRId64 " out of range: must be >= %" PRId64, (int64_t)v,
                        min);
        return cfg_err(l, path, "%" PRId64 " out of range %" PRId64 "..%" PRId64, (int64_t)v, min,
                    max);
    }
    *out = (int64_t)v;
    return 0;
}

static int get_num(const cfg_loader *l, const char *path, const json_t *j, double min, double max,
                   double *out)
{
    if (!json_is_number(j))
        return type_err(l, path, "a number", j);
    double v = json_number_value(j);
    if (!(v >= min && v <= max))
        return cfg_err(l, path, "%g out of range %g..%g", v, min, max);
    *out = v;
    return 0;
}

static int get_bool(const cfg_loader *l, const char *path, const json_t *j, int *out)
{
    if (!json_is_boolean(j))
        return type_err(l, path, "a boolean", j);
    *out = json_is_true(j) ? 1 : 0;
    return 0;
}

/* A string of min_len..max_len bytes, no NUL inside, into dst (cap > max_len). */
static int get_str(const cfg_loader *l, const char *path, const json_t *j, size_t min_len,
                   size_t max_len, char *dst, size_t cap)
{
    if (!json_is_string(j))
        return type_err(l, path, "a string", j);
    const char *s = json_string_value(j);
    size_t n = json_string_length(j);
    if (memchr(s, '\0', n) != NULL)
        return cfg_err(l, path, "contains a NUL character");
    if (n > max_len)
        return cfg_err(l, path, "longer than %zu bytes", max_len);
    if (n < min_len)
        return cfg_err(l, path, "must not be empty");
    str_set(dst, cap, s, n);
    return 0;
}

static const cfg_key *key_find(const char *path)
{
    for (int k = 0; k < cfg_n_keys; k++)
        if (strcmp(cfg_keys[k].path, path) == 0)
            return &cfg_keys[k];
    return NULL;
}

static int load_labels(const cfg_loader *l, const char *path, const json_t *arr, sw_labels *out)
{
    if (!json_is_array(arr))
        return type_err(l, path, "an array of strings", arr);
    if (json_array_size(arr) > WIN_MAX_LABELS)
        return cfg_err(l, path, "more than %d names", WIN_MAX_LABELS);
    memset(out, 0, sizeof(*out));
    size_t i;
    const json_t *v;
    char ipath[PATH_MAX_LEN], name[LABEL_NAME_MAX + 1];
    json_array_foreach(arr, i, v) {
        pathf(ipath, "%s[%zu]", path, i);
        if (get_str(l, ipath, v, 1, LABEL_NAME_MAX, name, sizeof(name)))
            return -1;
        if (strcmp(name, "other") == 0)
            return cfg_err(l, ipath, "\"other\" is reserved for unlisted names");
        if (labels_add(out, name) == -EEXIST)
            return cfg_err(l, ipath, "duplicate name \"%s\"", name);
    }
    return 0;
}

static int load_windows3(const cfg_loader *l, const char *path, const json_t *arr, int64_t *out)
{
    if (!json_is_array(arr))
        return type_err(l, path, "an array of three integers", arr);
    if (json_array_size(arr) != 3)
        return cfg_err(l, path, "expected exactly 3 windows, got %zu", json_array_size(arr));
    char ipath[PATH_MAX_LEN];
    for (size_t i = 0; i < 3; i++) {
        pathf(ipath, "%s[%zu]", path, i);
        if (get_int(l, ipath, json_array_get(arr, i), 1, CFG_MAX_WINDOW_S, &out[i]))
            return -1;
    }
    return 0;
}

static int load_props(const cfg_loader *l, const char *path, const json_t *obj, sw_config *c)
{
    if (!json_is_object(obj))
        return type_err(l, path, "an object of strings", obj);
    if (json_object_size(obj) > SW_MAX_KAFKA_PROPS)
        return cfg_err(l, path, "more than %d properties", SW_MAX_KAFKA_PROPS);
    memset(c->kafka_props, 0, sizeof(c->kafka_props));
    c->n_kafka_props = 0;
    const char *k;
    const json_t *v;
    char kpath[PATH_MAX_LEN];
    json_object_foreach((json_t *)obj, k, v) {
        pathf(kpath, "%s.%s", path, k);
        size_t kn = strlen(k);
        if (kn == 0)
            return cfg_err(l, path, "empty property name");
        if (kn > SW_STR_MAX)
            return cfg_err(l, kpath, "property name longer than %d bytes", SW_STR_MAX);
        sw_kafka_prop *p = &c->kafka_props[c->n_kafka_props];
        if (get_str(l, kpath, v, 0, SW_STR_MAX, p->value, sizeof(p->value)))
            return -1;
        str_set(p->key, sizeof(p->key), k, kn);
        c->n_kafka_props++;
    }
    return 0;
}

static const char *const rule_keys[] = {
    "name", "metric", "op", "threshold", "window_s", "min_samples", "resolve_threshold",
    "keep_firing_for_s", "latch", "hold_when_no_data", "confidence", "windows_s", "cohorts",
    "action", "compare", NULL,
};

/* "error_rate", "strategies.core_only", "fallback_reasons.other", ... */
static int parse_metric(const cfg_loader *l, const char *path, const sw_config *c, const char *s,
                        sw_rule *r)
{
    for (int m = 0; m < M_STRATEGY; m++)
        if (strcmp(s, metric_names[m]) == 0) {
            r->metric = (sw_metric)m;
            r->label = 0;
            return 0;
        }
    const char *dot = strchr(s, '.');
    if (dot != NULL) {
        size_t pn = (size_t)(dot - s);
        const sw_labels *lst = NULL;
        const char *list = NULL;
        if (pn == 10 && memcmp(s, "strategies", 10) == 0) {
            lst = &c->strategies;
            list = "strategies";
            r->metric = M_STRATEGY;
        } else if (pn == 16 && memcmp(s, "fallback_reasons", 16) == 0) {
            lst = &c->reasons;
            list = "fallback_reasons";
            r->metric = M_FALLBACK_REASON;
        }
        if (lst != NULL) {
            const char *name = dot + 1;
            if (strcmp(name, "other") == 0) {
                r->label = lst->n;
                return 0;
            }
            uint8_t idx = labels_lookup(lst, name, strlen(name));
            if (idx == lst->n)
                return cfg_err(l, path, "\"%s\" is not in %s (nor \"other\")", name, list);
            r->label = idx;
            return 0;
        }
    }
    return cfg_err(l, path, "unknown metric \"%s\"", s);
}

/* Every key of a rule is known, and the five of the runbook are there. */
static int rule_keys_check(const cfg_loader *l, const char *base, const json_t *o)
{
    char path[PATH_MAX_LEN];
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)o, k, v) {
        int known = 0;
        for (int j = 0; rule_keys[j] && !known; j++)
            known = strcmp(k, rule_keys[j]) == 0;
        if (!known) {
            path_join(path, base, k);
            return cfg_err(l, path, "unknown key");
        }
    }
    for (int j = 0; j < 5; j++)
        if (json_object_get(o, rule_keys[j]) == NULL)
            return cfg_err(l, base, "missing \"%s\"", rule_keys[j]);
    return 0;
}

/* The runbook's fields: name, metric, op, threshold, window_s. */
static int load_rule_core(const cfg_loader *l, const char *base, const json_t *o,
                          const sw_config *c, sw_rule *r)
{
    char path[PATH_MAX_LEN];
    path_join(path, base, "name");
    if (get_str(l, path, json_object_get(o, "name"), 1, SW_RULE_NAME_MAX, r->name,
                sizeof(r->name)))
        return -1;
    if (!rule_name_ok(r->name))
        return cfg_err(l, path, "\"%s\": use only [A-Za-z0-9_.-]", r->name);
    path_join(path, base, "metric");
    if (get_str(l, path, json_object_get(o, "metric"), 1, sizeof(r->metric_name) - 1,
                r->metric_name, sizeof(r->metric_name)))
        return -1;
    if (parse_metric(l, path, c, r->metric_name, r))
        return -1;
    path_join(path, base, "op");
    char op[8];
    if (get_str(l, path, json_object_get(o, "op"), 1, sizeof(op) - 1, op, sizeof(op)))
        return cfg_err(l, path, "expected one of > >= < <= ==");
    int found = -1;
    for (int j = 0; j <= OP_EQ; j++)
        if (strcmp(op, op_names[j]) == 0)
            found = j;
    if (found < 0)
        return cfg_err(l, path, "\"%s\": expected one of > >= < <= ==", op);
    r->op = (sw_op)found;
    path_join(path, base, "threshold");
    if (get_num(l, path, json_object_get(o, "threshold"), -HUGE_VAL, HUGE_VAL, &r->threshold))
        return -1;
    path_join(path, base, "window_s");
    return get_int(l, path, json_object_get(o, "window_s"), 1, CFG_MAX_WINDOW_S, &r->window_s);
}

/* An optional key of a rule: its value, with its path in path, or NULL. */
static const json_t *rule_opt(const char *base, const json_t *o, const char *key, char *path)
{
    const json_t *v = json_object_get(o, key);
    if (v != NULL)
        path_join(path, base, key);
    return v;
}

/* windows_s: further windows the condition must hold on too. */
static int load_rule_windows(const cfg_loader *l, const char *base, const char *path,
                             const json_t *v, sw_rule *r)
{
    if (!json_is_array(v))
        return type_err(l, path, "an array of integers", v);
    if (json_array_size(v) > SW_MAX_EXTRA_WINDOWS)
        return cfg_err(l, path, "at most %d windows", SW_MAX_EXTRA_WINDOWS);
    char ipath[PATH_MAX_LEN];
    size_t k;
    const json_t *w;
    json_array_foreach(v, k, w) {
        pathf(ipath, "%s.windows_s[%zu]", base, k);
        if (get_int(l, ipath, w, 1, CFG_MAX_WINDOW_S, &r->extra_windows_s[k]))
            return -1;
    }
    r->n_extra_windows = (int)json_array_size(v);
    return 0;
}

/* The options beyond the runbook (docs/semantics.md section 8), and
 * min_samples; each absent key keeps its default. */
static int load_rule_options(const cfg_loader *l, const char *base, const json_t *o, sw_rule *r)
{
    char path[PATH_MAX_LEN];
    const json_t *v;
    if ((v = rule_opt(base, o, "min_samples", path)) &&
        get_int(l, path, v, 0, INT64_MAX, &r->min_samples))
        return -1;
    if ((v = rule_opt(base, o, "resolve_threshold", path))) {
        if (get_num(l, path, v, -HUGE_VAL, HUGE_VAL, &r->resolve_threshold))
            return -1;
        r->has_resolve_threshold = 1;
    }
    if ((v = rule_opt(base, o, "keep_firing_for_s", path)) &&
        get_int(l, path, v, 0, CFG_MAX_WINDOW_S, &r->keep_firing_for_s))
        return -1;
    if ((v = rule_opt(base, o, "latch", path)) && get_bool(l, path, v, &r->latch))
        return -1;
    if ((v = rule_opt(base, o, "hold_when_no_data", path)) &&
        get_bool(l, path, v, &r->hold_when_no_data))
        return -1;
    if ((v = rule_opt(base, o, "confidence", path))) {
        if (get_num(l, path, v, 0, 1, &r->confidence))
            return -1;
        if (!(r->confidence > 0 && r->confidence < 1))
            return cfg_err(l, path, "%g: must be > 0 and < 1", r->confidence);
    }
    if ((v = rule_opt(base, o, "windows_s", path)))
        return load_rule_windows(l, base, path, v, r);
    return 0;
}

static int load_rule(const cfg_loader *l, int i, const json_t *o, const sw_config *c, sw_rule *r)
{
    char base[PATH_MAX_LEN];
    pathf(base, "rules[%d]", i);
    if (!json_is_object(o))
        return type_err(l, base, "an object", o);
    if (rule_keys_check(l, base, o))
        return -1;
    memset(r, 0, sizeof(*r));
    if (load_rule_core(l, base, o, c, r) || load_rule_options(l, base, o, r) ||
        config_cohorts_rule(o, &c->cohorts, r, base, l->src, l->err, l->errlen))
        return -1;
    return 0;
}

static int load_rules(const cfg_loader *l, const json_t *arr, sw_config *c)
{
    if (!json_is_array(arr))
        return type_err(l, "rules", "an array of rules", arr);
    if (json_array_size(arr) > SW_MAX_RULES)
        return cfg_err(l, "rules", "more than %d rules", SW_MAX_RULES);
    memset(c->rules, 0, sizeof(c->rules));
    c->n_rules = 0;
    size_t i;
    const json_t *v;
    json_array_foreach(arr, i, v) {
        if (load_rule(l, (int)i, v, c, &c->rules[i]))
            return -1;
        for (size_t j = 0; j < i; j++)
            if (strcmp(c->rules[j].name, c->rules[i].name) == 0) {
                char path[PATH_MAX_LEN];
                pathf(path, "rules[%zu].name", i);
                return cfg_err(l, path, "duplicate rule name \"%s\"", c->rules[i].name);
            }
        c->n_rules = (int)i + 1;
    }
    return 0;
}

/* Load the keys of one object (the top level when base is ""). Rules wait
 * for the second pass so that they resolve labels against the final lists,
 * whatever the key order of the file. */
static int load_object(const cfg_loader *l, const char *base, const json_t *obj, sw_config *c,
                       int pass)
{
    const char *k;
    const json_t *v;
    char path[PATH_MAX_LEN];
    json_object_foreach((json_t *)obj, k, v) {
        path_join(path, base, k);
        const cfg_key *key = strchr(k, '.') ? NULL : key_find(path);
        if (key == NULL)
            return cfg_err(l, path, "unknown key");
        if (pass == 1 && key->type == CK_RULES)
            continue;
        if (pass == 2 && key->type != CK_RULES)
            continue;
        char *dst = (char *)c + key->off;
        switch (key->type) {
        case CK_OBJ:
            if (!json_is_object(v))
                return type_err(l, path, "an object", v);
            if (load_object(l, path, v, c, pass))
                return -1;
            break;
        case CK_INT: {
            int64_t x = 0;
            if (get_int(l, path, v, key->imin, key->imax, &x))
                return -1;
            memcpy(dst, &x, sizeof(x));
            break;
        }
        case CK_SIZE: {
            int64_t x = 0;
            if (get_int(l, path, v, key->imin, key->imax, &x))
                return -1;
            size_t z = (size_t)x;
            memcpy(dst, &z, sizeof(z));
            break;
        }
        case CK_DBL: {
            double x = 0;
            if (get_num(l, path, v, key->dmin, key->dmax, &x))
                return -1;
            memcpy(dst, &x, sizeof(x));
            break;
        }
        case CK_BOOL: {
            int x = 0;
            if (get_bool(l, path, v, &x))
                return -1;
            memcpy(dst, &x, sizeof(x));
            break;
        }
        case CK_STR:
            if (get_str(l, path, v, key->min_len, SW_STR_MAX, dst, SW_STR_MAX + 1))
                return -1;
            break;
        case CK_WINDOWS3:
            if (load_windows3(l, path, v, (int64_t *)(void *)dst))
                return -1;
            break;
        case CK_LABELS:
            if (load_labels(l, path, v, (sw_labels *)(void *)dst))
                return -1;
            break;
        case CK_PROPS:
            if (load_props(l, path, v, c))
                return -1;
            break;
        case CK_RULES:
            if (load_rules(l, v, c))
                return -1;
            break;
        case CK_INPUT:
            if (config_input_load(v, (sw_input *)(void *)dst, l->src, l->err, l->errlen))
                return -1;
            break;
        case CK_SOAK:
            if (config_soak_load(v, (sw_soak *)(void *)dst, l->src, l->err, l->errlen))
                return -1;
            break;
        case CK_ALERTMANAGER:
            if (config_am_load(v, (sw_alertmanager *)(void *)dst, l->src, l->err, l->errlen))
                return -1;
            break;
        case CK_COHORTS:
            if (config_cohorts_load(v, (sw_cohorts *)(void *)dst, l->src, l->err, l->errlen))
                return -1;
            break;
        }
    }
    return 0;
}

static int load_doc(sw_config *cfg, const char *src, const char *json, size_t len,
                    char *errstr, size_t errlen)
{
    cfg_loader l = {src, errstr, errlen};
    json_error_t jerr;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        if (jerr.text[0] == '\0') /* jansson names every syntax error: memory ran out */
            return verr(errstr, errlen, "%s: out of memory", src);
        verr(errstr, errlen, "%s: line %d column %d: %s", src, jerr.line, jerr.column,
             jerr.text);
        return -1;
    }
    int rc = -1;
    sw_config *tmp = NULL;
    if (!json_is_object(root)) {
        verr(errstr, errlen, "%s: expected a JSON object at the top level, got %s", src,
             cfg_json_kind(root));
        goto out;
    }
    tmp = malloc(sizeof(*tmp));
    if (tmp == NULL) {
        verr(errstr, errlen, "%s: out of memory", src);
        goto out;
    }
    memcpy(tmp, cfg, sizeof(*tmp));
    if (load_object(&l, "", root, tmp, 1) || load_object(&l, "", root, tmp, 2))
        goto out;
    char verrbuf[400];
    if (config_validate(tmp, verrbuf, sizeof(verrbuf))) {
        verr(errstr, errlen, "%s: %s", src, verrbuf);
        goto out;
    }
    memcpy(cfg, tmp, sizeof(*cfg));
    rc = 0;
out:
    free(tmp);
    json_decref(root);
    return rc;
}

int config_load_string(sw_config *cfg, const char *json, size_t len, char *errstr,
                       size_t errlen)
{
    return load_doc(cfg, "config", json, len, errstr, errlen);
}

int config_load_file(sw_config *cfg, const char *path, char *errstr, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return verr(errstr, errlen, "%s: cannot open: %s", path, strerror(errno));
    char *buf = malloc(CONFIG_FILE_MAX + 1);
    if (buf == NULL) {
        fclose(f);
        return verr(errstr, errlen, "%s: out of memory", path);
    }
    errno = 0;
    size_t n = fread(buf, 1, CONFIG_FILE_MAX + 1, f);
    int rd_err = ferror(f);
    fclose(f);
    int rc;
    if (rd_err)
        rc = verr(errstr, errlen, "%s: cannot read: %s", path, strerror(errno));
    else if (n > CONFIG_FILE_MAX)
        rc = verr(errstr, errlen, "%s: larger than %d bytes", path, CONFIG_FILE_MAX);
    else
        rc = load_doc(cfg, path, buf, n, errstr, errlen);
    free(buf);
    return rc;
}
