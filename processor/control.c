/* control.c: acknowledgement messages. Few and small, so jansson reads
 * them; a bad control line is an error of the file that holds it. */
#include "control.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"

#define CONTROL_MAX_ACKS 65536

int control_parse(const char *msg, size_t len, sw_ack *out, char *errstr, size_t errlen)
{
    json_error_t jerr;
    json_t *doc = json_loadb(msg, len, 0, &jerr);
    int rc = -1;
    if (doc == NULL) { /* jansson names every syntax error; no text: memory ran out */
        snprintf(errstr, errlen, "%s%s", jerr.text[0] ? "not JSON: " : "out of memory",
                 jerr.text);
        return -1;
    }
    json_t *type = json_object_get(doc, "type");
    json_t *by = json_object_get(doc, "by"), *ts = json_object_get(doc, "ts");
    out->signoff = json_is_string(type) && strcmp(json_string_value(type), "signoff") == 0;
    if (!out->signoff && (!json_is_string(type) || strcmp(json_string_value(type), "ack") != 0)) {
        snprintf(errstr, errlen, "\"type\" must be \"ack\" or \"signoff\"");
        goto out;
    }
    json_t *id = json_object_get(doc, out->signoff ? "criterion" : "id");
    if (!json_is_string(id) || json_string_length(id) == 0 ||
        json_string_length(id) > CONTROL_ID_MAX ||
        strlen(json_string_value(id)) != json_string_length(id)) {
        snprintf(errstr, errlen, out->signoff ? "\"criterion\" must be a key of 1..%d bytes"
                                              : "\"id\" must be a trigger id of 1..%d bytes",
                 CONTROL_ID_MAX);
        goto out;
    }
    if (!json_is_string(by) || json_string_length(by) == 0 ||
        json_string_length(by) > CONTROL_BY_MAX) {
        snprintf(errstr, errlen, "\"by\" must be a name of 1..%d bytes", CONTROL_BY_MAX);
        goto out;
    }
    if (json_is_integer(ts)) {
        out->ts_ms = json_integer_value(ts);
    } else if (!json_is_string(ts) ||
               dec_rfc3339_parse(json_string_value(ts), json_string_length(ts), &out->ts_ms) != 0) {
        snprintf(errstr, errlen, "\"ts\" must be epoch milliseconds or RFC 3339");
        goto out;
    }
    strcpy(out->id, json_string_value(id));
    strcpy(out->by, json_string_value(by));
    rc = 0;
out:
    json_decref(doc);
    return rc;
}

static int by_time(const void *a, const void *b)
{
    const sw_ack *x = a, *y = b;
    return (x->ts_ms > y->ts_ms) - (x->ts_ms < y->ts_ms);
}

int control_load_file(const char *path, sw_ack_list *out, char *errstr, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(errstr, errlen, "cannot open control file %s: %s", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0, lineno = 0, alloc = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            n--;
        if (n == 0)
            continue;
        if (out->n == CONTROL_MAX_ACKS) {
            snprintf(errstr, errlen, "%s: more than %d acknowledgements", path, CONTROL_MAX_ACKS);
            goto err;
        }
        if (out->n == alloc) {
            alloc = alloc ? alloc * 2 : 16;
            sw_ack *a = realloc(out->acks, alloc * sizeof(*a));
            if (a == NULL) {
                snprintf(errstr, errlen, "out of memory");
                goto err;
            }
            out->acks = a;
        }
        char why[160];
        if (control_parse(line, (size_t)n, &out->acks[out->n], why, sizeof(why)) != 0) {
            snprintf(errstr, errlen, "%s:%zu: %s", path, lineno, why);
            goto err;
        }
        out->n++;
    }
    free(line);
    fclose(f);
    qsort(out->acks, out->n, sizeof(*out->acks), by_time);
    return 0;
err:
    free(line);
    fclose(f);
    control_list_free(out);
    return -1;
}

void control_list_free(sw_ack_list *l)
{
    free(l->acks);
    memset(l, 0, sizeof(*l));
}
