/* wmetrics.c: section 4 metrics from the window sums. Divisions are done
 * once on exact integer sums, so a value is the correctly rounded double of
 * the ratio a person would compute by hand. */
#include "wmetrics.h"

#include <math.h>

void wm_compute(const win_view *v, sw_wm *out, int percentiles)
{
    const win_counts *c = v->c;
    out->window_s = v->window_s;
    out->requests = c->requests;
    out->outcomes = c->outcomes;
    out->successes = c->successes;
    out->errors = c->errors;
    out->declined = c->declined;
    out->tc_true = c->tc_true;
    out->tc_known = c->tc_known;
    out->timed = c->timed;
    out->requests_obs = c->requests_obs;
    out->outcomes_obs = c->outcomes_obs;
    out->timed_obs = c->timed_obs;
    out->tc_known_obs = c->tc_known_obs;
    out->informed_fallbacks = c->informed_fallbacks;
    out->strategies = c->strategies;
    out->reasons = c->reasons;
    if (c->outcomes > 0) {
        double n = (double)c->outcomes;
        out->success_rate = (double)c->successes / n;
        out->error_rate = (double)c->errors / n;
    } else {
        out->success_rate = NAN;
        out->error_rate = NAN;
    }
    if (c->timed > 0) {
        /* Sum held in microseconds: one rounding for sum_ms / n. */
        out->latency_mean_ms = (double)c->latency_sum_us / ((double)c->timed * 1000.0);
        out->latency_p95_ms = percentiles ? win_hist_percentile(v->hist, c->timed, 0.95) : NAN;
        out->latency_p99_ms = percentiles ? win_hist_percentile(v->hist, c->timed, 0.99) : NAN;
    } else {
        out->latency_mean_ms = NAN;
        out->latency_p95_ms = NAN;
        out->latency_p99_ms = NAN;
    }
    out->time_constraint_success_rate =
        c->tc_known > 0 ? (double)c->tc_true / (double)c->tc_known : NAN;
}

double wm_get(const sw_wm *wm, sw_metric m, int label)
{
    switch (m) {
    case M_REQUESTS: return (double)wm->requests;
    case M_OUTCOMES: return (double)wm->outcomes;
    case M_SUCCESSES: return (double)wm->successes;
    case M_ERRORS: return (double)wm->errors;
    case M_DECLINED: return (double)wm->declined;
    case M_SUCCESS_RATE: return wm->success_rate;
    case M_ERROR_RATE: return wm->error_rate;
    case M_LATENCY_MEAN_MS: return wm->latency_mean_ms;
    case M_LATENCY_P95_MS: return wm->latency_p95_ms;
    case M_LATENCY_P99_MS: return wm->latency_p99_ms;
    case M_TIME_CONSTRAINT_SUCCESS_RATE: return wm->time_constraint_success_rate;
    case M_STRATEGY:
        return label >= 0 && label <= WIN_MAX_LABELS ? (double)wm->strategies[label] : NAN;
    case M_FALLBACK_REASON:
        return label >= 0 && label <= WIN_MAX_LABELS ? (double)wm->reasons[label] : NAN;
    case M_METRIC_COUNT: break;
    }
    return NAN;
}

uint64_t wm_samples(const sw_wm *wm, sw_metric m)
{
    switch (m) {
    case M_REQUESTS: return wm->requests_obs;
    case M_LATENCY_MEAN_MS:
    case M_LATENCY_P95_MS:
    case M_LATENCY_P99_MS: return wm->timed_obs;
    default: return wm->outcomes_obs;
    }
}

static uint64_t label_sum(const uint64_t *counts)
{
    uint64_t n = 0;
    for (int i = 0; i <= WIN_MAX_LABELS; i++)
        n += counts[i];
    return n;
}

const char *wm_blind(const sw_wm *wm, sw_metric m)
{
    uint64_t fallbacks = wm->outcomes - wm->successes;
    switch (m) {
    case M_ERRORS:
    case M_ERROR_RATE:
        return fallbacks > 0 && wm->informed_fallbacks == 0 ? "status_or_reason" : NULL;
    case M_LATENCY_MEAN_MS:
    case M_LATENCY_P95_MS:
    case M_LATENCY_P99_MS: return wm->outcomes > 0 && wm->timed == 0 ? "duration" : NULL;
    case M_TIME_CONSTRAINT_SUCCESS_RATE:
        return wm->successes > 0 && wm->tc_known == 0 ? "time_constraint" : NULL;
    case M_FALLBACK_REASON:
        return fallbacks > 0 && label_sum(wm->reasons) == 0 ? "reason" : NULL;
    case M_STRATEGY:
        return wm->outcomes > 0 && label_sum(wm->strategies) == 0 ? "strategy" : NULL;
    default: return NULL;
    }
}

int wm_needs_percentiles(sw_metric m)
{
    return m == M_LATENCY_P95_MS || m == M_LATENCY_P99_MS;
}
