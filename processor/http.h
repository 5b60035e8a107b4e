/* http.h: a small HTTP/1.1 server for probes, /metrics and /status, on the
 * program's libev loop. Requests are parsed by libhttp-parser; every read,
 * write and accept is non-blocking, every buffer has a cap, and a failure on
 * one connection closes that connection only: no client can stall the loop.
 */
#ifndef SOAKWATCH_HTTP_H
#define SOAKWATCH_HTTP_H

#include <stddef.h>

#include "buf.h"

struct ev_loop;

/* Limits of the server; http_limits_default fills the defaults named here.
 *
 * Connections beyond max_connections are accepted and closed at once (after a
 * best-effort "503" written without waiting), so that the kernel's backlog
 * never fills with clients that would wait for nothing while well-behaved
 * ones queue behind them. */
typedef struct http_limits {
    size_t max_header_bytes;   /* request line + headers: 8 KiB; beyond -> 431, close */
    size_t max_body_bytes;     /* 0: a request with a body -> 413, close */
    int max_connections;       /* 64 */
    int max_requests_per_conn; /* 100: the last one is answered with Connection: close */
    double idle_timeout_s;     /* 10: no byte read or written for this long -> close */
    double header_timeout_s;   /* 10: a request's head must be complete within this */
    size_t max_output_bytes;   /* 4 MiB: response bytes pending per connection; beyond -> close */
} http_limits;

void http_limits_default(http_limits *l);

/* What a handler fills. The server resets it before each call: status 200,
 * content type "text/plain; charset=utf-8", an empty body. */
typedef struct http_reply {
    int status;
    const char *content_type; /* borrowed; must stay valid (a literal) */
    sw_buf *body;             /* owned by the server, reused per connection, capped */
} http_reply;

/* Called once per GET or HEAD request with the URL's path (no query string,
 * not NUL-terminated, borrowed for the call). Returns 0, or a negative
 * errno: the client then gets 500. The body written for a HEAD request is
 * measured for Content-Length and not sent. A body that hits its cap is
 * answered with 500 as well. */
typedef int (*http_handler_fn)(void *ud, const char *path, size_t path_len, http_reply *reply);

typedef struct http_server http_server;

/* Bind to listen ("ADDR:PORT", "[V6ADDR]:PORT" or "localhost:PORT"; port 0
 * picks a free port, see http_server_port) and start serving on loop
 * (borrowed; must outlive the server). limits may be NULL for the defaults;
 * it is copied. handler and ud are borrowed. Returns NULL with one line in
 * errstr when the address is unusable or the socket cannot be bound. */
http_server *http_server_create(struct ev_loop *loop, const char *listen,
                                const http_limits *limits, http_handler_fn handler,
                                void *ud, char *errstr, size_t errlen);

/* Stop the watchers, close every connection and the listening socket, free
 * everything. Accepts NULL. Must be called on the loop's thread. */
void http_server_destroy(http_server *s);

/* The bound TCP port (the one picked when 0 was asked). */
int http_server_port(const http_server *s);

/* Open client connections now (for tests and the summary). */
int http_server_connections(const http_server *s);

/* Connections closed, owed nothing, to make room for a new one (the limit
 * reached). */
uint64_t http_server_evicted(const http_server *s);

/* Feed bytes received on one connection through the request-handling path
 * without sockets or a loop: parse them, call handler for each complete
 * request, and append every byte the server would send to out (a response
 * that would close the connection is the last one appended). Exposed for
 * tests and the fuzzer. Returns 0, or -ENOMEM. */
int http_conn_feed_for_test(const http_limits *limits, http_handler_fn handler, void *ud,
                            const char *data, size_t len, sw_buf *out);

#endif
