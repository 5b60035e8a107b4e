/* test_cohort_names.c: the cohort field's values by id (cohort_names.h). */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "cohort_names.h"

static uint16_t id_of(cohort_names *t, const char *s)
{
    return cohort_names_id(t, s, strlen(s));
}

static void test_ids(void)
{
    sw_labels listed;
    memset(&listed, 0, sizeof(listed));
    labels_add(&listed, "v1");
    labels_add(&listed, "v2");
    cohort_names *t = cohort_names_create(&listed);
    CHECK(t != NULL);
    if (t == NULL)
        return;
    CHECK_INT(id_of(t, "v1"), 0); /* the listed values first, in list order */
    CHECK_INT(id_of(t, "v2"), 1);
    CHECK_INT(id_of(t, "v7"), 2); /* a new value, remembered */
    CHECK_INT(id_of(t, "v8"), 3);
    CHECK_INT(id_of(t, "v7"), 2);
    CHECK_STR(cohort_names_value(t, 2), "v7");
    CHECK_INT(cohort_names_id(t, "v7x", 2), 2); /* the bytes given, not up to a NUL */
    /* values that can never be cohorts */
    CHECK_INT(id_of(t, "other"), COHORT_ID_NONE);
    CHECK_INT(id_of(t, ""), COHORT_ID_NONE);
    CHECK_INT(id_of(t, "v 1"), COHORT_ID_NONE);
    CHECK_INT(id_of(t, "v:1"), COHORT_ID_NONE);
    char longest[80];
    memset(longest, 'x', sizeof(longest));
    CHECK_INT(cohort_names_id(t, longest, 64), COHORT_ID_NONE);
    CHECK(cohort_names_id(t, longest, 63) != COHORT_ID_NONE);
    /* closed: known values keep their ids, new ones get none */
    cohort_names_close(t);
    CHECK_INT(id_of(t, "v8"), 3);
    CHECK_INT(id_of(t, "v9"), COHORT_ID_NONE);
    CHECK_INT(cohort_names_overflow(t), 0);
    cohort_names_destroy(t);
}

static void test_full(void)
{
    cohort_names *t = cohort_names_create(NULL);
    CHECK(t != NULL);
    if (t == NULL)
        return;
    char v[16];
    int ok = 1;
    for (int i = 0; i < COHORT_NAMES_MAX; i++) {
        int n = snprintf(v, sizeof(v), "v%d", i);
        ok &= cohort_names_id(t, v, (size_t)n) == i;
    }
    CHECK(ok);
    CHECK_INT(id_of(t, "one-more"), COHORT_ID_NONE);
    CHECK_INT(cohort_names_overflow(t), 1);
    CHECK_INT(id_of(t, "v1023"), 1023); /* still found */
    CHECK_INT(id_of(t, "v0"), 0);
    cohort_names_destroy(t);
}

int main(void)
{
    test_ids();
    test_full();
    CHECK_DONE();
}
