/* correlate.c: a pool of entries on a doubly linked FIFO (oldest pending
 * first) and an open-addressing index by key (linear probing, deletion by
 * backward shift, at most half full). Invariant: every pending entry is in
 * the list and in the index exactly once; free entries are in neither. */
#include "correlate.h"

#include <assert.h>
#include <stdlib.h>

typedef struct entry {
    uint64_t key;
    int64_t ts_ms;
    int32_t prev, next; /* FIFO links; next also chains the free list */
} entry;

struct sw_corr {
    int64_t max_latency_ms;
    int32_t size, n;     /* capacity, pending */
    int32_t head, tail;  /* oldest, newest pending; -1 when none */
    int32_t free_list;
    entry *pool;
    int32_t *index;      /* entry number or -1; `mask + 1` slots */
    uint64_t mask;
    sw_corr_stats st;
};

static uint64_t mix(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return k;
}

sw_corr *corr_create(int64_t size, int64_t max_latency_ms)
{
    if (size < 1 || size > (1 << 24))
        return NULL;
    sw_corr *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    uint64_t slots = 2;
    while (slots < (uint64_t)size * 2)
        slots <<= 1;
    c->pool = malloc((size_t)size * sizeof(entry));
    c->index = malloc(slots * sizeof(int32_t));
    if (c->pool == NULL || c->index == NULL) {
        corr_destroy(c);
        return NULL;
    }
    c->mask = slots - 1;
    c->size = (int32_t)size;
    c->max_latency_ms = max_latency_ms;
    c->head = c->tail = -1;
    for (int32_t i = 0; i < c->size; i++)
        c->pool[i] = (entry){0, 0, -1, i + 1 < c->size ? i + 1 : -1};
    c->free_list = 0;
    for (uint64_t i = 0; i <= c->mask; i++)
        c->index[i] = -1;
    return c;
}

void corr_destroy(sw_corr *c)
{
    if (c == NULL)
        return;
    free(c->pool);
    free(c->index);
    free(c);
}

size_t corr_bytes(const sw_corr *c)
{
    return sizeof(*c) + (size_t)c->size * sizeof(entry) + (size_t)(c->mask + 1) * sizeof(int32_t);
}

/* The index slot holding key, or the empty slot where it would go. */
static uint64_t slot_find(const sw_corr *c, uint64_t key)
{
    uint64_t s = mix(key) & c->mask;
    while (c->index[s] >= 0 && c->pool[c->index[s]].key != key)
        s = (s + 1) & c->mask;
    return s;
}

/* Remove the entry at index slot s: from the index (shifting back the
 * entries probed past it), from the FIFO, onto the free list. */
static void remove_at(sw_corr *c, uint64_t s)
{
    int32_t e = c->index[s];
    uint64_t hole = s;
    for (uint64_t j = (s + 1) & c->mask; c->index[j] >= 0; j = (j + 1) & c->mask) {
        uint64_t home = mix(c->pool[c->index[j]].key) & c->mask;
        /* j's entry may fill the hole when its home is not in (hole, j] */
        if (((j - home) & c->mask) >= ((j - hole) & c->mask)) {
            c->index[hole] = c->index[j];
            hole = j;
        }
    }
    c->index[hole] = -1;
    entry *en = &c->pool[e];
    if (en->prev >= 0)
        c->pool[en->prev].next = en->next;
    else
        c->head = en->next;
    if (en->next >= 0)
        c->pool[en->next].prev = en->prev;
    else
        c->tail = en->prev;
    en->next = c->free_list;
    c->free_list = e;
    c->n--;
}

void corr_request(sw_corr *c, int has_key, uint64_t key, int64_t ts_ms)
{
    if (!has_key) {
        c->st.unkeyed++;
        return;
    }
    uint64_t s = slot_find(c, key);
    if (c->index[s] >= 0) {
        c->st.duplicate++;
        remove_at(c, s);
    } else if (c->n == c->size) {
        const entry *old = &c->pool[c->head];
        if (old->ts_ms + c->max_latency_ms < ts_ms)
            c->st.expired++;
        else
            c->st.evicted++;
        remove_at(c, slot_find(c, old->key));
    }
    s = slot_find(c, key);
    int32_t e = c->free_list;
    assert(e >= 0);
    c->free_list = c->pool[e].next;
    c->pool[e] = (entry){key, ts_ms, c->tail, -1};
    if (c->tail >= 0)
        c->pool[c->tail].next = e;
    else
        c->head = e;
    c->tail = e;
    c->index[s] = e;
    c->n++;
}

int corr_outcome(sw_corr *c, int has_key, uint64_t key, int64_t ts_ms, int64_t *dur_ms)
{
    if (has_key) {
        uint64_t s = slot_find(c, key);
        if (c->index[s] >= 0) {
            int64_t d = ts_ms - c->pool[c->index[s]].ts_ms;
            remove_at(c, s);
            if (d >= 0 && d <= c->max_latency_ms) {
                c->st.matched++;
                *dur_ms = d;
                return 1;
            }
        }
    }
    c->st.unmatched++;
    return 0;
}

const sw_corr_stats *corr_stats(const sw_corr *c)
{
    return &c->st;
}
