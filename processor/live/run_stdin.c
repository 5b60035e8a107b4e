/* run_stdin.c: `soakwatch run` without brokers: JSON Lines on stdin,
 * output events on stdout, acknowledgements from a followed control file.
 *
 * Invariants: a line is taken whole (up to max_message_bytes; a longer one
 * is rejected as too large without being held); stdin is read to its end
 * whenever it is readable, so silence past the idle timeout is the idle
 * clock's to observe; output is flushed on every read and every tick. This
 * file holds the stdin run's state only.
 */
#include "live.h"

#include <errno.h>
#include <fcntl.h>
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
#include "control_in.h"
#include "loop.h"
#include "sink.h"
#include "stages.h"

#define READ_CHUNK 65536

typedef struct run {
    const sw_config *cfg;
    const char *ctl_path;
    sw_loop lp;
    sw_counters c;
    dec_config dc;
    sw_sink *sink;
    sw_engine *e;
    soak_follower *soak; /* the soak cadence (section 11), NULL when off */
    sw_alerts *alerts;   /* Alertmanager, NULL when off */
    sw_control_in *ctl;
    ev_io stdin_io;
    ev_stat ctl_stat;
    char *line;
    size_t line_len;
    int skipping;        /* inside a line over the cap */
    int64_t lineno;
    int64_t last_read_ms;
    int eof;
    int watching;
    char err[512];
} run;

static void take_line(run *r, const char *s, size_t len)
{
    if (len && s[len - 1] == '\r')
        len--;
    r->lineno++;
    if (len == 0)
        return;
    sw_time_now(r->e, loop_now_ms(NULL));
    pipeline_feed_from(r->e, &r->dc, &r->c, s, len, 0, r->lineno);
}

/* Split a chunk read into lines, holding an incomplete last one. */
static void take_chunk(run *r, const char *p, const char *end)
{
    size_t cap = r->cfg->max_message_bytes;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = (size_t)((nl ? nl : end) - p);
        if (!r->skipping) {
            if (r->line_len + n > cap + 1) { /* + 1: a '\r' before the newline */
                r->skipping = 1;
                r->line_len = 0;
            } else {
                memcpy(r->line + r->line_len, p, n);
                r->line_len += n;
            }
        }
        if (nl == NULL)
            break;
        if (r->skipping) {
            pipeline_count_oversized(&r->c);
            r->lineno++;
            r->skipping = 0;
        } else {
            take_line(r, r->line, r->line_len);
        }
        r->line_len = 0;
        p = nl + 1;
    }
}

static void at_eof(run *r, ssize_t got)
{
    if (got < 0)
        fprintf(stderr, "soakwatch: reading stdin: %s\n", strerror(errno));
    if (r->line_len && !r->skipping)
        take_line(r, r->line, r->line_len);
    r->line_len = 0;
    r->eof = 1;
    ev_io_stop(r->lp.ev, &r->stdin_io);
    loop_stop(&r->lp, 0);
}

static void on_stdin(struct ev_loop *loop, ev_io *w, int revents)
{
    run *r = w->data;
    char buf[READ_CHUNK];
    (void)loop;
    (void)revents;
    for (;;) {
        ssize_t got = read(w->fd, buf, sizeof(buf));
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (got <= 0) {
            at_eof(r, got);
            break;
        }
        r->last_read_ms = loop_now_ms(NULL);
        take_chunk(r, buf, buf + got);
    }
    sink_file_flush(r->sink);
}

static void on_ctl_stat(struct ev_loop *loop, ev_stat *w, int revents)
{
    run *r = w->data;
    (void)loop;
    (void)revents;
    control_in_poll(r->ctl, r->e, loop_now_ms(NULL));
}

/* Once a second: the idle clock (soakwatch watches from when it began
 * reading stdin), the control file as a safety net for a change the stat
 * watcher missed, and the output flushed. */
static int hook(sw_loop *lp, void *ud, int tick)
{
    run *r = ud;
    if (r->alerts)
        alerts_serve(r->alerts, loop_now_ms(NULL)); /* changes at once */
    if (!tick)
        return 0;
    int64_t now_ms = loop_now_ms(NULL);
    if (!r->skipping && r->line_len == 0 &&
        now_ms - r->last_read_ms >= r->cfg->idle_timeout_s * 1000) {
        if (!r->watching) {
            r->watching = 1;
            sw_engine_start(r->e, r->c.started_unix_s);
            char at[32];
            dec_rfc3339_format(sw_engine_t0(r->e) * 1000, at, sizeof(at));
            fprintf(stderr, "soakwatch: watching; coverage starts at %s (replay --start %s)\n",
                    at, at);
        }
        sw_engine_set_wall_clock(r->e, sw_floor_div(now_ms, 1000));
        sw_time_idle(r->e, now_ms, r->last_read_ms);
    }
    if (r->ctl)
        control_in_poll(r->ctl, r->e, now_ms);
    if (sink_file_flush(r->sink) != 0) {
        fprintf(stderr, "soakwatch: writing output failed: %s\n", strerror(errno));
        loop_stop(lp, 1);
    }
    return 0;
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

/* Engine, sink, control file. Returns 0 or an exit status. */
static int open_parts(run *r)
{
    const sw_config *cfg = r->cfg;
    sink_opts so = {stdout, NULL, NULL, 0, loop_tap, &r->lp};
    r->line = malloc(cfg->max_message_bytes + 2);
    if (r->line == NULL ||
        (r->sink = sink_create(cfg, &so, &r->c, r->err, sizeof(r->err))) == NULL ||
        open_stages(r) != 0 ||
        (cfg->provenance && sw_engine_set_sources(r->e, 1, "lines") != 0)) {
        fprintf(stderr, "soakwatch: %s\n", r->line && r->sink && !r->e ? r->err : "out of memory");
        return 1;
    }
    if (r->ctl_path) {
        r->ctl = control_in_file(cfg, r->ctl_path, &r->c);
        if (r->ctl == NULL) {
            int why = errno;
            fprintf(stderr, "soakwatch: cannot open control file %s: %s\n", r->ctl_path,
                    strerror(why));
            return why == ENOMEM ? 1 : 2; /* memory short: not an unusable argument */
        }
        control_in_poll(r->ctl, r->e, loop_now_ms(NULL));
        ev_stat_init(&r->ctl_stat, on_ctl_stat, r->ctl_path, 0.);
        r->ctl_stat.data = r;
        ev_stat_start(r->lp.ev, &r->ctl_stat);
    }
    return 0;
}

/* The watchers live in r, which the caller frees: none may stay on the
 * default loop, whose next run would call them. */
static void stop_watchers(run *r)
{
    ev_io_stop(r->lp.ev, &r->stdin_io);
    if (r->ctl)
        ev_stat_stop(r->lp.ev, &r->ctl_stat);
}

static int run_parts(run *r)
{
    int rc = open_parts(r);
    if (rc != 0)
        return rc;
    fcntl(STDIN_FILENO, F_SETFL, fcntl(STDIN_FILENO, F_GETFL) | O_NONBLOCK);
    r->last_read_ms = loop_now_ms(NULL);
    ev_io_init(&r->stdin_io, on_stdin, STDIN_FILENO, EV_READ);
    r->stdin_io.data = r;
    ev_io_start(r->lp.ev, &r->stdin_io);
    if (loop_http(&r->lp, r->cfg, r->e, &r->c) != 0) {
        stop_watchers(r);
        return 1;
    }
    r->c.ready = 1;
    loop_run(&r->lp);
    stop_watchers(r);
    rc = r->lp.exit_code;
    int finished = r->eof && rc == 0;
    if (finished)
        sw_engine_finish(r->e);
    if (sink_file_flush(r->sink) != 0) {
        fprintf(stderr, "soakwatch: writing output failed: %s\n", strerror(errno));
        rc = 1;
    }
    if (finished && r->alerts) /* the last instants' alerts, within one POST's timeout */
        alerts_flush(r->alerts, loop_now_ms, r->cfg->alertmanager.timeout_ms);
    char line[1024];
    pipeline_summary(r->e, &r->c, line, sizeof(line));
    fprintf(stderr, "soakwatch: %s\n", line);
    return rc;
}

int run_stdin(const sw_config *cfg, const char *control_path)
{
    run *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        fprintf(stderr, "soakwatch: out of memory\n");
        return 1;
    }
    r->cfg = cfg;
    r->ctl_path = control_path;
    r->c.started_unix_s = sw_floor_div(loop_now_ms(NULL), 1000);
    r->c.watermark_lag_s = NAN;
    int rc = 2;
    if (pipeline_dec_config(cfg, &r->dc, r->err, sizeof(r->err)) != 0) {
        fprintf(stderr, "soakwatch: %s\n", r->err);
    } else {
        loop_init(&r->lp, hook, r);
        rc = run_parts(r);
        loop_destroy(&r->lp);
    }
    control_in_destroy(r->ctl);
    alerts_destroy(r->alerts);
    sw_engine_destroy(r->e);
    soak_destroy(r->soak);
    sink_destroy(r->sink);
    pipeline_dec_free(&r->dc);
    free(r->line);
    free(r);
    return rc;
}
