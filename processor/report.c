/* report.c: `soakwatch report`: reads soakwatch's own output events (status
 * and rollback_trigger, JSON Lines, plain or gzip) and writes hourly
 * updates (text), a JSON summary or a self-contained HTML timeline, and the
 * soak go/no-go verdict. Hour metrics are exact sums of non-overlapping
 * status windows, never averages of overlapping ones (docs/reports.md). */
#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <zlib.h>

#include "buf.h"
#include "config.h"
#include "event.h"

#define RP_MAX_LINES 1000000      /* input lines; more is refused */
#define RP_MAX_LINE (64 * 1024)   /* longer lines are unreadable */
#define RP_MAX_HOURS 100000       /* span of the input, in hours */
#define RP_MAX_WINDOWS 3          /* windows kept per status (smallest first) */
#define RP_MAX_NAMES 32           /* strategy / reason names; more go to "(more)" */
#define RP_NAME_MAX 127
#define RP_OUTPUT_CAP ((size_t)512 * 1024 * 1024)
#define RP_HOUR_MS INT64_C(3600000)
#define RP_HOUR_S 3600
#define RP_SOAK_HOURS 24          /* consecutive complete hours criterion (a) needs */
#define RP_CHART_WINDOW_S 300     /* the window the charts and tiles prefer */

enum { LV_GREEN = 0, LV_YELLOW, LV_RED, LV_NONE = -1 };
enum { K_STRATEGY = 0, K_REASON = 1 };

typedef struct rp_tile {
    uint32_t window_s;
    uint32_t requests, outcomes, successes, errors;
    double lat_mean; /* NAN when outcomes = 0 */
} rp_tile;

typedef struct rp_status {
    int64_t at_ms;
    uint32_t seq;     /* input order, for a stable sort */
    int8_t level;
    uint8_t n_tiles;  /* tiles[] sorted by window_s ascending */
    uint8_t chart;    /* index of the window the charts use */
    uint16_t n_labels;
    uint32_t label_off; /* into rp_report.labels */
    uint32_t declined;
    double p95, p99, tcsr; /* of the chart window; NAN = null */
    rp_tile tiles[RP_MAX_WINDOWS];
} rp_status;

typedef struct rp_label {
    uint8_t kind; /* K_STRATEGY / K_REASON */
    uint8_t name; /* index into names[kind] */
    uint32_t count;
} rp_label;

typedef struct rp_trigger {
    int64_t at_ms;
    uint32_t seq;
    int firing;
    int64_t window_s;
    int64_t samples;
    double threshold;
    double value; /* NAN = null */
    int pair;     /* firing: its resolution; resolved: its firing; -1 none */
    char id[RP_NAME_MAX + 32];
    char rule[RP_NAME_MAX + 1];
    char metric[RP_NAME_MAX + 1];
    char op[4];
} rp_trigger;

typedef struct rp_hour {
    int64_t start_ms;
    int64_t covered_s;    /* seconds of the hour inside a used window */
    int64_t cursor_ms;    /* tiling: covered up to here */
    int n_tiles;          /* windows summed */
    int n_status;
    int worst;            /* LV_* or LV_NONE */
    uint64_t requests, outcomes, successes, errors;
    double lat_sum;       /* sum of latency_mean_ms * outcomes */
    double success_rate, error_rate, lat_mean; /* NAN when outcomes = 0 */
    int pass_success, pass_latency, pass_error; /* 1, 0, or -1 (not judged) */
} rp_hour;

typedef struct rp_criterion {
    const char *key;
    char title[96];
    int pass;
    int first_hour; /* index into hours, -1 none */
    char detail[256];
} rp_criterion;

typedef struct rp_report {
    sw_config cfg;
    rp_status *st;
    size_t n_st, cap_st;
    rp_label *labels;
    size_t n_labels, cap_labels;
    rp_trigger *tr;
    size_t n_tr, cap_tr;
    char names[2][RP_MAX_NAMES + 1][LABEL_NAME_MAX + 1];
    int n_names[2];
    uint64_t lines, skipped;
    int64_t interval_ms;
    int64_t first_hour; /* hour number (ms / 1 h) of hours[0] */
    rp_hour *hours;
    size_t n_hours;
    rp_criterion crit[4];
    int go;
    int longest_run;    /* consecutive complete hours above the success target */
    int complete_hours;
    uint64_t firings;
} rp_report;

static void report_free(rp_report *r)
{
    free(r->st);
    free(r->labels);
    free(r->tr);
    free(r->hours);
    memset(r, 0, sizeof(*r));
}

/* ---- time -------------------------------------------------------------- */

/* The hour an instant belongs to. A status or trigger at T describes the
 * seconds before T, so 13:00:00 closes the 12:00-13:00 hour. */
static int64_t hour_of(int64_t at_ms)
{
    return sw_floor_div(at_ms - 1, RP_HOUR_MS);
}

enum { TF_HMS, TF_HM, TF_DHM, TF_DHMS, TF_ISO, TF_MD };

/* UTC text of an instant in one of the TF_* forms. */
static void fmt_utc(int64_t ms, int form, char *out, size_t cap)
{
    time_t s = (time_t)sw_floor_div(ms, 1000);
    struct tm tm;
    char tmp[96];
    if (cap == 0)
        return;
    if (gmtime_r(&s, &tm) == NULL) {
        snprintf(out, cap, "?");
        return;
    }
    int y = tm.tm_year + 1900, mo = tm.tm_mon + 1;
    switch (form) {
    case TF_HMS:
        snprintf(tmp, sizeof(tmp), "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
        break;
    case TF_HM: snprintf(tmp, sizeof(tmp), "%02d:%02d", tm.tm_hour, tm.tm_min); break;
    case TF_DHM:
        snprintf(tmp, sizeof(tmp), "%04d-%02d-%02d %02d:%02d", y, mo, tm.tm_mday, tm.tm_hour,
                 tm.tm_min);
        break;
    case TF_DHMS:
        snprintf(tmp, sizeof(tmp), "%04d-%02d-%02d %02d:%02d:%02d", y, mo, tm.tm_mday, tm.tm_hour,
                 tm.tm_min, tm.tm_sec);
        break;
    case TF_ISO:
        snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d", y, mo, tm.tm_mday, tm.tm_hour,
                 tm.tm_min, tm.tm_sec);
        break;
    default: snprintf(tmp, sizeof(tmp), "%02d-%02d", mo, tm.tm_mday); break;
    }
    size_t n = strlen(tmp);
    n = n < cap ? n : cap - 1;
    memcpy(out, tmp, n);
    out[n] = '\0';
}

static void fmt_iso(int64_t ms, char *out, size_t cap)
{
    char base[32];
    fmt_utc(ms, TF_ISO, base, sizeof(base));
    snprintf(out, cap, "%s.%03dZ", base, (int)(ms - sw_floor_div(ms, 1000) * 1000));
}

/* "2026-11-26 12:00-13:00 UTC" for hour index i. */
static void fmt_hour_range(const rp_report *r, size_t i, char *out, size_t cap)
{
    char a[32], b[16];
    fmt_utc(r->hours[i].start_ms, TF_DHM, a, sizeof(a));
    fmt_utc(r->hours[i].start_ms + RP_HOUR_MS, TF_HM, b, sizeof(b));
    snprintf(out, cap, "%s-%s UTC", a, b);
}

static size_t hour_index(const rp_report *r, int64_t at_ms)
{
    return (size_t)(hour_of(at_ms) - r->first_hour);
}

/* ---- input ------------------------------------------------------------- */

static int level_of(const char *s)
{
    if (strcmp(s, "green") == 0)
        return LV_GREEN;
    if (strcmp(s, "yellow") == 0)
        return LV_YELLOW;
    if (strcmp(s, "red") == 0)
        return LV_RED;
    return LV_NONE;
}

static const char *level_name(int lv)
{
    static const char *const n[] = {"green", "yellow", "red"};
    return lv >= 0 && lv <= 2 ? n[lv] : NULL;
}

/* A count field: absent means 0. Returns 0, or -1 when not a count. */
static int get_count(const json_t *o, const char *key, uint32_t *out)
{
    json_t *v = json_object_get(o, key);
    *out = 0;
    if (v == NULL)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        json_integer_value(v) > (json_int_t)UINT32_MAX)
        return -1;
    *out = (uint32_t)json_integer_value(v);
    return 0;
}

/* A metric that may be null: NAN for null or absent; -1 for another type. */
static int get_metric(const json_t *o, const char *key, double *out)
{
    json_t *v = json_object_get(o, key);
    *out = NAN;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_number(v))
        return -1;
    *out = json_number_value(v);
    return 0;
}

static int name_index(rp_report *r, int kind, const char *name)
{
    for (int i = 0; i < r->n_names[kind]; i++)
        if (strcmp(r->names[kind][i], name) == 0)
            return i;
    if (r->n_names[kind] == RP_MAX_NAMES || strlen(name) > LABEL_NAME_MAX) {
        /* The last slot gathers whatever does not fit. */
        snprintf(r->names[kind][RP_MAX_NAMES], LABEL_NAME_MAX + 1, "(more)");
        return RP_MAX_NAMES;
    }
    snprintf(r->names[kind][r->n_names[kind]], LABEL_NAME_MAX + 1, "%s", name);
    return r->n_names[kind]++;
}

static int add_labels(rp_report *r, rp_status *s, const json_t *obj, int kind)
{
    if (obj == NULL)
        return 0;
    if (!json_is_object(obj))
        return -1;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 ||
            json_integer_value(v) > (json_int_t)UINT32_MAX)
            return -1;
        if (json_integer_value(v) == 0)
            continue;
        if (s->n_labels == UINT16_MAX)
            return -1;
        if (r->n_labels == r->cap_labels) {
            size_t nc = r->cap_labels ? r->cap_labels * 2 : 1024;
            rp_label *nl = realloc(r->labels, nc * sizeof(*nl));
            if (nl == NULL)
                return -ENOMEM;
            r->labels = nl;
            r->cap_labels = nc;
        }
        rp_label *l = &r->labels[r->n_labels++];
        l->kind = (uint8_t)kind;
        l->name = (uint8_t)name_index(r, kind, key);
        l->count = (uint32_t)json_integer_value(v);
        s->n_labels++;
    }
    return 0;
}

static int parse_tile(const json_t *m, uint32_t window_s, rp_tile *t)
{
    t->window_s = window_s;
    if (!json_is_object(m))
        return -1;
    if (get_count(m, "requests", &t->requests) || get_count(m, "outcomes", &t->outcomes) ||
        get_count(m, "successes", &t->successes) || get_count(m, "errors", &t->errors) ||
        get_metric(m, "latency_mean_ms", &t->lat_mean))
        return -1;
    if (t->successes > t->outcomes || t->errors > t->outcomes)
        return -1;
    if (t->outcomes == 0)
        t->lat_mean = NAN;
    else if (isnan(t->lat_mean))
        return -1;
    return 0;
}

/* Parse a status event into r->st. Returns 0, -1 when unreadable, -ENOMEM. */
static int parse_status(rp_report *r, const json_t *o, uint32_t seq)
{
    json_t *at = json_object_get(o, "at_ms");
    json_t *lv = json_object_get(o, "status");
    json_t *win = json_object_get(o, "windows");
    if (!json_is_integer(at) || json_integer_value(at) <= 0 ||
        json_integer_value(at) > INT64_C(253402300799999) || !json_is_string(lv) ||
        level_of(json_string_value(lv)) == LV_NONE || !json_is_object(win))
        return -1;
    if (r->n_st == r->cap_st) {
        size_t nc = r->cap_st ? r->cap_st * 2 : 1024;
        rp_status *ns = realloc(r->st, nc * sizeof(*ns));
        if (ns == NULL)
            return -ENOMEM;
        r->st = ns;
        r->cap_st = nc;
    }
    rp_status *s = &r->st[r->n_st];
    memset(s, 0, sizeof(*s));
    s->at_ms = json_integer_value(at);
    s->seq = seq;
    s->level = (int8_t)level_of(json_string_value(lv));
    s->label_off = (uint32_t)r->n_labels;

    /* Keep the smallest windows, in ascending order. */
    const char *key;
    json_t *m;
    const json_t *chart_obj = NULL;
    json_object_foreach(win, key, m) {
        char *end;
        errno = 0;
        long w = strtol(key, &end, 10);
        if (errno || *end || end == key || w <= 0 || w > 7 * 86400)
            return -1;
        rp_tile t;
        if (parse_tile(m, (uint32_t)w, &t))
            return -1;
        int pos = s->n_tiles;
        while (pos > 0 && s->tiles[pos - 1].window_s > t.window_s)
            pos--;
        if (pos > 0 && s->tiles[pos - 1].window_s == t.window_s)
            return -1;
        if (pos == RP_MAX_WINDOWS)
            continue;
        int last = s->n_tiles < RP_MAX_WINDOWS ? s->n_tiles : RP_MAX_WINDOWS - 1;
        memmove(&s->tiles[pos + 1], &s->tiles[pos], (size_t)(last - pos) * sizeof(t));
        s->tiles[pos] = t;
        if (s->n_tiles < RP_MAX_WINDOWS)
            s->n_tiles++;
    }
    if (s->n_tiles == 0)
        return -1;
    s->chart = 0;
    for (int i = 0; i < s->n_tiles; i++)
        if (s->tiles[i].window_s == RP_CHART_WINDOW_S)
            s->chart = (uint8_t)i;
    char wkey[16];
    snprintf(wkey, sizeof(wkey), "%u", (unsigned)s->tiles[s->chart].window_s);
    chart_obj = json_object_get(win, wkey);
    if (get_count(chart_obj, "declined", &s->declined) ||
        get_metric(chart_obj, "latency_p95_ms", &s->p95) ||
        get_metric(chart_obj, "latency_p99_ms", &s->p99) ||
        get_metric(chart_obj, "time_constraint_success_rate", &s->tcsr))
        return -1;
    size_t labels_before = r->n_labels;
    int rc = add_labels(r, s, json_object_get(chart_obj, "strategies"), K_STRATEGY);
    if (rc == 0)
        rc = add_labels(r, s, json_object_get(chart_obj, "fallback_reasons"), K_REASON);
    if (rc) {
        r->n_labels = labels_before; /* drop a half-read status's labels */
        return rc;
    }
    r->n_st++;
    return 0;
}

static int copy_str(char *dst, size_t cap, const json_t *v)
{
    if (!json_is_string(v) || json_string_length(v) >= cap || json_string_length(v) == 0)
        return -1;
    memcpy(dst, json_string_value(v), json_string_length(v) + 1);
    return 0;
}

/* Parse a rollback_trigger event into r->tr. Returns 0, -1, -ENOMEM. */
static int parse_trigger(rp_report *r, const json_t *o, uint32_t seq)
{
    rp_trigger t;
    memset(&t, 0, sizeof(t));
    json_t *at = json_object_get(o, "at_ms");
    json_t *state = json_object_get(o, "state");
    json_t *w = json_object_get(o, "window_s");
    json_t *samples = json_object_get(o, "samples");
    json_t *thr = json_object_get(o, "threshold");
    if (!json_is_integer(at) || json_integer_value(at) <= 0 ||
        json_integer_value(at) > INT64_C(253402300799999) || !json_is_string(state) ||
        copy_str(t.rule, sizeof(t.rule), json_object_get(o, "rule")) ||
        copy_str(t.metric, sizeof(t.metric), json_object_get(o, "metric")) ||
        copy_str(t.op, sizeof(t.op), json_object_get(o, "op")) || !json_is_number(thr) ||
        get_metric(o, "value", &t.value))
        return -1;
    if (strcmp(json_string_value(state), "firing") == 0)
        t.firing = 1;
    else if (strcmp(json_string_value(state), "resolved") != 0)
        return -1;
    t.at_ms = json_integer_value(at);
    t.seq = seq;
    t.threshold = json_number_value(thr);
    t.window_s = json_is_integer(w) ? json_integer_value(w) : 0;
    t.samples = json_is_integer(samples) ? json_integer_value(samples) : -1;
    t.pair = -1;
    if (copy_str(t.id, sizeof(t.id), json_object_get(o, "id")))
        snprintf(t.id, sizeof(t.id), "%s:%" PRId64, t.rule, t.at_ms);
    if (r->n_tr == r->cap_tr) {
        size_t nc = r->cap_tr ? r->cap_tr * 2 : 64;
        rp_trigger *nt = realloc(r->tr, nc * sizeof(*nt));
        if (nt == NULL)
            return -ENOMEM;
        r->tr = nt;
        r->cap_tr = nc;
    }
    r->tr[r->n_tr++] = t;
    return 0;
}

static int parse_line(rp_report *r, const char *line, size_t len, uint32_t seq)
{
    json_error_t jerr;
    json_t *o = json_loadb(line, len, 0, &jerr);
    if (o == NULL)
        return -1;
    int rc = -1;
    const char *type = json_string_value(json_object_get(o, "type"));
    if (json_is_object(o) && type && strcmp(type, "status") == 0)
        rc = parse_status(r, o, seq);
    else if (json_is_object(o) && type && strcmp(type, "rollback_trigger") == 0)
        rc = parse_trigger(r, o, seq);
    json_decref(o);
    return rc;
}

static int is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return 0;
    return 1;
}

/* Read every line of path ("-" = stdin; gzip is recognised by content).
 * Returns 0, or 2 after one line on stderr naming the problem. */
static int read_input(rp_report *r, const char *path)
{
    gzFile gz;
    if (strcmp(path, "-") == 0) {
        int fd = dup(STDIN_FILENO);
        gz = fd < 0 ? NULL : gzdopen(fd, "rb");
        if (gz == NULL && fd >= 0)
            close(fd);
    } else {
        gz = gzopen(path, "rb");
    }
    if (gz == NULL) {
        fprintf(stderr, "report: cannot open input %s: %s\n", path,
                errno ? strerror(errno) : "out of memory");
        return 2;
    }
    char *line = malloc(RP_MAX_LINE + 2);
    if (line == NULL) {
        gzclose(gz);
        fprintf(stderr, "report: out of memory\n");
        return 2;
    }
    int rc = 0;
    int too_long = 0; /* inside the rest of an over-long line */
    while (gzgets(gz, line, RP_MAX_LINE + 2) != NULL) {
        size_t n = strlen(line);
        int complete = n > 0 && line[n - 1] == '\n';
        if (too_long) {
            too_long = !complete;
            continue;
        }
        if (++r->lines > RP_MAX_LINES) {
            fprintf(stderr, "report: %s has more than %d lines; split the input\n", path,
                    RP_MAX_LINES);
            rc = 2;
            break;
        }
        if (!complete && n > RP_MAX_LINE) {
            r->skipped++;
            too_long = 1;
            continue;
        }
        if (is_blank(line, n))
            continue;
        int prc = parse_line(r, line, n, (uint32_t)r->lines);
        if (prc == -ENOMEM) {
            fprintf(stderr, "report: out of memory at line %" PRIu64 " of %s\n", r->lines, path);
            rc = 2;
            break;
        }
        if (prc)
            r->skipped++;
    }
    int zerr = Z_OK;
    const char *zmsg = gzerror(gz, &zerr);
    if (rc == 0 && zerr != Z_OK && zerr != Z_STREAM_END) {
        fprintf(stderr, "report: cannot read %s: %s\n", path,
                zerr == Z_ERRNO ? strerror(errno) : zmsg);
        rc = 2;
    }
    free(line);
    gzclose(gz);
    return rc;
}

/* ---- analysis ---------------------------------------------------------- */

static int cmp_status(const void *a, const void *b)
{
    const rp_status *x = a, *y = b;
    if (x->at_ms != y->at_ms)
        return x->at_ms < y->at_ms ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int cmp_trigger(const void *a, const void *b)
{
    const rp_trigger *x = a, *y = b;
    if (x->at_ms != y->at_ms)
        return x->at_ms < y->at_ms ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Orders pointers to triggers by rule, then time. */
static int cmp_by_rule(const void *a, const void *b)
{
    const rp_trigger *x = *(const rp_trigger *const *)a, *y = *(const rp_trigger *const *)b;
    int c = strcmp(x->rule, y->rule);
    if (c)
        return c;
    return cmp_trigger(x, y);
}

/* Sort by time; drop repeated statuses (same at_ms) and repeated triggers
 * (same rule, state and at_ms), as at-least-once delivery can repeat them;
 * pair each firing with the resolution of the same rule that follows it. */
static int normalise(rp_report *r)
{
    /* qsort must not see the NULL of an empty array. */
    if (r->n_st > 1)
        qsort(r->st, r->n_st, sizeof(*r->st), cmp_status);
    size_t k = 0;
    for (size_t i = 0; i < r->n_st; i++)
        if (k == 0 || r->st[k - 1].at_ms != r->st[i].at_ms)
            r->st[k++] = r->st[i];
    r->n_st = k;

    if (r->n_tr > 1)
        qsort(r->tr, r->n_tr, sizeof(*r->tr), cmp_trigger);
    k = 0;
    for (size_t i = 0; i < r->n_tr; i++) {
        int dup = 0;
        for (size_t j = k; j-- > 0 && r->tr[j].at_ms == r->tr[i].at_ms;)
            if (r->tr[j].firing == r->tr[i].firing && strcmp(r->tr[j].rule, r->tr[i].rule) == 0)
                dup = 1;
        if (!dup)
            r->tr[k++] = r->tr[i];
    }
    r->n_tr = k;

    if (r->n_tr > 1) {
        rp_trigger **by_rule = malloc(r->n_tr * sizeof(*by_rule));
        if (by_rule == NULL)
            return -ENOMEM;
        for (size_t i = 0; i < r->n_tr; i++)
            by_rule[i] = &r->tr[i];
        qsort(by_rule, r->n_tr, sizeof(*by_rule), cmp_by_rule);
        for (size_t i = 0; i + 1 < r->n_tr; i++) {
            rp_trigger *a = by_rule[i], *b = by_rule[i + 1];
            if (a->firing && !b->firing && strcmp(a->rule, b->rule) == 0) {
                a->pair = (int)(b - r->tr);
                b->pair = (int)(a - r->tr);
            }
        }
        free(by_rule);
    }

    /* The status interval: the smallest step between statuses. */
    r->interval_ms = 60000;
    int64_t best = INT64_MAX;
    for (size_t i = 1; i < r->n_st; i++)
        if (r->st[i].at_ms - r->st[i - 1].at_ms < best)
            best = r->st[i].at_ms - r->st[i - 1].at_ms;
    if (best != INT64_MAX)
        r->interval_ms = best;
    return 0;
}

/* 1 when v passes the target, 0 when not, -1 when v is null. */
static int judge_min(double v, double min)
{
    return isnan(v) ? -1 : v > min;
}

static int judge_max(double v, double max)
{
    return isnan(v) ? -1 : v < max;
}

/* Build the hours and their metrics. Each hour sums windows that lie
 * inside it and do not overlap: scanning its statuses in time order, a
 * status is used when one of its windows starts at or after the part of
 * the hour already covered (the longest such window). With statuses every
 * minute this takes the 300 s windows at :05, :10, ... :00, which tile the
 * hour exactly. Returns 0, or 2 after a line on stderr. */
static int build_hours(rp_report *r)
{
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    if (r->n_st) {
        lo = hour_of(r->st[0].at_ms);
        hi = hour_of(r->st[r->n_st - 1].at_ms);
    }
    if (r->n_tr) {
        int64_t a = hour_of(r->tr[0].at_ms), b = hour_of(r->tr[r->n_tr - 1].at_ms);
        lo = a < lo ? a : lo;
        hi = b > hi ? b : hi;
    }
    if (hi - lo + 1 > RP_MAX_HOURS) {
        fprintf(stderr, "report: input spans %" PRId64 " hours, more than %d\n", hi - lo + 1,
                RP_MAX_HOURS);
        return 2;
    }
    r->first_hour = lo;
    r->n_hours = (size_t)(hi - lo + 1);
    r->hours = calloc(r->n_hours, sizeof(*r->hours));
    if (r->hours == NULL) {
        fprintf(stderr, "report: out of memory for %zu hours\n", r->n_hours);
        return 2;
    }
    for (size_t h = 0; h < r->n_hours; h++) {
        rp_hour *H = &r->hours[h];
        H->start_ms = (lo + (int64_t)h) * RP_HOUR_MS;
        H->cursor_ms = H->start_ms;
        H->worst = LV_NONE;
    }
    for (size_t i = 0; i < r->n_st; i++) {
        const rp_status *s = &r->st[i];
        rp_hour *H = &r->hours[hour_index(r, s->at_ms)];
        H->n_status++;
        if (s->level > H->worst)
            H->worst = s->level;
        for (int t = s->n_tiles - 1; t >= 0; t--) {
            const rp_tile *w = &s->tiles[t];
            int64_t from = s->at_ms - (int64_t)w->window_s * 1000;
            if (from < H->cursor_ms)
                continue;
            H->cursor_ms = s->at_ms;
            H->covered_s += w->window_s;
            H->n_tiles++;
            H->requests += w->requests;
            H->outcomes += w->outcomes;
            H->successes += w->successes;
            H->errors += w->errors;
            if (w->outcomes)
                H->lat_sum += w->lat_mean * w->outcomes;
            break;
        }
    }
    const sw_config *c = &r->cfg;
    for (size_t h = 0; h < r->n_hours; h++) {
        rp_hour *H = &r->hours[h];
        H->success_rate = H->error_rate = H->lat_mean = NAN;
        if (H->outcomes) {
            H->success_rate = (double)H->successes / (double)H->outcomes;
            H->error_rate = (double)H->errors / (double)H->outcomes;
            H->lat_mean = H->lat_sum / (double)H->outcomes;
        }
        H->pass_success = judge_min(H->success_rate, c->status_success_rate_min);
        if (H->n_tiles && !H->outcomes)
            H->pass_success = 0; /* a covered hour without outcomes shows no success */
        H->pass_latency = judge_max(H->lat_mean, c->status_latency_mean_max_ms);
        H->pass_error = judge_max(H->error_rate, c->status_error_rate_max);
    }
    return 0;
}

static void pct(double v, char *out, size_t cap)
{
    if (isnan(v))
        snprintf(out, cap, "n/a");
    else
        snprintf(out, cap, "%.1f%%", v * 100.0);
}

static void hour_label(const rp_report *r, size_t h, char *out, size_t cap)
{
    char range[64];
    fmt_hour_range(r, h, range, sizeof(range));
    snprintf(out, cap, "hour %zu (%s)", h + 1, range);
}

/* The soak verdict (docs/reports.md, "Verdict"). */
static void judge_soak(rp_report *r)
{
    const sw_config *c = &r->cfg;
    char hl[128], v[32];
    rp_criterion *a = &r->crit[0], *b = &r->crit[1], *e = &r->crit[2], *d = &r->crit[3];
    a->key = "success_rate";
    b->key = "latency_mean";
    e->key = "error_rate";
    d->key = "no_rollback_trigger";
    snprintf(a->title, sizeof(a->title), "Success rate > %g%% every hour, %d h in a row",
             c->status_success_rate_min * 100, RP_SOAK_HOURS);
    snprintf(b->title, sizeof(b->title), "Mean response time < %gs every hour",
             c->status_latency_mean_max_ms / 1000);
    snprintf(e->title, sizeof(e->title), "Error rate < %g%% every hour",
             c->status_error_rate_max * 100);
    snprintf(d->title, sizeof(d->title), "No rollback trigger fired");
    for (int i = 0; i < 4; i++) {
        r->crit[i].pass = 1;
        r->crit[i].first_hour = -1;
        r->crit[i].detail[0] = '\0';
    }

    int run = 0;
    r->longest_run = 0;
    r->complete_hours = 0;
    for (size_t h = 0; h < r->n_hours; h++) {
        const rp_hour *H = &r->hours[h];
        int complete = H->covered_s >= RP_HOUR_S && H->outcomes > 0;
        r->complete_hours += complete;
        run = complete && H->pass_success == 1 ? run + 1 : 0;
        if (run > r->longest_run)
            r->longest_run = run;
        hour_label(r, h, hl, sizeof(hl));
        if (H->pass_success == 0 && a->first_hour < 0) {
            a->first_hour = (int)h;
            pct(H->success_rate, v, sizeof(v));
            snprintf(a->detail, sizeof(a->detail), "first failed in %s: %s", hl,
                     H->outcomes ? v : "no outcomes");
        }
        if (H->pass_latency == 0 && b->first_hour < 0) {
            b->first_hour = (int)h;
            snprintf(b->detail, sizeof(b->detail), "first failed in %s: %.2fs", hl,
                     H->lat_mean / 1000);
        }
        if (H->pass_error == 0 && e->first_hour < 0) {
            e->first_hour = (int)h;
            pct(H->error_rate, v, sizeof(v));
            snprintf(e->detail, sizeof(e->detail), "first failed in %s: %s", hl, v);
        }
    }
    if (a->first_hour >= 0)
        a->pass = 0;
    else if (r->longest_run < RP_SOAK_HOURS) {
        a->pass = 0;
        snprintf(a->detail, sizeof(a->detail),
                 "only %d consecutive complete hours in the input (%d needed)", r->longest_run,
                 RP_SOAK_HOURS);
    } else
        snprintf(a->detail, sizeof(a->detail), "%d consecutive complete hours",
                 r->longest_run);
    b->pass = b->first_hour < 0;
    e->pass = e->first_hour < 0;

    r->firings = 0;
    for (size_t i = 0; i < r->n_tr; i++) {
        const rp_trigger *t = &r->tr[i];
        if (!t->firing)
            continue;
        if (r->firings++ == 0) {
            char at[32];
            fmt_utc(t->at_ms, TF_DHMS, at, sizeof(at));
            d->first_hour = (int)hour_index(r, t->at_ms);
            snprintf(d->detail, sizeof(d->detail), "%s fired at %s UTC in hour %d", t->rule, at,
                     d->first_hour + 1);
        }
    }
    if (r->firings) {
        d->pass = 0;
        size_t n = strlen(d->detail);
        if (r->firings > 1)
            snprintf(d->detail + n, sizeof(d->detail) - n, " (%" PRIu64 " firings in all)",
                     r->firings);
    }
    r->go = a->pass && b->pass && e->pass && d->pass;
}

/* ---- text -------------------------------------------------------------- */

static const char *pass_word(int p)
{
    return p ? "PASS" : "FAIL";
}

static void fmt_num(double v, char *out, size_t cap)
{
    if (isnan(v))
        snprintf(out, cap, "null");
    else if (fmt_double_shortest(out, cap, v) != 0)
        snprintf(out, cap, "%g", v);
}

/* One trigger as a note: "RULE FIRING at 12:41:07 (error_rate 0.35 > 0.1
 * over 300 s, 40 samples); resolved at 12:52:00". */
static void note_trigger(sw_buf *b, const rp_report *r, size_t i, size_t h)
{
    const rp_trigger *t = &r->tr[i];
    char at[16], thr[40], val[40];
    fmt_utc(t->at_ms, TF_HMS, at, sizeof(at));
    if (!t->firing) {
        buf_printf(b, "%s resolved at %s", t->rule, at);
        if (t->pair >= 0) {
            const rp_trigger *f = &r->tr[t->pair];
            char since[32];
            fmt_utc(f->at_ms, TF_DHMS, since, sizeof(since));
            buf_printf(b, " (firing since %s)", since);
        }
        return;
    }
    fmt_num(t->threshold, thr, sizeof(thr));
    if (isnan(t->value))
        snprintf(val, sizeof(val), "null");
    else
        snprintf(val, sizeof(val), "%.4g", t->value);
    buf_printf(b, "%s FIRING at %s (%s %s %s %s", t->rule, at, t->metric, val, t->op, thr);
    if (t->window_s > 0)
        buf_printf(b, " over %" PRId64 " s", t->window_s);
    if (t->samples >= 0)
        buf_printf(b, ", %" PRId64 " samples", t->samples);
    buf_puts(b, ")");
    if (t->pair < 0) {
        buf_puts(b, "; still firing at the end of the input");
        return;
    }
    const rp_trigger *res = &r->tr[t->pair];
    size_t rh = hour_index(r, res->at_ms);
    if (rh == h) {
        fmt_utc(res->at_ms, TF_HMS, at, sizeof(at));
        buf_printf(b, "; resolved at %s", at);
    } else {
        char when[32];
        fmt_utc(res->at_ms, TF_DHMS, when, sizeof(when));
        buf_printf(b, "; resolved at %s (hour %zu)", when, rh + 1);
    }
}

static void render_hour_text(sw_buf *b, const rp_report *r, size_t h, size_t *next_tr)
{
    const rp_hour *H = &r->hours[h];
    const sw_config *c = &r->cfg;
    char range[64], v[32];
    fmt_hour_range(r, h, range, sizeof(range));
    buf_printf(b, "Stream5 Staging Update - Hour %zu (%s)\n", h + 1, range);
    if (H->n_tiles == 0) {
        buf_puts(b, "Key Metrics: no status window inside this hour\n");
    } else {
        buf_puts(b, "Key Metrics:\n");
        pct(H->success_rate, v, sizeof(v));
        if (H->outcomes)
            buf_printf(b, "- Success Rate: %s (Target: >%g%%) %s\n", v,
                       c->status_success_rate_min * 100, pass_word(H->pass_success));
        else
            buf_printf(b, "- Success Rate: n/a, no outcomes (Target: >%g%%) FAIL\n",
                       c->status_success_rate_min * 100);
        if (H->outcomes)
            buf_printf(b, "- Response Time: %.2fs (Target: <%gs) %s\n", H->lat_mean / 1000,
                       c->status_latency_mean_max_ms / 1000, pass_word(H->pass_latency));
        else
            buf_printf(b, "- Response Time: n/a (Target: <%gs)\n",
                       c->status_latency_mean_max_ms / 1000);
        pct(H->error_rate, v, sizeof(v));
        if (H->outcomes)
            buf_printf(b, "- Error Rate: %s (Target: <%g%%) %s\n", v,
                       c->status_error_rate_max * 100, pass_word(H->pass_error));
        else
            buf_printf(b, "- Error Rate: n/a (Target: <%g%%)\n", c->status_error_rate_max * 100);
        buf_printf(b, "- Outcomes: %" PRIu64 "\n", H->outcomes);
        if (H->covered_s < RP_HOUR_S)
            buf_printf(b, "- Coverage: %" PRId64 " of 60 min (partial hour)\n",
                       H->covered_s / 60);
    }
    if (H->worst == LV_NONE)
        buf_puts(b, "Status: Unknown (no status events)\n");
    else
        buf_printf(b, "Status: %c%s\n", level_name(H->worst)[0] - 'a' + 'A',
                   level_name(H->worst) + 1);
    buf_puts(b, "Notes: ");
    int any = 0;
    while (*next_tr < r->n_tr && hour_index(r, r->tr[*next_tr].at_ms) == h) {
        const rp_trigger *t = &r->tr[*next_tr];
        /* A resolution already told with its firing is not repeated. */
        if (t->firing || t->pair < 0 || hour_index(r, r->tr[t->pair].at_ms) != h) {
            if (any++)
                buf_puts(b, "; ");
            note_trigger(b, r, *next_tr, h);
        }
        (*next_tr)++;
    }
    if (!any)
        buf_puts(b, "none");
    buf_puts(b, "\n");
}

static void render_verdict_text(sw_buf *b, const rp_report *r)
{
    char from[32], to[32];
    fmt_utc(r->hours[0].start_ms, TF_DHM, from, sizeof(from));
    fmt_utc(r->hours[r->n_hours - 1].start_ms + RP_HOUR_MS, TF_DHM, to, sizeof(to));
    buf_printf(b, "Soak verdict for %s - %s UTC (%zu hours, %d complete)\n", from, to,
               r->n_hours, r->complete_hours);
    for (int i = 0; i < 4; i++) {
        const rp_criterion *k = &r->crit[i];
        buf_printf(b, "- %s: %s%s%s\n", k->title, pass_word(k->pass), k->detail[0] ? ", " : "",
                   k->detail);
    }
    buf_printf(b, "VERDICT: %s\n", r->go ? "GO" : "NO-GO");
}

static void render_text(sw_buf *b, const rp_report *r)
{
    size_t next_tr = 0;
    for (size_t h = 0; h < r->n_hours; h++) {
        if (h)
            buf_puts(b, "\n");
        render_hour_text(b, r, h, &next_tr);
    }
}

/* ---- json -------------------------------------------------------------- */

static void json_num(sw_buf *b, double v)
{
    buf_json_double(b, v); /* null for NAN */
}

static void json_pass(sw_buf *b, int p)
{
    buf_puts(b, p < 0 ? "null" : p ? "true" : "false");
}

static void json_time(sw_buf *b, int64_t ms)
{
    char s[40];
    fmt_iso(ms, s, sizeof(s));
    buf_json_str(b, s);
}

static void json_trigger(sw_buf *b, const rp_report *r, const rp_trigger *t)
{
    buf_puts(b, "{\"id\":");
    buf_json_str(b, t->id);
    buf_puts(b, ",\"rule\":");
    buf_json_str(b, t->rule);
    buf_printf(b, ",\"state\":\"%s\",\"at_ms\":%" PRId64 ",\"at\":",
               t->firing ? "firing" : "resolved", t->at_ms);
    json_time(b, t->at_ms);
    buf_printf(b, ",\"hour\":%zu,\"window_s\":%" PRId64 ",\"metric\":", hour_index(r, t->at_ms) + 1,
               t->window_s);
    buf_json_str(b, t->metric);
    buf_puts(b, ",\"op\":");
    buf_json_str(b, t->op);
    buf_puts(b, ",\"threshold\":");
    json_num(b, t->threshold);
    buf_puts(b, ",\"value\":");
    json_num(b, t->value);
    buf_puts(b, ",\"samples\":");
    if (t->samples >= 0)
        buf_printf(b, "%" PRId64, t->samples);
    else
        buf_puts(b, "null");
    buf_puts(b, "}");
}

static void render_soak_json(sw_buf *b, const rp_report *r)
{
    buf_printf(b, "{\"verdict\":\"%s\",\"hours\":%zu,\"complete_hours\":%d,"
               "\"longest_success_run_hours\":%d,\"required_hours\":%d,\"firings\":%" PRIu64
               ",\"criteria\":[",
               r->go ? "GO" : "NO-GO", r->n_hours, r->complete_hours, r->longest_run,
               RP_SOAK_HOURS, r->firings);
    for (int i = 0; i < 4; i++) {
        const rp_criterion *k = &r->crit[i];
        buf_printf(b, "%s{\"name\":\"%s\",\"description\":", i ? "," : "", k->key);
        buf_json_str(b, k->title);
        buf_printf(b, ",\"pass\":%s,\"first_failed_hour\":", k->pass ? "true" : "false");
        if (k->first_hour >= 0) {
            buf_printf(b, "%d,\"first_failed_start\":", k->first_hour + 1);
            json_time(b, r->hours[k->first_hour].start_ms);
        } else {
            buf_puts(b, "null,\"first_failed_start\":null");
        }
        buf_puts(b, ",\"detail\":");
        buf_json_str(b, k->detail);
        buf_puts(b, "}");
    }
    buf_puts(b, "]}");
}

static void render_json(sw_buf *b, const rp_report *r)
{
    const sw_config *c = &r->cfg;
    buf_printf(b, "{\"input\":{\"lines\":%" PRIu64 ",\"skipped_lines\":%" PRIu64
               ",\"statuses\":%zu,\"triggers\":%zu,\"status_interval_s\":",
               r->lines, r->skipped, r->n_st, r->n_tr);
    json_num(b, (double)r->interval_ms / 1000);
    buf_puts(b, "},\"targets\":{\"success_rate_min\":");
    json_num(b, c->status_success_rate_min);
    buf_puts(b, ",\"latency_mean_max_ms\":");
    json_num(b, c->status_latency_mean_max_ms);
    buf_puts(b, ",\"error_rate_max\":");
    json_num(b, c->status_error_rate_max);
    buf_puts(b, "},\"hours\":[");
    size_t ti = 0;
    for (size_t h = 0; h < r->n_hours; h++) {
        const rp_hour *H = &r->hours[h];
        buf_printf(b, "%s\n{\"hour\":%zu,\"start\":", h ? "," : "", h + 1);
        json_time(b, H->start_ms);
        buf_puts(b, ",\"end\":");
        json_time(b, H->start_ms + RP_HOUR_MS);
        buf_printf(b, ",\"covered_s\":%" PRId64 ",\"windows\":%d,\"statuses\":%d,"
                   "\"requests\":%" PRIu64
                   ",\"outcomes\":%" PRIu64 ",\"successes\":%" PRIu64 ",\"errors\":%" PRIu64
                   ",\"success_rate\":",
                   H->covered_s, H->n_tiles, H->n_status, H->requests, H->outcomes, H->successes,
                   H->errors);
        json_num(b, H->success_rate);
        buf_puts(b, ",\"latency_mean_ms\":");
        json_num(b, H->lat_mean);
        buf_puts(b, ",\"error_rate\":");
        json_num(b, H->error_rate);
        buf_puts(b, ",\"status\":");
        if (H->worst == LV_NONE)
            buf_puts(b, "null");
        else
            buf_json_str(b, level_name(H->worst));
        buf_puts(b, ",\"pass\":{\"success_rate\":");
        json_pass(b, H->pass_success);
        buf_puts(b, ",\"latency_mean_ms\":");
        json_pass(b, H->pass_latency);
        buf_puts(b, ",\"error_rate\":");
        json_pass(b, H->pass_error);
        buf_puts(b, "},\"triggers\":[");
        int first = 1;
        while (ti < r->n_tr && hour_index(r, r->tr[ti].at_ms) == h) {
            buf_puts(b, first ? "" : ",");
            buf_json_str(b, r->tr[ti].id);
            first = 0;
            ti++;
        }
        buf_puts(b, "]}");
    }
    buf_puts(b, "],\n\"triggers\":[");
    for (size_t i = 0; i < r->n_tr; i++) {
        buf_puts(b, i ? ",\n" : "\n");
        json_trigger(b, r, &r->tr[i]);
    }
    buf_puts(b, "],\n\"soak\":");
    render_soak_json(b, r);
    buf_puts(b, "}\n");
}

/* ---- html -------------------------------------------------------------- */

#define CH_W 1320   /* svg width */
#define CH_L 74     /* plot left */
#define CH_R 1060   /* plot right; labels of thresholds to its right */
#define CH_T 34     /* plot top */
#define CH_H 190    /* plot height */
#define CH_SVG_H (CH_T + CH_H + 30)
#define CH_MAX_SERIES (RP_MAX_NAMES + 2)
#define CH_MAX_LINES 16

enum { G_REQUESTS, G_SUCCESS, G_ERROR, G_LATENCY, G_TCSR, G_STRATEGY, G_REASON, G_NONE };

static const char *const palette[] = {"#1f77b4", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
                                      "#17becf", "#bcbd22", "#7f7f7f", "#393b79", "#637939"};

static void html_esc(sw_buf *b, const char *s)
{
    const char *run = s;
    for (const char *p = s; *p; p++) {
        const char *rep = NULL;
        switch (*p) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        default: break;
        }
        if (rep == NULL)
            continue;
        buf_append(b, run, (size_t)(p - run));
        buf_puts(b, rep);
        run = p + 1;
    }
    buf_puts(b, run);
}

static int metric_group(const char *metric)
{
    static const struct { const char *name; int g; } map[] = {
        {"requests", G_REQUESTS},        {"outcomes", G_REQUESTS},
        {"successes", G_REQUESTS},       {"errors", G_REQUESTS},
        {"declined", G_REQUESTS},        {"success_rate", G_SUCCESS},
        {"error_rate", G_ERROR},         {"latency_mean_ms", G_LATENCY},
        {"latency_p95_ms", G_LATENCY},   {"latency_p99_ms", G_LATENCY},
        {"time_constraint_success_rate", G_TCSR},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(metric, map[i].name) == 0)
            return map[i].g;
    if (strncmp(metric, "strategies.", 11) == 0)
        return G_STRATEGY;
    if (strncmp(metric, "fallback_reasons.", 17) == 0)
        return G_REASON;
    return G_NONE;
}

typedef struct ch_series {
    char name[LABEL_NAME_MAX + 16];
    const char *color;
    double *y; /* per status; NAN = no value */
} ch_series;

typedef struct ch_line {
    double v;
    int is_rule;
    char label[RP_NAME_MAX + 96];
} ch_line;

typedef struct ch_axis {
    int64_t t0, t1; /* time range, ms */
} ch_axis;

static double x_of(const ch_axis *ax, int64_t t)
{
    double span = (double)(ax->t1 - ax->t0);
    return CH_L + (span > 0 ? (double)(t - ax->t0) / span : 0.5) * (CH_R - CH_L);
}

static double nice_step(double raw)
{
    if (!(raw > 0))
        return 1;
    double p = pow(10, floor(log10(raw)));
    double m = raw / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

static void fmt_tick(double v, char *out, size_t cap)
{
    if (fabs(v) < 1e-9)
        v = 0;
    snprintf(out, cap, "%.6g", v);
}

/* Time ticks and vertical grid lines, aligned to UTC multiples of a step
 * chosen for at most about twelve ticks. */
static void svg_time_axis(sw_buf *b, const ch_axis *ax, int y_top, int y_bottom)
{
    static const int64_t steps_s[] = {60,   300,   600,   900,   1800,  3600,   7200,
                                      10800, 21600, 43200, 86400, 172800, 604800};
    int64_t span_s = (ax->t1 - ax->t0) / 1000;
    int64_t step = steps_s[sizeof(steps_s) / sizeof(steps_s[0]) - 1];
    for (size_t i = 0; i < sizeof(steps_s) / sizeof(steps_s[0]); i++)
        if (span_s / steps_s[i] <= 12) {
            step = steps_s[i];
            break;
        }
    int64_t step_ms = step * 1000;
    int64_t first = sw_floor_div(ax->t0 + step_ms - 1, step_ms) * step_ms;
    int labelled_day = 0;
    for (int64_t t = first; t <= ax->t1; t += step_ms) {
        double x = x_of(ax, t);
        char hm[16], day[16];
        fmt_utc(t, TF_HM, hm, sizeof(hm));
        fmt_utc(t, TF_MD, day, sizeof(day));
        buf_printf(b, "<line x1='%.1f' y1='%d' x2='%.1f' y2='%d' class='grid'/>", x, y_top, x,
                   y_bottom);
        int midnight = sw_floor_div(t, 1000) % 86400 == 0;
        if (step >= 86400)
            buf_printf(b, "<text x='%.1f' y='%d' class='tick' text-anchor='middle'>%s</text>", x,
                       y_bottom + 14, day);
        else if (!labelled_day)
            buf_printf(b, "<text x='%.1f' y='%d' class='tick' text-anchor='middle'>%s %s UTC"
                       "</text>", x, y_bottom + 14, day, hm);
        else if (midnight)
            buf_printf(b, "<text x='%.1f' y='%d' class='tick' text-anchor='middle'>%s %s</text>",
                       x, y_bottom + 14, day, hm);
        else
            buf_printf(b, "<text x='%.1f' y='%d' class='tick' text-anchor='middle'>%s</text>", x,
                       y_bottom + 14, hm);
        labelled_day = 1;
    }
}

/* Vertical markers of the triggers of one group (G_NONE: all triggers):
 * red for a firing, green for a resolution, labelled with the rule. */
static void svg_triggers(sw_buf *b, const rp_report *r, const ch_axis *ax, int group, int y_top,
                         int y_bottom, int label_y)
{
    int k = 0;
    for (size_t i = 0; i < r->n_tr; i++) {
        const rp_trigger *t = &r->tr[i];
        if (group != G_NONE && metric_group(t->metric) != group)
            continue;
        double x = x_of(ax, t->at_ms);
        char at[16];
        fmt_utc(t->at_ms, TF_HMS, at, sizeof(at));
        buf_printf(b, "<line x1='%.1f' y1='%d' x2='%.1f' y2='%d' class='%s'><title>", x, y_top,
                   x, y_bottom, t->firing ? "fire" : "resolve");
        html_esc(b, t->rule);
        buf_printf(b, " %s at %s UTC</title></line>", t->firing ? "firing" : "resolved", at);
        if (t->firing) {
            buf_printf(b, "<text x='%.1f' y='%d' class='firetxt'>", x + 3, label_y + (k % 3) * 11);
            html_esc(b, t->rule);
            buf_puts(b, "</text>");
            k++;
        }
    }
}

/* A path being written: points join into segments; a segment ends at a
 * gap. Columns of many points are drawn by their min and max, in time
 * order, so spikes survive while the path stays small. */
typedef struct ch_pen {
    sw_buf *b;
    const ch_axis *ax;
    double lo, hi;
    int open;            /* points in the current segment */
    int col;             /* pixel column being gathered, -1 none */
    double vmin, vmax;   /* its lowest and highest value */
    int64_t tmin, tmax;  /* and when they occurred */
} ch_pen;

static void pen_point(ch_pen *p, int64_t t, double v)
{
    buf_printf(p->b, "%c%.1f %.1f", p->open++ ? 'L' : 'M', x_of(p->ax, t),
               CH_T + (1 - (v - p->lo) / (p->hi - p->lo)) * CH_H);
}

static void pen_flush(ch_pen *p)
{
    if (p->col < 0)
        return;
    int min_first = p->tmin <= p->tmax;
    pen_point(p, min_first ? p->tmin : p->tmax, min_first ? p->vmin : p->vmax);
    if (p->tmin != p->tmax)
        pen_point(p, min_first ? p->tmax : p->tmin, min_first ? p->vmax : p->vmin);
    p->col = -1;
}

static void pen_break(ch_pen *p)
{
    pen_flush(p);
    p->open = 0;
}

static void pen_add(ch_pen *p, int64_t t, double v)
{
    int c = (int)x_of(p->ax, t);
    if (c != p->col) {
        pen_flush(p);
        p->col = c;
        p->vmin = p->vmax = v;
        p->tmin = p->tmax = t;
        return;
    }
    if (v < p->vmin) {
        p->vmin = v;
        p->tmin = t;
    }
    if (v > p->vmax) {
        p->vmax = v;
        p->tmax = t;
    }
}

/* One series as an SVG path; NAN values and missing statuses break it. */
static void svg_path(sw_buf *b, const rp_report *r, const ch_axis *ax, const double *y, double lo,
                     double hi, const char *color)
{
    ch_pen p = {.b = b, .ax = ax, .lo = lo, .hi = hi, .col = -1};
    double gap_ms = (double)r->interval_ms * 1.5;
    buf_printf(b, "<path fill='none' stroke='%s' stroke-width='1.6' stroke-linejoin='round' d='",
               color);
    for (size_t i = 0; i < r->n_st; i++) {
        int64_t t = r->st[i].at_ms;
        if (i && (double)(t - r->st[i - 1].at_ms) > gap_ms)
            pen_break(&p);
        if (isnan(y[i]))
            pen_break(&p);
        else
            pen_add(&p, t, y[i]);
    }
    pen_flush(&p);
    buf_puts(b, "'/>");
}

/* One chart: series over time, dashed threshold lines, trigger markers. */
static void svg_chart(sw_buf *b, const rp_report *r, const ch_axis *ax, const char *title,
                      const char *caption, const char *unit, ch_series *s, int ns,
                      const ch_line *hl, int nh, int zero_based, double cap, int group)
{
    double lo = INFINITY, hi = -INFINITY;
    for (int k = 0; k < ns; k++)
        for (size_t i = 0; i < r->n_st; i++)
            if (!isnan(s[k].y[i])) {
                lo = fmin(lo, s[k].y[i]);
                hi = fmax(hi, s[k].y[i]);
            }
    for (int k = 0; k < nh; k++) {
        lo = fmin(lo, hl[k].v);
        hi = fmax(hi, hl[k].v);
    }
    if (!isfinite(lo)) {
        lo = 0;
        hi = 1;
    }
    if (zero_based)
        lo = fmin(lo, 0);
    if (hi - lo < 1e-9) {
        /* A flat line sits mid-chart, not on an edge. */
        double pad = fabs(lo) > 0 ? fabs(lo) * 0.05 : 1;
        lo = zero_based && lo >= 0 ? fmax(0, lo - pad) : lo - pad;
        hi += pad;
    }
    double step = nice_step((hi - lo) / 5);
    lo = floor(lo / step) * step;
    hi = ceil(hi / step) * step;
    if (hi == lo)
        hi = lo + step;
    if (!isnan(cap) && hi > cap)
        hi = cap;
    if (hi <= lo)
        lo = hi - step;

    buf_puts(b, "<section><h2>");
    html_esc(b, title);
    buf_puts(b, "</h2><p class='cap'>");
    html_esc(b, caption);
    buf_printf(b, "</p><svg width='%d' height='%d' viewBox='0 0 %d %d' role='img'>", CH_W,
               CH_SVG_H, CH_W, CH_SVG_H);
    buf_printf(b, "<rect x='%d' y='%d' width='%d' height='%d' class='plot'/>", CH_L, CH_T,
               CH_R - CH_L, CH_H);
    for (double v = lo; v <= hi + step * 1e-6; v += step) {
        double y = CH_T + (1 - (v - lo) / (hi - lo)) * CH_H;
        char t[32];
        fmt_tick(v, t, sizeof(t));
        buf_printf(b, "<line x1='%d' y1='%.1f' x2='%d' y2='%.1f' class='grid'/>", CH_L, y, CH_R,
                   y);
        buf_printf(b, "<text x='%d' y='%.1f' class='tick' text-anchor='end'>%s%s</text>", CH_L - 6,
                   y + 4, t, unit);
    }
    svg_time_axis(b, ax, CH_T, CH_T + CH_H);
    double used[CH_MAX_LINES];
    int n_used = 0;
    for (int k = 0; k < nh; k++) {
        if (hl[k].v < lo || hl[k].v > hi)
            continue;
        double y = CH_T + (1 - (hl[k].v - lo) / (hi - lo)) * CH_H;
        buf_printf(b, "<line x1='%d' y1='%.1f' x2='%d' y2='%.1f' class='%s'/>", CH_L, y, CH_R, y,
                   hl[k].is_rule ? "rule" : "target");
        /* Labels of lines close together are pushed apart. */
        double ly = y + 4;
        for (int again = 1; again;) {
            again = 0;
            for (int u = 0; u < n_used; u++)
                if (fabs(used[u] - ly) < 12) {
                    ly = used[u] + 12;
                    again = 1;
                }
        }
        used[n_used++] = ly;
        buf_printf(b, "<text x='%d' y='%.1f' class='%s'>", CH_R + 6, ly,
                   hl[k].is_rule ? "ruletxt" : "targettxt");
        html_esc(b, hl[k].label);
        buf_puts(b, "</text>");
    }
    svg_triggers(b, r, ax, group, CH_T, CH_T + CH_H, CH_T + 10);
    for (int k = 0; k < ns; k++)
        svg_path(b, r, ax, s[k].y, lo, hi, s[k].color);
    /* Legend, above the plot. */
    double lx = CH_L;
    for (int k = 0; k < ns; k++) {
        buf_printf(b, "<line x1='%.0f' y1='14' x2='%.0f' y2='14' stroke='%s' stroke-width='3'/>",
                   lx, lx + 16, s[k].color);
        buf_printf(b, "<text x='%.0f' y='18' class='legend'>", lx + 20);
        html_esc(b, s[k].name);
        buf_puts(b, "</text>");
        lx += 20 + 7.2 * (double)strlen(s[k].name) + 18;
    }
    if (ns == 0)
        buf_printf(b, "<text x='%d' y='18' class='legend'>no data</text>", CH_L);
    buf_puts(b, "</svg></section>\n");
}

/* Threshold lines of the rules on metrics of a group, from the config and
 * from the triggers in the input (which may come from another config).
 * scale converts a rule's threshold to the chart's unit; per_min divides
 * count thresholds by the rule window in minutes. */
static int rule_lines(const rp_report *r, int group, double scale, int per_min,
                      const char *unit, ch_line *hl, int nh)
{
    for (int pass = 0; pass < 2; pass++) {
        size_t n = pass == 0 ? (size_t)r->cfg.n_rules : r->n_tr;
        for (size_t i = 0; i < n && nh < CH_MAX_LINES; i++) {
            const char *name, *metric, *op;
            double thr;
            int64_t win;
            if (pass == 0) {
                const sw_rule *ru = &r->cfg.rules[i];
                name = ru->name;
                metric = ru->metric_name[0] ? ru->metric_name : config_metric_name(ru->metric);
                op = config_op_name(ru->op);
                thr = ru->threshold;
                win = ru->window_s;
            } else {
                const rp_trigger *t = &r->tr[i];
                name = t->rule;
                metric = t->metric;
                op = t->op;
                thr = t->threshold;
                win = t->window_s;
            }
            if (metric == NULL || metric_group(metric) != group)
                continue;
            double v = thr * scale;
            if (per_min && win > 0)
                v = thr * 60.0 / (double)win;
            int dup = 0;
            for (int k = 0; k < nh; k++)
                if (hl[k].is_rule && fabs(hl[k].v - v) < 1e-9 && strstr(hl[k].label, name))
                    dup = 1;
            if (dup)
                continue;
            char tv[40];
            fmt_num(thr * scale, tv, sizeof(tv));
            hl[nh].v = v;
            hl[nh].is_rule = 1;
            if (per_min && win > 0)
                snprintf(hl[nh].label, sizeof(hl[nh].label), "rule %s: %s %s over %" PRId64 " s",
                         name, op, tv, win);
            else
                snprintf(hl[nh].label, sizeof(hl[nh].label), "rule %s: %s %s%s", name, op, tv,
                         unit);
            nh++;
        }
    }
    return nh;
}

static int label_series(const rp_report *r, int kind, ch_series *s, double *store)
{
    int n = r->n_names[kind] + (r->names[kind][RP_MAX_NAMES][0] ? 1 : 0);
    for (int k = 0; k < n; k++) {
        int idx = k < r->n_names[kind] ? k : RP_MAX_NAMES;
        snprintf(s[k].name, sizeof(s[k].name), "%s", r->names[kind][idx]);
        s[k].color = palette[k % (sizeof(palette) / sizeof(palette[0]))];
        s[k].y = store + (size_t)k * r->n_st;
        for (size_t i = 0; i < r->n_st; i++) {
            const rp_status *st = &r->st[i];
            const rp_tile *w = &st->tiles[st->chart];
            s[k].y[i] = 0;
            for (uint16_t j = 0; j < st->n_labels; j++) {
                const rp_label *l = &r->labels[st->label_off + j];
                if (l->kind == kind && l->name == idx)
                    s[k].y[i] += l->count * 60.0 / w->window_s;
            }
        }
    }
    return n;
}

static const char css[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;margin:24px;"
    "color:#222;background:#fff}"
    "h1{font-size:24px;margin:0 0 4px}h2{font-size:17px;margin:22px 0 2px}"
    ".sub{color:#555;margin:0 0 12px}.cap{color:#666;font-size:13px;margin:0 0 4px}"
    ".verdict{display:inline-block;border-radius:6px;padding:8px 18px;font-size:26px;"
    "font-weight:700;color:#fff;margin:6px 0}"
    ".go{background:#2ca02c}.nogo{background:#d62728}"
    "ul.crit{margin:6px 0 0;padding-left:20px}ul.crit li{margin:2px 0}"
    ".pass{color:#1d7a1d;font-weight:600}.fail{color:#c01f1f;font-weight:600}"
    "svg{display:block;max-width:100%;height:auto}"
    ".plot{fill:#fcfcfc;stroke:#bbb}.grid{stroke:#e6e6e6;stroke-width:1}"
    ".tick{font-size:11px;fill:#555}.legend{font-size:12px;fill:#333}"
    ".target{stroke:#2e8b57;stroke-width:1.3;stroke-dasharray:7 4}"
    ".rule{stroke:#d62728;stroke-width:1.3;stroke-dasharray:3 3}"
    ".targettxt{font-size:11px;fill:#2e8b57}.ruletxt{font-size:11px;fill:#d62728}"
    ".fire{stroke:#b00000;stroke-width:2}.resolve{stroke:#1a7f1a;stroke-width:2}"
    ".firetxt{font-size:11px;fill:#b00000;font-weight:600}"
    ".st0{fill:#2ca02c}.st1{fill:#f2c200}.st2{fill:#d62728}.nodata{fill:#eee}"
    "table{border-collapse:collapse;font-size:13px;margin-top:6px}"
    "td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}"
    "td.l,th.l{text-align:left}td.s0{background:#c9efc9}td.s1{background:#fbe9a6}"
    "td.s2{background:#f6b8b8}.key span{display:inline-block;width:12px;height:12px;"
    "margin:0 4px 0 12px;vertical-align:-1px}";

/* Every firing with its resolution, so that what happened reads at once. */
static void html_trigger_table(sw_buf *b, const rp_report *r)
{
    enum { MAX_ROWS = 100 };
    if (r->firings == 0) {
        buf_puts(b, "<p>No rollback trigger fired.</p>\n");
        return;
    }
    buf_puts(b, "<h2>Rollback triggers</h2><table><tr><th class='l'>Rule</th>"
                "<th class='l'>Fired (UTC)</th><th class='l'>Condition</th>"
                "<th class='l'>Resolved (UTC)</th><th>Firing for</th></tr>");
    int rows = 0;
    for (size_t i = 0; i < r->n_tr && rows < MAX_ROWS; i++) {
        const rp_trigger *t = &r->tr[i];
        if (!t->firing)
            continue;
        char at[32], thr[40], res[32] = "still firing", dur[32] = "";
        fmt_utc(t->at_ms, TF_DHMS, at, sizeof(at));
        fmt_num(t->threshold, thr, sizeof(thr));
        if (t->pair >= 0) {
            int64_t d = (r->tr[t->pair].at_ms - t->at_ms) / 1000;
            fmt_utc(r->tr[t->pair].at_ms, TF_DHMS, res, sizeof(res));
            snprintf(dur, sizeof(dur), "%" PRId64 " min %02d s", d / 60, (int)(d % 60));
        }
        buf_puts(b, "<tr><td class='l fail'>");
        html_esc(b, t->rule);
        buf_printf(b, "</td><td class='l'>%s</td><td class='l'>", at);
        html_esc(b, t->metric);
        if (isnan(t->value))
            buf_puts(b, " null ");
        else
            buf_printf(b, " %.4g ", t->value);
        html_esc(b, t->op);
        buf_printf(b, " %s", thr);
        if (t->window_s > 0)
            buf_printf(b, " over %" PRId64 " s", t->window_s);
        buf_printf(b, "</td><td class='l'>%s</td><td>%s</td></tr>", res, dur);
        rows++;
    }
    buf_puts(b, "</table>");
    if (r->firings > (uint64_t)rows)
        buf_printf(b, "<p class='cap'>and %" PRIu64 " more firings (see the hourly table)</p>",
                   r->firings - (uint64_t)rows);
    buf_puts(b, "\n");
}

static void html_header(sw_buf *b, const rp_report *r, const ch_axis *ax)
{
    char from[32], to[32];
    fmt_utc(ax->t0, TF_DHM, from, sizeof(from));
    fmt_utc(ax->t1, TF_DHM, to, sizeof(to));
    buf_printf(b, "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
               "<title>Stream5 soak report %s - %s UTC</title><style>%s</style></head><body>\n",
               from, to, css);
    buf_printf(b, "<h1>Stream5 soak report</h1><p class='sub'>%s - %s UTC: %zu hours, "
               "%zu status events every %g s, %zu trigger events",
               from, to, r->n_hours, r->n_st, (double)r->interval_ms / 1000, r->n_tr);
    if (r->skipped)
        buf_printf(b, ", %" PRIu64 " unreadable lines skipped", r->skipped);
    buf_puts(b, "</p>\n");
    buf_printf(b, "<div class='verdict %s'>%s</div> <span class='sub'>soak go/no-go over "
               "the whole input</span><ul class='crit'>",
               r->go ? "go" : "nogo", r->go ? "GO" : "NO-GO");
    for (int i = 0; i < 4; i++) {
        const rp_criterion *k = &r->crit[i];
        buf_printf(b, "<li><span class='%s'>%s</span> ", k->pass ? "pass" : "fail",
                   pass_word(k->pass));
        html_esc(b, k->title);
        if (k->detail[0]) {
            buf_puts(b, ": ");
            html_esc(b, k->detail);
        }
        buf_puts(b, "</li>");
    }
    buf_puts(b, "</ul>\n");
    html_trigger_table(b, r);
}

static void html_status_band(sw_buf *b, const rp_report *r, const ch_axis *ax)
{
    const int top = 40, h = 34, svg_h = top + h + 24;
    buf_puts(b, "<section><h2>Status</h2><p class='cap'>The status of every status event "
                "(worst first: red = a rollback rule firing, yellow = a target missed over "
                "the 300 s window or too few outcomes, green = all targets met), drawn over "
                "the interval it ends; grey = no status event. Red lines: a rule fired; "
                "green lines: it resolved.<span class='key'>"
                "<span style='background:#2ca02c'></span>green"
                "<span style='background:#f2c200'></span>yellow"
                "<span style='background:#d62728'></span>red"
                "<span style='background:#eee'></span>no data</span></p>");
    buf_printf(b, "<svg width='%d' height='%d' viewBox='0 0 %d %d' role='img'>", CH_W, svg_h,
               CH_W, svg_h);
    buf_printf(b, "<rect x='%d' y='%d' width='%d' height='%d' class='nodata'/>", CH_L, top,
               CH_R - CH_L, h);
    /* Runs of one level become one rectangle. */
    size_t i = 0;
    while (i < r->n_st) {
        size_t j = i;
        while (j + 1 < r->n_st && r->st[j + 1].level == r->st[i].level &&
               r->st[j + 1].at_ms - r->st[j].at_ms <= r->interval_ms * 3 / 2)
            j++;
        double x0 = x_of(ax, r->st[i].at_ms - r->interval_ms), x1 = x_of(ax, r->st[j].at_ms);
        buf_printf(b, "<rect x='%.1f' y='%d' width='%.1f' height='%d' class='st%d'/>", x0, top,
                   fmax(x1 - x0, 0.8), h, r->st[i].level);
        i = j + 1;
    }
    buf_printf(b, "<rect x='%d' y='%d' width='%d' height='%d' fill='none' stroke='#bbb'/>", CH_L,
               top, CH_R - CH_L, h);
    svg_time_axis(b, ax, top, top + h);
    svg_triggers(b, r, ax, G_NONE, top - 4, top + h, 10);
    buf_puts(b, "</svg></section>\n");
}

static void html_hour_table(sw_buf *b, const rp_report *r)
{
    buf_puts(b, "<section><h2>Hourly updates</h2><p class='cap'>Metrics per clock hour (UTC), "
                "summed over non-overlapping status windows inside the hour; status = the "
                "worst status of the hour.</p><table><tr><th>Hour</th><th class='l'>Time "
                "(UTC)</th><th class='l'>Status</th><th>Success</th><th>Mean response</th>"
                "<th>Errors</th><th>Outcomes</th><th>Coverage</th><th class='l'>Notes</th></tr>");
    size_t ti = 0;
    for (size_t h = 0; h < r->n_hours; h++) {
        const rp_hour *H = &r->hours[h];
        char range[64], sr[32], er[32], lat[32];
        fmt_hour_range(r, h, range, sizeof(range));
        pct(H->success_rate, sr, sizeof(sr));
        pct(H->error_rate, er, sizeof(er));
        if (isnan(H->lat_mean))
            snprintf(lat, sizeof(lat), "n/a");
        else
            snprintf(lat, sizeof(lat), "%.2fs", H->lat_mean / 1000);
        buf_printf(b, "<tr><td>%zu</td><td class='l'>%s</td><td class='l s%d'>%s</td>"
                   "<td class='%s'>%s</td><td class='%s'>%s</td><td class='%s'>%s</td>"
                   "<td>%" PRIu64 "</td><td>%" PRId64 " min</td><td class='l'>",
                   h + 1, range, H->worst, H->worst == LV_NONE ? "none" : level_name(H->worst),
                   H->pass_success == 0 ? "fail" : "", sr, H->pass_latency == 0 ? "fail" : "", lat,
                   H->pass_error == 0 ? "fail" : "", er, H->outcomes, H->covered_s / 60);
        int any = 0;
        while (ti < r->n_tr && hour_index(r, r->tr[ti].at_ms) == h) {
            const rp_trigger *t = &r->tr[ti];
            char at[16];
            fmt_utc(t->at_ms, TF_HMS, at, sizeof(at));
            buf_puts(b, any++ ? "; " : "");
            html_esc(b, t->rule);
            buf_printf(b, " %s at %s", t->firing ? "FIRING" : "resolved", at);
            ti++;
        }
        buf_puts(b, "</td></tr>\n");
    }
    buf_puts(b, "</table></section>\n");
}

/* Returns 0, or -ENOMEM. */
static int render_html(sw_buf *b, const rp_report *r)
{
    const sw_config *c = &r->cfg;
    size_t n = r->n_st ? r->n_st : 1;
    int nseries = 2 * (RP_MAX_NAMES + 1) + 4;
    double *store = calloc((size_t)nseries * n, sizeof(double));
    ch_series *s = calloc(CH_MAX_SERIES, sizeof(*s));
    ch_line *hl = calloc(CH_MAX_LINES, sizeof(*hl));
    if (store == NULL || s == NULL || hl == NULL) {
        free(store);
        free(s);
        free(hl);
        return -ENOMEM;
    }
    ch_axis ax = {INT64_MAX, INT64_MIN};
    if (r->n_st) {
        ax.t0 = r->st[0].at_ms - r->interval_ms;
        ax.t1 = r->st[r->n_st - 1].at_ms;
    }
    if (r->n_tr) {
        ax.t0 = r->tr[0].at_ms < ax.t0 ? r->tr[0].at_ms : ax.t0;
        ax.t1 = r->tr[r->n_tr - 1].at_ms > ax.t1 ? r->tr[r->n_tr - 1].at_ms : ax.t1;
    }
    if (ax.t1 <= ax.t0)
        ax.t1 = ax.t0 + 60000;

    html_header(b, r, &ax);
    html_status_band(b, r, &ax);

    double *y0 = store, *y1 = store + n, *y2 = store + 2 * n;
    for (size_t i = 0; i < r->n_st; i++) {
        const rp_tile *w = &r->st[i].tiles[r->st[i].chart];
        y0[i] = w->requests * 60.0 / w->window_s;
        y1[i] = w->outcomes * 60.0 / w->window_s;
    }
    char cap[400];
    unsigned cw = r->n_st ? r->st[0].tiles[r->st[0].chart].window_s : RP_CHART_WINDOW_S;
    snprintf(cap, sizeof(cap), "Per minute, averaged over the %u s window of each status "
             "event (its count / %g). Outcomes = succeeded + fallback.", cw, cw / 60.0);
    snprintf(s[0].name, sizeof(s[0].name), "requests");
    s[0].color = palette[0];
    s[0].y = y0;
    snprintf(s[1].name, sizeof(s[1].name), "outcomes");
    s[1].color = palette[1];
    s[1].y = y1;
    int nh = rule_lines(r, G_REQUESTS, 1, 1, "", hl, 0);
    svg_chart(b, r, &ax, "Requests per minute", cap, "", s, 2, hl, nh, 1, NAN, G_REQUESTS);

    for (size_t i = 0; i < r->n_st; i++) {
        const rp_tile *w = &r->st[i].tiles[r->st[i].chart];
        y0[i] = w->outcomes ? 100.0 * w->successes / w->outcomes : NAN;
        y1[i] = w->outcomes ? 100.0 * w->errors / w->outcomes : NAN;
    }
    snprintf(cap, sizeof(cap), "Successes / outcomes over the %u s window, in %%. Dashed green: "
             "target; dashed red: rollback rule threshold.", cw);
    snprintf(s[0].name, sizeof(s[0].name), "success rate");
    s[0].color = palette[0];
    s[0].y = y0;
    hl[0].v = c->status_success_rate_min * 100;
    hl[0].is_rule = 0;
    snprintf(hl[0].label, sizeof(hl[0].label), "target > %g%%", hl[0].v);
    nh = rule_lines(r, G_SUCCESS, 100, 0, "%", hl, 1);
    svg_chart(b, r, &ax, "Success rate", cap, "%", s, 1, hl, nh, 0, 100, G_SUCCESS);

    snprintf(cap, sizeof(cap), "Errors (outcomes with HTTP status >= 500) / outcomes over the "
             "%u s window, in %%.", cw);
    snprintf(s[0].name, sizeof(s[0].name), "error rate");
    s[0].color = palette[1];
    s[0].y = y1;
    hl[0].v = c->status_error_rate_max * 100;
    hl[0].is_rule = 0;
    snprintf(hl[0].label, sizeof(hl[0].label), "target < %g%%", hl[0].v);
    nh = rule_lines(r, G_ERROR, 100, 0, "%", hl, 1);
    svg_chart(b, r, &ax, "Error rate", cap, "%", s, 1, hl, nh, 1, 100, G_ERROR);

    for (size_t i = 0; i < r->n_st; i++) {
        const rp_tile *w = &r->st[i].tiles[r->st[i].chart];
        y0[i] = w->lat_mean;
        y1[i] = r->st[i].p95;
        y2[i] = r->st[i].p99;
    }
    snprintf(cap, sizeof(cap), "Response time of the outcomes over the %u s window, in ms: "
             "mean, 95th and 99th percentile. The target and the rule apply to the mean.", cw);
    snprintf(s[0].name, sizeof(s[0].name), "mean");
    s[0].y = y0;
    s[0].color = palette[0];
    snprintf(s[1].name, sizeof(s[1].name), "p95");
    s[1].y = y1;
    s[1].color = palette[1];
    snprintf(s[2].name, sizeof(s[2].name), "p99");
    s[2].y = y2;
    s[2].color = palette[7];
    hl[0].v = c->status_latency_mean_max_ms;
    hl[0].is_rule = 0;
    snprintf(hl[0].label, sizeof(hl[0].label), "target mean < %g ms", hl[0].v);
    nh = rule_lines(r, G_LATENCY, 1, 0, " ms", hl, 1);
    svg_chart(b, r, &ax, "Response time (ms)", cap, "", s, 3, hl, nh, 1, NAN, G_LATENCY);

    for (size_t i = 0; i < r->n_st; i++)
        y0[i] = isnan(r->st[i].tcsr) ? NAN : r->st[i].tcsr * 100;
    snprintf(cap, sizeof(cap), "Successes whose compressed session fits the user's minutes / "
             "successes that say so, over the %u s window, in %%.", cw);
    snprintf(s[0].name, sizeof(s[0].name), "time-constraint success");
    s[0].y = y0;
    s[0].color = palette[2];
    nh = rule_lines(r, G_TCSR, 100, 0, "%", hl, 0);
    svg_chart(b, r, &ax, "Time-constraint success rate", cap, "%", s, 1, hl, nh, 0, 100, G_TCSR);

    double *lab = store + 4 * n;
    int ns = label_series(r, K_STRATEGY, s, lab);
    snprintf(cap, sizeof(cap), "Outcomes per minute by compression strategy (%u s window / "
             "%g); fallbacks carry strategy none.", cw, cw / 60.0);
    nh = rule_lines(r, G_STRATEGY, 1, 1, "", hl, 0);
    svg_chart(b, r, &ax, "Strategy mix", cap, "", s, ns, hl, nh, 1, NAN, G_STRATEGY);

    ns = label_series(r, K_REASON, s, lab);
    snprintf(cap, sizeof(cap), "Fallbacks per minute by reason (%u s window / %g).", cw,
             cw / 60.0);
    nh = rule_lines(r, G_REASON, 1, 1, "", hl, 0);
    svg_chart(b, r, &ax, "Fallback reasons", cap, "", s, ns, hl, nh, 1, NAN, G_REASON);

    html_hour_table(b, r);
    buf_puts(b, "</body></html>\n");
    free(store);
    free(s);
    free(hl);
    return 0;
}

/* ---- command line ------------------------------------------------------ */

static int usage(const char *problem, const char *arg)
{
    fprintf(stderr, "report: %s%s%s (usage: soakwatch report [--input PATH|-] [--output PATH|-] "
            "[--format text|html|json] [--soak] [--config FILE])\n",
            problem, arg ? " " : "", arg ? arg : "");
    return 2;
}

static int write_output(const char *path, const sw_buf *b)
{
    if (b->failed) {
        fprintf(stderr, "report: output larger than %zu bytes or out of memory\n", b->cap);
        return 2;
    }
    FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "report: cannot write %s: %s\n", path, strerror(errno));
        return 2;
    }
    size_t n = b->len ? fwrite(b->data, 1, b->len, f) : 0;
    int bad = n != b->len || fflush(f) != 0 || ferror(f);
    int err = errno;
    if (f != stdout && fclose(f) != 0)
        bad = 1;
    if (bad) {
        fprintf(stderr, "report: cannot write %s: %s\n", path, strerror(err));
        return 2;
    }
    return 0;
}

int report_main(int argc, char **argv)
{
    const char *in = "-", *out = "-", *format = "text", *cfg_path = NULL;
    int soak = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **dst = NULL;
        if (strcmp(a, "--soak") == 0) {
            soak = 1;
            continue;
        }
        if (strcmp(a, "--input") == 0)
            dst = &in;
        else if (strcmp(a, "--output") == 0)
            dst = &out;
        else if (strcmp(a, "--format") == 0)
            dst = &format;
        else if (strcmp(a, "--config") == 0)
            dst = &cfg_path;
        else
            return usage("unknown option", a);
        if (i + 1 >= argc)
            return usage("missing value after", a);
        *dst = argv[++i];
    }
    int fmt = strcmp(format, "text") == 0 ? 0 : strcmp(format, "json") == 0 ? 1
              : strcmp(format, "html") == 0 ? 2 : -1;
    if (fmt < 0)
        return usage("unknown format", format);

    rp_report *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        fprintf(stderr, "report: out of memory\n");
        return 2;
    }
    config_defaults(&r->cfg);
    char err[512];
    if (cfg_path && config_load_file(&r->cfg, cfg_path, err, sizeof(err)) != 0) {
        fprintf(stderr, "report: %s\n", err);
        free(r);
        return 2;
    }
    int rc = read_input(r, in);
    if (rc == 0 && r->n_st == 0 && r->n_tr == 0) {
        fprintf(stderr, "report: no status or rollback_trigger events in %s (%" PRIu64
                " unreadable lines)\n", strcmp(in, "-") == 0 ? "stdin" : in, r->skipped);
        r->skipped = 0; /* said already */
        rc = 2;
    }
    if (rc == 0 && normalise(r) != 0) {
        fprintf(stderr, "report: out of memory\n");
        rc = 2;
    }
    if (rc == 0)
        rc = build_hours(r);
    if (rc == 0) {
        judge_soak(r);
        sw_buf b;
        buf_init(&b, RP_OUTPUT_CAP);
        if (fmt == 2) {
            if (render_html(&b, r) != 0)
                b.failed = 1;
        } else if (soak && fmt == 1) {
            render_soak_json(&b, r);
            buf_puts(&b, "\n");
        } else if (soak) {
            render_verdict_text(&b, r);
        } else if (fmt == 1) {
            render_json(&b, r);
        } else {
            render_text(&b, r);
        }
        rc = write_output(out, &b);
        buf_free(&b);
        if (rc == 0 && soak && !r->go)
            rc = 1;
    }
    if (r->skipped)
        fprintf(stderr, "report: skipped %" PRIu64 " unreadable lines\n", r->skipped);
    report_free(r);
    free(r);
    return rc;
}
