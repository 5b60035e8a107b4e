/* correlate.h: derived latency (docs/semantics.md section 9.6). Pending
 * requests by key in a fixed table, in the order they became pending; an
 * outcome takes its request out and, when their times are close enough,
 * gets the difference as its duration. Memory fixed at create. */
#ifndef SOAKWATCH_CORRELATE_H
#define SOAKWATCH_CORRELATE_H

#include <stddef.h>
#include <stdint.h>

typedef struct sw_corr_stats {
    uint64_t matched, unmatched, duplicate, evicted, expired, unkeyed;
} sw_corr_stats;

typedef struct sw_corr sw_corr;

/* A table of `size` pending requests (>= 1) pairing within max_latency_ms.
 * Returns NULL when out of memory. Caller frees with corr_destroy (NULL
 * accepted). */
sw_corr *corr_create(int64_t size, int64_t max_latency_ms);
void corr_destroy(sw_corr *c);

/* Bytes held: 24 per entry, 8 to 16 per entry of index. */
size_t corr_bytes(const sw_corr *c);

/* A request at ts_ms: pending under key (has_key 0: counted unkeyed). */
void corr_request(sw_corr *c, int has_key, uint64_t key, int64_t ts_ms);

/* An outcome at ts_ms. Returns 1 and the duration in *dur_ms when it
 * matched a pending request within the bound, else 0. */
int corr_outcome(sw_corr *c, int has_key, uint64_t key, int64_t ts_ms, int64_t *dur_ms);

const sw_corr_stats *corr_stats(const sw_corr *c);

#endif
