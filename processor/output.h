/* output.h: the two output events of SEMANTICS section 7, rendered as one
 * JSON object (fields in a fixed order, shortest round-trip numbers) or as
 * one line for a person. Rendering is a pure function of its arguments. */
#ifndef SOAKWATCH_OUTPUT_H
#define SOAKWATCH_OUTPUT_H

#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "wmetrics.h"

typedef struct sw_trigger_info {
    const sw_rule *rule;
    int64_t at_s;
    int firing;
    double value;     /* NAN: null */
    uint64_t samples;
} sw_trigger_info;

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
} sw_status_info;

/* Append the event to b (no newline). Return 0 or a negative errno when the
 * buffer's cap is hit. */
int output_trigger_json(sw_buf *b, const sw_config *cfg, const sw_trigger_info *t);
int output_status_json(sw_buf *b, const sw_config *cfg, const sw_status_info *s);
int output_trigger_text(sw_buf *b, const sw_config *cfg, const sw_trigger_info *t);
int output_status_text(sw_buf *b, const sw_config *cfg, const sw_status_info *s);

/* The window metrics object of section 4 (used by status and /status);
 * observed_s >= 0 adds how much of a window not observed whole was. */
int output_window_json(sw_buf *b, const sw_config *cfg, const sw_wm *w, int64_t observed_s);

#endif
