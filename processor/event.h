/* event.h: one input telemetry event, decoded, and the decoder's verdicts.
 *
 * The decoder reads the flat event object straight from its bytes and hands
 * anything it does not fully understand to jansson; either way the verdict
 * and the fields are exactly those of the jansson reading (dec_parse_ref).
 */
#ifndef SOAKWATCH_EVENT_H
#define SOAKWATCH_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "labels.h"

/* Verdicts, in the order the checks are made. */
typedef enum dec_verdict {
    DEC_OK = 0,              /* a known event, valid */
    DEC_IGNORED,             /* valid JSON object, `event` a string naming no known event */
    DEC_REJ_TOO_LARGE,       /* message larger than the configured cap */
    DEC_REJ_INVALID_JSON,    /* not valid JSON (jansson's reading) */
    DEC_REJ_NOT_OBJECT,      /* valid JSON, but not an object */
    DEC_REJ_EVENT,           /* `event` missing or not a string */
    DEC_REJ_TS,              /* `ts` missing or unparseable */
    DEC_REJ_DURATION,        /* succeeded/fallback without finite durationMs >= 0 */
    DEC_REJ_STATUS,          /* `status` present, not an integer in 100..599 */
    DEC_REJ_TIME_CONSTRAINT, /* `meetsTimeConstraint` present, not a boolean */
    DEC_VERDICT_COUNT
} dec_verdict;

/* Stable short names of the verdicts (metric labels, summary line). */
const char *dec_verdict_name(dec_verdict v);

enum sw_event_kind {
    SW_EV_REQUESTED = 0,
    SW_EV_SUCCEEDED = 1,
    SW_EV_FALLBACK = 2,
    SW_EV_DECLINED = 3,
};

/* A decoded event. Fields not named by the verdict's event are zero/absent. */
typedef struct sw_event {
    int64_t ts_ms;       /* event time, ms since the epoch (may be out of range: the engine checks) */
    double duration_ms;  /* valid when has_duration */
    int32_t status;      /* 0 when absent */
    uint8_t kind;        /* enum sw_event_kind */
    uint8_t has_duration;
    int8_t tc;           /* meetsTimeConstraint: 1, 0, or -1 when absent */
    uint8_t strategy;    /* label index in cfg strategies, n = other, LABEL_NONE when absent/not a string */
    uint8_t reason;      /* label index in cfg reasons, n = other, LABEL_NONE when absent/not a string */
    uint8_t reason_internal_error; /* reason is exactly "internal_error" */
} sw_event;

/* What the decoder needs to know: event names, label lists, size cap. */
typedef struct dec_config {
    const char *event_names[4]; /* indexed by enum sw_event_kind */
    const sw_labels *strategies;
    const sw_labels *reasons;
    size_t max_message_bytes;
} dec_config;

/* Decode one message (no NUL terminator needed). Never allocates on the fast
 * path; may call jansson (which allocates) for inputs it hands over.
 * Returns the verdict; `out` is filled only for DEC_OK. */
dec_verdict dec_parse(const dec_config *cfg, const char *buf, size_t len, sw_event *out);

/* The reference reading through a jansson tree: the meaning of dec_parse. */
dec_verdict dec_parse_ref(const dec_config *cfg, const char *buf, size_t len, sw_event *out);

/* Parse an RFC 3339 timestamp ("2026-11-26T10:00:00.123Z", offsets allowed,
 * digits beyond milliseconds truncated) to ms since the epoch. Returns 0, or
 * -EINVAL when the text is not one. */
int dec_rfc3339_parse(const char *s, size_t len, int64_t *ms_out);

/* Format ms since the epoch as RFC 3339 UTC with milliseconds
 * ("2026-11-26T10:00:00.123Z") into buf (>= 32 bytes). Returns the length. */
size_t dec_rfc3339_format(int64_t ms, char *buf, size_t cap);

#endif
