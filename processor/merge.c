/* merge.c: the k-way merge of partitions by event time (merge.h). Each
 * partition owns a slice of one array used as a power-of-two ring; the
 * heads are compared linearly, which for the few partitions of an input
 * topic costs less than keeping a heap in step. */
#include "merge.h"

#include <errno.h>
#include <stdlib.h>

typedef struct mpart {
    uint32_t head, tail; /* free-running; tail - head = staged */
    int eof;
    int wait;            /* held since merge_hold: no sign of it since */
    int64_t last_ms;     /* last arrival */
} mpart;

struct sw_merge {
    int n;
    uint32_t cap, mask;
    size_t staged;
    int64_t last_ms;
    int64_t sign_ms;   /* first sign of any partition since merge_hold; INT64_MIN none */
    mpart *parts;
    merge_item *items; /* n * cap */
};

static int64_t second_of(int64_t ts_ms)
{
    /* floor division: events before 1970 reach the engine as out of range,
     * but must still order consistently here. */
    return ts_ms >= 0 ? ts_ms / 1000 : -((-ts_ms + 999) / 1000);
}

sw_merge *merge_create(int n_parts, uint32_t cap, int64_t now_ms)
{
    if (n_parts < 1 || n_parts > 65536 || cap < 1 || cap > (1u << 24))
        return NULL;
    uint32_t c = 1;
    while (c < cap)
        c <<= 1;
    sw_merge *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return NULL;
    m->n = n_parts;
    m->cap = c;
    m->mask = c - 1;
    m->last_ms = now_ms;
    m->sign_ms = INT64_MIN;
    m->parts = calloc((size_t)n_parts, sizeof(*m->parts));
    m->items = calloc((size_t)n_parts * c, sizeof(*m->items));
    if (m->parts == NULL || m->items == NULL) {
        merge_destroy(m);
        return NULL;
    }
    for (int i = 0; i < n_parts; i++)
        m->parts[i].last_ms = now_ms;
    return m;
}

void merge_destroy(sw_merge *m)
{
    if (m == NULL)
        return;
    free(m->parts);
    free(m->items);
    free(m);
}

/* part showed itself at now_ms: it no longer waits after merge_hold, and
 * the first sign of any partition starts the held ones' idle clock. */
static void shown(sw_merge *m, int part, int64_t now_ms)
{
    m->parts[part].wait = 0;
    if (m->sign_ms == INT64_MIN)
        m->sign_ms = now_ms;
}

void merge_touch(sw_merge *m, int part, int64_t now_ms)
{
    if (part < 0 || part >= m->n)
        return;
    m->parts[part].eof = 0;
    shown(m, part, now_ms);
    if (now_ms > m->parts[part].last_ms)
        m->parts[part].last_ms = now_ms;
    if (now_ms > m->last_ms)
        m->last_ms = now_ms;
}

int merge_push(sw_merge *m, int part, const sw_event *ev, int64_t offset, int64_t now_ms)
{
    if (part < 0 || part >= m->n)
        return -EINVAL;
    mpart *p = &m->parts[part];
    if (p->tail - p->head == m->cap)
        return -ENOBUFS;
    merge_item *it = &m->items[(size_t)part * m->cap + (p->tail & m->mask)];
    it->ev = *ev;
    it->offset = offset;
    it->part = part;
    p->tail++;
    m->staged++;
    merge_touch(m, part, now_ms);
    return 0;
}

void merge_set_eof(sw_merge *m, int part, int64_t now_ms)
{
    if (part < 0 || part >= m->n)
        return;
    m->parts[part].eof = 1;
    shown(m, part, now_ms);
}

void merge_hold(sw_merge *m)
{
    for (int i = 0; i < m->n; i++) {
        m->parts[i].eof = 0;
        m->parts[i].wait = 1;
    }
    m->sign_ms = INT64_MIN;
}

static void take_head(sw_merge *m, int part, merge_item *out)
{
    mpart *p = &m->parts[part];
    *out = m->items[(size_t)part * m->cap + (p->head & m->mask)];
    p->head++;
    m->staged--;
}

/* Whether an empty partition can give nothing more for now: read to its
 * end, or idle. One held by merge_hold idles only from the first sign of
 * any partition. */
static int drained(const sw_merge *m, const mpart *p, int64_t now_ms, int64_t idle_ms)
{
    if (p->wait)
        return m->sign_ms != INT64_MIN && now_ms - m->sign_ms >= idle_ms;
    return p->eof || now_ms - p->last_ms >= idle_ms;
}

int merge_pop(sw_merge *m, int64_t now_ms, int64_t idle_ms, int64_t hi_s, merge_item *out)
{
    if (m->staged == 0)
        return 0;
    const merge_item *best = NULL;
    int64_t best_sec = 0;
    int held = 0; /* an empty partition that may still give something holds all back */
    for (int i = 0; i < m->n; i++) {
        const mpart *p = &m->parts[i];
        if (p->tail == p->head) {
            held |= !drained(m, p, now_ms, idle_ms);
            continue;
        }
        const merge_item *h = &m->items[(size_t)i * m->cap + (p->head & m->mask)];
        int64_t sec = second_of(h->ev.ts_ms);
        if (sec > hi_s) { /* out of range: goes at once, held or not */
            take_head(m, i, out);
            return 1;
        }
        /* Partitions are scanned in increasing order, so a tie in the
         * second keeps the lower partition; offsets within one partition
         * are already in order. */
        if (best == NULL || sec < best_sec) {
            best = h;
            best_sec = sec;
        }
    }
    if (held)
        return 0;
    take_head(m, best->part, out);
    return 1;
}

int merge_any_full(const sw_merge *m)
{
    for (int i = 0; i < m->n; i++)
        if (m->parts[i].tail - m->parts[i].head == m->cap)
            return 1;
    return 0;
}

int merge_part_full(const sw_merge *m, int part)
{
    if (part < 0 || part >= m->n)
        return 1;
    return m->parts[part].tail - m->parts[part].head == m->cap;
}

uint32_t merge_part_staged(const sw_merge *m, int part)
{
    if (part < 0 || part >= m->n)
        return 0;
    return m->parts[part].tail - m->parts[part].head;
}

size_t merge_staged(const sw_merge *m)
{
    return m->staged;
}

int merge_all_eof(const sw_merge *m)
{
    if (m->staged)
        return 0;
    for (int i = 0; i < m->n; i++)
        if (!m->parts[i].eof)
            return 0;
    return 1;
}

int64_t merge_last_arrival(const sw_merge *m)
{
    return m->last_ms;
}

int merge_head_offset(const sw_merge *m, int part, int64_t *offset)
{
    if (part < 0 || part >= m->n)
        return 0;
    const mpart *p = &m->parts[part];
    if (p->tail == p->head)
        return 0;
    *offset = m->items[(size_t)part * m->cap + (p->head & m->mask)].offset;
    return 1;
}
