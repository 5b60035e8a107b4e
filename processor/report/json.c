/* json.c: the report as one JSON document (docs/reports.md, "JSON").
 * Invariant: a pure function of the model: fields in a fixed order,
 * numbers in their shortest round-trip form, null where a value is
 * undefined, so the same input gives byte-identical JSON. */
#include "report_model.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <zlib.h>

#include "buf.h"
#include "config.h"
#include "event.h"

/* ---- json -------------------------------------------------------------- */

static void json_num(sw_buf *b, double v)
{
    buf_json_double(b, v); /* null for NAN */
}

static void json_pass(sw_buf *b, int p)
{
    buf_puts(b, p < 0 ? "null" : p ? "true" : "false");
}

static void json_time(sw_buf *b, int64_t ms)
{
    char s[40];
    rp_fmt_iso(ms, s, sizeof(s));
    buf_json_str(b, s);
}

static void json_samples(sw_buf *b, int64_t n)
{
    if (n >= 0)
        buf_printf(b, "%" PRId64, n);
    else
        buf_puts(b, "null");
}

static void json_side(sw_buf *b, const char *cohort, double v, int64_t samples)
{
    buf_puts(b, "{\"cohort\":");
    if (cohort[0])
        buf_json_str(b, cohort);
    else
        buf_puts(b, "null");
    buf_puts(b, ",\"value\":");
    json_num(b, v);
    buf_puts(b, ",\"samples\":");
    json_samples(b, samples);
    buf_puts(b, "}");
}

/* A comparison trigger's `compare`, as the trigger carried it. */
static void json_compare(sw_buf *b, const rp_trigger *t)
{
    buf_puts(b, ",\"compare\":{\"treatment\":");
    json_side(b, t->cohort, t->cmp_t_value, t->cmp_t_samples);
    buf_puts(b, ",\"control\":");
    json_side(b, t->cmp_control, t->cmp_c_value, t->cmp_c_samples);
    buf_puts(b, ",\"statistic\":");
    json_num(b, t->cmp_stat);
    buf_puts(b, ",\"p_value\":");
    json_num(b, t->cmp_p);
    buf_puts(b, "}");
}

static void json_trigger(sw_buf *b, const rp_report *r, const rp_trigger *t)
{
    buf_puts(b, "{\"id\":");
    buf_json_str(b, t->id);
    buf_puts(b, ",\"rule\":");
    buf_json_str(b, t->rule);
    if (t->cohort[0]) {
        buf_puts(b, ",\"cohort\":");
        buf_json_str(b, t->cohort);
    }
    buf_printf(b, ",\"state\":\"%s\",\"at_ms\":%" PRId64 ",\"at\":",
               t->firing ? "firing" : "resolved", t->at_ms);
    json_time(b, t->at_ms);
    buf_printf(b, ",\"hour\":%zu,\"window_s\":%" PRId64 ",\"metric\":", rp_hour_index(r, t->at_ms) + 1,
               t->window_s);
    buf_json_str(b, t->metric);
    buf_puts(b, ",\"op\":");
    buf_json_str(b, t->op);
    buf_puts(b, ",\"threshold\":");
    json_num(b, t->threshold);
    buf_puts(b, ",\"value\":");
    json_num(b, t->value);
    buf_puts(b, ",\"samples\":");
    json_samples(b, t->samples);
    if (t->has_compare)
        json_compare(b, t);
    buf_puts(b, "}");
}

/* With cohorts: each cohort's hour, tiled from its status windows. */
static void json_cohort_hours(sw_buf *b, const rp_report *r, size_t h)
{
    if (r->n_cohorts == 0)
        return;
    buf_puts(b, ",\"cohorts\":{");
    for (int c = 0; c < r->n_cohorts; c++) {
        const rp_hour *C = rp_coh_hour(r, h, c);
        buf_puts(b, c ? "," : "");
        buf_json_str(b, r->cohorts[c]);
        buf_printf(b, ":{\"covered_s\":%" PRId64 ",\"windows\":%d,\"requests\":%" PRIu64
                   ",\"outcomes\":%" PRIu64 ",\"successes\":%" PRIu64 ",\"errors\":%" PRIu64
                   ",\"success_rate\":",
                   C->covered_s, C->n_tiles, C->requests, C->outcomes, C->successes, C->errors);
        json_num(b, C->success_rate);
        buf_puts(b, ",\"latency_mean_ms\":");
        json_num(b, C->lat_mean);
        buf_puts(b, ",\"error_rate\":");
        json_num(b, C->error_rate);
        buf_puts(b, "}");
    }
    buf_puts(b, "}");
}

static void json_check(sw_buf *b, const rp_report *r, const rp_check *c)
{
    buf_puts(b, "{\"rule\":");
    buf_json_str(b, c->rule);
    buf_printf(b, ",\"state\":\"%s\",\"at_ms\":%" PRId64 ",\"at\":", rp_check_states[c->state],
               c->at_ms);
    json_time(b, c->at_ms);
    buf_printf(b, ",\"hour\":%zu,\"fired_at_ms\":%" PRId64 ",\"unavailable\":%" PRId64
               ",\"quiet_s\":%" PRId64 ",\"evidence\":",
               rp_hour_index(r, c->at_ms) + 1, c->fired_at_ms, c->unavailable, c->quiet_s);
    if (c->evidence[0])
        buf_json_str(b, c->evidence);
    else
        buf_puts(b, "null");
    buf_puts(b, ",\"verified_at_ms\":");
    if (c->verified_at_ms >= 0)
        buf_printf(b, "%" PRId64, c->verified_at_ms);
    else
        buf_puts(b, "null");
    buf_puts(b, "}");
}

int rp_render_soak_json(sw_buf *b, const rp_report *r)
{
    buf_printf(b, "{\"verdict\":\"%s\",\"hours\":%zu,\"complete_hours\":%d,"
               "\"longest_success_run_hours\":%d,\"required_hours\":%d,\"firings\":%" PRIu64
               ",\"criteria\":[",
               r->go ? "GO" : "NO-GO", r->n_hours, r->complete_hours, r->longest_run,
               RP_SOAK_HOURS, r->firings);
    for (int i = 0; i < 4; i++) {
        const rp_criterion *k = &r->crit[i];
        buf_printf(b, "%s{\"name\":\"%s\",\"description\":", i ? "," : "", k->key);
        buf_json_str(b, k->title);
        buf_printf(b, ",\"pass\":%s,\"first_failed_hour\":", k->pass ? "true" : "false");
        if (k->first_hour >= 0) {
            buf_printf(b, "%d,\"first_failed_start\":", k->first_hour + 1);
            json_time(b, r->hours[k->first_hour].start_ms);
        } else {
            buf_puts(b, "null,\"first_failed_start\":null");
        }
        buf_puts(b, ",\"detail\":");
        buf_json_str(b, k->detail);
        buf_puts(b, "}");
    }
    buf_puts(b, "]}");
    return rp_render_result(b);
}

int rp_render_json(sw_buf *b, const rp_report *r)
{
    const sw_config *c = &r->cfg;
    buf_printf(b, "{\"input\":{\"lines\":%" PRIu64 ",\"skipped_lines\":%" PRIu64
               ",\"statuses\":%zu,\"triggers\":%zu,\"status_interval_s\":",
               r->lines, r->skipped, r->n_st, r->n_tr);
    json_num(b, (double)r->interval_ms / 1000);
    buf_puts(b, "},\"targets\":{\"success_rate_min\":");
    json_num(b, c->status_success_rate_min);
    buf_puts(b, ",\"latency_mean_max_ms\":");
    json_num(b, c->status_latency_mean_max_ms);
    buf_puts(b, ",\"error_rate_max\":");
    json_num(b, c->status_error_rate_max);
    buf_puts(b, "},\"hours\":[");
    size_t ti = 0;
    for (size_t h = 0; h < r->n_hours; h++) {
        const rp_hour *H = &r->hours[h];
        buf_printf(b, "%s\n{\"hour\":%zu,\"start\":", h ? "," : "", h + 1);
        json_time(b, H->start_ms);
        buf_puts(b, ",\"end\":");
        json_time(b, H->start_ms + RP_HOUR_MS);
        buf_printf(b, ",\"covered_s\":%" PRId64 ",\"windows\":%d,\"statuses\":%d,"
                   "\"requests\":%" PRIu64
                   ",\"outcomes\":%" PRIu64 ",\"successes\":%" PRIu64 ",\"errors\":%" PRIu64
                   ",\"success_rate\":",
                   H->covered_s, H->n_tiles, H->n_status, H->requests, H->outcomes, H->successes,
                   H->errors);
        json_num(b, H->success_rate);
        buf_puts(b, ",\"latency_mean_ms\":");
        json_num(b, H->lat_mean);
        buf_puts(b, ",\"error_rate\":");
        json_num(b, H->error_rate);
        buf_puts(b, ",\"status\":");
        if (H->worst == LV_NONE)
            buf_puts(b, "null");
        else
            buf_json_str(b, rp_level_name(H->worst));
        buf_puts(b, ",\"pass\":{\"success_rate\":");
        json_pass(b, H->pass_success);
        buf_puts(b, ",\"latency_mean_ms\":");
        json_pass(b, H->pass_latency);
        buf_puts(b, ",\"error_rate\":");
        json_pass(b, H->pass_error);
        buf_puts(b, "},\"triggers\":[");
        int first = 1;
        while (ti < r->n_tr && rp_hour_index(r, r->tr[ti].at_ms) == h) {
            buf_puts(b, first ? "" : ",");
            buf_json_str(b, r->tr[ti].id);
            first = 0;
            ti++;
        }
        buf_puts(b, "]");
        json_cohort_hours(b, r, h);
        buf_puts(b, "}");
    }
    buf_puts(b, "],\n\"triggers\":[");
    for (size_t i = 0; i < r->n_tr; i++) {
        buf_puts(b, i ? ",\n" : "\n");
        json_trigger(b, r, &r->tr[i]);
    }
    buf_puts(b, "],\n\"rollback_checks\":[");
    for (size_t i = 0; i < r->n_ck; i++) {
        buf_puts(b, i ? ",\n" : "\n");
        json_check(b, r, &r->ck[i]);
    }
    buf_puts(b, "],\n\"soak_updates\":");
    rp_render_soak_rows_json(b, r);
    buf_puts(b, ",\n\"soak_verdicts\":");
    rp_render_soak_verdicts_json(b, r);
    buf_puts(b, ",\n\"soak\":");
    rp_render_soak_json(b, r);
    buf_puts(b, "}\n");
    return rp_render_result(b);
}
