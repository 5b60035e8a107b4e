/* main.c: the command line. Parses arguments into a config and options and
 * hands over to the mechanism of each subcommand; nothing else lives here.
 * Exit status: 0 success, 1 runtime failure (or NO-GO for report --soak),
 * 2 unusable arguments, missing files or a bad configuration. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backtest/backtest.h"
#include "config.h"
#include "config_env.h"
#include "config_soak.h"
#include "event.h"
#include "input_check.h"
#include "live/live.h"
#include "replay.h"
#include "report/report.h"
#include "report/soak.h"

static const char usage_text[] =
    "usage: soakwatch <command> [options]\n"
    "\n"
    "Decides, from preview-endpoint telemetry, when a staged feature must be rolled back.\n"
    "\n"
    "commands:\n"
    "  replay [--config FILE] [--input PATH|-] [--output PATH|-] [--format json|text]\n"
    "         [--control FILE] [--start TIME] [--soak-start TIME]\n"
    "         [--progress|--no-progress]\n"
    "         Replay a JSON Lines file (plain or gzip; default stdin) and write the\n"
    "         output events (default stdout). A summary line goes to stderr;\n"
    "         progress too when stderr is a terminal. --start: coverage starts there\n"
    "         even before the first event, as a live run's watch start does (its\n"
    "         \"watching from\" line). --control: acknowledgements\n"
    "         of latched triggers.\n"
    "  replay --brokers LIST --topic T --from TIME [--to TIME] [--config FILE]\n"
    "         [--output PATH|-] [--output-topic T2] [--format json|text]\n"
    "         Replay a recorded Kafka topic; TIME is RFC 3339 or epoch milliseconds.\n"
    "  run [--config FILE] [--brokers LIST] [--input-topic T] [--output-topic T]\n"
    "      [--group G] [--dead-letter-topic T] [--control-topic T] [--http ADDR:PORT]\n"
    "      [--soak-start TIME]\n"
    "  run [--config FILE] [--control FILE] [--http ADDR:PORT] [--soak-start TIME]\n"
    "         Live: Kafka to Kafka; with no brokers, stdin to stdout. Acknowledgements\n"
    "         of latched triggers: messages on --control-topic, or lines appended to\n"
    "         the --control file on stdin.\n"
    "  report [--input PATH|-] [--output PATH|-] [--format text|html|json] [--soak]\n"
    "         [--config FILE]\n"
    "         Hourly updates, an HTML timeline, or the soak go/no-go verdict, from\n"
    "         soakwatch output events.\n"
    "  backtest --input PATH|- [--config FILE] --sweep SPEC [--sweep SPEC]...\n"
    "         [--incidents FILE] [--format text|json|html] [--objective balanced|\n"
    "         false_alarms|delay|off] [--row N] [--progress|--no-progress]\n"
    "  backtest --brokers LIST --topic T --from TIME [--to TIME] [--config FILE]\n"
    "         --sweep SPEC [--sweep SPEC]... and the options above\n"
    "         Judge every combination of swept rule parameters (SPEC:\n"
    "         rules[NAME].KEY=LO..HI/STEP or =A,B,C; KEY threshold, resolve_threshold,\n"
    "         min_samples, keep_firing_for_s, confidence or window_s; or\n"
    "         allowed_lateness_s=..., one pass per value) in one pass over a recording:\n"
    "         a file, or a recorded Kafka topic read as replay --brokers reads it,\n"
    "         once per pass (--from/--to: the instants it writes). Triggers, time\n"
    "         firing, time the flag is off, and against --incidents (spans, or output\n"
    "         events whose acknowledged resolutions or no_go soak verdicts mark real\n"
    "         incidents) the detection delays, misses and false alarms. html: the\n"
    "         trade-off chart with its Pareto front. --row N: row N's config.\n"
    "  check-config FILE [--print] [--input SAMPLE [--lines N]]\n"
    "         Validate a config file (exit 0 or 2); --print shows the effective config;\n"
    "         --input reads a sample of real input (JSON Lines, plain or gzip) and says\n"
    "         which rules it lets soakwatch evaluate (exit 1 when one cannot be).\n"
    "\n"
    "  --help, --version\n"
    "\n"
    "Environment (run): SOAKWATCH_BROKERS, SOAKWATCH_INPUT_TOPIC, SOAKWATCH_OUTPUT_TOPIC,\n"
    "SOAKWATCH_GROUP, SOAKWATCH_DEAD_LETTER_TOPIC, SOAKWATCH_CONTROL_TOPIC, SOAKWATCH_HTTP\n"
    "override the config file; command-line flags override both.\n";

/* `soakwatch CMD --help`: the part of usage_text about CMD (its usage lines
 * and what follows them), then the environment note for run. Returns 0,
 * or -1 when CMD is not a command. */
static int command_help(const char *cmd)
{
    size_t cl = strlen(cmd);
    const char *p = strstr(usage_text, "commands:\n");
    int printed = 0, in_cmd = 0;
    while (p && *p) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        int header = n > 2 && p[0] == ' ' && p[1] == ' ' && p[2] != ' ';
        if (header)
            in_cmd = n >= 2 + cl && strncmp(p + 2, cmd, cl) == 0 && (p[2 + cl] == ' ' ||
                                                                     2 + cl == n);
        else if (n == 0)
            in_cmd = 0;
        if (in_cmd) {
            printf("%s%.*s\n", header ? "usage: soakwatch " : "", (int)(header ? n - 2 : n),
                   header ? p + 2 : p);
            printed = 1;
        }
        p = e ? e + 1 : NULL;
    }
    if (printed && strcmp(cmd, "run") == 0)
        fputs(strstr(usage_text, "\nEnvironment") + 1, stdout);
    return printed ? 0 : -1;
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One line naming the problem, and exit status 2. */
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "soakwatch: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see soakwatch --help)\n");
    return 2;
}

/* Copy a flag's value into a bounded config string. */
static int set_str(char *dst, const char *flag, const char *val)
{
    if (strlen(val) > SW_STR_MAX) {
        fprintf(stderr, "soakwatch: %s: value longer than %d bytes\n", flag, SW_STR_MAX);
        return -1;
    }
    strcpy(dst, val);
    return 0;
}

/* Defaults, then the file, then the environment (run only). */
static int load_config(sw_config *cfg, const char *path, int env)
{
    char err[512];
    config_defaults(cfg);
    if (path && config_load_file(cfg, path, err, sizeof(err)) != 0) {
        fprintf(stderr, "soakwatch: %s\n", err);
        return -1;
    }
    if (env && config_apply_env(cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "soakwatch: %s\n", err);
        return -1;
    }
    input_warn_unseeable(cfg, stderr);
    return 0;
}

/* TIME: epoch milliseconds or RFC 3339. */
static int parse_time(const char *s, int64_t *ms)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*s && *end == '\0' && errno == 0 && v >= 0) {
        *ms = v;
        return 0;
    }
    return dec_rfc3339_parse(s, strlen(s), ms);
}

enum {
    OPT_CONFIG = 1000, OPT_INPUT, OPT_OUTPUT, OPT_FORMAT, OPT_BROKERS, OPT_TOPIC,
    OPT_FROM, OPT_TO, OPT_OUTPUT_TOPIC, OPT_INPUT_TOPIC, OPT_GROUP, OPT_DLT, OPT_HTTP,
    OPT_PROGRESS, OPT_NO_PROGRESS, OPT_CONTROL, OPT_CONTROL_TOPIC, OPT_START,
    OPT_SOAK_START,
};

static const struct option long_opts[] = {
    {"config", required_argument, NULL, OPT_CONFIG},
    {"input", required_argument, NULL, OPT_INPUT},
    {"output", required_argument, NULL, OPT_OUTPUT},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"brokers", required_argument, NULL, OPT_BROKERS},
    {"topic", required_argument, NULL, OPT_TOPIC},
    {"from", required_argument, NULL, OPT_FROM},
    {"to", required_argument, NULL, OPT_TO},
    {"output-topic", required_argument, NULL, OPT_OUTPUT_TOPIC},
    {"input-topic", required_argument, NULL, OPT_INPUT_TOPIC},
    {"group", required_argument, NULL, OPT_GROUP},
    {"dead-letter-topic", required_argument, NULL, OPT_DLT},
    {"http", required_argument, NULL, OPT_HTTP},
    {"progress", no_argument, NULL, OPT_PROGRESS},
    {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
    {"control", required_argument, NULL, OPT_CONTROL},
    {"control-topic", required_argument, NULL, OPT_CONTROL_TOPIC},
    {"start", required_argument, NULL, OPT_START},
    {"soak-start", required_argument, NULL, OPT_SOAK_START},
    {NULL, 0, NULL, 0},
};

typedef struct cli_args {
    const char *config, *input, *output, *format, *brokers, *topic, *from, *to;
    const char *output_topic, *input_topic, *group, *dlt, *http, *control, *control_topic;
    const char *start, *soak_start;
    int progress;
} cli_args;

/* Parse the options of replay and run. Returns 0 or an exit status. */
static int parse_args(int argc, char **argv, cli_args *a)
{
    memset(a, 0, sizeof(*a));
    a->progress = -1;
    optind = 1;
    opterr = 0;
    for (;;) {
        int c = getopt_long(argc, argv, ":", long_opts, NULL);
        if (c == -1)
            break;
        switch (c) {
        case OPT_CONFIG: a->config = optarg; break;
        case OPT_INPUT: a->input = optarg; break;
        case OPT_OUTPUT: a->output = optarg; break;
        case OPT_FORMAT: a->format = optarg; break;
        case OPT_BROKERS: a->brokers = optarg; break;
        case OPT_TOPIC: a->topic = optarg; break;
        case OPT_FROM: a->from = optarg; break;
        case OPT_TO: a->to = optarg; break;
        case OPT_OUTPUT_TOPIC: a->output_topic = optarg; break;
        case OPT_INPUT_TOPIC: a->input_topic = optarg; break;
        case OPT_GROUP: a->group = optarg; break;
        case OPT_DLT: a->dlt = optarg; break;
        case OPT_HTTP: a->http = optarg; break;
        case OPT_PROGRESS: a->progress = 1; break;
        case OPT_NO_PROGRESS: a->progress = 0; break;
        case OPT_CONTROL: a->control = optarg; break;
        case OPT_CONTROL_TOPIC: a->control_topic = optarg; break;
        case OPT_START: a->start = optarg; break;
        case OPT_SOAK_START: a->soak_start = optarg; break;
        case ':':
            return usage_error("%s needs a value", argv[optind - 1]);
        default:
            return usage_error("unknown option %s", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument %s", argv[optind]);
    if (a->format && strcmp(a->format, "json") != 0 && strcmp(a->format, "text") != 0)
        return usage_error("--format must be json or text, not %s", a->format);
    return 0;
}

/* --soak-start TIME: the cadence on, from TIME (section 11). Returns 0, or
 * 2 after a usage message. */
static int soak_start_arg(sw_config *cfg, const char *arg)
{
    int64_t ms = 0;
    if (arg == NULL)
        return 0;
    if (config_soak_parse_start(arg, &ms) != 0)
        return usage_error("--soak-start: not RFC 3339 or epoch milliseconds: %s", arg);
    cfg->soak.enabled = 1;
    cfg->soak.start_ms = ms;
    return 0;
}

/* --brokers, --topic, --from and --to of a recorded topic into ko, as
 * replay reads it. Returns 0, or 2 after a usage message. */
static int topic_opts(const char *cmd, const bt_topic_args *t, kafka_replay_opts *ko)
{
    memset(ko, 0, sizeof(*ko));
    ko->topic = t->topic;
    ko->to_ms = -1;
    ko->progress = -1;
    ko->read_from_ms = INT64_MIN;
    if (!t->brokers || !t->topic || !t->from)
        return usage_error("%s from Kafka needs --brokers, --topic and --from", cmd);
    if (parse_time(t->from, &ko->from_ms) != 0)
        return usage_error("--from: not RFC 3339 or epoch milliseconds: %s", t->from);
    if (t->to && parse_time(t->to, &ko->to_ms) != 0)
        return usage_error("--to: not RFC 3339 or epoch milliseconds: %s", t->to);
    if (t->to && ko->to_ms < ko->from_ms)
        return usage_error("%s", "--to is before --from");
    return 0;
}

/* A backtest's recorded topic: each pass a replay of it, as `replay
 * --brokers` reads it, with the backtest as its follower. */
typedef struct bt_topic {
    kafka_replay_opts ko;
    char brokers[SW_STR_MAX + 1];
} bt_topic;

static int64_t bt_topic_start(void *ud, const sw_config *cfg)
{
    return kafka_replay_read_from_ms(cfg, &((bt_topic *)ud)->ko);
}

static int bt_topic_read(void *ud, const sw_config *cfg, int64_t start, int progress,
                         const file_replay_follower *f)
{
    bt_topic *t = ud;
    sw_config *c = malloc(sizeof(*c));
    if (c == NULL) {
        fprintf(stderr, "soakwatch: out of memory\n");
        return 1;
    }
    *c = *cfg;
    memcpy(c->brokers, t->brokers, sizeof(c->brokers));
    kafka_replay_opts o = t->ko;
    o.read_from_ms = start;
    o.progress = progress;
    int rc = kafka_replay_run_followed(c, &o, f);
    free(c);
    return rc;
}

static int bt_topic_open(const bt_topic_args *a, bt_source *out)
{
    bt_topic *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return 1;
    if (topic_opts("backtest", a, &t->ko) != 0 || set_str(t->brokers, "--brokers", a->brokers)) {
        free(t);
        return 2;
    }
    *out = (bt_source){a->topic, bt_topic_start, bt_topic_read, free, t};
    return 0;
}

/* File replay, followed by the soak cadence when it is on. */
static int file_replay_soak(const sw_config *cfg, const cli_args *a, int text, int64_t start_ms)
{
    file_replay_opts o = {a->input, a->output, text, a->progress, a->control, start_ms};
    file_replay_follower follow = {soak_emit, NULL, soak_attach, NULL};
    soak_follower *f = NULL;
    if (cfg->soak.enabled) {
        char err[200];
        f = soak_create(cfg, err, sizeof(err));
        if (f == NULL) {
            fprintf(stderr, "soakwatch: %s\n", err);
            return 1;
        }
        soak_set_text(f, text);
        follow.ud = f;
    }
    int rc = file_replay_run_followed(cfg, &o, f ? &follow : NULL);
    soak_destroy(f);
    return rc;
}

static int cmd_replay(int argc, char **argv)
{
    cli_args a;
    sw_config *cfg = NULL;
    int rc = parse_args(argc, argv, &a);
    if (rc)
        return rc;
    int text = a.format && strcmp(a.format, "text") == 0;
    int kafka = a.brokers || a.topic || a.from || a.to || a.output_topic;
    if (a.input_topic || a.group || a.dlt || a.http || a.control_topic)
        return usage_error("%s", "replay takes no --input-topic, --group, --dead-letter-topic, "
                                 "--control-topic or --http");
    cfg = malloc(sizeof(*cfg));
    if (cfg == NULL)
        return 1;
    if (load_config(cfg, a.config, 0) != 0) {
        free(cfg);
        return 2;
    }
    int64_t start_ms = INT64_MIN;
    if (a.start && parse_time(a.start, &start_ms) != 0) {
        free(cfg);
        return usage_error("--start: not RFC 3339 or epoch milliseconds: %s", a.start);
    }
    if (soak_start_arg(cfg, a.soak_start) != 0) {
        free(cfg);
        return 2;
    }
    if (!kafka) {
        rc = file_replay_soak(cfg, &a, text, start_ms);
        free(cfg);
        return rc;
    }
    rc = 2;
    if (a.input || a.control || a.start) {
        usage_error("%s", "--input, --control and --start are for file replay, not --topic");
        goto out;
    }
    kafka_replay_opts ko;
    bt_topic_args t = {a.brokers, a.topic, a.from, a.to};
    if (topic_opts("replay", &t, &ko) != 0)
        goto out;
    ko.text = text;
    ko.output_topic = a.output_topic;
    ko.progress = a.progress;
    if (set_str(cfg->brokers, "--brokers", a.brokers) != 0)
        goto out;
    FILE *out = stdout;
    int to_file = a.output && strcmp(a.output, "-") != 0;
    if (to_file) {
        out = fopen(a.output, "w");
        if (out == NULL) {
            fprintf(stderr, "soakwatch: cannot open output %s: %s\n", a.output, strerror(errno));
            goto out;
        }
    }
    /* With --output-topic and no --output, events go to the topic only. */
    ko.out = (a.output_topic && !a.output) ? NULL : out;
    rc = kafka_replay_run(cfg, &ko);
    if (to_file && fclose(out) != 0) {
        fprintf(stderr, "soakwatch: writing %s failed: %s\n", a.output, strerror(errno));
        rc = rc ? rc : 1;
    }
out:
    free(cfg);
    return rc;
}

static int cmd_run(int argc, char **argv)
{
    cli_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc)
        return rc;
    if (a.input || a.output || a.format || a.topic || a.from || a.to)
        return usage_error("%s", "run takes --config, --brokers, --input-topic, --output-topic, "
                                 "--group, --dead-letter-topic, --control-topic, --control "
                                 "and --http only");
    sw_config *cfg = malloc(sizeof(*cfg));
    if (cfg == NULL)
        return 1;
    rc = 2;
    if (load_config(cfg, a.config, 1) != 0)
        goto out;
    if ((a.brokers && set_str(cfg->brokers, "--brokers", a.brokers)) ||
        (a.input_topic && set_str(cfg->input_topic, "--input-topic", a.input_topic)) ||
        (a.output_topic && set_str(cfg->output_topic, "--output-topic", a.output_topic)) ||
        (a.group && set_str(cfg->group, "--group", a.group)) ||
        (a.dlt && set_str(cfg->dead_letter_topic, "--dead-letter-topic", a.dlt)) ||
        (a.control_topic && set_str(cfg->control_topic, "--control-topic", a.control_topic)) ||
        (a.http && set_str(cfg->http_listen, "--http", a.http)) ||
        soak_start_arg(cfg, a.soak_start) != 0)
        goto out;
    char err[512];
    if (config_validate(cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "soakwatch: %s\n", err);
        goto out;
    }
    if (a.control && cfg->brokers[0]) {
        usage_error("%s", "--control is for run on stdin; with brokers, use --control-topic");
        goto out;
    }
    if (a.control_topic && !cfg->brokers[0]) {
        usage_error("%s", "--control-topic needs brokers; on stdin, use --control FILE");
        goto out;
    }
    rc = cfg->brokers[0] ? run_kafka(cfg) : run_stdin(cfg, a.control);
out:
    free(cfg);
    return rc;
}

static int cmd_check_config(int argc, char **argv)
{
    const char *path = NULL, *sample = NULL;
    long lines = 100000;
    int print = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--print") == 0) {
            print = 1;
        } else if (strcmp(argv[i], "--input") == 0 && i + 1 < argc) {
            sample = argv[++i];
        } else if (strcmp(argv[i], "--lines") == 0 && i + 1 < argc) {
            char *end;
            lines = strtol(argv[++i], &end, 10);
            if (*end != '\0' || lines < 1)
                return usage_error("--lines: \"%s\" is not a positive number", argv[i]);
        } else if (argv[i][0] == '-' && argv[i][1] != '\0')
            return usage_error("unknown option %s", argv[i]);
        else if (path == NULL)
            path = argv[i];
        else
            return usage_error("unexpected argument %s", argv[i]);
    }
    if (path == NULL)
        return usage_error("%s", "check-config needs a FILE");
    sw_config *cfg = malloc(sizeof(*cfg));
    if (cfg == NULL)
        return 1;
    int rc = 2;
    if (load_config(cfg, path, 0) == 0) {
        rc = 0;
        if (print) {
            char *doc = NULL;
            if (config_dump_json(cfg, &doc) == 0) {
                puts(doc);
                free(doc);
            } else {
                rc = 1;
            }
        } else {
            char fp[17];
            config_fingerprint(cfg, fp);
            printf("%s: ok (%d rules, fingerprint %s)\n", path, cfg->n_rules, fp);
            if (sample)
                rc = input_check_sample(cfg, sample, lines, stdout, stderr);
        }
    }
    free(cfg);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage_text, stderr);
        return 2;
    }
    const char *cmd = argv[1];
    live_set_argv(argv);
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("soakwatch %s\n", SW_VERSION);
        return 0;
    }
    for (int i = 2; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            if (command_help(cmd) == 0)
                return 0;
            break;
        }
    if (strcmp(cmd, "replay") == 0)
        return cmd_replay(argc - 1, argv + 1);
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc - 1, argv + 1);
    if (strcmp(cmd, "report") == 0)
        return report_main(argc - 1, argv + 1);
    if (strcmp(cmd, "check-config") == 0)
        return cmd_check_config(argc - 1, argv + 1);
    if (strcmp(cmd, "backtest") == 0)
        return backtest_main(argc - 1, argv + 1, bt_topic_open);
    return usage_error("unknown command %s", cmd);
}
