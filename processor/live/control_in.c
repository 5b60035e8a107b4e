/* control_in.c: acknowledgements from the control topic or file
 * (control_in.h). */
#include "control_in.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../control.h"
#include "../engine_time.h"
#include "../kafka.h"

#define META_TIMEOUT_MS 10000
#define DEFAULT_GROUP "soakwatch"
#define CONTROL_LOGGED 10 /* refusals logged one by one, then every 1000th */
#define READ_CHUNK 65536

struct sw_control_in {
    const sw_config *cfg;
    sw_counters *c;
    sw_engine *e;        /* during a poll */
    int64_t now_ms;      /* during a poll */
    kafka_client *k;     /* the topic, or NULL */
    const char *path;    /* the file, or NULL */
    int fd;
    dev_t dev;
    ino_t ino;
    off_t off;           /* next byte of the file to read */
    size_t len;          /* bytes of the incomplete line held */
    int skipping;        /* inside a line over the cap */
    int64_t lineno;
    char line[CONTROL_LINE_MAX + 2];
};

/* Count a refused control message and log one line naming the problem. */
static void refuse(sw_control_in *ci, const char *origin, const char *why)
{
    uint64_t n = ++ci->c->control_rejected;
    if (n <= CONTROL_LOGGED || n % 1000 == 0)
        fprintf(stderr, "soakwatch: %s: acknowledgement refused: %s (%" PRIu64 " refused so far)\n",
                origin, why, n);
}

/* One control message or line: parsed, then queued to the engine. */
static void take(sw_control_in *ci, const char *msg, size_t len, const char *origin)
{
    char why[256];
    sw_ack ack;
    if (len > CONTROL_LINE_MAX) {
        refuse(ci, origin, "longer than 4096 bytes");
        return;
    }
    if (control_parse(msg, len, &ack, why, sizeof(why)) != 0) {
        /* jansson's text can quote the message: keep only its kind. */
        if (strncmp(why, "not JSON", 8) == 0)
            why[8] = '\0';
        refuse(ci, origin, why);
        return;
    }
    int rc = sw_time_ack(ci->e, &ack, ci->now_ms);
    if (rc == -ERANGE)
        refuse(ci, origin, "\"ts\" is ahead of the wall clock by more than the allowed skew");
    else if (rc == -ENOENT)
        refuse(ci, origin, ack.signoff && ci->cfg->soak.enabled
                               ? "sign-off for a criterion not in soak.signoffs"
                               : "sign-off without a soak section");
    else if (rc == -ENOBUFS)
        refuse(ci, origin, "too many acknowledgements waiting for their instant");
    else if (rc != 0)
        refuse(ci, origin, "\"id\" longer than a trigger id can be");
    else
        ci->c->control_acks++;
}

/* ---- the control topic ---------------------------------------------------- */

static int topic_open(sw_control_in *ci, char *errstr, size_t errlen)
{
    const sw_config *cfg = ci->cfg;
    ci->k = kafka_consumer_create(cfg, cfg->group[0] ? cfg->group : DEFAULT_GROUP, errstr,
                                  errlen);
    if (ci->k == NULL)
        return -1;
    int n = kafka_partition_count(ci->k, cfg->control_topic, META_TIMEOUT_MS, 1, errstr, errlen);
    if (n < 0)
        return -1;
    if (n > SW_MAX_PARTITIONS) {
        snprintf(errstr, errlen, "control topic %s has %d partitions; at most %d",
                 cfg->control_topic, n, SW_MAX_PARTITIONS);
        return -1;
    }
    int64_t hi[SW_MAX_PARTITIONS];
    if (kafka_high_watermarks(ci->k, cfg->control_topic, n, hi, META_TIMEOUT_MS, errstr,
                              errlen) != 0 ||
        kafka_assign(ci->k, cfg->control_topic, n, hi, errstr, errlen) != 0)
        return -1;
    return 0;
}

/* Partitions added to the control topic later are not read. */
sw_control_in *control_in_topic(const sw_config *cfg, sw_counters *c, char *errstr,
                                size_t errlen)
{
    sw_control_in *ci = calloc(1, sizeof(*ci));
    if (ci == NULL) {
        snprintf(errstr, errlen, "out of memory");
        return NULL;
    }
    ci->cfg = cfg;
    ci->c = c;
    ci->fd = -1;
    if (topic_open(ci, errstr, errlen) != 0) {
        control_in_destroy(ci);
        return NULL;
    }
    return ci;
}

static int drain_topic(sw_control_in *ci)
{
    kafka_msg km;
    int fatal = 0;
    char origin[SW_STR_MAX + 64];
    while (kafka_consume(ci->k, &km)) {
        if (km.kind == KAFKA_MSG) {
            snprintf(origin, sizeof(origin), "control topic %s/%d at offset %" PRId64,
                     ci->cfg->control_topic, km.partition, km.offset);
            take(ci, km.value, km.len, origin);
        } else if (km.kind == KAFKA_ERROR) {
            fprintf(stderr, "soakwatch: kafka control topic %s: %s\n", ci->cfg->control_topic,
                    km.errstr);
            fatal |= km.fatal;
        }
        kafka_msg_release(&km);
    }
    return fatal;
}

/* ---- the control file ----------------------------------------------------- */

static void file_rewind(sw_control_in *ci)
{
    ci->off = 0;
    ci->len = 0;
    ci->skipping = 0;
    ci->lineno = 0;
}

/* (Re)open the file and read it from its start. Returns 0 or -1 (errno). */
static int file_open(sw_control_in *ci)
{
    struct stat st;
    int fd = open(ci->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    if (ci->fd >= 0)
        close(ci->fd);
    ci->fd = fd;
    ci->dev = st.st_dev;
    ci->ino = st.st_ino;
    file_rewind(ci);
    return 0;
}

sw_control_in *control_in_file(const sw_config *cfg, const char *path, sw_counters *c)
{
    sw_control_in *ci = calloc(1, sizeof(*ci));
    if (ci == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    ci->cfg = cfg;
    ci->c = c;
    ci->path = path;
    ci->fd = -1;
    if (file_open(ci) != 0) {
        int saved = errno;
        free(ci);
        errno = saved;
        return NULL;
    }
    return ci;
}

static void file_line(sw_control_in *ci)
{
    char origin[320];
    ci->lineno++;
    snprintf(origin, sizeof(origin), "control file %.256s line %" PRId64, ci->path, ci->lineno);
    if (ci->skipping) {
        refuse(ci, origin, "longer than 4096 bytes");
        return;
    }
    size_t len = ci->len;
    if (len && ci->line[len - 1] == '\r')
        len--;
    if (len)
        take(ci, ci->line, len, origin);
}

/* Split a chunk read into lines; an incomplete last line is held (up to
 * the cap) until its newline comes. */
static void file_chunk(sw_control_in *ci, const char *p, const char *end)
{
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = (size_t)((nl ? nl : end) - p);
        if (!ci->skipping) {
            if (ci->len + n > CONTROL_LINE_MAX + 1) { /* + 1: a '\r' */
                ci->skipping = 1;
                ci->len = 0;
            } else {
                memcpy(ci->line + ci->len, p, n);
                ci->len += n;
            }
        }
        if (nl == NULL)
            break;
        file_line(ci);
        ci->len = 0;
        ci->skipping = 0;
        p = nl + 1;
    }
}

/* A file replaced (another inode) or truncated is read again from its start. */
static void file_check(sw_control_in *ci)
{
    struct stat st;
    if (stat(ci->path, &st) == 0 && (st.st_dev != ci->dev || st.st_ino != ci->ino) &&
        file_open(ci) == 0)
        fprintf(stderr, "soakwatch: control file %s replaced: reading it from its start\n",
                ci->path);
    if (fstat(ci->fd, &st) == 0 && st.st_size < ci->off) {
        fprintf(stderr, "soakwatch: control file %s truncated: reading it from its start\n",
                ci->path);
        file_rewind(ci);
    }
}

static void poll_file(sw_control_in *ci)
{
    char buf[READ_CHUNK];
    file_check(ci);
    for (;;) {
        ssize_t got = pread(ci->fd, buf, sizeof(buf), ci->off);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            fprintf(stderr, "soakwatch: reading control file %s: %s\n", ci->path,
                    strerror(errno));
            return;
        }
        if (got == 0)
            return;
        ci->off += got;
        file_chunk(ci, buf, buf + got);
    }
}

/* ---- both ------------------------------------------------------------------ */

int control_in_poll(sw_control_in *ci, sw_engine *e, int64_t now_ms)
{
    ci->e = e;
    ci->now_ms = now_ms;
    if (ci->k)
        return drain_topic(ci);
    poll_file(ci);
    return 0;
}

int control_in_fd(const sw_control_in *ci)
{
    return ci->k ? kafka_wakeup_fd(ci->k) : -1;
}

void control_in_destroy(sw_control_in *ci)
{
    if (ci == NULL)
        return;
    kafka_destroy(ci->k);
    if (ci->fd >= 0)
        close(ci->fd);
    free(ci);
}
