/* config.h: soakwatch's whole configuration, with its built-in defaults.
 *
 * One JSON document (read with jansson) overrides the defaults; an unknown
 * key or a wrong type stops startup with a message naming the key. After
 * config_load returns, a config is complete and validated.
 */
#ifndef SOAKWATCH_CONFIG_H
#define SOAKWATCH_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "labels.h"

#define SW_MAX_RULES 32
#define SW_RULE_NAME_MAX 63
#define SW_MAX_KAFKA_PROPS 64
#define SW_STR_MAX 255
#define SW_MAX_EXTRA_WINDOWS 3
#define SW_FINE_MAX_WINDOW_S 1800 /* longer windows use per-minute buckets */

typedef enum sw_metric {
    M_REQUESTS = 0,
    M_OUTCOMES,
    M_SUCCESSES,
    M_ERRORS,
    M_DECLINED,
    M_SUCCESS_RATE,
    M_ERROR_RATE,
    M_LATENCY_MEAN_MS,
    M_LATENCY_P95_MS,
    M_LATENCY_P99_MS,
    M_TIME_CONSTRAINT_SUCCESS_RATE,
    M_STRATEGY,        /* count of outcomes with one strategy: "strategies.NAME" */
    M_FALLBACK_REASON, /* count of fallbacks with one reason: "fallback_reasons.NAME" */
    M_METRIC_COUNT
} sw_metric;

typedef enum sw_op { OP_GT = 0, OP_GE, OP_LT, OP_LE, OP_EQ } sw_op;

typedef struct sw_rule {
    char name[SW_RULE_NAME_MAX + 1];
    sw_metric metric;
    int label;            /* M_STRATEGY / M_FALLBACK_REASON: label index (n = other) */
    char metric_name[SW_RULE_NAME_MAX + 1 + LABEL_NAME_MAX + 1]; /* as written */
    sw_op op;
    double threshold;
    int64_t window_s;
    int64_t min_samples;

    /* Options beyond the runbook; each off by default (docs/semantics.md). */
    int has_resolve_threshold;
    double resolve_threshold;  /* while firing, the comparison uses this */
    int64_t keep_firing_for_s; /* a cleared condition must stay clear this long */
    int latch;                 /* stays firing until acknowledged */
    int hold_when_no_data;     /* too few samples / null never resolves it */
    double confidence;         /* 0 = off; else Wilson interval past the threshold */
    int n_extra_windows;       /* further windows on which the condition must hold too */
    int64_t extra_windows_s[SW_MAX_EXTRA_WINDOWS];

    /* Cohorts (docs/semantics.md section 12): where the rule is judged. */
    int cohort_scope;          /* enum sw_cohort_scope */
    uint32_t cohort_mask;      /* SW_SCOPE_LIST: bit c for cohort c (max: other) */
    int action;                /* enum sw_action: what its firing asks for */
    /* SW_SCOPE_COMPARE: the treatment judged against the control. */
    int cmp_treatment, cmp_control; /* cohort indices (max: other) */
    double cmp_alpha;               /* false-alarm probability over the horizon */
    int64_t cmp_horizon_s;          /* looks planned: one per second */
} sw_rule;

/* A rule's scope: the whole topic (the default), every cohort, or some. */
enum sw_cohort_scope { SW_SCOPE_WHOLE = 0, SW_SCOPE_EACH, SW_SCOPE_LIST, SW_SCOPE_COMPARE };
enum sw_action { SW_ACTION_DISABLE_FLAG = 0, SW_ACTION_ROLLBACK_COHORT };

/* Whether rule r keeps a state in cohort c (0..K, K being `other`): a
 * comparison rule keeps its one state in its treatment's. */
#define SW_RULE_IN_COHORT(r, c) \
    ((r)->cohort_scope == SW_SCOPE_EACH || \
     ((r)->cohort_scope == SW_SCOPE_LIST && ((r)->cohort_mask >> (c) & 1u)) || \
     ((r)->cohort_scope == SW_SCOPE_COMPARE && (r)->cmp_treatment == (c)))

/* Mapped input (docs/semantics.md section 9): where each field of an event
 * is, how a message wraps it, which events count and how much. */
#define SW_PATH_MAX 127        /* a path as written */
#define SW_MAX_PATH_ALTS 4     /* alternatives per field */
#define SW_AFFIX_MAX 63        /* event-name prefix or token key */
#define SW_MAX_FILTERS 8
#define SW_MAX_FILTER_VALUES 8
#define SW_MAX_KEY_PATHS 4
#define SW_MAX_ERROR_REASONS 8
#define SW_WEIGHT_MAX 1000

typedef enum sw_envelope { SW_ENV_NONE = 0, SW_ENV_FIELD, SW_ENV_SYSLOG, SW_ENV_OTLP } sw_envelope;

typedef enum sw_in_field {
    SW_IN_EVENT = 0,
    SW_IN_TIME,
    SW_IN_DURATION,
    SW_IN_STATUS,
    SW_IN_REASON,
    SW_IN_STRATEGY,
    SW_IN_TC,
    SW_IN_FIELDS
} sw_in_field;

enum sw_extract { SW_EXTRACT_VALUE = 0, SW_EXTRACT_PREFIX, SW_EXTRACT_TOKEN };

typedef struct sw_field_map {
    int n_paths; /* 0: the field is never present (mapped to null) */
    char paths[SW_MAX_PATH_ALTS][SW_PATH_MAX + 1];
    int extract; /* enum sw_extract; event name only */
    char affix[SW_AFFIX_MAX + 1];
} sw_field_map;

typedef struct sw_filter {
    unsigned kinds; /* bit (1 << enum sw_event_kind) per kind it applies to */
    char path[SW_PATH_MAX + 1];
    int n_values;
    char values[SW_MAX_FILTER_VALUES][SW_STR_MAX + 1];
} sw_filter;

typedef struct sw_input {
    int envelope; /* enum sw_envelope */
    char envelope_field[SW_PATH_MAX + 1];
    sw_field_map fields[SW_IN_FIELDS];
    int duration_required;
    int n_error_reasons;
    char error_reasons[SW_MAX_ERROR_REASONS][SW_STR_MAX + 1];
    int n_filters;
    sw_filter filters[SW_MAX_FILTERS];
    int64_t weight;                    /* the constant, or the default of weight_path */
    char weight_path[SW_PATH_MAX + 1]; /* "" = every event weighs `weight` */
    int correlate;
    int n_key_paths;
    char key_paths[SW_MAX_KEY_PATHS][SW_PATH_MAX + 1];
    int64_t max_latency_ms;
    int64_t table_size;
} sw_input;

typedef struct sw_kafka_prop {
    char key[SW_STR_MAX + 1];
    char value[SW_STR_MAX + 1];
} sw_kafka_prop;

/* The soak cadence (docs/semantics.md section 11); off unless `soak` is
 * present. Targets are strict, as the plan writes them. */
#define SW_SOAK_MAX_SIGNOFFS 16
#define SW_SIGNOFF_KEY_MAX 63
typedef struct sw_soak {
    int enabled;
    int64_t start_ms;                 /* INT64_MIN: not given */
    int64_t hours;                    /* the soak's length (48) */
    char title[SW_STR_MAX + 1];       /* "Stream5 Staging Update" */
    char dashboard_url[SW_STR_MAX + 1]; /* "" = none */
    double success_rate_min;          /* pass when success_rate > this (0.95) */
    double latency_mean_max_ms;       /* pass when latency_mean_ms < this (2000) */
    double error_rate_max;            /* pass when error_rate < this (0.05) */
    double compression_success_min;  /* pass when time_constraint_success_rate > this (0.8) */
    int n_signoffs;                   /* the verdict's operational criteria (section 11) */
    struct sw_signoff_def {
        char key[SW_SIGNOFF_KEY_MAX + 1];
        char title[SW_STR_MAX + 1];
    } signoffs[SW_SOAK_MAX_SIGNOFFS];
} sw_soak;

/* Prometheus Alertmanager as a destination (docs/operations.md,
 * "Alertmanager"); off unless `alertmanager` is present. */
#define SW_AM_MAX_URLS 4
/* Cohorts (docs/semantics.md section 12): one input field's values, each
 * with its own windows and rule states; off unless `cohorts` is present. */
#define SW_MAX_COHORTS 16 /* kept values; `other` makes one more */
typedef struct sw_cohorts {
    int enabled;
    char field[SW_PATH_MAX + 1]; /* an input path (section 9.1) */
    sw_labels values;            /* listed, in list order: cohorts 0 .. n-1 */
    int max;                     /* cohorts kept, listed ones included (values.n .. 16);
                                    max is `other`; values.n .. max-1 first come, first kept */
} sw_cohorts;

typedef struct sw_alertmanager {
    int enabled;
    int n_urls;
    char urls[SW_AM_MAX_URLS][SW_STR_MAX + 1]; /* base URLs: http://alertmanager:9093 */
    int64_t resend_s;                          /* active alerts posted again (60) */
    int64_t timeout_ms;                        /* one POST (5000) */
    char generator_url[SW_STR_MAX + 1];        /* "" = none */
} sw_alertmanager;

typedef struct sw_config {
    /* time (SEMANTICS section 3) */
    int64_t allowed_lateness_s;
    int64_t max_gap_s;
    int64_t idle_timeout_s;
    int64_t max_future_skew_s;
    size_t max_message_bytes;

    /* status (section 6) */
    int64_t status_interval_s;
    int64_t status_window_s;
    int64_t status_min_outcomes;
    double status_success_rate_min; /* yellow when success_rate <= this */
    double status_error_rate_max;   /* yellow when error_rate >= this */
    double status_latency_mean_max_ms; /* yellow when latency_mean_ms >= this */
    int64_t status_windows_s[3];    /* windows carried in status events */

    /* input */
    char event_names[4][SW_STR_MAX + 1]; /* indexed by enum sw_event_kind */
    sw_labels strategies;
    sw_labels reasons;

    sw_input input; /* section 9; the defaults read the flat contract */

    /* output */
    char feature[SW_STR_MAX + 1];

    /* rules (section 5) */
    int n_rules;
    sw_rule rules[SW_MAX_RULES];

    /* kafka (live mode and Kafka replay) */
    char brokers[SW_STR_MAX + 1];
    char input_topic[SW_STR_MAX + 1];
    char output_topic[SW_STR_MAX + 1];
    char group[SW_STR_MAX + 1];
    char dead_letter_topic[SW_STR_MAX + 1];
    char control_topic[SW_STR_MAX + 1]; /* acknowledgements (live); "" = off */
    int n_kafka_props;
    sw_kafka_prop kafka_props[SW_MAX_KAFKA_PROPS];

    /* data quality (off by default): status carries a "quality" state */
    int quality_enabled;
    int64_t quality_max_watermark_lag_s;

    /* provenance (off by default): triggers carry config hash, rule
     * definition and the offsets of the data in their window */
    int provenance;

    /* rollback check (docs/semantics.md section 10): after a firing,
     * whether the flag went off */
    int rollback_check;
    int64_t rollback_verify_within_s;
    char rollback_reason[SW_STR_MAX + 1]; /* one of fallback_reasons */
    int64_t rollback_unavailable_min;
    int64_t rollback_quiet_s;

    /* http (operations) */
    char http_listen[SW_STR_MAX + 1]; /* "" = off; "ADDR:PORT" */

    sw_soak soak; /* section 11 */

    sw_alertmanager alertmanager; /* where alerts go besides the output stream */
    sw_cohorts cohorts; /* section 12 */
} sw_config;

/* Fill cfg with the built-in defaults (the runbook's rules). */
void config_defaults(sw_config *cfg);

/* Read a JSON config file over the defaults. Returns 0, or -1 with one line
 * in errstr naming the file and the key at fault. */
int config_load_file(sw_config *cfg, const char *path, char *errstr, size_t errlen);

/* Same, from a string (tests, fuzzing). */
int config_load_string(sw_config *cfg, const char *json, size_t len, char *errstr, size_t errlen);

/* Cross-field checks (windows vs. lateness, label references). Called by
 * the loaders; exposed for configs built in code. */
int config_validate(const sw_config *cfg, char *errstr, size_t errlen);

/* Whether s[0..n) is 1..max characters of [A-Za-z0-9_.-]: a rule name, a
 * cohort value. */
int config_name_ok(const char *s, size_t n, size_t max);

/* "SRC: KEY: what is wrong" into err, for the loaders of the config's
 * sections. Returns -1. */
int config_key_err(char *err, size_t errlen, const char *src, const char *key, const char *fmt,
                   ...) __attribute__((format(printf, 5, 6)));

/* The built-in input mapping (the flat contract of section 1). */
void config_input_defaults(sw_input *in);

/* Whether the input mapping is the built-in flat contract. */
int config_input_is_flat(const sw_input *in);

/* Whether the rollback section is the built-in one. */
int config_rollback_is_default(const sw_config *cfg);

/* Longest window any rule or status uses, in seconds. */
int64_t config_longest_window_s(const sw_config *cfg);

/* Metric name <-> enum (names as in SEMANTICS section 4). */
const char *config_metric_name(sw_metric m);
const char *config_op_name(sw_op op);

#endif
