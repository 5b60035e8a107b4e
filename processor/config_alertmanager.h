/* config_alertmanager.h: the `alertmanager` section of the configuration
 * (Prometheus Alertmanager as a destination, docs/configuration.md):
 * defaults, loading with errors that name the key, and the effective
 * section as JSON. Invariant: a loaded section is complete and in range,
 * or the load failed and left the destination as it was. */
#ifndef SOAKWATCH_CONFIG_ALERTMANAGER_H
#define SOAKWATCH_CONFIG_ALERTMANAGER_H

#include <jansson.h>
#include <stddef.h>

#include "config.h"

/* Off; resend_s 60, timeout_ms 5000, no generator URL. */
void config_am_defaults(sw_alertmanager *a);

/* Read the `alertmanager` object (or null: off) over the defaults into a,
 * and turn the destination on. Returns 0, or -1 with "SRC: alertmanager.KEY:
 * what is wrong". */
int config_am_load(const json_t *obj, sw_alertmanager *a, const char *src, char *err,
                   size_t errlen);

/* The effective section as a new JSON value (null when off; NULL when out
 * of memory). */
json_t *config_am_dump(const sw_alertmanager *a);

#endif
