/* test_buf.c: capped buffers and the JSON pieces: caps hold, strings are
 * escaped, doubles print in their shortest round-trip form. */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "buf.h"
#include "check.h"

static const char *dbl(double v)
{
    static sw_buf b;
    if (b.cap == 0)
        buf_init(&b, 64);
    buf_reset(&b);
    buf_json_double(&b, v);
    return b.data;
}

int main(void)
{
    CHECK_STR(dbl(0.1), "0.1");
    CHECK_STR(dbl(0.95), "0.95");
    CHECK_STR(dbl(1720), "1720");
    CHECK_STR(dbl(1784.5), "1784.5");
    CHECK_STR(dbl(2500.125), "2500.125");
    CHECK_STR(dbl(1e16), "10000000000000000");
    CHECK_STR(dbl(1e17), "1e+17");
    CHECK_STR(dbl(1.5e-7), "1.5e-07");
    CHECK_STR(dbl(0.000123), "0.000123");
    CHECK_STR(dbl(-3.25), "-3.25");
    CHECK_STR(dbl(-0.0), "0");
    CHECK_STR(dbl(NAN), "null");
    CHECK_STR(dbl(INFINITY), "null");
    CHECK_STR(dbl(1.0 / 3.0), "0.3333333333333333");
    /* Every printed double reads back to itself. */
    unsigned long long x = 88172645463325252ULL;
    int bad = 0;
    for (int i = 0; i < 40000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double v;
        memcpy(&v, &x, sizeof(v));
        if (!isfinite(v) || v == 0)
            continue;
        if (strtod(dbl(v), NULL) != v)
            bad++;
    }
    CHECK_INT(bad, 0);

    /* Strings: quotes, backslashes and control characters are escaped. */
    sw_buf b;
    buf_init(&b, 64);
    buf_json_str(&b, "a\"b\\c\n\x01");
    CHECK_STR(b.data, "\"a\\\"b\\\\c\\n\\u0001\"");
    /* The cap holds: appends past it fail and leave the mark. */
    buf_reset(&b);
    CHECK_INT(buf_append(&b, "0123456789", 10), 0);
    char big[100];
    memset(big, 'x', sizeof(big));
    CHECK(buf_append(&b, big, sizeof(big)) < 0);
    CHECK(b.failed);
    CHECK_INT(b.len, 10);
    buf_reset(&b);
    CHECK(!b.failed);
    CHECK(buf_printf(&b, "%0200d", 7) < 0);
    buf_free(&b);
    CHECK_DONE();
}
