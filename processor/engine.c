/* engine.c: event time, evaluation instants, edge-triggered rules and the
 * status, over the window ring. Invariant: every instant up to
 * `evaluated` has been evaluated exactly once, in order, and no event for a
 * second before `evaluated` is ever stored (such an event is late). */
#include "engine.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../windows/win.h"
#include "buf.h"
#include "output.h"
#include "rules.h"
#include "wmetrics.h"

#define TS_MAX_MS INT64_C(253402300799999) /* 9999-12-31T23:59:59.999Z */
#define OUTPUT_CAP (256 * 1024)

struct sw_engine {
    const sw_config *cfg;
    sw_emit_fn emit;
    void *ud;
    int text;

    win_ring *ring;
    int n_windows;
    int64_t windows_s[WIN_MAX_WINDOWS];
    int rule_window[SW_MAX_RULES];  /* index into windows_s */
    int status_window;              /* index of cfg->status_window_s */
    int status_windows[3];          /* indexes of cfg->status_windows_s */

    int started;
    int64_t t0, max_second, evaluated;
    int64_t future_limit;

    uint8_t firing[SW_MAX_RULES];
    double rule_value[SW_MAX_RULES];

    int64_t emit_from, emit_to;
    int have_published, published_applied;
    uint8_t published[SW_MAX_RULES];

    int status;                     /* last colour, -1 none */
    sw_buf out;                     /* rendering of the event being emitted */
    sw_buf status_json;             /* the latest status, for /status */
    sw_engine_stats stats;
};

static int window_index(const sw_engine *e, int64_t w)
{
    for (int i = 0; i < e->n_windows; i++)
        if (e->windows_s[i] == w)
            return i;
    return -1;
}

static void window_add(sw_engine *e, int64_t w)
{
    if (window_index(e, w) >= 0 || e->n_windows >= WIN_MAX_WINDOWS)
        return;
    /* Keep ascending order. */
    int i = e->n_windows++;
    while (i > 0 && e->windows_s[i - 1] > w) {
        e->windows_s[i] = e->windows_s[i - 1];
        i--;
    }
    e->windows_s[i] = w;
}

sw_engine *sw_engine_create(const sw_config *cfg, sw_emit_fn emit, void *ud,
                            char *errstr, size_t errlen)
{
    sw_engine *e = calloc(1, sizeof(*e));
    if (e == NULL) {
        snprintf(errstr, errlen, "out of memory");
        return NULL;
    }
    e->cfg = cfg;
    e->emit = emit;
    e->ud = ud;
    e->status = -1;
    e->emit_from = INT64_MIN;
    e->emit_to = -1;
    e->future_limit = INT64_MAX;
    e->t0 = e->max_second = e->evaluated = INT64_MIN;
    buf_init(&e->out, OUTPUT_CAP);
    buf_init(&e->status_json, OUTPUT_CAP);

    for (int r = 0; r < cfg->n_rules; r++)
        window_add(e, cfg->rules[r].window_s);
    window_add(e, cfg->status_window_s);
    for (int i = 0; i < 3; i++)
        window_add(e, cfg->status_windows_s[i]);
    for (int r = 0; r < cfg->n_rules; r++) {
        e->rule_window[r] = window_index(e, cfg->rules[r].window_s);
        e->rule_value[r] = NAN;
    }
    e->status_window = window_index(e, cfg->status_window_s);
    for (int i = 0; i < 3; i++)
        e->status_windows[i] = window_index(e, cfg->status_windows_s[i]);
    if (e->status_window < 0 || e->status_windows[0] < 0 || e->status_windows[1] < 0 ||
        e->status_windows[2] < 0) {
        snprintf(errstr, errlen, "more than %d distinct window lengths", WIN_MAX_WINDOWS);
        goto err;
    }
    for (int r = 0; r < cfg->n_rules; r++)
        if (e->rule_window[r] < 0) {
            snprintf(errstr, errlen, "more than %d distinct window lengths", WIN_MAX_WINDOWS);
            goto err;
        }
    e->ring = win_ring_create(e->windows_s, e->n_windows, cfg->allowed_lateness_s, errstr, errlen);
    if (e->ring == NULL)
        goto err;
    return e;
err:
    sw_engine_destroy(e);
    return NULL;
}

void sw_engine_destroy(sw_engine *e)
{
    if (e == NULL)
        return;
    win_ring_destroy(e->ring);
    buf_free(&e->out);
    buf_free(&e->status_json);
    free(e);
}

void sw_engine_set_text(sw_engine *e, int text)
{
    e->text = text;
}

void sw_engine_set_future_limit(sw_engine *e, int64_t max_second)
{
    e->future_limit = max_second;
}

void sw_engine_set_emit_range(sw_engine *e, int64_t from_s, int64_t to_s,
                              const uint8_t *published)
{
    e->emit_from = from_s;
    e->emit_to = to_s;
    e->have_published = published != NULL;
    e->published_applied = 0;
    if (published)
        memcpy(e->published, published, (size_t)e->cfg->n_rules);
}

static void emit_buf(sw_engine *e, sw_out_type type, int64_t T, int rule, int firing,
                     const char *key)
{
    sw_output o;
    o.type = type;
    o.at_s = T;
    o.rule = rule;
    o.firing = firing;
    o.key = key;
    o.json = e->out.data;
    o.json_len = e->out.len;
    e->stats.outputs++;
    if (type == SW_OUT_TRIGGER)
        e->stats.triggers++;
    else
        e->stats.statuses++;
    if (e->emit)
        e->emit(e->ud, &o);
}

/* The metrics of window wi at this instant, computed at most once per
 * instant (twice if the percentiles are asked for later). have[wi]: 0 not
 * yet, 1 without percentiles, 2 with. */
static const sw_wm *wm_at(const sw_engine *e, sw_wm *wms, int *have, int wi, int pct)
{
    if (have[wi] < 1 + pct) {
        win_view v = win_ring_window(e->ring, wi);
        wm_compute(&v, &wms[wi], pct);
        have[wi] = 1 + pct;
    }
    return &wms[wi];
}

/* Evaluate instant T: the rules in list order, then the status. */
static void eval_instant(sw_engine *e, int64_t T)
{
    const sw_config *cfg = e->cfg;
    int emitting = T >= e->emit_from && (e->emit_to < 0 || T <= e->emit_to);
    sw_wm wms[WIN_MAX_WINDOWS];
    int have[WIN_MAX_WINDOWS] = {0};

    if (emitting && e->have_published && !e->published_applied) {
        memcpy(e->firing, e->published, (size_t)cfg->n_rules);
        e->published_applied = 1;
    }
    for (int r = 0; r < cfg->n_rules; r++) {
        const sw_rule *rule = &cfg->rules[r];
        if (T - rule->window_s < e->t0)
            continue; /* window not fully observed yet */
        const sw_wm *wm = wm_at(e, wms, have, e->rule_window[r],
                                wm_needs_percentiles(rule->metric));
        double value;
        uint64_t samples;
        int cond = rule_condition(rule, wm, &value, &samples);
        e->rule_value[r] = value;
        if (cond == e->firing[r])
            continue;
        e->firing[r] = (uint8_t)cond;
        if (!emitting)
            continue;
        sw_trigger_info t = {rule, T, cond, value, samples};
        buf_reset(&e->out);
        if (e->text)
            output_trigger_text(&e->out, cfg, &t);
        else
            output_trigger_json(&e->out, cfg, &t);
        emit_buf(e, SW_OUT_TRIGGER, T, r, cond, rule->name);
    }

    if (T % cfg->status_interval_s != 0 || T < e->t0 + cfg->status_interval_s)
        return;
    sw_status_info s;
    memset(&s, 0, sizeof(s));
    s.at_s = T;
    for (int r = 0; r < cfg->n_rules; r++)
        if (e->firing[r])
            s.firing[s.n_firing++] = cfg->rules[r].name;
    for (int i = 0; i < 3; i++)
        s.windows[s.n_windows++] = wm_at(e, wms, have, e->status_windows[i], 1);
    s.colour = status_colour(cfg, wm_at(e, wms, have, e->status_window, 0), s.n_firing > 0);
    e->status = s.colour;
    buf_reset(&e->status_json);
    output_status_json(&e->status_json, cfg, &s);
    if (!emitting)
        return;
    buf_reset(&e->out);
    if (e->text)
        output_status_text(&e->out, cfg, &s);
    else
        buf_append(&e->out, e->status_json.data, e->status_json.len);
    emit_buf(e, SW_OUT_STATUS, T, -1, 0, cfg->feature);
}

static void evaluate_through(sw_engine *e, int64_t W)
{
    while (e->evaluated < W) {
        int64_t T = e->evaluated + 1;
        win_ring_advance(e->ring, T);
        eval_instant(e, T);
        e->evaluated = T;
    }
}

static int is_error(const sw_event *ev)
{
    int status = ev->status;
    if (status == 0) {
        if (ev->kind == SW_EV_SUCCEEDED)
            status = 200;
        else
            status = ev->reason_internal_error ? 500 : 422;
    }
    return status >= 500;
}

sw_push_result sw_engine_push(sw_engine *e, const sw_event *ev)
{
    const sw_config *cfg = e->cfg;
    if (ev->ts_ms < 0 || ev->ts_ms > TS_MAX_MS) {
        e->stats.out_of_range++;
        return SW_OUT_OF_RANGE;
    }
    int64_t sec = ev->ts_ms / 1000;
    if (sec > e->future_limit) {
        e->stats.out_of_range++;
        return SW_OUT_OF_RANGE;
    }
    if (!e->started) {
        e->started = 1;
        e->t0 = e->max_second = sec;
        e->evaluated = sec - 1;
        win_ring_start(e->ring, sec);
    } else {
        if (sec > e->max_second + cfg->max_gap_s) {
            e->stats.out_of_range++;
            return SW_OUT_OF_RANGE;
        }
        /* Late against the greatest second so far, or (live, after the
         * idle clock moved on) for an instant already evaluated. */
        if (sec < e->max_second - cfg->allowed_lateness_s || sec < e->evaluated) {
            e->stats.late++;
            return SW_LATE;
        }
        if (sec > e->max_second) {
            e->max_second = sec;
            evaluate_through(e, sec - cfg->allowed_lateness_s);
        }
    }
    win_event w;
    w.second = sec;
    w.kind = ev->kind;
    w.tc = ev->kind == SW_EV_SUCCEEDED ? ev->tc : -1;
    w.is_error = 0;
    w.duration_us = 0;
    w.strategy = WIN_LABEL_NONE;
    w.reason = WIN_LABEL_NONE;
    if (ev->kind == SW_EV_SUCCEEDED || ev->kind == SW_EV_FALLBACK) {
        double us = ev->duration_ms * 1000.0;
        w.duration_us = us >= 1.8e19 ? UINT64_C(18000000000000000000) : (uint64_t)llround(us);
        w.is_error = (uint8_t)is_error(ev);
        w.strategy = ev->strategy;
        if (ev->kind == SW_EV_FALLBACK)
            w.reason = ev->reason;
    }
    int rc = win_ring_add(e->ring, &w);
    assert(rc == 0);
    (void)rc;
    e->stats.accepted++;
    e->stats.accepted_by_kind[ev->kind]++;
    return SW_ACCEPTED;
}

void sw_engine_advance(sw_engine *e, int64_t watermark_s)
{
    if (!e->started)
        return;
    evaluate_through(e, watermark_s);
}

void sw_engine_finish(sw_engine *e)
{
    if (!e->started)
        return;
    evaluate_through(e, e->max_second + 1);
}

int64_t sw_engine_max_second(const sw_engine *e) { return e->max_second; }
int64_t sw_engine_next_instant(const sw_engine *e)
{
    return e->started ? e->evaluated + 1 : INT64_MIN;
}
int64_t sw_engine_t0(const sw_engine *e) { return e->t0; }
const sw_engine_stats *sw_engine_stats_get(const sw_engine *e) { return &e->stats; }
int sw_engine_rule_firing(const sw_engine *e, int rule) { return e->firing[rule]; }
double sw_engine_rule_value(const sw_engine *e, int rule) { return e->rule_value[rule]; }
int sw_engine_status(const sw_engine *e) { return e->status; }
const char *sw_engine_status_json(const sw_engine *e)
{
    return e->status_json.data ? e->status_json.data : "";
}

double sw_engine_window_metric(const sw_engine *e, int64_t window_s, sw_metric m, int label)
{
    int i = window_index(e, window_s);
    if (i < 0 || !e->started)
        return i < 0 ? NAN : (m <= M_DECLINED || m >= M_STRATEGY ? 0.0 : NAN);
    sw_wm wm;
    win_view v = win_ring_window(e->ring, i);
    wm_compute(&v, &wm, wm_needs_percentiles(m));
    return wm_get(&wm, m, label);
}

int sw_engine_windows(const sw_engine *e, int64_t *out, int cap)
{
    int n = e->n_windows < cap ? e->n_windows : cap;
    memcpy(out, e->windows_s, (size_t)n * sizeof(int64_t));
    return e->n_windows;
}

size_t sw_engine_bytes(const sw_engine *e)
{
    return win_ring_bytes(e->ring) + sizeof(*e);
}
