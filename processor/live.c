/* live.c: `soakwatch run` (Kafka to Kafka on one libev loop, or stdin to
 * stdout) and `soakwatch replay` of a recorded topic.
 *
 * Invariants: partitions are merged by event time before the engine, so it
 * sees one ordered stream as from a file; an input offset is committed only
 * once every output emitted up to it is acknowledged; every buffer is
 * fixed at start, and reading stops while a staging ring or the producer's
 * queue is full. Acknowledgements come from the control topic (read from
 * its end at start) or a followed control file, never from the past.
 */
#include "live.h"

#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "control.h"
#include "counters.h"
#include "engine.h"
#include "event.h"
#include "http.h"
#include "kafka.h"
#include "merge.h"
#include "metrics.h"
#include "pipeline.h"

#define STAGE_TOTAL 65536           /* staged events, all partitions (48 bytes each) */
#define STAGE_MIN 1024              /* staged events per partition, at least */
#define RELEASE_EVERY 256           /* messages read between two releases */
#define DRAIN_BUDGET 16384          /* messages read before the loop serves the rest */
#define PRODUCER_HIGH 20000         /* stop reading above this many queued outputs */
#define PRODUCER_LOW 5000           /* and read again below this */
#define META_TIMEOUT_MS 10000
#define HISTORY_TIMEOUT_MS 30000    /* reading the output topic's recent history */
#define REBUILD_MARGIN_S 60         /* record time is not event time: start earlier */
#define FLUSH_TIMEOUT_MS 7000       /* shutdown: flush, then commit within 10 s */
#define SHUTDOWN_BOUND_S 15         /* past this the process exits, whatever hangs */
#define TOPIC_CHECK_MS 10000        /* the input topic's partitions are looked at this often */
#define TOPIC_CHECK_TIMEOUT_MS 500  /* ... each look blocking the loop at most this long */
#define COMMIT_WAIT_MS 1500
#define COMMIT_RETRY_MS 5000        /* a commit unanswered this long is asked again */
#define MAX_HISTORY_TRIGGERS 4096
#define READ_CHUNK 65536
#define DEFAULT_GROUP "soakwatch"
#define CONTROL_LINE_MAX 4096       /* bytes of one control message or line */
#define CONTROL_LOGGED 10           /* refusals logged one by one, then every 1000th */

enum { OPAQUE_OUTPUT = 1, OPAQUE_DEAD_LETTER = 2 };

/* Outputs and dead letters whose delivery failed, kept to be produced
 * again, headers and all: neither is given up while the process runs.
 * Bounded; while it holds anything, input is not consumed (backpressure)
 * and nothing is committed. */
#define OUTBOX_CAP 1024
#define OUTBOX_HEADERS 2

typedef struct outbox_item {
    char *mem; /* value, key and header texts: one allocation */
    const char *value, *key;
    size_t len, key_len;
    kafka_header h[OUTBOX_HEADERS];
    int nh;
    int opaque; /* OPAQUE_OUTPUT or OPAQUE_DEAD_LETTER */
} outbox_item;

typedef struct live {
    const sw_config *cfg;
    struct ev_loop *loop;
    sw_engine *e;
    dec_config dc;
    sw_counters c;
    int exit_code;
    int stopping;
    char err[512];

    /* Kafka mode and Kafka replay */
    kafka_client *cons, *prod;
    const char *in_topic;
    const char *out_topic;   /* NULL: outputs not produced */
    sw_merge *m;
    int n;
    int64_t *hw_start;       /* high watermark per partition at start */
    int64_t *read_next;      /* next offset to read per partition */
    int64_t *committed;      /* last committed per partition (asked; -1: commit again) */
    int64_t commit_sent_ms;  /* when the last commit was asked */
    uint64_t commits_failed_seen;
    int64_t *fed;            /* scratch: fed positions */
    uint8_t *part_paused;    /* fetching stopped: ring full, or replay read to its end */
    uint8_t *part_done;      /* replay: read to its end at start */
    /* Items of a partition paused with its ring full that came in the
     * batch that filled it (see kafka_consume): kept in order until the
     * ring has room; at most KAFKA_BATCH per partition. */
    kafka_msg *held;
    int held_n;
    uint32_t *part_held;     /* held items per partition */
    uint8_t *part_blocked;   /* scratch for take_held */
    uint32_t stage_cap;      /* staged events per partition */
    int64_t q_max_msgs, q_max_bytes; /* librdkafka's prefetch limits */
    uint64_t in_bytes;       /* bytes of the messages read: their mean size */
    int maybe_full;          /* the prefetch queue came near its limit */
    int kick_next;           /* partition to wake the fetcher through */
    uint64_t interruptions;  /* seen of kafka_interruptions */
    int resync;              /* interrupted: seek every partition when the queue is empty */
    int64_t idle_ms;         /* merge idle timeout */
    int watching;            /* every partition has been read to its end once */
    int restart;             /* the input topic changed shape: start over */
    int topic_gone;          /* the input topic was found missing: 1 seen, 2 said */
    int64_t topic_check_ms;  /* when the topic was last looked at */
    uint64_t produced, acked, failed;
    uint64_t out_failures;   /* failed attempts, each kept in the outbox */
    uint64_t outputs_lost;   /* outbox full: given up (logged, blocks commits) */
    outbox_item outbox[OUTBOX_CAP];
    int outbox_n;
    int paused;
    int replay;              /* kafka_replay_run: no clock, no dead letters */
    int64_t replay_to_s;     /* stop once every instant up to it is evaluated; -1 none */
    FILE *out;               /* replay (and stdin mode) sink */
    int write_failed;
    int ticks;

    /* stdin mode */
    char *line;
    size_t line_len;
    int skipping;
    int64_t lineno;
    int64_t last_read_ms;
    int stdin_eof;

    /* acknowledgements: the control topic (Kafka mode) or file (stdin mode) */
    kafka_client *ctl;
    const char *ctl_path;
    int ctl_fd;
    dev_t ctl_dev;
    ino_t ctl_ino;
    off_t ctl_off;               /* next byte of the file to read */
    size_t ctl_len;              /* bytes of the incomplete line held */
    int ctl_skipping;            /* inside a line over the cap */
    int64_t lineno_ctl;
    char ctl_line[CONTROL_LINE_MAX + 2];
    ev_io ctl_io;
    ev_stat ctl_stat;

    int more_input;          /* drain_input stopped at its budget */
    ev_idle more_idle;       /* and continues once the loop has served the rest */
    ev_io cons_io, prod_io, stdin_io;
    ev_timer tick;
    ev_signal sig_term, sig_int;
    http_server *http;
    metrics_source ms;
} live;

static int64_t clock_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The live program's clock (clock.h): wall time that never jumps. Every
 * interval, deadline and the idle clock's watermark read it; a step of the
 * wall clock is logged once and slewed away at 1%. */
static sw_clock live_clock;

static int64_t wall_ms(void)
{
    int64_t step;
    int64_t now = sw_clock_now(&live_clock, clock_ms(CLOCK_REALTIME), clock_ms(CLOCK_MONOTONIC),
                               &step);
    if (step)
        fprintf(stderr, "soakwatch: the wall clock stepped by %+.3f s; soakwatch's clock "
                "follows it at 1%% (%.0f s to catch up)\n", (double)step / 1000.0,
                (double)(step < 0 ? -step : step) / 10.0);
    return now;
}

/* ---- output ------------------------------------------------------------ */

/* Keep a failed message to produce it again on the next tick, as it was.
 * Allocates on this failure path only. */
static void outbox_keep(live *l, int opaque, const char *value, size_t len, const char *key,
                        size_t key_len, const kafka_header *h, int nh)
{
    l->out_failures++;
    if (nh > OUTBOX_HEADERS)
        nh = OUTBOX_HEADERS;
    size_t need = len + key_len + 1;
    for (int i = 0; i < nh; i++)
        need += strlen(h[i].name) + 1 + h[i].len;
    outbox_item *it = &l->outbox[l->outbox_n];
    char *mem = l->outbox_n < OUTBOX_CAP ? malloc(need) : NULL;
    if (mem == NULL) {
        l->outputs_lost++;
        l->failed++; /* never commit past a message that was given up */
        fprintf(stderr, "soakwatch: %s; %s is lost\n",
                l->outbox_n < OUTBOX_CAP ? "out of memory keeping a message for redelivery"
                                         : "1024 messages await delivery",
                opaque == OPAQUE_OUTPUT ? "an output event" : "a dead letter");
        return;
    }
    it->mem = mem;
    it->opaque = opaque;
    memcpy(mem, value, len);
    it->value = mem;
    it->len = len;
    mem += len;
    memcpy(mem, key, key_len);
    it->key = mem;
    it->key_len = key_len;
    mem += key_len;
    for (int i = 0; i < nh; i++) {
        size_t nl = strlen(h[i].name) + 1;
        memcpy(mem, h[i].name, nl);
        it->h[i].name = mem;
        mem += nl;
        memcpy(mem, h[i].value, h[i].len);
        it->h[i].value = mem;
        it->h[i].len = h[i].len;
        mem += h[i].len;
    }
    it->nh = nh;
    l->outbox_n++;
}

/* Hand one message to the producer, waiting for room when its queue is
 * full (reading stops well before that: see PRODUCER_HIGH). Every attempt
 * counts as produced; a refused one is kept for redelivery, like one whose
 * delivery fails later, so that the commit condition (every attempt
 * answered, nothing kept) holds again once it is delivered. */
static void produce(live *l, const char *topic, const char *key, size_t key_len,
                    const char *value, size_t len, const kafka_header *h, int nh, int opaque)
{
    int warned = 0;
    for (;;) {
        int rc = kafka_produce(l->prod, topic, key, key_len, value, len, h, nh,
                               (void *)(intptr_t)opaque, l->err, sizeof(l->err));
        if (rc == 0) {
            l->produced++;
            return;
        }
        if (rc != -ENOBUFS) {
            l->produced++;
            l->c.delivery_failures++;
            if (l->c.delivery_failures <= 10 || l->c.delivery_failures % 1000 == 0)
                fprintf(stderr, "soakwatch: %s; producing it again\n", l->err);
            outbox_keep(l, opaque, value, len, key, key_len, h, nh);
            return;
        }
        if (!warned) {
            fprintf(stderr, "soakwatch: producer queue full; waiting for the broker\n");
            warned = 1;
        }
        kafka_flush(l->prod, 100);
    }
}

static void produce_output(live *l, const char *key, size_t key_len, const char *value,
                           size_t len, int trigger)
{
    static const char trig[] = "rollback_trigger", stat[] = "status";
    kafka_header h[2] = {
        {"type", trigger ? trig : stat, trigger ? sizeof(trig) - 1 : sizeof(stat) - 1},
        {"schema_version", "1", 1},
    };
    produce(l, l->out_topic, key, key_len, value, len, h, 2, OPAQUE_OUTPUT);
}

/* Produce the kept messages again, oldest first. One that fails again comes
 * back through its delivery report (or at once, when refused). */
static void outbox_retry(live *l)
{
    int n = l->outbox_n;
    outbox_item items[OUTBOX_CAP];
    if (n == 0)
        return;
    memcpy(items, l->outbox, (size_t)n * sizeof(items[0]));
    l->outbox_n = 0;
    for (int i = 0; i < n; i++) {
        const char *topic = items[i].opaque == OPAQUE_OUTPUT ? l->out_topic
                                                             : l->cfg->dead_letter_topic;
        produce(l, topic, items[i].key, items[i].key_len, items[i].value, items[i].len,
                items[i].h, items[i].nh, items[i].opaque);
        free(items[i].mem);
    }
}

static void on_output(void *ud, const sw_output *o)
{
    live *l = ud;
    l->c.outputs_written++;
    if (l->out) {
        if (fwrite(o->json, 1, o->json_len, l->out) != o->json_len || fputc('\n', l->out) == EOF)
            l->write_failed = 1;
    }
    if (l->out_topic)
        produce_output(l, o->key, strlen(o->key), o->json, o->json_len,
                       o->type == SW_OUT_TRIGGER);
}

static void on_delivery(void *ud, int ok, const char *errstr, void *opaque, const char *value,
                        size_t len, const char *key, size_t key_len, const kafka_header *h,
                        int nh)
{
    live *l = ud;
    int output = (intptr_t)opaque == OPAQUE_OUTPUT;
    if (ok) {
        l->acked++;
        if (output)
            l->c.outputs_delivered++;
        return;
    }
    l->c.delivery_failures++;
    /* Kept and produced again on the next tick: at least once holds
     * through a refusing or vanished topic, or a broker that stays away
     * for longer than message.timeout.ms. */
    if (l->c.delivery_failures <= 10 || l->c.delivery_failures % 1000 == 0)
        fprintf(stderr, "soakwatch: delivery of %s failed: %s; producing it again\n",
                output ? "an output event" : "a dead letter", errstr);
    outbox_keep(l, (int)(intptr_t)opaque, value, len, key, key_len, h, nh);
}

/* Copy a rejected message to the dead-letter topic with its reason. */
static void dead_letter(live *l, const kafka_msg *km, const char *value, size_t len,
                        const char *reason)
{
    if (l->replay || l->cfg->dead_letter_topic[0] == '\0')
        return;
    char src[SW_STR_MAX + 48];
    int n = snprintf(src, sizeof(src), "%s/%d/%" PRId64, l->in_topic, km->partition, km->offset);
    kafka_header h[2] = {
        {"soakwatch.reason", reason, strlen(reason)},
        {"soakwatch.source", src, (size_t)n},
    };
    produce(l, l->cfg->dead_letter_topic, km->key, km->key_len, value, len, h, 2,
            OPAQUE_DEAD_LETTER);
    l->c.dead_lettered++;
}

/* ---- input: partitions through the merge into the engine --------------- */

static int producer_busy(live *l)
{
    return l->prod && (kafka_outq_len(l->prod) >= PRODUCER_HIGH || l->outbox_n > 0);
}

/* Release what the merge lets go into the engine. */
static void release(live *l)
{
    merge_item it;
    int64_t now = wall_ms();
    if (!l->replay) {
        int64_t now_s = sw_floor_div(now, 1000);
        sw_engine_set_wall_clock(l->e, now_s);
        sw_engine_set_future_limit(l->e, now_s + l->cfg->max_future_skew_s);
    }
    while (!producer_busy(l) && merge_pop(l->m, now, l->idle_ms, &it)) {
        sw_push_result r = sw_engine_push_from(l->e, &it.ev, it.part, it.offset);
        if (r == SW_OUT_OF_RANGE && !l->replay && l->cfg->dead_letter_topic[0]) {
            /* Out of range only against the events before it: its bytes are
             * gone by now, its time and origin are kept. */
            char v[64];
            int n = snprintf(v, sizeof(v), "{\"ts\":%" PRId64 "}", it.ev.ts_ms);
            kafka_msg km;
            memset(&km, 0, sizeof(km));
            km.partition = it.part;
            km.offset = it.offset;
            dead_letter(l, &km, v, (size_t)n, "out_of_range");
        }
    }
}

typedef struct take_ctx {
    live *l;
    const kafka_msg *km;
    int64_t now;
    dec_verdict worst;
    int staged;
    int out_of_range; /* an event of it is out of range whatever came before */
} take_ctx;

/* One event of the message being taken. */
static void take_event(void *ud, dec_verdict v, const sw_event *ev)
{
    take_ctx *t = ud;
    live *l = t->l;
    int p = t->km->partition;
    l->c.verdicts[v]++;
    t->worst = pipeline_worst(t->worst, v);
    if (v != DEC_OK)
        return;
    int64_t sec = sw_floor_div(ev->ts_ms, 1000);
    int future = !l->replay && sec > sw_floor_div(t->now, 1000) + l->cfg->max_future_skew_s;
    if (ev->ts_ms < 0 || ev->ts_ms > SW_TS_MAX_MS || future) {
        /* Out of range whatever comes before it: the engine counts it
         * (and changes nothing); the original goes to the dead letters. */
        if (sw_engine_push_from(l->e, ev, p, t->km->offset) == SW_OUT_OF_RANGE)
            t->out_of_range = 1;
        return;
    }
    if (merge_push(l->m, p, ev, t->km->offset, t->now) == 0) {
        t->staged = 1;
        return;
    }
    /* Only a message of many events (OTLP) can overflow: must_hold keeps
     * half a ring free for it. Counted and said, never silent. */
    l->c.input_overflow++;
    if (l->c.input_overflow <= 10 || l->c.input_overflow % 1000 == 0)
        fprintf(stderr, "soakwatch: staging ring of partition %d full: an event of offset %"
                PRId64 " dropped (%" PRIu64 " so far)\n", p, t->km->offset,
                l->c.input_overflow);
}

/* One message of partition p: its events into the merge. */
static void take_message(live *l, const kafka_msg *km, int64_t now)
{
    int p = km->partition;
    l->c.messages++;
    l->in_bytes += km->len;
    l->read_next[p] = km->offset + 1;
    take_ctx t = {l, km, now, DEC_VERDICT_COUNT, 0, 0};
    dec_message(&l->dc, km->value, km->len, take_event, &t);
    /* one dead letter per message: its first rejection, else out of range */
    if (t.worst >= DEC_REJ_TOO_LARGE && t.worst < DEC_VERDICT_COUNT)
        dead_letter(l, km, km->value, km->len, dec_verdict_name(t.worst));
    else if (t.out_of_range)
        dead_letter(l, km, km->value, km->len, "out_of_range");
    if (!t.staged)
        merge_touch(l->m, p, now);
}

/* Stop fetching partition p while its ring is full, and fetch it again once
 * the merge has taken half of it: the ring, not librdkafka's prefetch, is
 * what a partition that runs ahead in event time fills. Messages of p still
 * queued when it pauses are dropped by librdkafka and fetched again from
 * the next unread offset on resume. Returns 0, or -1 after logging. */
static int pause_part(live *l, int p, int pause)
{
    if (l->part_paused[p] == pause)
        return 0;
    if (kafka_pause(l->cons, l->in_topic, p, pause, l->err, sizeof(l->err)) != 0) {
        fprintf(stderr, "soakwatch: %s\n", l->err);
        return -1;
    }
    l->part_paused[p] = (uint8_t)pause;
    l->c.input_pauses += (uint64_t)pause;
    return 0;
}

static void resume_drained(live *l)
{
    for (int p = 0; p < l->n; p++)
        if (l->part_paused[p] && !l->part_done[p] && l->part_held[p] == 0 &&
            merge_part_staged(l->m, p) <= l->stage_cap / 2)
            pause_part(l, p, 0);
}

/* Note when librdkafka's queue comes within half of a limit: it may then
 * fill between two looks, and librdkafka stop fetching until woken. */
static void watch_fill(live *l)
{
    int64_t q = (int64_t)kafka_queue_len(l->cons);
    int64_t mean = l->c.messages ? (int64_t)(l->in_bytes / l->c.messages) : 0;
    if (2 * q >= l->q_max_msgs || 2 * q * mean >= l->q_max_bytes)
        l->maybe_full = 1;
}

/* Seek partition p, being fetched with nothing of it queued or held, to
 * its next offset (kafka_kick). Returns 0, or -1 after logging. */
static int seek_next(live *l, int p)
{
    if (kafka_kick(l->cons, l->in_topic, p, l->read_next[p], l->err, sizeof(l->err)) != 0) {
        fprintf(stderr, "soakwatch: %s\n", l->err);
        return -1;
    }
    return 0;
}

/* The queue ran empty after being near its limit: wake the fetcher through
 * a partition that is being fetched. Nothing of it is queued. */
static void kick_fetcher(live *l)
{
    l->maybe_full = 0;
    for (int i = 0; i < l->n; i++) {
        int p = (l->kick_next + i) % l->n;
        if (l->part_paused[p] || l->part_done[p])
            continue;
        l->kick_next = (p + 1) % l->n;
        if (seek_next(l, p) == 0)
            l->c.fetch_wakeups++;
        return;
    }
}

/* One message or end-of-partition of input partition p, now. */
static void take_item(live *l, const kafka_msg *km, int64_t now)
{
    int p = km->partition;
    if (km->kind == KAFKA_MSG) {
        if (l->replay && km->offset >= l->hw_start[p]) {
            /* Beyond the end at start: not part of this replay. */
            merge_set_eof(l->m, p, now);
            l->part_done[p] = 1;
            pause_part(l, p, 1);
        } else {
            take_message(l, km, now);
            if (l->replay && l->read_next[p] >= l->hw_start[p]) {
                merge_set_eof(l->m, p, now);
                l->part_done[p] = 1;
                pause_part(l, p, 1);
            }
        }
        if (merge_part_full(l->m, p))
            pause_part(l, p, 1);
    } else if (km->kind == KAFKA_EOF) {
        if (km->offset > l->read_next[p])
            l->read_next[p] = km->offset;
        /* An end reached before an interruption says nothing of now: the
         * resync below asks for it afresh. */
        if (!l->resync)
            merge_set_eof(l->m, p, now);
    }
}

/* An item of p must wait while p's ring is full, and behind any of p's
 * items already waiting. */
/* Whether partition p's ring lacks room for the events of message km. */
static int no_room(const live *l, const kafka_msg *km)
{
    int p = km->partition;
    if (km->kind != KAFKA_MSG)
        return 0;
    /* A message of many events needs room for them: half a ring. */
    if (l->cfg->input.envelope == SW_ENV_OTLP)
        return merge_part_staged(l->m, p) > l->stage_cap / 2;
    return merge_part_full(l->m, p);
}

static int must_hold(const live *l, const kafka_msg *km)
{
    return l->part_held[km->partition] > 0 || no_room(l, km);
}

/* Take the held items whose rings now have room, in order per partition. */
static void take_held(live *l, int64_t now)
{
    if (l->held_n == 0)
        return;
    memset(l->part_blocked, 0, (size_t)l->n);
    int kept = 0;
    for (int i = 0; i < l->held_n; i++) {
        kafka_msg *km = &l->held[i];
        int p = km->partition;
        if (!l->part_blocked[p] && !no_room(l, km)) {
            l->part_held[p]--;
            take_item(l, km, now);
            kafka_msg_release(km);
        } else {
            l->part_blocked[p] = 1;
            l->held[kept++] = *km;
        }
    }
    l->held_n = kept;
}

/* A broker connection was lost: until each partition shows itself again,
 * the merge takes none as read to its end or idle (merge_hold). */
static void note_interruption(live *l)
{
    uint64_t n = kafka_interruptions(l->cons);
    if (n == l->interruptions || l->replay)
        return;
    l->interruptions = n;
    l->c.input_interruptions++;
    merge_hold(l->m);
    l->resync = 1;
}

/* With nothing queued or taken unread: seek every partition that is being
 * fetched to its next offset. librdkafka then forgets which end it last
 * reported and reports each end again once it fetches there, and the
 * fetcher wakes (kafka_kick). */
static void resync_ends(live *l)
{
    l->resync = 0;
    l->maybe_full = 0;
    merge_hold(l->m);
    for (int p = 0; p < l->n; p++) {
        if (!l->part_paused[p] && !l->part_done[p])
            seek_next(l, p);
    }
}

/* Read the consumer queue (every partition) until it is empty, the
 * producer's queue is too long, the loop stops or DRAIN_BUDGET messages
 * are read (then more_input is set: probes and scrapes are answered
 * while a backlog is read); release in between. Returns 1 on a fatal
 * consumer error. */
static int drain_input(live *l)
{
    kafka_msg km;
    int fatal = 0;
    int since_release = 0;
    int budget = DRAIN_BUDGET;
    int64_t now = wall_ms();
    l->more_input = 0;
    take_held(l, now);
    resume_drained(l);
    watch_fill(l);
    while (!l->stopping) {
        int was = l->paused;
        l->paused = producer_busy(l);
        if (l->paused && !was && !l->replay) {
            /* Not read while outputs wait: what is known of the partitions'
             * ends goes stale, so none counts as read to its end until it
             * shows itself again (the idle clock must not move past input
             * that was never read). */
            merge_hold(l->m);
            l->resync = 1;
        }
        if (l->paused)
            break;
        if (budget-- == 0) {
            l->more_input = 1;
            break;
        }
        int got = kafka_consume(l->cons, &km);
        note_interruption(l);
        if (!got) {
            if (l->resync)
                resync_ends(l);
            else if (l->maybe_full)
                kick_fetcher(l);
            break;
        }
        int p = km.partition;
        if (km.kind == KAFKA_ERROR) {
            fprintf(stderr, "soakwatch: kafka consumer: %s\n", km.errstr);
            fatal |= km.fatal;
        } else if (p < 0 || p >= l->n) {
            /* not of the input topic's partitions at start: not read */
        } else if (must_hold(l, &km) && l->held_n < l->n * KAFKA_BATCH) {
            pause_part(l, p, 1);
            l->held[l->held_n++] = km;
            l->part_held[p]++;
            km.handle = NULL; /* released when taken */
        } else {
            take_item(l, &km, now);
        }
        kafka_msg_release(&km);
        if (++since_release == RELEASE_EVERY) {
            since_release = 0;
            now = wall_ms();
            release(l);
            take_held(l, now);
            resume_drained(l);
            watch_fill(l);
        }
    }
    release(l);
    take_held(l, wall_ms());
    resume_drained(l);
    return fatal;
}

/* Next offset per partition of everything handed to the engine. */
static void fed_positions(live *l, int64_t *out)
{
    for (int p = 0; p < l->n; p++) {
        int64_t head;
        out[p] = merge_head_offset(l->m, p, &head) ? head : l->read_next[p];
    }
}

/* Commit the fed positions when every output so far is acknowledged. */
/* A commit that failed, or has had no answer for COMMIT_RETRY_MS (the
 * coordinator was away), is not known to have happened: forget what was
 * asked, so that the positions are committed again. */
static void commit_recheck(live *l)
{
    uint64_t asked, answered, failed;
    kafka_commit_state(l->cons, &asked, &answered, &failed);
    int stuck = asked > answered && wall_ms() - l->commit_sent_ms >= COMMIT_RETRY_MS;
    if (failed == l->commits_failed_seen && !stuck)
        return;
    l->commits_failed_seen = failed;
    for (int p = 0; p < l->n; p++)
        l->committed[p] = -1;
}

static void maybe_commit(live *l)
{
    /* Every attempt answered, none of them a failure still to be produced
     * again, and nothing given up. */
    if (l->failed || l->outbox_n || l->acked + l->out_failures != l->produced ||
        l->cfg->group[0] == '\0')
        return;
    commit_recheck(l);
    fed_positions(l, l->fed);
    int changed = 0;
    for (int p = 0; p < l->n; p++) {
        if (l->fed[p] == l->committed[p] || l->fed[p] < 0)
            l->fed[p] = -1; /* unchanged: skipped */
        else
            changed = 1;
    }
    if (!changed)
        return;
    if (kafka_commit(l->cons, l->in_topic, l->n, l->fed, l->err, sizeof(l->err)) != 0) {
        fprintf(stderr, "soakwatch: %s\n", l->err);
        return;
    }
    l->commit_sent_ms = wall_ms();
    for (int p = 0; p < l->n; p++)
        if (l->fed[p] >= 0)
            l->committed[p] = l->fed[p];
}

/* soakwatch watches from second w0 (docs/semantics.md section 3): coverage
 * starts there unless an event started it earlier. Said once, with what
 * `replay --start` takes to compute exactly what this run computes. */
static void watch_from(live *l, int64_t w0)
{
    sw_engine_start(l->e, w0);
    char at[32];
    dec_rfc3339_format(sw_engine_t0(l->e) * 1000, at, sizeof(at));
    fprintf(stderr, "soakwatch: watching; coverage starts at %s (replay --start %s)\n", at, at);
}

static void update_state(live *l)
{
    int64_t now_s = sw_floor_div(wall_ms(), 1000);
    int64_t hi[SW_MAX_PARTITIONS];
    int n = l->n < SW_MAX_PARTITIONS ? l->n : SW_MAX_PARTITIONS;
    fed_positions(l, l->fed);
    kafka_cached_high_watermarks(l->cons, l->in_topic, n, hi);
    int rebuilt = 1;
    for (int p = 0; p < l->n; p++) {
        if (l->fed[p] < l->hw_start[p])
            rebuilt = 0;
        if (p < n)
            l->c.consumer_lag[p] = hi[p] < 0 ? -1 : (hi[p] > l->fed[p] ? hi[p] - l->fed[p] : 0);
    }
    int64_t next = sw_engine_next_instant(l->e);
    l->c.watermark_lag_s = next == INT64_MIN ? NAN : (double)(now_s - (next - 1));
    /* Reachability as the producer sees it: it has a message at least
     * every status interval, and a blocking probe here could stall the
     * loop (librdkafka's watermark query can outlast its timeout while
     * every broker is down). */
    l->c.ready = rebuilt && !kafka_all_brokers_down(l->prod);
    /* Every partition read to its end at start: soakwatch watches from
     * now, events or not (an empty topic must fire zero_requests too). */
    if (rebuilt && !l->watching) {
        l->watching = 1;
        watch_from(l, now_s);
    }
}

static void stop(live *l, int code)
{
    if (l->stopping)
        return;
    l->stopping = 1;
    if (code > l->exit_code)
        l->exit_code = code;
    ev_break(l->loop, EVBREAK_ALL);
}

/* ---- acknowledgements: control topic or control file --------------------- */

/* Count a refused control message and log one line naming the problem,
 * never the message itself (it could hold anything): the first few, then
 * every 1000th, so a flood of garbage cannot flood the log. */
static void control_refuse(live *l, const char *origin, const char *why)
{
    uint64_t n = ++l->c.control_rejected;
    if (n <= CONTROL_LOGGED || n % 1000 == 0)
        fprintf(stderr, "soakwatch: %s: acknowledgement refused: %s (%" PRIu64 " refused so far)\n",
                origin, why, n);
}

/* One control message or line. Its acknowledgement is queued to the engine
 * at the later of its own time and the instant live time has reached (the
 * wall clock minus the lateness): an acknowledgement is an instruction for
 * now, applied at the next instant evaluated, whatever clock its sender
 * keeps. One from beyond the allowed skew is refused: it would wait in the
 * engine's bounded queue for hours. */
static void control_take(live *l, const char *msg, size_t len, const char *origin)
{
    char why[256];
    sw_ack ack;
    if (len > CONTROL_LINE_MAX) {
        control_refuse(l, origin, "longer than 4096 bytes");
        return;
    }
    if (control_parse(msg, len, &ack, why, sizeof(why)) != 0) {
        /* jansson's text can quote the message: keep only its kind. */
        if (strncmp(why, "not JSON", 8) == 0)
            why[8] = '\0';
        control_refuse(l, origin, why);
        return;
    }
    int64_t now_s = sw_floor_div(wall_ms(), 1000);
    if (ack.ts_ms > SW_TS_MAX_MS || sw_floor_div(ack.ts_ms, 1000) > now_s + l->cfg->max_future_skew_s) {
        control_refuse(l, origin, "\"ts\" is ahead of the wall clock by more than the allowed skew");
        return;
    }
    int64_t at_s = ack.ts_ms <= 0 ? 0 : (ack.ts_ms + 999) / 1000;
    if (at_s < now_s - l->cfg->allowed_lateness_s)
        at_s = now_s - l->cfg->allowed_lateness_s;
    int rc = sw_engine_ack(l->e, ack.id, ack.by, at_s);
    if (rc == -ENOBUFS) {
        control_refuse(l, origin, "too many acknowledgements waiting for their instant");
        return;
    }
    if (rc != 0) {
        control_refuse(l, origin, "\"id\" longer than a trigger id can be");
        return;
    }
    l->c.control_acks++;
}

/* Take every message queued on the control consumer. Returns 1 on a fatal
 * consumer error. */
static int drain_control(live *l)
{
    kafka_msg km;
    int fatal = 0;
    char origin[SW_STR_MAX + 64];
    while (kafka_consume(l->ctl, &km)) {
        if (km.kind == KAFKA_MSG) {
            snprintf(origin, sizeof(origin), "control topic %s/%d at offset %" PRId64,
                     l->cfg->control_topic, km.partition, km.offset);
            control_take(l, km.value, km.len, origin);
        } else if (km.kind == KAFKA_ERROR) {
            fprintf(stderr, "soakwatch: kafka control topic %s: %s\n", l->cfg->control_topic,
                    km.errstr);
            fatal |= km.fatal;
        }
        kafka_msg_release(&km);
    }
    return fatal;
}

static void on_ctl_io(struct ev_loop *loop, ev_io *w, int revents)
{
    live *l = w->data;
    (void)loop;
    (void)revents;
    kafka_fd_drain(w->fd);
    if (drain_control(l))
        stop(l, 1);
}

/* A consumer on every partition of the control topic, each from its end at
 * start: messages already there were instructions for a past that this
 * process did not see, and replaying them could release a trigger fired
 * since. Partitions added later are not read. Returns 0 or -1 with one
 * line on stderr. */
static int control_topic_open(live *l)
{
    const sw_config *cfg = l->cfg;
    int64_t *hi = NULL;
    int rc = -1;
    l->ctl = kafka_consumer_create(cfg, cfg->group[0] ? cfg->group : DEFAULT_GROUP, l->err,
                                   sizeof(l->err));
    if (l->ctl == NULL)
        goto out;
    int n = kafka_partition_count(l->ctl, cfg->control_topic, META_TIMEOUT_MS, 1, l->err,
                                  sizeof(l->err));
    if (n < 0)
        goto out;
    if (n > SW_MAX_PARTITIONS) {
        snprintf(l->err, sizeof(l->err), "control topic %s has %d partitions; at most %d",
                 cfg->control_topic, n, SW_MAX_PARTITIONS);
        goto out;
    }
    hi = calloc((size_t)n, sizeof(*hi));
    if (hi == NULL) {
        snprintf(l->err, sizeof(l->err), "out of memory");
        goto out;
    }
    if (kafka_high_watermarks(l->ctl, cfg->control_topic, n, hi, META_TIMEOUT_MS, l->err,
                              sizeof(l->err)) != 0 ||
        kafka_assign(l->ctl, cfg->control_topic, n, hi, l->err, sizeof(l->err)) != 0)
        goto out;
    rc = 0;
out:
    if (rc != 0)
        fprintf(stderr, "soakwatch: %s\n", l->err);
    free(hi);
    return rc;
}

/* (Re)open the control file and read it from its start. Returns 0 or -1
 * with errno set. */
static int control_file_open(live *l)
{
    struct stat st;
    int fd = open(l->ctl_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    if (l->ctl_fd >= 0)
        close(l->ctl_fd);
    l->ctl_fd = fd;
    l->ctl_dev = st.st_dev;
    l->ctl_ino = st.st_ino;
    l->ctl_off = 0;
    l->ctl_len = 0;
    l->ctl_skipping = 0;
    l->lineno_ctl = 0;
    return 0;
}

static void control_file_line(live *l)
{
    char origin[320];
    l->lineno_ctl++;
    snprintf(origin, sizeof(origin), "control file %.256s line %" PRId64, l->ctl_path,
             l->lineno_ctl);
    if (l->ctl_skipping) {
        control_refuse(l, origin, "longer than 4096 bytes");
        return;
    }
    size_t len = l->ctl_len;
    if (len && l->ctl_line[len - 1] == '\r')
        len--;
    if (len)
        control_take(l, l->ctl_line, len, origin);
}

/* Take the complete lines appended to the control file since the last
 * call; an incomplete last line is held (up to the cap) until its newline
 * comes. A file replaced (another inode) or truncated is read again from
 * its start. */
static void control_file_poll(live *l)
{
    struct stat st;
    if (stat(l->ctl_path, &st) == 0 && (st.st_dev != l->ctl_dev || st.st_ino != l->ctl_ino)) {
        if (control_file_open(l) == 0)
            fprintf(stderr, "soakwatch: control file %s replaced: reading it from its start\n",
                    l->ctl_path);
    }
    if (fstat(l->ctl_fd, &st) == 0 && st.st_size < l->ctl_off) {
        fprintf(stderr, "soakwatch: control file %s truncated: reading it from its start\n",
                l->ctl_path);
        l->ctl_off = 0;
        l->ctl_len = 0;
        l->ctl_skipping = 0;
        l->lineno_ctl = 0;
    }
    char buf[READ_CHUNK];
    for (;;) {
        ssize_t got = pread(l->ctl_fd, buf, sizeof(buf), l->ctl_off);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            fprintf(stderr, "soakwatch: reading control file %s: %s\n", l->ctl_path,
                    strerror(errno));
            return;
        }
        if (got == 0)
            return;
        l->ctl_off += got;
        const char *p = buf, *end = buf + got;
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t n = (size_t)((nl ? nl : end) - p);
            if (!l->ctl_skipping) {
                if (l->ctl_len + n > CONTROL_LINE_MAX + 1) { /* + 1: a '\r' */
                    l->ctl_skipping = 1;
                    l->ctl_len = 0;
                } else {
                    memcpy(l->ctl_line + l->ctl_len, p, n);
                    l->ctl_len += n;
                }
            }
            if (nl == NULL)
                break;
            control_file_line(l);
            l->ctl_len = 0;
            l->ctl_skipping = 0;
            p = nl + 1;
        }
    }
}

static void on_ctl_stat(struct ev_loop *loop, ev_stat *w, int revents)
{
    live *l = w->data;
    (void)loop;
    (void)revents;
    control_file_poll(l);
}

static void check_fatal(live *l)
{
    if (kafka_fatal(l->prod, l->err, sizeof(l->err))) {
        fprintf(stderr, "soakwatch: kafka producer: fatal: %s\n", l->err);
        stop(l, 1);
    }
}

/* After any drain in Kafka mode: go on reading once the loop has served
 * what else is pending, while the last drain stopped at its budget. */
static void more_later(live *l)
{
    if (l->more_input && !l->stopping)
        ev_idle_start(l->loop, &l->more_idle);
    else
        ev_idle_stop(l->loop, &l->more_idle);
}

static void on_cons_io(struct ev_loop *loop, ev_io *w, int revents)
{
    live *l = w->data;
    (void)loop;
    (void)revents;
    kafka_fd_drain(w->fd);
    if (drain_input(l))
        stop(l, 1);
    more_later(l);
}

static void on_more_input(struct ev_loop *loop, ev_idle *w, int revents)
{
    live *l = w->data;
    (void)loop;
    (void)revents;
    if (drain_input(l))
        stop(l, 1);
    more_later(l);
}

static void on_prod_io(struct ev_loop *loop, ev_io *w, int revents)
{
    live *l = w->data;
    (void)loop;
    (void)revents;
    kafka_fd_drain(w->fd);
    kafka_serve(l->prod);
    if (l->paused && kafka_outq_len(l->prod) < PRODUCER_LOW) {
        if (drain_input(l))
            stop(l, 1);
        more_later(l);
    }
}

/* Look at the input topic now and then. Partitions added, or the topic
 * deleted and created again, change what there is to read: soakwatch then
 * starts over as after a restart (it rebuilds its windows from the topic by
 * time and publishes after what the output topic holds), so that every
 * partition of the topic as it is now is read from where it must be,
 * nothing is skipped and nothing is published twice. */
static void check_topic(live *l, int64_t now)
{
    if (l->replay)
        return;
    /* A topic deleted under us and created again keeps its name and
     * perhaps its partition count: librdkafka's reports that it was gone
     * (error events and error messages alike) mark it, and it is read as a
     * new topic when it is back. */
    if (kafka_take_gone(l->cons) && !l->topic_gone) {
        l->topic_gone = 1;
        l->topic_check_ms = 0; /* look at once */
    }
    if (now - l->topic_check_ms < TOPIC_CHECK_MS)
        return;
    l->topic_check_ms = now;
    char err[512];
    int n = kafka_partition_count(l->cons, l->in_topic, TOPIC_CHECK_TIMEOUT_MS, 0, err,
                                  sizeof(err));
    if (n == -ENOENT) {
        if (l->topic_gone < 2)
            fprintf(stderr, "soakwatch: input topic %s is gone; waiting for it (looking every "
                    "%d s)\n", l->in_topic, TOPIC_CHECK_MS / 1000);
        l->topic_gone = 2; /* said */
        return;
    }
    if (n < 0 || (n == l->n && !l->topic_gone))
        return; /* no answer in time: next time */
    if (l->topic_gone)
        fprintf(stderr, "soakwatch: input topic %s is back with %d partitions; starting over "
                "to read it from the start of the windows\n", l->in_topic, n);
    else
        fprintf(stderr, "soakwatch: input topic %s now has %d partitions (had %d); starting "
                "over to read them all\n", l->in_topic, n, l->n);
    l->restart = 1;
    stop(l, 0);
}

static void on_kafka_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
    live *l = w->data;
    (void)loop;
    (void)revents;
    l->ticks++;
    kafka_serve(l->prod);
    outbox_retry(l);
    check_fatal(l);
    /* A safety net for a wake-up lost between two drains, and the merge's
     * idle timeout, which moves with time alone. */
    if (drain_input(l) || (l->ctl && drain_control(l)))
        stop(l, 1);
    more_later(l);
    int64_t now = wall_ms();
    if (!l->paused && merge_all_eof(l->m) &&
        now - merge_last_arrival(l->m) >= l->cfg->idle_timeout_s * 1000)
        sw_engine_advance(l->e, sw_floor_div(now, 1000) - l->cfg->allowed_lateness_s);
    maybe_commit(l);
    update_state(l);
    check_topic(l, now);
}

static void on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
    live *l = w->data;
    (void)loop;
    (void)revents;
    stop(l, 0);
}

/* ---- restart: what the output topic says was published ----------------- */

typedef struct hist_trigger {
    int64_t at_ms;
    int rule;
    int firing;
} hist_trigger;

static int rule_index(const sw_config *cfg, const char *name)
{
    for (int r = 0; r < cfg->n_rules; r++)
        if (strcmp(cfg->rules[r].name, name) == 0)
            return r;
    return -1;
}

static int cmp_trigger(const void *a, const void *b)
{
    const hist_trigger *x = a, *y = b;
    return x->at_ms < y->at_ms ? -1 : x->at_ms > y->at_ms;
}

/* Read the output topic from the start of the longest window (and some
 * statuses) before now up to its end at start; set *last_at_ms (-1 when
 * nothing was published there) and published[] (the firing state as last
 * published). Returns 0, or -1 with one line on stderr. */
static int read_history(live *l, int64_t now_ms, int64_t *last_at_ms, uint8_t *published)
{
    const sw_config *cfg = l->cfg;
    int rc = -1, n, done = 0;
    int64_t *hi = NULL, *start = NULL;
    hist_trigger *trig = NULL;
    size_t n_trig = 0;
    int64_t status_at = -1;
    kafka_client *k = NULL;

    *last_at_ms = -1;
    memset(published, 0, SW_MAX_RULES);
    k = kafka_consumer_create(cfg, cfg->group[0] ? cfg->group : DEFAULT_GROUP, l->err,
                              sizeof(l->err));
    if (k == NULL)
        goto out;
    n = kafka_partition_count(k, l->out_topic, META_TIMEOUT_MS, 1, l->err, sizeof(l->err));
    if (n == -ENOENT) {
        rc = 0; /* no topic yet: nothing published */
        goto out;
    }
    if (n < 0)
        goto out;
    hi = calloc((size_t)n, sizeof(*hi));
    start = calloc((size_t)n, sizeof(*start));
    trig = calloc(MAX_HISTORY_TRIGGERS, sizeof(*trig));
    if (hi == NULL || start == NULL || trig == NULL) {
        snprintf(l->err, sizeof(l->err), "out of memory");
        goto out;
    }
    int64_t back_s = config_longest_window_s(cfg) + cfg->allowed_lateness_s +
                     3 * cfg->status_interval_s;
    if (kafka_high_watermarks(k, l->out_topic, n, hi, META_TIMEOUT_MS, l->err,
                              sizeof(l->err)) != 0 ||
        kafka_offsets_for_time(k, l->out_topic, n, now_ms - back_s * 1000, hi, start,
                               META_TIMEOUT_MS, l->err, sizeof(l->err)) != 0 ||
        kafka_split(k, l->out_topic, n, l->err, sizeof(l->err)) != 0 ||
        kafka_assign(k, l->out_topic, n, start, l->err, sizeof(l->err)) != 0)
        goto out;
    int64_t deadline = wall_ms() + HISTORY_TIMEOUT_MS;
    for (int p = 0; p < n; p++)
        done += start[p] >= hi[p];
    while (done < n) {
        if (wall_ms() > deadline) {
            snprintf(l->err, sizeof(l->err),
                     "reading the recent history of output topic %s timed out", l->out_topic);
            goto out;
        }
        int got = 0;
        kafka_msg km;
        while (kafka_consume(k, &km)) {
            if (km.kind == KAFKA_ERROR)
                fprintf(stderr, "soakwatch: kafka consumer: %s\n", km.errstr);
            kafka_msg_release(&km);
        }
        for (int p = 0; p < n; p++) {
            while (start[p] < hi[p] && kafka_consume_part(k, p, &km)) {
                got = 1;
                if (km.kind == KAFKA_MSG && km.offset < hi[p]) {
                    json_error_t jerr;
                    json_t *o = json_loadb(km.value, km.len, 0, &jerr);
                    json_t *type = json_object_get(o, "type");
                    json_t *at = json_object_get(o, "at_ms");
                    if (json_is_string(type) && json_is_integer(at)) {
                        int64_t at_ms = json_integer_value(at);
                        if (at_ms > *last_at_ms)
                            *last_at_ms = at_ms;
                        if (strcmp(json_string_value(type), "status") == 0 &&
                            at_ms > status_at) {
                            status_at = at_ms;
                            memset(published, 0, SW_MAX_RULES);
                            size_t i;
                            json_t *f;
                            json_array_foreach(json_object_get(o, "firing"), i, f)
                            {
                                int r = json_is_string(f) ? rule_index(cfg, json_string_value(f))
                                                          : -1;
                                if (r >= 0)
                                    published[r] = 1;
                            }
                        } else if (strcmp(json_string_value(type), "rollback_trigger") == 0) {
                            json_t *rule = json_object_get(o, "rule");
                            json_t *state = json_object_get(o, "state");
                            int r = json_is_string(rule) ? rule_index(cfg, json_string_value(rule))
                                                         : -1;
                            if (r >= 0 && json_is_string(state)) {
                                if (n_trig == MAX_HISTORY_TRIGGERS) {
                                    /* Keep the latest: drop the oldest half. */
                                    qsort(trig, n_trig, sizeof(*trig), cmp_trigger);
                                    memmove(trig, trig + n_trig / 2,
                                            (n_trig - n_trig / 2) * sizeof(*trig));
                                    n_trig -= n_trig / 2;
                                }
                                trig[n_trig].at_ms = at_ms;
                                trig[n_trig].rule = r;
                                trig[n_trig].firing =
                                    strcmp(json_string_value(state), "firing") == 0;
                                n_trig++;
                            }
                        }
                    }
                    json_decref(o);
                }
                if (km.kind == KAFKA_MSG || km.kind == KAFKA_EOF) {
                    int64_t next = km.kind == KAFKA_MSG ? km.offset + 1 : km.offset;
                    if (next > start[p])
                        start[p] = next;
                    if (start[p] >= hi[p])
                        done++;
                } else if (km.kind == KAFKA_ERROR) {
                    fprintf(stderr, "soakwatch: kafka %s/%d: %s\n", l->out_topic, p, km.errstr);
                }
                kafka_msg_release(&km);
            }
        }
        if (!got) {
            struct pollfd pfd = {kafka_wakeup_fd(k), POLLIN, 0};
            poll(&pfd, 1, 100);
            kafka_fd_drain(pfd.fd);
        }
    }
    /* Transitions after the last status (at one instant the status comes
     * after the transitions, so it already holds those). */
    qsort(trig, n_trig, sizeof(*trig), cmp_trigger);
    for (size_t i = 0; i < n_trig; i++)
        if (trig[i].at_ms > status_at)
            published[trig[i].rule] = (uint8_t)trig[i].firing;
    rc = 0;
out:
    if (rc != 0)
        fprintf(stderr, "soakwatch: %s\n", l->err);
    kafka_destroy(k);
    free(hi);
    free(start);
    free(trig);
    return rc;
}

/* ---- setup shared by run and replay -------------------------------------- */

static void live_free(live *l)
{
    for (int i = 0; i < l->outbox_n; i++)
        free(l->outbox[i].mem);
    http_server_destroy(l->http);
    kafka_destroy(l->cons);
    kafka_destroy(l->prod);
    merge_destroy(l->m);
    sw_engine_destroy(l->e);
    free(l->hw_start);
    free(l->read_next);
    free(l->committed);
    free(l->fed);
    for (int i = 0; i < l->held_n; i++)
        kafka_msg_release(&l->held[i]);
    free(l->held);
    free(l->part_held);
    free(l->part_blocked);
    free(l->part_paused);
    free(l->part_done);
    free(l->line);
    pipeline_dec_free(&l->dc);
    kafka_destroy(l->ctl);
    if (l->ctl_fd >= 0)
        close(l->ctl_fd);
}

/* Consumer on the input topic: partitions, watermarks at start, the start
 * offsets (the warm-up before from_ms), the merge and the engine. Returns 0
 * or -1 with one line on stderr. */
static int input_open(live *l, int64_t warm_from_ms, int64_t now_ms)
{
    const sw_config *cfg = l->cfg;
    int64_t *start = NULL;
    int rc = -1;
    l->cons = kafka_consumer_create(cfg, cfg->group[0] ? cfg->group : DEFAULT_GROUP, l->err,
                                    sizeof(l->err));
    if (l->cons == NULL)
        goto out;
    l->n = kafka_partition_count(l->cons, l->in_topic, META_TIMEOUT_MS, 1, l->err,
                                 sizeof(l->err));
    if (l->n < 0)
        goto out;
    if (l->n > SW_MAX_PARTITIONS) {
        snprintf(l->err, sizeof(l->err), "input topic %s has %d partitions; at most %d",
                 l->in_topic, l->n, SW_MAX_PARTITIONS);
        goto out;
    }
    l->c.n_partitions = l->n;
    kafka_queue_limits(l->cons, &l->q_max_msgs, &l->q_max_bytes);
    l->hw_start = calloc((size_t)l->n, sizeof(int64_t));
    l->read_next = calloc((size_t)l->n, sizeof(int64_t));
    l->committed = calloc((size_t)l->n, sizeof(int64_t));
    l->fed = calloc((size_t)l->n, sizeof(int64_t));
    l->part_paused = calloc((size_t)l->n, 1);
    l->part_done = calloc((size_t)l->n, 1);
    l->held = calloc((size_t)l->n * KAFKA_BATCH, sizeof(kafka_msg));
    l->part_held = calloc((size_t)l->n, sizeof(uint32_t));
    l->part_blocked = calloc((size_t)l->n, 1);
    start = calloc((size_t)l->n, sizeof(int64_t));
    /* A partition's ring holds what arrives of it before the others catch
     * up: a record batch can hold thousands of events of one partition. */
    l->stage_cap = STAGE_MIN;
    while (l->stage_cap * 2 * (uint32_t)l->n <= STAGE_TOTAL)
        l->stage_cap *= 2;
    l->m = merge_create(l->n, l->stage_cap, now_ms);
    if (!l->hw_start || !l->read_next || !l->committed || !l->fed || !l->part_paused ||
        !l->part_done || !l->held || !l->part_held || !l->part_blocked || !start || !l->m) {
        snprintf(l->err, sizeof(l->err), "out of memory");
        goto out;
    }
    if (kafka_high_watermarks(l->cons, l->in_topic, l->n, l->hw_start, META_TIMEOUT_MS, l->err,
                              sizeof(l->err)) != 0 ||
        kafka_offsets_for_time(l->cons, l->in_topic, l->n, warm_from_ms, l->hw_start, start,
                               META_TIMEOUT_MS, l->err, sizeof(l->err)) != 0)
        goto out;
    for (int p = 0; p < l->n; p++) {
        l->read_next[p] = start[p];
        l->committed[p] = -1;
        l->c.consumer_lag[p] = -1;
        if (l->replay && start[p] >= l->hw_start[p]) {
            merge_set_eof(l->m, p, now_ms);
            l->part_done[p] = 1;
        }
    }
    l->e = sw_engine_create(cfg, on_output, l, l->err, sizeof(l->err));
    if (l->e == NULL)
        goto out;
    if (cfg->provenance && sw_engine_set_sources(l->e, l->n, "partitions") != 0) {
        snprintf(l->err, sizeof(l->err), "out of memory");
        goto out;
    }
    /* Seek only here, before consuming starts. All partitions share the
     * consumer queue; one whose ring fills is paused (see pause_part). */
    if (kafka_assign(l->cons, l->in_topic, l->n, start, l->err, sizeof(l->err)) != 0)
        goto out;
    for (int p = 0; p < l->n; p++)
        if (l->part_done[p] && pause_part(l, p, 1) != 0)
            goto out;
    rc = 0;
out:
    if (rc != 0)
        fprintf(stderr, "soakwatch: %s\n", l->err);
    free(start);
    return rc;
}

static int start_http(live *l)
{
    if (l->cfg->http_listen[0] == '\0')
        return 0;
    l->ms.engine = l->e;
    l->ms.cfg = l->cfg;
    l->ms.counters = &l->c;
    l->ms.version = SW_VERSION;
    l->http = http_server_create(l->loop, l->cfg->http_listen, NULL, metrics_http_handler,
                                 &l->ms, l->err, sizeof(l->err));
    if (l->http == NULL) {
        fprintf(stderr, "soakwatch: %s\n", l->err);
        return -1;
    }
    return 0;
}

/* SIGALRM during shutdown: a Kafka client did not let go in time. Only
 * async-signal-safe calls here. */
static volatile sig_atomic_t shutdown_code;

static void on_shutdown_overdue(int sig)
{
    static const char msg[] = "soakwatch: shutdown overdue (15 s): exiting without waiting "
                              "for the Kafka clients to close\n";
    (void)sig;
    ssize_t n = write(STDERR_FILENO, msg, sizeof(msg) - 1);
    (void)n;
    _exit(shutdown_code);
}

/* Shutdown has begun: whatever happens in the clients' teardown, the
 * process ends within SHUTDOWN_BOUND_S with the exit status it has. */
static void shutdown_watchdog(int code)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_shutdown_overdue;
    sigemptyset(&sa.sa_mask);
    shutdown_code = code;
    sigaction(SIGALRM, &sa, NULL);
    alarm(SHUTDOWN_BOUND_S);
}

/* During start-up (metadata, history, the first offsets: blocking calls
 * bounded by their timeouts) a SIGTERM or SIGINT waits, blocked, instead of
 * killing the process; once the loop watches for it, it is delivered and
 * the run stops cleanly at once. */
static void startup_signals_block(int block)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(block ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
}

/* A start-up step failed: exit status 1, unless a SIGTERM or SIGINT came
 * meanwhile, which asked for a stop (status 0) before the failure. */
static int startup_failed(void)
{
    sigset_t pending;
    if (sigpending(&pending) == 0 &&
        (sigismember(&pending, SIGTERM) == 1 || sigismember(&pending, SIGINT) == 1)) {
        fprintf(stderr, "soakwatch: stopped by a signal during start-up\n");
        return 0;
    }
    return 1;
}

static void watch_signals(live *l)
{
    ev_signal_init(&l->sig_term, on_signal, SIGTERM);
    ev_signal_init(&l->sig_int, on_signal, SIGINT);
    l->sig_term.data = l->sig_int.data = l;
    ev_signal_start(l->loop, &l->sig_term);
    ev_signal_start(l->loop, &l->sig_int);
    startup_signals_block(0);
}

/* ---- run: Kafka to Kafka ------------------------------------------------- */

static int run_kafka(live *l)
{
    const sw_config *cfg = l->cfg;
    int64_t now_ms = wall_ms();
    int64_t now_s = sw_floor_div(now_ms, 1000);
    uint8_t published[SW_MAX_RULES];
    int64_t last_at_ms;

    if (cfg->input_topic[0] == '\0' || cfg->output_topic[0] == '\0') {
        fprintf(stderr, "soakwatch: run with brokers needs an input topic and an output topic\n");
        return 2;
    }
    l->in_topic = cfg->input_topic;
    l->out_topic = cfg->output_topic;
    l->idle_ms = cfg->idle_timeout_s * 1000;
    l->c.live = 1;
    startup_signals_block(1);
    l->prod = kafka_producer_create(cfg, on_delivery, l, l->err, sizeof(l->err));
    if (l->prod == NULL) {
        fprintf(stderr, "soakwatch: %s\n", l->err);
        return startup_failed();
    }
    if (read_history(l, now_ms, &last_at_ms, published) != 0)
        return startup_failed();
    int64_t warm_s = config_longest_window_s(cfg) + cfg->allowed_lateness_s + REBUILD_MARGIN_S;
    if (input_open(l, now_ms - warm_s * 1000, now_ms) != 0)
        return startup_failed();
    /* Publish after what the topic holds (the downtime included); a fresh
     * deployment publishes from now, every rule as not firing. */
    int64_t from = last_at_ms >= 0 ? sw_floor_div(last_at_ms, 1000) + 1
                                   : now_s - cfg->allowed_lateness_s;
    sw_engine_set_emit_range(l->e, from, -1, published);
    fprintf(stderr,
            "soakwatch: reading %s (%d partitions) from %" PRId64
            " s back; publishing to %s from %" PRId64 "\n",
            l->in_topic, l->n, warm_s, l->out_topic, from);
    if (cfg->control_topic[0]) {
        if (control_topic_open(l) != 0)
            return startup_failed();
        fprintf(stderr, "soakwatch: acknowledgements from %s, from its end\n",
                cfg->control_topic);
        ev_io_init(&l->ctl_io, on_ctl_io, kafka_wakeup_fd(l->ctl), EV_READ);
        l->ctl_io.data = l;
        ev_io_start(l->loop, &l->ctl_io);
    }

    ev_io_init(&l->cons_io, on_cons_io, kafka_wakeup_fd(l->cons), EV_READ);
    ev_io_init(&l->prod_io, on_prod_io, kafka_wakeup_fd(l->prod), EV_READ);
    ev_timer_init(&l->tick, on_kafka_tick, 1.0, 1.0);
    ev_idle_init(&l->more_idle, on_more_input);
    l->cons_io.data = l->prod_io.data = l->tick.data = l->more_idle.data = l;
    ev_io_start(l->loop, &l->cons_io);
    ev_io_start(l->loop, &l->prod_io);
    ev_timer_start(l->loop, &l->tick);
    watch_signals(l);
    if (start_http(l) != 0)
        return 1;
    drain_input(l);
    more_later(l);
    ev_run(l->loop, 0);

    /* Shutdown: intake stopped; flush, then commit what is acknowledged. */
    shutdown_watchdog(l->exit_code);
    startup_signals_block(1); /* a stop asked for from here on waits for the next loop */
    ev_signal_stop(l->loop, &l->sig_term);
    ev_signal_stop(l->loop, &l->sig_int);
    ev_timer_stop(l->loop, &l->tick);
    ev_io_stop(l->loop, &l->prod_io);
    ev_io_stop(l->loop, &l->cons_io);
    ev_idle_stop(l->loop, &l->more_idle);
    if (l->ctl)
        ev_io_stop(l->loop, &l->ctl_io);
    if (kafka_flush(l->prod, FLUSH_TIMEOUT_MS) != 0)
        fprintf(stderr, "soakwatch: %d output events not acknowledged at shutdown; "
                        "offsets not committed past them\n", kafka_outq_len(l->prod));
    kafka_serve(l->prod);
    uint64_t asked0, asked, answered0, answered, failed;
    kafka_commit_state(l->cons, &asked0, &answered0, &failed);
    maybe_commit(l);
    kafka_commit_state(l->cons, &asked, &answered, &failed);
    int64_t deadline = wall_ms() + COMMIT_WAIT_MS;
    while (answered < asked && wall_ms() < deadline) {
        kafka_msg km;
        while (kafka_consume(l->cons, &km))
            kafka_msg_release(&km);
        struct pollfd pfd = {kafka_wakeup_fd(l->cons), POLLIN, 0};
        poll(&pfd, 1, 50);
        kafka_fd_drain(pfd.fd);
        kafka_commit_state(l->cons, &asked, &answered, &failed);
    }
    char line[1024];
    pipeline_summary(l->e, &l->c, line, sizeof(line));
    fprintf(stderr, "soakwatch: %s; %" PRIu64 " delivered, %" PRIu64 " failed\n", line,
            l->c.outputs_delivered, l->c.delivery_failures);
    return l->exit_code;
}

/* ---- run: stdin to stdout ------------------------------------------------ */

static void stdin_line(live *l, const char *s, size_t len)
{
    if (len && s[len - 1] == '\r')
        len--;
    l->lineno++;
    if (len == 0)
        return;
    int64_t now_s = sw_floor_div(wall_ms(), 1000);
    sw_engine_set_wall_clock(l->e, now_s);
    sw_engine_set_future_limit(l->e, now_s + l->cfg->max_future_skew_s);
    pipeline_feed_from(l->e, &l->dc, &l->c, s, len, 0, l->lineno);
}

static void on_stdin(struct ev_loop *loop, ev_io *w, int revents)
{
    live *l = w->data;
    char buf[READ_CHUNK];
    size_t cap = l->cfg->max_message_bytes;
    (void)revents;
    for (;;) {
        ssize_t got = read(w->fd, buf, sizeof(buf));
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (got <= 0) {
            if (got < 0)
                fprintf(stderr, "soakwatch: reading stdin: %s\n", strerror(errno));
            if (l->line_len && !l->skipping)
                stdin_line(l, l->line, l->line_len);
            l->line_len = 0;
            l->stdin_eof = 1;
            ev_io_stop(loop, w);
            ev_break(loop, EVBREAK_ALL);
            break;
        }
        l->last_read_ms = wall_ms();
        const char *p = buf, *end = buf + got;
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t n = (size_t)((nl ? nl : end) - p);
            if (!l->skipping) {
                if (l->line_len + n > cap + 1) { /* + 1: a '\r' before the newline */
                    l->skipping = 1;
                    l->line_len = 0;
                } else {
                    memcpy(l->line + l->line_len, p, n);
                    l->line_len += n;
                }
            }
            if (nl == NULL)
                break;
            if (l->skipping) {
                /* Rejected as too large without being held. */
                l->c.messages++;
                l->c.verdicts[DEC_REJ_TOO_LARGE]++;
                l->lineno++;
                l->skipping = 0;
            } else {
                stdin_line(l, l->line, l->line_len);
            }
            l->line_len = 0;
            p = nl + 1;
        }
    }
    if (fflush(l->out) != 0)
        l->write_failed = 1;
}

static void on_stdin_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
    live *l = w->data;
    (void)loop;
    (void)revents;
    int64_t now = wall_ms();
    /* stdin has been read to its end (the watcher drains it), so silence
     * past the idle timeout is the idle clock's to observe. */
    if (now - l->last_read_ms >= l->cfg->idle_timeout_s * 1000 && !l->skipping &&
        l->line_len == 0) {
        int64_t now_s = sw_floor_div(now, 1000);
        /* watching since soakwatch began reading stdin */
        if (!l->watching) {
            l->watching = 1;
            watch_from(l, l->c.started_unix_s);
        }
        sw_engine_set_wall_clock(l->e, now_s);
        sw_engine_advance(l->e, now_s - l->cfg->allowed_lateness_s);
    }
    /* A safety net for a change the stat watcher missed. */
    if (l->ctl_fd >= 0)
        control_file_poll(l);
    if (fflush(l->out) != 0)
        l->write_failed = 1;
    if (l->write_failed) {
        fprintf(stderr, "soakwatch: writing output failed: %s\n", strerror(errno));
        stop(l, 1);
    }
}

static int run_stdin(live *l)
{
    const sw_config *cfg = l->cfg;
    l->out = stdout;
    l->line = malloc(cfg->max_message_bytes + 2);
    l->e = sw_engine_create(cfg, on_output, l, l->err, sizeof(l->err));
    if (l->line == NULL || l->e == NULL) {
        fprintf(stderr, "soakwatch: %s\n", l->e ? "out of memory" : l->err);
        return 1;
    }
    if (cfg->provenance && sw_engine_set_sources(l->e, 1, "lines") != 0) {
        fprintf(stderr, "soakwatch: out of memory\n");
        return 1;
    }
    if (l->ctl_path) {
        if (control_file_open(l) != 0) {
            fprintf(stderr, "soakwatch: cannot open control file %s: %s\n", l->ctl_path,
                    strerror(errno));
            return 2;
        }
        control_file_poll(l);
        ev_stat_init(&l->ctl_stat, on_ctl_stat, l->ctl_path, 0.);
        l->ctl_stat.data = l;
        ev_stat_start(l->loop, &l->ctl_stat);
    }
    fcntl(STDIN_FILENO, F_SETFL, fcntl(STDIN_FILENO, F_GETFL) | O_NONBLOCK);
    l->last_read_ms = wall_ms();
    ev_io_init(&l->stdin_io, on_stdin, STDIN_FILENO, EV_READ);
    ev_timer_init(&l->tick, on_stdin_tick, 1.0, 1.0);
    l->stdin_io.data = l->tick.data = l;
    ev_io_start(l->loop, &l->stdin_io);
    ev_timer_start(l->loop, &l->tick);
    watch_signals(l);
    if (start_http(l) != 0)
        return 1;
    l->c.ready = 1;
    ev_run(l->loop, 0);
    if (l->stdin_eof && l->exit_code == 0)
        sw_engine_finish(l->e);
    if (fflush(stdout) != 0 || l->write_failed) {
        fprintf(stderr, "soakwatch: writing output failed: %s\n", strerror(errno));
        l->exit_code = 1;
    }
    char line[1024];
    pipeline_summary(l->e, &l->c, line, sizeof(line));
    fprintf(stderr, "soakwatch: %s\n", line);
    return l->exit_code;
}

static char *const *restart_argv;

void live_set_argv(char *const *argv)
{
    restart_argv = argv;
}

/* Start over as a new process image with the same arguments: the clients
 * are not destroyed (librdkafka can hang closing a consumer whose
 * partitions vanished), every descriptor but the standard ones is closed,
 * and the restart path (read the output topic, rebuild by time) does the
 * rest. Returns only when exec failed. */
static void restart_process(void)
{
    fflush(stdout);
    fflush(stderr);
    if (restart_argv == NULL || restart_argv[0] == NULL) {
        fprintf(stderr, "soakwatch: cannot start over: no arguments known\n");
        return;
    }
    long max_fd = sysconf(_SC_OPEN_MAX);
    for (long fd = 3; fd < (max_fd > 0 && max_fd < 65536 ? max_fd : 65536); fd++)
        close((int)fd);
    alarm(0); /* a pending alarm would survive exec and kill the new image */
    startup_signals_block(0);
    execv("/proc/self/exe", restart_argv);
    fprintf(stderr, "soakwatch: cannot start over: exec: %s\n", strerror(errno));
}

int live_run(const sw_config *cfg, const char *control_path)
{
    live *l = calloc(1, sizeof(*l));
    if (l == NULL) {
        fprintf(stderr, "soakwatch: out of memory\n");
        return 1;
    }
    l->cfg = cfg;
    l->ctl_path = control_path;
    l->ctl_fd = -1;
    l->c.started_unix_s = sw_floor_div(wall_ms(), 1000);
    l->c.watermark_lag_s = NAN;
    if (pipeline_dec_config(cfg, &l->dc, l->err, sizeof(l->err)) != 0) {
        fprintf(stderr, "soakwatch: %s\n", l->err);
        free(l);
        return 2;
    }
    l->loop = ev_default_loop(EVFLAG_AUTO);
    int rc = cfg->brokers[0] ? run_kafka(l) : run_stdin(l);
    if (l->restart && rc == 0) {
        restart_process(); /* the input topic changed shape: check_topic */
        rc = 1;
    }
    live_free(l); /* the Kafka clients close here, under the shutdown watchdog */
    alarm(0);
    free(l);
    return rc;
}

/* ---- replay of a recorded topic ----------------------------------------- */

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int kafka_replay_run(const sw_config *cfg, const kafka_replay_opts *o)
{
    live *l = calloc(1, sizeof(*l));
    if (l == NULL) {
        fprintf(stderr, "soakwatch: out of memory\n");
        return 1;
    }
    int rc = 1;
    l->cfg = cfg;
    l->ctl_fd = -1;
    l->replay = 1;
    l->in_topic = o->topic;
    l->out_topic = o->output_topic;
    l->out = o->out;
    l->idle_ms = INT64_MAX / 2; /* every partition is read to its end: none idles */
    l->c.watermark_lag_s = NAN;
    if (pipeline_dec_config(cfg, &l->dc, l->err, sizeof(l->err)) != 0) {
        fprintf(stderr, "soakwatch: %s\n", l->err);
        goto out;
    }
    if (o->output_topic) {
        l->prod = kafka_producer_create(cfg, on_delivery, l, l->err, sizeof(l->err));
        if (l->prod == NULL) {
            fprintf(stderr, "soakwatch: %s\n", l->err);
            goto out;
        }
    }
    int64_t warm_s = config_longest_window_s(cfg) + cfg->allowed_lateness_s + REBUILD_MARGIN_S;
    if (input_open(l, o->from_ms - warm_s * 1000, wall_ms()) != 0)
        goto out;
    int64_t from_s = sw_floor_div(o->from_ms + 999, 1000);
    l->replay_to_s = o->to_ms < 0 ? -1 : sw_floor_div(o->to_ms, 1000);
    sw_engine_set_emit_range(l->e, from_s, l->replay_to_s, NULL);
    sw_engine_set_text(l->e, o->text);

    int progress = isatty(STDERR_FILENO);
    double t0 = mono_s(), t_next = t0 + 1.0;
    int64_t deadline_quiet = 0;
    for (;;) {
        if (drain_input(l)) {
            rc = 1;
            goto out;
        }
        if (l->prod)
            kafka_serve(l->prod);
        if (merge_all_eof(l->m))
            break;
        if (l->replay_to_s >= 0 && sw_engine_next_instant(l->e) != INT64_MIN &&
            sw_engine_next_instant(l->e) > l->replay_to_s)
            break; /* every instant up to --to evaluated: nothing more to write */
        if (progress && mono_s() >= t_next) {
            char ts[40] = "-";
            int64_t s = sw_engine_max_second(l->e);
            if (s != INT64_MIN)
                dec_rfc3339_format(s * 1000, ts, sizeof(ts));
            double el = mono_s() - t0;
            fprintf(stderr, "\rsoakwatch: %" PRIu64 " events, event time %s, %.0f events/s   ",
                    l->c.messages, ts, el > 0 ? (double)l->c.messages / el : 0.0);
            t_next += 1.0;
        }
        if (l->more_input)
            continue;
        struct pollfd pfd = {kafka_wakeup_fd(l->cons), POLLIN, 0};
        int woke = poll(&pfd, 1, 100);
        kafka_fd_drain(pfd.fd);
        /* A broker that stops answering must not hang a replay forever. */
        if (woke > 0)
            deadline_quiet = 0;
        else if (deadline_quiet == 0)
            deadline_quiet = wall_ms() + 60000;
        else if (wall_ms() > deadline_quiet) {
            fprintf(stderr, "soakwatch: replay of %s: no data from the broker for 60 s\n",
                    l->in_topic);
            goto out;
        }
    }
    if (progress)
        fputs("\r\033[K", stderr);
    if (merge_all_eof(l->m))
        sw_engine_finish(l->e);
    rc = 0;
    if (l->prod) {
        if (kafka_flush(l->prod, 30000) != 0 || l->failed) {
            fprintf(stderr, "soakwatch: output events to %s not all delivered\n",
                    o->output_topic);
            rc = 1;
        }
    }
    if (l->out && (fflush(l->out) != 0 || l->write_failed)) {
        fprintf(stderr, "soakwatch: writing output failed: %s\n", strerror(errno));
        rc = 1;
    }
    char line[1024];
    pipeline_summary(l->e, &l->c, line, sizeof(line));
    fprintf(stderr, "soakwatch: %s\n", line);
out:
    live_free(l);
    free(l);
    return rc;
}
