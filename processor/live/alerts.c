/* alerts.c: the active alert set and its posting (alerts.h). The set is
 * allocated at create: 2 x rules alerts (firing rules, then not_verified
 * checks), then with cohorts one per rule and cohort (section 12); an
 * output costs a scan of its own fields, a serve a look at the next due
 * time. */
#include "alerts.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../alertpost.h"
#include "../config_cohorts.h"
#include "../event.h"
#include "../output.h"

#define RETRY_SOON_MS 100 /* a payload the poster had no room for */

enum { A_OFF = 0, A_FIRING, A_RESOLVED };

typedef struct alert {
    int state;
    int64_t starts_ms, ends_ms; /* event time of the firing (first sight) and resolution */
    uint64_t seq;               /* of the latest state */
    uint64_t sent_seq;          /* handed on */
    int64_t next_ms;            /* wall clock: posted again then */
    char trigger_id[SW_RULE_NAME_MAX + LABEL_NAME_MAX + 32];
    char summary[768];
} alert;

struct sw_alerts {
    const sw_config *cfg;
    sw_counters *c;
    int n_rules, n;             /* firing rules, not_verified checks, then cohort states */
    int n_coh;                  /* cohorts (max + 1) when configured, else 0 */
    /* Each cohort's value: the listed ones, `other` last, and between them
     * the values kept first come, in the order their triggers came. */
    char coh_name[SW_MAX_COHORTS + 1][LABEL_NAME_MAX + 1];
    alert *al;
    alerts_send_fn send;
    void *send_ud;
    ap_poster *poster;
    sw_emit_fn next;
    void *next_ud;
    alerts_firing_fn firing;
    const void *firing_ud;
    int dirty;                  /* an alert changed since the last serve */
    int64_t next_due_ms;        /* earliest next_ms of an active alert */
    char out[AP_SLOT_BYTES];
};

/* ---- a payload in a fixed buffer ----------------------------------------- */

typedef struct jb {
    char *p;
    size_t len, cap;
    int over;
} jb;

static void jb_raw(jb *b, const char *s)
{
    size_t n = strlen(s);
    if (b->over || b->len + n >= b->cap) {
        b->over = 1;
        return;
    }
    memcpy(b->p + b->len, s, n + 1);
    b->len += n;
}

/* A JSON string, escaped. */
static void jb_str(jb *b, const char *s)
{
    char e[8];
    jb_raw(b, "\"");
    for (; *s && !b->over; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') {
            e[0] = '\\', e[1] = (char)ch, e[2] = '\0';
        } else if (ch < 0x20) {
            snprintf(e, sizeof(e), "\\u%04x", ch);
        } else {
            e[0] = (char)ch, e[1] = '\0';
        }
        jb_raw(b, e);
    }
    jb_raw(b, "\"");
}

static void jb_kv(jb *b, const char *sep, const char *k, const char *v)
{
    jb_raw(b, sep);
    jb_str(b, k);
    jb_raw(b, ":");
    jb_str(b, v);
}

static void jb_time(jb *b, const char *k, int64_t ms)
{
    char t[40];
    dec_rfc3339_format(ms, t, sizeof(t));
    jb_kv(b, ",", k, t);
}

/* One alert as Alertmanager's API v2 takes it: an array of one. */
static size_t render(sw_alerts *a, int k, char *out, size_t cap)
{
    const alert *x = &a->al[k];
    int check = k >= a->n_rules && k < 2 * a->n_rules, coh = k >= 2 * a->n_rules;
    int r = coh ? (k - 2 * a->n_rules) / a->n_coh : k % a->n_rules;
    const char *rule = a->cfg->rules[r].name;
    const char *action = check ? "escalate"
                         : a->cfg->rules[r].action == SW_ACTION_ROLLBACK_COHORT ? "rollback_cohort"
                                                                                : "disable_flag";
    jb b = {out, 0, cap, 0};
    jb_raw(&b, "[{\"labels\":{");
    jb_kv(&b, "", "alertname", check ? "RollbackNotVerified" : rule);
    if (check)
        jb_kv(&b, ",", "rule", rule);
    if (coh)
        jb_kv(&b, ",", "cohort", a->coh_name[(k - 2 * a->n_rules) % a->n_coh]);
    jb_kv(&b, ",", "feature", a->cfg->feature);
    jb_kv(&b, ",", "severity", "critical");
    jb_raw(&b, "},\"annotations\":{");
    jb_kv(&b, "", "summary", x->summary);
    if (x->trigger_id[0])
        jb_kv(&b, ",", "trigger_id", x->trigger_id);
    jb_kv(&b, ",", "action", action);
    jb_raw(&b, "}");
    jb_time(&b, "startsAt", x->starts_ms);
    if (x->state == A_RESOLVED)
        jb_time(&b, "endsAt", x->ends_ms);
    if (a->cfg->alertmanager.generator_url[0])
        jb_kv(&b, ",", "generatorURL", a->cfg->alertmanager.generator_url);
    jb_raw(&b, "}]");
    return b.over ? 0 : b.len;
}

/* ---- reading the output events ------------------------------------------- */

/* The value of a top-level field as written (a number, null, or a string
 * with its quotes). `,"name":` cannot occur inside a JSON string, where a
 * quote is escaped, and the fields read here come before any nested ones. */
static void field(const sw_output *o, const char *name, char *out, size_t cap)
{
    char pat[48];
    int n = snprintf(pat, sizeof(pat), ",\"%s\":", name);
    out[0] = '\0';
    const char *end = o->json + o->json_len, *p = o->json;
    for (; p + n <= end; p++)
        if (memcmp(p, pat, (size_t)n) == 0)
            break;
    if (p + n > end)
        return;
    p += n;
    size_t len = 0;
    while (p + len < end && p[len] != ',' && p[len] != '}' && len + 1 < cap)
        len++;
    memcpy(out, p, len);
    out[len] = '\0';
}

static void changed(sw_alerts *a, alert *x)
{
    x->seq++;
    a->dirty = 1;
}

/* The alert of rule r in the cohort of value v (section 12): listed
 * values and `other` have theirs; a value kept first come takes the next
 * free one the first time it is seen. */
static alert *cohort_alert(sw_alerts *a, int r, const char *v)
{
    int other = a->n_coh - 1, c = 0;
    if (strcmp(v, "other") == 0)
        c = other;
    while (c < other && a->coh_name[c][0] && strcmp(a->coh_name[c], v) != 0)
        c++;
    if (c < other && a->coh_name[c][0] == '\0')
        snprintf(a->coh_name[c], sizeof(a->coh_name[c]), "%s", v);
    return &a->al[2 * a->n_rules + r * a->n_coh + c];
}

/* The alert of a trigger: its rule's, or its rule's in its cohort. */
static alert *trigger_alert(sw_alerts *a, const sw_output *o)
{
    if (o->cohort == NULL || a->n_coh == 0)
        return &a->al[o->rule];
    return cohort_alert(a, o->rule, o->cohort);
}

static void take_trigger(sw_alerts *a, const sw_output *o)
{
    alert *x = trigger_alert(a, o);
    const sw_rule *r = &a->cfg->rules[o->rule];
    char thr[32], val[32], win[24], n[24], who[SW_RULE_NAME_MAX + LABEL_NAME_MAX + 8];
    snprintf(who, sizeof(who), "%s%s%s%s", r->name, o->cohort ? " [" : "",
             o->cohort ? o->cohort : "", o->cohort ? "]" : "");
    field(o, "threshold", thr, sizeof(thr));
    field(o, "value", val, sizeof(val));
    field(o, "window_s", win, sizeof(win));
    field(o, "samples", n, sizeof(n));
    if (!o->firing) {
        if (x->state == A_OFF) { /* firing before a restart: Alertmanager may hold it */
            x->starts_ms = o->at_s * 1000;
            x->trigger_id[0] = '\0';
            snprintf(x->summary, sizeof(x->summary), "%s %s %s %s: resolved at value %s over %s "
                     "s, %s samples", who, r->metric_name, config_op_name(r->op), thr, val, win,
                     n);
        }
        x->state = A_RESOLVED;
        x->ends_ms = o->at_s * 1000;
        changed(a, x);
        return;
    }
    if (x->state != A_FIRING) /* else: seen at a restart's status; keep its start */
        x->starts_ms = o->at_s * 1000;
    x->state = A_FIRING;
    output_trigger_id(r->name, o->cohort, o->at_s, x->trigger_id, sizeof(x->trigger_id));
    snprintf(x->summary, sizeof(x->summary), "%s %s %s %s: value %s over %s s, %s samples",
             who, r->metric_name, config_op_name(r->op), thr, val, win, n);
    changed(a, x);
}

/* not_verified starts the rule's RollbackNotVerified alert; the rule's
 * baseline (its resolution) ends it. */
static void take_check(sw_alerts *a, const sw_output *o)
{
    alert *x = &a->al[a->n_rules + o->rule];
    const sw_rule *r = &a->cfg->rules[o->rule];
    if (o->firing == SW_CHECK_BASELINE && x->state == A_FIRING) {
        x->state = A_RESOLVED;
        x->ends_ms = o->at_s * 1000;
        changed(a, x);
        return;
    }
    if (o->firing != SW_CHECK_NOT_VERIFIED)
        return;
    char fired[24], u[24], q[24], within[24], at[40];
    field(o, "fired_at_ms", fired, sizeof(fired));
    field(o, "unavailable", u, sizeof(u));
    field(o, "quiet_s", q, sizeof(q));
    field(o, "verify_within_s", within, sizeof(within));
    dec_rfc3339_format(strtoll(fired, NULL, 10), at, sizeof(at));
    x->state = A_FIRING;
    x->starts_ms = o->at_s * 1000;
    snprintf(x->trigger_id, sizeof(x->trigger_id), "%s:%s", r->name, fired);
    snprintf(x->summary, sizeof(x->summary),
             "%s fired %s; %s %s, no requests for %s s; not verified within %s s: the flag "
             "may still be on", r->name, at, a->cfg->rollback_reason, u, q, within);
    changed(a, x);
}

/* An alert firing since before a restart: started at the first instant
 * the restarted run emits. */
static void firing_before(sw_alerts *a, alert *x, const sw_rule *r, const char *cohort,
                          int64_t at_s)
{
    x->state = A_FIRING;
    x->starts_ms = at_s * 1000;
    x->trigger_id[0] = '\0';
    snprintf(x->summary, sizeof(x->summary), "%s%s%s%s %s %s %.15g: firing since before "
             "soakwatch started", r->name, cohort ? " [" : "", cohort ? cohort : "",
             cohort ? "]" : "", r->metric_name, config_op_name(r->op), r->threshold);
    changed(a, x);
}

/* At every output: each rule (and each rule's cohort) the engine says is
 * firing has its alert, also when its firing was published before a
 * restart and is not emitted again. */
static void sync_firing(sw_alerts *a, const sw_output *o)
{
    if (a->firing == NULL)
        return;
    for (int i = 0; i < a->n_rules; i++) {
        const sw_rule *r = &a->cfg->rules[i];
        const char *name = NULL;
        if (r->cohort_scope == SW_SCOPE_WHOLE) {
            if (a->al[i].state != A_FIRING && a->firing(a->firing_ud, i, -1, &name))
                firing_before(a, &a->al[i], r, NULL, o->at_s);
            continue;
        }
        for (int c = 0; c < a->n_coh; c++) {
            if (!a->firing(a->firing_ud, i, c, &name))
                continue;
            alert *x = cohort_alert(a, i, name);
            if (x->state != A_FIRING)
                firing_before(a, x, r, name, o->at_s);
        }
    }
}

void alerts_output(void *ud, const sw_output *o)
{
    sw_alerts *a = ud;
    sync_firing(a, o);
    if (o->type == SW_OUT_TRIGGER && o->rule >= 0 && o->rule < a->n_rules)
        take_trigger(a, o);
    else if (o->type == SW_OUT_ROLLBACK_CHECK && o->rule >= 0 && o->rule < a->n_rules)
        take_check(a, o);
    if (a->next)
        a->next(a->next_ud, o);
}

/* ---- posting ---------------------------------------------------------------- */

void alerts_answered(sw_alerts *a, int key, uint64_t seq, int ok)
{
    if (key < 0 || key >= a->n)
        return;
    alert *x = &a->al[key];
    if (ok && x->state == A_RESOLVED && seq == x->seq)
        x->state = A_OFF; /* Alertmanager has the resolution */
}

static void on_result(void *ud, const ap_result *r)
{
    sw_alerts *a = ud;
    a->c->am_posts_ok += r->posts_ok;
    a->c->am_posts_failed += r->posts_failed;
    if (!r->superseded)
        alerts_answered(a, r->key, r->seq, r->ok);
}

static int poster_send(void *ud, int key, uint64_t seq, const char *json, size_t len)
{
    return ap_submit(ud, key, seq, json, len);
}

/* Hand alert k on when it changed or is due; its next post is due
 * resend_s later (or soon, when there was no room). */
static int send_one(sw_alerts *a, int k, int64_t now_ms)
{
    alert *x = &a->al[k];
    if (x->state == A_OFF || (x->sent_seq == x->seq && now_ms < x->next_ms))
        return 0;
    size_t len = render(a, k, a->out, sizeof(a->out));
    if (len == 0) { /* cannot happen with the config's bounded strings */
        x->sent_seq = x->seq;
        x->next_ms = now_ms + a->cfg->alertmanager.resend_s * 1000;
        return 0;
    }
    if (a->send(a->send_ud, k, x->seq, a->out, len) != 0) {
        x->next_ms = now_ms + RETRY_SOON_MS;
        return 0;
    }
    x->sent_seq = x->seq;
    x->next_ms = now_ms + a->cfg->alertmanager.resend_s * 1000;
    return 1;
}

int alerts_serve(sw_alerts *a, int64_t now_ms)
{
    if (a->poster)
        ap_collect(a->poster, on_result, a);
    if (!a->dirty && now_ms < a->next_due_ms)
        return 0;
    int sent = 0;
    int64_t due = INT64_MAX;
    a->dirty = 0;
    for (int k = 0; k < a->n; k++) {
        sent += send_one(a, k, now_ms);
        const alert *x = &a->al[k];
        if (x->state != A_OFF && x->next_ms < due)
            due = x->next_ms;
    }
    a->next_due_ms = due;
    return sent;
}

void alerts_flush(sw_alerts *a, sw_now_fn now_fn, int64_t wait_ms)
{
    int64_t t0 = now_fn(NULL);
    alerts_serve(a, t0);
    struct timespec pause = {0, 10 * 1000000L};
    while (a->poster && ap_pending(a->poster) > 0 && now_fn(NULL) - t0 < wait_ms) {
        nanosleep(&pause, NULL);
        ap_collect(a->poster, on_result, a);
    }
}

int alerts_active(const sw_alerts *a)
{
    int n = 0;
    for (int k = 0; k < a->n; k++)
        n += a->al[k].state != A_OFF;
    return n;
}

/* ---- life ------------------------------------------------------------------- */

sw_alerts *alerts_create(const sw_config *cfg, sw_counters *c, alerts_send_fn send,
                         void *send_ud, char *errstr, size_t errlen)
{
    sw_alerts *a = calloc(1, sizeof(*a));
    int n_coh = cfg->cohorts.enabled ? cfg->cohorts.max + 1 : 0;
    int n = (2 + n_coh) * (cfg->n_rules > 0 ? cfg->n_rules : 1); /* no rules: none fires */
    if (a == NULL || (a->al = calloc((size_t)n, sizeof(alert))) == NULL) {
        snprintf(errstr, errlen, "out of memory");
        alerts_destroy(a);
        return NULL;
    }
    a->cfg = cfg;
    a->c = c;
    a->n_rules = cfg->n_rules;
    a->n_coh = n_coh;
    for (int k = 0; k < n_coh; k++)
        if (config_cohort_name(&cfg->cohorts, k))
            snprintf(a->coh_name[k], sizeof(a->coh_name[k]), "%s",
                     config_cohort_name(&cfg->cohorts, k));
    a->n = n;
    a->send = send;
    a->send_ud = send_ud;
    a->next_due_ms = INT64_MAX;
    if (send == NULL) {
        if ((a->poster = ap_create(&cfg->alertmanager, n, errstr, errlen)) == NULL) {
            alerts_destroy(a);
            return NULL;
        }
        a->send = poster_send;
        a->send_ud = a->poster;
    }
    return a;
}

void alerts_destroy(sw_alerts *a)
{
    if (a == NULL)
        return;
    ap_destroy(a->poster); /* answers after the last serve are not counted */
    free(a->al);
    free(a);
}

void alerts_bind(sw_alerts *a, sw_emit_fn next, void *next_ud, alerts_firing_fn firing,
                 const void *firing_ud)
{
    a->next = next;
    a->next_ud = next_ud;
    a->firing = firing;
    a->firing_ud = firing_ud;
}
