/* html.c: the report as one self-contained HTML page: a status band and an
 * SVG timeline per metric, with targets, thresholds and triggers drawn.
 * Invariant: the page is a pure function of the model (no clock, nothing
 * fetched), and every text that comes from the input is HTML-escaped. */
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

/* ---- html -------------------------------------------------------------- */

#define CH_W 1320   /* svg width */
#define CH_L 74     /* plot left */
#define CH_R 1060   /* plot right; labels of thresholds to its right */
#define CH_T 34     /* plot top */
#define CH_H 190    /* plot height */
#define CH_SVG_H (CH_T + CH_H + 30)
#define CH_MAX_SERIES (RP_MAX_NAMES + 2)
#define CH_MAX_LINES 16

enum { G_REQUESTS, G_SUCCESS, G_ERROR, G_LATENCY, G_PERCENTILE, G_TCSR, G_STRATEGY, G_REASON,
       G_NONE };

static const char *const palette[] = {"#1f77b4", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
                                      "#17becf", "#bcbd22", "#7f7f7f", "#393b79", "#637939"};
/* The cohorts' lines: none of the whole topic's colours, nor the red and
 * green of rules and targets; one each for RP_MAX_COHORTS. */
static const char *const cohort_palette[RP_MAX_COHORTS] = {
    "#9467bd", "#8c564b", "#17becf", "#e377c2", "#bcbd22", "#7f7f7f", "#393b79", "#637939",
    "#843c39", "#7b4173", "#5254a3", "#8ca252", "#bd9e39", "#ad494a", "#a55194", "#6b6ecf",
    "#b5cf6b"};

void rp_html_esc(sw_buf *b, const char *s)
{
    const char *run = s;
    for (const char *p = s; *p; p++) {
        const char *rep = NULL;
        switch (*p) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        default: break;
        }
        if (rep == NULL)
            continue;
        buf_append(b, run, (size_t)(p - run));
        buf_puts(b, rep);
        run = p + 1;
    }
    buf_puts(b, run);
}

static int metric_group(const char *metric)
{
    static const struct { const char *name; int g; } map[] = {
        {"requests", G_REQUESTS},        {"outcomes", G_REQUESTS},
        {"successes", G_REQUESTS},       {"errors", G_REQUESTS},
        {"declined", G_REQUESTS},        {"success_rate", G_SUCCESS},
        {"error_rate", G_ERROR},         {"latency_mean_ms", G_LATENCY},
        {"latency_p95_ms", G_PERCENTILE}, {"latency_p99_ms", G_PERCENTILE},
        {"time_constraint_success_rate", G_TCSR},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(metric, map[i].name) == 0)
            return map[i].g;
    if (strncmp(metric, "strategies.", 11) == 0)
        return G_STRATEGY;
    if (strncmp(metric, "fallback_reasons.", 17) == 0)
        return G_REASON;
    return G_NONE;
}

typedef struct ch_series {
    char name[RP_NAME_MAX + 16];
    const char *color;
    double *y;    /* per status; NAN = no value */
    int under;    /* drawn wide and pale beneath the others: a line they may cover */
} ch_series;

typedef struct ch_line {
    double v;
    int is_rule;
    char label[RP_NAME_MAX + 96];
} ch_line;

typedef struct ch_axis {
    int64_t t0, t1; /* time range, ms */
} ch_axis;

static double x_of(const ch_axis *ax, int64_t t)
{
    double span = (double)(ax->t1 - ax->t0);
    return CH_L + (span > 0 ? (double)(t - ax->t0) / span : 0.5) * (CH_R - CH_L);
}

static double nice_step(double raw)
{
    if (!(raw > 0))
        return 1;
    double p = pow(10, floor(log10(raw)));
    double m = raw / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

static void fmt_tick(double v, char *out, size_t cap)
{
    if (fabs(v) < 1e-9)
        v = 0;
    snprintf(out, cap, "%.6g", v);
}

/* Time ticks and vertical grid lines, aligned to UTC multiples of a step
 * chosen for at most about twelve ticks. */
static void svg_time_axis(sw_buf *b, const ch_axis *ax, int y_top, int y_bottom)
{
    static const int64_t steps_s[] = {60,   300,   600,   900,   1800,  3600,   7200,
                                      10800, 21600, 43200, 86400, 172800, 604800};
    int64_t span_s = (ax->t1 - ax->t0) / 1000;
    int64_t step = steps_s[sizeof(steps_s) / sizeof(steps_s[0]) - 1];
    for (size_t i = 0; i < sizeof(steps_s) / sizeof(steps_s[0]); i++)
        if (span_s / steps_s[i] <= 12) {
            step = steps_s[i];
            break;
        }
    int64_t step_ms = step * 1000;
    int64_t first = sw_floor_div(ax->t0 + step_ms - 1, step_ms) * step_ms;
    int labelled_day = 0;
    for (int64_t t = first; t <= ax->t1; t += step_ms) {
        double x = x_of(ax, t);
        char hm[16], day[16];
        rp_fmt_utc(t, TF_HM, hm, sizeof(hm));
        rp_fmt_utc(t, TF_MD, day, sizeof(day));
        buf_printf(b, "<line x1='%.1f' y1='%d' x2='%.1f' y2='%d' class='grid'/>", x, y_top, x,
                   y_bottom);
        int midnight = sw_floor_div(t, 1000) % 86400 == 0;
        if (step >= 86400)
            buf_printf(b, "<text x='%.1f' y='%d' class='tick' text-anchor='middle'>%s</text>", x,
                       y_bottom + 14, day);
        else if (!labelled_day)
            buf_printf(b, "<text x='%.1f' y='%d' class='tick' text-anchor='middle'>%s %s UTC"
                       "</text>", x, y_bottom + 14, day, hm);
        else if (midnight)
            buf_printf(b, "<text x='%.1f' y='%d' class='tick' text-anchor='middle'>%s %s</text>",
                       x, y_bottom + 14, day, hm);
        else
            buf_printf(b, "<text x='%.1f' y='%d' class='tick' text-anchor='middle'>%s</text>", x,
                       y_bottom + 14, hm);
        labelled_day = 1;
    }
}

/* Vertical markers of the triggers of one group (G_NONE: all triggers):
 * red for a firing, green for a resolution, labelled with the rule. */
static void svg_triggers(sw_buf *b, const rp_report *r, const ch_axis *ax, int group, int y_top,
                         int y_bottom, int label_y)
{
    /* Labels go to the first of three rows whose last label ends before
     * this one begins, else to the row that frees first: close firings do
     * not print over each other. */
    double row_end[3] = {-1e9, -1e9, -1e9};
    for (size_t i = 0; i < r->n_tr; i++) {
        const rp_trigger *t = &r->tr[i];
        if (group != G_NONE && metric_group(t->metric) != group)
            continue;
        double x = x_of(ax, t->at_ms);
        char at[16], name[2 * RP_NAME_MAX + 4];
        rp_fmt_utc(t->at_ms, TF_HMS, at, sizeof(at));
        rp_trigger_name(t, name, sizeof(name));
        buf_printf(b, "<line x1='%.1f' y1='%d' x2='%.1f' y2='%d' class='%s'><title>", x, y_top,
                   x, y_bottom, t->firing ? "fire" : "resolve");
        rp_html_esc(b, name);
        buf_printf(b, " %s at %s UTC</title></line>", t->firing ? "firing" : "resolved", at);
        if (t->firing) {
            int row = 0;
            for (int k = 0; k < 3; k++) {
                if (row_end[k] < x + 3) {
                    row = k;
                    break;
                }
                if (row_end[k] < row_end[row])
                    row = k;
            }
            row_end[row] = x + 3 + 6.2 * (double)strlen(name) + 4;
            buf_printf(b, "<text x='%.1f' y='%d' class='firetxt'>", x + 3, label_y + row * 11);
            rp_html_esc(b, name);
            buf_puts(b, "</text>");
        }
    }
}

/* A path being written: points join into segments; a segment ends at a
 * gap. Columns of many points are drawn by their min and max, in time
 * order, so spikes survive while the path stays small. */
typedef struct ch_pen {
    sw_buf *b;
    const ch_axis *ax;
    double lo, hi;
    int open;            /* points in the current segment */
    int col;             /* pixel column being gathered, -1 none */
    double vmin, vmax;   /* its lowest and highest value */
    int64_t tmin, tmax;  /* and when they occurred */
} ch_pen;

static void pen_point(ch_pen *p, int64_t t, double v)
{
    buf_printf(p->b, "%c%.1f %.1f", p->open++ ? 'L' : 'M', x_of(p->ax, t),
               CH_T + (1 - (v - p->lo) / (p->hi - p->lo)) * CH_H);
}

static void pen_flush(ch_pen *p)
{
    if (p->col < 0)
        return;
    int min_first = p->tmin <= p->tmax;
    pen_point(p, min_first ? p->tmin : p->tmax, min_first ? p->vmin : p->vmax);
    if (p->tmin != p->tmax)
        pen_point(p, min_first ? p->tmax : p->tmin, min_first ? p->vmax : p->vmin);
    p->col = -1;
}

static void pen_break(ch_pen *p)
{
    pen_flush(p);
    p->open = 0;
}

static void pen_add(ch_pen *p, int64_t t, double v)
{
    int c = (int)x_of(p->ax, t);
    if (c != p->col) {
        pen_flush(p);
        p->col = c;
        p->vmin = p->vmax = v;
        p->tmin = p->tmax = t;
        return;
    }
    if (v < p->vmin) {
        p->vmin = v;
        p->tmin = t;
    }
    if (v > p->vmax) {
        p->vmax = v;
        p->tmax = t;
    }
}

/* One series as an SVG path; NAN values and missing statuses break it. */
static void svg_path(sw_buf *b, const rp_report *r, const ch_axis *ax, const double *y, double lo,
                     double hi, const ch_series *s)
{
    ch_pen p = {.b = b, .ax = ax, .lo = lo, .hi = hi, .col = -1};
    double gap_ms = (double)r->interval_ms * 1.5;
    buf_printf(b, "<path fill='none' stroke='%s' stroke-width='%s'%s stroke-linejoin='round' d='",
               s->color, s->under ? "5" : "1.6", s->under ? " stroke-opacity='0.45'" : "");
    for (size_t i = 0; i < r->n_st; i++) {
        int64_t t = r->st[i].at_ms;
        if (i && (double)(t - r->st[i - 1].at_ms) > gap_ms)
            pen_break(&p);
        if (isnan(y[i]))
            pen_break(&p);
        else
            pen_add(&p, t, y[i]);
    }
    pen_flush(&p);
    buf_puts(b, "'/>");
}

/* A chart's value range and its grid step. */
typedef struct ch_scale {
    double lo, hi, step;
} ch_scale;

/* What one chart draws: the series and threshold lines, with how its value
 * range is found and which triggers it marks. */
typedef struct ch_spec {
    const char *title, *caption, *unit;
    const ch_series *s;
    int ns;
    const ch_line *hl;
    int nh;
    int zero_based; /* the range includes 0 */
    double cap;     /* the range ends there at most; NAN: no cap */
    int group;      /* the triggers on metrics of this group are marked */
} ch_spec;

/* The value range: every value of the series and every line, rounded out
 * to a nice step; a flat line sits mid-chart, not on an edge. */
static ch_scale chart_scale(const rp_report *r, const ch_spec *c)
{
    double lo = INFINITY, hi = -INFINITY;
    for (int k = 0; k < c->ns; k++)
        for (size_t i = 0; i < r->n_st; i++)
            if (!isnan(c->s[k].y[i])) {
                lo = fmin(lo, c->s[k].y[i]);
                hi = fmax(hi, c->s[k].y[i]);
            }
    for (int k = 0; k < c->nh; k++) {
        lo = fmin(lo, c->hl[k].v);
        hi = fmax(hi, c->hl[k].v);
    }
    if (!isfinite(lo)) {
        lo = 0;
        hi = 1;
    }
    if (c->zero_based)
        lo = fmin(lo, 0);
    if (hi - lo < 1e-9) {
        double pad = fabs(lo) > 0 ? fabs(lo) * 0.05 : 1;
        lo = c->zero_based && lo >= 0 ? fmax(0, lo - pad) : lo - pad;
        hi += pad;
    }
    double step = nice_step((hi - lo) / 5);
    lo = floor(lo / step) * step;
    hi = ceil(hi / step) * step;
    if (hi == lo)
        hi = lo + step;
    if (!isnan(c->cap) && hi > c->cap)
        hi = c->cap;
    if (hi <= lo)
        lo = hi - step;
    return (ch_scale){lo, hi, step};
}

static double y_of(const ch_scale *sc, double v)
{
    return CH_T + (1 - (v - sc->lo) / (sc->hi - sc->lo)) * CH_H;
}

/* Horizontal grid lines with their value ticks. */
static void svg_value_axis(sw_buf *b, const ch_scale *sc, const char *unit)
{
    for (double v = sc->lo; v <= sc->hi + sc->step * 1e-6; v += sc->step) {
        double y = y_of(sc, v);
        char t[32];
        fmt_tick(v, t, sizeof(t));
        buf_printf(b, "<line x1='%d' y1='%.1f' x2='%d' y2='%.1f' class='grid'/>", CH_L, y, CH_R,
                   y);
        buf_printf(b, "<text x='%d' y='%.1f' class='tick' text-anchor='end'>%s%s</text>", CH_L - 6,
                   y + 4, t, unit);
    }
}

/* The dashed lines of targets and rule thresholds inside the range, each
 * labelled on the right; labels of lines close together are pushed apart. */
static void svg_threshold_lines(sw_buf *b, const ch_scale *sc, const ch_line *hl, int nh)
{
    double used[CH_MAX_LINES];
    int n_used = 0;
    for (int k = 0; k < nh; k++) {
        if (hl[k].v < sc->lo || hl[k].v > sc->hi)
            continue;
        double y = y_of(sc, hl[k].v);
        buf_printf(b, "<line x1='%d' y1='%.1f' x2='%d' y2='%.1f' class='%s'/>", CH_L, y, CH_R, y,
                   hl[k].is_rule ? "rule" : "target");
        double ly = y + 4;
        for (int again = 1; again;) {
            again = 0;
            for (int u = 0; u < n_used; u++)
                if (fabs(used[u] - ly) < 12) {
                    ly = used[u] + 12;
                    again = 1;
                }
        }
        used[n_used++] = ly;
        buf_printf(b, "<text x='%d' y='%.1f' class='%s'>", CH_R + 6, ly,
                   hl[k].is_rule ? "ruletxt" : "targettxt");
        rp_html_esc(b, hl[k].label);
        buf_puts(b, "</text>");
    }
}

/* The legend, above the plot. */
static void svg_legend(sw_buf *b, const ch_series *s, int ns)
{
    double lx = CH_L;
    int row = 0; /* a legend wider than the chart goes on in a second row */
    for (int k = 0; k < ns; k++) {
        double w = 20 + 7.2 * (double)strlen(s[k].name);
        if (row == 0 && k > 0 && lx + w > CH_W) {
            row = 1;
            lx = CH_L;
        }
        buf_printf(b, "<line x1='%.0f' y1='%d' x2='%.0f' y2='%d' stroke='%s' stroke-width='%s'%s/>",
                   lx, 14 + 13 * row, lx + 16, 14 + 13 * row, s[k].color, s[k].under ? "5" : "3",
                   s[k].under ? " stroke-opacity='0.45'" : "");
        buf_printf(b, "<text x='%.0f' y='%d' class='legend'>", lx + 20, 18 + 13 * row);
        rp_html_esc(b, s[k].name);
        buf_puts(b, "</text>");
        lx += 20 + 7.2 * (double)strlen(s[k].name) + 18;
    }
    if (ns == 0)
        buf_printf(b, "<text x='%d' y='18' class='legend'>no data</text>", CH_L);
}

/* Where the charted window was not yet observed whole (the statuses say so
 * with observed_s: the first window of a run): shaded and said, so that the
 * first minutes' counts are not read as a traffic ramp. */
static void svg_partial(sw_buf *b, const rp_report *r, const ch_axis *ax)
{
    int64_t until = INT64_MIN;
    for (size_t i = 0; i < r->n_st; i++)
        if (r->st[i].tiles[r->st[i].chart].observed_s)
            until = r->st[i].at_ms;
    if (until == INT64_MIN)
        return;
    double x0 = CH_L, x1 = x_of(ax, until);
    buf_printf(b, "<rect x='%.1f' y='%d' width='%.1f' height='%d' class='partial'>"
               "<title>window not yet observed whole</title></rect>"
               "<text x='%.1f' y='%d' class='parttxt'>window filling</text>",
               x0, CH_T, fmax(x1 - x0, 0.8), CH_H, x0 + 3, CH_T + CH_H - 4);
}

/* One chart: series over time, dashed threshold lines, trigger markers. */
static void svg_chart(sw_buf *b, const rp_report *r, const ch_axis *ax, const ch_spec *c)
{
    ch_scale sc = chart_scale(r, c);
    buf_puts(b, "<section><h2>");
    rp_html_esc(b, c->title);
    buf_puts(b, "</h2><p class='cap'>");
    rp_html_esc(b, c->caption);
    buf_printf(b, "</p><svg width='%d' height='%d' viewBox='0 0 %d %d' role='img'>", CH_W,
               CH_SVG_H, CH_W, CH_SVG_H);
    buf_printf(b, "<rect x='%d' y='%d' width='%d' height='%d' class='plot'/>", CH_L, CH_T,
               CH_R - CH_L, CH_H);
    svg_partial(b, r, ax);
    svg_value_axis(b, &sc, c->unit);
    svg_time_axis(b, ax, CH_T, CH_T + CH_H);
    svg_threshold_lines(b, &sc, c->hl, c->nh);
    svg_triggers(b, r, ax, c->group, CH_T, CH_T + CH_H, CH_T + 10);
    for (int k = 0; k < c->ns; k++)
        svg_path(b, r, ax, c->s[k].y, sc.lo, sc.hi, &c->s[k]);
    svg_legend(b, c->s, c->ns);
    buf_puts(b, "</svg></section>\n");
}

/* Threshold lines of the rules on metrics of a group, from the config and
 * from the triggers in the input (which may come from another config).
 * scale converts a rule's threshold to the chart's unit; per_min divides
 * count thresholds by the rule window in minutes. */
static int rule_lines(const rp_report *r, int group, double scale, int per_min,
                      const char *unit, ch_line *hl, int nh)
{
    for (int pass = 0; pass < 2; pass++) {
        size_t n = pass == 0 ? (size_t)r->cfg.n_rules : r->n_tr;
        for (size_t i = 0; i < n && nh < CH_MAX_LINES; i++) {
            const char *name, *metric, *op;
            double thr;
            int64_t win;
            if (pass == 0) {
                const sw_rule *ru = &r->cfg.rules[i];
                name = ru->name;
                metric = ru->metric_name[0] ? ru->metric_name : config_metric_name(ru->metric);
                op = config_op_name(ru->op);
                thr = ru->threshold;
                win = ru->window_s;
                if (ru->cohort_scope == SW_SCOPE_COMPARE)
                    continue; /* a difference between cohorts, not a level */
            } else {
                const rp_trigger *t = &r->tr[i];
                name = t->rule;
                metric = t->metric;
                op = t->op;
                thr = t->threshold;
                win = t->window_s;
                if (t->has_compare)
                    continue;
            }
            if (metric == NULL || metric_group(metric) != group)
                continue;
            double v = thr * scale;
            if (per_min && win > 0)
                v = thr * 60.0 / (double)win;
            int dup = 0;
            for (int k = 0; k < nh; k++)
                if (hl[k].is_rule && fabs(hl[k].v - v) < 1e-9 && strstr(hl[k].label, name))
                    dup = 1;
            if (dup)
                continue;
            char tv[40];
            rp_fmt_num(thr * scale, tv, sizeof(tv));
            hl[nh].v = v;
            hl[nh].is_rule = 1;
            if (per_min && win > 0)
                snprintf(hl[nh].label, sizeof(hl[nh].label), "rule %s: %s %s over %" PRId64 " s",
                         name, op, tv, win);
            else
                snprintf(hl[nh].label, sizeof(hl[nh].label), "rule %s: %s %s%s", name, op, tv,
                         unit);
            nh++;
        }
    }
    return nh;
}

static int label_series(const rp_report *r, int kind, ch_series *s, double *store)
{
    int n = r->n_names[kind] + (r->names[kind][RP_MAX_NAMES][0] ? 1 : 0);
    for (int k = 0; k < n; k++) {
        int idx = k < r->n_names[kind] ? k : RP_MAX_NAMES;
        snprintf(s[k].name, sizeof(s[k].name), "%s", r->names[kind][idx]);
        s[k].color = palette[k % (sizeof(palette) / sizeof(palette[0]))];
        s[k].under = 0;
        s[k].y = store + (size_t)k * r->n_st;
        for (size_t i = 0; i < r->n_st; i++) {
            const rp_status *st = &r->st[i];
            const rp_tile *w = &st->tiles[st->chart];
            s[k].y[i] = 0;
            for (uint16_t j = 0; j < st->n_labels; j++) {
                const rp_label *l = &r->labels[st->label_off + j];
                if (l->kind == kind && l->name == idx)
                    s[k].y[i] += l->count * 60.0 / w->window_s;
            }
        }
    }
    return n;
}

static const char css[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;margin:24px;"
    "color:#222;background:#fff}"
    "h1{font-size:24px;margin:0 0 4px}h2{font-size:17px;margin:22px 0 2px}"
    ".sub{color:#555;margin:0 0 12px}.cap{color:#666;font-size:13px;margin:0 0 4px}"
    ".verdict{display:inline-block;border-radius:6px;padding:8px 18px;font-size:26px;"
    "font-weight:700;color:#fff;margin:6px 0}"
    ".go{background:#2ca02c}.nogo{background:#d62728}.pending{background:#b8860b}"
    ".vd{display:inline-block;border-radius:4px;padding:1px 8px;color:#fff;font-weight:700}"
    "h3{font-size:15px;margin:14px 0 2px}"
    "ul.crit{margin:6px 0 0;padding-left:20px}ul.crit li{margin:2px 0}"
    ".pass{color:#1d7a1d;font-weight:600}.fail{color:#c01f1f;font-weight:600}"
    "svg{display:block;max-width:100%;height:auto}"
    ".plot{fill:#fcfcfc;stroke:#bbb}.grid{stroke:#e6e6e6;stroke-width:1}"
    ".tick{font-size:11px;fill:#555}.legend{font-size:12px;fill:#333}"
    ".target{stroke:#2e8b57;stroke-width:1.3;stroke-dasharray:7 4}"
    ".rule{stroke:#d62728;stroke-width:1.3;stroke-dasharray:3 3}"
    ".partial{fill:#f2f2f2}.parttxt{font-size:10px;fill:#888}"
    ".targettxt{font-size:11px;fill:#2e8b57}.ruletxt{font-size:11px;fill:#d62728}"
    ".fire{stroke:#b00000;stroke-width:2}.resolve{stroke:#1a7f1a;stroke-width:2}"
    ".firetxt{font-size:11px;fill:#b00000;font-weight:600}"
    ".st0{fill:#2ca02c}.st1{fill:#f2c200}.st2{fill:#d62728}.nodata{fill:#eee}"
    "table{border-collapse:collapse;font-size:13px;margin-top:6px}"
    "td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}"
    "td.l,th.l{text-align:left}td.s0{background:#c9efc9}td.s1{background:#fbe9a6}"
    "td.s2{background:#f6b8b8}.key span{display:inline-block;width:12px;height:12px;"
    "margin:0 4px 0 12px;vertical-align:-1px}";

/* Every firing with its resolution, so that what happened reads at once. */
static void html_trigger_table(sw_buf *b, const rp_report *r)
{
    enum { MAX_ROWS = 100 };
    if (r->firings == 0) {
        buf_puts(b, "<p>No rollback trigger fired.</p>\n");
        return;
    }
    buf_puts(b, "<h2>Rollback triggers</h2><table><tr><th class='l'>Rule</th>"
                "<th class='l'>Fired (UTC)</th><th class='l'>Condition</th>"
                "<th class='l'>Resolved (UTC)</th><th>Firing for</th></tr>");
    int rows = 0;
    for (size_t i = 0; i < r->n_tr && rows < MAX_ROWS; i++) {
        const rp_trigger *t = &r->tr[i];
        if (!t->firing)
            continue;
        char at[32], thr[40], res[32] = "still firing", dur[32] = "";
        rp_fmt_utc(t->at_ms, TF_DHMS, at, sizeof(at));
        rp_fmt_num(t->threshold, thr, sizeof(thr));
        if (t->pair >= 0) {
            int64_t d = (r->tr[t->pair].at_ms - t->at_ms) / 1000;
            rp_fmt_utc(r->tr[t->pair].at_ms, TF_DHMS, res, sizeof(res));
            snprintf(dur, sizeof(dur), "%" PRId64 " min %02d s", d / 60, (int)(d % 60));
        }
        char name[2 * RP_NAME_MAX + 4];
        rp_trigger_name(t, name, sizeof(name));
        buf_puts(b, "<tr><td class='l fail'>");
        rp_html_esc(b, name);
        buf_printf(b, "</td><td class='l'>%s</td><td class='l'>", at);
        rp_html_esc(b, t->metric);
        if (t->has_compare)
            buf_puts(b, " difference");
        if (isnan(t->value))
            buf_puts(b, " null ");
        else
            buf_printf(b, " %.4g ", t->value);
        rp_html_esc(b, t->op);
        buf_printf(b, " %s", thr);
        if (t->window_s > 0)
            buf_printf(b, " over %" PRId64 " s", t->window_s);
        if (t->has_compare) {
            char cmp[2 * RP_NAME_MAX + 256];
            rp_fmt_compare(t, cmp, sizeof(cmp));
            buf_puts(b, ": <span class='cmp'>");
            rp_html_esc(b, cmp);
            buf_puts(b, "</span>");
        }
        buf_printf(b, "</td><td class='l'>%s</td><td>%s</td></tr>", res, dur);
        rows++;
    }
    buf_puts(b, "</table>");
    if (r->firings > (uint64_t)rows)
        buf_printf(b, "<p class='cap'>and %" PRIu64 " more firings (see the hourly table)</p>",
                   r->firings - (uint64_t)rows);
    buf_puts(b, "\n");
}

/* The rollback checks (docs/semantics.md section 10): did the flag go off. */
static void html_check_table(sw_buf *b, const rp_report *r)
{
    enum { MAX_ROWS = 100 };
    if (r->n_ck == 0)
        return;
    buf_puts(b, "<h2>Rollback checks</h2><table><tr><th class='l'>Rule</th>"
                "<th class='l'>Fired (UTC)</th><th class='l'>Check</th><th class='l'>At (UTC)</th>"
                "<th>Unavailable</th><th>Without requests</th><th class='l'>Evidence</th></tr>");
    size_t rows = 0;
    for (; rows < r->n_ck && rows < MAX_ROWS; rows++) {
        const rp_check *c = &r->ck[rows];
        char at[32], fired[32];
        rp_fmt_utc(c->at_ms, TF_DHMS, at, sizeof(at));
        rp_fmt_utc(c->fired_at_ms, TF_DHMS, fired, sizeof(fired));
        buf_puts(b, "<tr><td class='l'>");
        rp_html_esc(b, c->rule);
        buf_printf(b, "</td><td class='l'>%s</td><td class='l%s'>%s</td><td class='l'>%s</td>"
                   "<td>%" PRId64 "</td><td>%" PRId64 " s</td><td class='l'>", fired,
                   c->state == 1 ? " fail" : "", rp_check_states[c->state], at, c->unavailable,
                   c->quiet_s);
        rp_html_esc(b, c->evidence[0] ? c->evidence : "-");
        buf_puts(b, "</td></tr>");
    }
    buf_puts(b, "</table>");
    if (r->n_ck > rows)
        buf_printf(b, "<p class='cap'>and %zu more checks</p>", r->n_ck - rows);
    buf_puts(b, "\n");
}

static void html_header(sw_buf *b, const rp_report *r, const ch_axis *ax)
{
    char from[32], to[32];
    rp_fmt_utc(ax->t0, TF_DHM, from, sizeof(from));
    rp_fmt_utc(ax->t1, TF_DHM, to, sizeof(to));
    buf_puts(b, "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>");
    if (r->refresh_s > 0)
        buf_printf(b, "<meta http-equiv='refresh' content='%d'>", r->refresh_s);
    buf_printf(b, "<title>Stream5 soak report %s - %s UTC</title><style>%s</style></head><body>\n",
               from, to, css);
    buf_printf(b, "<h1>Stream5 soak report</h1><p class='sub'>%s - %s UTC: %zu hours, "
               "%zu status events every %g s, %zu trigger events",
               from, to, r->n_hours, r->n_st, (double)r->interval_ms / 1000, r->n_tr);
    if (r->skipped)
        buf_printf(b, ", %" PRIu64 " unreadable lines skipped", r->skipped);
    buf_puts(b, "</p>\n");
    buf_printf(b, "<div class='verdict %s'>%s</div> <span class='sub'>soak go/no-go over "
               "the whole input</span><ul class='crit'>",
               r->go ? "go" : "nogo", r->go ? "GO" : "NO-GO");
    for (int i = 0; i < 4; i++) {
        const rp_criterion *k = &r->crit[i];
        buf_printf(b, "<li><span class='%s'>%s</span> ", k->pass ? "pass" : "fail",
                   rp_pass_word(k->pass));
        rp_html_esc(b, k->title);
        if (k->detail[0]) {
            buf_puts(b, ": ");
            rp_html_esc(b, k->detail);
        }
        buf_puts(b, "</li>");
    }
    buf_puts(b, "</ul>\n");
    html_trigger_table(b, r);
    html_check_table(b, r);
}

static void html_status_band(sw_buf *b, const rp_report *r, const ch_axis *ax)
{
    const int top = 40, h = 34, svg_h = top + h + 24;
    buf_puts(b, "<section><h2>Status</h2><p class='cap'>The status of every status event "
                "(worst first: red = a rollback rule firing, yellow = a target missed over "
                "the 300 s window or too few outcomes, green = all targets met), drawn over "
                "the interval it ends; grey = no status event. Red lines: a rule fired; "
                "green lines: it resolved.<span class='key'>"
                "<span style='background:#2ca02c'></span>green"
                "<span style='background:#f2c200'></span>yellow"
                "<span style='background:#d62728'></span>red"
                "<span style='background:#eee'></span>no data</span></p>");
    buf_printf(b, "<svg width='%d' height='%d' viewBox='0 0 %d %d' role='img'>", CH_W, svg_h,
               CH_W, svg_h);
    buf_printf(b, "<rect x='%d' y='%d' width='%d' height='%d' class='nodata'/>", CH_L, top,
               CH_R - CH_L, h);
    /* Runs of one level become one rectangle. */
    size_t i = 0;
    while (i < r->n_st) {
        size_t j = i;
        while (j + 1 < r->n_st && r->st[j + 1].level == r->st[i].level &&
               r->st[j + 1].at_ms - r->st[j].at_ms <= r->interval_ms * 3 / 2)
            j++;
        double x0 = x_of(ax, r->st[i].at_ms - r->interval_ms), x1 = x_of(ax, r->st[j].at_ms);
        buf_printf(b, "<rect x='%.1f' y='%d' width='%.1f' height='%d' class='st%d'/>", x0, top,
                   fmax(x1 - x0, 0.8), h, r->st[i].level);
        i = j + 1;
    }
    buf_printf(b, "<rect x='%d' y='%d' width='%d' height='%d' fill='none' stroke='#bbb'/>", CH_L,
               top, CH_R - CH_L, h);
    svg_time_axis(b, ax, top, top + h);
    svg_triggers(b, r, ax, G_NONE, top - 4, top + h, 10);
    buf_puts(b, "</svg></section>\n");
}

static void html_hour_table(sw_buf *b, const rp_report *r)
{
    buf_puts(b, "<section><h2>Hourly updates</h2><p class='cap'>Metrics per clock hour (UTC), "
                "summed over non-overlapping status windows inside the hour; status = the "
                "worst status of the hour.</p><table><tr><th>Hour</th><th class='l'>Time "
                "(UTC)</th><th class='l'>Status</th><th>Success</th><th>Mean response</th>"
                "<th>Errors</th><th>Outcomes</th><th>Coverage</th><th class='l'>Notes</th></tr>");
    size_t ti = 0;
    for (size_t h = 0; h < r->n_hours; h++) {
        const rp_hour *H = &r->hours[h];
        char range[64];
        rp_hour_texts ht;
        rp_fmt_hour_range(r, h, range, sizeof(range));
        rp_hour_texts_of(H, &ht);
        buf_printf(b, "<tr><td>%zu</td><td class='l'>%s</td><td class='l s%d'>%s</td>"
                   "<td class='%s'>%s</td><td class='%s'>%s</td><td class='%s'>%s</td>"
                   "<td>%" PRIu64 "</td><td>%" PRId64 " min</td><td class='l'>",
                   h + 1, range, H->worst, H->worst == LV_NONE ? "none" : rp_level_name(H->worst),
                   H->pass_success == 0 ? "fail" : "", ht.success,
                   H->pass_latency == 0 ? "fail" : "", ht.latency,
                   H->pass_error == 0 ? "fail" : "", ht.errors, H->outcomes, H->covered_s / 60);
        int any = 0;
        while (ti < r->n_tr && rp_hour_index(r, r->tr[ti].at_ms) == h) {
            const rp_trigger *t = &r->tr[ti];
            char at[16], name[2 * RP_NAME_MAX + 4];
            rp_fmt_utc(t->at_ms, TF_HMS, at, sizeof(at));
            rp_trigger_name(t, name, sizeof(name));
            buf_puts(b, any++ ? "; " : "");
            rp_html_esc(b, name);
            buf_printf(b, " %s at %s", t->firing ? "FIRING" : "resolved", at);
            ti++;
        }
        buf_puts(b, "</td></tr>\n");
    }
    buf_puts(b, "</table></section>\n");
}

/* With cohorts (section 12): each hour's numbers per cohort, tiled from
 * the statuses' `cohorts` as the whole topic's from its windows, judged
 * against the same targets. */
static void html_cohort_hour_table(sw_buf *b, const rp_report *r)
{
    if (r->n_cohorts == 0)
        return;
    buf_printf(b, "<section><h2>Hourly updates by cohort</h2><p class='cap'>Each cohort's "
               "metrics per clock hour (UTC), summed over its non-overlapping status windows "
               "(%u s) inside the hour, against the same targets.</p><table><tr><th>Hour</th>"
               "<th class='l'>Time (UTC)</th><th class='l'>Cohort</th><th>Success</th>"
               "<th>Mean response</th><th>Errors</th><th>Outcomes</th><th>Coverage</th></tr>",
               (unsigned)(r->cfg.status_window_s > 0 ? r->cfg.status_window_s : 300));
    for (size_t h = 0; h < r->n_hours; h++) {
        char range[64];
        rp_fmt_hour_range(r, h, range, sizeof(range));
        for (int k = 0; k < r->n_cohorts; k++) {
            const rp_hour *C = rp_coh_hour(r, h, k);
            rp_hour_texts t;
            if (C->n_tiles == 0)
                continue;
            rp_hour_texts_of(C, &t);
            buf_printf(b, "<tr><td>%zu</td><td class='l'>%s</td><td class='l'>", h + 1, range);
            rp_html_esc(b, r->cohorts[k]);
            buf_printf(b, "</td><td class='%s'>%s</td><td class='%s'>%s</td><td class='%s'>%s"
                       "</td><td>%" PRIu64 "</td><td>%" PRId64 " min</td></tr>\n",
                       C->pass_success == 0 ? "fail" : "", t.success,
                       C->pass_latency == 0 ? "fail" : "", t.latency,
                       C->pass_error == 0 ? "fail" : "", t.errors, C->outcomes, C->covered_s / 60);
        }
    }
    buf_puts(b, "</table></section>\n");
}

/* What the charts share: the time axis, the values of each series per
 * status, the series and lines being drawn, and the caption being written. */
typedef struct ch_ctx {
    sw_buf *b;
    const rp_report *r;
    ch_axis ax;
    size_t n;     /* values per series: the statuses, at least 1 */
    double *store; /* series values: y0, y1, y2, then the label series */
    ch_series *s; /* CH_MAX_SERIES */
    ch_line *hl;  /* CH_MAX_LINES */
    unsigned cw;  /* the window the charts show, s */
    char cap[400];
} ch_ctx;

static double *ch_y(const ch_ctx *c, int k)
{
    return c->store + (size_t)k * c->n;
}

static void ch_set_series(ch_ctx *c, int k, const char *name, int color, int y)
{
    snprintf(c->s[k].name, sizeof(c->s[k].name), "%s", name);
    c->s[k].color = palette[color];
    c->s[k].y = ch_y(c, y);
    c->s[k].under = 0;
}

/* hl[0]: the status target on the chart, in its unit: "target > 95%". */
static void ch_set_target(ch_ctx *c, const char *what, double v, const char *unit)
{
    c->hl[0].v = v;
    c->hl[0].is_rule = 0;
    snprintf(c->hl[0].label, sizeof(c->hl[0].label), "target %s%g%s", what, v, unit);
}

static void ch_draw(ch_ctx *c, const char *title, const char *unit, int ns, int nh,
                    int zero_based, double cap, int group)
{
    ch_spec spec = {title, c->cap, unit, c->s, ns, c->hl, nh, zero_based, cap, group};
    svg_chart(c->b, c->r, &c->ax, &spec);
}

/* The time range: from the first status's window to the last event. */
static ch_axis chart_axis(const rp_report *r)
{
    ch_axis ax = {INT64_MAX, INT64_MIN};
    if (r->n_st) {
        ax.t0 = r->st[0].at_ms - r->interval_ms;
        ax.t1 = r->st[r->n_st - 1].at_ms;
    }
    if (r->n_tr) {
        ax.t0 = r->tr[0].at_ms < ax.t0 ? r->tr[0].at_ms : ax.t0;
        ax.t1 = r->tr[r->n_tr - 1].at_ms > ax.t1 ? r->tr[r->n_tr - 1].at_ms : ax.t1;
    }
    if (ax.t1 <= ax.t0)
        ax.t1 = ax.t0 + 60000;
    return ax;
}

static void chart_requests(ch_ctx *c)
{
    const rp_report *r = c->r;
    double *y0 = ch_y(c, 0), *y1 = ch_y(c, 1);
    for (size_t i = 0; i < r->n_st; i++) {
        const rp_tile *w = &r->st[i].tiles[r->st[i].chart];
        y0[i] = w->requests * 60.0 / w->window_s;
        y1[i] = w->outcomes * 60.0 / w->window_s;
    }
    int same = 1;
    for (size_t i = 0; i < r->n_st && same; i++)
        same = y0[i] == y1[i];
    snprintf(c->cap, sizeof(c->cap), "Per minute, averaged over the %u s window of each status "
             "event (its count / %g). Outcomes = succeeded + fallback; requests are the wide "
             "pale line beneath.%s", c->cw, c->cw / 60.0,
             same && r->n_st ? " Here they coincide at every status: every request had its "
                               "outcome in the same window." : "");
    ch_set_series(c, 0, "requests", 0, 0);
    ch_set_series(c, 1, "outcomes", 1, 1);
    c->s[0].under = 1;
    int nh = rule_lines(r, G_REQUESTS, 1, 1, "", c->hl, 0);
    ch_draw(c, "Requests per minute", "", 2, nh, 1, NAN, G_REQUESTS);
}

/* With cohorts (section 12), a rate's series of each cohort beside the
 * whole topic's (series 0): series 1.. of the chart, values in the store's
 * rows 4.., from each status's `cohorts` (its status window); a status
 * without the cohort, or without outcomes in it, breaks the line. The
 * legend and the caption say so. Returns the number of series. */
static int cohort_rate_series(ch_ctx *c, int errors)
{
    const rp_report *r = c->r;
    if (r->n_cohorts == 0)
        return 1;
    for (int k = 0; k < r->n_cohorts; k++) {
        double *y = ch_y(c, 4 + k);
        for (size_t i = 0; i < r->n_st; i++) {
            const rp_status *st = &r->st[i];
            y[i] = NAN;
            for (uint8_t j = 0; j < st->n_coh; j++) {
                const rp_tile *t = &r->ct[st->coh_off + j].t;
                if (r->ct[st->coh_off + j].cohort == k && t->outcomes)
                    y[i] = 100.0 * (errors ? t->errors : t->successes) / t->outcomes;
            }
        }
        ch_series *s = &c->s[1 + k];
        snprintf(s->name, sizeof(s->name), "cohort %s", r->cohorts[k]);
        s->color = cohort_palette[k];
        s->y = y;
        s->under = 0;
    }
    size_t n = strlen(c->s[0].name);
    snprintf(c->s[0].name + n, sizeof(c->s[0].name) - n, ", whole topic");
    n = strlen(c->cap);
    snprintf(c->cap + n, sizeof(c->cap) - n, " Beside the whole topic, each cohort's, over the "
             "status window (%u s) of its own events.",
             (unsigned)(r->cfg.status_window_s > 0 ? r->cfg.status_window_s : 300));
    return 1 + r->n_cohorts;
}

/* Success rate and error rate, in %, each with its target. */
static void chart_rates(ch_ctx *c)
{
    const rp_report *r = c->r;
    const sw_config *cfg = &r->cfg;
    double *y0 = ch_y(c, 0), *y1 = ch_y(c, 1);
    for (size_t i = 0; i < r->n_st; i++) {
        const rp_tile *w = &r->st[i].tiles[r->st[i].chart];
        y0[i] = w->outcomes ? 100.0 * w->successes / w->outcomes : NAN;
        y1[i] = w->outcomes ? 100.0 * w->errors / w->outcomes : NAN;
    }
    snprintf(c->cap, sizeof(c->cap), "Successes / outcomes over the %u s window, in %%. Dashed "
             "green: target; dashed red: rollback rule threshold.", c->cw);
    ch_set_series(c, 0, "success rate", 0, 0);
    int ns = cohort_rate_series(c, 0);
    ch_set_target(c, "> ", cfg->status_success_rate_min * 100, "%");
    int nh = rule_lines(r, G_SUCCESS, 100, 0, "%", c->hl, 1);
    ch_draw(c, "Success rate", "%", ns, nh, 0, 100, G_SUCCESS);

    snprintf(c->cap, sizeof(c->cap), "Errors (outcomes with HTTP status >= 500) / outcomes over "
             "the %u s window, in %%.", c->cw);
    ch_set_series(c, 0, "error rate", 1, 1);
    ns = cohort_rate_series(c, 1);
    ch_set_target(c, "< ", cfg->status_error_rate_max * 100, "%");
    nh = rule_lines(r, G_ERROR, 100, 0, "%", c->hl, 1);
    ch_draw(c, "Error rate", "%", ns, nh, 1, 100, G_ERROR);
}

static void chart_latency(ch_ctx *c)
{
    const rp_report *r = c->r;
    double *y0 = ch_y(c, 0), *y1 = ch_y(c, 1), *y2 = ch_y(c, 2);
    for (size_t i = 0; i < r->n_st; i++) {
        const rp_tile *w = &r->st[i].tiles[r->st[i].chart];
        y0[i] = w->lat_mean;
        y1[i] = r->st[i].p95;
        y2[i] = r->st[i].p99;
    }
    snprintf(c->cap, sizeof(c->cap), "Mean response time of the outcomes over the %u s window, "
             "in ms, with the target and the rules on the mean.", c->cw);
    ch_set_series(c, 0, "mean", 0, 0);
    ch_set_target(c, "mean < ", r->cfg.status_latency_mean_max_ms, " ms");
    int nh = rule_lines(r, G_LATENCY, 1, 0, " ms", c->hl, 1);
    ch_draw(c, "Response time (ms)", "", 1, nh, 1, NAN, G_LATENCY);

    /* The percentiles apart: drawn against the mean's target they would
     * read as a miss that no rule or target measures. */
    snprintf(c->cap, sizeof(c->cap), "95th and 99th percentile of the response time over the "
             "%u s window, in ms (histogram bins within 0.8%%), with the rules on percentiles; "
             "the target applies to the mean, above.", c->cw);
    ch_set_series(c, 0, "p95", 1, 1);
    ch_set_series(c, 1, "p99", 7, 2);
    nh = rule_lines(r, G_PERCENTILE, 1, 0, " ms", c->hl, 0);
    ch_draw(c, "Response time percentiles (ms)", "", 2, nh, 1, NAN, G_PERCENTILE);
}

static void chart_time_constraint(ch_ctx *c)
{
    const rp_report *r = c->r;
    double *y0 = ch_y(c, 0);
    for (size_t i = 0; i < r->n_st; i++)
        y0[i] = isnan(r->st[i].tcsr) ? NAN : r->st[i].tcsr * 100;
    snprintf(c->cap, sizeof(c->cap), "Successes whose compressed session fits the user's "
             "minutes / successes that say so, over the %u s window, in %%.", c->cw);
    ch_set_series(c, 0, "time-constraint success", 2, 0);
    int nh = rule_lines(r, G_TCSR, 100, 0, "%", c->hl, 0);
    ch_draw(c, "Time-constraint success rate", "%", 1, nh, 0, 100, G_TCSR);
}

/* Outcomes by strategy and fallbacks by reason, per minute. */
static void chart_labels(ch_ctx *c)
{
    const rp_report *r = c->r;
    double *lab = ch_y(c, 4);
    int ns = label_series(r, K_STRATEGY, c->s, lab);
    snprintf(c->cap, sizeof(c->cap), "Outcomes per minute by compression strategy (%u s window "
             "/ %g); fallbacks carry strategy none.", c->cw, c->cw / 60.0);
    int nh = rule_lines(r, G_STRATEGY, 1, 1, "", c->hl, 0);
    ch_draw(c, "Strategy mix", "", ns, nh, 1, NAN, G_STRATEGY);

    ns = label_series(r, K_REASON, c->s, lab);
    snprintf(c->cap, sizeof(c->cap), "Fallbacks per minute by reason (%u s window / %g).", c->cw,
             c->cw / 60.0);
    nh = rule_lines(r, G_REASON, 1, 1, "", c->hl, 0);
    ch_draw(c, "Fallback reasons", "", ns, nh, 1, NAN, G_REASON);
}

/* Returns 0, or a negative errno: memory, or the buffer's cap. */
int rp_render_html(sw_buf *b, const rp_report *r)
{
    ch_ctx c = {.b = b, .r = r, .n = r->n_st ? r->n_st : 1};
    int nseries = 2 * (RP_MAX_NAMES + 1) + 4;
    c.store = calloc((size_t)nseries * c.n, sizeof(double));
    c.s = calloc(CH_MAX_SERIES, sizeof(*c.s));
    c.hl = calloc(CH_MAX_LINES, sizeof(*c.hl));
    int rc = -ENOMEM;
    if (c.store && c.s && c.hl) {
        c.ax = chart_axis(r);
        c.cw = r->n_st ? r->st[0].tiles[r->st[0].chart].window_s : RP_CHART_WINDOW_S;
        html_header(b, r, &c.ax);
        html_status_band(b, r, &c.ax);
        chart_requests(&c);
        chart_rates(&c);
        chart_latency(&c);
        chart_time_constraint(&c);
        chart_labels(&c);
        html_hour_table(b, r);
        html_cohort_hour_table(b, r);
        rp_render_soak_rows_html(b, r);
        rp_render_soak_verdicts_html(b, r);
        buf_puts(b, "</body></html>\n");
        rc = rp_render_result(b);
    }
    free(c.store);
    free(c.s);
    free(c.hl);
    return rc;
}
