/* buf.c: capped buffers and JSON pieces. Doubles print in their shortest
 * round-trip form so that output is exact, stable and readable.
 * Invariant: len never exceeds cap, and once an append fails the buffer
 * stays failed (every later append fails too) until buf_reset. */
#include "buf.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(sw_buf *b, size_t cap)
{
    memset(b, 0, sizeof(*b));
    b->cap = cap;
}

void buf_free(sw_buf *b)
{
    if (b == NULL)
        return;
    free(b->data);
    size_t cap = b->cap;
    buf_init(b, cap);
}

void buf_reset(sw_buf *b)
{
    b->len = 0;
    b->failed = 0;
    if (b->data)
        b->data[0] = '\0';
}

int buf_preallocate(sw_buf *b)
{
    if (b->alloc > b->cap)
        return 0;
    char *d = realloc(b->data, b->cap + 1);
    if (d == NULL)
        return -ENOMEM;
    d[b->len] = '\0';
    b->data = d;
    b->alloc = b->cap + 1;
    return 0;
}

static int buf_reserve(sw_buf *b, size_t n)
{
    if (b->failed)
        return -ENOBUFS;
    if (n > b->cap || b->len + n > b->cap) {
        b->failed = 1;
        return -ENOBUFS;
    }
    size_t need = b->len + n + 1;
    if (need <= b->alloc)
        return 0;
    size_t na = b->alloc ? b->alloc : 256;
    while (na < need)
        na *= 2;
    if (na > b->cap + 1)
        na = b->cap + 1;
    char *d = realloc(b->data, na);
    if (d == NULL) {
        b->failed = 1;
        return -ENOMEM;
    }
    b->data = d;
    b->alloc = na;
    return 0;
}

int buf_append(sw_buf *b, const char *s, size_t n)
{
    int rc = buf_reserve(b, n);
    if (rc < 0)
        return rc;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int buf_puts(sw_buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

int buf_printf(sw_buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = 1;
        return -EINVAL;
    }
    if ((size_t)n < sizeof(tmp))
        return buf_append(b, tmp, (size_t)n);
    int rc = buf_reserve(b, (size_t)n);
    if (rc < 0)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

int buf_json_str(sw_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    int rc = buf_append(b, "\"", 1);
    const char *run = s;
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        rc |= buf_append(b, run, (size_t)(p - run));
        if (c == '"')
            rc |= buf_append(b, "\\\"", 2);
        else if (c == '\\')
            rc |= buf_append(b, "\\\\", 2);
        else if (c == '\n')
            rc |= buf_append(b, "\\n", 2);
        else if (c == '\t')
            rc |= buf_append(b, "\\t", 2);
        else {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            rc |= buf_append(b, esc, 6);
        }
        run = p + 1;
    }
    rc |= buf_append(b, run, strlen(run));
    rc |= buf_append(b, "\"", 1);
    return rc ? -ENOBUFS : 0;
}

int fmt_double_shortest(char *out, size_t cap, double v)
{
    for (int prec = 1; prec <= 17; prec++) {
        int n = snprintf(out, cap, "%.*g", prec, v);
        if (n < 0 || (size_t)n >= cap)
            return -ENOBUFS;
        if (strtod(out, NULL) != v)
            continue;
        /* %g writes 1720 as 1.72e+03; people and diffs read positional
         * notation better, so use it for every exponent below 17. */
        const char *ex = strchr(out, 'e');
        if (ex != NULL) {
            int exp10 = atoi(ex + 1);
            if (exp10 >= 0 && exp10 < 17) {
                int decimals = prec - 1 - exp10;
                n = snprintf(out, cap, "%.*f", decimals > 0 ? decimals : 0, v);
                if (n < 0 || (size_t)n >= cap)
                    return -ENOBUFS;
            }
        }
        return n;
    }
    return -EINVAL; /* unreachable for finite doubles: 17 digits round-trip */
}

int buf_json_double(sw_buf *b, double v)
{
    char tmp[40];
    if (!isfinite(v))
        return buf_append(b, "null", 4);
    if (v == 0.0)
        return buf_append(b, "0", 1); /* also -0: JSON readers need no sign */
    int n = fmt_double_shortest(tmp, sizeof(tmp), v);
    if (n < 0) {
        b->failed = 1; /* the buffer remembers it, like any failed append */
        return n;
    }
    return buf_append(b, tmp, (size_t)n);
}

int buf_json_u64(sw_buf *b, uint64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof(tmp), "%" PRIu64, v);
    return buf_append(b, tmp, (size_t)n);
}

int buf_json_i64(sw_buf *b, int64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof(tmp), "%" PRId64, v);
    return buf_append(b, tmp, (size_t)n);
}
