/* test_rollback_check.c: docs/semantics.md section 10 on the engine: the
 * output events as handed over (type, key, rule, state), the emit range (a
 * firing before it whose check falls inside it), the state being the same
 * whatever the range, and the counts /metrics reads. The contract's edge
 * cases against the reference are in tests/integration/test_rollback_check.py. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "config.h"
#include "engine.h"
#include "event.h"
#include "labels.h"
#include "output.h"

#define MAXOUT 8192

static char *outs[MAXOUT];
static sw_output meta[MAXOUT];
static int nout;

static void capture(void *ud, const sw_output *o)
{
    (void)ud;
    if (nout >= MAXOUT)
        return;
    outs[nout] = strndup(o->json, o->json_len);
    meta[nout] = *o;
    meta[nout].json = outs[nout];
    nout++;
}

static void reset_outs(void)
{
    for (int i = 0; i < nout; i++)
        free(outs[i]);
    nout = 0;
}

static sw_config cfg;

/* One rule that fires at T when second T-1 held an error (window 1 s);
 * a watch of 10 s, 3 s of silence. */
static void config_one_rule(void)
{
    config_defaults(&cfg);
    cfg.n_rules = 1;
    sw_rule *r = &cfg.rules[0];
    memset(r, 0, sizeof(*r));
    strcpy(r->name, "r");
    r->metric = M_ERRORS;
    strcpy(r->metric_name, "errors");
    r->op = OP_GE;
    r->threshold = 1;
    r->window_s = 1;
    cfg.rollback_verify_within_s = 10;
    cfg.rollback_quiet_s = 3;
    char err[256];
    if (config_validate(&cfg, err, sizeof(err)) != 0)
        fprintf(stderr, "config: %s\n", err);
}

static sw_engine *fresh(void)
{
    char err[256];
    reset_outs();
    sw_engine *e = sw_engine_create(&cfg, capture, NULL, err, sizeof(err));
    if (e == NULL)
        fprintf(stderr, "engine: %s\n", err);
    return e;
}

static sw_event mk(int kind, int64_t s)
{
    sw_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.kind = (uint8_t)kind;
    ev.ts_ms = s * 1000;
    ev.tc = -1;
    ev.strategy = LABEL_NONE;
    ev.reason = LABEL_NONE;
    if (kind == SW_EV_SUCCEEDED || kind == SW_EV_FALLBACK) {
        ev.has_duration = 1;
        ev.duration_ms = 100;
    }
    return ev;
}

static void push(sw_engine *e, int kind, int64_t s)
{
    sw_event ev = mk(kind, s);
    sw_engine_push(e, &ev);
}

static void push_err(sw_engine *e, int64_t s)
{
    sw_event ev = mk(SW_EV_FALLBACK, s);
    ev.reason_error = 1;
    ev.informed = 1;
    sw_engine_push(e, &ev);
}

static void push_fna(sw_engine *e, int64_t s)
{
    sw_event ev = mk(SW_EV_FALLBACK, s);
    ev.reason = labels_lookup(&cfg.reasons, "feature_not_available", 21);
    ev.informed = 1;
    sw_engine_push(e, &ev);
}

/* The stream of the hand-worked cases: a request and a success in each
 * second first..last, an error in second 1004 (fires at 1005), the flag's
 * answer in second fna_s (< 0: none). */
static void stream(sw_engine *e, int64_t first, int64_t last, int64_t fna_s)
{
    for (int64_t s = first; s <= last; s++) {
        push(e, SW_EV_REQUESTED, s);
        push(e, SW_EV_SUCCEEDED, s);
        if (s == 1004)
            push_err(e, s);
        if (s == fna_s)
            push_fna(e, s);
    }
    sw_engine_finish(e);
}

static int find_with(const char *needle)
{
    for (int i = 0; i < nout; i++)
        if (strstr(outs[i], needle))
            return i;
    return -1;
}

static int count_type(sw_out_type t)
{
    int n = 0;
    for (int i = 0; i < nout; i++)
        n += meta[i].type == t;
    return n;
}

static void test_handed_over(void)
{
    sw_engine *e = fresh();
    stream(e, 1000, 1030, 1005);
    int i = find_with("\"type\":\"rollback_check\"");
    CHECK(i >= 0);
    if (i < 0)
        return;
    CHECK_STR(outs[i], "{\"type\":\"rollback_check\",\"schema_version\":1,"
                       "\"id\":\"r:1005000:verified\",\"rule\":\"r\",\"state\":\"verified\","
                       "\"at_ms\":1006000,\"at\":\"1970-01-01T00:16:46.000Z\","
                       "\"fired_at_ms\":1005000,\"verify_within_s\":10,\"unavailable\":1,"
                       "\"quiet_s\":0,\"evidence\":\"feature_not_available\","
                       "\"verified_at_ms\":1006000,"
                       "\"feature\":\"feature.stream5_time_crunch_mode\",\"action\":\"none\"}");
    CHECK_INT(meta[i].type, SW_OUT_ROLLBACK_CHECK);
    CHECK_INT(meta[i].rule, 0);
    CHECK_INT(meta[i].firing, SW_CHECK_VERIFIED);
    CHECK_INT(meta[i].at_s, 1006);
    CHECK_STR(meta[i].key, "r");
    /* the resolution at 1006 comes first, then the check, then the baseline */
    CHECK(i >= 1 && strstr(outs[i - 1], "\"state\":\"resolved\"") != NULL);
    CHECK(i + 1 < nout && strstr(outs[i + 1], "\"id\":\"r:1005000:baseline\"") != NULL);
    CHECK_INT(count_type(SW_OUT_ROLLBACK_CHECK), 2);
    CHECK_INT(sw_engine_stats_get(e)->rollback_checks, 2);
    CHECK_INT(sw_engine_rollback_checks(e, 0, SW_CHECK_VERIFIED), 1);
    CHECK_INT(sw_engine_rollback_checks(e, 0, SW_CHECK_NOT_VERIFIED), 0);
    CHECK_INT(sw_engine_rollback_checks(e, 0, SW_CHECK_BASELINE), 1);
    sw_engine_destroy(e);

    /* Not verified: escalate, at F + 10. */
    e = fresh();
    stream(e, 1000, 1030, -1);
    i = find_with("\"id\":\"r:1005000:not_verified\"");
    CHECK(i >= 0);
    if (i >= 0) {
        CHECK_INT(meta[i].at_s, 1015);
        CHECK(strstr(outs[i], "\"evidence\":null,\"verified_at_ms\":null,") != NULL);
        CHECK(strstr(outs[i], "\"action\":\"escalate\"}") != NULL);
    }
    CHECK_INT(sw_engine_rollback_checks(e, 0, SW_CHECK_NOT_VERIFIED), 1);
    sw_engine_destroy(e);

    /* Off: nothing. */
    cfg.rollback_check = 0;
    e = fresh();
    stream(e, 1000, 1030, 1005);
    CHECK_INT(count_type(SW_OUT_ROLLBACK_CHECK), 0);
    CHECK_INT(count_type(SW_OUT_TRIGGER), 2);
    sw_engine_destroy(e);
    cfg.rollback_check = 1;
}

/* A firing before the emit range whose check falls inside it: the watch
 * started all the same, the checks in range are emitted, the firing is not. */
static void test_emit_range(void)
{
    sw_engine *e = fresh();
    sw_engine_set_emit_range(e, 1006, -1, NULL);
    stream(e, 1000, 1030, 1007);
    CHECK(find_with("\"state\":\"firing\"") < 0);
    int res = find_with("\"id\":\"r:1006000\""); /* resolved at 1006 */
    int base = find_with("\"id\":\"r:1005000:baseline\"");
    int ver = find_with("\"id\":\"r:1005000:verified\"");
    CHECK(res >= 0 && base == res + 1 && ver > base);
    if (base >= 0)
        CHECK(strstr(outs[base], "\"at_ms\":1006000,\"at\":\"1970-01-01T00:16:46.000Z\","
                                 "\"fired_at_ms\":1005000,\"verify_within_s\":10,"
                                 "\"unavailable\":0,\"quiet_s\":0,\"evidence\":null,"
                                 "\"verified_at_ms\":null,") != NULL);
    if (ver >= 0)
        CHECK(strstr(outs[ver], "\"at_ms\":1008000,") != NULL &&
              strstr(outs[ver], "\"unavailable\":1,") != NULL);
    sw_engine_destroy(e);

    /* The range ends before the check: none emitted, the watch ran. */
    e = fresh();
    sw_engine_set_emit_range(e, 1000, 1007, NULL);
    stream(e, 1000, 1030, 1007);
    CHECK(find_with("\"id\":\"r:1005000:verified\"") < 0);
    CHECK(find_with("\"id\":\"r:1005000:baseline\"") >= 0);
    sw_engine_destroy(e);

    /* Entirely before the range: nothing of it. */
    e = fresh();
    sw_engine_set_emit_range(e, 1009, -1, NULL);
    stream(e, 1000, 1030, 1007);
    CHECK_INT(count_type(SW_OUT_ROLLBACK_CHECK), 0);
    CHECK_INT(count_type(SW_OUT_TRIGGER), 0);
    sw_engine_destroy(e);
}

/* A longer stream, the same whatever the emit range: what is emitted from
 * X on equals the full run's events from X on (restart-safe). */
static uint32_t rnd_state = 12345;
static uint32_t rnd(void)
{
    rnd_state = rnd_state * 1103515245u + 12345u;
    return (rnd_state >> 16) & 0x7fff;
}

static void long_stream(sw_engine *e)
{
    rnd_state = 12345;
    for (int64_t s = 5000; s < 5600; s++) {
        int phase = (int)((s / 37) % 4); /* ok, errors, the flag off, silence */
        if (phase == 3)
            continue;
        int n = (int)(rnd() % 3);
        for (int k = 0; k < n; k++) {
            push(e, SW_EV_REQUESTED, s);
            if (phase == 1 && rnd() % 2)
                push_err(e, s);
            else if (phase == 2 && rnd() % 3)
                push_fna(e, s);
            else
                push(e, SW_EV_SUCCEEDED, s);
        }
    }
    sw_engine_finish(e);
}

static void test_same_whatever_the_range(void)
{
    sw_engine *e = fresh();
    long_stream(e);
    int full_n = nout;
    char **full = malloc((size_t)full_n * sizeof(char *));
    int64_t *full_at = malloc((size_t)full_n * sizeof(int64_t));
    for (int i = 0; i < full_n; i++) {
        full[i] = strdup(outs[i]);
        full_at[i] = meta[i].at_s;
    }
    CHECK(count_type(SW_OUT_ROLLBACK_CHECK) >= 6);
    CHECK(find_with("\"state\":\"not_verified\"") >= 0);
    CHECK(find_with("\"evidence\":\"no_requests\"") >= 0);
    CHECK(find_with("\"evidence\":\"feature_not_available\"") >= 0);
    sw_engine_destroy(e);
    for (int64_t from = 5100; from < 5600; from += 23) {
        e = fresh();
        sw_engine_set_emit_range(e, from, -1, NULL);
        long_stream(e);
        int j = 0;
        for (int i = 0; i < full_n; i++) {
            if (full_at[i] < from)
                continue;
            CHECK(j < nout);
            if (j < nout && strcmp(outs[j], full[i]) != 0) {
                fprintf(stderr, "from %lld: %s\n  want %s\n", (long long)from, outs[j], full[i]);
                check_failures++;
            }
            j++;
        }
        CHECK_INT(nout, j);
        sw_engine_destroy(e);
    }
    for (int i = 0; i < full_n; i++)
        free(full[i]);
    free(full);
    free(full_at);
}

static void test_text(void)
{
    sw_engine *e = fresh();
    sw_engine_set_text(e, 1);
    stream(e, 1000, 1030, -1);
    int i = find_with("NOT_VERIFIED");
    CHECK(i >= 0);
    if (i >= 0)
        CHECK_STR(outs[i], "1970-01-01T00:16:55.000Z NOT_VERIFIED r: fired "
                           "1970-01-01T00:16:45.000Z; feature_not_available 0, no requests for "
                           "0 s; not verified within 10 s -> escalate");
    sw_engine_destroy(e);
}

int main(void)
{
    config_one_rule();
    test_handed_over();
    test_emit_range();
    test_same_whatever_the_range();
    test_text();
    reset_outs();
    CHECK_DONE();
}
