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
} sw_rule;

typedef struct sw_kafka_prop {
    char key[SW_STR_MAX + 1];
    char value[SW_STR_MAX + 1];
} sw_kafka_prop;

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

    /* http (operations) */
    char http_listen[SW_STR_MAX + 1]; /* "" = off; "ADDR:PORT" */
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

/* Longest window any rule or status uses, in seconds. */
int64_t config_longest_window_s(const sw_config *cfg);

/* Metric name <-> enum (names as in SEMANTICS section 4). */
const char *config_metric_name(sw_metric m);
const char *config_op_name(sw_op op);

#endif
