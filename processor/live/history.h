/* history.h: what the output topic says was published, read at start so
 * that a restart publishes after it and does not fire again what is
 * already firing.
 *
 * Invariant: the answer is the last instant published (-1: none) and each
 * rule's firing state as last published, over the whole topic and in each
 * cohort: the latest status, then the transitions after it, in time order. Reads from the start of the longest
 * window (and some statuses) before now up to each partition's end at
 * start; bounded in memory (the latest MAX_HISTORY_TRIGGERS transitions)
 * and in time (HISTORY_TIMEOUT_MS).
 */
#ifndef SOAKWATCH_HISTORY_H
#define SOAKWATCH_HISTORY_H

#include <stdint.h>

#include "../config.h"
#include "parts.h"

#define HISTORY_TIMEOUT_MS 30000
#define MAX_HISTORY_TRIGGERS 4096

typedef struct sw_history {
    int64_t last_at_ms;                /* -1: nothing published in the span */
    uint8_t published[SW_MAX_RULES];   /* firing as last published */
    /* the same for rule r in cohort c (docs/semantics.md section 12) */
    uint8_t cohort_published[SW_MAX_RULES][SW_MAX_COHORTS + 1];
    int64_t soak_start_ms;             /* of the latest soak_update in the span; -1: none */
    /* The values kept first come (cohorts.max), in the order kept: the
     * latest status's `cohorts`, then those of the triggers after it; each
     * judged from the instant it was first seen here. Cohort values.n + i. */
    int n_kept;
    char kept[SW_MAX_COHORTS][LABEL_NAME_MAX + 1];
    int64_t kept_from_s[SW_MAX_COHORTS];
} sw_history;

/* Read topic's recent history as of now (now_fn: the clock, for the
 * deadline). Returns 0 (a missing topic is an empty history), or -1 with
 * one line in errstr. */
int history_read(const sw_config *cfg, const char *topic, sw_now_fn now_fn, void *now_ud,
                 sw_history *out, char *errstr, size_t errlen);

/* Take one output event (JSON) into a history being built: for tests and
 * for history_read. */
typedef struct history_builder history_builder;
history_builder *history_builder_create(const sw_config *cfg);
void history_builder_take(history_builder *b, const char *json, size_t len);
/* Returns 0, or -ENOMEM when an event could not be read for want of memory:
 * out is then the empty history, for a history with a hole in it would
 * fire again what is firing or publish over what was published. */
int history_builder_finish(history_builder *b, sw_history *out);
void history_builder_destroy(history_builder *b);

#endif
