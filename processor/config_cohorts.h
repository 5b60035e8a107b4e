/* config_cohorts.h: the `cohorts` section of the configuration and the
 * rules' `cohorts` and `action` options (docs/semantics.md section 12):
 * loading with errors that name the key, and the effective section as
 * JSON. Invariant: a loaded section is complete and valid, or the load
 * failed and the config is unchanged. */
#ifndef SOAKWATCH_CONFIG_COHORTS_H
#define SOAKWATCH_CONFIG_COHORTS_H

#include <jansson.h>
#include <stddef.h>

#include "config.h"

/* Read the `cohorts` object into k and turn cohorts on. Returns 0, or -1
 * with "SRC: cohorts.KEY: what is wrong". */
int config_cohorts_load(const json_t *obj, sw_cohorts *k, const char *src, char *err,
                        size_t errlen);

/* A rule's `cohorts` ("whole", "each" or a list of cohort values),
 * `compare` ({treatment, control, alpha, horizon_s}) and `action`
 * ("disable_flag" or "rollback_cohort"), read from the rule object o
 * against the loaded cohorts. base is the rule's key ("rules[2]"). Returns
 * 0, or -1 with the key named. */
int config_cohorts_rule(const json_t *o, const sw_cohorts *k, sw_rule *r, const char *base,
                        const char *src, char *err, size_t errlen);

/* The effective section (NULL when out of memory) and a rule's options
 * into o (returns 0, or -1 when out of memory). */
json_t *config_cohorts_dump(const sw_cohorts *k);
int config_cohorts_dump_rule(const sw_cohorts *k, const sw_rule *r, json_t *o);

/* A cohort's name: the listed value, "other" for index max, NULL for a
 * cohort kept first come (its value is the engine's: sw_engine_cohort_name). */
const char *config_cohort_name(const sw_cohorts *k, int c);

#endif
