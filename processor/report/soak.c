/* soak.c: the soak cadence (docs/semantics.md section 11), followed from
 * the engine's stream. Each evaluated instant T hands over the final counts
 * of second T-1; they are summed over the seconds of the current period,
 * the statuses and rule transitions of its instants are noted, and at its
 * end U = S + 3600 h the update is rendered and passed on after the
 * engine's events of U. At hour 24 and the last hour the soak's totals,
 * its run of good hours, its firings and the sign-offs the engine hands over
 * give the soak_verdict, after that instant's update.
 *
 * Invariant: no allocation after soak_create; sums are exact integer sums
 * of accepted, non-late events (never averages of windows); the update of
 * hour h and a verdict are emitted at most once, at U, when U is in the
 * emit range; every event emitted goes out through emit_own, which counts
 * it, and the verdict gauges follow the last verdict emitted.
 */
#include "soak.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../buf.h"
#include "../config_soak.h"
#include "../control.h"
#include "../event.h"
#include "../output.h"
#include "../wmetrics.h"

#define SOAK_MAX_NOTES 32      /* transitions listed per update; the rest counted */
#define SOAK_OUT_CAP (64 * 1024)

typedef struct soak_totals {
    win_counts all;             /* every second of the soak so far */
    win_counts hour;            /* the current soak hour's */
    int64_t run, best;          /* consecutive complete hours above the success target */
    uint64_t firings;           /* rollback triggers fired at instants S < T */
    int64_t signed_at[SW_SOAK_MAX_SIGNOFFS]; /* the sign-off's instant; INT64_MIN: none yet */
    char signed_by[SW_SOAK_MAX_SIGNOFFS][CONTROL_BY_MAX + 1];
} soak_totals;

typedef struct soak_note {
    int rule;
    int firing;
    int64_t at_s;
    const char *cohort; /* section 12: the trigger's cohort (the engine's name), or NULL */
} soak_note;

struct soak_follower {
    const sw_config *cfg;
    sw_engine *e;
    sw_counters *c;
    sw_emit_fn next;
    void *next_ud;
    int64_t start_override_ms; /* INT64_MIN: none */
    int64_t publish_from_s;    /* INT64_MIN: none */
    int64_t start_s;           /* S; INT64_MIN until the first instant */
    int64_t hour_from, hour_to; /* the current period; hour_to 0: all done */
    win_counts sum;            /* of the period's seconds so far */
    int worst;                 /* worst status colour of its instants, -1 none */
    int n_notes;
    uint64_t notes_omitted;
    soak_note notes[SOAK_MAX_NOTES];
    uint64_t late0, rejected0; /* cumulative counts when the last period ended */
    uint8_t firing[SW_MAX_RULES];
    uint8_t coh_firing[SW_MAX_RULES][SW_MAX_COHORTS + 1]; /* rules judged in cohorts */
    int emitting;              /* the instant being evaluated is in the emit range */
    int text_mode;             /* emit the text, not the JSON */
    sw_buf out, text;
    soak_totals tot;           /* for the verdict: the soak so far, S .. T-1 */
};

static const struct soak_phase {
    int64_t upto;        /* the phase of a period whose last hour is <= upto */
    const char *name, *focus, *extra;
} phases[] = {
    {1, "Initial Deployment Verification", "Deployment confirmation and initial metrics", NULL},
    {2, "Load Testing Initiation", "Begin load testing and performance validation",
     "Memory Usage: not measured by soakwatch (Target: <80%)"},
    {4, "Extended Load Testing", "Sustained load testing and stability", NULL},
    {6, "Integration Testing", "Frontend integration and user flow testing",
     "Integration Tests: not reported by the telemetry"},
    {8, "Stability Validation", "Extended stability and performance optimization",
     "Uptime: not measured by soakwatch (Target: >99%)"},
    {12, "Extended Stability", "24-hour stability validation", NULL},
    {24, "Daily Assessment", "First 24-hour assessment and Week 2 preparation", NULL},
    {INT64_MAX, "Final Validation", "Complete 48-hour validation and final decision", NULL},
};

static const struct soak_phase *phase_of(int64_t hour_to)
{
    size_t i = 0;
    while (hour_to > phases[i].upto)
        i++;
    return &phases[i];
}

int64_t soak_next_hour(int64_t h, int64_t hours)
{
    if (h >= hours)
        return 0;
    if (h < 8)
        return h + 1;
    int64_t n = (h / 4 + 1) * 4;
    return n < hours ? n : hours;
}

soak_follower *soak_create(const sw_config *cfg, char *err, size_t errlen)
{
    soak_follower *f = calloc(1, sizeof(*f));
    if (f == NULL) {
        snprintf(err, errlen, "out of memory for the soak cadence");
        return NULL;
    }
    f->cfg = cfg;
    f->start_override_ms = INT64_MIN;
    f->publish_from_s = INT64_MIN;
    f->start_s = INT64_MIN;
    f->worst = -1;
    for (int i = 0; i < SW_SOAK_MAX_SIGNOFFS; i++)
        f->tot.signed_at[i] = INT64_MIN;
    buf_init(&f->out, SOAK_OUT_CAP);
    buf_init(&f->text, SOAK_OUT_CAP / 2);
    if (buf_preallocate(&f->out) != 0 || buf_preallocate(&f->text) != 0) {
        soak_destroy(f);
        snprintf(err, errlen, "out of memory for the soak cadence");
        return NULL;
    }
    return f;
}

void soak_destroy(soak_follower *f)
{
    if (f == NULL)
        return;
    buf_free(&f->out);
    buf_free(&f->text);
    free(f);
}

void soak_set_start(soak_follower *f, int64_t start_ms) { f->start_override_ms = start_ms; }
void soak_set_publish_from(soak_follower *f, int64_t from_s) { f->publish_from_s = from_s; }
int64_t soak_start_s(const soak_follower *f) { return f->start_s; }

static int64_t ceil_to(int64_t s, int64_t unit)
{
    return sw_floor_div(s + unit - 1, unit) * unit;
}

static uint64_t rejected_so_far(const soak_follower *f)
{
    uint64_t n = sw_engine_stats_get(f->e)->out_of_range;
    for (int v = 0; v < DEC_VERDICT_COUNT; v++)
        if (v != DEC_OK && v != DEC_IGNORED && v != DEC_FILTERED)
            n += f->c->verdicts[v];
    return n;
}

static int64_t period_start_s(const soak_follower *f) { return f->start_s + 3600 * f->hour_from; }
static int64_t period_end_s(const soak_follower *f) { return f->start_s + 3600 * f->hour_to; }

/* S, at the first instant T: the given start, else the later of coverage
 * and the first publishable instant, rounded up to the status interval;
 * then the first period whose end is not before T. */
static void ensure_start(soak_follower *f, int64_t T)
{
    if (f->start_s != INT64_MIN)
        return;
    int64_t unit = f->cfg->status_interval_s;
    int64_t base_ms = f->start_override_ms != INT64_MIN ? f->start_override_ms
                                                        : f->cfg->soak.start_ms;
    int64_t base;
    if (base_ms != INT64_MIN) {
        base = sw_floor_div(base_ms, 1000) + (sw_floor_div(base_ms, 1000) * 1000 != base_ms);
    } else {
        base = sw_engine_t0(f->e);
        if (f->publish_from_s != INT64_MIN && f->publish_from_s > base)
            base = f->publish_from_s;
    }
    f->start_s = ceil_to(base, unit);
    f->hour_from = 0;
    f->hour_to = soak_next_hour(0, f->cfg->soak.hours);
    while (f->hour_to != 0 && period_end_s(f) < T) {
        f->hour_from = f->hour_to;
        f->hour_to = soak_next_hour(f->hour_to, f->cfg->soak.hours);
    }
    f->c->soak_hour = 0;
}

static void add_second(win_counts *sum, const win_counts *s)
{
    sum->requests += s->requests;
    sum->outcomes += s->outcomes;
    sum->successes += s->successes;
    sum->errors += s->errors;
    sum->declined += s->declined;
    sum->tc_true += s->tc_true;
    sum->tc_known += s->tc_known;
    sum->timed += s->timed;
    sum->latency_sum_us += s->latency_sum_us;
}

static void note(soak_follower *f, int rule, int firing, int64_t at_s, const char *cohort)
{
    if (f->n_notes == SOAK_MAX_NOTES) {
        f->notes_omitted++;
        return;
    }
    f->notes[f->n_notes++] = (soak_note){rule, firing, at_s, cohort};
}

void soak_emit(void *ud, const sw_output *o)
{
    soak_follower *f = ud;
    if (o->type == SW_OUT_TRIGGER && f->hour_to != 0 && f->start_s != INT64_MIN &&
        o->at_s > period_start_s(f) && o->at_s <= period_end_s(f))
        note(f, o->rule, o->firing, o->at_s, o->cohort);
    if (o->type == SW_OUT_TRIGGER && o->firing && f->start_s != INT64_MIN &&
        o->at_s > f->start_s && o->at_s <= f->start_s + 3600 * f->cfg->soak.hours)
        f->tot.firings++;
    f->next(f->next_ud, o);
}

/* Hand one of the cadence's own events (an update or a verdict, rendered
 * into f->out and f->text) on to the next stage, as text or JSON, and count
 * it for soakwatch_outputs_total: the one place they leave the follower. */
static void emit_own(soak_follower *f, sw_out_type type, int64_t T, int final)
{
    sw_output o = {type, T, -1, final, f->cfg->feature,
                   f->text_mode ? f->text.data : f->out.data,
                   f->text_mode ? f->text.len : f->out.len, NULL};
    if (type == SW_OUT_SOAK_UPDATE)
        f->c->soak_updates++;
    else
        f->c->soak_verdicts++;
    f->next(f->next_ud, &o);
}

/* ---- rendering ---------------------------------------------------------- */

static const char *const colour_names[] = {"green", "yellow", "red"};
static const char *const colour_words[] = {"Green", "Yellow", "Red"};

typedef struct soak_check {
    const char *name, *label, *op;
    double value, target;
} soak_check;

static void checks_of(const soak_follower *f, const sw_wm *m, soak_check ck[4])
{
    const sw_soak *s = &f->cfg->soak;
    ck[0] = (soak_check){"success_rate", "Success Rate", ">", m->success_rate,
                         s->success_rate_min};
    ck[1] = (soak_check){"latency_mean_ms", "Response Time", "<", m->latency_mean_ms,
                         s->latency_mean_max_ms};
    ck[2] = (soak_check){"error_rate", "Error Rate", "<", m->error_rate, s->error_rate_max};
    ck[3] = (soak_check){"time_constraint_success_rate", "Compression Success", ">",
                         m->time_constraint_success_rate, s->compression_success_min};
}

/* 1 pass, 0 fail, -1 not judged (no value). */
static int check_pass(const soak_check *c)
{
    if (isnan(c->value))
        return -1;
    return c->op[0] == '>' ? c->value > c->target : c->value < c->target;
}

static int put_check_json(sw_buf *b, const soak_check *c)
{
    int p = check_pass(c);
    int rc = buf_puts(b, "{\"name\":");
    rc |= buf_json_str(b, c->name);
    rc |= buf_puts(b, ",\"value\":");
    rc |= buf_json_double(b, c->value);
    rc |= buf_printf(b, ",\"op\":\"%s\",\"target\":", c->op);
    rc |= buf_json_double(b, c->target);
    rc |= buf_puts(b, p < 0 ? ",\"pass\":null}" : p ? ",\"pass\":true}" : ",\"pass\":false}");
    return rc;
}

/* One "- Label: value (Target: ...) mark" line of the plan's update. */
static int put_check_text(sw_buf *b, const soak_check *c)
{
    int p = check_pass(c);
    int ms = strcmp(c->name, "latency_mean_ms") == 0;
    int rc = buf_printf(b, "- %s: ", c->label);
    if (p < 0)
        rc |= buf_puts(b, "n/a");
    else if (ms)
        rc |= buf_printf(b, "%.3fs", c->value / 1000.0);
    else
        rc |= buf_printf(b, "%.2f%%", c->value * 100.0);
    if (ms)
        rc |= buf_printf(b, " (Target: %s%gs) ", c->op, c->target / 1000.0);
    else
        rc |= buf_printf(b, " (Target: %s%g%%) ", c->op, c->target * 100.0);
    rc |= buf_puts(b, p < 0 ? "\xe2\x9e\x96 not judged\n" : p ? "\xe2\x9c\x85\n" : "\xe2\x9d\x8c\n");
    return rc;
}

static int put_at_text(sw_buf *b, int64_t at_s)
{
    char ts[40];
    dec_rfc3339_format(at_s * 1000, ts, sizeof(ts));
    return buf_puts(b, ts);
}

static int put_notes_text(sw_buf *b, const soak_follower *f, int64_t uncovered, uint64_t late,
                          uint64_t rejected)
{
    int rc = buf_puts(b, "\xf0\x9f\x93\x9d Notes: ");
    const char *sep = "";
    for (int i = 0; i < f->n_notes; i++, sep = "; ") {
        const soak_note *n = &f->notes[i];
        rc |= buf_printf(b, "%s%s%s%s%s %s at ", sep, f->cfg->rules[n->rule].name,
                         n->cohort ? " [" : "", n->cohort ? n->cohort : "",
                         n->cohort ? "]" : "", n->firing ? "firing" : "resolved");
        rc |= put_at_text(b, n->at_s);
    }
    if (f->notes_omitted)
        rc |= buf_printf(b, "%s%" PRIu64 " more rule transitions", sep, f->notes_omitted), sep = "; ";
    if (f->n_notes)
        sep = "; ";
    if (uncovered > 0)
        rc |= buf_printf(b, "%scoverage began %" PRId64 " s into the period", sep, uncovered), sep = "; ";
    if (late > 0)
        rc |= buf_printf(b, "%s%" PRIu64 " late events", sep, late), sep = "; ";
    if (rejected > 0)
        rc |= buf_printf(b, "%s%" PRIu64 " rejected inputs", sep, rejected), sep = "; ";
    if (sep[0] == '\0')
        rc |= buf_puts(b, "none");
    return rc | buf_puts(b, "\n");
}

static int put_hours_text(sw_buf *b, int64_t from, int64_t to)
{
    if (to == from + 1)
        return buf_printf(b, "Hour %" PRId64, to);
    return buf_printf(b, "Hours %" PRId64 "-%" PRId64, from + 1, to);
}

typedef struct soak_period {
    sw_wm m;
    soak_check ck[4];
    int64_t uncovered_s;
    uint64_t late, rejected;
    int64_t next_to;  /* 0: none */
} soak_period;

/* The plan's "Hourly Update Format", filled in, into f->text. */
static int render_text(soak_follower *f, const soak_period *p)
{
    sw_buf *b = &f->text;
    const struct soak_phase *ph = phase_of(f->hour_to);
    buf_reset(b);
    int rc = buf_printf(b, "\xf0\x9f\x95\x90 %s - Hour %" PRId64 "\n\n", f->cfg->soak.title,
                        f->hour_to);
    rc |= buf_puts(b, "\xf0\x9f\x93\x8a Key Metrics:\n");
    for (int i = 0; i < 4; i++)
        rc |= put_check_text(b, &p->ck[i]);
    rc |= buf_printf(b, "- Requests: %" PRIu64 " requests\n", p->m.requests);
    if (ph->extra)
        rc |= buf_printf(b, "- %s\n", ph->extra);
    rc |= buf_printf(b, "\n\xf0\x9f\x94\x8d Status: %s\n",
                     f->worst < 0 ? "none in this period" : colour_words[f->worst]);
    rc |= put_notes_text(b, f, p->uncovered_s, p->late, p->rejected);
    rc |= buf_puts(b, "\xe2\x8f\xad\xef\xb8\x8f Next: ");
    if (p->next_to == 0) {
        rc |= buf_puts(b, "none, this is the final update\n");
    } else {
        const struct soak_phase *np = phase_of(p->next_to);
        rc |= put_hours_text(b, f->hour_to, p->next_to);
        rc |= buf_printf(b, ": %s (%s)\n", np->name, np->focus);
    }
    rc |= buf_printf(b, "\nDashboard: %s",
                     f->cfg->soak.dashboard_url[0] ? f->cfg->soak.dashboard_url : "not configured");
    return rc || b->failed ? -1 : 0;
}

static int put_notes_json(sw_buf *b, const soak_follower *f, const soak_period *p)
{
    int rc = buf_puts(b, ",\"notes\":{\"triggers\":[");
    for (int i = 0; i < f->n_notes; i++) {
        const soak_note *n = &f->notes[i];
        const char *rule = f->cfg->rules[n->rule].name;
        rc |= buf_printf(b, "%s{\"id\":", i ? "," : "");
        char id[SW_STR_MAX + LABEL_NAME_MAX + 32];
        output_trigger_id(rule, n->cohort, n->at_s, id, sizeof(id));
        rc |= buf_json_str(b, id);
        rc |= buf_puts(b, ",\"rule\":");
        rc |= buf_json_str(b, rule);
        if (n->cohort) {
            rc |= buf_puts(b, ",\"cohort\":");
            rc |= buf_json_str(b, n->cohort);
        }
        rc |= buf_printf(b, ",\"state\":\"%s\",\"at_ms\":%" PRId64 "}",
                         n->firing ? "firing" : "resolved", n->at_s * 1000);
    }
    rc |= buf_printf(b, "],\"triggers_omitted\":%" PRIu64 ",\"uncovered_s\":%" PRId64
                     ",\"late\":%" PRIu64 ",\"rejected\":%" PRIu64 "}",
                     f->notes_omitted, p->uncovered_s, p->late, p->rejected);
    return rc;
}

static int put_head_json(sw_buf *b, const soak_follower *f)
{
    int64_t U = period_end_s(f);
    char ts[40];
    dec_rfc3339_format(U * 1000, ts, sizeof(ts));
    const struct soak_phase *ph = phase_of(f->hour_to);
    int rc = buf_printf(b, "{\"type\":\"soak_update\",\"schema_version\":1,\"at_ms\":%" PRId64
                        ",\"at\":\"%s\",\"soak_start_ms\":%" PRId64 ",\"hour_from\":%" PRId64
                        ",\"hour_to\":%" PRId64 ",\"period_start_ms\":%" PRId64
                        ",\"period_end_ms\":%" PRId64 ",\"phase\":",
                        U * 1000, ts, f->start_s * 1000, f->hour_from, f->hour_to,
                        period_start_s(f) * 1000, U * 1000);
    rc |= buf_json_str(b, ph->name);
    rc |= buf_puts(b, ",\"focus\":");
    rc |= buf_json_str(b, ph->focus);
    return rc;
}

static int put_metrics_json(sw_buf *b, const sw_wm *m)
{
    int rc = buf_printf(b, ",\"requests\":%" PRIu64 ",\"outcomes\":%" PRIu64
                        ",\"successes\":%" PRIu64 ",\"errors\":%" PRIu64 ",\"success_rate\":",
                        m->requests, m->outcomes, m->successes, m->errors);
    rc |= buf_json_double(b, m->success_rate);
    rc |= buf_puts(b, ",\"error_rate\":");
    rc |= buf_json_double(b, m->error_rate);
    rc |= buf_puts(b, ",\"latency_mean_ms\":");
    rc |= buf_json_double(b, m->latency_mean_ms);
    rc |= buf_puts(b, ",\"time_constraint_success_rate\":");
    rc |= buf_json_double(b, m->time_constraint_success_rate);
    return rc;
}

/* The soak_update event of the current period, into f->out. */
static int render_json(soak_follower *f, const soak_period *p)
{
    sw_buf *b = &f->out;
    buf_reset(b);
    int rc = put_head_json(b, f);
    rc |= put_metrics_json(b, &p->m);
    rc |= buf_puts(b, ",\"status\":");
    rc |= f->worst < 0 ? buf_puts(b, "null") : buf_printf(b, "\"%s\"", colour_names[f->worst]);
    rc |= buf_puts(b, ",\"checks\":[");
    for (int i = 0; i < 4; i++) {
        rc |= i ? buf_puts(b, ",") : 0;
        rc |= put_check_json(b, &p->ck[i]);
    }
    rc |= buf_puts(b, "]");
    rc |= put_notes_json(b, f, p);
    rc |= buf_puts(b, ",\"next\":");
    if (p->next_to == 0) {
        rc |= buf_puts(b, "null");
    } else {
        const struct soak_phase *np = phase_of(p->next_to);
        rc |= buf_printf(b, "{\"hour_from\":%" PRId64 ",\"hour_to\":%" PRId64 ",\"phase\":",
                         f->hour_to, p->next_to);
        rc |= buf_json_str(b, np->name);
        rc |= buf_puts(b, ",\"focus\":");
        rc |= buf_json_str(b, np->focus);
        rc |= buf_puts(b, "}");
    }
    rc |= buf_puts(b, ",\"text\":");
    rc |= buf_json_str(b, f->text.data);
    rc |= buf_puts(b, "}");
    return rc || b->failed ? -1 : 0;
}

/* ---- the verdict (soak_verdict) ------------------------------------------ */

/* Second T-1 of the soak, into the soak's sums and its hour's; at the end of
 * a soak hour, the run of complete hours above the success target. */
static void verdict_take_second(soak_follower *f, int64_t T, const win_counts *second)
{
    soak_totals *t = &f->tot;
    add_second(&t->all, second);
    add_second(&t->hour, second);
    if ((T - f->start_s) % 3600 != 0)
        return;
    sw_wm m;
    win_view v = {&t->hour, NULL, 0};
    wm_compute(&v, &m, 0);
    int complete = T - 3600 >= sw_engine_t0(f->e);
    if (complete && !isnan(m.success_rate) && m.success_rate > f->cfg->soak.success_rate_min)
        t->run++;
    else
        t->run = 0;
    if (t->run > t->best)
        t->best = t->run;
    memset(&t->hour, 0, sizeof(t->hour));
}

static void on_signoff(void *ud, const char *criterion, const char *by, int64_t T)
{
    soak_follower *f = ud;
    int i = config_soak_signoff_index(&f->cfg->soak, criterion);
    if (i < 0 || f->tot.signed_at[i] != INT64_MIN)
        return; /* the first sign-off of a criterion stands */
    f->tot.signed_at[i] = T;
    snprintf(f->tot.signed_by[i], sizeof(f->tot.signed_by[i]), "%s", by);
}

typedef struct verdict_item {
    const char *key;
    char title[SW_STR_MAX + 1];
    int technical, pass;
    const char *by;     /* NULL: none */
    char detail[SW_STR_MAX + 128];
} verdict_item;

/* The four technical criteria of the plan, judged over the soak so far. */
static void technical_items(const soak_follower *f, verdict_item it[4])
{
    const sw_soak *s = &f->cfg->soak;
    const soak_totals *t = &f->tot;
    sw_wm m;
    win_view v = {&t->all, NULL, 0};
    wm_compute(&v, &m, 0);
    memset(it, 0, 4 * sizeof(*it));
    it[0].key = "success_rate_24h";
    int64_t need = s->hours < 24 ? s->hours : 24; /* a shorter soak: all of it */
    snprintf(it[0].title, sizeof(it[0].title), "Success rate > %g%% for %" PRId64 "+ hours",
             s->success_rate_min * 100.0, need);
    it[0].pass = t->best >= need;
    snprintf(it[0].detail, sizeof(it[0].detail),
             "longest run %" PRId64 " h, current run %" PRId64 " h", t->best, t->run);
    it[1].key = "latency_mean";
    snprintf(it[1].title, sizeof(it[1].title), "Response time < %gs average",
             s->latency_mean_max_ms / 1000.0);
    it[1].pass = !isnan(m.latency_mean_ms) && m.latency_mean_ms < s->latency_mean_max_ms;
    if (isnan(m.latency_mean_ms))
        snprintf(it[1].detail, sizeof(it[1].detail), "no response times in the soak");
    else
        snprintf(it[1].detail, sizeof(it[1].detail), "%.3fs over the soak",
                 m.latency_mean_ms / 1000.0);
    it[2].key = "error_rate";
    snprintf(it[2].title, sizeof(it[2].title), "Error rate < %g%%", s->error_rate_max * 100.0);
    it[2].pass = !isnan(m.error_rate) && m.error_rate < s->error_rate_max;
    if (isnan(m.error_rate))
        snprintf(it[2].detail, sizeof(it[2].detail), "no outcomes in the soak");
    else
        snprintf(it[2].detail, sizeof(it[2].detail), "%.2f%% over the soak",
                 m.error_rate * 100.0);
    it[3].key = "no_rollback_trigger";
    snprintf(it[3].title, sizeof(it[3].title), "No rollback trigger fired");
    it[3].pass = t->firings == 0;
    snprintf(it[3].detail, sizeof(it[3].detail), "%" PRIu64 " fired since the soak start",
             t->firings);
    for (int i = 0; i < 4; i++)
        it[i].technical = 1;
}

static void signoff_item(const soak_follower *f, int i, verdict_item *it)
{
    const struct sw_signoff_def *d = &f->cfg->soak.signoffs[i];
    memset(it, 0, sizeof(*it));
    it->key = d->key;
    snprintf(it->title, sizeof(it->title), "%s", d->title);
    it->pass = f->tot.signed_at[i] != INT64_MIN;
    if (it->pass) {
        char ts[40];
        dec_rfc3339_format(f->tot.signed_at[i] * 1000, ts, sizeof(ts));
        it->by = f->tot.signed_by[i];
        snprintf(it->detail, sizeof(it->detail), "signed off at %s", ts);
    } else {
        snprintf(it->detail, sizeof(it->detail), "not signed off");
    }
}

static const char *const verdict_words[] = {"go", "no_go", "pending"};
static const char *const verdict_caps[] = {"GO", "NO-GO", "PENDING"};

/* The plan's "Success Criteria for Week 2 Beta Rollout", checked, into f->text. */
static int verdict_text(soak_follower *f, int64_t hour, int final, int verdict,
                        const verdict_item *it, int n)
{
    sw_buf *b = &f->text;
    buf_reset(b);
    int rc = buf_printf(b, "\xf0\x9f\x8e\xaf %s - Hour %" PRId64 " %s: %s\n\n",
                        f->cfg->soak.title, hour,
                        final ? "Final Decision" : "Assessment (provisional)",
                        verdict_caps[verdict]);
    rc |= buf_puts(b, "Success Criteria for Week 2 Beta Rollout\n\nTechnical Metrics:\n");
    for (int i = 0; i < n; i++) {
        if (i == 4)
            rc |= buf_puts(b, "\nOperational Metrics:\n");
        rc |= buf_printf(b, "- [%c] %s: %s", it[i].pass ? 'x' : ' ', it[i].title, it[i].detail);
        rc |= it[i].by ? buf_printf(b, " by %s\n", it[i].by) : buf_puts(b, "\n");
    }
    if (n == 4)
        rc |= buf_puts(b, "\nOperational Metrics: none configured\n");
    rc |= buf_puts(b, verdict == 0   ? "\nDecision: GO for the Week 2 beta rollout"
                      : verdict == 1 ? "\nDecision: NO-GO, a technical criterion failed"
                                     : "\nDecision: PENDING, sign-offs missing");
    return rc || b->failed ? -1 : 0;
}

static int verdict_json(soak_follower *f, int64_t T, int final, int verdict,
                        const verdict_item *it, int n)
{
    sw_buf *b = &f->out;
    char ts[40];
    dec_rfc3339_format(T * 1000, ts, sizeof(ts));
    buf_reset(b);
    int rc = buf_printf(b, "{\"type\":\"soak_verdict\",\"schema_version\":1,\"id\":\"soak_verdict:%"
                        PRId64 "\",\"at_ms\":%" PRId64 ",\"at\":\"%s\",\"soak_start_ms\":%" PRId64
                        ",\"kind\":\"%s\",\"verdict\":\"%s\",\"criteria\":[",
                        T * 1000, T * 1000, ts, f->start_s * 1000,
                        final ? "final" : "provisional", verdict_words[verdict]);
    for (int i = 0; i < n; i++) {
        rc |= buf_puts(b, i ? ",{\"key\":" : "{\"key\":");
        rc |= buf_json_str(b, it[i].key);
        rc |= buf_puts(b, ",\"title\":");
        rc |= buf_json_str(b, it[i].title);
        rc |= buf_printf(b, ",\"kind\":\"%s\",\"pass\":%s,\"detail\":",
                         it[i].technical ? "technical" : "signoff", it[i].pass ? "true" : "false");
        rc |= buf_json_str(b, it[i].detail);
        rc |= buf_puts(b, ",\"by\":");
        rc |= it[i].by ? buf_json_str(b, it[i].by) : buf_puts(b, "null");
        rc |= buf_puts(b, "}");
    }
    rc |= buf_puts(b, "],\"text\":");
    rc |= buf_json_str(b, f->text.data);
    rc |= buf_puts(b, "}");
    return rc || b->failed ? -1 : 0;
}

/* At soak hour 24 (provisional, when the soak is longer) and at its last
 * hour (final), after the update of that instant: the go/no-go. */
static void verdict_at(soak_follower *f, int64_t T)
{
    int64_t hour = (T - f->start_s) / 3600, hours = f->cfg->soak.hours;
    int final = hour == hours;
    if (!f->emitting || (!final && !(hour == 24 && hours > 24)))
        return;
    verdict_item it[4 + SW_SOAK_MAX_SIGNOFFS];
    technical_items(f, it);
    int n = 4, failed = 0, missing = 0;
    for (int i = 0; i < f->cfg->soak.n_signoffs; i++)
        signoff_item(f, i, &it[n++]);
    for (int i = 0; i < n; i++) {
        failed |= it[i].technical && !it[i].pass;
        missing |= !it[i].technical && !it[i].pass;
    }
    int verdict = failed ? 1 : missing ? 2 : 0;
    if (verdict_text(f, hour, final, verdict, it, n) != 0 ||
        verdict_json(f, T, final, verdict, it, n) != 0) {
        fprintf(stderr, "soakwatch: the soak verdict of hour %" PRId64
                        " does not fit in %d bytes; not emitted\n", hour, SOAK_OUT_CAP);
        return;
    }
    f->c->soak_verdict = verdict;
    f->c->soak_verdict_hour = hour;
    emit_own(f, SW_OUT_SOAK_VERDICT, T, final);
}

/* ---- following the stream ------------------------------------------------ */

/* The update of the period that ends at T: emitted when T is in the emit
 * range; then the next period begins. */
static void finish_period(soak_follower *f, int64_t T)
{
    soak_period p;
    win_view v = {&f->sum, NULL, 0};
    wm_compute(&v, &p.m, 0);
    checks_of(f, &p.m, p.ck);
    int64_t t0 = sw_engine_t0(f->e), ps = period_start_s(f);
    p.uncovered_s = t0 > ps ? t0 - ps : 0;
    uint64_t late = sw_engine_stats_get(f->e)->late, rejected = rejected_so_far(f);
    p.late = late - f->late0;
    p.rejected = rejected - f->rejected0;
    p.next_to = soak_next_hour(f->hour_to, f->cfg->soak.hours);
    if (f->emitting) {
        if (render_text(f, &p) == 0 && render_json(f, &p) == 0) {
            emit_own(f, SW_OUT_SOAK_UPDATE, T, 0);
        } else {
            fprintf(stderr, "soakwatch: the soak update of hour %" PRId64
                            " does not fit in %d bytes; not emitted\n",
                    f->hour_to, SOAK_OUT_CAP);
        }
    }
    f->c->soak_hour = f->hour_to;
    f->c->soak_last_status = f->worst;
    memset(&f->sum, 0, sizeof(f->sum));
    f->worst = -1;
    f->n_notes = 0;
    f->notes_omitted = 0;
    f->late0 = late;
    f->rejected0 = rejected;
    f->hour_from = f->hour_to;
    f->hour_to = p.next_to;
}

static void follow_state(soak_follower *f, uint8_t *was, int r, int firing, int64_t T,
                         int in_period, const char *cohort)
{
    uint8_t now = (uint8_t)(firing != 0);
    if (now != *was && !f->emitting && in_period)
        note(f, r, now, T, cohort);
    if (now && !*was && !f->emitting && in_period)
        f->tot.firings++;
    *was = now;
}

/* Rule transitions at an instant outside the emit range, from the
 * engine's states (inside it, soak_emit sees the triggers themselves): in
 * rule order and, for a rule judged in cohorts, cohort order, as the
 * engine emits them. */
static void follow_rules(soak_follower *f, int64_t T, int in_period)
{
    for (int r = 0; r < f->cfg->n_rules; r++) {
        if (f->cfg->rules[r].cohort_scope == SW_SCOPE_WHOLE) {
            follow_state(f, &f->firing[r], r, sw_engine_rule_firing(f->e, r), T, in_period,
                         NULL);
            continue;
        }
        for (int c = 0; c < sw_engine_cohorts(f->e); c++) {
            const char *name = sw_engine_cohort_name(f->e, c);
            follow_state(f, &f->coh_firing[r][c], r,
                         name && sw_engine_cohort_rule_firing(f->e, r, c), T, in_period, name);
        }
    }
}

static void on_instant(void *ud, int64_t T, const win_counts *second, int emitting)
{
    soak_follower *f = ud;
    ensure_start(f, T);
    f->emitting = emitting;
    int in_period = f->hour_to != 0 && T > period_start_s(f) && T <= period_end_s(f);
    follow_rules(f, T, in_period);
    if (f->hour_to == 0)
        return;
    if (T - 1 >= period_start_s(f) && T - 1 < period_end_s(f)) {
        add_second(&f->sum, second);
        verdict_take_second(f, T, second);
    }
    int64_t unit = f->cfg->status_interval_s;
    if (in_period && T % unit == 0 && T >= sw_engine_t0(f->e) + unit) {
        int colour = sw_engine_status(f->e);
        if (colour > f->worst)
            f->worst = colour;
    }
    if (T == period_end_s(f)) {
        finish_period(f, T);
        verdict_at(f, T);
    }
}

void soak_bind(soak_follower *f, sw_engine *e, sw_counters *c, sw_emit_fn next, void *next_ud)
{
    f->e = e;
    f->c = c;
    f->next = next;
    f->next_ud = next_ud;
    c->soak_hour = -1;
    c->soak_last_status = -1;
    c->soak_verdict = -1;
    c->soak_verdict_hour = 0;
    sw_engine_set_instant_hook(e, on_instant, f);
    sw_engine_set_signoff_hook(e, on_signoff, f);
}

void soak_attach(void *ud, sw_engine *e, sw_counters *c, sw_emit_fn next, void *next_ud)
{
    soak_bind(ud, e, c, next, next_ud);
}

void soak_set_text(soak_follower *f, int text) { f->text_mode = text; }
