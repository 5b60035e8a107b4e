/* live.h: the long-running modes: `soakwatch run` (Kafka to Kafka, or stdin
 * to stdout when no brokers are configured) and `soakwatch replay` of a
 * recorded Kafka topic. Both return a process exit status. */
#ifndef SOAKWATCH_LIVE_H
#define SOAKWATCH_LIVE_H

#include <stdint.h>
#include <stdio.h>

#include "config.h"

/* soakwatch run: one libev loop until SIGTERM/SIGINT (exit 0) or a fatal
 * error (exit 1 with one line on stderr). Acknowledgements of latched
 * triggers come from cfg->control_topic (Kafka mode) or, in stdin mode,
 * from control_path, read at start and followed for appended lines (NULL:
 * none; a file that cannot be opened exits 2). Both are borrowed. */
int live_run(const sw_config *cfg, const char *control_path);

/* The process's arguments (borrowed for its lifetime), for `run` to start
 * over as a new process when the input topic changes shape (partitions
 * added, the topic deleted and created again). */
void live_set_argv(char *const *argv);

typedef struct kafka_replay_opts {
    const char *topic;        /* recorded input topic */
    int64_t from_ms;          /* first instant written (ms, rounded up to a second) */
    int64_t to_ms;            /* last instant written, or -1: up to the end of the topic at start */
    FILE *out;                /* JSON Lines (or text) sink, or NULL */
    int text;                 /* render for a person instead of JSON */
    const char *output_topic; /* also (or only) produce there, or NULL */
} kafka_replay_opts;

/* soakwatch replay --brokers ... --topic T --from TIME: returns 0, or 2 with
 * one line on stderr for unusable arguments, 1 for broker failures. */
int kafka_replay_run(const sw_config *cfg, const kafka_replay_opts *opts);

#endif
