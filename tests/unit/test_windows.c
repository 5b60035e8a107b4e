/* test_windows.c: the window ring and the histogram, against exact
 * expectations and against a naive recomputation on random streams. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "../../windows/win.h"
#include "check.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
    /* xorshift64*: deterministic, so a failure reproduces. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

static void test_hist_error_bound(void)
{
    /* Every value from 1 ms to 10 minutes lands in a bin whose
     * representative is within 1% of it. */
    double worst = 0;
    for (double ms = 1.0; ms <= 600000.0; ms *= 1.0007) {
        uint64_t us = (uint64_t)(ms * 1000.0 + 0.5);
        double rep = win_hist_bin_value_ms(win_hist_bin(us));
        double rel = fabs(rep - ms) / ms;
        if (rel > worst)
            worst = rel;
    }
    CHECK(worst <= 0.01);
    /* Bins are monotonic in the value. */
    int prev = -1, mono = 1;
    for (uint64_t us = 0; us < 700000000ULL; us = us * 1.01 + 1) {
        int b = win_hist_bin(us);
        if (b < prev)
            mono = 0;
        prev = b;
    }
    CHECK(mono);
    CHECK_INT(win_hist_bin(0), 0);
    CHECK_INT(win_hist_bin(UINT64_MAX), WIN_HIST_BINS - 1);
    CHECK(win_hist_bin(3600000000ULL) == WIN_HIST_BINS - 1); /* one hour: open top bin */
}

static void test_hist_percentile(void)
{
    uint64_t h[WIN_HIST_BINS] = {0};
    /* 100 values: 1..100 ms. Nearest rank p95 = 95th smallest = 95 ms. */
    for (int v = 1; v <= 100; v++)
        h[win_hist_bin((uint64_t)v * 1000)]++;
    CHECK_DBL(win_hist_percentile(h, 100, 0.95), 95.0, 95.0 * 0.01);
    CHECK_DBL(win_hist_percentile(h, 100, 0.99), 99.0, 99.0 * 0.01);
    CHECK_DBL(win_hist_percentile(h, 100, 1.0), 100.0, 1.0);
    /* One value: every percentile is it. */
    uint64_t one[WIN_HIST_BINS] = {0};
    one[win_hist_bin(5000000)]++;
    CHECK_DBL(win_hist_percentile(one, 1, 0.95), 5000.0, 50.0);
    /* 20 values, 19 fast and one slow: ceil(0.95*20) = 19th -> fast. */
    uint64_t tail[WIN_HIST_BINS] = {0};
    tail[win_hist_bin(100000)] += 19;
    tail[win_hist_bin(9000000)] += 1;
    CHECK_DBL(win_hist_percentile(tail, 20, 0.95), 100.0, 1.0);
    CHECK_DBL(win_hist_percentile(tail, 20, 0.99), 9000.0, 90.0);
}

static win_event ev_at(int64_t sec, int kind, uint64_t dur_us, int err)
{
    win_event e = {.second = sec, .duration_us = dur_us, .weight = 1,
                   .has_duration = kind == WIN_SUCCEEDED || kind == WIN_FALLBACK,
                   .kind = (uint8_t)kind, .is_error = (uint8_t)err, .tc = -1,
                   .strategy = WIN_LABEL_NONE, .reason = WIN_LABEL_NONE};
    return e;
}

static void test_ring_exact(void)
{
    char err[128];
    int64_t ws[] = {3, 5};
    win_ring *r = win_ring_create(ws, 2, 1, err, sizeof(err));
    CHECK(r != NULL);
    win_ring_start(r, 100);
    win_event e1 = ev_at(100, WIN_SUCCEEDED, 1000, 0);
    win_event e2 = ev_at(101, WIN_FALLBACK, 3000, 1);
    win_event e3 = ev_at(101, WIN_REQUESTED, 0, 0);
    CHECK_INT(win_ring_add(r, &e1), 0);
    CHECK_INT(win_ring_add(r, &e2), 0);
    CHECK_INT(win_ring_add(r, &e3), 0);
    /* Window at T holds T-W .. T-1. */
    win_ring_advance(r, 101);
    win_view v3 = win_ring_window(r, 0);
    CHECK_INT(v3.c->outcomes, 1);
    CHECK_INT(v3.c->requests, 0);
    win_ring_advance(r, 102);
    v3 = win_ring_window(r, 0);
    CHECK_INT(v3.c->outcomes, 2);
    CHECK_INT(v3.c->errors, 1);
    CHECK_INT(v3.c->requests, 1);
    CHECK_INT(v3.c->latency_sum_us, 4000);
    /* At 104 the 3 s window holds 101..103: e1 has left it; 5 s holds it. */
    win_ring_advance(r, 104);
    v3 = win_ring_window(r, 0);
    win_view v5 = win_ring_window(r, 1);
    CHECK_INT(v3.c->outcomes, 1);
    CHECK_INT(v5.c->outcomes, 2);
    win_ring_advance(r, 106);
    v5 = win_ring_window(r, 1);
    CHECK_INT(v5.c->outcomes, 1);
    win_ring_advance(r, 107);
    v5 = win_ring_window(r, 1);
    CHECK_INT(v5.c->outcomes, 0);
    uint64_t hsum = 0;
    for (int b = 0; b < WIN_HIST_BINS; b++)
        hsum += v5.hist[b];
    CHECK_INT(hsum, 0);
    /* Out of the ring's reach: before now, or past the horizon. */
    win_event old = ev_at(106, WIN_REQUESTED, 0, 0);
    CHECK_INT(win_ring_add(r, &old), -ERANGE);
    win_event far = ev_at(win_ring_horizon(r) + 1, WIN_REQUESTED, 0, 0);
    CHECK_INT(win_ring_add(r, &far), -ERANGE);
    win_event edge = ev_at(win_ring_horizon(r), WIN_REQUESTED, 0, 0);
    CHECK_INT(win_ring_add(r, &edge), 0);
    win_ring_destroy(r);
    win_ring_destroy(NULL);
}

static void test_ring_bad_args(void)
{
    char err[128] = "";
    int64_t ws[] = {0};
    CHECK(win_ring_create(ws, 1, 2, err, sizeof(err)) == NULL);
    CHECK(err[0] != '\0');
    int64_t ok[] = {10};
    CHECK(win_ring_create(ok, 0, 2, err, sizeof(err)) == NULL);
    CHECK(win_ring_create(ok, 1, -1, err, sizeof(err)) == NULL);
}

/* Property: on random streams with lateness, gaps and every event kind,
 * each window always equals the naive sum of the events in its range. */
#define NEV 30000
static win_event evs[NEV];

static void test_ring_property(void)
{
    char err[128];
    int64_t ws[] = {1, 4, 17, 60};
    const int64_t L = 3;
    win_ring *r = win_ring_create(ws, 4, L, err, sizeof(err));
    CHECK(r != NULL);
    int64_t t0 = 1000, maxs = t0, now = t0;
    int n = 0, mismatches = 0, checks = 0;
    win_ring_start(r, t0);
    for (int i = 0; i < NEV; i++) {
        /* Mostly forward in small steps, sometimes a gap, sometimes late. */
        uint64_t x = rnd() % 100;
        int64_t sec;
        if (x < 70)
            sec = maxs + (int64_t)(rnd() % 2);
        else if (x < 95)
            sec = maxs - (int64_t)(rnd() % (uint64_t)(L + 1));
        else
            sec = maxs + (int64_t)(rnd() % 90);
        if (sec < now)
            sec = now;
        if (sec > maxs) {
            maxs = sec;
            if (maxs - L > now)
                now = maxs - L;
        }
        win_ring_advance(r, now);
        win_event e = ev_at(sec, (int)(rnd() % 4), rnd() % 20000000, (int)(rnd() % 2));
        if (e.kind == WIN_REQUESTED || e.kind == WIN_DECLINED) {
            e.duration_us = 0;
            e.is_error = 0;
        }
        if (e.kind == WIN_SUCCEEDED)
            e.tc = (int8_t)(rnd() % 3) - 1;
        /* sampled input: weights; outcomes without a duration; fallbacks
         * with or without a status or reason */
        e.weight = 1 + (uint32_t)(rnd() % 3);
        if (e.kind == WIN_SUCCEEDED || e.kind == WIN_FALLBACK)
            e.has_duration = rnd() % 4 != 0;
        if (e.kind == WIN_FALLBACK)
            e.informed = rnd() % 2;
        if (e.kind != WIN_REQUESTED && e.kind != WIN_DECLINED)
            e.strategy = (rnd() % 5 == 0) ? WIN_LABEL_NONE : (uint8_t)(rnd() % 4);
        if (e.kind == WIN_FALLBACK)
            e.reason = (uint8_t)(rnd() % 3);
        CHECK_INT(win_ring_add(r, &e), 0);
        evs[n++] = e;
        if (i % 7 != 0)
            continue;
        for (int w = 0; w < 4; w++) {
            win_view v = win_ring_window(r, w);
            win_counts c;
            memset(&c, 0, sizeof(c));
            static uint64_t naive_hist[WIN_HIST_BINS];
            memset(naive_hist, 0, sizeof(naive_hist));
            for (int k = 0; k < n; k++) {
                if (evs[k].second < now - ws[w] || evs[k].second >= now)
                    continue;
                uint64_t w8 = evs[k].weight;
                switch (evs[k].kind) {
                case WIN_REQUESTED:
                    c.requests += w8;
                    c.requests_obs++;
                    break;
                case WIN_DECLINED: c.declined += w8; break;
                default:
                    c.outcomes += w8;
                    c.outcomes_obs++;
                    c.errors += evs[k].is_error * w8;
                    if (evs[k].has_duration) {
                        c.timed += w8;
                        c.timed_obs++;
                        c.latency_sum_us += evs[k].duration_us * w8;
                        naive_hist[win_hist_bin(evs[k].duration_us)] += w8;
                    }
                    if (evs[k].kind == WIN_SUCCEEDED) {
                        c.successes += w8;
                        if (evs[k].tc >= 0) {
                            c.tc_known += w8;
                            c.tc_known_obs++;
                            c.tc_true += (uint64_t)evs[k].tc * w8;
                        }
                    } else {
                        c.informed_fallbacks += evs[k].informed;
                    }
                    if (evs[k].strategy != WIN_LABEL_NONE)
                        c.strategies[evs[k].strategy] += w8;
                    if (evs[k].reason != WIN_LABEL_NONE)
                        c.reasons[evs[k].reason] += w8;
                }
            }
            checks++;
            if (memcmp(&c, v.c, sizeof(c)) != 0 || memcmp(naive_hist, v.hist, sizeof(naive_hist)) != 0) {
                if (mismatches++ < 5)
                    fprintf(stderr, "window %lld at %lld: outcomes %llu vs naive %llu\n",
                            (long long)ws[w], (long long)now,
                            (unsigned long long)v.c->outcomes, (unsigned long long)c.outcomes);
            }
        }
    }
    CHECK_INT(mismatches, 0);
    CHECK(checks > 10000);
    win_ring_destroy(r);
}

/* One second's bucket: readable from the current instant to the horizon,
 * holding exactly what was added for that second. */
static void test_ring_second(void)
{
    char err[128];
    int64_t ws[1] = {5};
    win_ring *r = win_ring_create(ws, 1, 2, err, sizeof(err));
    CHECK(r != NULL);
    if (r == NULL)
        return;
    win_ring_start(r, 100);
    win_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.kind = WIN_REQUESTED;
    ev.weight = 3;
    ev.second = 101;
    CHECK_INT(win_ring_add(r, &ev), 0);
    CHECK(win_ring_second(r, 99) == NULL);           /* before the instant */
    CHECK(win_ring_second(r, win_ring_horizon(r) + 1) == NULL);
    CHECK_INT(win_ring_second(r, 100)->requests, 0);
    CHECK_INT(win_ring_second(r, 101)->requests, 3);
    CHECK_INT(win_ring_second(r, 101)->requests_obs, 1);
    win_ring_advance(r, 101);
    CHECK_INT(win_ring_second(r, 101)->requests, 3);
    win_ring_advance(r, 102);
    CHECK(win_ring_second(r, 101) == NULL);          /* stepped past */
    win_ring_destroy(r);
}

int main(void)
{
    test_hist_error_bound();
    test_hist_percentile();
    test_ring_exact();
    test_ring_bad_args();
    test_ring_property();
    test_ring_second();
    CHECK_DONE();
}
