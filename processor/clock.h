/* clock.h: the live program's clock. Intervals and deadlines must not jump
 * when the wall clock is stepped (NTP, an operator), yet event time is wall
 * time. So the clock is the monotonic clock anchored at the wall clock, and
 * it follows the wall clock at most 1% faster or slower: a step is
 * detected, reported once, and slewed away, never jumped. Pure: both clocks
 * come in as arguments. */
#ifndef SOAKWATCH_CLOCK_H
#define SOAKWATCH_CLOCK_H

#include <stdint.h>

#define SW_CLOCK_STEP_MS 2000 /* a wall/monotonic disagreement this large is a step */
#define SW_CLOCK_SLEW_DIV 100 /* follow the wall clock at 1 ms per 100 ms */

typedef struct sw_clock {
    int started;
    int64_t offset_ms;   /* clock = monotonic + offset */
    int64_t last_mono_ms;
    int in_step;         /* a step is being slewed away */
    uint64_t steps;      /* steps detected */
} sw_clock;

/* The clock now, in ms since the epoch, given both clocks now. *step_ms is
 * set to the wall clock's disagreement when a new step is detected (the
 * caller logs it), else 0. Never fails. */
int64_t sw_clock_now(sw_clock *c, int64_t wall_ms, int64_t mono_ms, int64_t *step_ms);

#endif
