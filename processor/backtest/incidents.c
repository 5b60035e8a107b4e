/* incidents.c: reading a backtest's incidents (incidents.h). Lines of any
 * length, plain or gzip. Memory: the incidents (at most max), and one
 * open firing per rule and cohort seen, never per line. */
#include "incidents.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "../event.h"

#define MAX_OPEN 1024

/* The latest firing of each rule and cohort not yet resolved. */
typedef struct open_firing {
    char *key; /* "RULE\x1fCOHORT" (cohort "" for the whole topic) */
    int64_t at_ms;
} open_firing;

typedef struct inc_reader {
    const char *path;
    bt_incident *inc;
    int max, *n;
    bt_inc_counts *c;
    open_firing open[MAX_OPEN];
    int n_open;
    int soak_of[MAX_OPEN]; /* the incidents made by no_go verdicts, one per soak start */
    int n_soaks;
} inc_reader;

/* A time of an incident: RFC 3339 text or integer epoch milliseconds. */
static int incident_time(const json_t *v, int64_t *s)
{
    int64_t ms;
    if (json_is_integer(v))
        ms = json_integer_value(v);
    else if (!json_is_string(v) ||
             dec_rfc3339_parse(json_string_value(v), json_string_length(v), &ms) != 0)
        return -1;
    *s = sw_floor_div(ms, 1000);
    return 0;
}

static int keep(inc_reader *r, int lineno, bt_incident in)
{
    if (*r->n == r->max) {
        fprintf(stderr, "soakwatch: backtest: %s line %d: more than %d incidents\n", r->path,
                lineno, r->max);
        return 2;
    }
    r->inc[(*r->n)++] = in;
    return 0;
}

/* The slot of the rule and cohort of trigger o, made when make is set;
 * NULL when there is none (or no room). */
static open_firing *slot(inc_reader *r, const json_t *o, int make)
{
    const char *rule = json_string_value(json_object_get(o, "rule"));
    const char *cohort = json_string_value(json_object_get(o, "cohort"));
    char key[512];
    if (rule == NULL)
        return NULL;
    snprintf(key, sizeof(key), "%s\x1f%s", rule, cohort ? cohort : "");
    for (int i = 0; i < r->n_open; i++)
        if (strcmp(r->open[i].key, key) == 0)
            return &r->open[i];
    if (!make || r->n_open == MAX_OPEN)
        return NULL;
    open_firing *f = &r->open[r->n_open];
    if ((f->key = strdup(key)) == NULL)
        return NULL;
    r->n_open++;
    f->at_ms = INT64_MIN;
    return f;
}

/* A soak_verdict: no_go makes the period it judged, the soak's seconds
 * [soak_start, at), an incident; a later no_go of the same soak (the same
 * start) extends that one to its own at. */
static int on_verdict(inc_reader *r, int lineno, const json_t *o)
{
    const char *verdict = json_string_value(json_object_get(o, "verdict"));
    const json_t *from = json_object_get(o, "soak_start_ms"), *at = json_object_get(o, "at_ms");
    if (verdict == NULL || strcmp(verdict, "no_go") != 0 || !json_is_integer(from) ||
        !json_is_integer(at))
        return 0;
    bt_incident in = {sw_floor_div(json_integer_value(from), 1000),
                      sw_floor_div(json_integer_value(at), 1000)};
    if (in.to <= in.from)
        return 0;
    r->c->no_go++;
    for (int i = 0; i < r->n_soaks; i++) {
        bt_incident *same = &r->inc[r->soak_of[i]];
        if (same->from == in.from) {
            same->to = in.to > same->to ? in.to : same->to;
            return 0;
        }
    }
    if (r->n_soaks == MAX_OPEN) {
        fprintf(stderr, "soakwatch: backtest: %s line %d: more than %d soaks\n", r->path,
                lineno, MAX_OPEN);
        return 2;
    }
    r->soak_of[r->n_soaks++] = *r->n;
    r->c->verdicts++;
    return keep(r, lineno, in);
}

/* An output event: a firing is remembered; a resolution carrying
 * "acknowledged" turns the firing before it into an incident; so does a
 * no_go verdict the period it judged. */
static int on_event(inc_reader *r, int lineno, const json_t *o)
{
    r->c->events++;
    const char *type = json_string_value(json_object_get(o, "type"));
    if (type && strcmp(type, "soak_verdict") == 0)
        return on_verdict(r, lineno, o);
    const char *state = json_string_value(json_object_get(o, "state"));
    const json_t *at = json_object_get(o, "at_ms");
    if (type == NULL || strcmp(type, "rollback_trigger") != 0 || state == NULL ||
        (strcmp(state, "firing") != 0 && strcmp(state, "resolved") != 0) ||
        !json_is_integer(at))
        return 0;
    open_firing *f = slot(r, o, strcmp(state, "firing") == 0);
    if (f == NULL)
        return 0;
    if (strcmp(state, "firing") == 0) {
        f->at_ms = json_integer_value(at);
        return 0;
    }
    int64_t from_ms = f->at_ms;
    f->at_ms = INT64_MIN;
    if (from_ms == INT64_MIN || !json_is_object(json_object_get(o, "acknowledged")))
        return 0;
    bt_incident in = {sw_floor_div(from_ms, 1000), sw_floor_div(json_integer_value(at), 1000)};
    if (in.to <= in.from)
        return 0;
    r->c->acked++;
    return keep(r, lineno, in);
}

static int on_line(inc_reader *r, int lineno, const char *line)
{
    json_t *o = json_loads(line, 0, NULL);
    bt_incident in;
    int rc = 0;
    if (json_is_object(o) && json_is_string(json_object_get(o, "type"))) {
        rc = on_event(r, lineno, o);
    } else if (o == NULL || incident_time(json_object_get(o, "start"), &in.from) != 0 ||
               incident_time(json_object_get(o, "end"), &in.to) != 0 || in.to <= in.from) {
        fprintf(stderr, "soakwatch: backtest: %s line %d: expected {\"start\": TIME, "
                "\"end\": TIME} with end after start, or a soakwatch output event\n",
                r->path, lineno);
        rc = 2;
    } else if ((rc = keep(r, lineno, in)) == 0) {
        r->c->spans++;
    }
    json_decref(o);
    return rc;
}

/* The next line, whatever its length, without its newline; NULL at the
 * end (or out of memory: *oom set). */
static char *next_line(gzFile f, char **buf, size_t *cap, int *oom)
{
    size_t len = 0;
    for (;;) {
        if (*cap - len < 2) {
            size_t nc = *cap ? 2 * *cap : 4096;
            char *nb = realloc(*buf, nc);
            if (nb == NULL) {
                *oom = 1;
                return NULL;
            }
            *buf = nb;
            *cap = nc;
        }
        if (gzgets(f, *buf + len, (int)(*cap - len)) == NULL)
            return len ? *buf : NULL;
        len += strlen(*buf + len);
        if (len && (*buf)[len - 1] == '\n') {
            (*buf)[len - 1] = '\0';
            return *buf;
        }
    }
}

int incidents_load(const char *path, bt_incident *inc, int max, int *n, bt_inc_counts *c)
{
    gzFile f = gzopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "soakwatch: backtest: cannot open incidents %s\n", path);
        return 2;
    }
    inc_reader *r = calloc(1, sizeof(*r));
    char *buf = NULL, *line;
    size_t cap = 0;
    int lineno = 0, rc = r ? 0 : 1, oom = 0;
    memset(c, 0, sizeof(*c));
    if (r)
        *r = (inc_reader){.path = path, .inc = inc, .max = max, .n = n, .c = c};
    while (rc == 0 && (line = next_line(f, &buf, &cap, &oom)) != NULL) {
        lineno++;
        if (strspn(line, " \t\r") != strlen(line))
            rc = on_line(r, lineno, line);
    }
    if (oom || r == NULL) {
        fprintf(stderr, "soakwatch: backtest: out of memory reading %s\n", path);
        rc = 1;
    }
    c->skipped = c->events - 2L * c->acked - c->no_go;
    for (int i = 0; r && i < r->n_open; i++)
        free(r->open[i].key);
    free(r);
    free(buf);
    gzclose(f);
    return rc;
}
