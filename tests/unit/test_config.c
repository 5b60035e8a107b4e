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
    CHECK_INT(cfg.rollback_check, 1);
    CHECK_INT(cfg.rollback_verify_within_s, 300);
    CHECK_STR(cfg.rollback_reason, "feature_not_available");
    CHECK_INT(cfg.rollback_unavailable_min, 1);
    CHECK_INT(cfg.rollback_quiet_s, 60);
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
    " \"rollback\": {\"check\": true, \"verify_within_s\": 120, \"reason\": \"boom\","
    "   \"unavailable_min\": 3, \"quiet_s\": 30},"
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
    CHECK_INT(cfg.rollback_check, 1);
    CHECK_INT(cfg.rollback_verify_within_s, 120);
    CHECK_STR(cfg.rollback_reason, "boom");
    CHECK_INT(cfg.rollback_unavailable_min, 3);
    CHECK_INT(cfg.rollback_quiet_s, 30);
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
    /* The rollback check (docs/semantics.md section 10). */
    /* longer than every window: a restart rebuilds that far back */
    CHECK_INT(load("{\"rollback\": {\"verify_within_s\": 3600}}"), 0);
    CHECK_INT(load("{\"rules\": [{\"name\": \"a\", \"metric\": \"error_rate\", \"op\": \">\","
                   " \"threshold\": 0.1, \"window_s\": 60}],"
                   " \"status\": {\"window_s\": 60, \"windows_s\": [60, 90, 120]}}"), 0);
    CHECK_REFUSED("{\"rollback\": {\"verify_within_s\": 0}}",
                  "config: rollback.verify_within_s: 0 out of range 1..86400");
    CHECK_REFUSED("{\"rollback\": {\"quiet_s\": 301}}",
                  "config: rollback.quiet_s: 301 must be at most rollback.verify_within_s (300)");
    CHECK_INT(load("{\"rollback\": {\"quiet_s\": 300}}"), 0);
    CHECK_REFUSED("{\"rollback\": {\"unavailable_min\": 0}}",
                  "config: rollback.unavailable_min: 0 out of range: must be >= 1");
    CHECK_REFUSED("{\"rollback\": {\"reason\": \"nope\"}}",
                  "config: rollback.reason: \"nope\" is not one of fallback_reasons (list it "
                  "there, or set rollback.check to false)");
    CHECK_REFUSED("{\"fallback_reasons\": [\"boom\"]}",
                  "config: rollback.reason: \"feature_not_available\" is not one of "
                  "fallback_reasons (list it there, or set rollback.check to false)");
    CHECK_INT(load("{\"fallback_reasons\": [\"boom\"], \"rollback\": {\"check\": false}}"), 0);
    CHECK_REFUSED("{\"rollback\": {\"check\": 1}}",
                  "config: rollback.check: expected a boolean, got integer");
    CHECK_REFUSED("{\"rollback\": {\"when\": 1}}", "config: rollback.when: unknown key");
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
    CHECK_INT(load("{\"fallback_reasons\": [\"internal_error\"],"
                   " \"rollback\": {\"reason\": \"internal_error\"}}"), 0);
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
    check_roundtrip("{\"rules\": [], \"strategies\": [], \"fallback_reasons\": [],"
                    " \"rollback\": {\"check\": false}}");
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


/* ---- the input section (docs/semantics.md section 9) -------------------- */

/* Load {"input": INPUT}; returns the loader's result. */
static int load_input(const char *input)
{
    static char doc[16384];
    snprintf(doc, sizeof(doc), "{\"input\": %s}", input);
    return load(doc);
}

#define CHECK_INPUT_REFUSED(input, msg)                                          \
    do {                                                                         \
        CHECK_INT(load_input(input), -1);                                        \
        CHECK_STR(err, msg);                                                     \
    } while (0)

#define CHECK_INPUT_REFUSED_HAS(input, needle)                                   \
    do {                                                                         \
        CHECK_INT(load_input(input), -1);                                        \
        if (strstr(err, needle) == NULL) {                                       \
            fprintf(stderr, "%s:%d: error \"%s\" lacks \"%s\"\n", __FILE__,      \
                    __LINE__, err, needle);                                      \
            check_failures++;                                                    \
        }                                                                        \
    } while (0)

#define CHECK_INPUT_OK(input)                                                    \
    do {                                                                         \
        if (load_input(input) != 0) {                                            \
            fprintf(stderr, "%s:%d: input %s refused: %s\n", __FILE__, __LINE__, \
                    input, err);                                                 \
            check_failures++;                                                    \
        }                                                                        \
    } while (0)

static void test_input_errors(void)
{
    /* unknown keys, at each level */
    CHECK_INPUT_REFUSED("{\"fieldz\": {}}", "config: input.fieldz: unknown key");
    CHECK_INPUT_REFUSED("{\"envelope\": {\"type\": \"none\", \"path\": \"m\"}}",
                        "config: input.envelope.path: unknown key");
    CHECK_INPUT_REFUSED("{\"fields\": {\"durationMs\": \"d\"}}",
                        "config: input.fields.durationMs: unknown key");
    CHECK_INPUT_REFUSED("{\"fields\": {\"event\": {\"path\": \"msg\", \"suffix\": \"x\"}}}",
                        "config: input.fields.event.suffix: unknown key");
    CHECK_INPUT_REFUSED("{\"filters\": [{\"field\": \"s\", \"equals\": [\"a\"]},"
                        " {\"field\": \"s\", \"equals\": [\"a\"], \"not\": true}]}",
                        "config: input.filters[1].not: unknown key");
    CHECK_INPUT_REFUSED("{\"sample_weight\": {\"field\": \"w\", \"max\": 3}}",
                        "config: input.sample_weight.max: unknown key");
    CHECK_INPUT_REFUSED("{\"correlate\": {\"key\": [\"k\"], \"max_latency\": 3}}",
                        "config: input.correlate.max_latency: unknown key");

    /* wrong types */
    CHECK_INPUT_REFUSED("[]", "config: input: expected an object, got array");
    CHECK_INPUT_REFUSED("null", "config: input: expected an object, got null");
    CHECK_INPUT_REFUSED("{\"envelope\": \"field\"}",
                        "config: input.envelope: expected an object, got string");
    CHECK_INPUT_REFUSED("{\"envelope\": {}}",
                        "config: input.envelope.type: missing (none, field, syslog or otlp)");
    CHECK_INPUT_REFUSED("{\"envelope\": {\"type\": 1}}",
                        "config: input.envelope.type: expected a string, got integer");
    CHECK_INPUT_REFUSED("{\"envelope\": {\"type\": \"gelf\"}}",
                        "config: input.envelope.type: \"gelf\" is not none, field, syslog or otlp");
    CHECK_INPUT_REFUSED("{\"envelope\": {\"type\": \"syslog\", \"field\": \"m\"}}",
                        "config: input.envelope.field: only with type \"field\"");
    CHECK_INPUT_REFUSED("{\"envelope\": {\"type\": \"field\", \"field\": 3}}",
                        "config: input.envelope.field: expected a string, got integer");
    CHECK_INPUT_REFUSED("{\"fields\": []}", "config: input.fields: expected an object, got array");
    CHECK_INPUT_REFUSED("{\"fields\": {\"time\": 3}}",
                        "config: input.fields.time: expected a path, a list of paths or null, "
                        "got integer");
    CHECK_INPUT_REFUSED("{\"fields\": {\"status\": true}}",
                        "config: input.fields.status: expected a path, a list of paths or null, "
                        "got boolean");
    CHECK_INPUT_REFUSED("{\"fields\": {\"reason\": [\"r\", 3]}}",
                        "config: input.fields.reason[1]: expected a string, got integer");
    CHECK_INPUT_REFUSED("{\"fields\": {\"time\": {\"path\": \"t\"}}}",
                        "config: input.fields.time: only input.fields.event takes an object "
                        "(prefix, token)");
    CHECK_INPUT_REFUSED("{\"fields\": {\"event\": {\"prefix\": \"e=\"}}}",
                        "config: input.fields.event.path: missing");
    /* a null path inside the object form is refused (the event name cannot
     * be null), and the message must not offer null as a way out */
    CHECK_INPUT_REFUSED_HAS("{\"fields\": {\"event\": {\"path\": null, \"prefix\": \"e=\"}}}",
                            "config: input.fields.event.path: ");
    if (strstr(err, "or null, got null") != NULL) {
        fprintf(stderr, "%s:%d: the error offers what it refuses: %s\n", __FILE__, __LINE__, err);
        check_failures++;
    }
    CHECK_INPUT_REFUSED("{\"fields\": {\"event\": {\"path\": \"msg\", \"prefix\": 1}}}",
                        "config: input.fields.event.prefix: expected a string, got integer");
    CHECK_INPUT_REFUSED("{\"fields\": {\"event\": {\"path\": \"msg\", \"prefix\": \"\"}}}",
                        "config: input.fields.event.prefix: must not be empty");
    CHECK_INPUT_REFUSED("{\"duration_required\": 1}",
                        "config: input.duration_required: expected a boolean, got integer");
    CHECK_INPUT_REFUSED("{\"error_reasons\": \"internal_error\"}",
                        "config: input.error_reasons: expected an array of at most 8 strings");
    CHECK_INPUT_REFUSED("{\"error_reasons\": [\"a\", null]}",
                        "config: input.error_reasons[1]: expected a string, got null");
    CHECK_INPUT_REFUSED("{\"filters\": {}}", "config: input.filters: expected an array, got object");
    CHECK_INPUT_REFUSED("{\"filters\": [\"s\"]}",
                        "config: input.filters[0]: expected an object, got string");
    CHECK_INPUT_REFUSED("{\"filters\": [{\"events\": \"requested\", \"field\": \"s\","
                        " \"equals\": [\"a\"]}]}",
                        "config: input.filters[0].events: expected a non-empty array of event kinds");
    CHECK_INPUT_REFUSED("{\"filters\": [{\"events\": [], \"field\": \"s\", \"equals\": [\"a\"]}]}",
                        "config: input.filters[0].events: expected a non-empty array of event kinds");
    CHECK_INPUT_REFUSED("{\"filters\": [{\"events\": [\"requested\", \"rejected\"],"
                        " \"field\": \"s\", \"equals\": [\"a\"]}]}",
                        "config: input.filters[0].events: entry 1 is not requested, succeeded, "
                        "fallback or declined");
    CHECK_INPUT_REFUSED("{\"filters\": [{\"equals\": [\"a\"]}]}",
                        "config: input.filters[0].field: missing");
    CHECK_INPUT_REFUSED("{\"filters\": [{\"field\": \"s\"}]}",
                        "config: input.filters[0].equals: missing");
    CHECK_INPUT_REFUSED("{\"filters\": [{\"field\": \"s\", \"equals\": \"a\"}]}",
                        "config: input.filters[0].equals: expected an array of 1 to 8 strings");
    CHECK_INPUT_REFUSED("{\"filters\": [{\"field\": \"s\", \"equals\": []}]}",
                        "config: input.filters[0].equals: expected an array of 1 to 8 strings");
    CHECK_INPUT_REFUSED("{\"filters\": [{\"field\": \"s\", \"equals\": [\"a\", 2]}]}",
                        "config: input.filters[0].equals[1]: expected a string, got integer");
    CHECK_INPUT_REFUSED("{\"sample_weight\": \"10\"}",
                        "config: input.sample_weight: expected an integer 1..1000 or an object "
                        "{\"field\", \"default\"}, got string");
    CHECK_INPUT_REFUSED("{\"sample_weight\": 1.5}",
                        "config: input.sample_weight: expected an integer 1..1000 or an object "
                        "{\"field\", \"default\"}, got real number");
    CHECK_INPUT_REFUSED("{\"sample_weight\": {\"default\": 3}}",
                        "config: input.sample_weight.field: missing");
    CHECK_INPUT_REFUSED("{\"sample_weight\": {\"field\": \"w\", \"default\": \"3\"}}",
                        "config: input.sample_weight.default: expected an integer, got string");
    CHECK_INPUT_REFUSED("{\"correlate\": [\"k\"]}",
                        "config: input.correlate: expected an object, got array");
    CHECK_INPUT_REFUSED("{\"correlate\": {}}", "config: input.correlate.key: missing");
    CHECK_INPUT_REFUSED("{\"correlate\": {\"key\": \"k\"}}",
                        "config: input.correlate.key: expected an array of 1 to 4 paths");
    CHECK_INPUT_REFUSED("{\"correlate\": {\"key\": [\"k\"], \"max_latency_ms\": 1.5}}",
                        "config: input.correlate.max_latency_ms: expected an integer, got real "
                        "number");

    /* prefix and token together; a token key with '=' or a space */
    CHECK_INPUT_REFUSED("{\"fields\": {\"event\": {\"path\": \"msg\", \"prefix\": \"event=\","
                        " \"token\": \"event\"}}}",
                        "config: input.fields.event: prefix and token exclude each other");
    CHECK_INPUT_REFUSED("{\"fields\": {\"event\": {\"path\": \"msg\", \"token\": \"event=\"}}}",
                        "config: input.fields.event.token: a token key holds no space and no '='");
    CHECK_INPUT_REFUSED("{\"fields\": {\"event\": {\"path\": \"msg\", \"token\": \"ev ent\"}}}",
                        "config: input.fields.event.token: a token key holds no space and no '='");
    CHECK_INPUT_OK("{\"fields\": {\"event\": {\"path\": \"msg\", \"token\": \"ev.ent-1\"}}}");

    /* bad paths, named by their key */
    CHECK_INPUT_REFUSED("{\"fields\": {\"time\": \"a..b\"}}",
                        "config: input.fields.time: \"a..b\" is not a path: an empty key (two "
                        "dots, or a leading dot or index)");
    CHECK_INPUT_REFUSED_HAS("{\"fields\": {\"duration\": [\"d\", \"p.\"]}}",
                            "config: input.fields.duration[1]: \"p.\" is not a path: a trailing dot");
    CHECK_INPUT_REFUSED_HAS("{\"fields\": {\"event\": {\"path\": [\"msg\", \"a[x]\"],"
                            " \"prefix\": \"e=\"}}}",
                            "config: input.fields.event.path[1]: \"a[x]\" is not a path");
    CHECK_INPUT_REFUSED_HAS("{\"envelope\": {\"type\": \"field\", \"field\": \"a\\\\b\"}}",
                            "config: input.envelope.field: \"a\\b\" is not a path");
    CHECK_INPUT_REFUSED_HAS("{\"filters\": [{\"field\": \".s\", \"equals\": [\"a\"]}]}",
                            "config: input.filters[0].field: \".s\" is not a path");
    CHECK_INPUT_REFUSED_HAS("{\"sample_weight\": {\"field\": \"w[]\"}}",
                            "config: input.sample_weight.field: \"w[]\" is not a path");
    CHECK_INPUT_REFUSED_HAS("{\"correlate\": {\"key\": [\"a\", \"b\", \"c[0]d\"]}}",
                            "config: input.correlate.key[2]: \"c[0]d\" is not a path");
    CHECK_INPUT_REFUSED("{\"fields\": {\"time\": \"\"}}",
                        "config: input.fields.time: must not be empty");
    /* jansson refuses an escaped NUL before the key is looked at */
    CHECK_INPUT_REFUSED_HAS("{\"fields\": {\"time\": \"a\\u0000b\"}}", "config: line 1 column");
    {
        char p[200], doc[400];
        memset(p, 'p', 127);
        p[127] = '\0';
        snprintf(doc, sizeof(doc), "{\"fields\": {\"status\": \"%s\"}}", p);
        CHECK_INPUT_OK(doc);
        CHECK_STR(cfg.input.fields[SW_IN_STATUS].paths[0], p);
        strcat(p, "p");
        snprintf(doc, sizeof(doc), "{\"fields\": {\"status\": \"%s\"}}", p);
        CHECK_INPUT_REFUSED(doc, "config: input.fields.status: longer than 127 bytes");
        /* 17 steps */
        snprintf(doc, sizeof(doc), "{\"fields\": {\"status\": \"a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q\"}}");
        CHECK_INPUT_REFUSED_HAS(doc, "config: input.fields.status: ");
        CHECK_INPUT_REFUSED_HAS(doc, "more than 16 steps");
    }

    /* too many paths, filters, values, keys */
    CHECK_INPUT_REFUSED("{\"fields\": {\"time\": [\"a\", \"b\", \"c\", \"d\", \"e\"]}}",
                        "config: input.fields.time: a list of 1 to 4 paths, got 5");
    CHECK_INPUT_REFUSED("{\"fields\": {\"time\": []}}",
                        "config: input.fields.time: a list of 1 to 4 paths, got 0");
    CHECK_INPUT_OK("{\"fields\": {\"time\": [\"a\", \"b\", \"c\", \"d\"]}}");
    CHECK_INT(cfg.input.fields[SW_IN_TIME].n_paths, 4);
    CHECK_STR(cfg.input.fields[SW_IN_TIME].paths[3], "d");
    {
        char doc[4096] = "{\"filters\": [";
        for (int i = 0; i < 9; i++)
            strcat(doc, i ? ", {\"field\": \"s\", \"equals\": [\"a\"]}"
                          : "{\"field\": \"s\", \"equals\": [\"a\"]}");
        strcat(doc, "]}");
        CHECK_INPUT_REFUSED(doc, "config: input.filters: more than 8 filters");
        /* eight are fine */
        char *last = strrchr(doc, '{');
        strcpy(last - 2, "]}");
        CHECK_INPUT_OK(doc);
        CHECK_INT(cfg.input.n_filters, 8);
        CHECK_INT(cfg.input.filters[7].kinds, 0xf);
    }
    CHECK_INPUT_REFUSED("{\"filters\": [{\"field\": \"s\", \"equals\": [\"1\", \"2\", \"3\", \"4\","
                        " \"5\", \"6\", \"7\", \"8\", \"9\"]}]}",
                        "config: input.filters[0].equals: expected an array of 1 to 8 strings");
    CHECK_INPUT_OK("{\"filters\": [{\"field\": \"s\", \"equals\": [\"1\", \"2\", \"3\", \"4\","
                   " \"5\", \"6\", \"7\", \"8\"]}]}");
    CHECK_INT(cfg.input.filters[0].n_values, 8);
    CHECK_STR(cfg.input.filters[0].values[7], "8");
    CHECK_INPUT_REFUSED("{\"correlate\": {\"key\": [\"a\", \"b\", \"c\", \"d\", \"e\"]}}",
                        "config: input.correlate.key: expected an array of 1 to 4 paths");
    CHECK_INPUT_REFUSED("{\"correlate\": {\"key\": []}}",
                        "config: input.correlate.key: expected an array of 1 to 4 paths");
    CHECK_INPUT_OK("{\"correlate\": {\"key\": [\"a\", \"b\", \"c\", \"d\"]}}");
    CHECK_INT(cfg.input.n_key_paths, 4);
    CHECK_INPUT_REFUSED("{\"error_reasons\": [\"1\", \"2\", \"3\", \"4\", \"5\", \"6\", \"7\","
                        " \"8\", \"9\"]}",
                        "config: input.error_reasons: expected an array of at most 8 strings");

    /* weight out of range */
    CHECK_INPUT_REFUSED("{\"sample_weight\": 0}",
                        "config: input.sample_weight: 0 out of range 1..1000");
    CHECK_INPUT_REFUSED("{\"sample_weight\": 1001}",
                        "config: input.sample_weight: 1001 out of range 1..1000");
    CHECK_INPUT_OK("{\"sample_weight\": 1000}");
    CHECK_INT(cfg.input.weight, 1000);
    CHECK_INPUT_REFUSED("{\"sample_weight\": {\"field\": \"w\", \"default\": 0}}",
                        "config: input.sample_weight.default: 0 out of range 1..1000");
    CHECK_INPUT_REFUSED("{\"sample_weight\": {\"field\": \"w\", \"default\": 1001}}",
                        "config: input.sample_weight.default: 1001 out of range 1..1000");

    /* correlation bounds */
    CHECK_INPUT_REFUSED("{\"correlate\": {\"key\": [\"k\"], \"table_size\": 15}}",
                        "config: input.correlate.table_size: 15 out of range 16..16777216");
    CHECK_INPUT_REFUSED("{\"correlate\": {\"key\": [\"k\"], \"table_size\": 16777217}}",
                        "config: input.correlate.table_size: 16777217 out of range 16..16777216");
    CHECK_INPUT_OK("{\"correlate\": {\"key\": [\"k\"], \"table_size\": 16}}");
    CHECK_INT(cfg.input.table_size, 16);
    CHECK_INPUT_OK("{\"correlate\": {\"key\": [\"k\"], \"table_size\": 16777216}}");
    CHECK_INT(cfg.input.table_size, 16777216);
    CHECK_INPUT_REFUSED("{\"correlate\": {\"key\": [\"k\"], \"max_latency_ms\": 0}}",
                        "config: input.correlate.max_latency_ms: 0 out of range 1..3600000");
    CHECK_INPUT_REFUSED("{\"correlate\": {\"key\": [\"k\"], \"max_latency_ms\": 3600001}}",
                        "config: input.correlate.max_latency_ms: 3600001 out of range 1..3600000");
    CHECK_INPUT_OK("{\"correlate\": {\"key\": [\"k\"], \"max_latency_ms\": 3600000}}");
    CHECK_INT(cfg.input.max_latency_ms, 3600000);
    CHECK_INPUT_OK("{\"correlate\": {\"key\": [\"k\"], \"max_latency_ms\": 1}}");
    CHECK_INT(cfg.input.max_latency_ms, 1);

    /* null where it cannot be */
    CHECK_INPUT_REFUSED("{\"fields\": {\"event\": null}}",
                        "config: input.fields.event: the event name cannot be null");
    CHECK_INPUT_REFUSED("{\"fields\": {\"time\": null}}",
                        "config: input.fields.time: the event time cannot be null");
    CHECK_INPUT_REFUSED("{\"fields\": {\"duration\": null}}",
                        "config: input.duration_required: true, but input.fields.duration is "
                        "null: no outcome could be accepted");
    CHECK_INPUT_REFUSED("{\"fields\": {\"duration\": null}, \"duration_required\": true,"
                        " \"correlate\": {\"key\": [\"k\"]}}",
                        "config: input.duration_required: true, but input.fields.duration is "
                        "null: no outcome could be accepted");
    CHECK_INPUT_OK("{\"fields\": {\"duration\": null}, \"duration_required\": false}");
    CHECK_INT(cfg.input.fields[SW_IN_DURATION].n_paths, 0);
    CHECK_INT(cfg.input.duration_required, 0);
    CHECK_INPUT_OK("{\"fields\": {\"status\": null, \"reason\": null, \"strategy\": null,"
                   " \"time_constraint\": null}}");

    /* A refused input section leaves the config as it was. */
    CHECK_INT(load("{\"input\": {\"sample_weight\": 5}}"), 0);
    memcpy(&cfg2, &cfg, sizeof(cfg));
    const char *bad = "{\"input\": {\"sample_weight\": 7, \"fields\": {\"time\": null}}}";
    CHECK_INT(config_load_string(&cfg, bad, strlen(bad), err, sizeof(err)), -1);
    CHECK(memcmp(&cfg, &cfg2, sizeof(cfg)) == 0);
}

static void test_input_values(void)
{
    /* duration_required: true by default, false when correlate is set, and
     * as written when written */
    CHECK_INPUT_OK("{}");
    CHECK_INT(cfg.input.duration_required, 1);
    CHECK_INT(cfg.input.correlate, 0);
    CHECK(config_input_is_flat(&cfg.input));
    CHECK_INPUT_OK("{\"correlate\": {\"key\": [\"planId\", \"userId\"]}}");
    CHECK_INT(cfg.input.duration_required, 0);
    CHECK_INT(cfg.input.correlate, 1);
    CHECK_INT(cfg.input.n_key_paths, 2);
    CHECK_STR(cfg.input.key_paths[0], "planId");
    CHECK_STR(cfg.input.key_paths[1], "userId");
    CHECK_INT(cfg.input.max_latency_ms, 60000);
    CHECK_INT(cfg.input.table_size, 65536);
    CHECK(!config_input_is_flat(&cfg.input));
    CHECK_INPUT_OK("{\"correlate\": {\"key\": [\"k\"]}, \"duration_required\": true}");
    CHECK_INT(cfg.input.duration_required, 1);
    CHECK_INPUT_OK("{\"duration_required\": true, \"correlate\": {\"key\": [\"k\"]}}");
    CHECK_INT(cfg.input.duration_required, 1);
    CHECK_INPUT_OK("{\"duration_required\": false}");
    CHECK_INT(cfg.input.duration_required, 0);
    CHECK_INT(cfg.input.correlate, 0);

    /* every key read where it says */
    CHECK_INPUT_OK("{\"envelope\": {\"type\": \"field\", \"field\": \"log.line\"},"
                   " \"fields\": {\"event\": {\"path\": [\"msg\", \"m\"], \"token\": \"event\"},"
                   "  \"time\": [\"ts\", \"context.timestamp\"], \"duration\": \"a[2].d\","
                   "  \"status\": \"http\\\\.status\", \"reason\": null},"
                   " \"error_reasons\": [\"preview_failed\"],"
                   " \"filters\": [{\"events\": [\"requested\", \"declined\"], \"field\": \"src\","
                   "   \"equals\": [\"pe\", \"gw\"]}],"
                   " \"sample_weight\": {\"field\": \"rate\", \"default\": 10},"
                   " \"correlate\": {\"key\": [\"p\"], \"max_latency_ms\": 5000, \"table_size\": 100}}");
    const sw_input *in = &cfg.input;
    CHECK_INT(in->envelope, SW_ENV_FIELD);
    CHECK_STR(in->envelope_field, "log.line");
    CHECK_INT(in->fields[SW_IN_EVENT].n_paths, 2);
    CHECK_STR(in->fields[SW_IN_EVENT].paths[1], "m");
    CHECK_INT(in->fields[SW_IN_EVENT].extract, SW_EXTRACT_TOKEN);
    CHECK_STR(in->fields[SW_IN_EVENT].affix, "event");
    CHECK_INT(in->fields[SW_IN_TIME].n_paths, 2);
    CHECK_STR(in->fields[SW_IN_TIME].paths[1], "context.timestamp");
    CHECK_STR(in->fields[SW_IN_DURATION].paths[0], "a[2].d");
    CHECK_STR(in->fields[SW_IN_STATUS].paths[0], "http\\.status");
    CHECK_INT(in->fields[SW_IN_REASON].n_paths, 0);
    CHECK_INT(in->fields[SW_IN_STRATEGY].n_paths, 1);
    CHECK_STR(in->fields[SW_IN_STRATEGY].paths[0], "compressionStrategy");
    CHECK_STR(in->fields[SW_IN_TC].paths[0], "meetsTimeConstraint");
    CHECK_INT(in->n_error_reasons, 1);
    CHECK_STR(in->error_reasons[0], "preview_failed");
    CHECK_INT(in->n_filters, 1);
    CHECK_INT(in->filters[0].kinds, (1 << 0) | (1 << 3)); /* requested, declined */
    CHECK_STR(in->filters[0].path, "src");
    CHECK_INT(in->filters[0].n_values, 2);
    CHECK_STR(in->filters[0].values[1], "gw");
    CHECK_STR(in->weight_path, "rate");
    CHECK_INT(in->weight, 10);
    CHECK_INT(in->max_latency_ms, 5000);
    CHECK_INT(in->table_size, 100);
    CHECK_INT(in->duration_required, 0);
    CHECK_INPUT_OK("{\"envelope\": {\"type\": \"field\"}}");
    CHECK_STR(cfg.input.envelope_field, "message");
    CHECK_INPUT_OK("{\"envelope\": {\"type\": \"otlp\"}}");
    CHECK_INT(cfg.input.envelope, SW_ENV_OTLP);
    CHECK_INPUT_OK("{\"sample_weight\": {\"field\": \"w\"}}");
    CHECK_INT(cfg.input.weight, 1);
    CHECK_INPUT_OK("{\"error_reasons\": []}");
    CHECK_INT(cfg.input.n_error_reasons, 0);
}

/* The default input written out in full. */
static const char default_input[] =
    "{\"input\": {\"envelope\": {\"type\": \"none\"},"
    " \"fields\": {\"event\": \"event\", \"time\": \"ts\", \"duration\": \"durationMs\","
    "  \"status\": \"status\", \"reason\": \"reason\", \"strategy\": \"compressionStrategy\","
    "  \"time_constraint\": \"meetsTimeConstraint\"},"
    " \"duration_required\": true, \"error_reasons\": [\"internal_error\"], \"filters\": [],"
    " \"sample_weight\": 1}}";

/* Mappings that differ from the flat contract and from each other. */
static const char *const input_variants[] = {
    "{\"envelope\": {\"type\": \"field\"}}",
    "{\"envelope\": {\"type\": \"field\", \"field\": \"msg\"}}",
    "{\"envelope\": {\"type\": \"syslog\"}}",
    "{\"envelope\": {\"type\": \"otlp\"}}",
    "{\"fields\": {\"event\": \"name\"}}",
    "{\"fields\": {\"event\": [\"event\", \"name\"]}}",
    "{\"fields\": {\"event\": {\"path\": \"event\", \"prefix\": \"e=\"}}}",
    "{\"fields\": {\"event\": {\"path\": \"event\", \"token\": \"e\"}}}",
    "{\"fields\": {\"event\": {\"path\": \"event\", \"token\": \"f\"}}}",
    "{\"fields\": {\"time\": \"t\"}}",
    "{\"fields\": {\"duration\": \"d\"}}",
    "{\"fields\": {\"status\": null}}",
    "{\"fields\": {\"reason\": \"r\"}}",
    "{\"fields\": {\"strategy\": [\"compressionStrategy\", \"s\"]}}",
    "{\"fields\": {\"time_constraint\": \"a\\\\.b\"}}",
    "{\"duration_required\": false}",
    "{\"error_reasons\": []}",
    "{\"error_reasons\": [\"internal_error\", \"preview_failed\"]}",
    "{\"error_reasons\": [\"preview_failed\"]}",
    "{\"filters\": [{\"field\": \"s\", \"equals\": [\"a\"]}]}",
    "{\"filters\": [{\"field\": \"s\", \"equals\": [\"b\"]}]}",
    "{\"filters\": [{\"events\": [\"requested\"], \"field\": \"s\", \"equals\": [\"a\"]}]}",
    "{\"sample_weight\": 2}",
    "{\"sample_weight\": {\"field\": \"w\"}}",
    "{\"sample_weight\": {\"field\": \"w\", \"default\": 2}}",
    "{\"correlate\": {\"key\": [\"k\"]}}",
    "{\"correlate\": {\"key\": [\"k\"]}, \"duration_required\": true}",
    "{\"correlate\": {\"key\": [\"k\", \"l\"]}}",
    "{\"correlate\": {\"key\": [\"k\"], \"max_latency_ms\": 1000}}",
    "{\"correlate\": {\"key\": [\"k\"], \"table_size\": 1000}}",
};
#define N_VARIANTS (sizeof(input_variants) / sizeof(input_variants[0]))

static void test_input_fingerprint(void)
{
    char flat[17], b[17];
    CHECK_INT(load("{}"), 0);
    config_fingerprint(&cfg, flat);
    /* the default input written out in full: the same config, the same
     * fingerprint */
    CHECK_INT(load(default_input), 0);
    CHECK(config_input_is_flat(&cfg.input));
    config_fingerprint(&cfg, b);
    CHECK_STR(b, flat);
    config_defaults(&cfg2);
    CHECK(memcmp(&cfg.input, &cfg2.input, sizeof(cfg.input)) == 0);
    CHECK(memcmp(&cfg, &cfg2, sizeof(cfg)) == 0);
    /* so are an empty input section and the defaults in other words */
    CHECK_INT(load("{\"input\": {}}"), 0);
    config_fingerprint(&cfg, b);
    CHECK_STR(b, flat);
    CHECK_INT(load("{\"input\": {\"fields\": {\"time\": [\"ts\"]}, \"sample_weight\": 1,"
                   " \"envelope\": {\"type\": \"none\"}}}"), 0);
    config_fingerprint(&cfg, b);
    CHECK_STR(b, flat);

    /* any change in the input: another fingerprint, and each its own */
    static char prints[N_VARIANTS][17];
    for (size_t i = 0; i < N_VARIANTS; i++) {
        if (load_input(input_variants[i]) != 0) {
            fprintf(stderr, "%s:%d: variant %zu refused: %s\n", __FILE__, __LINE__, i, err);
            check_failures++;
            continue;
        }
        config_fingerprint(&cfg, prints[i]);
        if (strcmp(prints[i], flat) == 0) {
            fprintf(stderr, "%s:%d: variant %s keeps the flat fingerprint %s\n", __FILE__,
                    __LINE__, input_variants[i], flat);
            check_failures++;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(prints[i], prints[j]) == 0) {
                fprintf(stderr, "%s:%d: variants %s and %s share fingerprint %s\n", __FILE__,
                        __LINE__, input_variants[j], input_variants[i], prints[i]);
                check_failures++;
            }
    }
    /* the same mapping written two ways: one fingerprint */
    CHECK_INT(load_input("{\"sample_weight\": {\"field\": \"w\", \"default\": 1}}"), 0);
    config_fingerprint(&cfg, b);
    CHECK_STR(b, prints[23]);
    CHECK_INT(load_input("{\"correlate\": {\"key\": [\"k\"], \"max_latency_ms\": 60000,"
                         " \"table_size\": 65536}, \"duration_required\": false}"), 0);
    config_fingerprint(&cfg, b);
    CHECK_STR(b, prints[25]);
    CHECK_INT(load_input("{\"filters\": [{\"events\": [\"declined\", \"fallback\", \"succeeded\","
                         " \"requested\"], \"field\": \"s\", \"equals\": [\"a\"]}]}"), 0);
    config_fingerprint(&cfg, b);
    CHECK_STR(b, prints[19]);
    /* a field mapped after another mapping was loaded: no trace of it */
    CHECK_INT(load_input("{\"fields\": {\"event\": {\"path\": [\"a\", \"b\", \"c\"],"
                         " \"prefix\": \"x\"}}}"), 0);
    CHECK_INT(load_input("{\"fields\": {\"event\": \"name\"}}"), 0);
    config_fingerprint(&cfg, b);
    CHECK_STR(b, prints[4]);
}

/* Dump, reload, and compare the input sections byte for byte. */
static void check_input_roundtrip(const char *input)
{
    if (load_input(input) != 0) {
        fprintf(stderr, "%s:%d: input %s refused: %s\n", __FILE__, __LINE__, input, err);
        check_failures++;
        return;
    }
    char *doc = NULL;
    CHECK_INT(config_dump_json(&cfg, &doc), 0);
    if (doc == NULL) {
        CHECK(doc != NULL);
        return;
    }
    config_defaults(&cfg2);
    int rc = config_load_string(&cfg2, doc, strlen(doc), err, sizeof(err));
    CHECK_INT(rc, 0);
    if (rc != 0)
        fprintf(stderr, "reload: %s\n%s\n", err, doc);
    if (memcmp(&cfg.input, &cfg2.input, sizeof(cfg.input)) != 0) {
        fprintf(stderr, "%s:%d: input %s does not survive the dump:\n%s\n", __FILE__, __LINE__,
                input, doc);
        check_failures++;
    }
    CHECK(memcmp(&cfg, &cfg2, sizeof(cfg)) == 0);
    char a[17], b[17];
    config_fingerprint(&cfg, a);
    config_fingerprint(&cfg2, b);
    CHECK_STR(a, b);
    free(doc);
}

static void test_input_dump(void)
{
    check_input_roundtrip("{}");
    for (size_t i = 0; i < N_VARIANTS; i++)
        check_input_roundtrip(input_variants[i]);
    check_input_roundtrip(
        "{\"envelope\": {\"type\": \"field\", \"field\": \"rec[0].log\\\\.line\"},"
        " \"fields\": {\"event\": {\"path\": [\"msg\", \"context.event\"], \"prefix\": \"event=\"},"
        "  \"time\": [\"ts\", \"context.timestamp\", \"a[1][2]\", \"\\\\\\\\\"],"
        "  \"duration\": null, \"status\": \"http\\\\.status\", \"reason\": \"ctx.reason\","
        "  \"strategy\": null, \"time_constraint\": \"x\\\\[0]\"},"
        " \"duration_required\": false,"
        " \"error_reasons\": [\"internal_error\", \"preview_failed\", \"\\u00e9\"],"
        " \"filters\": [{\"events\": [\"requested\"], \"field\": \"ctx.source\","
        "   \"equals\": [\"planning-engine\", \"gateway\"]},"
        "  {\"events\": [\"fallback\", \"succeeded\"], \"field\": \"env\", \"equals\": [\"prod\"]}],"
        " \"sample_weight\": {\"field\": \"ctx.sampleRate\", \"default\": 7},"
        " \"correlate\": {\"key\": [\"ctx.planId\", \"ctx.userId\", \"a[0]\", \"b\"],"
        "   \"max_latency_ms\": 3600000, \"table_size\": 16777216}}");
    /* the dump names every key of the section */
    CHECK_INT(load_input("{\"envelope\": {\"type\": \"syslog\"}, \"correlate\": {\"key\": [\"k\"]}}"),
              0);
    char *doc = NULL;
    CHECK_INT(config_dump_json(&cfg, &doc), 0);
    static const char *const keys[] = {"\"envelope\"", "\"syslog\"", "\"fields\"",
                                       "\"duration_required\": false", "\"error_reasons\"",
                                       "\"filters\"", "\"sample_weight\"", "\"correlate\"",
                                       "\"max_latency_ms\": 60000", "\"table_size\": 65536"};
    for (size_t i = 0; doc && i < sizeof(keys) / sizeof(keys[0]); i++)
        if (strstr(doc, keys[i]) == NULL) {
            fprintf(stderr, "%s:%d: dump lacks %s\n%s\n", __FILE__, __LINE__, keys[i], doc);
            check_failures++;
        }
    free(doc);
}

/* The alertmanager section: off by default, read with its defaults,
 * refused by key, dumped, and outside the fingerprint (a destination). */
static void test_alertmanager(void)
{
    char a[17], b[17];
    config_defaults(&cfg);
    CHECK_INT(cfg.alertmanager.enabled, 0);
    config_fingerprint(&cfg, a);
    CHECK_INT(load("{\"alertmanager\": {\"urls\": [\"http://am-0:9093/\", \"https://am-1\"]}}"), 0);
    CHECK_INT(cfg.alertmanager.enabled, 1);
    CHECK_INT(cfg.alertmanager.n_urls, 2);
    CHECK_STR(cfg.alertmanager.urls[0], "http://am-0:9093");
    CHECK_STR(cfg.alertmanager.urls[1], "https://am-1");
    CHECK_INT(cfg.alertmanager.resend_s, 60);
    CHECK_INT(cfg.alertmanager.timeout_ms, 5000);
    CHECK_STR(cfg.alertmanager.generator_url, "");
    config_fingerprint(&cfg, b);
    CHECK_STR(a, b);
    char *dump = NULL;
    CHECK_INT(config_dump_json(&cfg, &dump), 0);
    CHECK(dump && strstr(dump, "\"alertmanager\"") && strstr(dump, "\"resend_s\": 60"));
    free(dump);
    CHECK_INT(load("{\"alertmanager\": {\"urls\": [\"http://a\"], \"resend_s\": 30,"
                   " \"timeout_ms\": 800, \"generator_url\": \"http://sw/status\"}}"), 0);
    CHECK_INT(cfg.alertmanager.resend_s, 30);
    CHECK_INT(cfg.alertmanager.timeout_ms, 800);
    CHECK_STR(cfg.alertmanager.generator_url, "http://sw/status");
    CHECK_INT(load("{\"alertmanager\": null}"), 0);
    CHECK_INT(cfg.alertmanager.enabled, 0);
    CHECK_REFUSED("{\"alertmanager\": {}}", "config: alertmanager.urls: required (1..4 URLs)");
    CHECK_REFUSED("{\"alertmanager\": {\"urls\": []}}",
                  "config: alertmanager.urls: expected an array of 1..4 URLs");
    CHECK_REFUSED("{\"alertmanager\": {\"urls\": [\"am:9093\"]}}",
                  "config: alertmanager.urls[0]: expected an http:// or https:// URL");
    CHECK_REFUSED("{\"alertmanager\": {\"urls\": [\"http://a\"], \"resend_s\": 0}}",
                  "config: alertmanager.resend_s: expected an integer 1..86400");
    CHECK_REFUSED("{\"alertmanager\": {\"urls\": [\"http://a\"], \"timeout_ms\": 60001}}",
                  "config: alertmanager.timeout_ms: expected an integer 1..60000");
    CHECK_REFUSED("{\"alertmanager\": {\"urls\": [\"http://a\"], \"url\": 1}}",
                  "config: alertmanager.url: unknown key");
    CHECK_REFUSED("{\"alertmanager\": [1]}",
                  "config: alertmanager: expected an object (or null: off)");
}

int main(void)
{
    test_alertmanager();
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
    test_input_errors();
    test_input_values();
    test_input_fingerprint();
    test_input_dump();
    CHECK_DONE();
}
