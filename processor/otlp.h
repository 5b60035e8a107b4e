/* otlp.h: the log records of an OpenTelemetry OTLP/JSON logs export, each
 * turned into the plain object that input paths read (docs/semantics.md
 * section 9.2: body, attributes, resource, timeUnixMs, observedTimeUnixMs,
 * severityText). */
#ifndef SOAKWATCH_OTLP_H
#define SOAKWATCH_OTLP_H

#include <jansson.h>
#include <stddef.h>

/* Called per record in order; record is NULL for a part of the export that
 * is malformed (one envelope rejection each). Borrowed for the call. */
typedef void (*otlp_record_fn)(void *ud, json_t *record);

/* Read one export. Returns 0, or -1 when the message is not one (not JSON,
 * not an object, no resourceLogs array), fn not called. Allocates through
 * jansson, freed before it returns. */
int otlp_records(const char *buf, size_t len, otlp_record_fn fn, void *ud);

#endif
