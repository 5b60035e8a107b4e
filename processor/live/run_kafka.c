/* run_kafka.c: `soakwatch run` from Kafka to Kafka. Wires the parts on the
 * loop: the source feeds the engine, the engine emits into the sink, the
 * control topic's acknowledgements go to the engine, and commits follow
 * delivery (commit.h).
 *
 * Invariants: nothing here computes time policy (engine_time.h) or touches
 * librdkafka (the parts do); this file holds the run's state only. At
 * start: what the output topic says was published (history.h), then the
 * input from the rebuild span, then publishing after what was published.
 */
#include "live.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../engine_time.h"
#include "../event.h"
#include "../pipeline.h"
#include "../report/soak.h"
#include "alerts.h"
#include "commit.h"
#include "control_in.h"
#include "history.h"
#include "loop.h"
#include "sink.h"
#include "stages.h"
#include "source.h"

#define FLUSH_TIMEOUT_MS 7000 /* shutdown: flush, then commit within 10 s */
#define COMMIT_WAIT_MS 1500

typedef struct run {
    const sw_config *cfg;
    sw_loop lp;
    sw_counters c;
    dec_config dc;
    sw_sink *sink;
    sw_source *src;
    sw_control_in *ctl;
    sw_engine *e;
    soak_follower *soak; /* the soak cadence (section 11), NULL when off */
    sw_alerts *alerts;   /* Alertmanager, NULL when off */
    sw_commit cm;
    int watching;   /* every partition has been read to its end once */
    int restart;    /* the input topic changed shape: start over */
    char err[512];
} run;

static int busy(void *ud)
{
    return sink_busy(((run *)ud)->sink);
}

static void reject(void *ud, const sw_reject *r)
{
    sink_dead_letter(((run *)ud)->sink, r);
}

static void commit(run *r, int64_t now_ms)
{
    int64_t fed[SW_MAX_PARTITIONS], want[SW_MAX_PARTITIONS];
    commit_state st;
    if (r->cfg->group[0] == '\0')
        return;
    source_fed(r->src, fed);
    source_commit_state(r->src, &st);
    if (!commit_plan(&r->cm, fed, sink_settled(r->sink), &st, now_ms, want))
        return;
    if (source_commit(r->src, want, r->err, sizeof(r->err)) != 0) {
        fprintf(stderr, "soakwatch: %s\n", r->err);
        return;
    }
    commit_sent(&r->cm, want, now_ms);
}

/* Readiness, lag, and the watch start: once every partition has been read
 * to its end at start, soakwatch watches from now, events or not (an empty
 * topic must fire zero_requests too). */
static void update_state(run *r, int64_t now_ms)
{
    int64_t now_s = sw_floor_div(now_ms, 1000);
    int rebuilt = source_caught_up(r->src);
    int64_t next = sw_engine_next_instant(r->e);
    r->c.watermark_lag_s = next == INT64_MIN ? NAN : (double)(now_s - (next - 1));
    /* Reachability as the producer sees it: it has a message at least
     * every status interval, and a blocking probe here could stall the
     * loop. */
    r->c.ready = rebuilt && !sink_brokers_down(r->sink);
    if (rebuilt && !r->watching) {
        char at[32];
        r->watching = 1;
        sw_engine_start(r->e, now_s);
        dec_rfc3339_format(sw_engine_t0(r->e) * 1000, at, sizeof(at));
        fprintf(stderr, "soakwatch: watching; coverage starts at %s (replay --start %s)\n", at,
                at);
    }
}

/* Once a second: redeliver, the idle clock, commits, state, the topic. */
static void every_second(run *r)
{
    int64_t now_ms = loop_now_ms(NULL);
    sink_retry(r->sink);
    if (sink_fatal(r->sink, r->err, sizeof(r->err))) {
        fprintf(stderr, "soakwatch: kafka producer: fatal: %s\n", r->err);
        loop_stop(&r->lp, 1);
        return;
    }
    source_idle(r->src, now_ms);
    commit(r, now_ms);
    update_state(r, now_ms);
    if (source_check_topic(r->src, now_ms)) {
        r->restart = 1;
        loop_stop(&r->lp, 0);
    }
}

/* The pass before the loop sleeps: delivery reports, acknowledgements,
 * input (while outputs are not backed up; after a pause, once the
 * producer's queue has drained or a second has passed). */
static int hook(sw_loop *lp, void *ud, int tick)
{
    run *r = ud;
    sink_serve(r->sink);
    if (r->alerts)
        alerts_serve(r->alerts, loop_now_ms(NULL)); /* changes at once */
    if (r->ctl && control_in_poll(r->ctl, r->e, loop_now_ms(NULL)))
        loop_stop(lp, 1);
    if ((!source_paused(r->src) || sink_drained(r->sink) || tick) && source_drain(r->src))
        loop_stop(lp, 1);
    if (tick && !lp->stopping)
        every_second(r);
    return source_more(r->src);
}

/* Shutdown: intake stopped; flush, then commit what is acknowledged. */
static void shut_down(run *r)
{
    loop_shutdown_watchdog(r->lp.exit_code);
    int left = sink_flush(r->sink, FLUSH_TIMEOUT_MS);
    if (left)
        fprintf(stderr, "soakwatch: %d output events not acknowledged at shutdown; "
                        "offsets not committed past them\n", left);
    commit(r, loop_now_ms(NULL));
    source_await_commits(r->src, COMMIT_WAIT_MS);
    char line[1024];
    pipeline_summary(r->e, &r->c, line, sizeof(line));
    fprintf(stderr, "soakwatch: %s; %" PRIu64 " delivered, %" PRIu64 " failed", line,
            r->c.outputs_delivered, r->c.delivery_failures);
    if (sink_lost(r->sink))
        fprintf(stderr, ", %" PRIu64 " given up", sink_lost(r->sink));
    fputc('\n', stderr);
}

/* The outputs' way (stages.h). Returns 0, or -1 with r->err. */
static int open_stages(run *r)
{
    sw_stages st;
    int rc = stages_open(&st, r->cfg, &r->c, r->sink, 1, r->err, sizeof(r->err));
    r->e = st.e;
    if (r->e)
        pipeline_bind_engine(&r->dc, r->e);
    r->soak = st.soak;
    r->alerts = st.alerts;
    return rc;
}

/* Output topic history, input, engine, control topic. Returns 0, or -1
 * with one line on stderr. */
static int open_parts(run *r)
{
    const sw_config *cfg = r->cfg;
    int64_t now_ms = loop_now_ms(NULL);
    sw_history hist;
    sink_opts so = {NULL, cfg->output_topic, cfg->dead_letter_topic, 0, loop_tap, &r->lp};
    source_opts io = {cfg->input_topic, sw_time_rebuild_from_ms(cfg, now_ms), 0,
                      cfg->idle_timeout_s * 1000};
    source_hooks h = {r, loop_now_ms, busy, reject};
    if ((r->sink = sink_create(cfg, &so, &r->c, r->err, sizeof(r->err))) == NULL ||
        history_read(cfg, cfg->output_topic, loop_now_ms, NULL, &hist, r->err,
                     sizeof(r->err)) != 0 ||
        (r->src = source_create(cfg, &r->dc, &io, &h, &r->c, r->err, sizeof(r->err))) == NULL ||
        open_stages(r) != 0)
        goto fail;
    /* Publish after what the topic holds (the downtime included); a fresh
     * deployment publishes from now, every rule as not firing. */
    int64_t from = sw_time_first_publish_s(cfg, hist.last_at_ms, now_ms);
    if (r->soak) {
        soak_set_publish_from(r->soak, from);
        if (cfg->soak.start_ms == INT64_MIN && hist.soak_start_ms >= 0)
            soak_set_start(r->soak, hist.soak_start_ms); /* carry on the same soak */
    }
    /* The values the run before kept first come keep their cohorts. */
    for (int i = 0; i < hist.n_kept; i++)
        (void)sw_engine_keep_cohort(r->e, hist.kept[i], hist.kept_from_s[i]);
    int n = source_partitions(r->src);
    if ((cfg->provenance && sw_engine_set_sources(r->e, n, "partitions") != 0) ||
        commit_init(&r->cm, n) != 0) {
        snprintf(r->err, sizeof(r->err), "out of memory");
        goto fail;
    }
    if (source_start(r->src, r->e, r->err, sizeof(r->err)) != 0)
        goto fail;
    sw_engine_set_emit_range(r->e, from, -1, hist.published);
    sw_engine_set_published_cohorts(r->e, (const uint8_t (*)[SW_MAX_COHORTS + 1])
                                              hist.cohort_published);
    fprintf(stderr, "soakwatch: reading %s (%d partitions) from %" PRId64
            " s back; publishing to %s from %" PRId64 "\n", cfg->input_topic, n,
            (now_ms - io.from_ms) / 1000, cfg->output_topic, from);
    if (cfg->control_topic[0]) {
        if ((r->ctl = control_in_topic(cfg, &r->c, r->err, sizeof(r->err))) == NULL)
            goto fail;
        fprintf(stderr, "soakwatch: acknowledgements from %s, from its end\n",
                cfg->control_topic);
    }
    return 0;
fail:
    fprintf(stderr, "soakwatch: %s\n", r->err);
    return -1;
}

static void close_parts(run *r)
{
    loop_destroy(&r->lp);
    control_in_destroy(r->ctl);
    source_destroy(r->src);
    sink_destroy(r->sink);
    alerts_destroy(r->alerts);
    sw_engine_destroy(r->e);
    soak_destroy(r->soak);
    commit_free(&r->cm);
    pipeline_dec_free(&r->dc);
}

static int run_parts(run *r)
{
    if (open_parts(r) != 0)
        return loop_startup_failed();
    loop_watch_pipe(&r->lp, source_fd(r->src));
    loop_watch_pipe(&r->lp, sink_fd(r->sink));
    if (r->ctl)
        loop_watch_pipe(&r->lp, control_in_fd(r->ctl));
    if (loop_http(&r->lp, r->cfg, r->e, &r->c) != 0)
        return 1;
    loop_run(&r->lp);
    shut_down(r);
    return r->lp.exit_code;
}

int run_kafka(const sw_config *cfg)
{
    if (cfg->input_topic[0] == '\0' || cfg->output_topic[0] == '\0') {
        fprintf(stderr, "soakwatch: run with brokers needs an input topic and an output topic\n");
        return 2;
    }
    run *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        fprintf(stderr, "soakwatch: out of memory\n");
        return 1;
    }
    r->cfg = cfg;
    r->c.live = 1;
    r->c.started_unix_s = sw_floor_div(loop_now_ms(NULL), 1000);
    r->c.watermark_lag_s = NAN;
    int rc = 2;
    if (pipeline_dec_config(cfg, &r->dc, r->err, sizeof(r->err)) != 0) {
        fprintf(stderr, "soakwatch: %s\n", r->err);
        free(r);
        return rc;
    }
    loop_init(&r->lp, hook, r);
    rc = run_parts(r);
    if (r->restart && rc == 0) {
        loop_start_over(); /* the input topic changed shape */
        rc = 1;
    }
    close_parts(r); /* the Kafka clients close here, under the shutdown watchdog */
    alarm(0);
    free(r);
    return rc;
}

void live_set_argv(char *const *argv)
{
    loop_set_argv(argv);
}
