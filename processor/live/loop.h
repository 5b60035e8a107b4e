/* loop.h: what the three drivers share: one libev loop with one hook run
 * before the loop sleeps (in the spirit of Redis's beforesleep), a
 * one-second tick, SIGTERM/SIGINT, the HTTP server for probes and metrics,
 * the clock, the bounded shutdown and the start-over of a run.
 *
 * Invariants: the drivers' work happens in the hook, so every wake-up
 * (a Kafka client's pipe, the tick, a signal) is followed by one pass of
 * it before the loop blocks again; while the hook says it has more to do
 * the loop does not block. Only the drivers read the clock (loop_now_ms);
 * the parts are handed the time. No part includes this header.
 */
#ifndef SOAKWATCH_LOOP_H
#define SOAKWATCH_LOOP_H

#include <ev.h>
#include <stdint.h>

#include "../config.h"
#include "../counters.h"
#include "../engine.h"
#include "../http.h"
#include "../metrics.h"

typedef struct sw_loop sw_loop;
/* The per-iteration hook; `tick` is 1 when the one-second tick has fired
 * since the last pass. Returns 1 when it has more to do at once. */
typedef int (*loop_hook_fn)(sw_loop *lp, void *ud, int tick);

#define LOOP_PIPES 4

struct sw_loop {
    struct ev_loop *ev;
    int stopping;
    int exit_code;
    int ticked;
    loop_hook_fn hook;
    void *ud;
    ev_prepare before_sleep;
    ev_idle again;
    ev_timer tick;
    ev_signal sig_term, sig_int;
    ev_io pipes[LOOP_PIPES];
    int n_pipes;
    http_server *http;
    metrics_source ms;
    const sw_config *cfg;
    struct sw_recent *recent; /* the latest outputs, for the live page (GET /) */
};

/* The live program's clock (clock.h): wall time that never jumps; a step
 * of the wall clock is logged once and slewed away at 1%. An sw_now_fn. */
int64_t loop_now_ms(void *ud);

/* Set up on the default loop; SIGTERM and SIGINT are blocked until
 * loop_run (start-up waits for its bounded steps, then stops cleanly). */
void loop_init(sw_loop *lp, loop_hook_fn hook, void *ud);
/* Wake the loop when fd (a Kafka client's wake-up pipe) turns readable. */
void loop_watch_pipe(sw_loop *lp, int fd);
/* Serve probes, metrics and the live page on cfg->http_listen (none when
 * empty). Returns 0, or -1 with one line on stderr. The live page (GET /)
 * is the HTML report of the latest output events, kept in a ring of
 * RECENT_DEFAULT_BYTES (4 MiB, about 40 hours of statuses at one a
 * minute) and built per request. */
int loop_http(sw_loop *lp, const sw_config *cfg, const sw_engine *e, const sw_counters *c);
/* The sink's tap (ud: the loop): every output written, for the live page. */
void loop_tap(void *ud, const char *json, size_t len);
/* Run until loop_stop; then the signals wait again (a stop asked for from
 * here on waits) and every watcher is stopped. */
void loop_run(sw_loop *lp);
/* Stop the run with at least exit status code. */
void loop_stop(sw_loop *lp, int code);
void loop_destroy(sw_loop *lp);

/* A start-up step failed: exit status 1, unless a SIGTERM or SIGINT came
 * meanwhile, which asked for a stop (status 0) before the failure. */
int loop_startup_failed(void);

/* Shutdown has begun: whatever hangs in the clients' teardown, the process
 * ends within 15 s with exit status code. */
void loop_shutdown_watchdog(int code);

/* The process's arguments, for loop_start_over. */
void loop_set_argv(char *const *argv);
/* Start over as a new process image with the same arguments (the clients
 * are not destroyed: librdkafka can hang closing a consumer whose
 * partitions vanished). Returns only when exec failed. */
void loop_start_over(void);

#endif
