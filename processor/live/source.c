/* source.c: the Kafka input, through the merge into the engine (source.h). */
#include "source.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "../engine_time.h"
#include "../event.h"
#include "../kafka.h"
#include "../merge.h"

#define STAGE_TOTAL 65536     /* staged events, all partitions (48 bytes each) */
#define STAGE_MIN 1024        /* staged events per partition, at least */
#define RELEASE_EVERY 256     /* messages read between two releases */
#define DRAIN_BUDGET 16384    /* messages read before the loop serves the rest */
#define META_TIMEOUT_MS 10000
#define TOPIC_CHECK_TIMEOUT_MS 500
#define DEFAULT_GROUP "soakwatch"

struct sw_source {
    const sw_config *cfg;
    const dec_config *dc;
    sw_counters *c;
    source_hooks h;
    const char *topic;
    int bounded;
    int64_t idle_ms;
    kafka_client *cons;
    sw_engine *e;
    sw_merge *m;
    int n;
    int64_t *hw_start;       /* high watermark per partition at start */
    int64_t *read_next;      /* next offset to read per partition */
    int64_t *start;          /* where each partition is assigned from */
    uint8_t *part_paused;    /* fetching stopped: ring full, or read to its bound */
    uint8_t *part_done;      /* bounded: read to its end at start */
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
    int resync;              /* seek every partition once the queue is empty */
    int more;                /* the last drain stopped at its budget */
    int paused;              /* the last drain stopped for outputs */
    uint64_t seen;           /* handed_on when the hooks were last asked */
    int topic_gone;          /* the topic was found missing: 1 seen, 2 said */
    int64_t topic_check_ms;  /* when the topic was last looked at */
    char err[512];
};

static int64_t now(const sw_source *s)
{
    return s->h.now_ms(s->h.ud);
}

/* ---- set-up --------------------------------------------------------------- */

static int alloc_parts(sw_source *s, int64_t now_ms)
{
    size_t n = (size_t)s->n;
    s->hw_start = calloc(n, sizeof(int64_t));
    s->read_next = calloc(n, sizeof(int64_t));
    s->start = calloc(n, sizeof(int64_t));
    s->part_paused = calloc(n, 1);
    s->part_done = calloc(n, 1);
    s->held = calloc(n * KAFKA_BATCH, sizeof(kafka_msg));
    s->part_held = calloc(n, sizeof(uint32_t));
    s->part_blocked = calloc(n, 1);
    /* A partition's ring holds what arrives of it before the others catch
     * up: a record batch can hold thousands of events of one partition. */
    s->stage_cap = STAGE_MIN;
    while (s->stage_cap * 2 * (uint32_t)s->n <= STAGE_TOTAL)
        s->stage_cap *= 2;
    s->m = merge_create(s->n, s->stage_cap, now_ms);
    return s->hw_start && s->read_next && s->start && s->part_paused && s->part_done &&
                   s->held && s->part_held && s->part_blocked && s->m
               ? 0
               : -1;
}

static int open_consumer(sw_source *s, int64_t from_ms, int64_t now_ms)
{
    const sw_config *cfg = s->cfg;
    s->cons = kafka_consumer_create(cfg, cfg->group[0] ? cfg->group : DEFAULT_GROUP, s->err,
                                    sizeof(s->err));
    if (s->cons == NULL)
        return -1;
    s->n = kafka_partition_count(s->cons, s->topic, META_TIMEOUT_MS, 1, s->err, sizeof(s->err));
    if (s->n < 0)
        return -1;
    if (s->n > SW_MAX_PARTITIONS) {
        snprintf(s->err, sizeof(s->err), "input topic %s has %d partitions; at most %d",
                 s->topic, s->n, SW_MAX_PARTITIONS);
        return -1;
    }
    s->c->n_partitions = s->n;
    kafka_queue_limits(s->cons, &s->q_max_msgs, &s->q_max_bytes);
    if (alloc_parts(s, now_ms) != 0) {
        snprintf(s->err, sizeof(s->err), "out of memory");
        return -1;
    }
    if (kafka_high_watermarks(s->cons, s->topic, s->n, s->hw_start, META_TIMEOUT_MS, s->err,
                              sizeof(s->err)) != 0 ||
        kafka_offsets_for_time(s->cons, s->topic, s->n, from_ms, s->hw_start, s->start,
                               META_TIMEOUT_MS, s->err, sizeof(s->err)) != 0)
        return -1;
    for (int p = 0; p < s->n; p++) {
        s->read_next[p] = s->start[p];
        s->c->consumer_lag[p] = -1;
        if (s->bounded && s->start[p] >= s->hw_start[p]) {
            merge_set_eof(s->m, p, now_ms);
            s->part_done[p] = 1;
        }
    }
    return 0;
}

sw_source *source_create(const sw_config *cfg, const dec_config *dc, const source_opts *o,
                         const source_hooks *h, sw_counters *c, char *errstr, size_t errlen)
{
    sw_source *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        snprintf(errstr, errlen, "out of memory");
        return NULL;
    }
    s->cfg = cfg;
    s->dc = dc;
    s->c = c;
    s->h = *h;
    s->topic = o->topic;
    s->bounded = o->bounded;
    s->idle_ms = o->idle_ms;
    if (open_consumer(s, o->from_ms, now(s)) != 0) {
        snprintf(errstr, errlen, "%s", s->err);
        source_destroy(s);
        return NULL;
    }
    return s;
}

void source_destroy(sw_source *s)
{
    if (s == NULL)
        return;
    for (int i = 0; i < s->held_n; i++)
        kafka_msg_release(&s->held[i]);
    kafka_destroy(s->cons);
    merge_destroy(s->m);
    free(s->hw_start);
    free(s->read_next);
    free(s->start);
    free(s->part_paused);
    free(s->part_done);
    free(s->held);
    free(s->part_held);
    free(s->part_blocked);
    free(s);
}

int source_partitions(const sw_source *s)
{
    return s->n;
}

/* Stop fetching partition p while its ring is full, and fetch it again once
 * the merge has taken half of it: the ring, not librdkafka's prefetch, is
 * what a partition that runs ahead in event time fills. Messages of p still
 * queued when it pauses are dropped by librdkafka and fetched again from
 * the next unread offset on resume. Returns 0, or -1 after logging. */
static int pause_part(sw_source *s, int p, int pause)
{
    if (s->part_paused[p] == pause)
        return 0;
    if (kafka_pause(s->cons, s->topic, p, pause, s->err, sizeof(s->err)) != 0) {
        fprintf(stderr, "soakwatch: %s\n", s->err);
        return -1;
    }
    s->part_paused[p] = (uint8_t)pause;
    s->c->input_pauses += (uint64_t)pause;
    return 0;
}

int source_start(sw_source *s, sw_engine *e, char *errstr, size_t errlen)
{
    s->e = e;
    /* Seek only here, before consuming starts. All partitions share the
     * consumer queue; one whose ring fills is paused (see pause_part). */
    if (kafka_assign(s->cons, s->topic, s->n, s->start, errstr, errlen) != 0)
        return -1;
    for (int p = 0; p < s->n; p++)
        if (s->part_done[p] && pause_part(s, p, 1) != 0) {
            snprintf(errstr, errlen, "%s", s->err);
            return -1;
        }
    return 0;
}

/* ---- taking messages ---------------------------------------------------- */

static void reject(sw_source *s, int p, int64_t offset, const char *key, size_t key_len,
                   const char *value, size_t len, const char *reason)
{
    sw_reject r = {s->topic, p, offset, key, value, key_len, len, reason};
    s->h.reject(s->h.ud, &r);
}

/* What this run has handed to the sink so far: outputs back up only when
 * it grows, so the hooks are asked again only then. */
static uint64_t handed_on(const sw_source *s)
{
    return s->c->outputs_written + s->c->dead_lettered;
}

/* Release what the merge lets go into the engine, while outputs are not
 * backed up. */
static void release(sw_source *s)
{
    merge_item it;
    int64_t t = now(s);
    if (!s->bounded)
        sw_time_now(s->e, t);
    uint64_t seen = handed_on(s);
    if (s->h.busy(s->h.ud))
        return;
    while (merge_pop(s->m, t, s->idle_ms, sw_engine_accept_hi(s->e), &it)) {
        if (sw_engine_push_from(s->e, &it.ev, it.part, it.offset) == SW_OUT_OF_RANGE) {
            /* Out of range only against the events before it: its bytes are
             * gone by now, its time and origin are kept. */
            char v[64];
            int n = snprintf(v, sizeof(v), "{\"ts\":%" PRId64 "}", it.ev.ts_ms);
            reject(s, it.part, it.offset, NULL, 0, v, (size_t)n, "out_of_range");
        }
        if (handed_on(s) != seen) {
            seen = handed_on(s);
            if (s->h.busy(s->h.ud))
                return;
        }
    }
}

typedef struct take_ctx {
    sw_source *s;
    const kafka_msg *km;
    int64_t now;
    int staged;
    int out_of_range; /* an event of it is out of range whatever came before */
} take_ctx;

/* One accepted event of the message being taken: into the merge. */
static void take_event(void *ud, const sw_event *ev)
{
    take_ctx *t = ud;
    sw_source *s = t->s;
    int p = t->km->partition;
    if (sw_time_out_of_range(s->cfg, ev->ts_ms, s->bounded ? -1 : t->now)) {
        /* Out of range whatever comes before it: the engine counts it
         * (and changes nothing); the original goes to the dead letters. */
        if (sw_engine_push_from(s->e, ev, p, t->km->offset) == SW_OUT_OF_RANGE)
            t->out_of_range = 1;
        return;
    }
    if (merge_push(s->m, p, ev, t->km->offset, t->now) == 0) {
        t->staged = 1;
        return;
    }
    /* Only a message of many events (OTLP) can overflow: must_hold keeps
     * half a ring free for it. Counted and said, never silent. */
    s->c->input_overflow++;
    if (s->c->input_overflow <= 10 || s->c->input_overflow % 1000 == 0)
        fprintf(stderr, "soakwatch: staging ring of partition %d full: an event of offset %"
                PRId64 " dropped (%" PRIu64 " so far)\n", p, t->km->offset,
                s->c->input_overflow);
}

/* One message of partition p: its events into the merge. */
static void take_message(sw_source *s, const kafka_msg *km, int64_t t_now)
{
    int p = km->partition;
    s->in_bytes += km->len;
    s->read_next[p] = km->offset + 1;
    take_ctx t = {s, km, t_now, 0, 0};
    dec_verdict worst = pipeline_decode(s->dc, s->c, km->value, km->len, take_event, &t);
    /* one dead letter per message: its first rejection, else out of range */
    if (worst >= DEC_REJ_TOO_LARGE && worst < DEC_VERDICT_COUNT)
        reject(s, p, km->offset, km->key, km->key_len, km->value, km->len,
               dec_verdict_name(worst));
    else if (t.out_of_range)
        reject(s, p, km->offset, km->key, km->key_len, km->value, km->len, "out_of_range");
    if (!t.staged)
        merge_touch(s->m, p, t_now);
}

/* Partition p has been read up to its bound (a bounded source). */
static void bound_reached(sw_source *s, int p, int64_t t)
{
    merge_set_eof(s->m, p, t);
    s->part_done[p] = 1;
    pause_part(s, p, 1);
}

/* One message or end-of-partition of input partition p, now. */
static void take_item(sw_source *s, const kafka_msg *km, int64_t t)
{
    int p = km->partition;
    if (km->kind == KAFKA_MSG) {
        if (s->bounded && km->offset >= s->hw_start[p]) {
            bound_reached(s, p, t); /* beyond the end at start: not part of it */
        } else {
            take_message(s, km, t);
            if (s->bounded && s->read_next[p] >= s->hw_start[p])
                bound_reached(s, p, t);
        }
        if (merge_part_full(s->m, p))
            pause_part(s, p, 1);
    } else if (km->kind == KAFKA_EOF) {
        if (km->offset > s->read_next[p])
            s->read_next[p] = km->offset;
        /* An end reached before an interruption says nothing of now: the
         * resync asks for it afresh. */
        if (!s->resync)
            merge_set_eof(s->m, p, t);
    }
}

/* Whether partition p's ring lacks room for the events of message km. */
static int no_room(const sw_source *s, const kafka_msg *km)
{
    int p = km->partition;
    if (km->kind != KAFKA_MSG)
        return 0;
    /* A message of many events needs room for them: half a ring. */
    if (s->cfg->input.envelope == SW_ENV_OTLP)
        return merge_part_staged(s->m, p) > s->stage_cap / 2;
    return merge_part_full(s->m, p);
}

/* An item of p must wait while p's ring is full, and behind any of p's
 * items already waiting. */
static int must_hold(const sw_source *s, const kafka_msg *km)
{
    return s->part_held[km->partition] > 0 || no_room(s, km);
}

/* Take the held items whose rings now have room, in order per partition. */
static void take_held(sw_source *s, int64_t t)
{
    if (s->held_n == 0)
        return;
    memset(s->part_blocked, 0, (size_t)s->n);
    int kept = 0;
    for (int i = 0; i < s->held_n; i++) {
        kafka_msg *km = &s->held[i];
        int p = km->partition;
        if (!s->part_blocked[p] && !no_room(s, km)) {
            s->part_held[p]--;
            take_item(s, km, t);
            kafka_msg_release(km);
        } else {
            s->part_blocked[p] = 1;
            s->held[kept++] = *km;
        }
    }
    s->held_n = kept;
}

/* ---- keeping librdkafka's fetcher going --------------------------------- */

static void resume_drained(sw_source *s)
{
    for (int p = 0; p < s->n; p++)
        if (s->part_paused[p] && !s->part_done[p] && s->part_held[p] == 0 &&
            merge_part_staged(s->m, p) <= s->stage_cap / 2)
            pause_part(s, p, 0);
}

/* Note when librdkafka's queue comes within half of a limit: it may then
 * fill between two looks, and librdkafka stop fetching until woken. */
static void watch_fill(sw_source *s)
{
    int64_t q = (int64_t)kafka_queue_len(s->cons);
    int64_t mean = s->c->messages ? (int64_t)(s->in_bytes / s->c->messages) : 0;
    if (2 * q >= s->q_max_msgs || 2 * q * mean >= s->q_max_bytes)
        s->maybe_full = 1;
}

/* Seek partition p, being fetched with nothing of it queued or held, to
 * its next offset (kafka_kick). Returns 0, or -1 after logging. */
static int seek_next(sw_source *s, int p)
{
    if (kafka_kick(s->cons, s->topic, p, s->read_next[p], s->err, sizeof(s->err)) != 0) {
        fprintf(stderr, "soakwatch: %s\n", s->err);
        return -1;
    }
    return 0;
}

/* The queue ran empty after being near its limit: wake the fetcher through
 * a partition that is being fetched. Nothing of it is queued. */
static void kick_fetcher(sw_source *s)
{
    s->maybe_full = 0;
    for (int i = 0; i < s->n; i++) {
        int p = (s->kick_next + i) % s->n;
        if (s->part_paused[p] || s->part_done[p])
            continue;
        s->kick_next = (p + 1) % s->n;
        if (seek_next(s, p) == 0)
            s->c->fetch_wakeups++;
        return;
    }
}

/* What was known of the partitions' ends is stale (a lost connection, or a
 * pause for outputs): until each partition shows itself again the merge
 * takes none as read to its end or idle, and once the queue is empty every
 * partition is sought afresh (resync_ends). */
static void forget_ends(sw_source *s)
{
    merge_hold(s->m);
    s->resync = 1;
}

static void note_interruption(sw_source *s)
{
    uint64_t n = kafka_interruptions(s->cons);
    if (n == s->interruptions || s->bounded)
        return;
    s->interruptions = n;
    s->c->input_interruptions++;
    forget_ends(s);
}

/* With nothing queued or taken unread: seek every partition that is being
 * fetched to its next offset. librdkafka then forgets which end it last
 * reported and reports each end again once it fetches there, and the
 * fetcher wakes (kafka_kick). */
static void resync_ends(sw_source *s)
{
    s->resync = 0;
    s->maybe_full = 0;
    merge_hold(s->m);
    for (int p = 0; p < s->n; p++)
        if (!s->part_paused[p] && !s->part_done[p])
            seek_next(s, p);
}

/* ---- the drain ------------------------------------------------------------ */

/* Between batches: release into the engine and let the rings refill. */
static void settle(sw_source *s)
{
    release(s);
    take_held(s, now(s));
    resume_drained(s);
}

/* Whether reading must stop for outputs; stopping forgets the ends (the
 * idle clock must not move past input that was never read). While reading,
 * outputs can back up only when something was handed on: the hook is asked
 * at the start of a drain (fresh) and then only then. */
static int pause_for_outputs(sw_source *s, int fresh)
{
    if (!fresh && !s->paused && handed_on(s) == s->seen)
        return 0;
    s->seen = handed_on(s);
    int was = s->paused;
    s->paused = s->h.busy(s->h.ud);
    if (s->paused && !was && !s->bounded)
        forget_ends(s);
    return s->paused;
}

/* One item from the consumer queue: 1 taken, 0 queue empty, -1 fatal. */
static int read_one(sw_source *s, int64_t t)
{
    kafka_msg km;
    int got = kafka_consume(s->cons, &km);
    note_interruption(s);
    if (!got) {
        if (s->resync)
            resync_ends(s);
        else if (s->maybe_full)
            kick_fetcher(s);
        return 0;
    }
    int p = km.partition, fatal = 0;
    if (km.kind == KAFKA_ERROR) {
        fprintf(stderr, "soakwatch: kafka consumer: %s\n", km.errstr);
        fatal = km.fatal;
    } else if (p < 0 || p >= s->n) {
        /* not of the input topic's partitions at start: not read */
    } else if (must_hold(s, &km) && s->held_n < s->n * KAFKA_BATCH) {
        pause_part(s, p, 1);
        s->held[s->held_n++] = km;
        s->part_held[p]++;
        km.handle = NULL; /* released when taken */
    } else {
        take_item(s, &km, t);
    }
    kafka_msg_release(&km);
    return fatal ? -1 : 1;
}

int source_drain(sw_source *s)
{
    int fatal = 0, since_release = 0, budget = DRAIN_BUDGET;
    int64_t t = now(s);
    s->more = 0;
    take_held(s, t);
    resume_drained(s);
    watch_fill(s);
    for (int fresh = 1; !pause_for_outputs(s, fresh); fresh = 0) {
        if (budget-- == 0) {
            s->more = 1;
            break;
        }
        int r = read_one(s, t);
        if (r == 0)
            break;
        fatal |= r < 0;
        if (++since_release == RELEASE_EVERY) {
            since_release = 0;
            settle(s);
            t = now(s);
            watch_fill(s);
        }
    }
    settle(s);
    return fatal;
}

int source_more(const sw_source *s)
{
    return s->more;
}

int source_paused(const sw_source *s)
{
    return s->paused;
}

int source_done(const sw_source *s)
{
    return merge_all_eof(s->m);
}

void source_idle(sw_source *s, int64_t now_ms)
{
    if (!s->paused && merge_all_eof(s->m))
        sw_time_idle(s->e, now_ms, merge_last_arrival(s->m));
}

/* ---- the topic's shape ---------------------------------------------------- */

/* Partitions added, or the topic deleted and created again, change what
 * there is to read: the run then starts over as after a restart (it
 * rebuilds its windows from the topic by time and publishes after what the
 * output topic holds), so that every partition of the topic as it is now
 * is read from where it must be, nothing is skipped and nothing is
 * published twice. */
int source_check_topic(sw_source *s, int64_t now_ms)
{
    /* A topic deleted under us and created again keeps its name and
     * perhaps its partition count: librdkafka's reports that it was gone
     * (error events and error messages alike) mark it, and it is read as a
     * new topic when it is back. */
    if (kafka_take_gone(s->cons) && !s->topic_gone) {
        s->topic_gone = 1;
        s->topic_check_ms = INT64_MIN / 2; /* look at once */
    }
    if (now_ms - s->topic_check_ms < SOURCE_TOPIC_CHECK_MS)
        return 0;
    s->topic_check_ms = now_ms;
    char err[512];
    int n = kafka_partition_count(s->cons, s->topic, TOPIC_CHECK_TIMEOUT_MS, 0, err,
                                  sizeof(err));
    if (n == -ENOENT) {
        if (s->topic_gone < 2)
            fprintf(stderr, "soakwatch: input topic %s is gone; waiting for it (looking every "
                    "%d s)\n", s->topic, SOURCE_TOPIC_CHECK_MS / 1000);
        s->topic_gone = 2; /* said */
        return 0;
    }
    if (n < 0 || (n == s->n && !s->topic_gone))
        return 0; /* no answer in time: next time */
    if (s->topic_gone)
        fprintf(stderr, "soakwatch: input topic %s is back with %d partitions; starting over "
                "to read it from the start of the windows\n", s->topic, n);
    else
        fprintf(stderr, "soakwatch: input topic %s now has %d partitions (had %d); starting "
                "over to read them all\n", s->topic, n, s->n);
    return 1;
}

/* ---- positions and commits ----------------------------------------------- */

void source_fed(const sw_source *s, int64_t *out)
{
    for (int p = 0; p < s->n; p++) {
        int64_t head;
        out[p] = merge_head_offset(s->m, p, &head) ? head : s->read_next[p];
    }
}

int source_caught_up(sw_source *s)
{
    int64_t hi[SW_MAX_PARTITIONS], fed[SW_MAX_PARTITIONS];
    source_fed(s, fed);
    kafka_cached_high_watermarks(s->cons, s->topic, s->n, hi);
    int rebuilt = 1;
    for (int p = 0; p < s->n; p++) {
        if (fed[p] < s->hw_start[p])
            rebuilt = 0;
        s->c->consumer_lag[p] = hi[p] < 0 ? -1 : (hi[p] > fed[p] ? hi[p] - fed[p] : 0);
    }
    return rebuilt;
}

int source_commit(sw_source *s, const int64_t *want, char *errstr, size_t errlen)
{
    return kafka_commit(s->cons, s->topic, s->n, want, errstr, errlen);
}

void source_commit_state(const sw_source *s, commit_state *st)
{
    kafka_commit_state(s->cons, &st->asked, &st->answered, &st->failed);
}

void source_await_commits(sw_source *s, int timeout_ms)
{
    commit_state st;
    int64_t deadline = now(s) + timeout_ms;
    source_commit_state(s, &st);
    while (st.answered < st.asked && now(s) < deadline) {
        kafka_msg km;
        while (kafka_consume(s->cons, &km))
            kafka_msg_release(&km);
        struct pollfd pfd = {kafka_wakeup_fd(s->cons), POLLIN, 0};
        poll(&pfd, 1, 50);
        kafka_fd_drain(pfd.fd);
        source_commit_state(s, &st);
    }
}

int source_fd(const sw_source *s)
{
    return kafka_wakeup_fd(s->cons);
}
