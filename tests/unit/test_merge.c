/* test_merge.c: the merge of partitions by event time releases in
 * (second, partition, offset) order, holds back while a partition that is
 * not at its end has nothing staged, lets go of a partition at its end or
 * idle past the timeout, and reports a full ring without staging. */
#include <errno.h>
#include <stdlib.h>

#include "check.h"
#include "merge.h"

static sw_event ev_at(int64_t ts_ms)
{
    sw_event e;
    memset(&e, 0, sizeof(e));
    e.ts_ms = ts_ms;
    return e;
}

static void push(sw_merge *m, int part, int64_t ts_ms, int64_t off, int64_t now)
{
    sw_event e = ev_at(ts_ms);
    CHECK_INT(merge_push(m, part, &e, off, now), 0);
}

/* Pop one and check where it came from. */
static void expect(sw_merge *m, int64_t now, int part, int64_t off, int64_t ts_ms)
{
    merge_item it;
    int got = merge_pop(m, now, 5000, INT64_MAX, &it);
    CHECK_INT(got, 1);
    if (got) {
        CHECK_INT(it.part, part);
        CHECK_INT(it.offset, off);
        CHECK_INT(it.ev.ts_ms, ts_ms);
    }
}

static void expect_none(sw_merge *m, int64_t now)
{
    merge_item it;
    CHECK_INT(merge_pop(m, now, 5000, INT64_MAX, &it), 0);
}

static void test_order(void)
{
    sw_merge *m = merge_create(3, 8, 0);
    CHECK(m != NULL);
    /* Partition 0: seconds 10, 12; 1: 10 (later in its second), 11;
     * 2: 9. Within second 10 the lower partition goes first whatever the
     * milliseconds say: the engine's buckets are whole seconds. */
    push(m, 0, 10900, 0, 0);
    push(m, 0, 12000, 1, 0);
    push(m, 1, 10100, 0, 0);
    push(m, 1, 11000, 1, 0);
    push(m, 2, 9999, 5, 0);
    CHECK_INT(merge_staged(m), 5);
    int64_t head = -1;
    CHECK_INT(merge_head_offset(m, 1, &head), 1);
    CHECK_INT(head, 0);
    expect(m, 0, 2, 5, 9999);
    CHECK_INT(merge_head_offset(m, 2, &head), 0);
    /* Partition 2 is now empty and not at its end: hold. */
    expect_none(m, 1);
    merge_set_eof(m, 2, 0);
    expect(m, 1, 0, 0, 10900);
    expect(m, 1, 1, 0, 10100);
    expect(m, 1, 1, 1, 11000);
    /* Partition 1 empty, not at its end, not idle yet. */
    expect_none(m, 4999);
    /* Idle past the timeout (5 s since its last arrival at 0). */
    expect(m, 5000, 0, 1, 12000);
    CHECK_INT(merge_staged(m), 0);
    expect_none(m, 6000);
    merge_destroy(m);
}

static void test_hold_and_eof(void)
{
    sw_merge *m = merge_create(2, 4, 1000);
    push(m, 0, 50000, 7, 1000);
    /* Partition 1 has not answered yet: an event may still come earlier. */
    expect_none(m, 1000);
    expect_none(m, 5999);
    /* It arrives, earlier than partition 0's head: it goes first. */
    push(m, 1, 49000, 3, 2000);
    expect(m, 2000, 1, 3, 49000);
    /* Partition 1 is at its end with nothing staged: release. */
    merge_set_eof(m, 1, 0);
    CHECK_INT(merge_all_eof(m), 0);
    expect(m, 2000, 0, 7, 50000);
    merge_set_eof(m, 0, 0);
    CHECK_INT(merge_all_eof(m), 1);
    /* A new message clears the end: the partition holds back again. */
    push(m, 0, 51000, 8, 3000);
    CHECK_INT(merge_all_eof(m), 0);
    merge_touch(m, 1, 3000);
    expect_none(m, 3000);
    expect_none(m, 7999);
    expect(m, 8000, 0, 8, 51000);
    CHECK_INT(merge_last_arrival(m), 3000);
    merge_destroy(m);
}

/* After an interruption a partition read to its end before it no longer
 * counts as at its end, nor as idle, until it shows itself again: the
 * others' events wait for it, and it idles only the timeout after the first
 * partition came back. */
static void test_interrupted(void)
{
    sw_merge *m = merge_create(3, 8, 0);
    for (int p = 0; p < 3; p++)
        merge_set_eof(m, p, 0);
    CHECK_INT(merge_all_eof(m), 1);
    merge_hold(m);
    CHECK_INT(merge_all_eof(m), 0);
    /* Partition 0 is back first, minutes of event time ahead of the others;
     * long past the idle timeout since anything arrived. */
    push(m, 0, 600000, 10, 60000);
    push(m, 0, 700000, 11, 60000);
    expect_none(m, 60000);
    expect_none(m, 64999);
    /* Partition 1 shows its end afresh; partition 2 still holds back. */
    merge_set_eof(m, 1, 61000);
    expect_none(m, 62000);
    /* Partition 2's earlier events arrive: they go first. */
    push(m, 2, 590000, 4, 63000);
    expect(m, 63000, 2, 4, 590000);
    /* Partition 2 is empty again, not at its end and not idle: hold. */
    expect_none(m, 63000);
    expect(m, 68000, 0, 10, 600000);
    /* Held again; partition 1 never shows: it idles 5 s after the first
     * sign (partition 2's end at 70000), not before. */
    merge_hold(m);
    merge_set_eof(m, 2, 70000);
    merge_touch(m, 0, 70000);
    expect_none(m, 74999);
    expect(m, 75000, 0, 11, 700000);
    /* With no sign at all since the hold, nothing idles. */
    push(m, 2, 800000, 5, 80000);
    merge_hold(m);
    expect_none(m, 10000000);
    merge_destroy(m);
}

static void test_full(void)
{
    sw_merge *m = merge_create(2, 3, 0); /* rounded up to 4 */
    CHECK(m != NULL);
    for (int i = 0; i < 4; i++)
        push(m, 0, 1000 * i, i, 0);
    CHECK_INT(merge_any_full(m), 1);
    CHECK_INT(merge_part_full(m, 0), 1);
    CHECK_INT(merge_part_full(m, 1), 0);
    CHECK_INT(merge_part_staged(m, 0), 4);
    CHECK_INT(merge_part_staged(m, 1), 0);
    CHECK_INT(merge_part_staged(m, 2), 0); /* no such partition */
    sw_event e = ev_at(99000);
    CHECK_INT(merge_push(m, 0, &e, 4, 0), -ENOBUFS);
    CHECK_INT(merge_staged(m), 4);
    CHECK_INT(merge_push(m, 2, &e, 0, 0), -EINVAL);
    merge_set_eof(m, 1, 0);
    expect(m, 0, 0, 0, 0);
    CHECK_INT(merge_any_full(m), 0);
    CHECK_INT(merge_part_staged(m, 0), 3);
    CHECK_INT(merge_push(m, 0, &e, 4, 0), 0);
    /* Ring wrapped: the order within the partition survives it. */
    expect(m, 0, 0, 1, 1000);
    expect(m, 0, 0, 2, 2000);
    expect(m, 0, 0, 3, 3000);
    expect(m, 0, 0, 4, 99000);
    expect_none(m, 0);
    merge_destroy(m);
    CHECK(merge_create(0, 4, 0) == NULL);
    CHECK(merge_create(1, 0, 0) == NULL);
    merge_destroy(NULL);
}

/* Many partitions, random seconds per partition in non-decreasing order:
 * the released stream is sorted by (second, partition, offset) exactly. */
static void test_sorted_random(void)
{
    enum { P = 7, N = 3000 };
    sw_merge *m = merge_create(P, 4096, 0);
    int64_t t[P];
    int64_t off[P];
    unsigned seed = 12345;
    for (int p = 0; p < P; p++) {
        t[p] = 1000000;
        off[p] = 0;
    }
    for (int i = 0; i < N; i++) {
        seed = seed * 1103515245u + 12345u;
        int p = (int)((seed >> 16) % P);
        t[p] += (int64_t)((seed >> 8) % 1500);
        push(m, p, t[p], off[p]++, 0);
    }
    for (int p = 0; p < P; p++)
        merge_set_eof(m, p, 0);
    merge_item prev, it;
    int n = 0, bad = 0;
    while (merge_pop(m, 0, 5000, INT64_MAX, &it)) {
        if (n > 0) {
            int64_t a = prev.ev.ts_ms / 1000, b = it.ev.ts_ms / 1000;
            if (a > b || (a == b && prev.part > it.part) ||
                (a == b && prev.part == it.part && prev.offset >= it.offset))
                bad++;
        }
        prev = it;
        n++;
    }
    CHECK_INT(n, N);
    CHECK_INT(bad, 0);
    merge_destroy(m);
}

/* A head past hi_s (out of range for the engine) goes at once, before
 * smaller seconds and while another partition is still empty: held back
 * in order, it would hold its partition's later events behind it. */
static void test_out_of_range_head(void)
{
    sw_merge *m = merge_create(3, 8, 0);
    CHECK(m != NULL);
    if (m == NULL)
        return;
    push(m, 0, 10000, 0, 0);
    push(m, 1, 4102444800000, 0, 0); /* 2100-01-01 */
    push(m, 1, 11000, 1, 0);
    merge_item it;
    /* partition 2 is empty and not at its end: only the far one may go */
    CHECK_INT(merge_pop(m, 0, 5000, 10 + 86400, &it), 1);
    CHECK_INT(it.part, 1);
    CHECK_INT(it.offset, 0);
    CHECK_INT(merge_pop(m, 0, 5000, 10 + 86400, &it), 0);
    /* without a bound it waits its turn, and holds back what follows it
     * in its partition (10500 after 11000) */
    push(m, 2, 4102444800000, 3, 0);
    push(m, 2, 10500, 4, 0);
    merge_set_eof(m, 0, 0);
    merge_set_eof(m, 1, 0);
    expect(m, 0, 0, 0, 10000);
    expect(m, 0, 1, 1, 11000);
    expect(m, 0, 2, 3, 4102444800000);
    expect(m, 0, 2, 4, 10500);
    merge_destroy(m);
}

int main(void)
{
    test_order();
    test_out_of_range_head();
    test_hold_and_eof();
    test_interrupted();
    test_full();
    test_sorted_random();
    CHECK_DONE();
}
