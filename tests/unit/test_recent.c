/* test_recent.c: the ring of latest output events (live/recent.h) against
 * a model: after any sequence of events, it holds exactly the newest ones
 * that fit, whole and in order, wrapping around its end. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "live/recent.h"

#define N 5000

static char events[N][300];
static size_t lens[N];
static size_t seen, first_expected;
static int bad;

static int check_one(void *ud, const char *json, size_t len)
{
    (void)ud;
    size_t i = first_expected + seen++;
    if (i >= N || len != lens[i] || memcmp(json, events[i], len) != 0)
        bad++;
    return 0;
}

static int stop_at_two(void *ud, const char *json, size_t len)
{
    (void)json;
    (void)len;
    return ++*(int *)ud == 2 ? 7 : 0;
}

int main(void)
{
    CHECK(recent_create(10) == NULL);
    size_t cap = 4096;
    sw_recent *r = recent_create(cap);
    CHECK(r != NULL);
    if (r == NULL)
        return 1;
    srand(7);
    for (size_t i = 0; i < N; i++) {
        lens[i] = (size_t)(rand() % 280);
        for (size_t k = 0; k < lens[i]; k++)
            events[i][k] = (char)('a' + (i + k) % 26);
        recent_add(r, events[i], lens[i]);
        /* the model: the newest events whose records fit in cap */
        size_t bytes = 0, j = i + 1;
        while (j > 0 && bytes + 4 + lens[j - 1] <= cap) {
            bytes += 4 + lens[j - 1];
            j--;
        }
        CHECK_INT(recent_count(r), i + 1 - j);
        if (i % 97 == 0 || i == N - 1) {
            seen = 0;
            first_expected = j;
            bad = 0;
            recent_foreach(r, check_one, NULL);
            CHECK_INT(bad, 0);
            CHECK_INT(seen, i + 1 - j);
        }
    }
    CHECK_INT(recent_dropped(r), N - recent_count(r));
    /* an event larger than the ring is not kept, and counted */
    char *big = calloc(1, cap);
    size_t before = recent_count(r);
    uint64_t dropped = recent_dropped(r);
    recent_add(r, big, cap);
    CHECK_INT(recent_count(r), before);
    CHECK_INT(recent_dropped(r), dropped + 1);
    free(big);
    int calls = 0;
    CHECK_INT(recent_foreach(r, stop_at_two, &calls), 7);
    CHECK_INT(calls, 2);
    recent_destroy(r);
    CHECK_DONE();
}
