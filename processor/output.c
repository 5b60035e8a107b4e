/* output.c: rendering of the output events, rollback trigger and status,
 * as JSON and as text. Invariant: the field order is fixed and written
 * front to back in one pass (nothing is reopened or patched), numbers are in
 * their shortest round-trip form, so the same values always give
 * byte-identical output; any append that fails makes the whole call fail. */
#include "output.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>

#include "event.h"
#include "rules.h"

static int put_at(sw_buf *b, int64_t at_s)
{
    char ts[40];
    dec_rfc3339_format(at_s * 1000, ts, sizeof(ts));
    int rc = buf_puts(b, "\"at_ms\":");
    rc |= buf_json_i64(b, at_s * 1000);
    rc |= buf_puts(b, ",\"at\":");
    rc |= buf_json_str(b, ts);
    return rc;
}

/* The fields of section 7, up to and including `action`. */
static int put_trigger_fields(sw_buf *b, const sw_config *cfg, const sw_trigger_info *t)
{
    const sw_rule *r = t->rule;
    char id[SW_RULE_NAME_MAX + LABEL_NAME_MAX + 32];
    output_trigger_id(r->name, t->cohort, t->at_s, id, sizeof(id));
    int rc = buf_puts(b, "{\"type\":\"rollback_trigger\",\"schema_version\":1,\"id\":");
    rc |= buf_json_str(b, id);
    rc |= buf_puts(b, ",\"rule\":");
    rc |= buf_json_str(b, r->name);
    if (t->cohort) {
        rc |= buf_puts(b, ",\"cohort\":");
        rc |= buf_json_str(b, t->cohort);
    }
    rc |= buf_puts(b, t->firing ? ",\"state\":\"firing\"," : ",\"state\":\"resolved\",");
    rc |= put_at(b, t->at_s);
    rc |= buf_puts(b, ",\"window_s\":");
    rc |= buf_json_i64(b, r->window_s);
    rc |= buf_puts(b, ",\"window_start_ms\":");
    rc |= buf_json_i64(b, (t->at_s - r->window_s) * 1000);
    rc |= buf_puts(b, ",\"window_end_ms\":");
    rc |= buf_json_i64(b, t->at_s * 1000);
    rc |= buf_puts(b, ",\"metric\":");
    rc |= buf_json_str(b, r->metric_name);
    rc |= buf_puts(b, ",\"op\":");
    rc |= buf_json_str(b, config_op_name(r->op));
    rc |= buf_puts(b, ",\"threshold\":");
    rc |= buf_json_double(b, r->threshold);
    rc |= buf_puts(b, ",\"value\":");
    rc |= buf_json_double(b, t->value);
    rc |= buf_puts(b, ",\"samples\":");
    rc |= buf_json_u64(b, t->samples);
    rc |= buf_puts(b, ",\"feature\":");
    rc |= buf_json_str(b, cfg->feature);
    rc |= buf_puts(b, ",\"action\":");
    rc |= buf_json_str(b, output_action_name(t));
    return rc;
}

const char *output_action_name(const sw_trigger_info *t)
{
    if (!t->firing)
        return "none";
    return t->rule->action == SW_ACTION_ROLLBACK_COHORT ? "rollback_cohort" : "disable_flag";
}

void output_trigger_id(const char *rule, const char *cohort, int64_t at_s, char *out,
                       size_t cap)
{
    if (cohort)
        snprintf(out, cap, "%s:%s:%" PRId64, rule, cohort, at_s * 1000);
    else
        snprintf(out, cap, "%s:%" PRId64, rule, at_s * 1000);
}

/* provenance.rule: the rule's definition as used, its options included. */
static int put_provenance_rule(sw_buf *b, const sw_rule *rule)
{
    int rc = buf_puts(b, ",\"rule\":{\"metric\":");
    rc |= buf_json_str(b, rule->metric_name);
    rc |= buf_puts(b, ",\"op\":");
    rc |= buf_json_str(b, config_op_name(rule->op));
    rc |= buf_puts(b, ",\"threshold\":");
    rc |= buf_json_double(b, rule->threshold);
    rc |= buf_puts(b, ",\"window_s\":");
    rc |= buf_json_i64(b, rule->window_s);
    rc |= buf_puts(b, ",\"min_samples\":");
    rc |= buf_json_i64(b, rule->min_samples);
    if (rule->has_resolve_threshold) {
        rc |= buf_puts(b, ",\"resolve_threshold\":");
        rc |= buf_json_double(b, rule->resolve_threshold);
    }
    if (rule->keep_firing_for_s)
        rc |= buf_printf(b, ",\"keep_firing_for_s\":%" PRId64, rule->keep_firing_for_s);
    if (rule->latch)
        rc |= buf_puts(b, ",\"latch\":true");
    if (rule->hold_when_no_data)
        rc |= buf_puts(b, ",\"hold_when_no_data\":true");
    if (rule->confidence > 0) {
        rc |= buf_puts(b, ",\"confidence\":");
        rc |= buf_json_double(b, rule->confidence);
    }
    if (rule->n_extra_windows) {
        rc |= buf_puts(b, ",\"windows_s\":[");
        for (int k = 0; k < rule->n_extra_windows; k++)
            rc |= buf_printf(b, "%s%" PRId64, k ? "," : "", rule->extra_windows_s[k]);
        rc |= buf_puts(b, "]");
    }
    rc |= buf_puts(b, "}");
    return rc;
}

static int put_provenance(sw_buf *b, const sw_rule *rule, const sw_provenance *p)
{
    int rc = buf_puts(b, ",\"provenance\":{\"config\":");
    rc |= buf_json_str(b, p->config);
    rc |= put_provenance_rule(b, rule);
    if (p->source_kind) {
        rc |= buf_printf(b, ",\"%s\":{", p->source_kind);
        for (int i = 0; i < p->n_ranges; i++)
            rc |= buf_printf(b, "%s\"%d\":[%" PRId64 ",%" PRId64 "]", i ? "," : "",
                             p->ranges[i].source, p->ranges[i].lo, p->ranges[i].hi);
        rc |= buf_puts(b, "}");
    }
    rc |= buf_puts(b, "}");
    return rc;
}

/* The fields of section 8 that follow `action`, each only when the rule
 * uses its option, so that a runbook rule's trigger is exactly section 7. */
static int put_trigger_options(sw_buf *b, const sw_trigger_info *t)
{
    const sw_rule *rule = t->rule;
    int rc = 0;
    if (rule->has_resolve_threshold) {
        rc |= buf_puts(b, ",\"resolve_threshold\":");
        rc |= buf_json_double(b, rule->resolve_threshold);
    }
    if (rule->confidence > 0) {
        rc |= buf_puts(b, ",\"confidence\":");
        rc |= buf_json_double(b, rule->confidence);
        rc |= buf_puts(b, ",\"interval\":[");
        rc |= buf_json_double(b, t->interval_lo);
        rc |= buf_puts(b, ",");
        rc |= buf_json_double(b, t->interval_hi);
        rc |= buf_puts(b, "]");
    }
    if (t->n_windows > 1) {
        rc |= buf_puts(b, ",\"windows\":[");
        for (int k = 0; k < t->n_windows; k++) {
            rc |= buf_printf(b, "%s{\"window_s\":%" PRId64 ",\"value\":", k ? "," : "",
                             t->windows[k].window_s);
            rc |= buf_json_double(b, t->windows[k].value);
            rc |= buf_printf(b, ",\"samples\":%" PRIu64 "}", t->windows[k].samples);
        }
        rc |= buf_puts(b, "]");
    }
    if (rule->latch)
        rc |= buf_puts(b, t->firing ? ",\"latched\":true" : ",\"latched\":false");
    if (t->acked_id && t->acked_by) {
        rc |= buf_puts(b, ",\"acknowledged\":{\"id\":");
        rc |= buf_json_str(b, t->acked_id);
        rc |= buf_puts(b, ",\"by\":");
        rc |= buf_json_str(b, t->acked_by);
        rc |= buf_puts(b, "}");
    }
    if (t->provenance)
        rc |= put_provenance(b, rule, t->provenance);
    return rc;
}

/* One side of a comparison, after sep: "NAME":{"cohort","value","samples"}. */
static int put_side(sw_buf *b, const char *sep, const char *name, const char *cohort, double v,
                    uint64_t n)
{
    int rc = buf_printf(b, "%s\"%s\":{\"cohort\":", sep, name);
    rc |= buf_json_str(b, cohort);
    rc |= buf_puts(b, ",\"value\":");
    rc |= buf_json_double(b, v);
    rc |= buf_puts(b, ",\"samples\":");
    rc |= buf_json_u64(b, n);
    rc |= buf_puts(b, "}");
    return rc;
}

/* A comparison rule's `compare` object (section 12). */
static int put_compare(sw_buf *b, const sw_compare_info *c)
{
    int rc = buf_puts(b, ",\"compare\":{");
    rc |= put_side(b, "", "treatment", c->treatment, c->value_t, c->samples_t);
    rc |= put_side(b, ",", "control", c->control, c->value_c, c->samples_c);
    rc |= buf_puts(b, ",\"statistic\":");
    rc |= buf_json_double(b, c->statistic);
    rc |= buf_puts(b, ",\"p_value\":");
    rc |= buf_json_double(b, c->p_value);
    rc |= buf_puts(b, ",\"alpha_per_look\":");
    rc |= buf_json_double(b, c->alpha_per_look);
    rc |= buf_puts(b, "}");
    return rc;
}

int output_trigger_json(sw_buf *b, const sw_config *cfg, const sw_trigger_info *t)
{
    int rc = put_trigger_fields(b, cfg, t);
    rc |= put_trigger_options(b, t);
    if (t->cmp)
        rc |= put_compare(b, t->cmp);
    rc |= buf_puts(b, "}");
    return rc ? -ENOBUFS : 0;
}

static int put_labels(sw_buf *b, const sw_labels *l, const uint64_t *counts)
{
    int rc = buf_puts(b, "{");
    int first = 1;
    for (int i = 0; i <= l->n; i++) {
        if (counts[i] == 0)
            continue;
        if (!first)
            rc |= buf_puts(b, ",");
        first = 0;
        rc |= buf_json_str(b, labels_name(l, i));
        rc |= buf_puts(b, ":");
        rc |= buf_json_u64(b, counts[i]);
    }
    rc |= buf_puts(b, "}");
    return rc;
}

int output_window_json(sw_buf *b, const sw_config *cfg, const sw_wm *w, int64_t observed_s)
{
    int rc = buf_puts(b, "{\"requests\":");
    rc |= buf_json_u64(b, w->requests);
    rc |= buf_puts(b, ",\"outcomes\":");
    rc |= buf_json_u64(b, w->outcomes);
    rc |= buf_puts(b, ",\"successes\":");
    rc |= buf_json_u64(b, w->successes);
    rc |= buf_puts(b, ",\"errors\":");
    rc |= buf_json_u64(b, w->errors);
    rc |= buf_puts(b, ",\"declined\":");
    rc |= buf_json_u64(b, w->declined);
    rc |= buf_puts(b, ",\"success_rate\":");
    rc |= buf_json_double(b, w->success_rate);
    rc |= buf_puts(b, ",\"error_rate\":");
    rc |= buf_json_double(b, w->error_rate);
    rc |= buf_puts(b, ",\"latency_mean_ms\":");
    rc |= buf_json_double(b, w->latency_mean_ms);
    rc |= buf_puts(b, ",\"latency_p95_ms\":");
    rc |= buf_json_double(b, w->latency_p95_ms);
    rc |= buf_puts(b, ",\"latency_p99_ms\":");
    rc |= buf_json_double(b, w->latency_p99_ms);
    rc |= buf_puts(b, ",\"time_constraint_success_rate\":");
    rc |= buf_json_double(b, w->time_constraint_success_rate);
    rc |= buf_puts(b, ",\"strategies\":");
    rc |= put_labels(b, &cfg->strategies, w->strategies);
    rc |= buf_puts(b, ",\"fallback_reasons\":");
    rc |= put_labels(b, &cfg->reasons, w->reasons);
    if (observed_s >= 0) {
        rc |= buf_puts(b, ",\"observed_s\":");
        rc |= buf_json_i64(b, observed_s);
    }
    rc |= buf_puts(b, "}");
    return rc ? -ENOBUFS : 0;
}

int output_status_json(sw_buf *b, const sw_config *cfg, const sw_status_info *s)
{
    int rc = buf_puts(b, "{\"type\":\"status\",\"schema_version\":1,");
    rc |= put_at(b, s->at_s);
    rc |= buf_puts(b, ",\"status\":");
    rc |= buf_json_str(b, status_colour_name(s->colour));
    rc |= buf_puts(b, ",\"firing\":[");
    for (int i = 0; i < s->n_firing; i++) {
        if (i)
            rc |= buf_puts(b, ",");
        rc |= buf_json_str(b, s->firing[i]);
    }
    rc |= buf_puts(b, "]");
    if (s->cohorts) {
        rc |= buf_puts(b, ",\"cohorts_firing\":[");
        for (int i = 0; i < s->n_cohort_firing; i++) {
            char id[SW_RULE_NAME_MAX + LABEL_NAME_MAX + 2];
            snprintf(id, sizeof(id), "%s:%s", s->cohort_rule[i], s->cohort_name[i]);
            rc |= buf_puts(b, i ? "," : "");
            rc |= buf_json_str(b, id);
        }
        rc |= buf_puts(b, "]");
    }
    if (s->n_blind) {
        rc |= buf_puts(b, ",\"blind\":[");
        for (int i = 0; i < s->n_blind; i++) {
            rc |= buf_puts(b, i ? ",{\"rule\":" : "{\"rule\":");
            rc |= buf_json_str(b, s->blind_rule[i]);
            rc |= buf_puts(b, ",\"missing\":");
            rc |= buf_json_str(b, s->blind_missing[i]);
            rc |= buf_puts(b, "}");
        }
        rc |= buf_puts(b, "]");
    }
    if (s->quality) {
        rc |= buf_puts(b, ",\"quality\":");
        rc |= buf_json_str(b, s->quality);
    }
    rc |= buf_puts(b, ",\"windows\":{");
    for (int i = 0; i < s->n_windows; i++) {
        if (i)
            rc |= buf_puts(b, ",");
        rc |= buf_printf(b, "\"%" PRId64 "\":", s->windows[i]->window_s);
        rc |= output_window_json(b, cfg, s->windows[i], s->observed_s[i]);
    }
    rc |= buf_puts(b, "}");
    if (s->cohorts) {
        rc |= buf_puts(b, ",\"cohorts\":{");
        for (int i = 0; i < s->n_cohort_windows; i++) {
            rc |= buf_puts(b, i ? "," : "");
            rc |= buf_json_str(b, s->cohort_window_name[i]);
            rc |= buf_puts(b, ":");
            rc |= output_window_json(b, cfg, s->cohort_window[i], s->cohort_observed_s);
        }
        rc |= buf_puts(b, "}");
    }
    rc |= buf_puts(b, "}");
    return rc ? -ENOBUFS : 0;
}

/* A number for a person: "null" for undefined, else %g with 4 digits. */
static void human(char *out, size_t cap, double v)
{
    if (isnan(v))
        snprintf(out, cap, "null");
    else
        snprintf(out, cap, "%.4g", v);
}

int output_trigger_text(sw_buf *b, const sw_config *cfg, const sw_trigger_info *t)
{
    (void)cfg;
    char ts[40], val[32], thr[32];
    dec_rfc3339_format(t->at_s * 1000, ts, sizeof(ts));
    human(val, sizeof(val), t->value);
    human(thr, sizeof(thr), t->rule->threshold);
    int rc = buf_printf(b, "%s %-8s %s%s%s: %s %s %s %s over %" PRId64 " s, %" PRIu64
                        " samples%s%s", ts, t->firing ? "FIRING" : "RESOLVED", t->rule->name,
                        t->cohort ? " cohort " : "", t->cohort ? t->cohort : "",
                        t->rule->metric_name, val, t->firing ? config_op_name(t->rule->op) : "vs",
                        thr, t->rule->window_s, t->samples, t->firing ? " -> " : "",
                        t->firing ? output_action_name(t) : "");
    return rc ? -ENOBUFS : 0;
}

int output_status_text(sw_buf *b, const sw_config *cfg, const sw_status_info *s)
{
    char ts[40], sr[32], er[32], lat[32];
    const sw_wm *w = NULL;
    for (int i = 0; i < s->n_windows; i++)
        if (s->windows[i]->window_s == cfg->status_window_s)
            w = s->windows[i];
    if (w == NULL)
        w = s->windows[0];
    dec_rfc3339_format(s->at_s * 1000, ts, sizeof(ts));
    human(sr, sizeof(sr), w->success_rate);
    human(er, sizeof(er), w->error_rate);
    human(lat, sizeof(lat), w->latency_mean_ms);
    int rc = buf_printf(b,
                        "%s %-8s success_rate %s (target > %g), error_rate %s (target < %g), "
                        "latency_mean_ms %s (target < %g) over %" PRId64 " s, %" PRIu64 " outcomes",
                        ts, s->colour == 2 ? "RED" : s->colour == 1 ? "YELLOW" : "GREEN", sr,
                        cfg->status_success_rate_min, er, cfg->status_error_rate_max, lat,
                        cfg->status_latency_mean_max_ms, w->window_s, w->outcomes);
    if (s->n_firing || s->n_cohort_firing) {
        rc |= buf_puts(b, "; firing:");
        for (int i = 0; i < s->n_firing; i++)
            rc |= buf_printf(b, " %s", s->firing[i]);
        for (int i = 0; i < s->n_cohort_firing; i++)
            rc |= buf_printf(b, " %s:%s", s->cohort_rule[i], s->cohort_name[i]);
    }
    if (s->n_blind) {
        rc |= buf_puts(b, "; blind:");
        for (int i = 0; i < s->n_blind; i++)
            rc |= buf_printf(b, " %s (no %s)", s->blind_rule[i], s->blind_missing[i]);
    }
    return rc ? -ENOBUFS : 0;
}

/* ---- rollback checks (section 10) ---------------------------------------- */

static const char *const check_states[] = {"verified", "not_verified", "baseline"};

int output_check_json(sw_buf *b, const sw_config *cfg, const sw_check_info *c)
{
    const char *state = check_states[c->state];
    char id[SW_RULE_NAME_MAX + 48];
    snprintf(id, sizeof(id), "%s:%" PRId64 ":%s", c->rule->name, c->fired_at_s * 1000, state);
    int rc = buf_puts(b, "{\"type\":\"rollback_check\",\"schema_version\":1,\"id\":");
    rc |= buf_json_str(b, id);
    rc |= buf_puts(b, ",\"rule\":");
    rc |= buf_json_str(b, c->rule->name);
    rc |= buf_puts(b, ",\"state\":");
    rc |= buf_json_str(b, state);
    rc |= buf_puts(b, ",");
    rc |= put_at(b, c->at_s);
    rc |= buf_puts(b, ",\"fired_at_ms\":");
    rc |= buf_json_i64(b, c->fired_at_s * 1000);
    rc |= buf_puts(b, ",\"verify_within_s\":");
    rc |= buf_json_i64(b, cfg->rollback_verify_within_s);
    rc |= buf_puts(b, ",\"unavailable\":");
    rc |= buf_json_u64(b, c->unavailable);
    rc |= buf_puts(b, ",\"quiet_s\":");
    rc |= buf_json_i64(b, c->quiet_s);
    rc |= buf_puts(b, ",\"evidence\":");
    rc |= c->evidence ? buf_json_str(b, c->evidence) : buf_puts(b, "null");
    rc |= buf_puts(b, ",\"verified_at_ms\":");
    rc |= c->verified_at_s == INT64_MIN ? buf_puts(b, "null")
                                        : buf_json_i64(b, c->verified_at_s * 1000);
    rc |= buf_puts(b, ",\"feature\":");
    rc |= buf_json_str(b, cfg->feature);
    rc |= buf_puts(b, c->state == SW_CHECK_NOT_VERIFIED ? ",\"action\":\"escalate\"}"
                                                        : ",\"action\":\"none\"}");
    return rc ? -ENOBUFS : 0;
}

int output_check_text(sw_buf *b, const sw_config *cfg, const sw_check_info *c)
{
    static const char *const upper[] = {"VERIFIED", "NOT_VERIFIED", "BASELINE"};
    char ts[40], fired[40], ver[40];
    dec_rfc3339_format(c->at_s * 1000, ts, sizeof(ts));
    dec_rfc3339_format(c->fired_at_s * 1000, fired, sizeof(fired));
    int rc = buf_printf(b, "%s %-8s %s: fired %s; %s %" PRIu64 ", no requests for %" PRId64 " s",
                        ts, upper[c->state], c->rule->name, fired, cfg->rollback_reason,
                        c->unavailable, c->quiet_s);
    if (c->state == SW_CHECK_VERIFIED) {
        rc |= buf_printf(b, "; evidence %s", c->evidence ? c->evidence : "null");
    } else if (c->state == SW_CHECK_NOT_VERIFIED) {
        rc |= buf_printf(b, "; not verified within %" PRId64 " s -> escalate",
                         cfg->rollback_verify_within_s);
    } else if (c->verified_at_s != INT64_MIN) {
        dec_rfc3339_format(c->verified_at_s * 1000, ver, sizeof(ver));
        rc |= buf_printf(b, "; verified at %s", ver);
    } else {
        rc |= buf_puts(b, "; not verified");
    }
    return rc ? -ENOBUFS : 0;
}
