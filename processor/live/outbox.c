/* outbox.c: failed messages kept for redelivery (outbox.h). */
#include "outbox.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct sw_outbox {
    int cap, n;
    uint64_t lost;
    outbox_item items[];
};

sw_outbox *outbox_create(int cap)
{
    if (cap < 1)
        return NULL;
    sw_outbox *o = calloc(1, sizeof(*o) + (size_t)cap * sizeof(outbox_item));
    if (o)
        o->cap = cap;
    return o;
}

void outbox_destroy(sw_outbox *o)
{
    if (o == NULL)
        return;
    for (int i = 0; i < o->n; i++)
        free(o->items[i].mem);
    free(o);
}

static char *put(char **mem, const char *s, size_t len)
{
    char *at = *mem;
    memcpy(at, s, len);
    *mem += len;
    return at;
}

int outbox_keep(sw_outbox *o, int kind, const char *value, size_t len, const char *key,
                size_t key_len, const kafka_header *h, int nh)
{
    if (nh > OUTBOX_HEADERS)
        nh = OUTBOX_HEADERS;
    if (o->n == o->cap) {
        o->lost++;
        return -ENOBUFS;
    }
    size_t need = len + key_len + 1;
    for (int i = 0; i < nh; i++)
        need += strlen(h[i].name) + 1 + h[i].len;
    char *mem = malloc(need);
    if (mem == NULL) {
        o->lost++;
        return -ENOMEM;
    }
    outbox_item *it = &o->items[o->n++];
    it->mem = mem;
    it->kind = kind;
    it->len = len;
    it->key_len = key_len;
    it->value = put(&mem, value, len);
    it->key = put(&mem, key ? key : "", key_len);
    for (int i = 0; i < nh; i++) {
        it->h[i].name = put(&mem, h[i].name, strlen(h[i].name) + 1);
        it->h[i].value = put(&mem, h[i].value, h[i].len);
        it->h[i].len = h[i].len;
    }
    it->nh = nh;
    return 0;
}

int outbox_take(sw_outbox *o, outbox_item *out)
{
    int n = o->n;
    memcpy(out, o->items, (size_t)n * sizeof(*out));
    o->n = 0;
    return n;
}

void outbox_item_free(outbox_item *it)
{
    free(it->mem);
    it->mem = NULL;
}

int outbox_len(const sw_outbox *o)
{
    return o->n;
}

int outbox_cap(const sw_outbox *o)
{
    return o->cap;
}

uint64_t outbox_lost(const sw_outbox *o)
{
    return o->lost;
}
