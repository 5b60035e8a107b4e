/* output.h: the output events of docs/semantics.md section 7 (rollback
 * trigger, status) and the trigger fields of section 8, rendered as one
 * JSON object or as one line for a person.
 *
 * Invariant: this is the only code that writes an output event. The engine
 * decides and hands over values; rendering is a pure function of them and
 * the config, writes every field once in the documented order, and reports
 * a buffer that hit its cap instead of leaving a half event for anyone. */
#ifndef SOAKWATCH_OUTPUT_H
#define SOAKWATCH_OUTPUT_H

#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "wmetrics.h"

/* The data a trigger's decision read from one source (docs/semantics.md 8,
 * "Provenance"): a partition, or source 0 for the lines of a file. */
typedef struct sw_prov_range {
    int source;
    int64_t lo, hi; /* first and last offset (or line number) */
} sw_prov_range;

typedef struct sw_provenance {
    const char *config;          /* the config fingerprint */
    const char *source_kind;     /* "partitions" or "lines"; NULL: sources not tracked */
    const sw_prov_range *ranges; /* the sources with data in the rule's windows, ascending */
    int n_ranges;
} sw_provenance;

/* One of a rule's windows at the instant (windows_s, section 8). */
typedef struct sw_trigger_window {
    int64_t window_s;
    double value;     /* NAN: null */
    uint64_t samples;
} sw_trigger_window;

typedef struct sw_trigger_info {
    const sw_rule *rule;
    int64_t at_s;
    int firing;
    double value;     /* NAN: null */
    uint64_t samples;

    /* Section 8, each written only when the rule uses the option (JSON only): */
    double interval_lo, interval_hi;  /* confidence: the interval of the value */
    sw_trigger_window windows[1 + SW_MAX_EXTRA_WINDOWS]; /* window_s first, then windows_s */
    int n_windows;                    /* written when more than one */
    const char *acked_id, *acked_by;  /* a resolution after an acknowledgement, else NULL */
    const sw_provenance *provenance;  /* NULL: provenance is off */
    const char *cohort;               /* section 12: the cohort judged, NULL: the whole topic */
    const struct sw_compare_info *cmp; /* a comparison rule's two sides, else NULL */
} sw_trigger_info;

/* A comparison rule at T (section 12): its two cohorts and the test. */
typedef struct sw_compare_info {
    const char *treatment, *control;
    double value_t, value_c;    /* NAN: null */
    uint64_t samples_t, samples_c;
    double statistic, p_value;  /* NAN: the test could not be made */
    double alpha_per_look;
} sw_compare_info;

typedef struct sw_status_info {
    int64_t at_s;
    int colour;                 /* enum sw_status_colour */
    const char *firing[SW_MAX_RULES];
    int n_firing;
    const sw_wm *windows[3];    /* the status windows, in cfg order */
    int64_t observed_s[3];      /* seconds of a window not yet observed whole, else -1 */
    int n_windows;
    const char *quality;        /* data quality state, or NULL when not enabled */
    const char *blind_rule[SW_MAX_RULES];    /* blind rules, in rule-list order */
    const char *blind_missing[SW_MAX_RULES]; /* the field each lacks */
    int n_blind;
    int cohorts;                /* section 12: cohorts are configured (cohorts_firing written) */
    const char *cohort_rule[SW_MAX_RULES * (SW_MAX_COHORTS + 1)]; /* firing cohort states, */
    const char *cohort_name[SW_MAX_RULES * (SW_MAX_COHORTS + 1)]; /* in rule, cohort order */
    int n_cohort_firing;
    /* section 12: each cohort's metrics over the status window, in cohort
     * order, with the seconds observed while partial (-1: whole) */
    const sw_wm *cohort_window[SW_MAX_COHORTS + 1];
    const char *cohort_window_name[SW_MAX_COHORTS + 1];
    int n_cohort_windows;
    int64_t cohort_observed_s;
} sw_status_info;

/* The states of a rollback check (docs/semantics.md section 10). */
enum sw_check_state { SW_CHECK_VERIFIED = 0, SW_CHECK_NOT_VERIFIED, SW_CHECK_BASELINE };

/* A rollback check: what the engine knows of one watch at T. */
typedef struct sw_check_info {
    const sw_rule *rule;
    int state;               /* enum sw_check_state */
    int64_t at_s;            /* the instant T */
    int64_t fired_at_s;      /* F */
    uint64_t unavailable;    /* u(T) */
    int64_t quiet_s;         /* q(T) */
    const char *evidence;    /* NULL: null */
    int64_t verified_at_s;   /* INT64_MIN: null */
} sw_check_info;

/* Append the event to b (no newline). Return 0, or -ENOBUFS when the
 * buffer's cap was hit or memory ran out: b then holds a partial event
 * that must not be used. */
int output_trigger_json(sw_buf *b, const sw_config *cfg, const sw_trigger_info *t);
/* A trigger's id: "RULE:AT_MS", or "RULE:COHORT:AT_MS" (section 12). */
void output_trigger_id(const char *rule, const char *cohort, int64_t at_s, char *out,
                       size_t cap);
/* Its action: "none" when resolved, else the rule's action. */
const char *output_action_name(const sw_trigger_info *t);
int output_status_json(sw_buf *b, const sw_config *cfg, const sw_status_info *s);
int output_trigger_text(sw_buf *b, const sw_config *cfg, const sw_trigger_info *t);
int output_status_text(sw_buf *b, const sw_config *cfg, const sw_status_info *s);
int output_check_json(sw_buf *b, const sw_config *cfg, const sw_check_info *c);
int output_check_text(sw_buf *b, const sw_config *cfg, const sw_check_info *c);

/* The window metrics object of section 4 (used by status and /status);
 * observed_s >= 0 adds how much of a window not observed whole was. */
int output_window_json(sw_buf *b, const sw_config *cfg, const sw_wm *w, int64_t observed_s);

#endif
