/* inpath.h: paths into a JSON event, as the `input` configuration writes
 * them ("context.payload.reason", "records[0].body", "service\\.name").
 * One parser for the config loader (to refuse a bad path by its key) and the
 * decoder (to follow it), so both read a path the same way. */
#ifndef SOAKWATCH_INPATH_H
#define SOAKWATCH_INPATH_H

#include <stddef.h>
#include <stdint.h>

#define INPATH_MAX_SEGS 16
#define INPATH_TEXT_MAX 127

typedef struct inpath_seg {
    const char *key; /* key step: the unescaped key (in the path's buf), NUL-terminated */
    size_t len;
    int64_t index;   /* -1 for a key step, else the array index */
} inpath_seg;

typedef struct inpath {
    int n;
    inpath_seg segs[INPATH_MAX_SEGS];
    char buf[INPATH_TEXT_MAX + INPATH_MAX_SEGS + 1];
} inpath;

/* Parse `text`: keys separated by '.', each followed by any number of
 * "[N]" indexes; "\\.", "\\[" and "\\\\" are a literal '.', '[' and '\\'.
 * Returns 0, or -EINVAL with *why saying what is wrong (a static string).
 * p is self-contained (its keys point into p->buf): copy it with care. */
int inpath_parse(const char *text, inpath *p, const char **why);

/* Fix the keys' pointers after p was copied by value. */
void inpath_rebase(inpath *p);

#endif
