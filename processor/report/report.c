/* report.c: `soakwatch report`: reads soakwatch's own output events and
 * writes hourly updates (text), a JSON summary or an HTML timeline, and the
 * soak go/no-go verdict (exit status). Invariant: the report is rendered
 * whole into memory and written only when that succeeded, so a report is
 * never cut short; every failure exits 2 with a line on stderr. */
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

enum { FMT_TEXT, FMT_JSON, FMT_HTML };

typedef struct report_args {
    const char *in, *out, *cfg_path;
    int format; /* FMT_* */
    int soak;
} report_args;

/* Returns 0, or the exit status 2 after the usage line. */
static int parse_args(int argc, char **argv, report_args *a)
{
    const char *format = "text";
    *a = (report_args){"-", "-", NULL, FMT_TEXT, 0};
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char **dst = NULL;
        if (strcmp(arg, "--soak") == 0) {
            a->soak = 1;
            continue;
        }
        if (strcmp(arg, "--input") == 0)
            dst = &a->in;
        else if (strcmp(arg, "--output") == 0)
            dst = &a->out;
        else if (strcmp(arg, "--format") == 0)
            dst = &format;
        else if (strcmp(arg, "--config") == 0)
            dst = &a->cfg_path;
        else
            return usage("unknown option", arg);
        if (i + 1 >= argc)
            return usage("missing value after", arg);
        *dst = argv[++i];
    }
    a->format = strcmp(format, "text") == 0 ? FMT_TEXT : strcmp(format, "json") == 0 ? FMT_JSON
                : strcmp(format, "html") == 0 ? FMT_HTML : -1;
    if (a->format < 0)
        return usage("unknown format", format);
    return 0;
}

/* Read the input events and build the model: hours and verdict. Returns 0,
 * or the exit status 2 after a line on stderr. */
static int build_report(rp_report *r, const report_args *a)
{
    int rc = rp_read_input(r, a->in);
    const char *in = strcmp(a->in, "-") == 0 ? "stdin" : a->in;
    if (rc == 0 && r->n_st == 0 && r->n_tr == 0 && r->telemetry > 0) {
        fprintf(stderr, "report: %s holds input telemetry (%" PRIu64 " lines with an \"event\" "
                "field), not soakwatch's output events: replay it first "
                "(soakwatch replay --input FILE --output outputs.jsonl) and report on that "
                "(soakwatch report --input outputs.jsonl)\n", in, r->telemetry);
        r->skipped = 0; /* said already */
        rc = 2;
    } else if (rc == 0 && r->n_st == 0 && r->n_tr == 0) {
        fprintf(stderr, "report: no status or rollback_trigger events in %s (%" PRIu64
                " unreadable lines)\n", in, r->skipped);
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
        rp_build_soak(r);
        rp_judge_soak(r);
    }
    return rc;
}

/* Render the report in the format asked for. Returns 0 or a negative
 * errno (output cap or memory). */
static int render_report(sw_buf *b, const rp_report *r, const report_args *a)
{
    if (a->format == FMT_HTML)
        return rp_render_html(b, r);
    if (a->soak && a->format == FMT_JSON) {
        int rc = rp_render_soak_json(b, r);
        return rc ? rc : buf_puts(b, "\n");
    }
    if (a->soak)
        return rp_render_verdict_text(b, r);
    if (a->format == FMT_JSON)
        return rp_render_json(b, r);
    return rp_render_text(b, r);
}

/* Render and write. Returns 0, 1 (NO-GO with --soak) or 2. */
static int output_report(const rp_report *r, const report_args *a)
{
    sw_buf b;
    buf_init(&b, RP_OUTPUT_CAP);
    int rc = render_report(&b, r, a);
    if (rc != 0) {
        fprintf(stderr, "report: output larger than %zu bytes or out of memory\n", b.cap);
        rc = 2;
    } else {
        rc = write_output(a->out, &b);
    }
    buf_free(&b);
    if (rc == 0 && a->soak && !r->go)
        rc = 1;
    return rc;
}

int report_main(int argc, char **argv)
{
    report_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != 0)
        return rc;
    rp_report *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        fprintf(stderr, "report: out of memory\n");
        return 2;
    }
    config_defaults(&r->cfg);
    char err[512];
    if (a.cfg_path && config_load_file(&r->cfg, a.cfg_path, err, sizeof(err)) != 0) {
        fprintf(stderr, "report: %s\n", err);
        free(r);
        return 2;
    }
    rc = build_report(r, &a);
    if (rc == 0)
        rc = output_report(r, &a);
    if (r->skipped)
        fprintf(stderr, "report: skipped %" PRIu64 " unreadable lines\n", r->skipped);
    rp_report_free(r);
    free(r);
    return rc;
}
