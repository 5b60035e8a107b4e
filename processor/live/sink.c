/* sink.c: outputs and dead letters, produced and redelivered (sink.h). */
#include "sink.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../event.h"
#include "../kafka.h"
#include "outbox.h"

enum { KIND_OUTPUT = 1, KIND_DEAD_LETTER = 2 };

struct sw_sink {
    const sw_config *cfg;
    sw_counters *c;
    FILE *out;
    int write_failed;
    sw_tap_fn tap;
    void *tap_ud;
    const char *topic;
    const char *dl_topic;
    kafka_client *prod;
    sw_outbox *outbox;
    outbox_item *retry;   /* scratch for sink_retry: the outbox's cap */
    uint64_t produced;    /* attempts */
    uint64_t answered;    /* attempts acknowledged or failed (kept) */
    char ce_source[SW_STR_MAX + 16]; /* /soakwatch/FEATURE */
    char err[512];
};

static void keep(sw_sink *s, int kind, const char *value, size_t len, const char *key,
                 size_t key_len, const kafka_header *h, int nh)
{
    int rc = outbox_keep(s->outbox, kind, value, len, key, key_len, h, nh);
    if (rc == 0)
        return;
    /* Given up: counted and said. It does not stop commits (what was
     * published is what the output topic holds: docs/operations.md). */
    fprintf(stderr, "soakwatch: %s; %s is lost (%" PRIu64 " so far)\n",
            rc == -ENOBUFS ? "too many messages await redelivery"
                           : "out of memory keeping a message for redelivery",
            kind == KIND_OUTPUT ? "an output event" : "a dead letter", outbox_lost(s->outbox));
}

static void on_delivery(void *ud, int ok, const char *errstr, void *opaque, const char *value,
                        size_t len, const char *key, size_t key_len, const kafka_header *h,
                        int nh)
{
    sw_sink *s = ud;
    int kind = (int)(intptr_t)opaque;
    s->answered++;
    if (ok) {
        if (kind == KIND_OUTPUT)
            s->c->outputs_delivered++;
        return;
    }
    s->c->delivery_failures++;
    /* Kept and produced again: at least once holds through a refusing or
     * vanished topic, or a broker away for longer than message.timeout.ms. */
    if (s->c->delivery_failures <= 10 || s->c->delivery_failures % 1000 == 0)
        fprintf(stderr, "soakwatch: delivery of %s failed: %s; producing it again\n",
                kind == KIND_OUTPUT ? "an output event" : "a dead letter", errstr);
    keep(s, kind, value, len, key, key_len, h, nh);
}

sw_sink *sink_create(const sw_config *cfg, const sink_opts *o, sw_counters *c, char *errstr,
                     size_t errlen)
{
    sw_sink *s = calloc(1, sizeof(*s));
    int cap = o->outbox_cap > 0 ? o->outbox_cap : SINK_OUTBOX_CAP;
    if (s == NULL || (s->outbox = outbox_create(cap)) == NULL ||
        (s->retry = calloc((size_t)cap, sizeof(outbox_item))) == NULL) {
        snprintf(errstr, errlen, "out of memory");
        sink_destroy(s);
        return NULL;
    }
    s->cfg = cfg;
    s->c = c;
    s->out = o->out;
    s->tap = o->tap;
    s->tap_ud = o->tap_ud;
    snprintf(s->ce_source, sizeof(s->ce_source), "/soakwatch/%s", cfg->feature);
    s->topic = o->topic;
    s->dl_topic = o->dead_letter_topic && o->dead_letter_topic[0] ? o->dead_letter_topic : NULL;
    if (o->topic) {
        s->prod = kafka_producer_create(cfg, on_delivery, s, errstr, errlen);
        if (s->prod == NULL) {
            sink_destroy(s);
            return NULL;
        }
    } else {
        s->dl_topic = NULL; /* dead letters need a producer */
    }
    return s;
}

void sink_destroy(sw_sink *s)
{
    if (s == NULL)
        return;
    kafka_destroy(s->prod);
    outbox_destroy(s->outbox);
    free(s->retry);
    free(s);
}

/* Hand one message to the producer, waiting for room when its queue is
 * full (reading stops well before that: SINK_BUSY_HIGH). Every attempt
 * counts; a refused one is answered at once and kept for redelivery, like
 * one whose delivery fails later. */
static void produce(sw_sink *s, int kind, const char *key, size_t key_len, const char *value,
                    size_t len, const kafka_header *h, int nh)
{
    const char *topic = kind == KIND_OUTPUT ? s->topic : s->dl_topic;
    int warned = 0;
    for (;;) {
        int rc = kafka_produce(s->prod, topic, key, key_len, value, len, h, nh,
                               (void *)(intptr_t)kind, s->err, sizeof(s->err));
        if (rc != -ENOBUFS) {
            s->produced++;
            if (rc == 0)
                return;
            s->answered++;
            s->c->delivery_failures++;
            if (s->c->delivery_failures <= 10 || s->c->delivery_failures % 1000 == 0)
                fprintf(stderr, "soakwatch: %s; producing it again\n", s->err);
            keep(s, kind, value, len, key, key_len, h, nh);
            return;
        }
        if (!warned) {
            fprintf(stderr, "soakwatch: producer queue full; waiting for the broker\n");
            warned = 1;
        }
        kafka_flush(s->prod, 100);
    }
}

/* The event's id for ce_id: its own `id` field, which follows the first two
 * fields when it has one (rule names are [A-Za-z0-9_.-], so the id needs no
 * unescaping), else TYPE:AT_MS (a status or soak update is known by its
 * instant). */
static size_t event_id(const sw_output *o, const char *type, char *out, size_t cap)
{
    char pre[96];
    int n = snprintf(pre, sizeof(pre), "{\"type\":\"%s\",\"schema_version\":1,\"id\":\"", type);
    if (n > 0 && (size_t)n < o->json_len && memcmp(o->json, pre, (size_t)n) == 0) {
        const char *p = o->json + n, *end = o->json + o->json_len;
        const char *q = memchr(p, '"', (size_t)(end - p));
        if (q && (size_t)(q - p) < cap) {
            memcpy(out, p, (size_t)(q - p));
            out[q - p] = '\0';
            return (size_t)(q - p);
        }
    }
    n = snprintf(out, cap, "%s:%" PRId64, type, o->at_s * 1000);
    return n > 0 ? (size_t)n : 0;
}

void sink_output(void *ud, const sw_output *o)
{
    static const char *const types[] = {"rollback_trigger", "status", "rollback_check",
                                        "soak_update", "soak_verdict"};
    sw_sink *s = ud;
    s->c->outputs_written++;
    if (s->out && (fwrite(o->json, 1, o->json_len, s->out) != o->json_len ||
                   fputc('\n', s->out) == EOF))
        s->write_failed = 1;
    if (s->tap)
        s->tap(s->tap_ud, o->json, o->json_len);
    if (s->prod == NULL)
        return;
    const char *type = types[o->type];
    /* CloudEvents binary content mode (Kafka protocol binding): routable
     * by any CloudEvents consumer without parsing the value. */
    char id[SW_STR_MAX + 64], ce_type[64], at[40];
    size_t id_len = event_id(o, type, id, sizeof(id));
    int tl = snprintf(ce_type, sizeof(ce_type), "com.soakwatch.%s", type);
    size_t at_len = dec_rfc3339_format(o->at_s * 1000, at, sizeof(at));
    kafka_header h[SINK_HEADERS] = {
        {"type", type, strlen(type)},
        {"schema_version", "1", 1},
        {"ce_specversion", "1.0", 3},
        {"ce_id", id, id_len},
        {"ce_source", s->ce_source, strlen(s->ce_source)},
        {"ce_type", ce_type, (size_t)tl},
        {"ce_time", at, at_len},
        {"content-type", "application/json", 16},
    };
    produce(s, KIND_OUTPUT, o->key, strlen(o->key), o->json, o->json_len, h, SINK_HEADERS);
}

void sink_dead_letter(sw_sink *s, const sw_reject *r)
{
    if (s->dl_topic == NULL)
        return;
    char src[SW_STR_MAX + 48];
    int n = snprintf(src, sizeof(src), "%s/%d/%" PRId64, r->topic, r->partition, r->offset);
    kafka_header h[2] = {
        {"soakwatch.reason", r->reason, strlen(r->reason)},
        {"soakwatch.source", src, (size_t)n},
    };
    produce(s, KIND_DEAD_LETTER, r->key, r->key_len, r->value, r->len, h, 2);
    s->c->dead_lettered++;
}

void sink_serve(sw_sink *s)
{
    if (s->prod)
        kafka_serve(s->prod);
}

void sink_retry(sw_sink *s)
{
    if (s->prod == NULL)
        return;
    int n = outbox_take(s->outbox, s->retry);
    for (int i = 0; i < n; i++) {
        outbox_item *it = &s->retry[i];
        produce(s, it->kind, it->key, it->key_len, it->value, it->len, it->h, it->nh);
        outbox_item_free(it);
    }
}

int sink_busy(const sw_sink *s)
{
    return s->prod && (kafka_outq_len(s->prod) >= SINK_BUSY_HIGH || outbox_len(s->outbox) > 0);
}

int sink_drained(const sw_sink *s)
{
    return s->prod == NULL ||
           (kafka_outq_len(s->prod) < SINK_BUSY_LOW && outbox_len(s->outbox) == 0);
}

int sink_settled(const sw_sink *s)
{
    return s->answered == s->produced && outbox_len(s->outbox) == 0;
}

int sink_flush(sw_sink *s, int timeout_ms)
{
    if (s->prod == NULL)
        return 0;
    kafka_flush(s->prod, timeout_ms);
    kafka_serve(s->prod);
    return kafka_outq_len(s->prod) + outbox_len(s->outbox);
}

int sink_file_flush(sw_sink *s)
{
    if (s->out && fflush(s->out) != 0)
        s->write_failed = 1;
    return s->write_failed ? -1 : 0;
}

int sink_fd(const sw_sink *s)
{
    return s->prod ? kafka_wakeup_fd(s->prod) : -1;
}

int sink_fatal(sw_sink *s, char *errstr, size_t errlen)
{
    return s->prod && kafka_fatal(s->prod, errstr, errlen);
}

int sink_brokers_down(const sw_sink *s)
{
    return s->prod && kafka_all_brokers_down(s->prod);
}

uint64_t sink_lost(const sw_sink *s)
{
    return outbox_lost(s->outbox);
}

void sink_attempts(const sw_sink *s, uint64_t *produced, uint64_t *answered)
{
    *produced = s->produced;
    *answered = s->answered;
}
