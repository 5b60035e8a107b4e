/* input_check.c: a sample of input through the decoder and the pairing, one
 * window over all of it, and each rule's blindness judged on that window
 * with the engine's own test (wm_blind). */
#include "input_check.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "correlate.h"
#include "event.h"
#include "pipeline.h"
#include "wmetrics.h"

static const char *const field_key[] = {
    [SW_IN_DURATION] = "duration", [SW_IN_STATUS] = "status", [SW_IN_REASON] = "reason",
    [SW_IN_STRATEGY] = "strategy", [SW_IN_TC] = "time_constraint",
};

static int is_null(const sw_config *cfg, int f)
{
    return cfg->input.fields[f].n_paths == 0;
}

int input_rule_unseeable(const sw_config *cfg, int r, char *why, size_t cap)
{
    const sw_rule *rule = &cfg->rules[r];
    int f = -1;
    switch (rule->metric) {
    case M_ERRORS:
    case M_ERROR_RATE:
        if (is_null(cfg, SW_IN_STATUS) && is_null(cfg, SW_IN_REASON)) {
            snprintf(why, cap, "rule %s can never see an error: input.fields.status and "
                     "input.fields.reason are both null", rule->name);
            return 1;
        }
        return 0;
    case M_LATENCY_MEAN_MS:
    case M_LATENCY_P95_MS:
    case M_LATENCY_P99_MS:
        if (is_null(cfg, SW_IN_DURATION) && !cfg->input.correlate) {
            snprintf(why, cap, "rule %s can never see a latency: input.fields.duration is null "
                     "and input.correlate is not set", rule->name);
            return 1;
        }
        return 0;
    case M_TIME_CONSTRAINT_SUCCESS_RATE: f = SW_IN_TC; break;
    case M_FALLBACK_REASON: f = SW_IN_REASON; break;
    case M_STRATEGY: f = SW_IN_STRATEGY; break;
    default: return 0;
    }
    if (!is_null(cfg, f))
        return 0;
    snprintf(why, cap, "rule %s can never be judged: input.fields.%s is null", rule->name,
             field_key[f]);
    return 1;
}

int input_warn_unseeable(const sw_config *cfg, FILE *err)
{
    int n = 0;
    char why[256];
    for (int r = 0; r < cfg->n_rules; r++)
        if (input_rule_unseeable(cfg, r, why, sizeof(why))) {
            fprintf(err, "soakwatch: warning: %s\n", why);
            n++;
        }
    return n;
}

/* What the sample held. */
typedef struct tally {
    const sw_config *cfg;
    sw_corr *corr;
    uint64_t verdicts[DEC_VERDICT_COUNT];
    uint64_t requests, outcomes, successes, fallbacks;
    uint64_t own_duration, derived, status, reason_fb, informed_fb, strategy, tc;
    uint64_t strategies[WIN_MAX_LABELS + 1], reasons[WIN_MAX_LABELS + 1];
} tally;

static void tally_event(void *ud, dec_verdict v, const sw_event *ev)
{
    tally *t = ud;
    t->verdicts[v]++;
    if (v != DEC_OK)
        return;
    int outcome = ev->kind == SW_EV_SUCCEEDED || ev->kind == SW_EV_FALLBACK;
    if (ev->kind == SW_EV_REQUESTED) {
        t->requests++;
        if (t->corr)
            corr_request(t->corr, ev->has_key, ev->key, ev->ts_ms);
    }
    if (!outcome)
        return;
    int64_t d;
    int derived = t->corr && corr_outcome(t->corr, ev->has_key, ev->key, ev->ts_ms, &d);
    t->outcomes++;
    t->own_duration += ev->has_duration;
    t->derived += derived && !ev->has_duration;
    t->status += ev->status != 0;
    if (ev->strategy != LABEL_NONE) {
        t->strategy++;
        t->strategies[ev->strategy]++;
    }
    if (ev->kind == SW_EV_SUCCEEDED) {
        t->successes++;
        t->tc += ev->tc >= 0;
    } else {
        t->fallbacks++;
        t->informed_fb += ev->informed;
        if (ev->reason != LABEL_NONE) {
            t->reason_fb++;
            t->reasons[ev->reason]++;
        }
    }
}

/* The sample as one window, for wm_blind. */
static void tally_window(const tally *t, sw_wm *w)
{
    memset(w, 0, sizeof(*w));
    w->requests = w->requests_obs = t->requests;
    w->outcomes = w->outcomes_obs = t->outcomes;
    w->successes = t->successes;
    w->timed = w->timed_obs = t->own_duration + t->derived;
    w->tc_known = w->tc_known_obs = t->tc;
    w->informed_fallbacks = t->informed_fb;
    w->strategies = t->strategies;
    w->reasons = t->reasons;
}

static void report(const tally *t, const char *path, uint64_t lines, FILE *out)
{
    uint64_t rejected = 0;
    for (int v = DEC_REJ_TOO_LARGE; v < DEC_VERDICT_COUNT; v++)
        rejected += t->verdicts[v];
    fprintf(out, "%s: %" PRIu64 " lines: %" PRIu64 " events accepted, %" PRIu64 " ignored, %"
            PRIu64 " filtered, %" PRIu64 " rejected", path, lines, t->verdicts[DEC_OK],
            t->verdicts[DEC_IGNORED], t->verdicts[DEC_FILTERED], rejected);
    const char *sep = " (";
    for (int v = DEC_REJ_TOO_LARGE; v < DEC_VERDICT_COUNT; v++) {
        if (!t->verdicts[v])
            continue;
        fprintf(out, "%s%s %" PRIu64, sep, dec_verdict_name((dec_verdict)v), t->verdicts[v]);
        sep = ", ";
    }
    fprintf(out, "%s\n", rejected ? ")" : "");
    fprintf(out, "  %" PRIu64 " requests, %" PRIu64 " outcomes (%" PRIu64 " successes, %" PRIu64
            " fallbacks)\n", t->requests, t->outcomes, t->successes, t->fallbacks);
    fprintf(out, "  duration: %" PRIu64 " of %" PRIu64 " outcomes carry one", t->own_duration,
            t->outcomes);
    if (t->corr) {
        const sw_corr_stats *p = corr_stats(t->corr);
        fprintf(out, ", %" PRIu64 " more derived by input.correlate (%" PRIu64 " matched, %"
                PRIu64 " unmatched, %" PRIu64 " unkeyed requests)", t->derived, p->matched,
                p->unmatched, p->unkeyed);
    }
    fprintf(out, "\n  status: %" PRIu64 " of %" PRIu64 " outcomes; reason: %" PRIu64 " of %"
            PRIu64 " fallbacks; strategy: %" PRIu64 " of %" PRIu64 " outcomes; "
            "time_constraint: %" PRIu64 " of %" PRIu64 " successes\n", t->status, t->outcomes,
            t->reason_fb, t->fallbacks, t->strategy, t->outcomes, t->tc, t->successes);
}

/* One rule's line; returns 1 when it cannot be evaluated from the sample. */
static int report_rule(const sw_config *cfg, int r, const sw_wm *w, int any, FILE *out)
{
    const sw_rule *rule = &cfg->rules[r];
    char why[256];
    if (input_rule_unseeable(cfg, r, why, sizeof(why))) {
        fprintf(out, "  %-24s BLIND: %s\n", rule->name, why);
        return 1;
    }
    if (!any) {
        fprintf(out, "  %-24s unknown: no event of the sample was accepted\n", rule->name);
        return 0;
    }
    const char *missing = wm_blind(w, rule->metric);
    if (missing) {
        fprintf(out, "  %-24s BLIND: the sample has traffic for %s but no %s (see "
                "docs/semantics.md 9.7)\n", rule->name, rule->metric_name, missing);
        return 1;
    }
    uint64_t n = wm_samples(w, rule->metric);
    fprintf(out, "  %-24s ok: %" PRIu64 " samples in the sample%s\n", rule->name, n,
            n ? "" : " (none: the rule would hold no evidence yet)");
    return 0;
}

int input_check_sample(const sw_config *cfg, const char *path, long max_lines, FILE *out,
                       FILE *err)
{
    char e[256];
    dec_config dc;
    if (pipeline_dec_config(cfg, &dc, e, sizeof(e)) != 0) {
        fprintf(err, "soakwatch: %s\n", e);
        return 2;
    }
    gzFile in = gzopen(path, "rb");
    if (in == NULL) {
        fprintf(err, "soakwatch: cannot open input %s: %s\n", path, strerror(errno));
        pipeline_dec_free(&dc);
        return 2;
    }
    size_t cap = cfg->max_message_bytes + 2;
    char *line = malloc(cap + 1);
    tally *t = calloc(1, sizeof(*t));
    int rc = 2;
    if (line == NULL || t == NULL)
        goto out;
    t->cfg = cfg;
    if (cfg->input.correlate &&
        (t->corr = corr_create(cfg->input.table_size, cfg->input.max_latency_ms)) == NULL)
        goto out;
    uint64_t lines = 0;
    while ((max_lines <= 0 || (long)lines < max_lines) && gzgets(in, line, (int)cap) != NULL) {
        size_t n = strlen(line);
        int whole = n > 0 && line[n - 1] == '\n';
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            n--;
        if (!whole && !gzeof(in)) {
            /* longer than the cap: rejected as too large, the rest skipped */
            t->verdicts[DEC_REJ_TOO_LARGE]++;
            lines++;
            int c;
            while ((c = gzgetc(in)) != -1 && c != '\n')
                ;
            continue;
        }
        if (n == 0)
            continue;
        lines++;
        dec_message(&dc, line, n, tally_event, t);
    }
    int gz_err;
    const char *gz_msg = gzerror(in, &gz_err);
    if (gz_err != Z_OK && gz_err != Z_STREAM_END) {
        fprintf(err, "soakwatch: reading %s: %s\n", path,
                gz_err == Z_ERRNO ? strerror(errno) : gz_msg);
        goto out;
    }
    report(t, path, lines, out);
    sw_wm w;
    tally_window(t, &w);
    int blind = 0;
    fprintf(out, "rules:\n");
    for (int r = 0; r < cfg->n_rules; r++)
        blind += report_rule(cfg, r, &w, t->verdicts[DEC_OK] > 0, out);
    rc = blind || t->verdicts[DEC_OK] == 0 ? 1 : 0;
    if (t->verdicts[DEC_OK] == 0)
        fprintf(out, "no event was accepted: check input.envelope and input.fields.event "
                "against a line of the sample\n");
out:
    if (rc == 2 && (line == NULL || t == NULL || (cfg->input.correlate && t && !t->corr)))
        fprintf(err, "soakwatch: out of memory\n");
    if (t)
        corr_destroy(t->corr);
    free(t);
    free(line);
    gzclose(in);
    pipeline_dec_free(&dc);
    return rc;
}
