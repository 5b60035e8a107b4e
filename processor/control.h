/* control.h: acknowledgements of latched triggers, read from a control
 * file (replay, stdin mode) or a control topic (live). One JSON object per
 * line/message: {"type":"ack","id":"RULE:AT_MS","by":"who","ts":TIME}; and
 * the soak verdict's sign-offs, shaped alike (docs/semantics.md section 11):
 * {"type":"signoff","criterion":"qa","by":"who","ts":TIME}. */
#ifndef SOAKWATCH_CONTROL_H
#define SOAKWATCH_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#define CONTROL_ID_MAX 127
#define CONTROL_BY_MAX 63

typedef struct sw_ack {
    int signoff;  /* 0: {"type":"ack","id":...}; 1: {"type":"signoff","criterion":...} in id */
    int64_t ts_ms;
    char id[CONTROL_ID_MAX + 1];
    char by[CONTROL_BY_MAX + 1];
} sw_ack;

/* Parse one control message. Returns 0, or -1 with a reason in errstr
 * (not JSON, not an ack, a field missing or too long). `ts` is integer
 * milliseconds or RFC 3339, as for input events. */
int control_parse(const char *msg, size_t len, sw_ack *out, char *errstr, size_t errlen);

/* A whole control file, sorted by time. */
typedef struct sw_ack_list {
    sw_ack *acks;
    size_t n, next;
} sw_ack_list;

/* Read a control file (at most 65536 acks). Returns 0, or -1 with one line
 * in errstr naming the file and line at fault. Free with control_list_free. */
int control_load_file(const char *path, sw_ack_list *out, char *errstr, size_t errlen);
void control_list_free(sw_ack_list *l);

#endif
