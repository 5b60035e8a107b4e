/* html.h: a backtest as one self-contained HTML page (docs/semantics.md
 * section 13): the trade-off of false alarms against detection delay (or
 * time off, without incidents) as an inline SVG, one point per row, the
 * config as given and the Pareto front marked, and the rows' table.
 * Invariant: the page is a pure function of its rows (no clock, nothing
 * fetched), and every text from the input or the config is escaped. */
#ifndef SOAKWATCH_BT_HTML_H
#define SOAKWATCH_BT_HTML_H

#include "../buf.h"
#include "score.h"

typedef struct bt_page {
    const char *input;         /* the recording, "-" for stdin */
    const char *objective;     /* the rows' order */
    int n_combos, n_inc;
    const bt_row *rows;        /* n rows, sorted by the objective */
    const char *const *labels; /* rows[i]'s parameters */
    int n;
} bt_page;

/* The Pareto front of the page's chart: front[i] is set when rows[i] is on
 * it. Returns the chart's view: 1 when y is the mean detection delay (some
 * row detected an incident), 0 when y is the time off. */
int bt_front(const bt_page *p, unsigned char *front);

/* The page into b. Returns 0, or -1 when b failed (its cap, memory). */
int bt_html(sw_buf *b, const bt_page *p);

#endif
