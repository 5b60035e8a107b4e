/* input_check.h: what a configuration can see in a producer's input.
 * `check-config --input SAMPLE` reads real lines and says, per rule, whether
 * the sample lets it be evaluated; at start-up, rules whose field the input
 * mapping leaves out are named (docs/semantics.md section 9.7). */
#ifndef SOAKWATCH_INPUT_CHECK_H
#define SOAKWATCH_INPUT_CHECK_H

#include <stdio.h>

#include "config.h"

/* For a rule that can never be judged with this mapping (its field mapped to
 * null, and for latency no input.correlate), one line saying so into why and
 * 1; else 0. */
int input_rule_unseeable(const sw_config *cfg, int rule, char *why, size_t cap);

/* Print a warning on err for every such rule. Returns how many. */
int input_warn_unseeable(const sw_config *cfg, FILE *err);

/* Read up to max_lines lines of the file at path (JSON Lines, plain or
 * gzip), decode them with cfg, and report to out what was found and which
 * rules the sample lets soakwatch evaluate. Returns 0 when at least one
 * event was accepted and no rule is blind, 1 otherwise, 2 when the file
 * cannot be read (one line on err). */
int input_check_sample(const sw_config *cfg, const char *path, long max_lines, FILE *out,
                       FILE *err);

#endif
