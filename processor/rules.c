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

double normal_quantile(double p)
{
    /* Acklam's rational approximation (relative error < 1.2e-9), refined
     * by one Halley step against erfc. */
    static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                               -2.759285104469687e+02, 1.383577518672690e+02,
                               -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                               -1.556989798598866e+02, 6.680131188771972e+01,
                               -1.328068155288572e+01};
    static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                               -2.400758277161838e+00, -2.549732539343734e+00,
                               4.374664141464968e+00, 2.938163982698783e+00};
    static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                               2.445134137142996e+00, 3.754408661907416e+00};
    double q, r, x;
    if (p < 0.02425) {
        q = sqrt(-2 * log(p));
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else if (p <= 1 - 0.02425) {
        q = p - 0.5;
        r = q * q;
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
    } else {
        q = sqrt(-2 * log(1 - p));
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    }
    double e = 0.5 * erfc(-x / sqrt(2)) - p;
    double u = e * sqrt(2 * M_PI) * exp(x * x / 2);
    return x - u / (1 + x * u / 2);
}

void wilson_interval(uint64_t x, uint64_t n, double c, double *lo, double *hi)
{
    wilson_interval_p((double)x / (double)n, n, c, lo, hi);
}

void wilson_interval_p(double p, uint64_t n, double c, double *lo, double *hi)
{
    double z = normal_quantile(1 - (1 - c) / 2);
    double nn = (double)n, z2 = z * z;
    double denom = 1 + z2 / nn;
    double centre = (p + z2 / (2 * nn)) / denom;
    double half = z / denom * sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn));
    *lo = centre - half;
    *hi = centre + half;
}

/* Successes and trials of a rate metric (weighted), and the trials as read,
 * for the confidence gate. */
static int rate_counts(const sw_wm *wm, sw_metric m, uint64_t *x, uint64_t *n, uint64_t *n_obs)
{
    switch (m) {
    case M_SUCCESS_RATE: *x = wm->successes; *n = wm->outcomes; *n_obs = wm->outcomes_obs; return 1;
    case M_ERROR_RATE: *x = wm->errors; *n = wm->outcomes; *n_obs = wm->outcomes_obs; return 1;
    case M_TIME_CONSTRAINT_SUCCESS_RATE:
        *x = wm->tc_true;
        *n = wm->tc_known;
        *n_obs = wm->tc_known_obs;
        return 1;
    default: return 0;
    }
}

double normal_upper_p(double z)
{
    return erfc(z / sqrt(2)) / 2;
}

int compare_rates(sw_metric m, const sw_wm *t, const sw_wm *c, int higher, double *z)
{
    uint64_t xt, nt, xc, nc, obs;
    if (!rate_counts(t, m, &xt, &nt, &obs) || !rate_counts(c, m, &xc, &nc, &obs) || nt == 0 ||
        nc == 0)
        return 0;
    double d = (double)xt / (double)nt - (double)xc / (double)nc;
    double p = (double)(xt + xc) / (double)(nt + nc);
    double se = sqrt(p * (1 - p) * (1 / (double)nt + 1 / (double)nc));
    if (!(se > 0))
        return 0;
    *z = (higher ? d : -d) / se;
    return 1;
}

int compare_hist(const uint64_t *ht, const uint64_t *hc, int nbins, int higher, double *z)
{
    /* In increasing bin order; every count a double before any arithmetic,
     * so that the reference's floats give the same sums. */
    double u = 0, below = 0, ties = 0, nt = 0, nc = 0;
    for (int b = 0; b < nbins; b++) {
        double x = (double)ht[b], y = (double)hc[b];
        if (x == 0 && y == 0)
            continue;
        u += x * (below + y / 2);
        below += y;
        double tb = x + y;
        ties += tb * tb * tb - tb;
        nt += x;
        nc += y;
    }
    double n = nt + nc;
    if (nt == 0 || nc == 0 || n < 2)
        return 0;
    double mu = nt * nc / 2;
    double s2 = nt * nc / 12 * ((n + 1) - ties / (n * (n - 1)));
    if (!(s2 > 0))
        return 0;
    *z = (higher ? u - mu : mu - u) / sqrt(s2);
    return 1;
}

int rule_condition_at(const sw_rule *rule, const sw_wm *wm, double threshold, double *value,
                      uint64_t *samples, double *lo, double *hi)
{
    *value = wm_get(wm, rule->metric, rule->label);
    *samples = wm_samples(wm, rule->metric);
    *lo = *hi = NAN;
    if (*samples < (uint64_t)rule->min_samples || isnan(*value))
        return -1;
    uint64_t x, n, n_obs;
    if (rule->confidence > 0 && rate_counts(wm, rule->metric, &x, &n, &n_obs) && n > 0) {
        /* p the weighted rate, n the trials as read: evidence is not
         * multiplied by sampling weights */
        wilson_interval_p((double)x / (double)n, n_obs, rule->confidence, lo, hi);
        /* The whole interval must lie past the threshold. */
        switch (rule->op) {
        case OP_GT: return *lo > threshold;
        case OP_GE: return *lo >= threshold;
        case OP_LT: return *hi < threshold;
        case OP_LE: return *hi <= threshold;
        case OP_EQ: break;
        }
    }
    return rule_compare(*value, rule->op, threshold);
}

int status_colour(const sw_config *cfg, const sw_wm *w, int any_firing)
{
    if (any_firing)
        return SW_RED;
    if (w->outcomes_obs < (uint64_t)cfg->status_min_outcomes)
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
