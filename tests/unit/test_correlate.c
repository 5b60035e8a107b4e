/* test_correlate.c: derived latency (docs/semantics.md section 9.6). The
 * table is held to a naive model written here from the contract: a list of
 * pending (key, ts) in the order they became pending, searched linearly.
 * Millions of random requests and outcomes over small key spaces (many keys
 * sharing a home slot of the index, some wrapping around its end, so that
 * probing and backward-shift deletion are exercised) must give the same
 * result, duration and counters after every operation; hand cases pin the
 * edges of the bound. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "correlate.h"

/* ---- the model ------------------------------------------------------------ */

typedef struct model {
    int64_t size, max;
    int64_t n;
    uint64_t *key;
    int64_t *ts;
    sw_corr_stats st;
} model;

static void model_init(model *m, int64_t size, int64_t max)
{
    memset(m, 0, sizeof(*m));
    m->size = size;
    m->max = max;
    m->key = malloc((size_t)size * sizeof(uint64_t));
    m->ts = malloc((size_t)size * sizeof(int64_t));
    if (m->key == NULL || m->ts == NULL) {
        perror("malloc");
        exit(2);
    }
}

static void model_free(model *m)
{
    free(m->key);
    free(m->ts);
}

static int64_t model_find(const model *m, uint64_t key)
{
    for (int64_t i = 0; i < m->n; i++)
        if (m->key[i] == key)
            return i;
    return -1;
}

static void model_remove(model *m, int64_t i)
{
    memmove(m->key + i, m->key + i + 1, (size_t)(m->n - i - 1) * sizeof(uint64_t));
    memmove(m->ts + i, m->ts + i + 1, (size_t)(m->n - i - 1) * sizeof(int64_t));
    m->n--;
}

static void model_request(model *m, int has_key, uint64_t key, int64_t ts)
{
    if (!has_key) {
        m->st.unkeyed++;
        return;
    }
    int64_t i = model_find(m, key);
    if (i >= 0) {
        m->st.duplicate++;
        model_remove(m, i);
    } else if (m->n == m->size) {
        if (m->ts[0] + m->max < ts)
            m->st.expired++;
        else
            m->st.evicted++;
        model_remove(m, 0);
    }
    m->key[m->n] = key;
    m->ts[m->n] = ts;
    m->n++;
}

static int model_outcome(model *m, int has_key, uint64_t key, int64_t ts, int64_t *dur)
{
    if (has_key) {
        int64_t i = model_find(m, key);
        if (i >= 0) {
            int64_t d = ts - m->ts[i];
            model_remove(m, i);
            if (d >= 0 && d <= m->max) {
                m->st.matched++;
                *dur = d;
                return 1;
            }
        }
    }
    m->st.unmatched++;
    return 0;
}

/* ---- comparing ------------------------------------------------------------ */

static long op_failures;

static int same_stats(const sw_corr_stats *a, const sw_corr_stats *b)
{
    return a->matched == b->matched && a->unmatched == b->unmatched &&
           a->duplicate == b->duplicate && a->evicted == b->evicted &&
           a->expired == b->expired && a->unkeyed == b->unkeyed;
}

static void print_stats(const char *who, const sw_corr_stats *s)
{
    fprintf(stderr,
            "  %s: matched %" PRIu64 " unmatched %" PRIu64 " duplicate %" PRIu64
            " evicted %" PRIu64 " expired %" PRIu64 " unkeyed %" PRIu64 "\n",
            who, s->matched, s->unmatched, s->duplicate, s->evicted, s->expired, s->unkeyed);
}

#define CHECK_STATS(c, want)                                                      \
    do {                                                                          \
        const sw_corr_stats *got_ = corr_stats(c);                                \
        const sw_corr_stats want_ = (want);                                       \
        if (!same_stats(got_, &want_)) {                                          \
            fprintf(stderr, "%s:%d: stats differ\n", __FILE__, __LINE__);        \
            print_stats("got ", got_);                                            \
            print_stats("want", &want_);                                          \
            check_failures++;                                                     \
        }                                                                         \
    } while (0)

/* One outcome through the table: returns its result, dur or -1. */
static int64_t outc(sw_corr *c, int has_key, uint64_t key, int64_t ts)
{
    int64_t d = -12345;
    int r = corr_outcome(c, has_key, key, ts, &d);
    return r ? d : -1;
}

/* ---- hand cases ------------------------------------------------------------ */

static sw_corr_stats stats(uint64_t matched, uint64_t unmatched, uint64_t duplicate,
                           uint64_t evicted, uint64_t expired, uint64_t unkeyed)
{
    sw_corr_stats s = {matched, unmatched, duplicate, evicted, expired, unkeyed};
    return s;
}

static void test_create(void)
{
    CHECK(corr_create(0, 100) == NULL);
    CHECK(corr_create(-1, 100) == NULL);
    CHECK(corr_create((INT64_C(1) << 24) + 1, 100) == NULL);
    sw_corr *c = corr_create(1, 100);
    CHECK(c != NULL);
    corr_destroy(c);
    corr_destroy(NULL);
    /* The default table: 65,536 entries of 24 bytes and an index of two
     * int32 slots per entry, so 32 bytes per entry (section 9.6) and a
     * small header. */
    c = corr_create(65536, 60000);
    CHECK(c != NULL);
    if (c) {
        size_t b = corr_bytes(c);
        CHECK(b >= (size_t)65536 * 32);
        CHECK(b < (size_t)65536 * 32 + 1024);
        if (!(b >= (size_t)65536 * 32 && b < (size_t)65536 * 32 + 1024))
            fprintf(stderr, "  corr_bytes(65536) = %zu\n", b);
        CHECK_STATS(c, stats(0, 0, 0, 0, 0, 0));
    }
    corr_destroy(c);
    c = corr_create(INT64_C(1) << 24, 1);
    CHECK(c != NULL);
    corr_destroy(c);
}

static void test_bounds(void)
{
    sw_corr *c = corr_create(16, 100);
    if (c == NULL) {
        CHECK(c != NULL);
        return;
    }
    /* d == 0: matched with duration 0 */
    corr_request(c, 1, 1, 1000);
    CHECK_INT(outc(c, 1, 1, 1000), 0);
    CHECK_STATS(c, stats(1, 0, 0, 0, 0, 0));
    /* d == max: matched */
    corr_request(c, 1, 2, 1000);
    CHECK_INT(outc(c, 1, 2, 1100), 100);
    CHECK_STATS(c, stats(2, 0, 0, 0, 0, 0));
    /* d == max + 1: unmatched, and the request is gone all the same */
    corr_request(c, 1, 3, 1000);
    CHECK_INT(outc(c, 1, 3, 1101), -1);
    CHECK_STATS(c, stats(2, 1, 0, 0, 0, 0));
    CHECK_INT(outc(c, 1, 3, 1050), -1);
    CHECK_STATS(c, stats(2, 2, 0, 0, 0, 0));
    /* negative d: unmatched, request taken out */
    corr_request(c, 1, 4, 1000);
    CHECK_INT(outc(c, 1, 4, 999), -1);
    CHECK_STATS(c, stats(2, 3, 0, 0, 0, 0));
    CHECK_INT(outc(c, 1, 4, 1000), -1);
    CHECK_STATS(c, stats(2, 4, 0, 0, 0, 0));
    /* an outcome without a key, or with a key not pending */
    corr_request(c, 1, 5, 1000);
    CHECK_INT(outc(c, 0, 5, 1001), -1);
    CHECK_STATS(c, stats(2, 5, 0, 0, 0, 0));
    CHECK_INT(outc(c, 1, 6, 1001), -1);
    CHECK_STATS(c, stats(2, 6, 0, 0, 0, 0));
    /* the unkeyed outcome did not take key 5's request */
    CHECK_INT(outc(c, 1, 5, 1002), 2);
    CHECK_STATS(c, stats(3, 6, 0, 0, 0, 0));
    /* an unkeyed request is counted and pends nothing */
    corr_request(c, 0, 7, 1000);
    CHECK_STATS(c, stats(3, 6, 0, 0, 0, 1));
    CHECK_INT(outc(c, 1, 7, 1001), -1);
    CHECK_STATS(c, stats(3, 7, 0, 0, 0, 1));
    /* a duplicate replaces: the outcome pairs with the newer request */
    corr_request(c, 1, 8, 1000);
    corr_request(c, 1, 8, 1040);
    CHECK_STATS(c, stats(3, 7, 1, 0, 0, 1));
    CHECK_INT(outc(c, 1, 8, 1050), 10);
    CHECK_STATS(c, stats(4, 7, 1, 0, 0, 1));
    /* a duplicate whose newer time is earlier still replaces */
    corr_request(c, 1, 9, 1040);
    corr_request(c, 1, 9, 1000);
    CHECK_INT(outc(c, 1, 9, 1100), 100);
    CHECK_STATS(c, stats(5, 7, 2, 0, 0, 1));
    /* key 0 and key UINT64_MAX are keys like any other */
    corr_request(c, 1, 0, 5);
    corr_request(c, 1, UINT64_MAX, 6);
    CHECK_INT(outc(c, 1, UINT64_MAX, 7), 1);
    CHECK_INT(outc(c, 1, 0, 7), 2);
    CHECK_STATS(c, stats(7, 7, 2, 0, 0, 1));
    /* negative times (before the epoch) pair the same way */
    corr_request(c, 1, 10, -500);
    CHECK_INT(outc(c, 1, 10, -450), 50);
    CHECK_STATS(c, stats(8, 7, 2, 0, 0, 1));
    corr_destroy(c);
}

static void test_full_table(void)
{
    /* size 2, max 100 */
    sw_corr *c = corr_create(2, 100);
    if (c == NULL) {
        CHECK(c != NULL);
        return;
    }
    corr_request(c, 1, 1, 1000);
    corr_request(c, 1, 2, 1050);
    /* full: key 1 (ts 1000) is oldest; 1000 + 100 < 1100 is false: evicted */
    corr_request(c, 1, 3, 1100);
    CHECK_STATS(c, stats(0, 0, 0, 1, 0, 0));
    CHECK_INT(outc(c, 1, 1, 1100), -1);
    CHECK_STATS(c, stats(0, 1, 0, 1, 0, 0));
    /* pending now: 2 (1050), 3 (1100). 1050 + 100 < 1151: expired */
    corr_request(c, 1, 4, 1151);
    CHECK_STATS(c, stats(0, 1, 0, 1, 1, 0));
    CHECK_INT(outc(c, 1, 2, 1151), -1);
    /* pending: 3 (1100), 4 (1151). A duplicate of 3 moves it to the end
     * and drops nothing else, full or not. */
    corr_request(c, 1, 3, 1160);
    CHECK_STATS(c, stats(0, 2, 1, 1, 1, 0));
    /* pending: 4 (1151), 3 (1160); the next new key drops 4, not 3 */
    corr_request(c, 1, 5, 1200);
    CHECK_STATS(c, stats(0, 2, 1, 2, 1, 0));
    CHECK_INT(outc(c, 1, 4, 1200), -1);
    CHECK_INT(outc(c, 1, 3, 1200), 40);
    CHECK_INT(outc(c, 1, 5, 1300), 100);
    CHECK_STATS(c, stats(2, 3, 1, 2, 1, 0));
    /* empty again: fill, then an outcome frees a place, so no drop */
    corr_request(c, 1, 6, 2000);
    corr_request(c, 1, 7, 2000);
    CHECK_INT(outc(c, 1, 6, 2000), 0);
    corr_request(c, 1, 8, 5000);
    CHECK_STATS(c, stats(3, 3, 1, 2, 1, 0));
    CHECK_INT(outc(c, 1, 7, 2001), 1);
    CHECK_INT(outc(c, 1, 8, 5001), 1);
    corr_destroy(c);

    /* size 1: every new key drops the one pending */
    c = corr_create(1, 10);
    if (c == NULL) {
        CHECK(c != NULL);
        return;
    }
    corr_request(c, 1, 42, 0);
    corr_request(c, 1, 43, 10); /* 0 + 10 < 10 false: evicted */
    corr_request(c, 1, 44, 21); /* 10 + 10 < 21: expired */
    corr_request(c, 1, 44, 22); /* duplicate */
    CHECK_STATS(c, stats(0, 0, 1, 1, 1, 0));
    CHECK_INT(outc(c, 1, 42, 22), -1);
    CHECK_INT(outc(c, 1, 43, 22), -1);
    CHECK_INT(outc(c, 1, 44, 32), 10);
    CHECK_STATS(c, stats(1, 2, 1, 1, 1, 0));
    corr_destroy(c);
}

/* ---- random operations against the model --------------------------------- */

static uint64_t rng_state = 0x2545F4914F6CDD1DULL;

static uint64_t rng(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    rng_state = x;
    return x;
}

/* correlate.c's hash, to pick keys by their home slot in the index. */
static uint64_t mix(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return k;
}

/* A pool of nkeys keys: a third share one home slot, a third have their
 * home in the last two slots of the index (probes wrap around), the rest
 * are consecutive integers. */
static void make_keys(uint64_t *keys, int nkeys, int64_t size)
{
    uint64_t slots = 2;
    while (slots < (uint64_t)size * 2)
        slots <<= 1;
    uint64_t mask = slots - 1;
    int k = 0;
    uint64_t cand = 1000;
    uint64_t home = rng() & mask;
    while (k < nkeys / 3) {
        cand++;
        if ((mix(cand) & mask) == home)
            keys[k++] = cand;
    }
    while (k < 2 * nkeys / 3) {
        cand++;
        if ((mix(cand) & mask) >= mask - 1)
            keys[k++] = cand;
    }
    for (uint64_t i = 0; k < nkeys; i++)
        keys[k++] = i;
}

static void random_run(int64_t size, int64_t max, int nkeys, long ops)
{
    sw_corr *c = corr_create(size, max);
    if (c == NULL) {
        CHECK(c != NULL);
        return;
    }
    model m;
    model_init(&m, size, max);
    uint64_t *keys = malloc((size_t)nkeys * sizeof(uint64_t));
    if (keys == NULL) {
        perror("malloc");
        exit(2);
    }
    make_keys(keys, nkeys, size);
    int64_t ts = 1000000;
    long fails = 0;
    for (long op = 0; op < ops && fails < 10; op++) {
        /* time: in phases of 20,000 operations, a slow clock, or mostly
         * forward by 0..max/4+1, sometimes back, sometimes a jump past the
         * bound */
        uint64_t r = rng();
        if ((op / 20000) % 3 == 0) {
            /* a slow clock: the table fills within the bound (evictions) */
            if (r % 64 == 0)
                ts -= (int64_t)((r >> 8) % 3);
            else
                ts += (int64_t)((r >> 8) % 2);
        } else {
            switch (r % 16) {
            case 0: ts -= (int64_t)((r >> 8) % (uint64_t)(max + 2)); break;
            case 1: ts += max + 1 + (int64_t)((r >> 8) % 3); break;
            default: ts += (int64_t)((r >> 8) % (uint64_t)(max / 4 + 2)); break;
            }
        }
        /* each event's own time: the clock, give or take */
        int64_t ets = ts + (int64_t)((r >> 24) % 5) - 2;
        int has_key = ((r >> 32) % 16) != 0;
        uint64_t key = keys[(r >> 36) % (uint64_t)nkeys];
        int is_request = ((r >> 60) & 1) != 0;
        if (is_request) {
            corr_request(c, has_key, key, ets);
            model_request(&m, has_key, key, ets);
        } else {
            int64_t dc = -7, dm = -9;
            int rc = corr_outcome(c, has_key, key, ets, &dc);
            int rm = model_outcome(&m, has_key, key, ets, &dm);
            if (rc != rm || (rc && dc != dm)) {
                fprintf(stderr,
                        "size %" PRId64 " op %ld: outcome(key %" PRIu64 ", ts %" PRId64
                        ") gave %d/%" PRId64 ", model %d/%" PRId64 "\n",
                        size, op, key, ets, rc, dc, rm, dm);
                fails++;
            }
        }
        if (!same_stats(corr_stats(c), &m.st)) {
            fprintf(stderr, "size %" PRId64 " op %ld (%s key %" PRIu64 " ts %" PRId64
                    "): stats differ\n",
                    size, op, is_request ? "request" : "outcome", key, ets);
            print_stats("got  ", corr_stats(c));
            print_stats("model", &m.st);
            fails++;
        }
    }
    /* The run must have reached every counter, or it tested less than it
     * claims. */
    const sw_corr_stats *s = corr_stats(c);
    CHECK(s->matched > 0);
    CHECK(s->unmatched > 0);
    CHECK(s->duplicate > 0);
    CHECK(s->unkeyed > 0);
    CHECK(s->evicted > 0);
    CHECK(s->expired > 0);
    printf("size %-5" PRId64 " keys %-5d ops %-8ld matched %" PRIu64 " unmatched %" PRIu64
           " duplicate %" PRIu64 " evicted %" PRIu64 " expired %" PRIu64 " unkeyed %" PRIu64
           "\n",
           size, nkeys, ops, s->matched, s->unmatched, s->duplicate, s->evicted, s->expired,
           s->unkeyed);
    /* Drain: every key still pending in the model pairs at its own time. */
    for (int64_t i = m.n - 1; i >= 0 && fails < 10; i--) {
        uint64_t key = m.key[i];
        int64_t t = m.ts[i];
        int64_t dc = -7, dm = -9;
        int rc = corr_outcome(c, 1, key, t + max, &dc);
        int rm = model_outcome(&m, 1, key, t + max, &dm);
        if (rc != 1 || rm != 1 || dc != max || dm != max) {
            fprintf(stderr, "drain key %" PRIu64 ": %d/%" PRId64 ", model %d/%" PRId64 "\n",
                    key, rc, dc, rm, dm);
            fails++;
        }
    }
    CHECK_INT(m.n, 0);
    if (!same_stats(corr_stats(c), &m.st))
        fails++;
    op_failures += fails;
    check_failures += (int)fails;
    free(keys);
    model_free(&m);
    corr_destroy(c);
}

static void test_random(void)
{
    /* Key spaces around the table size: duplicates, evictions and misses
     * all happen. */
    random_run(1, 10, 3, 1000000);
    random_run(2, 10, 5, 1000000);
    random_run(2, 1, 4, 500000);
    random_run(16, 20, 24, 1000000);
    random_run(16, 1000, 40, 500000);
    random_run(1000, 2000, 2500, 300000);
    random_run(1000, 5000, 3000, 150000);
}

int main(void)
{
    test_create();
    test_bounds();
    test_full_table();
    test_random();
    CHECK_DONE();
}
