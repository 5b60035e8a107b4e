/* test_rfc3339.c: RFC 3339 timestamps both ways. Edge cases with values
 * worked out by hand, then random dates and instants checked against the
 * C library's timegm and gmtime_r, which the decoder itself does not use. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "event.h"

#define DAY_MS 86400000LL

static int64_t parse_ok(const char *s)
{
    int64_t ms = INT64_MIN;
    int rc = dec_rfc3339_parse(s, strlen(s), &ms);
    if (rc != 0)
        fprintf(stderr, "rejected: %s\n", s);
    CHECK_INT(rc, 0);
    return ms;
}

static void parse_bad(const char *s)
{
    int64_t ms = 12345;
    int rc = dec_rfc3339_parse(s, strlen(s), &ms);
    if (rc == 0)
        fprintf(stderr, "accepted: %s as %lld\n", s, (long long)ms);
    CHECK(rc < 0);
    CHECK_INT(ms, 12345); /* untouched on failure */
}

static void fmt_is(int64_t ms, const char *want)
{
    char b[32];
    size_t n = dec_rfc3339_format(ms, b, sizeof(b));
    CHECK_STR(b, want);
    CHECK_INT(n, strlen(want));
}

static uint64_t rng_state = 0x2545F4914F6CDD1DULL;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static int leap(int y)
{
    return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

int main(void)
{
    /* epoch and its neighbours */
    CHECK_INT(parse_ok("1970-01-01T00:00:00Z"), 0);
    CHECK_INT(parse_ok("1970-01-01T00:00:00.000Z"), 0);
    CHECK_INT(parse_ok("1970-01-01T00:00:00.001Z"), 1);
    CHECK_INT(parse_ok("1969-12-31T23:59:59.999Z"), -1);
    CHECK_INT(parse_ok("1970-01-02T00:00:00Z"), DAY_MS);
    CHECK_INT(parse_ok("1970-01-01t00:00:00z"), 0);
    CHECK_INT(parse_ok("1970-01-01T00:00:00+00:00"), 0);
    CHECK_INT(parse_ok("1970-01-01T00:00:00-00:00"), 0);
    /* 2026-11-26: 56 years with 14 leap days, then 329 days into the year */
    CHECK_INT(parse_ok("2026-11-26T10:00:00.123Z"), (20783 * 86400LL + 36000) * 1000 + 123);

    /* leap days: 2000 and 2024 have one, 1900, 2023 and 2100 do not */
    CHECK_INT(parse_ok("2000-03-01T00:00:00Z") - parse_ok("2000-02-28T00:00:00Z"), 2 * DAY_MS);
    CHECK_INT(parse_ok("2024-03-01T00:00:00Z") - parse_ok("2024-02-29T00:00:00Z"), DAY_MS);
    CHECK_INT(parse_ok("1900-03-01T00:00:00Z") - parse_ok("1900-02-28T00:00:00Z"), DAY_MS);
    CHECK_INT(parse_ok("2100-03-01T00:00:00Z") - parse_ok("2100-02-28T00:00:00Z"), DAY_MS);
    CHECK_INT(parse_ok("2025-01-01T00:00:00Z") - parse_ok("2024-01-01T00:00:00Z"), 366 * DAY_MS);
    parse_bad("2023-02-29T00:00:00Z");
    parse_bad("1900-02-29T00:00:00Z");
    parse_bad("2100-02-29T00:00:00Z");
    parse_bad("2024-02-30T00:00:00Z");

    /* offsets that cross a day, a month and a year */
    CHECK_INT(parse_ok("2026-01-01T00:30:00+01:00"), parse_ok("2025-12-31T23:30:00Z"));
    CHECK_INT(parse_ok("2025-12-31T23:30:00-01:00"), parse_ok("2026-01-01T00:30:00Z"));
    CHECK_INT(parse_ok("2024-03-01T05:00:00+23:59"), parse_ok("2024-02-29T05:01:00Z"));
    CHECK_INT(parse_ok("1970-01-01T00:00:00+05:30"), -(5 * 3600 + 1800) * 1000LL);

    /* fraction: 1 to 9 digits, cut (not rounded) after the millisecond,
     * before the offset is applied */
    static const char *const fr[] = {".9", ".99", ".999", ".9999", ".99999", ".999999",
                                     ".9999999", ".99999999", ".999999999"};
    static const int frms[] = {900, 990, 999, 999, 999, 999, 999, 999, 999};
    for (int i = 0; i < 9; i++) {
        char b[64];
        snprintf(b, sizeof(b), "1970-01-01T00:00:00%sZ", fr[i]);
        CHECK_INT(parse_ok(b), frms[i]);
        snprintf(b, sizeof(b), "1970-01-01T00:00:00%s-00:01", fr[i]);
        CHECK_INT(parse_ok(b), 60000 + frms[i]);
        snprintf(b, sizeof(b), "1970-01-01T00:00:00%s+00:01", fr[i]);
        CHECK_INT(parse_ok(b), -60000 + frms[i]);
    }
    CHECK_INT(parse_ok("1970-01-01T00:00:00.0123456789012345678901234567890Z"), 12);
    CHECK_INT(parse_ok("1969-12-31T23:59:59.5Z"), -500);

    /* the ends of the range */
    CHECK_INT(parse_ok("9999-12-31T23:59:59.999Z"), 253402300799999LL);
    CHECK_INT(parse_ok("9999-12-31T23:59:59.999-01:00"), 253402300799999LL + 3600000);
    /* 719528 days from 0000-01-01 to 1970-01-01 */
    CHECK_INT(parse_ok("0000-01-01T00:00:00Z"), -719528LL * DAY_MS);
    CHECK_INT(parse_ok("0000-03-01T00:00:00Z") - parse_ok("0000-02-28T00:00:00Z"), 2 * DAY_MS);

    /* not RFC 3339, or not a date */
    static const char *const bad[] = {
        "",
        "1970-01-01",
        "1970-01-01T00:00:00",
        "1970-01-01T00:00:00.Z",
        "1970-01-01T00:00:00.",
        "1970-01-01T00:00Z",
        "1970-01-01 00:00:00Z",
        "1970-01-01x00:00:00Z",
        "1970-00-01T00:00:00Z",
        "1970-13-01T00:00:00Z",
        "1970-01-00T00:00:00Z",
        "1970-01-32T00:00:00Z",
        "1970-04-31T00:00:00Z",
        "1970-01-01T24:00:00Z",
        "1970-01-01T00:60:00Z",
        "1970-01-01T00:00:60Z",
        "1970-01-01T23:59:60Z",
        "1970-01-01T00:00:00+24:00",
        "1970-01-01T00:00:00+01:60",
        "1970-01-01T00:00:00+0100",
        "1970-01-01T00:00:00+01",
        "1970-01-01T00:00:00+01:0",
        "1970-01-01T00:00:00+01:000",
        "1970-01-01T00:00:00ZZ",
        "1970-01-01T00:00:00Z ",
        " 1970-01-01T00:00:00Z",
        "1970-01-01T00:00:00UTC",
        "1970-1-01T00:00:00Z",
        "70-01-01T00:00:00Z",
        "+1970-01-01T00:00:00Z",
        "-001-01-01T00:00:00Z",
        "10000-01-01T00:00:00Z",
        "1970-01-01T00:00:00,5Z",
        "1970-01-01T0a:00:00Z",
        "197O-01-01T00:00:00Z",
        "1970/01/01T00:00:00Z",
        "1970-01-01T00.00.00Z",
        "1970-01-01T00:00:00.5.5Z",
        "1970-01-01T00:00:00+1:00",
        "1970-01-01T00:00:00 +01:00",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        parse_bad(bad[i]);

    /* the length is the end: bytes past it are never read */
    {
        static const char s[] = "1970-01-01T00:00:01Zgarbage";
        int64_t ms = 0;
        CHECK_INT(dec_rfc3339_parse(s, 20, &ms), 0);
        CHECK_INT(ms, 1000);
        for (size_t n = 0; n < 20; n++)
            CHECK(dec_rfc3339_parse(s, n, &ms) < 0);
        CHECK(dec_rfc3339_parse(s, 21, &ms) < 0);
        static const char f[] = "1970-01-01T00:00:01.5+01:00";
        for (size_t n = 0; n < sizeof(f) - 1; n++)
            CHECK(dec_rfc3339_parse(f, n, &ms) < 0);
    }

    /* format */
    fmt_is(0, "1970-01-01T00:00:00.000Z");
    fmt_is(1, "1970-01-01T00:00:00.001Z");
    fmt_is(999, "1970-01-01T00:00:00.999Z");
    fmt_is((20783 * 86400LL + 36000) * 1000 + 123, "2026-11-26T10:00:00.123Z");
    fmt_is(951782400000LL, "2000-02-29T00:00:00.000Z");
    fmt_is(253402300799999LL, "9999-12-31T23:59:59.999Z");
    fmt_is(-1, "1969-12-31T23:59:59.999Z");
    fmt_is(-719528LL * DAY_MS, "0000-01-01T00:00:00.000Z");
    fmt_is(INT64_MAX, "9999-12-31T23:59:59.999Z"); /* clamped */
    fmt_is(INT64_MIN, "0000-01-01T00:00:00.000Z");
    {
        char b[32];
        memset(b, 'x', sizeof(b));
        CHECK_INT(dec_rfc3339_format(0, b, 24), 0); /* no room for the NUL */
        CHECK_INT(b[0], '\0');
        CHECK_INT(dec_rfc3339_format(0, b, 25), 24);
        CHECK_STR(b, "1970-01-01T00:00:00.000Z");
    }

    /* random instants: format agrees with gmtime_r, parse inverts format */
    for (int i = 0; i < 1000000; i++) {
        int64_t ms = (int64_t)(rng() % 253402300800000ULL);
        if (i < 1000)
            ms = (int64_t)i * 86399999 % 253402300800000LL; /* near day edges */
        char b[32], want[64];
        size_t n = dec_rfc3339_format(ms, b, sizeof(b));
        time_t t = (time_t)(ms / 1000);
        struct tm tm;
        gmtime_r(&t, &tm);
        snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
        if (strcmp(b, want) != 0 || n != 24) {
            CHECK_STR(b, want);
            break;
        }
        int64_t back = -1;
        if (dec_rfc3339_parse(b, n, &back) != 0 || back != ms) {
            CHECK_INT(back, ms);
            break;
        }
    }

    /* random dates with offsets and fractions: parse agrees with timegm */
    for (int i = 0; i < 300000; i++) {
        int y = 1 + (int)(rng() % 9999), mo = 1 + (int)(rng() % 12);
        int dim = mo == 2 ? 28 + leap(y) : (mo == 4 || mo == 6 || mo == 9 || mo == 11) ? 30 : 31;
        int d = 1 + (int)(rng() % (uint64_t)dim);
        int h = (int)(rng() % 24), mi = (int)(rng() % 60), s = (int)(rng() % 60);
        int fd = (int)(rng() % 10); /* fraction digits, 0 = none */
        int oh = (int)(rng() % 24), om = (int)(rng() % 60), sign = (int)(rng() % 3);
        char frac[16] = "", zone[16] = "Z";
        int fms = 0;
        if (fd > 0) {
            frac[0] = '.';
            for (int k = 0; k < fd; k++) {
                int dg = (int)(rng() % 10);
                frac[1 + k] = (char)('0' + dg);
                if (k < 3)
                    fms += dg * (k == 0 ? 100 : k == 1 ? 10 : 1);
            }
            frac[1 + fd] = '\0';
        }
        if (sign > 0)
            snprintf(zone, sizeof(zone), "%c%02d:%02d", sign == 1 ? '+' : '-', oh, om);
        else
            oh = om = 0;
        char b[64];
        snprintf(b, sizeof(b), "%04d-%02d-%02dT%02d:%02d:%02d%s%s", y, mo, d, h, mi, s, frac, zone);
        struct tm tm;
        memset(&tm, 0, sizeof(tm));
        tm.tm_year = y - 1900;
        tm.tm_mon = mo - 1;
        tm.tm_mday = d;
        tm.tm_hour = h;
        tm.tm_min = mi;
        tm.tm_sec = s;
        int64_t off = (int64_t)(oh * 60 + om) * 60000 * (sign == 2 ? -1 : 1);
        int64_t want = (int64_t)timegm(&tm) * 1000 + fms - off;
        int64_t got = 0;
        if (dec_rfc3339_parse(b, strlen(b), &got) != 0 || got != want) {
            fprintf(stderr, "%s\n", b);
            CHECK_INT(got, want);
            break;
        }
    }
    CHECK_DONE();
}
