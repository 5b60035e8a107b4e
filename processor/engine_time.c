/* engine_time.c: the live program's time policy (engine_time.h). Every
 * rule here is stated in docs/semantics.md (sections 3 and 6) and is the
 * only place the live drivers learn it. */
#include "engine_time.h"

#include <errno.h>

#include "config_soak.h"
#include "event.h"

/* The latest second an event may be in, received at now_ms. */
static int64_t future_limit_s(const sw_config *cfg, int64_t now_ms)
{
    return sw_floor_div(now_ms, 1000) + cfg->max_future_skew_s;
}

void sw_time_now(sw_engine *e, int64_t now_ms)
{
    const sw_config *cfg = sw_engine_config(e);
    sw_engine_set_wall_clock(e, sw_floor_div(now_ms, 1000));
    sw_engine_set_future_limit(e, future_limit_s(cfg, now_ms));
}

int sw_time_out_of_range(const sw_config *cfg, int64_t ts_ms, int64_t now_ms)
{
    return sw_event_time_out_of_range(ts_ms, now_ms >= 0 ? future_limit_s(cfg, now_ms)
                                                         : INT64_MAX);
}

int sw_time_idle(sw_engine *e, int64_t now_ms, int64_t quiet_since_ms)
{
    const sw_config *cfg = sw_engine_config(e);
    if (now_ms - quiet_since_ms < cfg->idle_timeout_s * 1000)
        return 0;
    sw_engine_advance(e, sw_floor_div(now_ms, 1000) - cfg->allowed_lateness_s);
    return 1;
}

int64_t sw_time_rebuild_from_ms(const sw_config *cfg, int64_t from_ms)
{
    int64_t back_s = config_longest_window_s(cfg) + cfg->allowed_lateness_s + SW_REBUILD_MARGIN_S;
    /* A rollback check still pending at from_ms began at a firing up to
     * verify_within_s before it, which its rule decided over a whole
     * window before that: rebuild far enough back to evaluate it. */
    if (cfg->rollback_check)
        back_s += cfg->rollback_verify_within_s;
    return from_ms - back_s * 1000;
}

int64_t sw_time_history_from_ms(const sw_config *cfg, int64_t now_ms)
{
    int64_t back_s = config_longest_window_s(cfg) + cfg->allowed_lateness_s +
                     3 * cfg->status_interval_s;
    /* The soak cadence: far enough to find the latest update (at most 4
     * hours apart), so that a restart carries on the same soak. */
    int64_t soak_s = 4 * 3600 + 3 * cfg->status_interval_s;
    if (cfg->soak.enabled && soak_s > back_s)
        back_s = soak_s;
    return now_ms - back_s * 1000;
}

int64_t sw_time_first_publish_s(const sw_config *cfg, int64_t last_at_ms, int64_t now_ms)
{
    if (last_at_ms >= 0)
        return sw_floor_div(last_at_ms, 1000) + 1;
    return sw_floor_div(now_ms, 1000) - cfg->allowed_lateness_s;
}

int64_t sw_time_ack_instant_s(const sw_config *cfg, int64_t ack_ts_ms, int64_t now_ms,
                              int *too_far)
{
    int64_t now_s = sw_floor_div(now_ms, 1000);
    *too_far = ack_ts_ms > SW_TS_MAX_MS ||
               sw_floor_div(ack_ts_ms, 1000) > future_limit_s(cfg, now_ms);
    int64_t at_s = ack_ts_ms <= 0 ? 0 : sw_floor_div(ack_ts_ms + 999, 1000);
    if (at_s < now_s - cfg->allowed_lateness_s)
        at_s = now_s - cfg->allowed_lateness_s;
    return at_s;
}

int sw_time_ack(sw_engine *e, const sw_ack *ack, int64_t now_ms)
{
    int too_far;
    int64_t at_s = sw_time_ack_instant_s(sw_engine_config(e), ack->ts_ms, now_ms, &too_far);
    if (too_far)
        return -ERANGE;
    if (ack->signoff) {
        const sw_soak *soak = &sw_engine_config(e)->soak;
        if (!soak->enabled || config_soak_signoff_index(soak, ack->id) < 0)
            return -ENOENT;
        return sw_engine_signoff(e, ack->id, ack->by, at_s);
    }
    return sw_engine_ack(e, ack->id, ack->by, at_s);
}
