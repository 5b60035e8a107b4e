/* test_http.c: the HTTP server on a real loopback socket. One thread: the
 * test drives the libev loop with EVRUN_NOWAIT between client steps, and
 * the clients use non-blocking sockets, so nothing here can hang on the
 * server and the server never gets a second thread to hide a block behind.
 */
#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "http.h"

#define BIG_BYTES (3u * 1024 * 1024)

static struct ev_loop *loop;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* "/" -> hello; "/big" -> 3 MiB; "/fail" -> handler error; "/missing" ->
 * 404; any other path is echoed back. */
static int handler(void *ud, const char *path, size_t len, http_reply *r)
{
    (void)ud;
    if (len == 1 && path[0] == '/')
        return buf_puts(r->body, "hello\n");
    if (len == 4 && memcmp(path, "/big", 4) == 0) {
        char block[4096];
        memset(block, 'x', sizeof(block));
        for (size_t n = 0; n < BIG_BYTES; n += sizeof(block))
            buf_append(r->body, block, sizeof(block));
        return 0;
    }
    if (len == 5 && memcmp(path, "/fail", 5) == 0)
        return -EIO;
    if (len == 8 && memcmp(path, "/missing", 8) == 0) {
        r->status = 404;
        return buf_puts(r->body, "not found\n");
    }
    r->content_type = "application/octet-stream";
    buf_append(r->body, path, len);
    return buf_puts(r->body, "\n");
}

/* Run the loop for about secs seconds. */
static void spin(double secs)
{
    double end = now_s() + secs;
    do {
        ev_run(loop, EVRUN_NOWAIT);
        usleep(1000);
    } while (now_s() < end);
}

static int cli_connect(int port, int rcvbuf)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    if (rcvbuf > 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* Loopback connect completes in the kernel, without the server's accept. */
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    fcntl(fd, F_SETFL, O_NONBLOCK);
    return fd;
}

static void cli_send(int fd, const char *s)
{
    size_t len = strlen(s), off = 0;
    double end = now_s() + 2;
    while (off < len && now_s() < end) {
        ssize_t n = send(fd, s + off, len - off, MSG_NOSIGNAL);
        if (n > 0)
            off += (size_t)n;
        else
            ev_run(loop, EVRUN_NOWAIT);
    }
}

/* One parsed response. */
typedef struct resp {
    int status;
    long content_length;
    int close;           /* Connection: close */
    int allow;           /* Allow: GET, HEAD */
    const char *body;
    size_t body_len;     /* bytes of body present (0 for HEAD) */
    size_t total;        /* head + body bytes */
} resp;

static const char *find_header(const char *head, size_t head_len, const char *name)
{
    size_t nl = strlen(name);
    for (const char *p = head; p + nl < head + head_len; p++)
        if ((p == head || p[-1] == '\n') && strncasecmp(p, name, nl) == 0)
            return p + nl;
    return NULL;
}

/* Parse one response at buf. Returns 1 when complete, 0 when more is
 * needed. head_only: a HEAD response (no body follows). */
static int parse_resp(const char *buf, size_t len, int head_only, resp *r)
{
    memset(r, 0, sizeof(*r));
    const char *end = NULL;
    for (size_t i = 0; i + 3 < len; i++)
        if (memcmp(buf + i, "\r\n\r\n", 4) == 0) {
            end = buf + i + 4;
            break;
        }
    if (end == NULL || len < 12)
        return 0;
    size_t head_len = (size_t)(end - buf);
    r->status = atoi(buf + 9);
    const char *cl = find_header(buf, head_len, "Content-Length: ");
    r->content_length = cl ? atol(cl) : -1;
    const char *conn = find_header(buf, head_len, "Connection: ");
    r->close = conn && strncmp(conn, "close", 5) == 0;
    const char *allow = find_header(buf, head_len, "Allow: ");
    r->allow = allow && strncmp(allow, "GET, HEAD\r\n", 11) == 0;
    size_t want = head_only || r->content_length < 0 ? 0 : (size_t)r->content_length;
    if (len - head_len < want)
        return 0;
    r->body = end;
    r->body_len = want;
    r->total = head_len + want;
    return 1;
}

/* A client's receive state. */
typedef struct cli {
    int fd;
    char buf[1 << 16];
    size_t len;
    int eof;   /* EOF or reset seen */
} cli;

/* Read what is available into c (running the loop meanwhile) for up to
 * secs, stopping early when stop(c) is true. */
static void cli_pump(cli *c, double secs, int (*stop)(cli *))
{
    double end = now_s() + secs;
    while (now_s() < end) {
        ev_run(loop, EVRUN_NOWAIT);
        if (!c->eof && c->len < sizeof(c->buf)) {
            ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
            if (n > 0)
                c->len += (size_t)n;
            else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
                c->eof = 1;
        }
        if (stop && stop(c))
            return;
        usleep(500);
    }
}

static int has_one(cli *c)
{
    resp r;
    return parse_resp(c->buf, c->len, 0, &r);
}
static int has_head(cli *c)
{
    resp r;
    return parse_resp(c->buf, c->len, 1, &r);
}
static int is_eof(cli *c) { return c->eof; }

static void cli_open(cli *c, int port)
{
    memset(c, 0, sizeof(*c));
    c->fd = cli_connect(port, 0);
    CHECK(c->fd >= 0);
}

static void cli_close(cli *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

static http_server *start(const http_limits *lim)
{
    char err[256];
    http_server *s = http_server_create(loop, "127.0.0.1:0", lim, handler, NULL, err, sizeof(err));
    if (s == NULL)
        fprintf(stderr, "server: %s\n", err);
    CHECK(s != NULL);
    CHECK(s == NULL || http_server_port(s) > 0);
    return s;
}

static void test_get_head_keepalive(void)
{
    http_server *s = start(NULL);
    if (!s)
        return;
    cli c;
    cli_open(&c, http_server_port(s));
    cli_send(c.fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    cli_pump(&c, 2, has_one);
    resp r;
    CHECK(parse_resp(c.buf, c.len, 0, &r));
    CHECK_INT(r.status, 200);
    CHECK_INT(r.content_length, 6);
    CHECK(r.body && r.body_len == 6 && memcmp(r.body, "hello\n", 6) == 0);
    CHECK(!r.close);
    CHECK(strncmp(c.buf, "HTTP/1.1 200 OK\r\n", 17) == 0);
    CHECK_INT(c.len, r.total);

    /* HEAD on the same connection: the same Content-Length, no body. */
    c.len = 0;
    cli_send(c.fd, "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n");
    cli_pump(&c, 2, has_head);
    CHECK(parse_resp(c.buf, c.len, 1, &r));
    CHECK_INT(r.status, 200);
    CHECK_INT(r.content_length, 6);
    size_t head_len = c.len;
    cli_pump(&c, 0.2, NULL); /* any stray body bytes would arrive now */
    CHECK_INT(c.len, head_len);
    CHECK(!c.eof);

    /* And the connection still serves: the query string is not the path. */
    c.len = 0;
    cli_send(c.fd, "GET /echo?planId=1 HTTP/1.1\r\nHost: x\r\n\r\n");
    cli_pump(&c, 2, has_one);
    CHECK(parse_resp(c.buf, c.len, 0, &r));
    CHECK_INT(r.status, 200);
    CHECK(r.body_len == 6 && memcmp(r.body, "/echo\n", 6) == 0);
    CHECK_INT(http_server_connections(s), 1);
    cli_close(&c);
    spin(0.05);
    CHECK_INT(http_server_connections(s), 0);
    http_server_destroy(s);
}

/* Send req on a fresh connection; expect one response with status, then
 * the server's close. */
static void expect_status_then_close(http_server *s, const char *req, int status, int allow)
{
    cli c;
    cli_open(&c, http_server_port(s));
    cli_send(c.fd, req);
    cli_pump(&c, 3, is_eof);
    resp r;
    CHECK(parse_resp(c.buf, c.len, 0, &r));
    if (r.status != status)
        fprintf(stderr, "request %.40s...\n", req);
    CHECK_INT(r.status, status);
    CHECK_INT(r.allow, allow);
    CHECK(r.close);
    CHECK(c.eof);
    cli_close(&c);
}

static void test_rejections(void)
{
    http_server *s = start(NULL);
    if (!s)
        return;
    expect_status_then_close(s, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
                             405, 1);
    expect_status_then_close(s, "DELETE / HTTP/1.1\r\nHost: x\r\n\r\n", 405, 1);
    expect_status_then_close(s, "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
                             413, 0);
    expect_status_then_close(
        s, "GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 413, 0);
    expect_status_then_close(s, "GARBAGE\r\n\r\n", 400, 0);
    expect_status_then_close(s, "GET / HTTP/1.1\r\nHost x\r\n\r\n", 400, 0);
    expect_status_then_close(s, "GET /fail HTTP/1.1\r\nConnection: close\r\n\r\n", 500, 0);
    expect_status_then_close(s, "GET /missing HTTP/1.0\r\n\r\n", 404, 0);

    /* Headers of 10 000 bytes against the 8 KiB limit. */
    char *big = malloc(11000);
    strcpy(big, "GET / HTTP/1.1\r\nX-Big: ");
    size_t n = strlen(big);
    memset(big + n, 'a', 10000);
    strcpy(big + n + 10000, "\r\n\r\n");
    expect_status_then_close(s, big, 431, 0);
    /* Just under the limit is fine. */
    n = strlen("GET / HTTP/1.1\r\nX-Big: ");
    big[n + 8000] = '\0';
    strcat(big, "\r\n\r\n");
    cli c;
    cli_open(&c, http_server_port(s));
    cli_send(c.fd, big);
    cli_pump(&c, 2, has_one);
    resp r;
    CHECK(parse_resp(c.buf, c.len, 0, &r));
    CHECK_INT(r.status, 200);
    cli_close(&c);
    free(big);
    spin(0.05);
    http_server_destroy(s);
}

static void test_pipelined(void)
{
    http_server *s = start(NULL);
    if (!s)
        return;
    cli c;
    cli_open(&c, http_server_port(s));
    cli_send(c.fd, "GET /a HTTP/1.1\r\nHost: x\r\n\r\nHEAD /bb HTTP/1.1\r\nHost: x\r\n\r\n"
                   "GET /ccc HTTP/1.1\r\nHost: x\r\n\r\n");
    cli_pump(&c, 0.3, NULL);
    resp r;
    size_t off = 0;
    CHECK(parse_resp(c.buf + off, c.len - off, 0, &r));
    CHECK(r.body_len == 3 && memcmp(r.body, "/a\n", 3) == 0);
    off += r.total;
    CHECK(parse_resp(c.buf + off, c.len - off, 1, &r));
    CHECK_INT(r.content_length, 4);
    off += r.total;
    CHECK(parse_resp(c.buf + off, c.len - off, 0, &r));
    CHECK(r.body_len == 5 && memcmp(r.body, "/ccc\n", 5) == 0);
    off += r.total;
    CHECK_INT(off, c.len);
    cli_close(&c);
    http_server_destroy(s);
}

/* 70 idle clients at once against 64 slots: each one beyond the limit
 * takes the slot of the client idle the longest (closed, owed nothing), so
 * 64 are held and the first 6 are gone; a probe arriving then is served at
 * once, however many idle or slow clients hold the slots. */
static void test_connection_limit(void)
{
    http_limits lim;
    http_limits_default(&lim);
    lim.header_timeout_s = 1.0;
    http_server *s = start(&lim);
    if (!s)
        return;
    static cli cs[70];
    for (int i = 0; i < 70; i++) {
        cli_open(&cs[i], http_server_port(s));
        spin(0.002); /* accepted in this order */
    }
    spin(0.2);
    CHECK_INT(http_server_connections(s), 64);
    CHECK_INT(http_server_evicted(s), 6);
    int gone = 0;
    for (int i = 0; i < 70; i++) {
        cli_pump(&cs[i], 0.005, is_eof);
        if (cs[i].eof) {
            gone++;
            CHECK(i < 6);         /* the oldest ones */
            CHECK_INT(cs[i].len, 0); /* closed without a word: nothing was asked */
        }
    }
    CHECK_INT(gone, 6);
    /* Every slot is held by an idle client: a probe still gets through. */
    cli c;
    cli_open(&c, http_server_port(s));
    double t0 = now_s();
    cli_send(c.fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    cli_pump(&c, 2, has_one);
    resp r;
    CHECK(parse_resp(c.buf, c.len, 0, &r));
    CHECK_INT(r.status, 200);
    CHECK(now_s() - t0 < 0.5);
    CHECK_INT(http_server_evicted(s), 7);
    cli_close(&c);
    /* The idle ones sent nothing: the header deadline (1 s) cuts them. */
    spin(1.3);
    CHECK_INT(http_server_connections(s), 0);
    for (int i = 0; i < 70; i++)
        cli_close(&cs[i]);
    http_server_destroy(s);
}

/* One header byte every 200 ms: cut by the 1 s head deadline, while another
 * client is served without delay meanwhile. */
static void test_slow_loris(void)
{
    http_limits lim;
    http_limits_default(&lim);
    lim.header_timeout_s = 1.0;
    lim.idle_timeout_s = 10.0;
    http_server *s = start(&lim);
    if (!s)
        return;
    cli slow;
    cli_open(&slow, http_server_port(s));
    const char *req = "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    double t0 = now_s(), cut_at = -1, worst = 0;
    int served = 0;
    for (size_t i = 0; req[i] && now_s() - t0 < 3; i++) {
        char one[2] = {req[i], 0};
        if (send(slow.fd, one, 1, MSG_NOSIGNAL) != 1 || slow.eof) {
            if (cut_at < 0)
                cut_at = now_s() - t0;
            break;
        }
        /* Meanwhile, a well-behaved client. */
        cli c;
        cli_open(&c, http_server_port(s));
        double a = now_s();
        cli_send(c.fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        cli_pump(&c, 1, has_one);
        resp r;
        if (parse_resp(c.buf, c.len, 0, &r) && r.status == 200)
            served++;
        if (now_s() - a > worst)
            worst = now_s() - a;
        cli_close(&c);
        cli_pump(&slow, 0.2 - (now_s() - a) > 0 ? 0.2 - (now_s() - a) : 0, is_eof);
        if (slow.eof && cut_at < 0)
            cut_at = now_s() - t0;
    }
    CHECK(cut_at >= 0.9 && cut_at < 1.6);
    if (!(cut_at >= 0.9 && cut_at < 1.6))
        fprintf(stderr, "slow client cut at %.3f s\n", cut_at);
    CHECK(served >= 4);
    CHECK(worst < 0.1);
    fprintf(stderr, "slow loris: cut after %.3f s; %d other requests served, slowest %.1f ms\n",
            cut_at, served, worst * 1e3);
    cli_close(&slow);
    http_server_destroy(s);
}

/* A client that asks for 3 MiB and never reads: the server fills the
 * socket, waits on its write watcher, serves others, and the idle timeout
 * then closes the stuck connection. */
static void test_never_reading_client(void)
{
    http_limits lim;
    http_limits_default(&lim);
    lim.idle_timeout_s = 1.0;
    http_server *s = start(&lim);
    if (!s)
        return;
    int stuck = cli_connect(http_server_port(s), 4096);
    CHECK(stuck >= 0);
    cli_send(stuck, "GET /big HTTP/1.1\r\nHost: x\r\n\r\nGET /big HTTP/1.1\r\nHost: x\r\n\r\n");
    spin(0.1);
    CHECK_INT(http_server_connections(s), 1);
    for (int k = 0; k < 3; k++) {
        cli c;
        cli_open(&c, http_server_port(s));
        double a = now_s();
        cli_send(c.fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        cli_pump(&c, 1, has_one);
        resp r;
        CHECK(parse_resp(c.buf, c.len, 0, &r));
        CHECK_INT(r.status, 200);
        CHECK(now_s() - a < 0.1);
        cli_close(&c);
    }
    spin(0.05);
    CHECK_INT(http_server_connections(s), 1);
    spin(1.3);
    CHECK_INT(http_server_connections(s), 0);
    close(stuck);
    http_server_destroy(s);
}

/* The socket-less path: request cap per connection, output cap. */
static void test_feed(void)
{
    http_limits lim;
    http_limits_default(&lim);
    lim.max_requests_per_conn = 3;
    sw_buf out;
    buf_init(&out, 1 << 20);
    const char *five = "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.1\r\n\r\n"
                       "GET /4 HTTP/1.1\r\n\r\nGET /5 HTTP/1.1\r\n\r\n";
    CHECK_INT(http_conn_feed_for_test(&lim, handler, NULL, five, strlen(five), &out), 0);
    resp r;
    size_t off = 0;
    int n = 0, closed = 0;
    while (off < out.len && parse_resp(out.data + off, out.len - off, 0, &r)) {
        n++;
        closed = r.close;
        CHECK(r.body_len == 3 && r.body[0] == '/' && r.body[1] == '0' + n);
        off += r.total;
    }
    CHECK_INT(n, 3);
    CHECK(closed);
    CHECK_INT(off, out.len);

    /* A 3 MiB body against a 1 MiB output cap: 500, not a truncated body. */
    buf_reset(&out);
    lim.max_output_bytes = 1 << 20;
    const char *big = "GET /big HTTP/1.1\r\n\r\n";
    CHECK_INT(http_conn_feed_for_test(&lim, handler, NULL, big, strlen(big), &out), 0);
    CHECK(parse_resp(out.data, out.len, 0, &r));
    CHECK_INT(r.status, 500);

    /* A request target longer than the URL buffer: 414. */
    buf_reset(&out);
    char *longurl = malloc(4000);
    strcpy(longurl, "GET /");
    memset(longurl + 5, 'u', 3000);
    strcpy(longurl + 3005, " HTTP/1.1\r\n\r\n");
    CHECK_INT(http_conn_feed_for_test(NULL, handler, NULL, longurl, strlen(longurl), &out), 0);
    CHECK(parse_resp(out.data, out.len, 0, &r));
    CHECK_INT(r.status, 414);
    free(longurl);
    buf_free(&out);
}

static void test_listen_addresses(void)
{
    char err[256];
    static const char *bad[] = {"nonsense", "127.0.0.1", "127.0.0.1:99999", "::1:80",
                                "[::1]80", "host.example:80", "127.0.0.1:8a"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        http_server *s = http_server_create(loop, bad[i], NULL, handler, NULL, err, sizeof(err));
        CHECK(s == NULL);
        CHECK(strstr(err, "http: ") == err);
        CHECK(strstr(err, bad[i]) != NULL); /* the message names the address */
        http_server_destroy(s);
    }
    http_server *s = http_server_create(loop, "localhost:0", NULL, handler, NULL, err, sizeof(err));
    CHECK(s != NULL);
    if (s) {
        CHECK(http_server_port(s) > 0);
        /* The same port again is taken. */
        char addr[64];
        snprintf(addr, sizeof(addr), "127.0.0.1:%d", http_server_port(s));
        http_server *s2 = http_server_create(loop, addr, NULL, handler, NULL, err, sizeof(err));
        http_server *s3 = NULL;
        if (s2 != NULL) /* localhost may have been ::1 only */
            s3 = http_server_create(loop, addr, NULL, handler, NULL, err, sizeof(err));
        CHECK(s3 == NULL);
        http_server_destroy(s3);
        http_server_destroy(s2);
    }
    http_server_destroy(s);
}

int main(void)
{
    loop = ev_loop_new(EVFLAG_AUTO);
    test_get_head_keepalive();
    test_rejections();
    test_pipelined();
    test_feed();
    test_listen_addresses();
    test_connection_limit();
    test_slow_loris();
    test_never_reading_client();
    ev_loop_destroy(loop);
    CHECK_DONE();
}
