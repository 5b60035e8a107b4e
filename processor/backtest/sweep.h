/* sweep.h: a backtest's sweep (docs/semantics.md section 13): the values
 * of rule parameters to try, parsed from `rules[NAME].KEY=SPEC`, and the
 * configurations of their combinations. Invariant: every configuration
 * made is the base with only swept parameters changed, and valid
 * (config_validate), or the sweep is refused naming the combination. */
#ifndef SOAKWATCH_SWEEP_H
#define SOAKWATCH_SWEEP_H

#include <stddef.h>

#include "../config.h"

#define SWEEP_MAX_AXES 8
#define SWEEP_MAX_VALUES 256
#define SWEEP_MAX_COMBOS 4096

/* The parameters a sweep can move: the rules' change how rules judge, not
 * which events count, so their combinations share one set of windows;
 * allowed_lateness_s changes which events count (a pass of its own). */
typedef enum sweep_key {
    SK_THRESHOLD = 0,
    SK_RESOLVE_THRESHOLD,
    SK_MIN_SAMPLES,
    SK_KEEP_FIRING_FOR_S,
    SK_CONFIDENCE,
    SK_WINDOW_S,
    SK_LATENESS, /* allowed_lateness_s: which events count; one pass per value */
    SK_COUNT
} sweep_key;

typedef struct sweep_axis {
    int rule;          /* index in the base config's rules; -1: a top-level key */
    sweep_key key;
    int n;
    double v[SWEEP_MAX_VALUES];
    int decimals;      /* digits after the point the values are written with */
} sweep_axis;

typedef struct sweep {
    int n_axes;
    sweep_axis axes[SWEEP_MAX_AXES];
    int n_combos;      /* product of the axes' counts */
} sweep;

/* Parse one --sweep SPEC against the base config into s (appending an
 * axis): `rules[NAME].KEY=LO..HI/STEP` or `rules[NAME].KEY=A,B,C`, or
 * `allowed_lateness_s=...`.
 * Returns 0, or -1 with errstr naming what is wrong. */
int sweep_parse(sweep *s, const sw_config *base, const char *spec, char *errstr, size_t errlen);

/* The values of combination i (0 <= i < n_combos): axis a takes
 * axes[a].v[idx[a]], the last axis varying fastest. */
void sweep_indices(const sweep *s, int i, int *idx);

/* Make the configuration of combination i into out (the base with the
 * swept values). Returns 0, or -1 with errstr naming the combination and
 * the problem (an invalid value: a resolve_threshold past the threshold,
 * say). */
int sweep_config(const sweep *s, const sw_config *base, int i, sw_config *out, char *errstr,
                 size_t errlen);

/* Combination i as text: "rules[a].threshold=0.07 rules[a].min_samples=20".
 * Returns the length written (truncated to cap). */
size_t sweep_label(const sweep *s, const sw_config *base, int i, char *out, size_t cap);

/* The name of a key ("threshold", ...). */
const char *sweep_key_name(sweep_key k);

#endif
