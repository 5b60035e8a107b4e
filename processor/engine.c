/* engine.c: event time, evaluation instants, edge-triggered rules and the
 * status, over the window rings. Invariant: every instant up to
 * `evaluated` has been evaluated exactly once, in order, and no event for a
 * second before `evaluated` is ever stored (such an event is late).
 *
 * Windows up to SW_FINE_MAX_WINDOW_S live in a ring of per-second buckets;
 * longer ones in a ring of per-minute buckets, whose window at T ends at
 * the last whole minute before T. */
#include "engine.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../windows/win.h"
#include "buf.h"
#include "cohort_names.h"
#include "config_cohorts.h"
#include "config_env.h"
#include "correlate.h"
#include "output.h"
#include "rules.h"
#include "wmetrics.h"

#define OUTPUT_CAP (256 * 1024)
#define MAX_WIN (2 * WIN_MAX_WINDOWS)
#define MAX_ACKS 256
#define ACK_BY_MAX 63

typedef struct rule_state {
    uint8_t firing;
    const char *blind;        /* the field its window lacks at the last evaluation, or NULL */
    const char *blind_last;   /* the field it lacked the last time it was blind */
    uint64_t blind_instants;  /* evaluations at which it was blind */
    uint8_t latched;          /* firing and waiting for an acknowledgement */
    int64_t fired_at;         /* instant of the current firing */
    int64_t clear_since;      /* first instant of the current run of false, or INT64_MIN */
    char acked_by[ACK_BY_MAX + 1]; /* set by an ack, carried by the next resolved event */
    char acked_id[SW_RULE_NAME_MAX + LABEL_NAME_MAX + 32];
} rule_state;

/* The rollback check of a rule's last firing (docs/semantics.md section
 * 10): it follows the seconds from F while it is pending (not yet verified
 * or given up) or awaiting the rule's resolution (the baseline). */
typedef struct rb_watch {
    uint8_t pending;
    uint8_t awaiting_baseline;
    int64_t fired_at;         /* F */
    int64_t verified_at;      /* INT64_MIN: not verified */
    const char *evidence;     /* of the verification, or NULL */
    uint64_t unavailable;     /* u: fallbacks with rollback.reason in seconds F .. T-1 */
    int64_t last_request;     /* the last second >= F with requests, or INT64_MIN */
} rb_watch;

typedef struct pending_ack {
    int64_t at_s;
    int signoff;  /* a soak sign-off: id is its criterion, handed to on_signoff */
    char id[SW_RULE_NAME_MAX + LABEL_NAME_MAX + 32];
    char by[ACK_BY_MAX + 1];
} pending_ack;

/* Offsets of the data in each bucket, per source (partition or file). */
typedef struct prov_slot {
    int64_t unit; /* the second (or minute) the slot describes */
    int64_t lo, hi;
} prov_slot;

/* A set of window lengths: ascending, each with its ring (fine or coarse)
 * and its index there, and the windows of each rule. */
typedef struct wlayout {
    int n_windows;
    int64_t windows_s[MAX_WIN]; /* ascending */
    int8_t win_coarse[MAX_WIN];
    int8_t win_idx[MAX_WIN];    /* index within its ring */
    int rule_windows[SW_MAX_RULES][1 + SW_MAX_EXTRA_WINDOWS];
} wlayout;

/* Where rules are judged (docs/semantics.md section 12): the whole topic,
 * or one cohort. Each has its own rings over its layout and its own rule
 * states; time (t0, the instants) is the engine's, shared by all. */
typedef struct wset {
    const wlayout *lay;
    const sw_rule *rules;     /* the rules judged here: the config's, or a variant's */
    win_ring *fine, *coarse;  /* coarse: per-minute buckets, NULL if unused */
    rule_state rs[SW_MAX_RULES];
    double rule_value[SW_MAX_RULES];
    const char *name;         /* the cohort's value, or NULL: the whole topic */
} wset;

struct sw_engine {
    const sw_config *cfg;
    sw_emit_fn emit;
    void *ud;
    int text;
    char fingerprint[17];

    wlayout lay;              /* the whole topic's windows */
    wset whole;               /* its rings and rule states */
    wlayout clay;             /* the cohorts' windows: those of the rules scoped to cohorts */
    wset *coh;                /* section 12: max + 1 cohorts (other last), NULL when off */
    int n_coh;
    const char *emit_cohort;  /* the cohort of the trigger being emitted, or NULL */
    uint64_t coh_events[SW_MAX_COHORTS + 1]; /* accepted events by cohort (cohorts on) */
    /* Cohorts kept first come (cohorts.max): the values by id, which id
     * each cohort keeps, and from which instant each cohort is judged
     * (INT64_MAX: not kept yet; INT64_MIN: listed, or `other`). */
    cohort_names *names;      /* NULL unless cohorts.max exceeds the listed values */
    int n_kept;               /* cohorts holding a value, listed ones included */
    uint8_t slot_of_id[COHORT_NAMES_MAX]; /* cohort + 1, 0: not kept */
    int64_t coh_from[SW_MAX_COHORTS + 1];
    char kept_value[SW_MAX_COHORTS][LABEL_NAME_MAX + 1];
    /* Variants (a backtest's sweep): more rule sets over the whole topic's
     * rings, each with its own layout of rule windows and its own states. */
    const sw_rule *const *vrules; /* each the config's n_rules rules */
    wlayout *vlay;
    wset *var;
    int n_var;
    sw_transition_fn on_transition;
    void *on_transition_ud;
    win_counts second;        /* the counts of second T-1 while instant T is evaluated */
    sw_instant_fn on_instant; /* and who follows them (NULL: none) */
    void *on_instant_ud;
    sw_signoff_fn on_signoff; /* sign-offs, at their instant (NULL: counted as unmatched) */
    void *on_signoff_ud;
    int status_window;
    int status_windows[3];

    int started;
    int64_t t0, max_second, evaluated;
    int64_t future_limit;
    int64_t wall_s;           /* live: the wall clock, for input-behind; INT64_MIN unknown */

    rb_watch watch[SW_MAX_RULES];
    int8_t transition[SW_MAX_RULES]; /* at the instant being evaluated: 1 fired, -1 resolved */
    int rb_reason;                   /* label index of rollback.reason */
    uint64_t rb_emitted[SW_MAX_RULES][3]; /* rollback checks emitted, by state */
    sw_corr *corr;            /* derived latency (input.correlate), or NULL */
    int blind_on;             /* mapped input: blind rules are reported */
    int64_t watch_s;          /* replay --start: the watch start, or INT64_MIN */

    pending_ack acks[MAX_ACKS];
    int n_acks;

    int n_sources;
    const char *source_kind;  /* "partitions" or "lines" */
    prov_slot *prov_fine, *prov_coarse;
    int64_t prov_fine_n, prov_coarse_n;
    sw_prov_range *prov_ranges; /* n_sources: a trigger's provenance, being handed over */

    int64_t emit_from, emit_to;
    int have_published, published_applied;
    uint8_t published[SW_MAX_RULES];
    uint8_t cohort_published[SW_MAX_RULES][SW_MAX_COHORTS + 1];

    int status;
    sw_buf out;
    sw_buf status_json;
    sw_engine_stats stats;
};

static int window_index(const wlayout *l, int64_t w)
{
    for (int i = 0; i < l->n_windows; i++)
        if (l->windows_s[i] == w)
            return i;
    return -1;
}

static int window_add(wlayout *l, int64_t w)
{
    if (window_index(l, w) >= 0)
        return 0;
    if (l->n_windows >= MAX_WIN)
        return -E2BIG;
    int i = l->n_windows++;
    while (i > 0 && l->windows_s[i - 1] > w) {
        l->windows_s[i] = l->windows_s[i - 1];
        i--;
    }
    l->windows_s[i] = w;
    return 0;
}

/* The windows of rule r into l, and where they are. */
static int layout_rule(wlayout *l, const sw_rule *rule)
{
    int rc = window_add(l, rule->window_s);
    for (int k = 0; k < rule->n_extra_windows; k++)
        rc |= window_add(l, rule->extra_windows_s[k]);
    return rc;
}

/* Where rule `rule` (index r) finds its windows in l. */
static void layout_index_rule(wlayout *l, int r, const sw_rule *rule)
{
    l->rule_windows[r][0] = window_index(l, rule->window_s);
    for (int k = 0; k < rule->n_extra_windows; k++)
        l->rule_windows[r][1 + k] = window_index(l, rule->extra_windows_s[k]);
}

/* Split a layout's windows over the two rings: which ring, which index. */
static int layout_split(wlayout *l, char *errstr, size_t errlen)
{
    int nf = 0, nc = 0;
    for (int i = 0; i < l->n_windows; i++) {
        int64_t w = l->windows_s[i];
        int is_coarse = w > SW_FINE_MAX_WINDOW_S;
        int *n = is_coarse ? &nc : &nf;
        if (*n == WIN_MAX_WINDOWS) {
            snprintf(errstr, errlen, "more than %d distinct window lengths", WIN_MAX_WINDOWS);
            return -1;
        }
        if (is_coarse && w % 60 != 0) {
            snprintf(errstr, errlen, "window of %" PRId64 " s: windows over %d s must be "
                     "whole minutes", w, SW_FINE_MAX_WINDOW_S);
            return -1;
        }
        l->win_coarse[i] = (int8_t)is_coarse;
        l->win_idx[i] = (int8_t)(*n)++;
    }
    return 0;
}

/* The lengths of a split layout's fine (seconds) and coarse (minutes)
 * rings. */
static void layout_rings(const wlayout *l, int64_t *fine, int *nf, int64_t *coarse, int *nc)
{
    *nf = *nc = 0;
    for (int i = 0; i < l->n_windows; i++) {
        if (l->win_coarse[i])
            coarse[(*nc)++] = l->windows_s[i] / 60;
        else
            fine[(*nf)++] = l->windows_s[i];
    }
}

/* A set's rules and states, none firing. */
static void wset_reset(wset *ws, const wlayout *l, const sw_rule *rules, const char *name)
{
    ws->lay = l;
    ws->rules = rules;
    ws->name = name;
    for (int r = 0; r < SW_MAX_RULES; r++) {
        ws->rule_value[r] = NAN;
        ws->rs[r].clear_since = INT64_MIN;
    }
}

/* A set's rings over its (split) layout, and its rules not firing. */
static int wset_init(wset *ws, const wlayout *l, const sw_config *cfg, const char *name,
                     char *errstr, size_t errlen)
{
    int64_t fine[WIN_MAX_WINDOWS], coarse[WIN_MAX_WINDOWS];
    int nf, nc;
    wset_reset(ws, l, cfg->rules, name);
    layout_rings(l, fine, &nf, coarse, &nc);
    ws->fine = win_ring_create(fine, nf, cfg->allowed_lateness_s, errstr, errlen);
    if (ws->fine == NULL)
        return -1;
    if (nc) {
        ws->coarse = win_ring_create(coarse, nc, cfg->allowed_lateness_s / 60 + 2, errstr,
                                     errlen);
        if (ws->coarse == NULL)
            return -1;
    }
    return 0;
}

static void wset_free(wset *ws)
{
    win_ring_destroy(ws->fine);
    win_ring_destroy(ws->coarse);
}

/* The whole topic's layout: the status windows and the windows of its
 * rules; the cohorts': the windows of the rules scoped to cohorts. */
static int layouts_make(sw_engine *e, char *errstr, size_t errlen)
{
    const sw_config *cfg = e->cfg;
    int rc = window_add(&e->lay, cfg->status_window_s);
    for (int i = 0; i < 3; i++)
        rc |= window_add(&e->lay, cfg->status_windows_s[i]);
    for (int r = 0; r < cfg->n_rules; r++)
        rc |= layout_rule(cfg->rules[r].cohort_scope == SW_SCOPE_WHOLE ? &e->lay : &e->clay,
                          &cfg->rules[r]);
    if (cfg->cohorts.enabled) /* each cohort's status metrics (section 12) */
        rc |= window_add(&e->clay, cfg->status_window_s);
    for (int v = 0; v < e->n_var; v++) /* a sweep's windows share the rings */
        for (int r = 0; r < cfg->n_rules; r++)
            rc |= layout_rule(&e->lay, &e->vrules[v][r]);
    if (rc) {
        snprintf(errstr, errlen, "more than %d distinct window lengths", MAX_WIN);
        return -1;
    }
    if (layout_split(&e->lay, errstr, errlen) != 0 || layout_split(&e->clay, errstr, errlen) != 0)
        return -1;
    for (int r = 0; r < cfg->n_rules; r++)
        layout_index_rule(cfg->rules[r].cohort_scope == SW_SCOPE_WHOLE ? &e->lay : &e->clay, r,
                          &cfg->rules[r]);
    for (int v = 0; v < e->n_var; v++) { /* the same windows, split the same way */
        e->vlay[v] = e->lay;
        for (int r = 0; r < cfg->n_rules; r++)
            layout_index_rule(&e->vlay[v], r, &e->vrules[v][r]);
    }
    e->status_window = window_index(&e->lay, cfg->status_window_s);
    for (int i = 0; i < 3; i++)
        e->status_windows[i] = window_index(&e->lay, cfg->status_windows_s[i]);
    return 0;
}

/* A variant judges the config's rules, with other parameters or windows,
 * over the whole topic. Returns 0, or -1 with errstr. */
static int variant_check(const sw_config *base, const sw_rule *v, int i, char *errstr,
                         size_t errlen)
{
    const char *why = NULL;
    if (base->cohorts.enabled)
        why = "cohorts are not swept";
    for (int r = 0; why == NULL && r < base->n_rules; r++)
        if (v[r].cohort_scope != SW_SCOPE_WHOLE || strcmp(v[r].name, base->rules[r].name) != 0)
            why = "not the config's rules";
    if (why) {
        snprintf(errstr, errlen, "variant %d: %s", i + 1, why);
        return -1;
    }
    return 0;
}

/* The variants' sets: the whole topic's rings, their own layouts and
 * states. */
static int variants_create(sw_engine *e, char *errstr, size_t errlen)
{
    if (e->n_var == 0)
        return 0;
    e->var = calloc((size_t)e->n_var, sizeof(*e->var));
    if (e->var == NULL) {
        snprintf(errstr, errlen, "out of memory for %d variants", e->n_var);
        return -1;
    }
    for (int v = 0; v < e->n_var; v++) {
        wset *ws = &e->var[v];
        wset_reset(ws, &e->vlay[v], e->vrules[v], NULL);
        ws->fine = e->whole.fine; /* shared, owned by the whole topic's set */
        ws->coarse = e->whole.coarse;
    }
    return 0;
}

/* The cohorts' sets (section 12), when a rule is scoped to cohorts. */
static int cohorts_create(sw_engine *e, char *errstr, size_t errlen)
{
    const sw_config *cfg = e->cfg;
    if (!cfg->cohorts.enabled)
        return 0;
    e->n_coh = cfg->cohorts.max + 1;
    e->n_kept = cfg->cohorts.values.n;
    e->coh = calloc((size_t)e->n_coh, sizeof(*e->coh));
    if (cfg->cohorts.max > cfg->cohorts.values.n)
        e->names = cohort_names_create(&cfg->cohorts.values);
    if (e->coh == NULL || (cfg->cohorts.max > cfg->cohorts.values.n && e->names == NULL)) {
        snprintf(errstr, errlen, "out of memory for %d cohorts", e->n_coh);
        e->n_coh = 0;
        return -1;
    }
    for (int c = 0; c < e->n_coh; c++) {
        const char *name = config_cohort_name(&cfg->cohorts, c);
        e->coh_from[c] = name ? INT64_MIN : INT64_MAX;
        if (wset_init(&e->coh[c], &e->clay, cfg, name ? name : e->kept_value[c], errstr,
                      errlen) != 0)
            return -1;
    }
    return 0;
}

sw_engine *sw_engine_create(const sw_config *cfg, sw_emit_fn emit, void *ud,
                            char *errstr, size_t errlen)
{
    return sw_engine_create_variants(cfg, NULL, 0, emit, ud, errstr, errlen);
}

sw_engine *sw_engine_create_variants(const sw_config *cfg, const sw_rule *const *variants,
                                     int n_variants, sw_emit_fn emit, void *ud, char *errstr,
                                     size_t errlen)
{
    for (int v = 0; v < n_variants; v++)
        if (variant_check(cfg, variants[v], v, errstr, errlen) != 0)
            return NULL;
    sw_engine *e = calloc(1, sizeof(*e));
    if (e == NULL || (n_variants > 0 &&
                      (e->vlay = calloc((size_t)n_variants, sizeof(*e->vlay))) == NULL)) {
        free(e);
        snprintf(errstr, errlen, "out of memory");
        return NULL;
    }
    e->vrules = variants;
    e->n_var = n_variants;
    e->cfg = cfg;
    e->emit = emit;
    e->ud = ud;
    e->status = -1;
    e->emit_from = INT64_MIN;
    e->emit_to = -1;
    e->future_limit = INT64_MAX;
    e->wall_s = INT64_MIN;
    e->t0 = e->max_second = e->evaluated = INT64_MIN;
    e->watch_s = INT64_MIN;
    buf_init(&e->out, OUTPUT_CAP);
    buf_init(&e->status_json, OUTPUT_CAP);
    /* Whole now: rendering must never allocate, or memory running short
     * hours later would drop a trigger (counted, but not written). */
    if (buf_preallocate(&e->out) != 0 || buf_preallocate(&e->status_json) != 0) {
        snprintf(errstr, errlen, "out of memory for the output buffers");
        goto err;
    }
    config_fingerprint(cfg, e->fingerprint);
    if (layouts_make(e, errstr, errlen) != 0 ||
        wset_init(&e->whole, &e->lay, cfg, NULL, errstr, errlen) != 0 ||
        cohorts_create(e, errstr, errlen) != 0 || variants_create(e, errstr, errlen) != 0)
        goto err;
    e->blind_on = !config_input_is_flat(&cfg->input);
    e->rb_reason = labels_lookup(&cfg->reasons, cfg->rollback_reason, strlen(cfg->rollback_reason));
    if (cfg->input.correlate) {
        e->corr = corr_create(cfg->input.table_size, cfg->input.max_latency_ms);
        if (e->corr == NULL) {
            snprintf(errstr, errlen, "out of memory for input.correlate.table_size %" PRId64,
                     cfg->input.table_size);
            goto err;
        }
    }
    return e;
err:
    sw_engine_destroy(e);
    return NULL;
}

void sw_engine_destroy(sw_engine *e)
{
    if (e == NULL)
        return;
    wset_free(&e->whole);
    for (int c = 0; c < e->n_coh; c++)
        wset_free(&e->coh[c]);
    free(e->coh);
    cohort_names_destroy(e->names);
    free(e->var); /* the variants' rings are the whole topic's */
    free(e->vlay);
    corr_destroy(e->corr);
    free(e->prov_fine);
    free(e->prov_coarse);
    free(e->prov_ranges);
    buf_free(&e->out);
    buf_free(&e->status_json);
    free(e);
}

void sw_engine_set_transition_hook(sw_engine *e, sw_transition_fn fn, void *ud)
{
    e->on_transition = fn;
    e->on_transition_ud = ud;
}

void sw_engine_set_instant_hook(sw_engine *e, sw_instant_fn fn, void *ud)
{
    e->on_instant = fn;
    e->on_instant_ud = ud;
}

void sw_engine_set_signoff_hook(sw_engine *e, sw_signoff_fn fn, void *ud)
{
    e->on_signoff = fn;
    e->on_signoff_ud = ud;
}

void sw_engine_set_text(sw_engine *e, int text)
{
    e->text = text;
}

void sw_engine_set_output_cap(sw_engine *e, size_t cap)
{
    buf_reset(&e->out);
    buf_reset(&e->status_json);
    e->out.cap = e->status_json.cap = cap;
}

void sw_engine_set_future_limit(sw_engine *e, int64_t max_second)
{
    e->future_limit = max_second;
}

void sw_engine_set_wall_clock(sw_engine *e, int64_t wall_s)
{
    e->wall_s = wall_s;
}

int sw_engine_set_sources(sw_engine *e, int n, const char *kind)
{
    if (n < 1 || n > 4096 || e->started)
        return -EINVAL;
    e->n_sources = n;
    e->source_kind = kind;
    e->prov_fine_n = win_ring_span(e->whole.fine);
    /* A cohort's rules may read minutes where the whole topic does not. */
    const win_ring *coarse = e->whole.coarse ? e->whole.coarse
                             : e->n_coh     ? e->coh[0].coarse
                                            : NULL;
    e->prov_fine = malloc((size_t)(e->prov_fine_n * n) * sizeof(prov_slot));
    if (coarse) {
        e->prov_coarse_n = win_ring_span(coarse);
        if (e->whole.coarse && e->n_coh && e->coh[0].coarse &&
            win_ring_span(e->coh[0].coarse) > e->prov_coarse_n)
            e->prov_coarse_n = win_ring_span(e->coh[0].coarse);
        e->prov_coarse = malloc((size_t)(e->prov_coarse_n * n) * sizeof(prov_slot));
    }
    e->prov_ranges = malloc((size_t)n * sizeof(sw_prov_range));
    if (e->prov_fine == NULL || (coarse && e->prov_coarse == NULL) || e->prov_ranges == NULL)
        return -ENOMEM;
    for (int64_t i = 0; i < e->prov_fine_n * n; i++)
        e->prov_fine[i].unit = INT64_MIN;
    for (int64_t i = 0; i < e->prov_coarse_n * n; i++)
        e->prov_coarse[i].unit = INT64_MIN;
    return 0;
}

void sw_engine_set_emit_range(sw_engine *e, int64_t from_s, int64_t to_s,
                              const uint8_t *published)
{
    e->emit_from = from_s;
    e->emit_to = to_s;
    e->have_published = published != NULL;
    e->published_applied = 0;
    if (published)
        memcpy(e->published, published, (size_t)e->cfg->n_rules);
    memset(e->cohort_published, 0, sizeof(e->cohort_published));
}

void sw_engine_set_published_cohorts(sw_engine *e, const uint8_t (*firing)[SW_MAX_COHORTS + 1])
{
    memcpy(e->cohort_published, firing, sizeof(e->cohort_published));
}

static int queue_ack(sw_engine *e, const char *trigger_id, const char *by, int64_t at_s,
                     int signoff)
{
    if (e->n_acks >= MAX_ACKS)
        return -ENOBUFS;
    if (strlen(trigger_id) >= sizeof(e->acks[0].id) || strlen(by) > ACK_BY_MAX)
        return -ENAMETOOLONG;
    /* An ack applies at an instant not yet evaluated. */
    if (e->started && at_s <= e->evaluated)
        at_s = e->evaluated + 1;
    int i = e->n_acks++;
    while (i > 0 && e->acks[i - 1].at_s > at_s) {
        e->acks[i] = e->acks[i - 1];
        i--;
    }
    e->acks[i].at_s = at_s;
    e->acks[i].signoff = signoff;
    strcpy(e->acks[i].id, trigger_id);
    strcpy(e->acks[i].by, by);
    return 0;
}

int sw_engine_ack(sw_engine *e, const char *trigger_id, const char *by, int64_t at_s)
{
    return queue_ack(e, trigger_id, by, at_s, 0);
}

int sw_engine_signoff(sw_engine *e, const char *criterion, const char *by, int64_t at_s)
{
    return queue_ack(e, criterion, by, at_s, 1);
}

static void emit_buf(sw_engine *e, sw_out_type type, int64_t T, int rule, int firing,
                     const char *key)
{
    sw_output o;
    o.type = type;
    o.at_s = T;
    o.rule = rule;
    o.firing = firing;
    o.key = key;
    o.json = e->out.data;
    o.json_len = e->out.len;
    o.cohort = e->emit_cohort;
    e->stats.outputs++;
    if (type == SW_OUT_TRIGGER)
        e->stats.triggers++;
    else if (type == SW_OUT_ROLLBACK_CHECK)
        e->stats.rollback_checks++;
    else
        e->stats.statuses++;
    if (e->emit)
        e->emit(e->ud, &o);
}

static win_view view_of(const wset *ws, int gi)
{
    win_view v = win_ring_window(ws->lay->win_coarse[gi] ? ws->coarse : ws->fine,
                                 ws->lay->win_idx[gi]);
    v.window_s = ws->lay->windows_s[gi];
    return v;
}

/* The metrics of window gi at this instant, computed at most once per
 * instant (twice if the percentiles are asked for later). have[gi]: 0 not
 * yet, 1 without percentiles, 2 with. */
static const sw_wm *wm_at(const wset *ws, sw_wm *wms, int *have, int gi, int pct)
{
    if (have[gi] < 1 + pct) {
        win_view v = view_of(ws, gi);
        wm_compute(&v, &wms[gi], pct);
        have[gi] = 1 + pct;
    }
    return &wms[gi];
}

/* The slot of a unit (second or minute) in a table of nslots, before the
 * epoch too. */
static int64_t prov_index(int64_t unit, int64_t nslots)
{
    return unit - sw_floor_div(unit, nslots) * nslots;
}

/* Widen [*lo, *hi] (-1: empty) by the offsets of source p's data in
 * window gi at T. */
static void prov_widen(const sw_engine *e, const wlayout *l, int gi, int64_t T, int p,
                       int64_t *lo, int64_t *hi)
{
    int coarse = l->win_coarse[gi];
    const prov_slot *tab = coarse ? e->prov_coarse : e->prov_fine;
    int64_t nslots = coarse ? e->prov_coarse_n : e->prov_fine_n;
    int64_t end = coarse ? sw_floor_div(T, 60) : T; /* exclusive, in units */
    int64_t first = end - (coarse ? l->windows_s[gi] / 60 : l->windows_s[gi]);
    for (int64_t u = first; u < end; u++) {
        const prov_slot *ps = &tab[prov_index(u, nslots) * e->n_sources + p];
        if (ps->unit != u)
            continue;
        if (*lo < 0 || ps->lo < *lo)
            *lo = ps->lo;
        if (ps->hi > *hi)
            *hi = ps->hi;
    }
}

/* Rule r's provenance at T: per source, the union of its offsets over the
 * rule's windows, all the data the decision read. The ranges are borrowed
 * from the engine until the next trigger. */
static sw_provenance provenance_of(sw_engine *e, const wlayout *l, int r, int64_t T)
{
    sw_provenance p = {e->fingerprint, NULL, e->prov_ranges, 0};
    if (e->n_sources == 0)
        return p;
    p.source_kind = e->source_kind;
    for (int src = 0; src < e->n_sources; src++) {
        int64_t lo = -1, hi = -1;
        for (int k = 0; k <= e->cfg->rules[r].n_extra_windows; k++)
            prov_widen(e, l, l->rule_windows[r][k], T, src, &lo, &hi);
        if (lo < 0)
            continue;
        e->prov_ranges[p.n_ranges++] = (sw_prov_range){src, lo, hi};
    }
    return p;
}

/* Release rule r's state in set ws when ack a names its current firing
 * (RULE:AT_MS, or RULE:COHORT:AT_MS in a cohort); a firing recovered at a
 * restart, by any id of the rule (and cohort). Returns 1 when released. */
static int ack_release(const sw_engine *e, wset *ws, int r, const pending_ack *a)
{
    rule_state *st = &ws->rs[r];
    char id[sizeof(st->acked_id)];
    if (!st->firing)
        return 0;
    if (st->fired_at == INT64_MIN) {
        output_trigger_id(e->cfg->rules[r].name, ws->name, 0, id, sizeof(id));
        size_t n = strlen(id) - 1; /* up to and including the last ':' */
        if (strncmp(a->id, id, n) != 0)
            return 0;
    } else {
        output_trigger_id(e->cfg->rules[r].name, ws->name, st->fired_at, id, sizeof(id));
        if (strcmp(id, a->id) != 0)
            return 0;
    }
    st->latched = 0;
    strcpy(st->acked_id, a->id);
    strcpy(st->acked_by, a->by);
    return 1;
}

/* Apply the acknowledgements due at T: a latched rule whose current firing
 * the ack names is released; anything else is counted as unmatched. */
static void apply_acks(sw_engine *e, int64_t T)
{
    int used = 0;
    while (used < e->n_acks && e->acks[used].at_s <= T) {
        const pending_ack *a = &e->acks[used++];
        int matched = 0;
        if (a->signoff) {
            if (e->on_signoff)
                e->on_signoff(e->on_signoff_ud, a->id, a->by, T);
            else
                e->stats.acks_unmatched++;
            continue;
        }
        for (int r = 0; r < e->cfg->n_rules; r++) {
            if (e->cfg->rules[r].cohort_scope == SW_SCOPE_WHOLE) {
                matched |= ack_release(e, &e->whole, r, a);
                continue;
            }
            for (int c = 0; c < e->n_coh; c++)
                if (SW_RULE_IN_COHORT(&e->cfg->rules[r], c))
                    matched |= ack_release(e, &e->coh[c], r, a);
        }
        if (matched)
            e->stats.acks++;
        else
            e->stats.acks_unmatched++;
    }
    memmove(e->acks, e->acks + used, (size_t)(e->n_acks - used) * sizeof(e->acks[0]));
    e->n_acks -= used;
}

/* Count and log an output event not written; the state it reports stands. */
static void render_failed(sw_engine *e, const char *what, int64_t T)
{
    char at[40];
    dec_rfc3339_format(T * 1000, at, sizeof(at));
    e->stats.render_failures++;
    fprintf(stderr, "soakwatch: %s at %s not written: larger than the output cap of %zu bytes "
            "(%" PRIu64 " not written so far)\n", what, at, e->out.cap, e->stats.render_failures);
}

/* Rule r's condition at T over each of its windows: their values and
 * samples (and the confidence interval of the first) go into t. *cond: it
 * holds in every window; *judged: no window lacked samples or a value. */
static void rule_judge(sw_engine *e, wset *ws, int r, sw_wm *wms, int *have,
                       sw_trigger_info *t, int *cond, int *judged)
{
    const sw_rule *rule = &ws->rules[r];
    rule_state *st = &ws->rs[r];
    double threshold = st->firing && rule->has_resolve_threshold ? rule->resolve_threshold
                                                                  : rule->threshold;
    *cond = 1;
    *judged = 1;
    t->n_windows = 1 + rule->n_extra_windows;
    for (int k = 0; k < t->n_windows; k++) {
        sw_trigger_window *tw = &t->windows[k];
        const sw_wm *w = wm_at(ws, wms, have, ws->lay->rule_windows[r][k],
                               wm_needs_percentiles(rule->metric));
        double lo, hi;
        int c = rule_condition_at(rule, w, threshold, &tw->value, &tw->samples, &lo, &hi);
        tw->window_s = w->window_s;
        if (k == 0) {
            t->interval_lo = lo;
            t->interval_hi = hi;
            /* Blindness is reported for mapped input only: the flat
             * contract's output stays as it was (docs/semantics.md 9). */
            st->blind = e->blind_on ? wm_blind(w, rule->metric) : NULL;
        }
        if (c < 0)
            *judged = 0;
        *cond = *cond && c > 0;
    }
    t->value = t->windows[0].value;
    t->samples = t->windows[0].samples;
}

/* The rule's state machine (docs/semantics.md sections 5 and 8): fire on
 * the condition; resolve once it has been clear for keep_firing_for_s and
 * no latch holds it. Returns 1 on a transition. */
static int rule_step(const sw_rule *rule, rule_state *st, int64_t T, int cond, int judged)
{
    if (!st->firing) {
        if (!cond)
            return 0;
        st->firing = 1;
        st->latched = (uint8_t)rule->latch;
        st->fired_at = T;
        st->clear_since = INT64_MIN;
        st->acked_by[0] = '\0';
        return 1;
    }
    if (cond || (rule->hold_when_no_data && !judged)) {
        st->clear_since = INT64_MIN;
        return 0;
    }
    if (st->clear_since == INT64_MIN)
        st->clear_since = T;
    if (st->latched || T - st->clear_since < rule->keep_firing_for_s)
        return 0;
    st->firing = 0;
    st->clear_since = INT64_MIN;
    return 1;
}

/* Render rule r's transition at T (t holds its values) and emit it; never
 * half an event: a render failure is counted and nothing is emitted. */
static void emit_trigger(sw_engine *e, wset *ws, int r, sw_trigger_info *t)
{
    const sw_rule *rule = &e->cfg->rules[r];
    rule_state *st = &ws->rs[r];
    sw_provenance prov;
    if (!st->firing && st->acked_by[0]) {
        t->acked_id = st->acked_id;
        t->acked_by = st->acked_by;
    }
    if (e->cfg->provenance && !e->text) {
        prov = provenance_of(e, ws->lay, r, t->at_s);
        t->provenance = &prov;
    }
    buf_reset(&e->out);
    int rc = e->text ? output_trigger_text(&e->out, e->cfg, t)
                     : output_trigger_json(&e->out, e->cfg, t);
    if (!e->text && !st->firing)
        st->acked_by[0] = '\0'; /* told, by this resolution */
    if (rc != 0) {
        char what[SW_RULE_NAME_MAX + 32];
        snprintf(what, sizeof(what), "rollback trigger of %s", rule->name);
        render_failed(e, what, t->at_s);
        return;
    }
    e->emit_cohort = ws->name;
    emit_buf(e, SW_OUT_TRIGGER, t->at_s, r, st->firing, rule->name);
    e->emit_cohort = NULL;
}

/* Evaluate one rule at T in one set (the whole topic or a cohort); emits
 * its transition, if any. Returns 1 on a transition. */
static int eval_rule(sw_engine *e, wset *ws, int r, int64_t T, sw_wm *wms, int *have,
                     int emitting)
{
    const sw_rule *rule = &ws->rules[r];
    rule_state *st = &ws->rs[r];
    for (int k = 0; k <= rule->n_extra_windows; k++) {
        int gi = ws->lay->rule_windows[r][k];
        if (T - ws->lay->windows_s[gi] < e->t0)
            return 0; /* a window not fully observed yet */
    }
    sw_trigger_info t;
    memset(&t, 0, sizeof(t));
    t.rule = rule;
    t.at_s = T;
    t.cohort = ws->name;
    int cond, judged;
    rule_judge(e, ws, r, wms, have, &t, &cond, &judged);
    ws->rule_value[r] = t.value;
    if (st->blind) {
        st->blind_instants++;
        st->blind_last = st->blind;
    }
    if (!rule_step(rule, st, T, cond, judged))
        return 0;
    t.firing = st->firing;
    if (emitting)
        emit_trigger(e, ws, r, &t);
    return 1;
}

/* A comparison rule's condition at T (section 12): the effect d of the
 * treatment over the control, the samples of both, and the one-sided test
 * in the direction of its op against alpha spent evenly over the horizon. */
static void compare_judge(const sw_engine *e, int r, sw_compare_info *ci, sw_trigger_info *t,
                          int *cond, int *judged)
{
    const sw_rule *rule = &e->cfg->rules[r];
    const wset *wt = &e->coh[rule->cmp_treatment], *wc = &e->coh[rule->cmp_control];
    int gi = e->clay.rule_windows[r][0];
    win_view vt = view_of(wt, gi), vc = view_of(wc, gi);
    sw_wm mt, mc;
    wm_compute(&vt, &mt, 0);
    wm_compute(&vc, &mc, 0);
    int higher = rule->op == OP_GT || rule->op == OP_GE;
    double threshold = wt->rs[r].firing && rule->has_resolve_threshold ? rule->resolve_threshold
                                                                       : rule->threshold;
    ci->treatment = wt->name;
    ci->control = wc->name;
    ci->value_t = wm_get(&mt, rule->metric, 0);
    ci->value_c = wm_get(&mc, rule->metric, 0);
    ci->samples_t = wm_samples(&mt, rule->metric);
    ci->samples_c = wm_samples(&mc, rule->metric);
    ci->alpha_per_look = rule->cmp_alpha / (double)rule->cmp_horizon_s;
    double z = NAN;
    int tested = rule->metric == M_LATENCY_MEAN_MS
                     ? compare_hist(vt.hist, vc.hist, WIN_HIST_BINS, higher, &z)
                     : compare_rates(rule->metric, &mt, &mc, higher, &z);
    ci->statistic = tested ? z : NAN;
    ci->p_value = tested ? normal_upper_p(z) : NAN;
    t->value = ci->value_t - ci->value_c;
    t->samples = ci->samples_t;
    t->windows[0].window_s = rule->window_s;
    t->n_windows = 1;
    *judged = ci->samples_t >= (uint64_t)rule->min_samples &&
              ci->samples_c >= (uint64_t)rule->min_samples && !isnan(t->value);
    *cond = *judged && rule_compare(t->value, rule->op, threshold) && tested && z > 0 &&
            ci->p_value <= ci->alpha_per_look;
}

/* A comparison rule at T: one state, kept in its treatment's set. */
static void eval_compare(sw_engine *e, int r, int64_t T, int emitting)
{
    const sw_rule *rule = &e->cfg->rules[r];
    wset *ws = &e->coh[rule->cmp_treatment];
    rule_state *st = &ws->rs[r];
    if (T - rule->window_s < e->t0)
        return; /* the window not fully observed yet */
    sw_trigger_info t;
    sw_compare_info ci;
    memset(&t, 0, sizeof(t));
    t.rule = rule;
    t.at_s = T;
    t.cohort = ws->name;
    t.cmp = &ci;
    int cond, judged;
    compare_judge(e, r, &ci, &t, &cond, &judged);
    ws->rule_value[r] = t.value;
    if (!rule_step(rule, st, T, cond, judged))
        return;
    t.firing = st->firing;
    if (emitting)
        emit_trigger(e, ws, r, &t);
}

/* Rule r at T: over the whole topic, or in each cohort of its scope, in
 * cohort order (section 12). Cohort sets' metrics are computed per set. */
static void eval_rule_sets(sw_engine *e, int r, int64_t T, sw_wm *wms, int *have,
                           int emitting)
{
    const sw_rule *rule = &e->cfg->rules[r];
    if (rule->cohort_scope == SW_SCOPE_WHOLE) {
        if (!eval_rule(e, &e->whole, r, T, wms, have, emitting))
            return;
        e->transition[r] = e->whole.rs[r].firing ? 1 : -1;
        if (e->on_transition)
            e->on_transition(e->on_transition_ud, 0, r, T, e->whole.rs[r].firing);
        return;
    }
    if (rule->cohort_scope == SW_SCOPE_COMPARE) {
        eval_compare(e, r, T, emitting);
        return;
    }
    for (int c = 0; c < e->n_coh; c++) {
        if (!SW_RULE_IN_COHORT(rule, c) || T < e->coh_from[c])
            continue;
        sw_wm cwms[MAX_WIN];
        int chave[MAX_WIN] = {0};
        eval_rule(e, &e->coh[c], r, T, cwms, chave, emitting);
    }
}

/* ---- the rollback check (docs/semantics.md section 10) ---------------- */

/* At T the counts of second T-1 are final: every watch that began before
 * T takes them. */
static void watches_take_second(sw_engine *e, int64_t T)
{
    for (int r = 0; r < e->cfg->n_rules; r++) {
        rb_watch *w = &e->watch[r];
        if (!(w->pending || w->awaiting_baseline) || w->fired_at >= T)
            continue;
        if (e->rb_reason < WIN_MAX_LABELS + 1)
            w->unavailable += e->second.reasons[e->rb_reason];
        if (e->second.requests > 0)
            w->last_request = T - 1;
    }
}

/* q(T): consecutive seconds without requests ending at T-1, from F on. */
static int64_t watch_quiet(const rb_watch *w, int64_t T)
{
    int64_t from = w->last_request == INT64_MIN ? w->fired_at : w->last_request + 1;
    if (from < w->fired_at)
        from = w->fired_at;
    return T - from;
}

static void emit_check(sw_engine *e, int r, const rb_watch *w, int state, int64_t T,
                       int emitting)
{
    if (!emitting)
        return;
    const sw_rule *rule = &e->cfg->rules[r];
    sw_check_info c;
    c.rule = rule;
    c.state = state;
    c.at_s = T;
    c.fired_at_s = w->fired_at;
    c.unavailable = w->unavailable;
    c.quiet_s = watch_quiet(w, T);
    c.evidence = state == SW_CHECK_NOT_VERIFIED ? NULL : w->evidence;
    c.verified_at_s = w->verified_at;
    buf_reset(&e->out);
    int rc = e->text ? output_check_text(&e->out, e->cfg, &c)
                     : output_check_json(&e->out, e->cfg, &c);
    if (rc != 0) {
        char what[SW_RULE_NAME_MAX + 32];
        snprintf(what, sizeof(what), "rollback check of %s", rule->name);
        render_failed(e, what, T);
        return;
    }
    e->rb_emitted[r][state]++;
    emit_buf(e, SW_OUT_ROLLBACK_CHECK, T, r, state, rule->name);
}

/* Rule r's watch at T, after every rule's transition: a firing replaces
 * a pending watch (given up now) with a new one; a pending watch is
 * verified, or given up at F + verify_within_s; a resolution reports the
 * baseline of the last firing's watch. */
static void watch_step(sw_engine *e, int r, int64_t T, int emitting)
{
    const sw_config *cfg = e->cfg;
    rb_watch *w = &e->watch[r];
    if (e->transition[r] > 0) {
        if (w->pending)
            emit_check(e, r, w, SW_CHECK_NOT_VERIFIED, T, emitting);
        w->pending = w->awaiting_baseline = 1;
        w->fired_at = T;
        w->verified_at = INT64_MIN;
        w->evidence = NULL;
        w->unavailable = 0;
        w->last_request = INT64_MIN;
        return;
    }
    if (w->pending) {
        int reason = w->unavailable >= (uint64_t)cfg->rollback_unavailable_min;
        if (reason || watch_quiet(w, T) >= cfg->rollback_quiet_s) {
            w->pending = 0;
            w->verified_at = T;
            w->evidence = reason ? cfg->rollback_reason : "no_requests";
            emit_check(e, r, w, SW_CHECK_VERIFIED, T, emitting);
        } else if (T >= w->fired_at + cfg->rollback_verify_within_s) {
            w->pending = 0;
            emit_check(e, r, w, SW_CHECK_NOT_VERIFIED, T, emitting);
        }
    }
    if (e->transition[r] < 0 && w->awaiting_baseline) {
        w->awaiting_baseline = 0;
        emit_check(e, r, w, SW_CHECK_BASELINE, T, emitting);
    }
}

/* The data-quality state of the status window (docs/semantics.md). */
static const char *quality_of(const sw_engine *e, const sw_wm *w, int64_t T)
{
    const sw_config *cfg = e->cfg;
    if (e->wall_s != INT64_MIN && e->wall_s - T > cfg->quality_max_watermark_lag_s)
        return "input_behind";
    if (w->requests == 0 && w->outcomes == 0)
        return "no_traffic";
    if (w->outcomes_obs < (uint64_t)cfg->status_min_outcomes)
        return "too_few_samples";
    return "ok";
}

/* One rule state takes its published firing state. */
static void publish_state(rule_state *st, int firing, int latch)
{
    if (st->firing != firing)
        st->clear_since = INT64_MIN;
    st->firing = (uint8_t)firing;
    st->latched = (uint8_t)(firing && latch);
    /* When it fired is not known here (it may be long before the history
     * read back): an ack naming the rule's firing matches. */
    if (firing)
        st->fired_at = INT64_MIN;
}

/* Live restart: at the first emitted instant the rules take the firing
 * state last published on the output topic (sw_engine_set_emit_range), in
 * the whole topic and in each cohort. */
static void apply_published(sw_engine *e)
{
    const sw_config *cfg = e->cfg;
    for (int r = 0; r < cfg->n_rules; r++) {
        const sw_rule *rule = &cfg->rules[r];
        if (rule->cohort_scope == SW_SCOPE_WHOLE) {
            publish_state(&e->whole.rs[r], e->published[r], rule->latch);
            continue;
        }
        for (int c = 0; c < e->n_coh; c++)
            if (SW_RULE_IN_COHORT(rule, c))
                publish_state(&e->coh[c].rs[r], e->cohort_published[r][c], rule->latch);
    }
    e->published_applied = 1;
}

/* The firing cohort states, in rule then cohort order (section 12). */
static void status_cohorts(const sw_engine *e, sw_status_info *s)
{
    const sw_config *cfg = e->cfg;
    s->cohorts = cfg->cohorts.enabled;
    for (int r = 0; r < cfg->n_rules; r++)
        for (int c = 0; cfg->rules[r].cohort_scope != SW_SCOPE_WHOLE && c < e->n_coh; c++)
            if (SW_RULE_IN_COHORT(&cfg->rules[r], c) && e->coh[c].rs[r].firing) {
                s->cohort_rule[s->n_cohort_firing] = cfg->rules[r].name;
                s->cohort_name[s->n_cohort_firing++] = e->coh[c].name;
            }
}

/* Each cohort's metrics over the status window at T (section 12), into
 * cw (one per cohort). */
static void status_cohort_windows(const sw_engine *e, int64_t T, sw_wm *cw, sw_status_info *s)
{
    int gi = window_index(&e->clay, e->cfg->status_window_s);
    if (gi < 0)
        return;
    s->cohort_observed_s = T - e->cfg->status_window_s < e->t0 ? T - e->t0 : -1;
    int n = 0;
    for (int c = 0; c < e->n_coh; c++) {
        if (T < e->coh_from[c])
            continue; /* a cohort not kept yet, or kept at T - 1 or later */
        win_view v = view_of(&e->coh[c], gi);
        wm_compute(&v, &cw[n], 1);
        s->cohort_window[n] = &cw[n];
        s->cohort_window_name[n++] = e->coh[c].name;
    }
    s->n_cohort_windows = n;
}

/* The status at T (docs/semantics.md section 6) from the rules' states
 * and the status windows. */
static void status_of(sw_engine *e, int64_t T, sw_wm *wms, int *have, sw_status_info *s)
{
    const sw_config *cfg = e->cfg;
    memset(s, 0, sizeof(*s));
    s->at_s = T;
    for (int r = 0; r < cfg->n_rules; r++) {
        if (e->whole.rs[r].firing)
            s->firing[s->n_firing++] = cfg->rules[r].name;
        /* blind only where the rule was evaluated at this very instant */
        if (e->whole.rs[r].blind && T - cfg->rules[r].window_s >= e->t0) {
            s->blind_rule[s->n_blind] = cfg->rules[r].name;
            s->blind_missing[s->n_blind++] = e->whole.rs[r].blind;
        }
    }
    for (int i = 0; i < 3; i++) {
        int gi = e->status_windows[i];
        s->observed_s[s->n_windows] = T - e->lay.windows_s[gi] < e->t0 ? T - e->t0 : -1;
        s->windows[s->n_windows++] = wm_at(&e->whole, wms, have, gi, 1);
    }
    status_cohorts(e, s);
    const sw_wm *sw = wm_at(&e->whole, wms, have, e->status_window, 0);
    s->colour = status_colour(cfg, sw, s->n_firing > 0 || s->n_cohort_firing > 0);
    if (s->colour == SW_GREEN && s->n_blind > 0)
        s->colour = SW_YELLOW; /* a rule that cannot see is not a healthy sign */
    if (cfg->quality_enabled) {
        s->quality = quality_of(e, sw, T);
        if (s->colour == SW_GREEN && strcmp(s->quality, "ok") != 0)
            s->colour = SW_YELLOW; /* data we cannot trust is never healthy */
    }
}

/* Keep the status for /status and, when emitting, render and emit it; a
 * render failure is counted and nothing is emitted, never half of one. */
static void emit_status(sw_engine *e, const sw_status_info *s, int emitting)
{
    e->status = s->colour;
    buf_reset(&e->status_json);
    int rc = output_status_json(&e->status_json, e->cfg, s);
    if (rc != 0)
        buf_reset(&e->status_json); /* /status shows none rather than half of one */
    if (!emitting)
        return;
    buf_reset(&e->out);
    if (e->text)
        rc = output_status_text(&e->out, e->cfg, s);
    else if (rc == 0)
        rc = buf_append(&e->out, e->status_json.data, e->status_json.len);
    if (rc != 0) {
        render_failed(e, "status", s->at_s);
        return;
    }
    emit_buf(e, SW_OUT_STATUS, s->at_s, -1, 0, e->cfg->feature);
}

/* Evaluate instant T: acknowledgements, the rules in list order, then the
 * status. */
static void eval_instant(sw_engine *e, int64_t T)
{
    const sw_config *cfg = e->cfg;
    int emitting = T >= e->emit_from && (e->emit_to < 0 || T <= e->emit_to);
    sw_wm wms[MAX_WIN];
    int have[MAX_WIN] = {0};

    if (emitting && e->have_published && !e->published_applied)
        apply_published(e);
    if (e->n_acks && e->acks[0].at_s <= T)
        apply_acks(e, T);
    if (cfg->rollback_check)
        watches_take_second(e, T);
    memset(e->transition, 0, sizeof(e->transition));
    for (int r = 0; r < cfg->n_rules; r++)
        eval_rule_sets(e, r, T, wms, have, emitting);
    for (int v = 0; v < e->n_var; v++) /* a sweep: the same windows, other rules */
        for (int r = 0; r < cfg->n_rules; r++)
            if (eval_rule(e, &e->var[v], r, T, wms, have, 0) && e->on_transition)
                e->on_transition(e->on_transition_ud, v + 1, r, T, e->var[v].rs[r].firing);
    if (cfg->rollback_check)
        for (int r = 0; r < cfg->n_rules; r++)
            watch_step(e, r, T, emitting);

    if (T % cfg->status_interval_s != 0 || T < e->t0 + cfg->status_interval_s)
        return;
    sw_status_info s;
    sw_wm cw[SW_MAX_COHORTS + 1];
    status_of(e, T, wms, have, &s);
    status_cohort_windows(e, T, cw, &s);
    emit_status(e, &s, emitting);
}

/* Second T-1 is final once instant T is evaluated: keep its counts before
 * the ring steps past it (it may be recycled then, when no window of the
 * fine ring is longer than a second). */
static void take_second(sw_engine *e, int64_t T)
{
    const win_counts *c = win_ring_second(e->whole.fine, T - 1);
    if (c)
        e->second = *c;
    else
        memset(&e->second, 0, sizeof(e->second));
}

static void wset_advance(wset *ws, int64_t T)
{
    win_ring_advance(ws->fine, T);
    if (ws->coarse)
        win_ring_advance(ws->coarse, sw_floor_div(T, 60));
}

static void evaluate_through(sw_engine *e, int64_t W)
{
    while (e->evaluated < W) {
        int64_t T = e->evaluated + 1;
        take_second(e, T);
        wset_advance(&e->whole, T);
        for (int c = 0; c < e->n_coh; c++)
            wset_advance(&e->coh[c], T);
        eval_instant(e, T);
        e->evaluated = T;
        if (e->on_instant)
            e->on_instant(e->on_instant_ud, T, &e->second,
                          T >= e->emit_from && (e->emit_to < 0 || T <= e->emit_to));
    }
}

static int is_error(const sw_event *ev)
{
    int status = ev->status;
    if (status == 0) {
        if (ev->kind == SW_EV_SUCCEEDED)
            status = 200;
        else
            status = ev->reason_error ? 500 : 422;
    }
    return status >= 500;
}

static void prov_note(prov_slot *tab, int64_t nslots, int n_sources, int64_t unit, int src,
                      int64_t offset)
{
    prov_slot *ps = &tab[prov_index(unit, nslots) * n_sources + src];
    if (ps->unit != unit) {
        ps->unit = unit;
        ps->lo = ps->hi = offset;
        return;
    }
    if (offset < ps->lo)
        ps->lo = offset;
    if (offset > ps->hi)
        ps->hi = offset;
}

/* Coverage starts at second t0. Events up to the lateness before it are
 * still on time: the rings start that far back, and no instant before t0
 * emits anything (rules need T - W >= t0, status T >= t0 + interval). */
static void coverage_start(sw_engine *e, int64_t t0)
{
    int64_t start = t0 - e->cfg->allowed_lateness_s;
    e->started = 1;
    e->t0 = e->max_second = t0;
    e->evaluated = start - 1;
    for (int c = -1; c < e->n_coh; c++) {
        wset *ws = c < 0 ? &e->whole : &e->coh[c];
        win_ring_start(ws->fine, start);
        if (ws->coarse)
            win_ring_start(ws->coarse, sw_floor_div(start, 60));
    }
}

int sw_event_time_out_of_range(int64_t ts_ms, int64_t max_second)
{
    return ts_ms < 0 || ts_ms > SW_TS_MAX_MS || sw_floor_div(ts_ms, 1000) > max_second;
}

int64_t sw_engine_accept_hi(const sw_engine *e)
{
    return e->started ? e->max_second + e->cfg->max_gap_s : INT64_MAX;
}

/* A second inside the range of event time: some millisecond of it is. */
static int second_in_range(int64_t s)
{
    return s >= 0 && s <= SW_TS_MAX_MS / 1000;
}

void sw_engine_set_watch_start(sw_engine *e, int64_t w0_s)
{
    if (second_in_range(w0_s))
        e->watch_s = w0_s;
}

void sw_engine_start(sw_engine *e, int64_t t0_s)
{
    if (!e->started && second_in_range(t0_s))
        coverage_start(e, t0_s);
}

/* Where an in-range event's second stands (docs/semantics.md section 3):
 * the first starts coverage; one past the greatest second moves the
 * watermark and evaluates the instants it passes; one too far behind it is
 * late, one too far past it out of range. */
static sw_push_result place_second(sw_engine *e, int64_t sec)
{
    const sw_config *cfg = e->cfg;
    if (!e->started && !(e->watch_s != INT64_MIN && sec > e->watch_s)) {
        coverage_start(e, sec);
        return SW_ACCEPTED;
    }
    if (!e->started)
        coverage_start(e, e->watch_s); /* watched since before this event */
    if (sec > e->max_second + cfg->max_gap_s)
        return SW_OUT_OF_RANGE;
    /* Late against the greatest second so far, or (live, after the idle
     * clock moved on) for an instant already evaluated. */
    if (sec < e->max_second - cfg->allowed_lateness_s || sec < e->evaluated)
        return SW_LATE;
    if (sec > e->max_second) {
        e->max_second = sec;
        evaluate_through(e, sec - cfg->allowed_lateness_s);
    }
    return SW_ACCEPTED;
}

/* What the windows keep of an accepted event: for an outcome its duration
 * (or the one input.correlate derives), whether it is an error, and its
 * labels. Pairs are made in acceptance order (docs/semantics.md 9.6). */
static win_event win_event_of(sw_engine *e, const sw_event *ev, int64_t sec)
{
    win_event w;
    w.second = sec;
    w.kind = ev->kind;
    w.weight = ev->weight ? ev->weight : 1;
    w.tc = ev->kind == SW_EV_SUCCEEDED ? ev->tc : -1;
    w.is_error = 0;
    w.duration_us = 0;
    w.has_duration = 0;
    w.informed = ev->informed;
    w.strategy = WIN_LABEL_NONE;
    w.reason = WIN_LABEL_NONE;
    int outcome = ev->kind == SW_EV_SUCCEEDED || ev->kind == SW_EV_FALLBACK;
    double duration_ms = ev->duration_ms;
    int has_duration = ev->has_duration;
    if (e->corr && ev->kind == SW_EV_REQUESTED) {
        corr_request(e->corr, ev->has_key, ev->key, ev->ts_ms);
    } else if (e->corr && outcome) {
        int64_t d;
        if (corr_outcome(e->corr, ev->has_key, ev->key, ev->ts_ms, &d) && !has_duration) {
            duration_ms = (double)d;
            has_duration = 1;
        }
    }
    if (!outcome)
        return w;
    double us = duration_ms * 1000.0;
    w.has_duration = (uint8_t)has_duration;
    if (has_duration)
        w.duration_us = us >= 1.8e19 ? UINT64_C(18000000000000000000) : (uint64_t)llround(us);
    w.is_error = (uint8_t)is_error(ev);
    w.strategy = ev->strategy;
    if (ev->kind == SW_EV_FALLBACK)
        w.reason = ev->reason;
    return w;
}

/* Add w to the rings, and its offset to the provenance of its source.
 * Returns 0, or -1 when the fine ring refused it. */
/* Add w to a set's rings. Returns 0, or -1 when the fine ring refused it. */
static int wset_add(wset *ws, win_event w)
{
    int64_t sec = w.second;
    /* The checks before keep sec within the ring's reach; should that ever
     * fail, the caller counts the event as late, never as accepted and lost. */
    int rc = win_ring_add(ws->fine, &w);
    assert(rc == 0);
    if (rc != 0)
        return -1;
    if (ws->coarse) {
        w.second = sw_floor_div(sec, 60);
        rc = win_ring_add(ws->coarse, &w);
        assert(rc == 0);
        (void)rc;
    }
    return 0;
}

/* The cohort of an accepted event of second sec whose decoder said id:
 * a listed value's, `other`, or with cohorts.max the one keeping its
 * value, kept now when it is new and a cohort is free (section 12). */
static int cohort_of(sw_engine *e, unsigned id, int64_t sec)
{
    int other = e->n_coh - 1;
    if (e->names == NULL || id < (unsigned)e->cfg->cohorts.values.n)
        return id < (unsigned)other ? (int)id : other;
    if (id == COHORT_ID_NONE)
        return other;
    if (e->slot_of_id[id] != 0)
        return e->slot_of_id[id] - 1;
    if (e->n_kept == other)
        return other;
    int c = e->n_kept++;
    memcpy(e->kept_value[c], cohort_names_value(e->names, (uint16_t)id), LABEL_NAME_MAX + 1);
    e->slot_of_id[id] = (uint8_t)(c + 1);
    e->coh_from[c] = sec + 1;
    if (e->n_kept == other)
        cohort_names_close(e->names);
    return c;
}

static int store_event(sw_engine *e, const win_event *w, unsigned cohort_id, int source,
                       int64_t offset)
{
    int64_t sec = w->second;
    if (wset_add(&e->whole, *w) != 0)
        return -1;
    /* The same seconds are in every ring's reach: a cohort takes it too. */
    if (e->n_coh) {
        int c = cohort_of(e, cohort_id, sec);
        e->coh_events[c]++;
        (void)wset_add(&e->coh[c], *w);
    }
    if (e->n_sources && source >= 0 && source < e->n_sources) {
        prov_note(e->prov_fine, e->prov_fine_n, e->n_sources, sec, source, offset);
        if (e->prov_coarse)
            prov_note(e->prov_coarse, e->prov_coarse_n, e->n_sources, sw_floor_div(sec, 60), source,
                      offset);
    }
    return 0;
}

sw_push_result sw_engine_push_from(sw_engine *e, const sw_event *ev, int source, int64_t offset)
{
    sw_push_result res = SW_OUT_OF_RANGE;
    if (!sw_event_time_out_of_range(ev->ts_ms, e->future_limit))
        res = place_second(e, sw_floor_div(ev->ts_ms, 1000));
    if (res == SW_ACCEPTED) {
        win_event w = win_event_of(e, ev, sw_floor_div(ev->ts_ms, 1000));
        if (store_event(e, &w, ev->cohort, source, offset) != 0)
            res = SW_LATE;
    }
    switch (res) {
    case SW_OUT_OF_RANGE: e->stats.out_of_range++; break;
    case SW_LATE: e->stats.late++; break;
    case SW_ACCEPTED:
        e->stats.accepted++;
        e->stats.accepted_by_kind[ev->kind]++;
        break;
    }
    return res;
}

sw_push_result sw_engine_push(sw_engine *e, const sw_event *ev)
{
    return sw_engine_push_from(e, ev, -1, 0);
}

void sw_engine_advance(sw_engine *e, int64_t watermark_s)
{
    if (!e->started)
        return;
    evaluate_through(e, watermark_s);
}

void sw_engine_finish(sw_engine *e)
{
    if (!e->started && e->watch_s != INT64_MIN)
        coverage_start(e, e->watch_s);
    if (!e->started)
        return;
    evaluate_through(e, e->max_second + 1);
}

int64_t sw_engine_max_second(const sw_engine *e) { return e->max_second; }
int64_t sw_engine_next_instant(const sw_engine *e)
{
    return e->started ? e->evaluated + 1 : INT64_MIN;
}
int64_t sw_engine_t0(const sw_engine *e) { return e->t0; }
const sw_engine_stats *sw_engine_stats_get(const sw_engine *e) { return &e->stats; }
int sw_engine_rule_firing(const sw_engine *e, int rule) { return e->whole.rs[rule].firing; }
uint64_t sw_engine_rollback_checks(const sw_engine *e, int rule, int state)
{
    return state >= 0 && state < 3 ? e->rb_emitted[rule][state] : 0;
}
const char *sw_engine_rule_blind(const sw_engine *e, int rule) { return e->whole.rs[rule].blind; }
uint64_t sw_engine_rule_blind_instants(const sw_engine *e, int rule)
{
    return e->whole.rs[rule].blind_instants;
}
const char *sw_engine_rule_blind_last(const sw_engine *e, int rule)
{
    return e->whole.rs[rule].blind_last ? e->whole.rs[rule].blind_last : "";
}
const sw_config *sw_engine_config(const sw_engine *e) { return e->cfg; }
const sw_corr_stats *sw_engine_corr_stats(const sw_engine *e)
{
    return e->corr ? corr_stats(e->corr) : NULL;
}
double sw_engine_rule_value(const sw_engine *e, int rule) { return e->whole.rule_value[rule]; }

int sw_engine_cohorts(const sw_engine *e) { return e->n_coh; }
const char *sw_engine_cohort_name(const sw_engine *e, int c)
{
    return c >= 0 && c < e->n_coh && e->coh_from[c] != INT64_MAX ? e->coh[c].name : NULL;
}
struct cohort_names *sw_engine_cohort_names(sw_engine *e) { return e->names; }

int sw_engine_keep_cohort(sw_engine *e, const char *s, int64_t from_s)
{
    if (e->names == NULL)
        return -1;
    unsigned id = cohort_names_id(e->names, s, strlen(s));
    if (id == COHORT_ID_NONE || id < (unsigned)e->cfg->cohorts.values.n)
        return -1;
    if (e->slot_of_id[id] != 0)
        return e->slot_of_id[id] - 1;
    if (e->n_kept == e->n_coh - 1)
        return -1;
    int c = cohort_of(e, id, 0);
    e->coh_from[c] = from_s;
    return c;
}
uint64_t sw_engine_cohort_events(const sw_engine *e, int c)
{
    return c >= 0 && c <= SW_MAX_COHORTS ? e->coh_events[c] : 0;
}
int sw_engine_cohort_rule_firing(const sw_engine *e, int rule, int c)
{
    return c >= 0 && c < e->n_coh ? e->coh[c].rs[rule].firing : 0;
}
double sw_engine_cohort_rule_value(const sw_engine *e, int rule, int c)
{
    return c >= 0 && c < e->n_coh ? e->coh[c].rule_value[rule] : NAN;
}
const char *sw_engine_cohort_rule_blind(const sw_engine *e, int rule, int c)
{
    return c >= 0 && c < e->n_coh ? e->coh[c].rs[rule].blind : NULL;
}
int sw_engine_status(const sw_engine *e) { return e->status; }
const char *sw_engine_status_json(const sw_engine *e)
{
    return e->status_json.data ? e->status_json.data : "";
}

double sw_engine_window_metric(const sw_engine *e, int64_t window_s, sw_metric m, int label)
{
    int i = window_index(&e->lay, window_s);
    if (i < 0)
        return NAN;
    if (!e->started)
        return m <= M_DECLINED || m >= M_STRATEGY ? 0.0 : NAN;
    sw_wm wm;
    win_view v = view_of(&e->whole, i);
    wm_compute(&v, &wm, wm_needs_percentiles(m));
    return wm_get(&wm, m, label);
}

int sw_engine_windows(const sw_engine *e, int64_t *out, int cap)
{
    int n = e->lay.n_windows < cap ? e->lay.n_windows : cap;
    memcpy(out, e->lay.windows_s, (size_t)n * sizeof(int64_t));
    return e->lay.n_windows;
}

size_t sw_engine_bytes(const sw_engine *e)
{
    size_t coh = (size_t)e->n_var * (sizeof(wset) + sizeof(wlayout));
    for (int c = 0; c < e->n_coh; c++)
        coh += sizeof(wset) + win_ring_bytes(e->coh[c].fine) +
               (e->coh[c].coarse ? win_ring_bytes(e->coh[c].coarse) : 0);
    if (e->names)
        coh += cohort_names_bytes();
    size_t whole = win_ring_bytes(e->whole.fine) +
                   (e->whole.coarse ? win_ring_bytes(e->whole.coarse) : 0);
    return whole + sizeof(*e) + coh + (e->corr ? corr_bytes(e->corr) : 0) +
           (size_t)(e->prov_fine_n + e->prov_coarse_n) * (size_t)e->n_sources * sizeof(prov_slot);
}
