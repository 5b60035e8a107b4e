/* pipeline.c: decode, push, count. The hot path: no allocation here, the
 * decoder's fast path and the engine's O(1) push. */
#include "pipeline.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "correlate.h"
#include "inpath.h"

/* Whether the cohort field is one top-level key that names none of the
 * flat contract's fields (the flat scanner then reads it), into *key. */
static int flat_cohort_key(const sw_config *cfg, const char **key)
{
    static const char *const taken[] = {"event", "ts", "durationMs", "status", "reason",
                                        "compressionStrategy", "meetsTimeConstraint"};
    inpath p;
    const char *why;
    if (inpath_parse(cfg->cohorts.field, &p, &why) != 0 || p.n != 1 || p.segs[0].index >= 0 ||
        strcmp(p.segs[0].key, cfg->cohorts.field) != 0)
        return 0; /* nested, indexed, or escaped */
    for (size_t i = 0; i < sizeof(taken) / sizeof(taken[0]); i++)
        if (strcmp(taken[i], cfg->cohorts.field) == 0)
            return 0;
    *key = cfg->cohorts.field;
    return 1;
}

int pipeline_dec_config(const sw_config *cfg, dec_config *out, char *errstr, size_t errlen)
{
    for (int i = 0; i < 4; i++)
        out->event_names[i] = cfg->event_names[i];
    out->strategies = &cfg->strategies;
    out->reasons = &cfg->reasons;
    out->max_message_bytes = cfg->max_message_bytes;
    out->cohorts = cfg->cohorts.enabled ? &cfg->cohorts.values : NULL;
    out->cohort_key = NULL;
    out->cohort_names = NULL; /* the engine's, once it is made (sw_engine_cohort_names) */
    out->map = NULL;
    /* The flat contract keeps the flat scanner: its speed is the baseline.
     * It reads a cohort field that is a top-level key of its own; any
     * other path goes through the mapped decoder. */
    int flat = config_input_is_flat(&cfg->input);
    if (flat && (!cfg->cohorts.enabled || flat_cohort_key(cfg, &out->cohort_key)))
        return 0;
    out->map = dec_map_create(&cfg->input, cfg->cohorts.enabled ? cfg->cohorts.field : NULL,
                              cfg->max_message_bytes, errstr, errlen);
    return out->map ? 0 : -1;
}

void pipeline_bind_engine(dec_config *dc, sw_engine *e)
{
    dc->cohort_names = sw_engine_cohort_names(e);
}

void pipeline_dec_free(dec_config *dc)
{
    dec_map_destroy(dc->map);
    dc->map = NULL;
}

dec_verdict pipeline_worst(dec_verdict so_far, dec_verdict v)
{
    if (so_far == DEC_VERDICT_COUNT)
        return v;
    if (so_far < DEC_REJ_TOO_LARGE && v >= DEC_REJ_TOO_LARGE)
        return v;
    return so_far;
}

typedef struct decode_ctx {
    sw_counters *c;
    pipeline_event_fn fn;
    void *ud;
    dec_verdict worst;
    size_t events;
} decode_ctx;

static void decode_one(void *ud, dec_verdict v, const sw_event *ev)
{
    decode_ctx *d = ud;
    d->c->verdicts[v]++;
    d->worst = pipeline_worst(d->worst, v);
    d->events++;
    if (v == DEC_OK)
        d->fn(d->ud, ev);
}

dec_verdict pipeline_decode(const dec_config *dc, sw_counters *c, const char *msg, size_t len,
                            pipeline_event_fn fn, void *ud)
{
    decode_ctx d = {c, fn, ud, DEC_VERDICT_COUNT, 0};
    c->messages++;
    dec_message(dc, msg, len, decode_one, &d);
    return d.events ? d.worst : DEC_IGNORED; /* an export without records */
}

void pipeline_count_oversized(sw_counters *c)
{
    c->messages++;
    c->verdicts[DEC_REJ_TOO_LARGE]++;
}

typedef struct feed_ctx {
    sw_engine *e;
    int source;
    int64_t offset;
    sw_feed_result r;
} feed_ctx;

static void feed_one(void *ud, const sw_event *ev)
{
    feed_ctx *f = ud;
    f->r.events++;
    f->r.pushed = sw_engine_push_from(f->e, ev, f->source, f->offset);
}

sw_feed_result pipeline_feed(sw_engine *e, const dec_config *dc, sw_counters *c,
                             const char *msg, size_t len)
{
    return pipeline_feed_from(e, dc, c, msg, len, -1, 0);
}

sw_feed_result pipeline_feed_from(sw_engine *e, const dec_config *dc, sw_counters *c,
                                  const char *msg, size_t len, int source, int64_t offset)
{
    feed_ctx f = {e, source, offset, {DEC_VERDICT_COUNT, SW_ACCEPTED, 0}};
    f.r.verdict = pipeline_decode(dc, c, msg, len, feed_one, &f);
    return f.r;
}

void pipeline_summary(const sw_engine *e, const sw_counters *c, char *out, size_t cap)
{
    const sw_engine_stats *st = sw_engine_stats_get(e);
    uint64_t rejected = 0;
    for (int v = DEC_REJ_TOO_LARGE; v < DEC_VERDICT_COUNT; v++)
        rejected += c->verdicts[v];
    size_t n = (size_t)snprintf(out, cap, "%" PRIu64 " accepted; %" PRIu64 " rejected",
                                st->accepted, rejected);
    if (rejected && n < cap) {
        const char *sep = " (";
        for (int v = DEC_REJ_TOO_LARGE; v < DEC_VERDICT_COUNT && n < cap; v++) {
            if (!c->verdicts[v])
                continue;
            n += (size_t)snprintf(out + n, cap - n, "%s%s %" PRIu64, sep,
                                  dec_verdict_name((dec_verdict)v), c->verdicts[v]);
            sep = ", ";
        }
        if (n < cap)
            n += (size_t)snprintf(out + n, cap - n, ")");
    }
    if (n < cap)
        n += (size_t)snprintf(out + n, cap - n,
                              "; %" PRIu64 " ignored; %" PRIu64 " late; %" PRIu64
                              " out of range; %" PRIu64 " events written",
                              c->verdicts[DEC_IGNORED], st->late, st->out_of_range,
                              c->outputs_written);
    if (n < cap && st->render_failures)
        n += (size_t)snprintf(out + n, cap - n, "; %" PRIu64 " events not written (larger than "
                              "the 256 KiB cap)", st->render_failures);
    const sw_config *cfg = sw_engine_config(e);
    if (n < cap && cfg->input.n_filters > 0)
        n += (size_t)snprintf(out + n, cap - n, "; %" PRIu64 " filtered",
                              c->verdicts[DEC_FILTERED]);
    const sw_corr_stats *p = sw_engine_corr_stats(e);
    if (n < cap && p)
        n += (size_t)snprintf(out + n, cap - n,
                              "; pairs %" PRIu64 " matched, %" PRIu64 " unmatched, %" PRIu64
                              " duplicate, %" PRIu64 " evicted, %" PRIu64 " expired, %" PRIu64
                              " unkeyed",
                              p->matched, p->unmatched, p->duplicate, p->evicted, p->expired,
                              p->unkeyed);
    const char *sep = "; blind ";
    for (int r = 0; r < cfg->n_rules && n < cap; r++) {
        uint64_t k = sw_engine_rule_blind_instants(e, r);
        if (k == 0)
            continue;
        n += (size_t)snprintf(out + n, cap - n, "%s%s (%s) %" PRIu64 " instants", sep,
                              cfg->rules[r].name, sw_engine_rule_blind_last(e, r), k);
        sep = ", ";
    }
}
