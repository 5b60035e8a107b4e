/* test_alloc_fail.c: start-up survives running out of memory. Every
 * allocation the project's own objects make (this test is linked with
 * --wrap=malloc, calloc, realloc, strdup and json_loadb) and every one
 * jansson makes (json_set_alloc_funcs) goes through one counter, which can
 * fail a chosen call. Each start-up path runs once whole for a reference,
 * then again with allocation N failing, for N = 1, 2, 3, ... until a run
 * makes fewer than N allocations: first with that one call failing (the
 * program carries on past it), then with every call from N on failing
 * (nothing recovers).
 *
 * The invariant held for every N: the path either fails cleanly (an error
 * result, and where the API gives a message, one that says memory ran out)
 * or succeeds with exactly the reference result; it never crashes, never
 * reports a success it did not have, and releases everything it made, which
 * the ASan build's LeakSanitizer checks at exit. Allocations made inside
 * libc, zlib, libev and librdkafka are not counted: they are not the
 * project's code, and libev aborts on allocation failure by design.
 * The live program's parts that talk to Kafka run against librdkafka's
 * mock cluster.
 */
#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "check.h"
#include "config.h"
#include "config_env.h"
#include "correlate.h"
#include "counters.h"
#include "engine.h"
#include "engine_time.h"
#include "http.h"
#include "input_check.h"
#include "live/commit.h"
#include "live/control_in.h"
#include "live/history.h"
#include "live/live.h"
#include "live/outbox.h"
#include "live/sink.h"
#include "live/source.h"
#include "merge.h"
#include "pipeline.h"
#include "replay.h"
#include "report/report.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#endif
#ifdef SANITIZED
#include <sanitizer/common_interface_defs.h>
#endif

/* ---- the counter ---------------------------------------------------------- */

/* Atomic: file replay runs a reader thread beside the path under test, and
 * an allocation on either thread must be counted exactly once. */
static atomic_long n_allocs;   /* counted since the last arm() */
static atomic_long fail_at;    /* 0: never fail */
static atomic_int fail_rest;   /* fail every call from fail_at on, not only it */
static atomic_int fired;       /* some call was failed */
static atomic_int paused;      /* count, but fail nothing (inside json_loadb) */
static atomic_int held;        /* neither count nor fail (the test checking) */
#ifdef SANITIZED
static int trace;              /* print where the failed call was made */
#endif

static void arm(long at, int rest)
{
    atomic_store(&held, 0);
    atomic_store(&n_allocs, 0);
    atomic_store(&fired, 0);
    atomic_store(&fail_rest, rest);
    atomic_store(&fail_at, at);
}

static void disarm(void)
{
    atomic_store(&fail_at, 0);
}

/* The path under test is done: what the test itself allocates to check
 * its result must neither fail nor count. */
static void hold(void)
{
    atomic_store(&held, 1);
}

/* Count again after setting up, held, what the path works on. */
static void unhold(void)
{
    atomic_store(&held, 0);
}

static int fail_now(void)
{
    if (atomic_load(&held))
        return 0;
    long n = atomic_fetch_add(&n_allocs, 1) + 1;
    long at = atomic_load(&fail_at);
    if (at == 0 || n < at || (n > at && !atomic_load(&fail_rest)) || atomic_load(&paused))
        return 0;
    atomic_store(&fired, 1);
#ifdef SANITIZED
    if (trace && (n == at || !atomic_load(&fail_rest)))
        __sanitizer_print_stack_trace();
#endif
    errno = ENOMEM;
    return 1;
}

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);

void *__wrap_malloc(size_t n)
{
    return fail_now() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
    return fail_now() ? NULL : __real_calloc(n, size);
}

/* A failed realloc leaves the block as it was, as the real one does. */
void *__wrap_realloc(void *p, size_t n)
{
    return fail_now() ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
    return fail_now() ? NULL : __real_strdup(s);
}

/* jansson's parser (2.14, and its master today) is not safe to fail inside:
 * its lexer ignores a failure to grow the text it saves (lex_save), then
 * reads a number from that text cut short, or scans it for the closing
 * quote past the end of the buffer. So a failure due inside json_loadb is
 * delivered as json_loadb's own: the parse runs with nothing failing, and
 * when it made the allocation that was to fail, its result is dropped and
 * NULL returned with the error as jansson leaves it when memory runs out
 * (no text, no position). Every caller in the project sees the failure it
 * would see from a parser that handled it. */
json_t *__real_json_loadb(const char *buf, size_t len, size_t flags, json_error_t *error);
json_t *__wrap_json_loadb(const char *buf, size_t len, size_t flags, json_error_t *error);

json_t *__wrap_json_loadb(const char *buf, size_t len, size_t flags, json_error_t *error)
{
    long at = atomic_load(&fail_at), before = atomic_load(&n_allocs);
    if (at == 0 || (before >= at && !atomic_load(&fail_rest)))
        return __real_json_loadb(buf, len, flags, error);
    atomic_store(&paused, 1);
    json_t *doc = __real_json_loadb(buf, len, flags, error);
    atomic_store(&paused, 0);
    if (at > atomic_load(&n_allocs))
        return doc; /* the failure is due after this parse */
    json_decref(doc);
    atomic_store(&fired, 1);
#ifdef SANITIZED
    if (trace)
        __sanitizer_print_stack_trace();
#endif
    if (error) {
        error->line = error->column = -1;
        error->position = 0;
        memset(error->text, 0, sizeof(error->text));
    }
    errno = ENOMEM;
    return NULL;
}

/* ---- stderr, kept for the checks and out of the test's output ------------- */

static char dir[64];
static char stderr_path[128];
static int saved_stderr = -1;
static char said[8192]; /* what the last quiet() section wrote on stderr */

/* From here until quiet_end, stderr goes to a file. Nothing in between may
 * CHECK: its message would go to the file. */
static void quiet_begin(void)
{
    fflush(stderr);
    int fd = open(stderr_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return;
    saved_stderr = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    close(fd);
}

static void quiet_end(void)
{
    said[0] = '\0';
    if (saved_stderr < 0)
        return;
    fflush(stderr);
    ssize_t n = pread(STDERR_FILENO, said, sizeof(said) - 1, 0);
    said[n > 0 ? n : 0] = '\0';
    dup2(saved_stderr, STDERR_FILENO);
    close(saved_stderr);
    saved_stderr = -1;
}

/* ---- files ---------------------------------------------------------------- */

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *b = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 65536;
            char *nb = realloc(b, cap + 1);
            if (nb == NULL)
                break;
            b = nb;
        }
        size_t got = fread(b + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    if (b)
        b[n] = '\0';
    *len = n;
    return b;
}

static void spew(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* Whether two files hold the same bytes. */
static int same_file(const char *a, const char *b)
{
    size_t na = 0, nb = 0;
    char *x = slurp(a, &na), *y = slurp(b, &nb);
    int same = x && y && na == nb && memcmp(x, y, na) == 0;
    free(x);
    free(y);
    return same;
}

static void path_in(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

#define T0_MS INT64_C(1796152800000)

/* Ten minutes of flat events, four a second, with a burst of internal
 * errors in the middle that fires the error rules and then resolves. */
static void write_flat_input(const char *path)
{
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f == NULL)
        return;
    for (int s = 0; s < 600; s++) {
        int64_t t = T0_MS + (int64_t)s * 1000;
        int burst = s >= 240 && s < 330;
        for (int k = 0; k < 2; k++) {
            fprintf(f, "{\"event\":\"stream5.time_crunch_preview_requested\",\"ts\":%lld}\n",
                    (long long)(t + 100 * k));
            if (burst && k == 0)
                fprintf(f, "{\"event\":\"stream5.time_crunch_preview_fallback\",\"ts\":%lld,"
                        "\"durationMs\":%d,\"compressionStrategy\":\"none\","
                        "\"reason\":\"internal_error\"}\n", (long long)(t + 400), 900 + s % 7);
            else
                fprintf(f, "{\"event\":\"stream5.time_crunch_preview_succeeded\",\"ts\":%lld,"
                        "\"durationMs\":%d,\"compressionStrategy\":\"core_only\","
                        "\"meetsTimeConstraint\":%s}\n", (long long)(t + 400 + 100 * k),
                        600 + (s * 37 + k) % 900, (s + k) % 5 ? "true" : "false");
        }
        if (s % 20 == 0)
            fprintf(f, "{\"event\":\"stream5.time_crunch_preview_declined\",\"ts\":%lld}\n",
                    (long long)(t + 900));
    }
    fclose(f);
}

/* The same traffic in the shape of a sampled logger (the mapped config):
 * the event name after a prefix, keys to pair outcomes with requests,
 * a sample rate, and a source the filter keeps or drops. */
static void write_mapped_input(const char *path)
{
    gzFile f = gzopen(path, "wb");
    CHECK(f != NULL);
    if (f == NULL)
        return;
    for (int s = 0; s < 300; s++) {
        int64_t t = T0_MS + (int64_t)s * 1000;
        const char *outcome = s >= 120 && s < 180 ? "fallback" : "succeeded";
        gzprintf(f, "{\"level\":\"info\",\"msg\":\"event=stream5.time_crunch_preview_requested\","
                 "\"ts\":%lld,\"context\":{\"payload\":{\"planId\":\"p-%d\",\"userId\":\"u-%d\","
                 "\"source\":\"%s\"},\"sampleRate\":10}}\n", (long long)t, s, s % 13,
                 s % 4 ? "planning-engine" : "gateway-bff");
        gzprintf(f, "{\"level\":\"info\",\"msg\":\"event=stream5.time_crunch_preview_%s\","
                 "\"ts\":%lld,\"context\":{\"payload\":{\"planId\":\"p-%d\",\"userId\":\"u-%d\","
                 "\"compressionStrategy\":\"core_only\",\"meetsTimeConstraint\":true,"
                 "\"reason\":\"%s\",\"source\":\"planning-engine\"},\"sampleRate\":10}}\n",
                 outcome, (long long)(t + 350 + s % 200), s, s % 13,
                 s >= 120 && s < 180 ? "internal_error" : "none");
    }
    gzclose(f);
}

/* Every rule option: provenance, confidence, a latch, an extra window of an
 * hour (the per-minute ring), a label metric. */
static const char all_options_json[] =
    "{\"data_quality\": {\"enabled\": true, \"max_watermark_lag_s\": 30},\n"
    " \"provenance\": true,\n"
    " \"rules\": [\n"
    "  {\"name\": \"error_rate_high\", \"metric\": \"error_rate\", \"op\": \">\",\n"
    "   \"threshold\": 0.10, \"window_s\": 300, \"min_samples\": 0, \"confidence\": 0.95,\n"
    "   \"resolve_threshold\": 0.05, \"keep_firing_for_s\": 120, \"latch\": true,\n"
    "   \"hold_when_no_data\": true},\n"
    "  {\"name\": \"error_budget_fast_burn\", \"metric\": \"error_rate\", \"op\": \">\",\n"
    "   \"threshold\": 0.0144, \"window_s\": 300, \"windows_s\": [3600], \"min_samples\": 20},\n"
    "  {\"name\": \"success_rate_low\", \"metric\": \"success_rate\", \"op\": \"<\",\n"
    "   \"threshold\": 0.90, \"window_s\": 600, \"min_samples\": 20},\n"
    "  {\"name\": \"core_only_rare\", \"metric\": \"strategies.core_only\", \"op\": \"<\",\n"
    "   \"threshold\": 1, \"window_s\": 120},\n"
    "  {\"name\": \"zero_requests\", \"metric\": \"requests\", \"op\": \"==\", \"threshold\": 0,\n"
    "   \"window_s\": 1800}\n"
    " ]\n"
    "}\n";

/* A mapped input with every part that allocates: correlate (the pairing
 * table), filters, a sample weight from a field. */
static const char mapped_json[] =
    "{\"input\": {\n"
    "  \"envelope\": {\"type\": \"none\"},\n"
    "  \"fields\": {\n"
    "   \"event\": {\"path\": \"msg\", \"prefix\": \"event=\"},\n"
    "   \"time\": [\"ts\", \"context.timestamp\"],\n"
    "   \"duration\": \"context.payload.durationMs\",\n"
    "   \"status\": null,\n"
    "   \"reason\": \"context.payload.reason\",\n"
    "   \"strategy\": \"context.payload.compressionStrategy\",\n"
    "   \"time_constraint\": \"context.payload.meetsTimeConstraint\"},\n"
    "  \"error_reasons\": [\"preview_failed\", \"internal_error\"],\n"
    "  \"filters\": [{\"events\": [\"requested\"], \"field\": \"context.payload.source\",\n"
    "                 \"equals\": [\"planning-engine\"]}],\n"
    "  \"sample_weight\": {\"field\": \"context.sampleRate\", \"default\": 1},\n"
    "  \"correlate\": {\"key\": [\"context.payload.planId\", \"context.payload.userId\"],\n"
    "                \"max_latency_ms\": 60000, \"table_size\": 4096}},\n"
    " \"status\": {\"interval_s\": 30},\n"
    " \"kafka\": {\"properties\": {\"socket.keepalive.enable\": \"true\"}},\n"
    " \"http\": {\"listen\": \"127.0.0.1:0\"}\n"
    "}\n";

static char all_options_path[128], mapped_path[128], flat_in[128], mapped_in[128];
static char acks_path[128], events_path[128], report_in[128];

/* ---- the driver ----------------------------------------------------------- */

/* One start-up path. Returns 0 when it succeeded with the reference result
 * (the first call records it), 1 when it failed cleanly, -1 when it did
 * something else (after a CHECK saying what). */
typedef int (*path_fn)(int reference);

static int failures_seen; /* clean failures over the whole test */

/* Run fn whole, then with allocation N failing for N = 1, 2, ... in both
 * modes. Prints how many allocation points it has. */
static void exercise(const char *name, path_fn fn)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    arm(0, 0);
    int rc = fn(1);
    long total = atomic_load(&n_allocs);
    disarm();
    if (rc != 0) {
        fprintf(stderr, "%s: fails without any allocation failing\n", name);
        check_failures++;
        return;
    }
    long points = 0;
    for (int rest = 0; rest <= 1; rest++) {
        for (long n = 1;; n++) {
            arm(n, rest);
            rc = fn(0);
            int hit = atomic_load(&fired);
            disarm();
            if (!hit)
                break; /* fewer than n allocations: every point is done */
            if (rc < 0) {
                fprintf(stderr, "%s: wrong outcome with allocation %ld %s\n", name, n,
                        rest ? "and every later one failing" : "failing");
                check_failures++;
#ifdef SANITIZED
                /* Once more, saying where the failed allocation was made. */
                trace = 1;
                arm(n, rest);
                fn(0);
                disarm();
                trace = 0;
#endif
            }
            failures_seen += rc == 1;
            if (!rest && n > points)
                points = n;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("%-44s %5ld allocation points, %.2f s\n", name, points,
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    /* Every allocation of a whole run was reached and failed in turn (an
     * error path may allocate more): the runs are deterministic. */
    CHECK(total > 0 && points >= total);
}

/* A clean failure: an error result, and where the API gives a message,
 * one that says why (memory is the only thing that runs short here). */
static int failed_cleanly(int failed, const char *msg, const char *what)
{
    if (!failed)
        return 0;
    if (msg != NULL && strstr(msg, "memory") == NULL) {
        fprintf(stderr, "%s: failed, saying \"%s\"\n", what, msg);
        check_failures++;
        return -1;
    }
    return 1;
}

/* ---- the paths ------------------------------------------------------------ */

static sw_config ref_cfg, run_cfg, mapped_cfg, all_cfg, default_cfg;
static char err[512];

/* A config compared with the reference: loaded whole, or refused. */
static int config_outcome(int rc, int reference)
{
    if (rc != 0)
        return failed_cleanly(1, err, "config");
    if (reference) {
        memcpy(&ref_cfg, &run_cfg, sizeof(ref_cfg));
        return 0;
    }
    if (memcmp(&run_cfg, &ref_cfg, sizeof(ref_cfg)) != 0) {
        fprintf(stderr, "config: loaded, but not as the reference\n");
        check_failures++;
        return -1;
    }
    return 0;
}

/* replay and check-config: defaults, then the file. */
static int path_config_file(int reference)
{
    memset(&run_cfg, 0, sizeof(run_cfg));
    config_defaults(&run_cfg);
    err[0] = '\0';
    int rc = config_load_file(&run_cfg, all_options_path, err, sizeof(err));
    /* A refused file leaves the config as it was: no half-loaded rules. */
    if (rc != 0 && memcmp(&run_cfg, &default_cfg, sizeof(run_cfg)) != 0) {
        fprintf(stderr, "config_load_file: failed, and changed the config\n");
        check_failures++;
        return -1;
    }
    return config_outcome(rc, reference);
}

/* run: defaults, the file, the environment, the flags, the checks, then
 * the warnings about rules the mapping cannot see, as main.c does. */
static int path_config_run(int reference)
{
    memset(&run_cfg, 0, sizeof(run_cfg));
    config_defaults(&run_cfg);
    err[0] = '\0';
    int rc = config_load_file(&run_cfg, mapped_path, err, sizeof(err));
    if (rc == 0)
        rc = config_apply_env(&run_cfg, err, sizeof(err));
    if (rc == 0) {
        strcpy(run_cfg.group, "soakwatch-alloc"); /* --group */
        rc = config_validate(&run_cfg, err, sizeof(err));
    }
    if (rc == 0) {
        quiet_begin();
        input_warn_unseeable(&run_cfg, stderr);
        quiet_end();
    }
    return config_outcome(rc, reference);
}

/* check-config --print. */
static char *ref_dump;

static int path_config_dump(int reference)
{
    char *doc = NULL;
    int rc = config_dump_json(&mapped_cfg, &doc);
    if (rc != 0) {
        if (doc != NULL || rc != -ENOMEM) {
            fprintf(stderr, "config dump: failed with %d and a document\n", rc);
            check_failures++;
            free(doc);
            return -1;
        }
        return 1;
    }
    if (reference) {
        ref_dump = doc;
        return 0;
    }
    size_t at = 0;
    while (doc[at] && doc[at] == ref_dump[at])
        at++;
    int same = doc[at] == ref_dump[at];
    if (!same)
        fprintf(stderr, "config dump: succeeded with a different document from \"%.60s\"\n",
                doc + at);
    free(doc);
    check_failures += !same;
    return same ? 0 : -1;
}

static int path_dec_config(int reference)
{
    (void)reference;
    dec_config dc;
    memset(&dc, 0, sizeof(dc));
    err[0] = '\0';
    int rc = pipeline_dec_config(&mapped_cfg, &dc, err, sizeof(err));
    int ok = rc == 0 ? 0 : failed_cleanly(1, err, "pipeline_dec_config");
    if ((rc == 0) != (dc.map != NULL)) {
        fprintf(stderr, "pipeline_dec_config: returned %d with%s a map\n", rc,
                dc.map ? "" : "out");
        check_failures++;
        ok = -1;
    }
    pipeline_dec_free(&dc);
    return ok;
}

static void emit_nothing(void *ud, const sw_output *o)
{
    (void)ud;
    (void)o;
}

/* An engine, and with sources > 0 its provenance tracking. */
static int engine_path(const sw_config *cfg, int sources)
{
    err[0] = '\0';
    sw_engine *e = sw_engine_create(cfg, emit_nothing, NULL, err, sizeof(err));
    if (e == NULL)
        return failed_cleanly(1, err, "sw_engine_create");
    int rc = 0;
    if (sources > 0) {
        int src = sw_engine_set_sources(e, sources, "partitions");
        if (src != 0 && src != -ENOMEM) {
            fprintf(stderr, "sw_engine_set_sources: %d\n", src);
            rc = -1;
        } else if (src != 0) {
            rc = 1;
        }
    }
    sw_engine_destroy(e);
    return rc;
}

static int path_engine_default(int reference)
{
    (void)reference;
    return engine_path(&default_cfg, 0);
}

static int path_engine_all_options(int reference)
{
    (void)reference;
    return engine_path(&all_cfg, 3);
}

static int path_engine_mapped(int reference)
{
    (void)reference;
    return engine_path(&mapped_cfg, 0);
}

static int path_merge(int reference)
{
    (void)reference;
    sw_merge *m = merge_create(6, 1000, 0);
    merge_destroy(m);
    return m ? 0 : 1;
}

static int path_correlate(int reference)
{
    (void)reference;
    sw_corr *c = corr_create(65536, 60000);
    corr_destroy(c);
    return c ? 0 : 1;
}

static struct ev_loop *loop;

static int http_handler(void *ud, const char *path, size_t len, http_reply *r)
{
    (void)ud;
    (void)path;
    (void)len;
    return buf_puts(r->body, "ok\n");
}

static int path_http(int reference)
{
    (void)reference;
    err[0] = '\0';
    http_server *s = http_server_create(loop, "127.0.0.1:0", NULL, http_handler, NULL, err,
                                        sizeof(err));
    if (s == NULL)
        return failed_cleanly(1, err, "http_server_create");
    int port = http_server_port(s);
    http_server_destroy(s);
    return port > 0 ? 0 : -1;
}

/* A replay whose output must be the reference's, byte for byte, or a
 * non-zero status with a line on stderr. */
static int replay_path(const sw_config *cfg, const char *in, const char *control,
                       const char *ref_name, int reference)
{
    char out[128], ref[128];
    path_in(out, sizeof(out), "replay.out.jsonl");
    path_in(ref, sizeof(ref), ref_name);
    file_replay_opts o = {in, reference ? ref : out, 0, 0, control, INT64_MIN};
    quiet_begin();
    int rc = file_replay_run(cfg, &o);
    quiet_end();
    hold();
    if (rc != 0)
        return failed_cleanly(1, said, "file_replay_run");
    if (reference || same_file(out, ref))
        return 0;
    fprintf(stderr, "file_replay_run: succeeded with an output unlike the reference's\n");
    check_failures++;
    return -1;
}

/* The report's input: the replay's first two statuses and its triggers.
 * Every line costs the report some two hundred allocations, each of which
 * the test fails in turn, so a few lines of each kind are enough. */
static void write_report_input(const char *events)
{
    FILE *in = fopen(events, "r"), *out = fopen(report_in, "w");
    CHECK(in != NULL && out != NULL);
    static char line[1 << 16];
    for (int n = 0; in && out && fgets(line, sizeof(line), in) != NULL; n++)
        if (n < 2 || strstr(line, "\"type\":\"rollback_trigger\"") != NULL)
            fputs(line, out);
    if (in)
        fclose(in);
    if (out)
        fclose(out);
}

static int path_replay_flat(int reference)
{
    int rc = replay_path(&all_cfg, flat_in, acks_path, "replay.ref.jsonl", reference);
    if (reference && rc == 0)
        write_report_input(events_path);
    return rc;
}

static int path_replay_mapped(int reference)
{
    return replay_path(&mapped_cfg, mapped_in, NULL, "replay-mapped.ref.jsonl", reference);
}

/* soakwatch report ARGS... over the reference replay's output events. */
static int report_path(const char *format, int soak, int reference)
{
    char out[128], ref[128], name[64];
    snprintf(name, sizeof(name), "report.%s%s.ref", format, soak ? ".soak" : "");
    path_in(out, sizeof(out), "report.out");
    path_in(ref, sizeof(ref), name);
    char *argv[] = {"report", "--input", report_in, "--output", reference ? ref : out,
                    "--format", (char *)format, "--config", all_options_path,
                    soak ? "--soak" : NULL, NULL};
    int argc = soak ? 10 : 9;
    quiet_begin();
    int rc = report_main(argc, argv);
    quiet_end();
    hold();
    int want = soak ? 1 : 0; /* ten minutes are no soak: NO-GO */
    if (rc != want) {
        if (rc != 2) {
            fprintf(stderr, "report --format %s: status %d, stderr \"%s\"\n", format, rc, said);
            check_failures++;
            return -1;
        }
        return failed_cleanly(1, said, "report_main");
    }
    if (reference || same_file(out, ref))
        return 0;
    fprintf(stderr, "report --format %s: succeeded with an output unlike the reference's\n",
            format);
    check_failures++;
    return -1;
}

static int path_report_text(int reference)
{
    return report_path("text", 0, reference);
}

static int path_report_html(int reference)
{
    return report_path("html", 0, reference);
}

static int path_report_json_soak(int reference)
{
    return report_path("json", 1, reference);
}

/* check-config --input SAMPLE. */
static int path_input_check(int reference)
{
    char out[128], ref[128];
    path_in(out, sizeof(out), "check.out");
    path_in(ref, sizeof(ref), "check.ref");
    FILE *f = fopen(reference ? ref : out, "w");
    if (f == NULL)
        return -1;
    quiet_begin();
    int rc = input_check_sample(&mapped_cfg, mapped_in, 100000, f, stderr);
    quiet_end();
    hold();
    fclose(f);
    if (rc == 2)
        return failed_cleanly(1, said, "input_check_sample");
    if (reference)
        return rc == 0 ? 0 : -1;
    if (rc == 0 && same_file(out, ref))
        return 0;
    fprintf(stderr, "input_check_sample: status %d, output unlike the reference's\n", rc);
    check_failures++;
    return -1;
}

/* ---- the live program's parts --------------------------------------------- */

/* all_cfg against the mock cluster (main sets its brokers). */
static sw_config kafka_cfg;
static dec_config kafka_dc;
static char ctl_path[128];

/* The wrong outcome of a live part: said, counted. */
static int wrong(const char *what, const char *how)
{
    fprintf(stderr, "%s: %s\n", what, how);
    check_failures++;
    return -1;
}

/* Whether a reference output holds a trigger with its provenance: the run
 * did its work, and the comparisons with it mean something. */
static int has_trigger(const char *path)
{
    size_t n = 0;
    char *text = slurp(path, &n);
    int yes = text && strstr(text, "\"type\":\"rollback_trigger\"") != NULL &&
              strstr(text, "\"provenance\"") != NULL;
    free(text);
    return yes;
}

/* Three kept of cap two: the third is refused as full, a failed copy is
 * lost; what is taken back is what was kept, in order, headers and all. */
static int path_outbox(int reference)
{
    (void)reference;
    sw_outbox *o = outbox_create(2);
    if (o == NULL)
        return 1;
    const kafka_header h[3] = {{"type", "status", 6}, {"schema_version", "1", 1}, {"x", "y", 1}};
    int kept = 0, short_of = 0, full = 0;
    for (int i = 0; i < 3; i++) {
        int rc = outbox_keep(o, i, "{\"a\":1}", 7, i ? "key" : NULL, i ? 3 : 0, h, 3);
        kept += rc == 0;
        short_of += rc == -ENOMEM;
        full += rc == -ENOBUFS;
    }
    hold();
    outbox_item items[2];
    int n = outbox_take(o, items), ok = n == kept && kept + short_of + full == 3;
    ok &= outbox_lost(o) == (uint64_t)(short_of + full) && outbox_len(o) == 0;
    for (int i = 0; i < n; i++) {
        outbox_item *it = &items[i];
        ok &= it->len == 7 && memcmp(it->value, "{\"a\":1}", 7) == 0 &&
              it->nh == (OUTBOX_HEADERS < 3 ? OUTBOX_HEADERS : 3) &&
              strcmp(it->h[1].name, "schema_version") == 0 && it->h[1].len == 1 &&
              it->h[1].value[0] == '1' && (i == 0 || it->kind > items[i - 1].kind);
        outbox_item_free(it);
    }
    outbox_destroy(o);
    if (!ok || (short_of == 0 && kept != 2))
        return wrong("outbox", "kept, lost and taken back do not add up");
    return short_of ? 1 : 0;
}

static int path_commit(int reference)
{
    (void)reference;
    sw_commit c;
    if (commit_init(&c, 3) != 0) {
        commit_free(&c);
        return 1;
    }
    hold();
    int64_t fed[3] = {5, -1, 7}, want[3];
    commit_state st = {0, 0, 0};
    int plan = commit_plan(&c, fed, 1, &st, 1000, want);
    int sent = plan && want[0] == 5 && want[1] == -1 && want[2] == 7;
    commit_sent(&c, want, 1000);
    int again = commit_plan(&c, fed, 1, &st, 2000, want);
    commit_free(&c);
    return sent && !again ? 0 : wrong("commit", "planned other positions");
}

/* Two statuses and a trigger, then a dead letter. */
static const char sink_text[] =
    "{\"type\":\"status\",\"at_ms\":1796152860000,\"firing\":[]}\n"
    "{\"type\":\"rollback_trigger\",\"at_ms\":1796152861000,\"rule\":\"error_rate_high\","
    "\"state\":\"firing\"}\n"
    "{\"type\":\"status\",\"at_ms\":1796152920000,\"firing\":[\"error_rate_high\"]}\n";

static void sink_feed(sw_sink *s)
{
    const char *line = sink_text;
    for (int i = 0; i < 3; i++) {
        const char *nl = strchr(line, '\n');
        sw_output o = {i == 1 ? SW_OUT_TRIGGER : SW_OUT_STATUS, 1796152860 + i, i == 1 ? 0 : -1,
                       i == 1, i == 1 ? "error_rate_high" : "flag", line, (size_t)(nl - line),
                       NULL};
        sink_output(s, &o);
        line = nl + 1;
    }
    sw_reject r = {"in", 1, 42, "k", "garbage", 1, 7, "invalid_json"};
    sink_dead_letter(s, &r);
}

/* A file only: the outputs written in order, no dead letters. */
static int path_sink_file(int reference)
{
    (void)reference;
    sw_counters c;
    memset(&c, 0, sizeof(c));
    FILE *f = tmpfile();
    if (f == NULL)
        return wrong("sink_create (file)", "no temporary file");
    sink_opts o = {f, NULL, "dead", 0, NULL, NULL};
    err[0] = '\0';
    sw_sink *s = sink_create(&all_cfg, &o, &c, err, sizeof(err));
    if (s == NULL) {
        fclose(f);
        return failed_cleanly(1, err, "sink_create (file)");
    }
    sink_feed(s);
    int flushed = sink_file_flush(s), settled = sink_settled(s);
    sink_destroy(s);
    hold();
    char got[sizeof(sink_text) + 64];
    rewind(f);
    size_t n = fread(got, 1, sizeof(got) - 1, f);
    got[n] = '\0';
    fclose(f);
    if (flushed == 0 && settled && c.outputs_written == 3 && c.dead_lettered == 0 &&
        strcmp(got, sink_text) == 0)
        return 0;
    return wrong("sink (file)", "did not write the outputs as given");
}

/* The output and dead-letter topics of the mock cluster: every attempt
 * delivered, nothing kept. */
static int path_sink_topic(int reference)
{
    (void)reference;
    sw_counters c;
    memset(&c, 0, sizeof(c));
    sink_opts o = {NULL, "out", "dead", 0, NULL, NULL};
    err[0] = '\0';
    quiet_begin();
    sw_sink *s = sink_create(&kafka_cfg, &o, &c, err, sizeof(err));
    int made = s != NULL, left = -1, settled = 0;
    uint64_t lost = 0;
    if (made) {
        sink_feed(s);
        left = sink_flush(s, 10000);
        settled = sink_settled(s);
        lost = sink_lost(s);
        sink_destroy(s);
    }
    quiet_end();
    hold();
    if (!made)
        return failed_cleanly(1, err, "sink_create (topic)");
    if (left == 0 && settled && lost == 0 && c.outputs_written == 3 &&
        c.outputs_delivered == 3 && c.dead_lettered == 1 && c.delivery_failures == 0)
        return 0;
    return wrong("sink (topic)", "did not deliver every output and the dead letter");
}

/* Two acknowledgements and two lines refused; one refused for want of
 * memory must say so. */
static int path_control_file(int reference)
{
    (void)reference;
    sw_counters c;
    memset(&c, 0, sizeof(c));
    hold();
    sw_engine *e = sw_engine_create(&all_cfg, emit_nothing, NULL, err, sizeof(err));
    unhold();
    if (e == NULL)
        return wrong("control_in_file", "no engine");
    quiet_begin();
    errno = 0;
    sw_control_in *ci = control_in_file(&all_cfg, ctl_path, &c);
    int made = ci != NULL, saved = errno;
    if (made) {
        control_in_poll(ci, e, T0_MS + 3600000);
        control_in_poll(ci, e, T0_MS + 3601000); /* nothing new */
        control_in_destroy(ci);
    }
    quiet_end();
    hold();
    sw_engine_destroy(e);
    if (!made)
        return failed_cleanly(1, strerror(saved), "control_in_file");
    if (c.control_acks + c.control_rejected != 4 || c.control_acks > 2)
        return wrong("control_in_poll", "took other lines than the file's");
    return c.control_acks == 2 ? 0 : failed_cleanly(1, said, "control_in_poll");
}

/* A status, transitions after it, an older status and a line that is not
 * JSON: core_only_rare firing as the status says, error_rate_high resolved
 * since, success_rate_low firing since. */
static const char *const hist_events[] = {
    "{\"type\":\"status\",\"at_ms\":1000,\"firing\":[\"error_rate_high\",\"core_only_rare\"]}",
    "{\"type\":\"rollback_trigger\",\"at_ms\":2000,\"rule\":\"error_rate_high\","
    "\"state\":\"resolved\"}",
    "{\"type\":\"rollback_trigger\",\"at_ms\":3000,\"rule\":\"success_rate_low\","
    "\"state\":\"firing\"}",
    "{\"type\":\"status\",\"at_ms\":500,\"firing\":[\"zero_requests\"]}",
    "not json",
};

static int path_history(int reference)
{
    (void)reference;
    history_builder *b = history_builder_create(&all_cfg);
    if (b == NULL)
        return 1;
    for (size_t i = 0; i < sizeof(hist_events) / sizeof(hist_events[0]); i++)
        history_builder_take(b, hist_events[i], strlen(hist_events[i]));
    sw_history h;
    int rc = history_builder_finish(b, &h);
    history_builder_destroy(b);
    hold();
    if (rc == -ENOMEM)
        return h.last_at_ms == -1 ? 1 : wrong("history_builder_finish", "failed with a history");
    if (rc != 0)
        return wrong("history_builder_finish", "failed, not for memory");
    uint8_t want[SW_MAX_RULES] = {0};
    want[2] = want[3] = 1; /* success_rate_low, core_only_rare */
    if (h.last_at_ms == 3000 && memcmp(h.published, want, sizeof(want)) == 0)
        return 0;
    return wrong("history_builder_finish", "built another history");
}

/* The same events read from the mock cluster's topic "hist". Its
 * ListOffsets knows no times but -2, the earliest: the clock is set so
 * that the history is read from there. */
static int64_t hist_now_ms;

static int64_t hist_clock(void *ud)
{
    (void)ud;
    return hist_now_ms;
}

static int path_history_read(int reference)
{
    (void)reference;
    sw_history h;
    err[0] = '\0';
    quiet_begin();
    int rc = history_read(&kafka_cfg, "hist", hist_clock, NULL, &h, err, sizeof(err));
    quiet_end();
    hold();
    if (rc != 0)
        return h.last_at_ms == -1 ? failed_cleanly(1, err, "history_read")
                                  : wrong("history_read", "failed with a history");
    uint8_t want[SW_MAX_RULES] = {0};
    want[2] = want[3] = 1;
    if (h.last_at_ms == 3000 && memcmp(h.published, want, sizeof(want)) == 0)
        return 0;
    return wrong("history_read", "read another history");
}

/* kafka_cfg with message.max.bytes at its least, and an output over it. */
static sw_config small_cfg;
static char big_output[1200];

/* An output the producer refuses is kept, and kept again when produced
 * again and refused again: at the end the outbox holds it, or it was
 * counted lost and that was said. */
static int path_sink_refused(int reference)
{
    (void)reference;
    sw_counters c;
    memset(&c, 0, sizeof(c));
    sink_opts o = {NULL, "out", "dead", 0, NULL, NULL};
    int left = -1;
    uint64_t lost = 0;
    err[0] = '\0';
    quiet_begin();
    sw_sink *s = sink_create(&small_cfg, &o, &c, err, sizeof(err));
    int made = s != NULL;
    if (made) {
        sink_feed(s);
        sw_output big = {SW_OUT_STATUS, 1796152980, -1, 0, "flag", big_output,
                         strlen(big_output), NULL};
        sink_output(s, &big);
        sink_retry(s);
        left = sink_flush(s, 10000);
        lost = sink_lost(s);
        sink_destroy(s); /* with the refused output still kept */
    }
    quiet_end();
    hold();
    if (!made)
        return failed_cleanly(1, err, "sink_create (topic)");
    if (c.outputs_delivered != 3 || c.dead_lettered != 1 || lost + (uint64_t)left != 1 ||
        c.delivery_failures < 1 || c.delivery_failures > 2)
        return wrong("sink (refused output)", "did not keep the refused output or count it");
    return lost ? failed_cleanly(1, said, "sink_output (refused)") : 0;
}

/* soakwatch run without brokers: the flat input on stdin and the control
 * file followed, with provenance and the HTTP server; stdin and stdout
 * are files here. The output is byte for byte the reference's. */
static sw_config stdin_cfg;

static int path_run_stdin(int reference)
{
    char out[128], ref[128];
    path_in(out, sizeof(out), "stdin.out.jsonl");
    path_in(ref, sizeof(ref), "stdin.ref.jsonl");
    int in = open(flat_in, O_RDONLY), to = open(reference ? ref : out,
                                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || to < 0)
        return wrong("run_stdin", "cannot open its input or output");
    fflush(stdout);
    int saved_in = dup(STDIN_FILENO), saved_out = dup(STDOUT_FILENO);
    dup2(in, STDIN_FILENO);
    dup2(to, STDOUT_FILENO);
    close(in);
    close(to);
    quiet_begin();
    int rc = run_stdin(&stdin_cfg, ctl_path);
    quiet_end();
    fflush(stdout);
    dup2(saved_in, STDIN_FILENO);
    dup2(saved_out, STDOUT_FILENO);
    close(saved_in);
    close(saved_out);
    hold();
    if (rc != 0)
        return rc == 1 ? failed_cleanly(1, said, "run_stdin")
                       : wrong("run_stdin", "exited 2 (unusable arguments)");
    if (reference)
        return has_trigger(ref) ? 0 : wrong("run_stdin", "fired nothing");
    if (same_file(out, ref))
        return 0;
    return wrong("run_stdin", "succeeded with an output unlike the reference's");
}

/* soakwatch run with brokers, against the mock cluster, stopped by a
 * SIGTERM that waits from the start: start-up (the output topic's history,
 * the source, the engine with provenance, commits, the control topic, the
 * HTTP server), then shutdown with its flush and commit. A start-up that
 * fails meanwhile says why and that the signal stopped it
 * (loop_startup_failed). */
static sw_config run_kafka_cfg;

static int path_run_kafka(int reference)
{
    (void)reference;
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &term, NULL);
    raise(SIGTERM);
    quiet_begin();
    int rc = run_kafka(&run_kafka_cfg);
    quiet_end();
    hold();
    int sig;
    sigset_t pending;
    if (sigpending(&pending) == 0 && sigismember(&pending, SIGTERM) == 1)
        sigwait(&term, &sig); /* a failed start-up leaves it waiting */
    if (rc == 0 && strstr(said, "stopped by a signal during start-up") == NULL)
        return strstr(said, " delivered, ") ? 0 : wrong("run_kafka", "no summary at shutdown");
    if (rc > 1)
        return wrong("run_kafka", "exited 2 (unusable arguments)");
    return failed_cleanly(1, said, "run_kafka");
}

/* The input topic read to its end at start, as the reference read it. */
static struct {
    uint64_t messages, accepted;
    int64_t fed[2];
    int rejects;
} src_ref;
static int src_rejects;

static int64_t clock_zero(void *ud)
{
    (void)ud;
    return 0; /* a bounded source has no clock */
}

static int never_busy(void *ud)
{
    (void)ud;
    return 0;
}

static void count_reject(void *ud, const sw_reject *r)
{
    (void)ud;
    (void)r;
    src_rejects++;
}

/* Drain a started bounded source to its end (10 s at most). Returns 0, or
 * -1 on a fatal consumer error or when it did not get there. */
static int drain_source(sw_source *s)
{
    for (int i = 0; i < 5000; i++) {
        if (source_done(s))
            return 0;
        if (source_drain(s))
            return -1;
        if (!source_more(s))
            usleep(2000);
    }
    return -1;
}

static int path_source(int reference)
{
    sw_counters c;
    memset(&c, 0, sizeof(c));
    src_rejects = 0;
    hold();
    sw_engine *e = sw_engine_create(&kafka_cfg, emit_nothing, NULL, err, sizeof(err));
    unhold();
    if (e == NULL)
        return wrong("source", "no engine");
    source_opts o = {"in", -2, 1, INT64_MAX / 2}; /* record time -2: the earliest offsets */
    source_hooks h = {NULL, clock_zero, never_busy, count_reject};
    int64_t fed[2] = {-1, -1};
    err[0] = '\0';
    quiet_begin();
    sw_source *s = source_create(&kafka_cfg, &kafka_dc, &o, &h, &c, err, sizeof(err));
    int rc = s && source_partitions(s) == 2 ? source_start(s, e, err, sizeof(err)) : -1;
    int drained = rc == 0 ? drain_source(s) : -1;
    if (rc == 0)
        source_fed(s, fed);
    source_destroy(s);
    quiet_end();
    hold();
    uint64_t accepted = sw_engine_stats_get(e)->accepted;
    sw_engine_destroy(e);
    if (rc != 0)
        return failed_cleanly(1, err, "source_create + source_start");
    if (drained != 0)
        return wrong("source_drain", "did not read the topic to its end");
    if (reference) {
        src_ref.messages = c.messages;
        src_ref.accepted = accepted;
        memcpy(src_ref.fed, fed, sizeof(fed));
        src_ref.rejects = src_rejects;
        return c.messages > 0 && accepted > 0 && src_rejects == 1 ? 0 : -1;
    }
    if (c.messages == src_ref.messages && accepted == src_ref.accepted &&
        memcmp(fed, src_ref.fed, sizeof(fed)) == 0 && src_rejects == src_ref.rejects)
        return 0;
    return wrong("source", "read the topic otherwise than the reference");
}

/* soakwatch replay --topic in into a file, byte for byte the reference's.
 * --from is where the rebuild starts at record time -2 (the earliest: the
 * mock cluster's ListOffsets knows no other time). */
static int path_kafka_replay(int reference)
{
    char out[128], ref[128];
    path_in(out, sizeof(out), "kreplay.out.jsonl");
    path_in(ref, sizeof(ref), "kreplay.ref.jsonl");
    FILE *f = fopen(reference ? ref : out, "w");
    if (f == NULL)
        return wrong("kafka_replay_run", "cannot open its output");
    kafka_replay_opts o = {"in", -2 - sw_time_rebuild_from_ms(&kafka_cfg, 0), -1, f, 0, NULL,
                           0, INT64_MIN};
    quiet_begin();
    int rc = kafka_replay_run(&kafka_cfg, &o);
    quiet_end();
    hold();
    fclose(f);
    if (rc != 0)
        return failed_cleanly(1, said, "kafka_replay_run");
    if (reference)
        return has_trigger(ref) ? 0 : wrong("kafka_replay_run", "fired nothing");
    if (same_file(out, ref))
        return 0;
    return wrong("kafka_replay_run", "succeeded with an output unlike the reference's");
}

static void produce_to(rd_kafka_t *p, const char *topic, int partition, const char *value,
                       size_t len, int64_t ts)
{
    /* rd_kafka_produceva: the producev macros are GNU statement expressions */
    rd_kafka_vu_t vu[5];
    vu[0].vtype = RD_KAFKA_VTYPE_TOPIC;
    vu[0].u.cstr = topic;
    vu[1].vtype = RD_KAFKA_VTYPE_PARTITION;
    vu[1].u.i32 = partition;
    vu[2].vtype = RD_KAFKA_VTYPE_VALUE;
    vu[2].u.mem.ptr = (void *)value;
    vu[2].u.mem.size = len;
    vu[3].vtype = RD_KAFKA_VTYPE_TIMESTAMP;
    vu[3].u.i64 = ts;
    vu[4].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
    vu[4].u.i32 = RD_KAFKA_MSG_F_COPY;
    rd_kafka_error_t *e = rd_kafka_produceva(p, vu, 5);
    CHECK(e == NULL);
    if (e)
        rd_kafka_error_destroy(e);
}

/* The history's events in the mock cluster's topic "hist". */
static void fill_history_topic(const char *bootstraps)
{
    char why[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps, why, sizeof(why));
    rd_kafka_t *p = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof(why));
    CHECK(p != NULL);
    if (p == NULL)
        return;
    for (size_t i = 0; i < sizeof(hist_events) / sizeof(hist_events[0]); i++)
        produce_to(p, "hist", (int)i % 2, hist_events[i], strlen(hist_events[i]), T0_MS);
    CHECK_INT(rd_kafka_flush(p, 10000), 0);
    rd_kafka_destroy(p);
}

/* The flat input on two partitions of the mock cluster's topic "in", each
 * record at its event's time, then a line that is not JSON. */
static void fill_input_topic(const char *bootstraps)
{
    char why[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps, why, sizeof(why));
    rd_kafka_t *p = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof(why));
    FILE *f = fopen(flat_in, "r");
    CHECK(p != NULL && f != NULL);
    static char line[1024];
    int64_t ts = T0_MS;
    for (int i = 0; p && f && fgets(line, sizeof(line), f) != NULL; i++) {
        const char *at = strstr(line, "\"ts\":");
        ts = at ? strtoll(at + 5, NULL, 10) : ts;
        produce_to(p, "in", i % 2, line, strcspn(line, "\n"), ts);
    }
    if (f)
        fclose(f);
    if (p) {
        produce_to(p, "in", 1, "garbage", 7, ts);
        CHECK_INT(rd_kafka_flush(p, 10000), 0);
        rd_kafka_destroy(p);
    }
}

/* ---- setup ---------------------------------------------------------------- */

static void setup_files(void)
{
    path_in(stderr_path, sizeof(stderr_path), "stderr");
    path_in(all_options_path, sizeof(all_options_path), "all-options.json");
    path_in(mapped_path, sizeof(mapped_path), "mapped.json");
    path_in(flat_in, sizeof(flat_in), "flat.jsonl");
    path_in(mapped_in, sizeof(mapped_in), "mapped.jsonl.gz");
    path_in(acks_path, sizeof(acks_path), "acks.jsonl");
    path_in(events_path, sizeof(events_path), "replay.ref.jsonl");
    path_in(report_in, sizeof(report_in), "report.in.jsonl");
    path_in(ctl_path, sizeof(ctl_path), "control.jsonl");
    spew(all_options_path, all_options_json);
    spew(mapped_path, mapped_json);
    spew(acks_path, "{\"type\":\"ack\",\"id\":\"error_rate_high:1796153050000\","
                    "\"by\":\"oncall\",\"ts\":1796153100000}\n"
                    "{\"type\":\"ack\",\"id\":\"nothing:1796153000000\",\"by\":\"oncall\","
                    "\"ts\":1796153000000}\n");
    spew(ctl_path, "{\"type\":\"ack\",\"id\":\"error_rate_high:1796153050000\","
                   "\"by\":\"oncall\",\"ts\":1796153100000}\n"
                   "not json\r\n"
                   "{\"type\":\"ack\",\"id\":\"success_rate_low:1796153000000\","
                   "\"by\":\"oncall\",\"ts\":\"2026-12-01T19:30:00Z\"}\n"
                   "{\"type\":\"nack\"}\n");
    write_flat_input(flat_in);
    write_mapped_input(mapped_in);

    config_defaults(&default_cfg);
    config_defaults(&all_cfg);
    CHECK_INT(config_load_file(&all_cfg, all_options_path, err, sizeof(err)), 0);
    config_defaults(&mapped_cfg);
    CHECK_INT(config_load_file(&mapped_cfg, mapped_path, err, sizeof(err)), 0);
}

/* The live parts' Kafka: librdkafka's mock cluster, its topics filled,
 * and the configs that point at it. Returns 0, or -1 without one. */
static rd_kafka_t *mock_rk;
static rd_kafka_mock_cluster_t *mock_mc;

static int setup_kafka(void)
{
    char why[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    /* The cluster's own client has no brokers to connect to: no notice of it. */
    rd_kafka_conf_set(conf, "log_level", "4", why, sizeof(why));
    mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof(why));
    mock_mc = mock_rk ? rd_kafka_mock_cluster_new(mock_rk, 1) : NULL;
    CHECK(mock_mc != NULL);
    if (mock_mc == NULL)
        return -1;
    static const struct {
        const char *name;
        int partitions;
    } topics[] = {{"in", 2}, {"out", 1}, {"dead", 1}, {"hist", 2}, {"ctl", 1}};
    for (size_t i = 0; i < sizeof(topics) / sizeof(topics[0]); i++)
        rd_kafka_mock_topic_create(mock_mc, topics[i].name, topics[i].partitions, 1);
    const char *bootstraps = rd_kafka_mock_cluster_bootstraps(mock_mc);
    fill_input_topic(bootstraps);
    fill_history_topic(bootstraps);
    kafka_cfg = all_cfg;
    snprintf(kafka_cfg.brokers, sizeof(kafka_cfg.brokers), "%s", bootstraps);
    CHECK_INT(pipeline_dec_config(&kafka_cfg, &kafka_dc, err, sizeof(err)), 0);
    hist_now_ms = -2 - sw_time_history_from_ms(&kafka_cfg, 0);

    small_cfg = kafka_cfg;
    sw_kafka_prop *kp = &small_cfg.kafka_props[small_cfg.n_kafka_props++];
    snprintf(kp->key, sizeof(kp->key), "message.max.bytes");
    snprintf(kp->value, sizeof(kp->value), "1000");
    snprintf(big_output, sizeof(big_output), "{\"type\":\"status\",\"pad\":\"%*s\"}",
             (int)sizeof(big_output) - 32, "");

    run_kafka_cfg = kafka_cfg;
    snprintf(run_kafka_cfg.input_topic, sizeof(run_kafka_cfg.input_topic), "in");
    snprintf(run_kafka_cfg.output_topic, sizeof(run_kafka_cfg.output_topic), "out");
    snprintf(run_kafka_cfg.dead_letter_topic, sizeof(run_kafka_cfg.dead_letter_topic), "dead");
    snprintf(run_kafka_cfg.control_topic, sizeof(run_kafka_cfg.control_topic), "ctl");
    snprintf(run_kafka_cfg.http_listen, sizeof(run_kafka_cfg.http_listen), "127.0.0.1:0");
    stdin_cfg = all_cfg;
    snprintf(stdin_cfg.http_listen, sizeof(stdin_cfg.http_listen), "127.0.0.1:0");
    return 0;
}

static void remove_files(void)
{
    static const char *const names[] = {
        "stderr", "all-options.json", "mapped.json", "flat.jsonl", "mapped.jsonl.gz",
        "acks.jsonl", "replay.ref.jsonl", "replay.out.jsonl", "replay-mapped.ref.jsonl",
        "report.in.jsonl", "report.text.ref", "report.html.ref", "report.json.soak.ref", "report.out",
        "check.out", "check.ref", "control.jsonl", "kreplay.ref.jsonl", "kreplay.out.jsonl",
        "stdin.ref.jsonl", "stdin.out.jsonl"};
    char p[128];
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        path_in(p, sizeof(p), names[i]);
        unlink(p);
    }
    rmdir(dir);
}

int main(void)
{
#ifdef SANITIZED
    /* Sanitizer reports go to the real stderr even while a path's is
     * captured, so that a crash under test is seen. */
    __sanitizer_set_report_fd((void *)(intptr_t)dup(STDERR_FILENO));
#endif
    json_set_alloc_funcs(__wrap_malloc, free);
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof(dir), "%s/sw-alloc-XXXXXX", tmp && strlen(tmp) < 40 ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    setup_files();
    setenv("SOAKWATCH_BROKERS", "localhost:9092", 1);
    setenv("SOAKWATCH_HTTP", "127.0.0.1:0", 1);
    setenv("SOAKWATCH_DEAD_LETTER_TOPIC", "", 1);
    loop = ev_loop_new(EVFLAG_AUTO);
    CHECK(loop != NULL);
    if (setup_kafka() != 0)
        return 1;

    static const struct {
        const char *name;
        path_fn fn;
    } paths[] = {
        {"config file (all rule options)", path_config_file},
        {"config file + env + flags (mapped input)", path_config_run},
        {"config dump (check-config --print)", path_config_dump},
        {"pipeline_dec_config (mapped input)", path_dec_config},
        {"sw_engine_create (defaults)", path_engine_default},
        {"sw_engine_create + set_sources (all options)", path_engine_all_options},
        {"sw_engine_create (correlate)", path_engine_mapped},
        {"merge_create", path_merge},
        {"corr_create", path_correlate},
        {"http_server_create (127.0.0.1:0)", path_http},
        {"file_replay_run (flat, acks, provenance)", path_replay_flat},
        {"file_replay_run (mapped input)", path_replay_mapped},
        {"input_check_sample (mapped input)", path_input_check},
        {"report_main --format text", path_report_text},
        {"report_main --format html", path_report_html},
        {"report_main --format json --soak", path_report_json_soak},
        {"outbox_create + outbox_keep", path_outbox},
        {"commit_init", path_commit},
        {"sink_create (file)", path_sink_file},
        {"sink_create (topic, mock cluster)", path_sink_topic},
        {"sink (topic, an output refused)", path_sink_refused},
        {"control_in_file + control_in_poll", path_control_file},
        {"history_builder (take, finish)", path_history},
        {"history_read (mock)", path_history_read},
        {"source_create + start + drain (mock)", path_source},
        {"kafka_replay_run (mock, provenance)", path_kafka_replay},
        {"run_stdin (provenance, control, http)", path_run_stdin},
        {"run_kafka (mock, provenance, control, http)", path_run_kafka},
    };
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
        exercise(paths[i].name, paths[i].fn);
    printf("%d clean failures in all\n", failures_seen);

    free(ref_dump);
    pipeline_dec_free(&kafka_dc);
    rd_kafka_mock_cluster_destroy(mock_mc);
    rd_kafka_destroy(mock_rk);
    ev_loop_destroy(loop);
    unsetenv("SOAKWATCH_BROKERS");
    unsetenv("SOAKWATCH_HTTP");
    unsetenv("SOAKWATCH_DEAD_LETTER_TOPIC");
    remove_files();
    CHECK_DONE();
}
