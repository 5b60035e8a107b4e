/* test_control_in.c: a followed control file (live/control_in.h), with the
 * clock injected: lines taken as they are completed, refusals counted by
 * kind, a truncated or replaced file read again from its start, each
 * acknowledgement queued at the instant the time policy gives it, and soak
 * sign-offs refused unless their criterion is configured. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "counters.h"
#include "engine.h"
#include "live/control_in.h"

static char path[64];

static void append(const char *s)
{
    FILE *f = fopen(path, "a");
    fputs(s, f);
    fclose(f);
}

static void rewrite(const char *s)
{
    FILE *f = fopen(path, "w");
    fputs(s, f);
    fclose(f);
}

static void ignore(void *ud, const sw_output *o)
{
    (void)ud;
    (void)o;
}

int main(void)
{
    sw_config cfg;
    sw_counters c;
    char err[256];
    config_defaults(&cfg);
    memset(&c, 0, sizeof(c));
    snprintf(path, sizeof(path), "/tmp/sw-control-%d.jsonl", (int)getpid());
    rewrite("");
    sw_engine *e = sw_engine_create(&cfg, ignore, NULL, err, sizeof(err));
    CHECK(e != NULL);
    CHECK(control_in_file(&cfg, "/nonexistent/control", &c) == NULL);
    sw_control_in *ci = control_in_file(&cfg, path, &c);
    CHECK(ci != NULL);
    if (e == NULL || ci == NULL)
        return 1;
    CHECK_INT(control_in_fd(ci), -1);
    int64_t now = 1800000000000;

    /* an incomplete line waits for its newline */
    append("{\"type\":\"ack\",\"id\":\"error_rate_high:1799999990000\",\"by\":\"a\",\"ts\":1800000000000}");
    CHECK_INT(control_in_poll(ci, e, now), 0);
    CHECK_INT(c.control_acks, 0);
    append("\r\n");
    control_in_poll(ci, e, now);
    CHECK_INT(c.control_acks, 1);
    CHECK_INT(c.control_rejected, 0);

    /* refusals: not JSON, not an ack, too far ahead, too long; blank lines skipped */
    append("garbage\n\n{\"type\":\"nack\"}\n");
    char line[200];
    snprintf(line, sizeof(line),
             "{\"type\":\"ack\",\"id\":\"r:1\",\"by\":\"a\",\"ts\":%lld}\n",
             (long long)(now + (cfg.max_future_skew_s + 1) * 1000));
    append(line);
    char *big = malloc(CONTROL_LINE_MAX + 10);
    memset(big, 'x', CONTROL_LINE_MAX + 8);
    big[CONTROL_LINE_MAX + 8] = '\n';
    big[CONTROL_LINE_MAX + 9] = '\0';
    append(big);
    free(big);
    control_in_poll(ci, e, now);
    CHECK_INT(c.control_acks, 1);
    CHECK_INT(c.control_rejected, 4);

    /* the same skewed line, taken when the clock has caught up, is queued */
    append(line);
    control_in_poll(ci, e, now + (cfg.max_future_skew_s + 1) * 1000);
    CHECK_INT(c.control_acks, 2);

    /* truncated: read again from its start */
    rewrite("{\"type\":\"ack\",\"id\":\"r:2\",\"by\":\"b\",\"ts\":0}\n");
    control_in_poll(ci, e, now);
    CHECK_INT(c.control_acks, 3);

    /* replaced by another file (a new inode), even a longer one: from its start */
    char tmp[80];
    snprintf(tmp, sizeof(tmp), "%s.new", path);
    FILE *f = fopen(tmp, "w");
    for (int i = 0; i < 3; i++)
        fprintf(f, "{\"type\":\"ack\",\"id\":\"r:%d\",\"by\":\"c\",\"ts\":0}\n", 10 + i);
    fclose(f);
    rename(tmp, path);
    control_in_poll(ci, e, now);
    CHECK_INT(c.control_acks, 6);
    /* nothing new: nothing taken twice */
    control_in_poll(ci, e, now);
    CHECK_INT(c.control_acks, 6);

    /* soak sign-offs: refused without a soak section or for a criterion
     * not in soak.signoffs, or without one; else queued and counted */
    append("{\"type\":\"signoff\",\"criterion\":\"qa\",\"by\":\"q\",\"ts\":1800000000000}\n");
    control_in_poll(ci, e, now);
    CHECK_INT(c.control_rejected, 5);
    cfg.soak.enabled = 1;
    append("{\"type\":\"signoff\",\"criterion\":\"qa\",\"by\":\"q\",\"ts\":1800000000000}\n"
           "{\"type\":\"signoff\",\"criterion\":\"sec\",\"by\":\"q\",\"ts\":1800000000000}\n"
           "{\"type\":\"signoff\",\"id\":\"qa\",\"by\":\"q\",\"ts\":1800000000000}\n");
    control_in_poll(ci, e, now);
    CHECK_INT(c.control_acks, 7);
    CHECK_INT(c.control_rejected, 7);

    control_in_destroy(ci);
    sw_engine_destroy(e);
    unlink(path);
    CHECK_DONE();
}
