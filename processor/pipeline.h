/* pipeline.h: one input message through the decoder into the engine, with
 * every outcome counted. Shared by file replay, stdin run and Kafka input. */
#ifndef SOAKWATCH_PIPELINE_H
#define SOAKWATCH_PIPELINE_H

#include <stddef.h>

#include "config.h"
#include "counters.h"
#include "engine.h"
#include "event.h"

/* The decoder's view of a config (borrows the config's strings), with the
 * input mapping compiled when the config has one. Returns 0, or -1 with a
 * reason in errstr. Free with pipeline_dec_free. */
int pipeline_dec_config(const sw_config *cfg, dec_config *out, char *errstr, size_t errlen);
void pipeline_dec_free(dec_config *dc);

/* Decode for engine e: with cohorts kept first come (cohorts.max), the
 * decoder names values in the engine's table. Before any decoding. */
void pipeline_bind_engine(dec_config *dc, sw_engine *e);

/* Called for each event of a message that decoded to DEC_OK. */
typedef void (*pipeline_event_fn)(void *ud, const sw_event *ev);

/* The one decode-and-count path: count the message and each event's
 * verdict into c, hand every accepted event to fn. Returns the verdict
 * worth reporting for the message (pipeline_worst), DEC_IGNORED for a
 * message that held no event. Never fails: bad input is counted. */
dec_verdict pipeline_decode(const dec_config *dc, sw_counters *c, const char *msg, size_t len,
                            pipeline_event_fn fn, void *ud);

/* A message rejected as too large without being held (a line over the cap). */
void pipeline_count_oversized(sw_counters *c);

typedef struct sw_feed_result {
    dec_verdict verdict;     /* the decoder's: the first rejection among the
                                message's events, else the first verdict */
    sw_push_result pushed;   /* the engine's for the last event pushed */
    size_t events;           /* accepted events pushed */
} sw_feed_result;

/* Decode one message and push its events. Counts into c (messages,
 * verdicts, one per event). Never fails: bad input is counted. */
sw_feed_result pipeline_feed(sw_engine *e, const dec_config *dc, sw_counters *c,
                             const char *msg, size_t len);

/* The same, noting the message's source and offset for provenance. */
sw_feed_result pipeline_feed_from(sw_engine *e, const dec_config *dc, sw_counters *c,
                                  const char *msg, size_t len, int source, int64_t offset);

/* One summary line (no newline) of what was read: accepted; rejected by
 * reason; ignored; late; out of range; events written; then, when the
 * input mapping uses them, filtered events, correlation pairs and the
 * rules that were blind. */
void pipeline_summary(const sw_engine *e, const sw_counters *c, char *out, size_t cap);

/* The verdict worth reporting for a message: its first rejection, else its
 * first verdict. Start with DEC_VERDICT_COUNT. */
dec_verdict pipeline_worst(dec_verdict so_far, dec_verdict v);

#endif
