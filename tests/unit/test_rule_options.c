/* test_rule_options.c: the rule options beyond the runbook (hysteresis,
 * keep-firing, latching and acks, holding on missing data, confidence
 * gating, multiwindow rules with per-minute buckets, provenance, data
 * quality), each at its exact edges. Expected values are derived by hand
 * in the comments. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "config.h"
#include "engine.h"
#include "event.h"
#include "config_env.h"
#include "rules.h"

#define MAXOUT 8192
static char *outs[MAXOUT];
static int nout;

static void capture(void *ud, const sw_output *o)
{
    (void)ud;
    if (nout < MAXOUT)
        outs[nout++] = strndup(o->json, o->json_len);
}

static void reset_outs(void)
{
    for (int i = 0; i < nout; i++)
        free(outs[i]);
    nout = 0;
}

static int count_with(const char *needle)
{
    int n = 0;
    for (int i = 0; i < nout; i++)
        if (strstr(outs[i], needle))
            n++;
    return n;
}

static int find_with(const char *needle)
{
    for (int i = 0; i < nout; i++)
        if (strstr(outs[i], needle))
            return i;
    return -1;
}

static sw_config cfg;

/* One rule: error_rate > 0.10 over 10 s, min 10 samples; options set by
 * each test. Status windows stay the defaults. */
static sw_rule *one_rule(void)
{
    config_defaults(&cfg);
    cfg.n_rules = 1;
    sw_rule *r = &cfg.rules[0];
    memset(r, 0, sizeof(*r));
    strcpy(r->name, "errors");
    strcpy(r->metric_name, "error_rate");
    r->metric = M_ERROR_RATE;
    r->op = OP_GT;
    r->threshold = 0.10;
    r->window_s = 10;
    r->min_samples = 10;
    return r;
}

static sw_engine *fresh(void)
{
    char err[256];
    reset_outs();
    sw_engine *e = sw_engine_create(&cfg, capture, NULL, err, sizeof(err));
    if (e == NULL)
        fprintf(stderr, "engine: %s\n", err);
    return e;
}

/* Push, at second s, `ok` successes and `bad` errors. */
static void second(sw_engine *e, int64_t s, int ok, int bad)
{
    for (int i = 0; i < ok + bad; i++) {
        sw_event ev;
        memset(&ev, 0, sizeof(ev));
        ev.kind = i < ok ? SW_EV_SUCCEEDED : SW_EV_FALLBACK;
        ev.ts_ms = s * 1000;
        ev.has_duration = 1;
        ev.duration_ms = 50;
        ev.tc = -1;
        ev.strategy = LABEL_NONE;
        ev.reason = LABEL_NONE;
        ev.status = i < ok ? 200 : 500;
        ev.informed = 1; /* a status, as the decoder marks it */
        sw_engine_push_from(e, &ev, 0, s * 100 + i);
    }
}

/* Hysteresis: fires above 0.10, resolves only at or below 0.05. */
static void test_resolve_threshold(void)
{
    sw_rule *r = one_rule();
    r->has_resolve_threshold = 1;
    r->resolve_threshold = 0.05;
    sw_engine *e = fresh();
    /* Seconds 1000..1009: 8 ok + 2 errors each: 20% -> fires at 1010. */
    for (int s = 1000; s < 1010; s++)
        second(e, s, 8, 2);
    /* Then 92 ok + 8 errors per second (8%): under 0.10, over 0.05. */
    for (int s = 1010; s < 1030; s++)
        second(e, s, 92, 8);
    sw_engine_advance(e, 1030);
    CHECK(find_with("\"id\":\"errors:1010000\"") >= 0);
    CHECK_INT(count_with("\"rule\":\"errors\""), 1); /* still firing at 8% */
    /* Exactly 5%: 95 ok + 5 errors; once the window is all of it (from
     * T = 1040) the value is 0.05, not > 0.05: resolved at 1040. */
    for (int s = 1030; s < 1045; s++)
        second(e, s, 95, 5);
    sw_engine_advance(e, 1041);
    int i = find_with("\"rule\":\"errors\",\"state\":\"resolved\"");
    CHECK(i >= 0 && strstr(outs[i], "\"at_ms\":1040000") != NULL);
    CHECK(i >= 0 && strstr(outs[i], "\"resolve_threshold\":0.05") != NULL);
    sw_engine_destroy(e);
}

/* keep_firing_for_s: resolved only after the condition stayed clear that
 * long; a relapse restarts the count. */
static void test_keep_firing(void)
{
    sw_rule *r = one_rule();
    r->keep_firing_for_s = 30;
    sw_engine *e = fresh();
    for (int s = 1000; s < 1010; s++)
        second(e, s, 5, 5); /* 50% */
    for (int s = 1010; s < 1100; s++)
        second(e, s, 10, 0);
    sw_engine_finish(e);
    int i = find_with("\"state\":\"resolved\"");
    /* At T = 1018 the window 1008..1017 holds 10 errors in 100: exactly
     * 0.10, not > 0.10: clear from 1018, resolved at 1018 + 30 = 1048. */
    CHECK(i >= 0 && strstr(outs[i], "\"id\":\"errors:1048000\"") != NULL);
    sw_engine_destroy(e);

    e = fresh();
    for (int s = 1000; s < 1010; s++)
        second(e, s, 5, 5);
    for (int s = 1010; s < 1030; s++)
        second(e, s, 10, 0); /* clear from T = 1018 */
    second(e, 1030, 5, 5);    /* window at 1031: 5 errors in 100, clear... */
    second(e, 1031, 0, 10);   /* ... at 1032: 15 in 100, true again */
    for (int s = 1032; s < 1120; s++)
        second(e, s, 10, 0);
    sw_engine_finish(e);
    /* True at 1032..1040; at 1041 the errors of 1030 have left and 10 in
     * 100 remain (not > 0.10): clear from 1041, resolved at 1071, and
     * not at 1048, since the relapse restarted the count. */
    CHECK_INT(count_with("\"state\":\"resolved\""), 1);
    CHECK(find_with("\"id\":\"errors:1071000\"") >= 0);
    CHECK_INT(count_with("\"state\":\"firing\""), 1);
    sw_engine_destroy(e);
}

/* Latching: a fired rule stays firing until acknowledged by its id. */
static void test_latch(void)
{
    sw_rule *r = one_rule();
    r->latch = 1;
    sw_engine *e = fresh();
    for (int s = 1000; s < 1010; s++)
        second(e, s, 5, 5);
    for (int s = 1010; s < 1090; s++)
        second(e, s, 10, 0);
    int f = find_with("\"id\":\"errors:1010000\"");
    CHECK(f >= 0 && strstr(outs[f], "\"latched\":true") != NULL);
    CHECK_INT(count_with("\"state\":\"resolved\""), 0); /* clear, but latched */
    /* A wrong id is counted and changes nothing. */
    CHECK_INT(sw_engine_ack(e, "errors:999", "alice", 1089), 0);
    for (int s = 1090; s < 1093; s++)
        second(e, s, 10, 0); /* evaluated through 1090 */
    CHECK_INT(count_with("\"state\":\"resolved\""), 0);
    CHECK_INT(sw_engine_stats_get(e)->acks_unmatched, 1);
    /* The right id at 1095: resolved at 1095, saying who acknowledged. */
    CHECK_INT(sw_engine_ack(e, "errors:1010000", "alice", 1095), 0);
    for (int s = 1093; s < 1100; s++)
        second(e, s, 10, 0);
    sw_engine_finish(e);
    int i = find_with("\"state\":\"resolved\"");
    CHECK(i >= 0 && strstr(outs[i], "\"at_ms\":1095000") != NULL);
    CHECK(i >= 0 && strstr(outs[i], "\"latched\":false,\"acknowledged\":{\"id\":\"errors:1010000\","
                                    "\"by\":\"alice\"}") != NULL);
    CHECK_INT(sw_engine_stats_get(e)->acks, 1);
    sw_engine_destroy(e);

    /* Acknowledged while the condition still holds: stays firing, then
     * resolves as an unlatched rule would. */
    e = fresh();
    for (int s = 1000; s < 1030; s++)
        second(e, s, 5, 5);
    sw_engine_ack(e, "errors:1010000", "bob", 1020);
    for (int s = 1030; s < 1060; s++)
        second(e, s, 10, 0);
    sw_engine_finish(e);
    i = find_with("\"state\":\"resolved\"");
    /* The ack applied at 1028 (1020 was already evaluated) with errors
     * still in the window. At 1038 the window 1028..1037 holds 10 errors in
     * 100: not > 0.10: resolved then. */
    CHECK(i >= 0 && strstr(outs[i], "\"at_ms\":1038000") != NULL);
    CHECK(i >= 0 && strstr(outs[i], "\"by\":\"bob\"") != NULL);
    sw_engine_destroy(e);
}

/* After a restart the latched firing is recovered from the output topic,
 * whose firing instant the engine never saw: an ack of that rule's firing
 * (by its original id) still releases it; another rule's id does not. */
static void test_latch_after_restart(void)
{
    sw_rule *r = one_rule();
    r->latch = 1;
    uint8_t published[SW_MAX_RULES] = {1};
    sw_engine *e = fresh();
    sw_engine_set_emit_range(e, 1050, -1, published);
    for (int s = 1000; s < 1060; s++)
        second(e, s, 10, 0); /* healthy: the condition is false throughout */
    CHECK_INT(count_with("\"state\":\"resolved\""), 0); /* latched */
    sw_engine_ack(e, "other:900000", "alice", 1060);
    sw_engine_ack(e, "errors:900000", "alice", 1061);
    for (int s = 1060; s < 1070; s++)
        second(e, s, 10, 0);
    sw_engine_finish(e);
    int i = find_with("\"state\":\"resolved\"");
    CHECK(i >= 0 && strstr(outs[i], "\"at_ms\":1061000") != NULL);
    CHECK(i >= 0 && strstr(outs[i], "\"acknowledged\":{\"id\":\"errors:900000\"") != NULL);
    CHECK_INT(sw_engine_stats_get(e)->acks_unmatched, 1);
    sw_engine_destroy(e);
}

/* hold_when_no_data: silence keeps a firing rule firing. */
static void test_hold_when_no_data(void)
{
    for (int hold = 0; hold <= 1; hold++) {
        sw_rule *r = one_rule();
        r->hold_when_no_data = hold;
        sw_engine *e = fresh();
        for (int s = 1000; s < 1010; s++)
            second(e, s, 5, 5);
        /* Then only 1 outcome a second: 10 s windows hold 10 samples... use
         * one every other second: 5 samples, below the minimum. */
        for (int s = 1010; s < 1100; s += 2)
            second(e, s, 1, 0);
        sw_engine_finish(e);
        /* Without hold: the window at 1020 has 5 samples: resolved then. */
        if (hold)
            CHECK_INT(count_with("\"state\":\"resolved\""), 0);
        else
            CHECK(find_with("\"id\":\"errors:1020000\"") >= 0);
        sw_engine_destroy(e);
    }
}

/* Confidence: the Wilson interval must lie past the threshold. */
static void test_confidence(void)
{
    double lo, hi;
    CHECK_DBL(normal_quantile(0.975), 1.959963984540054, 1e-9);
    CHECK_DBL(normal_quantile(0.5), 0.0, 1e-12);
    CHECK_DBL(normal_quantile(0.01), -2.326347874040841, 1e-9);
    /* 0 of 10 at 95%: [0, z^2/(n+z^2)] = [0, 0.2775...]. */
    wilson_interval(0, 10, 0.95, &lo, &hi);
    CHECK_DBL(lo, 0.0, 1e-12);
    CHECK_DBL(hi, 3.841458820694124 / (10 + 3.841458820694124), 1e-9);
    /* 1 of 2: centre 0.5, lower bound 0.0945 (< 0.10). */
    wilson_interval(1, 2, 0.95, &lo, &hi);
    CHECK_DBL(lo, 0.0945, 1e-4);
    CHECK_DBL(hi, 0.9055, 1e-4);

    sw_rule *r = one_rule();
    r->confidence = 0.95;
    r->min_samples = 0;
    sw_engine *e = fresh();
    /* 1 error + 1 ok in the window: 50%, but lower bound 0.0945: no. */
    second(e, 1000, 1, 1);
    sw_engine_advance(e, 1010);
    CHECK_INT(count_with("\"rule\":\"errors\""), 0);
    /* 2 of 2 errors at 1010: window 1001..1010 at 1011: p = 1, lower
     * bound 0.342: fires, and says its interval. */
    second(e, 1010, 0, 2);
    sw_engine_advance(e, 1011);
    int i = find_with("\"id\":\"errors:1011000\"");
    CHECK(i >= 0 && strstr(outs[i], "\"confidence\":0.95,\"interval\":[0.342") != NULL);
    sw_engine_destroy(e);
}

/* Multiwindow: the condition must hold on every window; windows over
 * 30 minutes use per-minute buckets ending at the last whole minute. */
static void test_multiwindow(void)
{
    sw_rule *r = one_rule();
    r->window_s = 300;
    r->min_samples = 0;
    r->threshold = 0.0144;
    r->n_extra_windows = 1;
    r->extra_windows_s[0] = 3600;
    sw_engine *e = fresh();
    /* An hour (t0 = 3600) of 1 error in 100; then 5 minutes at 10%. */
    for (int64_t s = 3600; s < 7200; s++)
        second(e, s, s % 10 == 0 ? 9 : 10, s % 10 == 0 ? 1 : 0); /* 1 in 100 */
    sw_engine_advance(e, 7200);
    CHECK_INT(count_with("\"rule\":\"errors\""), 0); /* 1% < 1.44% on both */
    for (int64_t s = 7200; s < 7500; s++)
        second(e, s, 9, 1);
    /* At T = 7500 the 300 s window is 10%; the hour (minutes ending at
     * 7500, i.e. seconds 3900..7499) holds 3300 s at 1% and 300 s at 10%:
     * (330 + 300) / 36000 = 1.75% > 1.44%. When did it first hold? Only
     * whole minutes count in the hour: at T the hour covers seconds
     * 60*floor(T/60) - 3600 .. 60*floor(T/60) - 1. */
    sw_engine_advance(e, 7500);
    int i = find_with("\"state\":\"firing\"");
    CHECK(i >= 0);
    if (i >= 0) {
        CHECK(strstr(outs[i], "\"windows\":[{\"window_s\":300,") != NULL);
        CHECK(strstr(outs[i], "{\"window_s\":3600,") != NULL);
    }
    /* Work out the instant: the 300 s window is over 1.44% from a few
     * seconds into the burst. The hour at T (m = floor(T/60)) holds b =
     * 60*(m - 120) s of burst: errors 0.1*(3600 - b) + b = 360 + 0.9b of
     * 36000 outcomes, > 518.4 when b > 176: b = 180, m = 123, T = 7380. */
    CHECK(find_with("\"id\":\"errors:7380000\"") == i);
    sw_engine_destroy(e);

    /* A window over 30 minutes that is not whole minutes is refused. */
    r->extra_windows_s[0] = 3601;
    char err[256] = "";
    CHECK(sw_engine_create(&cfg, capture, NULL, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "whole minutes") != NULL);
}

/* Provenance: the config's fingerprint, the rule, and the offsets of the
 * data in the window. */
static void test_provenance(void)
{
    sw_rule *r = one_rule();
    (void)r;
    cfg.provenance = 1;
    sw_engine *e = fresh();
    CHECK_INT(sw_engine_set_sources(e, 1, "lines"), 0);
    for (int s = 1000; s < 1012; s++)
        second(e, s, 5, 5); /* offsets s*100 + 0..9 */
    sw_engine_advance(e, 1010);
    int i = find_with("\"id\":\"errors:1010000\"");
    char fp[17];
    config_fingerprint(&cfg, fp);
    char want[128];
    snprintf(want, sizeof(want), "\"provenance\":{\"config\":\"%s\",\"rule\":{\"metric\":"
                                 "\"error_rate\",\"op\":\">\",\"threshold\":0.1,", fp);
    CHECK(i >= 0 && strstr(outs[i], want) != NULL);
    /* The window at 1010 holds seconds 1000..1009: offsets 100000..100909. */
    CHECK(i >= 0 && strstr(outs[i], "\"lines\":{\"0\":[100000,100909]}}") != NULL);
    sw_engine_destroy(e);
    cfg.provenance = 0;
}

/* Data quality: a state of its own in the status, never green. */
static void test_quality(void)
{
    one_rule();
    cfg.quality_enabled = 1;
    cfg.quality_max_watermark_lag_s = 30;
    sw_engine *e = fresh();
    for (int s = 1000; s < 1330; s++)
        second(e, s, 1, 0); /* evaluated through 1327 */
    int i = find_with("\"at_ms\":1320000");
    CHECK(i >= 0 && strstr(outs[i], "\"status\":\"green\",\"firing\":[],\"quality\":\"ok\"") != NULL);
    /* Live: the wall clock is 40 s past the watermark: input behind. */
    sw_engine_set_wall_clock(e, 1420);
    sw_engine_advance(e, 1380);
    i = find_with("\"at_ms\":1380000");
    CHECK(i >= 0 && strstr(outs[i], "\"status\":\"yellow\",\"firing\":[],\"quality\":\"input_behind\"") != NULL);
    sw_engine_set_wall_clock(e, INT64_MIN);
    sw_engine_advance(e, 1800);
    i = find_with("\"at_ms\":1740000");
    CHECK(i >= 0 && strstr(outs[i], "\"quality\":\"no_traffic\"") != NULL);
    sw_engine_destroy(e);
    cfg.quality_enabled = 0;
}

/* A restart with cohorts (docs/semantics.md section 12): the rule judged
 * in each cohort takes, per cohort, the state last published. v1 was
 * published firing and latched; all is healthy now, so it stays firing
 * (latched) until an ack naming any of its v1 firings, and then resolves;
 * v2 and other were not firing and say nothing; an ack naming the rule
 * without the cohort releases nothing. Events carry cohort 0 (v1). */
static void test_latch_after_restart_cohorts(void)
{
    sw_rule *r = one_rule();
    r->latch = 1;
    r->cohort_scope = SW_SCOPE_EACH;
    cfg.cohorts.enabled = 1;
    labels_add(&cfg.cohorts.values, "v1");
    labels_add(&cfg.cohorts.values, "v2");
    cfg.cohorts.max = 2;
    uint8_t published[SW_MAX_RULES] = {1}; /* the whole topic's: ignored here */
    uint8_t coh[SW_MAX_RULES][SW_MAX_COHORTS + 1];
    memset(coh, 0, sizeof(coh));
    coh[0][0] = 1;
    sw_engine *e = fresh();
    sw_engine_set_emit_range(e, 1050, -1, published);
    sw_engine_set_published_cohorts(e, (const uint8_t (*)[SW_MAX_COHORTS + 1])coh);
    for (int s = 1000; s < 1060; s++)
        second(e, s, 10, 0);
    CHECK_INT(count_with("\"state\":\"resolved\""), 0); /* latched */
    CHECK_INT(sw_engine_cohort_rule_firing(e, 0, 0), 1);
    CHECK_INT(sw_engine_cohort_rule_firing(e, 0, 1), 0);
    CHECK_INT(sw_engine_rule_firing(e, 0), 0);
    sw_engine_ack(e, "errors:900000", "bob", 1060);
    sw_engine_ack(e, "errors:v1:900000", "alice", 1061);
    for (int s = 1060; s < 1070; s++)
        second(e, s, 10, 0);
    sw_engine_finish(e);
    CHECK_INT(count_with("\"state\":\"resolved\""), 1);
    int i = find_with("\"state\":\"resolved\"");
    CHECK(i >= 0 && strstr(outs[i], "\"id\":\"errors:v1:1061000\",\"rule\":\"errors\","
                                   "\"cohort\":\"v1\"") != NULL);
    CHECK(i >= 0 && strstr(outs[i], "\"acknowledged\":{\"id\":\"errors:v1:900000\"") != NULL);
    CHECK_INT(sw_engine_stats_get(e)->acks_unmatched, 1);
    sw_engine_destroy(e);
    cfg.cohorts.enabled = 0;
}

int main(void)
{
    test_resolve_threshold();
    test_keep_firing();
    test_latch();
    test_latch_after_restart();
    test_latch_after_restart_cohorts();
    test_hold_when_no_data();
    test_confidence();
    test_multiwindow();
    test_provenance();
    test_quality();
    reset_outs();
    CHECK_DONE();
}
