/* report.c: `soakwatch report`: reads soakwatch's own output events and
 * writes hourly updates (text), a JSON summary or an HTML timeline, and the
 * soak go/no-go verdict (exit status). */
#include "report.h"
#include "report_model.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <zlib.h>

#include "buf.h"
#include "config.h"
#include "event.h"

/* ---- command line ------------------------------------------------------ */

static int usage(const char *problem, const char *arg)
{
    fprintf(stderr, "report: %s%s%s (usage: soakwatch report [--input PATH|-] [--output PATH|-] "
            "[--format text|html|json] [--soak] [--config FILE])\n",
            problem, arg ? " " : "", arg ? arg : "");
    return 2;
}

static int write_output(const char *path, const sw_buf *b)
{
    if (b->failed) {
        fprintf(stderr, "report: output larger than %zu bytes or out of memory\n", b->cap);
        return 2;
    }
    FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "report: cannot write %s: %s\n", path, strerror(errno));
        return 2;
    }
    size_t n = b->len ? fwrite(b->data, 1, b->len, f) : 0;
    int bad = n != b->len || fflush(f) != 0 || ferror(f);
    int err = errno;
    if (f != stdout && fclose(f) != 0)
        bad = 1;
    if (bad) {
        fprintf(stderr, "report: cannot write %s: %s\n", path, strerror(err));
        return 2;
    }
    return 0;
}

int report_main(int argc, char **argv)
{
    const char *in = "-", *out = "-", *format = "text", *cfg_path = NULL;
    int soak = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **dst = NULL;
        if (strcmp(a, "--soak") == 0) {
            soak = 1;
            continue;
        }
        if (strcmp(a, "--input") == 0)
            dst = &in;
        else if (strcmp(a, "--output") == 0)
            dst = &out;
        else if (strcmp(a, "--format") == 0)
            dst = &format;
        else if (strcmp(a, "--config") == 0)
            dst = &cfg_path;
        else
            return usage("unknown option", a);
        if (i + 1 >= argc)
            return usage("missing value after", a);
        *dst = argv[++i];
    }
    int fmt = strcmp(format, "text") == 0 ? 0 : strcmp(format, "json") == 0 ? 1
              : strcmp(format, "html") == 0 ? 2 : -1;
    if (fmt < 0)
        return usage("unknown format", format);

    rp_report *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        fprintf(stderr, "report: out of memory\n");
        return 2;
    }
    config_defaults(&r->cfg);
    char err[512];
    if (cfg_path && config_load_file(&r->cfg, cfg_path, err, sizeof(err)) != 0) {
        fprintf(stderr, "report: %s\n", err);
        free(r);
        return 2;
    }
    int rc = rp_read_input(r, in);
    if (rc == 0 && r->n_st == 0 && r->n_tr == 0) {
        fprintf(stderr, "report: no status or rollback_trigger events in %s (%" PRIu64
                " unreadable lines)\n", strcmp(in, "-") == 0 ? "stdin" : in, r->skipped);
        r->skipped = 0; /* said already */
        rc = 2;
    }
    if (rc == 0 && rp_normalise(r) != 0) {
        fprintf(stderr, "report: out of memory\n");
        rc = 2;
    }
    if (rc == 0)
        rc = rp_build_hours(r);
    if (rc == 0) {
        rp_judge_soak(r);
        sw_buf b;
        buf_init(&b, RP_OUTPUT_CAP);
        if (fmt == 2) {
            if (rp_render_html(&b, r) != 0)
                b.failed = 1;
        } else if (soak && fmt == 1) {
            rp_render_soak_json(&b, r);
            buf_puts(&b, "\n");
        } else if (soak) {
            rp_render_verdict_text(&b, r);
        } else if (fmt == 1) {
            rp_render_json(&b, r);
        } else {
            rp_render_text(&b, r);
        }
        rc = write_output(out, &b);
        buf_free(&b);
        if (rc == 0 && soak && !r->go)
            rc = 1;
    }
    if (r->skipped)
        fprintf(stderr, "report: skipped %" PRIu64 " unreadable lines\n", r->skipped);
    rp_report_free(r);
    free(r);
    return rc;
}
