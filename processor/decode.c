/* decode.c: input events from bytes to sw_event. dec_parse_ref reads a
 * jansson tree and is the meaning; dec_parse scans a flat object in one pass
 * without allocating and hands every input it is not sure about to
 * dec_parse_ref. Both fill the same dec_fields and judge them with one
 * function, so they can differ only in how they read the JSON. Also the
 * program's one RFC 3339 reader and writer, and its one conversion from
 * milliseconds to a calendar date. */
#include "event.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cohort_names.h"
#include "config.h"
#include "inpath.h"
#include "otlp.h"

const char *dec_verdict_name(dec_verdict v)
{
    switch (v) {
    case DEC_OK: return "ok";
    case DEC_IGNORED: return "ignored";
    case DEC_FILTERED: return "filtered";
    case DEC_REJ_TOO_LARGE: return "too_large";
    case DEC_REJ_ENVELOPE: return "envelope";
    case DEC_REJ_INVALID_JSON: return "invalid_json";
    case DEC_REJ_NOT_OBJECT: return "not_object";
    case DEC_REJ_EVENT: return "event";
    case DEC_REJ_TS: return "ts";
    case DEC_REJ_DURATION: return "duration";
    case DEC_REJ_STATUS: return "status";
    case DEC_REJ_TIME_CONSTRAINT: return "time_constraint";
    case DEC_REJ_WEIGHT: return "weight";
    case DEC_VERDICT_COUNT: break;
    }
    return "unknown";
}

/* ---- RFC 3339 ---------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil): exact for every year, no table, no libc time calls. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = sw_floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y_out, int *m_out, int *d_out)
{
    z += 719468;
    int64_t era = sw_floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int d = (int)(doy - (153 * mp + 2) / 5 + 1);
    int m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y_out = (int)(yoe + era * 400 + (m <= 2));
    *m_out = m;
    *d_out = d;
}

static int days_in_month(int y, int m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
        return 29;
    return dm[m - 1];
}

/* n decimal digits at s as an int, or -1 when one is not a digit. */
static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* Accepted: YYYY-MM-DD('T'|'t')HH:MM:SS[.d+]('Z'|'z'|('+'|'-')HH:MM).
 * Not accepted, on purpose: a space instead of 'T' (RFC 3339 allows it only
 * "for readability"), and second 60: a leap second has no place on the
 * epoch-millisecond line, and guessing where to put it would make replays
 * depend on the guess. Fraction digits beyond the third are cut off before
 * the offset is applied. */
int dec_rfc3339_parse(const char *s, size_t len, int64_t *ms_out)
{
    if (len < 20)
        return -EINVAL;
    if (s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' ||
        s[16] != ':')
        return -EINVAL;
    int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
    int h = digits(s + 11, 2), mi = digits(s + 14, 2), sec = digits(s + 17, 2);
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 ||
        sec > 59)
        return -EINVAL;
    if (d > days_in_month(y, mo))
        return -EINVAL;
    size_t i = 19;
    int frac = 0;
    if (s[i] == '.') {
        i++;
        size_t first = i;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (i - first < 3)
                frac = frac * 10 + (s[i] - '0');
            i++;
        }
        if (i == first)
            return -EINVAL;
        for (size_t k = i - first; k < 3; k++)
            frac *= 10;
    }
    if (i >= len)
        return -EINVAL;
    int64_t off_min = 0;
    if (s[i] == 'Z' || s[i] == 'z') {
        i++;
    } else if (s[i] == '+' || s[i] == '-') {
        if (len - i < 6 || s[i + 3] != ':')
            return -EINVAL;
        int oh = digits(s + i + 1, 2), om = digits(s + i + 4, 2);
        if (oh < 0 || oh > 23 || om < 0 || om > 59)
            return -EINVAL;
        off_min = (int64_t)oh * 60 + om;
        if (s[i] == '-')
            off_min = -off_min;
        i += 6;
    } else {
        return -EINVAL;
    }
    if (i != len)
        return -EINVAL;
    int64_t days = days_from_civil(y, mo, d);
    int64_t secs = days * 86400 + (int64_t)h * 3600 + (int64_t)mi * 60 + sec - off_min * 60;
    *ms_out = secs * 1000 + frac;
    return 0;
}

void dec_utc_fields(int64_t ms, sw_utc *out)
{
    int64_t days = sw_floor_div(ms, 86400000);
    int64_t rem = ms - days * 86400000;
    civil_from_days(days, &out->year, &out->month, &out->day);
    out->hour = (int)(rem / 3600000);
    out->minute = (int)(rem / 60000 % 60);
    out->second = (int)(rem / 1000 % 60);
    out->milli = (int)(rem % 1000);
}

/* Times before year 0000 or after 9999 are clamped to those bounds, so the
 * text always has the fixed 24-character form. */
size_t dec_rfc3339_format(int64_t ms, char *buf, size_t cap)
{
    static const int64_t lo = -62167219200000; /* 0000-01-01T00:00:00.000Z */
    static const int64_t hi = SW_TS_MAX_MS;
    if (cap < 25) {
        if (cap > 0)
            buf[0] = '\0';
        return 0;
    }
    if (ms < lo)
        ms = lo;
    if (ms > hi)
        ms = hi;
    sw_utc t;
    dec_utc_fields(ms, &t);
    int vals[7] = {t.year, t.month, t.day, t.hour, t.minute, t.second, t.milli};
    static const int widths[7] = {4, 2, 2, 2, 2, 2, 3};
    static const char seps[7] = {'-', '-', 'T', ':', ':', '.', 'Z'};
    size_t n = 0;
    for (int k = 0; k < 7; k++) {
        for (int w = widths[k] - 1; w >= 0; w--) {
            buf[n + (size_t)w] = (char)('0' + vals[k] % 10);
            vals[k] /= 10;
        }
        n += (size_t)widths[k];
        buf[n++] = seps[k];
    }
    buf[n] = '\0';
    return n;
}

/* ---- the fields soakwatch reads, and their judgement --------------------- */

enum dec_vtype { V_ABSENT = 0, V_STRING, V_INTEGER, V_REAL, V_TRUE, V_FALSE, V_NULL, V_OTHER };

typedef struct dec_value {
    uint8_t type;  /* enum dec_vtype */
    const char *s; /* V_STRING: the unescaped text (borrowed) */
    size_t n;
    int64_t i; /* V_INTEGER */
    double d;  /* V_REAL */
} dec_value;

enum { F_EVENT, F_TS, F_DURATION, F_STATUS, F_TC, F_STRATEGY, F_REASON, F_COHORT, F_COUNT };

typedef struct dec_fields {
    dec_value f[F_COUNT];
} dec_fields;

/* The values a judgement reads: each field's (the first present of its
 * alternatives), each filter's, the weight's and the key's. A pointer to
 * an absent value stands for anything not mapped. */
typedef struct dec_rec {
    const dec_value *f[SW_IN_FIELDS];
    const dec_value *filter[SW_MAX_FILTERS];
    const dec_value *weight;
    const dec_value *key[SW_MAX_KEY_PATHS];
    const dec_value *cohort;
} dec_rec;

static const dec_value absent_value = {V_ABSENT, NULL, 0, 0, 0};

/* ---- the compiled mapping ------------------------------------------------- */

/* Slots: one per path the mapping reads. The decoders fill a value per
 * slot; the judgement reads them through a dec_rec. */
#define SLOT_FIELD(f, a) (1 + (f) * SW_MAX_PATH_ALTS + (a))
#define SLOT_FILTER(i) (1 + SW_IN_FIELDS * SW_MAX_PATH_ALTS + (i))
#define SLOT_WEIGHT (SLOT_FILTER(SW_MAX_FILTERS))
#define SLOT_KEY(i) (SLOT_WEIGHT + 1 + (i))
#define SLOT_COHORT (SLOT_KEY(SW_MAX_KEY_PATHS))
#define N_SLOTS (SLOT_COHORT + 1)
#define SLOT_ENV 0
/* Every path step the config can hold has room: 7 fields x 4 paths, 8
 * filters, the weight and 4 key parts, 16 steps each, and the root. */
#define MAX_NODES 1024
#define MAX_DEPTH 32 /* deeper input goes to jansson */

/* A trie of the paths: a node per step, children in a list. */
typedef struct dec_node {
    const char *key; /* key step (borrowed from the slot's path) */
    size_t len;
    int64_t index;   /* -1 key step, else array index */
    int child, sibling;
    uint64_t slots;  /* slots whose path ends here */
} dec_node;

typedef struct dec_trie {
    int n;
    dec_node nodes[MAX_NODES]; /* nodes[0] is the root (the object itself) */
    uint32_t visit[MAX_NODES]; /* the walk (its number) that last visited a node */
    uint32_t walks;            /* walks so far: a new number each, nothing to clear */
} dec_trie;

struct dec_map {
    sw_input in;
    inpath paths[N_SLOTS];
    uint64_t used; /* slots with a path */
    int cohort;    /* SLOT_COHORT is read (section 12) */
    dec_trie event, outer; /* the event's paths; the envelope field's */
    char *scratch;         /* an unescaped envelope line */
    size_t scratch_cap;
};

static int trie_add(dec_trie *t, const inpath *p, int slot)
{
    int at = 0;
    for (int k = 0; k < p->n; k++) {
        const inpath_seg *sg = &p->segs[k];
        int c = t->nodes[at].child, last = -1;
        while (c >= 0 && !(t->nodes[c].index == sg->index && t->nodes[c].len == sg->len &&
                           (sg->index >= 0 || memcmp(t->nodes[c].key, sg->key, sg->len) == 0))) {
            last = c;
            c = t->nodes[c].sibling;
        }
        if (c < 0) {
            if (t->n >= MAX_NODES)
                return -ENOSPC;
            c = t->n++;
            t->nodes[c] = (dec_node){sg->key, sg->len, sg->index, -1, -1, 0};
            if (last < 0)
                t->nodes[at].child = c;
            else
                t->nodes[last].sibling = c;
        }
        at = c;
    }
    t->nodes[at].slots |= UINT64_C(1) << slot;
    return 0;
}

static int map_path(dec_map *m, int slot, const char *text)
{
    const char *why = NULL;
    if (inpath_parse(text, &m->paths[slot], &why) != 0)
        return -EINVAL;
    m->used |= UINT64_C(1) << slot;
    return trie_add(slot == SLOT_ENV ? &m->outer : &m->event, &m->paths[slot], slot);
}

dec_map *dec_map_create(const sw_input *in, const char *cohort_path, size_t max_message_bytes,
                        char *errstr, size_t errlen)
{
    dec_map *m = calloc(1, sizeof(*m));
    if (m == NULL) {
        snprintf(errstr, errlen, "out of memory");
        return NULL;
    }
    m->in = *in;
    m->event.n = m->outer.n = 1;
    m->event.nodes[0] = m->outer.nodes[0] = (dec_node){NULL, 0, -1, -1, -1, 0};
    int rc = 0;
    for (int f = 0; f < SW_IN_FIELDS; f++)
        for (int a = 0; a < in->fields[f].n_paths && rc == 0; a++)
            rc = map_path(m, SLOT_FIELD(f, a), in->fields[f].paths[a]);
    for (int i = 0; i < in->n_filters && rc == 0; i++)
        rc = map_path(m, SLOT_FILTER(i), in->filters[i].path);
    if (in->weight_path[0] && rc == 0)
        rc = map_path(m, SLOT_WEIGHT, in->weight_path);
    for (int i = 0; in->correlate && i < in->n_key_paths && rc == 0; i++)
        rc = map_path(m, SLOT_KEY(i), in->key_paths[i]);
    if (cohort_path && rc == 0) {
        m->cohort = 1;
        rc = map_path(m, SLOT_COHORT, cohort_path);
    }
    if (in->envelope == SW_ENV_FIELD && rc == 0)
        rc = map_path(m, SLOT_ENV, in->envelope_field);
    if (rc != 0) {
        snprintf(errstr, errlen, "input: %s", rc == -ENOSPC ? "the paths have more steps in all "
                 "than the decoder holds" : "a path does not parse");
        dec_map_destroy(m);
        return NULL;
    }
    if (in->envelope == SW_ENV_FIELD) {
        m->scratch_cap = max_message_bytes;
        m->scratch = malloc(max_message_bytes > 0 ? max_message_bytes : 1);
        if (m->scratch == NULL) {
            snprintf(errstr, errlen, "out of memory");
            dec_map_destroy(m);
            return NULL;
        }
    }
    return m;
}

void dec_map_destroy(dec_map *m)
{
    if (m == NULL)
        return;
    free(m->scratch);
    free(m);
}

/* The record of a mapped event from its slot values. */
static void rec_of_slots(const dec_map *m, const dec_value *v, dec_rec *r)
{
    for (int f = 0; f < SW_IN_FIELDS; f++) {
        r->f[f] = &absent_value;
        for (int a = 0; a < m->in.fields[f].n_paths; a++)
            if (v[SLOT_FIELD(f, a)].type != V_ABSENT) {
                r->f[f] = &v[SLOT_FIELD(f, a)];
                break;
            }
    }
    for (int i = 0; i < SW_MAX_FILTERS; i++)
        r->filter[i] = i < m->in.n_filters ? &v[SLOT_FILTER(i)] : &absent_value;
    r->weight = m->in.weight_path[0] ? &v[SLOT_WEIGHT] : &absent_value;
    for (int i = 0; i < SW_MAX_KEY_PATHS; i++)
        r->key[i] = m->in.correlate && i < m->in.n_key_paths ? &v[SLOT_KEY(i)] : &absent_value;
    r->cohort = m->cohort ? &v[SLOT_COHORT] : &absent_value;
}

/* The record of the flat contract's fields. */
static void rec_of_flat(const dec_fields *fs, dec_rec *r)
{
    static const int order[SW_IN_FIELDS] = {F_EVENT,  F_TS,       F_DURATION, F_STATUS,
                                            F_REASON, F_STRATEGY, F_TC};
    for (int f = 0; f < SW_IN_FIELDS; f++)
        r->f[f] = &fs->f[order[f]];
    for (int i = 0; i < SW_MAX_FILTERS; i++)
        r->filter[i] = &absent_value;
    r->weight = &absent_value;
    for (int i = 0; i < SW_MAX_KEY_PATHS; i++)
        r->key[i] = &absent_value;
    r->cohort = &fs->f[F_COHORT]; /* absent unless cohorts name a top-level key */
}

static int str_is(const dec_value *v, const char *s)
{
    size_t n = strlen(s);
    return v->type == V_STRING && v->n == n && memcmp(v->s, s, n) == 0;
}

/* The event name inside a string value: after a prefix, or the value of
 * a "KEY=" token (tokens split at spaces). Returns 0, or -1 when there is
 * none (a line of another kind). */
static int name_extract(const sw_field_map *fm, const char *s, size_t n, const char **name,
                        size_t *name_len)
{
    size_t an = strlen(fm->affix);
    if (fm->extract == SW_EXTRACT_PREFIX) {
        if (n < an || memcmp(s, fm->affix, an) != 0)
            return -1;
        *name = s + an;
        *name_len = n - an;
        return 0;
    }
    size_t i = 0;
    while (i < n) {
        size_t start = i;
        while (i < n && s[i] != ' ')
            i++;
        if (i - start > an && memcmp(s + start, fm->affix, an) == 0 && s[start + an] == '=') {
            *name = s + start + an + 1;
            *name_len = i - start - an - 1;
            return 0;
        }
        i++;
    }
    return -1;
}

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* The key's hash, or 0 with *ok = 0 when a key value is missing or of
 * another type than string or integer. */
static uint64_t key_hash(const dec_map *m, const dec_rec *r, int *ok)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    *ok = 0;
    for (int i = 0; i < m->in.n_key_paths; i++) {
        const dec_value *v = r->key[i];
        unsigned char tag;
        if (v->type == V_STRING) {
            tag = 's';
            h = fnv1a(h, &tag, 1);
            h = fnv1a(h, v->s, v->n);
        } else if (v->type == V_INTEGER) {
            tag = 'i';
            h = fnv1a(h, &tag, 1);
            h = fnv1a(h, &v->i, sizeof(v->i));
        } else {
            return 0;
        }
        tag = 0xff;
        h = fnv1a(h, &tag, 1);
    }
    *ok = 1;
    return h;
}

/* The kind of event a name value names (after the configured extraction),
 * or -1 when it names no known event. */
static int event_kind(const dec_config *cfg, const dec_value *ev)
{
    const dec_map *m = cfg->map;
    const char *nm = ev->s;
    size_t nn = ev->n;
    if (m && m->in.fields[SW_IN_EVENT].extract != SW_EXTRACT_VALUE &&
        name_extract(&m->in.fields[SW_IN_EVENT], ev->s, ev->n, &nm, &nn) != 0)
        return -1;
    for (int k = 0; k < 4; k++) {
        const char *name = cfg->event_names[k];
        /* nm holds no NUL (jansson refuses one), so strncmp stops only at
         * the end of name or at a difference */
        if (name != NULL && strncmp(name, nm, nn) == 0 && name[nn] == '\0')
            return k;
    }
    return -1;
}

/* Whether an input filter (docs/semantics.md 9.4) leaves an event of this
 * kind out: a filter on its kind whose field holds none of its values. */
static int filtered_out(const dec_map *m, const dec_rec *r, int kind)
{
    for (int i = 0; m && i < m->in.n_filters; i++) {
        const sw_filter *f = &m->in.filters[i];
        if (!(f->kinds & (1u << kind)))
            continue;
        int hit = 0;
        for (int k = 0; k < f->n_values && !hit; k++)
            hit = str_is(r->filter[i], f->values[k]);
        if (!hit)
            return 1;
    }
    return 0;
}

/* ts, durationMs, status and meetsTimeConstraint, in the order of their
 * verdicts, into e. Returns DEC_OK or the first rejection. */
static dec_verdict judge_fields(const dec_map *m, const dec_rec *r, sw_event *e)
{
    const dec_value *ts = r->f[SW_IN_TIME];
    if (ts->type == V_INTEGER)
        e->ts_ms = ts->i;
    else if (ts->type != V_STRING || dec_rfc3339_parse(ts->s, ts->n, &e->ts_ms) != 0)
        return DEC_REJ_TS;

    int outcome = e->kind == SW_EV_SUCCEEDED || e->kind == SW_EV_FALLBACK;
    const dec_value *du = r->f[SW_IN_DURATION];
    double dv = -1;
    if (du->type == V_INTEGER)
        dv = (double)du->i;
    else if (du->type == V_REAL)
        dv = du->d;
    if (isfinite(dv) && dv >= 0) {
        e->duration_ms = dv;
        e->has_duration = 1;
    } else if (outcome && (du->type != V_ABSENT || m == NULL || m->in.duration_required)) {
        return DEC_REJ_DURATION;
    }

    const dec_value *st = r->f[SW_IN_STATUS];
    if (st->type != V_ABSENT) {
        if (st->type != V_INTEGER || st->i < 100 || st->i > 599)
            return DEC_REJ_STATUS;
        e->status = (int32_t)st->i;
    }

    const dec_value *tc = r->f[SW_IN_TC];
    if (tc->type == V_ABSENT)
        e->tc = -1;
    else if (tc->type == V_TRUE)
        e->tc = 1;
    else if (tc->type == V_FALSE)
        e->tc = 0;
    else
        return DEC_REJ_TIME_CONSTRAINT;
    return DEC_OK;
}

/* The sample weight (docs/semantics.md 9.5): the mapped field's, else the
 * configured default. Returns DEC_OK or DEC_REJ_WEIGHT. */
static dec_verdict judge_weight(const dec_map *m, const dec_rec *r, sw_event *e)
{
    if (m && m->in.weight_path[0] && r->weight->type != V_ABSENT) {
        if (r->weight->type != V_INTEGER || r->weight->i < 1 || r->weight->i > SW_WEIGHT_MAX)
            return DEC_REJ_WEIGHT;
        e->weight = (uint32_t)r->weight->i;
    } else if (m) {
        e->weight = (uint32_t)m->in.weight;
    }
    return DEC_OK;
}

/* What never rejects: the strategy and reason labels, whether the reason
 * is an error reason, whether the event is informed, the correlation key. */
static void read_labels(const dec_config *cfg, const dec_rec *r, sw_event *e)
{
    const dec_map *m = cfg->map;
    const dec_value *sg = r->f[SW_IN_STRATEGY];
    e->strategy = sg->type == V_STRING ? labels_lookup(cfg->strategies, sg->s, sg->n) : LABEL_NONE;
    const dec_value *rs = r->f[SW_IN_REASON];
    e->reason = LABEL_NONE;
    if (rs->type == V_STRING) {
        e->reason = labels_lookup(cfg->reasons, rs->s, rs->n);
        if (m == NULL) {
            e->reason_error = str_is(rs, "internal_error");
        } else {
            for (int k = 0; k < m->in.n_error_reasons && !e->reason_error; k++)
                e->reason_error = (uint8_t)str_is(rs, m->in.error_reasons[k]);
        }
    }
    e->informed = r->f[SW_IN_STATUS]->type != V_ABSENT || rs->type == V_STRING;
    /* The cohort (section 12): a listed string value, else `other`; with
     * cohorts.max, the value's id, for the engine to keep or not. */
    if (cfg->cohorts && r->cohort->type != V_STRING)
        e->cohort = cfg->cohort_names ? COHORT_ID_NONE : (uint16_t)cfg->cohorts->n;
    else if (cfg->cohort_names)
        e->cohort = cohort_names_id(cfg->cohort_names, r->cohort->s, r->cohort->n);
    else if (cfg->cohorts)
        e->cohort = labels_lookup(cfg->cohorts, r->cohort->s, r->cohort->n);
    if (m && m->in.correlate) {
        int ok;
        e->key = key_hash(m, r, &ok);
        e->has_key = (uint8_t)ok;
    }
}

/* The checks of docs/semantics.md sections 1 and 9.3, in the order of the
 * verdicts. map is NULL for the flat contract. */
static dec_verdict dec_judge(const dec_config *cfg, const dec_rec *r, sw_event *out)
{
    const dec_value *ev = r->f[SW_IN_EVENT];
    if (ev->type != V_STRING)
        return DEC_REJ_EVENT;
    int kind = event_kind(cfg, ev);
    if (kind < 0)
        return DEC_IGNORED;
    if (filtered_out(cfg->map, r, kind))
        return DEC_FILTERED;
    sw_event e;
    memset(&e, 0, sizeof(e));
    e.kind = (uint8_t)kind;
    e.weight = 1;
    dec_verdict v = judge_fields(cfg->map, r, &e);
    if (v == DEC_OK)
        v = judge_weight(cfg->map, r, &e);
    if (v != DEC_OK)
        return v;
    read_labels(cfg, r, &e);
    *out = e;
    return DEC_OK;
}

/* Which of the fields a key names, or -1. */
static int dec_field_of(const char *k, size_t n)
{
    switch (n) {
    case 2: return memcmp(k, "ts", 2) == 0 ? F_TS : -1;
    case 5: return memcmp(k, "event", 5) == 0 ? F_EVENT : -1;
    case 6:
        if (memcmp(k, "status", 6) == 0)
            return F_STATUS;
        return memcmp(k, "reason", 6) == 0 ? F_REASON : -1;
    case 10: return memcmp(k, "durationMs", 10) == 0 ? F_DURATION : -1;
    case 19:
        if (memcmp(k, "compressionStrategy", 19) == 0)
            return F_STRATEGY;
        return memcmp(k, "meetsTimeConstraint", 19) == 0 ? F_TC : -1;
    default: return -1;
    }
}

/* ---- the reference: a jansson tree ---------------------------------------- */

static void ref_value(json_t *v, dec_value *out)
{
    memset(out, 0, sizeof(*out));
    if (v == NULL)
        return;
    switch (json_typeof(v)) {
    case JSON_STRING:
        out->type = V_STRING;
        out->s = json_string_value(v);
        out->n = json_string_length(v);
        break;
    case JSON_INTEGER:
        out->type = V_INTEGER;
        out->i = json_integer_value(v);
        break;
    case JSON_REAL:
        out->type = V_REAL;
        out->d = json_real_value(v);
        break;
    case JSON_TRUE: out->type = V_TRUE; break;
    case JSON_FALSE: out->type = V_FALSE; break;
    case JSON_NULL: out->type = V_NULL; break;
    default: out->type = V_OTHER; break;
    }
}

/* The value at path p in a jansson tree, or NULL. */
static json_t *tree_get(json_t *v, const inpath *p)
{
    for (int k = 0; k < p->n && v != NULL; k++) {
        const inpath_seg *sg = &p->segs[k];
        if (sg->index >= 0)
            v = json_is_array(v) ? json_array_get(v, (size_t)sg->index) : NULL;
        else
            v = json_is_object(v) ? json_object_get(v, sg->key) : NULL;
    }
    return v;
}

/* Judge an event object read by jansson. */
static dec_verdict judge_tree(const dec_config *cfg, json_t *doc, sw_event *out)
{
    static const char *const names[F_COHORT] = {"event",  "ts",     "durationMs",
                                                "status", "meetsTimeConstraint",
                                                "compressionStrategy", "reason"};
    dec_rec r;
    const dec_map *m = cfg->map;
    if (m == NULL) {
        dec_fields fs;
        for (int k = 0; k < F_COHORT; k++)
            ref_value(json_object_get(doc, names[k]), &fs.f[k]);
        ref_value(cfg->cohort_key ? json_object_get(doc, cfg->cohort_key) : NULL,
                  &fs.f[F_COHORT]);
        rec_of_flat(&fs, &r);
        return dec_judge(cfg, &r, out);
    }
    dec_value v[N_SLOTS];
    for (int k = 1; k < N_SLOTS; k++)
        ref_value((m->used >> k) & 1 ? tree_get(doc, &m->paths[k]) : NULL, &v[k]);
    rec_of_slots(m, v, &r);
    return dec_judge(cfg, &r, out);
}

/* One event line through jansson. */
static dec_verdict event_ref(const dec_config *cfg, const char *buf, size_t len, sw_event *out)
{
    json_error_t err;
    json_t *doc = json_loadb(buf, len, 0, &err);
    if (doc == NULL)
        return DEC_REJ_INVALID_JSON;
    dec_verdict v = json_is_object(doc) ? judge_tree(cfg, doc, out) : DEC_REJ_NOT_OBJECT;
    json_decref(doc);
    return v;
}

/* The event line after a syslog-style prefix: from the first '{'. */
static int syslog_line(const char **buf, size_t *len)
{
    const char *b = memchr(*buf, '{', *len);
    if (b == NULL)
        return -1;
    *len -= (size_t)(b - *buf);
    *buf = b;
    return 0;
}

dec_verdict dec_parse_ref(const dec_config *cfg, const char *buf, size_t len, sw_event *out)
{
    if (len > cfg->max_message_bytes)
        return DEC_REJ_TOO_LARGE;
    const dec_map *m = cfg->map;
    int env = m ? m->in.envelope : SW_ENV_NONE;
    if (env == SW_ENV_OTLP)
        return DEC_REJ_ENVELOPE;
    if (env == SW_ENV_SYSLOG && syslog_line(&buf, &len) != 0)
        return DEC_REJ_ENVELOPE;
    if (env != SW_ENV_FIELD)
        return event_ref(cfg, buf, len, out);
    json_error_t err;
    json_t *outer = json_loadb(buf, len, 0, &err);
    json_t *line = outer && json_is_object(outer) ? tree_get(outer, &m->paths[SLOT_ENV]) : NULL;
    dec_verdict v = DEC_REJ_ENVELOPE;
    if (line && json_is_string(line))
        v = event_ref(cfg, json_string_value(line), json_string_length(line), out);
    json_decref(outer);
    return v;
}

/* ---- the fast path: one pass over a flat object --------------------------- */

/* A scan step's outcome: go on, the input is not JSON, or jansson decides. */
enum { SC_OK = 0, SC_INVALID = 1, SC_HANDOVER = 2 };

/* Unescaped copies of string values kept for the judgement. Longer values
 * (no configured name or timestamp is this long) go to jansson. */
#define DEC_STR_CAP 128

/* Byte classes inside a string: 0 plain ASCII, 1 ends or escapes, 2 control
 * character, 3.. a UTF-8 lead byte of that sequence length, 7 never valid. */
static const uint8_t str_class[256] = {
    /* 0x00-0x1f: control characters */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x22 '"' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, /* 0x5c '\\' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    /* 0x80-0xbf: continuation bytes cannot start a character */
    7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
    7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
    7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
    7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
    /* 0xc0-0xc1 overlong; 0xc2-0xdf two bytes */
    7, 7, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    /* 0xe0-0xef three bytes */
    5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
    /* 0xf0-0xf4 four bytes; 0xf5-0xff never valid */
    6, 6, 6, 6, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
};

/* Length of the valid UTF-8 sequence (2..4 bytes) at p, or 0. The rules of
 * jansson's utf8_check_full: no overlong forms, no surrogates, <= U+10FFFF. */
static size_t utf8_seq(const unsigned char *p, const unsigned char *e, uint8_t cls)
{
    size_t n = (size_t)cls - 2;
    if ((size_t)(e - p) < n)
        return 0;
    uint32_t v = cls == 4 ? (p[0] & 0x1Fu) : cls == 5 ? (p[0] & 0x0Fu) : (p[0] & 0x07u);
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0u) != 0x80u)
            return 0;
        v = (v << 6) | (p[i] & 0x3Fu);
    }
    if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    if ((n == 2 && v < 0x80) || (n == 3 && v < 0x800) || (n == 4 && v < 0x10000))
        return 0;
    return n;
}

static int hex4(const unsigned char *p, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= c - '0';
        else if (c >= 'a' && c <= 'f')
            v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            v |= c - 'A' + 10;
        else
            return -1;
    }
    *out = v;
    return 0;
}

static size_t utf8_put(uint32_t cp, unsigned char *t)
{
    if (cp < 0x80) {
        t[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        t[0] = (unsigned char)(0xC0 | (cp >> 6));
        t[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        t[0] = (unsigned char)(0xE0 | (cp >> 12));
        t[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        t[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    t[0] = (unsigned char)(0xF0 | (cp >> 18));
    t[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    t[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    t[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* First byte at or after p that is not plain ASCII string text (a quote, a
 * backslash, a control character or a non-ASCII byte), or e. Eight bytes at
 * a time while they last, read as a little-endian word: the classic "has
 * zero byte" tests below can mark bytes above a real hit, never below one,
 * so the lowest mark is the first such byte. */
static inline const unsigned char *skip_plain(const unsigned char *p, const unsigned char *e)
{
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    while (e - p >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
        uint64_t hit = (((q - ones) & ~q) | ((b - ones) & ~b) | ((w - ones * 0x20) & ~w) | w) & highs;
        if (hit)
            return p + (__builtin_ctzll(hit) >> 3);
        p += 8;
    }
#endif
    while (p < e && str_class[*p] == 0)
        p++;
    return p;
}

/* Append k bytes to the unescaped copy, or mark it as not fitting. */
static inline void copy_out(unsigned char *tmp, size_t *tn, int *fits, const unsigned char *s,
                            size_t k, size_t cap)
{
    if (*tn + k > cap) {
        *fits = 0;
        return;
    }
    memcpy(tmp + *tn, s, k);
    *tn += k;
}

/* Scan a string whose opening quote is at *pp. On SC_OK *pp is past the
 * closing quote, and (s, n) is the text: the raw bytes when it has no
 * escape, else its unescaped copy in tmp (when tmp is NULL or the copy does
 * not fit, *s is NULL: the caller must not need the text). Validation is
 * jansson's: strict UTF-8, no control character, only the JSON escapes,
 * \u surrogates only in valid pairs, and no \u0000 (jansson refuses NUL in
 * keys and, without JSON_ALLOW_NUL, in values). */
static int scan_string_slow(const unsigned char **pp, const unsigned char *e,
                            unsigned char *tmp, size_t cap, const char **s, size_t *n)
{
    const unsigned char *p = *pp + 1;
    const unsigned char *start = p;
    size_t tn = 0;
    int escaped = 0, fits = tmp != NULL;
    for (;;) {
        const unsigned char *run = p;
        p = skip_plain(p, e);
        if (escaped && fits)
            copy_out(tmp, &tn, &fits, run, (size_t)(p - run), cap);
        if (p >= e)
            return SC_INVALID;
        if (*p == '"')
            break;
        uint8_t cls = str_class[*p];
        if (cls == 2 || cls == 7)
            return SC_INVALID;
        if (cls >= 4) {
            size_t k = utf8_seq(p, e, cls);
            if (k == 0)
                return SC_INVALID;
            if (escaped && fits)
                copy_out(tmp, &tn, &fits, p, k, cap);
            p += k;
            continue;
        }
        /* a backslash: the copy starts with the text before it */
        if (!escaped) {
            escaped = 1;
            if (fits)
                copy_out(tmp, &tn, &fits, start, (size_t)(p - start), cap);
        }
        if (e - p < 2)
            return SC_INVALID;
        unsigned char c = p[1];
        unsigned char one = 0;
        uint32_t cp = 0;
        switch (c) {
        case '"': one = '"'; break;
        case '\\': one = '\\'; break;
        case '/': one = '/'; break;
        case 'b': one = '\b'; break;
        case 'f': one = '\f'; break;
        case 'n': one = '\n'; break;
        case 'r': one = '\r'; break;
        case 't': one = '\t'; break;
        case 'u': break;
        default: return SC_INVALID;
        }
        if (c != 'u') {
            if (fits)
                copy_out(tmp, &tn, &fits, &one, 1, cap);
            p += 2;
            continue;
        }
        if (e - p < 6 || hex4(p + 2, &cp) != 0)
            return SC_INVALID;
        size_t adv = 6;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t lo;
            if (e - p < 12 || p[6] != '\\' || p[7] != 'u' || hex4(p + 8, &lo) != 0)
                return SC_INVALID;
            if (lo < 0xDC00 || lo > 0xDFFF)
                return SC_INVALID;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            adv = 12;
        } else if ((cp >= 0xDC00 && cp <= 0xDFFF) || cp == 0) {
            return SC_INVALID;
        }
        if (fits) {
            unsigned char u[4];
            copy_out(tmp, &tn, &fits, u, utf8_put(cp, u), cap);
        }
        p += adv;
    }
    *pp = p + 1;
    if (!escaped) {
        *s = (const char *)start;
        *n = (size_t)(p - start);
    } else {
        *s = fits ? (const char *)tmp : NULL;
        *n = tn;
    }
    return SC_OK;
}

/* scan_string_slow's contract; inline for the common string of plain ASCII. */
static inline int scan_string(const unsigned char **pp, const unsigned char *e,
                              unsigned char *tmp, const char **s, size_t *n)
{
    const unsigned char *start = *pp + 1;
    const unsigned char *p = skip_plain(start, e);
    if (p < e && *p == '"') {
        *s = (const char *)start;
        *n = (size_t)(p - start);
        *pp = p + 1;
        return SC_OK;
    }
    return scan_string_slow(pp, e, tmp, DEC_STR_CAP, s, n);
}

/* Scan a number at *pp with jansson's grammar and limits: integers must fit
 * in int64 (strtoll), reals must not overflow (strtod). want_real asks for
 * the value of a real; an unwanted real is converted only when it could
 * overflow. */
static int scan_number(const unsigned char **pp, const unsigned char *e, dec_value *out,
                       int want_real)
{
    const unsigned char *p = *pp, *start = p;
    int neg = 0;
    if (*p == '-') {
        neg = 1;
        p++;
    }
    if (p >= e)
        return SC_INVALID;
    const unsigned char *int_start = p;
    if (*p == '0') {
        p++;
        if (p < e && *p >= '0' && *p <= '9')
            return SC_INVALID;
    } else if (*p >= '1' && *p <= '9') {
        while (p < e && *p >= '0' && *p <= '9')
            p++;
    } else {
        return SC_INVALID;
    }
    size_t int_digits = (size_t)(p - int_start);
    int is_real = 0, has_exp = 0;
    if (p < e && *p == '.') {
        p++;
        if (p >= e || *p < '0' || *p > '9')
            return SC_INVALID;
        while (p < e && *p >= '0' && *p <= '9')
            p++;
        is_real = 1;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < e && (*p == '+' || *p == '-'))
            p++;
        if (p >= e || *p < '0' || *p > '9')
            return SC_INVALID;
        while (p < e && *p >= '0' && *p <= '9')
            p++;
        is_real = 1;
        has_exp = 1;
    }
    *pp = p;
    if (!is_real) {
        uint64_t v = 0;
        if (int_digits > 19)
            return SC_INVALID;
        for (const unsigned char *q = int_start; q < p; q++) {
            uint64_t dgt = (uint64_t)(*q - '0');
            if (v > (UINT64_MAX - dgt) / 10)
                return SC_INVALID;
            v = v * 10 + dgt;
        }
        uint64_t lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
        if (v > lim)
            return SC_INVALID;
        out->type = V_INTEGER;
        if (neg)
            out->i = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
        else
            out->i = (int64_t)v;
        return SC_OK;
    }
    out->type = V_REAL;
    out->d = 0;
    /* Without an exponent a real below 10^300 cannot overflow. */
    if (!want_real && !has_exp && int_digits < 300)
        return SC_OK;
    char tmp[128];
    size_t n = (size_t)(p - start);
    if (n >= sizeof(tmp))
        return SC_HANDOVER;
    memcpy(tmp, start, n);
    tmp[n] = '\0';
    errno = 0;
    double d = strtod(tmp, NULL);
    if ((d == HUGE_VAL || d == -HUGE_VAL) && errno == ERANGE)
        return SC_INVALID;
    out->d = d;
    return SC_OK;
}

static inline const unsigned char *skip_ws(const unsigned char *p, const unsigned char *e)
{
    while (p < e && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    return p;
}

static int scan_literal(const unsigned char **pp, const unsigned char *e, const char *lit,
                        size_t n)
{
    if ((size_t)(e - *pp) < n || memcmp(*pp, lit, n) != 0)
        return SC_INVALID;
    *pp += n;
    return SC_OK;
}

/* The object's fields, or SC_INVALID / SC_HANDOVER. */
static int scan_object(const unsigned char *p, const unsigned char *e, dec_fields *fs,
                       unsigned char (*tmp)[DEC_STR_CAP], const char *ck, size_t ckn)
{
    unsigned char keybuf[DEC_STR_CAP];
    p = skip_ws(p, e);
    if (p >= e)
        return SC_INVALID;
    if (*p == '[')
        return SC_HANDOVER;
    if (*p != '{')
        return SC_INVALID;
    p = skip_ws(p + 1, e);
    if (p < e && *p == '}') {
        p++;
    } else {
        for (;;) {
            if (p >= e || *p != '"')
                return SC_INVALID;
            const char *k;
            size_t kn;
            int rc = scan_string(&p, e, keybuf, &k, &kn);
            if (rc != SC_OK)
                return rc;
            /* a key too long to unescape here names none of our fields */
            int f = k != NULL ? dec_field_of(k, kn) : -1;
            if (f < 0 && ck != NULL && k != NULL && kn == ckn && memcmp(k, ck, kn) == 0)
                f = F_COHORT; /* section 12: the cohort field, a top-level key */
            p = skip_ws(p, e);
            if (p >= e || *p != ':')
                return SC_INVALID;
            p = skip_ws(p + 1, e);
            if (p >= e)
                return SC_INVALID;
            dec_value scratch;
            dec_value *v = f >= 0 ? &fs->f[f] : &scratch;
            switch (*p) {
            case '"': {
                /* tmp[f] holds only the last value of field f: last key wins */
                rc = scan_string(&p, e, f >= 0 ? tmp[f] : NULL, &v->s, &v->n);
                if (rc != SC_OK)
                    return rc;
                if (f >= 0 && v->s == NULL)
                    return SC_HANDOVER;
                v->type = V_STRING;
                break;
            }
            case 't':
                rc = scan_literal(&p, e, "true", 4);
                v->type = V_TRUE;
                break;
            case 'f':
                rc = scan_literal(&p, e, "false", 5);
                v->type = V_FALSE;
                break;
            case 'n':
                rc = scan_literal(&p, e, "null", 4);
                v->type = V_NULL;
                break;
            case '{':
            case '[': return SC_HANDOVER;
            default:
                if (*p == '-' || (*p >= '0' && *p <= '9'))
                    rc = scan_number(&p, e, v, f == F_DURATION);
                else
                    rc = SC_INVALID;
                break;
            }
            if (rc != SC_OK)
                return rc;
            /* jansson reads one character past a number or a literal and
             * puts it back; a NUL put back is lost, so one NUL right after
             * a number or a literal is skipped. */
            if (v->type != V_STRING && p < e && *p == '\0')
                p++;
            p = skip_ws(p, e);
            if (p >= e)
                return SC_INVALID;
            if (*p == '}') {
                p++;
                break;
            }
            if (*p != ',')
                return SC_INVALID;
            p = skip_ws(p + 1, e);
        }
    }
    p = skip_ws(p, e);
    return p == e ? SC_OK : SC_INVALID;
}

/* ---- the fast path for mapped input: a walk of the paths' trie ------------- */

/* One walk over an event object: values land in the slots of the trie's
 * nodes; everything else is validated and skipped. */
typedef struct mscan {
    dec_trie *t;
    dec_value *v;                      /* per slot */
    unsigned char (*tmp)[DEC_STR_CAP]; /* per slot */
    uint32_t walk;                     /* this walk's number (dec_trie.visit) */
    const unsigned char *env;          /* SLOT_ENV: the string's opening quote */
} mscan;

static int mscan_value(mscan *s, const unsigned char **pp, const unsigned char *e, int node,
                       int depth);

static int child_key(const dec_trie *t, int node, const char *k, size_t n)
{
    for (int c = t->nodes[node].child; c >= 0; c = t->nodes[c].sibling) {
        const dec_node *d = &t->nodes[c];
        /* length and first byte first: most keys differ there, and a key
         * on no path is the common case */
        if (d->len == n && d->index < 0 && n > 0 && d->key[0] == k[0] &&
            memcmp(d->key + 1, k + 1, n - 1) == 0)
            return c;
    }
    return -1;
}

static int child_index(const dec_trie *t, int node, int64_t i)
{
    for (int c = t->nodes[node].child; c >= 0; c = t->nodes[c].sibling)
        if (t->nodes[c].index == i)
            return c;
    return -1;
}

static int mscan_object(mscan *s, const unsigned char **pp, const unsigned char *e, int node,
                        int depth)
{
    unsigned char keybuf[DEC_STR_CAP];
    const unsigned char *p = skip_ws(*pp + 1, e);
    if (p < e && *p == '}') {
        *pp = p + 1;
        return SC_OK;
    }
    for (;;) {
        if (p >= e || *p != '"')
            return SC_INVALID;
        const char *k;
        size_t kn;
        int rc = scan_string(&p, e, keybuf, &k, &kn);
        if (rc != SC_OK)
            return rc;
        /* a key too long to unescape here is on no path */
        int child = node >= 0 && k != NULL ? child_key(s->t, node, k, kn) : -1;
        p = skip_ws(p, e);
        if (p >= e || *p != ':')
            return SC_INVALID;
        p = skip_ws(p + 1, e);
        if (p >= e)
            return SC_INVALID;
        rc = mscan_value(s, &p, e, child, depth + 1);
        if (rc != SC_OK)
            return rc;
        p = skip_ws(p, e);
        if (p >= e)
            return SC_INVALID;
        if (*p == '}') {
            *pp = p + 1;
            return SC_OK;
        }
        if (*p != ',')
            return SC_INVALID;
        p = skip_ws(p + 1, e);
    }
}

static int mscan_array(mscan *s, const unsigned char **pp, const unsigned char *e, int node,
                       int depth)
{
    const unsigned char *p = skip_ws(*pp + 1, e);
    if (p < e && *p == ']') {
        *pp = p + 1;
        return SC_OK;
    }
    for (int64_t i = 0;; i++) {
        if (p >= e)
            return SC_INVALID;
        int rc = mscan_value(s, &p, e, node >= 0 ? child_index(s->t, node, i) : -1, depth + 1);
        if (rc != SC_OK)
            return rc;
        p = skip_ws(p, e);
        if (p >= e)
            return SC_INVALID;
        if (*p == ']') {
            *pp = p + 1;
            return SC_OK;
        }
        if (*p != ',')
            return SC_INVALID;
        p = skip_ws(p + 1, e);
    }
}

/* The value at *pp, for trie node `node` (-1: on no path). */
static int mscan_value(mscan *s, const unsigned char **pp, const unsigned char *e, int node,
                       int depth)
{
    if (depth > MAX_DEPTH)
        return SC_HANDOVER;
    const dec_node *nd = node >= 0 ? &s->t->nodes[node] : NULL;
    int inner = nd != NULL && nd->child >= 0 ? node : -1;
    if (inner >= 0) {
        /* A second visit is a duplicate key above: jansson keeps the last
         * one, which this walk cannot undo. */
        if (s->t->visit[node] == s->walk)
            return SC_HANDOVER;
        s->t->visit[node] = s->walk;
    }
    uint64_t slots = nd != NULL ? nd->slots : 0;
    const unsigned char *p = *pp;
    dec_value val = absent_value;
    int rc;
    switch (*p) {
    case '"':
        if (slots & 1u) {
            s->env = p; /* unescaped later, in full, if it is the line */
            rc = scan_string(&p, e, NULL, &val.s, &val.n);
        } else {
            rc = scan_string(&p, e, slots ? s->tmp[__builtin_ctzll(slots)] : NULL, &val.s,
                             &val.n);
            if (rc == SC_OK && slots && val.s == NULL)
                return SC_HANDOVER;
        }
        val.type = V_STRING;
        break;
    case '{':
        rc = mscan_object(s, &p, e, inner, depth);
        val.type = V_OTHER;
        break;
    case '[':
        rc = mscan_array(s, &p, e, inner, depth);
        val.type = V_OTHER;
        break;
    case 't':
        rc = scan_literal(&p, e, "true", 4);
        val.type = V_TRUE;
        break;
    case 'f':
        rc = scan_literal(&p, e, "false", 5);
        val.type = V_FALSE;
        break;
    case 'n':
        rc = scan_literal(&p, e, "null", 4);
        val.type = V_NULL;
        break;
    default:
        if (*p == '-' || (*p >= '0' && *p <= '9'))
            rc = scan_number(&p, e, &val, slots != 0);
        else
            rc = SC_INVALID;
        break;
    }
    if (rc != SC_OK)
        return rc;
    /* jansson loses one NUL read right after a number or a literal */
    if (val.type != V_STRING && val.type != V_OTHER && p < e && *p == '\0')
        p++;
    for (uint64_t b = slots; b; b &= b - 1)
        s->v[__builtin_ctzll(b)] = val;
    *pp = p;
    return SC_OK;
}

/* Walk one object against a trie. */
static int mscan_doc(mscan *s, const char *buf, size_t len)
{
    const unsigned char *p = (const unsigned char *)buf, *e = p + len;
    s->walk = ++s->t->walks;
    if (s->walk == 0) { /* once in 2^32 walks: start the numbers again */
        memset(s->t->visit, 0, sizeof(s->t->visit));
        s->walk = ++s->t->walks;
    }
    p = skip_ws(p, e);
    if (p >= e)
        return SC_INVALID;
    if (*p == '[')
        return SC_HANDOVER;
    if (*p != '{')
        return SC_INVALID;
    int rc = mscan_value(s, &p, e, 0, 0);
    if (rc != SC_OK)
        return rc;
    p = skip_ws(p, e);
    return p == e ? SC_OK : SC_INVALID;
}

/* One mapped event line, fast. */
static dec_verdict event_fast(const dec_config *cfg, const char *buf, size_t len, sw_event *out)
{
    dec_map *m = cfg->map;
    dec_value v[N_SLOTS];
    unsigned char tmp[N_SLOTS][DEC_STR_CAP];
    for (int k = 0; k < N_SLOTS; k++)
        v[k].type = V_ABSENT;
    mscan s = {&m->event, v, tmp, 0, NULL};
    int rc = mscan_doc(&s, buf, len);
    if (rc == SC_INVALID)
        return DEC_REJ_INVALID_JSON;
    if (rc == SC_HANDOVER)
        return event_ref(cfg, buf, len, out);
    dec_rec r;
    rec_of_slots(m, v, &r);
    return dec_judge(cfg, &r, out);
}

/* A field envelope, fast: the outer object's line string, unescaped into
 * the map's scratch buffer, then the line. */
static dec_verdict field_fast(const dec_config *cfg, const char *buf, size_t len, sw_event *out)
{
    dec_map *m = cfg->map;
    dec_value v[N_SLOTS];
    for (int k = 0; k < N_SLOTS; k++)
        v[k].type = V_ABSENT;
    mscan s = {&m->outer, v, NULL, 0, NULL};
    int rc = mscan_doc(&s, buf, len);
    if (rc == SC_HANDOVER)
        return dec_parse_ref(cfg, buf, len, out);
    if (rc != SC_OK || v[SLOT_ENV].type != V_STRING)
        return DEC_REJ_ENVELOPE;
    const unsigned char *q = s.env, *e = (const unsigned char *)buf + len;
    const char *line;
    size_t n;
    rc = scan_string_slow(&q, e, (unsigned char *)m->scratch, m->scratch_cap, &line, &n);
    if (rc != SC_OK || line == NULL)
        return dec_parse_ref(cfg, buf, len, out);
    return event_fast(cfg, line, n, out);
}

dec_verdict dec_parse(const dec_config *cfg, const char *buf, size_t len, sw_event *out)
{
    if (len > cfg->max_message_bytes)
        return DEC_REJ_TOO_LARGE;
    if (cfg->map != NULL) {
        switch (cfg->map->in.envelope) {
        case SW_ENV_FIELD: return field_fast(cfg, buf, len, out);
        case SW_ENV_SYSLOG:
            if (syslog_line(&buf, &len) != 0)
                return DEC_REJ_ENVELOPE;
            return event_fast(cfg, buf, len, out);
        case SW_ENV_OTLP: return DEC_REJ_ENVELOPE;
        default: return event_fast(cfg, buf, len, out);
        }
    }
    dec_fields fs;
    unsigned char tmp[F_COUNT][DEC_STR_CAP];
    for (int k = 0; k < F_COUNT; k++)
        fs.f[k].type = V_ABSENT;
    const unsigned char *p = (const unsigned char *)buf;
    int rc = scan_object(p, p + len, &fs, tmp, cfg->cohort_key,
                         cfg->cohort_key ? strlen(cfg->cohort_key) : 0);
    if (rc == SC_INVALID)
        return DEC_REJ_INVALID_JSON;
    if (rc == SC_HANDOVER)
        return dec_parse_ref(cfg, buf, len, out);
    dec_rec r;
    rec_of_flat(&fs, &r);
    return dec_judge(cfg, &r, out);
}

/* ---- messages of many events: OTLP ---------------------------------------- */

typedef struct otlp_ctx {
    const dec_config *cfg;
    dec_emit_fn emit;
    void *ud;
    size_t n;
} otlp_ctx;

static void otlp_one(void *ud, json_t *record)
{
    otlp_ctx *c = ud;
    sw_event ev;
    dec_verdict v = record ? judge_tree(c->cfg, record, &ev) : DEC_REJ_ENVELOPE;
    c->emit(c->ud, v, &ev);
    c->n++;
}

static size_t message(const dec_config *cfg, const char *buf, size_t len, dec_emit_fn emit,
                      void *ud, int ref)
{
    sw_event ev;
    if (cfg->map == NULL || cfg->map->in.envelope != SW_ENV_OTLP || len > cfg->max_message_bytes) {
        dec_verdict v = ref ? dec_parse_ref(cfg, buf, len, &ev) : dec_parse(cfg, buf, len, &ev);
        emit(ud, v, &ev);
        return 1;
    }
    otlp_ctx c = {cfg, emit, ud, 0};
    if (otlp_records(buf, len, otlp_one, &c) != 0) {
        emit(ud, DEC_REJ_ENVELOPE, &ev);
        return 1;
    }
    return c.n;
}

size_t dec_message(const dec_config *cfg, const char *buf, size_t len, dec_emit_fn emit,
                   void *ud)
{
    return message(cfg, buf, len, emit, ud, 0);
}

size_t dec_message_ref(const dec_config *cfg, const char *buf, size_t len, dec_emit_fn emit,
                       void *ud)
{
    return message(cfg, buf, len, emit, ud, 1);
}
