/* recent.c: the latest output events in a byte ring (recent.h). Each event
 * is stored as a 4-byte length and its bytes, possibly wrapping around the
 * end of the ring; reading a wrapped one copies it into a scratch buffer. */
#include "recent.h"

#include <stdlib.h>
#include <string.h>

struct sw_recent {
    size_t cap;        /* bytes of the ring */
    size_t head;       /* offset of the oldest event */
    size_t used;       /* bytes held */
    size_t n;          /* events held */
    uint64_t dropped;
    unsigned char *ring;
    char *scratch;     /* cap bytes: a wrapped event, made whole */
};

sw_recent *recent_create(size_t cap)
{
    if (cap < 64)
        return NULL;
    sw_recent *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    r->cap = cap;
    r->ring = malloc(cap);
    r->scratch = malloc(cap);
    if (r->ring == NULL || r->scratch == NULL) {
        recent_destroy(r);
        return NULL;
    }
    return r;
}

void recent_destroy(sw_recent *r)
{
    if (r == NULL)
        return;
    free(r->ring);
    free(r->scratch);
    free(r);
}

/* Copy len bytes out of the ring from offset at (wrapping). */
static void ring_read(const sw_recent *r, size_t at, void *out, size_t len)
{
    size_t first = r->cap - at < len ? r->cap - at : len;
    memcpy(out, r->ring + at, first);
    memcpy((char *)out + first, r->ring, len - first);
}

static void ring_write(sw_recent *r, size_t at, const void *in, size_t len)
{
    size_t first = r->cap - at < len ? r->cap - at : len;
    memcpy(r->ring + at, in, first);
    memcpy(r->ring, (const char *)in + first, len - first);
}

static void drop_oldest(sw_recent *r)
{
    uint32_t len;
    ring_read(r, r->head, &len, sizeof(len));
    r->head = (r->head + sizeof(len) + len) % r->cap;
    r->used -= sizeof(len) + len;
    r->n--;
    r->dropped++;
}

void recent_add(sw_recent *r, const char *json, size_t len)
{
    size_t need = sizeof(uint32_t) + len;
    if (need > r->cap || len > UINT32_MAX) {
        r->dropped++;
        return;
    }
    while (r->used + need > r->cap)
        drop_oldest(r);
    uint32_t l32 = (uint32_t)len;
    size_t at = (r->head + r->used) % r->cap;
    ring_write(r, at, &l32, sizeof(l32));
    ring_write(r, (at + sizeof(l32)) % r->cap, json, len);
    r->used += need;
    r->n++;
}

void recent_tap(void *ud, const char *json, size_t len)
{
    recent_add(ud, json, len);
}

int recent_foreach(const sw_recent *r, int (*fn)(void *ud, const char *json, size_t len),
                   void *ud)
{
    size_t at = r->head;
    for (size_t i = 0; i < r->n; i++) {
        uint32_t len;
        ring_read(r, at, &len, sizeof(len));
        size_t body = (at + sizeof(len)) % r->cap;
        const char *p = (const char *)r->ring + body;
        if (body + len > r->cap) {
            ring_read(r, body, r->scratch, len);
            p = r->scratch;
        }
        int rc = fn(ud, p, len);
        if (rc)
            return rc;
        at = (body + len) % r->cap;
    }
    return 0;
}

size_t recent_count(const sw_recent *r)
{
    return r->n;
}

uint64_t recent_dropped(const sw_recent *r)
{
    return r->dropped;
}
