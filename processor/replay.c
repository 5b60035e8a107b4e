/* replay.c: read JSON Lines through zlib (which reads plain files as they
 * are and gzip files decompressed), split lines in place in a fixed buffer,
 * feed the pipeline, write outputs. Memory is fixed: the read buffer, and
 * lines longer than the message cap are rejected without being held. */
#include "replay.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "counters.h"
#include "engine.h"
#include "event.h"
#include "pipeline.h"

#define READ_CHUNK (1u << 20)

typedef struct replay_sink {
    FILE *out;
    sw_counters *counters;
    int write_failed;
} replay_sink;

static void sink_emit(void *ud, const sw_output *o)
{
    replay_sink *s = ud;
    if (fwrite(o->json, 1, o->json_len, s->out) != o->json_len || fputc('\n', s->out) == EOF)
        s->write_failed = 1;
    s->counters->outputs_written++;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void progress_line(const sw_engine *e, const sw_counters *c, double t_start)
{
    char ts[40] = "-";
    int64_t s = sw_engine_max_second(e);
    if (s != INT64_MIN)
        dec_rfc3339_format(s * 1000, ts, sizeof(ts));
    double el = now_s() - t_start;
    fprintf(stderr, "\rsoakwatch: %" PRIu64 " events, event time %s, %.0f events/s   ",
            c->messages, ts, el > 0 ? (double)c->messages / el : 0.0);
}

int file_replay_run(const sw_config *cfg, const file_replay_opts *o)
{
    char err[256];
    int rc = 0;
    gzFile in = NULL;
    FILE *out = stdout;
    char *buf = NULL;
    sw_engine *e = NULL;
    sw_counters counters;
    replay_sink sink;
    dec_config dc;
    int from_stdin = o->input == NULL || strcmp(o->input, "-") == 0;
    int to_stdout = o->output == NULL || strcmp(o->output, "-") == 0;

    memset(&counters, 0, sizeof(counters));
    pipeline_dec_config(cfg, &dc);
    if (from_stdin) {
        in = gzdopen(dup(STDIN_FILENO), "rb");
    } else {
        int fd = open(o->input, O_RDONLY);
        if (fd < 0) {
            fprintf(stderr, "soakwatch: cannot open input %s: %s\n", o->input, strerror(errno));
            return 2;
        }
        in = gzdopen(fd, "rb");
    }
    if (in == NULL) {
        fprintf(stderr, "soakwatch: cannot read input %s\n", from_stdin ? "(stdin)" : o->input);
        return 2;
    }
    gzbuffer(in, 256 * 1024);
    if (!to_stdout) {
        out = fopen(o->output, "w");
        if (out == NULL) {
            fprintf(stderr, "soakwatch: cannot open output %s: %s\n", o->output, strerror(errno));
            gzclose(in);
            return 2;
        }
    }
    setvbuf(out, NULL, _IOFBF, 1 << 16);
    sink.out = out;
    sink.counters = &counters;
    sink.write_failed = 0;
    e = sw_engine_create(cfg, sink_emit, &sink, err, sizeof(err));
    if (e == NULL) {
        fprintf(stderr, "soakwatch: %s\n", err);
        rc = 2;
        goto done;
    }
    sw_engine_set_text(e, o->text);
    size_t cap = READ_CHUNK > cfg->max_message_bytes + 1 ? READ_CHUNK : cfg->max_message_bytes + 1;
    buf = malloc(cap);
    if (buf == NULL) {
        fprintf(stderr, "soakwatch: out of memory\n");
        rc = 1;
        goto done;
    }

    int progress = o->progress < 0 ? isatty(STDERR_FILENO) : o->progress;
    double t_start = now_s(), t_next = t_start + 1.0;
    size_t have = 0;     /* bytes in buf */
    int skipping = 0;    /* inside a line longer than the cap */
    int eof = 0;
    while (!eof) {
        int n = gzread(in, buf + have, (unsigned)(cap - have));
        if (n < 0) {
            int zerr;
            fprintf(stderr, "soakwatch: reading input: %s\n", gzerror(in, &zerr));
            rc = 1;
            goto done;
        }
        if (n == 0)
            eof = 1;
        have += (size_t)n;
        char *p = buf, *end = buf + have;
        for (;;) {
            char *nl = memchr(p, '\n', (size_t)(end - p));
            if (nl == NULL)
                break;
            size_t len = (size_t)(nl - p);
            if (skipping) {
                skipping = 0; /* the tail of an oversized line: already counted */
            } else {
                if (len && p[len - 1] == '\r')
                    len--;
                if (len) /* blank lines are skipped */
                    pipeline_feed(e, &dc, &counters, p, len);
            }
            p = nl + 1;
        }
        have = (size_t)(end - p);
        if (have && eof && !skipping) {
            size_t len = have;
            if (buf[have - 1] == '\r')
                len--;
            if (len)
                pipeline_feed(e, &dc, &counters, p, len);
            have = 0;
        }
        if (have > cfg->max_message_bytes) {
            /* A line longer than any acceptable message: reject it now and
             * drop its bytes up to the next newline. */
            if (!skipping) {
                counters.messages++;
                counters.verdicts[DEC_REJ_TOO_LARGE]++;
                skipping = 1;
            }
            have = 0;
        } else if (have) {
            memmove(buf, p, have);
        }
        if (progress && now_s() >= t_next) {
            progress_line(e, &counters, t_start);
            t_next += 1.0;
        }
    }
    sw_engine_finish(e);
    if (progress)
        fputs("\r\033[K", stderr);

done:
    if (e) {
        char line[1024];
        if (fflush(out) != 0 || ferror(out) || sink.write_failed) {
            fprintf(stderr, "soakwatch: writing output failed: %s\n", strerror(errno));
            rc = rc ? rc : 1;
        }
        pipeline_summary(e, &counters, line, sizeof(line));
        fprintf(stderr, "soakwatch: %s\n", line);
    }
    if (out && out != stdout)
        fclose(out);
    if (in)
        gzclose(in);
    free(buf);
    sw_engine_destroy(e);
    return rc;
}
