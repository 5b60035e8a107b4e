/* cohort_names.h: the values of the cohort field seen in the input, by id,
 * for cohorts kept first come (docs/semantics.md section 12, `cohorts.max`).
 *
 * The decoder turns a value into a small id (the listed values are ids
 * 0 .. n-1, in list order); the engine keeps ids as cohorts in the order it
 * accepts them, and reads the value of an id it keeps. Memory is fixed:
 * COHORT_NAMES_MAX values of up to 63 bytes, whatever the producers send.
 *
 * Threads: one decoder writes (cohort_names_id); the engine reads the value
 * of an id it received with an event, which came through a ring that
 * orders the write before it. cohort_names_close is the only other write,
 * a relaxed flag the decoder reads.
 */
#ifndef SOAKWATCH_COHORT_NAMES_H
#define SOAKWATCH_COHORT_NAMES_H

#include <stddef.h>
#include <stdint.h>

#include "labels.h"

#define COHORT_NAMES_MAX 1024  /* distinct values remembered before the cap is full */
#define COHORT_ID_NONE 0xFFFFu /* not a value that can be kept: `other` */

typedef struct cohort_names cohort_names;

/* A table holding the listed values (ids 0 .. listed->n - 1). NULL when
 * out of memory. */
cohort_names *cohort_names_create(const sw_labels *listed);
void cohort_names_destroy(cohort_names *t);

/* The decoder: the id of the value s[0..n), remembering it when it is new.
 * COHORT_ID_NONE when the value cannot be a cohort (not 1..63 characters
 * of [A-Za-z0-9_.-], or "other"), or when it is new and the table is full
 * or closed. */
uint16_t cohort_names_id(cohort_names *t, const char *s, size_t n);

/* The value of an id returned by cohort_names_id. */
const char *cohort_names_value(const cohort_names *t, uint16_t id);

/* The engine keeps no more values: new ones need not be remembered. */
void cohort_names_close(cohort_names *t);

/* New values not remembered because the table was full before it was
 * closed (they went to `other` though the cap had room). */
uint64_t cohort_names_overflow(const cohort_names *t);

size_t cohort_names_bytes(void);

#endif
