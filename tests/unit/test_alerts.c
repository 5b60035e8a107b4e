/* test_alerts.c: the Alertmanager alert set (live/alerts.h) with the time
 * injected and the payloads captured instead of posted: which alerts a
 * firing, a not_verified check and a restart's first output make, when they are
 * posted again, what a resolution posts and until when; and the poster
 * (alertpost.h) against a refused connection: bounded attempts, the latest
 * payload of a key winning, no slot free past its fixed count. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "alertpost.h"
#include "buf.h"
#include "check.h"
#include "config.h"
#include "counters.h"
#include "live/alerts.h"
#include "output.h"

typedef struct sent {
    int n, key, refuse;
    uint64_t seq;
    char json[AP_SLOT_BYTES];
} sent;

static int capture(void *ud, int key, uint64_t seq, const char *json, size_t len)
{
    sent *s = ud;
    if (s->refuse)
        return -EAGAIN;
    s->n++;
    s->key = key;
    s->seq = seq;
    memcpy(s->json, json, len);
    s->json[len] = '\0';
    return 0;
}

static int passed_on;
static void next(void *ud, const sw_output *o)
{
    (void)ud;
    (void)o;
    passed_on++;
}

static const uint8_t *firing_now;
static const char *cohort_firing_now; /* "RULE-INDEX:VALUE:ENGINE-COHORT", or NULL */
static int firing(const void *ud, int rule, int cohort, const char **name)
{
    (void)ud;
    if (cohort < 0)
        return firing_now ? firing_now[rule] : 0;
    static char value[64];
    int r, c;
    if (cohort_firing_now == NULL ||
        sscanf(cohort_firing_now, "%d:%63[^:]:%d", &r, value, &c) != 3 || r != rule ||
        c != cohort)
        return 0;
    *name = value;
    return 1;
}

static sw_buf jb;

static void trigger(sw_alerts *a, const sw_config *cfg, int rule, int64_t at_s, int on,
                    double value, uint64_t samples)
{
    sw_trigger_info t;
    memset(&t, 0, sizeof(t));
    t.rule = &cfg->rules[rule];
    t.at_s = at_s;
    t.firing = on;
    t.value = value;
    t.samples = samples;
    buf_reset(&jb);
    CHECK_INT(output_trigger_json(&jb, cfg, &t), 0);
    sw_output o = {SW_OUT_TRIGGER, at_s, rule, on, cfg->rules[rule].name, jb.data, jb.len,
                   NULL};
    alerts_output(a, &o);
}

static void check(sw_alerts *a, const sw_config *cfg, int rule, int64_t at_s, int state,
                  int64_t fired_s)
{
    sw_check_info c;
    memset(&c, 0, sizeof(c));
    c.rule = &cfg->rules[rule];
    c.state = state;
    c.at_s = at_s;
    c.fired_at_s = fired_s;
    c.quiet_s = 0;
    c.verified_at_s = INT64_MIN;
    buf_reset(&jb);
    CHECK_INT(output_check_json(&jb, cfg, &c), 0);
    sw_output o = {SW_OUT_ROLLBACK_CHECK, at_s, rule, state, cfg->rules[rule].name, jb.data,
                   jb.len, NULL};
    alerts_output(a, &o);
}

static void status(sw_alerts *a, int64_t at_s)
{
    sw_output o = {SW_OUT_STATUS, at_s, -1, 0, "flag", "{\"type\":\"status\"}", 17, NULL};
    alerts_output(a, &o);
}

/* The one alert of the last payload, or NULL (the caller decrefs root). */
static json_t *alert_of(const sent *s, json_t **root)
{
    *root = json_loads(s->json, 0, NULL);
    CHECK(*root != NULL && json_is_array(*root) && json_array_size(*root) == 1);
    return *root ? json_array_get(*root, 0) : NULL;
}

static const char *str_at(json_t *al, const char *obj, const char *key)
{
    json_t *o = obj ? json_object_get(al, obj) : al;
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : "(absent)";
}

/* A firing: posted at once with its labels, annotations and start; again
 * every resend_s and not before; passed on to what follows. */
static void test_firing(sw_alerts *a, const sw_config *cfg, sent *s)
{
    trigger(a, cfg, 0, 1000, 1, 0.125, 40);
    CHECK_INT(passed_on, 1);
    CHECK_INT(alerts_active(a), 1);
    CHECK_INT(alerts_serve(a, 5000), 1);
    CHECK_INT(s->key, 0);
    json_t *root, *al = alert_of(s, &root);
    CHECK_STR(str_at(al, "labels", "alertname"), "error_rate_high");
    CHECK_STR(str_at(al, "labels", "feature"), "feature.stream5_time_crunch_mode");
    CHECK_STR(str_at(al, "labels", "severity"), "critical");
    CHECK_INT(json_object_size(json_object_get(al, "labels")), 3);
    CHECK_STR(str_at(al, "annotations", "summary"),
              "error_rate_high error_rate > 0.1: value 0.125 over 300 s, 40 samples");
    CHECK_STR(str_at(al, "annotations", "trigger_id"), "error_rate_high:1000000");
    CHECK_STR(str_at(al, "annotations", "action"), "disable_flag");
    CHECK_STR(str_at(al, NULL, "startsAt"), "1970-01-01T00:16:40.000Z");
    CHECK_STR(str_at(al, NULL, "endsAt"), "(absent)");
    CHECK_STR(str_at(al, NULL, "generatorURL"), "http://soakwatch:9464/status");
    json_decref(root);
    CHECK_INT(alerts_serve(a, 5000 + 59999), 0);
    CHECK_INT(s->n, 1);
    CHECK_INT(alerts_serve(a, 5000 + 60000), 1); /* resend_s 60 */
    CHECK_INT(s->n, 2);
    al = alert_of(s, &root);
    CHECK_STR(str_at(al, NULL, "startsAt"), "1970-01-01T00:16:40.000Z");
    json_decref(root);
    /* The poster had no room: tried again 100 ms later, not at once. */
    s->refuse = 1;
    CHECK_INT(alerts_serve(a, 5000 + 120000), 0);
    s->refuse = 0;
    CHECK_INT(alerts_serve(a, 5000 + 120050), 0);
    CHECK_INT(alerts_serve(a, 5000 + 120100), 1);
    CHECK_INT(s->n, 3);
}

/* A resolution: the same labels with endsAt, posted at once and again
 * until one post of it is answered ok; then nothing more. */
static void test_resolution(sw_alerts *a, const sw_config *cfg, sent *s)
{
    int64_t now = 200000;
    trigger(a, cfg, 0, 1300, 0, 0.05, 50);
    CHECK_INT(alerts_serve(a, now), 1);
    json_t *root, *al = alert_of(s, &root);
    CHECK_STR(str_at(al, "labels", "alertname"), "error_rate_high");
    CHECK_STR(str_at(al, NULL, "startsAt"), "1970-01-01T00:16:40.000Z");
    CHECK_STR(str_at(al, NULL, "endsAt"), "1970-01-01T00:21:40.000Z");
    CHECK_STR(str_at(al, "annotations", "trigger_id"), "error_rate_high:1000000");
    json_decref(root);
    uint64_t seq = s->seq;
    alerts_answered(a, 0, seq - 1, 1); /* an older state's answer */
    CHECK_INT(alerts_active(a), 1);
    alerts_answered(a, 0, seq, 0); /* failed: posted again resend_s later */
    CHECK_INT(alerts_serve(a, now + 60000), 1);
    al = alert_of(s, &root);
    CHECK_STR(str_at(al, NULL, "endsAt"), "1970-01-01T00:21:40.000Z");
    json_decref(root);
    alerts_answered(a, 0, s->seq, 1);
    CHECK_INT(alerts_active(a), 0);
    CHECK_INT(alerts_serve(a, now + 600000), 0);
}

/* not_verified: RollbackNotVerified with the rule as a label, escalate;
 * a verified check changes nothing; the rule's baseline ends it. */
static void test_not_verified(sw_alerts *a, const sw_config *cfg, sent *s)
{
    int64_t now = 1000000;
    trigger(a, cfg, 1, 2000, 1, 0.8, 30);
    CHECK_INT(alerts_serve(a, now), 1);
    check(a, cfg, 1, 2300, SW_CHECK_NOT_VERIFIED, 2000);
    CHECK_INT(alerts_active(a), 2);
    CHECK_INT(alerts_serve(a, now + 1), 1);
    CHECK_INT(s->key, cfg->n_rules + 1);
    json_t *root, *al = alert_of(s, &root);
    CHECK_STR(str_at(al, "labels", "alertname"), "RollbackNotVerified");
    CHECK_STR(str_at(al, "labels", "rule"), "success_rate_low");
    CHECK_STR(str_at(al, "labels", "severity"), "critical");
    CHECK_STR(str_at(al, "annotations", "action"), "escalate");
    CHECK_STR(str_at(al, "annotations", "trigger_id"), "success_rate_low:2000000");
    CHECK_STR(str_at(al, NULL, "startsAt"), "1970-01-01T00:38:20.000Z");
    CHECK(strstr(str_at(al, "annotations", "summary"), "not verified within 300 s") != NULL);
    json_decref(root);
    check(a, cfg, 0, 2301, SW_CHECK_VERIFIED, 1000);
    CHECK_INT(alerts_serve(a, now + 2), 0);
    trigger(a, cfg, 1, 2400, 0, 0.95, 30);
    check(a, cfg, 1, 2400, SW_CHECK_BASELINE, 2000);
    CHECK_INT(alerts_serve(a, now + 3), 2); /* both resolutions, at once */
    CHECK_INT(s->key, cfg->n_rules + 1);
    al = alert_of(s, &root);
    CHECK_STR(str_at(al, NULL, "endsAt"), "1970-01-01T00:40:00.000Z");
    json_decref(root);
    alerts_answered(a, 1, 2, 1); /* its firing was 1, its resolution 2 */
    alerts_answered(a, cfg->n_rules + 1, s->seq, 1);
    CHECK_INT(alerts_active(a), 0);
}

/* A restart: nothing fires again, but the engine says what fires, and the
 * alert is posted with the same labels from the first output on. */
static void test_restart(const sw_config *cfg)
{
    sent s;
    char err[128];
    memset(&s, 0, sizeof(s));
    sw_alerts *a = alerts_create(cfg, NULL, capture, &s, err, sizeof(err));
    CHECK(a != NULL);
    if (a == NULL)
        return;
    static const uint8_t fires[SW_MAX_RULES] = {0, 0, 1, 0};
    firing_now = fires;
    alerts_bind(a, next, NULL, firing, NULL);
    check(a, cfg, 0, 2990, SW_CHECK_VERIFIED, 2900); /* the first output, whatever it is */
    status(a, 3000);
    CHECK_INT(alerts_serve(a, 10), 1);
    json_t *root, *al = alert_of(&s, &root);
    CHECK_STR(str_at(al, "labels", "alertname"), "latency_high");
    CHECK_STR(str_at(al, NULL, "startsAt"), "1970-01-01T00:49:50.000Z");
    CHECK_STR(str_at(al, "annotations", "trigger_id"), "(absent)");
    json_decref(root);
    status(a, 3060); /* already firing: nothing new */
    CHECK_INT(alerts_serve(a, 20), 0);
    /* A resolution of an alert never seen firing is posted too: the run
     * before the restart may have posted it. */
    trigger(a, cfg, 3, 3100, 0, 10, 10);
    CHECK_INT(alerts_serve(a, 30), 1);
    al = alert_of(&s, &root);
    CHECK_STR(str_at(al, "labels", "alertname"), "zero_requests");
    CHECK_STR(str_at(al, NULL, "startsAt"), str_at(al, NULL, "endsAt"));
    CHECK_STR(str_at(al, "annotations", "summary"),
              "zero_requests requests == 0: resolved at value 10 over 1800 s, 10 samples");
    json_decref(root);
    firing_now = NULL;
    alerts_destroy(a);
}

typedef struct answers {
    int n, superseded;
    ap_result last; /* of the latest payload */
    uint64_t posts_ok, posts_failed;
} answers;

static void on_answer(void *ud, const ap_result *r)
{
    answers *w = ud;
    w->n++;
    w->superseded += r->superseded;
    w->posts_ok += r->posts_ok;
    w->posts_failed += r->posts_failed;
    if (r->seq == 2)
        w->last = *r;
}

/* The poster against a port that refuses: the latest payload is tried
 * AP_ATTEMPTS times and given up; two slots per key and no more. */
static void test_poster(void)
{
    sw_alertmanager am;
    char err[128];
    memset(&am, 0, sizeof(am));
    am.n_urls = 1;
    strcpy(am.urls[0], "http://127.0.0.1:1");
    am.resend_s = 60;
    am.timeout_ms = 2000;
    ap_poster *p = ap_create(&am, 1, err, sizeof(err));
    CHECK(p != NULL);
    if (p == NULL)
        return;
    static char big[AP_SLOT_BYTES + 1];
    CHECK_INT(ap_submit(p, 0, 9, big, sizeof(big)), -EMSGSIZE);
    CHECK_INT(ap_submit(p, 0, 1, "[{}]", 4), 0);
    CHECK_INT(ap_submit(p, 0, 2, "[{}]", 4), 0);
    CHECK_INT(ap_submit(p, 0, 3, "[{}]", 4), -EAGAIN); /* both slots out */
    answers w;
    memset(&w, 0, sizeof(w));
    struct timespec pause = {0, 20000000};
    for (int i = 0; i < 500 && w.n < 2; i++) {
        ap_collect(p, on_answer, &w);
        nanosleep(&pause, NULL);
    }
    CHECK_INT(w.n, 2);
    CHECK_INT(w.last.seq, 2);
    CHECK_INT(w.last.superseded, 0);
    CHECK_INT(w.last.ok, 0);
    CHECK_INT(w.last.posts_failed, AP_ATTEMPTS);
    CHECK_INT(w.posts_ok, 0);
    CHECK(w.posts_failed >= AP_ATTEMPTS && w.posts_failed <= 2 * AP_ATTEMPTS);
    CHECK_INT(ap_submit(p, 0, 4, "[{}]", 4), 0); /* slots are back */
    ap_destroy(p); /* with a payload held: stops all the same */
}

/* Cohorts (docs/semantics.md section 12): one rule firing in two cohorts
 * is two alerts, each labelled with its cohort, its trigger id naming it
 * and the rule's action; resolving one leaves the other firing. */
static void cohort_trigger(sw_alerts *a, const sw_config *cfg, int rule, const char *cohort,
                           int64_t at_s, int on)
{
    sw_trigger_info t;
    memset(&t, 0, sizeof(t));
    t.rule = &cfg->rules[rule];
    t.at_s = at_s;
    t.firing = on;
    t.value = 0.5;
    t.samples = 30;
    t.cohort = cohort;
    buf_reset(&jb);
    CHECK_INT(output_trigger_json(&jb, cfg, &t), 0);
    sw_output o = {SW_OUT_TRIGGER, at_s, rule, on, cfg->rules[rule].name, jb.data, jb.len,
                   cohort};
    alerts_output(a, &o);
}

static void test_cohorts(const sw_config *base)
{
    static sw_config cfg;
    sent s;
    char err[128];
    cfg = *base;
    cfg.cohorts.enabled = 1;
    labels_add(&cfg.cohorts.values, "v1");
    labels_add(&cfg.cohorts.values, "v2");
    cfg.cohorts.max = 2;
    cfg.rules[0].cohort_scope = SW_SCOPE_EACH;
    cfg.rules[0].action = SW_ACTION_ROLLBACK_COHORT;
    memset(&s, 0, sizeof(s));
    sw_alerts *a = alerts_create(&cfg, NULL, capture, &s, err, sizeof(err));
    CHECK(a != NULL);
    if (a == NULL)
        return;
    cohort_trigger(a, &cfg, 0, "v2", 1000, 1);
    cohort_trigger(a, &cfg, 0, "other", 1001, 1);
    CHECK_INT(alerts_active(a), 2);
    CHECK_INT(alerts_serve(a, 5000), 2);
    json_t *root, *al = alert_of(&s, &root); /* the last posted: other */
    CHECK_STR(str_at(al, "labels", "alertname"), "error_rate_high");
    CHECK_STR(str_at(al, "labels", "cohort"), "other");
    CHECK_STR(str_at(al, "annotations", "trigger_id"), "error_rate_high:other:1001000");
    CHECK_STR(str_at(al, "annotations", "action"), "rollback_cohort");
    CHECK_STR(str_at(al, "annotations", "summary"),
              "error_rate_high [other] error_rate > 0.1: value 0.5 over 300 s, 30 samples");
    json_decref(root);
    cohort_trigger(a, &cfg, 0, "v2", 1300, 0);
    CHECK_INT(alerts_serve(a, 6000), 1);
    al = alert_of(&s, &root);
    CHECK_STR(str_at(al, "labels", "cohort"), "v2");
    CHECK_STR(str_at(al, NULL, "endsAt"), "1970-01-01T00:21:40.000Z");
    json_decref(root);
    CHECK_INT(alerts_active(a), 2); /* v2's resolution until answered, other firing */
    alerts_destroy(a);
}

/* Values kept first come (cohorts.max): each takes the next cohort alert
 * the first time a trigger names it; one firing since before a restart
 * (the engine says so, no trigger) is posted at the next output. */
static void test_kept_cohorts(const sw_config *base)
{
    static sw_config cfg;
    sent s;
    char err[128];
    cfg = *base;
    memset(&cfg.cohorts, 0, sizeof(cfg.cohorts));
    cfg.cohorts.enabled = 1;
    labels_add(&cfg.cohorts.values, "v1");
    cfg.cohorts.max = 3;
    cfg.rules[0].cohort_scope = SW_SCOPE_EACH;
    memset(&s, 0, sizeof(s));
    sw_alerts *a = alerts_create(&cfg, NULL, capture, &s, err, sizeof(err));
    CHECK(a != NULL);
    if (a == NULL)
        return;
    cohort_firing_now = "0:v7:2"; /* the engine's cohort 2 holds v7, firing */
    alerts_bind(a, next, NULL, firing, NULL);
    status(a, 900);
    CHECK_INT(alerts_serve(a, 4000), 1);
    json_t *root, *al = alert_of(&s, &root);
    CHECK_STR(str_at(al, "labels", "cohort"), "v7");
    CHECK_STR(str_at(al, "annotations", "summary"),
              "error_rate_high [v7] error_rate > 0.1: firing since before soakwatch started");
    json_decref(root);
    cohort_trigger(a, &cfg, 0, "v9", 1000, 1);
    cohort_trigger(a, &cfg, 0, "v1", 1001, 1);
    CHECK_INT(alerts_active(a), 3); /* v7, v9 and v1: three alerts */
    CHECK_INT(alerts_serve(a, 5000), 2);
    al = alert_of(&s, &root); /* the last posted: alerts go in cohort order, v9 after v1, v7 */
    CHECK_STR(str_at(al, "labels", "cohort"), "v9");
    json_decref(root);
    cohort_trigger(a, &cfg, 0, "v7", 1100, 0); /* v7's own alert resolves */
    CHECK_INT(alerts_serve(a, 6000), 1);
    al = alert_of(&s, &root);
    CHECK_STR(str_at(al, "labels", "cohort"), "v7");
    CHECK_STR(str_at(al, NULL, "endsAt"), "1970-01-01T00:18:20.000Z");
    json_decref(root);
    cohort_firing_now = NULL;
    alerts_destroy(a);
}

int main(void)
{
    sw_config cfg;
    sent s;
    char err[128];
    config_defaults(&cfg);
    cfg.alertmanager.enabled = 1;
    cfg.alertmanager.n_urls = 1;
    strcpy(cfg.alertmanager.urls[0], "http://127.0.0.1:1");
    strcpy(cfg.alertmanager.generator_url, "http://soakwatch:9464/status");
    buf_init(&jb, 1 << 16);
    memset(&s, 0, sizeof(s));
    sw_alerts *a = alerts_create(&cfg, NULL, capture, &s, err, sizeof(err));
    CHECK(a != NULL);
    if (a == NULL)
        return 1;
    alerts_bind(a, next, NULL, firing, NULL);
    test_firing(a, &cfg, &s);
    test_resolution(a, &cfg, &s);
    test_not_verified(a, &cfg, &s);
    alerts_destroy(a);
    test_restart(&cfg);
    test_cohorts(&cfg);
    test_kept_cohorts(&cfg);
    test_poster();
    buf_free(&jb);
    CHECK_DONE();
}
