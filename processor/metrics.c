/* metrics.c: Prometheus text exposition of the engine and the counters,
 * and the HTTP routes that serve it. Invariant: each family appears once,
 * HELP and TYPE first, its samples together; only finite values are
 * printed, in their shortest round-trip form, and label values come from
 * the config or fixed names only; an exposition that did not fit is
 * reported as an error, never served cut short. */
#include "metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "config_cohorts.h"
#include "correlate.h"
#include "event.h"

/* One metric family being written; HELP/TYPE go out with the first sample. */
typedef struct fam {
    sw_buf *b;
    const char *name, *type, *help;
    int started;
    int rc; /* first buffer error */
} fam;

static void fam_init(fam *f, sw_buf *b, const char *name, const char *type, const char *help)
{
    f->b = b;
    f->name = name;
    f->type = type;
    f->help = help;
    f->started = 0;
    f->rc = 0;
}

static void keep_rc(int *acc, int rc)
{
    if (*acc == 0 && rc < 0)
        *acc = rc;
}

int metrics_label_escape(sw_buf *out, const char *s)
{
    int rc = 0;
    const char *run = s;
    for (; *s; s++) {
        const char *esc = NULL;
        if (*s == '\\')
            esc = "\\\\";
        else if (*s == '"')
            esc = "\\\"";
        else if (*s == '\n')
            esc = "\\n";
        if (esc == NULL)
            continue;
        keep_rc(&rc, buf_append(out, run, (size_t)(s - run)));
        keep_rc(&rc, buf_puts(out, esc));
        run = s + 1;
    }
    keep_rc(&rc, buf_append(out, run, (size_t)(s - run)));
    return rc;
}

/* name{k1="v1",k2="v2"} then the value text; k1/k2 NULL for fewer labels. */
static void sample_text(fam *f, const char *k1, const char *v1, const char *k2, const char *v2,
                        const char *value)
{
    sw_buf *b = f->b;
    if (!f->started) {
        keep_rc(&f->rc, buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name,
                                   f->type));
        f->started = 1;
    }
    keep_rc(&f->rc, buf_puts(b, f->name));
    if (k1) {
        keep_rc(&f->rc, buf_printf(b, "{%s=\"", k1));
        keep_rc(&f->rc, metrics_label_escape(b, v1));
        if (k2) {
            keep_rc(&f->rc, buf_printf(b, "\",%s=\"", k2));
            keep_rc(&f->rc, metrics_label_escape(b, v2));
        }
        keep_rc(&f->rc, buf_puts(b, "\"}"));
    }
    keep_rc(&f->rc, buf_printf(b, " %s\n", value));
}

/* A sample of a double; NAN and infinities are left out. */
static void sample_dbl(fam *f, const char *k1, const char *v1, const char *k2, const char *v2,
                       double v)
{
    char num[40];
    if (!isfinite(v))
        return;
    /* Whole numbers (counts, most thresholds) read best without exponent. */
    if (v == trunc(v) && fabs(v) < 1e15) {
        snprintf(num, sizeof(num), "%.0f", v == 0 ? 0.0 : v);
    } else {
        int n = fmt_double_shortest(num, sizeof(num), v);
        if (n < 0) {
            keep_rc(&f->rc, n); /* never a sample without its value */
            return;
        }
    }
    sample_text(f, k1, v1, k2, v2, num);
}

static void sample_u64(fam *f, const char *k1, const char *v1, uint64_t v)
{
    char num[24];
    snprintf(num, sizeof(num), "%" PRIu64, v);
    sample_text(f, k1, v1, NULL, NULL, num);
}

/* A family of one unlabelled counter. */
static void counter_u64(int *rc, sw_buf *out, const char *name, const char *help, uint64_t v)
{
    fam f;
    fam_init(&f, out, name, "counter", help);
    sample_u64(&f, NULL, NULL, v);
    keep_rc(rc, f.rc);
}

static void sample_i64(fam *f, const char *k1, const char *v1, int64_t v)
{
    char num[24];
    snprintf(num, sizeof(num), "%" PRId64, v);
    sample_text(f, k1, v1, NULL, NULL, num);
}

/* The per-window gauges of SEMANTICS section 4. */
static const struct window_family {
    const char *name;
    sw_metric metric;
    int ms; /* a latency in ms, exposed in seconds */
    const char *help;
} window_families[] = {
    {"soakwatch_window_requests", M_REQUESTS, 0,
     "Requested events in the window at the last evaluated instant."},
    {"soakwatch_window_outcomes", M_OUTCOMES, 0,
     "Outcomes (succeeded and fallback events) in the window."},
    {"soakwatch_window_successes", M_SUCCESSES, 0,
     "Succeeded events in the window."},
    {"soakwatch_window_errors", M_ERRORS, 0,
     "Outcomes with status >= 500 in the window."},
    {"soakwatch_window_declined", M_DECLINED, 0,
     "Declined events in the window."},
    {"soakwatch_window_success_ratio", M_SUCCESS_RATE, 0,
     "Successes / outcomes in the window; absent when there are no outcomes."},
    {"soakwatch_window_error_ratio", M_ERROR_RATE, 0,
     "Errors / outcomes in the window; absent when there are no outcomes."},
    {"soakwatch_window_latency_mean_seconds", M_LATENCY_MEAN_MS, 1,
     "Mean durationMs of the outcomes in the window, in seconds; absent without outcomes."},
    {"soakwatch_window_latency_p95_seconds", M_LATENCY_P95_MS, 1,
     "Nearest-rank 95th percentile of durationMs of the outcomes in the window, in seconds."},
    {"soakwatch_window_latency_p99_seconds", M_LATENCY_P99_MS, 1,
     "Nearest-rank 99th percentile of durationMs of the outcomes in the window, in seconds."},
    {"soakwatch_window_time_constraint_success_ratio", M_TIME_CONSTRAINT_SUCCESS_RATE, 0,
     "Successes meeting the time constraint / successes carrying meetsTimeConstraint."},
};

#define MAX_WINDOWS 64

static int render_windows(const sw_engine *e, const sw_config *cfg, sw_buf *out)
{
    int64_t ws[MAX_WINDOWS];
    int n = sw_engine_windows(e, ws, MAX_WINDOWS);
    if (n > MAX_WINDOWS)
        n = MAX_WINDOWS;
    char wl[MAX_WINDOWS][24];
    for (int i = 0; i < n; i++)
        snprintf(wl[i], sizeof(wl[i]), "%" PRId64, ws[i]);

    int rc = 0;
    fam f;
    for (size_t k = 0; k < sizeof(window_families) / sizeof(window_families[0]); k++) {
        const struct window_family *wf = &window_families[k];
        fam_init(&f, out, wf->name, "gauge", wf->help);
        for (int i = 0; i < n; i++) {
            double v = sw_engine_window_metric(e, ws[i], wf->metric, 0);
            /* Latencies: divide rather than multiply by 1e-3 so that whole
             * milliseconds print as their exact decimal seconds. */
            if (wf->ms)
                v = v / 1000.0;
            sample_dbl(&f, "window", wl[i], NULL, NULL, v);
        }
        keep_rc(&rc, f.rc);
    }

    fam_init(&f, out, "soakwatch_window_strategy_outcomes", "gauge",
             "Outcomes per compressionStrategy in the window (configured names, then other).");
    for (int i = 0; i < n; i++)
        for (int l = 0; l <= cfg->strategies.n; l++)
            sample_dbl(&f, "window", wl[i], "strategy", labels_name(&cfg->strategies, l),
                       sw_engine_window_metric(e, ws[i], M_STRATEGY, l));
    keep_rc(&rc, f.rc);

    fam_init(&f, out, "soakwatch_window_fallbacks", "gauge",
             "Fallbacks per reason in the window (configured names, then other).");
    for (int i = 0; i < n; i++)
        for (int l = 0; l <= cfg->reasons.n; l++)
            sample_dbl(&f, "window", wl[i], "reason", labels_name(&cfg->reasons, l),
                       sw_engine_window_metric(e, ws[i], M_FALLBACK_REASON, l));
    keep_rc(&rc, f.rc);
    return rc;
}

enum { RS_FIRING, RS_VALUE, RS_BLIND };

/* One of a rule's states as a number: over the whole topic (c < 0) or in
 * cohort c. */
static double rule_state_value(const sw_engine *e, int r, int c, int what)
{
    if (c < 0)
        return what == RS_FIRING ? (sw_engine_rule_firing(e, r) ? 1 : 0)
               : what == RS_VALUE ? sw_engine_rule_value(e, r)
                                  : (sw_engine_rule_blind(e, r) ? 1 : 0);
    return what == RS_FIRING ? (sw_engine_cohort_rule_firing(e, r, c) ? 1 : 0)
           : what == RS_VALUE ? sw_engine_cohort_rule_value(e, r, c)
                              : (sw_engine_cohort_rule_blind(e, r, c) ? 1 : 0);
}

/* A family of one sample per rule, or per cohort of a rule's scope
 * (labelled `cohort`, docs/semantics.md section 12). */
static int rule_family(const sw_engine *e, const sw_config *cfg, sw_buf *out, const char *name,
                       const char *help, int what)
{
    fam f;
    fam_init(&f, out, name, "gauge", help);
    for (int r = 0; r < cfg->n_rules; r++) {
        const sw_rule *rule = &cfg->rules[r];
        if (rule->cohort_scope == SW_SCOPE_WHOLE) {
            sample_dbl(&f, "rule", rule->name, NULL, NULL, rule_state_value(e, r, -1, what));
            continue;
        }
        for (int c = 0; c < sw_engine_cohorts(e); c++)
            if (SW_RULE_IN_COHORT(rule, c) && sw_engine_cohort_name(e, c))
                sample_dbl(&f, "rule", rule->name, "cohort", sw_engine_cohort_name(e, c),
                           rule_state_value(e, r, c, what));
    }
    return f.rc;
}

static int render_rules(const sw_engine *e, const sw_config *cfg, sw_buf *out)
{
    int rc = 0;
    fam f;
    keep_rc(&rc, rule_family(e, cfg, out, "soakwatch_rule_firing",
                             "1 while the rollback rule is firing, else 0.", RS_FIRING));
    keep_rc(&rc, rule_family(e, cfg, out, "soakwatch_rule_value",
                             "Value of the rule's metric at the last evaluated instant; absent "
                             "when null.", RS_VALUE));
    keep_rc(&rc, rule_family(e, cfg, out, "soakwatch_rule_blind",
                             "1 while the rule's window holds traffic but none of the field its "
                             "metric needs (mapped input), else 0.", RS_BLIND));
    if (cfg->cohorts.enabled) {
        fam_init(&f, out, "soakwatch_cohort_events_total", "counter",
                 "Accepted events by cohort (docs/semantics.md section 12).");
        for (int c = 0; c < sw_engine_cohorts(e); c++)
            if (sw_engine_cohort_name(e, c))
                sample_u64(&f, "cohort", sw_engine_cohort_name(e, c),
                           sw_engine_cohort_events(e, c));
        keep_rc(&rc, f.rc);
    }

    fam_init(&f, out, "soakwatch_rule_threshold", "gauge", "Configured threshold of the rule.");
    for (int r = 0; r < cfg->n_rules; r++)
        sample_dbl(&f, "rule", cfg->rules[r].name, NULL, NULL, cfg->rules[r].threshold);
    keep_rc(&rc, f.rc);

    if (cfg->rollback_check) {
        static const char *const check_states[3] = {"verified", "not_verified", "baseline"};
        fam_init(&f, out, "soakwatch_rollback_checks_total", "counter",
                 "Rollback checks emitted (docs/semantics.md section 10), by rule and state.");
        for (int r = 0; r < cfg->n_rules; r++)
            for (int k = 0; k < 3; k++) {
                char num[24];
                snprintf(num, sizeof(num), "%" PRIu64, sw_engine_rollback_checks(e, r, k));
                sample_text(&f, "rule", cfg->rules[r].name, "state", check_states[k], num);
            }
        keep_rc(&rc, f.rc);
    }

    static const char *const colours[3] = {"green", "yellow", "red"};
    int st = sw_engine_status(e);
    if (st >= 0 && st <= 2) {
        fam_init(&f, out, "soakwatch_status", "gauge",
                 "1 for the colour of the latest status event, 0 for the others.");
        for (int i = 0; i < 3; i++)
            sample_dbl(&f, "status", colours[i], NULL, NULL, i == st ? 1 : 0);
        keep_rc(&rc, f.rc);
        fam_init(&f, out, "soakwatch_status_code", "gauge",
                 "Latest status: 0 green, 1 yellow, 2 red.");
        sample_dbl(&f, NULL, NULL, NULL, NULL, st);
        keep_rc(&rc, f.rc);
    }
    return rc;
}

/* What became of the input events: accepted by kind, ignored, rejected by
 * reason, late, out of range. */
static int render_event_counters(const sw_engine_stats *st, const sw_counters *c, sw_buf *out)
{
    int rc = 0;
    fam f;
    static const char *const kinds[4] = {"requested", "succeeded", "fallback", "declined"};
    fam_init(&f, out, "soakwatch_events_total", "counter", "Accepted input events, by kind.");
    for (int k = 0; k < 4; k++)
        sample_u64(&f, "kind", kinds[k], st->accepted_by_kind[k]);
    keep_rc(&rc, f.rc);

    counter_u64(&rc, out, "soakwatch_events_ignored_total",
                "Valid events whose name is not a known event.",
                c->verdicts[DEC_IGNORED]);

    fam_init(&f, out, "soakwatch_events_rejected_total", "counter",
             "Rejected input messages, by reason.");
    for (int v = DEC_REJ_TOO_LARGE; v < DEC_VERDICT_COUNT; v++)
        sample_u64(&f, "reason", dec_verdict_name((dec_verdict)v), c->verdicts[v]);
    keep_rc(&rc, f.rc);

    counter_u64(&rc, out, "soakwatch_events_late_total",
                "Accepted events dropped as late (before the watermark).",
                st->late);

    counter_u64(&rc, out, "soakwatch_events_out_of_range_total",
                "Events rejected for a timestamp out of range, too far past a gap or in the "
                "future.",
                st->out_of_range);
    return rc;
}

/* The output events, their delivery, the dead letters, the control
 * channel's acknowledgements, and the messages read. */
static int render_flow_counters(const sw_engine_stats *st, const sw_counters *c, sw_buf *out)
{
    int rc = 0;
    fam f;
    fam_init(&f, out, "soakwatch_outputs_total", "counter", "Output events emitted, by type.");
    sample_u64(&f, "type", "rollback_trigger", st->triggers);
    sample_u64(&f, "type", "status", st->statuses);
    sample_u64(&f, "type", "rollback_check", st->rollback_checks);
    sample_u64(&f, "type", "soak_update", c->soak_updates);
    sample_u64(&f, "type", "soak_verdict", c->soak_verdicts);
    keep_rc(&rc, f.rc);

    counter_u64(&rc, out, "soakwatch_output_delivery_failures_total",
                "Output events whose delivery to the broker failed permanently.",
                c->delivery_failures);

    counter_u64(&rc, out, "soakwatch_dead_lettered_total",
                "Rejected messages copied to the dead-letter topic.",
                c->dead_lettered);

    counter_u64(&rc, out, "soakwatch_control_acks_total",
                "Acknowledgements and soak sign-offs taken from the control topic or file.",
                c->control_acks);

    counter_u64(&rc, out, "soakwatch_control_rejected_total",
                "Control messages or lines refused (malformed, too long, too far ahead, too many, "
                "unknown sign-off).",
                c->control_rejected);

    counter_u64(&rc, out, "soakwatch_messages_total",
                "Input messages or lines read.",
                c->messages);
    if (c->am_enabled) {
        fam_init(&f, out, "soakwatch_alertmanager_posts_total", "counter",
                 "HTTP POSTs of alerts to Alertmanager, by outcome.");
        sample_u64(&f, "result", "ok", c->am_posts_ok);
        sample_u64(&f, "result", "failed", c->am_posts_failed);
        keep_rc(&rc, f.rc);
    }
    return rc;
}

/* Mapped input: the events its filters left out, and the pairing of
 * input.correlate; each family only when the config uses it. */
static int render_mapping_counters(const sw_engine *e, const sw_counters *c, sw_buf *out)
{
    int rc = 0;
    const sw_config *cfg = e ? sw_engine_config(e) : NULL;
    if (cfg && cfg->input.n_filters > 0)
        counter_u64(&rc, out, "soakwatch_events_filtered_total",
                    "Known events left out by an input filter.", c->verdicts[DEC_FILTERED]);
    const sw_corr_stats *pairs = e ? sw_engine_corr_stats(e) : NULL;
    if (pairs) {
        fam f;
        fam_init(&f, out, "soakwatch_correlate_total", "counter",
                 "Derived latency: outcomes matched or not, requests replaced, dropped for "
                 "room (expired or evicted) or without a key.");
        sample_u64(&f, "result", "matched", pairs->matched);
        sample_u64(&f, "result", "unmatched", pairs->unmatched);
        sample_u64(&f, "result", "duplicate", pairs->duplicate);
        sample_u64(&f, "result", "evicted", pairs->evicted);
        sample_u64(&f, "result", "expired", pairs->expired);
        sample_u64(&f, "result", "unkeyed", pairs->unkeyed);
        keep_rc(&rc, f.rc);
    }
    return rc;
}

/* Live mode only: the consumer's lag and stalls, and the watermark's lag. */
static int render_live_gauges(const sw_counters *c, sw_buf *out)
{
    int rc = 0;
    fam f;
    fam_init(&f, out, "soakwatch_consumer_lag_messages", "gauge",
             "Input partition high watermark minus the consumer position.");
    int np = c->n_partitions < SW_MAX_PARTITIONS ? c->n_partitions : SW_MAX_PARTITIONS;
    for (int p = 0; p < np; p++) {
        if (c->consumer_lag[p] < 0)
            continue; /* unknown yet */
        char pl[16];
        snprintf(pl, sizeof(pl), "%d", p);
        sample_i64(&f, "partition", pl, c->consumer_lag[p]);
    }
    keep_rc(&rc, f.rc);
    counter_u64(&rc, out, "soakwatch_input_pauses_total",
                "Input partitions paused because their staging ring was full.",
                c->input_pauses);
    counter_u64(&rc, out, "soakwatch_input_overflow_total",
                "Events of one message (OTLP) dropped for lack of room in a staging ring.",
                c->input_overflow);
    counter_u64(&rc, out, "soakwatch_fetch_wakeups_total",
                "Times the consumer's fetcher was woken after its prefetch queue filled.",
                c->fetch_wakeups);
    counter_u64(&rc, out, "soakwatch_input_interruptions_total",
                "Broker connections lost while consuming (partition ends then re-established).",
                c->input_interruptions);
    fam_init(&f, out, "soakwatch_watermark_lag_seconds", "gauge",
             "Wall clock minus the event-time watermark.");
    sample_dbl(&f, NULL, NULL, NULL, NULL, c->watermark_lag_s);
    keep_rc(&rc, f.rc);
    return rc;
}

/* The soak cadence (docs/semantics.md section 11), once it has started. */
static int render_soak(const sw_counters *c, sw_buf *out)
{
    fam f;
    int rc = 0;
    if (c->soak_hour < 0)
        return 0;
    fam_init(&f, out, "soakwatch_soak_hour", "gauge",
             "Hour of the soak whose period the last soak_update closed (0: none yet).");
    sample_i64(&f, NULL, NULL, c->soak_hour);
    keep_rc(&rc, f.rc);
    fam_init(&f, out, "soakwatch_soak_last_update_status", "gauge",
             "Worst status of the last soak period: 0 green, 1 yellow, 2 red, -1 none.");
    sample_i64(&f, NULL, NULL, c->soak_last_status);
    keep_rc(&rc, f.rc);
    /* A state set: 1 for the last soak_verdict's verdict, all 0 before the
     * first, so that the family is there from the soak's start. */
    static const char *const verdicts[3] = {"go", "no_go", "pending"};
    fam_init(&f, out, "soakwatch_soak_verdict", "gauge",
             "1 for the verdict of the last soak_verdict event, 0 for the others (all 0 before "
             "the first).");
    for (int i = 0; i < 3; i++)
        sample_dbl(&f, "verdict", verdicts[i], NULL, NULL, i == c->soak_verdict ? 1 : 0);
    keep_rc(&rc, f.rc);
    fam_init(&f, out, "soakwatch_soak_verdict_hour", "gauge",
             "Soak hour of the last soak_verdict event: 24 provisional, soak.hours final "
             "(0: none yet).");
    sample_i64(&f, NULL, NULL, c->soak_verdict_hour);
    keep_rc(&rc, f.rc);
    return rc;
}

static int render_counters(const sw_engine *e, const sw_counters *c, sw_buf *out)
{
    static const sw_engine_stats none;
    const sw_engine_stats *st = e ? sw_engine_stats_get(e) : &none;
    int rc = 0;
    keep_rc(&rc, render_event_counters(st, c, out));
    keep_rc(&rc, render_flow_counters(st, c, out));
    keep_rc(&rc, render_mapping_counters(e, c, out));
    if (c->live)
        keep_rc(&rc, render_live_gauges(c, out));
    return rc;
}

int metrics_render(const sw_engine *e, const sw_config *cfg, const sw_counters *c,
                   const char *version, sw_buf *out)
{
    int rc = 0;
    if (e) {
        keep_rc(&rc, render_windows(e, cfg, out));
        keep_rc(&rc, render_rules(e, cfg, out));
    }
    keep_rc(&rc, render_counters(e, c, out));
    if (cfg->soak.enabled)
        keep_rc(&rc, render_soak(c, out));

    fam f;
    fam_init(&f, out, "soakwatch_ready", "gauge",
             "1 when windows are rebuilt and the broker is reachable, else 0.");
    sample_dbl(&f, NULL, NULL, NULL, NULL, c->ready ? 1 : 0);
    keep_rc(&rc, f.rc);

    fam_init(&f, out, "soakwatch_build_info", "gauge",
             "Always 1; the version label names the build.");
    sample_dbl(&f, "version", version ? version : "unknown", NULL, NULL, 1);
    keep_rc(&rc, f.rc);

    if (e) {
        fam_init(&f, out, "soakwatch_window_memory_bytes", "gauge",
                 "Bytes of window memory, fixed at startup.");
        sample_u64(&f, NULL, NULL, (uint64_t)sw_engine_bytes(e));
        keep_rc(&rc, f.rc);
    }

    int64_t ms = e ? sw_engine_max_second(e) : INT64_MIN;
    if (ms != INT64_MIN) {
        fam_init(&f, out, "soakwatch_event_time_seconds", "gauge",
                 "Greatest event-time second of any accepted event (Unix time).");
        sample_i64(&f, NULL, NULL, ms);
        keep_rc(&rc, f.rc);
    }

    fam_init(&f, out, "soakwatch_start_time_seconds", "gauge", "Process start time (Unix time).");
    sample_i64(&f, NULL, NULL, c->started_unix_s);
    keep_rc(&rc, f.rc);

    if (rc == 0 && out->failed)
        rc = -ENOBUFS;
    return rc;
}

static int path_is(const char *path, size_t len, const char *want)
{
    return strlen(want) == len && memcmp(path, want, len) == 0;
}

int metrics_http_handler(void *ud, const char *path, size_t path_len, http_reply *reply)
{
    const metrics_source *src = ud;
    if (path_is(path, path_len, "/healthz"))
        return buf_puts(reply->body, "ok\n");
    if (path_is(path, path_len, "/readyz")) {
        if (src->counters->ready)
            return buf_puts(reply->body, "ready\n");
        reply->status = 503;
        return buf_puts(reply->body, "not ready\n");
    }
    if (path_is(path, path_len, "/metrics")) {
        reply->content_type = METRICS_CONTENT_TYPE;
        int rc = metrics_render(src->engine, src->cfg, src->counters, src->version, reply->body);
        if (rc != 0)
            fprintf(stderr, "soakwatch: /metrics not served: the exposition is larger than the "
                    "%zu-byte reply cap or memory ran out\n", reply->body->cap);
        return rc;
    }
    if (path_is(path, path_len, "/status")) {
        const char *json = src->engine ? sw_engine_status_json(src->engine) : "";
        if (json == NULL || json[0] == '\0') {
            reply->status = 503;
            return buf_puts(reply->body, "no status yet\n");
        }
        reply->content_type = "application/json";
        int rc = buf_puts(reply->body, json);
        return rc ? rc : buf_puts(reply->body, "\n");
    }
    reply->status = 404;
    return buf_puts(reply->body, "not found\n");
}
