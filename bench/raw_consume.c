/* raw_consume.c: the baseline of the live benchmark: librdkafka alone
 * reading a topic. It assigns every partition from the beginning, polls
 * until N messages (payloads counted, never decoded) have arrived and
 * prints messages/s measured from the assignment to the Nth message.
 *
 *   raw_consume BROKERS TOPIC N [KEY=VALUE ...]
 *
 * Extra KEY=VALUE pairs are librdkafka consumer properties. */
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int set(rd_kafka_conf_t *conf, const char *key, const char *val)
{
    char why[256];
    if (rd_kafka_conf_set(conf, key, val, why, sizeof(why)) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "raw_consume: property %s: %s\n", key, why);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: raw_consume BROKERS TOPIC N [KEY=VALUE ...]\n");
        return 2;
    }
    const char *topic = argv[2];
    uint64_t want = strtoull(argv[3], NULL, 10);
    char why[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (set(conf, "bootstrap.servers", argv[1]) || set(conf, "group.id", "bench-raw-consume") ||
        set(conf, "enable.auto.commit", "false") || set(conf, "enable.partition.eof", "false"))
        return 2;
    for (int i = 4; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (eq == NULL) {
            fprintf(stderr, "raw_consume: not KEY=VALUE: %s\n", argv[i]);
            return 2;
        }
        *eq = '\0';
        if (set(conf, argv[i], eq + 1))
            return 2;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof(why));
    if (rk == NULL) {
        fprintf(stderr, "raw_consume: cannot create the consumer: %s\n", why);
        return 1;
    }
    rd_kafka_poll_set_consumer(rk);

    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
    rd_kafka_topic_destroy(rkt);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR || md->topic_cnt != 1 ||
        md->topics[0].partition_cnt <= 0) {
        fprintf(stderr, "raw_consume: metadata of topic %s: %s\n", topic,
                err ? rd_kafka_err2str(err) : "no partitions");
        if (md)
            rd_kafka_metadata_destroy(md);
        rd_kafka_destroy(rk);
        return 1;
    }
    int n = md->topics[0].partition_cnt;
    rd_kafka_metadata_destroy(md);

    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(n);
    for (int p = 0; p < n; p++)
        rd_kafka_topic_partition_list_add(parts, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    double t0 = mono_s();
    err = rd_kafka_assign(rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "raw_consume: assigning %s: %s\n", topic, rd_kafka_err2str(err));
        rd_kafka_destroy(rk);
        return 1;
    }

    uint64_t got = 0, bytes = 0;
    double last = mono_s();
    int rc = 0;
    while (got < want) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        double now = mono_s();
        if (m == NULL) {
            if (now - last > 30) {
                fprintf(stderr, "raw_consume: no message for 30 s after %" PRIu64 " of %" PRIu64
                                "\n", got, want);
                rc = 1;
                break;
            }
            continue;
        }
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            got++;
            bytes += m->len;
            last = now;
        } else {
            fprintf(stderr, "raw_consume: %s\n", rd_kafka_message_errstr(m));
        }
        rd_kafka_message_destroy(m);
    }
    double el = mono_s() - t0;
    if (rc == 0)
        printf("%" PRIu64 " messages (%.1f MB) in %.3f s: %.0f messages/s\n", got, (double)bytes / 1e6,
               el, (double)got / el);
    rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    return rc;
}
