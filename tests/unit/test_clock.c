/* test_clock.c: the live clock against a wall clock that drifts, steps
 * forward and steps back: it never jumps, never runs backwards, moves with
 * the monotonic clock within 1%, reports each step once, and converges. */
#include <stdint.h>
#include <stdio.h>

#include "check.h"
#include "clock.h"

static void test_follows_a_steady_wall_clock(void)
{
    sw_clock c = {0};
    int64_t step;
    CHECK_INT(sw_clock_now(&c, 1000000, 5000, &step), 1000000);
    CHECK_INT(step, 0);
    for (int64_t t = 1; t <= 100; t++)
        CHECK_INT(sw_clock_now(&c, 1000000 + t * 1000, 5000 + t * 1000, &step), 1000000 + t * 1000);
    CHECK_INT(c.steps, 0);
}

static void test_step_forward_is_slewed_not_jumped(void)
{
    sw_clock c = {0};
    int64_t step, prev = sw_clock_now(&c, 0, 0, &step);
    int reported = 0;
    /* at 10 s the wall clock jumps 600 s ahead */
    for (int64_t t = 1; t <= 200000; t++) {
        int64_t wall = t * 1000 + (t >= 10 ? 600000 : 0);
        int64_t now = sw_clock_now(&c, wall, t * 1000, &step);
        if (step) {
            reported++;
            CHECK_INT(step, 600000);
        }
        /* one second of monotonic time: 990..1010 ms of clock */
        CHECK(now - prev >= 990 && now - prev <= 1010);
        prev = now;
    }
    CHECK_INT(reported, 1);
    /* 600 s at 10 ms per s: caught up after 60,000 s */
    CHECK_INT(prev, 200000 * 1000 + 600000);
}

static void test_step_back_never_runs_backwards(void)
{
    sw_clock c = {0};
    int64_t step, prev = sw_clock_now(&c, 1000000, 0, &step);
    int reported = 0;
    for (int64_t t = 1; t <= 1000; t++) {
        int64_t wall = 1000000 + t * 1000 - (t >= 5 ? 600000 : 0);
        int64_t now = sw_clock_now(&c, wall, t * 1000, &step);
        reported += step != 0;
        if (step)
            CHECK_INT(step, -600000);
        CHECK(now > prev);
        CHECK(now - prev >= 990);
        prev = now;
    }
    CHECK_INT(reported, 1);
    CHECK_INT(c.steps, 1);
}

static void test_small_drift_is_followed_without_a_report(void)
{
    sw_clock c = {0};
    int64_t step, now = 0;
    sw_clock_now(&c, 0, 0, &step);
    /* NTP slews at most 0.05%: 500 us per second */
    for (int64_t t = 1; t <= 3600; t++) {
        now = sw_clock_now(&c, t * 1000 + t / 2, t * 1000, &step);
        CHECK_INT(step, 0);
    }
    CHECK(now - (3600 * 1000 + 1800) <= 10 && now - (3600 * 1000 + 1800) >= -10);
    CHECK_INT(c.steps, 0);
}

int main(void)
{
    test_follows_a_steady_wall_clock();
    test_step_forward_is_slewed_not_jumped();
    test_step_back_never_runs_backwards();
    test_small_drift_is_followed_without_a_report();
    CHECK_DONE();
}
