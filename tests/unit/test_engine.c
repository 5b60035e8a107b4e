/* test_engine.c: SEMANTICS sections 2 to 7, clause by clause, on the
 * engine fed with decoded events. Expected values are worked out by hand
 * in the comments. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cohort_names.h"
#include "config.h"
#include "engine.h"
#include "event.h"

#define MAXOUT 4096
static char *outs[MAXOUT];
static sw_output meta[MAXOUT];
static int nout;

static void capture(void *ud, const sw_output *o)
{
    (void)ud;
    if (nout >= MAXOUT)
        return;
    outs[nout] = strndup(o->json, o->json_len);
    meta[nout] = *o;
    meta[nout].json = outs[nout];
    nout++;
}

static void reset_outs(void)
{
    for (int i = 0; i < nout; i++)
        free(outs[i]);
    nout = 0;
}

static sw_config cfg;

static sw_engine *fresh(void)
{
    char err[256];
    reset_outs();
    sw_engine *e = sw_engine_create(&cfg, capture, NULL, err, sizeof(err));
    if (e == NULL)
        fprintf(stderr, "engine: %s\n", err);
    return e;
}

static sw_event mk(int kind, int64_t ts_ms)
{
    sw_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.kind = (uint8_t)kind;
    ev.ts_ms = ts_ms;
    ev.tc = -1;
    ev.strategy = LABEL_NONE;
    ev.reason = LABEL_NONE;
    if (kind == SW_EV_SUCCEEDED || kind == SW_EV_FALLBACK) {
        ev.has_duration = 1;
        ev.duration_ms = 100;
    }
    return ev;
}

static sw_event ok_at(int64_t s) { return mk(SW_EV_SUCCEEDED, s * 1000); }
static sw_event err_at(int64_t s)
{
    sw_event ev = mk(SW_EV_FALLBACK, s * 1000);
    ev.reason_error = 1; /* no status: 500 */
    ev.informed = 1;    /* as a decoded reason "internal_error" is */
    return ev;
}

/* Count outputs whose JSON contains needle. */
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

/* Section 2: what counts as an error. */
static void test_classification(void)
{
    sw_engine *e = fresh();
    sw_event ev;
    ev = mk(SW_EV_SUCCEEDED, 1000000); /* no status: 200, not an error */
    sw_engine_push(e, &ev);
    ev = mk(SW_EV_SUCCEEDED, 1000000);
    ev.status = 503; /* explicit 5xx on a success: an error */
    sw_engine_push(e, &ev);
    ev = mk(SW_EV_FALLBACK, 1000000);
    ev.reason_error = 1; /* no status, internal_error: 500 */
    sw_engine_push(e, &ev);
    ev = mk(SW_EV_FALLBACK, 1000000); /* no status, other reason: 422 */
    sw_engine_push(e, &ev);
    ev = mk(SW_EV_FALLBACK, 1000000);
    ev.status = 422;
    ev.reason_error = 1; /* explicit status wins over the reason */
    sw_engine_push(e, &ev);
    ev = mk(SW_EV_DECLINED, 1000000);
    sw_engine_push(e, &ev);
    ev = mk(SW_EV_REQUESTED, 1000000);
    sw_engine_push(e, &ev);
    sw_engine_advance(e, 1001);
    CHECK_DBL(sw_engine_window_metric(e, 300, M_OUTCOMES, 0), 5, 0);
    CHECK_DBL(sw_engine_window_metric(e, 300, M_ERRORS, 0), 2, 0);
    CHECK_DBL(sw_engine_window_metric(e, 300, M_SUCCESSES, 0), 2, 0);
    CHECK_DBL(sw_engine_window_metric(e, 300, M_DECLINED, 0), 1, 0);
    CHECK_DBL(sw_engine_window_metric(e, 300, M_REQUESTS, 0), 1, 0);
    CHECK_DBL(sw_engine_window_metric(e, 300, M_ERROR_RATE, 0), 0.4, 0);
    CHECK_DBL(sw_engine_window_metric(e, 300, M_SUCCESS_RATE, 0), 0.4, 0);
    sw_engine_destroy(e);
}

/* Section 3: buckets, lateness, range, gaps. */
static void test_time(void)
{
    sw_engine *e = fresh();
    sw_event ev = ok_at(5000);
    ev.ts_ms = 5000999; /* second 5000 */
    CHECK_INT(sw_engine_push(e, &ev), SW_ACCEPTED);
    CHECK_INT(sw_engine_t0(e), 5000);
    ev = ok_at(5010);
    CHECK_INT(sw_engine_push(e, &ev), SW_ACCEPTED);
    /* Exactly lateness (2) behind the greatest second: accepted. */
    ev = ok_at(5008);
    CHECK_INT(sw_engine_push(e, &ev), SW_ACCEPTED);
    /* One more: late. */
    ev = ok_at(5007);
    CHECK_INT(sw_engine_push(e, &ev), SW_LATE);
    /* The watermark is 5010 - 2: instants up to 5008 evaluated. */
    CHECK_INT(sw_engine_next_instant(e), 5009);
    /* Out of range: negative, beyond year 9999, more than max_gap ahead. */
    ev = ok_at(0);
    ev.ts_ms = -1;
    CHECK_INT(sw_engine_push(e, &ev), SW_OUT_OF_RANGE);
    ev.ts_ms = INT64_C(253402300800000);
    CHECK_INT(sw_engine_push(e, &ev), SW_OUT_OF_RANGE);
    ev = ok_at(5010 + 86400 + 1);
    CHECK_INT(sw_engine_push(e, &ev), SW_OUT_OF_RANGE);
    CHECK_INT(sw_engine_max_second(e), 5010); /* a rejected event moves nothing */
    ev = ok_at(5010 + 86400);
    CHECK_INT(sw_engine_push(e, &ev), SW_ACCEPTED);
    /* Every second inside the gap was evaluated. */
    CHECK_INT(sw_engine_next_instant(e), 5010 + 86400 - 2 + 1);
    const sw_engine_stats *st = sw_engine_stats_get(e);
    CHECK_INT(st->accepted, 4);
    CHECK_INT(st->late, 1);
    CHECK_INT(st->out_of_range, 3);
    /* End of input: evaluate up to greatest second + 1. */
    sw_engine_finish(e);
    CHECK_INT(sw_engine_next_instant(e), 5010 + 86400 + 2);
    /* At T = greatest + 1 the 300 s window holds the last event only. */
    CHECK_DBL(sw_engine_window_metric(e, 300, M_OUTCOMES, 0), 1, 0);
    sw_engine_destroy(e);

    /* Year 9999 is in range; year 0 (negative ms) is not. */
    e = fresh();
    ev = ok_at(0);
    ev.ts_ms = INT64_C(253402300799999);
    CHECK_INT(sw_engine_push(e, &ev), SW_ACCEPTED);
    sw_engine_destroy(e);
    e = fresh();
    ev = ok_at(0);
    CHECK_INT(sw_engine_push(e, &ev), SW_ACCEPTED);
    sw_engine_destroy(e);
}

/* Events up to the lateness before the first one are on time, and count
 * in the windows although they precede t0. */
static void test_before_t0(void)
{
    sw_engine *e = fresh();
    sw_event ev = mk(SW_EV_REQUESTED, 60000);
    CHECK_INT(sw_engine_push(e, &ev), SW_ACCEPTED);
    ev.ts_ms = 59000;
    CHECK_INT(sw_engine_push(e, &ev), SW_ACCEPTED);
    ev.ts_ms = 58000; /* exactly the lateness (2 s) behind */
    CHECK_INT(sw_engine_push(e, &ev), SW_ACCEPTED);
    ev.ts_ms = 57999; /* second 57: one more */
    CHECK_INT(sw_engine_push(e, &ev), SW_LATE);
    CHECK_INT(sw_engine_t0(e), 60);
    ev.ts_ms = 125000;
    sw_engine_push(e, &ev);
    /* First status at 120 (>= t0 + 60): its 300 s window holds all three. */
    int i = find_with("\"at_ms\":120000");
    CHECK(i >= 0 && strstr(outs[i], "\"300\":{\"requests\":3,") != NULL);
    CHECK_INT(sw_engine_stats_get(e)->accepted, 4);
    sw_engine_destroy(e);
}

/* Section 3, live: the idle clock and the future bound. */
static void test_live_clock(void)
{
    sw_engine *e = fresh();
    sw_event ev = ok_at(1000);
    sw_engine_set_future_limit(e, 1000 + 60);
    CHECK_INT(sw_engine_push(e, &ev), SW_ACCEPTED);
    ev = ok_at(1061);
    CHECK_INT(sw_engine_push(e, &ev), SW_OUT_OF_RANGE);
    ev = ok_at(1060);
    CHECK_INT(sw_engine_push(e, &ev), SW_ACCEPTED);
    /* Silence observed: the clock moves the watermark on. */
    sw_engine_advance(e, 1100);
    CHECK_INT(sw_engine_next_instant(e), 1101);
    /* An event for a second already evaluated cannot enter a window. */
    sw_engine_set_future_limit(e, 2000);
    ev = ok_at(1099);
    CHECK_INT(sw_engine_push(e, &ev), SW_LATE);
    /* The second being the next instant is still open. */
    ev = ok_at(1100);
    CHECK_INT(sw_engine_push(e, &ev), SW_ACCEPTED);
    /* Advancing backwards does nothing. */
    sw_engine_advance(e, 1050);
    CHECK_INT(sw_engine_next_instant(e), 1101);
    sw_engine_destroy(e);
    /* Before the first event the clock has nothing to move. */
    e = fresh();
    sw_engine_advance(e, 5000);
    CHECK_INT(sw_engine_next_instant(e), INT64_MIN);
    CHECK_INT(nout, 0);
    sw_engine_destroy(e);
}

/* Section 5: full observation, min samples, thresholds, edges. */
static void test_rules(void)
{
    /* Start at t0 = 10000 with 1 success a second: at T = 10300 the 300 s
     * window is first fully observed. Then errors push error_rate over 10%. */
    sw_engine *e = fresh();
    for (int64_t s = 10000; s < 10300; s++) {
        sw_event ev = ok_at(s);
        sw_engine_push(e, &ev);
    }
    CHECK_INT(count_with("rollback_trigger"), 0);
    /* 30 errors at second 10300: at T = 10301 the window holds
     * 10001..10300: 299 ok + 30 errors = 329 outcomes, 9.1%: no fire. */
    for (int i = 0; i < 30; i++) {
        sw_event ev = err_at(10300);
        sw_engine_push(e, &ev);
    }
    sw_engine_advance(e, 10301);
    CHECK_INT(count_with("\"rule\":\"error_rate_high\""), 0);
    CHECK_DBL(sw_engine_rule_value(e, 0), 30.0 / 329.0, 1e-15);
    /* 5 more errors at 10301: at T = 10302 the window 10002..10301 holds
     * 298 ok + 35 errors = 333 outcomes, 10.5%: fires at T = 10302. */
    for (int i = 0; i < 5; i++) {
        sw_event ev = err_at(10301);
        sw_engine_push(e, &ev);
    }
    sw_engine_advance(e, 10302);
    int i = find_with("\"id\":\"error_rate_high:10302000\"");
    CHECK(i >= 0);
    if (i >= 0) {
        CHECK(strstr(outs[i], "\"state\":\"firing\"") != NULL);
        CHECK(strstr(outs[i], "\"samples\":333") != NULL);
        CHECK(strstr(outs[i], "\"window_start_ms\":10002000,\"window_end_ms\":10302000") != NULL);
        CHECK(strstr(outs[i], "\"action\":\"disable_flag\"") != NULL);
        CHECK_INT(meta[i].firing, 1);
        CHECK_STR(meta[i].key, "error_rate_high");
    }
    CHECK(sw_engine_rule_firing(e, 0));
    /* While it holds nothing more is emitted. */
    sw_engine_advance(e, 10400);
    CHECK_INT(count_with("\"type\":\"rollback_trigger\""), 1);
    /* Successes from 10300 on (those before 10400 are late now: the
     * instants up to 10400 are evaluated). The 30 errors of second 10300
     * leave at T = 10601: window 10301..10600 = 201 ok + 5 errors, 2.4%. */
    for (int64_t s = 10300; s < 10700; s++) {
        sw_event ev = ok_at(s);
        sw_engine_push(e, &ev);
    }
    sw_engine_finish(e);
    i = find_with("\"rule\":\"error_rate_high\",\"state\":\"resolved\"");
    CHECK(i >= 0);
    CHECK(find_with("\"id\":\"error_rate_high:10601000\"") == i);
    if (i >= 0)
        CHECK(strstr(outs[i], "\"action\":\"none\"") != NULL);
    CHECK_INT(count_with("\"type\":\"rollback_trigger\""), 2);
    sw_engine_destroy(e);
}

/* Exactly the threshold does not fire a '>' rule; 19 samples never fire. */
static void test_rule_edges(void)
{
    sw_engine *e = fresh();
    /* t0 = 0. 18 successes and 2 errors at second 0..: 2/20 = 0.10. */
    for (int k = 0; k < 18; k++) {
        sw_event ev = ok_at(100);
        sw_engine_push(e, &ev);
    }
    for (int k = 0; k < 2; k++) {
        sw_event ev = err_at(100);
        sw_engine_push(e, &ev);
    }
    sw_engine_advance(e, 400); /* window 100..399 fully observed from 400 */
    CHECK_INT(count_with("error_rate_high"), 0);
    CHECK_DBL(sw_engine_rule_value(e, 0), 0.1, 0);
    sw_engine_destroy(e);

    e = fresh();
    /* t0 = 100 (a request); 19 errors at 300: at T = 400 the window
     * 100..399 holds 19 outcomes, below min samples (20). */
    sw_event rq = mk(SW_EV_REQUESTED, 100 * 1000);
    sw_engine_push(e, &rq);
    for (int k = 0; k < 19; k++) {
        sw_event ev = err_at(300);
        sw_engine_push(e, &ev);
    }
    sw_engine_advance(e, 400);
    CHECK_INT(count_with("error_rate_high"), 0);
    /* The 20th at second 400 enters at T = 401 (window 101..400): fires. */
    sw_event ev = err_at(400);
    sw_engine_push(e, &ev);
    sw_engine_advance(e, 401);
    CHECK(find_with("\"id\":\"error_rate_high:401000\"") >= 0);
    sw_engine_destroy(e);
}

/* zero_requests: needs the full 1800 s window, fires on silence,
 * resolves on the first request. */
static void test_zero_requests(void)
{
    sw_engine *e = fresh();
    sw_event ev = mk(SW_EV_REQUESTED, 1000 * 1000);
    sw_engine_push(e, &ev);
    /* Window at T holds T-1800..T-1; the request at 1000 is inside until
     * T = 2800; at 2801 the window 1001..2800 is empty. */
    ev = mk(SW_EV_SUCCEEDED, 2900 * 1000);
    sw_engine_push(e, &ev);
    int i = find_with("\"rule\":\"zero_requests\",\"state\":\"firing\"");
    CHECK(i >= 0);
    if (i >= 0) {
        CHECK(strstr(outs[i], "\"at_ms\":2801000") != NULL);
        CHECK(strstr(outs[i], "\"value\":0") != NULL);
        CHECK(strstr(outs[i], "\"samples\":0") != NULL);
    }
    ev = mk(SW_EV_REQUESTED, 3000 * 1000);
    sw_engine_push(e, &ev);
    sw_engine_finish(e);
    i = find_with("\"rule\":\"zero_requests\",\"state\":\"resolved\"");
    CHECK(i >= 0);
    if (i >= 0)
        CHECK(strstr(outs[i], "\"at_ms\":3001000") != NULL);
    sw_engine_destroy(e);
}

/* Section 6: status timing and colour; section 7: order at one T. */
static void test_status(void)
{
    sw_engine *e = fresh();
    /* t0 = 1030: first status at the first multiple of 60 >= 1090: 1140. */
    sw_event ev = ok_at(1030);
    sw_engine_push(e, &ev);
    ev = ok_at(1200);
    sw_engine_push(e, &ev);
    CHECK(find_with("\"at_ms\":1080000") < 0);
    CHECK(find_with("\"type\":\"status\",\"schema_version\":1,\"at_ms\":1140000") >= 0);
    CHECK(find_with("\"at_ms\":1080000") < 0);
    /* Few outcomes: yellow. */
    CHECK(find_with("\"at_ms\":1140000,\"at\":\"1970-01-01T00:19:00.000Z\",\"status\":\"yellow\"") >= 0);
    CHECK_INT(sw_engine_status(e), 1);
    sw_engine_destroy(e);

    /* Green with 20 fast successes; red while a rule fires, with the
     * trigger emitted before the status at the same instant. */
    e = fresh();
    for (int s = 0; s < 300; s++) {
        ev = ok_at(60000 + s);
        sw_engine_push(e, &ev);
    }
    sw_engine_advance(e, 60240);
    int g = find_with("\"at_ms\":60240000");
    CHECK(g >= 0 && strstr(outs[g], "\"status\":\"green\"") != NULL);
    /* 40 errors at second 60299 -> error_rate at 60300 (window
     * 60000..60299) = 40/340 > 0.1 -> fires at 60300, a status instant. */
    for (int k = 0; k < 40; k++) {
        ev = err_at(60299);
        sw_engine_push(e, &ev);
    }
    sw_engine_advance(e, 60300);
    int t = find_with("\"id\":\"error_rate_high:60300000\"");
    int s = find_with("\"type\":\"status\",\"schema_version\":1,\"at_ms\":60300000");
    CHECK(t >= 0 && s >= 0 && t < s);
    if (s >= 0) {
        CHECK(strstr(outs[s], "\"status\":\"red\",\"firing\":[\"error_rate_high\"]") != NULL);
        CHECK(strstr(outs[s], "\"windows\":{\"300\":{\"requests\":0,\"outcomes\":340,") != NULL);
        CHECK(strstr(outs[s], "\"600\":{") != NULL && strstr(outs[s], "\"1800\":{") != NULL);
    }
    CHECK_INT(sw_engine_status(e), 2);
    CHECK_STR(sw_engine_status_json(e), outs[s >= 0 ? s : 0]);
    sw_engine_destroy(e);
}

/* Status targets are inclusive: success rate exactly 0.95 is yellow. */
static void test_status_targets(void)
{
    sw_engine *e = fresh();
    /* 19 ok + 1 fallback (422, not an error) per second over 100 s at
     * 60000..60099: success_rate = 0.95 -> yellow. */
    for (int s = 0; s < 100; s++) {
        for (int k = 0; k < 19; k++) {
            sw_event ev = ok_at(60000 + s);
            sw_engine_push(e, &ev);
        }
        sw_event ev = mk(SW_EV_FALLBACK, (60000 + s) * 1000);
        sw_engine_push(e, &ev);
    }
    sw_engine_advance(e, 60060);
    int i = find_with("\"at_ms\":60060000");
    CHECK(i >= 0 && strstr(outs[i], "\"status\":\"yellow\"") != NULL);
    CHECK(i >= 0 && strstr(outs[i], "\"success_rate\":0.95,") != NULL);
    sw_engine_destroy(e);
}

/* Section 4: the metrics object, labels, null values, percentiles. */
static void test_metrics(void)
{
    sw_engine *e = fresh();
    sw_event ev = mk(SW_EV_SUCCEEDED, 120000 * 1000);
    ev.strategy = 0; /* core_only */
    ev.tc = 1;
    ev.duration_ms = 1000;
    sw_engine_push(e, &ev);
    ev.tc = 0;
    ev.strategy = 1;
    ev.duration_ms = 2000.5;
    sw_engine_push(e, &ev);
    ev = mk(SW_EV_SUCCEEDED, 120000 * 1000);
    ev.strategy = (uint8_t)cfg.strategies.n; /* other */
    ev.duration_ms = 3000;
    sw_engine_push(e, &ev);
    ev = mk(SW_EV_FALLBACK, 120000 * 1000);
    ev.reason = 0; /* plan_not_compressible */
    ev.strategy = 5; /* none */
    ev.duration_ms = 4000;
    sw_engine_push(e, &ev);
    sw_engine_advance(e, 120060);
    int i = find_with("\"at_ms\":120060000");
    CHECK(i >= 0);
    if (i >= 0) {
        /* mean = (1000+2000.5+3000+4000)/4 = 2500.125; p95 = 4th smallest
         * (4000 within 1%: bin midpoint 4000.5), tc = 1/2. */
        CHECK(strstr(outs[i], "\"300\":{\"requests\":0,\"outcomes\":4,\"successes\":3,"
                              "\"errors\":0,\"declined\":0,\"success_rate\":0.75,"
                              "\"error_rate\":0,\"latency_mean_ms\":2500.125,") != NULL);
        CHECK(strstr(outs[i], "\"time_constraint_success_rate\":0.5,\"strategies\":"
                              "{\"core_only\":1,\"core_plus_accessory\":1,\"none\":1,\"other\":1},"
                              "\"fallback_reasons\":{\"plan_not_compressible\":1},"
                              "\"observed_s\":60}") != NULL);
        /* every status window is still partial: 60 s of it observed */
        CHECK(strstr(outs[i], "\"observed_s\":60},\"600\":{") != NULL);
        CHECK(strstr(outs[i], "\"observed_s\":60}}}") != NULL);
    }
    /* At T = t0 + 300 the 300 s window (t0 .. t0+299, the four events) is
     * whole: no observed_s; the 600 s one has 300 s of it observed. */
    sw_engine_advance(e, 120300);
    i = find_with("\"at_ms\":120300000");
    CHECK(i >= 0);
    if (i >= 0) {
        CHECK(strstr(outs[i], "\"plan_not_compressible\":1}},\"600\":{") != NULL);
        CHECK(strstr(outs[i], "\"plan_not_compressible\":1},\"observed_s\":300},\"1800\":{") !=
              NULL);
    }
    CHECK_DBL(sw_engine_window_metric(e, 300, M_LATENCY_P95_MS, 0), 4000, 40);
    CHECK_DBL(sw_engine_window_metric(e, 300, M_LATENCY_P99_MS, 0), 4000, 40);
    CHECK_DBL(sw_engine_window_metric(e, 300, M_STRATEGY, 0), 1, 0);
    /* Later, the window is empty: rates and latencies are null. */
    ev = mk(SW_EV_REQUESTED, 121000 * 1000);
    sw_engine_push(e, &ev);
    sw_engine_finish(e);
    i = find_with("\"at_ms\":120960000");
    CHECK(i >= 0 && strstr(outs[i], "\"300\":{\"requests\":0,\"outcomes\":0,\"successes\":0,"
                                     "\"errors\":0,\"declined\":0,\"success_rate\":null,"
                                     "\"error_rate\":null,\"latency_mean_ms\":null,"
                                     "\"latency_p95_ms\":null,\"latency_p99_ms\":null,"
                                     "\"time_constraint_success_rate\":null,"
                                     "\"strategies\":{},\"fallback_reasons\":{}}") != NULL);
    CHECK(isnan(sw_engine_window_metric(e, 300, M_SUCCESS_RATE, 0)));
    sw_engine_destroy(e);
}

/* Section 7: a pure function of input and config. */
static void test_determinism(void)
{
    char *first[MAXOUT];
    int nfirst = 0;
    for (int run = 0; run < 2; run++) {
        sw_engine *e = fresh();
        uint64_t x = 42;
        for (int k = 0; k < 20000; k++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            int64_t s = 50000 + k / 10 - (int64_t)((x >> 60) % 2);
            sw_event ev = (x >> 33) % 7 == 0 ? err_at(s) : ok_at(s);
            ev.duration_ms = (double)((x >> 20) % 9000) + 0.25;
            sw_engine_push(e, &ev);
        }
        sw_engine_finish(e);
        if (run == 0) {
            for (int k = 0; k < nout; k++)
                first[k] = strdup(outs[k]);
            nfirst = nout;
        } else {
            CHECK_INT(nout, nfirst);
            int same = nout == nfirst;
            for (int k = 0; same && k < nout; k++)
                same = strcmp(first[k], outs[k]) == 0;
            CHECK(same);
            CHECK(nout > 10);
        }
        sw_engine_destroy(e);
    }
    for (int k = 0; k < nfirst; k++)
        free(first[k]);
}

/* Emit range: suppressed instants build state; published state applies
 * at the first emitted instant. */
static void test_emit_range(void)
{
    sw_engine *e = fresh();
    /* All errors from t0: error_rate_high fires at t0 + 300 = 10300. */
    sw_engine_set_emit_range(e, 10500, 10700, NULL);
    for (int64_t s = 10000; s < 11000; s++) {
        for (int k = 0; k < 2; k++) {
            sw_event ev = err_at(s);
            sw_engine_push(e, &ev);
        }
    }
    sw_engine_finish(e);
    /* error_rate_high fired at 10300, before the range: not emitted, and
     * not repeated. success_rate_low (600 s) fires at 10600, inside it. */
    CHECK_INT(count_with("rollback_trigger"), 1);
    CHECK(find_with("\"id\":\"success_rate_low:10600000\"") >= 0);
    CHECK(find_with("\"at_ms\":10500000") >= 0);
    CHECK(find_with("\"at_ms\":10440000") < 0);
    CHECK(find_with("\"at_ms\":10740000") < 0);
    CHECK(sw_engine_rule_firing(e, 0));
    sw_engine_destroy(e);

    /* Restart: the output topic says nothing fires; the condition holds:
     * firing is published at the first emitted instant. */
    uint8_t published[SW_MAX_RULES] = {0};
    e = fresh();
    sw_engine_set_emit_range(e, 10500, -1, published);
    for (int64_t s = 10000; s < 10600; s++) {
        sw_event ev = err_at(s);
        sw_engine_push(e, &ev);
        ev = err_at(s);
        sw_engine_push(e, &ev);
    }
    CHECK(find_with("\"id\":\"error_rate_high:10500000\"") >= 0);
    sw_engine_destroy(e);

    /* Restart: the output topic says it fires, and it still holds: no
     * second firing. */
    published[0] = 1;
    e = fresh();
    sw_engine_set_emit_range(e, 10500, -1, published);
    for (int64_t s = 10000; s < 10600; s++) {
        sw_event ev = err_at(s);
        sw_engine_push(e, &ev);
    }
    CHECK_INT(count_with("\"rule\":\"error_rate_high\""), 0);
    CHECK(find_with("\"firing\":[\"error_rate_high\"]") >= 0);
    sw_engine_destroy(e);
}

/* error_rate_high fires at 10302 and resolves at 10601 (test_rules). */
static void fire_and_resolve(sw_engine *e)
{
    for (int64_t s = 10000; s < 10300; s++) {
        sw_event ev = ok_at(s);
        sw_engine_push(e, &ev);
    }
    for (int i = 0; i < 35; i++) {
        sw_event ev = err_at(i < 30 ? 10300 : 10301);
        sw_engine_push(e, &ev);
    }
    sw_engine_advance(e, 10400);
    for (int64_t s = 10300; s < 10700; s++) {
        sw_event ev = ok_at(s);
        sw_engine_push(e, &ev);
    }
    sw_engine_finish(e);
}

/* An output event that does not fit the output cap is never emitted, not
 * even in part: it is counted in render_failures, and the decisions it
 * would have told stand. */
static void test_render_overflow(void)
{
    sw_engine *e = fresh();
    fire_and_resolve(e);
    int want = nout, want_triggers = count_with("rollback_trigger");
    CHECK_INT(want_triggers, 2);
    CHECK(want > want_triggers);
    size_t trigger_len = 0;
    for (int i = 0; i < nout; i++)
        if (meta[i].type == SW_OUT_TRIGGER && meta[i].json_len > trigger_len)
            trigger_len = meta[i].json_len;
    int fitting_checks = 0; /* rollback checks no longer than the longest trigger */
    for (int i = 0; i < nout; i++)
        fitting_checks += meta[i].type == SW_OUT_ROLLBACK_CHECK && meta[i].json_len <= trigger_len;
    char *ref_trigger = strdup(outs[find_with("\"state\":\"resolved\"")]);
    CHECK_INT(sw_engine_stats_get(e)->render_failures, 0);
    sw_engine_destroy(e);

    /* Nothing fits: nothing is emitted, everything is counted. */
    e = fresh();
    sw_engine_set_output_cap(e, 64);
    fire_and_resolve(e);
    CHECK_INT(nout, 0);
    CHECK_INT(sw_engine_stats_get(e)->render_failures, want);
    CHECK_INT(sw_engine_stats_get(e)->outputs, 0);
    CHECK_STR(sw_engine_status_json(e), ""); /* /status: none rather than half of one */
    CHECK_INT(sw_engine_rule_firing(e, 0), 0);
    CHECK_INT(sw_engine_stats_get(e)->accepted, 300 + 35 + 300);
    sw_engine_destroy(e);

    /* Triggers fit, statuses do not: the triggers come out whole. */
    e = fresh();
    sw_engine_set_output_cap(e, trigger_len);
    fire_and_resolve(e);
    CHECK_INT(nout, want_triggers + fitting_checks);
    CHECK_INT(sw_engine_stats_get(e)->render_failures, want - want_triggers - fitting_checks);
    CHECK_INT(sw_engine_stats_get(e)->triggers, want_triggers);
    CHECK_INT(sw_engine_stats_get(e)->statuses, 0);
    int i = find_with("\"state\":\"resolved\"");
    CHECK(i >= 0);
    if (i >= 0)
        CHECK_STR(outs[i], ref_trigger);
    sw_engine_destroy(e);

    /* The text form too. */
    e = fresh();
    sw_engine_set_text(e, 1);
    sw_engine_set_output_cap(e, 16);
    fire_and_resolve(e);
    CHECK_INT(nout, 0);
    CHECK_INT(sw_engine_stats_get(e)->render_failures, want);
    sw_engine_destroy(e);
    free(ref_trigger);
}

/* The instant hook sees each second once, final, in order: the counts of
 * second T-1 at instant T, equal to what was pushed for that second. */
static int64_t hook_T[64];
static uint64_t hook_outcomes[64], hook_errors[64];
static int hook_n, hook_emitting;

static void on_instant(void *ud, int64_t T, const win_counts *sec, int emitting)
{
    (void)ud;
    if (hook_n < 64) {
        hook_T[hook_n] = T;
        hook_outcomes[hook_n] = sec->outcomes;
        hook_errors[hook_n] = sec->errors;
        hook_n++;
    }
    hook_emitting += emitting;
}

static void test_instant_hook(void)
{
    sw_engine *e = fresh();
    hook_n = hook_emitting = 0;
    sw_engine_set_instant_hook(e, on_instant, NULL);
    sw_engine_set_emit_range(e, 1005, -1, NULL);
    for (int64_t s = 1000; s < 1010; s++) {
        for (int64_t k = 0; k < s - 1000; k++) {
            sw_event ev = ok_at(s);
            sw_engine_push(e, &ev);
        }
        if (s == 1004) {
            sw_event ev = err_at(s);
            sw_engine_push(e, &ev);
        }
    }
    sw_engine_advance(e, 1012);
    /* an event for a second already evaluated is late and changes nothing seen */
    sw_event late = ok_at(1003);
    CHECK_INT(sw_engine_push(e, &late), SW_LATE);
    CHECK(hook_n >= 12);
    for (int i = 0; i < hook_n; i++) {
        int64_t sec = hook_T[i] - 1;
        CHECK_INT(hook_T[i], hook_T[0] + i);
        uint64_t want = sec >= 1000 && sec < 1010 ? (uint64_t)(sec - 1000) + (sec == 1004) : 0;
        CHECK_INT(hook_outcomes[i], want);
        CHECK_INT(hook_errors[i], sec == 1004);
    }
    CHECK_INT(hook_T[hook_n - 1], 1012);
    CHECK_INT(hook_emitting, 1012 - 1005 + 1);
    sw_engine_destroy(e);
}

/* Cohorts kept first come (section 12, cohorts.max): a restart keeps the
 * values the run before kept, in its order, before any event; a value
 * kept by an event is judged from the next second; the rest are `other`. */
static void test_kept_cohorts(void)
{
    sw_config saved = cfg;
    cfg.cohorts.enabled = 1;
    strcpy(cfg.cohorts.field, "version");
    labels_add(&cfg.cohorts.values, "L");
    cfg.cohorts.max = 3;
    sw_engine *e = fresh();
    CHECK(e != NULL && sw_engine_cohort_names(e) != NULL);
    if (e == NULL || sw_engine_cohort_names(e) == NULL) {
        sw_engine_destroy(e);
        cfg = saved;
        return;
    }
    CHECK_INT(sw_engine_cohorts(e), 4); /* L, two kept first come, other */
    CHECK_INT(sw_engine_keep_cohort(e, "B", 990), 1);
    CHECK_INT(sw_engine_keep_cohort(e, "B", 995), 1); /* kept already: the same */
    CHECK_INT(sw_engine_keep_cohort(e, "L", 990), -1); /* listed */
    CHECK_INT(sw_engine_keep_cohort(e, "no way", 990), -1);
    CHECK_STR(sw_engine_cohort_name(e, 1), "B");
    CHECK(sw_engine_cohort_name(e, 2) == NULL); /* free */
    CHECK_STR(sw_engine_cohort_name(e, 3), "other");
    struct cohort_names *names = sw_engine_cohort_names(e);
    static const char *const seq[] = {"C", "A", "B", "L", "C", "D"};
    for (int i = 0; i < 6; i++) {
        sw_event ev = mk(SW_EV_REQUESTED, INT64_C(1000000) + i * 1000);
        ev.cohort = cohort_names_id(names, seq[i], 1);
        CHECK_INT(sw_engine_push(e, &ev), SW_ACCEPTED);
    }
    /* C took the last free cohort at second 1000; A and D are other */
    CHECK_STR(sw_engine_cohort_name(e, 2), "C");
    CHECK_INT(sw_engine_keep_cohort(e, "E", 990), -1); /* none free */
    CHECK_INT(sw_engine_cohort_events(e, 0), 1); /* L */
    CHECK_INT(sw_engine_cohort_events(e, 1), 1); /* B */
    CHECK_INT(sw_engine_cohort_events(e, 2), 2); /* C */
    CHECK_INT(sw_engine_cohort_events(e, 3), 2); /* A, D */
    sw_engine_destroy(e);
    cfg = saved;
}

int main(void)
{
    config_defaults(&cfg);
    test_classification();
    test_time();
    test_before_t0();
    test_live_clock();
    test_rules();
    test_rule_edges();
    test_zero_requests();
    test_status();
    test_status_targets();
    test_metrics();
    test_determinism();
    test_emit_range();
    test_render_overflow();
    test_instant_hook();
    test_kept_cohorts();
    reset_outs();
    CHECK_DONE();
}
