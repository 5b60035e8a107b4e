/* pipeline.c: decode, push, count. The hot path: no allocation here, the
 * decoder's fast path and the engine's O(1) push. */
#include "pipeline.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void pipeline_dec_config(const sw_config *cfg, dec_config *out)
{
    for (int i = 0; i < 4; i++)
        out->event_names[i] = cfg->event_names[i];
    out->strategies = &cfg->strategies;
    out->reasons = &cfg->reasons;
    out->max_message_bytes = cfg->max_message_bytes;
}

sw_feed_result pipeline_feed(sw_engine *e, const dec_config *dc, sw_counters *c,
                             const char *msg, size_t len)
{
    return pipeline_feed_from(e, dc, c, msg, len, -1, 0);
}

sw_feed_result pipeline_feed_from(sw_engine *e, const dec_config *dc, sw_counters *c,
                                  const char *msg, size_t len, int source, int64_t offset)
{
    sw_feed_result r;
    sw_event ev;
    c->messages++;
    r.verdict = dec_parse(dc, msg, len, &ev);
    c->verdicts[r.verdict]++;
    r.pushed = SW_ACCEPTED;
    if (r.verdict == DEC_OK)
        r.pushed = sw_engine_push_from(e, &ev, source, offset);
    return r;
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
        snprintf(out + n, cap - n,
                 "; %" PRIu64 " ignored; %" PRIu64 " late; %" PRIu64 " out of range; %" PRIu64
                 " events written",
                 c->verdicts[DEC_IGNORED], st->late, st->out_of_range, c->outputs_written);
}
