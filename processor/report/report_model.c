/* report_model.c: soakwatch's output events read back (JSON Lines, plain or
 * gzip) into statuses and triggers, tiled into hours whose metrics are exact
 * sums of non-overlapping status windows, never averages of overlapping
 * ones (docs/reports.md), and the soak verdict judged on them. */
#include "report_model.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <zlib.h>

#include "buf.h"
#include "config.h"
#include "event.h"

void rp_report_free(rp_report *r)
{
    free(r->st);
    free(r->labels);
    free(r->tr);
    free(r->ck);
    free(r->sk);
    free(r->vd);
    free(r->vc);
    free(r->ct);
    free(r->hours);
    free(r->coh_hours);
    memset(r, 0, sizeof(*r));
}

/* ---- time -------------------------------------------------------------- */

/* The hour an instant belongs to. A status or trigger at T describes the
 * seconds before T, so 13:00:00 closes the 12:00-13:00 hour. */
static int64_t hour_of(int64_t at_ms)
{
    return sw_floor_div(at_ms - 1, RP_HOUR_MS);
}


/* UTC text of an instant in one of the TF_* forms, from the calendar
 * fields of dec_utc_fields (the conversion dec_rfc3339_format uses). */
void rp_fmt_utc(int64_t ms, int form, char *out, size_t cap)
{
    sw_utc t;
    char tmp[96];
    if (cap == 0)
        return;
    dec_utc_fields(ms, &t);
    switch (form) {
    case TF_HMS:
        snprintf(tmp, sizeof(tmp), "%02d:%02d:%02d", t.hour, t.minute, t.second);
        break;
    case TF_HM: snprintf(tmp, sizeof(tmp), "%02d:%02d", t.hour, t.minute); break;
    case TF_DHM:
        snprintf(tmp, sizeof(tmp), "%04d-%02d-%02d %02d:%02d", t.year, t.month, t.day, t.hour,
                 t.minute);
        break;
    case TF_DHMS:
        snprintf(tmp, sizeof(tmp), "%04d-%02d-%02d %02d:%02d:%02d", t.year, t.month, t.day,
                 t.hour, t.minute, t.second);
        break;
    default: snprintf(tmp, sizeof(tmp), "%02d-%02d", t.month, t.day); break;
    }
    size_t n = strlen(tmp);
    n = n < cap ? n : cap - 1;
    memcpy(out, tmp, n);
    out[n] = '\0';
}

/* RFC 3339 UTC with milliseconds: for every instant an event can carry,
 * the text of dec_rfc3339_format, from the same fields. Not that function
 * itself: it clamps at year 9999, and the last hour of 9999 ends at
 * 10000-01-01T00:00:00.000Z. */
void rp_fmt_iso(int64_t ms, char *out, size_t cap)
{
    sw_utc t;
    dec_utc_fields(ms, &t);
    snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", t.year, t.month, t.day, t.hour,
             t.minute, t.second, t.milli);
}

/* "2026-11-26 12:00-13:00 UTC" for hour index i. */
void rp_fmt_hour_range(const rp_report *r, size_t i, char *out, size_t cap)
{
    char a[32], b[16];
    rp_fmt_utc(r->hours[i].start_ms, TF_DHM, a, sizeof(a));
    rp_fmt_utc(r->hours[i].start_ms + RP_HOUR_MS, TF_HM, b, sizeof(b));
    snprintf(out, cap, "%s-%s UTC", a, b);
}

size_t rp_hour_index(const rp_report *r, int64_t at_ms)
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

const char *rp_level_name(int lv)
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
    json_t *obs = json_object_get(m, "observed_s");
    t->observed_s = 0;
    if (json_is_integer(obs) && json_integer_value(obs) >= 0 &&
        json_integer_value(obs) < (json_int_t)window_s)
        t->observed_s = (uint32_t)json_integer_value(obs);
    if (t->outcomes == 0)
        t->lat_mean = NAN;
    else if (isnan(t->lat_mean))
        return -1;
    return 0;
}

/* A line of input telemetry (the contract's `event` field) rather than one
 * of soakwatch's output events: said when nothing else was read, so that a
 * report given the raw topic says what it wants instead. */
static int looks_like_telemetry(const char *line, size_t n)
{
    static const char key[] = "\"event\"";
    for (size_t i = 0; i + sizeof(key) - 1 <= n; i++)
        if (memcmp(line + i, key, sizeof(key) - 1) == 0)
            return 1;
    return 0;
}

static int cohort_index(rp_report *r, const char *name)
{
    for (int i = 0; i < r->n_cohorts; i++)
        if (strcmp(r->cohorts[i], name) == 0)
            return i;
    if (r->n_cohorts == RP_MAX_COHORTS || strlen(name) > RP_NAME_MAX || name[0] == '\0')
        return -1;
    snprintf(r->cohorts[r->n_cohorts], RP_NAME_MAX + 1, "%s", name);
    return r->n_cohorts++;
}

/* The status's `cohorts` (section 12), each cohort's metrics over the
 * status window, into r->ct. Absent: none. Returns 0, -1, -ENOMEM; on
 * failure r->ct is as before. */
static int parse_cohorts(rp_report *r, rp_status *s, const json_t *obj)
{
    s->coh_off = (uint32_t)r->n_ct;
    s->n_coh = 0;
    if (obj == NULL)
        return 0;
    if (!json_is_object(obj))
        return -1;
    uint32_t w = r->cfg.status_window_s > 0 ? (uint32_t)r->cfg.status_window_s : 300;
    const char *key;
    json_t *m;
    json_object_foreach((json_t *)obj, key, m) {
        rp_tile t;
        if (parse_tile(m, w, &t)) {
            r->n_ct = s->coh_off;
            s->n_coh = 0;
            return -1;
        }
        int c = cohort_index(r, key);
        if (c < 0 || s->n_coh == UINT8_MAX)
            continue; /* past the cohorts kept: not charted */
        if (r->n_ct == r->cap_ct) {
            size_t nc = r->cap_ct ? r->cap_ct * 2 : 1024;
            rp_ctile *n = realloc(r->ct, nc * sizeof(*n));
            if (n == NULL) {
                r->n_ct = s->coh_off;
                return -ENOMEM;
            }
            r->ct = n;
            r->cap_ct = nc;
        }
        r->ct[r->n_ct].cohort = (uint8_t)c;
        r->ct[r->n_ct++].t = t;
        s->n_coh++;
    }
    return 0;
}

/* Parse a status event into r->st. Returns 0, -1 when unreadable, -ENOMEM. */
static int parse_status(rp_report *r, const json_t *o, uint32_t seq)
{
    json_t *at = json_object_get(o, "at_ms");
    json_t *lv = json_object_get(o, "status");
    json_t *win = json_object_get(o, "windows");
    if (!json_is_integer(at) || json_integer_value(at) <= 0 ||
        json_integer_value(at) > SW_TS_MAX_MS || !json_is_string(lv) ||
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
    if (rc == 0)
        rc = parse_cohorts(r, s, json_object_get(o, "cohorts"));
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

/* A side of a comparison trigger's `compare`: {cohort, value, samples}. */
static void parse_compare_side(const json_t *o, double *value, int64_t *samples, char *cohort,
                               size_t cap)
{
    const json_t *n = json_object_get(o, "samples");
    *value = NAN;
    *samples = json_is_integer(n) && json_integer_value(n) >= 0 ? json_integer_value(n) : -1;
    if (get_metric(o, "value", value))
        *value = NAN;
    if (cohort && copy_str(cohort, cap, json_object_get(o, "cohort")))
        cohort[0] = '\0';
}

/* A comparison rule's `compare` (section 12), read as far as it goes: a
 * field of another type is null. */
static void parse_compare(rp_trigger *t, const json_t *c)
{
    if (!json_is_object(c))
        return;
    t->has_compare = 1;
    parse_compare_side(json_object_get(c, "treatment"), &t->cmp_t_value, &t->cmp_t_samples, NULL,
                       0);
    parse_compare_side(json_object_get(c, "control"), &t->cmp_c_value, &t->cmp_c_samples,
                       t->cmp_control, sizeof(t->cmp_control));
    if (get_metric(c, "statistic", &t->cmp_stat))
        t->cmp_stat = NAN;
    if (get_metric(c, "p_value", &t->cmp_p))
        t->cmp_p = NAN;
}

void rp_trigger_name(const rp_trigger *t, char *out, size_t cap)
{
    if (t->cohort[0])
        snprintf(out, cap, "%s [%s]", t->rule, t->cohort);
    else
        snprintf(out, cap, "%s", t->rule);
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
        json_integer_value(at) > SW_TS_MAX_MS || !json_is_string(state) ||
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
    const json_t *coh = json_object_get(o, "cohort");
    if (coh != NULL && !json_is_null(coh) && copy_str(t.cohort, sizeof(t.cohort), coh))
        return -1;
    parse_compare(&t, json_object_get(o, "compare"));
    if (copy_str(t.id, sizeof(t.id), json_object_get(o, "id"))) {
        if (t.cohort[0])
            snprintf(t.id, sizeof(t.id), "%s:%s:%" PRId64, t.rule, t.cohort, t.at_ms);
        else
            snprintf(t.id, sizeof(t.id), "%s:%" PRId64, t.rule, t.at_ms);
    }
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

const char *const rp_check_states[3] = {"verified", "not_verified", "baseline"};

static int get_ms(const json_t *v, int64_t *out)
{
    if (!json_is_integer(v) || json_integer_value(v) <= 0 || json_integer_value(v) > SW_TS_MAX_MS)
        return -1;
    *out = json_integer_value(v);
    return 0;
}

/* Parse a rollback_check event into r->ck. Returns 0, -1, -ENOMEM. */
static int parse_check(rp_report *r, const json_t *o, uint32_t seq)
{
    rp_check c;
    memset(&c, 0, sizeof(c));
    const json_t *state = json_object_get(o, "state");
    const json_t *ev = json_object_get(o, "evidence");
    const json_t *ver = json_object_get(o, "verified_at_ms");
    if (get_ms(json_object_get(o, "at_ms"), &c.at_ms) ||
        get_ms(json_object_get(o, "fired_at_ms"), &c.fired_at_ms) || !json_is_string(state) ||
        copy_str(c.rule, sizeof(c.rule), json_object_get(o, "rule")))
        return -1;
    c.state = -1;
    for (int k = 0; k < 3; k++)
        if (strcmp(json_string_value(state), rp_check_states[k]) == 0)
            c.state = k;
    if (c.state < 0 || (!json_is_null(ev) && copy_str(c.evidence, sizeof(c.evidence), ev)))
        return -1;
    c.verified_at_ms = -1;
    if (!json_is_null(ver) && get_ms(ver, &c.verified_at_ms))
        return -1;
    const json_t *u = json_object_get(o, "unavailable"), *q = json_object_get(o, "quiet_s");
    const json_t *w = json_object_get(o, "verify_within_s");
    c.unavailable = json_is_integer(u) ? json_integer_value(u) : -1;
    c.quiet_s = json_is_integer(q) ? json_integer_value(q) : -1;
    c.verify_within_s = json_is_integer(w) ? json_integer_value(w) : -1;
    c.seq = seq;
    if (r->n_ck == r->cap_ck) {
        size_t nc = r->cap_ck ? r->cap_ck * 2 : 16;
        rp_check *nk = realloc(r->ck, nc * sizeof(*nk));
        if (nk == NULL)
            return -ENOMEM;
        r->ck = nk;
        r->cap_ck = nc;
    }
    r->ck[r->n_ck++] = c;
    return 0;
}

static int parse_line(rp_report *r, const char *line, size_t len, uint32_t seq)
{
    json_error_t jerr;
    json_t *o = json_loadb(line, len, 0, &jerr);
    if (o == NULL) /* jansson names every syntax error; no text: memory ran out */
        return jerr.text[0] == '\0' ? -ENOMEM : -1;
    int rc = -1;
    const char *type = json_string_value(json_object_get(o, "type"));
    if (json_is_object(o) && type && strcmp(type, "status") == 0)
        rc = parse_status(r, o, seq);
    else if (json_is_object(o) && type && strcmp(type, "rollback_trigger") == 0)
        rc = parse_trigger(r, o, seq);
    else if (json_is_object(o) && type && strcmp(type, "rollback_check") == 0)
        rc = parse_check(r, o, seq);
    else if (json_is_object(o) && type && strcmp(type, "soak_update") == 0)
        rc = rp_parse_soak(r, o, seq);
    else if (json_is_object(o) && type && strcmp(type, "soak_verdict") == 0)
        rc = rp_parse_soak_verdict(r, o);
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

/* One line counted in r->lines: parsed, or counted as skipped (and as
 * telemetry when it looks like input). Returns 0 or -ENOMEM. */
static int take_line(rp_report *r, const char *line, size_t n)
{
    if (is_blank(line, n))
        return 0;
    int prc = parse_line(r, line, n, (uint32_t)r->lines);
    if (prc == -ENOMEM)
        return prc;
    if (prc) {
        r->skipped++;
        r->telemetry += looks_like_telemetry(line, n);
    }
    return 0;
}

int rp_take_line(rp_report *r, const char *line, size_t n)
{
    if (r->lines >= RP_MAX_LINES)
        return -E2BIG;
    r->lines++;
    return take_line(r, line, n);
}

/* Read every line of path ("-" = stdin; gzip is recognised by content).
 * Returns 0, or 2 after one line on stderr naming the problem. */
int rp_read_input(rp_report *r, const char *path)
{
    gzFile gz;
    if (strcmp(path, "-") == 0) {
        if (isatty(STDIN_FILENO))
            fprintf(stderr, "report: reading soakwatch's output events from stdin, a terminal: "
                    "end with Ctrl-D, or give --input FILE\n");
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
        if (take_line(r, line, n) == -ENOMEM) {
            fprintf(stderr, "report: out of memory at line %" PRIu64 " of %s\n", r->lines, path);
            rc = 2;
            break;
        }
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

static int cmp_check(const void *a, const void *b)
{
    const rp_check *x = a, *y = b;
    if (x->at_ms != y->at_ms)
        return x->at_ms < y->at_ms ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* A trigger's lane: its rule and cohort (section 12: a cohort's states
 * are its own). 0 when x and y are of one lane. */
static int cmp_lane(const rp_trigger *x, const rp_trigger *y)
{
    int c = strcmp(x->rule, y->rule);
    return c ? c : strcmp(x->cohort, y->cohort);
}

/* Orders pointers to triggers by lane (rule, cohort), then time. */
static int cmp_by_rule(const void *a, const void *b)
{
    const rp_trigger *x = *(const rp_trigger *const *)a, *y = *(const rp_trigger *const *)b;
    int c = cmp_lane(x, y);
    if (c)
        return c;
    return cmp_trigger(x, y);
}

/* Sort by time; drop repeated statuses (same at_ms) and repeated triggers
 * (same rule, cohort, state and at_ms), as at-least-once delivery can
 * repeat them; pair each firing with the resolution of the same rule and
 * cohort that follows it. */
int rp_normalise(rp_report *r)
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
            if (r->tr[j].firing == r->tr[i].firing && cmp_lane(&r->tr[j], &r->tr[i]) == 0)
                dup = 1;
        if (!dup)
            r->tr[k++] = r->tr[i];
    }
    r->n_tr = k;

    /* Rollback checks: in time order, each (rule, firing, state) once. */
    if (r->n_ck > 1)
        qsort(r->ck, r->n_ck, sizeof(*r->ck), cmp_check);
    k = 0;
    for (size_t i = 0; i < r->n_ck; i++) {
        int dup = 0;
        for (size_t j = k; j-- > 0 && r->ck[j].at_ms == r->ck[i].at_ms;)
            if (r->ck[j].state == r->ck[i].state && r->ck[j].fired_at_ms == r->ck[i].fired_at_ms &&
                strcmp(r->ck[j].rule, r->ck[i].rule) == 0)
                dup = 1;
        if (!dup)
            r->ck[k++] = r->ck[i];
    }
    r->n_ck = k;

    if (r->n_tr > 1) {
        rp_trigger **by_rule = malloc(r->n_tr * sizeof(*by_rule));
        if (by_rule == NULL)
            return -ENOMEM;
        for (size_t i = 0; i < r->n_tr; i++)
            by_rule[i] = &r->tr[i];
        qsort(by_rule, r->n_tr, sizeof(*by_rule), cmp_by_rule);
        for (size_t i = 0; i + 1 < r->n_tr; i++) {
            rp_trigger *a = by_rule[i], *b = by_rule[i + 1];
            if (a->firing && !b->firing && cmp_lane(a, b) == 0) {
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

/* An hour's rates, mean and pass/fail from its sums. */
static void finish_hour(const sw_config *c, rp_hour *H)
{
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

/* Tile w into H when it starts at or after the part already covered.
 * Returns 1 when used. */
static int tile_hour(rp_hour *H, int64_t at_ms, const rp_tile *w)
{
    int64_t from = at_ms - (int64_t)w->window_s * 1000;
    if (from < H->cursor_ms)
        return 0;
    H->cursor_ms = at_ms;
    H->covered_s += w->window_s;
    H->n_tiles++;
    H->requests += w->requests;
    H->outcomes += w->outcomes;
    H->successes += w->successes;
    H->errors += w->errors;
    if (w->outcomes)
        H->lat_sum += w->lat_mean * w->outcomes;
    return 1;
}

/* `other` last, as the statuses list it: cohorts kept first come appear
 * in later statuses than `other` does (section 12). */
static void other_last(rp_report *r)
{
    int o = r->n_cohorts - 1;
    while (o >= 0 && strcmp(r->cohorts[o], "other") != 0)
        o--;
    if (o < 0 || o == r->n_cohorts - 1)
        return;
    int last = r->n_cohorts - 1;
    memmove(r->cohorts[o], r->cohorts[o + 1], (size_t)(last - o) * sizeof(r->cohorts[0]));
    snprintf(r->cohorts[last], RP_NAME_MAX + 1, "other");
    for (size_t i = 0; i < r->n_ct; i++) {
        int c = r->ct[i].cohort;
        r->ct[i].cohort = (uint8_t)(c == o ? last : c > o ? c - 1 : c);
    }
}

/* Each cohort's hours, tiled from its status-window metrics as the whole
 * topic's are from its windows (one length here). Returns 0, or 2 after a
 * line on stderr. */
static int build_cohort_hours(rp_report *r)
{
    size_t K = (size_t)r->n_cohorts;
    if (K == 0)
        return 0;
    r->coh_hours = calloc(r->n_hours * K, sizeof(*r->coh_hours));
    if (r->coh_hours == NULL) {
        fprintf(stderr, "report: out of memory for %zu hours of %zu cohorts\n", r->n_hours, K);
        return 2;
    }
    for (size_t i = 0; i < r->n_hours * K; i++) {
        rp_hour *H = &r->coh_hours[i];
        H->start_ms = r->hours[i / K].start_ms;
        H->cursor_ms = H->start_ms;
        H->worst = LV_NONE;
    }
    for (size_t i = 0; i < r->n_st; i++) {
        const rp_status *s = &r->st[i];
        size_t h = rp_hour_index(r, s->at_ms);
        for (uint8_t k = 0; k < s->n_coh; k++) {
            const rp_ctile *ct = &r->ct[s->coh_off + k];
            rp_hour *H = &r->coh_hours[h * K + ct->cohort];
            H->n_status++;
            tile_hour(H, s->at_ms, &ct->t);
        }
    }
    for (size_t i = 0; i < r->n_hours * K; i++)
        finish_hour(&r->cfg, &r->coh_hours[i]);
    return 0;
}

/* Build the hours and their metrics. Each hour sums windows that lie
 * inside it and do not overlap: scanning its statuses in time order, a
 * status is used when one of its windows starts at or after the part of
 * the hour already covered (the longest such window). With statuses every
 * minute this takes the 300 s windows at :05, :10, ... :00, which tile the
 * hour exactly. Returns 0, or 2 after a line on stderr. */
int rp_build_hours(rp_report *r)
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
        rp_hour *H = &r->hours[rp_hour_index(r, s->at_ms)];
        H->n_status++;
        if (s->level > H->worst)
            H->worst = s->level;
        for (int t = s->n_tiles - 1; t >= 0; t--)
            if (tile_hour(H, s->at_ms, &s->tiles[t]))
                break;
    }
    for (size_t h = 0; h < r->n_hours; h++)
        finish_hour(&r->cfg, &r->hours[h]);
    other_last(r);
    return build_cohort_hours(r);
}

void rp_pct(double v, char *out, size_t cap)
{
    if (isnan(v))
        snprintf(out, cap, "n/a");
    else
        snprintf(out, cap, "%.1f%%", v * 100.0);
}

void rp_hour_texts_of(const rp_hour *h, rp_hour_texts *t)
{
    rp_pct(h->success_rate, t->success, sizeof(t->success));
    rp_pct(h->error_rate, t->errors, sizeof(t->errors));
    if (isnan(h->lat_mean))
        snprintf(t->latency, sizeof(t->latency), "n/a");
    else
        snprintf(t->latency, sizeof(t->latency), "%.2fs", h->lat_mean / 1000);
}

static void hour_label(const rp_report *r, size_t h, char *out, size_t cap)
{
    char range[64];
    rp_fmt_hour_range(r, h, range, sizeof(range));
    snprintf(out, cap, "hour %zu (%s)", h + 1, range);
}

/* The four criteria of the soak verdict, their titles from the targets,
 * passing until an hour or a trigger says otherwise. */
static void criteria_init(rp_report *r)
{
    const sw_config *c = &r->cfg;
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
}

/* The hourly criteria: the first hour each fails in, and the longest run
 * of complete hours above the success target. */
static void judge_hours(rp_report *r)
{
    char hl[128], v[32];
    rp_criterion *a = &r->crit[0], *b = &r->crit[1], *e = &r->crit[2];
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
            rp_pct(H->success_rate, v, sizeof(v));
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
            rp_pct(H->error_rate, v, sizeof(v));
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
}

/* No rollback trigger may have fired: the first firing is named. */
static void judge_triggers(rp_report *r)
{
    rp_criterion *d = &r->crit[3];
    r->firings = 0;
    for (size_t i = 0; i < r->n_tr; i++) {
        const rp_trigger *t = &r->tr[i];
        if (!t->firing)
            continue;
        if (r->firings++ == 0) {
            char at[32], name[2 * RP_NAME_MAX + 4];
            rp_fmt_utc(t->at_ms, TF_DHMS, at, sizeof(at));
            rp_trigger_name(t, name, sizeof(name));
            d->first_hour = (int)rp_hour_index(r, t->at_ms);
            snprintf(d->detail, sizeof(d->detail), "%s fired at %s UTC in hour %d", name, at,
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
}

/* The soak verdict (docs/reports.md, "Verdict"): GO when every criterion
 * passes. */
void rp_judge_soak(rp_report *r)
{
    criteria_init(r);
    judge_hours(r);
    judge_triggers(r);
    r->go = r->crit[0].pass && r->crit[1].pass && r->crit[2].pass && r->crit[3].pass;
}
