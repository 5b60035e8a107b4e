/* merge.h: k-way merge of input partitions by event time, before the engine.
 *
 * Each partition stages its decoded events, in offset order, in a ring of
 * fixed capacity allocated at create. An event is released only when no
 * partition could still deliver an earlier one: every partition then has an
 * event staged, or has been read to its end with nothing staged, or has had
 * nothing arrive for the idle timeout. Released order is the smallest
 * (second, partition, offset) among the partitions' heads, but for a head
 * the engine will reject as out of range, released at once. Pure: no I/O, no
 * clock (time comes in as an argument), no allocation after create.
 */
#ifndef SOAKWATCH_MERGE_H
#define SOAKWATCH_MERGE_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"

typedef struct merge_item {
    sw_event ev;
    int64_t offset; /* the message's offset in its partition */
    int part;       /* set by merge_pop */
} merge_item;

typedef struct sw_merge sw_merge;

/* A merge of n_parts partitions (1 .. 65536), each staging up to cap events
 * (rounded up to a power of two). now_ms starts every partition's idle
 * clock. Returns NULL when an argument is out of range or memory is short. */
sw_merge *merge_create(int n_parts, uint32_t cap, int64_t now_ms);

/* Accepts NULL. */
void merge_destroy(sw_merge *m);

/* Stage one event of partition part, read at now_ms. The partition is no
 * longer at its end. Returns 0, -ENOBUFS when its ring is full (nothing is
 * staged: the caller must stop reading until merge_pop made room), or
 * -EINVAL for a bad partition. */
int merge_push(sw_merge *m, int part, const sw_event *ev, int64_t offset, int64_t now_ms);

/* Something else arrived on part at now_ms (a message that decoded to no
 * event): the partition is not idle, and not at its end. */
void merge_touch(sw_merge *m, int part, int64_t now_ms);

/* part has been read to its end (its high watermark), as of now_ms. */
void merge_set_eof(sw_merge *m, int part, int64_t now_ms);

/* The input was interrupted (a broker connection was lost): what was known
 * of each partition's end is stale. Until a partition shows itself again
 * (merge_push, merge_touch, merge_set_eof), it is neither at its end nor
 * idle, and while empty holds everything back; it idles only idle_ms after
 * the first sign of any partition, so that a partition whose fetch resumes
 * late is waited for, and one whose broker never returns is not waited for
 * forever once the others are back. */
void merge_hold(sw_merge *m);

/* Release the next event into out when one may go (see above), with
 * idle_ms the idle timeout. A partition's first staged event whose second
 * is past hi_s goes at once, before any other and without waiting: the
 * engine rejects it as out of range (a second more than max_gap_s past the
 * greatest so far, sw_engine_accept_hi), and held back in order it would
 * hold back its partition behind it until every other partition has been
 * read, making what follows it late. Returns 1 when out was filled, 0 when
 * nothing may be released now. */
int merge_pop(sw_merge *m, int64_t now_ms, int64_t idle_ms, int64_t hi_s, merge_item *out);

/* 1 when some partition's ring is full, else 0. */
int merge_any_full(const sw_merge *m);

/* 1 when part's ring is full (stop reading that partition), else 0. */
int merge_part_full(const sw_merge *m, int part);

/* Events staged in part's ring (0 for a bad partition). */
uint32_t merge_part_staged(const sw_merge *m, int part);

/* Events staged over all partitions. */
size_t merge_staged(const sw_merge *m);

/* 1 when every partition is at its end with nothing staged. */
int merge_all_eof(const sw_merge *m);

/* The offset of part's first staged event into *offset and 1, or 0 when
 * nothing of part is staged. */
int merge_head_offset(const sw_merge *m, int part, int64_t *offset);

/* Greatest time anything arrived on any partition (now_ms of create when
 * nothing has). */
int64_t merge_last_arrival(const sw_merge *m);

#endif
