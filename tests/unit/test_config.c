/* test_config.c: the config loader: defaults as the contract states them,
 * every key overriding, every error naming its key, environment overrides,
 * the fingerprint, and the JSON dump reading back to the same config. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "config_env.h"

static sw_config cfg, cfg2;
static char err[512];

/* Defaults, then the document; returns the loader's result. */
static int load(const char *json)
{
    config_defaults(&cfg);
    err[0] = '\0';
    return config_load_string(&cfg, json, strlen(json), err, sizeof(err));
}

/* The document must be refused with exactly this message. */
#define CHECK_REFUSED(json, msg)                                                 \
    do {                                                                         \
        CHECK_INT(load(json), -1);                                               \
        CHECK_STR(err, msg);                                                     \
    } while (0)

/* The document must be refused with a message containing this text. */
#define CHECK_REFUSED_HAS(json, needle)                                          \
    do {                                                                         \
        CHECK_INT(load(json), -1);                                               \
        if (strstr(err, needle) == NULL) {                                       \
            fprintf(stderr, "%s:%d: error \"%s\" lacks \"%s\"\n", __FILE__,      \
                    __LINE__, err, needle);                                      \
            check_failures++;                                                    \
        }                                                                        \
    } while (0)

static void test_defaults(void)
{
    config_defaults(&cfg);
    CHECK_INT(cfg.allowed_lateness_s, 2);
    CHECK_INT(cfg.max_gap_s, 86400);
    CHECK_INT(cfg.idle_timeout_s, 5);
    CHECK_INT(cfg.max_future_skew_s, 60);
    CHECK_INT(cfg.max_message_bytes, 65536);
    CHECK_INT(cfg.status_interval_s, 60);
    CHECK_INT(cfg.status_window_s, 300);
    CHECK_INT(cfg.status_min_outcomes, 20);
    CHECK_DBL(cfg.status_success_rate_min, 0.95, 0);
    CHECK_DBL(cfg.status_error_rate_max, 0.05, 0);
    CHECK_DBL(cfg.status_latency_mean_max_ms, 2000, 0);
    CHECK_INT(cfg.status_windows_s[0], 300);
    CHECK_INT(cfg.status_windows_s[1], 600);
    CHECK_INT(cfg.status_windows_s[2], 1800);
    CHECK_STR(cfg.event_names[0], "stream5.time_crunch_preview_requested");
    CHECK_STR(cfg.event_names[1], "stream5.time_crunch_preview_succeeded");
    CHECK_STR(cfg.event_names[2], "stream5.time_crunch_preview_fallback");
    CHECK_STR(cfg.event_names[3], "stream5.time_crunch_preview_declined");
    static const char *const strategies[] = {
        "core_only", "core_plus_accessory", "core_plus_superset", "core_plus_block",
        "core_plus_block_and_superset", "none", "pending", "user_decline"};
    CHECK_INT(cfg.strategies.n, 8);
    for (int i = 0; i < 8; i++)
        CHECK_STR(cfg.strategies.names[i], strategies[i]);
    static const char *const reasons[] = {
        "plan_not_compressible", "plan_missing_content", "internal_error", "plan_not_found",
        "forbidden", "unauthorized", "invalid_request", "preview_failed",
        "feature_not_available"};
    CHECK_INT(cfg.reasons.n, 9);
    for (int i = 0; i < 9; i++)
        CHECK_STR(cfg.reasons.names[i], reasons[i]);
    CHECK_STR(cfg.feature, "feature.stream5_time_crunch_mode");

    CHECK_INT(cfg.n_rules, 4);
    CHECK_STR(cfg.rules[0].name, "error_rate_high");
    CHECK_INT(cfg.rules[0].metric, M_ERROR_RATE);
    CHECK_STR(cfg.rules[0].metric_name, "error_rate");
    CHECK_INT(cfg.rules[0].op, OP_GT);
    CHECK_DBL(cfg.rules[0].threshold, 0.10, 0);
    CHECK_INT(cfg.rules[0].window_s, 300);
    CHECK_INT(cfg.rules[0].min_samples, 20);
    CHECK_STR(cfg.rules[1].name, "success_rate_low");
    CHECK_INT(cfg.rules[1].metric, M_SUCCESS_RATE);
    CHECK_INT(cfg.rules[1].op, OP_LT);
    CHECK_DBL(cfg.rules[1].threshold, 0.90, 0);
    CHECK_INT(cfg.rules[1].window_s, 600);
    CHECK_INT(cfg.rules[1].min_samples, 20);
    CHECK_STR(cfg.rules[2].name, "latency_high");
    CHECK_INT(cfg.rules[2].metric, M_LATENCY_MEAN_MS);
    CHECK_INT(cfg.rules[2].op, OP_GT);
    CHECK_DBL(cfg.rules[2].threshold, 5000, 0);
    CHECK_INT(cfg.rules[2].window_s, 300);
    CHECK_INT(cfg.rules[2].min_samples, 20);
    CHECK_STR(cfg.rules[3].name, "zero_requests");
    CHECK_INT(cfg.rules[3].metric, M_REQUESTS);
    CHECK_STR(cfg.rules[3].metric_name, "requests");
    CHECK_INT(cfg.rules[3].op, OP_EQ);
    CHECK_DBL(cfg.rules[3].threshold, 0, 0);
    CHECK_INT(cfg.rules[3].window_s, 1800);
    CHECK_INT(cfg.rules[3].min_samples, 0);
    for (int i = 0; i < 4; i++) {
        CHECK_INT(cfg.rules[i].has_resolve_threshold, 0);
        CHECK_INT(cfg.rules[i].latch, 0);
        CHECK_INT(cfg.rules[i].n_extra_windows, 0);
        CHECK_DBL(cfg.rules[i].confidence, 0, 0);
    }

    CHECK_STR(cfg.brokers, "");
    CHECK_STR(cfg.input_topic, "stream5.time_crunch.telemetry");
    CHECK_STR(cfg.output_topic, "soakwatch.rollback");
    CHECK_STR(cfg.group, "soakwatch");
    CHECK_STR(cfg.dead_letter_topic, "");
    CHECK_INT(cfg.n_kafka_props, 0);
    CHECK_STR(cfg.http_listen, "");
    CHECK_INT(cfg.quality_enabled, 0);
    CHECK_INT(cfg.provenance, 0);
    CHECK_INT(config_longest_window_s(&cfg), 1800);
    CHECK_INT(config_validate(&cfg, err, sizeof(err)), 0);
    CHECK_STR(config_metric_name(M_TIME_CONSTRAINT_SUCCESS_RATE), "time_constraint_success_rate");
    CHECK_STR(config_op_name(OP_GE), ">=");
    CHECK_STR(config_op_name(OP_EQ), "==");

    /* An empty document is the defaults, byte for byte. */
    CHECK_INT(load("{}"), 0);
    config_defaults(&cfg2);
    CHECK(memcmp(&cfg, &cfg2, sizeof(cfg)) == 0);
}

static const char every_key[] =
    "{\"allowed_lateness_s\": 7, \"max_gap_s\": 3600, \"idle_timeout_s\": 9,"
    " \"max_future_skew_s\": 11, \"max_message_bytes\": 1024,"
    " \"status\": {\"interval_s\": 30, \"window_s\": 120, \"min_outcomes\": 5,"
    "   \"success_rate_min\": 0.5, \"error_rate_max\": 0.25, \"latency_mean_max_ms\": 1500.5,"
    "   \"windows_s\": [120, 900, 3600]},"
    " \"events\": {\"requested\": \"a.req\", \"succeeded\": \"a.ok\", \"fallback\": \"a.fb\","
    "   \"declined\": \"a.no\"},"
    " \"rules\": [{\"name\": \"by-label.1\", \"metric\": \"strategies.slow\", \"op\": \">=\","
    "   \"threshold\": 3, \"window_s\": 60},"
    "  {\"name\": \"r2\", \"metric\": \"error_rate\", \"op\": \">\", \"threshold\": 0.2,"
    "   \"window_s\": 300, \"min_samples\": 10, \"resolve_threshold\": 0.1,"
    "   \"keep_firing_for_s\": 45, \"latch\": true, \"hold_when_no_data\": true,"
    "   \"confidence\": 0.95, \"windows_s\": [3600, 7200]}],"
    " \"strategies\": [\"fast\", \"slow\"], \"fallback_reasons\": [\"boom\"],"
    " \"feature\": \"flag.x\","
    " \"data_quality\": {\"enabled\": true, \"max_watermark_lag_s\": 90},"
    " \"provenance\": true,"
    " \"kafka\": {\"brokers\": \"k1:9092,k2:9092\", \"input_topic\": \"in\","
    "   \"output_topic\": \"out\", \"group\": \"g\", \"dead_letter_topic\": \"dlq\","
    "   \"properties\": {\"security.protocol\": \"SASL_SSL\", \"client.id\": \"sw\"}},"
    " \"http\": {\"listen\": \"127.0.0.1:9464\"}}";

static void test_every_key_overrides(void)
{
    CHECK_INT(load(every_key), 0);
    if (err[0])
        fprintf(stderr, "unexpected: %s\n", err);
    CHECK_INT(cfg.allowed_lateness_s, 7);
    CHECK_INT(cfg.max_gap_s, 3600);
    CHECK_INT(cfg.idle_timeout_s, 9);
    CHECK_INT(cfg.max_future_skew_s, 11);
    CHECK_INT(cfg.max_message_bytes, 1024);
    CHECK_INT(cfg.status_interval_s, 30);
    CHECK_INT(cfg.status_window_s, 120);
    CHECK_INT(cfg.status_min_outcomes, 5);
    CHECK_DBL(cfg.status_success_rate_min, 0.5, 0);
    CHECK_DBL(cfg.status_error_rate_max, 0.25, 0);
    CHECK_DBL(cfg.status_latency_mean_max_ms, 1500.5, 0);
    CHECK_INT(cfg.status_windows_s[0], 120);
    CHECK_INT(cfg.status_windows_s[1], 900);
    CHECK_INT(cfg.status_windows_s[2], 3600);
    CHECK_STR(cfg.event_names[0], "a.req");
    CHECK_STR(cfg.event_names[1], "a.ok");
    CHECK_STR(cfg.event_names[2], "a.fb");
    CHECK_STR(cfg.event_names[3], "a.no");
    CHECK_INT(cfg.strategies.n, 2);
    CHECK_STR(cfg.strategies.names[1], "slow");
    CHECK_INT(cfg.reasons.n, 1);
    CHECK_STR(cfg.reasons.names[0], "boom");
    CHECK_STR(cfg.feature, "flag.x");
    CHECK_INT(cfg.n_rules, 2);
    /* The rule named a label listed later in the file: resolved anyway. */
    CHECK_STR(cfg.rules[0].name, "by-label.1");
    CHECK_INT(cfg.rules[0].metric, M_STRATEGY);
    CHECK_INT(cfg.rules[0].label, 1);
    CHECK_STR(cfg.rules[0].metric_name, "strategies.slow");
    CHECK_INT(cfg.rules[0].op, OP_GE);
    CHECK_DBL(cfg.rules[0].threshold, 3, 0);
    CHECK_INT(cfg.rules[0].window_s, 60);
    CHECK_INT(cfg.rules[0].min_samples, 0); /* the default when absent */
    const sw_rule *r = &cfg.rules[1];
    CHECK_INT(r->metric, M_ERROR_RATE);
    CHECK_INT(r->min_samples, 10);
    CHECK_INT(r->has_resolve_threshold, 1);
    CHECK_DBL(r->resolve_threshold, 0.1, 0);
    CHECK_INT(r->keep_firing_for_s, 45);
    CHECK_INT(r->latch, 1);
    CHECK_INT(r->hold_when_no_data, 1);
    CHECK_DBL(r->confidence, 0.95, 0);
    CHECK_INT(r->n_extra_windows, 2);
    CHECK_INT(r->extra_windows_s[0], 3600);
    CHECK_INT(r->extra_windows_s[1], 7200);
    CHECK_INT(cfg.quality_enabled, 1);
    CHECK_INT(cfg.quality_max_watermark_lag_s, 90);
    CHECK_INT(cfg.provenance, 1);
    CHECK_STR(cfg.brokers, "k1:9092,k2:9092");
    CHECK_STR(cfg.input_topic, "in");
    CHECK_STR(cfg.output_topic, "out");
    CHECK_STR(cfg.group, "g");
    CHECK_STR(cfg.dead_letter_topic, "dlq");
    CHECK_INT(cfg.n_kafka_props, 2);
    CHECK_STR(cfg.kafka_props[0].key, "security.protocol");
    CHECK_STR(cfg.kafka_props[0].value, "SASL_SSL");
    CHECK_STR(cfg.kafka_props[1].key, "client.id");
    CHECK_STR(cfg.http_listen, "127.0.0.1:9464");
    /* 7200 is the longest window any rule or status uses. */
    CHECK_INT(config_longest_window_s(&cfg), 7200);
}

static void test_unknown_keys(void)
{
    CHECK_REFUSED("{\"allowed_latenes_s\": 2}", "config: allowed_latenes_s: unknown key");
    CHECK_REFUSED("{\"status\": {\"interval\": 60}}", "config: status.interval: unknown key");
    CHECK_REFUSED("{\"events\": {\"other\": \"x\"}}", "config: events.other: unknown key");
    CHECK_REFUSED("{\"kafka\": {\"topic\": \"x\"}}", "config: kafka.topic: unknown key");
    CHECK_REFUSED("{\"http\": {\"port\": 1}}", "config: http.port: unknown key");
    CHECK_REFUSED("{\"data_quality\": {\"on\": true}}", "config: data_quality.on: unknown key");
    CHECK_REFUSED("{\"rules\": [{\"name\": \"a\", \"metric\": \"requests\", \"op\": \"==\","
                  " \"threshold\": 0, \"window_s\": 60}, {\"name\": \"b\", \"metric\":"
                  " \"requests\", \"op\": \"==\", \"threshold\": 0, \"window_s\": 60,"
                  " \"windw_s\": 3}]}",
                  "config: rules[1].windw_s: unknown key");
    /* A dotted top-level key is not a way into a nested object. */
    CHECK_REFUSED("{\"status.window_s\": 300}", "config: status.window_s: unknown key");
}

static void test_wrong_types(void)
{
    CHECK_REFUSED("{\"rules\": [{\"name\": \"a\", \"metric\": \"requests\", \"op\": \"==\","
                  " \"threshold\": 0, \"window_s\": 60}, {\"name\": \"b\", \"metric\":"
                  " \"requests\", \"op\": \"==\", \"threshold\": 0, \"window_s\": 60},"
                  " {\"name\": \"c\", \"metric\": \"requests\", \"op\": \"==\","
                  " \"threshold\": \"0\", \"window_s\": 60}]}",
                  "config: rules[2].threshold: expected a number, got string");
    CHECK_REFUSED("{\"max_gap_s\": 1.5}",
                  "config: max_gap_s: expected an integer, got real number");
    CHECK_REFUSED("{\"max_gap_s\": \"60\"}", "config: max_gap_s: expected an integer, got string");
    CHECK_REFUSED("{\"status\": []}", "config: status: expected an object, got array");
    CHECK_REFUSED("{\"status\": {\"success_rate_min\": null}}",
                  "config: status.success_rate_min: expected a number, got null");
    CHECK_REFUSED("{\"status\": {\"windows_s\": [300, \"600\", 1800]}}",
                  "config: status.windows_s[1]: expected an integer, got string");
    CHECK_REFUSED("{\"feature\": 3}", "config: feature: expected a string, got integer");
    CHECK_REFUSED("{\"provenance\": 1}", "config: provenance: expected a boolean, got integer");
    CHECK_REFUSED("{\"strategies\": [\"a\", 2]}",
                  "config: strategies[1]: expected a string, got integer");
    CHECK_REFUSED("{\"kafka\": {\"properties\": {\"acks\": 1}}}",
                  "config: kafka.properties.acks: expected a string, got integer");
    CHECK_REFUSED("{\"rules\": {}}", "config: rules: expected an array of rules, got object");
    CHECK_REFUSED("{\"rules\": [3]}", "config: rules[0]: expected an object, got integer");
    CHECK_REFUSED("[]", "config: expected a JSON object at the top level, got array");
    CHECK_REFUSED_HAS("{\"a\": ", "config: line 1");
    CHECK_REFUSED_HAS("{\"feature\": \"a\", \"feature\": \"b\"}", "duplicate");
}

static void test_out_of_range(void)
{
    CHECK_REFUSED("{\"max_message_bytes\": 255}",
                  "config: max_message_bytes: 255 out of range 256..16777216");
    CHECK_INT(load("{\"max_message_bytes\": 256}"), 0);
    CHECK_INT(load("{\"max_message_bytes\": 16777216}"), 0);
    CHECK_REFUSED_HAS("{\"max_message_bytes\": 16777217}", "config: max_message_bytes: ");
    CHECK_REFUSED_HAS("{\"allowed_lateness_s\": -1}",
                      "config: allowed_lateness_s: -1 out of range");
    CHECK_REFUSED_HAS("{\"allowed_lateness_s\": 3601}", "config: allowed_lateness_s: 3601 out of");
    CHECK_REFUSED_HAS("{\"max_gap_s\": 0}", "config: max_gap_s: 0 out of range");
    CHECK_REFUSED_HAS("{\"idle_timeout_s\": 0}", "config: idle_timeout_s: 0 out of range");
    CHECK_REFUSED_HAS("{\"max_future_skew_s\": -5}", "config: max_future_skew_s: -5 out of range");
    CHECK_REFUSED_HAS("{\"status\": {\"interval_s\": 0}}", "config: status.interval_s: 0 out");
    CHECK_REFUSED_HAS("{\"status\": {\"min_outcomes\": -1}}",
                      "config: status.min_outcomes: -1 out of range: must be >= 0");
    CHECK_REFUSED_HAS("{\"status\": {\"success_rate_min\": 1.01}}",
                      "config: status.success_rate_min: 1.01 out of range 0..1");
    CHECK_REFUSED_HAS("{\"status\": {\"error_rate_max\": -0.1}}", "config: status.error_rate_max:");
    CHECK_REFUSED_HAS("{\"status\": {\"latency_mean_max_ms\": -1}}",
                      "config: status.latency_mean_max_ms:");
    CHECK_REFUSED_HAS("{\"status\": {\"windows_s\": [300, 600]}}",
                      "config: status.windows_s: expected exactly 3 windows, got 2");
    CHECK_REFUSED_HAS("{\"status\": {\"windows_s\": [300, 0, 1800]}}",
                      "config: status.windows_s[1]: 0 out of range");
    CHECK_REFUSED_HAS("{\"status\": {\"windows_s\": [300, 300, 1800]}}",
                      "config: status.windows_s[1]: duplicate window");
    CHECK_REFUSED_HAS("{\"status\": {\"windows_s\": [300, 600, 1801]}}",
                      "config: status.windows_s[2]: 1801: windows over 1800 s must be whole");
    CHECK_REFUSED_HAS("{\"rules\": [{\"name\": \"a\", \"metric\": \"requests\", \"op\": \"==\","
                      " \"threshold\": 0, \"window_s\": 86401}]}",
                      "config: rules[0].window_s: 86401 out of range 1..86400");
    CHECK_REFUSED_HAS("{\"rules\": [{\"name\": \"a\", \"metric\": \"requests\", \"op\": \"==\","
                      " \"threshold\": 0, \"window_s\": 0}]}",
                      "config: rules[0].window_s: 0 out of range");
    CHECK_REFUSED_HAS("{\"rules\": [{\"name\": \"a\", \"metric\": \"requests\", \"op\": \"==\","
                      " \"threshold\": 0, \"window_s\": 60, \"min_samples\": -1}]}",
                      "config: rules[0].min_samples: -1 out of range");
    CHECK_REFUSED_HAS("{\"rules\": [{\"name\": \"a\", \"metric\": \"requests\", \"op\": \"=\","
                      " \"threshold\": 0, \"window_s\": 60}]}",
                      "config: rules[0].op: \"=\": expected one of > >= < <= ==");
    CHECK_REFUSED_HAS("{\"http\": {\"listen\": \"9464\"}}", "config: http.listen: \"9464\" is not");
    CHECK_REFUSED_HAS("{\"http\": {\"listen\": \"host:70000\"}}", "config: http.listen:");
    CHECK_INT(load("{\"http\": {\"listen\": \"[::1]:0\"}}"), 0);
    CHECK_REFUSED_HAS("{\"events\": {\"fallback\": \"stream5.time_crunch_preview_succeeded\"}}",
                      "config: events.fallback: same name as events.succeeded");
    CHECK_REFUSED_HAS("{\"events\": {\"declined\": \"\"}}",
                      "config: events.declined: must not be empty");
}

static void test_cross_field(void)
{
    /* Longest window 1800 with the defaults: lateness must stay below it. */
    CHECK_REFUSED("{\"allowed_lateness_s\": 1800}",
                  "config: allowed_lateness_s: 1800 must be less than the longest window "
                  "(1800 s)");
    CHECK_INT(load("{\"allowed_lateness_s\": 1799}"), 0);
    /* Status windows 300, 600, 1800 plus 13 distinct rule windows make 16:
     * allowed. A 14th rule window is the 17th length and is refused. */
    char doc[4096];
    size_t n = (size_t)snprintf(doc, sizeof(doc), "{\"rules\": [");
    for (int i = 0; i < 14; i++)
        n += (size_t)snprintf(doc + n, sizeof(doc) - n,
                              "%s{\"name\": \"r%d\", \"metric\": \"requests\", \"op\": \"==\","
                              " \"threshold\": 0, \"window_s\": %d}",
                              i ? ", " : "", i, 10 + i);
    snprintf(doc + n, sizeof(doc) - n, "]}");
    CHECK_REFUSED(doc, "config: rules[13].window_s: more than 16 distinct window lengths in "
                       "the config");
    /* Same windows repeated do not count twice. */
    n = (size_t)snprintf(doc, sizeof(doc), "{\"rules\": [");
    for (int i = 0; i < 20; i++)
        n += (size_t)snprintf(doc + n, sizeof(doc) - n,
                              "%s{\"name\": \"r%d\", \"metric\": \"requests\", \"op\": \"==\","
                              " \"threshold\": 0, \"window_s\": %d}",
                              i ? ", " : "", i, 10 + i % 13);
    snprintf(doc + n, sizeof(doc) - n, "]}");
    CHECK_INT(load(doc), 0);
    CHECK_INT(cfg.n_rules, 20);
    /* 33 rules: over the cap. */
    n = (size_t)snprintf(doc, sizeof(doc), "{\"rules\": [");
    for (int i = 0; i < 33; i++)
        n += (size_t)snprintf(doc + n, sizeof(doc) - n,
                              "%s{\"name\": \"r%d\", \"metric\": \"requests\", \"op\": \"==\","
                              " \"threshold\": 0, \"window_s\": 60}",
                              i ? ", " : "", i);
    snprintf(doc + n, sizeof(doc) - n, "]}");
    CHECK_REFUSED(doc, "config: rules: more than 32 rules");
    /* Rule options checked against their rule. */
    CHECK_REFUSED_HAS("{\"rules\": [{\"name\": \"a\", \"metric\": \"error_rate\", \"op\": \">\","
                      " \"threshold\": 0.1, \"window_s\": 60, \"resolve_threshold\": 0.2}]}",
                      "config: rules[0].resolve_threshold: must be <= threshold for \">\"");
    CHECK_REFUSED_HAS("{\"rules\": [{\"name\": \"a\", \"metric\": \"success_rate\", \"op\": \"<\","
                      " \"threshold\": 0.9, \"window_s\": 60, \"resolve_threshold\": 0.8}]}",
                      "config: rules[0].resolve_threshold: must be >= threshold for \"<\"");
    CHECK_REFUSED_HAS("{\"rules\": [{\"name\": \"a\", \"metric\": \"requests\", \"op\": \">\","
                      " \"threshold\": 1, \"window_s\": 60, \"confidence\": 0.9}]}",
                      "config: rules[0].confidence: applies to success_rate");
    CHECK_REFUSED_HAS("{\"rules\": [{\"name\": \"a\", \"metric\": \"error_rate\", \"op\": \">\","
                      " \"threshold\": 0.1, \"window_s\": 60, \"confidence\": 1}]}",
                      "config: rules[0].confidence: 1: must be > 0 and < 1");
    CHECK_REFUSED_HAS("{\"rules\": [{\"name\": \"a\", \"metric\": \"error_rate\", \"op\": \">\","
                      " \"threshold\": 0.1, \"window_s\": 60, \"windows_s\": [3601]}]}",
                      "config: rules[0].windows_s[0]: 3601: windows over 1800 s must be whole");
    CHECK_REFUSED_HAS("{\"rules\": [{\"name\": \"a\", \"metric\": \"error_rate\", \"op\": \">\","
                      " \"threshold\": 0.1, \"window_s\": 60,"
                      " \"windows_s\": [60, 120, 180, 240]}]}",
                      "config: rules[0].windows_s: at most 3 windows");
}

static void test_rules(void)
{
    /* A rule list replaces the defaults; an empty one is allowed. */
    CHECK_INT(load("{\"rules\": []}"), 0);
    CHECK_INT(cfg.n_rules, 0);
    CHECK_INT(load("{\"rules\": [{\"name\": \"p99\", \"metric\": \"latency_p99_ms\", \"op\": \">\","
                   " \"threshold\": 8000, \"window_s\": 600, \"min_samples\": 50}]}"),
              0);
    CHECK_INT(cfg.n_rules, 1);
    CHECK_STR(cfg.rules[0].name, "p99");
    CHECK_INT(cfg.rules[0].metric, M_LATENCY_P99_MS);
    CHECK_INT(cfg.rules[0].window_s, 600);
    /* Longest window now 1800 from the status windows still. */
    CHECK_INT(config_longest_window_s(&cfg), 1800);

    CHECK_REFUSED("{\"rules\": [{\"name\": \"a\", \"metric\": \"requests\", \"op\": \"==\","
                  " \"threshold\": 0, \"window_s\": 60}, {\"name\": \"a\", \"metric\":"
                  " \"errors\", \"op\": \">\", \"threshold\": 0, \"window_s\": 60}]}",
                  "config: rules[1].name: duplicate rule name \"a\"");
    CHECK_REFUSED("{\"rules\": [{\"name\": \"a\", \"metric\": \"error_ratio\", \"op\": \">\","
                  " \"threshold\": 0, \"window_s\": 60}]}",
                  "config: rules[0].metric: unknown metric \"error_ratio\"");
    CHECK_REFUSED("{\"rules\": [{\"name\": \"a\", \"metric\": \"strategies\", \"op\": \">\","
                  " \"threshold\": 0, \"window_s\": 60}]}",
                  "config: rules[0].metric: unknown metric \"strategies\"");
    CHECK_REFUSED("{\"rules\": [{\"name\": \"a b\", \"metric\": \"errors\", \"op\": \">\","
                  " \"threshold\": 0, \"window_s\": 60}]}",
                  "config: rules[0].name: \"a b\": use only [A-Za-z0-9_.-]");
    /* What the file says is echoed, but the message stays on one line. */
    CHECK_REFUSED("{\"rules\": [{\"name\": \"a\", \"metric\": \"err\\nors\\t\", \"op\": \">\","
                  " \"threshold\": 0, \"window_s\": 60}]}",
                  "config: rules[0].metric: unknown metric \"err?ors?\"");
    CHECK_REFUSED("{\"sta\\ntus\": 1}", "config: sta?tus: unknown key");
    CHECK_REFUSED("{\"rules\": [{\"name\": \"a\", \"op\": \">\", \"threshold\": 0,"
                  " \"window_s\": 60}]}",
                  "config: rules[0]: missing \"metric\"");

    /* Label metrics: a listed name is its index; "other" is n. */
    CHECK_INT(load("{\"rules\": [{\"name\": \"a\", \"metric\": \"fallback_reasons.internal_error\","
                   " \"op\": \">\", \"threshold\": 5, \"window_s\": 60},"
                   " {\"name\": \"b\", \"metric\": \"fallback_reasons.other\", \"op\": \">\","
                   " \"threshold\": 5, \"window_s\": 60},"
                   " {\"name\": \"c\", \"metric\": \"strategies.user_decline\", \"op\": \">\","
                   " \"threshold\": 5, \"window_s\": 60}]}"),
              0);
    CHECK_INT(cfg.rules[0].metric, M_FALLBACK_REASON);
    CHECK_INT(cfg.rules[0].label, 2);
    CHECK_STR(cfg.rules[0].metric_name, "fallback_reasons.internal_error");
    CHECK_INT(cfg.rules[1].metric, M_FALLBACK_REASON);
    CHECK_INT(cfg.rules[1].label, 9);
    CHECK_INT(cfg.rules[2].metric, M_STRATEGY);
    CHECK_INT(cfg.rules[2].label, 7);
    /* The list in this file replaces the default one, wherever it stands. */
    CHECK_REFUSED("{\"rules\": [{\"name\": \"a\", \"metric\": \"strategies.core_only\","
                  " \"op\": \">\", \"threshold\": 5, \"window_s\": 60}],"
                  " \"strategies\": [\"x\"]}",
                  "config: rules[0].metric: \"core_only\" is not in strategies (nor \"other\")");
    CHECK_REFUSED("{\"strategies\": [\"x\", \"x\"]}",
                  "config: strategies[1]: duplicate name \"x\"");
    CHECK_REFUSED("{\"fallback_reasons\": [\"other\"]}",
                  "config: fallback_reasons[0]: \"other\" is reserved for unlisted names");
    CHECK_REFUSED("{\"fallback_reasons\": [\"\"]}",
                  "config: fallback_reasons[0]: must not be empty");
    char doc[4096];
    size_t n = (size_t)snprintf(doc, sizeof(doc), "{\"strategies\": [");
    for (int i = 0; i < 33; i++)
        n += (size_t)snprintf(doc + n, sizeof(doc) - n, "%s\"s%d\"", i ? "," : "", i);
    snprintf(doc + n, sizeof(doc) - n, "]}");
    CHECK_REFUSED(doc, "config: strategies: more than 32 names");
    CHECK_REFUSED("{\"strategies\": [\"01234567890123456789012345678901234567890123456789"
                  "01234567890123\"]}",
                  "config: strategies[0]: longer than 63 bytes");
}

static void test_string_bounds(void)
{
    char doc[1024], s[300];
    memset(s, 'f', 255);
    s[255] = '\0';
    snprintf(doc, sizeof(doc), "{\"feature\": \"%s\"}", s);
    CHECK_INT(load(doc), 0);
    CHECK_INT(strlen(cfg.feature), 255);
    s[255] = 'f';
    s[256] = '\0';
    snprintf(doc, sizeof(doc), "{\"feature\": \"%s\"}", s);
    CHECK_REFUSED(doc, "config: feature: longer than 255 bytes");
    snprintf(doc, sizeof(doc), "{\"kafka\": {\"brokers\": \"%s\"}}", s);
    CHECK_REFUSED(doc, "config: kafka.brokers: longer than 255 bytes");
    snprintf(doc, sizeof(doc), "{\"kafka\": {\"properties\": {\"a\": \"%s\"}}}", s);
    CHECK_REFUSED(doc, "config: kafka.properties.a: longer than 255 bytes");
    snprintf(doc, sizeof(doc), "{\"rules\": [{\"name\": \"%.64s\", \"metric\": \"errors\","
             " \"op\": \">\", \"threshold\": 0, \"window_s\": 60}]}", s);
    CHECK_REFUSED(doc, "config: rules[0].name: longer than 63 bytes");
    /* jansson refuses an escaped NUL before any key is looked at. */
    CHECK_REFUSED_HAS("{\"feature\": \"a\\u0000b\"}", "config: line 1 column");

    /* A refused document leaves the config exactly as it was. */
    CHECK_INT(load(every_key), 0);
    memcpy(&cfg2, &cfg, sizeof(cfg));
    const char *bad = "{\"feature\": \"changed\", \"max_gap_s\": 5, \"rules\": 1}";
    CHECK_INT(config_load_string(&cfg, bad, strlen(bad), err, sizeof(err)), -1);
    CHECK(memcmp(&cfg, &cfg2, sizeof(cfg)) == 0);
}

static void test_file(void)
{
    char path[] = "/tmp/test_config_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    const char *doc = "{\n  \"status\": {\n    \"window_s\": \"300\"\n  }\n}\n";
    CHECK_INT(write(fd, doc, strlen(doc)), (long long)strlen(doc));
    close(fd);
    config_defaults(&cfg);
    CHECK_INT(config_load_file(&cfg, path, err, sizeof(err)), -1);
    char want[600];
    snprintf(want, sizeof(want), "%s: status.window_s: expected an integer, got string", path);
    CHECK_STR(err, want);
    unlink(path);
    CHECK_INT(config_load_file(&cfg, path, err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "%s: cannot open: No such file or directory", path);
    CHECK_STR(err, want);
}

static void test_env(void)
{
    config_defaults(&cfg);
    setenv("SOAKWATCH_BROKERS", "b1:9092", 1);
    setenv("SOAKWATCH_INPUT_TOPIC", "tin", 1);
    setenv("SOAKWATCH_OUTPUT_TOPIC", "tout", 1);
    setenv("SOAKWATCH_GROUP", "grp", 1);
    setenv("SOAKWATCH_DEAD_LETTER_TOPIC", "dead", 1);
    setenv("SOAKWATCH_CONTROL_TOPIC", "acks", 1);
    setenv("SOAKWATCH_HTTP", "0.0.0.0:9464", 1);
    CHECK_INT(config_apply_env(&cfg, err, sizeof(err)), 0);
    CHECK_STR(cfg.brokers, "b1:9092");
    CHECK_STR(cfg.input_topic, "tin");
    CHECK_STR(cfg.output_topic, "tout");
    CHECK_STR(cfg.group, "grp");
    CHECK_STR(cfg.dead_letter_topic, "dead");
    CHECK_STR(cfg.control_topic, "acks");
    CHECK_STR(cfg.http_listen, "0.0.0.0:9464");
    /* Set but empty: brokers "" is stdin/stdout mode, and wins over the file. */
    setenv("SOAKWATCH_BROKERS", "", 1);
    CHECK_INT(config_apply_env(&cfg, err, sizeof(err)), 0);
    CHECK_STR(cfg.brokers, "");

    char s[300];
    memset(s, 't', 256);
    s[256] = '\0';
    setenv("SOAKWATCH_OUTPUT_TOPIC", s, 1);
    memcpy(&cfg2, &cfg, sizeof(cfg));
    CHECK_INT(config_apply_env(&cfg, err, sizeof(err)), -1);
    CHECK_STR(err, "SOAKWATCH_OUTPUT_TOPIC: longer than 255 bytes");
    CHECK(memcmp(&cfg, &cfg2, sizeof(cfg)) == 0);
    unsetenv("SOAKWATCH_OUTPUT_TOPIC");
    setenv("SOAKWATCH_HTTP", "nope", 1);
    CHECK_INT(config_apply_env(&cfg, err, sizeof(err)), -1);
    CHECK_STR(err, "SOAKWATCH_HTTP: \"nope\" is not ADDR:PORT or [V6ADDR]:PORT");
    const char *vars[] = {"SOAKWATCH_BROKERS", "SOAKWATCH_INPUT_TOPIC", "SOAKWATCH_GROUP",
                          "SOAKWATCH_DEAD_LETTER_TOPIC", "SOAKWATCH_CONTROL_TOPIC",
                          "SOAKWATCH_HTTP"};
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
        unsetenv(vars[i]);
    /* With none set, nothing changes. */
    memcpy(&cfg2, &cfg, sizeof(cfg));
    CHECK_INT(config_apply_env(&cfg, err, sizeof(err)), 0);
    CHECK(memcmp(&cfg, &cfg2, sizeof(cfg)) == 0);
}

static int is_hex16(const char *s)
{
    if (strlen(s) != 16)
        return 0;
    for (int i = 0; i < 16; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

static void test_fingerprint(void)
{
    char a[17], b[17];
    config_defaults(&cfg);
    config_fingerprint(&cfg, a);
    CHECK(is_hex16(a));
    config_defaults(&cfg2);
    config_fingerprint(&cfg2, b);
    CHECK_STR(a, b);
    /* Kafka and HTTP settings do not change it. */
    CHECK_INT(load("{\"kafka\": {\"brokers\": \"x:1\", \"group\": \"other\", \"properties\":"
                   " {\"acks\": \"all\"}}, \"http\": {\"listen\": \"127.0.0.1:1\"}}"),
              0);
    config_fingerprint(&cfg, b);
    CHECK_STR(a, b);
    /* The same rules written out explicitly: the same fingerprint. */
    CHECK_INT(load("{\"rules\": ["
                   "{\"name\": \"error_rate_high\", \"metric\": \"error_rate\", \"op\": \">\","
                   " \"threshold\": 0.10, \"window_s\": 300, \"min_samples\": 20},"
                   "{\"name\": \"success_rate_low\", \"metric\": \"success_rate\", \"op\": \"<\","
                   " \"threshold\": 0.9, \"window_s\": 600, \"min_samples\": 20},"
                   "{\"name\": \"latency_high\", \"metric\": \"latency_mean_ms\", \"op\": \">\","
                   " \"threshold\": 5000, \"window_s\": 300, \"min_samples\": 20},"
                   "{\"name\": \"zero_requests\", \"metric\": \"requests\", \"op\": \"==\","
                   " \"threshold\": 0, \"window_s\": 1800}]}"),
              0);
    config_fingerprint(&cfg, b);
    CHECK_STR(a, b);
    /* A threshold of 0.08 instead of 0.10: a different fingerprint. */
    config_defaults(&cfg);
    cfg.rules[0].threshold = 0.08;
    config_fingerprint(&cfg, b);
    CHECK(strcmp(a, b) != 0);
    /* So do the status targets, the rule order and the label lists. */
    config_defaults(&cfg);
    cfg.status_error_rate_max = 0.06;
    config_fingerprint(&cfg, b);
    CHECK(strcmp(a, b) != 0);
    config_defaults(&cfg);
    sw_rule t = cfg.rules[0];
    cfg.rules[0] = cfg.rules[1];
    cfg.rules[1] = t;
    config_fingerprint(&cfg, b);
    CHECK(strcmp(a, b) != 0);
    CHECK_INT(load("{\"fallback_reasons\": [\"internal_error\"]}"), 0);
    config_fingerprint(&cfg, b);
    CHECK(strcmp(a, b) != 0);
}

/* Dump, reload over the defaults, and compare byte for byte. */
static void check_roundtrip(const char *json)
{
    CHECK_INT(load(json), 0);
    char *doc = NULL;
    CHECK_INT(config_dump_json(&cfg, &doc), 0);
    CHECK(doc != NULL);
    if (doc == NULL)
        return;
    config_defaults(&cfg2);
    int rc = config_load_string(&cfg2, doc, strlen(doc), err, sizeof(err));
    CHECK_INT(rc, 0);
    if (rc != 0)
        fprintf(stderr, "reload: %s\n%s\n", err, doc);
    CHECK(memcmp(&cfg, &cfg2, sizeof(cfg)) == 0);
    char a[17], b[17];
    config_fingerprint(&cfg, a);
    config_fingerprint(&cfg2, b);
    CHECK_STR(a, b);
    free(doc);
}

static void test_dump(void)
{
    check_roundtrip("{}");
    check_roundtrip(every_key);
    check_roundtrip("{\"rules\": [], \"strategies\": [], \"fallback_reasons\": []}");
    check_roundtrip("{\"rules\": [{\"name\": \"t\", \"metric\": \"latency_p95_ms\", \"op\": \"<=\","
                    " \"threshold\": -0.0, \"window_s\": 1, \"min_samples\": 9007199254740993},"
                    " {\"name\": \"u\", \"metric\": \"time_constraint_success_rate\","
                    " \"op\": \"<\","
                    " \"threshold\": 0.1234567890123456789, \"window_s\": 86400}]}");
    /* The document is in the file format, keys in table order. */
    config_defaults(&cfg);
    char *doc = NULL;
    CHECK_INT(config_dump_json(&cfg, &doc), 0);
    CHECK(doc && strncmp(doc, "{\n  \"allowed_lateness_s\": 2,\n", 29) == 0);
    CHECK(doc && strstr(doc, "\"threshold\": 5000,") != NULL);
    CHECK(doc && strstr(doc, "\"threshold\": 0.1,") != NULL);
    CHECK(doc && strstr(doc, "\"metric\": \"requests\"") != NULL);
    free(doc);
}

int main(void)
{
    test_defaults();
    test_every_key_overrides();
    test_unknown_keys();
    test_wrong_types();
    test_out_of_range();
    test_cross_field();
    test_rules();
    test_string_bounds();
    test_file();
    test_env();
    test_fingerprint();
    test_dump();
    CHECK_DONE();
}
