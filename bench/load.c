/* load.c: a paced producer for the benchmarks and the soak test. It
 * produces one message per line of a file (or of standard input, as lines
 * arrive), partition = line number modulo the partition count, at a fixed
 * rate or as fast as the broker takes them, and waits for every delivery.
 *
 *   load [-r RATE] [-a] [-X KEY=VALUE]... BROKERS TOPIC [FILE]
 *
 * -r RATE  messages per second, paced against the monotonic clock
 *          (0, the default: unpaced)
 * -a       print "ack SEQ WALL_MS" on stdout when message SEQ (its line
 *          number from 0) is acknowledged; WALL_MS is the real-time clock
 * Lines longer than 1 MiB are refused. A summary goes to stderr; the exit
 * status is 1 when a delivery failed. */
#include <errno.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LINE_CAP (1 << 20)
#define READ_CAP (1 << 16)

static uint64_t acked, failed;
static int print_acks;

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (failed++ == 0)
            fprintf(stderr, "load: delivery failed: %s\n", rd_kafka_err2str(m->err));
        return;
    }
    acked++;
    if (print_acks)
        printf("ack %" PRIu64 " %" PRId64 "\n", (uint64_t)(uintptr_t)m->_private, wall_ms());
}

static int set(rd_kafka_conf_t *conf, const char *key, const char *val)
{
    char why[256];
    if (rd_kafka_conf_set(conf, key, val, why, sizeof(why)) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "load: property %s: %s\n", key, why);
        return -1;
    }
    return 0;
}

static int partition_count(rd_kafka_t *rk, const char *topic)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
    rd_kafka_topic_destroy(rkt);
    int n = -1;
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR && md->topic_cnt == 1 &&
        md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR)
        n = md->topics[0].partition_cnt;
    else
        fprintf(stderr, "load: metadata of topic %s: %s\n", topic,
                rd_kafka_err2str(err ? err : md->topics[0].err));
    if (md)
        rd_kafka_metadata_destroy(md);
    return n;
}

typedef struct producer {
    rd_kafka_t *rk;
    const char *topic;
    int parts;
    uint64_t seq;
} producer;

/* Produce one line, waiting for room while the local queue is full. */
static int send_line(producer *pr, const char *s, size_t len)
{
    if (len && s[len - 1] == '\r')
        len--;
    if (len == 0)
        return 0;
    for (;;) {
        rd_kafka_resp_err_t err = rd_kafka_producev(
            pr->rk, RD_KAFKA_V_TOPIC(pr->topic),
            RD_KAFKA_V_PARTITION((int32_t)(pr->seq % (uint64_t)pr->parts)),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_VALUE((void *)s, len),
            RD_KAFKA_V_OPAQUE((void *)(uintptr_t)pr->seq), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
            break;
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            fprintf(stderr, "load: producing to %s: %s\n", pr->topic, rd_kafka_err2str(err));
            return -1;
        }
        rd_kafka_poll(pr->rk, 10);
    }
    pr->seq++;
    return 0;
}

int main(int argc, char **argv)
{
    double rate = 0;
    char why[512];
    int opt;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (set(conf, "acks", "all") || set(conf, "linger.ms", "5") ||
        set(conf, "queue.buffering.max.messages", "1000000"))
        return 2;
    while ((opt = getopt(argc, argv, "r:aX:")) != -1) {
        if (opt == 'r') {
            rate = strtod(optarg, NULL);
        } else if (opt == 'a') {
            print_acks = 1;
        } else if (opt == 'X') {
            char *eq = strchr(optarg, '=');
            if (eq == NULL) {
                fprintf(stderr, "load: -X needs KEY=VALUE, not %s\n", optarg);
                return 2;
            }
            *eq = '\0';
            if (set(conf, optarg, eq + 1))
                return 2;
        } else {
            return 2;
        }
    }
    if (argc - optind < 2 || argc - optind > 3 || rate < 0) {
        fprintf(stderr, "usage: load [-r RATE] [-a] [-X KEY=VALUE]... BROKERS TOPIC [FILE]\n");
        return 2;
    }
    const char *path = argc - optind == 3 ? argv[optind + 2] : NULL;
    FILE *in = path ? fopen(path, "r") : stdin;
    if (in == NULL) {
        fprintf(stderr, "load: cannot open %s: %s\n", path, strerror(errno));
        return 2;
    }
    if (set(conf, "bootstrap.servers", argv[optind]))
        return 2;
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    producer pr = {.topic = argv[optind + 1]};
    pr.rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof(why));
    if (pr.rk == NULL) {
        fprintf(stderr, "load: cannot create the producer: %s\n", why);
        return 1;
    }
    pr.parts = partition_count(pr.rk, pr.topic);
    if (pr.parts <= 0) {
        rd_kafka_destroy(pr.rk);
        return 1;
    }
    if (print_acks)
        setvbuf(stdout, NULL, _IOLBF, 0);

    char *line = malloc(LINE_CAP);
    char *buf = malloc(READ_CAP);
    size_t line_len = 0;
    int rc = 0, eof = 0;
    double t0 = mono_s();
    int fd = fileno(in);
    size_t have = 0, at = 0; /* unread bytes buf[at..have) */
    if (line == NULL || buf == NULL) {
        fprintf(stderr, "load: out of memory\n");
        return 1;
    }
    while (!eof || at < have) {
        /* Paced: produce only what is due; then sleep a millisecond. */
        uint64_t due = rate > 0 ? (uint64_t)((mono_s() - t0) * rate) + 1 : UINT64_MAX;
        while (pr.seq < due) {
            if (at == have) {
                if (eof)
                    break;
                if (!path) {
                    /* Standard input: serve deliveries while waiting. */
                    struct pollfd pfd = {fd, POLLIN, 0};
                    while (poll(&pfd, 1, 5) == 0)
                        rd_kafka_poll(pr.rk, 0);
                }
                ssize_t got = read(fd, buf, READ_CAP);
                if (got < 0 && errno == EINTR)
                    continue;
                if (got <= 0) {
                    if (got < 0)
                        fprintf(stderr, "load: reading input: %s\n", strerror(errno));
                    eof = 1;
                    if (line_len && send_line(&pr, line, line_len) != 0)
                        rc = 1;
                    line_len = 0;
                    break;
                }
                have = (size_t)got;
                at = 0;
            }
            char *nl = memchr(buf + at, '\n', have - at);
            size_t n = (size_t)((nl ? nl : buf + have) - (buf + at));
            if (line_len + n > LINE_CAP) {
                fprintf(stderr, "load: line %" PRIu64 " is longer than %d bytes\n", pr.seq + 1,
                        LINE_CAP);
                rc = 1;
                eof = 1;
                at = have;
                break;
            }
            memcpy(line + line_len, buf + at, n);
            line_len += n;
            at += n;
            if (nl) {
                at++;
                if (send_line(&pr, line, line_len) != 0) {
                    rc = 1;
                    eof = 1;
                    at = have;
                    break;
                }
                line_len = 0;
            }
        }
        rd_kafka_poll(pr.rk, 0);
        if (rate > 0 && !(eof && at == have)) {
            struct timespec ms = {0, 1000000};
            nanosleep(&ms, NULL);
        }
    }
    double t_sent = mono_s() - t0;
    if (rd_kafka_flush(pr.rk, 60000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "load: %d messages not acknowledged after 60 s\n",
                rd_kafka_outq_len(pr.rk));
        rc = 1;
    }
    double el = mono_s() - t0;
    fprintf(stderr,
            "load: %" PRIu64 " messages to %s (%d partitions) sent in %.2f s, acknowledged in "
            "%.2f s: %.0f messages/s; %" PRIu64 " failed\n",
            pr.seq, pr.topic, pr.parts, t_sent, el, el > 0 ? (double)pr.seq / el : 0.0, failed);
    if (failed || acked != pr.seq)
        rc = 1;
    free(line);
    free(buf);
    if (path)
        fclose(in);
    rd_kafka_destroy(pr.rk);
    return rc;
}
