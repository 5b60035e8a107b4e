/* engine.h: the contract of SEMANTICS sections 3 to 7 as one object.
 *
 * Decoded events go in; the engine decides accepted/late/out of range,
 * keeps the windows, evaluates every instant up to the watermark in order,
 * runs the rules and the status, and hands each output event, rendered by
 * output.c, to a callback. It reads no clock: live mode passes the wall
 * clock in. Invariant: an output event is handed over whole or not at all
 * (a render failure is counted in render_failures and logged).
 */
#ifndef SOAKWATCH_ENGINE_H
#define SOAKWATCH_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "event.h"
#include "win.h"

typedef enum sw_out_type {
    SW_OUT_TRIGGER = 0,
    SW_OUT_STATUS = 1,
    SW_OUT_ROLLBACK_CHECK = 2, /* docs/semantics.md section 10 */
    SW_OUT_SOAK_UPDATE = 3,    /* section 11: emitted by processor/report/soak.c */
    SW_OUT_SOAK_VERDICT = 4,   /* section 11: emitted by processor/report/soak.c */
} sw_out_type;

/* One output event, rendered. Borrowed: valid during the callback only. */
typedef struct sw_output {
    sw_out_type type;
    int64_t at_s;        /* the instant T */
    int rule;            /* trigger, rollback check: index in cfg->rules; status: -1 */
    int firing;          /* trigger: 1 firing, 0 resolved; rollback check: its state */
    const char *key;     /* Kafka key: rule name or the flag key */
    const char *json;    /* one JSON object, no newline */
    size_t json_len;
    const char *cohort;  /* trigger: its cohort (section 12), NULL for the whole topic */
} sw_output;

typedef void (*sw_emit_fn)(void *ud, const sw_output *out);

/* What became of one pushed event. */
typedef enum sw_push_result {
    SW_ACCEPTED = 0,
    SW_LATE,
    SW_OUT_OF_RANGE,
} sw_push_result;

/* Counters kept by the engine (never reset). */
typedef struct sw_engine_stats {
    uint64_t accepted;
    uint64_t accepted_by_kind[4];
    uint64_t late;
    uint64_t out_of_range;
    uint64_t outputs;
    uint64_t triggers;
    uint64_t statuses;
    uint64_t rollback_checks;
    uint64_t acks;           /* acknowledgements that released a latched rule */
    uint64_t acks_unmatched; /* naming no current firing */
    uint64_t render_failures; /* output events not emitted: larger than the 256 KiB cap */
} sw_engine_stats;

typedef struct sw_engine sw_engine;

/* Create an engine for a validated config (borrowed; must outlive the
 * engine). Allocates all window memory now. Returns NULL with a reason in
 * errstr. emit is called synchronously from push/advance/finish. */
sw_engine *sw_engine_create(const sw_config *cfg, sw_emit_fn emit, void *ud,
                            char *errstr, size_t errlen);
void sw_engine_destroy(sw_engine *e);

/* The same, judging besides the config's rules n_variants more sets of
 * them (each cfg->n_rules rules, borrowed; a backtest's sweep) over the
 * same windows: the config's rules with other parameters or windows (their
 * windows join the rings), over the whole topic (no cohorts). Variants
 * emit nothing; their transitions go to the transition hook. */
sw_engine *sw_engine_create_variants(const sw_config *cfg, const sw_rule *const *variants,
                                     int n_variants, sw_emit_fn emit, void *ud, char *errstr,
                                     size_t errlen);

/* Every transition of a rule of the whole topic, as evaluated: variant 0
 * is the config's own rules, 1..n the variants'. */
typedef void (*sw_transition_fn)(void *ud, int variant, int rule, int64_t T, int firing);
void sw_engine_set_transition_hook(sw_engine *e, sw_transition_fn fn, void *ud);

/* Push one decoded, valid event. May evaluate instants (and emit) before
 * storing it, when it moves the watermark. Never fails. */
sw_push_result sw_engine_push(sw_engine *e, const sw_event *ev);

/* The same, noting where the event came from (a partition and its offset,
 * or source 0 and a line number) for trigger provenance. source < 0: none. */
sw_push_result sw_engine_push_from(sw_engine *e, const sw_event *ev, int source, int64_t offset);

/* Enable provenance tracking for n sources ("partitions" or "lines", the
 * key under which triggers list them). Allocates now; call before the first
 * push. Returns 0 or a negative errno. */
int sw_engine_set_sources(sw_engine *e, int n, const char *kind);

/* Acknowledge a latched trigger by its id ("RULE:AT_MS"), from `by`, at
 * instant at_s (moved to the next instant not yet evaluated). Returns 0,
 * -ENOBUFS when too many acks are pending, -ENAMETOOLONG. */
int sw_engine_ack(sw_engine *e, const char *trigger_id, const char *by, int64_t at_s);

/* Live: the wall clock, for the data-quality state "input_behind". */
void sw_engine_set_wall_clock(sw_engine *e, int64_t wall_s);

/* Live: soakwatch is watching from second t0_s (docs/semantics.md section 3,
 * "Live mode"): when no event has started coverage yet, it starts at t0_s,
 * so that silence from the very start is observed. No-op once started. */
void sw_engine_start(sw_engine *e, int64_t t0_s);

/* Replay of a live run: it watched from second w0_s. An event before it
 * starts coverage as usual (it was read before the watch start); when the
 * first event comes after it, or none comes, coverage starts at w0_s, as
 * sw_engine_start did live. */
void sw_engine_set_watch_start(sw_engine *e, int64_t w0_s);

/* Live idle clock: evaluate every instant up to `watermark_s` (the wall
 * clock minus the lateness), as if time had moved on without events. An
 * instant already evaluated is not evaluated again. No-op before t0. */
void sw_engine_advance(sw_engine *e, int64_t watermark_s);

/* End of a finite input: evaluate every remaining instant up to
 * (greatest second + 1). */
void sw_engine_finish(sw_engine *e);

/* Emit only output events at instants in [from_s, to_s] (to_s < 0: no end).
 * Instants before from_s are evaluated (state builds up) but emit nothing.
 * When `published` is not NULL (live restart), it holds each rule's firing
 * state as last published on the output topic; at the first emitted instant
 * the engine's rule states are set to it before that instant's rules run, so
 * a difference is published then and an active trigger is not fired again. */
void sw_engine_set_emit_range(sw_engine *e, int64_t from_s, int64_t to_s,
                              const uint8_t *published);

/* With a `published` emit range: the firing state last published of rule r
 * in cohort c (docs/semantics.md section 12), applied with it. */
void sw_engine_set_published_cohorts(sw_engine *e,
                                     const uint8_t (*firing)[SW_MAX_COHORTS + 1]);

/* Cohorts kept first come (cohorts.max): the values by id, which the
 * decoder fills (dec_config.cohort_names); NULL without cohorts.max. */
struct cohort_names *sw_engine_cohort_names(sw_engine *e);

/* Live restart: keep value s as the next cohort, judged from instant
 * from_s, before any event is pushed (the cohorts a run kept before, in
 * the order it kept them). Returns its cohort, or -1 when it is no value
 * to keep (listed, not one that can be kept, or no cohort free); a value
 * already kept returns its cohort. */
int sw_engine_keep_cohort(sw_engine *e, const char *s, int64_t from_s);

/* Called after each instant T has been evaluated and its output events
 * emitted, with the counts of second T-1 (final by then: the seconds of
 * instant T's windows end there) and whether T is in the emit range. For
 * mechanisms that follow the stream second by second (the soak cadence);
 * they emit through their own function, after the engine's events of T. */
typedef void (*sw_instant_fn)(void *ud, int64_t T, const win_counts *second, int emitting);
void sw_engine_set_instant_hook(sw_engine *e, sw_instant_fn fn, void *ud);

/* A soak sign-off (docs/semantics.md section 11), queued like an ack and
 * handed, at the first instant T >= at_s evaluated, to the sign-off hook
 * before that instant's rules run. Returns as sw_engine_ack. */
int sw_engine_signoff(sw_engine *e, const char *criterion, const char *by, int64_t at_s);
typedef void (*sw_signoff_fn)(void *ud, const char *criterion, const char *by, int64_t T);
void sw_engine_set_signoff_hook(sw_engine *e, sw_signoff_fn fn, void *ud);

/* Render output events for a person (one line each) instead of JSON. */
void sw_engine_set_text(sw_engine *e, int text);

/* Output events longer than cap bytes (default 256 KiB) are not emitted
 * but counted in render_failures and logged. */
void sw_engine_set_output_cap(sw_engine *e, size_t cap);

/* Live mode: an event whose second is beyond max_second (the wall clock
 * plus the allowed skew) is out of range. Default: no limit. */
void sw_engine_set_future_limit(sw_engine *e, int64_t max_second);

/* The range of event time (docs/semantics.md section 3), the one test the
 * engine applies: 1 when ts_ms is before 1970, after year 9999, or in a
 * second beyond max_second (the wall clock plus max_future_skew_s;
 * INT64_MAX: no clock). */
int sw_event_time_out_of_range(int64_t ts_ms, int64_t max_second);

/* The greatest second an event pushed now can have without being out of
 * range against the greatest second so far (that plus max_gap_s);
 * INT64_MAX before the first event. */
int64_t sw_engine_accept_hi(const sw_engine *e);

/* Greatest accepted second so far, or INT64_MIN before the first event. */
int64_t sw_engine_max_second(const sw_engine *e);
/* Next instant to be evaluated, or INT64_MIN before the first event. */
int64_t sw_engine_next_instant(const sw_engine *e);
/* First covered second t0, or INT64_MIN before the first event. */
int64_t sw_engine_t0(const sw_engine *e);

const sw_engine_stats *sw_engine_stats_get(const sw_engine *e);

/* Current state for metrics and /status. */
int sw_engine_rule_firing(const sw_engine *e, int rule);
/* Rollback checks of a rule emitted so far in one state: 0 verified,
 * 1 not_verified, 2 baseline (enum sw_check_state of output.h). */
uint64_t sw_engine_rollback_checks(const sw_engine *e, int rule, int state);
/* The field a rule's window lacked at its last evaluation (docs/semantics.md
 * 9.7), or NULL; and at how many evaluations it was blind. */
const char *sw_engine_rule_blind(const sw_engine *e, int rule);
uint64_t sw_engine_rule_blind_instants(const sw_engine *e, int rule);
/* The field it lacked the last time it was blind ("" when never). */
const char *sw_engine_rule_blind_last(const sw_engine *e, int rule);
/* The config the engine was made for (borrowed). */
const sw_config *sw_engine_config(const sw_engine *e);
/* Pairing counts of input.correlate, or NULL when it is off. */
struct sw_corr_stats;
const struct sw_corr_stats *sw_engine_corr_stats(const sw_engine *e);
/* Value of a rule's metric at the last evaluated instant; NAN when null. */
double sw_engine_rule_value(const sw_engine *e, int rule);
/* Cohorts (docs/semantics.md section 12): how many sets of windows there
 * are (cohorts.max + 1, `other` last; 0 when cohorts are off), cohort c's
 * value (NULL while a cohort kept first come holds none yet), the
 * accepted events of cohort c, and rule r's state in cohort c, as the
 * whole topic's accessors above. */
int sw_engine_cohorts(const sw_engine *e);
const char *sw_engine_cohort_name(const sw_engine *e, int c);
uint64_t sw_engine_cohort_events(const sw_engine *e, int c);
int sw_engine_cohort_rule_firing(const sw_engine *e, int rule, int c);
double sw_engine_cohort_rule_value(const sw_engine *e, int rule, int c);
const char *sw_engine_cohort_rule_blind(const sw_engine *e, int rule, int c);

/* Latest status (0 green, 1 yellow, 2 red; -1 none yet) and its JSON
 * (borrowed, "" when none). */
int sw_engine_status(const sw_engine *e);
const char *sw_engine_status_json(const sw_engine *e);

/* Metric values of the window of length window_s at the last evaluated
 * instant (window_s must be a configured window). Returns NAN for null
 * metrics and for unknown windows. label is used by M_STRATEGY and
 * M_FALLBACK_REASON. */
double sw_engine_window_metric(const sw_engine *e, int64_t window_s, sw_metric m, int label);

/* Distinct window lengths held, ascending. Returns the count. */
int sw_engine_windows(const sw_engine *e, int64_t *out, int cap);

/* Bytes of window memory (fixed at create). */
size_t sw_engine_bytes(const sw_engine *e);

#endif
