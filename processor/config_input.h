/* config_input.h: the `input` section of the configuration (mapped input,
 * docs/semantics.md section 9): loading with errors that name the key, the
 * effective section as JSON, and its part of the fingerprint. */
#ifndef SOAKWATCH_CONFIG_INPUT_H
#define SOAKWATCH_CONFIG_INPUT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* Read the `input` object over the defaults into in. Returns 0, or -1 with
 * "SRC: input.KEY: what is wrong" in err. */
int config_input_load(const json_t *obj, sw_input *in, const char *src, char *err,
                      size_t errlen);

/* The effective section as a new JSON object (NULL when out of memory). */
json_t *config_input_dump(const sw_input *in);

/* Checks of a mapping built in code (the loader checks everything itself).
 * Returns 0 or -1 with a message naming the key. */
int config_input_validate(const sw_input *in, char *err, size_t errlen);

#endif
