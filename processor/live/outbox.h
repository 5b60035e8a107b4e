/* outbox.h: messages whose delivery failed, kept to be produced again as
 * they were (value, key, headers). Pure: no Kafka, no clock.
 *
 * Invariant: a kept message is either taken back (outbox_take) or counted
 * as lost; nothing leaves silently. Bounded by a count fixed at create;
 * each message is copied into one allocation, on this failure path only.
 */
#ifndef SOAKWATCH_OUTBOX_H
#define SOAKWATCH_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "../kafka.h"

#define OUTBOX_HEADERS 8 /* every header of an output or a dead letter */

typedef struct outbox_item {
    char *mem; /* value, key and header texts: one allocation */
    const char *value, *key;
    size_t len, key_len;
    kafka_header h[OUTBOX_HEADERS];
    int nh;
    int kind; /* the caller's: which topic it goes back to */
} outbox_item;

typedef struct sw_outbox sw_outbox;

/* An outbox of at most cap messages (>= 1). NULL when memory is short. */
sw_outbox *outbox_create(int cap);
/* Frees what is still kept. Accepts NULL. */
void outbox_destroy(sw_outbox *o);

/* Keep a copy (headers beyond OUTBOX_HEADERS are dropped). Returns 0, or
 * -ENOBUFS (full) / -ENOMEM: the message is then lost, and counted. */
int outbox_keep(sw_outbox *o, int kind, const char *value, size_t len, const char *key,
                size_t key_len, const kafka_header *h, int nh);

/* Move every kept message, oldest first, into out (room for the cap);
 * the outbox is then empty. Returns how many; free each with
 * outbox_item_free once produced again. */
int outbox_take(sw_outbox *o, outbox_item *out);
void outbox_item_free(outbox_item *it);

int outbox_len(const sw_outbox *o);
int outbox_cap(const sw_outbox *o);
/* Messages lost so far: the outbox was full or memory short. */
uint64_t outbox_lost(const sw_outbox *o);

#endif
