/* inpath.c: the path syntax of docs/semantics.md section 9.1. */
#include "inpath.h"

#include <errno.h>
#include <string.h>

int inpath_parse(const char *text, inpath *p, const char **why)
{
    memset(p, 0, sizeof(*p));
    size_t len = strlen(text), bn = 0;
    if (len == 0 || len > INPATH_TEXT_MAX) {
        *why = len == 0 ? "an empty path" : "a path longer than 127 bytes";
        return -EINVAL;
    }
    size_t i = 0;
    for (;;) {
        /* a key, up to an unescaped '.' or '[' or the end */
        size_t start = bn;
        while (i < len && text[i] != '.' && text[i] != '[') {
            if (text[i] == '\\') {
                if (i + 1 >= len || (text[i + 1] != '.' && text[i + 1] != '[' && text[i + 1] != '\\')) {
                    *why = "a backslash escapes only '.', '[' or '\\'";
                    return -EINVAL;
                }
                i++;
            }
            p->buf[bn++] = text[i++];
        }
        if (bn == start) {
            *why = "an empty key (two dots, or a leading dot or index)";
            return -EINVAL;
        }
        if (p->n >= INPATH_MAX_SEGS) {
            *why = "more than 16 steps";
            return -EINVAL;
        }
        p->segs[p->n].key = p->buf + start;
        p->segs[p->n].len = bn - start;
        p->segs[p->n].index = -1;
        p->n++;
        p->buf[bn++] = '\0';
        while (i < len && text[i] == '[') {
            i++;
            int64_t v = 0;
            size_t d0 = i;
            while (i < len && text[i] >= '0' && text[i] <= '9' && i - d0 < 9)
                v = v * 10 + (text[i++] - '0');
            if (i == d0 || i >= len || text[i] != ']') {
                *why = "an index is [N] with N of 1 to 9 decimal digits";
                return -EINVAL;
            }
            i++;
            if (p->n >= INPATH_MAX_SEGS) {
                *why = "more than 16 steps";
                return -EINVAL;
            }
            p->segs[p->n].key = NULL;
            p->segs[p->n].len = 0;
            p->segs[p->n].index = v;
            p->n++;
        }
        if (i == len)
            return 0;
        if (text[i] != '.') {
            *why = "expected '.' or '[' after an index";
            return -EINVAL;
        }
        i++;
        if (i == len) {
            *why = "a trailing dot";
            return -EINVAL;
        }
    }
}

void inpath_rebase(inpath *p)
{
    size_t off = 0;
    for (int k = 0; k < p->n; k++) {
        if (p->segs[k].index >= 0)
            continue;
        p->segs[k].key = p->buf + off;
        off += p->segs[k].len + 1;
    }
}
