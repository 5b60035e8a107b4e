/* fuzz_http.c: arbitrary bytes as what a client sends on one connection,
 * through the server's request path (no sockets). Whatever comes in, the
 * server must not crash, and what it sends must be a sequence of
 * well-formed responses: a status line, headers with one Content-Length,
 * the body, and nothing after a response that closes the connection. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int handler(void *ud, const char *path, size_t len, http_reply *r)
{
    (void)ud;
    if (len >= 5 && memcmp(path, "/fail", 5) == 0)
        return -5;
    if (len >= 4 && memcmp(path, "/404", 4) == 0)
        r->status = 404;
    buf_puts(r->body, "path=");
    return buf_append(r->body, path, len);
}

#define REQUIRE(cond)                                                       \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "fuzz_http: %s failed at offset %zu\n", #cond, off); \
            abort();                                                        \
        }                                                                   \
    } while (0)

static size_t header_value(const char *head, size_t head_len, const char *name, const char **v)
{
    size_t nl = strlen(name), count = 0;
    for (size_t i = 1; i + nl <= head_len; i++)
        if (head[i - 1] == '\n' && memcmp(head + i, name, nl) == 0) {
            *v = head + i + nl;
            count++;
        }
    return count;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    http_limits lim;
    http_limits_default(&lim);
    lim.max_requests_per_conn = 8;
    lim.max_header_bytes = 2048;
    sw_buf out;
    buf_init(&out, 1 << 22);
    size_t off = 0;
    int rc = http_conn_feed_for_test(&lim, handler, NULL, (const char *)data, size, &out);
    REQUIRE(rc == 0);

    const char *o = out.data;
    int n = 0;
    while (off < out.len) {
        const char *p = o + off;
        size_t left = out.len - off;
        REQUIRE(left >= 17 && memcmp(p, "HTTP/1.1 ", 9) == 0);
        int status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
        REQUIRE(status >= 100 && status <= 599 && p[12] == ' ');
        const char *end = NULL;
        for (size_t i = 0; i + 3 < left && i < 1024; i++)
            if (memcmp(p + i, "\r\n\r\n", 4) == 0) {
                end = p + i + 4;
                break;
            }
        REQUIRE(end != NULL);
        size_t head_len = (size_t)(end - p);
        const char *cl = NULL, *conn = NULL;
        REQUIRE(header_value(p, head_len, "Content-Length: ", &cl) == 1);
        char *num_end;
        unsigned long body_len = strtoul(cl, &num_end, 10);
        REQUIRE(num_end > cl && num_end[0] == '\r');
        int closes = header_value(p, head_len, "Connection: close\r\n", &conn) == 1;
        size_t after = left - head_len;
        /* A HEAD answer has no body: the next response (or the end)
         * follows at once. Bodies never start with "HTTP/". */
        int no_body = after == 0 || (after >= 5 && memcmp(end, "HTTP/", 5) == 0);
        if (body_len > 0 && !no_body) {
            REQUIRE(after >= body_len);
            head_len += body_len;
        }
        off += head_len;
        n++;
        if (closes)
            REQUIRE(off == out.len);
    }
    REQUIRE(n <= lim.max_requests_per_conn);
    buf_free(&out);
    return 0;
}
