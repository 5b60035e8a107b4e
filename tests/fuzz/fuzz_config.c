/* fuzz_config.c: arbitrary bytes as a config document. The loader must
 * never crash; a document it accepts must pass config_validate, and its
 * dump must load back to the very same config with the same fingerprint.
 * A refused document must leave the config untouched and say why. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_env.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                       \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "fuzz_config: %s failed\n", #cond);             \
            abort();                                                        \
        }                                                                   \
    } while (0)

static sw_config cfg, before, again;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    config_defaults(&cfg);
    memcpy(&before, &cfg, sizeof(cfg));
    err[0] = '\0';
    if (config_load_string(&cfg, (const char *)data, size, err, sizeof(err)) != 0) {
        REQUIRE(memcmp(&cfg, &before, sizeof(cfg)) == 0);
        REQUIRE(err[0] != '\0' && memchr(err, '\n', strlen(err)) == NULL);
        return 0;
    }
    REQUIRE(config_validate(&cfg, err, sizeof(err)) == 0);
    REQUIRE(config_longest_window_s(&cfg) <= 86400);

    char *doc = NULL;
    REQUIRE(config_dump_json(&cfg, &doc) == 0 && doc != NULL);
    config_defaults(&again);
    if (config_load_string(&again, doc, strlen(doc), err, sizeof(err)) != 0) {
        fprintf(stderr, "fuzz_config: the dump does not load: %s\n%s\n", err, doc);
        abort();
    }
    free(doc);
    REQUIRE(memcmp(&cfg, &again, sizeof(cfg)) == 0);
    char a[17], b[17];
    config_fingerprint(&cfg, a);
    config_fingerprint(&again, b);
    REQUIRE(strcmp(a, b) == 0);
    return 0;
}
