/* control_in.h: acknowledgements arriving while soakwatch runs, from the
 * control topic (Kafka mode) or a followed control file (stdin mode).
 *
 * Invariants: the control topic is read from its end at start (messages
 * already there were instructions for a past this process did not see);
 * a control file is read from its start and followed, read again from its
 * start when replaced or truncated. Each acknowledgement goes to the
 * engine at the instant engine_time.h gives it; a refused one is counted
 * and logged by kind, never echoed (it could hold anything), the first few
 * and then every 1000th. Lines and messages over CONTROL_LINE_MAX bytes are
 * refused without being held.
 */
#ifndef SOAKWATCH_CONTROL_IN_H
#define SOAKWATCH_CONTROL_IN_H

#include <stdint.h>

#include "../config.h"
#include "../counters.h"
#include "../engine.h"

#define CONTROL_LINE_MAX 4096

typedef struct sw_control_in sw_control_in;

/* A consumer on every partition of cfg->control_topic from its end.
 * Returns NULL with one line in errstr. */
sw_control_in *control_in_topic(const sw_config *cfg, sw_counters *c, char *errstr,
                                size_t errlen);
/* Follow the file at path (borrowed). Returns NULL with errno set. */
sw_control_in *control_in_file(const sw_config *cfg, const char *path, sw_counters *c);
void control_in_destroy(sw_control_in *ci);

/* Take what has arrived, into engine e, as of now_ms. Returns 1 on a
 * fatal consumer error, else 0. */
int control_in_poll(sw_control_in *ci, sw_engine *e, int64_t now_ms);

/* The topic consumer's wake-up descriptor (-1 for a file). */
int control_in_fd(const sw_control_in *ci);

#endif
