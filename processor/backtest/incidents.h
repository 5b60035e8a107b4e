/* incidents.h: a backtest's known incidents (docs/semantics.md section
 * 13), read from one file (plain or gzip JSON Lines) holding either form,
 * mixed: a span `{"start": TIME, "end": TIME}`, or soakwatch output
 * events, of which a `rollback_trigger` resolution carrying
 * `"acknowledged"` makes its firing (the latest firing before it of the
 * same rule and cohort) an incident: [firing at_ms, resolved at_ms), and
 * a `soak_verdict` with verdict no_go makes the period it judged one:
 * [soak_start_ms, at_ms), a later no_go of the same soak extending it.
 * Every other output event is skipped and counted. Invariant: every
 * incident kept has to > from (seconds, [from, to)). */
#ifndef SOAKWATCH_BT_INCIDENTS_H
#define SOAKWATCH_BT_INCIDENTS_H

#include "score.h"

typedef struct bt_inc_counts {
    int spans;   /* incidents from {"start", "end"} lines */
    int acked;   /* incidents from acknowledged resolutions */
    int verdicts;/* incidents from no_go soak verdicts, one per soak */
    long no_go;  /* no_go verdicts read (each made or extended one) */
    long events; /* output events read */
    long skipped;/* output events that made no incident */
} bt_inc_counts;

/* Read path into inc (at most max). Returns 0, or 2 after one line on
 * stderr naming the file, the line and the problem. */
int incidents_load(const char *path, bt_incident *inc, int max, int *n, bt_inc_counts *c);

#endif
