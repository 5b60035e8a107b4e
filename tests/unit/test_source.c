/* test_source.c: the Kafka input (live/source.h) against librdkafka's mock
 * cluster (fault injection beside the real-broker integration tests, never
 * instead of them), with the clock injected: a bounded read of every
 * partition merged into the engine, rejected messages handed on with their
 * origin, reading held while outputs are backed up, and the idle clock
 * moving only with the injected time once every partition is at its end. */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "counters.h"
#include "engine.h"
#include "live/source.h"
#include "pipeline.h"

#define N_EVENTS 300
#define T0_MS 1800000000000LL

static int64_t fake_now;
static int busy_now;
static int rejects;
static char reject_reason[64];
static int64_t reject_offset = -1;
static int outputs;

static int64_t now_fn(void *ud)
{
    (void)ud;
    return fake_now;
}
static int busy_fn(void *ud)
{
    (void)ud;
    return busy_now;
}
static void reject_fn(void *ud, const sw_reject *r)
{
    (void)ud;
    rejects++;
    snprintf(reject_reason, sizeof(reject_reason), "%s", r->reason);
    reject_offset = r->offset;
}
static void count_fn(void *ud, const sw_output *o)
{
    (void)ud;
    (void)o;
    outputs++;
}

/* N_EVENTS succeeded events, one per 100 ms, over 2 partitions, and one
 * line that is not JSON (partition 1). Record times are the event times. */
static void fill(const char *bootstraps)
{
    char err[256], v[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps, err, sizeof(err));
    rd_kafka_t *p = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    for (int i = 0; i <= N_EVENTS; i++) {
        int64_t ts = T0_MS + 100LL * i;
        int n = i < N_EVENTS
                    ? snprintf(v, sizeof(v),
                               "{\"event\":\"stream5.time_crunch_preview_succeeded\","
                               "\"ts\":%lld,\"durationMs\":120}", (long long)ts)
                    : snprintf(v, sizeof(v), "garbage");
        /* rd_kafka_produceva: the producev macros are GNU statement expressions */
        rd_kafka_vu_t vu[5];
        vu[0].vtype = RD_KAFKA_VTYPE_TOPIC;
        vu[0].u.cstr = "in";
        vu[1].vtype = RD_KAFKA_VTYPE_PARTITION;
        vu[1].u.i32 = i < N_EVENTS ? i % 2 : 1;
        vu[2].vtype = RD_KAFKA_VTYPE_VALUE;
        vu[2].u.mem.ptr = v;
        vu[2].u.mem.size = (size_t)n;
        vu[3].vtype = RD_KAFKA_VTYPE_TIMESTAMP;
        vu[3].u.i64 = ts;
        vu[4].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
        vu[4].u.i32 = RD_KAFKA_MSG_F_COPY;
        rd_kafka_error_t *e = rd_kafka_produceva(p, vu, 5);
        CHECK(e == NULL);
        if (e)
            rd_kafka_error_destroy(e);
    }
    CHECK_INT(rd_kafka_flush(p, 10000), 0);
    rd_kafka_destroy(p);
}

/* Drain until done() or 10 s of real time. */
static void drain_until(sw_source *s, int (*done)(sw_source *))
{
    for (int i = 0; i < 1000 && !done(s); i++) {
        CHECK_INT(source_drain(s), 0);
        usleep(10000);
    }
}

static int all_read(sw_source *s)
{
    return source_done(s);
}

static int caught_up(sw_source *s)
{
    return source_caught_up(s) && source_done(s);
}

static sw_source *open_source(const sw_config *cfg, const dec_config *dc, sw_counters *c,
                              int bounded, sw_engine *e)
{
    char err[512];
    /* from record time -2: the earliest offset (Kafka's ListOffsets reads -2
     * as "earliest", which the mock cluster also understands) */
    source_opts o = {"in", -2, bounded, bounded ? INT64_MAX / 2 : 5000};
    source_hooks h = {NULL, now_fn, busy_fn, reject_fn};
    sw_source *s = source_create(cfg, dc, &o, &h, c, err, sizeof(err));
    if (s == NULL) {
        fprintf(stderr, "source: %s\n", err);
        return NULL;
    }
    CHECK_INT(source_partitions(s), 2);
    CHECK_INT(source_start(s, e, err, sizeof(err)), 0);
    return s;
}

static void test_bounded(const sw_config *cfg, const dec_config *dc)
{
    char err[256];
    sw_counters c;
    memset(&c, 0, sizeof(c));
    sw_engine *e = sw_engine_create(cfg, count_fn, NULL, err, sizeof(err));
    fake_now = 0; /* a bounded source has no clock: event times are not "future" */
    sw_source *s = open_source(cfg, dc, &c, 1, e);
    if (s == NULL)
        return;
    drain_until(s, all_read);
    CHECK_INT(source_done(s), 1);
    CHECK_INT(c.messages, N_EVENTS + 1);
    CHECK_INT(c.verdicts[DEC_OK], N_EVENTS);
    CHECK_INT(sw_engine_stats_get(e)->accepted, N_EVENTS);
    CHECK_INT(sw_engine_max_second(e), (T0_MS + 100LL * (N_EVENTS - 1)) / 1000);
    CHECK_INT(rejects, 1);
    CHECK_STR(reject_reason, "invalid_json");
    CHECK_INT(reject_offset, N_EVENTS / 2);
    int64_t fed[2];
    source_fed(s, fed);
    CHECK_INT(fed[0], N_EVENTS / 2);
    CHECK_INT(fed[1], N_EVENTS / 2 + 1);
    source_destroy(s);
    sw_engine_destroy(e);
}

static void test_live(const sw_config *cfg, const dec_config *dc)
{
    char err[256];
    sw_counters c;
    memset(&c, 0, sizeof(c));
    sw_engine *e = sw_engine_create(cfg, count_fn, NULL, err, sizeof(err));
    /* the clock 10 s after the last event */
    fake_now = T0_MS + 100LL * N_EVENTS + 10000;
    busy_now = 1;
    sw_source *s = open_source(cfg, dc, &c, 0, e);
    if (s == NULL)
        return;
    /* outputs backed up: nothing is read */
    for (int i = 0; i < 20; i++) {
        source_drain(s);
        usleep(10000);
    }
    CHECK_INT(source_paused(s), 1);
    CHECK_INT(c.messages, 0);
    busy_now = 0;
    drain_until(s, caught_up);
    CHECK_INT(source_paused(s), 0);
    CHECK_INT(c.messages, N_EVENTS + 1);
    CHECK_INT(sw_engine_stats_get(e)->accepted, N_EVENTS);
    /* every partition at its end: the idle clock moves with the injected
     * time only, once it has been quiet for the idle timeout */
    int64_t next = sw_engine_next_instant(e);
    source_idle(s, fake_now);
    CHECK_INT(sw_engine_next_instant(e), next);
    fake_now += cfg->idle_timeout_s * 1000;
    source_idle(s, fake_now);
    CHECK_INT(sw_engine_next_instant(e), fake_now / 1000 - cfg->allowed_lateness_s + 1);
    /* outputs backed up again: reading pauses and the idle clock waits */
    busy_now = 1;
    source_drain(s);
    next = sw_engine_next_instant(e);
    fake_now += 60000;
    source_idle(s, fake_now);
    CHECK_INT(sw_engine_next_instant(e), next);
    busy_now = 0;
    source_destroy(s);
    sw_engine_destroy(e);
}

int main(void)
{
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, 1);
    CHECK(mc != NULL);
    if (mc == NULL)
        return 1;
    rd_kafka_mock_topic_create(mc, "in", 2, 1);
    const char *bootstraps = rd_kafka_mock_cluster_bootstraps(mc);
    fill(bootstraps);

    sw_config cfg;
    dec_config dc;
    config_defaults(&cfg);
    snprintf(cfg.brokers, sizeof(cfg.brokers), "%s", bootstraps);
    CHECK_INT(pipeline_dec_config(&cfg, &dc, err, sizeof(err)), 0);
    test_bounded(&cfg, &dc);
    rejects = 0;
    test_live(&cfg, &dc);
    pipeline_dec_free(&dc);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    CHECK_DONE();
}
