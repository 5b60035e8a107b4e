/* source.h: the Kafka input. Every partition of one topic, assigned from a
 * record time, read through one consumer queue into the merge (merge.h),
 * and released from the merge into the engine in event-time order.
 *
 * Invariants: a partition whose staging ring fills is paused (its items
 * already taken are held, in order) and resumed once the merge has taken
 * half of it; reading stops while the hooks say outputs are backed up; after
 * a lost broker connection or a pause for outputs, no partition counts as
 * read to its end until it shows itself again (merge_hold), and every
 * partition being fetched is sought to its next offset once the queue is
 * empty, so that the idle clock never moves past input that was not read.
 * A bounded source (replay) reads each partition up to its end at start and
 * has no clock. Nothing is allocated per message.
 */
#ifndef SOAKWATCH_SOURCE_H
#define SOAKWATCH_SOURCE_H

#include <stdint.h>

#include "../config.h"
#include "../counters.h"
#include "../engine.h"
#include "../pipeline.h"
#include "commit.h"
#include "parts.h"

typedef struct sw_source sw_source;

typedef struct source_hooks {
    void *ud;
    sw_now_fn now_ms;                               /* the clock */
    int (*busy)(void *ud);                          /* outputs backed up: stop reading */
    void (*reject)(void *ud, const sw_reject *r);   /* a message not taken (dead letter) */
} source_hooks;

typedef struct source_opts {
    const char *topic;
    int64_t from_ms;   /* each partition from its first record at or after this time */
    int bounded;       /* replay: up to each partition's end at start; no clock */
    int64_t idle_ms;   /* the merge's idle timeout */
} source_opts;

/* Consumer, partitions, their ends and start offsets, the merge. Not yet
 * reading: source_start. Returns NULL with one line in errstr. The config,
 * decoder config and counters are borrowed. */
sw_source *source_create(const sw_config *cfg, const dec_config *dc, const source_opts *o,
                         const source_hooks *h, sw_counters *c, char *errstr, size_t errlen);
void source_destroy(sw_source *s);

int source_partitions(const sw_source *s);

/* Start reading into engine e. Returns 0 or -1 with errstr. */
int source_start(sw_source *s, sw_engine *e, char *errstr, size_t errlen);

/* Read what the consumer queue holds (up to a budget), release into the
 * engine. Returns 1 on a fatal consumer error, else 0. */
int source_drain(sw_source *s);
/* The last drain stopped at its budget: call again soon. */
int source_more(const sw_source *s);
/* The last drain stopped because outputs were backed up. */
int source_paused(const sw_source *s);
/* Every partition read to its end with nothing staged. */
int source_done(const sw_source *s);

/* The idle clock (sw_time_idle) when every partition is at its end and
 * reading is not paused. */
void source_idle(sw_source *s, int64_t now_ms);

/* Look at the topic (at most every SOURCE_TOPIC_CHECK_MS, blocking up to
 * 500 ms): returns 1 when it changed shape (partitions added, deleted and
 * created again) and the run must start over, else 0. */
#define SOURCE_TOPIC_CHECK_MS 10000
int source_check_topic(sw_source *s, int64_t now_ms);

/* Next offset per partition of everything handed to the engine. */
void source_fed(const sw_source *s, int64_t *out);
/* Every partition fed up to its end at start; lag per partition into c. */
int source_caught_up(sw_source *s);

/* Commits through the consumer (commit.h plans them). */
int source_commit(sw_source *s, const int64_t *want, char *errstr, size_t errlen);
void source_commit_state(const sw_source *s, commit_state *st);
/* Serve the consumer (commit answers) for up to timeout_ms while commits
 * are unanswered; items read are dropped. */
void source_await_commits(sw_source *s, int timeout_ms);

int source_fd(const sw_source *s);

#endif
