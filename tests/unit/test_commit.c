/* test_commit.c: when offsets are committed (live/commit.h), with the time
 * and the consumer's answers injected: only when delivery is settled, only
 * what changed, again after a failed or unanswered commit. */
#include <stdint.h>

#include "check.h"
#include "live/commit.h"

int main(void)
{
    sw_commit c;
    int64_t want[3];
    commit_state st = {0, 0, 0};
    CHECK_INT(commit_init(&c, 3), 0);
    int64_t fed[3] = {10, -1, 7};

    /* outputs not all answered: nothing is committed */
    CHECK_INT(commit_plan(&c, fed, 0, &st, 1000, want), 0);
    /* settled: every known position */
    CHECK_INT(commit_plan(&c, fed, 1, &st, 1000, want), 1);
    CHECK_INT(want[0], 10);
    CHECK_INT(want[1], -1);
    CHECK_INT(want[2], 7);
    commit_sent(&c, want, 1000);
    st.asked = 1;
    /* unchanged: nothing to ask */
    CHECK_INT(commit_plan(&c, fed, 1, &st, 2000, want), 0);
    /* one partition moved: only it */
    fed[2] = 9;
    CHECK_INT(commit_plan(&c, fed, 1, &st, 2000, want), 1);
    CHECK_INT(want[0], -1);
    CHECK_INT(want[2], 9);
    commit_sent(&c, want, 2000);
    st.asked = 2;
    /* unanswered, but for less than COMMIT_RETRY_MS: not asked again */
    CHECK_INT(commit_plan(&c, fed, 1, &st, 2000 + COMMIT_RETRY_MS - 1, want), 0);
    /* unanswered for COMMIT_RETRY_MS: asked again, every position */
    CHECK_INT(commit_plan(&c, fed, 1, &st, 2000 + COMMIT_RETRY_MS, want), 1);
    CHECK_INT(want[0], 10);
    CHECK_INT(want[2], 9);
    commit_sent(&c, want, 8000);
    st.answered = 2;
    CHECK_INT(commit_plan(&c, fed, 1, &st, 9000, want), 0);
    /* a failed answer: the positions are asked again */
    st.failed = 1;
    CHECK_INT(commit_plan(&c, fed, 1, &st, 9000, want), 1);
    CHECK_INT(want[0], 10);
    commit_sent(&c, want, 9000);
    /* the same failure is acted on once */
    CHECK_INT(commit_plan(&c, fed, 1, &st, 9500, want), 0);
    /* a failure seen while not settled waits for settling */
    st.failed = 2;
    CHECK_INT(commit_plan(&c, fed, 0, &st, 9600, want), 0);
    CHECK_INT(commit_plan(&c, fed, 1, &st, 9700, want), 1);
    commit_free(&c);
    CHECK_DONE();
}
