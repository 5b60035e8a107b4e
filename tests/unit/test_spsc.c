/* test_spsc.c: the SPSC ring across two threads: every item arrives once,
 * in order, with the data written before it visible (run under
 * ThreadSanitizer in CI), and the bounds of a full and an empty ring. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "spsc.h"

#define N_ITEMS 2000000
#define CAP 64

typedef struct msg {
    uint64_t seq;
    uint64_t payload[7];
} msg;

static spsc_ring ring, back;
static void *slots[CAP], *back_slots[CAP * 2];
static msg pool[CAP * 2];

static void *producer(void *arg)
{
    (void)arg;
    for (uint64_t i = 0; i < N_ITEMS; i++) {
        msg *m = spsc_pop(&back); /* a free message, returned by the consumer */
        m->seq = i;
        for (int k = 0; k < 7; k++)
            m->payload[k] = i * 31 + (uint64_t)k;
        spsc_push(&ring, m);
    }
    return NULL;
}

int main(void)
{
    /* Bounds on one thread. */
    spsc_ring small;
    void *st[4];
    CHECK_INT(spsc_init(&small, st, 3), -EINVAL);
    CHECK_INT(spsc_init(&small, st, 4), 0);
    CHECK(spsc_try_pop(&small) == NULL);
    int a[5];
    for (int i = 0; i < 4; i++)
        CHECK_INT(spsc_try_push(&small, &a[i]), 0);
    CHECK_INT(spsc_try_push(&small, &a[4]), -EAGAIN);
    CHECK(spsc_try_pop(&small) == &a[0]);
    CHECK_INT(spsc_try_push(&small, &a[4]), 0);
    for (int i = 1; i < 5; i++)
        CHECK(spsc_try_pop(&small) == &a[i]);
    CHECK(spsc_try_pop(&small) == NULL);

    /* Two threads, messages recycled through a second ring. */
    CHECK_INT(spsc_init(&ring, slots, CAP), 0);
    CHECK_INT(spsc_init(&back, back_slots, CAP * 2), 0);
    for (int i = 0; i < CAP * 2; i++)
        spsc_push(&back, &pool[i]);
    pthread_t t;
    CHECK_INT(pthread_create(&t, NULL, producer, NULL), 0);
    uint64_t expect = 0, bad = 0;
    for (uint64_t i = 0; i < N_ITEMS; i++) {
        msg *m = spsc_pop(&ring);
        if (m->seq != expect)
            bad++;
        for (int k = 0; k < 7; k++)
            if (m->payload[k] != expect * 31 + (uint64_t)k)
                bad++;
        expect++;
        spsc_push(&back, m);
    }
    pthread_join(t, NULL);
    CHECK_INT(bad, 0);
    CHECK_INT(expect, N_ITEMS);
    CHECK(spsc_try_pop(&ring) == NULL);
    CHECK_DONE();
}
