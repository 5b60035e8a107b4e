/* wmetrics.h: the metrics of one window (SEMANTICS section 4), computed
 * from a window view, and the lookup of one metric by name for rules. */
#ifndef SOAKWATCH_WMETRICS_H
#define SOAKWATCH_WMETRICS_H

#include <stdint.h>

#include "../windows/win.h"
#include "config.h"

typedef struct sw_wm {
    int64_t window_s;
    uint64_t requests, outcomes, successes, errors, declined;
    uint64_t tc_true, tc_known;
    uint64_t timed;                      /* outcomes with a duration (weighted) */
    uint64_t requests_obs, outcomes_obs, timed_obs, tc_known_obs; /* as read: the samples */
    uint64_t informed_fallbacks;
    double success_rate, error_rate, latency_mean_ms, latency_p95_ms, latency_p99_ms;
    double time_constraint_success_rate; /* NAN where SEMANTICS says null */
    const uint64_t *strategies; /* borrowed from the view: n_strategies + 1 */
    const uint64_t *reasons;
} sw_wm;

/* Compute the metrics of a window view; the percentiles (a histogram scan)
 * only when `percentiles` is set, else they are NAN. The view must stay
 * valid while the result is used (label counts are borrowed). */
void wm_compute(const win_view *v, sw_wm *out, int percentiles);

/* Does metric m need the percentiles? */
int wm_needs_percentiles(sw_metric m);

/* One metric of a computed window; NAN when null. label: M_STRATEGY and
 * M_FALLBACK_REASON only. */
double wm_get(const sw_wm *wm, sw_metric m, int label);

/* The samples a rule on metric m counts, as read (unweighted): requests
 * for M_REQUESTS, outcomes with a duration for the latency metrics, else
 * outcomes. */
uint64_t wm_samples(const sw_wm *wm, sw_metric m);

/* Whether a rule on metric m is blind in this window (docs/semantics.md
 * section 9.7): the field no event carried ("duration", ...), or NULL. */
const char *wm_blind(const sw_wm *wm, sw_metric m);

#endif
