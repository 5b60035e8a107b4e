/* recent.h: the latest output events, kept for the live page (GET / on the
 * HTTP port). Pure: no I/O, no clock.
 *
 * Invariant: the ring holds the newest events that fit in the bytes fixed
 * at create, whole and in the order they were written; an older event
 * leaves only to make room for a newer one, and an event larger than the
 * ring is not kept (and counted). No allocation after create.
 */
#ifndef SOAKWATCH_RECENT_H
#define SOAKWATCH_RECENT_H

#include <stddef.h>
#include <stdint.h>

#define RECENT_DEFAULT_BYTES ((size_t)4 << 20) /* about 40 hours of statuses at 1/min */

typedef struct sw_recent sw_recent;

/* A ring of cap bytes (>= 64). NULL when memory is short. */
sw_recent *recent_create(size_t cap);
void recent_destroy(sw_recent *r);

/* Keep one event (its bytes, no newline). */
void recent_add(sw_recent *r, const char *json, size_t len);
/* The same as an sw_tap_fn (ud: the ring), for the sink to call. */
void recent_tap(void *ud, const char *json, size_t len);

/* Call fn for each kept event, oldest first, until it returns nonzero
 * (returned then). The bytes are borrowed for the call. */
int recent_foreach(const sw_recent *r, int (*fn)(void *ud, const char *json, size_t len),
                   void *ud);

size_t recent_count(const sw_recent *r);
/* Events dropped to make room, and events too large to keep. */
uint64_t recent_dropped(const sw_recent *r);

#endif
