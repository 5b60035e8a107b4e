/* fuzz_decode.c: libFuzzer target holding the decoder's fast path to its
 * jansson reference: on every input dec_parse and dec_parse_ref must give
 * the same verdict and, for an accepted event, the same fields, for the
 * flat contract and for three input mappings (nested paths, a shipper's
 * field envelope, a syslog prefix). Any difference aborts, so the fuzzer
 * saves the input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cohort_names.h"
#include "config.h"
#include "event.h"
#include "pipeline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static dec_config cfg;
static sw_labels strategies, reasons;

/* Mapped inputs (docs/semantics.md section 9): the structured logger's
 * line as is, inside a shipper's field, after a syslog prefix. */
#define LOGGER_FIELDS                                                                         \
    "\"fields\":{\"event\":{\"path\":[\"msg\",\"context.event\"],\"prefix\":\"event=\"},"           \
    "\"time\":[\"ts\",\"context.timestamp\"],\"duration\":[\"context.payload.durationMs\","    \
    "\"spans[1].d\"],\"status\":\"http\\\\.status\",\"reason\":\"context.payload.reason\","           \
    "\"strategy\":\"context.payload.compressionStrategy\","                                    \
    "\"time_constraint\":\"context.payload.meetsTimeConstraint\"},"                            \
    "\"filters\":[{\"events\":[\"requested\"],\"field\":\"context.payload.source\","          \
    "\"equals\":[\"planning-engine\"]}],\"sample_weight\":{\"field\":\"context.sampleRate\"},"   \
    "\"error_reasons\":[\"internal_error\",\"preview_failed\"],"                              \
    "\"correlate\":{\"key\":[\"context.payload.planId\",\"context.payload.userId\"]}"
static const char *const mapped_json[] = {
    "{\"input\":{" LOGGER_FIELDS "}}",
    "{\"input\":{\"envelope\":{\"type\":\"field\",\"field\":\"message\"}," LOGGER_FIELDS "}}",
    ("{\"input\":{\"envelope\":{\"type\":\"syslog\"},\"fields\":{\"event\":{\"path\":\"msg\","
     "\"token\":\"event\"},\"duration\":null},\"duration_required\":false}}"),
    /* cohorts (section 12): a top-level key, read by the flat scanner, and
     * a nested one, read through a mapping */
    "{\"cohorts\":{\"field\":\"gatewayVersion\",\"values\":[\"v1\",\"v2\"]}}",
    "{\"cohorts\":{\"field\":\"deploy.version\",\"values\":[\"v1\",\"v2\"]}}",
    /* cohorts kept first come: values named in a table both readings share */
    "{\"cohorts\":{\"field\":\"gatewayVersion\",\"values\":[\"v1\"],\"max\":4}}",
    "{\"cohorts\":{\"field\":\"deploy.version\",\"max\":16}}",
};
#define N_MAPPED (sizeof(mapped_json) / sizeof(mapped_json[0]))
static sw_config mapped_cfg[N_MAPPED];
static dec_config mapped[N_MAPPED];

/* OTLP exports are read through jansson only: fuzzed for crashes, leaks
 * and a verdict per record. */
static const char otlp_json[] =
    "{\"input\":{\"envelope\":{\"type\":\"otlp\"},\"fields\":{\"event\":{\"path\":\"body.msg\","
    "\"prefix\":\"event=\"},\"time\":[\"body.ts\",\"timeUnixMs\"],\"duration\":\"attributes.d\"},"
    "\"sample_weight\":{\"field\":\"resource.w\"}}}";
static sw_config otlp_cfg;
static dec_config otlp;

static void count_record(void *ud, dec_verdict v, const sw_event *ev)
{
    (void)ev;
    if ((int)v < 0 || v >= DEC_VERDICT_COUNT)
        abort();
    ++*(size_t *)ud;
}

static void setup(void)
{
    static const char *const st[] = {"core_only", "core_plus_accessory", "core_plus_superset",
                                     "core_plus_block", "core_plus_block_and_superset", "none",
                                     "pending", "user_decline"};
    static const char *const rs[] = {"plan_not_compressible", "plan_missing_content",
                                     "internal_error", "plan_not_found", "forbidden",
                                     "unauthorized", "invalid_request", "preview_failed",
                                     "feature_not_available"};
    for (size_t i = 0; i < sizeof(st) / sizeof(st[0]); i++)
        if (labels_add(&strategies, st[i]) != 0)
            abort();
    for (size_t i = 0; i < sizeof(rs) / sizeof(rs[0]); i++)
        if (labels_add(&reasons, rs[i]) != 0)
            abort();
    cfg.event_names[SW_EV_REQUESTED] = "stream5.time_crunch_preview_requested";
    cfg.event_names[SW_EV_SUCCEEDED] = "stream5.time_crunch_preview_succeeded";
    cfg.event_names[SW_EV_FALLBACK] = "stream5.time_crunch_preview_fallback";
    cfg.event_names[SW_EV_DECLINED] = "stream5.time_crunch_preview_declined";
    cfg.strategies = &strategies;
    cfg.reasons = &reasons;
    cfg.max_message_bytes = 65536;
    char err[256];
    for (size_t i = 0; i < N_MAPPED; i++) {
        config_defaults(&mapped_cfg[i]);
        if (config_load_string(&mapped_cfg[i], mapped_json[i], strlen(mapped_json[i]), err,
                               sizeof(err)) != 0 ||
            pipeline_dec_config(&mapped_cfg[i], &mapped[i], err, sizeof(err)) != 0) {
            fprintf(stderr, "fuzz_decode: %s\n", err);
            abort();
        }
        const sw_cohorts *k = &mapped_cfg[i].cohorts;
        if (k->max > k->values.n && (mapped[i].cohort_names = cohort_names_create(&k->values)) ==
                                        NULL)
            abort();
    }
    config_defaults(&otlp_cfg);
    if (config_load_string(&otlp_cfg, otlp_json, strlen(otlp_json), err, sizeof(err)) != 0 ||
        pipeline_dec_config(&otlp_cfg, &otlp, err, sizeof(err)) != 0) {
        fprintf(stderr, "fuzz_decode: %s\n", err);
        abort();
    }
}

/* Both readings of buf under c must agree. */
static void check(const dec_config *c, const char *buf, size_t size)
{
    sw_event a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    dec_verdict va = dec_parse(c, buf, size, &a);
    dec_verdict vb = dec_parse_ref(c, buf, size, &b);
    int same = va == vb;
    if (same && va == DEC_OK)
        same = a.ts_ms == b.ts_ms && a.status == b.status && a.kind == b.kind &&
               a.has_duration == b.has_duration && a.tc == b.tc && a.strategy == b.strategy &&
               a.reason == b.reason && a.reason_error == b.reason_error &&
               a.informed == b.informed && a.weight == b.weight && a.has_key == b.has_key &&
               a.key == b.key && a.cohort == b.cohort &&
               memcmp(&a.duration_ms, &b.duration_ms, sizeof(double)) == 0;
    if (!same) {
        fprintf(stderr, "fuzz_decode: dec_parse says %s, dec_parse_ref says %s (%s)\n",
                dec_verdict_name(va), dec_verdict_name(vb), c->map ? "mapped" : "flat");
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (cfg.strategies == NULL)
        setup();
    /* a copy of exactly size bytes, so that ASan sees any read past the end */
    char *buf = malloc(size ? size : 1);
    if (buf == NULL)
        return 0;
    memcpy(buf, data, size);
    check(&cfg, buf, size);
    for (size_t i = 0; i < N_MAPPED; i++)
        check(&mapped[i], buf, size);
    size_t calls = 0;
    size_t n = dec_message(&otlp, buf, size, count_record, &calls);
    if (n != calls)
        abort();
    free(buf);
    return 0;
}
