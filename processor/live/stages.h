/* stages.h: the way the output events go, shared by the drivers: the
 * engine, then the soak cadence (when `soak` is on), then the Alertmanager
 * alerts (when `alertmanager` is on and the driver posts alerts), then the
 * sink. Each stage hands every event on to the next, after what it adds.
 *
 * Invariant: the chain is built in one place, so every driver orders the
 * stages the same way; the drivers own what is built and destroy it.
 */
#ifndef SOAKWATCH_STAGES_H
#define SOAKWATCH_STAGES_H

#include <stddef.h>

#include "../config.h"
#include "../counters.h"
#include "../engine.h"
#include "../report/soak.h"
#include "alerts.h"
#include "sink.h"

typedef struct sw_stages {
    sw_engine *e;
    soak_follower *soak; /* NULL when off */
    sw_alerts *alerts;   /* NULL when off */
} sw_stages;

/* Build the engine and the stages between it and sink. Returns 0, or -1
 * with errstr; what was built is in st either way (destroy each). */
int stages_open(sw_stages *st, const sw_config *cfg, sw_counters *c, sw_sink *sink,
                int with_alerts, char *errstr, size_t errlen);

#endif
