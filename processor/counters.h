/* counters.h: what the pipeline around the engine counts, for the summary
 * line, /metrics and /status. Written by the one thread that runs the
 * pipeline; read on the same thread (the HTTP server shares its loop). */
#ifndef SOAKWATCH_COUNTERS_H
#define SOAKWATCH_COUNTERS_H

#include <stdint.h>

#include "event.h"

#define SW_MAX_PARTITIONS 256

typedef struct sw_counters {
    uint64_t messages;                      /* every message/line read */
    uint64_t verdicts[DEC_VERDICT_COUNT];   /* by decoder verdict (DEC_OK, DEC_IGNORED, rejects) */
    uint64_t outputs_written;               /* output events handed to the sink */
    uint64_t outputs_delivered;             /* acknowledged by the broker (live) */
    uint64_t delivery_failures;             /* permanently failed deliveries (live) */
    uint64_t dead_lettered;                 /* rejected messages copied to the dead-letter topic */
    int live;                               /* 1 in Kafka mode */
    int ready;                              /* windows rebuilt, broker reachable */
    int n_partitions;                       /* input partitions (live) */
    int64_t consumer_lag[SW_MAX_PARTITIONS];/* high watermark - position, -1 unknown */
    double watermark_lag_s;                 /* wall clock - watermark, NAN when unknown */
    int64_t started_unix_s;
    uint64_t control_rejected;              /* control messages/lines refused (live) */
    uint64_t control_acks;                  /* acknowledgements queued to the engine (live) */
    uint64_t input_pauses;                  /* input partitions paused with a full staging ring */
    uint64_t fetch_wakeups;                 /* librdkafka's fetcher woken after its queue filled */
    uint64_t input_interruptions;           /* broker connections lost while consuming */
    uint64_t input_overflow;                /* events of one message beyond a staging ring */
    int64_t soak_hour;                      /* last soak hour updated: 0 none yet, -1 off */
    int soak_last_status;                   /* its worst status: 0 green..2 red, -1 none */
    uint64_t soak_updates, soak_verdicts;   /* soak_update / soak_verdict events emitted */
    int soak_verdict;                       /* the last verdict emitted: 0 go, 1 no_go,
                                               2 pending, -1 none yet */
    int64_t soak_verdict_hour;              /* its soak hour (24 or soak.hours), 0 none yet */
    int am_enabled;                         /* alerts are posted to Alertmanager */
    uint64_t am_posts_ok, am_posts_failed;  /* its HTTP POSTs, by outcome */
} sw_counters;

#endif
