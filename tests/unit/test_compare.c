/* test_compare.c: the statistics of comparison rules (docs/semantics.md
 * section 12): the two-proportion z test, the Mann-Whitney U test over
 * histograms with ties, and the one-sided p-value, on cases worked by
 * hand in the comments. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "rules.h"
#include "wmetrics.h"

static int near(double a, double b)
{
    return fabs(a - b) <= 1e-9 * (fabs(b) > 1 ? fabs(b) : 1);
}

static void test_rates(void)
{
    sw_wm t, c;
    double z = 0;
    memset(&t, 0, sizeof(t));
    memset(&c, 0, sizeof(c));
    /* 30 errors of 100 against 10 of 100: pooled p = 0.2, se =
     * sqrt(0.2 * 0.8 * 0.02) = 0.0565685..., d = 0.2, z = 3.5355339... */
    t.errors = 30, t.outcomes = 100, t.successes = 70;
    c.errors = 10, c.outcomes = 100, c.successes = 90;
    CHECK(compare_rates(M_ERROR_RATE, &t, &c, 1, &z));
    CHECK(near(z, 0.2 / sqrt(0.0032)));
    CHECK(compare_rates(M_ERROR_RATE, &t, &c, 0, &z));
    CHECK(near(z, -0.2 / sqrt(0.0032)));
    /* success rate lower is worse: 0.7 against 0.9, the same |z| */
    CHECK(compare_rates(M_SUCCESS_RATE, &t, &c, 0, &z));
    CHECK(near(z, 0.2 / sqrt(0.0032)));
    /* no errors anywhere: p = 0, se = 0, no test */
    t.errors = c.errors = 0;
    CHECK(!compare_rates(M_ERROR_RATE, &t, &c, 1, &z));
    /* an empty side: no test */
    t.errors = 3, c.outcomes = 0, c.errors = 0;
    CHECK(!compare_rates(M_ERROR_RATE, &t, &c, 1, &z));
    /* latency is not a rate */
    CHECK(!compare_rates(M_LATENCY_MEAN_MS, &t, &c, 1, &z));
}

static void test_hist(void)
{
    uint64_t ht[4] = {2, 0, 1, 0}, hc[4] = {1, 2, 0, 0};
    double z = 0;
    /* treatment {1, 1, 3}, control {1, 2, 2} (bins as values): U counts
     * pairs with the treatment greater, ties a half: 0.5 + 0.5 + 3 = 4;
     * mu = 4.5; ties: bin 0 holds 3 (24), bin 1 holds 2 (6): 30;
     * sigma^2 = 9/12 * (7 - 30/30) = 4.5; z = -0.5 / sqrt(4.5). */
    CHECK(compare_hist(ht, hc, 4, 1, &z));
    CHECK(near(z, -0.5 / sqrt(4.5)));
    CHECK(compare_hist(ht, hc, 4, 0, &z));
    CHECK(near(z, 0.5 / sqrt(4.5)));
    /* every value in one bin: all ties, sigma^2 = 0, no test */
    uint64_t a[2] = {5, 0}, b[2] = {7, 0};
    CHECK(!compare_hist(a, b, 2, 1, &z));
    /* an empty side: no test */
    uint64_t e[2] = {0, 0};
    CHECK(!compare_hist(a, e, 2, 1, &z));
    /* fully separated: treatment {2, 2}, control {1}: U = 2, mu = 1; the
     * treatment's two values are tied with each other (t = 2: 6), so
     * sigma^2 = 2/12 * (4 - 6/6) = 0.5, z = 1 / sqrt(0.5) */
    uint64_t s1[2] = {0, 2}, s2[2] = {1, 0};
    CHECK(compare_hist(s1, s2, 2, 1, &z));
    CHECK(near(z, 1 / sqrt(0.5)));
    /* without ties: treatment {2, 3}, control {1}: sigma^2 = 2/12 * 4 */
    uint64_t s3[3] = {0, 1, 1}, s4[3] = {1, 0, 0};
    CHECK(compare_hist(s3, s4, 3, 1, &z));
    CHECK(near(z, 1 / sqrt(2.0 / 3)));
}

static void test_p(void)
{
    CHECK(near(normal_upper_p(0), 0.5));
    CHECK(fabs(normal_upper_p(1.959963984540054) - 0.025) < 1e-12);
    CHECK(fabs(normal_upper_p(-1.959963984540054) - 0.975) < 1e-12);
    /* the default per-look level, 0.05 / 172800, is met near z = 5.0 */
    CHECK(normal_upper_p(5.0) < 0.05 / 172800);
    CHECK(normal_upper_p(4.9) > 0.05 / 172800);
}

int main(void)
{
    test_rates();
    test_hist();
    test_p();
    CHECK_DONE();
}
