/* score.c: firing spans and their figures (score.h). */
#include "score.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void spans_init(bt_spans *sp)
{
    memset(sp, 0, sizeof(*sp));
    for (size_t r = 0; r < sizeof(sp->open) / sizeof(sp->open[0]); r++)
        sp->open[r] = INT64_MIN;
}

void spans_free(bt_spans *sp)
{
    free(sp->s);
    free(sp->rule);
    sp->s = NULL;
    sp->rule = NULL;
}

static void keep(bt_spans *sp, int r, int64_t from, int64_t to)
{
    if (sp->n == sp->cap) {
        size_t cap = sp->cap ? 2 * sp->cap : 64;
        bt_span *s = realloc(sp->s, cap * sizeof(*s));
        if (s != NULL)
            sp->s = s;
        int *rr = s ? realloc(sp->rule, cap * sizeof(*rr)) : NULL;
        if (rr != NULL)
            sp->rule = rr;
        if (s == NULL || rr == NULL) {
            sp->oom = 1;
            return;
        }
        sp->cap = cap;
    }
    sp->s[sp->n] = (bt_span){from, to};
    sp->rule[sp->n++] = r;
}

void spans_transition(bt_spans *sp, int r, int64_t T, int firing)
{
    if (r < 0 || r >= (int)(sizeof(sp->open) / sizeof(sp->open[0])))
        return;
    if (firing) {
        sp->open[r] = T;
    } else if (sp->open[r] != INT64_MIN) {
        keep(sp, r, sp->open[r], T);
        sp->open[r] = INT64_MIN;
    }
}

void spans_close(bt_spans *sp, int64_t from_s, int64_t end_s)
{
    for (int r = 0; r < (int)(sizeof(sp->open) / sizeof(sp->open[0])); r++)
        if (sp->open[r] != INT64_MIN) {
            keep(sp, r, sp->open[r], end_s > sp->open[r] ? end_s : sp->open[r]);
            sp->open[r] = INT64_MIN;
        }
    size_t n = 0;
    for (size_t k = 0; k < sp->n; k++) {
        bt_span s = sp->s[k];
        s.from = s.from > from_s ? s.from : from_s;
        s.to = s.to < end_s ? s.to : end_s;
        if (s.to <= s.from)
            continue;
        sp->rule[n] = sp->rule[k];
        sp->s[n++] = s;
    }
    sp->n = n;
}

static int by_from(const void *a, const void *b)
{
    const bt_span *x = a, *y = b;
    return x->from < y->from ? -1 : x->from > y->from ? 1 : (x->to > y->to) - (x->to < y->to);
}

/* Seconds covered by the union of the spans (sorted by from in tmp). */
static int64_t union_s(const bt_spans *sp, bt_span *tmp)
{
    memcpy(tmp, sp->s, sp->n * sizeof(*tmp));
    qsort(tmp, sp->n, sizeof(*tmp), by_from);
    int64_t total = 0, cur_from = 0, cur_to = INT64_MIN;
    for (size_t i = 0; i < sp->n; i++) {
        if (tmp[i].from > cur_to) {
            if (cur_to != INT64_MIN)
                total += cur_to - cur_from;
            cur_from = tmp[i].from;
            cur_to = tmp[i].to;
        } else if (tmp[i].to > cur_to) {
            cur_to = tmp[i].to;
        }
    }
    if (cur_to != INT64_MIN)
        total += cur_to - cur_from;
    return total;
}

/* Incident [a, b) is detected at the first instant in it at which a rule
 * fires or is firing: the delay is that instant minus a; -1 when none. */
static int64_t delay_of(const bt_spans *sp, const bt_incident *in)
{
    int64_t best = -1;
    for (size_t i = 0; i < sp->n; i++) {
        const bt_span *s = &sp->s[i];
        if (s->to <= in->from || s->from >= in->to)
            continue;
        int64_t at = s->from > in->from ? s->from : in->from;
        if (best < 0 || at - in->from < best)
            best = at - in->from;
    }
    return best;
}

static int inside_any(int64_t t, const bt_incident *inc, int n)
{
    for (int i = 0; i < n; i++)
        if (t >= inc[i].from && t < inc[i].to)
            return 1;
    return 0;
}

void score_spans(const bt_spans *sp, const bt_incident *inc, int n, bt_score *out,
                 int64_t *delays)
{
    memset(out, 0, sizeof(*out));
    out->delay_mean_s = NAN;
    out->delay_max_s = -1;
    out->triggers = (int64_t)sp->n;
    for (size_t i = 0; i < sp->n; i++) {
        out->firing_s += sp->s[i].to - sp->s[i].from;
        out->false_alarms += !inside_any(sp->s[i].from, inc, n);
    }
    bt_span *tmp = sp->n ? malloc(sp->n * sizeof(*tmp)) : NULL;
    out->off_s = tmp ? union_s(sp, tmp) : 0;
    free(tmp);
    double sum = 0;
    for (int i = 0; i < n; i++) {
        int64_t d = delay_of(sp, &inc[i]);
        if (delays)
            delays[i] = d;
        if (d < 0) {
            out->missed++;
            continue;
        }
        out->detected++;
        sum += (double)d;
        out->delay_max_s = d > out->delay_max_s ? d : out->delay_max_s;
    }
    if (out->detected)
        out->delay_mean_s = sum / (double)out->detected;
}
