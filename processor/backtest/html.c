/* html.c: the backtest page (html.h). One SVG chart, x = false alarms,
 * y = mean detection delay (or time off without incidents detected), one
 * circle per row carrying data-row, data-x, data-y and data-front; the
 * config as given ringed and labelled; the Pareto front in red, joined in
 * the order of false alarms. Then the rows' table, in the given order.
 * Invariant: nothing fetched, no script; every text from the input or
 * the config passes through esc(). */
#include "html.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SV_W 960
#define SV_H 560
#define PL_L 90   /* plot left */
#define PL_R 930  /* plot right */
#define PL_T 60   /* plot top; the "nothing detected" strip above it */
#define PL_B 480  /* plot bottom */
#define PL_PAD 12 /* room between the axes and the extreme points */
#define STRIP_Y 40

typedef struct chart {
    int delay;          /* y: mean delay (1), or time off (0) */
    int64_t min_missed; /* the fewest incidents any row misses */
    double x_hi, x_step, y_hi, y_step;
} chart;

static void esc(sw_buf *b, const char *s)
{
    const char *run = s;
    for (const char *p = s; *p; p++) {
        const char *rep = *p == '&' ? "&amp;" : *p == '<' ? "&lt;" : *p == '>' ? "&gt;"
                        : *p == '"' ? "&quot;" : *p == '\'' ? "&#39;" : NULL;
        if (rep == NULL)
            continue;
        buf_append(b, run, (size_t)(p - run));
        buf_puts(b, rep);
        run = p + 1;
    }
    buf_puts(b, run);
}

/* ---- the front -------------------------------------------------------- */

static int delay_view(const bt_page *p, int64_t *min_missed)
{
    int any = 0;
    *min_missed = INT64_MAX;
    for (int i = 0; i < p->n; i++) {
        any |= p->rows[i].sc.detected > 0;
        if (p->rows[i].sc.missed < *min_missed)
            *min_missed = p->rows[i].sc.missed;
    }
    return p->n_inc > 0 && any;
}

/* The row's y: its mean delay (NAN when it detected nothing), or its time
 * off. */
static double y_val(const bt_score *s, int delay)
{
    return delay ? (s->detected ? s->delay_mean_s : NAN) : (double)s->off_s;
}

/* Whether row i can be on the front: every row in the time-off view; in
 * the delay view, the rows that miss the fewest incidents. */
static int eligible(const bt_score *s, int delay, int64_t min_missed)
{
    return !delay || (s->missed == min_missed && s->detected > 0);
}

int bt_front(const bt_page *p, unsigned char *front)
{
    int64_t mm;
    int delay = delay_view(p, &mm);
    for (int i = 0; i < p->n; i++) {
        const bt_score *a = &p->rows[i].sc;
        front[i] = (unsigned char)eligible(a, delay, mm);
        double xa = (double)a->false_alarms, ya = y_val(a, delay);
        for (int j = 0; front[i] && j < p->n; j++) {
            const bt_score *b = &p->rows[j].sc;
            double xb = (double)b->false_alarms, yb = y_val(b, delay);
            if (j != i && eligible(b, delay, mm) && xb <= xa && yb <= ya && (xb < xa || yb < ya))
                front[i] = 0;
        }
    }
    return delay;
}

/* ---- scales ----------------------------------------------------------- */

static double nice_step(double raw)
{
    if (!(raw > 0))
        return 1;
    double q = pow(10, floor(log10(raw)));
    double m = raw / q;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * q;
}

/* An axis from 0 to a multiple of a round step past max, about 8 ticks. */
static void axis_range(double max, int whole, double *hi, double *step)
{
    *step = nice_step(max / 8);
    if (whole && *step < 1)
        *step = 1;
    *hi = max > 0 ? ceil(max / *step - 1e-9) * *step : *step;
    if (*hi < max)
        *hi += *step;
}

static chart make_chart(const bt_page *p)
{
    chart c;
    double xm = 0, ym = 0;
    c.delay = delay_view(p, &c.min_missed);
    for (int i = 0; i < p->n; i++) {
        double y = y_val(&p->rows[i].sc, c.delay);
        xm = fmax(xm, (double)p->rows[i].sc.false_alarms);
        if (!isnan(y))
            ym = fmax(ym, y);
    }
    axis_range(xm, 1, &c.x_hi, &c.x_step);
    axis_range(ym, !c.delay, &c.y_hi, &c.y_step);
    return c;
}

static double px(const chart *c, double x)
{
    return PL_L + PL_PAD + x / c->x_hi * (PL_R - PL_L - 2 * PL_PAD);
}

static double py(const chart *c, double y)
{
    return isnan(y) ? STRIP_Y : PL_B - PL_PAD - y / c->y_hi * (PL_B - PL_T - 2 * PL_PAD);
}

/* ---- the chart -------------------------------------------------------- */

static void svg_axes(sw_buf *b, const chart *c)
{
    buf_printf(b, "<rect x='%d' y='%d' width='%d' height='%d' class='plot'/>", PL_L, PL_T,
               PL_R - PL_L, PL_B - PL_T);
    for (double v = 0; v <= c->x_hi + c->x_step * 1e-6; v += c->x_step)
        buf_printf(b, "<line x1='%.1f' y1='%d' x2='%.1f' y2='%d' class='grid'/>"
                   "<text x='%.1f' y='%d' class='tick' text-anchor='middle'>%.6g</text>",
                   px(c, v), PL_T, px(c, v), PL_B, px(c, v), PL_B + 16, v);
    for (double v = 0; v <= c->y_hi + c->y_step * 1e-6; v += c->y_step)
        buf_printf(b, "<line x1='%d' y1='%.1f' x2='%d' y2='%.1f' class='grid'/>"
                   "<text x='%d' y='%.1f' class='tick' text-anchor='end'>%.6g</text>",
                   PL_L, py(c, v), PL_R, py(c, v), PL_L - 6, py(c, v) + 4, v);
    buf_printf(b, "<text x='%d' y='%d' class='axis' text-anchor='middle'>false alarms "
               "(firings that began outside every incident)</text>", (PL_L + PL_R) / 2, PL_B + 44);
    buf_printf(b, "<text x='22' y='%d' class='axis' text-anchor='middle' "
               "transform='rotate(-90 22 %d)'>%s</text>", (PL_T + PL_B) / 2, (PL_T + PL_B) / 2,
               c->delay ? "mean detection delay (s)" : "time the flag is off (s)");
    if (c->delay)
        buf_printf(b, "<line x1='%d' y1='%d' x2='%d' y2='%d' class='strip'/>"
                   "<text x='%d' y='%d' class='tick'>nothing detected</text>",
                   PL_L, STRIP_Y, PL_R, STRIP_Y, PL_L + 4, STRIP_Y - 6);
}

/* The front joined in the order of false alarms (then y). */
static void svg_front_line(sw_buf *b, const bt_page *p, const chart *c, const unsigned char *f)
{
    int last = -1;
    buf_puts(b, "<polyline class='frontline' points='");
    for (;;) {
        int best = -1;
        for (int i = 0; i < p->n; i++) {
            if (!f[i])
                continue;
            const bt_score *s = &p->rows[i].sc;
            double x = (double)s->false_alarms, y = y_val(s, c->delay);
            const bt_score *l = last >= 0 ? &p->rows[last].sc : NULL;
            int after = l == NULL || x > (double)l->false_alarms ||
                        (x == (double)l->false_alarms && y < y_val(l, c->delay));
            const bt_score *bs = best >= 0 ? &p->rows[best].sc : NULL;
            if (after && (bs == NULL || x < (double)bs->false_alarms ||
                          (x == (double)bs->false_alarms && y > y_val(bs, c->delay))))
                best = i;
        }
        if (best < 0)
            break;
        const bt_score *s = &p->rows[best].sc;
        buf_printf(b, "%.1f,%.1f ", px(c, (double)s->false_alarms), py(c, y_val(s, c->delay)));
        last = best;
    }
    buf_puts(b, "'/>");
}

static void svg_point(sw_buf *b, const bt_page *p, const chart *c, int i, int on_front)
{
    const bt_score *s = &p->rows[i].sc;
    double y = y_val(s, c->delay);
    int worse = c->delay && !eligible(s, c->delay, c->min_missed);
    char yt[32];
    snprintf(yt, sizeof(yt), isnan(y) ? "null" : "%.6g", y);
    buf_printf(b, "<circle class='pt%s%s%s' data-row='%d' data-x='%" PRId64 "' data-y='%s' "
               "data-front='%d' cx='%.1f' cy='%.1f' r='%d'><title>row %d: ",
               on_front ? " front" : "", worse ? " worse" : "", p->rows[i].id ? "" : " given",
               p->rows[i].id, s->false_alarms, yt, on_front, px(c, (double)s->false_alarms),
               py(c, y), p->rows[i].id ? 4 : 6, p->rows[i].id);
    esc(b, p->labels[i]);
    buf_printf(b, "; %" PRId64 " false alarms, %s %s, %" PRId64 " missed</title></circle>",
               s->false_alarms, yt, c->delay ? "s mean delay" : "s off", s->missed);
    if (p->rows[i].id == 0)
        buf_printf(b, "<circle class='givenring' cx='%.1f' cy='%.1f' r='11'/>"
                   "<text class='giventxt' x='%.1f' y='%.1f'>row 0: the config as given</text>",
                   px(c, (double)s->false_alarms), py(c, y), px(c, (double)s->false_alarms) + 14,
                   py(c, y) - 10);
}

static void svg_legend(sw_buf *b)
{
    buf_printf(b, "<g class='legend'><circle class='pt' cx='%d' cy='16' r='4'/>"
               "<text x='%d' y='20'>a row</text>"
               "<circle class='pt front' cx='%d' cy='16' r='4'/>"
               "<text x='%d' y='20'>on the Pareto front</text>"
               "<circle class='pt worse' cx='%d' cy='16' r='4'/>"
               "<text x='%d' y='20'>misses more incidents</text>"
               "<circle class='givenring' cx='%d' cy='16' r='8'/>"
               "<text x='%d' y='20'>the config as given</text></g>",
               PL_L, PL_L + 10, PL_L + 90, PL_L + 100, PL_L + 260, PL_L + 270, PL_L + 440,
               PL_L + 454);
}

/* Points drawn plain, then front, then the config as given, on top. */
static void svg_chart(sw_buf *b, const bt_page *p, const unsigned char *front)
{
    chart c = make_chart(p);
    buf_printf(b, "<svg width='%d' height='%d' "
               "viewBox='0 0 %d %d' id='tradeoff' data-view='%s'>", SV_W, SV_H, SV_W, SV_H,
               c.delay ? "delay" : "off");
    svg_legend(b);
    svg_axes(b, &c);
    svg_front_line(b, p, &c, front);
    for (int pass = 0; pass < 3; pass++)
        for (int i = 0; i < p->n; i++) {
            int given = p->rows[i].id == 0;
            if ((pass == 2) == given && (given || (pass == 1) == (front[i] != 0)))
                svg_point(b, p, &c, i, front[i]);
        }
    buf_puts(b, "</svg>");
}

/* ---- the page --------------------------------------------------------- */

static const char css[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;margin:24px;"
    "color:#222;background:#fff}h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;"
    "margin:22px 0 4px}.sub,.cap{color:#555;margin:0 0 8px;max-width:960px}"
    "svg{display:block;max-width:100%;height:auto}"
    ".plot{fill:#fcfcfc;stroke:#bbb}.grid{stroke:#e6e6e6;stroke-width:1}"
    ".strip{stroke:#ccc;stroke-dasharray:4 4}"
    ".tick{font-size:11px;fill:#555}.axis{font-size:13px;fill:#333}"
    ".legend text{font-size:12px;fill:#333}"
    ".pt{fill:#9ecae1;stroke:#1f77b4;stroke-width:1}"
    ".pt.front{fill:#d62728;stroke:#8b0000}.pt.worse{fill:#fff;stroke:#999}"
    ".pt.given{stroke:#000;stroke-width:2}"
    ".givenring{fill:none;stroke:#000;stroke-width:2}"
    ".giventxt{font-size:12px;font-weight:600;fill:#000}"
    ".frontline{fill:none;stroke:#d62728;stroke-width:1.5}"
    "table{border-collapse:collapse;font-size:13px;margin-top:6px}"
    "td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}td.l,th.l{text-align:left}"
    "tr.front td{background:#fde2e2}tr.given td{font-weight:700}"
    "code{font-size:12px}";

static void html_head(sw_buf *b, const bt_page *p, int delay)
{
    const char *in = strcmp(p->input, "-") == 0 ? "stdin" : p->input;
    buf_printf(b, "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
               "<title>soakwatch backtest: ");
    esc(b, in);
    buf_printf(b, "</title><style>%s</style></head><body>\n<h1>Backtest: ", css);
    esc(b, in);
    buf_printf(b, "</h1>\n<p class='sub'>%d combination%s and the config as given (%d rows), "
               "%d incident%s; rows sorted by ", p->n_combos, p->n_combos == 1 ? "" : "s", p->n,
               p->n_inc, p->n_inc == 1 ? "" : "s");
    esc(b, p->objective);
    buf_puts(b, ".</p>\n<h2>Trade-off</h2>\n<p class='cap'>");
    if (delay)
        buf_puts(b, "x: false alarms (firings that began outside every incident); y: the mean "
                 "detection delay in seconds over the incidents the row detected. Rows that "
                 "detected nothing sit on the strip above the plot; hollow points miss more "
                 "incidents than the best rows do and cannot be on the front. ");
    else
        buf_printf(b, "%s: x: false alarms (every firing, when no incidents were given); y: "
                   "the time the flag would have been off, in seconds. ",
                   p->n_inc ? "No row detected an incident" : "No incidents were given");
    buf_puts(b, "The Pareto front (red, joined): the rows no other row beats on both axes "
             "(at most as many false alarms and at most as long, fewer or shorter in one). "
             "One point per row; hover for its parameters.</p>\n");
}

static void html_row(sw_buf *b, const bt_page *p, int i, int on_front)
{
    const bt_score *s = &p->rows[i].sc;
    int id = p->rows[i].id;
    buf_printf(b, "<tr data-row='%d' class='%s%s'><td>%d</td><td>%" PRId64 "</td><td>%" PRId64
               "</td><td>%" PRId64 "</td><td>%" PRId64 "</td><td>%" PRId64 "</td>",
               id, id ? "" : "given ", on_front ? "front" : "", id, s->triggers, s->firing_s,
               s->off_s, s->false_alarms, s->missed);
    if (isnan(s->delay_mean_s))
        buf_puts(b, "<td>-</td><td>-</td>");
    else
        buf_printf(b, "<td>%.1f</td><td>%" PRId64 "</td>", s->delay_mean_s, s->delay_max_s);
    buf_printf(b, "<td>%s</td><td class='l'>", on_front ? "yes" : "");
    esc(b, p->labels[i]);
    buf_printf(b, "</td><td class='l'><code>soakwatch backtest ... --row %d</code></td></tr>\n",
               id);
}

int bt_html(sw_buf *b, const bt_page *p)
{
    unsigned char *front = calloc((size_t)p->n + 1, 1);
    if (front == NULL)
        return -1;
    int delay = bt_front(p, front);
    html_head(b, p, delay);
    svg_chart(b, p, front);
    buf_puts(b, "\n<h2>Rows</h2>\n<p class='cap'>Sorted by ");
    esc(b, p->objective);
    buf_puts(b, ". <code>soakwatch backtest</code> with the same arguments and <code>--row "
             "N</code> prints row N&#39;s config, for <code>soakwatch replay --config</code>."
             "</p>\n<table><tr><th>row</th><th>triggers</th><th>firing_s</th><th>off_s</th>"
             "<th>false</th><th>missed</th><th>delay_s</th><th>max_s</th><th>front</th>"
             "<th class='l'>parameters</th><th class='l'>its config</th></tr>\n");
    for (int i = 0; i < p->n; i++)
        html_row(b, p, i, front[i]);
    buf_puts(b, "</table>\n</body></html>\n");
    free(front);
    return b->failed ? -1 : 0;
}
