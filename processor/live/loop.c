/* loop.c: the loop the drivers share (loop.h). */
#include "loop.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../clock.h"
#include "../kafka.h"
#include "../report/page.h"
#include "recent.h"

#define SHUTDOWN_BOUND_S 15 /* past this the process exits, whatever hangs */

static int64_t clock_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static sw_clock live_clock;

int64_t loop_now_ms(void *ud)
{
    int64_t step;
    (void)ud;
    int64_t now = sw_clock_now(&live_clock, clock_ms(CLOCK_REALTIME), clock_ms(CLOCK_MONOTONIC),
                               &step);
    if (step)
        fprintf(stderr, "soakwatch: the wall clock stepped by %+.3f s; soakwatch's clock "
                "follows it at 1%% (%.0f s to catch up)\n", (double)step / 1000.0,
                (double)(step < 0 ? -step : step) / 10.0);
    return now;
}

/* During start-up (metadata, history, the first offsets: blocking calls
 * bounded by their timeouts) a SIGTERM or SIGINT waits, blocked, instead of
 * killing the process; once the loop watches for it, it is delivered and
 * the run stops cleanly at once. */
static void signals_block(int block)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(block ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
}

int loop_startup_failed(void)
{
    sigset_t pending;
    if (sigpending(&pending) == 0 &&
        (sigismember(&pending, SIGTERM) == 1 || sigismember(&pending, SIGINT) == 1)) {
        fprintf(stderr, "soakwatch: stopped by a signal during start-up\n");
        return 0;
    }
    return 1;
}

/* ---- the hook ---------------------------------------------------------- */

static void pass(sw_loop *lp)
{
    int tick = lp->ticked;
    lp->ticked = 0;
    int more = !lp->stopping && lp->hook(lp, lp->ud, tick);
    if (more && !lp->stopping)
        ev_idle_start(lp->ev, &lp->again);
    else
        ev_idle_stop(lp->ev, &lp->again);
}

static void on_prepare(struct ev_loop *loop, ev_prepare *w, int revents)
{
    (void)loop;
    (void)revents;
    pass(w->data);
}

/* The idle watcher only keeps the loop from blocking: the hook runs next. */
static void on_again(struct ev_loop *loop, ev_idle *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;
}

static void on_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
    sw_loop *lp = w->data;
    (void)loop;
    (void)revents;
    lp->ticked = 1;
}

static void on_pipe(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    (void)revents;
    kafka_fd_drain(w->fd);
}

static void on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
    (void)loop;
    (void)revents;
    loop_stop(w->data, 0);
}

/* ---- set-up and run ------------------------------------------------------- */

void loop_init(sw_loop *lp, loop_hook_fn hook, void *ud)
{
    memset(lp, 0, sizeof(*lp));
    signals_block(1);
    lp->ev = ev_default_loop(EVFLAG_AUTO);
    lp->hook = hook;
    lp->ud = ud;
    ev_prepare_init(&lp->before_sleep, on_prepare);
    ev_idle_init(&lp->again, on_again);
    ev_timer_init(&lp->tick, on_tick, 1.0, 1.0);
    ev_signal_init(&lp->sig_term, on_signal, SIGTERM);
    ev_signal_init(&lp->sig_int, on_signal, SIGINT);
    lp->before_sleep.data = lp->tick.data = lp->sig_term.data = lp->sig_int.data = lp;
}

void loop_watch_pipe(sw_loop *lp, int fd)
{
    if (fd < 0 || lp->n_pipes == LOOP_PIPES)
        return;
    ev_io *w = &lp->pipes[lp->n_pipes++];
    ev_io_init(w, on_pipe, fd, EV_READ);
    w->data = lp;
}

void loop_tap(void *ud, const char *json, size_t len)
{
    sw_loop *lp = ud;
    if (lp->recent)
        recent_add(lp->recent, json, len);
}

/* GET /: the live page; everything else: probes and metrics. */
static int route(void *ud, const char *path, size_t path_len, http_reply *reply)
{
    sw_loop *lp = ud;
    if (path_len != 1 || path[0] != '/')
        return metrics_http_handler(&lp->ms, path, path_len, reply);
    rp_page *page = rp_page_begin(lp->cfg);
    if (page)
        recent_foreach(lp->recent, rp_page_line, page);
    int rc = rp_page_end(page, reply->body);
    if (rc != 0) {
        fprintf(stderr, "soakwatch: the live page could not be built: %s\n", strerror(-rc));
        return rc;
    }
    reply->content_type = "text/html; charset=utf-8";
    return 0;
}

int loop_http(sw_loop *lp, const sw_config *cfg, const sw_engine *e, const sw_counters *c)
{
    char err[512];
    if (cfg->http_listen[0] == '\0')
        return 0;
    lp->cfg = cfg;
    lp->ms.engine = e;
    lp->ms.cfg = cfg;
    lp->ms.counters = c;
    lp->ms.version = SW_VERSION;
    lp->recent = recent_create(RECENT_DEFAULT_BYTES);
    if (lp->recent == NULL) {
        fprintf(stderr, "soakwatch: out of memory\n");
        return -1;
    }
    lp->http = http_server_create(lp->ev, cfg->http_listen, NULL, route, lp, err, sizeof(err));
    if (lp->http == NULL) {
        fprintf(stderr, "soakwatch: %s\n", err);
        return -1;
    }
    return 0;
}

void loop_run(sw_loop *lp)
{
    ev_prepare_start(lp->ev, &lp->before_sleep);
    ev_timer_start(lp->ev, &lp->tick);
    for (int i = 0; i < lp->n_pipes; i++)
        ev_io_start(lp->ev, &lp->pipes[i]);
    ev_signal_start(lp->ev, &lp->sig_term);
    ev_signal_start(lp->ev, &lp->sig_int);
    signals_block(0);
    if (!lp->stopping)
        ev_run(lp->ev, 0);
    signals_block(1); /* a stop asked for from here on waits for the next loop */
    ev_signal_stop(lp->ev, &lp->sig_term);
    ev_signal_stop(lp->ev, &lp->sig_int);
    ev_prepare_stop(lp->ev, &lp->before_sleep);
    ev_idle_stop(lp->ev, &lp->again);
    ev_timer_stop(lp->ev, &lp->tick);
    for (int i = 0; i < lp->n_pipes; i++)
        ev_io_stop(lp->ev, &lp->pipes[i]);
}

void loop_stop(sw_loop *lp, int code)
{
    if (code > lp->exit_code)
        lp->exit_code = code;
    if (lp->stopping)
        return;
    lp->stopping = 1;
    ev_break(lp->ev, EVBREAK_ALL);
}

void loop_destroy(sw_loop *lp)
{
    http_server_destroy(lp->http);
    lp->http = NULL;
    recent_destroy(lp->recent);
    lp->recent = NULL;
}

/* ---- shutdown and start-over ---------------------------------------------- */

/* SIGALRM during shutdown: a Kafka client did not let go in time. Only
 * async-signal-safe calls here. */
static volatile sig_atomic_t shutdown_code;

static void on_shutdown_overdue(int sig)
{
    static const char msg[] = "soakwatch: shutdown overdue (15 s): exiting without waiting "
                              "for the Kafka clients to close\n";
    (void)sig;
    ssize_t n = write(STDERR_FILENO, msg, sizeof(msg) - 1);
    (void)n;
    _exit(shutdown_code);
}

void loop_shutdown_watchdog(int code)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_shutdown_overdue;
    sigemptyset(&sa.sa_mask);
    shutdown_code = code;
    sigaction(SIGALRM, &sa, NULL);
    alarm(SHUTDOWN_BOUND_S);
}

static char *const *restart_argv;

void loop_set_argv(char *const *argv)
{
    restart_argv = argv;
}

void loop_start_over(void)
{
    fflush(stdout);
    fflush(stderr);
    if (restart_argv == NULL || restart_argv[0] == NULL) {
        fprintf(stderr, "soakwatch: cannot start over: no arguments known\n");
        return;
    }
    long max_fd = sysconf(_SC_OPEN_MAX);
    for (long fd = 3; fd < (max_fd > 0 && max_fd < 65536 ? max_fd : 65536); fd++)
        close((int)fd);
    alarm(0); /* a pending alarm would survive exec and kill the new image */
    signals_block(0);
    execv("/proc/self/exe", restart_argv);
    fprintf(stderr, "soakwatch: cannot start over: exec: %s\n", strerror(errno));
}
