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
#include "../replay.h"

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
    int progress;             /* -1 auto (stderr is a terminal), 0 off, 1 on */
    int64_t read_from_ms;     /* record time reading starts at, or INT64_MIN: as
                                 kafka_replay_read_from_ms gives it */
} kafka_replay_opts;

/* soakwatch replay --brokers ... --topic T --from TIME: returns 0, or 2 with
 * one line on stderr for unusable arguments, 1 for broker failures. */
int kafka_replay_run(const sw_config *cfg, const kafka_replay_opts *opts);

/* Where a replay with cfg starts reading the topic (record time, ms): far
 * enough before from_ms to rebuild its windows (docs/semantics.md section 3). */
int64_t kafka_replay_read_from_ms(const sw_config *cfg, const kafka_replay_opts *opts);

/* The same replay with a follower of the output stream instead of the
 * output stages (as file_replay_run_followed: f->create makes the engine,
 * every output event goes to f->emit, f->bind hands it the sink); a
 * backtest reads a topic through it. */
int kafka_replay_run_followed(const sw_config *cfg, const kafka_replay_opts *opts,
                              const file_replay_follower *f);

#endif
