/* win.h: sliding event-time windows over a ring of per-second buckets.
 *
 * Pure computation: no I/O, no clock reads, no allocation after
 * win_ring_create. Time enters only as arguments (whole seconds). The
 * invariant kept: after win_ring_advance(r, T), window i holds exactly the
 * sum of the buckets of seconds T-W_i .. T-1.
 */
#ifndef SOAKWATCH_WIN_H
#define SOAKWATCH_WIN_H

#include <stddef.h>
#include <stdint.h>

/* Bounded label sets: strategies and fallback reasons are indexed
 * 0..n-1 by the configured lists, index n ("other") for anything else. */
#define WIN_MAX_LABELS 32
#define WIN_LABEL_NONE 0xff /* field absent: counted under no label */

/* Bounded number of distinct window lengths held at once. */
#define WIN_MAX_WINDOWS 16

/* Log-linear latency histogram, in units of 1/64 ms. Values below 2 ms
 * (128 units) have their own bin; each power-of-two range above is split
 * into 64 linear bins, so a bin is at most 1/64 of its lower bound wide and
 * its midpoint is within 0.8% of any value in it. The top bin is open ended
 * (values from about 35 minutes up). */
#define WIN_HIST_SUB 64
#define WIN_HIST_LINEAR 128
#define WIN_HIST_TOP_EXP 27 /* last bounded range: [2^26, 2^27) units */
#define WIN_HIST_BINS (WIN_HIST_LINEAR + (WIN_HIST_TOP_EXP - 7) * WIN_HIST_SUB + 1)

enum win_kind {
    WIN_REQUESTED = 0,
    WIN_SUCCEEDED = 1,
    WIN_FALLBACK = 2,
    WIN_DECLINED = 3,
};

/* One classified event, as the windows see it. */
typedef struct win_event {
    int64_t second;       /* floor(ts_ms / 1000) */
    uint64_t duration_us; /* outcomes with has_duration: durationMs held to the microsecond */
    uint32_t weight;      /* what the event counts for (>= 1): sampled input */
    uint8_t has_duration; /* outcomes: a duration is known */
    uint8_t informed;     /* fallbacks: carries a status or a reason */
    uint8_t kind;         /* enum win_kind */
    uint8_t is_error;     /* outcomes only: effective status >= 500 */
    int8_t tc;            /* succeeded only: meetsTimeConstraint 1/0, -1 absent */
    uint8_t strategy;     /* outcomes: label index, or WIN_LABEL_NONE */
    uint8_t reason;       /* fallbacks: label index, or WIN_LABEL_NONE */
} win_event;

/* Counts of one bucket or one window, sums of the events' weights; the
 * _obs counts are events as read (unweighted). Histogram bins live beside. */
typedef struct win_counts {
    uint64_t requests, outcomes, successes, errors, declined;
    uint64_t tc_true, tc_known;
    uint64_t timed;                /* outcomes with a duration */
    uint64_t latency_sum_us;       /* sum of weight x duration over those */
    uint64_t requests_obs, outcomes_obs, timed_obs, tc_known_obs;
    uint64_t informed_fallbacks;   /* fallbacks with a status or a reason (observed) */
    uint64_t strategies[WIN_MAX_LABELS + 1];
    uint64_t reasons[WIN_MAX_LABELS + 1];
} win_counts;

/* A read-only view of one window at the current instant. */
typedef struct win_view {
    const win_counts *c;
    const uint64_t *hist; /* WIN_HIST_BINS bins */
    int64_t window_s;
} win_view;

typedef struct win_ring win_ring;

/* Create a ring for the given window lengths (seconds, each >= 1) that
 * accepts events up to `lateness_s` seconds behind the newest one.
 * Allocates everything it will ever use and touches it, so resident memory
 * does not grow with traffic. Returns NULL on bad arguments or no memory,
 * with a reason in errstr. Caller frees with win_ring_destroy. */
win_ring *win_ring_create(const int64_t *windows_s, int n_windows, int64_t lateness_s,
                          char *errstr, size_t errlen);
void win_ring_destroy(win_ring *r);

/* Bytes allocated by the ring (for sizing and the memory benchmark). */
size_t win_ring_bytes(const win_ring *r);

/* Start the clock: the first instant is `t0` (no bucket before it holds
 * data). Must be called once before add/advance. */
void win_ring_start(win_ring *r, int64_t t0);

/* Add one event to its second's bucket. The second must lie in
 * [cursor, cursor + span) where cursor is the last instant advanced to and
 * span = max window + lateness + 2: returns 0, or -ERANGE and adds nothing. */
int win_ring_add(win_ring *r, const win_event *ev);

/* Move the current instant forward to T (>= the current one), one second
 * at a time: each step adds the bucket entering every window and subtracts
 * the one leaving it. Cost: O(seconds moved * windows), histograms only
 * over the bins a bucket touched. */
void win_ring_advance(win_ring *r, int64_t T);

/* The current instant (the T of the last advance, or t0). */
int64_t win_ring_now(const win_ring *r);

/* Latest second an event may have to be added now (cursor + span - 1). */
int64_t win_ring_horizon(const win_ring *r);

/* Slots in the ring (seconds of data it can hold at once). */
int64_t win_ring_span(const win_ring *r);

/* The counts of one second's bucket, for seconds from the current instant
 * to the horizon (the seconds still open to events); NULL for any other.
 * Read just before advancing past it, a second's counts are final. */
const win_counts *win_ring_second(const win_ring *r, int64_t second);

/* View of window i (0 <= i < n_windows), valid until the next call that
 * changes the ring. */
win_view win_ring_window(const win_ring *r, int i);

/* --- histogram helpers (also used on their own) --- */

/* Bin of a duration in microseconds. */
int win_hist_bin(uint64_t duration_us);
/* Representative value of a bin in milliseconds (its midpoint). */
double win_hist_bin_value_ms(int bin);
/* Nearest-rank percentile p (0 < p <= 1) of `n` values counted in `hist`:
 * the value of the bin holding the ceil(p*n)-th smallest. n must be > 0. */
double win_hist_percentile(const uint64_t *hist, uint64_t n, double p);

#endif
