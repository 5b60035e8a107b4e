/* gen.c: deterministic telemetry for the benchmarks: N events at a given
 * rate of requests per second from a start time, as JSON Lines on stdout.
 * Each request is followed by its outcome (94% succeeded, 5% fallback, 1%
 * declined), with realistic field sets of about 260 bytes per line. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t rng = 0x2545F4914F6CDD1DULL;
static uint64_t next(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 2685821657736338717ULL;
}

static void iso(int64_t ms, char *out, size_t cap)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: gen N RATE_PER_S [START_MS]\n");
        return 2;
    }
    uint64_t n = strtoull(argv[1], NULL, 10);
    double rate = strtod(argv[2], NULL);
    int64_t start = argc > 3 ? strtoll(argv[3], NULL, 10) : INT64_C(1795161600000);
    static const char *strategies[] = {"core_only", "core_plus_accessory", "core_plus_superset",
                                       "core_plus_block", "core_plus_block_and_superset"};
    static const char *reasons[] = {"plan_not_compressible", "plan_missing_content",
                                    "internal_error"};
    static char out[1 << 16];
    setvbuf(stdout, out, _IOFBF, sizeof(out));
    char ts[80];
    double step_ms = 1000.0 / (rate / 2.0); /* two events per request */
    for (uint64_t i = 0; i < n; i++) {
        int64_t t = start + (int64_t)((double)i * step_ms / 2.0);
        iso(t, ts, sizeof(ts));
        uint64_t r = next();
        unsigned plan = (unsigned)(r >> 40) % 100000, user = (unsigned)(r >> 20) % 1000000;
        unsigned minutes = 15 + (unsigned)(r % 166);
        if (i % 2 == 0) {
            printf("{\"event\":\"stream5.time_crunch_preview_requested\",\"ts\":\"%s\","
                   "\"compressionStrategy\":\"pending\",\"planId\":\"plan-%05u\",\"targetMinutes\":%u,"
                   "\"userId\":\"u-%06u\",\"source\":\"gateway-bff\"}\n",
                   ts, plan, minutes, user);
            continue;
        }
        unsigned k = (unsigned)(r % 100);
        unsigned dur = 200 + (unsigned)((r >> 8) % 1600);
        if (k < 94) {
            printf("{\"event\":\"stream5.time_crunch_preview_succeeded\",\"ts\":\"%s\","
                   "\"durationMs\":%u,\"status\":200,\"compressionStrategy\":\"%s\","
                   "\"meetsTimeConstraint\":%s,\"planId\":\"plan-%05u\",\"targetMinutes\":%u,"
                   "\"userId\":\"u-%06u\",\"source\":\"gateway-bff\"}\n",
                   ts, dur, strategies[(r >> 16) % 5], (r >> 24) % 10 ? "true" : "false", plan,
                   minutes, user);
        } else if (k < 99) {
            const char *reason = reasons[(r >> 16) % 3];
            printf("{\"event\":\"stream5.time_crunch_preview_fallback\",\"ts\":\"%s\","
                   "\"durationMs\":%u,\"status\":%d,\"compressionStrategy\":\"none\","
                   "\"reason\":\"%s\",\"planId\":\"plan-%05u\",\"targetMinutes\":%u,"
                   "\"userId\":\"u-%06u\",\"source\":\"gateway-bff\"}\n",
                   ts, dur, strcmp(reason, "internal_error") == 0 ? 500 : 422, reason, plan,
                   minutes, user);
        } else {
            printf("{\"event\":\"stream5.time_crunch_preview_declined\",\"ts\":\"%s\","
                   "\"compressionStrategy\":\"user_decline\",\"reason\":\"after_success\","
                   "\"planId\":\"plan-%05u\",\"targetMinutes\":%u,\"userId\":\"u-%06u\","
                   "\"source\":\"frontend\"}\n",
                   ts, plan, minutes, user);
        }
    }
    return fflush(stdout) == 0 ? 0 : 1;
}
