/* replay.h: file replay: JSON Lines (plain or gzip) in, output events out,
 * one summary line on stderr. */
#ifndef SOAKWATCH_REPLAY_H
#define SOAKWATCH_REPLAY_H

#include <stdint.h>

#include "config.h"
#include "counters.h"
#include "engine.h"

typedef struct file_replay_opts {
    const char *input;   /* path, or "-" / NULL for stdin */
    const char *output;  /* path, or "-" / NULL for stdout */
    int text;            /* render for a person */
    int progress;        /* -1 auto (stderr is a terminal), 0 off, 1 on */
    const char *control; /* acknowledgements file, or NULL */
    int64_t start_ms;    /* coverage starts here at the latest (a live run's watch start),
                            or INT64_MIN: at the first event */
} file_replay_opts;

/* A follower of the output stream (the soak cadence, wired by main.c,
 * since processor/ does not reach up into processor/report/): the engine
 * emits into emit(ud), and bind hands it the engine, the counters and the
 * sink it passes everything on to. */
typedef struct file_replay_follower {
    sw_emit_fn emit;
    void *ud;
    void (*bind)(void *ud, sw_engine *e, sw_counters *c, sw_emit_fn next, void *next_ud);
    /* How the engine is made (NULL: sw_engine_create); a backtest adds its
     * variants here. */
    sw_engine *(*create)(void *ud, const sw_config *cfg, sw_emit_fn emit, void *emit_ud,
                         char *errstr, size_t errlen);
} file_replay_follower;

/* The engine a follower makes (f->create), or by default one emitting to
 * f->emit: NULL with errstr when it cannot be made. */
sw_engine *file_replay_follower_engine(const file_replay_follower *f, const sw_config *cfg,
                                       char *errstr, size_t errlen);

/* Returns the process exit status: 0, 2 when a file cannot be opened (one
 * line on stderr naming it), 1 when writing the output fails. */
int file_replay_run(const sw_config *cfg, const file_replay_opts *o);
/* The same, with a follower of the output stream (NULL: none). */
int file_replay_run_followed(const sw_config *cfg, const file_replay_opts *o,
                             const file_replay_follower *f);

#endif
