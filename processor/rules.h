/* rules.h: one rule's condition at one instant (SEMANTICS section 5) and
 * the status colour (section 6). Pure functions of a window's metrics. */
#ifndef SOAKWATCH_RULES_H
#define SOAKWATCH_RULES_H

#include <stdint.h>

#include "config.h"
#include "wmetrics.h"

/* Does `value op threshold` hold? False for NAN. */
int rule_compare(double value, sw_op op, double threshold);

/* The full condition with the options of docs/semantics.md: `threshold`
 * is the one in force (the resolve threshold while firing, if set); with a
 * confidence the Wilson score interval [lo, hi] of the rate must lie
 * entirely past it. Returns 1 true, 0 false, -1 not judgeable (too few
 * samples, or the metric is null). lo/hi are NAN without a confidence. */
int rule_condition_at(const sw_rule *rule, const sw_wm *wm, double threshold, double *value,
                      uint64_t *samples, double *lo, double *hi);

/* Wilson score interval of x successes in n trials at a two-sided
 * confidence c (0 < c < 1). n must be > 0. */
void wilson_interval(uint64_t x, uint64_t n, double c, double *lo, double *hi);
/* The same for a proportion p over n trials. */
void wilson_interval_p(double p, uint64_t n, double c, double *lo, double *hi);

/* The standard normal quantile (inverse CDF) of p, 0 < p < 1. */
double normal_quantile(double p);

/* Comparison rules (docs/semantics.md section 12, "Comparison rules"). */

/* The one-sided p-value of z: erfc(z/sqrt(2)) / 2. */
double normal_upper_p(double z);

/* The two-proportion z statistic (pooled) of the rate metric m between a
 * treatment's window t and a control's window c, signed so that a
 * treatment higher than the control is positive when `higher`, lower
 * otherwise. Returns 1 with *z, or 0 when the test cannot be made (an
 * empty side, or a pooled proportion of 0 or 1). */
int compare_rates(sw_metric m, const sw_wm *t, const sw_wm *c, int higher, double *z);

/* The Mann-Whitney U statistic's z (normal approximation, ties per bin,
 * no continuity correction) of two latency histograms of nbins bins,
 * signed as compare_rates. Returns 1 with *z, or 0 when it cannot be made. */
int compare_hist(const uint64_t *ht, const uint64_t *hc, int nbins, int higher, double *z);

enum sw_status_colour { SW_GREEN = 0, SW_YELLOW = 1, SW_RED = 2 };

/* Status colour: red when any rule fires, else yellow when the status
 * window misses a target (too few outcomes, success rate <= target, error
 * rate >= target, mean latency >= target), else green. */
int status_colour(const sw_config *cfg, const sw_wm *status_window, int any_firing);

const char *status_colour_name(int colour);

#endif
