/* check.h: the assertions of the unit tests. A failed check prints the
 * expression and both values, and the test exits non-zero at the end. */
#ifndef SOAKWATCH_CHECK_H
#define SOAKWATCH_CHECK_H

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static int check_failures;

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
            check_failures++;                                                    \
        }                                                                        \
    } while (0)

#define CHECK_INT(a, b)                                                          \
    do {                                                                         \
        long long va_ = (long long)(a), vb_ = (long long)(b);                    \
        if (va_ != vb_) {                                                        \
            fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__, \
                    __LINE__, #a, #b, va_, vb_);                                 \
            check_failures++;                                                    \
        }                                                                        \
    } while (0)

#define CHECK_DBL(a, b, tol)                                                     \
    do {                                                                         \
        double va_ = (double)(a), vb_ = (double)(b);                             \
        if (!(fabs(va_ - vb_) <= (tol)) && !(isnan(va_) && isnan(vb_))) {        \
            fprintf(stderr, "%s:%d: %s == %s failed: %.17g != %.17g\n", __FILE__,\
                    __LINE__, #a, #b, va_, vb_);                                 \
            check_failures++;                                                    \
        }                                                                        \
    } while (0)

#define CHECK_STR(a, b)                                                          \
    do {                                                                         \
        const char *sa_ = (a), *sb_ = (b);                                       \
        if (sa_ == NULL || sb_ == NULL || strcmp(sa_, sb_) != 0) {               \
            fprintf(stderr, "%s:%d: %s == %s failed:\n  got  %s\n  want %s\n",   \
                    __FILE__, __LINE__, #a, #b, sa_ ? sa_ : "(null)",           \
                    sb_ ? sb_ : "(null)");                                       \
            check_failures++;                                                    \
        }                                                                        \
    } while (0)

#define CHECK_DONE()                                                             \
    do {                                                                         \
        if (check_failures) {                                                    \
            fprintf(stderr, "%d check(s) failed\n", check_failures);            \
            return 1;                                                            \
        }                                                                        \
        return 0;                                                                \
    } while (0)

#endif
