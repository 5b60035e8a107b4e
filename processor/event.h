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

/* The event-time range of the contract: 1970-01-01T00:00:00.000Z to
 * 9999-12-31T23:59:59.999Z (docs/semantics.md section 3). */
#define SW_TS_MAX_MS INT64_C(253402300799999)

/* a / b rounded toward minus infinity (b > 0): the second of a millisecond
 * time, the minute of a second, before the epoch too. */
static inline int64_t sw_floor_div(int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* Verdicts, in the order the checks are made. */
typedef enum dec_verdict {
    DEC_OK = 0,              /* a known event, valid */
    DEC_IGNORED,             /* valid JSON object, `event` a string naming no known event */
    DEC_FILTERED,            /* a known event an input filter leaves out (not a rejection) */
    DEC_REJ_TOO_LARGE,       /* message larger than the configured cap */
    DEC_REJ_ENVELOPE,        /* the configured envelope is not there */
    DEC_REJ_INVALID_JSON,    /* not valid JSON (jansson's reading) */
    DEC_REJ_NOT_OBJECT,      /* valid JSON, but not an object */
    DEC_REJ_EVENT,           /* `event` missing or not a string */
    DEC_REJ_TS,              /* `ts` missing or unparseable */
    DEC_REJ_DURATION,        /* succeeded/fallback without finite durationMs >= 0 */
    DEC_REJ_STATUS,          /* `status` present, not an integer in 100..599 */
    DEC_REJ_TIME_CONSTRAINT, /* `meetsTimeConstraint` present, not a boolean */
    DEC_REJ_WEIGHT,          /* the sample weight field present, not an integer 1..1000 */
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
    uint8_t reason_error; /* reason is one of input.error_reasons ("internal_error") */
    uint8_t informed;     /* carries a status or a string reason */
    uint8_t has_key;      /* key is set (input.correlate) */
    uint16_t cohort;      /* index in cfg cohorts.values, n = other; with cohorts.max, the
                             id of cohort_names (COHORT_ID_NONE: other); 0 when off */
    uint32_t weight;      /* 1..1000 (input.sample_weight) */
    uint64_t key;         /* hash of the correlation key's values */
} sw_event;

typedef struct dec_map dec_map;

/* What the decoder needs to know: event names, label lists, size cap, and
 * the input mapping (NULL: the flat contract of section 1, read by the
 * flat scanner). */
typedef struct dec_config {
    const char *event_names[4]; /* indexed by enum sw_event_kind */
    const sw_labels *strategies;
    const sw_labels *reasons;
    const sw_labels *cohorts; /* cohorts.values, or NULL when cohorts are off */
    struct cohort_names *cohort_names; /* with cohorts.max: the values by id (the
                                          engine's, sw_engine_cohort_names), else NULL */
    const char *cohort_key;   /* the flat contract's scanner: the cohort field when it is a
                                 top-level key (NULL: none, or read through map) */
    size_t max_message_bytes;
    dec_map *map;
} dec_config;

struct sw_input;

/* Compile an input mapping (docs/semantics.md section 9) for messages of up
 * to max_message_bytes. Returns NULL with a reason in errstr. The map holds
 * a scratch buffer: one thread decodes with it at a time. Caller frees
 * with dec_map_destroy (NULL accepted). */
dec_map *dec_map_create(const struct sw_input *in, const char *cohort_path,
                        size_t max_message_bytes, char *errstr, size_t errlen);
void dec_map_destroy(dec_map *m);

/* Called once per event a message holds, with its verdict; ev is filled
 * for DEC_OK only. Borrowed for the call. */
typedef void (*dec_emit_fn)(void *ud, dec_verdict v, const sw_event *ev);

/* Decode one message into its events (one, or any number for an OTLP
 * envelope) and hand each to emit. Returns the number of calls. */
size_t dec_message(const dec_config *cfg, const char *buf, size_t len, dec_emit_fn emit,
                   void *ud);
/* The same through the jansson reading (dec_parse_ref). */
size_t dec_message_ref(const dec_config *cfg, const char *buf, size_t len, dec_emit_fn emit,
                       void *ud);

/* Decode one message (no NUL terminator needed) holding one event: any
 * envelope but OTLP (for which it says DEC_REJ_ENVELOPE: use dec_message).
 * Never allocates on the fast path; may call jansson (which allocates) for
 * inputs it hands over. Returns the verdict; `out` is filled only for
 * DEC_OK. */
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

/* The UTC calendar fields of ms since the epoch (proleptic Gregorian, any
 * year, not clamped): the one conversion behind dec_rfc3339_format, for
 * other layouts of an instant (the report's). */
typedef struct sw_utc {
    int year, month, day, hour, minute, second, milli;
} sw_utc;
void dec_utc_fields(int64_t ms, sw_utc *out);

#endif
