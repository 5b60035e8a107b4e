/* replay.c: file replay in two threads. A reader thread reads through zlib
 * (plain files as they are, gzip decompressed) and cuts whole lines into a
 * few fixed chunks; the calling thread decodes, windows and writes. They
 * meet only through two SPSC rings (full chunks one way, free ones back).
 * Memory is fixed: lines longer than the message cap are rejected by the
 * reader without being held.
 *
 * Invariant: the reader thread is started only once nothing else can fail,
 * and it is always joined before the input, the chunks or the carry it
 * uses are released; whatever stage start-up reached, one function
 * releases what was acquired.
 */
#define _GNU_SOURCE /* memrchr */
#include "replay.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "config_soak.h"
#include "control.h"
#include "engine_time.h"
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
    int eof;             /* the reader's last chunk: it has returned or is returning */
    int error;           /* zlib error text in data when set; also the last chunk */
} chunk;

typedef struct reader {
    gzFile in;
    size_t max_line;
    spsc_ring full, free;
    void *full_slots[N_CHUNKS], *free_slots[N_CHUNKS];
    chunk chunks[N_CHUNKS];
    char *carry;         /* a partial line kept for the next chunk */
    size_t carry_len;
    atomic_int stop;     /* set by the engine's thread: end at the next chunk */
} reader;

/* The reader thread: decompress, cut at line ends, hand over. It owns the
 * input and the carry buffer; chunks cross over only through the rings.
 * Its last chunk always carries eof or error, so the other side knows when
 * it may join. */
static void *reader_main(void *arg)
{
    reader *rd = arg;
    int skipping = 0; /* inside a line longer than the cap */
    for (;;) {
        chunk *c = spsc_pop(&rd->free);
        size_t n = rd->carry_len;
        c->start = c->end = 0;
        c->oversized = 0;
        if (atomic_load_explicit(&rd->stop, memory_order_relaxed)) {
            c->eof = 1; /* asked to stop: hand back an empty last chunk */
            spsc_push(&rd->full, c);
            return NULL;
        }
        memcpy(c->data, rd->carry, n);
        rd->carry_len = 0;
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

/* Everything one replay holds. Each member is NULL/0 until acquired, so
 * that replay_release can undo any prefix of start-up. */
typedef struct replay {
    const sw_config *cfg;
    const file_replay_opts *o;
    const file_replay_follower *follow; /* NULL: none */
    sw_ack_list acks;
    gzFile in;
    FILE *out;              /* NULL until opened; may be stdout */
    dec_config dc;
    sw_engine *e;
    sw_counters counters;
    replay_sink sink;
    char *buf;              /* the chunks and the carry, in one allocation */
    reader rd;
    pthread_t thread;
    int reader_started;     /* joined by replay_join_reader */
    int reader_ended;       /* its last chunk (eof or error) was taken */
    int progress;
} replay;

/* A sign-off from the control file, at the instant engine_time.h gives
 * it (its time rounded up: a file's messages are never late); one for a
 * criterion not in soak.signoffs is refused, counted and logged. */
static void feed_signoff(sw_engine *e, sw_counters *c, const sw_ack *a)
{
    const sw_soak *soak = &sw_engine_config(e)->soak;
    int too_far;
    int64_t at = sw_time_ack_instant_s(sw_engine_config(e), a->ts_ms, a->ts_ms, &too_far);
    if (!soak->enabled || config_soak_signoff_index(soak, a->id) < 0) {
        c->control_rejected++;
        fprintf(stderr, "soakwatch: control file: sign-off refused: %s \"%s\" by %s\n",
                soak->enabled ? "a criterion not in soak.signoffs:" : "no soak section; criterion",
                a->id, a->by);
    } else if (sw_engine_signoff(e, a->id, a->by, at) != 0) {
        c->control_rejected++;
        fprintf(stderr, "soakwatch: sign-off %s by %s dropped: too many at once\n", a->id, a->by);
    } else {
        c->control_acks++;
    }
}

/* Queue the acknowledgements due by the instants the engine may evaluate
 * before the next line is read: up to one largest gap past its greatest
 * second. */
static void feed_acks(sw_engine *e, sw_counters *c, sw_ack_list *acks, int64_t upto_s)
{
    while (acks->next < acks->n) {
        const sw_ack *a = &acks->acks[acks->next];
        int64_t at = a->ts_ms / 1000 + (a->ts_ms % 1000 != 0);
        if (at > upto_s)
            break;
        if (a->signoff)
            feed_signoff(e, c, a);
        else if (sw_engine_ack(e, a->id, a->by, at) != 0)
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

/* The acknowledgements, the input and the output. Returns 0, or 2 after
 * one line on stderr naming what cannot be opened. */
static int replay_open(replay *r)
{
    const file_replay_opts *o = r->o;
    char err[256];
    int from_stdin = o->input == NULL || strcmp(o->input, "-") == 0;
    int to_stdout = o->output == NULL || strcmp(o->output, "-") == 0;
    if (o->control && control_load_file(o->control, &r->acks, err, sizeof(err)) != 0) {
        fprintf(stderr, "soakwatch: %s\n", err);
        return 2;
    }
    if (from_stdin && isatty(STDIN_FILENO))
        fprintf(stderr, "soakwatch: reading input events from stdin, a terminal: end with "
                "Ctrl-D, or give --input FILE\n");
    int fd = from_stdin ? dup(STDIN_FILENO) : open(o->input, O_RDONLY);
    if (fd < 0 && !from_stdin) {
        fprintf(stderr, "soakwatch: cannot open input %s: %s\n", o->input, strerror(errno));
        return 2;
    }
    struct stat sb;
    if (!from_stdin && fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        fprintf(stderr, "soakwatch: cannot read input %s: it is a directory\n", o->input);
        close(fd);
        return 2;
    }
    r->in = fd < 0 ? NULL : gzdopen(fd, "rb");
    if (r->in == NULL) {
        if (fd >= 0)
            close(fd); /* gzdopen takes the descriptor only when it succeeds */
        fprintf(stderr, "soakwatch: cannot read input %s\n", from_stdin ? "(stdin)" : o->input);
        return 2;
    }
    gzbuffer(r->in, 256 * 1024);
    r->out = to_stdout ? stdout : fopen(o->output, "w");
    if (r->out == NULL) {
        fprintf(stderr, "soakwatch: cannot open output %s: %s\n", o->output, strerror(errno));
        return 2;
    }
    setvbuf(r->out, NULL, _IOFBF, 1 << 16);
    return 0;
}

sw_engine *file_replay_follower_engine(const file_replay_follower *f, const sw_config *cfg,
                                       char *errstr, size_t errlen)
{
    if (f->create)
        return f->create(f->ud, cfg, f->emit, f->ud, errstr, errlen);
    return sw_engine_create(cfg, f->emit, f->ud, errstr, errlen);
}

/* The decoder's view of the config and the engine, ready for the first
 * line. Returns 0, 2 when they cannot be made, 1 when provenance cannot. */
static int replay_start_engine(replay *r)
{
    char err[256];
    r->sink.out = r->out;
    r->sink.counters = &r->counters;
    r->sink.write_failed = 0;
    const file_replay_follower *f = r->follow;
    int decodable = pipeline_dec_config(r->cfg, &r->dc, err, sizeof(err)) == 0;
    if (decodable && f)
        r->e = file_replay_follower_engine(f, r->cfg, err, sizeof(err));
    else if (decodable)
        r->e = sw_engine_create(r->cfg, sink_emit, &r->sink, err, sizeof(err));
    if (r->e == NULL) {
        fprintf(stderr, "soakwatch: %s\n", err);
        return 2;
    }
    pipeline_bind_engine(&r->dc, r->e);
    if (f)
        f->bind(f->ud, r->e, &r->counters, sink_emit, &r->sink);
    sw_engine_set_text(r->e, r->o->text);
    if (r->o->start_ms != INT64_MIN)
        sw_engine_set_watch_start(r->e, sw_floor_div(r->o->start_ms, 1000));
    /* Before the reader starts: after it, a failure would have to stop it. */
    if (r->cfg->provenance && sw_engine_set_sources(r->e, 1, "lines") != 0) {
        fprintf(stderr, "soakwatch: out of memory\n");
        return 1;
    }
    return 0;
}

/* The chunks, the rings and the reader thread. Returns 0 or 1. */
static int replay_start_reader(replay *r)
{
    size_t max = r->cfg->max_message_bytes;
    reader *rd = &r->rd;
    rd->in = r->in;
    rd->max_line = max;
    atomic_init(&rd->stop, 0);
    /* The largest whole line a chunk must hold is the cap plus its newline,
     * after a carried partial line of up to the cap. */
    size_t cap = CHUNK_BYTES > 2 * (max + 2) ? CHUNK_BYTES : 2 * (max + 2);
    spsc_init(&rd->full, rd->full_slots, N_CHUNKS);
    spsc_init(&rd->free, rd->free_slots, N_CHUNKS);
    r->buf = malloc(cap * N_CHUNKS + max + 2);
    if (r->buf == NULL) {
        fprintf(stderr, "soakwatch: out of memory\n");
        return 1;
    }
    rd->carry = r->buf + cap * N_CHUNKS;
    for (int i = 0; i < N_CHUNKS; i++) {
        rd->chunks[i].data = r->buf + cap * (size_t)i;
        rd->chunks[i].cap = cap;
        spsc_push(&rd->free, &rd->chunks[i]);
    }
    if (pthread_create(&r->thread, NULL, reader_main, rd) != 0) {
        fprintf(stderr, "soakwatch: cannot start the reader thread\n");
        return 1;
    }
    r->reader_started = 1;
    return 0;
}

/* Decode and window every line the reader hands over, up to its last
 * chunk. Returns 0, or 1 when the input cannot be read. */
static int replay_drain(replay *r)
{
    int rc = 0;
    int64_t lineno = 0;
    const file_replay_opts *o = r->o;
    r->progress = o->progress < 0 ? isatty(STDERR_FILENO) : o->progress;
    double t_start = now_s(), t_next = t_start + 1.0;
    for (;;) {
        chunk *c = spsc_pop(&r->rd.full);
        if (c->error) {
            r->reader_ended = 1;
            fprintf(stderr, "soakwatch: reading input: %s\n", c->data);
            rc = 1;
            break;
        }
        r->counters.messages += c->oversized;
        r->counters.verdicts[DEC_REJ_TOO_LARGE] += c->oversized;
        char *p = c->data + c->start, *end = c->data + c->end;
        while (p < end) {
            char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t len = (size_t)(nl - p);
            if (len && p[len - 1] == '\r')
                len--;
            if (r->acks.next < r->acks.n && sw_engine_max_second(r->e) != INT64_MIN)
                feed_acks(r->e, &r->counters, &r->acks, sw_engine_max_second(r->e) + r->cfg->max_gap_s + 1);
            lineno++;
            if (len) /* blank lines are skipped */
                pipeline_feed_from(r->e, &r->dc, &r->counters, p, len, 0, lineno);
            p = nl + 1;
        }
        int eof = c->eof;
        spsc_push(&r->rd.free, c);
        if (eof) {
            r->reader_ended = 1;
            break;
        }
        if (r->progress && now_s() >= t_next) {
            progress_line(r->e, &r->counters, t_start);
            t_next += 1.0;
        }
    }
    return rc;
}

/* Join the reader when it was started. One that has not ended yet is told
 * to stop and given its chunks back until its last one comes, so that it
 * never waits on a ring nobody serves. */
static void replay_join_reader(replay *r)
{
    if (!r->reader_started)
        return;
    if (!r->reader_ended) {
        atomic_store_explicit(&r->rd.stop, 1, memory_order_relaxed);
        for (;;) {
            chunk *c = spsc_pop(&r->rd.full);
            int last = c->eof || c->error;
            spsc_push(&r->rd.free, c);
            if (last)
                break;
        }
        r->reader_ended = 1;
    }
    pthread_join(r->thread, NULL);
    r->reader_started = 0;
}

/* Report and release whatever was acquired; the reader has been joined.
 * Returns the exit status: rc, or 1 when writing the output failed. */
static int replay_release(replay *r, int rc)
{
    if (r->e) {
        char line[1024];
        if (fflush(r->out) != 0 || ferror(r->out) || r->sink.write_failed) {
            fprintf(stderr, "soakwatch: writing output failed: %s\n", strerror(errno));
            rc = rc ? rc : 1;
        }
        pipeline_summary(r->e, &r->counters, line, sizeof(line));
        fprintf(stderr, "soakwatch: %s\n", line);
    }
    if (r->out && r->out != stdout)
        fclose(r->out);
    if (r->in)
        gzclose(r->in);
    free(r->buf);
    control_list_free(&r->acks);
    sw_engine_destroy(r->e);
    pipeline_dec_free(&r->dc);
    return rc;
}

int file_replay_run(const sw_config *cfg, const file_replay_opts *o)
{
    return file_replay_run_followed(cfg, o, NULL);
}

int file_replay_run_followed(const sw_config *cfg, const file_replay_opts *o,
                             const file_replay_follower *f)
{
    replay r;
    memset(&r, 0, sizeof(r));
    r.cfg = cfg;
    r.o = o;
    r.follow = f;
    int rc = replay_open(&r);
    if (rc == 0)
        rc = replay_start_engine(&r);
    if (rc == 0)
        rc = replay_start_reader(&r);
    if (rc == 0)
        rc = replay_drain(&r);
    replay_join_reader(&r);
    if (rc == 0) {
        if (sw_engine_max_second(r.e) != INT64_MIN)
            feed_acks(r.e, &r.counters, &r.acks, sw_engine_max_second(r.e) + 1);
        sw_engine_finish(r.e);
    }
    if (r.progress)
        fputs("\r\033[K", stderr);
    return replay_release(&r, rc);
}
