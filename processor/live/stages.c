/* stages.c: the output stages (stages.h). */
#include "stages.h"

#include <string.h>

static int rule_firing(const void *e, int rule, int cohort, const char **name)
{
    if (cohort < 0)
        return sw_engine_rule_firing(e, rule);
    *name = sw_engine_cohort_name(e, cohort);
    return *name && sw_engine_cohort_rule_firing(e, rule, cohort);
}

int stages_open(sw_stages *st, const sw_config *cfg, sw_counters *c, sw_sink *sink,
                int with_alerts, char *errstr, size_t errlen)
{
    memset(st, 0, sizeof(*st));
    if (cfg->soak.enabled && (st->soak = soak_create(cfg, errstr, errlen)) == NULL)
        return -1;
    int alerts = with_alerts && cfg->alertmanager.enabled;
    c->am_enabled = alerts;
    if (alerts && (st->alerts = alerts_create(cfg, c, NULL, NULL, errstr, errlen)) == NULL)
        return -1;
    sw_emit_fn to_sink = st->alerts ? alerts_output : sink_output;
    void *to_sink_ud = st->alerts ? (void *)st->alerts : (void *)sink;
    st->e = sw_engine_create(cfg, st->soak ? soak_emit : to_sink,
                             st->soak ? (void *)st->soak : to_sink_ud, errstr, errlen);
    if (st->e == NULL)
        return -1;
    if (st->soak)
        soak_bind(st->soak, st->e, c, to_sink, to_sink_ud);
    if (st->alerts)
        alerts_bind(st->alerts, sink_output, sink, rule_firing, st->e);
    return 0;
}
