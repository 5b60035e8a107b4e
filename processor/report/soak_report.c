/* soak_report.c: the soak cadence in `soakwatch report`: each soak_update
 * event (docs/semantics.md section 11) read as written, the same period
 * tiled again from the status windows (so that the report checks the
 * updates against the statuses), and one row per update in text, JSON and
 * HTML; each soak_verdict, its criteria listed in full in HTML. Invariant:
 * a row's tiled sums use non-overlapping status windows inside its period
 * only; covered_s says how much of the period they cover, and the sums
 * equal the update's when it is all of it; every text read from a verdict
 * is HTML-escaped. */
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_model.h"

static int64_t int_of(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : -1;
}

static double num_of(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static int level_of_status(const json_t *v)
{
    const char *s = json_string_value(v);
    if (s == NULL)
        return LV_NONE;
    if (strcmp(s, "green") == 0)
        return LV_GREEN;
    if (strcmp(s, "yellow") == 0)
        return LV_YELLOW;
    return strcmp(s, "red") == 0 ? LV_RED : LV_NONE;
}

/* Parse a soak_update into r->sk. Returns 0, -1 (not one), -ENOMEM. */
int rp_parse_soak(rp_report *r, const json_t *o, uint32_t seq)
{
    rp_soak k;
    memset(&k, 0, sizeof(k));
    k.at_ms = int_of(o, "at_ms");
    k.soak_start_ms = int_of(o, "soak_start_ms");
    k.period_start_ms = int_of(o, "period_start_ms");
    k.hour_from = int_of(o, "hour_from");
    k.hour_to = int_of(o, "hour_to");
    int64_t counts[4] = {int_of(o, "requests"), int_of(o, "outcomes"), int_of(o, "successes"),
                         int_of(o, "errors")};
    if (k.at_ms < 0 || k.period_start_ms < 0 || k.period_start_ms >= k.at_ms || k.hour_to < 1 ||
        counts[0] < 0 || counts[1] < 0 || counts[2] < 0 || counts[3] < 0)
        return -1;
    k.requests = (uint64_t)counts[0];
    k.outcomes = (uint64_t)counts[1];
    k.successes = (uint64_t)counts[2];
    k.errors = (uint64_t)counts[3];
    k.success_rate = num_of(o, "success_rate");
    k.error_rate = num_of(o, "error_rate");
    k.lat_mean = num_of(o, "latency_mean_ms");
    k.status = level_of_status(json_object_get(o, "status"));
    k.seq = seq;
    if (r->n_sk == r->cap_sk) {
        size_t cap = r->cap_sk ? 2 * r->cap_sk : 64;
        rp_soak *p = realloc(r->sk, cap * sizeof(*p));
        if (p == NULL)
            return -ENOMEM;
        r->sk = p;
        r->cap_sk = cap;
    }
    r->sk[r->n_sk++] = k;
    return 0;
}

/* Sum the statuses of (period_start, at] into k the way the hours are
 * tiled: a status is used when one of its windows starts at or after the
 * part of the period covered so far (the longest such window). */
static void tile_one(const rp_report *r, rp_soak *k)
{
    k->cursor_ms = k->period_start_ms;
    k->t_worst = LV_NONE;
    for (size_t i = 0; i < r->n_st; i++) {
        const rp_status *s = &r->st[i];
        if (s->at_ms <= k->period_start_ms || s->at_ms > k->at_ms)
            continue;
        if (s->level > k->t_worst)
            k->t_worst = s->level;
        for (int t = s->n_tiles - 1; t >= 0; t--) {
            const rp_tile *w = &s->tiles[t];
            if (s->at_ms - (int64_t)w->window_s * 1000 < k->cursor_ms)
                continue;
            k->cursor_ms = s->at_ms;
            k->covered_s += w->window_s;
            k->t_requests += w->requests;
            k->t_outcomes += w->outcomes;
            k->t_successes += w->successes;
            k->t_errors += w->errors;
            if (w->outcomes)
                k->t_lat_sum += w->lat_mean * w->outcomes;
            break;
        }
    }
    k->t_success_rate = k->t_error_rate = k->t_lat_mean = NAN;
    if (k->t_outcomes) {
        k->t_success_rate = (double)k->t_successes / (double)k->t_outcomes;
        k->t_error_rate = (double)k->t_errors / (double)k->t_outcomes;
        k->t_lat_mean = k->t_lat_sum / (double)k->t_outcomes;
    }
}

void rp_build_soak(rp_report *r)
{
    for (size_t i = 0; i < r->n_sk; i++)
        tile_one(r, &r->sk[i]);
}

/* Whether the tiled sums cover the period and agree with the update. */
static int agrees(const rp_soak *k)
{
    return k->covered_s * 1000 == k->at_ms - k->period_start_ms &&
           k->t_requests == k->requests && k->t_outcomes == k->outcomes &&
           k->t_successes == k->successes && k->t_errors == k->errors && k->t_worst == k->status;
}

static void hours_text(char *out, size_t cap, const rp_soak *k)
{
    if (k->hour_to == k->hour_from + 1)
        snprintf(out, cap, "hour %" PRId64, k->hour_to);
    else
        snprintf(out, cap, "hours %" PRId64 "-%" PRId64, k->hour_from + 1, k->hour_to);
}

/* One update's row as texts, shared by the text and HTML renderers. */
typedef struct soak_row {
    char at[40], hrs[48], sr[32], er[32], lat[32];
    const char *status;
} soak_row;

static void soak_row_of(const rp_soak *k, soak_row *w)
{
    rp_fmt_utc(k->at_ms, TF_DHM, w->at, sizeof(w->at));
    hours_text(w->hrs, sizeof(w->hrs), k);
    rp_pct(k->success_rate, w->sr, sizeof(w->sr));
    rp_pct(k->error_rate, w->er, sizeof(w->er));
    rp_fmt_num(k->lat_mean, w->lat, sizeof(w->lat));
    w->status = k->status == LV_NONE ? "-" : rp_level_name(k->status);
}

int rp_render_soak_rows_text(sw_buf *b, const rp_report *r)
{
    if (r->n_sk == 0)
        return 0;
    buf_puts(b, "\nSoak updates (the plan's cadence)\n");
    for (size_t i = 0; i < r->n_sk; i++) {
        const rp_soak *k = &r->sk[i];
        soak_row w;
        soak_row_of(k, &w);
        buf_printf(b, "  %s  %-11s %8" PRIu64 " requests  success %s  errors %s  "
                   "latency %s ms  %-6s  %s\n",
                   w.at, w.hrs, k->requests, w.sr, w.er, w.lat, w.status,
                   agrees(k) ? "statuses agree" : "statuses do not cover it");
    }
    return rp_render_result(b);
}

static void json_dbl(sw_buf *b, double v)
{
    buf_json_double(b, v);
}

int rp_render_soak_rows_json(sw_buf *b, const rp_report *r)
{
    buf_puts(b, "[");
    for (size_t i = 0; i < r->n_sk; i++) {
        const rp_soak *k = &r->sk[i];
        buf_printf(b, "%s\n{\"at_ms\":%" PRId64 ",\"hour_from\":%" PRId64 ",\"hour_to\":%" PRId64
                   ",\"requests\":%" PRIu64 ",\"outcomes\":%" PRIu64 ",\"successes\":%" PRIu64
                   ",\"errors\":%" PRIu64 ",\"status\":",
                   i ? "," : "", k->at_ms, k->hour_from, k->hour_to, k->requests, k->outcomes,
                   k->successes, k->errors);
        if (k->status == LV_NONE)
            buf_puts(b, "null");
        else
            buf_json_str(b, rp_level_name(k->status));
        buf_printf(b, ",\"tiled\":{\"covered_s\":%" PRId64 ",\"requests\":%" PRIu64
                   ",\"outcomes\":%" PRIu64 ",\"successes\":%" PRIu64 ",\"errors\":%" PRIu64
                   ",\"success_rate\":",
                   k->covered_s, k->t_requests, k->t_outcomes, k->t_successes, k->t_errors);
        json_dbl(b, k->t_success_rate);
        buf_puts(b, ",\"error_rate\":");
        json_dbl(b, k->t_error_rate);
        buf_puts(b, ",\"latency_mean_ms\":");
        json_dbl(b, k->t_lat_mean);
        buf_puts(b, ",\"status\":");
        if (k->t_worst == LV_NONE)
            buf_puts(b, "null");
        else
            buf_json_str(b, rp_level_name(k->t_worst));
        buf_printf(b, "},\"agrees\":%s}", agrees(k) ? "true" : "false");
    }
    buf_puts(b, "]");
    return rp_render_result(b);
}

int rp_render_soak_rows_html(sw_buf *b, const rp_report *r)
{
    if (r->n_sk == 0)
        return 0;
    buf_puts(b, "<h2>Soak updates</h2>\n<table><tr><th>at (UTC)</th><th>hours</th>"
                "<th>requests</th><th>success</th><th>errors</th><th>latency (ms)</th>"
                "<th>status</th><th>statuses</th></tr>\n");
    for (size_t i = 0; i < r->n_sk; i++) {
        const rp_soak *k = &r->sk[i];
        soak_row w;
        soak_row_of(k, &w);
        buf_printf(b, "<tr><td>%s</td><td>%s</td><td>%" PRIu64 "</td><td>%s</td><td>%s</td>"
                   "<td>%s</td><td>%s</td><td>%s</td></tr>\n",
                   w.at, w.hrs, k->requests, w.sr, w.er, w.lat, w.status,
                   agrees(k) ? "agree" : "do not cover it");
    }
    buf_puts(b, "</table>\n");
    return rp_render_result(b);
}

static void str_into(char *out, size_t cap, const json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    snprintf(out, cap, "%s", v ? v : "");
}

/* The criteria of a verdict into r->vc, from v->crit_off on. Returns 0 or
 * -ENOMEM. */
static int take_criteria(rp_report *r, rp_verdict *v, const json_t *crit)
{
    size_t n = json_array_size(crit);
    if (r->n_vc + n > r->cap_vc) {
        size_t cap = r->cap_vc ? r->cap_vc : 16;
        while (cap < r->n_vc + n)
            cap *= 2;
        rp_vcrit *p = realloc(r->vc, cap * sizeof(*p));
        if (p == NULL)
            return -ENOMEM;
        r->vc = p;
        r->cap_vc = cap;
    }
    v->crit_off = r->n_vc;
    for (size_t i = 0; i < n; i++) {
        const json_t *c = json_array_get(crit, i);
        rp_vcrit *k = &r->vc[r->n_vc++];
        const char *kind = json_string_value(json_object_get(c, "kind"));
        k->signoff = kind != NULL && strcmp(kind, "signoff") == 0;
        k->pass = json_is_true(json_object_get(c, "pass"));
        v->n_pass += k->pass;
        str_into(k->key, sizeof(k->key), c, "key");
        str_into(k->title, sizeof(k->title), c, "title");
        str_into(k->detail, sizeof(k->detail), c, "detail");
        str_into(k->by, sizeof(k->by), c, "by");
    }
    v->n_criteria = (int)n;
    return 0;
}

/* Parse a soak_verdict into r->vd, its criteria into r->vc. Returns 0, -1
 * (not one), -ENOMEM. */
int rp_parse_soak_verdict(rp_report *r, const json_t *o)
{
    rp_verdict v;
    memset(&v, 0, sizeof(v));
    v.at_ms = int_of(o, "at_ms");
    int64_t start_ms = int_of(o, "soak_start_ms");
    const char *kind = json_string_value(json_object_get(o, "kind"));
    const char *verdict = json_string_value(json_object_get(o, "verdict"));
    const json_t *crit = json_object_get(o, "criteria");
    if (v.at_ms < 0 || kind == NULL || verdict == NULL || strlen(verdict) >= sizeof(v.verdict) ||
        !json_is_array(crit))
        return -1;
    v.final = strcmp(kind, "final") == 0;
    v.hour = start_ms >= 0 && start_ms <= v.at_ms ? (v.at_ms - start_ms) / RP_HOUR_MS : -1;
    strcpy(v.verdict, verdict);
    if (r->n_vd == r->cap_vd) {
        size_t cap = r->cap_vd ? 2 * r->cap_vd : 4;
        rp_verdict *p = realloc(r->vd, cap * sizeof(*p));
        if (p == NULL)
            return -ENOMEM;
        r->vd = p;
        r->cap_vd = cap;
    }
    if (take_criteria(r, &v, crit) != 0)
        return -ENOMEM;
    r->vd[r->n_vd++] = v;
    return 0;
}

int rp_render_soak_verdicts_text(sw_buf *b, const rp_report *r)
{
    if (r->n_vd == 0)
        return 0;
    buf_puts(b, "\nSoak verdicts (the plan's success criteria)\n");
    for (size_t i = 0; i < r->n_vd; i++) {
        const rp_verdict *v = &r->vd[i];
        char at[40];
        rp_fmt_utc(v->at_ms, TF_DHM, at, sizeof(at));
        buf_printf(b, "  %s  %-11s %-7s  %d of %d criteria pass\n", at,
                   v->final ? "final" : "provisional", v->verdict, v->n_pass, v->n_criteria);
    }
    return rp_render_result(b);
}

int rp_render_soak_verdicts_json(sw_buf *b, const rp_report *r)
{
    buf_puts(b, "[");
    for (size_t i = 0; i < r->n_vd; i++) {
        const rp_verdict *v = &r->vd[i];
        buf_printf(b, "%s\n{\"at_ms\":%" PRId64 ",\"kind\":\"%s\",\"verdict\":", i ? "," : "",
                   v->at_ms, v->final ? "final" : "provisional");
        buf_json_str(b, v->verdict);
        buf_printf(b, ",\"criteria\":%d,\"pass\":%d}", v->n_criteria, v->n_pass);
    }
    buf_puts(b, "]");
    return rp_render_result(b);
}

/* The verdict's word as the plan writes it, and its badge's class. */
static const char *verdict_caps(const char *v, const char **cls)
{
    *cls = "pending";
    if (strcmp(v, "go") == 0) {
        *cls = "go";
        return "GO";
    }
    if (strcmp(v, "no_go") == 0) {
        *cls = "nogo";
        return "NO-GO";
    }
    return strcmp(v, "pending") == 0 ? "PENDING" : NULL;
}

/* One criterion's row: what, which kind, pass or fail, the detail, and for
 * a sign-off who gave it or that it is missing. */
static void verdict_row_html(sw_buf *b, const rp_vcrit *k)
{
    buf_puts(b, "<tr><td class='l'>");
    rp_html_esc(b, k->title[0] ? k->title : k->key);
    buf_printf(b, "</td><td class='l'>%s</td><td class='l %s'>%s</td><td class='l'>",
               k->signoff ? "sign-off" : "technical", k->pass ? "pass" : "fail",
               k->pass ? "PASS" : "FAIL");
    rp_html_esc(b, k->detail);
    buf_puts(b, "</td><td class='l'>");
    if (!k->signoff)
        buf_puts(b, "-");
    else if (k->by[0])
        rp_html_esc(b, k->by);
    else
        buf_puts(b, "<span class='fail'>missing</span>");
    buf_puts(b, "</td></tr>\n");
}

int rp_render_soak_verdicts_html(sw_buf *b, const rp_report *r)
{
    if (r->n_vd == 0)
        return 0;
    buf_puts(b, "<section><h2>Soak verdicts</h2><p class='cap'>The plan's success criteria for "
                "the Week 2 beta rollout, as each soak_verdict judged them: the technical "
                "ones from the soak's sums and firings, the operational ones from sign-offs. "
                "NO-GO when a technical criterion fails, else PENDING while a sign-off is "
                "missing, else GO.</p>\n");
    for (size_t i = 0; i < r->n_vd; i++) {
        const rp_verdict *v = &r->vd[i];
        const char *cls, *word = verdict_caps(v->verdict, &cls);
        char at[40];
        rp_fmt_utc(v->at_ms, TF_DHM, at, sizeof(at));
        if (v->hour >= 0)
            buf_printf(b, "<h3>Hour %" PRId64 ", ", v->hour);
        else
            buf_puts(b, "<h3>");
        buf_printf(b, "%s: <span class='vd %s'>", v->final ? "final" : "provisional", cls);
        rp_html_esc(b, word ? word : v->verdict);
        buf_printf(b, "</span> <span class='sub'>%s UTC, %d of %d criteria pass</span></h3>\n",
                   at, v->n_pass, v->n_criteria);
        buf_puts(b, "<table><tr><th class='l'>Criterion</th><th class='l'>Kind</th>"
                    "<th class='l'>Result</th><th class='l'>Detail</th>"
                    "<th class='l'>Signed off by</th></tr>\n");
        for (int c = 0; c < v->n_criteria; c++)
            verdict_row_html(b, &r->vc[v->crit_off + (size_t)c]);
        buf_puts(b, "</table>\n");
    }
    buf_puts(b, "</section>\n");
    return rp_render_result(b);
}
