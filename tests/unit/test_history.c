/* test_history.c: what the output topic says was published
 * (live/history.h): the last instant, and each rule's state as last
 * published: the latest status, then the transitions after it in time
 * order, whatever order they were read in. */
#include <string.h>

#include "check.h"
#include "config.h"
#include "live/history.h"

static void take(history_builder *b, const char *s)
{
    history_builder_take(b, s, strlen(s));
}

/* The defaults with cohorts: listed of v1, v2, max cohorts, and rule 1
 * judged in each. */
static void cohorts_config(sw_config *cfg, int listed, int max)
{
    static const char *const values[] = {"v1", "v2"};
    config_defaults(cfg);
    cfg->cohorts.enabled = 1;
    for (int i = 0; i < listed; i++)
        labels_add(&cfg->cohorts.values, values[i]);
    cfg->cohorts.max = max;
    cfg->rules[1].cohort_scope = SW_SCOPE_EACH;
}

/* Cohort states (docs/semantics.md section 12): rule 1 judged in each of
 * v1, v2 and other, rule 0 over the whole topic. The status's
 * cohorts_firing sets them, the cohort transitions after it move them, a
 * cohort the rule is not judged in (or unknown) changes nothing, and a
 * cohort transition never sets the whole topic's state. */
static void test_cohorts(void)
{
    sw_config cfg;
    sw_history h;
    char s[1024];
    cohorts_config(&cfg, 2, 2); /* v1, v2 */
    const char *r0 = cfg.rules[0].name, *r1 = cfg.rules[1].name;
    history_builder *b = history_builder_create(&cfg);
    snprintf(s, sizeof(s), "{\"type\":\"status\",\"at_ms\":60000,\"firing\":[\"%s\",\"%s\"],"
             "\"cohorts_firing\":[\"%s:v1\",\"%s:other\",\"%s:v9\",\"%s:v2\"]}", r0, r1, r1, r1,
             r1, r0);
    take(b, s);
    snprintf(s, sizeof(s), "{\"type\":\"rollback_trigger\",\"at_ms\":70000,\"rule\":\"%s\","
             "\"cohort\":\"v1\",\"state\":\"resolved\"}", r1);
    take(b, s);
    snprintf(s, sizeof(s), "{\"type\":\"rollback_trigger\",\"at_ms\":71000,\"rule\":\"%s\","
             "\"cohort\":\"v2\",\"state\":\"firing\"}", r1);
    take(b, s);
    snprintf(s, sizeof(s), "{\"type\":\"rollback_trigger\",\"at_ms\":72000,\"rule\":\"%s\","
             "\"cohort\":\"v2\",\"state\":\"resolved\"}", r0);
    take(b, s);
    history_builder_finish(b, &h);
    CHECK_INT(h.published[0], 1);            /* the whole topic's rule */
    CHECK_INT(h.published[1], 0);            /* judged in cohorts only */
    CHECK_INT(h.cohort_published[1][0], 0);  /* v1: resolved after the status */
    CHECK_INT(h.cohort_published[1][1], 1);  /* v2: fired after it */
    CHECK_INT(h.cohort_published[1][2], 1);  /* other: from the status */
    CHECK_INT(h.cohort_published[0][1], 0);  /* rule 0 has no cohort states */
    history_builder_destroy(b);
}

/* Values kept first come (cohorts.max): the latest status's `cohorts`
 * keys in order, then the values of the triggers after it; each keeps
 * its cohort number (listed ones first, `other` at max). */
static void test_kept_values(void)
{
    sw_config cfg;
    sw_history h;
    char s[1024];
    cohorts_config(&cfg, 1, 3); /* v1, and two kept first come */
    const char *r1 = cfg.rules[1].name;
    history_builder *b = history_builder_create(&cfg);
    snprintf(s, sizeof(s), "{\"type\":\"status\",\"at_ms\":50000,\"cohorts_firing\":[],"
             "\"cohorts\":{\"v1\":{},\"v5\":{},\"other\":{}}}");
    take(b, s); /* an older status: replaced by the next */
    snprintf(s, sizeof(s), "{\"type\":\"status\",\"at_ms\":60000,\"firing\":[],"
             "\"cohorts_firing\":[\"%s:v7\",\"%s:other\"],"
             "\"cohorts\":{\"v1\":{},\"v7\":{},\"other\":{}}}", r1, r1);
    take(b, s);
    snprintf(s, sizeof(s), "{\"type\":\"rollback_trigger\",\"at_ms\":72000,\"rule\":\"%s\","
             "\"cohort\":\"v8\",\"state\":\"firing\"}", r1);
    take(b, s);
    snprintf(s, sizeof(s), "{\"type\":\"rollback_trigger\",\"at_ms\":73000,\"rule\":\"%s\","
             "\"cohort\":\"v9\",\"state\":\"firing\"}", r1); /* no cohort free */
    take(b, s);
    history_builder_finish(b, &h);
    CHECK_INT(h.n_kept, 2);
    CHECK_STR(h.kept[0], "v7");
    CHECK_STR(h.kept[1], "v8");
    CHECK_INT(h.kept_from_s[0], 60);
    CHECK_INT(h.kept_from_s[1], 72);
    CHECK_INT(h.cohort_published[1][0], 0); /* v1 */
    CHECK_INT(h.cohort_published[1][1], 1); /* v7, from the status */
    CHECK_INT(h.cohort_published[1][2], 1); /* v8, from its trigger */
    CHECK_INT(h.cohort_published[1][3], 1); /* other is cohort max */
    history_builder_destroy(b);
}

int main(void)
{
    sw_config cfg;
    sw_history h;
    config_defaults(&cfg);
    CHECK(cfg.n_rules >= 2);
    const char *r0 = cfg.rules[0].name, *r1 = cfg.rules[1].name;
    char s[256];

    /* nothing read */
    history_builder *b = history_builder_create(&cfg);
    history_builder_finish(b, &h);
    CHECK_INT(h.last_at_ms, -1);
    for (int r = 0; r < cfg.n_rules; r++)
        CHECK_INT(h.published[r], 0);
    history_builder_destroy(b);

    b = history_builder_create(&cfg);
    snprintf(s, sizeof(s), "{\"type\":\"status\",\"at_ms\":60000,\"firing\":[\"%s\"]}", r0);
    take(b, s);
    /* a transition before the status: the status already holds it */
    snprintf(s, sizeof(s), "{\"type\":\"rollback_trigger\",\"at_ms\":50000,\"rule\":\"%s\",\"state\":\"firing\"}", r1);
    take(b, s);
    /* after the status, read out of order: the later one wins */
    snprintf(s, sizeof(s), "{\"type\":\"rollback_trigger\",\"at_ms\":80000,\"rule\":\"%s\",\"state\":\"firing\"}", r1);
    take(b, s);
    snprintf(s, sizeof(s), "{\"type\":\"rollback_trigger\",\"at_ms\":70000,\"rule\":\"%s\",\"state\":\"resolved\"}", r1);
    take(b, s);
    snprintf(s, sizeof(s), "{\"type\":\"rollback_trigger\",\"at_ms\":75000,\"rule\":\"%s\",\"state\":\"resolved\"}", r0);
    take(b, s);
    /* not ours, or not output events: ignored */
    take(b, "{\"type\":\"rollback_trigger\",\"at_ms\":90000,\"rule\":\"nope\",\"state\":\"firing\"}");
    take(b, "not json");
    take(b, "{\"type\":\"status\",\"at_ms\":\"soon\"}");
    history_builder_finish(b, &h);
    CHECK_INT(h.last_at_ms, 90000);
    CHECK_INT(h.published[0], 0);
    CHECK_INT(h.published[1], 1);
    history_builder_destroy(b);

    /* an older status read after a newer one does not override it */
    b = history_builder_create(&cfg);
    snprintf(s, sizeof(s), "{\"type\":\"status\",\"at_ms\":120000,\"firing\":[\"%s\"]}", r1);
    take(b, s);
    snprintf(s, sizeof(s), "{\"type\":\"status\",\"at_ms\":60000,\"firing\":[\"%s\"]}", r0);
    take(b, s);
    history_builder_finish(b, &h);
    CHECK_INT(h.last_at_ms, 120000);
    CHECK_INT(h.published[0], 0);
    CHECK_INT(h.published[1], 1);
    history_builder_destroy(b);

    /* a rollback check (docs/semantics.md section 10) names a rule and a
     * state, but is no transition: only its instant counts */
    b = history_builder_create(&cfg);
    snprintf(s, sizeof(s), "{\"type\":\"status\",\"at_ms\":60000,\"firing\":[\"%s\"]}", r0);
    take(b, s);
    snprintf(s, sizeof(s), "{\"type\":\"rollback_check\",\"at_ms\":65000,\"rule\":\"%s\","
             "\"state\":\"verified\",\"fired_at_ms\":50000}", r0);
    take(b, s);
    snprintf(s, sizeof(s), "{\"type\":\"rollback_check\",\"at_ms\":66000,\"rule\":\"%s\","
             "\"state\":\"not_verified\",\"fired_at_ms\":50000}", r1);
    take(b, s);
    history_builder_finish(b, &h);
    CHECK_INT(h.last_at_ms, 66000);
    CHECK_INT(h.published[0], 1);
    CHECK_INT(h.published[1], 0);
    history_builder_destroy(b);

    /* more transitions than kept: the latest decide */
    b = history_builder_create(&cfg);
    for (int i = 0; i < MAX_HISTORY_TRIGGERS * 2 + 1; i++) {
        snprintf(s, sizeof(s), "{\"type\":\"rollback_trigger\",\"at_ms\":%d,\"rule\":\"%s\",\"state\":\"%s\"}",
                 1000 * (i + 1), r0, i % 2 ? "resolved" : "firing");
        take(b, s);
    }
    history_builder_finish(b, &h);
    CHECK_INT(h.published[0], 1); /* the last one, i even: firing */
    history_builder_destroy(b);

    /* the soak a restart carries on: the latest soak_update's start,
     * whatever order they were read in (docs/semantics.md section 11) */
    b = history_builder_create(&cfg);
    history_builder_finish(b, &h);
    CHECK_INT(h.soak_start_ms, -1);
    history_builder_destroy(b);
    b = history_builder_create(&cfg);
    take(b, "{\"type\":\"soak_update\",\"at_ms\":7200000,\"soak_start_ms\":60000}");
    take(b, "{\"type\":\"soak_update\",\"at_ms\":3600000,\"soak_start_ms\":120000}");
    take(b, "{\"type\":\"soak_update\",\"at_ms\":9000000,\"soak_start_ms\":\"x\"}");
    history_builder_finish(b, &h);
    CHECK_INT(h.soak_start_ms, 60000);
    CHECK_INT(h.last_at_ms, 9000000);
    history_builder_destroy(b);

    test_cohorts();
    test_kept_values();
    CHECK_DONE();
}
