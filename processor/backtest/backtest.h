/* backtest.h: `soakwatch backtest` (docs/semantics.md section 13): one
 * pass over a recording judges every combination of a sweep of rule
 * parameters over one set of windows, and says for each what it would
 * have fired, for how long the flag would have been off, and, against
 * known incidents, how late it would have seen them and how many false
 * alarms it would have raised.
 *
 * The recording is a file (read here, through the file replay) or a
 * recorded topic, read by a source the caller makes: backtest does not
 * know how a topic is read, only that each read starts over. */
#ifndef SOAKWATCH_BACKTEST_H
#define SOAKWATCH_BACKTEST_H

#include <stdint.h>

#include "../config.h"
#include "../replay.h"

/* A recording that can be read more than once, each time from its start. */
typedef struct bt_source {
    const char *name; /* what is read, as messages and the page's title name it */
    /* Where a replay with config cfg starts reading (a topic's record
     * time); combinations with the same start and lateness share a pass.
     * NULL: every config reads the same. */
    int64_t (*start_of)(void *ud, const sw_config *cfg);
    /* Read the recording once into f, whose create makes the engine and
     * whose bind hands it the sink; start as start_of gave it; progress -1
     * auto, 0 off, 1 on. Returns 0, or the exit status after one line on
     * stderr naming the problem. */
    int (*read)(void *ud, const sw_config *cfg, int64_t start, int progress,
                const file_replay_follower *f);
    void (*release)(void *ud); /* NULL: nothing to release */
    void *ud;
} bt_source;

/* --brokers B --topic T --from TIME [--to TIME], as given. */
typedef struct bt_topic_args {
    const char *brokers, *topic, *from, *to;
} bt_topic_args;

/* Makes the source of a recorded topic, read exactly as `soakwatch replay
 * --brokers B --topic T --from TIME [--to TIME]` reads it. Returns 0, or
 * the exit status after one line on stderr. */
typedef int (*bt_topic_fn)(const bt_topic_args *a, bt_source *out);

/* argv[0] is "backtest"; topic makes the source of --brokers/--topic.
 * Returns the exit status: 0, 1 when the input cannot be read, 2 for
 * unusable arguments, a bad config or sweep. */
int backtest_main(int argc, char **argv, bt_topic_fn topic);

#endif
