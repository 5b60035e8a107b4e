/* decode_bench.c: ns per event of the decoder's fast path (dec_parse) and
 * of the jansson reference (dec_parse_ref) on one typical 260-byte event,
 * decoded over and over. Usage: decode_bench [iterations] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "event.h"

static const char typical[] =
    "{\"event\":\"stream5.time_crunch_preview_succeeded\",\"ts\":\"2026-11-26T10:00:00.123Z\","
    "\"durationMs\":812,\"status\":200,\"compressionStrategy\":\"core_plus_accessory\","
    "\"meetsTimeConstraint\":true,\"planId\":\"plan-8f2c\",\"targetMinutes\":45,"
    "\"userId\":\"u-1234\",\"source\":\"gateway-bff\"}";

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

typedef dec_verdict (*decode_fn)(const dec_config *, const char *, size_t, sw_event *);

static double ns_per_event(decode_fn fn, const dec_config *cfg, long iters)
{
    sw_event ev;
    long okc = 0;
    double t0 = now_s();
    for (long i = 0; i < iters; i++)
        okc += fn(cfg, typical, sizeof(typical) - 1, &ev) == DEC_OK;
    double t1 = now_s();
    if (okc != iters) {
        fprintf(stderr, "decode_bench: the typical event was not accepted\n");
        exit(1);
    }
    return (t1 - t0) * 1e9 / (double)iters;
}

int main(int argc, char **argv)
{
    long iters = argc > 1 ? atol(argv[1]) : 5000000;
    static const char *const st[] = {"core_only", "core_plus_accessory", "core_plus_superset",
                                     "core_plus_block", "core_plus_block_and_superset", "none",
                                     "pending", "user_decline"};
    static sw_labels strategies, reasons;
    for (size_t i = 0; i < sizeof(st) / sizeof(st[0]); i++)
        labels_add(&strategies, st[i]);
    labels_add(&reasons, "internal_error");
    dec_config cfg = {.event_names = {"stream5.time_crunch_preview_requested",
                                      "stream5.time_crunch_preview_succeeded",
                                      "stream5.time_crunch_preview_fallback",
                                      "stream5.time_crunch_preview_declined"},
                      .strategies = &strategies,
                      .reasons = &reasons,
                      .max_message_bytes = 65536};
    double fast = ns_per_event(dec_parse, &cfg, iters);
    double ref = ns_per_event(dec_parse_ref, &cfg, iters / 10 > 0 ? iters / 10 : 1);
    printf("%zu-byte event: dec_parse %.1f ns/event (%.2f M events/s), "
           "dec_parse_ref %.1f ns/event, ratio %.1fx\n",
           sizeof(typical) - 1, fast, 1e3 / fast, ref, ref / fast);
    return 0;
}
