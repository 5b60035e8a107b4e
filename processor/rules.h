/* rules.h: one rule's condition at one instant (SEMANTICS section 5) and
 * the status colour (section 6). Pure functions of a window's metrics. */
#ifndef SOAKWATCH_RULES_H
#define SOAKWATCH_RULES_H

#include <stdint.h>

#include "config.h"
#include "wmetrics.h"

/* Does `value op threshold` hold? False for NAN. */
int rule_compare(double value, sw_op op, double threshold);

/* The rule's condition on the metrics of its window: samples >= min
 * samples, the metric not null, and the comparison holds. Writes the
 * metric's value (NAN when null) and the sample count. */
int rule_condition(const sw_rule *rule, const sw_wm *wm, double *value, uint64_t *samples);

enum sw_status_colour { SW_GREEN = 0, SW_YELLOW = 1, SW_RED = 2 };

/* Status colour: red when any rule fires, else yellow when the status
 * window misses a target (too few outcomes, success rate <= target, error
 * rate >= target, mean latency >= target), else green. */
int status_colour(const sw_config *cfg, const sw_wm *status_window, int any_firing);

const char *status_colour_name(int colour);

#endif
