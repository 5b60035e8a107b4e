/* kafka.c: the librdkafka adapter (kafka.h). Every librdkafka call of the
 * program goes through here; errors are converted to negative errno
 * values with librdkafka's text kept in errstr. Queues are wired to the
 * event loop with rd_kafka_queue_io_event_enable on a non-blocking pipe. */
#include "kafka.h"

#include <errno.h>
#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

struct kafka_client {
    rd_kafka_t *rk;
    char brokers[SW_STR_MAX + 1]; /* bootstrap list, for diagnosing a failure */
    int plaintext;                /* no TLS or SASL: the broker probe speaks its protocol */
    atomic_int gone;              /* a topic or partition was reported not to exist */
    /* librdkafka's last error or failure log line (its threads write it,
     * start-up errors read it): a lock, on this error path only. */
    pthread_mutex_t last_lock;
    char last_error[320];
    rd_kafka_queue_t *queue; /* consumer queue, or the producer's main queue */
    int consumer;
    atomic_int closing;  /* being destroyed: its connections' last words are not news */
    int pipe_r, pipe_w;
    kafka_dr_fn dr;
    void *dr_ud;
    int all_down;
    uint64_t interruptions; /* consumer: connections to a broker lost */
    rd_kafka_queue_t **parts; /* per-partition queues after kafka_split */
    /* Taken from the consumer queue in one go (one lock, not one per
     * message) and handed out one by one by kafka_consume. */
    rd_kafka_message_t *batch[KAFKA_BATCH];
    int batch_n, batch_i;
    int n_parts;
    uint64_t commits_asked, commits_answered, commits_failed;
};

/* Default properties, before the user's: small queues, no statistics. */
static const char *const consumer_defaults[][2] = {
    {"enable.auto.commit", "false"},
    {"enable.auto.offset.store", "false"},
    {"enable.partition.eof", "true"},
    {"queued.max.messages.kbytes", "4096"},
    {"queued.min.messages", "100000"},
    {"fetch.max.bytes", "2097152"},
    {"max.partition.fetch.bytes", "524288"},
    /* At low rates the broker answers a fetch as soon as anything arrives:
     * hundreds of round trips a second for a few messages each. Waiting up
     * to 10 ms for 16 KiB cuts the consumer's CPU at 1,000 events/s from
     * 6% to under 2% of a core, for at most 10 ms more latency. */
    {"fetch.min.bytes", "16384"},
    {"fetch.wait.max.ms", "10"},
    {"statistics.interval.ms", "0"},
    {"auto.offset.reset", "earliest"},
    {"client.id", "soakwatch"},
};

static const char *const producer_defaults[][2] = {
    /* A topic that vanished is waited for, not recreated empty under the
     * consumers that read it (kafka.properties may say otherwise). */
    {"allow.auto.create.topics", "false"},
    {"queue.buffering.max.messages", "100000"},
    {"queue.buffering.max.kbytes", "65536"},
    {"linger.ms", "1"}, /* outputs are few and a trigger should not wait */
    {"statistics.interval.ms", "0"},
    {"client.id", "soakwatch"},
};

/* Properties the delivery guarantees rest on: set after the user's, so that
 * kafka.properties cannot weaken them. */
static const char *const producer_forced[][2] = {
    {"enable.idempotence", "true"},
    {"acks", "all"},
};

static int conf_set(rd_kafka_conf_t *conf, const char *key, const char *val, char *errstr,
                    size_t errlen)
{
    char why[256];
    if (rd_kafka_conf_set(conf, key, val, why, sizeof(why)) != RD_KAFKA_CONF_OK) {
        snprintf(errstr, errlen, "kafka property %s: %s", key, why);
        return -EINVAL;
    }
    return 0;
}

static void note_last(kafka_client *k, const char *text)
{
    pthread_mutex_lock(&k->last_lock);
    snprintf(k->last_error, sizeof(k->last_error), "%s", text);
    pthread_mutex_unlock(&k->last_lock);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    kafka_client *k = opaque;
    (void)rk;
    if (err != RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
        note_last(k, reason);
    if (err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION || err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
        err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
        atomic_store(&k->gone, 1);
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
        k->all_down = 1;
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || err == RD_KAFKA_RESP_ERR__TRANSPORT)
        k->interruptions++;
    fprintf(stderr, "soakwatch: kafka %s: %s\n", k->consumer ? "consumer" : "producer", reason);
}

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    kafka_client *k = rd_kafka_opaque(rk);
    if (level <= 3 && k != NULL)
        note_last(k, buf);
    /* Warnings and worse (errors come through on_error too); while the
     * client closes, a connection torn down or refused halfway (a group
     * coordinator's handshake, say) is the closing itself: only critical
     * logs are said then. */
    int closing = k != NULL && atomic_load_explicit(&k->closing, memory_order_relaxed);
    if (level <= (closing ? 2 : 4))
        fprintf(stderr, "soakwatch: kafka %s: %s\n", fac, buf);
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    kafka_client *k = opaque;
    (void)rk;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR)
        k->all_down = 0;
    if (k->dr == NULL)
        return;
    kafka_header h[KAFKA_DR_HEADERS];
    int nh = 0;
    rd_kafka_headers_t *hdrs = NULL;
    if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char *name;
        const void *val;
        size_t size;
        while (nh < KAFKA_DR_HEADERS &&
               rd_kafka_header_get_all(hdrs, (size_t)nh, &name, &val, &size) ==
                   RD_KAFKA_RESP_ERR_NO_ERROR) {
            h[nh] = (kafka_header){name, val ? (const char *)val : "", val ? size : 0};
            nh++;
        }
    }
    k->dr(k->dr_ud, m->err == RD_KAFKA_RESP_ERR_NO_ERROR, rd_kafka_err2str(m->err),
          m->_private, m->payload, m->len, m->key, m->key_len, h, nh);
}

static void on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
    kafka_client *k = opaque;
    (void)rk;
    (void)offsets;
    if (err == RD_KAFKA_RESP_ERR__NO_OFFSET)
        return; /* nothing to commit: not one of ours */
    k->commits_answered++;
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        k->commits_failed++;
        fprintf(stderr, "soakwatch: kafka: committing offsets failed: %s\n",
                rd_kafka_err2str(err));
    }
}

void kafka_fd_drain(int fd)
{
    char buf[256];
    while (read(fd, buf, sizeof(buf)) > 0)
        ;
}

int kafka_wakeup_fd(const kafka_client *k)
{
    return k->pipe_r;
}

void kafka_destroy(kafka_client *k)
{
    if (k == NULL)
        return;
    while (k->batch_i < k->batch_n)
        rd_kafka_message_destroy(k->batch[k->batch_i++]);
    for (int p = 0; p < k->n_parts; p++)
        if (k->parts[p])
            rd_kafka_queue_destroy(k->parts[p]);
    free(k->parts);
    if (k->queue)
        rd_kafka_queue_destroy(k->queue);
    if (k->rk) {
        atomic_store_explicit(&k->closing, 1, memory_order_relaxed);
        if (!k->consumer)
            rd_kafka_purge(k->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_destroy_flags(k->rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    }
    if (k->pipe_r >= 0)
        close(k->pipe_r);
    if (k->pipe_w >= 0)
        close(k->pipe_w);
    pthread_mutex_destroy(&k->last_lock);
    free(k);
}

/* Common part of both constructors. defaults/forced: NULL-free arrays of
 * n pairs. Takes nothing on failure. */
static kafka_client *client_create(const sw_config *cfg, int consumer, const char *group,
                                   const char *const (*defaults)[2], size_t n_defaults,
                                   const char *const (*forced)[2], size_t n_forced,
                                   char *errstr, size_t errlen)
{
    char why[512];
    kafka_client *k = calloc(1, sizeof(*k));
    if (k != NULL) {
        pthread_mutex_init(&k->last_lock, NULL); /* before anything can fail */
        atomic_init(&k->closing, 0);
    }
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (k == NULL || conf == NULL) {
        snprintf(errstr, errlen, "kafka: out of memory");
        goto err;
    }
    k->consumer = consumer;
    k->pipe_r = k->pipe_w = -1;
    snprintf(k->brokers, sizeof(k->brokers), "%s", cfg->brokers);
    k->plaintext = 1;
    for (int i = 0; i < cfg->n_kafka_props; i++)
        if (strcmp(cfg->kafka_props[i].key, "security.protocol") == 0 &&
            strcasecmp(cfg->kafka_props[i].value, "plaintext") != 0)
            k->plaintext = 0;
    if (conf_set(conf, "bootstrap.servers", cfg->brokers, errstr, errlen) != 0)
        goto err;
    for (size_t i = 0; i < n_defaults; i++)
        if (conf_set(conf, defaults[i][0], defaults[i][1], errstr, errlen) != 0)
            goto err;
    if (consumer && group && *group &&
        conf_set(conf, "group.id", group, errstr, errlen) != 0)
        goto err;
    for (int i = 0; i < cfg->n_kafka_props; i++)
        if (conf_set(conf, cfg->kafka_props[i].key, cfg->kafka_props[i].value, errstr,
                     errlen) != 0)
            goto err;
    for (size_t i = 0; i < n_forced; i++)
        if (conf_set(conf, forced[i][0], forced[i][1], errstr, errlen) != 0)
            goto err;
    rd_kafka_conf_set_opaque(conf, k);
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_log_cb(conf, on_log);
    if (consumer)
        rd_kafka_conf_set_offset_commit_cb(conf, on_commit);
    else
        rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    k->rk = rd_kafka_new(consumer ? RD_KAFKA_CONSUMER : RD_KAFKA_PRODUCER, conf, why,
                         sizeof(why));
    if (k->rk == NULL) {
        snprintf(errstr, errlen, "kafka: cannot create the %s: %s",
                 consumer ? "consumer" : "producer", why);
        goto err;
    }
    conf = NULL; /* owned by rk now */
    if (consumer) {
        rd_kafka_poll_set_consumer(k->rk);
        k->queue = rd_kafka_queue_get_consumer(k->rk);
    } else {
        k->queue = rd_kafka_queue_get_main(k->rk);
    }
    int fds[2];
    if (k->queue == NULL || pipe(fds) != 0) {
        snprintf(errstr, errlen, "kafka: cannot set up the %s's queue",
                 consumer ? "consumer" : "producer");
        goto err;
    }
    k->pipe_r = fds[0];
    k->pipe_w = fds[1];
    for (int i = 0; i < 2; i++) {
        fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
        fcntl(fds[i], F_SETFD, FD_CLOEXEC);
    }
    rd_kafka_queue_io_event_enable(k->queue, k->pipe_w, "1", 1);
    return k;
err:
    if (conf)
        rd_kafka_conf_destroy(conf);
    kafka_destroy(k);
    return NULL;
}

kafka_client *kafka_consumer_create(const sw_config *cfg, const char *group, char *errstr,
                                    size_t errlen)
{
    return client_create(cfg, 1, group, consumer_defaults,
                         sizeof(consumer_defaults) / sizeof(consumer_defaults[0]), NULL, 0,
                         errstr, errlen);
}

kafka_client *kafka_producer_create(const sw_config *cfg, kafka_dr_fn dr, void *ud,
                                    char *errstr, size_t errlen)
{
    kafka_client *k = client_create(cfg, 0, NULL, producer_defaults,
                                    sizeof(producer_defaults) / sizeof(producer_defaults[0]),
                                    producer_forced,
                                    sizeof(producer_forced) / sizeof(producer_forced[0]),
                                    errstr, errlen);
    if (k) {
        k->dr = dr;
        k->dr_ud = ud;
    }
    return k;
}

int kafka_take_gone(kafka_client *k)
{
    return atomic_exchange(&k->gone, 0);
}

/* Connect to host:port within timeout_ms. Returns the socket, or -1 with
 * the reason in why. */
static int probe_connect(const char *host, const char *port, int timeout_ms, char *why,
                         size_t cap)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        snprintf(why, cap, "cannot resolve it (%s)", gai_strerror(rc));
        return -1;
    }
    int fd = socket(res->ai_family, SOCK_STREAM, 0);
    if (fd >= 0)
        fcntl(fd, F_SETFL, O_NONBLOCK);
    if (fd < 0 || (connect(fd, res->ai_addr, res->ai_addrlen) != 0 && errno != EINPROGRESS)) {
        snprintf(why, cap, "cannot connect (%s)", strerror(errno));
        freeaddrinfo(res);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    freeaddrinfo(res);
    struct pollfd pfd = {fd, POLLOUT, 0};
    int soerr = 0;
    socklen_t sl = sizeof(soerr);
    if (poll(&pfd, 1, timeout_ms) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 ||
        soerr != 0) {
        snprintf(why, cap, "cannot connect (%s)",
                 soerr ? strerror(soerr) : "no answer within the timeout");
        close(fd);
        return -1;
    }
    return fd;
}

/* Ask one address for its API versions (a Kafka ApiVersions request, v0)
 * and say what answered: nothing, something else, or a Kafka broker. */
static void probe_one(const char *host, const char *port, int timeout_ms, char *why, size_t cap)
{
    int fd = probe_connect(host, port, timeout_ms, why, cap);
    if (fd < 0)
        return;
    /* size, api_key 18, api_version 0, correlation_id, client_id "soakwatch" */
    static const unsigned char req[] = {0, 0, 0, 19, 0, 18, 0, 0, 0, 0, 0x5a, 0x11, 0, 9,
                                        's', 'o', 'a', 'k', 'w', 'a', 't', 'c', 'h'};
    unsigned char resp[8];
    size_t got = 0;
    struct pollfd pfd = {fd, POLLIN, 0};
    if (write(fd, req, sizeof(req)) == (ssize_t)sizeof(req)) {
        while (got < sizeof(resp) && poll(&pfd, 1, timeout_ms) == 1) {
            ssize_t n = read(fd, resp + got, sizeof(resp) - got);
            if (n <= 0)
                break;
            got += (size_t)n;
        }
    }
    /* Silence: an HTTP server waits for the end of a request line. Ask it
     * to finish (a Kafka broker never gets here: it has answered). */
    if (got == 0 && write(fd, "\r\n\r\n", 4) == 4) {
        while (got < sizeof(resp) && poll(&pfd, 1, 1000) == 1) {
            ssize_t n = read(fd, resp + got, sizeof(resp) - got);
            if (n <= 0)
                break;
            got += (size_t)n;
        }
    }
    close(fd);
    if ((got >= 4 && memcmp(resp, "HTTP", 4) == 0) || (got >= 1 && resp[0] == '<'))
        snprintf(why, cap, "it answers like an HTTP server, not a Kafka broker");
    else if (got == sizeof(resp) && resp[4] == 0 && resp[5] == 0 && resp[6] == 0x5a &&
             resp[7] == 0x11)
        snprintf(why, cap, "it answers as a Kafka broker (check the topic, the listener it "
                 "advertises, and kafka.properties)");
    else if (got == 0)
        snprintf(why, cap, "it accepts connections but answers no Kafka request within %d ms "
                 "(not a Kafka broker, or one that expects TLS: security.protocol)", timeout_ms);
    else
        snprintf(why, cap, "it answers, but not as a Kafka broker (or it expects TLS: "
                 "security.protocol)");
}

void kafka_probe_brokers(const char *brokers, int timeout_ms, char *out, size_t cap)
{
    char list[SW_STR_MAX + 1];
    snprintf(list, sizeof(list), "%s", brokers);
    size_t n = 0;
    out[0] = '\0';
    /* A stop is asked for (SIGTERM held during start-up): no time for it. */
    sigset_t pending;
    if (sigpending(&pending) == 0 &&
        (sigismember(&pending, SIGTERM) == 1 || sigismember(&pending, SIGINT) == 1))
        return;
    char *save = NULL;
    for (char *b = strtok_r(list, ", ", &save); b && n < cap; b = strtok_r(NULL, ", ", &save)) {
        char *host = strstr(b, "://") ? strstr(b, "://") + 3 : b;
        char *colon = strrchr(host, ':');
        char why[200];
        if (colon == NULL) {
            snprintf(why, sizeof(why), "no port");
        } else {
            *colon = '\0';
            if (host[0] == '[' && colon[-1] == ']') { /* [v6]:port */
                host++;
                colon[-1] = '\0';
            }
            probe_one(host, colon + 1, timeout_ms, why, sizeof(why));
            *colon = ':';
        }
        n += (size_t)snprintf(out + n, cap - n, "%sbroker %s: %s", n ? "; " : "", b, why);
    }
}

int kafka_partition_count(kafka_client *k, const char *topic, int timeout_ms, int diagnose,
                          char *errstr, size_t errlen)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(k->rk, topic, NULL);
    if (rkt == NULL) {
        snprintf(errstr, errlen, "kafka: topic %s: %s", topic,
                 rd_kafka_err2str(rd_kafka_last_error()));
        return -EIO;
    }
    rd_kafka_resp_err_t err = rd_kafka_metadata(k->rk, 0, rkt, &md, timeout_ms);
    rd_kafka_topic_destroy(rkt);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        char why[400] = "";
        if (diagnose && k->plaintext) {
            kafka_probe_brokers(k->brokers, 2000, why, sizeof(why));
        } else if (diagnose) {
            /* TLS or SASL: a plain probe would say nothing true; what
             * librdkafka last reported names the broker and the cause
             * (authentication failed, certificate not verified). */
            pthread_mutex_lock(&k->last_lock);
            snprintf(why, sizeof(why), "last error: %s",
                     k->last_error[0] ? k->last_error : "none reported");
            pthread_mutex_unlock(&k->last_lock);
        }
        snprintf(errstr, errlen, "kafka: metadata of topic %s: %s after %d ms%s%s", topic,
                 rd_kafka_err2str(err), timeout_ms, why[0] ? "; " : "", why);
        return -EIO;
    }
    int n = -ENOENT;
    if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
        md->topics[0].partition_cnt > 0)
        n = md->topics[0].partition_cnt;
    else
        snprintf(errstr, errlen, "kafka: topic %s: %s", topic,
                 md->topic_cnt == 1 ? rd_kafka_err2str(md->topics[0].err) : "not found");
    rd_kafka_metadata_destroy(md);
    return n;
}

int kafka_high_watermarks(kafka_client *k, const char *topic, int n, int64_t *hi, int timeout_ms,
                          char *errstr, size_t errlen)
{
    for (int p = 0; p < n; p++) {
        int64_t lo;
        rd_kafka_resp_err_t err =
            rd_kafka_query_watermark_offsets(k->rk, topic, p, &lo, &hi[p], timeout_ms);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            snprintf(errstr, errlen, "kafka: watermarks of %s/%d: %s", topic, p,
                     rd_kafka_err2str(err));
            return -EIO;
        }
    }
    k->all_down = 0;
    return 0;
}

void kafka_cached_high_watermarks(kafka_client *k, const char *topic, int n, int64_t *hi)
{
    for (int p = 0; p < n; p++) {
        int64_t lo;
        if (rd_kafka_get_watermark_offsets(k->rk, topic, p, &lo, &hi[p]) !=
                RD_KAFKA_RESP_ERR_NO_ERROR ||
            hi[p] < 0)
            hi[p] = -1;
    }
}

static rd_kafka_topic_partition_list_t *parts_list(const char *topic, int n, const int64_t *off)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(n > 0 ? n : 1);
    for (int p = 0; p < n; p++) {
        if (off && off[p] < 0)
            continue;
        rd_kafka_topic_partition_list_add(l, topic, p)->offset = off ? off[p] : 0;
    }
    return l;
}

int kafka_offsets_for_time(kafka_client *k, const char *topic, int n, int64_t ts_ms,
                           const int64_t *hi, int64_t *out, int timeout_ms, char *errstr,
                           size_t errlen)
{
    rd_kafka_topic_partition_list_t *l = parts_list(topic, n, NULL);
    for (int i = 0; i < l->cnt; i++)
        l->elems[i].offset = ts_ms;
    rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(k->rk, l, timeout_ms);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(errstr, errlen, "kafka: offsets of %s by time: %s", topic,
                 rd_kafka_err2str(err));
        rd_kafka_topic_partition_list_destroy(l);
        return -EIO;
    }
    int rc = 0;
    for (int i = 0; i < l->cnt; i++) {
        int p = l->elems[i].partition;
        if (l->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            snprintf(errstr, errlen, "kafka: offset of %s/%d by time: %s", topic, p,
                     rd_kafka_err2str(l->elems[i].err));
            rc = -EIO;
            break;
        }
        /* -1 (end): no record at or after the time. */
        out[p] = l->elems[i].offset >= 0 ? l->elems[i].offset : hi[p];
    }
    rd_kafka_topic_partition_list_destroy(l);
    return rc;
}

int kafka_assign(kafka_client *k, const char *topic, int n, const int64_t *offsets,
                 char *errstr, size_t errlen)
{
    rd_kafka_resp_err_t err;
    if (n == 0) {
        err = rd_kafka_assign(k->rk, NULL);
    } else {
        rd_kafka_topic_partition_list_t *l = parts_list(topic, n, NULL);
        for (int i = 0; i < l->cnt; i++)
            l->elems[i].offset = offsets[l->elems[i].partition];
        err = rd_kafka_assign(k->rk, l);
        rd_kafka_topic_partition_list_destroy(l);
    }
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(errstr, errlen, "kafka: assigning %s: %s", topic, rd_kafka_err2str(err));
        return -EIO;
    }
    return 0;
}

int kafka_split(kafka_client *k, const char *topic, int n, char *errstr, size_t errlen)
{
    if (k->parts)
        return -EINVAL;
    k->parts = calloc((size_t)n, sizeof(*k->parts));
    if (k->parts == NULL) {
        snprintf(errstr, errlen, "kafka: out of memory");
        return -EIO;
    }
    k->n_parts = n;
    for (int p = 0; p < n; p++) {
        k->parts[p] = rd_kafka_queue_get_partition(k->rk, topic, p);
        if (k->parts[p] == NULL) {
            snprintf(errstr, errlen, "kafka: no queue for %s/%d", topic, p);
            return -EIO;
        }
        /* Forwarding set by the application survives the fetch start
         * (librdkafka marks it), so the partition's messages stay here. */
        rd_kafka_queue_forward(k->parts[p], NULL);
        rd_kafka_queue_io_event_enable(k->parts[p], k->pipe_w, "1", 1);
    }
    return 0;
}

int kafka_pause(kafka_client *k, const char *topic, int p, int pause, char *errstr,
                size_t errlen)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, p);
    rd_kafka_resp_err_t err =
        pause ? rd_kafka_pause_partitions(k->rk, l) : rd_kafka_resume_partitions(k->rk, l);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR && l->elems[0].err != RD_KAFKA_RESP_ERR_NO_ERROR)
        err = l->elems[0].err;
    rd_kafka_topic_partition_list_destroy(l);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(errstr, errlen, "kafka: %s %s/%d: %s", pause ? "pausing" : "resuming", topic,
                 p, rd_kafka_err2str(err));
        return -EIO;
    }
    return 0;
}

int kafka_kick(kafka_client *k, const char *topic, int p, int64_t offset, char *errstr,
               size_t errlen)
{
    /* A seek to an absolute offset is the one request whose handling wakes
     * the partition's broker thread (librdkafka 2.0: "seek done"); it then
     * decides afresh, for every partition it leads, whether to fetch. */
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, p)->offset = offset;
    rd_kafka_error_t *e = rd_kafka_seek_partitions(k->rk, l, 0);
    rd_kafka_topic_partition_list_destroy(l);
    if (e != NULL) {
        snprintf(errstr, errlen, "kafka: seeking %s/%d to %lld: %s", topic, p,
                 (long long)offset, rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        return -EIO;
    }
    return 0;
}

size_t kafka_queue_len(kafka_client *k)
{
    return rd_kafka_queue_length(k->queue);
}

void kafka_queue_limits(kafka_client *k, int64_t *max_msgs, int64_t *max_bytes)
{
    char buf[64];
    size_t sz = sizeof(buf);
    const rd_kafka_conf_t *conf = rd_kafka_conf(k->rk);
    *max_msgs = 100000;
    *max_bytes = INT64_C(65536) * 1024;
    if (rd_kafka_conf_get(conf, "queued.min.messages", buf, &sz) == RD_KAFKA_CONF_OK)
        *max_msgs = strtoll(buf, NULL, 10);
    sz = sizeof(buf);
    if (rd_kafka_conf_get(conf, "queued.max.messages.kbytes", buf, &sz) == RD_KAFKA_CONF_OK)
        *max_bytes = strtoll(buf, NULL, 10) * 1024;
}

static int msg_fill(kafka_client *k, rd_kafka_message_t *rm, kafka_msg *m);

int kafka_consume(kafka_client *k, kafka_msg *m)
{
    if (k->batch_i == k->batch_n) {
        ssize_t got = rd_kafka_consume_batch_queue(k->queue, 0, k->batch, KAFKA_BATCH);
        k->batch_i = k->batch_n = 0;
        if (got <= 0)
            return 0;
        k->batch_n = (int)got;
    }
    return msg_fill(k, k->batch[k->batch_i++], m);
}

int kafka_consume_part(kafka_client *k, int p, kafka_msg *m)
{
    if (p < 0 || p >= k->n_parts)
        return 0;
    rd_kafka_message_t *rm = rd_kafka_consume_queue(k->parts[p], 0);
    if (rm == NULL)
        return 0;
    return msg_fill(k, rm, m);
}

static int msg_fill(kafka_client *k, rd_kafka_message_t *rm, kafka_msg *m)
{
    memset(m, 0, sizeof(*m));
    m->handle = rm;
    m->partition = rm->partition;
    m->offset = rm->offset;
    if (rm->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        m->kind = KAFKA_EOF;
        k->all_down = 0;
    } else if (rm->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        m->kind = KAFKA_ERROR;
        m->errstr = rd_kafka_message_errstr(rm);
        m->fatal = rm->err == RD_KAFKA_RESP_ERR__FATAL;
        if (rm->err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION ||
            rm->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
            rm->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
            atomic_store(&k->gone, 1); /* kafka_take_gone */
    } else {
        m->kind = KAFKA_MSG;
        m->value = rm->payload ? rm->payload : "";
        m->len = rm->len;
        m->key = rm->key;
        m->key_len = rm->key_len;
        k->all_down = 0;
    }
    return 1;
}

void kafka_msg_release(kafka_msg *m)
{
    if (m->handle)
        rd_kafka_message_destroy(m->handle);
    m->handle = NULL;
}

int kafka_commit(kafka_client *k, const char *topic, int n, const int64_t *next_offsets,
                 char *errstr, size_t errlen)
{
    rd_kafka_topic_partition_list_t *l = parts_list(topic, n, next_offsets);
    if (l->cnt == 0) {
        rd_kafka_topic_partition_list_destroy(l);
        return 0;
    }
    rd_kafka_resp_err_t err = rd_kafka_commit(k->rk, l, 1);
    rd_kafka_topic_partition_list_destroy(l);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(errstr, errlen, "kafka: committing offsets of %s: %s", topic,
                 rd_kafka_err2str(err));
        return -EIO;
    }
    k->commits_asked++;
    return 0;
}

void kafka_commit_state(const kafka_client *k, uint64_t *asked, uint64_t *answered,
                        uint64_t *failed)
{
    *asked = k->commits_asked;
    *answered = k->commits_answered;
    *failed = k->commits_failed;
}

int kafka_produce(kafka_client *k, const char *topic, const char *key, size_t key_len,
                  const char *value, size_t len, const kafka_header *headers, int n_headers,
                  void *opaque, char *errstr, size_t errlen)
{
    rd_kafka_headers_t *hdrs = NULL;
    if (n_headers > 0) {
        hdrs = rd_kafka_headers_new((size_t)n_headers);
        for (int i = 0; i < n_headers; i++)
            rd_kafka_header_add(hdrs, headers[i].name, -1, headers[i].value,
                                (ssize_t)headers[i].len);
    }
    /* rd_kafka_produceva rather than producev: the RD_KAFKA_V_ macros are
     * GNU statement expressions, which -Wpedantic refuses under clang. */
    rd_kafka_vu_t vus[6];
    memset(vus, 0, sizeof(vus));
    vus[0].vtype = RD_KAFKA_VTYPE_TOPIC;
    vus[0].u.cstr = topic;
    vus[1].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
    vus[1].u.i = RD_KAFKA_MSG_F_COPY;
    vus[2].vtype = RD_KAFKA_VTYPE_KEY;
    vus[2].u.mem.ptr = (void *)key;
    vus[2].u.mem.size = key ? key_len : 0;
    vus[3].vtype = RD_KAFKA_VTYPE_VALUE;
    vus[3].u.mem.ptr = (void *)value;
    vus[3].u.mem.size = len;
    vus[4].vtype = RD_KAFKA_VTYPE_OPAQUE;
    vus[4].u.ptr = opaque;
    size_t n_vus = 5;
    if (hdrs) {
        vus[5].vtype = RD_KAFKA_VTYPE_HEADERS;
        vus[5].u.headers = hdrs;
        n_vus = 6;
    }
    rd_kafka_error_t *error = rd_kafka_produceva(k->rk, vus, n_vus);
    rd_kafka_resp_err_t err = error ? rd_kafka_error_code(error) : RD_KAFKA_RESP_ERR_NO_ERROR;
    if (error)
        rd_kafka_error_destroy(error);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
        return 0; /* headers owned by the message now */
    if (hdrs)
        rd_kafka_headers_destroy(hdrs);
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
        return -ENOBUFS;
    snprintf(errstr, errlen, "kafka: producing to %s: %s", topic, rd_kafka_err2str(err));
    return -EIO;
}

int kafka_serve(kafka_client *k)
{
    return rd_kafka_poll(k->rk, 0);
}

int kafka_flush(kafka_client *k, int timeout_ms)
{
    return rd_kafka_flush(k->rk, timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR ? 0 : -ETIMEDOUT;
}

int kafka_outq_len(kafka_client *k)
{
    return rd_kafka_outq_len(k->rk);
}

uint64_t kafka_interruptions(const kafka_client *k)
{
    return k->interruptions;
}

int kafka_all_brokers_down(const kafka_client *k)
{
    return k->all_down;
}

int kafka_fatal(kafka_client *k, char *errstr, size_t errlen)
{
    return rd_kafka_fatal_error(k->rk, errstr, errlen) != RD_KAFKA_RESP_ERR_NO_ERROR;
}
