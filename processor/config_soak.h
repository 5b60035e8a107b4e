/* config_soak.h: the `soak` section of the configuration (the runbook's
 * cadence, docs/semantics.md section 11): defaults, loading with errors
 * that name the key, and the effective section as JSON. Invariant: a
 * loaded section is complete and in range, or the load failed. */
#ifndef SOAKWATCH_CONFIG_SOAK_H
#define SOAKWATCH_CONFIG_SOAK_H

#include <jansson.h>
#include <stddef.h>

#include "config.h"

/* Off, with the plan's targets, 48 hours and its title. */
void config_soak_defaults(sw_soak *s);

/* Read the `soak` object (or null: off) over the defaults into s, and turn
 * the cadence on. Returns 0, or -1 with "SRC: soak.KEY: what is wrong". */
int config_soak_load(const json_t *obj, sw_soak *s, const char *src, char *err, size_t errlen);

/* The effective section as a new JSON value (null when off; NULL when out
 * of memory). */
json_t *config_soak_dump(const sw_soak *s);

/* The index of sign-off criterion key in s->signoffs, or -1. */
int config_soak_signoff_index(const sw_soak *s, const char *key);

/* Parse a soak start given as text: RFC 3339 or integer milliseconds.
 * Returns 0 or -1. */
int config_soak_parse_start(const char *text, int64_t *ms);

#endif
