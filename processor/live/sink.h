/* sink.h: where output events and dead letters go: a file (JSON Lines),
 * the output topic, or both; the producer, its delivery reports, and the
 * redelivery outbox.
 *
 * Invariants: every output is written or produced in the order the engine
 * emitted it; a message whose produce is refused or whose delivery fails is
 * kept and produced again, headers and all, until delivered (or, with the
 * outbox full, counted as lost and logged); sink_settled says when every
 * attempt so far is answered and nothing waits for redelivery, which is
 * what a commit of the input offsets requires (docs/operations.md,
 * "Delivery"). No allocation per message but on the failure path.
 */
#ifndef SOAKWATCH_SINK_H
#define SOAKWATCH_SINK_H

#include <stdint.h>
#include <stdio.h>

#include "../config.h"
#include "../counters.h"
#include "../engine.h"
#include "parts.h"

#define SINK_OUTBOX_CAP 32768 /* more than the producer holds when reading stops */
#define SINK_BUSY_HIGH 20000 /* stop reading input above this many queued outputs */
#define SINK_BUSY_LOW 5000   /* and read again below this */
#define SINK_HEADERS 8       /* of an output: type, schema_version, six CloudEvents ones */

typedef struct sw_sink sw_sink;

typedef struct sink_opts {
    FILE *out;                     /* JSON Lines (or text) of the outputs, or NULL */
    const char *topic;             /* output topic, or NULL: no producer */
    const char *dead_letter_topic; /* NULL or "": rejected input is not copied */
    int outbox_cap;                /* 0: SINK_OUTBOX_CAP */
    sw_tap_fn tap;                 /* called with every output written, or NULL */
    void *tap_ud;
} sink_opts;

/* Returns NULL with one line in errstr. counters is borrowed: the sink
 * counts outputs written, delivered, failed and dead-lettered there. */
sw_sink *sink_create(const sw_config *cfg, const sink_opts *o, sw_counters *c, char *errstr,
                     size_t errlen);
/* Purges what the producer still holds. Accepts NULL. */
void sink_destroy(sw_sink *s);

/* The engine's emit function (ud: the sink). */
void sink_output(void *ud, const sw_output *o);

/* Copy a rejected input message to the dead-letter topic, when there is one. */
void sink_dead_letter(sw_sink *s, const sw_reject *r);

/* Serve delivery reports (non-blocking). */
void sink_serve(sw_sink *s);
/* Produce again what the outbox keeps, oldest first. */
void sink_retry(sw_sink *s);

/* Reading input must wait: the producer's queue is above SINK_BUSY_HIGH, or
 * something waits for redelivery. */
int sink_busy(const sw_sink *s);
/* The queue has drained below SINK_BUSY_LOW and nothing waits. */
int sink_drained(const sw_sink *s);
/* Every attempt answered, nothing waiting for redelivery. */
int sink_settled(const sw_sink *s);

/* Wait up to timeout_ms for every queued message to be answered. Returns
 * the number still queued (0: all answered). */
int sink_flush(sw_sink *s, int timeout_ms);
/* Flush the file. Returns 0, or -1 once any write to it failed. */
int sink_file_flush(sw_sink *s);

/* The producer's wake-up descriptor, or -1 without a producer. */
int sink_fd(const sw_sink *s);
/* 1 (with the text) after a fatal producer error. */
int sink_fatal(sw_sink *s, char *errstr, size_t errlen);
/* 1 when the producer sees every broker down. */
int sink_brokers_down(const sw_sink *s);
/* Outputs and dead letters given up (outbox full or memory short). */
uint64_t sink_lost(const sw_sink *s);
/* Attempts made and answered: for tests and the shutdown line. */
void sink_attempts(const sw_sink *s, uint64_t *produced, uint64_t *answered);

#endif
