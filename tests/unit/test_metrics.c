/* test_metrics.c: the Prometheus exposition of an engine fed by hand, and
 * of the soak cadence's counters set by hand. The expected lines are worked
 * out in the comments from SEMANTICS and the built-in config, and the whole
 * text is checked with promtool. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "counters.h"
#include "engine.h"
#include "event.h"
#include "metrics.h"

#define B INT64_C(1800000000) /* a multiple of 60: status instants are B + 60k */

static sw_config cfg;

static void no_emit(void *ud, const sw_output *o)
{
    (void)ud;
    (void)o;
}

static uint8_t strategy(const char *name)
{
    return labels_lookup(&cfg.strategies, name, strlen(name));
}

static uint8_t reason(const char *name)
{
    return labels_lookup(&cfg.reasons, name, strlen(name));
}

static sw_event ev(int kind, int64_t s)
{
    sw_event e;
    memset(&e, 0, sizeof(e));
    e.kind = (uint8_t)kind;
    e.ts_ms = s * 1000;
    e.tc = -1;
    e.strategy = LABEL_NONE;
    e.reason = LABEL_NONE;
    return e;
}

/* Does text hold exactly this line? */
static int has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = strstr(text, line); p; p = strstr(p + 1, line))
        if ((p == text || p[-1] == '\n') && p[n] == '\n')
            return 1;
    return 0;
}

#define CHECK_LINE(text, line)                                                    \
    do {                                                                          \
        if (!has_line(text, line)) {                                              \
            fprintf(stderr, "%s:%d: missing line: %s\n", __FILE__, __LINE__, line); \
            check_failures++;                                                     \
        }                                                                         \
    } while (0)

#define CHECK_NO(text, needle)                                                    \
    do {                                                                          \
        if (strstr(text, needle)) {                                               \
            fprintf(stderr, "%s:%d: unexpected: %s\n", __FILE__, __LINE__, needle); \
            check_failures++;                                                     \
        }                                                                         \
    } while (0)

/* The value of the sample whose line starts with prefix ("name{...} "), or NAN. */
static double value_of(const char *text, const char *prefix)
{
    size_t n = strlen(prefix);
    for (const char *p = strstr(text, prefix); p; p = strstr(p + 1, prefix))
        if (p == text || p[-1] == '\n')
            return strtod(p + n, NULL);
    return NAN;
}

/* Each family: HELP then TYPE, once; every sample line's name belongs to
 * the family last declared. */
static void check_structure(const char *text)
{
    char last[128] = "";
    char seen[64][128];
    int nseen = 0;
    const char *p = text;
    while (*p) {
        const char *eol = strchr(p, '\n');
        CHECK(eol != NULL);
        if (eol == NULL)
            return;
        size_t len = (size_t)(eol - p);
        char name[128];
        if (strncmp(p, "# HELP ", 7) == 0) {
            sscanf(p + 7, "%127s", name);
            for (int i = 0; i < nseen; i++)
                if (strcmp(seen[i], name) == 0) {
                    fprintf(stderr, "family %s declared twice\n", name);
                    check_failures++;
                }
            if (nseen < 64)
                strcpy(seen[nseen++], name);
            snprintf(last, sizeof(last), "%s", name);
        } else if (strncmp(p, "# TYPE ", 7) == 0) {
            sscanf(p + 7, "%127s", name);
            CHECK_STR(name, last);
        } else {
            size_t k = strcspn(p, "{ ");
            CHECK(k < len);
            CHECK(strlen(last) == k && strncmp(p, last, k) == 0);
        }
        p = eol + 1;
    }
}

/* promtool's linter over the text. Without promtool the check is skipped,
 * except in CI, where it must be installed. */
static void check_promtool(const char *text, size_t len)
{
    if (system("command -v promtool >/dev/null 2>&1") != 0) {
        if (getenv("CI") != NULL) {
            fprintf(stderr, "promtool not found (required when CI is set)\n");
            check_failures++;
        } else {
            fprintf(stderr, "promtool not found: lint skipped\n");
        }
        return;
    }
    FILE *f = popen("promtool check metrics", "w");
    CHECK(f != NULL);
    if (f == NULL)
        return;
    fwrite(text, 1, len, f);
    int st = pclose(f);
    CHECK_INT(st, 0);
}

static void test_escape(void)
{
    sw_buf b;
    buf_init(&b, 256);
    CHECK_INT(metrics_label_escape(&b, "a\"b\\c\nd"), 0);
    CHECK_STR(b.data, "a\\\"b\\\\c\\nd");
    buf_reset(&b);
    CHECK_INT(metrics_label_escape(&b, "plain"), 0);
    CHECK_STR(b.data, "plain");
    buf_free(&b);
}

/* GET path through the HTTP handler; returns the status, body in b. */
static int get(metrics_source *src, const char *path, sw_buf *b, const char **ctype)
{
    buf_reset(b);
    http_reply r = {200, "text/plain; charset=utf-8", b};
    int rc = metrics_http_handler(src, path, strlen(path), &r);
    CHECK_INT(rc, 0);
    *ctype = r.content_type;
    return r.status;
}

static void check_handler(sw_engine *e, sw_counters *c, const char *rendered)
{
    metrics_source src = {e, &cfg, c, "9.9.9"};
    sw_buf b;
    buf_init(&b, 1 << 20);
    const char *ct;
    CHECK_INT(get(&src, "/healthz", &b, &ct), 200);
    CHECK_STR(b.data, "ok\n");
    CHECK_INT(get(&src, "/readyz", &b, &ct), 200);
    c->ready = 0;
    CHECK_INT(get(&src, "/readyz", &b, &ct), 503);
    c->ready = 1;
    CHECK_INT(get(&src, "/metrics", &b, &ct), 200);
    CHECK_STR(b.data, rendered);
    CHECK_STR(ct, "text/plain; version=0.0.4; charset=utf-8");
    CHECK_INT(get(&src, "/status", &b, &ct), 200);
    CHECK_STR(ct, "application/json");
    CHECK(b.len > 0 && strncmp(b.data, sw_engine_status_json(e), b.len - 1) == 0 &&
          b.data[b.len - 1] == '\n');
    CHECK(strstr(b.data, "\"yellow\"") != NULL);
    CHECK_INT(get(&src, "/nope", &b, &ct), 404);
    CHECK_INT(get(&src, "/metrics/", &b, &ct), 404);
    /* Before an engine exists: counters only, and no status. */
    src.engine = NULL;
    CHECK_INT(get(&src, "/status", &b, &ct), 503);
    CHECK_INT(get(&src, "/metrics", &b, &ct), 200);
    CHECK(strstr(b.data, "soakwatch_messages_total 12\n") != NULL);
    CHECK(strstr(b.data, "soakwatch_window_") == NULL);
    buf_free(&b);
}

static void test_render(void)
{
    char err[256];
    config_defaults(&cfg);
    sw_engine *e = sw_engine_create(&cfg, no_emit, NULL, err, sizeof(err));
    if (e == NULL) {
        fprintf(stderr, "engine: %s\n", err);
        check_failures++;
        return;
    }
    sw_counters c;
    memset(&c, 0, sizeof(c));
    c.watermark_lag_s = NAN;
    c.started_unix_s = 1700000000;

    sw_buf out;
    buf_init(&out, 1 << 20);

    /* Before any event: no status, no event time. */
    CHECK_INT(metrics_render(e, &cfg, &c, "9.9.9", &out), 0);
    CHECK_NO(out.data, "soakwatch_status");
    CHECK_NO(out.data, "soakwatch_event_time_seconds");
    CHECK_NO(out.data, "soakwatch_consumer_lag_messages"); /* not live */
    CHECK_LINE(out.data, "soakwatch_build_info{version=\"9.9.9\"} 1");
    CHECK_LINE(out.data, "soakwatch_start_time_seconds 1700000000");
    CHECK_LINE(out.data, "soakwatch_ready 0");
    check_structure(out.data);

    /* B: a request and a success (100 ms, core_only, met its target).
     * B+1: a request and a fallback (300 ms, internal_error, no status:
     * an error per section 2). B+2: a request and a decline. */
    sw_event x = ev(SW_EV_REQUESTED, B);
    CHECK_INT(sw_engine_push(e, &x), SW_ACCEPTED);
    x = ev(SW_EV_SUCCEEDED, B);
    x.has_duration = 1;
    x.duration_ms = 100;
    x.strategy = strategy("core_only");
    x.tc = 1;
    CHECK_INT(sw_engine_push(e, &x), SW_ACCEPTED);
    x = ev(SW_EV_REQUESTED, B + 1);
    CHECK_INT(sw_engine_push(e, &x), SW_ACCEPTED);
    x = ev(SW_EV_FALLBACK, B + 1);
    x.has_duration = 1;
    x.duration_ms = 300;
    x.strategy = strategy("none");
    x.reason = reason("internal_error");
    x.reason_error = 1;
    CHECK_INT(sw_engine_push(e, &x), SW_ACCEPTED);
    x = ev(SW_EV_REQUESTED, B + 2);
    CHECK_INT(sw_engine_push(e, &x), SW_ACCEPTED);
    x = ev(SW_EV_DECLINED, B + 2);
    CHECK_INT(sw_engine_push(e, &x), SW_ACCEPTED);
    /* A request at B+10 moves the watermark to B+8 (lateness 2): the last
     * evaluated instant is B+8, whose windows hold seconds up to B+7, so
     * all of the above and not this one. */
    x = ev(SW_EV_REQUESTED, B + 10);
    CHECK_INT(sw_engine_push(e, &x), SW_ACCEPTED);

    buf_reset(&out);
    CHECK_INT(metrics_render(e, &cfg, &c, "9.9.9", &out), 0);
    const char *t = out.data;
    static const char *const ws[3] = {"300", "600", "1800"};
    char line[256];
    for (int i = 0; i < 3; i++) {
        snprintf(line, sizeof(line), "soakwatch_window_requests{window=\"%s\"} 3", ws[i]);
        CHECK_LINE(t, line);
        snprintf(line, sizeof(line), "soakwatch_window_outcomes{window=\"%s\"} 2", ws[i]);
        CHECK_LINE(t, line);
        snprintf(line, sizeof(line), "soakwatch_window_successes{window=\"%s\"} 1", ws[i]);
        CHECK_LINE(t, line);
        snprintf(line, sizeof(line), "soakwatch_window_errors{window=\"%s\"} 1", ws[i]);
        CHECK_LINE(t, line);
        snprintf(line, sizeof(line), "soakwatch_window_declined{window=\"%s\"} 1", ws[i]);
        CHECK_LINE(t, line);
        snprintf(line, sizeof(line), "soakwatch_window_success_ratio{window=\"%s\"} 0.5", ws[i]);
        CHECK_LINE(t, line);
        snprintf(line, sizeof(line), "soakwatch_window_error_ratio{window=\"%s\"} 0.5", ws[i]);
        CHECK_LINE(t, line);
        /* (100 + 300) / 2 = 200 ms */
        snprintf(line, sizeof(line), "soakwatch_window_latency_mean_seconds{window=\"%s\"} 0.2",
                 ws[i]);
        CHECK_LINE(t, line);
        /* One success with a boolean, and it met its target. */
        snprintf(line, sizeof(line),
                 "soakwatch_window_time_constraint_success_ratio{window=\"%s\"} 1", ws[i]);
        CHECK_LINE(t, line);
        /* Nearest rank of 2 values: p95 and p99 are the 2nd, 300 ms, from a
         * histogram within 1%. */
        snprintf(line, sizeof(line), "soakwatch_window_latency_p95_seconds{window=\"%s\"} ", ws[i]);
        CHECK_DBL(value_of(t, line), 0.3, 0.003);
        snprintf(line, sizeof(line), "soakwatch_window_latency_p99_seconds{window=\"%s\"} ", ws[i]);
        CHECK_DBL(value_of(t, line), 0.3, 0.003);
        snprintf(line, sizeof(line),
                 "soakwatch_window_strategy_outcomes{window=\"%s\",strategy=\"core_only\"} 1",
                 ws[i]);
        CHECK_LINE(t, line);
        snprintf(line, sizeof(line),
                 "soakwatch_window_strategy_outcomes{window=\"%s\",strategy=\"core_plus_block\"} 0",
                 ws[i]);
        CHECK_LINE(t, line);
        snprintf(line, sizeof(line),
                 "soakwatch_window_strategy_outcomes{window=\"%s\",strategy=\"other\"} 0", ws[i]);
        CHECK_LINE(t, line);
        snprintf(line, sizeof(line),
                 "soakwatch_window_fallbacks{window=\"%s\",reason=\"internal_error\"} 1", ws[i]);
        CHECK_LINE(t, line);
        snprintf(line, sizeof(line),
                 "soakwatch_window_fallbacks{window=\"%s\",reason=\"plan_not_found\"} 0", ws[i]);
        CHECK_LINE(t, line);
        snprintf(line, sizeof(line), "soakwatch_window_fallbacks{window=\"%s\",reason=\"other\"} 0",
                 ws[i]);
        CHECK_LINE(t, line);
    }
    /* Every configured strategy and reason, plus other, per window. */
    int nstrat = 0, nreason = 0;
    for (const char *p = strstr(t, "\nsoakwatch_window_strategy_outcomes{"); p;
         p = strstr(p + 1, "\nsoakwatch_window_strategy_outcomes{"))
        nstrat++;
    for (const char *p = strstr(t, "\nsoakwatch_window_fallbacks{"); p;
         p = strstr(p + 1, "\nsoakwatch_window_fallbacks{"))
        nreason++;
    int64_t wins[16];
    int nw = sw_engine_windows(e, wins, 16);
    CHECK_INT(nstrat, nw * (cfg.strategies.n + 1));
    CHECK_INT(nreason, nw * (cfg.reasons.n + 1));

    /* The runbook's rules: none can fire before its window is observed. */
    CHECK_LINE(t, "soakwatch_rule_firing{rule=\"error_rate_high\"} 0");
    CHECK_LINE(t, "soakwatch_rule_firing{rule=\"zero_requests\"} 0");
    CHECK_LINE(t, "soakwatch_rule_threshold{rule=\"error_rate_high\"} 0.1");
    CHECK_LINE(t, "soakwatch_rule_threshold{rule=\"success_rate_low\"} 0.9");
    CHECK_LINE(t, "soakwatch_rule_threshold{rule=\"latency_high\"} 5000");
    CHECK_LINE(t, "soakwatch_rule_threshold{rule=\"zero_requests\"} 0");
    /* Section 10: no rollback check yet, each state of each rule at 0. */
    CHECK_LINE(t, "# TYPE soakwatch_rollback_checks_total counter");
    CHECK_LINE(t, "soakwatch_rollback_checks_total{rule=\"error_rate_high\",state=\"verified\"} 0");
    CHECK_LINE(t, "soakwatch_rollback_checks_total{rule=\"zero_requests\",state=\"not_verified\"} 0");
    CHECK_LINE(t, "soakwatch_rollback_checks_total{rule=\"latency_high\",state=\"baseline\"} 0");
    /* First status at B+60 (t0 + status interval): not yet. */
    CHECK_NO(t, "soakwatch_status");
    CHECK_LINE(t, "soakwatch_event_time_seconds 1800000010");
    snprintf(line, sizeof(line), "soakwatch_window_memory_bytes %zu", sw_engine_bytes(e));
    CHECK_LINE(t, line);
    check_structure(t);

    /* A request at B+64: watermark B+62, so B+60 is evaluated and a status
     * emitted: yellow (2 outcomes in the 300 s window, fewer than 20).
     * A request at B is then late (B < B+64 - 2); one at -1 s is out of
     * range. */
    x = ev(SW_EV_REQUESTED, B + 64);
    CHECK_INT(sw_engine_push(e, &x), SW_ACCEPTED);
    x = ev(SW_EV_REQUESTED, B);
    CHECK_INT(sw_engine_push(e, &x), SW_LATE);
    x = ev(SW_EV_REQUESTED, -1);
    CHECK_INT(sw_engine_push(e, &x), SW_OUT_OF_RANGE);

    c.messages = 12;
    c.verdicts[DEC_IGNORED] = 2;
    c.verdicts[DEC_REJ_INVALID_JSON] = 3;
    c.delivery_failures = 4;
    c.dead_lettered = 3;
    c.live = 1;
    c.ready = 1;
    c.n_partitions = 2;
    c.consumer_lag[0] = 5;
    c.consumer_lag[1] = -1; /* unknown: left out */
    c.watermark_lag_s = 1.5;

    buf_reset(&out);
    CHECK_INT(metrics_render(e, &cfg, &c, "9.9.9", &out), 0);
    t = out.data;
    /* B, B+1, B+2, B+10 in the windows at B+62. */
    CHECK_LINE(t, "soakwatch_window_requests{window=\"300\"} 4");
    CHECK_LINE(t, "soakwatch_status{status=\"green\"} 0");
    CHECK_LINE(t, "soakwatch_status{status=\"yellow\"} 1");
    CHECK_LINE(t, "soakwatch_status{status=\"red\"} 0");
    CHECK_LINE(t, "soakwatch_status_code 1");
    /* Accepted: requests at B, B+1, B+2, B+10, B+64; one of each other kind.
     * The late and the out-of-range one are not accepted. */
    CHECK_LINE(t, "soakwatch_events_total{kind=\"requested\"} 5");
    CHECK_LINE(t, "soakwatch_events_total{kind=\"succeeded\"} 1");
    CHECK_LINE(t, "soakwatch_events_total{kind=\"fallback\"} 1");
    CHECK_LINE(t, "soakwatch_events_total{kind=\"declined\"} 1");
    CHECK_LINE(t, "soakwatch_events_late_total 1");
    CHECK_LINE(t, "soakwatch_events_out_of_range_total 1");
    CHECK_LINE(t, "soakwatch_events_ignored_total 2");
    snprintf(line, sizeof(line), "soakwatch_events_rejected_total{reason=\"%s\"} 3",
             dec_verdict_name(DEC_REJ_INVALID_JSON));
    CHECK_LINE(t, line);
    snprintf(line, sizeof(line), "soakwatch_events_rejected_total{reason=\"%s\"} 0",
             dec_verdict_name(DEC_REJ_TS));
    CHECK_LINE(t, line);
    CHECK_LINE(t, "soakwatch_outputs_total{type=\"rollback_trigger\"} 0");
    CHECK_LINE(t, "soakwatch_outputs_total{type=\"status\"} 1");
    CHECK_LINE(t, "soakwatch_outputs_total{type=\"rollback_check\"} 0");
    CHECK_LINE(t, "soakwatch_outputs_total{type=\"soak_update\"} 0");
    CHECK_LINE(t, "soakwatch_outputs_total{type=\"soak_verdict\"} 0");
    CHECK_NO(t, "soakwatch_soak_"); /* no soak section */
    CHECK_LINE(t, "soakwatch_output_delivery_failures_total 4");
    CHECK_LINE(t, "soakwatch_dead_lettered_total 3");
    CHECK_LINE(t, "soakwatch_messages_total 12");
    CHECK_LINE(t, "soakwatch_consumer_lag_messages{partition=\"0\"} 5");
    CHECK_NO(t, "partition=\"1\"");
    CHECK_LINE(t, "soakwatch_watermark_lag_seconds 1.5");
    CHECK_LINE(t, "soakwatch_ready 1");
    CHECK_LINE(t, "soakwatch_event_time_seconds 1800000064");
    CHECK_NO(t, "NaN");
    CHECK_NO(t, "Inf");
    CHECK_NO(t, "nan");
    CHECK_NO(t, "inf ");
    check_structure(t);
    check_promtool(out.data, out.len);

    check_handler(e, &c, out.data);

    /* A buffer too small: an error, never a silently cut exposition. */
    sw_buf small;
    buf_init(&small, 100);
    CHECK_INT(metrics_render(e, &cfg, &c, "9.9.9", &small), -ENOBUFS);
    buf_free(&small);

    buf_free(&out);
    sw_engine_destroy(e);
}

/* The soak cadence's families (docs/semantics.md section 11), from the
 * counters the follower writes: absent until the soak starts; then the
 * hour, the last update's status and the verdict state set, all 0 before
 * the first verdict; soak outputs counted in soakwatch_outputs_total. */
static void test_render_soak(void)
{
    static sw_config scfg;
    config_defaults(&scfg);
    scfg.soak.enabled = 1;
    sw_counters c;
    memset(&c, 0, sizeof(c));
    c.watermark_lag_s = NAN;
    c.soak_hour = -1; /* not started */
    c.soak_last_status = -1;
    c.soak_verdict = -1;
    sw_buf out;
    buf_init(&out, 1 << 20);
    CHECK_INT(metrics_render(NULL, &scfg, &c, "9.9.9", &out), 0);
    CHECK_NO(out.data, "soakwatch_soak_");

    c.soak_hour = 0; /* started, nothing closed yet */
    buf_reset(&out);
    CHECK_INT(metrics_render(NULL, &scfg, &c, "9.9.9", &out), 0);
    CHECK_LINE(out.data, "soakwatch_soak_hour 0");
    CHECK_LINE(out.data, "soakwatch_soak_last_update_status -1");
    CHECK_LINE(out.data, "soakwatch_soak_verdict{verdict=\"go\"} 0");
    CHECK_LINE(out.data, "soakwatch_soak_verdict{verdict=\"no_go\"} 0");
    CHECK_LINE(out.data, "soakwatch_soak_verdict{verdict=\"pending\"} 0");
    CHECK_LINE(out.data, "soakwatch_soak_verdict_hour 0");

    /* Hour 24: 11 updates, the last red; the provisional verdict pending. */
    c.soak_hour = 24;
    c.soak_last_status = 2;
    c.soak_updates = 11;
    c.soak_verdicts = 1;
    c.soak_verdict = 2;
    c.soak_verdict_hour = 24;
    buf_reset(&out);
    CHECK_INT(metrics_render(NULL, &scfg, &c, "9.9.9", &out), 0);
    const char *t = out.data;
    CHECK_LINE(t, "# TYPE soakwatch_soak_verdict gauge");
    CHECK_LINE(t, "soakwatch_soak_hour 24");
    CHECK_LINE(t, "soakwatch_soak_last_update_status 2");
    CHECK_LINE(t, "soakwatch_soak_verdict{verdict=\"go\"} 0");
    CHECK_LINE(t, "soakwatch_soak_verdict{verdict=\"no_go\"} 0");
    CHECK_LINE(t, "soakwatch_soak_verdict{verdict=\"pending\"} 1");
    CHECK_LINE(t, "soakwatch_soak_verdict_hour 24");
    CHECK_LINE(t, "soakwatch_outputs_total{type=\"soak_update\"} 11");
    CHECK_LINE(t, "soakwatch_outputs_total{type=\"soak_verdict\"} 1");
    check_structure(t);
    check_promtool(out.data, out.len);

    /* Hour 48: the final verdict, no_go, replaces it. */
    c.soak_hour = 48;
    c.soak_updates = 18;
    c.soak_verdicts = 2;
    c.soak_verdict = 1;
    c.soak_verdict_hour = 48;
    buf_reset(&out);
    CHECK_INT(metrics_render(NULL, &scfg, &c, "9.9.9", &out), 0);
    t = out.data;
    CHECK_LINE(t, "soakwatch_soak_verdict{verdict=\"no_go\"} 1");
    CHECK_LINE(t, "soakwatch_soak_verdict{verdict=\"pending\"} 0");
    CHECK_LINE(t, "soakwatch_soak_verdict_hour 48");
    CHECK_LINE(t, "soakwatch_outputs_total{type=\"soak_verdict\"} 2");
    check_structure(t);
    buf_free(&out);
}

int main(void)
{
    test_escape();
    test_render();
    test_render_soak();
    CHECK_DONE();
}
