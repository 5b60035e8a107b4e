/* alerts.h: Prometheus Alertmanager as a destination (docs/operations.md,
 * "Alertmanager"): the set of active alerts, kept by following the output
 * stream as the sink does, and posted by a poster thread (alertpost.h).
 *
 * Invariants: the state is fixed at create: one alert per rule (its
 * firing) and one per rule for a not_verified rollback check, 2 x rules in
 * all. An alert is posted at once when it changes and again every
 * resend_s while it is active; a resolution is posted (with endsAt) until
 * one post of it is answered ok. The labels of an alert depend only on the
 * config and the rule, so a restart posts the same alert again. Nothing
 * here reads a clock (serve is handed the time) or blocks the caller.
 */
#ifndef SOAKWATCH_ALERTS_H
#define SOAKWATCH_ALERTS_H

#include <stddef.h>
#include <stdint.h>

#include "../config.h"
#include "../counters.h"
#include "../engine.h"
#include "parts.h"

typedef struct sw_alerts sw_alerts;

/* Hand one alert's payload (a JSON array) on, under key with sequence
 * number seq. Returns 0 when taken, < 0 when not now (tried again). */
typedef int (*alerts_send_fn)(void *ud, int key, uint64_t seq, const char *json, size_t len);
/* Whether rule is firing as last emitted: over the whole topic (cohort
 * -1, sw_engine_rule_firing) or in cohort 0 .. cohorts.max (the engine's
 * numbering, sw_engine_cohort_rule_firing), whose value it then puts in
 * *name. */
typedef int (*alerts_firing_fn)(const void *ud, int rule, int cohort, const char **name);

/* With send NULL: posts through its own poster thread to
 * cfg->alertmanager.urls, counting POSTs in c. Otherwise payloads go to
 * send (tests). Returns NULL with one line in errstr. */
sw_alerts *alerts_create(const sw_config *cfg, sw_counters *c, alerts_send_fn send,
                         void *send_ud, char *errstr, size_t errlen);
/* Stops the poster. Active alerts stay active in Alertmanager until they
 * are posted again or its resolve_timeout passes. Accepts NULL. */
void alerts_destroy(sw_alerts *a);

/* Where outputs go next, and what is firing (read at each output, so that
 * a restart that fires nothing again still posts what fires). */
void alerts_bind(sw_alerts *a, sw_emit_fn next, void *next_ud, alerts_firing_fn firing,
                 const void *firing_ud);
/* An sw_emit_fn (ud: the alerts): take the output into the set, then pass
 * it on. */
void alerts_output(void *ud, const sw_output *o);

/* Post what changed and what is due again at now_ms (the wall clock), and
 * take the poster's answers. Cheap when nothing is due. Returns the number
 * of payloads handed on. */
int alerts_serve(sw_alerts *a, int64_t now_ms);
/* End of a finite input: post what changed and wait up to wait_ms for the
 * poster's answers (now_fn: the clock). No-op with an injected send. */
void alerts_flush(sw_alerts *a, sw_now_fn now_fn, int64_t wait_ms);
/* A payload was answered (tests; the poster's answers come through serve). */
void alerts_answered(sw_alerts *a, int key, uint64_t seq, int ok);

/* Alerts firing, and resolutions not yet answered ok: for tests. */
int alerts_active(const sw_alerts *a);

#endif
