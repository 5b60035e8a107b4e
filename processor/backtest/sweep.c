/* sweep.c: parsing sweeps and making their configurations (sweep.h). */
#include "sweep.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const key_names[SK_COUNT] = {
    "threshold", "resolve_threshold", "min_samples", "keep_firing_for_s", "confidence",
    "window_s", "allowed_lateness_s",
};

const char *sweep_key_name(sweep_key k)
{
    return k < SK_COUNT ? key_names[k] : "?";
}

static int integral_key(sweep_key k)
{
    return k == SK_MIN_SAMPLES || k == SK_KEEP_FIRING_FOR_S || k == SK_WINDOW_S ||
           k == SK_LATENESS;
}

/* Digits after the decimal point of a number as written ("0.05": 2). */
static int decimals_of(const char *s, size_t n)
{
    const char *dot = memchr(s, '.', n);
    if (dot == NULL)
        return 0;
    int d = 0;
    for (const char *p = dot + 1; p < s + n && *p >= '0' && *p <= '9'; p++)
        d++;
    return d;
}

/* A number of n characters; -1 when it is not one. */
static int number(const char *s, size_t n, double *out)
{
    char buf[64];
    if (n == 0 || n >= sizeof(buf))
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *end;
    errno = 0;
    *out = strtod(buf, &end);
    return *end != '\0' || errno != 0 || !isfinite(*out) ? -1 : 0;
}

/* LO..HI/STEP: every LO + k·STEP up to HI, each rounded to the decimals
 * the three are written with (0.05..0.15/0.01 gives 0.07, not
 * 0.07000000000000001). */
static int parse_range(sweep_axis *ax, const char *v, char *errstr, size_t errlen)
{
    const char *dots = strstr(v, ".."), *slash = strchr(v, '/');
    double lo, hi, step;
    if (dots == NULL || slash == NULL || slash < dots ||
        number(v, (size_t)(dots - v), &lo) || number(dots + 2, (size_t)(slash - dots - 2), &hi) ||
        number(slash + 1, strlen(slash + 1), &step)) {
        snprintf(errstr, errlen, "\"%s\": expected LO..HI/STEP or A,B,C", v);
        return -1;
    }
    if (!(step > 0) || hi < lo) {
        snprintf(errstr, errlen, "\"%s\": STEP must be > 0 and HI >= LO", v);
        return -1;
    }
    int d = decimals_of(v, (size_t)(dots - v));
    int d2 = decimals_of(dots + 2, (size_t)(slash - dots - 2)), d3 = decimals_of(slash + 1,
                                                                                strlen(slash + 1));
    d = d2 > d ? d2 : d;
    d = d3 > d ? d3 : d;
    double scale = pow(10, d);
    for (int k = 0;; k++) {
        double x = round((lo + k * step) * scale) / scale;
        if (x > hi + step * 1e-9)
            break;
        if (ax->n == SWEEP_MAX_VALUES) {
            snprintf(errstr, errlen, "\"%s\": more than %d values", v, SWEEP_MAX_VALUES);
            return -1;
        }
        ax->v[ax->n++] = x;
    }
    ax->decimals = d;
    return 0;
}

static int parse_list(sweep_axis *ax, const char *v, char *errstr, size_t errlen)
{
    const char *p = v;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        double x;
        if (number(p, n, &x) != 0) {
            snprintf(errstr, errlen, "\"%.*s\" is not a number", (int)n, p);
            return -1;
        }
        if (ax->n == SWEEP_MAX_VALUES) {
            snprintf(errstr, errlen, "more than %d values", SWEEP_MAX_VALUES);
            return -1;
        }
        int d = decimals_of(p, n);
        ax->decimals = d > ax->decimals ? d : ax->decimals;
        ax->v[ax->n++] = x;
        if (comma == NULL)
            return 0;
        p = comma + 1;
    }
}

/* rules[NAME].KEY into the axis' rule and key. */
static int parse_target(sweep_axis *ax, const sw_config *base, const char *spec, size_t n,
                        char *errstr, size_t errlen)
{
    if (n == 18 && strncmp(spec, "allowed_lateness_s", 18) == 0) {
        ax->rule = -1;
        ax->key = SK_LATENESS;
        return 0;
    }
    const char *close = memchr(spec, ']', n);
    if (n < 8 || strncmp(spec, "rules[", 6) != 0 || close == NULL || close[1] != '.') {
        snprintf(errstr, errlen, "\"%.*s\": expected rules[NAME].KEY", (int)n, spec);
        return -1;
    }
    size_t nl = (size_t)(close - spec - 6);
    ax->rule = -1;
    for (int r = 0; r < base->n_rules; r++)
        if (strlen(base->rules[r].name) == nl && strncmp(base->rules[r].name, spec + 6, nl) == 0)
            ax->rule = r;
    if (ax->rule < 0) {
        snprintf(errstr, errlen, "no rule named \"%.*s\" in the config", (int)nl, spec + 6);
        return -1;
    }
    const char *key = close + 2;
    size_t kl = (size_t)(spec + n - key);
    for (int k = 0; k < SK_LATENESS; k++)
        if (strlen(key_names[k]) == kl && strncmp(key_names[k], key, kl) == 0) {
            ax->key = (sweep_key)k;
            return 0;
        }
    snprintf(errstr, errlen, "\"%.*s\": a sweep moves threshold, resolve_threshold, "
             "min_samples, keep_firing_for_s, confidence or window_s of a rule, or "
             "allowed_lateness_s", (int)kl, key);
    return -1;
}

int sweep_parse(sweep *s, const sw_config *base, const char *spec, char *errstr, size_t errlen)
{
    if (s->n_axes == SWEEP_MAX_AXES) {
        snprintf(errstr, errlen, "more than %d sweeps", SWEEP_MAX_AXES);
        return -1;
    }
    const char *eq = strchr(spec, '=');
    if (eq == NULL) {
        snprintf(errstr, errlen, "\"%s\": expected rules[NAME].KEY=VALUES", spec);
        return -1;
    }
    sweep_axis ax;
    memset(&ax, 0, sizeof(ax));
    if (parse_target(&ax, base, spec, (size_t)(eq - spec), errstr, errlen) != 0)
        return -1;
    int rc = strstr(eq + 1, "..") ? parse_range(&ax, eq + 1, errstr, errlen)
                                  : parse_list(&ax, eq + 1, errstr, errlen);
    if (rc != 0)
        return -1;
    for (int k = 0; integral_key(ax.key) && k < ax.n; k++)
        if (ax.v[k] != floor(ax.v[k]) || ax.v[k] < 0) {
            snprintf(errstr, errlen, "%s takes whole numbers >= 0, not %g",
                     key_names[ax.key], ax.v[k]);
            return -1;
        }
    for (int a = 0; a < s->n_axes; a++)
        if (s->axes[a].rule == ax.rule && s->axes[a].key == ax.key) {
            snprintf(errstr, errlen, "%s%s%s%s is swept twice", ax.rule < 0 ? "" : "rules[",
                     ax.rule < 0 ? "" : base->rules[ax.rule].name, ax.rule < 0 ? "" : "].",
                     key_names[ax.key]);
            return -1;
        }
    long combos = (long)(s->n_axes ? s->n_combos : 1) * ax.n;
    if (combos > SWEEP_MAX_COMBOS) {
        snprintf(errstr, errlen, "%ld combinations: at most %d", combos, SWEEP_MAX_COMBOS);
        return -1;
    }
    s->axes[s->n_axes++] = ax;
    s->n_combos = (int)combos;
    return 0;
}

void sweep_indices(const sweep *s, int i, int *idx)
{
    for (int a = s->n_axes - 1; a >= 0; a--) {
        idx[a] = i % s->axes[a].n;
        i /= s->axes[a].n;
    }
}

static void apply(sw_rule *r, sweep_key k, double v)
{
    switch (k) {
    case SK_THRESHOLD: r->threshold = v; break;
    case SK_RESOLVE_THRESHOLD:
        r->resolve_threshold = v;
        r->has_resolve_threshold = 1;
        break;
    case SK_MIN_SAMPLES: r->min_samples = (int64_t)v; break;
    case SK_KEEP_FIRING_FOR_S: r->keep_firing_for_s = (int64_t)v; break;
    case SK_CONFIDENCE: r->confidence = v; break;
    case SK_WINDOW_S: r->window_s = (int64_t)v; break;
    case SK_LATENESS: /* not a rule's: sweep_config sets it */
    case SK_COUNT: break;
    }
}

int sweep_config(const sweep *s, const sw_config *base, int i, sw_config *out, char *errstr,
                 size_t errlen)
{
    int idx[SWEEP_MAX_AXES];
    char err[256];
    sweep_indices(s, i, idx);
    *out = *base;
    for (int a = 0; a < s->n_axes; a++) {
        if (s->axes[a].key == SK_LATENESS)
            out->allowed_lateness_s = (int64_t)s->axes[a].v[idx[a]];
        else
            apply(&out->rules[s->axes[a].rule], s->axes[a].key, s->axes[a].v[idx[a]]);
    }
    if (config_validate(out, err, sizeof(err)) == 0)
        return 0;
    char label[512];
    sweep_label(s, base, i, label, sizeof(label));
    snprintf(errstr, errlen, "combination %d (%s): %s", i + 1, label, err);
    return -1;
}

size_t sweep_label(const sweep *s, const sw_config *base, int i, char *out, size_t cap)
{
    int idx[SWEEP_MAX_AXES];
    size_t len = 0;
    sweep_indices(s, i, idx);
    out[0] = '\0';
    for (int a = 0; a < s->n_axes && len < cap; a++) {
        const sweep_axis *ax = &s->axes[a];
        int n = ax->rule < 0
                    ? snprintf(out + len, cap - len, "%s%s=%.*f", a ? " " : "",
                               key_names[ax->key], ax->decimals, ax->v[idx[a]])
                    : snprintf(out + len, cap - len, "%srules[%s].%s=%.*f", a ? " " : "",
                               base->rules[ax->rule].name, key_names[ax->key], ax->decimals,
                               ax->v[idx[a]]);
        if (n < 0)
            break;
        len += (size_t)n;
    }
    return len < cap ? len : cap - 1;
}
