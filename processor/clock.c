/* clock.c: the monotonic clock, anchored at the wall clock and slewed
 * toward it. Invariant: between two calls the result moves forward by the
 * monotonic time passed, plus or minus at most 1% of it. */
#include "clock.h"

int64_t sw_clock_now(sw_clock *c, int64_t wall_ms, int64_t mono_ms, int64_t *step_ms)
{
    *step_ms = 0;
    if (!c->started) {
        c->started = 1;
        c->offset_ms = wall_ms - mono_ms;
        c->last_mono_ms = mono_ms;
        return wall_ms;
    }
    int64_t passed = mono_ms - c->last_mono_ms;
    if (passed < 0)
        passed = 0;
    c->last_mono_ms = mono_ms;
    int64_t diff = wall_ms - (mono_ms + c->offset_ms);
    int64_t mag = diff < 0 ? -diff : diff;
    if (mag >= SW_CLOCK_STEP_MS && !c->in_step) {
        c->in_step = 1;
        c->steps++;
        *step_ms = diff;
    } else if (mag < SW_CLOCK_STEP_MS / 2) {
        c->in_step = 0;
    }
    int64_t room = passed / SW_CLOCK_SLEW_DIV;
    if (diff > room)
        diff = room;
    if (diff < -room)
        diff = -room;
    c->offset_ms += diff;
    return mono_ms + c->offset_ms;
}
