/* config_env.h: environment overrides, the config fingerprint, and the
 * effective config as JSON. */
#ifndef SOAKWATCH_CONFIG_ENV_H
#define SOAKWATCH_CONFIG_ENV_H

#include <stddef.h>

#include "config.h"

/* Apply SOAKWATCH_BROKERS, SOAKWATCH_INPUT_TOPIC, SOAKWATCH_OUTPUT_TOPIC,
 * SOAKWATCH_GROUP, SOAKWATCH_DEAD_LETTER_TOPIC and SOAKWATCH_HTTP. Returns 0,
 * or -1 with errstr naming the variable. */
int config_apply_env(sw_config *cfg, char *errstr, size_t errlen);

/* 16 hex digits identifying the semantic part of the config (not Kafka or
 * HTTP settings). */
void config_fingerprint(const sw_config *cfg, char out[17]);

/* The effective config as a JSON document in the file format. Returns 0
 * and a string the caller frees with free(), or a negative errno. */
int config_dump_json(const sw_config *cfg, char **out);

#endif
