/* spsc.h: a bounded single-producer single-consumer ring of pointers, the
 * only place where soakwatch's threads meet. Capacity is a power of two,
 * slots are indexed by mask, nothing allocates after spsc_init, and
 * neither side ever takes a lock: a full ring makes the producer wait, an
 * empty one the consumer, each by backing off, never by blocking the other.
 */
#ifndef SOAKWATCH_SPSC_H
#define SOAKWATCH_SPSC_H

#include <stdatomic.h>
#include <stddef.h>

typedef struct spsc_ring {
    /* head and tail on their own cache lines: each is written by one side. */
    _Alignas(64) atomic_size_t head; /* next slot to read (consumer) */
    _Alignas(64) atomic_size_t tail; /* next slot to write (producer) */
    _Alignas(64) size_t mask;
    void **slots;
} spsc_ring;

/* Set up a ring over caller-owned storage of `capacity` slots (a power of
 * two >= 2). Returns 0, or -EINVAL for a bad capacity. */
int spsc_init(spsc_ring *r, void **storage, size_t capacity);

/* Producer: append item (not NULL). Returns 0, or -EAGAIN when full. */
int spsc_try_push(spsc_ring *r, void *item);
/* Consumer: take the oldest item, or NULL when empty. */
void *spsc_try_pop(spsc_ring *r);

/* Waiting forms: back off (spin, yield, then short sleeps) until done. */
void spsc_push(spsc_ring *r, void *item);
void *spsc_pop(spsc_ring *r);

#endif
