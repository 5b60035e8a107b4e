/* config_env.h: environment overrides, the config fingerprint, the
 * effective config as JSON, and the key table that config.c and
 * config_env.c share (so that loading, checking, hashing and dumping walk
 * the same keys). */
#ifndef SOAKWATCH_CONFIG_ENV_H
#define SOAKWATCH_CONFIG_ENV_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* Apply SOAKWATCH_BROKERS, SOAKWATCH_INPUT_TOPIC, SOAKWATCH_OUTPUT_TOPIC,
 * SOAKWATCH_GROUP, SOAKWATCH_DEAD_LETTER_TOPIC, SOAKWATCH_CONTROL_TOPIC and
 * SOAKWATCH_HTTP. A set variable wins over the file, even when empty. Returns 0, or -1 with
 * errstr naming the variable (cfg then unchanged). */
int config_apply_env(sw_config *cfg, char *errstr, size_t errlen);

/* 16 hex digits identifying the semantic part of the config (not Kafka or
 * HTTP settings): a 64-bit FNV-1a hash of a canonical rendering. Never
 * fails, never allocates. */
void config_fingerprint(const sw_config *cfg, char out[17]);

/* The effective config as a JSON document in the file format. Returns 0
 * and a string the caller frees with free(), or a negative errno. */
int config_dump_json(const sw_config *cfg, char **out);

/* ---- shared by config.c and config_env.c -------------------------------- */

#define CFG_MAX_WINDOW_S 86400
#define CFG_MAX_GAP_S 31536000 /* one year: bounds the seconds a jump may span */

typedef enum cfg_key_type {
    CK_OBJ,      /* a nested object; its keys follow as "parent.key" */
    CK_INT,      /* int64_t */
    CK_SIZE,     /* size_t */
    CK_DBL,      /* double */
    CK_BOOL,     /* int 0/1 */
    CK_STR,      /* char[SW_STR_MAX + 1] */
    CK_WINDOWS3, /* int64_t[3] */
    CK_LABELS,   /* sw_labels */
    CK_RULES,    /* the rule list */
    CK_PROPS,    /* the Kafka properties */
    CK_INPUT,    /* the input mapping (config_input.c) */
    CK_SOAK,     /* the soak cadence (config_soak.c) */
    CK_ALERTMANAGER, /* the Alertmanager destination (config_alertmanager.c) */
    CK_COHORTS,  /* cohorts (config_cohorts.c) */
} cfg_key_type;

/* One key of the file format. The JSON Schema mirrors this table. */
typedef struct cfg_key {
    const char *path; /* "status.window_s" */
    cfg_key_type type;
    size_t off;       /* offset in sw_config (scalars, strings, lists) */
    int64_t imin, imax;
    double dmin, dmax;
    size_t min_len;   /* CK_STR */
} cfg_key;

extern const cfg_key cfg_keys[];
extern const int cfg_n_keys;

/* Where a loader reports: the file's name and the caller's error buffer. */
typedef struct cfg_loader {
    const char *src; /* file name, or "config" */
    char *err;
    size_t errlen;
} cfg_loader;

/* One line "SRC: PATH: what is wrong" into the loader's buffer. Always
 * returns -1. */
int cfg_err(const cfg_loader *l, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

struct json_t;
/* "object", "string", "integer", ... for messages. */
const char *cfg_json_kind(const struct json_t *j);

/* A rule's metric as the file writes it ("strategies.core_only"). Returns 0
 * or -ENAMETOOLONG. */
int config_metric_format(const sw_config *cfg, const sw_rule *r, char *buf, size_t cap);

/* Whether s is "HOST:PORT" or "[V6ADDR]:PORT" with PORT 0..65535. */
int config_listen_ok(const char *s);

#endif
