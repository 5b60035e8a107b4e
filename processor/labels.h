/* labels.h: a bounded, configured list of label names (strategies, fallback
 * reasons) and the lookup that maps any string to an index or "other".
 * The list never grows after configuration, so memory and metric labels stay
 * bounded whatever producers send.
 */
#ifndef SOAKWATCH_LABELS_H
#define SOAKWATCH_LABELS_H

#include <stddef.h>
#include <stdint.h>

#include "../windows/win.h"

#define LABEL_NONE WIN_LABEL_NONE
#define LABEL_NAME_MAX 63

typedef struct sw_labels {
    int n;                                 /* names in use, <= WIN_MAX_LABELS */
    char names[WIN_MAX_LABELS][LABEL_NAME_MAX + 1];
    uint8_t lens[WIN_MAX_LABELS];
} sw_labels;

/* Index of the name s[0..len) in the list, or l->n ("other") when absent. */
uint8_t labels_lookup(const sw_labels *l, const char *s, size_t len);

/* Append a name. Returns 0, -E2BIG when the list is full, -ENAMETOOLONG
 * when the name is longer than LABEL_NAME_MAX, -EEXIST on a duplicate,
 * -EINVAL on an empty name. */
int labels_add(sw_labels *l, const char *name);

/* Name of index i: a configured name, or "other" for i == n. */
const char *labels_name(const sw_labels *l, int i);

#endif
