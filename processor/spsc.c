/* spsc.c: the ring's two operations. The release store of an index
 * publishes the slot written before it; the acquire load on the other side
 * makes that slot's contents visible before it is read. */
#include "spsc.h"

#include <errno.h>
#include <sched.h>
#include <time.h>

int spsc_init(spsc_ring *r, void **storage, size_t capacity)
{
    if (capacity < 2 || (capacity & (capacity - 1)) != 0)
        return -EINVAL;
    atomic_init(&r->head, 0);
    atomic_init(&r->tail, 0);
    r->mask = capacity - 1;
    r->slots = storage;
    return 0;
}

int spsc_try_push(spsc_ring *r, void *item)
{
    size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    /* Acquire: the consumer's read of the slot we are about to reuse is
     * complete before we overwrite it. */
    size_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    if (tail - head > r->mask)
        return -EAGAIN;
    r->slots[tail & r->mask] = item;
    /* Release: the slot's content is visible before the new tail. */
    atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
    return 0;
}

void *spsc_try_pop(spsc_ring *r)
{
    size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    /* Acquire: pairs with the producer's release of tail. */
    size_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    if (head == tail)
        return NULL;
    void *item = r->slots[head & r->mask];
    /* Release: our read of the slot happens before the producer reuses it. */
    atomic_store_explicit(&r->head, head + 1, memory_order_release);
    return item;
}

static void backoff(unsigned *spins)
{
    if (*spins < 64) {
        (*spins)++;
    } else if (*spins < 128) {
        (*spins)++;
        sched_yield();
    } else {
        struct timespec ts = {0, 50 * 1000};
        nanosleep(&ts, NULL);
    }
}

void spsc_push(spsc_ring *r, void *item)
{
    unsigned spins = 0;
    while (spsc_try_push(r, item) != 0)
        backoff(&spins);
}

void *spsc_pop(spsc_ring *r)
{
    unsigned spins = 0;
    void *item;
    while ((item = spsc_try_pop(r)) == NULL)
        backoff(&spins);
    return item;
}
