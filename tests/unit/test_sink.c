/* test_sink.c: the sink without a producer (live/sink.h): outputs written
 * in order as JSON Lines and counted, dead letters dropped (no producer to
 * send them), delivery trivially settled, a failed write reported. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "config.h"
#include "counters.h"
#include "live/sink.h"

/* The tap sees every output written, its bytes as written. */
static int tapped;
static char tapped_last[64];
static void tap(void *ud, const char *json, size_t len)
{
    (void)ud;
    tapped++;
    snprintf(tapped_last, sizeof(tapped_last), "%.*s", (int)len, json);
}

int main(void)
{
    sw_config cfg;
    sw_counters c;
    char err[256], buf[256];
    config_defaults(&cfg);
    memset(&c, 0, sizeof(c));
    FILE *f = tmpfile();
    sink_opts o = {f, NULL, "dead", 0, tap, NULL};
    sw_sink *s = sink_create(&cfg, &o, &c, err, sizeof(err));
    CHECK(s != NULL);
    if (s == NULL)
        return 1;
    sw_output out = {SW_OUT_STATUS, 10, -1, 0, "flag", "{\"a\":1}", 7, NULL};
    sink_output(s, &out);
    out.json = "{\"b\":2}";
    sink_output(s, &out);
    sw_reject r = {"in", 0, 5, NULL, "x", 0, 1, "not_json"};
    sink_dead_letter(s, &r);
    CHECK_INT(c.outputs_written, 2);
    CHECK_INT(tapped, 2);
    CHECK_STR(tapped_last, "{\"b\":2}");
    CHECK_INT(c.dead_lettered, 0);
    CHECK_INT(sink_busy(s), 0);
    CHECK_INT(sink_drained(s), 1);
    CHECK_INT(sink_settled(s), 1);
    CHECK_INT(sink_fd(s), -1);
    CHECK_INT(sink_flush(s, 10), 0);
    CHECK_INT(sink_file_flush(s), 0);
    rewind(f);
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    CHECK_STR(buf, "{\"a\":1}\n{\"b\":2}\n");
    sink_destroy(s);
    fclose(f);

    /* a sink whose file cannot be written says so */
    f = fopen("/dev/full", "w");
    if (f) {
        o.out = f;
        s = sink_create(&cfg, &o, &c, err, sizeof(err));
        for (int i = 0; i < 10000; i++)
            sink_output(s, &out);
        CHECK_INT(sink_file_flush(s), -1);
        sink_destroy(s);
        fclose(f);
    }
    CHECK_DONE();
}
