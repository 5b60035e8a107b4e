/* replay.h: file replay: JSON Lines (plain or gzip) in, output events out,
 * one summary line on stderr. */
#ifndef SOAKWATCH_REPLAY_H
#define SOAKWATCH_REPLAY_H

#include <stdint.h>

#include "config.h"

typedef struct file_replay_opts {
    const char *input;   /* path, or "-" / NULL for stdin */
    const char *output;  /* path, or "-" / NULL for stdout */
    int text;            /* render for a person */
    int progress;        /* -1 auto (stderr is a terminal), 0 off, 1 on */
    const char *control; /* acknowledgements file, or NULL */
    int64_t start_ms;    /* coverage starts here at the latest (a live run's watch start),
                            or INT64_MIN: at the first event */
} file_replay_opts;

/* Returns the process exit status: 0, 2 when a file cannot be opened (one
 * line on stderr naming it), 1 when writing the output fails. */
int file_replay_run(const sw_config *cfg, const file_replay_opts *o);

#endif
