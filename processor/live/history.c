/* history.c: the output topic's recent history at start (history.h). */
#include "history.h"

#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../engine_time.h"
#include "../kafka.h"

#define META_TIMEOUT_MS 10000
#define DEFAULT_GROUP "soakwatch"

typedef struct hist_trigger {
    int64_t at_ms;
    int rule;
    int firing;
    char cohort[LABEL_NAME_MAX + 1]; /* "": the whole topic */
} hist_trigger;

struct history_builder {
    const sw_config *cfg;
    sw_history h;
    int64_t status_at;
    int64_t soak_at;       /* the latest soak_update taken, -1: none */
    int short_of_memory;   /* an event went unread: the history is unknown */
    size_t n_trig;
    hist_trigger trig[MAX_HISTORY_TRIGGERS];
};

history_builder *history_builder_create(const sw_config *cfg)
{
    history_builder *b = calloc(1, sizeof(*b));
    if (b) {
        b->cfg = cfg;
        b->h.last_at_ms = -1;
        b->h.soak_start_ms = -1;
        b->status_at = -1;
        b->soak_at = -1;
    }
    return b;
}

void history_builder_destroy(history_builder *b)
{
    free(b);
}

static int rule_index_n(const sw_config *cfg, const char *name, size_t n)
{
    for (int r = 0; r < cfg->n_rules; r++)
        if (strncmp(cfg->rules[r].name, name, n) == 0 && cfg->rules[r].name[n] == '\0')
            return r;
    return -1;
}

static int rule_index(const sw_config *cfg, const json_t *name)
{
    if (!json_is_string(name))
        return -1;
    return rule_index_n(cfg, json_string_value(name), json_string_length(name));
}

/* The cohort of value s[0..n): listed, `other`, or kept first come (in
 * the history's order, added at the end when add is set and there is
 * room), or -1. */
static int cohort_named(history_builder *b, const char *s, size_t n, int64_t at_ms, int add)
{
    const sw_cohorts *k = &b->cfg->cohorts;
    if (!k->enabled || n > LABEL_NAME_MAX)
        return -1;
    if (n == 5 && memcmp(s, "other", 5) == 0)
        return k->max;
    int c = labels_lookup(&k->values, s, n);
    if (c < k->values.n)
        return c;
    for (int i = 0; i < b->h.n_kept; i++)
        if (strlen(b->h.kept[i]) == n && memcmp(b->h.kept[i], s, n) == 0)
            return k->values.n + i;
    if (!add || k->values.n + b->h.n_kept >= k->max || !config_name_ok(s, n, LABEL_NAME_MAX))
        return -1;
    memcpy(b->h.kept[b->h.n_kept], s, n);
    b->h.kept[b->h.n_kept][n] = '\0';
    b->h.kept_from_s[b->h.n_kept] = sw_floor_div(at_ms, 1000);
    return k->values.n + b->h.n_kept++;
}

/* The cohort named by s[0..n) in which rule r keeps a state, or -1. */
static int cohort_of(history_builder *b, int r, const char *s, size_t n, int64_t at_ms, int add)
{
    int c = cohort_named(b, s, n, at_ms, add);
    return c >= 0 && SW_RULE_IN_COHORT(&b->cfg->rules[r], c) ? c : -1;
}

/* "RULE:COHORT" of a status's cohorts_firing. */
static void take_cohort_firing(history_builder *b, const json_t *f, int64_t at_ms)
{
    const char *s = json_string_value(f);
    const char *colon = s ? strchr(s, ':') : NULL;
    if (colon == NULL)
        return;
    int r = rule_index_n(b->cfg, s, (size_t)(colon - s));
    int c = r < 0 ? -1 : cohort_of(b, r, colon + 1, strlen(colon + 1), at_ms, 1);
    if (c >= 0)
        b->h.cohort_published[r][c] = 1;
}

static int cmp_trigger(const void *a, const void *b)
{
    const hist_trigger *x = a, *y = b;
    return x->at_ms < y->at_ms ? -1 : x->at_ms > y->at_ms;
}

/* The latest status sets every rule's state. */
static void take_status(history_builder *b, const json_t *o, int64_t at_ms)
{
    if (at_ms <= b->status_at)
        return;
    b->status_at = at_ms;
    memset(b->h.published, 0, sizeof(b->h.published));
    memset(b->h.cohort_published, 0, sizeof(b->h.cohort_published));
    b->h.n_kept = 0; /* the values kept first come: the status's cohorts, in order */
    const char *key;
    json_t *f;
    json_object_foreach(json_object_get(o, "cohorts"), key, f)
        (void)cohort_named(b, key, strlen(key), at_ms, 1);
    size_t i;
    json_array_foreach(json_object_get(o, "firing"), i, f)
    {
        int r = rule_index(b->cfg, f);
        if (r >= 0 && b->cfg->rules[r].cohort_scope == SW_SCOPE_WHOLE)
            b->h.published[r] = 1;
    }
    json_array_foreach(json_object_get(o, "cohorts_firing"), i, f)
        take_cohort_firing(b, f, at_ms);
}

/* The soak a restart carries on (docs/semantics.md section 11). */
static void take_soak(history_builder *b, const json_t *o, int64_t at_ms)
{
    const json_t *s = json_object_get(o, "soak_start_ms");
    if (at_ms <= b->soak_at || !json_is_integer(s))
        return;
    b->soak_at = at_ms;
    b->h.soak_start_ms = json_integer_value(s);
}

static void take_trigger(history_builder *b, const json_t *o, int64_t at_ms)
{
    int r = rule_index(b->cfg, json_object_get(o, "rule"));
    json_t *state = json_object_get(o, "state"), *coh = json_object_get(o, "cohort");
    if (r < 0 || !json_is_string(state))
        return;
    if (coh != NULL) {
        if (!json_is_string(coh) || json_string_length(coh) > LABEL_NAME_MAX ||
            b->cfg->rules[r].cohort_scope == SW_SCOPE_WHOLE)
            return; /* a cohort this configuration does not judge the rule in */
    } else if (b->cfg->rules[r].cohort_scope != SW_SCOPE_WHOLE) {
        return;
    }
    if (b->n_trig == MAX_HISTORY_TRIGGERS) {
        /* Keep the latest: drop the oldest half. */
        qsort(b->trig, b->n_trig, sizeof(b->trig[0]), cmp_trigger);
        memmove(b->trig, b->trig + b->n_trig / 2,
                (b->n_trig - b->n_trig / 2) * sizeof(b->trig[0]));
        b->n_trig -= b->n_trig / 2;
    }
    hist_trigger *t = &b->trig[b->n_trig++];
    t->at_ms = at_ms;
    t->rule = r;
    snprintf(t->cohort, sizeof(t->cohort), "%s", coh ? json_string_value(coh) : "");
    t->firing = strcmp(json_string_value(state), "firing") == 0;
}

void history_builder_take(history_builder *b, const char *json, size_t len)
{
    json_error_t jerr;
    json_t *o = json_loadb(json, len, 0, &jerr);
    if (o == NULL && jerr.text[0] == '\0') {
        /* jansson names every syntax error; no text: memory ran out */
        b->short_of_memory = 1;
        return;
    }
    json_t *type = json_object_get(o, "type");
    json_t *at = json_object_get(o, "at_ms");
    if (json_is_string(type) && json_is_integer(at)) {
        int64_t at_ms = json_integer_value(at);
        if (at_ms > b->h.last_at_ms)
            b->h.last_at_ms = at_ms;
        if (strcmp(json_string_value(type), "status") == 0)
            take_status(b, o, at_ms);
        else if (strcmp(json_string_value(type), "rollback_trigger") == 0)
            take_trigger(b, o, at_ms);
        else if (strcmp(json_string_value(type), "soak_update") == 0)
            take_soak(b, o, at_ms);
    }
    json_decref(o);
}

static void no_history(sw_history *out)
{
    out->last_at_ms = -1;
    out->soak_start_ms = -1;
    memset(out->published, 0, sizeof(out->published));
    memset(out->cohort_published, 0, sizeof(out->cohort_published));
    out->n_kept = 0;
}

int history_builder_finish(history_builder *b, sw_history *out)
{
    if (b->short_of_memory) {
        no_history(out);
        return -ENOMEM;
    }
    /* Transitions after the last status (at one instant the status comes
     * after the transitions, so it already holds those). */
    qsort(b->trig, b->n_trig, sizeof(b->trig[0]), cmp_trigger);
    for (size_t i = 0; i < b->n_trig; i++) {
        const hist_trigger *t = &b->trig[i];
        if (t->at_ms <= b->status_at)
            continue;
        if (t->cohort[0] == '\0') {
            b->h.published[t->rule] = (uint8_t)t->firing;
            continue;
        }
        int c = cohort_of(b, t->rule, t->cohort, strlen(t->cohort), t->at_ms, 1);
        if (c >= 0) /* else a cohort this configuration does not judge the rule in */
            b->h.cohort_published[t->rule][c] = (uint8_t)t->firing;
    }
    *out = b->h;
    return 0;
}

/* ---- reading the topic -------------------------------------------------- */

typedef struct reader {
    kafka_client *k;
    const char *topic;
    int n, done;
    int64_t *hi, *next;
} reader;

/* Assign every partition from the first record at or after from_ms up to
 * its end now. Returns 0, 1 when the topic does not exist, -1 with errstr. */
static int reader_open(reader *r, const sw_config *cfg, int64_t from_ms, char *errstr,
                       size_t errlen)
{
    r->k = kafka_consumer_create(cfg, cfg->group[0] ? cfg->group : DEFAULT_GROUP, errstr,
                                 errlen);
    if (r->k == NULL)
        return -1;
    r->n = kafka_partition_count(r->k, r->topic, META_TIMEOUT_MS, 1, errstr, errlen);
    if (r->n == -ENOENT)
        return 1;
    if (r->n < 0)
        return -1;
    r->hi = calloc((size_t)r->n, sizeof(int64_t));
    r->next = calloc((size_t)r->n, sizeof(int64_t));
    if (r->hi == NULL || r->next == NULL) {
        snprintf(errstr, errlen, "out of memory");
        return -1;
    }
    if (kafka_high_watermarks(r->k, r->topic, r->n, r->hi, META_TIMEOUT_MS, errstr, errlen) ||
        kafka_offsets_for_time(r->k, r->topic, r->n, from_ms, r->hi, r->next, META_TIMEOUT_MS,
                               errstr, errlen) ||
        kafka_split(r->k, r->topic, r->n, errstr, errlen) ||
        kafka_assign(r->k, r->topic, r->n, r->next, errstr, errlen))
        return -1;
    for (int p = 0; p < r->n; p++)
        r->done += r->next[p] >= r->hi[p];
    return 0;
}

/* Take what partition p has queued. Returns 1 when something came. */
static int reader_take(reader *r, int p, history_builder *b)
{
    kafka_msg km;
    int got = 0;
    while (r->next[p] < r->hi[p] && kafka_consume_part(r->k, p, &km)) {
        got = 1;
        if (km.kind == KAFKA_MSG && km.offset < r->hi[p])
            history_builder_take(b, km.value, km.len);
        if (km.kind == KAFKA_MSG || km.kind == KAFKA_EOF) {
            int64_t next = km.kind == KAFKA_MSG ? km.offset + 1 : km.offset;
            if (next > r->next[p])
                r->next[p] = next;
            if (r->next[p] >= r->hi[p])
                r->done++;
        } else if (km.kind == KAFKA_ERROR) {
            fprintf(stderr, "soakwatch: kafka %s/%d: %s\n", r->topic, p, km.errstr);
        }
        kafka_msg_release(&km);
    }
    return got;
}

/* One pass over the queues; waits up to 100 ms when nothing came. */
static void reader_pass(reader *r, history_builder *b)
{
    kafka_msg km;
    int got = 0;
    while (kafka_consume(r->k, &km)) {
        if (km.kind == KAFKA_ERROR)
            fprintf(stderr, "soakwatch: kafka consumer: %s\n", km.errstr);
        kafka_msg_release(&km);
    }
    for (int p = 0; p < r->n; p++)
        got |= reader_take(r, p, b);
    if (!got) {
        struct pollfd pfd = {kafka_wakeup_fd(r->k), POLLIN, 0};
        poll(&pfd, 1, 100);
        kafka_fd_drain(pfd.fd);
    }
}

int history_read(const sw_config *cfg, const char *topic, sw_now_fn now_fn, void *now_ud,
                 sw_history *out, char *errstr, size_t errlen)
{
    reader r = {NULL, topic, 0, 0, NULL, NULL};
    history_builder *b = history_builder_create(cfg);
    int64_t now_ms = now_fn(now_ud);
    int rc = -1;
    if (b == NULL) {
        snprintf(errstr, errlen, "out of memory");
        goto out;
    }
    rc = reader_open(&r, cfg, sw_time_history_from_ms(cfg, now_ms), errstr, errlen);
    if (rc != 0) {
        rc = rc > 0 ? 0 : -1; /* no topic yet: nothing published */
        goto out;
    }
    int64_t deadline = now_ms + HISTORY_TIMEOUT_MS;
    while (r.done < r.n) {
        if (now_fn(now_ud) > deadline) {
            snprintf(errstr, errlen, "reading the recent history of output topic %s timed out",
                     topic);
            rc = -1;
            goto out;
        }
        reader_pass(&r, b);
    }
out:
    if (b && rc == 0 && history_builder_finish(b, out) != 0) {
        snprintf(errstr, errlen, "out of memory reading the recent history of output topic %s",
                 topic);
        rc = -1;
    }
    if (rc != 0)
        no_history(out);
    kafka_destroy(r.k);
    free(r.hi);
    free(r.next);
    history_builder_destroy(b);
    return rc;
}
