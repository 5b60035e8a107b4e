/* test_output.c: the output events as output.c writes them: the trigger
 * fields of sections 7 and 8 in their documented order, each once, and a
 * buffer cap that fails the whole render: at every cap shorter than the
 * event the call fails, at its length it succeeds with the same bytes. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "check.h"
#include "config.h"
#include "output.h"
#include "wmetrics.h"

static sw_config cfg;

typedef int (*render_fn)(sw_buf *b, const void *info);

static int trigger_json(sw_buf *b, const void *t) { return output_trigger_json(b, &cfg, t); }
static int trigger_text(sw_buf *b, const void *t) { return output_trigger_text(b, &cfg, t); }
static int status_json(sw_buf *b, const void *s) { return output_status_json(b, &cfg, s); }
static int status_text(sw_buf *b, const void *s) { return output_status_text(b, &cfg, s); }

/* Render once without a cap, then at every cap below the length (each
 * must fail) and at the length (must give the same bytes). Returns the
 * full rendering (caller frees). */
static char *render_capped(render_fn fn, const void *info)
{
    sw_buf full;
    buf_init(&full, 1 << 20);
    CHECK_INT(fn(&full, info), 0);
    size_t len = full.len;
    int all_failed = 1;
    for (size_t cap = 0; cap < len; cap++) {
        sw_buf b;
        buf_init(&b, cap);
        if (fn(&b, info) == 0)
            all_failed = 0;
        CHECK(b.len <= cap);
        buf_free(&b);
    }
    CHECK(all_failed);
    sw_buf b;
    buf_init(&b, len);
    CHECK_INT(fn(&b, info), 0);
    CHECK_INT(b.len, len);
    CHECK(b.data != NULL && memcmp(b.data, full.data, len) == 0);
    buf_free(&b);
    char *out = strdup(full.data);
    buf_free(&full);
    return out;
}

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static const sw_rule *rule_with_options(sw_rule *r)
{
    memset(r, 0, sizeof(*r));
    strcpy(r->name, "error_rate_high");
    r->metric = M_ERROR_RATE;
    strcpy(r->metric_name, "error_rate");
    r->op = OP_GT;
    r->threshold = 0.1;
    r->window_s = 300;
    r->min_samples = 20;
    r->has_resolve_threshold = 1;
    r->resolve_threshold = 0.05;
    r->keep_firing_for_s = 120;
    r->latch = 1;
    r->hold_when_no_data = 1;
    r->confidence = 0.95;
    r->n_extra_windows = 1;
    r->extra_windows_s[0] = 3600;
    return r;
}

/* A runbook rule's trigger is exactly section 7, ending at `action`. */
static void test_trigger_plain(void)
{
    sw_trigger_info t;
    memset(&t, 0, sizeof(t));
    t.rule = &cfg.rules[0]; /* error_rate_high of the defaults */
    t.at_s = 1795166495;
    t.firing = 1;
    t.value = 0.125;
    t.samples = 333;
    t.n_windows = 1;
    char *s = render_capped(trigger_json, &t);
    CHECK_STR(s, "{\"type\":\"rollback_trigger\",\"schema_version\":1,"
                 "\"id\":\"error_rate_high:1795166495000\",\"rule\":\"error_rate_high\","
                 "\"state\":\"firing\",\"at_ms\":1795166495000,\"at\":\"2026-11-20T09:21:35.000Z\","
                 "\"window_s\":300,\"window_start_ms\":1795166195000,"
                 "\"window_end_ms\":1795166495000,\"metric\":\"error_rate\",\"op\":\">\","
                 "\"threshold\":0.1,\"value\":0.125,\"samples\":333,"
                 "\"feature\":\"feature.stream5_time_crunch_mode\",\"action\":\"disable_flag\"}");
    free(s);
    s = render_capped(trigger_text, &t);
    CHECK_STR(s, "2026-11-20T09:21:35.000Z FIRING   error_rate_high: error_rate 0.125 > 0.1 "
                 "over 300 s, 333 samples -> disable_flag");
    free(s);
}

/* Every option of section 8 after `action`, in order, provenance last. */
static void test_trigger_options(void)
{
    sw_rule r;
    sw_trigger_info t;
    memset(&t, 0, sizeof(t));
    t.rule = rule_with_options(&r);
    t.at_s = 1795166495;
    t.firing = 0;
    t.value = NAN;
    t.samples = 12;
    t.interval_lo = 0.25;
    t.interval_hi = 0.5;
    t.n_windows = 2;
    t.windows[0] = (sw_trigger_window){300, NAN, 12};
    t.windows[1] = (sw_trigger_window){3600, 0.015625, 4096};
    t.acked_id = "error_rate_high:1795166195000";
    t.acked_by = "oncall \"sre\"";
    sw_prov_range ranges[2] = {{0, 17, 4711}, {3, 0, 9}};
    sw_provenance prov = {"0123456789abcdef", "partitions", ranges, 2};
    t.provenance = &prov;
    char *s = render_capped(trigger_json, &t);
    const char *tail = strstr(s, ",\"action\":\"none\"");
    CHECK(tail != NULL);
    if (tail)
        CHECK_STR(tail, ",\"action\":\"none\",\"resolve_threshold\":0.05,\"confidence\":0.95,"
                        "\"interval\":[0.25,0.5],\"windows\":[{\"window_s\":300,\"value\":null,"
                        "\"samples\":12},{\"window_s\":3600,\"value\":0.015625,\"samples\":4096}],"
                        "\"latched\":false,\"acknowledged\":{"
                        "\"id\":\"error_rate_high:1795166195000\",\"by\":\"oncall \\\"sre\\\"\"},"
                        "\"provenance\":{\"config\":\"0123456789abcdef\","
                        "\"rule\":{\"metric\":\"error_rate\",\"op\":\">\",\"threshold\":0.1,"
                        "\"window_s\":300,\"min_samples\":20,\"resolve_threshold\":0.05,"
                        "\"keep_firing_for_s\":120,\"latch\":true,\"hold_when_no_data\":true,"
                        "\"confidence\":0.95,\"windows_s\":[3600]},"
                        "\"partitions\":{\"0\":[17,4711],\"3\":[0,9]}}}");
    free(s);
    /* Provenance without tracked sources: the config and the rule only. */
    prov.source_kind = NULL;
    s = render_capped(trigger_json, &t);
    CHECK(strstr(s, "\"windows_s\":[3600]}}}") != NULL);
    CHECK(strstr(s, "partitions") == NULL);
    free(s);
}

static void test_status(void)
{
    static const uint64_t strategies[WIN_MAX_LABELS + 1] = {3, 0, 1};
    static const uint64_t reasons[WIN_MAX_LABELS + 1] = {0, 2};
    sw_wm w[3];
    for (int i = 0; i < 3; i++) {
        memset(&w[i], 0, sizeof(w[i]));
        w[i].window_s = i == 0 ? 300 : i == 1 ? 600 : 1800;
        w[i].requests = 7;
        w[i].outcomes = 6;
        w[i].successes = 4;
        w[i].errors = 1;
        w[i].success_rate = 4.0 / 6;
        w[i].error_rate = 1.0 / 6;
        w[i].latency_mean_ms = 812.5;
        w[i].latency_p95_ms = 1624;
        w[i].latency_p99_ms = NAN;
        w[i].time_constraint_success_rate = NAN;
        w[i].strategies = strategies;
        w[i].reasons = reasons;
    }
    sw_status_info s;
    memset(&s, 0, sizeof(s));
    s.at_s = 1795161660;
    s.colour = 1;
    s.firing[s.n_firing++] = "error_rate_high";
    s.blind_rule[s.n_blind] = "latency_high";
    s.blind_missing[s.n_blind++] = "duration";
    s.quality = "too_few_samples";
    for (int i = 0; i < 3; i++) {
        s.windows[i] = &w[i];
        s.observed_s[i] = i == 2 ? 60 : -1;
    }
    s.n_windows = 3;
    char *j = render_capped(status_json, &s);
    CHECK(starts_with(j, "{\"type\":\"status\",\"schema_version\":1,\"at_ms\":1795161660000,"
                     "\"at\":\"2026-11-20T08:01:00.000Z\",\"status\":\"yellow\","
                     "\"firing\":[\"error_rate_high\"],\"blind\":[{\"rule\":\"latency_high\","
                     "\"missing\":\"duration\"}],\"quality\":\"too_few_samples\","
                     "\"windows\":{\"300\":{\"requests\":7,"));
    CHECK(strstr(j, "\"strategies\":{\"core_only\":3,\"core_plus_superset\":1},"
                    "\"fallback_reasons\":{\"plan_missing_content\":2}}") != NULL);
    CHECK(strstr(j, "\"observed_s\":60}}}") != NULL);
    free(j);
    char *t = render_capped(status_text, &s);
    CHECK(starts_with(t, "2026-11-20T08:01:00.000Z YELLOW   success_rate 0.6667 "));
    CHECK(strstr(t, "; firing: error_rate_high; blind: latency_high (no duration)") != NULL);
    free(t);
}

int main(void)
{
    config_defaults(&cfg);
    test_trigger_plain();
    test_trigger_options();
    test_status();
    CHECK_DONE();
}
