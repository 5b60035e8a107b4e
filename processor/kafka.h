/* kafka.h: the one adapter over librdkafka (the only file to include
 * rdkafka.h). Consumers assign partitions explicitly (never subscribe) and
 * commit only when told; producers are idempotent with acks=all. Each
 * client exposes a pipe that librdkafka writes to when its queue turns
 * non-empty, for the program's event loop. librdkafka's error texts are
 * kept in the messages this adapter writes to errstr and to stderr.
 */
#ifndef SOAKWATCH_KAFKA_H
#define SOAKWATCH_KAFKA_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

typedef struct kafka_client kafka_client;

struct kafka_header;

/* Delivery report, called from kafka_serve for each message produced: ok 1
 * when the broker acknowledged it, else 0 with librdkafka's error text; the
 * opaque given to kafka_produce; the message's value, key and first
 * headers (at most KAFKA_DR_HEADERS), so that a failed one can be produced
 * again as it was. All borrowed: valid during the call only. */
#define KAFKA_DR_HEADERS 8
typedef void (*kafka_dr_fn)(void *ud, int ok, const char *errstr, void *opaque,
                            const char *value, size_t len, const char *key, size_t key_len,
                            const struct kafka_header *headers, int n_headers);

/* A consumer of cfg->brokers with cfg->kafka_props over small-footprint
 * defaults; group is used only to commit offsets (may be NULL: no
 * commits). Partition ends are reported. Returns NULL with one line in
 * errstr naming the property at fault or librdkafka's reason. */
kafka_client *kafka_consumer_create(const sw_config *cfg, const char *group, char *errstr,
                                    size_t errlen);

/* An idempotent producer (acks=all). dr and ud are borrowed. */
kafka_client *kafka_producer_create(const sw_config *cfg, kafka_dr_fn dr, void *ud,
                                    char *errstr, size_t errlen);

/* Purges what a producer still holds and frees everything; a consumer is
 * closed without waiting for the group. Accepts NULL. */
void kafka_destroy(kafka_client *k);

/* Number of partitions of topic (blocking, up to timeout_ms). Returns the
 * count (>= 1), -ENOENT when the topic does not exist, or -EIO when the
 * brokers did not answer, with errstr naming the topic (and, with
 * diagnose, what answers at each bootstrap address: kafka_probe_brokers). */
int kafka_partition_count(kafka_client *k, const char *topic, int timeout_ms, int diagnose,
                          char *errstr, size_t errlen);

/* High watermarks of partitions 0..n-1, asked of the broker (blocking).
 * Returns 0 or -EIO with errstr. */
int kafka_high_watermarks(kafka_client *k, const char *topic, int n, int64_t *hi, int timeout_ms,
                          char *errstr, size_t errlen);

/* The high watermarks last seen by the fetcher (non-blocking); -1 where
 * unknown. */
void kafka_cached_high_watermarks(kafka_client *k, const char *topic, int n, int64_t *hi);

/* For each partition 0..n-1, the first offset whose record timestamp is at
 * or after ts_ms, or the partition's high watermark hi[p] when there is
 * none (blocking). Returns 0 or -EIO with errstr. */
int kafka_offsets_for_time(kafka_client *k, const char *topic, int n, int64_t ts_ms,
                           const int64_t *hi, int64_t *out, int timeout_ms, char *errstr,
                           size_t errlen);

/* Assign partitions 0..n-1 of topic, each from offsets[p]; replaces any
 * earlier assignment. n = 0 unassigns. Returns 0 or -EIO with errstr. */
int kafka_assign(kafka_client *k, const char *topic, int n, const int64_t *offsets,
                 char *errstr, size_t errlen);

/* The read end of a non-blocking pipe written (one byte) when the client's
 * queue (consumer: its messages; producer: its delivery reports) turns
 * non-empty. Drain it with kafka_fd_drain, then drain the queue fully. */
int kafka_wakeup_fd(const kafka_client *k);
void kafka_fd_drain(int fd);

/* One item from a consumer's queue. */
typedef struct kafka_msg {
    int kind;            /* KAFKA_MSG, KAFKA_EOF, KAFKA_ERROR */
    int partition;
    int64_t offset;
    const char *value;   /* borrowed until kafka_msg_release */
    size_t len;
    const char *key;
    size_t key_len;
    const char *errstr;  /* KAFKA_ERROR: librdkafka's text */
    int fatal;           /* KAFKA_ERROR: the client cannot go on */
    void *handle;
} kafka_msg;

enum { KAFKA_MSG = 1, KAFKA_EOF = 2, KAFKA_ERROR = 3 };

/* Give each of partitions 0..n-1 of topic its own queue, served by
 * kafka_consume_part, so that one partition can be left unread (its
 * prefetch stays bounded by queued.max.messages.kbytes) while the others
 * are read. Call before kafka_assign; the queues share the wake-up pipe.
 * Returns 0, -EINVAL when already split, or -EIO with errstr. */
int kafka_split(kafka_client *k, const char *topic, int n, char *errstr, size_t errlen);

/* Stop (pause 1) or restart (pause 0) fetching partition p of topic.
 * Messages of p fetched but not yet taken are dropped and fetched again,
 * from the offset after the last one taken, on restart. Returns 0 or -EIO
 * with errstr. */
int kafka_pause(kafka_client *k, const char *topic, int p, int pause, char *errstr,
                size_t errlen);

/* Wake the fetcher of partition p (not paused, nothing of it queued or
 * held) by seeking p to offset, the next one to read. librdkafka stops
 * fetching once its queue holds queued.min.messages or
 * queued.max.messages.kbytes, and looks again only when its broker thread
 * next wakes, which with nothing else to do is up to a second later; call
 * this when the queue has run empty after being near that limit. Returns 0
 * or -EIO with errstr. */
int kafka_kick(kafka_client *k, const char *topic, int p, int64_t offset, char *errstr,
               size_t errlen);

/* Items in the consumer queue (messages of every partition when not split). */
size_t kafka_queue_len(kafka_client *k);

/* The consumer's prefetch limits in effect: queued.min.messages and
 * queued.max.messages.kbytes (in bytes). */
void kafka_queue_limits(kafka_client *k, int64_t *max_msgs, int64_t *max_bytes);

/* Items kafka_consume takes from librdkafka at once. */
#define KAFKA_BATCH 512

/* Take the next item of the consumer queue (errors, and messages when not
 * split) without waiting; serves commit results. Returns 1 (m filled:
 * release it), or 0 when the queue is empty. Items are taken from
 * librdkafka up to KAFKA_BATCH at a time: after kafka_pause(p), up to that
 * many items of p already taken may still be returned (they are not
 * fetched again). */
int kafka_consume(kafka_client *k, kafka_msg *m);

/* The same for partition p's own queue (after kafka_split). */
int kafka_consume_part(kafka_client *k, int p, kafka_msg *m);
void kafka_msg_release(kafka_msg *m);

/* Commit next_offsets[p] for partitions 0..n-1 (those < 0 skipped),
 * asynchronously; kafka_serve/kafka_consume deliver the result, seen in
 * kafka_commit_state. Returns 0 or -EIO with errstr. */
int kafka_commit(kafka_client *k, const char *topic, int n, const int64_t *next_offsets,
                 char *errstr, size_t errlen);

/* Commits asked, commits answered, and the answers that failed. */
void kafka_commit_state(const kafka_client *k, uint64_t *asked, uint64_t *answered,
                        uint64_t *failed);

typedef struct kafka_header {
    const char *name;
    const char *value;
    size_t len;
} kafka_header;

/* Queue one message (key and value are copied). Returns 0; -ENOBUFS when
 * the producer's queue is full (serve it and retry); -EIO with errstr for
 * anything else (unknown topic, message too large, fatal state). When a
 * call fails, its delivery report never comes. */
int kafka_produce(kafka_client *k, const char *topic, const char *key, size_t key_len,
                  const char *value, size_t len, const kafka_header *headers, int n_headers,
                  void *opaque, char *errstr, size_t errlen);

/* Serve the client's main queue without waiting: delivery reports, errors,
 * commit results. Returns the number of events served. */
int kafka_serve(kafka_client *k);

/* Wait up to timeout_ms for every queued message to be acknowledged or
 * failed (reports delivered meanwhile). Returns 0 or -ETIMEDOUT. */
int kafka_flush(kafka_client *k, int timeout_ms);

/* Messages queued and in flight. */
int kafka_outq_len(kafka_client *k);

/* 0 while some broker is reachable as far as the client knows; 1 after
 * librdkafka reported every broker down and nothing has come back since. */
int kafka_all_brokers_down(const kafka_client *k);

/* Connections to a broker lost so far (librdkafka's transport and
 * all-brokers-down errors, seen while consuming): fetching stopped for a
 * while, so what was last known of the partitions' ends may be stale. */
uint64_t kafka_interruptions(const kafka_client *k);

/* 1 once (then 0 until it happens again) after librdkafka reported a topic
 * or partition of this client not to exist: deleted, perhaps to be created
 * again under the same name. */
int kafka_take_gone(kafka_client *k);

/* Say, for each address of a bootstrap list, what answers there within
 * timeout_ms each: nothing (with the reason), something that is not a
 * Kafka broker (an HTTP server, a TLS listener), or a Kafka broker. For
 * start-up errors; blocks up to twice timeout_ms per address. */
void kafka_probe_brokers(const char *brokers, int timeout_ms, char *out, size_t cap);

/* 1 after a fatal error (the client must be recreated), with its text. */
int kafka_fatal(kafka_client *k, char *errstr, size_t errlen);

#endif
