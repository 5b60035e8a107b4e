/* parts.h: what the parts of the live program hand each other through
 * their driver (they never call each other): the clock, and a message of
 * the input that could not be taken. */
#ifndef SOAKWATCH_PARTS_H
#define SOAKWATCH_PARTS_H

#include <stddef.h>
#include <stdint.h>

/* Something that follows every output event written (the live page's
 * ring): its bytes, borrowed for the call. */
typedef void (*sw_tap_fn)(void *ud, const char *json, size_t len);

/* The clock as the driver reads it (ms since the epoch); tests inject one. */
typedef int64_t (*sw_now_fn)(void *ud);

/* A message of the input that could not be taken, to copy to the
 * dead-letter topic with its reason. All borrowed for the call. */
typedef struct sw_reject {
    const char *topic;   /* where it came from */
    int partition;
    int64_t offset;
    const char *key, *value;
    size_t key_len, len;
    const char *reason;
} sw_reject;

#endif
