/* test_soak.c: the soak cadence (docs/semantics.md section 11) followed
 * from the engine: the hours of the cadence, and an emit range that begins
 * between two updates, as after a restart: the updates after it are the
 * ones an uninterrupted run writes, byte for byte, the one before it is not
 * written, and the triggers and statuses before the range still count in
 * the period; the final soak_verdict too, with the engine's sign-offs, and
 * the counts and verdict gauges the follower writes for /metrics. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cohort_names.h"
#include "config.h"
#include "config_soak.h"
#include "counters.h"
#include "engine.h"
#include "event.h"
#include "report/soak.h"

#define MAXOUT 64
#define H 3600
#define BASE INT64_C(1795161600) /* a multiple of 60 */

typedef struct run_out {
    int n;
    char *json[MAXOUT];
    int64_t at[MAXOUT];
    char *verdict;      /* the last soak_verdict */
    int n_verdicts;
} run_out;

static void capture(void *ud, const sw_output *o)
{
    run_out *r = ud;
    if (o->type == SW_OUT_SOAK_VERDICT) {
        free(r->verdict);
        r->verdict = strndup(o->json, o->json_len);
        r->n_verdicts++;
        return;
    }
    if (o->type != SW_OUT_SOAK_UPDATE || r->n >= MAXOUT)
        return;
    r->json[r->n] = strndup(o->json, o->json_len);
    r->at[r->n++] = o->at_s;
}

static void run_out_free(run_out *r)
{
    free(r->verdict);
    for (int i = 0; i < r->n; i++)
        free(r->json[i]);
}

static sw_event ev_at(int kind, int64_t s, int error)
{
    sw_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.kind = (uint8_t)kind;
    ev.ts_ms = s * 1000;
    ev.tc = -1;
    ev.strategy = LABEL_NONE;
    ev.reason = LABEL_NONE;
    if (kind == SW_EV_SUCCEEDED || kind == SW_EV_FALLBACK) {
        ev.has_duration = 1;
        ev.duration_ms = 300;
        ev.reason_error = (uint8_t)error;
        ev.informed = (uint8_t)error;
    }
    return ev;
}

/* 3.5 hours of a request and an outcome every 5 s, errors only from
 * 1:20 to 1:30 (error_rate_high fires and resolves in hour 2); emitting
 * from emit_from_s (INT64_MIN: all). */
static void run(const sw_config *cfg, int64_t emit_from_s, run_out *out)
{
    char err[256];
    sw_counters c;
    memset(&c, 0, sizeof(c));
    memset(out, 0, sizeof(*out));
    soak_follower *f = soak_create(cfg, err, sizeof(err));
    sw_engine *e = f ? sw_engine_create(cfg, soak_emit, f, err, sizeof(err)) : NULL;
    CHECK(e != NULL);
    if (e == NULL)
        return;
    soak_bind(f, e, &c, capture, out);
    if (emit_from_s != INT64_MIN)
        sw_engine_set_emit_range(e, emit_from_s, -1, NULL);
    /* qa signs off in hour 1; ops only after the last hour; "sec" is no
     * criterion: the follower ignores it. */
    CHECK_INT(sw_engine_signoff(e, "qa", "alice", BASE + 600), 0);
    CHECK_INT(sw_engine_signoff(e, "sec", "eve", BASE + 600), 0);
    CHECK_INT(sw_engine_signoff(e, "ops", "bob", BASE + 3 * H + 1), 0);
    /* With cohorts kept first come, every event is of value "a". */
    uint16_t a = sw_engine_cohort_names(e) ? cohort_names_id(sw_engine_cohort_names(e), "a", 1)
                                           : 0;
    for (int64_t s = 0; s < 3 * H + H / 2; s += 5) {
        sw_event r = ev_at(SW_EV_REQUESTED, BASE + s, 0);
        r.cohort = a;
        sw_engine_push(e, &r);
        int bad = s >= H + 1200 && s < H + 1800;
        sw_event o = ev_at(bad ? SW_EV_FALLBACK : SW_EV_SUCCEEDED, BASE + s, bad);
        o.cohort = a;
        sw_engine_push(e, &o);
        if (s == 3 * H - 600) {
            /* Ten minutes before the last hour: no verdict yet, the gauges
             * say none. */
            CHECK_INT(c.soak_verdict, -1);
            CHECK_INT(c.soak_verdict_hour, 0);
            CHECK_INT(c.soak_verdicts, 0);
        }
    }
    sw_engine_finish(e);
    CHECK_INT(c.soak_hour, 3);
    /* /metrics counts what was emitted, not the periods closed before the
     * emit range; the verdict gauges follow the last verdict (both runs:
     * no_go at hour 3). */
    CHECK_INT(c.soak_updates, out->n);
    CHECK_INT(c.soak_verdicts, out->n_verdicts);
    CHECK_INT(c.soak_verdict, 1);
    CHECK_INT(c.soak_verdict_hour, 3);
    sw_engine_destroy(e);
    soak_destroy(f);
}

/* The run emitting all, and a run restarted to emit from 1:50 on: after
 * the update of hour 1, after the firing (1:20+) and the resolution of
 * error_rate_high, before the update of hour 2. Returns 1 when they wrote
 * three and two updates. */
static int run_restarted(const sw_config *cfg, run_out *all, run_out *later)
{
    run(cfg, INT64_MIN, all);
    run(cfg, BASE + H + 3000, later);
    CHECK_INT(all->n, 3);
    CHECK_INT(later->n, 2);
    return all->n == 3 && later->n == 2;
}

static void test_hours(void)
{
    int64_t want48[] = {1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 0};
    int64_t h = 0;
    for (int i = 0; i < 19; i++) {
        h = soak_next_hour(h, 48);
        CHECK_INT(h, want48[i]);
    }
    CHECK_INT(soak_next_hour(8, 10), 10);
    CHECK_INT(soak_next_hour(8, 13), 12);
    CHECK_INT(soak_next_hour(12, 13), 13);
    CHECK_INT(soak_next_hour(13, 13), 0);
    CHECK_INT(soak_next_hour(4, 5), 5);
    CHECK_INT(soak_next_hour(5, 5), 0);
}

static void test_restart_between_updates(void)
{
    static sw_config cfg;
    config_defaults(&cfg);
    cfg.soak.enabled = 1;
    cfg.soak.hours = 3;
    run_out all, later;
    if (run_restarted(&cfg, &all, &later)) {
        CHECK_INT(all.at[1], BASE + 2 * H);
        CHECK_INT(later.at[0], BASE + 2 * H);
        CHECK(strcmp(all.json[1], later.json[0]) == 0);
        CHECK(strcmp(all.json[2], later.json[1]) == 0);
        CHECK(strstr(later.json[0], "\"status\":\"red\"") != NULL);
        CHECK(strstr(later.json[0], "\"rule\":\"error_rate_high\",\"state\":\"firing\"") != NULL);
        CHECK(strstr(later.json[0], "\"rule\":\"error_rate_high\",\"state\":\"resolved\"") !=
              NULL);
        CHECK(strstr(all.json[0], "\"hour_from\":0,\"hour_to\":1") != NULL);
    }
    /* The final verdict (hour 3) is the same after the restart: the two
     * rules' firings (1:20+), before the emit range, count; hour 2 (the errors) breaks the run of
     * good hours; qa is signed, ops (after the verdict) is not. */
    CHECK_INT(all.n_verdicts, 1);
    CHECK_INT(later.n_verdicts, 1);
    if (all.verdict && later.verdict) {
        CHECK(strcmp(all.verdict, later.verdict) == 0);
        CHECK(strstr(all.verdict, "\"kind\":\"final\",\"verdict\":\"no_go\"") != NULL);
        CHECK(strstr(all.verdict, "\"detail\":\"2 fired since the soak start\"") != NULL);
        CHECK(strstr(all.verdict, "\"detail\":\"longest run 1 h, current run 1 h\"") != NULL);
        CHECK(strstr(all.verdict, "\"key\":\"qa\",\"title\":\"QA sign-off on integration "
                                  "tests\",\"kind\":\"signoff\",\"pass\":true") != NULL);
        CHECK(strstr(all.verdict, "\"by\":\"alice\"") != NULL);
        CHECK(strstr(all.verdict, "\"bob\"") == NULL && strstr(all.verdict, "eve") == NULL);
    }
    run_out_free(&all);
    run_out_free(&later);
}

/* A rule judged in cohorts fires and resolves in hour 2 before the emit
 * range of a restart: the update of hour 2 notes its cohort's transitions
 * as the run that emitted them does (the cohort is a value kept first
 * come). */
static void test_restart_cohort_notes(void)
{
    static sw_config cfg;
    config_defaults(&cfg);
    cfg.soak.enabled = 1;
    cfg.soak.hours = 3;
    cfg.cohorts.enabled = 1;
    strcpy(cfg.cohorts.field, "version");
    cfg.cohorts.max = 1;
    int r = cfg.n_rules++;
    cfg.rules[r] = cfg.rules[0]; /* error_rate_high, judged in each cohort */
    strcpy(cfg.rules[r].name, "cohort_errors");
    cfg.rules[r].cohort_scope = SW_SCOPE_EACH;
    run_out all, later;
    if (run_restarted(&cfg, &all, &later)) {
        CHECK(strcmp(all.json[1], later.json[0]) == 0);
        CHECK(strstr(later.json[0], "\"rule\":\"cohort_errors\",\"cohort\":\"a\","
                                    "\"state\":\"firing\"") != NULL);
        CHECK(strstr(later.json[0], "\"rule\":\"cohort_errors\",\"cohort\":\"a\","
                                    "\"state\":\"resolved\"") != NULL);
    }
    run_out_free(&all);
    run_out_free(&later);
}

int main(void)
{
    test_hours();
    test_restart_between_updates();
    test_restart_cohort_notes();
    return check_failures ? 1 : 0;
}
