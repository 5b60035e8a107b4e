/* win.c: the ring of per-second buckets and the running window sums.
 *
 * Invariant: after advancing to instant T, sums[i] == sum of the buckets of
 * seconds T-W_i .. T-1, and every ring slot not in [T-1-Wmax, horizon] is
 * zero. Each second moved costs one add and one subtract per window, over
 * the histogram bins the bucket touched only.
 */
#include "win.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct win_bucket {
    win_counts c;
    uint16_t lo, hi; /* touched histogram bins [lo, hi]; lo > hi when none */
} win_bucket;

struct win_ring {
    int n_windows;
    int64_t windows_s[WIN_MAX_WINDOWS];
    int64_t max_window_s;
    int64_t span;   /* slots in the ring */
    int64_t now;    /* current instant T */
    int started;
    win_bucket *buckets;  /* span buckets */
    uint32_t *bucket_hist;/* span * WIN_HIST_BINS */
    win_counts sums[WIN_MAX_WINDOWS];
    uint64_t *sum_hist;   /* n_windows * WIN_HIST_BINS: weighted counts can grow large */
    size_t bytes;
};

static int64_t slot_of(const win_ring *r, int64_t second)
{
    int64_t s = second % r->span;
    return s < 0 ? s + r->span : s;
}

win_ring *win_ring_create(const int64_t *windows_s, int n_windows, int64_t lateness_s,
                          char *errstr, size_t errlen)
{
    win_ring *r = NULL;
    if (n_windows < 1 || n_windows > WIN_MAX_WINDOWS) {
        snprintf(errstr, errlen, "between 1 and %d windows are supported, not %d",
                 WIN_MAX_WINDOWS, n_windows);
        return NULL;
    }
    if (lateness_s < 0 || lateness_s > 86400) {
        snprintf(errstr, errlen, "lateness %lld s is out of range 0..86400", (long long)lateness_s);
        return NULL;
    }
    r = calloc(1, sizeof(*r));
    if (r == NULL)
        goto err_nomem;
    r->n_windows = n_windows;
    for (int i = 0; i < n_windows; i++) {
        if (windows_s[i] < 1 || windows_s[i] > 7 * 86400) {
            snprintf(errstr, errlen, "window of %lld s is out of range 1..604800",
                     (long long)windows_s[i]);
            win_ring_destroy(r);
            return NULL;
        }
        r->windows_s[i] = windows_s[i];
        if (windows_s[i] > r->max_window_s)
            r->max_window_s = windows_s[i];
    }
    /* Slots needed: the oldest second still to be subtracted (T-1-Wmax)
     * through the newest an event may carry (T-1+lateness+1 after the
     * watermark rule), plus one for the step in progress. */
    r->span = r->max_window_s + lateness_s + 3;
    r->buckets = malloc((size_t)r->span * sizeof(*r->buckets));
    r->bucket_hist = malloc((size_t)r->span * WIN_HIST_BINS * sizeof(uint32_t));
    r->sum_hist = malloc((size_t)n_windows * WIN_HIST_BINS * sizeof(uint64_t));
    if (r->buckets == NULL || r->bucket_hist == NULL || r->sum_hist == NULL)
        goto err_nomem;
    /* Touch every page now: resident memory is fixed from the start. */
    memset(r->buckets, 0, (size_t)r->span * sizeof(*r->buckets));
    memset(r->bucket_hist, 0, (size_t)r->span * WIN_HIST_BINS * sizeof(uint32_t));
    memset(r->sum_hist, 0, (size_t)n_windows * WIN_HIST_BINS * sizeof(uint64_t));
    for (int64_t s = 0; s < r->span; s++) {
        r->buckets[s].lo = WIN_HIST_BINS;
        r->buckets[s].hi = 0;
    }
    r->bytes = sizeof(*r) + (size_t)r->span * (sizeof(*r->buckets) + WIN_HIST_BINS * sizeof(uint32_t)) +
               (size_t)n_windows * WIN_HIST_BINS * sizeof(uint64_t);
    return r;

err_nomem:
    snprintf(errstr, errlen, "out of memory for the window ring");
    win_ring_destroy(r);
    return NULL;
}

void win_ring_destroy(win_ring *r)
{
    if (r == NULL)
        return;
    free(r->buckets);
    free(r->bucket_hist);
    free(r->sum_hist);
    free(r);
}

size_t win_ring_bytes(const win_ring *r)
{
    return r->bytes;
}

void win_ring_start(win_ring *r, int64_t t0)
{
    assert(!r->started);
    r->started = 1;
    r->now = t0;
}

int64_t win_ring_span(const win_ring *r)
{
    return r->span;
}

int64_t win_ring_now(const win_ring *r)
{
    return r->now;
}

int64_t win_ring_horizon(const win_ring *r)
{
    return r->now + r->span - r->max_window_s - 2;
}

int win_hist_bin(uint64_t duration_us)
{
    /* Units of 1/64 ms: us * 64 / 1000 = us * 8 / 125. */
    uint64_t u = duration_us > (UINT64_MAX / 8) ? UINT64_MAX / 125 : duration_us * 8 / 125;
    if (u < WIN_HIST_LINEAR)
        return (int)u;
    int e = 63 - __builtin_clzll(u); /* 2^e <= u < 2^(e+1), e >= 7 */
    if (e >= WIN_HIST_TOP_EXP)
        return WIN_HIST_BINS - 1;
    int sub = (int)(u >> (e - 6)) - WIN_HIST_SUB;
    return WIN_HIST_LINEAR + (e - 7) * WIN_HIST_SUB + sub;
}

double win_hist_bin_value_ms(int bin)
{
    if (bin < WIN_HIST_LINEAR)
        return (bin + 0.5) / 64.0;
    if (bin >= WIN_HIST_BINS - 1)
        return (double)(1ULL << WIN_HIST_TOP_EXP) / 64.0;
    int e = (bin - WIN_HIST_LINEAR) / WIN_HIST_SUB + 7;
    int sub = (bin - WIN_HIST_LINEAR) % WIN_HIST_SUB;
    double width = (double)(1ULL << (e - 6));
    double lower = (double)(WIN_HIST_SUB + sub) * width;
    return (lower + width / 2.0) / 64.0;
}

double win_hist_percentile(const uint64_t *hist, uint64_t n, double p)
{
    assert(n > 0);
    uint64_t rank = (uint64_t)ceil(p * (double)n);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    uint64_t seen = 0;
    for (int b = 0; b < WIN_HIST_BINS; b++) {
        seen += hist[b];
        if (seen >= rank)
            return win_hist_bin_value_ms(b);
    }
    return win_hist_bin_value_ms(WIN_HIST_BINS - 1);
}

int win_ring_add(win_ring *r, const win_event *ev)
{
    assert(r->started);
    if (ev->second < r->now || ev->second > win_ring_horizon(r))
        return -ERANGE;
    int64_t s = slot_of(r, ev->second);
    win_bucket *b = &r->buckets[s];
    win_counts *c = &b->c;
    uint64_t w = ev->weight;
    switch (ev->kind) {
    case WIN_REQUESTED:
        c->requests += w;
        c->requests_obs++;
        return 0;
    case WIN_DECLINED:
        c->declined += w;
        return 0;
    case WIN_SUCCEEDED:
        c->successes += w;
        if (ev->tc >= 0) {
            c->tc_known += w;
            c->tc_known_obs++;
            c->tc_true += (uint64_t)ev->tc * w;
        }
        break;
    case WIN_FALLBACK:
        if (ev->reason != WIN_LABEL_NONE)
            c->reasons[ev->reason] += w;
        c->informed_fallbacks += ev->informed;
        break;
    default:
        return -EINVAL;
    }
    c->outcomes += w;
    c->outcomes_obs++;
    c->errors += ev->is_error * w;
    if (ev->strategy != WIN_LABEL_NONE)
        c->strategies[ev->strategy] += w;
    if (!ev->has_duration)
        return 0;
    c->timed += w;
    c->timed_obs++;
    c->latency_sum_us += ev->duration_us * w;
    int bin = win_hist_bin(ev->duration_us);
    r->bucket_hist[(size_t)s * WIN_HIST_BINS + (size_t)bin] += (uint32_t)w;
    if (bin < b->lo)
        b->lo = (uint16_t)bin;
    if (bin > b->hi)
        b->hi = (uint16_t)bin;
    return 0;
}

/* Add (sign +1) or subtract (-1) one bucket into a window sum. */
static void sum_apply(win_counts *sum, uint64_t *sum_hist, const win_bucket *b,
                      const uint32_t *bh, int sign)
{
    const uint64_t *src = (const uint64_t *)&b->c;
    uint64_t *dst = (uint64_t *)sum;
    size_t n = sizeof(win_counts) / sizeof(uint64_t);
    if (b->c.requests == 0 && b->c.outcomes == 0 && b->c.declined == 0)
        return; /* an empty second: nothing to move */
    if (sign > 0) {
        for (size_t i = 0; i < n; i++)
            dst[i] += src[i];
        for (int k = b->lo; k <= b->hi; k++)
            sum_hist[k] += bh[k];
    } else {
        for (size_t i = 0; i < n; i++) {
            assert(dst[i] >= src[i]);
            dst[i] -= src[i];
        }
        for (int k = b->lo; k <= b->hi; k++) {
            assert(sum_hist[k] >= bh[k]);
            sum_hist[k] -= bh[k];
        }
    }
}

static void bucket_clear(win_ring *r, int64_t slot)
{
    win_bucket *b = &r->buckets[slot];
    if (b->lo <= b->hi)
        memset(&r->bucket_hist[(size_t)slot * WIN_HIST_BINS + b->lo], 0,
               (size_t)(b->hi - b->lo + 1) * sizeof(uint32_t));
    memset(&b->c, 0, sizeof(b->c));
    b->lo = WIN_HIST_BINS;
    b->hi = 0;
}

void win_ring_advance(win_ring *r, int64_t T)
{
    assert(r->started);
    while (r->now < T) {
        /* Step from now to now+1: second `now` enters every window; second
         * now-W leaves window W. */
        int64_t enter = r->now;
        int64_t es = slot_of(r, enter);
        const uint32_t *eh = &r->bucket_hist[(size_t)es * WIN_HIST_BINS];
        for (int i = 0; i < r->n_windows; i++) {
            uint64_t *sh = &r->sum_hist[(size_t)i * WIN_HIST_BINS];
            sum_apply(&r->sums[i], sh, &r->buckets[es], eh, +1);
            int64_t leave = enter - r->windows_s[i];
            int64_t ls = slot_of(r, leave);
            sum_apply(&r->sums[i], sh, &r->buckets[ls],
                      &r->bucket_hist[(size_t)ls * WIN_HIST_BINS], -1);
        }
        /* The second that left the longest window is in none: recycle it. */
        bucket_clear(r, slot_of(r, enter - r->max_window_s));
        r->now++;
    }
}

const win_counts *win_ring_second(const win_ring *r, int64_t second)
{
    if (!r->started || second < r->now || second > win_ring_horizon(r))
        return NULL;
    return &r->buckets[slot_of(r, second)].c;
}

win_view win_ring_window(const win_ring *r, int i)
{
    win_view v;
    assert(i >= 0 && i < r->n_windows);
    v.c = &r->sums[i];
    v.hist = &r->sum_hist[(size_t)i * WIN_HIST_BINS];
    v.window_s = r->windows_s[i];
    return v;
}
