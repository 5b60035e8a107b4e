/* replay.c: file replay in two threads. A reader thread reads through zlib
 * (plain files as they are, gzip decompressed) and cuts whole lines into a
 * few fixed chunks; the calling thread decodes, windows and writes. They
 * meet only through two SPSC rings (full chunks one way, free ones back).
 * Memory is fixed: lines longer than the message cap are rejected by the
 * reader without being held. */
#define _GNU_SOURCE /* memrchr */
#include "replay.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "control.h"
#include "counters.h"
#include "engine.h"
#include "event.h"
#include "pipeline.h"
#include "spsc.h"

#define CHUNK_BYTES (1u << 20)
#define N_CHUNKS 4

/* A run of whole lines handed from the reader thread to the engine's. */
typedef struct chunk {
    char *data;
    size_t start, end;   /* whole lines, each ending in '\n', in data[start, end) */
    size_t cap;
    uint64_t oversized;  /* lines longer than the cap, dropped by the reader */
    int eof;
    int error;           /* zlib error text in data when set */
} chunk;

typedef struct reader {
    gzFile in;
    size_t max_line;
    spsc_ring full, free;
    void *full_slots[N_CHUNKS], *free_slots[N_CHUNKS];
    chunk chunks[N_CHUNKS];
    char *carry;         /* a partial line kept for the next chunk */
    size_t carry_len;
} reader;

/* The reader thread: decompress, cut at line ends, hand over. It owns the
 * input and the carry buffer; chunks cross over only through the rings. */
static void *reader_main(void *arg)
{
    reader *rd = arg;
    int skipping = 0; /* inside a line longer than the cap */
    for (;;) {
        chunk *c = spsc_pop(&rd->free);
        size_t n = rd->carry_len;
        memcpy(c->data, rd->carry, n);
        rd->carry_len = 0;
        c->start = c->end = 0;
        c->oversized = 0;
        int got = gzread(rd->in, c->data + n, (unsigned)(c->cap - n - 1));
        if (got < 0) {
            int zerr;
            snprintf(c->data, c->cap, "%s", gzerror(rd->in, &zerr));
            c->error = 1;
            spsc_push(&rd->full, c);
            return NULL;
        }
        if (got == 0) {
            /* End of input: a last line without a newline still counts. */
            if (n > 0 && !skipping)
                c->data[n++] = '\n';
            c->end = n;
            c->eof = 1;
            spsc_push(&rd->full, c);
            return NULL;
        }
        n += (size_t)got;
        size_t from = 0;
        if (skipping) {
            char *nl = memchr(c->data, '\n', n);
            if (nl == NULL) {
                spsc_push(&rd->full, c); /* nothing whole in it */
                continue;
            }
            from = (size_t)(nl - c->data) + 1;
            skipping = 0;
        }
        char *last = memrchr(c->data + from, '\n', n - from);
        size_t tail_at = last ? (size_t)(last - c->data) + 1 : from;
        size_t tail = n - tail_at;
        c->start = from;
        c->end = tail_at;
        /* One byte of slack: a line of exactly the cap may carry a '\r'
         * that the decoding side strips, as it does inside a chunk. */
        if (tail > rd->max_line + 1) {
            /* Rejected now, its bytes dropped up to its newline; an empty
             * line stands in its place so that line numbers stay true. */
            c->oversized++;
            c->data[c->end++] = '\n';
            skipping = 1;
        } else {
            memcpy(rd->carry, c->data + tail_at, tail);
            rd->carry_len = tail;
        }
        spsc_push(&rd->full, c);
    }
}

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

/* Queue the acknowledgements due by the instants the engine may evaluate
 * before the next line is read: up to one largest gap past its greatest
 * second. */
static void feed_acks(sw_engine *e, sw_ack_list *acks, int64_t upto_s)
{
    while (acks->next < acks->n) {
        const sw_ack *a = &acks->acks[acks->next];
        int64_t at = a->ts_ms / 1000 + (a->ts_ms % 1000 != 0);
        if (at > upto_s)
            break;
        if (sw_engine_ack(e, a->id, a->by, at) != 0)
            fprintf(stderr, "soakwatch: acknowledgement %s by %s dropped: too many at once\n",
                    a->id, a->by);
        acks->next++;
    }
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
    dec_config dc = {{NULL}, NULL, NULL, 0, NULL};
    int from_stdin = o->input == NULL || strcmp(o->input, "-") == 0;
    int to_stdout = o->output == NULL || strcmp(o->output, "-") == 0;

    sw_ack_list acks;
    memset(&acks, 0, sizeof(acks));
    memset(&counters, 0, sizeof(counters));
    if (o->control && control_load_file(o->control, &acks, err, sizeof(err)) != 0) {
        fprintf(stderr, "soakwatch: %s\n", err);
        return 2;
    }
    if (from_stdin) {
        in = gzdopen(dup(STDIN_FILENO), "rb");
    } else {
        int fd = open(o->input, O_RDONLY);
        if (fd < 0) {
            fprintf(stderr, "soakwatch: cannot open input %s: %s\n", o->input, strerror(errno));
            return 2;
        }
        struct stat sb;
        if (fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode)) {
            fprintf(stderr, "soakwatch: cannot read input %s: it is a directory\n", o->input);
            close(fd);
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
    if (pipeline_dec_config(cfg, &dc, err, sizeof(err)) == 0)
        e = sw_engine_create(cfg, sink_emit, &sink, err, sizeof(err));
    if (e == NULL) {
        fprintf(stderr, "soakwatch: %s\n", err);
        rc = 2;
        goto done;
    }
    sw_engine_set_text(e, o->text);
    if (o->start_ms != INT64_MIN)
        sw_engine_set_watch_start(e, sw_floor_div(o->start_ms, 1000));
    /* The largest whole line a chunk must hold is the cap plus its newline,
     * after a carried partial line of up to the cap. */
    reader rd;
    memset(&rd, 0, sizeof(rd));
    rd.in = in;
    rd.max_line = cfg->max_message_bytes;
    size_t cap = CHUNK_BYTES > 2 * (cfg->max_message_bytes + 2) ? CHUNK_BYTES
                                                                : 2 * (cfg->max_message_bytes + 2);
    spsc_init(&rd.full, rd.full_slots, N_CHUNKS);
    spsc_init(&rd.free, rd.free_slots, N_CHUNKS);
    buf = malloc(cap * N_CHUNKS + cfg->max_message_bytes + 2);
    if (buf == NULL) {
        fprintf(stderr, "soakwatch: out of memory\n");
        rc = 1;
        goto done;
    }
    rd.carry = buf + cap * N_CHUNKS;
    for (int i = 0; i < N_CHUNKS; i++) {
        rd.chunks[i].data = buf + cap * (size_t)i;
        rd.chunks[i].cap = cap;
        spsc_push(&rd.free, &rd.chunks[i]);
    }
    pthread_t thread;
    if (pthread_create(&thread, NULL, reader_main, &rd) != 0) {
        fprintf(stderr, "soakwatch: cannot start the reader thread\n");
        rc = 1;
        goto done;
    }

    if (cfg->provenance && sw_engine_set_sources(e, 1, "lines") != 0) {
        fprintf(stderr, "soakwatch: out of memory\n");
        rc = 1;
        goto done;
    }
    int64_t lineno = 0;
    int progress = o->progress < 0 ? isatty(STDERR_FILENO) : o->progress;
    double t_start = now_s(), t_next = t_start + 1.0;
    for (;;) {
        chunk *c = spsc_pop(&rd.full);
        if (c->error) {
            fprintf(stderr, "soakwatch: reading input: %s\n", c->data);
            rc = 1;
            break;
        }
        counters.messages += c->oversized;
        counters.verdicts[DEC_REJ_TOO_LARGE] += c->oversized;
        char *p = c->data + c->start, *end = c->data + c->end;
        while (p < end) {
            char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t len = (size_t)(nl - p);
            if (len && p[len - 1] == '\r')
                len--;
            if (acks.next < acks.n && sw_engine_max_second(e) != INT64_MIN)
                feed_acks(e, &acks, sw_engine_max_second(e) + cfg->max_gap_s + 1);
            lineno++;
            if (len) /* blank lines are skipped */
                pipeline_feed_from(e, &dc, &counters, p, len, 0, lineno);
            p = nl + 1;
        }
        int eof = c->eof;
        spsc_push(&rd.free, c);
        if (eof)
            break;
        if (progress && now_s() >= t_next) {
            progress_line(e, &counters, t_start);
            t_next += 1.0;
        }
    }
    pthread_join(thread, NULL);
    if (rc == 0) {
        if (sw_engine_max_second(e) != INT64_MIN)
            feed_acks(e, &acks, sw_engine_max_second(e) + 1);
        sw_engine_finish(e);
    }
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
    control_list_free(&acks);
    sw_engine_destroy(e);
    pipeline_dec_free(&dc);
    return rc;
}
