/* metrics.h: the engine and the pipeline counters in the Prometheus text
 * exposition format (version 0.0.4), for GET /metrics. The metric names are
 * a contract with dashboards and alert rules: docs/metrics.md lists them. */
#ifndef SOAKWATCH_METRICS_H
#define SOAKWATCH_METRICS_H

#include "buf.h"
#include "config.h"
#include "counters.h"
#include "engine.h"
#include "http.h"

/* The content type of what metrics_render writes. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Append the exposition of e (its windows, rules, status and stats), cfg
 * (strategy and reason names, rule thresholds) and c (pipeline counters,
 * live-mode lags) to out. Every argument is borrowed; version is the build
 * version for soakwatch_build_info. Each family is written once, with its
 * HELP and TYPE lines, and only when it has a sample: null values (NAN)
 * and state not known yet are left out, never printed as NaN.
 * Returns 0, or -ENOBUFS / -ENOMEM when out hit its cap (out then holds a
 * truncated text and must not be served). */
int metrics_render(const sw_engine *e, const sw_config *cfg, const sw_counters *c,
                   const char *version, sw_buf *out);

/* What the HTTP endpoints read; every pointer borrowed, engine may be NULL
 * (before it exists: /metrics then shows the counters only). */
typedef struct metrics_source {
    const sw_engine *engine;
    const sw_config *cfg;
    const sw_counters *counters;
    const char *version;
} metrics_source;

/* The http_handler_fn of the server (ud: a metrics_source). Routes:
 * /healthz 200 "ok"; /readyz 200 "ready" or 503 "not ready" (counters'
 * ready flag); /metrics the exposition; /status the latest status event
 * JSON, or 503 "no status yet"; anything else 404. Returns 0, or the error
 * of metrics_render (the server then answers 500). */
int metrics_http_handler(void *ud, const char *path, size_t path_len, http_reply *reply);

/* Append s as a Prometheus label value (without the quotes): backslash,
 * double quote and newline escaped. Returns 0 or the buf error. */
int metrics_label_escape(sw_buf *out, const char *s);

#endif
