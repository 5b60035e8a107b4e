/* commit.c: commit pacing and re-asking (commit.h). */
#include "commit.h"

#include <stdlib.h>

int commit_init(sw_commit *c, int n)
{
    c->n = n;
    c->sent_ms = 0;
    c->failed_seen = 0;
    c->committed = malloc((size_t)(n > 0 ? n : 1) * sizeof(int64_t));
    if (c->committed == NULL)
        return -1;
    for (int p = 0; p < n; p++)
        c->committed[p] = -1;
    return 0;
}

void commit_free(sw_commit *c)
{
    free(c->committed);
    c->committed = NULL;
}

/* A commit that failed, or has had no answer for COMMIT_RETRY_MS (the
 * coordinator was away), is not known to have happened: forget what was
 * asked, so that the positions are committed again. */
static void recheck(sw_commit *c, const commit_state *st, int64_t now_ms)
{
    int stuck = st->asked > st->answered && now_ms - c->sent_ms >= COMMIT_RETRY_MS;
    if (st->failed == c->failed_seen && !stuck)
        return;
    c->failed_seen = st->failed;
    for (int p = 0; p < c->n; p++)
        c->committed[p] = -1;
}

int commit_plan(sw_commit *c, const int64_t *fed, int settled, const commit_state *st,
                int64_t now_ms, int64_t *want)
{
    if (!settled)
        return 0;
    recheck(c, st, now_ms);
    int changed = 0;
    for (int p = 0; p < c->n; p++) {
        want[p] = fed[p] == c->committed[p] || fed[p] < 0 ? -1 : fed[p];
        changed |= want[p] >= 0;
    }
    return changed;
}

void commit_sent(sw_commit *c, const int64_t *want, int64_t now_ms)
{
    c->sent_ms = now_ms;
    for (int p = 0; p < c->n; p++)
        if (want[p] >= 0)
            c->committed[p] = want[p];
}
