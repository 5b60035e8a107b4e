/* report_model.h: the report's model, shared by its parts: what was read
 * from soakwatch's output events (statuses, triggers), the hours tiled from
 * them, the soak verdict, and the helpers the renderers share. The model
 * (report_model.c) reads and analyses; text.c, json.c and html.c render
 * it; report.c is the command. Invariant: the model is complete before
 * anything is rendered, and the renderers only read it. */
#ifndef SOAKWATCH_REPORT_MODEL_H
#define SOAKWATCH_REPORT_MODEL_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"

#define RP_MAX_LINES 1000000      /* input lines; more is refused */
#define RP_MAX_LINE (64 * 1024)   /* longer lines are unreadable */
#define RP_MAX_HOURS 100000       /* span of the input, in hours */
#define RP_MAX_WINDOWS 3          /* windows kept per status (smallest first) */
#define RP_MAX_NAMES 32           /* strategy / reason names; more go to "(more)" */
#define RP_NAME_MAX 127
#define RP_OUTPUT_CAP ((size_t)512 * 1024 * 1024)
#define RP_HOUR_MS INT64_C(3600000)
#define RP_HOUR_S 3600
#define RP_SOAK_HOURS 24          /* consecutive complete hours criterion (a) needs */
#define RP_CHART_WINDOW_S 300     /* the window the charts and tiles prefer */
#define RP_MAX_COHORTS 17         /* cohorts kept (16 values and other); more are not */

enum { LV_GREEN = 0, LV_YELLOW, LV_RED, LV_NONE = -1 };
enum { K_STRATEGY = 0, K_REASON = 1 };

typedef struct rp_tile {
    uint32_t window_s;
    uint32_t observed_s; /* seconds of it observed while partial (section 6); 0: whole */
    uint32_t requests, outcomes, successes, errors;
    double lat_mean; /* NAN when outcomes = 0 */
} rp_tile;

typedef struct rp_status {
    int64_t at_ms;
    uint32_t seq;     /* input order, for a stable sort */
    int8_t level;
    uint8_t n_tiles;  /* tiles[] sorted by window_s ascending */
    uint8_t chart;    /* index of the window the charts use */
    uint16_t n_labels;
    uint32_t label_off; /* into rp_report.labels */
    uint32_t declined;
    double p95, p99, tcsr; /* of the chart window; NAN = null */
    rp_tile tiles[RP_MAX_WINDOWS];
    uint8_t n_coh;      /* cohort tiles: rp_report.ct[coh_off .. coh_off + n_coh - 1] */
    uint32_t coh_off;
} rp_status;

/* One cohort's metrics over the status window at a status (the status's
 * `cohorts`, docs/semantics.md section 12); window_s is the config's
 * status.window_s, which the event does not carry. */
typedef struct rp_ctile {
    uint8_t cohort; /* index into rp_report.cohorts */
    rp_tile t;
} rp_ctile;

typedef struct rp_label {
    uint8_t kind; /* K_STRATEGY / K_REASON */
    uint8_t name; /* index into names[kind] */
    uint32_t count;
} rp_label;

typedef struct rp_trigger {
    int64_t at_ms;
    uint32_t seq;
    int firing;
    int64_t window_s;
    int64_t samples;
    double threshold;
    double value; /* NAN = null */
    int pair;     /* firing: its resolution; resolved: its firing; -1 none */
    char id[2 * RP_NAME_MAX + 32];
    char rule[RP_NAME_MAX + 1];
    char cohort[RP_NAME_MAX + 1]; /* a cohort's trigger (section 12); "" the whole topic */
    char metric[RP_NAME_MAX + 1];
    char op[4];
    /* A comparison rule's trigger: its `compare` (section 12); value is
     * then the effect, treatment minus control. NAN / -1: null. */
    int has_compare;
    double cmp_t_value, cmp_c_value, cmp_stat, cmp_p;
    int64_t cmp_t_samples, cmp_c_samples;
    char cmp_control[RP_NAME_MAX + 1];
} rp_trigger;

/* A rollback check (docs/semantics.md section 10). */
typedef struct rp_check {
    int64_t at_ms, fired_at_ms;
    int64_t verified_at_ms; /* -1: null */
    int64_t unavailable, quiet_s, verify_within_s;
    uint32_t seq;
    int state;              /* 0 verified, 1 not_verified, 2 baseline */
    char rule[RP_NAME_MAX + 1];
    char evidence[RP_NAME_MAX + 1]; /* "" for null */
} rp_check;

/* A soak_update (docs/semantics.md section 11) as written, and the same
 * period tiled again from the statuses (soak_report.c). */
typedef struct rp_soak {
    int64_t at_ms, soak_start_ms, period_start_ms;
    int64_t hour_from, hour_to;
    uint32_t seq;
    int status;                                  /* LV_* or LV_NONE */
    uint64_t requests, outcomes, successes, errors;
    double success_rate, error_rate, lat_mean;   /* NAN = null */
    /* tiled from the statuses of (period_start, at] */
    int64_t covered_s, cursor_ms;
    int t_worst;
    uint64_t t_requests, t_outcomes, t_successes, t_errors;
    double t_lat_sum, t_success_rate, t_error_rate, t_lat_mean;
} rp_soak;

/* A soak_verdict (docs/semantics.md section 11) as written: its criteria
 * are rp_report.vc[crit_off .. crit_off + n_criteria - 1], texts cut to
 * these sizes. */
typedef struct rp_verdict {
    int64_t at_ms;
    int64_t hour;         /* soak hour (at - soak_start); -1 unknown */
    int final;
    char verdict[16];     /* go, no_go, pending */
    int n_criteria, n_pass;
    size_t crit_off;
} rp_verdict;

typedef struct rp_vcrit {
    int signoff;          /* kind "signoff"; else technical */
    int pass;
    char key[RP_NAME_MAX + 1];
    char title[SW_STR_MAX + 1];
    char detail[SW_STR_MAX + 128];
    char by[RP_NAME_MAX + 1]; /* "" for null: not signed off, or technical */
} rp_vcrit;

typedef struct rp_hour {
    int64_t start_ms;
    int64_t covered_s;    /* seconds of the hour inside a used window */
    int64_t cursor_ms;    /* tiling: covered up to here */
    int n_tiles;          /* windows summed */
    int n_status;
    int worst;            /* LV_* or LV_NONE */
    uint64_t requests, outcomes, successes, errors;
    double lat_sum;       /* sum of latency_mean_ms * outcomes */
    double success_rate, error_rate, lat_mean; /* NAN when outcomes = 0 */
    int pass_success, pass_latency, pass_error; /* 1, 0, or -1 (not judged) */
} rp_hour;

typedef struct rp_criterion {
    const char *key;
    char title[96];
    int pass;
    int first_hour; /* index into hours, -1 none */
    char detail[2 * RP_NAME_MAX + 256];
} rp_criterion;

typedef struct rp_report {
    sw_config cfg;
    rp_status *st;
    size_t n_st, cap_st;
    rp_label *labels;
    size_t n_labels, cap_labels;
    rp_trigger *tr;
    size_t n_tr, cap_tr;
    rp_check *ck;
    size_t n_ck, cap_ck;
    rp_soak *sk;
    size_t n_sk, cap_sk;
    rp_verdict *vd;
    size_t n_vd, cap_vd;
    rp_vcrit *vc;         /* the verdicts' criteria */
    size_t n_vc, cap_vc;
    char names[2][RP_MAX_NAMES + 1][LABEL_NAME_MAX + 1];
    int n_names[2];
    rp_ctile *ct;         /* the statuses' cohort tiles */
    size_t n_ct, cap_ct;
    char cohorts[RP_MAX_COHORTS][RP_NAME_MAX + 1]; /* in the order the statuses list them */
    int n_cohorts;        /* 0: no status carries cohorts */
    uint64_t lines, skipped;
    uint64_t telemetry; /* unreadable lines that look like input telemetry */
    int refresh_s;      /* HTML: reload every this many seconds (a live page); 0 none */
    int64_t interval_ms;
    int64_t first_hour; /* hour number (ms / 1 h) of hours[0] */
    rp_hour *hours;
    size_t n_hours;
    rp_hour *coh_hours;   /* n_hours x n_cohorts: hour h, cohort c at h * n_cohorts + c */
    rp_criterion crit[4];
    int go;
    int longest_run;    /* consecutive complete hours above the success target */
    int complete_hours;
    uint64_t firings;
} rp_report;

/* The forms of rp_fmt_utc: 12:34:56, 12:34, 2026-11-20 12:34,
 * 2026-11-20 12:34:56, 11-20. rp_fmt_iso writes RFC 3339. */
enum { TF_HMS, TF_HM, TF_DHM, TF_DHMS, TF_MD };

/* ---- the model (report_model.c) ---- */
extern const char *const rp_check_states[3]; /* "verified", "not_verified", "baseline" */
size_t rp_hour_index(const rp_report *r, int64_t at_ms);
void rp_fmt_hour_range(const rp_report *r, size_t i, char *out, size_t cap);
void rp_fmt_utc(int64_t ms, int form, char *out, size_t cap);
void rp_pct(double v, char *out, size_t cap);
/* An hour's success rate, error rate and mean response as the text and
 * HTML renderers write them ("97.3%", "n/a", "1.25s"). */
typedef struct rp_hour_texts {
    char success[32], errors[32], latency[32];
} rp_hour_texts;
void rp_hour_texts_of(const rp_hour *h, rp_hour_texts *t);
const char *rp_level_name(int lv);
void rp_fmt_iso(int64_t ms, char *out, size_t cap);
int rp_read_input(rp_report *r, const char *path);
/* "RULE" for the whole topic's trigger, "RULE [COHORT]" for a cohort's. */
void rp_trigger_name(const rp_trigger *t, char *out, size_t cap);
/* Hour h of cohort c (rp_build_hours tiles them as the whole topic's). */
static inline const rp_hour *rp_coh_hour(const rp_report *r, size_t h, int c)
{
    return &r->coh_hours[h * (size_t)r->n_cohorts + (size_t)c];
}
/* One output event (a line without its newline) into the model, as
 * rp_read_input takes each line: for a running process's live page.
 * Returns 0, -E2BIG past RP_MAX_LINES, or -ENOMEM. */
int rp_take_line(rp_report *r, const char *line, size_t n);
int rp_normalise(rp_report *r);
int rp_build_hours(rp_report *r);
void rp_judge_soak(rp_report *r);
void rp_report_free(rp_report *r);

/* The renderers append to b and return 0, or a negative errno when an
 * append failed (the buffer's cap, or memory): b then holds a partial
 * report that must not be written. Appends within a render need no
 * checking one by one: a failed buffer stays failed (buf.h). */
static inline int rp_render_result(const sw_buf *b)
{
    return b->failed ? -ENOBUFS : 0;
}

/* ---- the soak cadence (soak_report.c) ---- */
struct json_t;
int rp_parse_soak(rp_report *r, const struct json_t *o, uint32_t seq);
int rp_parse_soak_verdict(rp_report *r, const struct json_t *o);
int rp_render_soak_verdicts_text(sw_buf *b, const rp_report *r);
int rp_render_soak_verdicts_json(sw_buf *b, const rp_report *r);
int rp_render_soak_verdicts_html(sw_buf *b, const rp_report *r);
void rp_build_soak(rp_report *r);
int rp_render_soak_rows_text(sw_buf *b, const rp_report *r);
int rp_render_soak_rows_json(sw_buf *b, const rp_report *r);
int rp_render_soak_rows_html(sw_buf *b, const rp_report *r);

/* ---- text (text.c) ---- */
void rp_fmt_num(double v, char *out, size_t cap);
const char *rp_pass_word(int p);
void rp_fmt_compare(const rp_trigger *t, char *out, size_t cap);
int rp_render_verdict_text(sw_buf *b, const rp_report *r);
int rp_render_text(sw_buf *b, const rp_report *r);

/* ---- json (json.c) ---- */
int rp_render_soak_json(sw_buf *b, const rp_report *r);
int rp_render_json(sw_buf *b, const rp_report *r);

/* ---- html (html.c) ---- */
/* s into b with & < > " ' escaped: every text that comes from the input. */
void rp_html_esc(sw_buf *b, const char *s);
int rp_render_html(sw_buf *b, const rp_report *r);

#endif
