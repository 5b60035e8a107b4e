/* live.h: the long-running modes, one driver each, sharing one libev loop
 * (loop.h) and the parts below it (source, sink, commit, history,
 * control_in): `soakwatch run` from Kafka to Kafka (run_kafka.c) or from
 * stdin to stdout (run_stdin.c), and `soakwatch replay` of a recorded
 * topic (kafka_replay.c). Each returns a process exit status. */
#ifndef SOAKWATCH_LIVE_H
#define SOAKWATCH_LIVE_H

#include <stdint.h>
#include <stdio.h>

#include "../config.h"

/* soakwatch run with brokers: until SIGTERM/SIGINT (exit 0) or a fatal
 * error (exit 1 with one line on stderr; 2 for unusable arguments).
 * Acknowledgements come from cfg->control_topic. */
int run_kafka(const sw_config *cfg);

/* soakwatch run without brokers: stdin to stdout until end of input or a
 * signal. Acknowledgements come from control_path (NULL: none), read at
 * start and followed; a file that cannot be opened exits 2 (1 when memory
 * ran short). */
int run_stdin(const sw_config *cfg, const char *control_path);

/* The process's arguments (borrowed for its lifetime), for `run` to start
 * over as a new process when the input topic changes shape. */
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
