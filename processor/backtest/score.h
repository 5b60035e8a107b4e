/* score.h: what one combination of a backtest did (docs/semantics.md
 * section 13): its rules' firing spans, and from them the triggers fired,
 * the time firing, the time the flag would have been off, and, against
 * the incidents, the detection delays, the incidents missed and the false
 * alarms. Pure: spans and incidents in, figures out. */
#ifndef SOAKWATCH_SCORE_H
#define SOAKWATCH_SCORE_H

#include <stddef.h>
#include <stdint.h>

/* A span of seconds [from, to). */
typedef struct bt_span {
    int64_t from, to;
} bt_span;

/* The spans of one combination, every rule's firings in one list, in the
 * order they were evaluated (by instant). Grows with firings, never with
 * events. */
typedef struct bt_spans {
    bt_span *s;
    int *rule;
    size_t n, cap;
    int64_t open[64]; /* per rule: the instant of the current firing, or INT64_MIN */
    int oom;          /* a firing could not be kept: the figures are not given */
} bt_spans;

void spans_init(bt_spans *sp);
void spans_free(bt_spans *sp);
/* A transition of rule r at T. */
void spans_transition(bt_spans *sp, int r, int64_t T, int firing);
/* Close the firings still open at end_s (the instant after the last
 * written), and keep of each firing its part in [from_s, end_s): a firing
 * under way at from_s (the first instant written) counts from it; one
 * that ends by from_s or begins at end_s or later is dropped. */
void spans_close(bt_spans *sp, int64_t from_s, int64_t end_s);

typedef struct bt_incident {
    int64_t from, to; /* seconds, [from, to) */
} bt_incident;

typedef struct bt_score {
    int64_t triggers;      /* firing transitions */
    int64_t firing_s;      /* sum over rules of the seconds firing */
    int64_t off_s;         /* seconds during which any rule fired: the flag off */
    int64_t false_alarms;  /* firings that began outside every incident */
    int64_t detected, missed;
    double delay_mean_s;   /* over the incidents detected; NAN when none */
    int64_t delay_max_s;   /* -1 when none */
} bt_score;

/* A row of a backtest: 0 the config as given, i combination i. */
typedef struct bt_row {
    int id;
    bt_score sc;
} bt_row;

/* Score the closed spans against n incidents (sorted or not); delays[i]
 * gets incident i's delay, or -1 when missed (delays may be NULL). */
void score_spans(const bt_spans *sp, const bt_incident *inc, int n, bt_score *out,
                 int64_t *delays);

#endif
