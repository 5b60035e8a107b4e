/* rules.c: rule conditions and the status colour, exactly as SEMANTICS
 * sections 5 and 6 state them. No state here: the engine keeps the
 * edge-triggered firing flags. */
#include "rules.h"

#include <math.h>

int rule_compare(double value, sw_op op, double threshold)
{
    if (isnan(value))
        return 0;
    switch (op) {
    case OP_GT: return value > threshold;
    case OP_GE: return value >= threshold;
    case OP_LT: return value < threshold;
    case OP_LE: return value <= threshold;
    case OP_EQ: return value == threshold;
    }
    return 0;
}

int rule_condition(const sw_rule *rule, const sw_wm *wm, double *value, uint64_t *samples)
{
    *value = wm_get(wm, rule->metric, rule->label);
    *samples = wm_samples(wm, rule->metric);
    if (*samples < (uint64_t)rule->min_samples)
        return 0;
    return rule_compare(*value, rule->op, rule->threshold);
}

int status_colour(const sw_config *cfg, const sw_wm *w, int any_firing)
{
    if (any_firing)
        return SW_RED;
    if (w->outcomes < (uint64_t)cfg->status_min_outcomes)
        return SW_YELLOW;
    if (!isnan(w->success_rate) && w->success_rate <= cfg->status_success_rate_min)
        return SW_YELLOW;
    if (!isnan(w->error_rate) && w->error_rate >= cfg->status_error_rate_max)
        return SW_YELLOW;
    if (!isnan(w->latency_mean_ms) && w->latency_mean_ms >= cfg->status_latency_mean_max_ms)
        return SW_YELLOW;
    return SW_GREEN;
}

const char *status_colour_name(int colour)
{
    switch (colour) {
    case SW_GREEN: return "green";
    case SW_YELLOW: return "yellow";
    case SW_RED: return "red";
    }
    return "unknown";
}
