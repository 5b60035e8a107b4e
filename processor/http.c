/* http.c: the HTTP/1.1 server of http.h on a libev loop. Invariant: the loop
 * never waits on a client. Every socket is non-blocking; a connection reads
 * only when its input is consumed and its pending output is small, so one
 * client costs at most its fixed buffers, and every connection is closed by
 * a deadline (idle, request head, lingering close) whatever the client does.
 */
#include "http.h"

#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <http_parser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#define IN_CHUNK 4096                 /* bytes read from a socket at once */
#define URL_MAX 2048                  /* longer request targets -> 414 */
#define OUT_HIGH_WATER (64 * 1024)    /* pending output beyond this: stop parsing */
#define HEAD_ROOM 1024                /* status line and headers of one response */
#define LINGER_S 2.0                  /* lingering close: wait this long for the client's FIN */
#define LINGER_MAX_BYTES (64 * 1024)  /* ... and discard at most this much */
#define KEEP_BUF_BYTES (256 * 1024)   /* a freed slot keeps buffers up to this size */
#define ACCEPT_BATCH 64               /* accepts per callback: others get their turn */
#define ACCEPT_RETRY_S 1.0            /* after EMFILE and the like */

typedef struct http_conn {
    http_server *srv;
    int fd;               /* -1: free slot (or the socket-less test path) */
    int open;
    ev_io rio, wio;
    ev_timer timer;
    http_parser parser;

    char in[IN_CHUNK];
    size_t in_off, in_len;
    char url[URL_MAX];
    size_t url_len;
    size_t head_bytes;    /* bytes of the current request so far */
    int reject;           /* status answering the current request, then close */
    int is_head;          /* the current request is HEAD */
    int in_head;          /* a request head is being read: its deadline runs */
    ev_tstamp head_start, last_active, linger_until;
    int requests;
    int closing;          /* answer no more requests: flush, then close */
    int eof;              /* the client closed its side */
    int dead;             /* output overflowed: close without flushing */
    int lingering;
    size_t linger_bytes;

    sw_buf body;          /* the handler's body, reused per request */
    sw_buf out;           /* bytes to send; out_off of them are sent */
    size_t out_off;
} http_conn;

struct http_server {
    struct ev_loop *loop;
    http_limits lim;
    http_handler_fn handler;
    void *ud;
    int lfd;
    int port;
    uint64_t evicted;     /* connections closed to make room for a new one */
    ev_io accept_io;
    ev_timer accept_retry;
    http_conn *conns;     /* lim.max_connections slots */
    int n_open;
};

void http_limits_default(http_limits *l)
{
    l->max_header_bytes = 8 * 1024;
    l->max_body_bytes = 0;
    l->max_connections = 64;
    l->max_requests_per_conn = 100;
    l->idle_timeout_s = 10.0;
    l->header_timeout_s = 10.0;
    l->max_output_bytes = 4u * 1024 * 1024;
}

static const char *status_text(int code)
{
    switch (code) {
    case 200: return "OK";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
    }
}

/* Deadlines are intervals: the monotonic clock, which a step of the wall
 * clock does not move (libev's ev_now is wall time). */
static ev_tstamp mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (ev_tstamp)ts.tv_sec + (ev_tstamp)ts.tv_nsec / 1e9;
}

static ev_tstamp conn_now(const http_conn *c)
{
    return c->srv->loop ? mono_now() : 0.0;
}

/* ---- responses ---------------------------------------------------------- */

/* Append one response to c->out. A response that does not fit the output
 * cap marks the connection dead (it is closed, nothing more is sent). */
static void conn_respond(http_conn *c, int status, const char *ctype, const char *body,
                         size_t body_len, int keep_alive)
{
    size_t before = c->out.len;
    int rc = buf_printf(&c->out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                        "Cache-Control: no-store\r\n",
                        status, status_text(status), ctype, body_len);
    if (status == 405)
        rc |= buf_puts(&c->out, "Allow: GET, HEAD\r\n");
    if (!keep_alive)
        rc |= buf_puts(&c->out, "Connection: close\r\n");
    else if (c->parser.http_major == 1 && c->parser.http_minor == 0)
        rc |= buf_puts(&c->out, "Connection: keep-alive\r\n");
    rc |= buf_puts(&c->out, "\r\n");
    if (!c->is_head && body_len > 0)
        rc |= buf_append(&c->out, body, body_len);
    if (rc != 0) {
        c->out.len = before;
        c->out.failed = 0;
        if (c->out.data)
            c->out.data[before] = '\0';
        c->dead = 1;
    }
    if (!keep_alive)
        c->closing = 1;
}

/* A response the server makes itself; it always closes the connection
 * (the rest of the input cannot be trusted to be a request boundary). */
static void conn_error(http_conn *c, int status)
{
    char body[64];
    int n = snprintf(body, sizeof(body), "%s\n", status_text(status));
    conn_respond(c, status, "text/plain; charset=utf-8", body, (size_t)n, 0);
}

/* One complete GET or HEAD request: call the handler, queue its answer. */
static void conn_answer(http_conn *c)
{
    http_server *s = c->srv;
    c->requests++;
    int keep = http_should_keep_alive(&c->parser) && !c->parser.upgrade &&
               c->requests < s->lim.max_requests_per_conn;

    struct http_parser_url u;
    http_parser_url_init(&u);
    if (http_parser_parse_url(c->url, c->url_len, 0, &u) != 0) {
        conn_error(c, 400);
        return;
    }
    const char *path = "/";
    size_t path_len = 1;
    if (u.field_set & (1u << UF_PATH)) {
        path = c->url + u.field_data[UF_PATH].off;
        path_len = u.field_data[UF_PATH].len;
    }

    buf_reset(&c->body);
    http_reply r = {200, "text/plain; charset=utf-8", &c->body};
    int rc = s->handler(s->ud, path, path_len, &r);
    if (rc < 0 || c->body.failed || r.status < 100 || r.status > 599 || r.content_type == NULL) {
        static const char msg[] = "Internal Server Error\n";
        conn_respond(c, 500, "text/plain; charset=utf-8", msg, sizeof(msg) - 1, keep);
        return;
    }
    conn_respond(c, r.status, r.content_type, c->body.data ? c->body.data : "", c->body.len, keep);
}

/* ---- parser callbacks ------------------------------------------------------ */

static int on_message_begin(http_parser *p)
{
    http_conn *c = p->data;
    c->url_len = 0;
    c->reject = 0;
    c->is_head = 0;
    /* The first request's head deadline runs from the accept. */
    if (c->requests > 0 || !c->in_head) {
        c->head_start = conn_now(c);
        if (c->srv->loop && c->fd >= 0) {
            c->timer.repeat = c->srv->lim.header_timeout_s;
            ev_timer_again(c->srv->loop, &c->timer);
        }
    }
    c->in_head = 1;
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
    http_conn *c = p->data;
    if (len > URL_MAX - c->url_len) {
        c->reject = 414;
        return -1;
    }
    memcpy(c->url + c->url_len, at, len);
    c->url_len += len;
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    http_conn *c = p->data;
    c->in_head = 0;
    c->is_head = p->method == HTTP_HEAD;
    if (p->method != HTTP_GET && p->method != HTTP_HEAD) {
        c->reject = 405;
        return -1;
    }
    if ((p->flags & F_CHUNKED) || p->uses_transfer_encoding ||
        ((p->flags & F_CONTENTLENGTH) && p->content_length > c->srv->lim.max_body_bytes)) {
        c->reject = 413;
        return -1;
    }
    return 0;
}

static int on_message_complete(http_parser *p)
{
    /* One request at a time: execute returns here, so that its bytes are
     * counted and its answer queued before the next one is parsed. */
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings parser_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_headers_complete = on_headers_complete,
    .on_message_complete = on_message_complete,
};

/* Parse the buffered input, answering each complete request into c->out.
 * Stops at the end of the input, when the connection is closing, or (on a
 * socket) when too much output is pending: the rest waits in c->in. */
static void conn_process(http_conn *c)
{
    const http_limits *lim = &c->srv->lim;
    while (c->in_off < c->in_len && !c->closing && !c->dead) {
        if (c->fd >= 0 && c->out.len - c->out_off > OUT_HIGH_WATER)
            break;
        size_t n = http_parser_execute(&c->parser, &parser_settings, c->in + c->in_off,
                                       c->in_len - c->in_off);
        c->in_off += n;
        c->head_bytes += n;
        enum http_errno err = HTTP_PARSER_ERRNO(&c->parser);
        if (c->head_bytes > lim->max_header_bytes) {
            conn_error(c, 431);
        } else if (c->reject) {
            conn_error(c, c->reject);
        } else if (err == HPE_PAUSED) {
            http_parser_pause(&c->parser, 0);
            c->head_bytes = 0;
            conn_answer(c);
        } else if (err != HPE_OK) {
            conn_error(c, 400);
        }
    }
    if (c->in_off == c->in_len)
        c->in_off = c->in_len = 0;
}

static void conn_reset_state(http_conn *c)
{
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
    c->in_off = c->in_len = 0;
    c->url_len = 0;
    c->head_bytes = 0;
    c->reject = c->is_head = 0;
    c->requests = 0;
    c->closing = c->eof = c->dead = c->lingering = 0;
    c->linger_bytes = 0;
    buf_reset(&c->body);
    buf_reset(&c->out);
    c->out_off = 0;
}

static void conn_bufs_init(http_conn *c, const http_limits *lim)
{
    size_t body_cap = lim->max_output_bytes > HEAD_ROOM ? lim->max_output_bytes - HEAD_ROOM : 0;
    buf_init(&c->body, body_cap);
    buf_init(&c->out, lim->max_output_bytes);
}

/* ---- sockets ------------------------------------------------------------- */

static void conn_close(http_conn *c)
{
    http_server *s = c->srv;
    if (!c->open)
        return;
    ev_io_stop(s->loop, &c->rio);
    ev_io_stop(s->loop, &c->wio);
    ev_timer_stop(s->loop, &c->timer);
    close(c->fd);
    c->fd = -1;
    c->open = 0;
    s->n_open--;
    /* Keep modest buffers for the next client; give back large ones. */
    if (c->body.alloc > KEEP_BUF_BYTES)
        buf_free(&c->body);
    if (c->out.alloc > KEEP_BUF_BYTES)
        buf_free(&c->out);
    buf_reset(&c->body);
    buf_reset(&c->out);
}

/* Send what is pending. Returns 0 when all is sent, 1 when the socket is
 * full (the write watcher then runs), -1 when the connection failed. */
static int conn_flush(http_conn *c)
{
    struct ev_loop *loop = c->srv->loop;
    while (c->out_off < c->out.len) {
        ssize_t n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL);
        if (n > 0) {
            c->out_off += (size_t)n;
            c->last_active = mono_now();
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            ev_io_start(loop, &c->wio);
            return 1;
        }
        return -1;
    }
    ev_io_stop(loop, &c->wio);
    buf_reset(&c->out);
    c->out_off = 0;
    return 0;
}

/* All answered: send our FIN, then read and discard until the client's
 * FIN or a short deadline, so that unread request bytes do not make the
 * kernel reset the connection before the client has read the answer. */
static void conn_linger(http_conn *c)
{
    struct ev_loop *loop = c->srv->loop;
    if (c->eof || shutdown(c->fd, SHUT_WR) != 0) {
        conn_close(c);
        return;
    }
    c->lingering = 1;
    c->linger_until = mono_now() + LINGER_S;
    ev_io_start(loop, &c->rio);
    c->timer.repeat = LINGER_S;
    ev_timer_again(loop, &c->timer);
}

/* Parse, answer and send as far as the client lets us, then decide whether
 * to read more. May close the connection. */
static void conn_pump(http_conn *c)
{
    struct ev_loop *loop = c->srv->loop;
    for (;;) {
        conn_process(c);
        if (c->dead) {
            conn_close(c);
            return;
        }
        int r = conn_flush(c);
        if (r < 0) {
            conn_close(c);
            return;
        }
        if (r == 1)
            break;
        if (c->closing) {
            conn_linger(c);
            return;
        }
        if (c->in_off == c->in_len)
            break;
    }
    if (!c->closing && c->in_off == c->in_len && c->out.len - c->out_off <= OUT_HIGH_WATER)
        ev_io_start(loop, &c->rio);
    else
        ev_io_stop(loop, &c->rio);
}

static void conn_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)revents;
    http_conn *c = w->data;
    if (c->lingering) {
        char sink[IN_CHUNK];
        ssize_t n = recv(c->fd, sink, sizeof(sink), 0);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return;
        if (n > 0)
            c->linger_bytes += (size_t)n;
        if (n <= 0 || c->linger_bytes > LINGER_MAX_BYTES)
            conn_close(c);
        return;
    }
    /* Only called with c->in empty (see conn_pump). */
    ssize_t n = recv(c->fd, c->in, sizeof(c->in), 0);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return;
        conn_close(c);
        return;
    }
    c->last_active = mono_now();
    if (n == 0) {
        c->eof = 1;
        c->closing = 1;
        ev_io_stop(loop, &c->rio);
    } else {
        c->in_off = 0;
        c->in_len = (size_t)n;
    }
    conn_pump(c);
}

static void conn_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    (void)revents;
    conn_pump(w->data);
}

/* One timer per connection, checked lazily: activity only moves
 * last_active, and the timer re-arms itself for the nearest deadline. */
static void conn_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)revents;
    http_conn *c = w->data;
    const http_limits *lim = &c->srv->lim;
    ev_tstamp now = mono_now(), deadline;
    if (c->lingering) {
        deadline = c->linger_until;
    } else {
        deadline = c->last_active + lim->idle_timeout_s;
        if (c->in_head && c->head_start + lim->header_timeout_s < deadline)
            deadline = c->head_start + lim->header_timeout_s;
    }
    if (deadline <= now) {
        conn_close(c);
        return;
    }
    w->repeat = deadline - now;
    ev_timer_again(loop, w);
}

static void conn_open(http_server *s, http_conn *c, int fd)
{
    struct ev_loop *loop = s->loop;
    c->fd = fd;
    c->open = 1;
    s->n_open++;
    conn_reset_state(c);
    ev_tstamp now = mono_now();
    c->last_active = now;
    c->head_start = now;
    c->in_head = 1; /* the first request's head deadline runs from now */
    ev_io_init(&c->rio, conn_read_cb, fd, EV_READ);
    ev_io_init(&c->wio, conn_write_cb, fd, EV_WRITE);
    ev_init(&c->timer, conn_timer_cb);
    c->rio.data = c->wio.data = c->timer.data = c;
    double first = s->lim.header_timeout_s < s->lim.idle_timeout_s ? s->lim.header_timeout_s
                                                                    : s->lim.idle_timeout_s;
    c->timer.repeat = first;
    ev_timer_again(loop, &c->timer);
    ev_io_start(loop, &c->rio);
}

static void refuse(int fd)
{
    static const char msg[] = "HTTP/1.1 503 Service Unavailable\r\n"
                              "Content-Type: text/plain; charset=utf-8\r\n"
                              "Content-Length: 21\r\nConnection: close\r\n\r\n"
                              "too many connections\n";
    /* Best effort on a fresh socket: it never blocks, and is never retried. */
    ssize_t n = send(fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)n;
    close(fd);
}

/* A slot for a new connection: a free one, or else the one that has waited
 * longest without a request to answer (idle between requests, mid-head or
 * lingering: nothing owed to it), which is closed. Idle or slow clients
 * holding every slot must not starve the kubelet's probes. NULL when every
 * connection is owed a response. */
static http_conn *free_slot(http_server *s)
{
    http_conn *victim = NULL;
    ev_tstamp oldest = 0;
    for (int k = 0; k < s->lim.max_connections; k++) {
        http_conn *c = &s->conns[k];
        if (!c->open)
            return c;
        if (c->out_off < c->out.len && !c->lingering)
            continue; /* a response on its way */
        ev_tstamp since = c->in_head ? c->head_start : c->last_active;
        if (victim == NULL || since < oldest) {
            victim = c;
            oldest = since;
        }
    }
    if (victim) {
        s->evicted++;
        conn_close(victim);
    }
    return victim;
}

static void accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)revents;
    http_server *s = w->data;
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        int fd = accept(s->lfd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* Level-triggered: without a pause this would spin. */
                ev_io_stop(loop, &s->accept_io);
                ev_timer_set(&s->accept_retry, ACCEPT_RETRY_S, 0.0);
                ev_timer_start(loop, &s->accept_retry);
            }
            return;
        }
        if (fcntl(fd, F_SETFL, O_NONBLOCK) != 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
            close(fd);
            continue;
        }
        http_conn *slot = free_slot(s);
        if (slot == NULL) {
            refuse(fd);
            continue;
        }
        int one = 1;
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        conn_open(s, slot, fd);
    }
}

static void accept_retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)revents;
    http_server *s = w->data;
    ev_io_start(loop, &s->accept_io);
}

/* Split "ADDR:PORT" / "[V6]:PORT" into host and port. Returns 0 or -EINVAL. */
static int split_listen(const char *listen, char *host, size_t hostcap, char *port, size_t portcap)
{
    const char *hs, *he, *colon;
    if (listen[0] == '[') {
        hs = listen + 1;
        he = strchr(hs, ']');
        if (he == NULL || he[1] != ':')
            return -EINVAL;
        colon = he + 1;
    } else {
        hs = listen;
        colon = strrchr(listen, ':');
        if (colon == NULL || memchr(listen, ':', (size_t)(colon - listen)) != NULL)
            return -EINVAL;
        he = colon;
    }
    size_t hl = (size_t)(he - hs), pl = strlen(colon + 1);
    if (hl == 0 || hl >= hostcap || pl == 0 || pl >= portcap)
        return -EINVAL;
    long v = 0;
    for (size_t i = 0; i < pl; i++) {
        if (colon[1 + i] < '0' || colon[1 + i] > '9')
            return -EINVAL;
        v = v * 10 + (colon[1 + i] - '0');
        if (v > 65535)
            return -EINVAL;
    }
    memcpy(host, hs, hl);
    host[hl] = '\0';
    memcpy(port, colon + 1, pl + 1);
    return 0;
}

/* Bind and listen on the first usable address of addr. Returns the
 * socket, or -1 with errstr set. */
static int listen_socket(const char *addr, int *port_out, char *errstr, size_t errlen)
{
    char host[256], port[8];
    if (addr == NULL || split_listen(addr, host, sizeof(host), port, sizeof(port)) != 0) {
        snprintf(errstr, errlen,
                 "http: listen address '%s' is not ADDR:PORT, [V6ADDR]:PORT or localhost:PORT",
                 addr ? addr : "(null)");
        return -1;
    }
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    if (strcmp(host, "localhost") != 0)
        hints.ai_flags |= AI_NUMERICHOST; /* no name lookups at startup */
    int gai = getaddrinfo(host, port, &hints, &res);
    if (gai != 0) {
        snprintf(errstr, errlen, "http: listen address '%s': %s", addr, gai_strerror(gai));
        return -1;
    }
    int fd = -1, err = 0;
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        int one = 1;
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, SOMAXCONN) == 0)
            break;
        err = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        snprintf(errstr, errlen, "http: cannot listen on '%s': %s", addr, strerror(err));
        return -1;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
        snprintf(errstr, errlen, "http: getsockname on '%s': %s", addr, strerror(errno));
        close(fd);
        return -1;
    }
    *port_out = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                         : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return fd;
}

http_server *http_server_create(struct ev_loop *loop, const char *listen,
                                const http_limits *limits, http_handler_fn handler,
                                void *ud, char *errstr, size_t errlen)
{
    http_server *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        snprintf(errstr, errlen, "http: out of memory");
        return NULL;
    }
    s->lfd = -1;
    s->loop = loop;
    s->handler = handler;
    s->ud = ud;
    if (limits)
        s->lim = *limits;
    else
        http_limits_default(&s->lim);
    if (s->lim.max_connections < 1 || s->lim.max_requests_per_conn < 1 ||
        s->lim.idle_timeout_s <= 0 || s->lim.header_timeout_s <= 0 ||
        s->lim.max_header_bytes < 64 || s->lim.max_output_bytes <= HEAD_ROOM) {
        snprintf(errstr, errlen, "http: limits out of range (connections, requests, timeouts, "
                                 "header or output bytes)");
        goto err;
    }
    s->conns = calloc((size_t)s->lim.max_connections, sizeof(*s->conns));
    if (s->conns == NULL) {
        snprintf(errstr, errlen, "http: out of memory for %d connections", s->lim.max_connections);
        goto err;
    }
    for (int i = 0; i < s->lim.max_connections; i++) {
        s->conns[i].srv = s;
        s->conns[i].fd = -1;
        conn_bufs_init(&s->conns[i], &s->lim);
    }
    s->lfd = listen_socket(listen, &s->port, errstr, errlen);
    if (s->lfd < 0)
        goto err;
    ev_io_init(&s->accept_io, accept_cb, s->lfd, EV_READ);
    s->accept_io.data = s;
    ev_init(&s->accept_retry, accept_retry_cb);
    s->accept_retry.data = s;
    ev_io_start(loop, &s->accept_io);
    return s;
err:
    http_server_destroy(s);
    return NULL;
}

void http_server_destroy(http_server *s)
{
    if (s == NULL)
        return;
    if (s->conns) {
        for (int i = 0; i < s->lim.max_connections; i++) {
            conn_close(&s->conns[i]);
            buf_free(&s->conns[i].body);
            buf_free(&s->conns[i].out);
        }
        free(s->conns);
    }
    if (s->lfd >= 0) {
        ev_io_stop(s->loop, &s->accept_io);
        ev_timer_stop(s->loop, &s->accept_retry);
        close(s->lfd);
    }
    free(s);
}

int http_server_port(const http_server *s)
{
    return s->port;
}

uint64_t http_server_evicted(const http_server *s)
{
    return s->evicted;
}

int http_server_connections(const http_server *s)
{
    return s->n_open;
}

int http_conn_feed_for_test(const http_limits *limits, http_handler_fn handler, void *ud,
                            const char *data, size_t len, sw_buf *out)
{
    http_server srv;
    memset(&srv, 0, sizeof(srv));
    srv.lfd = -1;
    srv.handler = handler;
    srv.ud = ud;
    if (limits)
        srv.lim = *limits;
    else
        http_limits_default(&srv.lim);
    http_conn *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return -ENOMEM;
    c->srv = &srv;
    c->fd = -1;
    conn_bufs_init(c, &srv.lim);
    conn_reset_state(c);
    c->in_head = 1;
    while (len > 0 && !c->closing && !c->dead) {
        size_t n = len < sizeof(c->in) ? len : sizeof(c->in);
        memcpy(c->in, data, n);
        c->in_off = 0;
        c->in_len = n;
        data += n;
        len -= n;
        conn_process(c);
    }
    int rc = c->out.len ? buf_append(out, c->out.data, c->out.len) : 0;
    buf_free(&c->body);
    buf_free(&c->out);
    free(c);
    return rc;
}
