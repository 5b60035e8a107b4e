/* labels.c: bounded label lists; lookups compare lengths first so the hot
 * path touches a name's bytes only when its length matches. */
#include "labels.h"

#include <errno.h>
#include <string.h>

uint8_t labels_lookup(const sw_labels *l, const char *s, size_t len)
{
    for (int i = 0; i < l->n; i++)
        if (l->lens[i] == len && memcmp(l->names[i], s, len) == 0)
            return (uint8_t)i;
    return (uint8_t)l->n;
}

int labels_add(sw_labels *l, const char *name)
{
    size_t len = strlen(name);
    if (len == 0)
        return -EINVAL;
    if (len > LABEL_NAME_MAX)
        return -ENAMETOOLONG;
    if (l->n >= WIN_MAX_LABELS)
        return -E2BIG;
    if (labels_lookup(l, name, len) != l->n)
        return -EEXIST;
    memcpy(l->names[l->n], name, len + 1);
    l->lens[l->n] = (uint8_t)len;
    l->n++;
    return 0;
}

const char *labels_name(const sw_labels *l, int i)
{
    return i < l->n ? l->names[i] : "other";
}
