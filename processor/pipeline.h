/* pipeline.h: one input message through the decoder into the engine, with
 * every outcome counted. Shared by file replay, stdin run and Kafka input. */
#ifndef SOAKWATCH_PIPELINE_H
#define SOAKWATCH_PIPELINE_H

#include <stddef.h>

#include "config.h"
#include "counters.h"
#include "engine.h"
#include "event.h"

/* The decoder's view of a config (borrows the config's strings). */
void pipeline_dec_config(const sw_config *cfg, dec_config *out);

typedef struct sw_feed_result {
    dec_verdict verdict;     /* the decoder's */
    sw_push_result pushed;   /* the engine's, when verdict == DEC_OK */
} sw_feed_result;

/* Decode one message and push it. Counts into c (messages, verdicts).
 * Never fails: bad input is counted. */
sw_feed_result pipeline_feed(sw_engine *e, const dec_config *dc, sw_counters *c,
                             const char *msg, size_t len);

/* The same, noting the message's source and offset for provenance. */
sw_feed_result pipeline_feed_from(sw_engine *e, const dec_config *dc, sw_counters *c,
                                  const char *msg, size_t len, int source, int64_t offset);

/* One summary line (no newline) of what was read: accepted; rejected by
 * reason; ignored; late; out of range; events written. */
void pipeline_summary(const sw_engine *e, const sw_counters *c, char *out, size_t cap);

#endif
