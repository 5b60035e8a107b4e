/* engine_time.h: the time policy of the live program, in one place.
 *
 * Every decision that turns the clock into event time is made here, from
 * the config and a `now` passed in: which events are too far in the future,
 * when silence moves the idle clock on and to where, how far back a restart
 * rebuilds its windows and reads the output topic, the first instant a
 * restart publishes, and the instant an acknowledgement applies at. The
 * drivers read the clock and hand it over; none of them computes lateness
 * or skew itself. Pure but for the engine calls: no I/O, no clock.
 */
#ifndef SOAKWATCH_ENGINE_TIME_H
#define SOAKWATCH_ENGINE_TIME_H

#include <stdint.h>

#include "config.h"
#include "control.h"
#include "engine.h"

#define SW_REBUILD_MARGIN_S 60 /* record time is not event time: rebuild from earlier */

/* Live: tell the engine the clock reads now_ms (the data-quality state
 * "input_behind", and the future limit: now plus max_future_skew_s). */
void sw_time_now(sw_engine *e, int64_t now_ms);

/* Whether an event at ts_ms is out of range whatever came before it: before
 * 1970, after year 9999, or (live, now_ms >= 0) beyond the allowed skew
 * ahead of now_ms. now_ms < 0: no clock (replay). */
int sw_time_out_of_range(const sw_config *cfg, int64_t ts_ms, int64_t now_ms);

/* The idle clock (docs/semantics.md section 3): when nothing has arrived
 * since quiet_since_ms for the idle timeout, every instant up to now minus
 * the allowed lateness is evaluated. Returns 1 when it advanced. */
int sw_time_idle(sw_engine *e, int64_t now_ms, int64_t quiet_since_ms);

/* Where a run that publishes from from_ms starts reading input by record
 * time: the longest window, the lateness and a margin before it, and with
 * rollback checks on, verify_within_s more (every watch pending at from_ms
 * is rebuilt: docs/semantics.md section 10). */
int64_t sw_time_rebuild_from_ms(const sw_config *cfg, int64_t from_ms);

/* Where a restart at now_ms starts reading the output topic's history: the
 * longest window, the lateness and three status intervals back; with the
 * soak cadence on, at least 4 hours and three intervals (the latest
 * soak_update, docs/semantics.md section 11). */
int64_t sw_time_history_from_ms(const sw_config *cfg, int64_t now_ms);

/* The first instant a run starting at now_ms publishes: the one after the
 * last instant the output topic holds (last_at_ms >= 0), else now minus
 * the lateness (a fresh deployment). */
int64_t sw_time_first_publish_s(const sw_config *cfg, int64_t last_at_ms, int64_t now_ms);

/* The instant an acknowledgement received at now_ms applies at: the later
 * of its own time (rounded up to a second) and the instant live time has
 * reached (now minus the lateness). Sets *too_far when its time is beyond
 * the allowed skew ahead of now (it is then refused). */
int64_t sw_time_ack_instant_s(const sw_config *cfg, int64_t ack_ts_ms, int64_t now_ms,
                              int *too_far);

/* Queue an acknowledgement received at now_ms (sw_time_ack_instant_s, then
 * sw_engine_ack). Returns 0, -ERANGE when its time is too far ahead,
 * -ENOBUFS when too many wait, -ENAMETOOLONG for an id too long.
 * A sign-off (ack->signoff) goes to sw_engine_signoff the same way, or
 * returns -ENOENT when its criterion is not one of soak.signoffs (or the
 * soak is off). */
int sw_time_ack(sw_engine *e, const sw_ack *ack, int64_t now_ms);

#endif
