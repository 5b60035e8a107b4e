/* backtest.c: `soakwatch backtest` (backtest.h). The source (the file
 * replay, or a recorded topic's) reads and decodes the input once; its
 * engine carries every combination of the sweep as a variant over the same
 * windows; transitions become firing spans per combination (score.h),
 * clipped to the instants the source writes, scored at the end and written
 * as a table sorted by an objective, as JSON, or one combination's config.
 *
 * A lateness sweep changes which events count, and a topic is read from
 * further back for longer windows: one pass per lateness and start.
 *
 * Invariant: row 0 is the config as given; row i (1..n) is combination i,
 * and `--row i` prints the config with which `soakwatch replay` fires
 * exactly the triggers the row counts. Memory: the windows once, plus per
 * combination its rules, their states and its firings. */
#include "backtest.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../config.h"
#include "../config_env.h"
#include "../engine.h"
#include "../event.h"
#include "../replay.h"
#include "html.h"
#include "incidents.h"
#include "score.h"
#include "sweep.h"

#define MAX_INCIDENTS 1024

typedef struct bt {
    sw_config *base;
    sweep sw;
    sw_rule *rules;          /* n_combos x base->n_rules */
    int64_t *lateness;       /* per combination: its allowed_lateness_s */
    int64_t *start;          /* per combination: where the source starts reading for it */
    int64_t start0;          /* the same for the config as given */
    bt_spans *spans;         /* 1 + n_combos: row 0 the config as given */
    /* The pass under way: one per lateness, its combinations as variants. */
    const sw_rule **vrules;  /* the pass's variants, into rules */
    int *row_of;             /* variant 0..n_vars -> row, -1: not a row of this pass */
    int n_vars;
    bt_incident inc[MAX_INCIDENTS];
    int n_inc;
    sw_engine *e;
    bt_source src;
    const char *input;       /* --input, for the file source */
    int64_t first_T, last_T; /* the first and last instants written, INT64_MIN: none */
} bt;

typedef struct bt_args {
    const char *input, *config, *incidents, *format, *objective;
    bt_topic_args topic;
    int row;      /* --row N, or -1 */
    int progress; /* -1 auto */
} bt_args;

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One line naming the problem, and exit status 2. */
static int bad(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "soakwatch: backtest: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see soakwatch backtest --help)\n");
    return 2;
}

static int parse_args(int argc, char **argv, bt_args *a, const char **sweeps, int *n_sweeps)
{
    memset(a, 0, sizeof(*a));
    a->row = -1;
    a->progress = -1;
    a->format = "text";
    a->objective = "balanced";
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = strcmp(o, "--progress") != 0 && strcmp(o, "--no-progress") != 0;
        if (takes && v == NULL)
            return bad("%s needs a value", o);
        if (strcmp(o, "--input") == 0) a->input = v;
        else if (strcmp(o, "--config") == 0) a->config = v;
        else if (strcmp(o, "--incidents") == 0) a->incidents = v;
        else if (strcmp(o, "--format") == 0) a->format = v;
        else if (strcmp(o, "--objective") == 0) a->objective = v;
        else if (strcmp(o, "--brokers") == 0) a->topic.brokers = v;
        else if (strcmp(o, "--topic") == 0) a->topic.topic = v;
        else if (strcmp(o, "--from") == 0) a->topic.from = v;
        else if (strcmp(o, "--to") == 0) a->topic.to = v;
        else if (strcmp(o, "--row") == 0) a->row = atoi(v);
        else if (strcmp(o, "--progress") == 0) a->progress = 1;
        else if (strcmp(o, "--no-progress") == 0) a->progress = 0;
        else if (strcmp(o, "--sweep") == 0 && *n_sweeps < SWEEP_MAX_AXES) sweeps[(*n_sweeps)++] = v;
        else if (strcmp(o, "--sweep") == 0) return bad("more than %d sweeps", SWEEP_MAX_AXES);
        else return bad("unknown option %s", o);
        i += takes;
    }
    const bt_topic_args *t = &a->topic;
    int topic = t->brokers || t->topic || t->from || t->to;
    if (a->input && topic)
        return bad("%s", "--input and --brokers/--topic: give one of the two");
    if (a->input == NULL && !topic && a->row < 0)
        return bad("%s", "--input PATH or --brokers B --topic T --from TIME is required");
    if (*n_sweeps == 0)
        return bad("%s", "at least one --sweep is required");
    if (strcmp(a->format, "text") && strcmp(a->format, "json") && strcmp(a->format, "html"))
        return bad("--format %s: text, json or html", a->format);
    if (strcmp(a->objective, "balanced") && strcmp(a->objective, "false_alarms") &&
        strcmp(a->objective, "delay") && strcmp(a->objective, "off"))
        return bad("--objective %s: balanced, false_alarms, delay or off", a->objective);
    return 0;
}

static int load_incidents(bt *b, const char *path)
{
    bt_inc_counts c;
    int rc = incidents_load(path, b->inc, MAX_INCIDENTS, &b->n_inc, &c);
    if (rc == 0)
        fprintf(stderr, "soakwatch: backtest: %s: %d incident%s: %d from spans, %d from "
                "acknowledged rollback triggers, %d from no_go soak verdicts; %ld output "
                "event%s skipped\n", path, b->n_inc, b->n_inc == 1 ? "" : "s", c.spans,
                c.acked, c.verdicts, c.skipped, c.skipped == 1 ? "" : "s");
    return rc;
}

/* The combinations' rules, each a valid config's. */
static int make_variants(bt *b)
{
    int n = b->sw.n_combos, nr = b->base->n_rules;
    char err[768];
    sw_config *tmp = malloc(sizeof(*tmp));
    b->rules = calloc((size_t)n * (size_t)(nr ? nr : 1), sizeof(sw_rule));
    b->lateness = calloc((size_t)n, sizeof(*b->lateness));
    b->start = calloc((size_t)n, sizeof(*b->start));
    b->vrules = calloc((size_t)n, sizeof(*b->vrules));
    b->row_of = calloc((size_t)n + 1, sizeof(*b->row_of));
    b->spans = calloc((size_t)n + 1, sizeof(*b->spans));
    if (tmp == NULL || b->rules == NULL || b->lateness == NULL || b->start == NULL ||
        b->vrules == NULL || b->row_of == NULL || b->spans == NULL) {
        free(tmp);
        fprintf(stderr, "soakwatch: backtest: out of memory for %d combinations\n", n);
        return 1;
    }
    for (int i = 0; i <= n; i++)
        spans_init(&b->spans[i]);
    for (int i = 0; i < n; i++) {
        if (sweep_config(&b->sw, b->base, i, tmp, err, sizeof(err)) != 0) {
            fprintf(stderr, "soakwatch: backtest: %s\n", err);
            free(tmp);
            return 2;
        }
        memcpy(&b->rules[(size_t)i * (size_t)nr], tmp->rules, (size_t)nr * sizeof(sw_rule));
        b->lateness[i] = tmp->allowed_lateness_s;
        b->start[i] = b->src.start_of ? b->src.start_of(b->src.ud, tmp) : 0;
    }
    b->start0 = b->src.start_of ? b->src.start_of(b->src.ud, b->base) : 0;
    free(tmp);
    return 0;
}

static void on_transition(void *ud, int variant, int rule, int64_t T, int firing)
{
    bt *b = ud;
    if (b->row_of[variant] >= 0)
        spans_transition(&b->spans[b->row_of[variant]], rule, T, firing);
}

static sw_engine *create(void *ud, const sw_config *cfg, sw_emit_fn emit, void *emit_ud,
                         char *errstr, size_t errlen)
{
    bt *b = ud;
    b->e = sw_engine_create_variants(cfg, b->vrules, b->n_vars, emit, emit_ud, errstr, errlen);
    if (b->e)
        sw_engine_set_transition_hook(b->e, on_transition, b);
    return b->e;
}

static void drop(void *ud, const sw_output *o)
{
    (void)ud;
    (void)o; /* the config's own events: counted through the transition hook */
}

/* The instants the source writes (a topic's --from .. --to; a file's
 * all): the figures are of what a replay writes. */
static void on_instant(void *ud, int64_t T, const win_counts *second, int emitting)
{
    bt *b = ud;
    (void)second;
    if (!emitting)
        return;
    if (b->first_T == INT64_MIN)
        b->first_T = T;
    b->last_T = T;
}

static void bind(void *ud, sw_engine *e, sw_counters *c, sw_emit_fn next, void *next_ud)
{
    (void)c, (void)next, (void)next_ud;
    sw_engine_set_instant_hook(e, on_instant, ud);
}

/* ---- rows ------------------------------------------------------------- */

static const char *g_objective;

/* Smaller is better, in the objective's order of figures. */
static int cmp_rows(const void *x, const void *y)
{
    const bt_score *a = &((const bt_row *)x)->sc, *b = &((const bt_row *)y)->sc;
    double da = isnan(a->delay_mean_s) ? INFINITY : a->delay_mean_s;
    double db = isnan(b->delay_mean_s) ? INFINITY : b->delay_mean_s;
    int64_t keys_a[4], keys_b[4];
    int first = strcmp(g_objective, "false_alarms") == 0 ? 1 : 0;
    if (strcmp(g_objective, "off") == 0) {
        if (a->off_s != b->off_s)
            return a->off_s < b->off_s ? -1 : 1;
    } else if (strcmp(g_objective, "delay") == 0) {
        if (a->missed != b->missed)
            return a->missed < b->missed ? -1 : 1;
        if (da != db)
            return da < db ? -1 : 1;
    }
    keys_a[0] = first ? a->false_alarms : a->missed;
    keys_b[0] = first ? b->false_alarms : b->missed;
    keys_a[1] = first ? a->missed : a->false_alarms;
    keys_b[1] = first ? b->missed : b->false_alarms;
    for (int k = 0; k < 2; k++)
        if (keys_a[k] != keys_b[k])
            return keys_a[k] < keys_b[k] ? -1 : 1;
    if (da != db)
        return da < db ? -1 : 1;
    if (a->off_s != b->off_s)
        return a->off_s < b->off_s ? -1 : 1;
    return ((const bt_row *)x)->id - ((const bt_row *)y)->id;
}

static void row_label(const bt *b, int id, char *out, size_t cap)
{
    if (id == 0)
        snprintf(out, cap, "(the config as given)");
    else
        sweep_label(&b->sw, b->base, id - 1, out, cap);
}

static void fmt_delay(char *out, size_t cap, double d)
{
    if (isnan(d))
        snprintf(out, cap, "-");
    else
        snprintf(out, cap, "%.1f", d);
}

static void print_text(const bt *b, const bt_row *rows, int n)
{
    printf("%4s %8s %10s %10s %6s %8s %9s %9s  %s\n", "row", "triggers", "firing_s", "off_s",
           "false", "missed", "delay_s", "max_s", "parameters");
    for (int i = 0; i < n; i++) {
        const bt_score *s = &rows[i].sc;
        char label[512], d[32];
        row_label(b, rows[i].id, label, sizeof(label));
        fmt_delay(d, sizeof(d), s->delay_mean_s);
        printf("%4d %8" PRId64 " %10" PRId64 " %10" PRId64 " %6" PRId64 " %8" PRId64
               " %9s %9" PRId64 "  %s\n", rows[i].id, s->triggers, s->firing_s, s->off_s,
               s->false_alarms, s->missed, d, s->delay_max_s, label);
    }
    printf("%d combinations and the config as given, over %d incident%s; sorted by %s. "
           "soakwatch backtest ... --row N prints row N's config for soakwatch replay.\n",
           b->sw.n_combos, b->n_inc, b->n_inc == 1 ? "" : "s", g_objective);
}

/* Row i's firings, as its triggers say them: {"rule", "from_ms" (the
 * firing's at_ms), "to_ms" (the resolution's, null while still firing at
 * the end)}. */
static json_t *row_firings(const bt *b, int id)
{
    const bt_spans *sp = &b->spans[id];
    json_t *a = json_array();
    for (size_t k = 0; a && k < sp->n; k++) {
        int open = b->last_T != INT64_MIN && sp->s[k].to == b->last_T + 1;
        json_t *o = json_pack("{s:s,s:I}", "rule", b->base->rules[sp->rule[k]].name, "from_ms",
                              (json_int_t)sp->s[k].from * 1000);
        if (o)
            json_object_set_new(o, "to_ms", open ? json_null()
                                                 : json_integer((json_int_t)sp->s[k].to * 1000));
        json_array_append_new(a, o);
    }
    return a;
}

static int print_json(const bt *b, const bt_row *rows, int n)
{
    json_t *out = json_array();
    for (int i = 0; out && i < n; i++) {
        const bt_score *s = &rows[i].sc;
        char label[512];
        row_label(b, rows[i].id, label, sizeof(label));
        json_t *o = json_pack("{s:i,s:s,s:I,s:I,s:I,s:I,s:I,s:I}", "row", rows[i].id,
                              "parameters", label, "triggers", (json_int_t)s->triggers,
                              "firing_s", (json_int_t)s->firing_s, "off_s",
                              (json_int_t)s->off_s, "false_alarms",
                              (json_int_t)s->false_alarms, "detected", (json_int_t)s->detected,
                              "missed", (json_int_t)s->missed);
        if (o == NULL)
            break;
        json_object_set_new(o, "delay_mean_s",
                            isnan(s->delay_mean_s) ? json_null() : json_real(s->delay_mean_s));
        json_object_set_new(o, "delay_max_s", s->delay_max_s < 0 ? json_null()
                                                                 : json_integer(s->delay_max_s));
        json_object_set_new(o, "firings", row_firings(b, rows[i].id));
        json_array_append_new(out, o);
    }
    json_t *inc = json_array();
    for (int i = 0; inc && i < b->n_inc; i++)
        json_array_append_new(inc, json_pack("{s:I,s:I}", "start_ms",
                                             (json_int_t)b->inc[i].from * 1000, "end_ms",
                                             (json_int_t)b->inc[i].to * 1000));
    json_t *doc = json_pack("{s:o,s:I,s:o}", "rows", out, "end_ms",
                            (json_int_t)(b->last_T == INT64_MIN ? 0 : b->last_T + 1) * 1000,
                            "incidents", inc);
    out = doc;
    char *text = out ? json_dumps(out, JSON_COMPACT) : NULL;
    json_decref(out);
    if (text == NULL) {
        fprintf(stderr, "soakwatch: backtest: out of memory writing JSON\n");
        return 1;
    }
    puts(text);
    free(text);
    return 0;
}

/* --format html: the page, on stdout. */
static int print_html(const bt *b, const bt_args *a, const bt_row *rows, int n)
{
    char *labels = malloc((size_t)n * 512);
    const char **lp = malloc((size_t)n * sizeof(*lp));
    sw_buf out;
    buf_init(&out, (size_t)64 << 20);
    int rc = labels && lp ? 0 : -1;
    for (int i = 0; rc == 0 && i < n; i++) {
        row_label(b, rows[i].id, labels + (size_t)i * 512, 512);
        lp[i] = labels + (size_t)i * 512;
    }
    bt_page page = {b->src.name, a->objective, b->sw.n_combos, b->n_inc, rows, lp, n};
    if (rc == 0)
        rc = bt_html(&out, &page);
    if (rc == 0 && fwrite(out.data, 1, out.len, stdout) != out.len)
        rc = -1;
    if (rc != 0)
        fprintf(stderr, "soakwatch: backtest: cannot write the HTML page\n");
    buf_free(&out);
    free(lp);
    free(labels);
    return rc ? 1 : 0;
}

/* --row N: the config that gives row N's triggers in a replay. */
static int print_row_config(const bt *b, int row)
{
    char err[768];
    char *doc = NULL;
    sw_config *c = malloc(sizeof(*c));
    if (c == NULL)
        return 1;
    int rc = 0;
    if (row == 0)
        *c = *b->base;
    else if (row > b->sw.n_combos || sweep_config(&b->sw, b->base, row - 1, c, err,
                                                  sizeof(err)) != 0)
        rc = bad("--row %d: no such row (0..%d)", row, b->sw.n_combos);
    if (rc == 0 && config_dump_json(c, &doc) == 0)
        puts(doc);
    else if (rc == 0)
        rc = 1;
    free(doc);
    free(c);
    return rc;
}

/* ---- the command ------------------------------------------------------ */

static int setup(bt *b, const bt_args *a, const char **sweeps, int n_sweeps)
{
    char err[768];
    config_defaults(b->base);
    if (a->config && config_load_file(b->base, a->config, err, sizeof(err)) != 0) {
        fprintf(stderr, "soakwatch: %s\n", err);
        return 2;
    }
    if (b->base->cohorts.enabled) {
        fprintf(stderr, "soakwatch: backtest: %s: cohorts: a config with cohorts is not swept "
                "(docs/semantics.md section 13); backtest it without the cohorts section\n",
                a->config);
        return 2;
    }
    for (int i = 0; i < n_sweeps; i++)
        if (sweep_parse(&b->sw, b->base, sweeps[i], err, sizeof(err)) != 0) {
            fprintf(stderr, "soakwatch: backtest: --sweep %s: %s\n", sweeps[i], err);
            return 2;
        }
    if (a->incidents)
        return load_incidents(b, a->incidents);
    return 0;
}

/* The pass for lateness L read from start S: the combinations with both
 * as variants, and the config as given (row 0) as the engine's own rules
 * when it has them. */
static void plan_pass(bt *b, int64_t L, int64_t S)
{
    b->n_vars = 0;
    b->row_of[0] = b->base->allowed_lateness_s == L && b->start0 == S ? 0 : -1;
    for (int i = 0; i < b->sw.n_combos; i++)
        if (b->lateness[i] == L && b->start[i] == S) {
            b->vrules[b->n_vars++] = &b->rules[(size_t)i * (size_t)b->base->n_rules];
            b->row_of[b->n_vars] = i + 1;
        }
}

static void say_pass(const bt *b, int64_t L, int64_t S, int pass, int passes)
{
    char from[64] = "";
    if (b->src.start_of) {
        memcpy(from, ", reading from ", 16);
        dec_rfc3339_format(S, from + 15, sizeof(from) - 15);
    }
    fprintf(stderr, "soakwatch: backtest: pass %d of %d, allowed_lateness_s %" PRId64
            ", %d combinations%s\n", pass, passes, L, b->n_vars, from);
}

/* One pass over the input at lateness L from start S. Returns 0, or the
 * exit status. */
static int run_pass(bt *b, const bt_args *a, sw_config *cfg, const int64_t LS[2], int pass,
                    int passes)
{
    file_replay_follower f = {drop, b, bind, create};
    *cfg = *b->base;
    cfg->allowed_lateness_s = LS[0];
    plan_pass(b, LS[0], LS[1]);
    if (passes > 1)
        say_pass(b, LS[0], LS[1], pass, passes);
    b->first_T = b->last_T = INT64_MIN;
    int rc = b->src.read(b->src.ud, cfg, LS[1], a->progress, &f);
    if (rc != 0)
        return rc;
    int none = b->last_T == INT64_MIN;
    for (int v = 0; v <= b->n_vars; v++) {
        if (b->row_of[v] < 0)
            continue;
        bt_spans *sp = &b->spans[b->row_of[v]];
        spans_close(sp, none ? 0 : b->first_T, none ? 0 : b->last_T + 1);
        if (sp->oom) {
            fprintf(stderr, "soakwatch: backtest: out of memory keeping firings\n");
            return 1;
        }
    }
    return 0;
}

/* Every combination judged: one pass over the input per lateness and
 * start (one in all when neither varies), the others' parameters as
 * variants of it. */
static int run(bt *b, const bt_args *a)
{
    int rc = make_variants(b);
    if (rc != 0)
        return rc;
    int64_t (*ls)[2] = malloc(((size_t)b->sw.n_combos + 1) * sizeof(*ls));
    sw_config *cfg = malloc(sizeof(*cfg));
    int n = 0;
    if (ls == NULL || cfg == NULL) {
        free(ls);
        free(cfg);
        return 1;
    }
    ls[n][0] = b->base->allowed_lateness_s;
    ls[n++][1] = b->start0;
    for (int i = 0; i < b->sw.n_combos; i++) {
        int seen = 0;
        for (int k = 0; k < n && !seen; k++)
            seen = ls[k][0] == b->lateness[i] && ls[k][1] == b->start[i];
        if (!seen) {
            ls[n][0] = b->lateness[i];
            ls[n++][1] = b->start[i];
        }
    }
    if (n > 1 && a->input && strcmp(a->input, "-") == 0) {
        fprintf(stderr, "soakwatch: backtest: --input -: sweeping allowed_lateness_s reads the "
                "input once per value (%d passes), and standard input can be read once; give "
                "a file\n", n);
        rc = 2;
    }
    for (int k = 0; k < n && rc == 0; k++)
        rc = run_pass(b, a, cfg, ls[k], k + 1, n);
    free(ls);
    free(cfg);
    return rc;
}

static int report(bt *b, const bt_args *a)
{
    int n = b->sw.n_combos + 1;
    bt_row *rows = calloc((size_t)n, sizeof(*rows));
    if (rows == NULL)
        return 1;
    for (int i = 0; i < n; i++) {
        rows[i].id = i;
        score_spans(&b->spans[i], b->inc, b->n_inc, &rows[i].sc, NULL);
    }
    g_objective = a->objective;
    qsort(rows, (size_t)n, sizeof(*rows), cmp_rows);
    int rc = 0;
    if (strcmp(a->format, "json") == 0)
        rc = print_json(b, rows, n);
    else if (strcmp(a->format, "html") == 0)
        rc = print_html(b, a, rows, n);
    else
        print_text(b, rows, n);
    free(rows);
    return rc;
}

static void release(bt *b)
{
    for (int i = 0; b->spans && i <= b->sw.n_combos; i++)
        spans_free(&b->spans[i]);
    free(b->spans);
    free(b->vrules);
    free(b->row_of);
    free(b->lateness);
    free(b->start);
    free(b->rules);
    if (b->src.release)
        b->src.release(b->src.ud);
    free(b->base);
    free(b);
}

/* --input PATH: the file replay, from the file's first line each time. */
static int file_read(void *ud, const sw_config *cfg, int64_t start, int progress,
                     const file_replay_follower *f)
{
    (void)start;
    file_replay_opts o = {((const bt *)ud)->input, NULL, 0, progress, NULL, INT64_MIN};
    return file_replay_run_followed(cfg, &o, f);
}

/* The source of the recording, unless only --row is asked. */
static int open_source(bt *b, const bt_args *a, bt_topic_fn topic)
{
    if (a->row >= 0)
        return 0;
    if (a->input) {
        b->input = a->input;
        b->src = (bt_source){a->input, NULL, file_read, NULL, b};
        return 0;
    }
    if (topic == NULL)
        return bad("%s", "--brokers: this build reads no topics");
    return topic(&a->topic, &b->src);
}

int backtest_main(int argc, char **argv, bt_topic_fn topic)
{
    bt_args a;
    const char *sweeps[SWEEP_MAX_AXES];
    int n_sweeps = 0;
    int rc = parse_args(argc, argv, &a, sweeps, &n_sweeps);
    if (rc != 0)
        return rc;
    bt *b = calloc(1, sizeof(*b));
    if (b == NULL || (b->base = malloc(sizeof(*b->base))) == NULL) {
        free(b);
        fprintf(stderr, "soakwatch: out of memory\n");
        return 1;
    }
    rc = open_source(b, &a, topic);
    if (rc == 0)
        rc = setup(b, &a, sweeps, n_sweeps);
    if (rc == 0 && a.row >= 0)
        rc = print_row_config(b, a.row);
    else if (rc == 0 && (rc = run(b, &a)) == 0)
        rc = report(b, &a);
    release(b);
    return rc;
}
