/* test_inpath.c: the path syntax of docs/semantics.md section 9.1. Valid
 * paths give their steps (keys unescaped and NUL-terminated in the path's
 * own buffer, indexes as numbers); invalid ones are refused with a reason;
 * the limits (16 steps, 127 bytes) hold exactly at their edge. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "inpath.h"

/* A step as the tests write it: a key, or an index (key NULL). */
typedef struct step {
    const char *key;
    int64_t index;
} step;

#define K(s) {s, -1}
#define I(n) {NULL, n}

/* text must parse to exactly these steps. */
static void check_path(int line, const char *text, int n, const step *want)
{
    inpath p;
    const char *why = NULL;
    int rc = inpath_parse(text, &p, &why);
    if (rc != 0) {
        fprintf(stderr, "%s:%d: \"%s\" refused (%d): %s\n", __FILE__, line, text, rc,
                why ? why : "(no reason)");
        check_failures++;
        return;
    }
    if (p.n != n) {
        fprintf(stderr, "%s:%d: \"%s\": %d steps, want %d\n", __FILE__, line, text, p.n, n);
        check_failures++;
        return;
    }
    for (int k = 0; k < n; k++) {
        const inpath_seg *sg = &p.segs[k];
        if (want[k].key == NULL) {
            if (sg->index != want[k].index || sg->key != NULL || sg->len != 0) {
                fprintf(stderr, "%s:%d: \"%s\" step %d: index %lld key %p len %zu, want index "
                        "%lld\n", __FILE__, line, text, k, (long long)sg->index,
                        (const void *)sg->key, sg->len, (long long)want[k].index);
                check_failures++;
            }
            continue;
        }
        size_t wl = strlen(want[k].key);
        int in_buf = sg->key != NULL && sg->key >= p.buf &&
                     sg->key + sg->len < p.buf + sizeof(p.buf);
        if (sg->index != -1 || sg->key == NULL || sg->len != wl || !in_buf ||
            memcmp(sg->key, want[k].key, wl) != 0 || sg->key[wl] != '\0' ||
            strlen(sg->key) != wl) {
            fprintf(stderr, "%s:%d: \"%s\" step %d: index %lld key \"%.*s\" len %zu (in buf %d), "
                    "want key \"%s\"\n", __FILE__, line, text, k, (long long)sg->index,
                    sg->key ? (int)sg->len : 0, sg->key ? sg->key : "", sg->len, in_buf,
                    want[k].key);
            check_failures++;
        }
    }
}

#define PATH_OK(text, ...)                                                       \
    do {                                                                         \
        static const step want_[] = {__VA_ARGS__};                               \
        check_path(__LINE__, text, (int)(sizeof(want_) / sizeof(want_[0])), want_); \
    } while (0)

/* text must be refused; with a reason containing needle when not NULL. */
static void check_bad(int line, const char *text, const char *needle)
{
    inpath p;
    const char *why = NULL;
    int rc = inpath_parse(text, &p, &why);
    if (rc != -EINVAL) {
        fprintf(stderr, "%s:%d: \"%s\": rc %d, want %d (-EINVAL)\n", __FILE__, line, text, rc,
                -EINVAL);
        check_failures++;
        return;
    }
    if (why == NULL || (needle != NULL && strstr(why, needle) == NULL)) {
        fprintf(stderr, "%s:%d: \"%s\": reason \"%s\" lacks \"%s\"\n", __FILE__, line, text,
                why ? why : "(null)", needle ? needle : "");
        check_failures++;
    }
}

#define PATH_BAD(text, needle) check_bad(__LINE__, text, needle)

static void test_valid(void)
{
    PATH_OK("event", K("event"));
    PATH_OK("a", K("a"));
    PATH_OK("context.payload.reason", K("context"), K("payload"), K("reason"));
    PATH_OK("records[0].attributes", K("records"), I(0), K("attributes"));
    PATH_OK("a[1][2][3]", K("a"), I(1), I(2), I(3));
    PATH_OK("a[0].b[12].c", K("a"), I(0), K("b"), I(12), K("c"));
    PATH_OK("a[007]", K("a"), I(7));
    PATH_OK("a[999999999]", K("a"), I(999999999));
    /* escapes */
    PATH_OK("service\\.name", K("service.name"));
    PATH_OK("attributes.service\\.name", K("attributes"), K("service.name"));
    PATH_OK("a\\[0]", K("a[0]"));
    PATH_OK("a\\[0][1]", K("a[0]"), I(1));
    PATH_OK("back\\\\slash", K("back\\slash"));
    PATH_OK("\\\\", K("\\"));
    PATH_OK("\\.", K("."));
    PATH_OK("\\..\\[", K("."), K("["));
    PATH_OK("x\\\\.y", K("x\\"), K("y"));
    PATH_OK("a\\.b.c\\\\\\.d", K("a.b"), K("c\\.d"));
    /* characters that need no escape */
    PATH_OK("a]b", K("a]b"));
    PATH_OK("a b", K("a b"));
    PATH_OK("http.status", K("http"), K("status"));
    PATH_OK("\xc3\xa9t\xc3\xa9", K("\xc3\xa9t\xc3\xa9"));
    PATH_OK("a/b:c-d_e$", K("a/b:c-d_e$"));
}

static void test_invalid(void)
{
    PATH_BAD("", "empty");
    /* empty keys */
    PATH_BAD(".a", "empty key");
    PATH_BAD("a..b", "empty key");
    PATH_BAD("[0]", "empty key");
    PATH_BAD("a.[0]", "empty key");
    PATH_BAD(".", NULL);
    PATH_BAD("a.b.", "trailing dot");
    PATH_BAD("a.", "trailing dot");
    PATH_BAD("a[0].", "trailing dot");
    /* bad escapes */
    PATH_BAD("a\\b", "backslash");
    PATH_BAD("a\\", "backslash");
    PATH_BAD("\\", "backslash");
    PATH_BAD("a\\]", "backslash");
    PATH_BAD("a\\n", "backslash");
    PATH_BAD("a.b\\", "backslash");
    /* bad indexes */
    PATH_BAD("a[", "index");
    PATH_BAD("a[]", "index");
    PATH_BAD("a[1", "index");
    PATH_BAD("a[-1]", "index");
    PATH_BAD("a[+1]", "index");
    PATH_BAD("a[ 1]", "index");
    PATH_BAD("a[1 ]", "index");
    PATH_BAD("a[x]", "index");
    PATH_BAD("a[1.5]", "index");
    PATH_BAD("a[1234567890]", "index");
    PATH_BAD("a[0]b", "expected '.' or '['");
    PATH_BAD("a[0]]", "expected '.' or '['");
    PATH_BAD("a[0]\\.b", "expected '.' or '['");
}

static void test_limits(void)
{
    char t[512];
    /* 16 steps: fine; 17: refused, however they are split between keys
     * and indexes */
    strcpy(t, "a");
    for (int k = 1; k < 16; k++)
        strcat(t, ".a");
    {
        inpath p;
        const char *why = NULL;
        CHECK_INT(inpath_parse(t, &p, &why), 0);
        CHECK_INT(p.n, 16);
        for (int k = 0; k < p.n; k++) {
            CHECK_INT(p.segs[k].index, -1);
            CHECK_STR(p.segs[k].key, "a");
        }
        strcat(t, ".a");
        PATH_BAD(t, "16 steps");
    }
    strcpy(t, "a");
    for (int k = 1; k < 16; k++)
        strcat(t, "[0]");
    {
        inpath p;
        const char *why = NULL;
        CHECK_INT(inpath_parse(t, &p, &why), 0);
        CHECK_INT(p.n, 16);
        CHECK_INT(p.segs[15].index, 0);
        strcat(t, "[1]");
        PATH_BAD(t, "16 steps");
        strcpy(t, "a");
        for (int k = 1; k < 16; k++)
            strcat(t, "[0]");
        strcat(t, ".b");
        PATH_BAD(t, "16 steps");
    }
    /* 16 keys of the longest total: every key's NUL fits the buffer */
    {
        strcpy(t, "");
        for (int k = 0; k < 16; k++) {
            if (k)
                strcat(t, ".");
            strcat(t, k < 15 ? "bbbbbbb" : "ddddddd");
        }
        CHECK_INT((long long)strlen(t), 127);
        inpath p;
        const char *why = NULL;
        CHECK_INT(inpath_parse(t, &p, &why), 0);
        CHECK_INT(p.n, 16);
        CHECK_STR(p.segs[14].key, "bbbbbbb");
        CHECK_STR(p.segs[15].key, "ddddddd");
        CHECK_INT(p.segs[15].len, 7);
    }
    /* 127 bytes: fine; 128: refused */
    memset(t, 'x', 127);
    t[127] = '\0';
    {
        inpath p;
        const char *why = NULL;
        CHECK_INT(inpath_parse(t, &p, &why), 0);
        CHECK_INT(p.n, 1);
        CHECK_INT(p.segs[0].len, 127);
        CHECK_INT((long long)strlen(p.segs[0].key), 127);
    }
    t[127] = 'x';
    t[128] = '\0';
    PATH_BAD(t, "127 bytes");
    /* the limit is on the text as written, escapes included */
    memset(t, 0, sizeof(t));
    for (int k = 0; k < 64; k++)
        memcpy(t + 2 * k, "\\.", 2);
    PATH_BAD(t, "127 bytes"); /* 128 bytes of text, a 64-byte key */
    t[126] = '\0';
    {
        inpath p;
        const char *why = NULL;
        CHECK_INT(inpath_parse(t, &p, &why), 0);
        CHECK_INT(p.n, 1);
        CHECK_INT(p.segs[0].len, 63);
    }
    /* 17 steps of 127 bytes in all: the 17th key is refused, nothing
     * overflows (ASan watches) */
    memset(t, 0, sizeof(t));
    for (int k = 0; k < 17; k++) {
        if (k)
            strcat(t, ".");
        strcat(t, k < 16 ? "ccccccc" : "ccccccccccc"); /* 16*7+16+11 = 139 > 127 */
    }
    PATH_BAD(t, "127 bytes");
    memset(t, 0, sizeof(t));
    for (int k = 0; k < 17; k++) {
        if (k)
            strcat(t, ".");
        strcat(t, k < 16 ? "ccccccc" : "c"); /* 16*7+16+1 = 129 */
    }
    PATH_BAD(t, "127 bytes");
    memset(t, 0, sizeof(t));
    for (int k = 0; k < 17; k++) {
        if (k)
            strcat(t, ".");
        strcat(t, "ccccc"); /* 17*5+16 = 101 */
    }
    PATH_BAD(t, "16 steps");
}

static void test_copy(void)
{
    /* A copy by value, rebased, reads its own buffer. */
    inpath p, q;
    const char *why = NULL;
    CHECK_INT(inpath_parse("ctx.pay\\.load[2].reason", &p, &why), 0);
    memcpy(&q, &p, sizeof(q));
    memset(&p, 0x5a, sizeof(p));
    inpath_rebase(&q);
    CHECK_INT(q.n, 4);
    CHECK(q.segs[0].key >= q.buf && q.segs[0].key < q.buf + sizeof(q.buf));
    CHECK_STR(q.segs[0].key, "ctx");
    CHECK_STR(q.segs[1].key, "pay.load");
    CHECK_INT(q.segs[1].len, 8);
    CHECK_INT(q.segs[2].index, 2);
    CHECK(q.segs[2].key == NULL);
    CHECK_STR(q.segs[3].key, "reason");
    /* A parse after a failed parse starts afresh. */
    CHECK_INT(inpath_parse("a..b", &q, &why), -EINVAL);
    CHECK_INT(inpath_parse("z", &q, &why), 0);
    CHECK_INT(q.n, 1);
    CHECK_STR(q.segs[0].key, "z");
}

int main(void)
{
    test_valid();
    test_invalid();
    test_limits();
    test_copy();
    CHECK_DONE();
}
