/* commit.h: when the consumer group's offsets are committed, and which.
 * Pure: the positions, the delivery state and the time come in as
 * arguments; the caller asks Kafka.
 *
 * Invariant: an offset is committed only when every output emitted before
 * the events at it were handed on has been answered and nothing waits for
 * redelivery (the caller's `settled`), so the group's committed position
 * never runs ahead of what the output topic holds. A commit that failed,
 * or went unanswered for COMMIT_RETRY_MS, is asked again.
 */
#ifndef SOAKWATCH_COMMIT_H
#define SOAKWATCH_COMMIT_H

#include <stdint.h>

#define COMMIT_RETRY_MS 5000 /* a commit unanswered this long is asked again */

typedef struct sw_commit {
    int n;
    int64_t *committed;       /* per partition: last asked, -1 to ask again */
    int64_t sent_ms;          /* when the last commit was asked */
    uint64_t failed_seen;     /* failed answers already acted on */
} sw_commit;

/* What the consumer reports of its commits. */
typedef struct commit_state {
    uint64_t asked, answered, failed;
} commit_state;

/* Returns 0, or -1 when memory is short. */
int commit_init(sw_commit *c, int n);
void commit_free(sw_commit *c);

/* Given the fed positions (next offset per partition of everything handed
 * to the engine; < 0 unknown), whether delivery is settled, the consumer's
 * commit state and now: fill want[] with the positions to commit (-1:
 * unchanged, skipped) and return 1 when something is to be committed, else
 * 0. Call commit_sent after asking. */
int commit_plan(sw_commit *c, const int64_t *fed, int settled, const commit_state *st,
                int64_t now_ms, int64_t *want);

/* The positions in want[] were asked at now_ms. */
void commit_sent(sw_commit *c, const int64_t *want, int64_t now_ms);

#endif
