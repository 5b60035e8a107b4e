/* kafka_replay.c: `soakwatch replay` of a recorded topic. Every partition
 * is read up to its end at start (a bounded source, no clock), merged by
 * event time exactly as live, and the outputs written to a file and/or
 * produced to a topic.
 *
 * Invariants: the same source, merge and engine as the live run, so a
 * replay computes what the live run computed from the same records
 * (docs/semantics.md section 3); no dead letters (the recording is not
 * ours to annotate); a broker silent for 60 s ends the replay with an
 * error instead of hanging it. This file holds the replay's state only.
 * With a follower (a backtest), the follower makes the engine and takes
 * every output event in place of the output stages.
 */
#include "live.h"

#include <errno.h>
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
#include "loop.h"
#include "sink.h"
#include "stages.h"
#include "source.h"

#define QUIET_LIMIT_S 60
#define FLUSH_TIMEOUT_MS 30000

typedef struct replay {
    const sw_config *cfg;
    const kafka_replay_opts *o;
    const file_replay_follower *follow; /* NULL: the output stages */
    sw_loop lp;
    sw_counters c;
    dec_config dc;
    sw_sink *sink;
    sw_source *src;
    sw_engine *e;
    soak_follower *soak; /* the soak cadence (section 11), NULL when off */
    int64_t to_s;         /* stop once every instant up to it is evaluated; -1 none */
    int complete;         /* read to the end, or up to to_s */
    int progress;         /* a terminal: say how far it got every second */
    int64_t t0_ms;
    uint64_t seen;        /* messages at the last tick */
    int quiet_s;          /* seconds without a message */
    char err[512];
} replay;

static int busy(void *ud)
{
    return sink_busy(((replay *)ud)->sink);
}

static void no_dead_letters(void *ud, const sw_reject *r)
{
    (void)ud;
    (void)r;
}

static void say_progress(replay *r)
{
    char ts[40] = "-";
    int64_t s = sw_engine_max_second(r->e);
    if (s != INT64_MIN)
        dec_rfc3339_format(s * 1000, ts, sizeof(ts));
    double el = (double)(loop_now_ms(NULL) - r->t0_ms) / 1000.0;
    fprintf(stderr, "\rsoakwatch: %" PRIu64 " events, event time %s, %.0f events/s   ",
            r->c.messages, ts, el > 0 ? (double)r->c.messages / el : 0.0);
}

/* A broker that stops answering must not hang a replay forever. */
static void watch_quiet(replay *r)
{
    if (r->c.messages != r->seen) {
        r->seen = r->c.messages;
        r->quiet_s = 0;
    } else if (++r->quiet_s >= QUIET_LIMIT_S) {
        fprintf(stderr, "soakwatch: replay of %s: no data from the broker for %d s\n",
                r->o->topic, QUIET_LIMIT_S);
        loop_stop(&r->lp, 1);
    }
}

static int hook(sw_loop *lp, void *ud, int tick)
{
    replay *r = ud;
    if (source_drain(r->src)) {
        loop_stop(lp, 1);
        return 0;
    }
    sink_serve(r->sink);
    int64_t next = sw_engine_next_instant(r->e);
    if (source_done(r->src) || (r->to_s >= 0 && next != INT64_MIN && next > r->to_s)) {
        r->complete = 1; /* every instant up to --to evaluated: nothing more to write */
        loop_stop(lp, 0);
        return 0;
    }
    if (tick) {
        if (r->progress)
            say_progress(r);
        watch_quiet(r);
    }
    return source_more(r->src);
}

int64_t kafka_replay_read_from_ms(const sw_config *cfg, const kafka_replay_opts *o)
{
    return o->read_from_ms != INT64_MIN ? o->read_from_ms
                                        : sw_time_rebuild_from_ms(cfg, o->from_ms);
}

/* The engine and what follows it: the output stages (the soak cadence,
 * then the sink), or the follower. Returns 0 or -1 with r->err. */
static int open_engine(replay *r)
{
    const file_replay_follower *f = r->follow;
    int rc = 0;
    if (f == NULL) {
        sw_stages st; /* a replay posts no alerts */
        rc = stages_open(&st, r->cfg, &r->c, r->sink, 0, r->err, sizeof(r->err));
        r->e = st.e;
        r->soak = st.soak;
    } else if ((r->e = file_replay_follower_engine(f, r->cfg, r->err, sizeof(r->err)))) {
        f->bind(f->ud, r->e, &r->c, sink_output, r->sink);
    }
    if (r->e)
        pipeline_bind_engine(&r->dc, r->e);
    return r->e ? rc : -1;
}

static int open_parts(replay *r)
{
    const sw_config *cfg = r->cfg;
    const kafka_replay_opts *o = r->o;
    sink_opts so = {o->out, o->output_topic, NULL, 0, NULL, NULL};
    source_opts io = {o->topic, kafka_replay_read_from_ms(cfg, o), 1, INT64_MAX / 2};
    source_hooks h = {r, loop_now_ms, busy, no_dead_letters};
    if ((r->sink = sink_create(cfg, &so, &r->c, r->err, sizeof(r->err))) == NULL ||
        (r->src = source_create(cfg, &r->dc, &io, &h, &r->c, r->err, sizeof(r->err))) == NULL)
        return -1;
    if (open_engine(r) != 0)
        return -1;
    int64_t from_s = sw_floor_div(o->from_ms + 999, 1000);
    if (r->soak) {
        soak_set_publish_from(r->soak, from_s); /* a live run's soak began where it published */
        soak_set_text(r->soak, o->text);
    }
    if (cfg->provenance &&
        sw_engine_set_sources(r->e, source_partitions(r->src), "partitions") != 0) {
        snprintf(r->err, sizeof(r->err), "out of memory");
        return -1;
    }
    if (source_start(r->src, r->e, r->err, sizeof(r->err)) != 0)
        return -1;
    r->to_s = o->to_ms < 0 ? -1 : sw_floor_div(o->to_ms, 1000);
    sw_engine_set_emit_range(r->e, from_s, r->to_s, NULL);
    sw_engine_set_text(r->e, o->text);
    return 0;
}

/* After the loop: finish, flush, and the summary line. Returns the status. */
static int finish(replay *r)
{
    int rc = r->lp.exit_code;
    if (r->progress)
        fputs("\r\033[K", stderr);
    if (!r->complete && rc == 0) {
        fprintf(stderr, "soakwatch: replay of %s stopped before its end\n", r->o->topic);
        rc = 1;
    }
    if (r->complete && source_done(r->src))
        sw_engine_finish(r->e);
    if (r->o->output_topic && sink_flush(r->sink, FLUSH_TIMEOUT_MS) != 0) {
        fprintf(stderr, "soakwatch: output events to %s not all delivered\n",
                r->o->output_topic);
        rc = rc ? rc : 1;
    }
    if (sink_file_flush(r->sink) != 0) {
        fprintf(stderr, "soakwatch: writing output failed: %s\n", strerror(errno));
        rc = rc ? rc : 1;
    }
    if (!r->complete)
        return rc;
    char line[1024];
    pipeline_summary(r->e, &r->c, line, sizeof(line));
    fprintf(stderr, "soakwatch: %s\n", line);
    return rc;
}

int kafka_replay_run(const sw_config *cfg, const kafka_replay_opts *o)
{
    return kafka_replay_run_followed(cfg, o, NULL);
}

int kafka_replay_run_followed(const sw_config *cfg, const kafka_replay_opts *o,
                              const file_replay_follower *f)
{
    replay *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        fprintf(stderr, "soakwatch: out of memory\n");
        return 1;
    }
    int rc = 1;
    r->cfg = cfg;
    r->o = o;
    r->follow = f;
    r->c.watermark_lag_s = NAN;
    r->progress = o->progress < 0 ? isatty(STDERR_FILENO) : o->progress;
    if (pipeline_dec_config(cfg, &r->dc, r->err, sizeof(r->err)) != 0) {
        fprintf(stderr, "soakwatch: %s\n", r->err);
    } else {
        loop_init(&r->lp, hook, r);
        if (open_parts(r) != 0) {
            fprintf(stderr, "soakwatch: %s\n", r->err);
        } else {
            r->t0_ms = loop_now_ms(NULL);
            loop_watch_pipe(&r->lp, source_fd(r->src));
            loop_watch_pipe(&r->lp, sink_fd(r->sink));
            loop_run(&r->lp);
            rc = finish(r);
        }
        loop_destroy(&r->lp);
    }
    source_destroy(r->src);
    sink_destroy(r->sink);
    sw_engine_destroy(r->e);
    soak_destroy(r->soak);
    pipeline_dec_free(&r->dc);
    free(r);
    return rc;
}
