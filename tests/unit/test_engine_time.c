/* test_engine_time.c: the live program's time policy (engine_time.h), with
 * the clock injected: what is out of range, when the idle clock moves and
 * to where, the rebuild and history spans, the first instant published and
 * the instant an acknowledgement applies at. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "config.h"
#include "engine.h"
#include "engine_time.h"

static int outputs;
static void count(void *ud, const sw_output *o)
{
    (void)ud;
    (void)o;
    outputs++;
}

static void test_range(const sw_config *cfg)
{
    int64_t now = 1800000000123; /* ms */
    int64_t skew = cfg->max_future_skew_s;
    CHECK_INT(sw_time_out_of_range(cfg, -1, now), 1);
    CHECK_INT(sw_time_out_of_range(cfg, 0, now), 0);
    CHECK_INT(sw_time_out_of_range(cfg, SW_TS_MAX_MS, -1), 0);
    CHECK_INT(sw_time_out_of_range(cfg, SW_TS_MAX_MS + 1, -1), 1);
    /* the skew is counted in whole seconds of both clocks */
    CHECK_INT(sw_time_out_of_range(cfg, 1800000000000 + skew * 1000 + 999, now), 0);
    CHECK_INT(sw_time_out_of_range(cfg, 1800000000000 + (skew + 1) * 1000, now), 1);
    /* no clock: no future limit */
    CHECK_INT(sw_time_out_of_range(cfg, 1800000000000 + (skew + 1) * 1000, -1), 0);
}

static void test_spans(const sw_config *cfg)
{
    int64_t longest = config_longest_window_s(cfg);
    int64_t L = cfg->allowed_lateness_s;
    CHECK_INT(longest, 1800);
    sw_config c2 = *cfg;
    c2.rollback_check = 1;
    c2.rollback_verify_within_s = 300;
    CHECK_INT(sw_time_rebuild_from_ms(&c2, 10000000), 10000000 - (1800 + L + 60 + 300) * 1000);
    c2.rollback_check = 0;
    CHECK_INT(sw_time_rebuild_from_ms(&c2, 10000000), 10000000 - (1800 + L + 60) * 1000);
    CHECK_INT(sw_time_history_from_ms(cfg, 10000000),
              10000000 - (1800 + L + 3 * cfg->status_interval_s) * 1000);
    /* the soak cadence: back to the latest update, at most 4 hours ago */
    sw_config soak = *cfg;
    soak.soak.enabled = 1;
    CHECK_INT(sw_time_history_from_ms(&soak, 100000000),
              100000000 - (4 * 3600 + 3 * cfg->status_interval_s) * 1000);
    /* after what the topic holds, else now minus the lateness */
    CHECK_INT(sw_time_first_publish_s(cfg, 5000999, 9000000), 5001);
    CHECK_INT(sw_time_first_publish_s(cfg, -1, 9000500), 9000 - L);
    CHECK_INT(sw_time_first_publish_s(cfg, -1, -1500), -2 - L);
}

static void test_ack_instant(const sw_config *cfg)
{
    int far;
    int64_t L = cfg->allowed_lateness_s, skew = cfg->max_future_skew_s;
    int64_t now = 2000000500; /* 2,000,000.5 s */
    /* its own time, rounded up to a second, when later than live time */
    CHECK_INT(sw_time_ack_instant_s(cfg, 2000000001, now, &far), 2000001);
    CHECK_INT(far, 0);
    /* an old one applies at the instant live time has reached */
    CHECK_INT(sw_time_ack_instant_s(cfg, 1000, now, &far), 2000000 - L);
    CHECK_INT(far, 0);
    CHECK_INT(sw_time_ack_instant_s(cfg, 0, now, &far), 2000000 - L);
    /* beyond the skew: refused */
    sw_time_ack_instant_s(cfg, (2000000 + skew) * 1000 + 999, now, &far);
    CHECK_INT(far, 0);
    sw_time_ack_instant_s(cfg, (2000000 + skew + 1) * 1000, now, &far);
    CHECK_INT(far, 1);
    sw_time_ack_instant_s(cfg, SW_TS_MAX_MS + 1, INT64_MAX / 4, &far);
    CHECK_INT(far, 1);
}

static void test_idle_and_ack(const sw_config *cfg)
{
    char err[256];
    sw_engine *e = sw_engine_create(cfg, count, NULL, err, sizeof(err));
    CHECK(e != NULL);
    if (e == NULL)
        return;
    int64_t idle = cfg->idle_timeout_s * 1000, L = cfg->allowed_lateness_s;
    sw_engine_start(e, 1000);
    int64_t before = sw_engine_next_instant(e);
    /* quiet for less than the idle timeout: nothing moves */
    CHECK_INT(sw_time_idle(e, 1010000, 1010000 - idle + 1), 0);
    CHECK_INT(sw_engine_next_instant(e), before);
    CHECK_INT(outputs, 0);
    /* quiet for the idle timeout: every instant up to now - lateness */
    CHECK_INT(sw_time_idle(e, 1100500, 1100500 - idle), 1);
    CHECK_INT(sw_engine_next_instant(e), 1100 - L + 1);
    CHECK(sw_engine_next_instant(e) != before);
    CHECK(outputs > 0);
    /* an acknowledgement too far ahead is refused, one in range queued */
    sw_ack ack;
    memset(&ack, 0, sizeof(ack));
    strcpy(ack.id, "error_rate_high:1000000");
    strcpy(ack.by, "test");
    ack.ts_ms = (1100 + cfg->max_future_skew_s + 1) * 1000;
    CHECK_INT(sw_time_ack(e, &ack, 1100500), -ERANGE);
    ack.ts_ms = 1100000;
    CHECK_INT(sw_time_ack(e, &ack, 1100500), 0);
    sw_engine_destroy(e);
}

int main(void)
{
    sw_config cfg;
    config_defaults(&cfg);
    test_range(&cfg);
    test_spans(&cfg);
    test_ack_instant(&cfg);
    test_idle_and_ack(&cfg);
    CHECK_DONE();
}
