/* soak.h: the runbook's cadence run live (docs/semantics.md section 11): a
 * follower of the engine's output stream that sums the exact per-second
 * counts of each soak period and emits one soak_update event at its end,
 * after the engine's events of that instant, and the plan's go/no-go
 * (soak_verdict) at hour 24 and at the end. It is the report, run while
 * the stream flows: engine -> soak -> sink.
 *
 * Invariant: all memory is taken at create; an update is emitted once, at
 * its instant, and only when that instant is in the engine's emit range.
 */
#ifndef SOAKWATCH_REPORT_SOAK_H
#define SOAKWATCH_REPORT_SOAK_H

#include <stddef.h>
#include <stdint.h>

#include "../config.h"
#include "../counters.h"
#include "../engine.h"

typedef struct soak_follower soak_follower;

/* A follower for cfg->soak (borrowed, must outlive it). NULL with a reason
 * when memory is short. */
soak_follower *soak_create(const sw_config *cfg, char *err, size_t errlen);
void soak_destroy(soak_follower *f);

/* The emit function to hand the engine (ud: the follower). */
void soak_emit(void *ud, const sw_output *o);

/* Follow engine e: its instant and sign-off hooks are set, its output,
 * the updates and the verdicts go on to next; the late and rejected counts
 * come from e and c, and the /metrics gauges and the counts of updates and
 * verdicts emitted are written into c. Call once, before the first event. */
void soak_bind(soak_follower *f, sw_engine *e, sw_counters *c, sw_emit_fn next, void *next_ud);

/* soak_bind with the follower as void *, for file_replay_opts.follow_bind. */
void soak_attach(void *ud, sw_engine *e, sw_counters *c, sw_emit_fn next, void *next_ud);

/* Emit the update's text (the plan's format) instead of its JSON. */
void soak_set_text(soak_follower *f, int text);

/* The soak start, overriding the config's (--soak-start), in ms. */
void soak_set_start(soak_follower *f, int64_t start_ms);

/* Live: the first instant that may be published; without a start, the
 * soak starts at it (rounded up), not at the rebuilt history's t0. */
void soak_set_publish_from(soak_follower *f, int64_t from_s);

/* The start S in seconds (INT64_MIN until known). */
int64_t soak_start_s(const soak_follower *f);

/* The hours at which updates fall: the hour after h (0: the first), or 0
 * when h is the last. */
int64_t soak_next_hour(int64_t h, int64_t hours);

#endif
