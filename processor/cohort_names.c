/* cohort_names.c: the cohort field's values by id (cohort_names.h): an
 * append-only array and an open-addressed index over it, both fixed. */
#include "cohort_names.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define INDEX_SLOTS (2 * COHORT_NAMES_MAX) /* a power of two, half full at most */

struct cohort_names {
    int n;                      /* values remembered */
    atomic_int closed;
    uint64_t overflow;
    uint16_t index[INDEX_SLOTS]; /* id + 1, 0: empty */
    uint8_t lens[COHORT_NAMES_MAX];
    char values[COHORT_NAMES_MAX][LABEL_NAME_MAX + 1];
};

static uint32_t hash_of(const char *s, size_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

/* The index slot of s: where it is, or the empty one where it would go. */
static size_t slot_of(const cohort_names *t, const char *s, size_t n)
{
    size_t i = hash_of(s, n) & (INDEX_SLOTS - 1);
    for (;;) {
        uint16_t id = t->index[i];
        if (id == 0 || (t->lens[id - 1] == n && memcmp(t->values[id - 1], s, n) == 0))
            return i;
        i = (i + 1) & (INDEX_SLOTS - 1);
    }
}

static void add(cohort_names *t, size_t slot, const char *s, size_t n)
{
    memcpy(t->values[t->n], s, n);
    t->values[t->n][n] = '\0';
    t->lens[t->n] = (uint8_t)n;
    t->index[slot] = (uint16_t)++t->n;
}

cohort_names *cohort_names_create(const sw_labels *listed)
{
    cohort_names *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    for (int i = 0; listed && i < listed->n; i++)
        add(t, slot_of(t, listed->names[i], listed->lens[i]), listed->names[i],
            listed->lens[i]);
    return t;
}

void cohort_names_destroy(cohort_names *t)
{
    free(t);
}

uint16_t cohort_names_id(cohort_names *t, const char *s, size_t n)
{
    if (!config_name_ok(s, n, LABEL_NAME_MAX) || (n == 5 && memcmp(s, "other", 5) == 0))
        return COHORT_ID_NONE;
    size_t i = slot_of(t, s, n);
    if (t->index[i] != 0)
        return (uint16_t)(t->index[i] - 1);
    if (atomic_load_explicit(&t->closed, memory_order_relaxed))
        return COHORT_ID_NONE;
    if (t->n == COHORT_NAMES_MAX) {
        t->overflow++;
        return COHORT_ID_NONE;
    }
    add(t, i, s, n);
    return (uint16_t)(t->n - 1);
}

const char *cohort_names_value(const cohort_names *t, uint16_t id)
{
    return t->values[id];
}

void cohort_names_close(cohort_names *t)
{
    atomic_store_explicit(&t->closed, 1, memory_order_relaxed);
}

uint64_t cohort_names_overflow(const cohort_names *t)
{
    return t->overflow;
}

size_t cohort_names_bytes(void)
{
    return sizeof(cohort_names);
}
