/* text.c: the report for people: the soak plan's hourly updates and the
 * verdict, in the runbook's own words. Invariant: a pure function of the
 * model; each trigger is told once, a resolution with its firing when both
 * fall in one hour. */
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

/* ---- text -------------------------------------------------------------- */

const char *rp_pass_word(int p)
{
    return p ? "PASS" : "FAIL";
}

void rp_fmt_num(double v, char *out, size_t cap)
{
    if (isnan(v))
        snprintf(out, cap, "null");
    else if (fmt_double_shortest(out, cap, v) != 0)
        snprintf(out, cap, "%g", v);
}

static void fmt_value(double v, char *out, size_t cap)
{
    if (isnan(v))
        snprintf(out, cap, "null");
    else
        snprintf(out, cap, "%.4g", v);
}

static void fmt_side(const char *cohort, double v, int64_t samples, char *out, size_t cap)
{
    char val[40];
    fmt_value(v, val, sizeof(val));
    if (samples >= 0)
        snprintf(out, cap, "%s %s (%" PRId64 " samples)", cohort, val, samples);
    else
        snprintf(out, cap, "%s %s", cohort, val);
}

/* A comparison trigger's two sides and p-value: "v2 0.5214 (117 samples)
 * vs v1 0.0012 (1061 samples), p = 8.826e-08". */
void rp_fmt_compare(const rp_trigger *t, char *out, size_t cap)
{
    char tr[RP_NAME_MAX + 96], co[RP_NAME_MAX + 96], p[40] = "null";
    fmt_side(t->cohort[0] ? t->cohort : "treatment", t->cmp_t_value, t->cmp_t_samples, tr,
             sizeof(tr));
    fmt_side(t->cmp_control[0] ? t->cmp_control : "control", t->cmp_c_value, t->cmp_c_samples,
             co, sizeof(co));
    if (!isnan(t->cmp_p))
        snprintf(p, sizeof(p), "%.4g", t->cmp_p);
    snprintf(out, cap, "%s vs %s, p = %s", tr, co, p);
}

/* One trigger as a note: "RULE FIRING at 12:41:07 (error_rate 0.35 > 0.1
 * over 300 s, 40 samples); resolved at 12:52:00"; a cohort's trigger is
 * "RULE [COHORT]", a comparison's condition is on the difference, with
 * both sides and the p-value. */
static void note_trigger(sw_buf *b, const rp_report *r, size_t i, size_t h)
{
    const rp_trigger *t = &r->tr[i];
    char at[16], thr[40], val[40], name[2 * RP_NAME_MAX + 4];
    rp_fmt_utc(t->at_ms, TF_HMS, at, sizeof(at));
    rp_trigger_name(t, name, sizeof(name));
    if (!t->firing) {
        buf_printf(b, "%s resolved at %s", name, at);
        if (t->pair >= 0) {
            const rp_trigger *f = &r->tr[t->pair];
            char since[32];
            rp_fmt_utc(f->at_ms, TF_DHMS, since, sizeof(since));
            buf_printf(b, " (firing since %s)", since);
        }
        return;
    }
    rp_fmt_num(t->threshold, thr, sizeof(thr));
    fmt_value(t->value, val, sizeof(val));
    buf_printf(b, "%s FIRING at %s (%s%s %s %s %s", name, at, t->metric,
               t->has_compare ? " difference" : "", val, t->op, thr);
    if (t->window_s > 0)
        buf_printf(b, " over %" PRId64 " s", t->window_s);
    if (t->has_compare) {
        char cmp[2 * RP_NAME_MAX + 256];
        rp_fmt_compare(t, cmp, sizeof(cmp));
        buf_printf(b, ": %s", cmp);
    } else if (t->samples >= 0) {
        buf_printf(b, ", %" PRId64 " samples", t->samples);
    }
    buf_puts(b, ")");
    if (t->pair < 0) {
        buf_puts(b, "; still firing at the end of the input");
        return;
    }
    const rp_trigger *res = &r->tr[t->pair];
    size_t rh = rp_hour_index(r, res->at_ms);
    if (rh == h) {
        rp_fmt_utc(res->at_ms, TF_HMS, at, sizeof(at));
        buf_printf(b, "; resolved at %s", at);
    } else {
        char when[32];
        rp_fmt_utc(res->at_ms, TF_DHMS, when, sizeof(when));
        buf_printf(b, "; resolved at %s (hour %zu)", when, rh + 1);
    }
}

/* One rollback check as a note: "error_rate_high rollback NOT VERIFIED at
 * 09:26:20 (fired 09:21:20; 0 unavailable, 0 s without requests):
 * escalate". */
static void note_check(sw_buf *b, const rp_check *c)
{
    char at[16], fired[16], ver[16];
    rp_fmt_utc(c->at_ms, TF_HMS, at, sizeof(at));
    rp_fmt_utc(c->fired_at_ms, TF_HMS, fired, sizeof(fired));
    static const char *const words[3] = {"verified", "NOT VERIFIED", "baseline"};
    buf_printf(b, "%s rollback %s at %s (fired %s; %" PRId64 " unavailable, %" PRId64
               " s without requests)", c->rule, words[c->state], at, fired, c->unavailable,
               c->quiet_s);
    if (c->state == 0 && c->evidence[0])
        buf_printf(b, " by %s", c->evidence);
    else if (c->state == 1)
        buf_puts(b, ": escalate");
    else if (c->state == 2 && c->verified_at_ms >= 0) {
        rp_fmt_utc(c->verified_at_ms, TF_HMS, ver, sizeof(ver));
        buf_printf(b, ": verified at %s", ver);
    } else if (c->state == 2) {
        buf_puts(b, ": not verified");
    }
}

/* With cohorts (section 12): one line per cohort seen in the hour, its
 * numbers tiled from its status windows as the whole topic's are. */
static void cohort_lines(sw_buf *b, const rp_report *r, size_t h)
{
    for (int c = 0; c < r->n_cohorts; c++) {
        const rp_hour *C = rp_coh_hour(r, h, c);
        rp_hour_texts t;
        if (C->n_tiles == 0)
            continue;
        rp_hour_texts_of(C, &t);
        buf_printf(b, "- Cohort %s: success %s, errors %s, response %s, %" PRIu64 " outcomes\n",
                   r->cohorts[c], t.success, t.errors, t.latency, C->outcomes);
    }
}

static void render_hour_text(sw_buf *b, const rp_report *r, size_t h, size_t *next_tr)
{
    const rp_hour *H = &r->hours[h];
    const sw_config *c = &r->cfg;
    char range[64], v[32];
    rp_fmt_hour_range(r, h, range, sizeof(range));
    buf_printf(b, "Stream5 Staging Update - Hour %zu (%s)\n", h + 1, range);
    if (H->n_tiles == 0) {
        buf_puts(b, "Key Metrics: no status window inside this hour\n");
    } else {
        buf_puts(b, "Key Metrics:\n");
        rp_pct(H->success_rate, v, sizeof(v));
        if (H->outcomes)
            buf_printf(b, "- Success Rate: %s (Target: >%g%%) %s\n", v,
                       c->status_success_rate_min * 100, rp_pass_word(H->pass_success));
        else
            buf_printf(b, "- Success Rate: n/a, no outcomes (Target: >%g%%) FAIL\n",
                       c->status_success_rate_min * 100);
        if (H->outcomes)
            buf_printf(b, "- Response Time: %.2fs (Target: <%gs) %s\n", H->lat_mean / 1000,
                       c->status_latency_mean_max_ms / 1000, rp_pass_word(H->pass_latency));
        else
            buf_printf(b, "- Response Time: n/a (Target: <%gs)\n",
                       c->status_latency_mean_max_ms / 1000);
        rp_pct(H->error_rate, v, sizeof(v));
        if (H->outcomes)
            buf_printf(b, "- Error Rate: %s (Target: <%g%%) %s\n", v,
                       c->status_error_rate_max * 100, rp_pass_word(H->pass_error));
        else
            buf_printf(b, "- Error Rate: n/a (Target: <%g%%)\n", c->status_error_rate_max * 100);
        buf_printf(b, "- Outcomes: %" PRIu64 "\n", H->outcomes);
        if (H->covered_s < RP_HOUR_S)
            buf_printf(b, "- Coverage: %" PRId64 " of 60 min (partial hour)\n",
                       H->covered_s / 60);
        cohort_lines(b, r, h);
    }
    if (H->worst == LV_NONE)
        buf_puts(b, "Status: Unknown (no status events)\n");
    else
        buf_printf(b, "Status: %c%s\n", rp_level_name(H->worst)[0] - 'a' + 'A',
                   rp_level_name(H->worst) + 1);
    buf_puts(b, "Notes: ");
    int any = 0;
    while (*next_tr < r->n_tr && rp_hour_index(r, r->tr[*next_tr].at_ms) == h) {
        const rp_trigger *t = &r->tr[*next_tr];
        /* A resolution already told with its firing is not repeated. */
        if (t->firing || t->pair < 0 || rp_hour_index(r, r->tr[t->pair].at_ms) != h) {
            if (any++)
                buf_puts(b, "; ");
            note_trigger(b, r, *next_tr, h);
        }
        (*next_tr)++;
    }
    for (size_t i = 0; i < r->n_ck; i++) {
        if (rp_hour_index(r, r->ck[i].at_ms) != h)
            continue;
        if (any++)
            buf_puts(b, "; ");
        note_check(b, &r->ck[i]);
    }
    if (!any)
        buf_puts(b, "none");
    buf_puts(b, "\n");
}

int rp_render_verdict_text(sw_buf *b, const rp_report *r)
{
    char from[32], to[32];
    rp_fmt_utc(r->hours[0].start_ms, TF_DHM, from, sizeof(from));
    rp_fmt_utc(r->hours[r->n_hours - 1].start_ms + RP_HOUR_MS, TF_DHM, to, sizeof(to));
    buf_printf(b, "Soak verdict for %s - %s UTC (%zu hours, %d complete)\n", from, to,
               r->n_hours, r->complete_hours);
    for (int i = 0; i < 4; i++) {
        const rp_criterion *k = &r->crit[i];
        buf_printf(b, "- %s: %s%s%s\n", k->title, rp_pass_word(k->pass), k->detail[0] ? ", " : "",
                   k->detail);
    }
    buf_printf(b, "VERDICT: %s\n", r->go ? "GO" : "NO-GO");
    return rp_render_result(b);
}

int rp_render_text(sw_buf *b, const rp_report *r)
{
    size_t next_tr = 0;
    for (size_t h = 0; h < r->n_hours; h++) {
        if (h)
            buf_puts(b, "\n");
        render_hour_text(b, r, h, &next_tr);
    }
    rp_render_soak_rows_text(b, r);
    rp_render_soak_verdicts_text(b, r);
    return rp_render_result(b);
}
