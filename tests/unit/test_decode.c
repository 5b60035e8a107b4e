/* test_decode.c: the fast decoder against the jansson reference. Every
 * input of a corpus of tricky cases and of 200,000 deterministic mutations
 * of realistic events must get the same verdict and, when accepted, the same
 * fields from dec_parse and dec_parse_ref; many cases also check the verdict
 * and fields that the contract gives them. Inputs sit at the very end of a
 * mapping followed by an inaccessible page, so a read past the end crashes. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "event.h"
#include "pipeline.h"

#define ANY (-1)
#define SUCC_NAME "stream5.time_crunch_preview_succeeded"
#define S "\"event\":\"" SUCC_NAME "\""
#define F "\"event\":\"stream5.time_crunch_preview_fallback\""
#define Q "\"event\":\"stream5.time_crunch_preview_requested\""
#define D "\"event\":\"stream5.time_crunch_preview_declined\""
#define OKBODY S ",\"ts\":1000,\"durationMs\":5"

static sw_labels strategies, reasons;
static dec_config cfg;
static unsigned char *guard_end; /* first byte of the inaccessible page */
static size_t guard_room;
static long cases_run;

static void setup(void)
{
    static const char *const st[] = {"core_only", "core_plus_accessory", "core_plus_superset",
                                     "core_plus_block", "core_plus_block_and_superset", "none",
                                     "pending", "user_decline"};
    static const char *const rs[] = {"plan_not_compressible", "plan_missing_content",
                                     "internal_error", "plan_not_found", "forbidden",
                                     "unauthorized", "invalid_request", "preview_failed",
                                     "feature_not_available"};
    for (size_t i = 0; i < sizeof(st) / sizeof(st[0]); i++)
        CHECK_INT(labels_add(&strategies, st[i]), 0);
    for (size_t i = 0; i < sizeof(rs) / sizeof(rs[0]); i++)
        CHECK_INT(labels_add(&reasons, rs[i]), 0);
    cfg.event_names[SW_EV_REQUESTED] = "stream5.time_crunch_preview_requested";
    cfg.event_names[SW_EV_SUCCEEDED] = SUCC_NAME;
    cfg.event_names[SW_EV_FALLBACK] = "stream5.time_crunch_preview_fallback";
    cfg.event_names[SW_EV_DECLINED] = "stream5.time_crunch_preview_declined";
    cfg.strategies = &strategies;
    cfg.reasons = &reasons;
    cfg.max_message_bytes = 65536;

    long page = sysconf(_SC_PAGESIZE);
    size_t pages = (70000 + (size_t)page - 1) / (size_t)page;
    unsigned char *m = mmap(NULL, (pages + 1) * (size_t)page, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        perror("mmap");
        exit(2);
    }
    guard_end = m + pages * (size_t)page;
    guard_room = pages * (size_t)page;
    if (mprotect(guard_end, (size_t)page, PROT_NONE) != 0) {
        perror("mprotect");
        exit(2);
    }
}

static void print_input(const char *s, size_t n)
{
    fputs("  input: \"", stderr);
    for (size_t i = 0; i < n && i < 400; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '\\')
            fputc(c, stderr);
        else
            fprintf(stderr, "\\x%02x", c);
    }
    fputs(n > 400 ? "...\"\n" : "\"\n", stderr);
}

static int same_event(const sw_event *a, const sw_event *b)
{
    return a->ts_ms == b->ts_ms && a->status == b->status && a->kind == b->kind &&
           a->has_duration == b->has_duration && a->tc == b->tc && a->strategy == b->strategy &&
           a->reason == b->reason && a->reason_error == b->reason_error &&
           a->informed == b->informed && a->weight == b->weight && a->has_key == b->has_key &&
           a->key == b->key &&
           (!a->has_duration || (memcmp(&a->duration_ms, &b->duration_ms, sizeof(double)) == 0));
}

/* Decode s[0..n) both ways; check they agree, and the verdict when want is
 * not ANY. Returns the verdict; *ev gets the fast path's event. */
static dec_verdict run_n(const dec_config *c, const char *s, size_t n, int want, sw_event *ev)
{
    if (n > guard_room) {
        fprintf(stderr, "input of %zu bytes does not fit the guarded buffer\n", n);
        exit(2);
    }
    unsigned char *at = guard_end - n;
    memcpy(at, s, n);
    sw_event a, b;
    memset(&a, 0xAB, sizeof(a));
    memset(&b, 0xCD, sizeof(b));
    dec_verdict va = dec_parse(c, (const char *)at, n, &a);
    dec_verdict vb = dec_parse_ref(c, (const char *)at, n, &b);
    cases_run++;
    if (va != vb || (va == DEC_OK && !same_event(&a, &b))) {
        fprintf(stderr, "disagreement: fast %s, ref %s\n", dec_verdict_name(va),
                dec_verdict_name(vb));
        if (va == DEC_OK && vb == DEC_OK)
            fprintf(stderr,
                    "  fast ts %lld dur %.17g/%d st %d tc %d sg %d rs %d ie %d\n"
                    "  ref  ts %lld dur %.17g/%d st %d tc %d sg %d rs %d ie %d\n",
                    (long long)a.ts_ms, a.duration_ms, a.has_duration, a.status, a.tc,
                    a.strategy, a.reason, a.reason_error, (long long)b.ts_ms,
                    b.duration_ms, b.has_duration, b.status, b.tc, b.strategy, b.reason,
                    b.reason_error);
        print_input(s, n);
        check_failures++;
    }
    if (want != ANY && (int)va != want) {
        fprintf(stderr, "verdict %s, want %s\n", dec_verdict_name(va),
                dec_verdict_name((dec_verdict)want));
        print_input(s, n);
        check_failures++;
    }
    if (ev != NULL)
        *ev = a;
    return va;
}

static dec_verdict run(const char *s, int want)
{
    return run_n(&cfg, s, strlen(s), want, NULL);
}

static sw_event ok(const char *s)
{
    sw_event ev;
    memset(&ev, 0, sizeof(ev));
    run_n(&cfg, s, strlen(s), DEC_OK, &ev);
    return ev;
}

/* ---- cases with the verdict the contract gives them --------------------- */

typedef struct tcase {
    const char *s;
    int want;
} tcase;

static const tcase cases[] = {
    /* each verdict */
    {"{" OKBODY "}", DEC_OK},
    {"{}", DEC_REJ_EVENT},
    {"[]", DEC_REJ_NOT_OBJECT},
    {"[1,2,{\"event\":1}]", DEC_REJ_NOT_OBJECT},
    {"[{" OKBODY "}]", DEC_REJ_NOT_OBJECT},
    {"\"x\"", DEC_REJ_INVALID_JSON}, /* jansson without JSON_DECODE_ANY: [ or { only */
    {"1", DEC_REJ_INVALID_JSON},
    {"null", DEC_REJ_INVALID_JSON},
    {"true", DEC_REJ_INVALID_JSON},
    {"   ", DEC_REJ_INVALID_JSON},
    {"{\"event\":1}", DEC_REJ_EVENT},
    {"{\"event\":null}", DEC_REJ_EVENT},
    {"{\"event\":[\"" SUCC_NAME "\"]}", DEC_REJ_EVENT},
    {"{\"event\":{\"x\":1}}", DEC_REJ_EVENT},
    {"{\"Event\":\"" SUCC_NAME "\",\"ts\":1,\"durationMs\":1}", DEC_REJ_EVENT},
    {"{\"event\":\"other\"}", DEC_IGNORED},
    {"{\"event\":\"other\",\"ts\":\"bad\",\"status\":-4}", DEC_IGNORED},
    {"{\"event\":\"\"}", DEC_IGNORED},
    {"{\"event\":\"Stream5.time_crunch_preview_succeeded\",\"ts\":1,\"durationMs\":1}", DEC_IGNORED},
    {"{\"event\":\"" SUCC_NAME " \",\"ts\":1,\"durationMs\":1}", DEC_IGNORED},
    {"{\"event\":\"stream5.time_crunch_preview_succeede\",\"ts\":1,\"durationMs\":1}", DEC_IGNORED},
    {"{" S "}", DEC_REJ_TS},
    {"{" S ",\"ts\":\"bad\",\"durationMs\":1}", DEC_REJ_TS},
    {"{" S ",\"ts\":1.5,\"durationMs\":1}", DEC_REJ_TS},
    {"{" S ",\"ts\":1e3,\"durationMs\":1}", DEC_REJ_TS},
    {"{" S ",\"ts\":true,\"durationMs\":1}", DEC_REJ_TS},
    {"{" S ",\"ts\":null,\"durationMs\":1}", DEC_REJ_TS},
    {"{" S ",\"ts\":[1],\"durationMs\":1}", DEC_REJ_TS},
    {"{" S ",\"ts\":\"1000\",\"durationMs\":1}", DEC_REJ_TS},
    {"{" S ",\"ts\":\"2026-02-30T00:00:00Z\",\"durationMs\":1}", DEC_REJ_TS},
    {"{" S ",\"ts\":\"2026-11-26T10:00:00\",\"durationMs\":1}", DEC_REJ_TS},
    {"{" S ",\"ts\":\"2026-11-26 10:00:00Z\",\"durationMs\":1}", DEC_REJ_TS},
    {"{" S ",\"ts\":1}", DEC_REJ_DURATION},
    {"{" S ",\"ts\":1,\"durationMs\":-1}", DEC_REJ_DURATION},
    {"{" S ",\"ts\":1,\"durationMs\":-0.5}", DEC_REJ_DURATION},
    {"{" S ",\"ts\":1,\"durationMs\":\"5\"}", DEC_REJ_DURATION},
    {"{" S ",\"ts\":1,\"durationMs\":null}", DEC_REJ_DURATION},
    {"{" S ",\"ts\":1,\"durationMs\":true}", DEC_REJ_DURATION},
    {"{" S ",\"ts\":1,\"durationMs\":{}}", DEC_REJ_DURATION},
    {"{" F ",\"ts\":1}", DEC_REJ_DURATION},
    {"{" F ",\"ts\":1,\"durationMs\":0}", DEC_OK},
    {"{" Q ",\"ts\":1}", DEC_OK},
    {"{" D ",\"ts\":1,\"durationMs\":\"x\"}", DEC_OK},
    {"{" OKBODY ",\"status\":99}", DEC_REJ_STATUS},
    {"{" OKBODY ",\"status\":600}", DEC_REJ_STATUS},
    {"{" OKBODY ",\"status\":-200}", DEC_REJ_STATUS},
    {"{" OKBODY ",\"status\":200.0}", DEC_REJ_STATUS},
    {"{" OKBODY ",\"status\":2e2}", DEC_REJ_STATUS},
    {"{" OKBODY ",\"status\":\"200\"}", DEC_REJ_STATUS},
    {"{" OKBODY ",\"status\":null}", DEC_REJ_STATUS},
    {"{" OKBODY ",\"status\":[200]}", DEC_REJ_STATUS},
    {"{" OKBODY ",\"status\":100}", DEC_OK},
    {"{" OKBODY ",\"status\":599}", DEC_OK},
    {"{" OKBODY ",\"meetsTimeConstraint\":\"true\"}", DEC_REJ_TIME_CONSTRAINT},
    {"{" OKBODY ",\"meetsTimeConstraint\":1}", DEC_REJ_TIME_CONSTRAINT},
    {"{" OKBODY ",\"meetsTimeConstraint\":null}", DEC_REJ_TIME_CONSTRAINT},
    {"{" OKBODY ",\"meetsTimeConstraint\":{}}", DEC_REJ_TIME_CONSTRAINT},
    {"{" OKBODY ",\"meetsTimeConstraint\":false}", DEC_OK},
    /* the order of the checks */
    {"{" S ",\"ts\":\"x\",\"durationMs\":-1,\"status\":1}", DEC_REJ_TS},
    {"{" S ",\"ts\":1,\"durationMs\":-1,\"status\":1}", DEC_REJ_DURATION},
    {"{" OKBODY ",\"status\":1,\"meetsTimeConstraint\":1}", DEC_REJ_STATUS},
    {"{\"status\":1,\"ts\":\"x\"," S "}", DEC_REJ_TS},
    {"{\"ts\":\"x\"}", DEC_REJ_EVENT},
    {"{\"event\":\"nope\",\"x\":01}", DEC_REJ_INVALID_JSON},
    /* duplicate keys: the last one wins */
    {"{\"event\":\"x\"," OKBODY "}", DEC_OK},
    {"{" OKBODY ",\"event\":\"x\"}", DEC_IGNORED},
    {"{" OKBODY ",\"event\":5}", DEC_REJ_EVENT},
    {"{" OKBODY ",\"ts\":\"bad\"}", DEC_REJ_TS},
    {"{" S ",\"ts\":\"bad\",\"ts\":7,\"durationMs\":5}", DEC_OK},
    {"{" OKBODY ",\"durationMs\":-5}", DEC_REJ_DURATION},
    {"{" S ",\"ts\":1,\"durationMs\":-5,\"durationMs\":5}", DEC_OK},
    {"{" OKBODY ",\"status\":1,\"status\":200}", DEC_OK},
    {"{" OKBODY ",\"status\":200,\"status\":1}", DEC_REJ_STATUS},
    {"{" OKBODY ",\"meetsTimeConstraint\":true,\"meetsTimeConstraint\":0}", DEC_REJ_TIME_CONSTRAINT},
    {"{" OKBODY ",\"meetsTimeConstraint\":0,\"meetsTimeConstraint\":true}", DEC_OK},
    /* escapes in keys and values */
    {"{\"\\u0065vent\":\"" SUCC_NAME "\",\"ts\":1,\"durationMs\":1}", DEC_OK},
    {"{\"event\":\"stream5.time_crunch_preview_succ\\u0065eded\",\"ts\":1,\"durationMs\":1}", DEC_OK},
    {"{\"event\":\"stream5\\/time_crunch_preview_succeeded\",\"ts\":1,\"durationMs\":1}", DEC_IGNORED},
    {"{\"event\":\"stream5.time_crunch_preview_succeeded\\u0000\",\"ts\":1}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"x\":\"\\u0000\"}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"\\u0000\":1}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"x\":\"\\ud83d\\ude00\"}", DEC_OK},
    {"{" OKBODY ",\"x\":\"\\uD83D\\uDE00\"}", DEC_OK},
    {"{" OKBODY ",\"x\":\"\\ud83d\"}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"x\":\"\\ude00\"}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"x\":\"\\ude00\\ud83d\"}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"x\":\"\\ud83d\\u0041\"}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"x\":\"\\ud83d\\ud83d\"}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"x\":\"\\ud83dx\"}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"x\":\"\\ud83d\\\"}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"x\":\"\\ud83d\\n\"}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"x\":\"\\x\"}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"x\":\"\\'\"}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"x\":\"\\u12\"}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"x\":\"\\u12G4\"}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"x\":\"\\U0041\"}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"x\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}", DEC_OK},
    {"{" OKBODY ",\"x\":\"\\u00e9\\u20ac\\u0001\\u007f\"}", DEC_OK},
    {"{" OKBODY ",\"x\":\"\\\\\"}", DEC_OK},
    {"{" OKBODY ",\"x\":\"\\\"}", DEC_REJ_INVALID_JSON},
    /* UTF-8 */
    {"{" OKBODY ",\"x\":\"caf\xc3\xa9\"}", DEC_OK},
    {"{" OKBODY ",\"x\":\"\xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf\"}", DEC_OK},
    {"{" OKBODY ",\"x\xc3\xa9\":1}", DEC_OK},
    {"{" OKBODY ",\"x\":\"\xc3\"}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"x\":\"\xc3(\"}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"x\":\"\xc0\x80\"}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"x\":\"\xc1\xbf\"}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"x\":\"\xe0\x80\xaf\"}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"x\":\"\xe0\x9f\xbf\"}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"x\":\"\xed\xa0\x80\"}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"x\":\"\xed\xbf\xbf\"}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"x\":\"\xee\x80\x80\"}", DEC_OK},
    {"{" OKBODY ",\"x\":\"\xf0\x8f\xbf\xbf\"}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"x\":\"\xf4\x90\x80\x80\"}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"x\":\"\xf5\x80\x80\x80\"}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"x\":\"\xff\"}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"x\":\"\x80\"}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"x\":\"\xbf\"}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"x\":\"\xf0\x9f\x98\"}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"x\":\"\\u0041\xc3\xa9\\u0042\"}", DEC_OK},
    {"{" OKBODY "}\xc3\xa9", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\xc3\xa9:1}", DEC_REJ_INVALID_JSON},
    /* control characters */
    {"{" OKBODY ",\"x\":\"a\tb\"}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"x\":\"a\nb\"}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"x\":\"\x1f\"}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"x\":\"\x7f\"}", DEC_OK},
    {"{" OKBODY ",\"x\x01\":1}", DEC_REJ_INVALID_JSON},
    /* numbers, in an unknown field */
    {"{" OKBODY ",\"n\":-0}", DEC_OK},
    {"{" OKBODY ",\"n\":1e3}", DEC_OK},
    {"{" OKBODY ",\"n\":1E+3}", DEC_OK},
    {"{" OKBODY ",\"n\":1e-3}", DEC_OK},
    {"{" OKBODY ",\"n\":0.5}", DEC_OK},
    {"{" OKBODY ",\"n\":-0.0e0}", DEC_OK},
    {"{" OKBODY ",\"n\":01}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"n\":-01}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"n\":00}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"n\":1.}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"n\":.5}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"n\":1.e5}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"n\":1e}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"n\":1e+}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"n\":1.5.3}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"n\":-}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"n\":--1}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"n\":+1}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"n\":0x10}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"n\":NaN}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"n\":Infinity}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"n\":-Infinity}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"n\":9223372036854775807}", DEC_OK},
    {"{" OKBODY ",\"n\":9223372036854775808}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"n\":-9223372036854775808}", DEC_OK},
    {"{" OKBODY ",\"n\":-9223372036854775809}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"n\":18446744073709551616}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"n\":123456789012345678901234567890}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"n\":9223372036854775808.0}", DEC_OK},
    {"{" OKBODY ",\"n\":1e308}", DEC_OK},
    {"{" OKBODY ",\"n\":1.7976931348623157e308}", DEC_OK},
    {"{" OKBODY ",\"n\":1.8e308}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"n\":1e309}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"n\":-1e309}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"n\":1e99999999999999999999}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"n\":0e400}", DEC_OK},
    {"{" OKBODY ",\"n\":1e-400}", DEC_OK},
    {"{" OKBODY ",\"n\":4.9e-324}", DEC_OK},
    {"{" OKBODY ",\"n\":1e-99999999999999999999}", DEC_OK},
    {"{" OKBODY ",\"n\":1x}", DEC_REJ_INVALID_JSON},
    /* literals */
    {"{" OKBODY ",\"b\":true,\"c\":false,\"d\":null}", DEC_OK},
    {"{" OKBODY ",\"b\":tru}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"b\":truee}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"b\":True}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"b\":nul}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"b\":nulll}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"b\":falsy}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"b\":true1}", DEC_REJ_INVALID_JSON},
    /* nesting and containers */
    {"{" OKBODY ",\"x\":{\"a\":[1,{\"b\":null}],\"c\":{}}}", DEC_OK},
    {"{" OKBODY ",\"x\":[]}", DEC_OK},
    {"{" OKBODY ",\"x\":[1,]}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"x\":[}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"x\":{\"ts\":\"bad\"}}", DEC_OK},
    {"{" OKBODY ",\"x\":{\"a\":9223372036854775808}}", DEC_REJ_INVALID_JSON},
    {"{\"x\":[\"event\"]," OKBODY "}", DEC_OK},
    {"{" OKBODY ",\"compressionStrategy\":[\"core_only\"]}", DEC_OK},
    /* structure */
    {"{" OKBODY ",}", DEC_REJ_INVALID_JSON},
    {"{," OKBODY "}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",,\"x\":1}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"x\"}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"x\":}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",\"x\"::1}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY " \"x\":1}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",'x':1}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",x:1}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY ",1:1}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY "", DEC_REJ_INVALID_JSON},
    {"{" OKBODY "}}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY "}{}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY "},", DEC_REJ_INVALID_JSON},
    {"{" OKBODY "}x", DEC_REJ_INVALID_JSON},
    {"{" OKBODY "}//", DEC_REJ_INVALID_JSON},
    {"{" OKBODY "}]", DEC_REJ_INVALID_JSON},
    {"{}}", DEC_REJ_INVALID_JSON},
    {"{", DEC_REJ_INVALID_JSON},
    {"}", DEC_REJ_INVALID_JSON},
    {"{\"\":1}", DEC_REJ_EVENT},
    /* whitespace */
    {" \t\r\n{ \t\r\n\"event\" \t\r\n: \"" SUCC_NAME "\" ,\n\"ts\"\t:\r1 ,\"durationMs\" : 5 \n} \r\n\t", DEC_OK},
    {"\f{" OKBODY "}", DEC_REJ_INVALID_JSON},
    {"\v{" OKBODY "}", DEC_REJ_INVALID_JSON},
    {"{" OKBODY "}\f", DEC_REJ_INVALID_JSON},
    {"\xc2\xa0{" OKBODY "}", DEC_REJ_INVALID_JSON},
    {"{\xc2\xa0" OKBODY "}", DEC_REJ_INVALID_JSON},
    {"\xef\xbb\xbf{" OKBODY "}", DEC_REJ_INVALID_JSON},
    /* labels */
    {"{" OKBODY ",\"compressionStrategy\":\"zzz\",\"reason\":\"zzz\"}", DEC_OK},
    {"{" OKBODY ",\"compressionStrategy\":5,\"reason\":false}", DEC_OK},
    {"{" OKBODY ",\"compressionStrategy\":null,\"reason\":{}}", DEC_OK},
};

/* Inputs with NUL bytes or an explicit length. */
static void nul_cases(void)
{
    static const char ok_body[] = "{" OKBODY "}";
    char b[256];
    size_t n = sizeof(ok_body) - 1;
    run_n(&cfg, "", 0, DEC_REJ_INVALID_JSON, NULL);
    run_n(&cfg, "\0", 1, DEC_REJ_INVALID_JSON, NULL);
    memcpy(b, ok_body, n);
    b[n] = '\0';
    run_n(&cfg, b, n + 1, DEC_REJ_INVALID_JSON, NULL);
    run_n(&cfg, b, n, DEC_OK, NULL);
    b[0] = '\0';
    memcpy(b + 1, ok_body, n);
    run_n(&cfg, b, n + 1, DEC_REJ_INVALID_JSON, NULL);
    /* a NUL inside the event name, between tokens, in a number */
    static const char in_str[] = "{\"event\":\"stream5\0x\",\"ts\":1}";
    run_n(&cfg, in_str, sizeof(in_str) - 1, DEC_REJ_INVALID_JSON, NULL);
    static const char between[] = "{" OKBODY ",\0\"x\":1}";
    run_n(&cfg, between, sizeof(between) - 1, DEC_REJ_INVALID_JSON, NULL);
    /* jansson's lexer reads one character past a number or a literal and
     * puts it back; a NUL put back is lost, so exactly one NUL there is
     * skipped. The contract is jansson's reading, quirks included. */
    static const char in_num[] = "{" OKBODY ",\"x\":1\0}";
    run_n(&cfg, in_num, sizeof(in_num) - 1, DEC_OK, NULL);
    static const char after_real[] = "{" OKBODY ",\"x\":1.5e3\0 , \"y\":2}";
    run_n(&cfg, after_real, sizeof(after_real) - 1, DEC_OK, NULL);
    static const char after_lit[] = "{" OKBODY ",\"x\":true\0,\"y\":null\0}";
    run_n(&cfg, after_lit, sizeof(after_lit) - 1, DEC_OK, NULL);
    static const char two_nuls[] = "{" OKBODY ",\"x\":1\0\0}";
    run_n(&cfg, two_nuls, sizeof(two_nuls) - 1, DEC_REJ_INVALID_JSON, NULL);
    static const char after_str[] = "{" OKBODY ",\"x\":\"s\"\0}";
    run_n(&cfg, after_str, sizeof(after_str) - 1, DEC_REJ_INVALID_JSON, NULL);
    static const char after_ws[] = "{" OKBODY ",\"x\":1 \0}";
    run_n(&cfg, after_ws, sizeof(after_ws) - 1, DEC_REJ_INVALID_JSON, NULL);
    static const char dur_nul[] = "{" S ",\"ts\":7\0,\"durationMs\":5\0}";
    sw_event ev;
    run_n(&cfg, dur_nul, sizeof(dur_nul) - 1, DEC_OK, &ev);
    CHECK_INT(ev.ts_ms, 7);
    CHECK_DBL(ev.duration_ms, 5, 0);
    /* the buffer is not NUL-terminated: a valid prefix followed by garbage,
     * cut at the end of the valid part */
    static const char cut[] = "{" OKBODY "}garbage";
    run_n(&cfg, cut, n, DEC_OK, NULL);
}

/* Decoded fields, as the contract gives them. */
static void field_cases(void)
{
    sw_event ev = ok("{\"event\":\"stream5.time_crunch_preview_succeeded\",\"ts\":\"2026-11-26T10:"
                     "00:00.123Z\",\"durationMs\":812,\"status\":200,\"compressionStrategy\":"
                     "\"core_plus_accessory\",\"meetsTimeConstraint\":true,\"planId\":\"plan-8f2c\","
                     "\"targetMinutes\":45,\"userId\":\"u-1234\",\"source\":\"gateway-bff\"}");
    /* 2026-11-26 is day 20454 + 329 = 20783 since 1970-01-01 */
    CHECK_INT(ev.ts_ms, (20783LL * 86400 + 10 * 3600) * 1000 + 123);
    CHECK_INT(ev.kind, SW_EV_SUCCEEDED);
    CHECK_INT(ev.has_duration, 1);
    CHECK_DBL(ev.duration_ms, 812, 0);
    CHECK_INT(ev.status, 200);
    CHECK_INT(ev.strategy, 1);
    CHECK_INT(ev.tc, 1);
    CHECK_INT(ev.reason, LABEL_NONE);
    CHECK_INT(ev.reason_error, 0);

    ev = ok("{\"event\":\"stream5.time_crunch_preview_fallback\",\"ts\":1700000000000,"
            "\"durationMs\":12.5,\"compressionStrategy\":\"none\",\"reason\":\"internal_error\"}");
    CHECK_INT(ev.kind, SW_EV_FALLBACK);
    CHECK_INT(ev.ts_ms, 1700000000000LL);
    CHECK_DBL(ev.duration_ms, 12.5, 0);
    CHECK_INT(ev.status, 0);
    CHECK_INT(ev.tc, -1);
    CHECK_INT(ev.strategy, 5);
    CHECK_INT(ev.reason, 2);
    CHECK_INT(ev.reason_error, 1);

    ev = ok("{" Q ",\"ts\":-5}");
    CHECK_INT(ev.kind, SW_EV_REQUESTED);
    CHECK_INT(ev.ts_ms, -5);
    CHECK_INT(ev.has_duration, 0);
    CHECK_INT(ev.strategy, LABEL_NONE);
    ev = ok("{" Q ",\"ts\":1,\"durationMs\":-3}");
    CHECK_INT(ev.has_duration, 0);
    ev = ok("{" D ",\"ts\":1,\"durationMs\":2.5}");
    CHECK_INT(ev.kind, SW_EV_DECLINED);
    CHECK_INT(ev.has_duration, 1);
    CHECK_DBL(ev.duration_ms, 2.5, 0);
    ev = ok("{" D ",\"ts\":9223372036854775807}");
    CHECK_INT(ev.ts_ms, INT64_MAX);
    ev = ok("{" D ",\"ts\":-9223372036854775808}");
    CHECK_INT(ev.ts_ms, INT64_MIN);

    /* durationMs number forms */
    ev = ok("{" S ",\"ts\":1,\"durationMs\":1e3}");
    CHECK_DBL(ev.duration_ms, 1000, 0);
    ev = ok("{" S ",\"ts\":1,\"durationMs\":-0}");
    CHECK_DBL(ev.duration_ms, 0, 0);
    ev = ok("{" S ",\"ts\":1,\"durationMs\":-0.0}");
    CHECK_DBL(ev.duration_ms, 0, 0);
    ev = ok("{" S ",\"ts\":1,\"durationMs\":1e-400}");
    CHECK_DBL(ev.duration_ms, 0, 0);
    ev = ok("{" S ",\"ts\":1,\"durationMs\":0.1}");
    CHECK(ev.duration_ms == 0.1);
    ev = ok("{" S ",\"ts\":1,\"durationMs\":9223372036854775807}");
    CHECK(ev.duration_ms == 9223372036854775807.0);
    ev = ok("{" S ",\"ts\":1,\"durationMs\":1.7976931348623157e308}");
    CHECK(ev.duration_ms == 1.7976931348623157e308);

    /* duplicates: the last one wins */
    ev = ok("{" OKBODY ",\"ts\":\"bad\",\"ts\":42}");
    CHECK_INT(ev.ts_ms, 42);
    ev = ok("{" OKBODY ",\"status\":1,\"status\":503}");
    CHECK_INT(ev.status, 503);
    ev = ok("{" OKBODY ",\"meetsTimeConstraint\":true,\"meetsTimeConstraint\":false}");
    CHECK_INT(ev.tc, 0);
    ev = ok("{" OKBODY ",\"compressionStrategy\":\"core_only\",\"compressionStrategy\":5}");
    CHECK_INT(ev.strategy, LABEL_NONE);
    ev = ok("{" OKBODY ",\"compressionStrategy\":5,\"compressionStrategy\":\"core_only\"}");
    CHECK_INT(ev.strategy, 0);
    ev = ok("{" OKBODY ",\"reason\":\"internal_error\",\"reason\":\"forbidden\"}");
    CHECK_INT(ev.reason, 4);
    CHECK_INT(ev.reason_error, 0);
    ev = ok("{" OKBODY ",\"durationMs\":7}");
    CHECK_DBL(ev.duration_ms, 7, 0);

    /* escapes are undone before names and values are compared */
    ev = ok("{" OKBODY ",\"\\u0074s\":5}");
    CHECK_INT(ev.ts_ms, 5);
    ev = ok("{" OKBODY ",\"compressionStrategy\":\"core\\u005fonly\"}");
    CHECK_INT(ev.strategy, 0);
    ev = ok("{" OKBODY ",\"reason\":\"internal\\u005ferror\"}");
    CHECK_INT(ev.reason, 2);
    CHECK_INT(ev.reason_error, 1);
    ev = ok("{" OKBODY ",\"reason\":\"Internal_error\"}");
    CHECK_INT(ev.reason, reasons.n);
    CHECK_INT(ev.reason_error, 0);
    ev = ok("{" OKBODY ",\"compressionStrategy\":\"zzz\"}");
    CHECK_INT(ev.strategy, strategies.n);
    ev = ok("{" OKBODY ",\"\\u0063ompressionStrategy\":\"\\u0063\\u006f\\u0072\\u0065_only\"}");
    CHECK_INT(ev.strategy, 0);
    ev = ok("{" S ",\"ts\":\"2026-11-26T10:00:00.123\\u002b01:00\",\"durationMs\":1}");
    CHECK_INT(ev.ts_ms, (20783LL * 86400 + 9 * 3600) * 1000 + 123);
    ev = ok("{" OKBODY ",\"st\\u0061tus\":404}");
    CHECK_INT(ev.status, 404);
    run("{" OKBODY ",\"status\\u0000\":1}", DEC_REJ_INVALID_JSON); /* a NUL in a key */
}

/* Long strings and keys: past the fast path's copy buffers. */
static void long_cases(void)
{
    char b[4096];
    char pad[600];
    memset(pad, 'a', sizeof(pad) - 1);
    pad[sizeof(pad) - 1] = '\0';
    snprintf(b, sizeof(b), "{" OKBODY ",\"reason\":\"\\u0041%s\"}", pad);
    sw_event ev = ok(b);
    CHECK_INT(ev.reason, reasons.n);
    snprintf(b, sizeof(b), "{" OKBODY ",\"reason\":\"%s\"}", pad);
    ev = ok(b);
    CHECK_INT(ev.reason, reasons.n);
    snprintf(b, sizeof(b), "{" OKBODY ",\"\\u0041%s\":\"\\u0041%s\"}", pad, pad);
    run(b, DEC_OK);
    snprintf(b, sizeof(b), "{\"event\":\"\\u0041%s\",\"ts\":1}", pad);
    run(b, DEC_IGNORED);
    snprintf(b, sizeof(b), "{" S ",\"ts\":\"2026-11-26T10:00:00.%.500s\\u005a\",\"durationMs\":1}",
             "1234567890123456789012345678901234567890123456789012345678901234567890"
             "1234567890123456789012345678901234567890123456789012345678901234567890"
             "1234567890123456789012345678901234567890123456789012345678901234567890");
    ev = ok(b);
    CHECK_INT(ev.ts_ms, (20783LL * 86400 + 10 * 3600) * 1000 + 123);
    /* escapes around the copy buffer's size */
    for (int k = 100; k < 140; k++) {
        snprintf(b, sizeof(b), "{" OKBODY ",\"reason\":\"%.*s\\u00e9\\n\xc3\xa9\"}", k, pad);
        run(b, DEC_OK);
        snprintf(b, sizeof(b), "{" OKBODY ",\"\\u0041%.*s\":1}", k, pad);
        run(b, DEC_OK);
    }
    /* a real too long for the fast path's number buffer */
    char num[400];
    memset(num, '1', sizeof(num));
    snprintf(b, sizeof(b), "{" S ",\"ts\":1,\"durationMs\":0.%.300s}", num);
    run(b, DEC_OK);
    snprintf(b, sizeof(b), "{" OKBODY ",\"x\":%.350s.5}", num);
    run(b, DEC_REJ_INVALID_JSON); /* 1.1e349 overflows a double */
    snprintf(b, sizeof(b), "{" OKBODY ",\"x\":%.305s.5}", num);
    run(b, DEC_OK);
    snprintf(b, sizeof(b), "{" OKBODY ",\"x\":%.309s.5}", num); /* 1.1e308: fits */
    run(b, DEC_OK);
    snprintf(b, sizeof(b), "{" OKBODY ",\"x\":%.310s.5}", num);
    run(b, DEC_REJ_INVALID_JSON);
}

static void size_cases(void)
{
    static char big[65538];
    static const char head[] = "{" OKBODY ",\"pad\":\"";
    size_t hn = sizeof(head) - 1;
    /* exactly the cap: accepted; one more byte: too large */
    for (size_t total = 65535; total <= 65537; total++) {
        memcpy(big, head, hn);
        memset(big + hn, 'p', total - hn - 2);
        memcpy(big + total - 2, "\"}", 2);
        run_n(&cfg, big, total, total <= 65536 ? DEC_OK : DEC_REJ_TOO_LARGE, NULL);
    }
    dec_config small = cfg;
    small.max_message_bytes = 20;
    run_n(&small, "{\"event\":\"x\",\"y\":1}", 19, DEC_IGNORED, NULL);
    run_n(&small, "{\"event\":\"x\",\"y\":12}", 20, DEC_IGNORED, NULL);
    run_n(&small, "{\"event\":\"x\",\"y\":123}", 21, DEC_REJ_TOO_LARGE, NULL);
    run_n(&small, "not json at all, and long", 25, DEC_REJ_TOO_LARGE, NULL);
}

static void nesting_cases(void)
{
    static char b[8300];
    /* jansson counts every value's depth, the object being 1: arrays at
     * depths 2..2048 are fine, one more is refused */
    for (int depth = 2040; depth <= 2060; depth++) {
        size_t n = 0;
        n += (size_t)snprintf(b, sizeof(b), "{" OKBODY ",\"x\":");
        for (int i = 0; i < depth; i++)
            b[n++] = '[';
        for (int i = 0; i < depth; i++)
            b[n++] = ']';
        b[n++] = '}';
        run_n(&cfg, b, n, depth <= 2047 ? DEC_OK : DEC_REJ_INVALID_JSON, NULL);
    }
    size_t n = 0;
    for (int i = 0; i < 4000; i++)
        b[n++] = '[';
    run_n(&cfg, b, n, DEC_REJ_INVALID_JSON, NULL);
}

/* Every prefix of a valid event is invalid (its object is not closed), and
 * every prefix followed by whitespace too. */
static void truncation_cases(void)
{
    static const char typical[] =
        "{\"event\":\"stream5.time_crunch_preview_succeeded\",\"ts\":\"2026-11-26T10:00:00.123Z\","
        "\"durationMs\":812,\"status\":200,\"compressionStrategy\":\"core_plus_accessory\","
        "\"meetsTimeConstraint\":true,\"planId\":\"plan-8f2c\",\"targetMinutes\":45,"
        "\"userId\":\"u-1234\",\"source\":\"gateway-bff\",\"x\":\"\\u00e9\xc3\xa9\\ud83d\\ude00\","
        "\"y\":[1,{\"z\":-1.5e-3}],\"w\":null,\"v\":false}";
    size_t n = sizeof(typical) - 1;
    char b[512];
    for (size_t k = 0; k < n; k++) {
        run_n(&cfg, typical, k, DEC_REJ_INVALID_JSON, NULL);
        memcpy(b, typical, k);
        b[k] = ' ';
        run_n(&cfg, b, k + 1, DEC_REJ_INVALID_JSON, NULL);
    }
    run_n(&cfg, typical, n, DEC_OK, NULL);
    /* every single byte deleted */
    for (size_t k = 0; k < n; k++) {
        memcpy(b, typical, k);
        memcpy(b + k, typical + k + 1, n - k - 1);
        run_n(&cfg, b, n - 1, ANY, NULL);
    }
}

/* ---- randomized mutations ---------------------------------------------- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t rng(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    rng_state = x;
    return x;
}

static const char *const seeds[] = {
    ("{\"event\":\"stream5.time_crunch_preview_succeeded\",\"ts\":\"2026-11-26T10:00:00.123Z\","
    "\"durationMs\":812,\"status\":200,\"compressionStrategy\":\"core_plus_accessory\","
    "\"meetsTimeConstraint\":true,\"planId\":\"plan-8f2c\",\"targetMinutes\":45,"
    "\"userId\":\"u-1234\",\"source\":\"gateway-bff\"}"),
    ("{\"event\":\"stream5.time_crunch_preview_fallback\",\"ts\":1795687200123,\"durationMs\":"
    "40.25,\"status\":500,\"compressionStrategy\":\"none\",\"reason\":\"internal_error\","
    "\"planId\":\"plan-1\",\"targetMinutes\":15,\"source\":\"planning-engine\"}"),
    ("{\"event\":\"stream5.time_crunch_preview_requested\",\"ts\":\"2026-11-26T11:00:00+01:00\","
    "\"compressionStrategy\":\"pending\",\"planId\":\"p\",\"targetMinutes\":180,\"source\":"
    "\"frontend\"}"),
    ("{\"event\":\"stream5.time_crunch_preview_declined\",\"ts\":1795687200999,\"reason\":"
    "\"after_success\",\"durationMs\":1e2,\"meetsTimeConstraint\":false,\"extra\":[1,2.5,"
    "\"\\u00e9\"],\"obj\":{\"a\":null}}"),
    ("{\"\\u0065vent\":\"stream5.time_crunch_preview_succ\\u0065eded\",\"ts\":-1,\"durationMs\":"
    "0.0,\"status\":599,\"reason\":\"plan_not_found\",\"u\":\"\\ud83d\\ude00 caf\xc3\xa9\"}"),
};

static const char interesting[] = "{}[]\":,\\u0123456789abcdefABCDEF-+.eE tfnrl\t\n\r\x00\x7f"
                                  "\x80\xbf\xc3\xed\xf0\xf4\xff";

static size_t mutate(char *b, size_t n, size_t cap)
{
    int ops = 1 + (int)(rng() % 4);
    for (int o = 0; o < ops; o++) {
        uint64_t r = rng();
        size_t at = n ? (size_t)(rng() % n) : 0;
        char c = (r >> 8) & 1 ? interesting[rng() % (sizeof(interesting) - 1)] : (char)rng();
        switch (r % 6) {
        case 0: /* replace */
            if (n)
                b[at] = c;
            break;
        case 1: /* insert */
            if (n < cap) {
                memmove(b + at + 1, b + at, n - at);
                b[at] = c;
                n++;
            }
            break;
        case 2: { /* delete a run */
            size_t k = 1 + (size_t)(rng() % 4);
            if (at + k > n)
                k = n - at;
            memmove(b + at, b + at + k, n - at - k);
            n -= k;
            break;
        }
        case 3: { /* splice a piece of another seed */
            const char *s = seeds[rng() % (sizeof(seeds) / sizeof(seeds[0]))];
            size_t sn = strlen(s);
            size_t from = (size_t)(rng() % sn), k = 1 + (size_t)(rng() % 24);
            if (from + k > sn)
                k = sn - from;
            if (n + k <= cap) {
                memmove(b + at + k, b + at, n - at);
                memcpy(b + at, s + from, k);
                n += k;
            }
            break;
        }
        case 4: /* cut the tail */
            n = at;
            break;
        default: /* flip a bit */
            if (n)
                b[at] = (char)(b[at] ^ (1 << (rng() % 8)));
            break;
        }
    }
    return n;
}

static void mutation_cases(void)
{
    char b[1024];
    long verdicts[DEC_VERDICT_COUNT] = {0};
    for (int i = 0; i < 200000; i++) {
        const char *s = seeds[(size_t)i % (sizeof(seeds) / sizeof(seeds[0]))];
        size_t n = strlen(s);
        memcpy(b, s, n);
        n = mutate(b, n, sizeof(b));
        verdicts[run_n(&cfg, b, n, ANY, NULL)]++;
    }
    /* the mutations must reach past the parser into the field checks */
    CHECK(verdicts[DEC_OK] > 1000);
    CHECK(verdicts[DEC_REJ_INVALID_JSON] > 1000);
    CHECK(verdicts[DEC_IGNORED] > 100);
    CHECK(verdicts[DEC_REJ_TS] > 100);
    for (int v = 0; v < DEC_VERDICT_COUNT; v++)
        printf("mutations: %-16s %ld\n", dec_verdict_name((dec_verdict)v), verdicts[v]);
}

/* ---- mapped input (docs/semantics.md section 9) -------------------------- */

#define NAME_Q "stream5.time_crunch_preview_requested"
#define NAME_F "stream5.time_crunch_preview_fallback"
#define NAME_D "stream5.time_crunch_preview_declined"

/* A decoder config compiled from a config's input section, as start-up
 * builds it. */
typedef struct mapped {
    sw_config *sc;
    dec_config dc;
    int ok;
} mapped;

static void mapped_make(mapped *m, int line, const char *input)
{
    memset(m, 0, sizeof(*m));
    m->sc = malloc(sizeof(*m->sc));
    if (m->sc == NULL) {
        perror("malloc");
        exit(2);
    }
    config_defaults(m->sc);
    size_t dn = strlen(input) + 32;
    char *doc = malloc(dn);
    char err[512] = "";
    if (doc == NULL) {
        perror("malloc");
        exit(2);
    }
    snprintf(doc, dn, "{\"input\": %s}", input);
    if (config_load_string(m->sc, doc, strlen(doc), err, sizeof(err)) != 0 ||
        pipeline_dec_config(m->sc, &m->dc, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s:%d: input %s: %s\n", __FILE__, line, input, err);
        check_failures++;
    } else if (m->dc.map == NULL) {
        fprintf(stderr, "%s:%d: input %s compiled to the flat contract\n", __FILE__, line, input);
        check_failures++;
    } else {
        m->ok = 1;
    }
    free(doc);
}

static void mapped_free(mapped *m)
{
    pipeline_dec_free(&m->dc);
    free(m->sc);
    m->sc = NULL;
}

#define MAPPED(m, input) mapped_make(m, __LINE__, input)

/* Decode s both ways under m; check the verdict. */
static dec_verdict mrun(const mapped *m, const char *s, int want)
{
    if (!m->ok)
        return DEC_VERDICT_COUNT;
    return run_n(&m->dc, s, strlen(s), want, NULL);
}

static sw_event mok(const mapped *m, const char *s)
{
    sw_event ev;
    memset(&ev, 0, sizeof(ev));
    if (m->ok)
        run_n(&m->dc, s, strlen(s), DEC_OK, &ev);
    return ev;
}

static void mapped_paths(void)
{
    mapped m;
    MAPPED(&m, "{\"fields\": {\"event\": \"e.name\", \"time\": [\"t.a\", \"t.b\", \"ts\"],"
               " \"duration\": \"spans[1].d\", \"status\": \"http\\\\.status\","
               " \"reason\": \"ctx.payload.reason\", \"strategy\": \"ctx.payload.strategy\","
               " \"time_constraint\": \"ctx.tc[0][1]\"}}");
    sw_event ev = mok(&m, "{\"e\":{\"name\":\"" SUCC_NAME "\"},\"t\":{\"a\":1000},"
                          "\"spans\":[{\"d\":1},{\"d\":7}],\"http.status\":201}");
    CHECK_INT(ev.kind, SW_EV_SUCCEEDED);
    CHECK_INT(ev.ts_ms, 1000);
    CHECK_INT(ev.has_duration, 1);
    CHECK_DBL(ev.duration_ms, 7, 0);
    CHECK_INT(ev.status, 201);
    CHECK_INT(ev.tc, -1);
    CHECK_INT(ev.strategy, LABEL_NONE);
    CHECK_INT(ev.reason, LABEL_NONE);
    CHECK_INT(ev.informed, 1);
    CHECK_INT(ev.weight, 1);
    CHECK_INT(ev.has_key, 0);
    /* every field, deep */
    ev = mok(&m, "{\"ctx\":{\"tc\":[[0,false]],\"payload\":{\"strategy\":\"core_only\","
                 "\"reason\":\"internal_error\"}},\"spans\":[null,{\"d\":2.5,\"x\":[1]}],"
                 "\"t\":{\"b\":\"2026-11-26T10:00:00.123Z\"},\"e\":{\"x\":{},\"name\":\"" NAME_F
                 "\"}}");
    CHECK_INT(ev.kind, SW_EV_FALLBACK);
    CHECK_INT(ev.ts_ms, (20783LL * 86400 + 10 * 3600) * 1000 + 123);
    CHECK_DBL(ev.duration_ms, 2.5, 0);
    CHECK_INT(ev.status, 0);
    CHECK_INT(ev.tc, 0);
    CHECK_INT(ev.strategy, 0);
    CHECK_INT(ev.reason, 2);
    CHECK_INT(ev.reason_error, 1);
    CHECK_INT(ev.informed, 1);
    /* alternatives: the first present wins, null is present */
    ev = mok(&m, "{\"e\":{\"name\":\"" NAME_Q "\"},\"t\":{\"b\":2000},\"ts\":3000}");
    CHECK_INT(ev.ts_ms, 2000);
    ev = mok(&m, "{\"e\":{\"name\":\"" NAME_Q "\"},\"t\":5,\"ts\":3000}");
    CHECK_INT(ev.ts_ms, 3000);
    ev = mok(&m, "{\"ts\":3000,\"t\":{\"b\":2000,\"a\":1000},\"e\":{\"name\":\"" NAME_Q "\"}}");
    CHECK_INT(ev.ts_ms, 1000);
    mrun(&m, "{\"e\":{\"name\":\"" NAME_Q "\"},\"t\":{\"a\":null,\"b\":2000}}", DEC_REJ_TS);
    mrun(&m, "{\"e\":{\"name\":\"" NAME_Q "\"},\"t\":{\"a\":\"x\",\"b\":2000}}", DEC_REJ_TS);
    mrun(&m, "{\"e\":{\"name\":\"" NAME_Q "\"},\"t\":{\"a\":1.5},\"ts\":3000}", DEC_REJ_TS);
    mrun(&m, "{\"e\":{\"name\":\"" NAME_Q "\"},\"t\":[1000]}", DEC_REJ_TS);
    /* an index step needs an array holding the index */
    mrun(&m, "{\"e\":{\"name\":\"" SUCC_NAME "\"},\"ts\":1,\"spans\":[{\"d\":1}]}",
         DEC_REJ_DURATION);
    mrun(&m, "{\"e\":{\"name\":\"" SUCC_NAME "\"},\"ts\":1,\"spans\":{\"1\":{\"d\":1}}}",
         DEC_REJ_DURATION);
    mrun(&m, "{\"e\":{\"name\":\"" SUCC_NAME "\"},\"ts\":1,\"spans\":[1,2]}", DEC_REJ_DURATION);
    mrun(&m, "{\"e\":{\"name\":\"" SUCC_NAME "\"},\"ts\":1,\"spans\":[1,{\"d\":\"1\"}]}",
         DEC_REJ_DURATION);
    ev = mok(&m, "{\"e\":{\"name\":\"" SUCC_NAME "\"},\"ts\":1,\"spans\":[1,{\"d\":0},3]}");
    CHECK_DBL(ev.duration_ms, 0, 0);
    ev = mok(&m, "{\"e\":{\"name\":\"" NAME_D "\"},\"ts\":1,\"ctx\":{\"tc\":[[true,true]]}}");
    CHECK_INT(ev.tc, 1);
    ev = mok(&m, "{\"e\":{\"name\":\"" NAME_D "\"},\"ts\":1,\"ctx\":{\"tc\":[[true]]}}");
    CHECK_INT(ev.tc, -1);
    ev = mok(&m, "{\"e\":{\"name\":\"" NAME_D "\"},\"ts\":1,\"ctx\":{\"tc\":[{\"1\":true}]}}");
    CHECK_INT(ev.tc, -1);
    mrun(&m, "{\"e\":{\"name\":\"" NAME_D "\"},\"ts\":1,\"ctx\":{\"tc\":[[1,null]]}}",
         DEC_REJ_TIME_CONSTRAINT);
    /* the escaped dot is one key, not a step */
    ev = mok(&m, "{\"e\":{\"name\":\"" NAME_Q "\"},\"ts\":1,\"http\":{\"status\":200}}");
    CHECK_INT(ev.status, 0);
    CHECK_INT(ev.informed, 0);
    mrun(&m, "{\"e\":{\"name\":\"" NAME_Q "\"},\"ts\":1,\"http.status\":\"200\"}", DEC_REJ_STATUS);
    mrun(&m, "{\"e\":{\"name\":\"" NAME_Q "\"},\"ts\":1,\"http.status\":null}", DEC_REJ_STATUS);
    /* the flat fields are not read */
    mrun(&m, "{\"event\":\"" SUCC_NAME "\",\"ts\":1,\"durationMs\":5}", DEC_REJ_EVENT);
    mrun(&m, "{\"e\":{\"name\":5},\"ts\":1}", DEC_REJ_EVENT);
    mrun(&m, "{\"e\":{\"name\":null},\"ts\":1}", DEC_REJ_EVENT);
    mrun(&m, "{\"e\":[\"" NAME_Q "\"],\"ts\":1}", DEC_REJ_EVENT);
    mrun(&m, "{\"e\":{\"name\":\"other\"}}", DEC_IGNORED);
    mrun(&m, "{\"e\":{\"name\":\"" NAME_Q "\"}}", DEC_REJ_TS);
    /* keys on the path, escaped */
    ev = mok(&m, "{\"\\u0065\":{\"n\\u0061me\":\"" NAME_Q "\"},\"ts\":4,\"http\\u002estatus\":404}");
    CHECK_INT(ev.ts_ms, 4);
    CHECK_INT(ev.status, 404);
    /* the verdicts before the fields */
    mrun(&m, "[{\"e\":{\"name\":\"" NAME_Q "\"},\"ts\":1}]", DEC_REJ_NOT_OBJECT);
    mrun(&m, "{\"e\":{\"name\":\"" NAME_Q "\"},\"ts\":1", DEC_REJ_INVALID_JSON);
    mrun(&m, "{\"e\":{\"name\":\"" NAME_Q "\"},\"ts\":1}x", DEC_REJ_INVALID_JSON);
    mrun(&m, "{\"e\":{\"name\":\"" NAME_Q "\"},\"ts\":1,\"z\":[1,]}", DEC_REJ_INVALID_JSON);
    mrun(&m, "{\"e\":{\"name\":\"" NAME_Q "\"},\"ts\":1,\"z\":\"\\x\"}", DEC_REJ_INVALID_JSON);
    mrun(&m, "\"x\"", DEC_REJ_INVALID_JSON);
    mrun(&m, "", DEC_REJ_INVALID_JSON);
    mapped_free(&m);
}

static void mapped_extract(void)
{
    mapped m;
    MAPPED(&m, "{\"fields\": {\"event\": {\"path\": [\"msg\", \"context.event\"],"
               " \"prefix\": \"event=\"}}}");
    sw_event ev = mok(&m, "{\"level\":\"info\",\"msg\":\"event=" SUCC_NAME "\",\"ts\":1,"
                          "\"durationMs\":5}");
    CHECK_INT(ev.kind, SW_EV_SUCCEEDED);
    ev = mok(&m, "{\"context\":{\"event\":\"event=" NAME_Q "\"},\"ts\":1}");
    CHECK_INT(ev.kind, SW_EV_REQUESTED);
    ev = mok(&m, "{\"msg\":\"event\\u003d" NAME_Q "\",\"ts\":1}");
    CHECK_INT(ev.kind, SW_EV_REQUESTED);
    /* without the prefix, or naming no event: a line of another kind */
    mrun(&m, "{\"msg\":\"starting up\"}", DEC_IGNORED);
    mrun(&m, "{\"msg\":\"xevent=" NAME_Q "\",\"ts\":1}", DEC_IGNORED);
    mrun(&m, "{\"msg\":\"event=\",\"ts\":1}", DEC_IGNORED);
    mrun(&m, "{\"msg\":\"event\",\"ts\":1}", DEC_IGNORED);
    mrun(&m, "{\"msg\":\"\",\"ts\":1}", DEC_IGNORED);
    mrun(&m, "{\"msg\":\"EVENT=" NAME_Q "\",\"ts\":1}", DEC_IGNORED);
    mrun(&m, "{\"msg\":\"event=" NAME_Q " \",\"ts\":1}", DEC_IGNORED);
    mrun(&m, "{\"msg\":\"event=event=" NAME_Q "\",\"ts\":1}", DEC_IGNORED);
    mrun(&m, "{\"msg\":\"" NAME_Q "\",\"ts\":1}", DEC_IGNORED);
    /* not a string: the event rejection; the first present alternative
     * counts, so a null msg hides context.event */
    mrun(&m, "{\"msg\":5,\"ts\":1}", DEC_REJ_EVENT);
    mrun(&m, "{\"msg\":{\"event\":\"x\"},\"ts\":1}", DEC_REJ_EVENT);
    mrun(&m, "{\"msg\":null,\"context\":{\"event\":\"event=" NAME_Q "\"},\"ts\":1}",
         DEC_REJ_EVENT);
    mrun(&m, "{\"ts\":1}", DEC_REJ_EVENT);
    mrun(&m, "{\"msg\":\"hello\",\"context\":{\"event\":\"event=" NAME_Q "\"},\"ts\":1}",
         DEC_IGNORED);
    mapped_free(&m);

    MAPPED(&m, "{\"fields\": {\"event\": {\"path\": \"msg\", \"token\": \"event\"}}}");
    ev = mok(&m, "{\"msg\":\"telemetry event=" SUCC_NAME " source=planning-engine\",\"ts\":1,"
                 "\"durationMs\":5}");
    CHECK_INT(ev.kind, SW_EV_SUCCEEDED);
    ev = mok(&m, "{\"msg\":\"event=" NAME_Q "\",\"ts\":1}");
    CHECK_INT(ev.kind, SW_EV_REQUESTED);
    ev = mok(&m, "{\"msg\":\"  a   event=" NAME_Q "   b=c \",\"ts\":1}");
    CHECK_INT(ev.kind, SW_EV_REQUESTED);
    ev = mok(&m, "{\"msg\":\"myevent=x event=" NAME_D "\",\"ts\":1}");
    CHECK_INT(ev.kind, SW_EV_DECLINED);
    ev = mok(&m, "{\"msg\":\"a\\u0020event=" NAME_D "\",\"ts\":1}");
    CHECK_INT(ev.kind, SW_EV_DECLINED);
    /* the first token with the key decides */
    mrun(&m, "{\"msg\":\"event=other event=" NAME_Q "\",\"ts\":1}", DEC_IGNORED);
    mrun(&m, "{\"msg\":\"events=" NAME_Q "\",\"ts\":1}", DEC_IGNORED);
    mrun(&m, "{\"msg\":\"event " NAME_Q "\",\"ts\":1}", DEC_IGNORED);
    mrun(&m, "{\"msg\":\"event= " NAME_Q "\",\"ts\":1}", DEC_IGNORED);
    mrun(&m, "{\"msg\":\"event=" NAME_Q "x\",\"ts\":1}", DEC_IGNORED);
    mrun(&m, "{\"msg\":\"x\\tevent=" NAME_Q "\",\"ts\":1}", DEC_IGNORED); /* only spaces split */
    mrun(&m, "{\"msg\":\"event=" NAME_Q "\\tx\",\"ts\":1}", DEC_IGNORED);
    mrun(&m, "{\"msg\":\"event\",\"ts\":1}", DEC_IGNORED);
    mrun(&m, "{\"msg\":\"  \",\"ts\":1}", DEC_IGNORED);
    mrun(&m, "{\"msg\":true,\"ts\":1}", DEC_REJ_EVENT);
    /* ignored before ts */
    mrun(&m, "{\"msg\":\"GET /healthz 200\"}", DEC_IGNORED);
    /* a long line with an escape: past the fast path's copy, same verdict */
    ev = mok(&m, "{\"msg\":\"request served \\\"quickly\\\" by the planning engine after a "
                 "long and winding road through the cluster, its caches and its queues "
                 "event=" NAME_Q " source=planning-engine\",\"ts\":1}");
    CHECK_INT(ev.kind, SW_EV_REQUESTED);
    mrun(&m, "{\"msg\":\"request served \\\"quickly\\\" by the planning engine after a "
             "long and winding road through the cluster, its caches and its queues "
             "event=" NAME_Q "s source=planning-engine\",\"ts\":1}", DEC_IGNORED);
    mapped_free(&m);
}

static void mapped_filters(void)
{
    mapped m;
    MAPPED(&m, "{\"filters\": [{\"events\": [\"requested\"], \"field\": \"ctx.source\","
               " \"equals\": [\"planning-engine\", \"pe2\"]}]}");
    mok(&m, "{" Q ",\"ts\":1,\"ctx\":{\"source\":\"planning-engine\"}}");
    mok(&m, "{" Q ",\"ts\":1,\"ctx\":{\"source\":\"pe2\"}}");
    mok(&m, "{" Q ",\"ts\":1,\"ctx\":{\"source\":\"pe\\u0032\"}}");
    mrun(&m, "{" Q ",\"ts\":1,\"ctx\":{\"source\":\"gateway\"}}", DEC_FILTERED);
    mrun(&m, "{" Q ",\"ts\":1,\"ctx\":{\"source\":\"planning-engin\"}}", DEC_FILTERED);
    mrun(&m, "{" Q ",\"ts\":1,\"ctx\":{\"source\":\"planning-engine \"}}", DEC_FILTERED);
    mrun(&m, "{" Q ",\"ts\":1}", DEC_FILTERED);
    mrun(&m, "{" Q ",\"ts\":1,\"ctx\":{\"source\":null}}", DEC_FILTERED);
    mrun(&m, "{" Q ",\"ts\":1,\"ctx\":{\"source\":[\"pe2\"]}}", DEC_FILTERED);
    mrun(&m, "{" Q ",\"ts\":1,\"ctx\":{\"source\":5}}", DEC_FILTERED);
    mrun(&m, "{" Q ",\"ts\":1,\"source\":\"pe2\"}", DEC_FILTERED);
    /* filtered is decided before ts and every later check */
    mrun(&m, "{" Q ",\"ctx\":{\"source\":\"gateway\"},\"status\":\"x\"}", DEC_FILTERED);
    mrun(&m, "{" Q ",\"ctx\":{\"source\":\"pe2\"},\"status\":\"x\"}", DEC_REJ_TS);
    /* and after the event name */
    mrun(&m, "{\"event\":\"other\",\"ctx\":{\"source\":\"gateway\"}}", DEC_IGNORED);
    mrun(&m, "{\"event\":1,\"ctx\":{\"source\":\"gateway\"}}", DEC_REJ_EVENT);
    /* kinds the filter does not name pass */
    mok(&m, "{" OKBODY ",\"ctx\":{\"source\":\"gateway\"}}");
    mok(&m, "{" D ",\"ts\":1}");
    mok(&m, "{" F ",\"ts\":1,\"durationMs\":2}");
    mapped_free(&m);

    /* two filters on one kind: both must hold; a filter without events
     * holds for every kind */
    MAPPED(&m, "{\"filters\": [{\"events\": [\"requested\", \"succeeded\"], \"field\": \"a\","
               " \"equals\": [\"1\"]}, {\"field\": \"b\", \"equals\": [\"2\", \"3\"]}]}");
    mok(&m, "{" Q ",\"ts\":1,\"a\":\"1\",\"b\":\"3\"}");
    mrun(&m, "{" Q ",\"ts\":1,\"a\":\"1\",\"b\":\"4\"}", DEC_FILTERED);
    mrun(&m, "{" Q ",\"ts\":1,\"a\":\"2\",\"b\":\"3\"}", DEC_FILTERED);
    mrun(&m, "{" Q ",\"ts\":1,\"a\":1,\"b\":\"3\"}", DEC_FILTERED);
    mrun(&m, "{" D ",\"ts\":1,\"a\":\"9\"}", DEC_FILTERED);
    mok(&m, "{" D ",\"ts\":1,\"a\":\"9\",\"b\":\"2\"}");
    mok(&m, "{" OKBODY ",\"a\":\"1\",\"b\":\"2\"}");
    mrun(&m, "{" OKBODY ",\"b\":\"2\"}", DEC_FILTERED);
    mapped_free(&m);
}

static void mapped_weight(void)
{
    mapped m;
    MAPPED(&m, "{\"sample_weight\": {\"field\": \"ctx.rate\", \"default\": 5}}");
    sw_event ev = mok(&m, "{" OKBODY "}");
    CHECK_INT(ev.weight, 5);
    ev = mok(&m, "{" OKBODY ",\"ctx\":{\"rate\":10}}");
    CHECK_INT(ev.weight, 10);
    ev = mok(&m, "{" OKBODY ",\"ctx\":{\"rate\":1}}");
    CHECK_INT(ev.weight, 1);
    ev = mok(&m, "{" OKBODY ",\"ctx\":{\"rate\":1000}}");
    CHECK_INT(ev.weight, 1000);
    ev = mok(&m, "{" Q ",\"ts\":1,\"ctx\":{\"rate\":3}}");
    CHECK_INT(ev.weight, 3);
    ev = mok(&m, "{" OKBODY ",\"ctx\":[{\"rate\":10}]}");
    CHECK_INT(ev.weight, 5);
    mrun(&m, "{" OKBODY ",\"ctx\":{\"rate\":0}}", DEC_REJ_WEIGHT);
    mrun(&m, "{" OKBODY ",\"ctx\":{\"rate\":1001}}", DEC_REJ_WEIGHT);
    mrun(&m, "{" OKBODY ",\"ctx\":{\"rate\":-1}}", DEC_REJ_WEIGHT);
    mrun(&m, "{" OKBODY ",\"ctx\":{\"rate\":1.5}}", DEC_REJ_WEIGHT);
    mrun(&m, "{" OKBODY ",\"ctx\":{\"rate\":10.0}}", DEC_REJ_WEIGHT);
    mrun(&m, "{" OKBODY ",\"ctx\":{\"rate\":1e1}}", DEC_REJ_WEIGHT);
    mrun(&m, "{" OKBODY ",\"ctx\":{\"rate\":\"10\"}}", DEC_REJ_WEIGHT);
    mrun(&m, "{" OKBODY ",\"ctx\":{\"rate\":null}}", DEC_REJ_WEIGHT);
    mrun(&m, "{" OKBODY ",\"ctx\":{\"rate\":true}}", DEC_REJ_WEIGHT);
    mrun(&m, "{" OKBODY ",\"ctx\":{\"rate\":{}}}", DEC_REJ_WEIGHT);
    mrun(&m, "{" OKBODY ",\"ctx\":{\"rate\":9223372036854775807}}", DEC_REJ_WEIGHT);
    mrun(&m, "{" OKBODY ",\"ctx\":{\"rate\":-9223372036854775808}}", DEC_REJ_WEIGHT);
    /* weight is the last check: earlier rejections win */
    mrun(&m, "{" OKBODY ",\"meetsTimeConstraint\":1,\"ctx\":{\"rate\":0}}",
         DEC_REJ_TIME_CONSTRAINT);
    mrun(&m, "{" S ",\"ts\":1,\"ctx\":{\"rate\":0}}", DEC_REJ_DURATION);
    mrun(&m, "{\"event\":\"other\",\"ctx\":{\"rate\":0}}", DEC_IGNORED);
    mapped_free(&m);

    /* without a default: 1 */
    MAPPED(&m, "{\"sample_weight\": {\"field\": \"w\"}}");
    ev = mok(&m, "{" OKBODY "}");
    CHECK_INT(ev.weight, 1);
    ev = mok(&m, "{" OKBODY ",\"w\":7}");
    CHECK_INT(ev.weight, 7);
    mapped_free(&m);

    /* a constant weight: any field of that name is not read */
    MAPPED(&m, "{\"sample_weight\": 7}");
    ev = mok(&m, "{" OKBODY ",\"w\":0,\"weight\":\"x\",\"sample_weight\":0}");
    CHECK_INT(ev.weight, 7);
    mapped_free(&m);
    /* the flat contract weighs 1 */
    ev = ok("{" OKBODY ",\"w\":7}");
    CHECK_INT(ev.weight, 1);
}

static void mapped_keys(void)
{
    mapped m;
    MAPPED(&m, "{\"correlate\": {\"key\": [\"p\", \"ctx.u\"]}}");
    sw_event a = mok(&m, "{" Q ",\"ts\":1,\"p\":\"plan-1\",\"ctx\":{\"u\":7}}");
    CHECK_INT(a.has_key, 1);
    /* same values, same key: any field order, escapes, other fields */
    sw_event b = mok(&m, "{\"ctx\":{\"x\":1,\"u\":7},\"p\":\"plan\\u002d1\",\"ts\":99," S "}");
    CHECK_INT(b.has_key, 1);
    CHECK(a.key == b.key);
    b = mok(&m, "{" F ",\"ts\":5,\"durationMs\":1,\"p\":\"plan-1\",\"ctx\":{\"u\":7}}");
    CHECK(a.key == b.key);
    b = mok(&m, "{" D ",\"ts\":5,\"p\":\"plan-1\",\"ctx\":{\"u\":7}}");
    CHECK_INT(b.has_key, 1);
    CHECK(a.key == b.key);
    /* different values, different keys */
    b = mok(&m, "{" Q ",\"ts\":1,\"p\":\"plan-1\",\"ctx\":{\"u\":\"7\"}}");
    CHECK_INT(b.has_key, 1);
    CHECK(a.key != b.key);
    b = mok(&m, "{" Q ",\"ts\":1,\"p\":\"plan-1\",\"ctx\":{\"u\":8}}");
    CHECK(a.key != b.key);
    b = mok(&m, "{" Q ",\"ts\":1,\"p\":\"plan-2\",\"ctx\":{\"u\":7}}");
    CHECK(a.key != b.key);
    sw_event s1 = mok(&m, "{" Q ",\"ts\":1,\"p\":\"1\",\"ctx\":{\"u\":1}}");
    sw_event i1 = mok(&m, "{" Q ",\"ts\":1,\"p\":1,\"ctx\":{\"u\":1}}");
    CHECK_INT(s1.has_key, 1);
    CHECK_INT(i1.has_key, 1);
    CHECK(s1.key != i1.key);
    /* the parts do not run together */
    sw_event ab = mok(&m, "{" Q ",\"ts\":1,\"p\":\"a\",\"ctx\":{\"u\":\"bc\"}}");
    sw_event ab2 = mok(&m, "{" Q ",\"ts\":1,\"p\":\"ab\",\"ctx\":{\"u\":\"c\"}}");
    sw_event ba = mok(&m, "{" Q ",\"ts\":1,\"p\":\"bc\",\"ctx\":{\"u\":\"a\"}}");
    CHECK(ab.key != ab2.key);
    CHECK(ab.key != ba.key);
    sw_event e1 = mok(&m, "{" Q ",\"ts\":1,\"p\":\"\",\"ctx\":{\"u\":\"\"}}");
    CHECK_INT(e1.has_key, 1);
    CHECK(e1.key != ab.key);
    sw_event z = mok(&m, "{" Q ",\"ts\":1,\"p\":0,\"ctx\":{\"u\":-0}}");
    sw_event z2 = mok(&m, "{" Q ",\"ts\":1,\"p\":0,\"ctx\":{\"u\":0}}");
    CHECK_INT(z.has_key, 1);
    CHECK(z.key == z2.key);
    b = mok(&m, "{" Q ",\"ts\":1,\"p\":-9223372036854775808,\"ctx\":{\"u\":9223372036854775807}}");
    CHECK_INT(b.has_key, 1);
    /* a missing part, or one that is neither a string nor an integer: no key */
    static const char *const nokey[] = {
        "{" Q ",\"ts\":1,\"p\":\"plan-1\"}",
        "{" Q ",\"ts\":1,\"ctx\":{\"u\":7}}",
        "{" Q ",\"ts\":1,\"p\":\"plan-1\",\"ctx\":{\"u\":null}}",
        "{" Q ",\"ts\":1,\"p\":\"plan-1\",\"ctx\":{\"u\":7.0}}",
        "{" Q ",\"ts\":1,\"p\":\"plan-1\",\"ctx\":{\"u\":true}}",
        "{" Q ",\"ts\":1,\"p\":\"plan-1\",\"ctx\":{\"u\":[7]}}",
        "{" Q ",\"ts\":1,\"p\":\"plan-1\",\"ctx\":{\"u\":{}}}",
        "{" Q ",\"ts\":1,\"p\":\"plan-1\",\"ctx\":[{\"u\":7}]}",
        "{" Q ",\"ts\":1,\"p\":1e0,\"ctx\":{\"u\":7}}",
    };
    for (size_t i = 0; i < sizeof(nokey) / sizeof(nokey[0]); i++) {
        b = mok(&m, nokey[i]);
        if (b.has_key != 0) {
            fprintf(stderr, "%s:%d: has_key %d for %s\n", __FILE__, __LINE__, b.has_key,
                    nokey[i]);
            check_failures++;
        }
    }
    /* a long key value: escaped (read by jansson) or not (read in place),
     * the same key */
    char l1[600], l2[600];
    char big[260];
    memset(big, 'q', 250);
    big[250] = '\0';
    snprintf(l1, sizeof(l1), "{" Q ",\"ts\":1,\"p\":\"%s\\u0062\",\"ctx\":{\"u\":7}}", big);
    snprintf(l2, sizeof(l2), "{" Q ",\"ts\":1,\"p\":\"%sb\",\"ctx\":{\"u\":7}}", big);
    a = mok(&m, l1);
    b = mok(&m, l2);
    CHECK_INT(a.has_key, 1);
    CHECK(a.key == b.key);
    mapped_free(&m);

    /* keys on one path: the same bytes as a string give the same key under
     * another mapping of the same shape */
    MAPPED(&m, "{\"correlate\": {\"key\": [\"p\"]}}");
    a = mok(&m, "{" Q ",\"ts\":1,\"p\":\"x\"}");
    b = mok(&m, "{" Q ",\"ts\":1,\"p\":\"x\",\"ctx\":{\"u\":7}}");
    CHECK_INT(a.has_key, 1);
    CHECK(a.key == b.key);
    mapped_free(&m);

    /* without correlate: no key */
    MAPPED(&m, "{\"sample_weight\": 2}");
    a = mok(&m, "{" Q ",\"ts\":1,\"p\":\"x\"}");
    CHECK_INT(a.has_key, 0);
    CHECK(a.key == 0);
    mapped_free(&m);
}

static void mapped_duration(void)
{
    mapped m;
    /* correlate makes duration_required false */
    MAPPED(&m, "{\"correlate\": {\"key\": [\"p\"]}}");
    sw_event ev = mok(&m, "{" S ",\"ts\":1}");
    CHECK_INT(ev.has_duration, 0);
    CHECK_INT(ev.kind, SW_EV_SUCCEEDED);
    ev = mok(&m, "{" F ",\"ts\":1,\"reason\":\"forbidden\"}");
    CHECK_INT(ev.has_duration, 0);
    CHECK_INT(ev.reason, 4);
    ev = mok(&m, "{" S ",\"ts\":1,\"durationMs\":0}");
    CHECK_INT(ev.has_duration, 1);
    CHECK_DBL(ev.duration_ms, 0, 0);
    /* present and invalid: still rejected */
    mrun(&m, "{" S ",\"ts\":1,\"durationMs\":-1}", DEC_REJ_DURATION);
    mrun(&m, "{" S ",\"ts\":1,\"durationMs\":\"5\"}", DEC_REJ_DURATION);
    mrun(&m, "{" S ",\"ts\":1,\"durationMs\":null}", DEC_REJ_DURATION);
    mrun(&m, "{" F ",\"ts\":1,\"durationMs\":true}", DEC_REJ_DURATION);
    mrun(&m, "{" F ",\"ts\":1,\"durationMs\":{}}", DEC_REJ_DURATION);
    mrun(&m, "{" F ",\"ts\":1,\"durationMs\":-1e-300}", DEC_REJ_DURATION);
    mrun(&m, "{" F ",\"ts\":1,\"durationMs\":1e999}", DEC_REJ_INVALID_JSON);
    /* requests and declines carry one only when valid, never rejected */
    ev = mok(&m, "{" Q ",\"ts\":1,\"durationMs\":-1}");
    CHECK_INT(ev.has_duration, 0);
    ev = mok(&m, "{" D ",\"ts\":1,\"durationMs\":\"x\"}");
    CHECK_INT(ev.has_duration, 0);
    mapped_free(&m);

    /* explicit false, duration mapped to null: never a duration */
    MAPPED(&m, "{\"fields\": {\"duration\": null}, \"duration_required\": false}");
    ev = mok(&m, "{" S ",\"ts\":1,\"durationMs\":5}");
    CHECK_INT(ev.has_duration, 0);
    ev = mok(&m, "{" S ",\"ts\":1,\"durationMs\":-5}");
    CHECK_INT(ev.has_duration, 0);
    mapped_free(&m);

    /* explicit true with correlate: required again */
    MAPPED(&m, "{\"correlate\": {\"key\": [\"p\"]}, \"duration_required\": true}");
    mrun(&m, "{" S ",\"ts\":1}", DEC_REJ_DURATION);
    mrun(&m, "{" F ",\"ts\":1}", DEC_REJ_DURATION);
    mok(&m, "{" Q ",\"ts\":1}");
    mapped_free(&m);
}

static void mapped_reasons(void)
{
    mapped m;
    MAPPED(&m, "{\"error_reasons\": [\"preview_failed\", \"custom_err\"]}");
    sw_event ev = mok(&m, "{" F ",\"ts\":1,\"durationMs\":1,\"reason\":\"preview_failed\"}");
    CHECK_INT(ev.reason, 7);
    CHECK_INT(ev.reason_error, 1);
    CHECK_INT(ev.informed, 1);
    ev = mok(&m, "{" F ",\"ts\":1,\"durationMs\":1,\"reason\":\"internal_error\"}");
    CHECK_INT(ev.reason, 2);
    CHECK_INT(ev.reason_error, 0);
    ev = mok(&m, "{" F ",\"ts\":1,\"durationMs\":1,\"reason\":\"custom_err\"}");
    CHECK_INT(ev.reason, reasons.n);
    CHECK_INT(ev.reason_error, 1);
    ev = mok(&m, "{" F ",\"ts\":1,\"durationMs\":1,\"reason\":\"preview\\u005ffailed\"}");
    CHECK_INT(ev.reason_error, 1);
    ev = mok(&m, "{" F ",\"ts\":1,\"durationMs\":1,\"reason\":\"preview_failed \"}");
    CHECK_INT(ev.reason_error, 0);
    /* informed: a status, or a string reason */
    ev = mok(&m, "{" F ",\"ts\":1,\"durationMs\":1}");
    CHECK_INT(ev.informed, 0);
    CHECK_INT(ev.reason, LABEL_NONE);
    ev = mok(&m, "{" F ",\"ts\":1,\"durationMs\":1,\"reason\":5}");
    CHECK_INT(ev.informed, 0);
    CHECK_INT(ev.reason, LABEL_NONE);
    CHECK_INT(ev.reason_error, 0);
    ev = mok(&m, "{" F ",\"ts\":1,\"durationMs\":1,\"reason\":null}");
    CHECK_INT(ev.informed, 0);
    ev = mok(&m, "{" F ",\"ts\":1,\"durationMs\":1,\"status\":503}");
    CHECK_INT(ev.informed, 1);
    CHECK_INT(ev.status, 503);
    ev = mok(&m, "{" S ",\"ts\":1,\"durationMs\":1,\"reason\":\"\"}");
    CHECK_INT(ev.informed, 1);
    mapped_free(&m);

    MAPPED(&m, "{\"error_reasons\": []}");
    ev = mok(&m, "{" F ",\"ts\":1,\"durationMs\":1,\"reason\":\"internal_error\"}");
    CHECK_INT(ev.reason, 2);
    CHECK_INT(ev.reason_error, 0);
    CHECK_INT(ev.informed, 1);
    mapped_free(&m);
}

static void mapped_envelopes(void)
{
    mapped m;
    MAPPED(&m, "{\"envelope\": {\"type\": \"field\"}}");
    sw_event ev = mok(&m, "{\"@timestamp\":\"x\",\"message\":\"{\\\"event\\\":\\\"" SUCC_NAME
                          "\\\",\\\"ts\\\":12,\\\"durationMs\\\":5,\\\"reason\\\":"
                          "\\\"for\\\\u0062idden\\\"}\",\"host\":{\"name\":\"a\"}}");
    CHECK_INT(ev.kind, SW_EV_SUCCEEDED);
    CHECK_INT(ev.ts_ms, 12);
    CHECK_DBL(ev.duration_ms, 5, 0);
    CHECK_INT(ev.reason, 4);
    /* escapes of the outer string: \n, \t, \/ and \u inside the line */
    ev = mok(&m, "{\"message\":\"{\\n\\t\\\"ev\\u0065nt\\\":\\\"" NAME_Q "\\\",\\\"ts\\\":3,"
                 "\\\"x\\\":\\\"a\\/b\\\"}\\r\\n\"}");
    CHECK_INT(ev.kind, SW_EV_REQUESTED);
    CHECK_INT(ev.ts_ms, 3);
    /* the line as it is when nothing needs escaping (a string with no
     * quote cannot be an object) */
    mrun(&m, "{\"message\":\"[]\"}", DEC_REJ_NOT_OBJECT);
    mrun(&m, "{\"message\":\"[1,2]\"}", DEC_REJ_NOT_OBJECT);
    mrun(&m, "{\"message\":\"{}\"}", DEC_REJ_EVENT);
    mrun(&m, "{\"message\":\"not json\"}", DEC_REJ_INVALID_JSON);
    mrun(&m, "{\"message\":\"\"}", DEC_REJ_INVALID_JSON);
    mrun(&m, "{\"message\":\"{\\\"event\\\":\\\"x\\\"}\"}", DEC_IGNORED);
    mrun(&m, "{\"message\":\"{\\\"a\\\":1}  x\"}", DEC_REJ_INVALID_JSON);
    mrun(&m, "{\"message\":\"{\\\"event\\\":\\\"" NAME_Q "\\\"}\"}", DEC_REJ_TS);
    /* the envelope missing or wrong */
    mrun(&m, "{\"msg\":\"{}\"}", DEC_REJ_ENVELOPE);
    mrun(&m, "{}", DEC_REJ_ENVELOPE);
    mrun(&m, "{\"message\":5}", DEC_REJ_ENVELOPE);
    mrun(&m, "{\"message\":null}", DEC_REJ_ENVELOPE);
    mrun(&m, "{\"message\":{\"event\":\"" NAME_Q "\",\"ts\":1}}", DEC_REJ_ENVELOPE);
    mrun(&m, "{\"message\":[\"{}\"]}", DEC_REJ_ENVELOPE);
    mrun(&m, "[{\"message\":\"{}\"}]", DEC_REJ_ENVELOPE);
    mrun(&m, "\"{}\"", DEC_REJ_ENVELOPE);
    mrun(&m, "{\"message\":\"{}\"", DEC_REJ_ENVELOPE);
    mrun(&m, "{\"message\":\"{}\"} x", DEC_REJ_ENVELOPE);
    mrun(&m, "{\"message\":\"{}\",}", DEC_REJ_ENVELOPE);
    mrun(&m, "{\"message\":\"{\\u0000}\"}", DEC_REJ_ENVELOPE);
    mrun(&m, "{\"message\":\"a\x01\"}", DEC_REJ_ENVELOPE);
    mrun(&m, "", DEC_REJ_ENVELOPE);
    mrun(&m, "{" OKBODY "}", DEC_REJ_ENVELOPE);
    /* duplicates of the field: the last wins */
    mrun(&m, "{\"message\":\"{}\",\"message\":5}", DEC_REJ_ENVELOPE);
    ev = mok(&m, "{\"message\":5,\"message\":\"{\\\"event\\\":\\\"" NAME_Q "\\\",\\\"ts\\\":8}\"}");
    CHECK_INT(ev.ts_ms, 8);
    ev = mok(&m, "{\"message\":\"{\\\"event\\\":\\\"" NAME_Q "\\\",\\\"ts\\\":7}\","
                 "\"message\":\"{\\\"event\\\":\\\"" NAME_Q "\\\",\\\"ts\\\":8}\"}");
    CHECK_INT(ev.ts_ms, 8);
    /* a record nested deeper than the fast walk goes: jansson reads it */
    {
        static char deep[1024];
        size_t n = (size_t)snprintf(deep, sizeof(deep), "{\"k\":");
        for (int i = 0; i < 40; i++)
            deep[n++] = '[';
        for (int i = 0; i < 40; i++)
            deep[n++] = ']';
        n += (size_t)snprintf(deep + n, sizeof(deep) - n,
                              ",\"message\":\"{\\\"event\\\":\\\"" NAME_Q
                              "\\\",\\\"ts\\\":6}\"}");
        memset(&ev, 0, sizeof(ev));
        run_n(&m.dc, deep, n, DEC_OK, &ev);
        CHECK_INT(ev.ts_ms, 6);
        deep[n - 1] = ' ';
        run_n(&m.dc, deep, n, DEC_REJ_ENVELOPE, NULL);
    }
    /* too large is decided on the whole message, before the envelope */
    {
        size_t n = m.dc.max_message_bytes + 1;
        char *big = malloc(n);
        if (big) {
            memset(big, ' ', n);
            run_n(&m.dc, big, n, DEC_REJ_TOO_LARGE, NULL);
            free(big);
        }
    }
    mapped_free(&m);

    /* a nested field, with a mapping inside the line */
    MAPPED(&m, "{\"envelope\": {\"type\": \"field\", \"field\": \"log.records[1]\"},"
               " \"fields\": {\"event\": {\"path\": \"msg\", \"prefix\": \"event=\"},"
               " \"time\": \"ctx.ts\"}, \"correlate\": {\"key\": [\"ctx.id\"]}}");
    ev = mok(&m, "{\"log\":{\"records\":[\"skip\",\"{\\\"msg\\\":\\\"event=" NAME_F
                 "\\\",\\\"ctx\\\":{\\\"ts\\\":9,\\\"id\\\":\\\"k1\\\"}}\"]}}");
    CHECK_INT(ev.kind, SW_EV_FALLBACK);
    CHECK_INT(ev.ts_ms, 9);
    CHECK_INT(ev.has_duration, 0);
    CHECK_INT(ev.has_key, 1);
    mrun(&m, "{\"log\":{\"records\":[\"{}\"]}}", DEC_REJ_ENVELOPE);
    mrun(&m, "{\"log\":[{\"records\":[\"{}\",\"{}\"]}]}", DEC_REJ_ENVELOPE);
    mrun(&m, "{\"log\":{\"records\":[\"{}\",\"{}\"]}}", DEC_REJ_EVENT);
    mrun(&m, "{\"log\":{\"records\":[\"{}\",\"{\\\"msg\\\":\\\"hi\\\"}\"]}}", DEC_IGNORED);
    /* a duplicate key above the field: jansson's last one */
    mrun(&m, "{\"log\":{\"records\":[\"{}\",\"{}\"]},\"log\":{\"records\":[]}}", DEC_REJ_ENVELOPE);
    mrun(&m, "{\"log\":{\"records\":[]},\"log\":{\"records\":[\"{}\",\"{}\"]}}", DEC_REJ_EVENT);
    mrun(&m, "{\"log\":{\"records\":[\"{}\",\"[]\"],\"records\":[\"{}\",\"{}\"]}}",
         DEC_REJ_EVENT);
    mapped_free(&m);

    /* syslog: the line from the first '{' */
    MAPPED(&m, "{\"envelope\": {\"type\": \"syslog\"}}");
    ev = mok(&m, "<14>1 2026-11-26T10:00:00Z host app - - - {" OKBODY "}");
    CHECK_INT(ev.kind, SW_EV_SUCCEEDED);
    ev = mok(&m, "{" OKBODY "}");
    CHECK_INT(ev.kind, SW_EV_SUCCEEDED);
    mrun(&m, "<14>Nov 26 10:00:00 host app: no json here", DEC_REJ_ENVELOPE);
    mrun(&m, "", DEC_REJ_ENVELOPE);
    mrun(&m, "[1,2]", DEC_REJ_ENVELOPE);
    mrun(&m, "<14> app[12]: [" OKBODY "]", DEC_REJ_ENVELOPE);
    mrun(&m, "<14> app{1}: {" OKBODY "}", DEC_REJ_INVALID_JSON);
    mrun(&m, "<14> app: {" OKBODY "} trailing", DEC_REJ_INVALID_JSON);
    mrun(&m, "<14> app: {}", DEC_REJ_EVENT);
    mrun(&m, "<14> app: {\"event\":\"x\"}", DEC_IGNORED);
    mrun(&m, "x\x80\xff{" OKBODY "}", DEC_OK); /* the header is not read */
    {
        static const char nul_header[] = "x\0y{" OKBODY "}";
        run_n(&m.dc, nul_header, sizeof(nul_header) - 1, DEC_OK, NULL);
    }
    mapped_free(&m);
}

static void mapped_duplicates(void)
{
    mapped m;
    MAPPED(&m, "{\"fields\": {\"reason\": \"ctx.payload.reason\","
               " \"status\": \"ctx.payload.status\", \"strategy\": \"ctx.s\"}}");
    sw_event ev;
    ev = mok(&m, "{" OKBODY ",\"ctx\":{\"payload\":{\"reason\":\"forbidden\"}},"
                 "\"ctx\":{\"payload\":{\"reason\":\"internal_error\"}}}");
    CHECK_INT(ev.reason, 2);
    CHECK_INT(ev.reason_error, 1);
    ev = mok(&m, "{" OKBODY ",\"ctx\":{\"payload\":{\"reason\":\"internal_error\"}},\"ctx\":5}");
    CHECK_INT(ev.reason, LABEL_NONE);
    CHECK_INT(ev.informed, 0);
    ev = mok(&m, "{" OKBODY ",\"ctx\":{\"payload\":{\"reason\":\"forbidden\",\"status\":500},"
                 "\"payload\":{\"reason\":\"unauthorized\"}}}");
    CHECK_INT(ev.reason, 5);
    CHECK_INT(ev.status, 0);
    ev = mok(&m, "{" OKBODY ",\"ctx\":{\"payload\":{\"status\":500},\"s\":\"none\","
                 "\"payload\":null}}");
    CHECK_INT(ev.status, 0);
    CHECK_INT(ev.strategy, 5);
    ev = mok(&m, "{" OKBODY ",\"ctx\":5,\"ctx\":{\"payload\":{\"status\":502}}}");
    CHECK_INT(ev.status, 502);
    ev = mok(&m, "{" OKBODY ",\"ctx\":{\"s\":\"core_only\"},\"ctx\":{\"s\":\"none\"},"
                 "\"ctx\":{\"payload\":{}}}");
    CHECK_INT(ev.strategy, LABEL_NONE);
    /* a duplicate at the leaf */
    ev = mok(&m, "{" OKBODY ",\"ctx\":{\"payload\":{\"status\":\"x\",\"status\":404}}}");
    CHECK_INT(ev.status, 404);
    mrun(&m, "{" OKBODY ",\"ctx\":{\"payload\":{\"status\":404,\"status\":\"x\"}}}",
         DEC_REJ_STATUS);
    /* the duplicate after an invalid value: still invalid JSON */
    mrun(&m, "{" OKBODY ",\"ctx\":{\"payload\":{}},\"ctx\":{\"payload\":[1,]}}",
         DEC_REJ_INVALID_JSON);
    mrun(&m, "{" OKBODY ",\"ctx\":{\"payload\":{}},\"ctx\":{\"payload\":{}}", DEC_REJ_INVALID_JSON);
    mapped_free(&m);

    /* a path that ends where another goes on */
    MAPPED(&m, "{\"fields\": {\"reason\": \"a\", \"strategy\": \"a.b\"}}");
    ev = mok(&m, "{" OKBODY ",\"a\":{\"b\":\"none\"}}");
    CHECK_INT(ev.reason, LABEL_NONE);
    CHECK_INT(ev.strategy, 5);
    ev = mok(&m, "{" OKBODY ",\"a\":\"forbidden\"}");
    CHECK_INT(ev.reason, 4);
    CHECK_INT(ev.strategy, LABEL_NONE);
    ev = mok(&m, "{" OKBODY ",\"a\":{\"b\":\"none\"},\"a\":\"forbidden\"}");
    CHECK_INT(ev.reason, 4);
    CHECK_INT(ev.strategy, LABEL_NONE);
    ev = mok(&m, "{" OKBODY ",\"a\":\"forbidden\",\"a\":{\"b\":\"none\"}}");
    CHECK_INT(ev.reason, LABEL_NONE);
    CHECK_INT(ev.strategy, 5);
    mapped_free(&m);
}

static void mapped_depth_and_length(void)
{
    mapped m;
    MAPPED(&m, "{\"fields\": {\"reason\": \"a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.r\","
               " \"strategy\": \"s[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]\"}}");
    static char b[20000];
    /* nesting deeper than 32 levels off the paths: jansson decides */
    for (int depth = 28; depth <= 40; depth++) {
        size_t n = (size_t)snprintf(b, sizeof(b), "{" OKBODY ",\"x\":");
        for (int i = 0; i < depth; i++)
            n += (size_t)snprintf(b + n, sizeof(b) - n, "{\"k\":");
        b[n++] = '1';
        for (int i = 0; i < depth; i++)
            b[n++] = '}';
        b[n++] = '}';
        run_n(&m.dc, b, n, DEC_OK, NULL);
        b[n - 2] = ' '; /* one brace short */
        run_n(&m.dc, b, n, DEC_REJ_INVALID_JSON, NULL);
    }
    /* and beyond jansson's limit */
    {
        size_t n = (size_t)snprintf(b, sizeof(b), "{" OKBODY ",\"x\":");
        for (int i = 0; i < 2100; i++)
            b[n++] = '[';
        for (int i = 0; i < 2100; i++)
            b[n++] = ']';
        b[n++] = '}';
        run_n(&m.dc, b, n, DEC_REJ_INVALID_JSON, NULL);
    }
    /* values at the deepest paths, below deeper siblings */
    char big[300];
    memset(big, 'x', 200);
    big[200] = '\0';
    sw_event ev;
    for (int variant = 0; variant < 3; variant++) {
        /* a.a...a (15 objects) holding r, and a sibling 24 arrays deep */
        size_t n = (size_t)snprintf(b, sizeof(b), "{" OKBODY ",");
        for (int i = 0; i < 15; i++)
            n += (size_t)snprintf(b + n, sizeof(b) - n, "\"a\":{");
        if (variant == 0)
            n += (size_t)snprintf(b + n, sizeof(b) - n, "\"r\":\"forbidden\",\"d\":");
        else if (variant == 1) /* longer than the copy, escaped: jansson reads it */
            n += (size_t)snprintf(b + n, sizeof(b) - n, "\"r\":\"%s\\u0021\",\"d\":", big);
        else /* longer than the copy, read in place */
            n += (size_t)snprintf(b + n, sizeof(b) - n, "\"r\":\"%s!\",\"d\":", big);
        for (int i = 0; i < 24; i++)
            b[n++] = '[';
        b[n++] = '1';
        for (int i = 0; i < 24; i++)
            b[n++] = ']';
        for (int i = 0; i < 15; i++)
            b[n++] = '}';
        /* s[0]...[0]: 15 indexes */
        n += (size_t)snprintf(b + n, sizeof(b) - n, ",\"s\":");
        for (int i = 0; i < 15; i++)
            b[n++] = '[';
        n += (size_t)snprintf(b + n, sizeof(b) - n, variant == 2 ? "\"%s\"" : "\"none\"",
                              big);
        for (int i = 0; i < 15; i++)
            b[n++] = ']';
        b[n++] = '}';
        memset(&ev, 0, sizeof(ev));
        run_n(&m.dc, b, n, DEC_OK, &ev);
        CHECK_INT(ev.reason, variant == 0 ? 4 : reasons.n);
        CHECK_INT(ev.informed, 1);
        CHECK_INT(ev.strategy, variant == 2 ? strategies.n : 5);
    }
    ev = mok(&m, "{" OKBODY ",\"s\":[[[[[[[[[[[[[[[\"none\",1]]]]]]]]]]]]]]]}");
    CHECK_INT(ev.strategy, 5);
    ev = mok(&m, "{" OKBODY ",\"s\":[[[[[[[[[[[[[[[[\"none\"]]]]]]]]]]]]]]]]}");
    CHECK_INT(ev.strategy, LABEL_NONE);
    ev = mok(&m, "{" OKBODY ",\"s\":[[[[[[[[[[[[[[\"none\"]]]]]]]]]]]]]]}");
    CHECK_INT(ev.strategy, LABEL_NONE);
    ev = mok(&m, "{" OKBODY ",\"s\":[[[[[[[[[[[[[[[7]]]]]]]]]]]]]]]}");
    CHECK_INT(ev.strategy, LABEL_NONE);

    /* a long escaped string off the paths costs nothing */
    snprintf(b, sizeof(b), "{" OKBODY ",\"z\":\"%s\\n\",\"s\":[[[[[[[[[[[[[[[\"none\"]]]]]]]]]]]]]]]}",
             big);
    ev = mok(&m, b);
    CHECK_INT(ev.strategy, 5);
    /* a long escaped key equal to no path */
    snprintf(b, sizeof(b), "{" OKBODY ",\"%s\\n\":1}", big);
    mok(&m, b);
    mapped_free(&m);

    /* the event name itself, long and escaped, by prefix */
    MAPPED(&m, "{\"fields\": {\"event\": {\"path\": \"msg\", \"prefix\": \"event=\"}}}");
    snprintf(b, sizeof(b), "{\"msg\":\"event=" NAME_Q "\\u0020%s\",\"ts\":1}", big);
    mrun(&m, b, DEC_IGNORED);
    snprintf(b, sizeof(b), "{\"msg\":\"%s\\u0020event=" NAME_Q "\",\"ts\":1}", big);
    mrun(&m, b, DEC_IGNORED);
    mapped_free(&m);
}

/* A JSON chain of objects along the path P k0 . P k1 ... : the keys of
 * levels [from, to) opened; closed by the caller. */
static size_t chain_open(char *b, size_t n, size_t cap, const char *p, int from, int to)
{
    for (int k = from; k < to; k++)
        n += (size_t)snprintf(b + n, cap - n, "\"%sk%d\":{", p, k);
    return n;
}

static size_t chain_close(char *b, size_t n, size_t cap, int count)
{
    for (int k = 0; k < count && n + 1 < cap; k++)
        b[n++] = '}';
    b[n] = '\0';
    return n;
}

/* ",\"Pk0\":{...\"Pk15\":VALUE...}" */
static size_t chain(char *b, size_t n, size_t cap, const char *p, const char *value)
{
    n += (size_t)snprintf(b + n, cap - n, ",");
    n = chain_open(b, n, cap, p, 0, 15);
    n += (size_t)snprintf(b + n, cap - n, "\"%sk15\":%s", p, value);
    return chain_close(b, n, cap, 15);
}

/* The largest mapping the loader accepts must compile (start-up and
 * check-config must not disagree about a config), and the fast walk must
 * follow all of its paths. */
static void mapped_limits(void)
{
    /* every field with four alternatives of 16 steps, 8 filters, the
     * weight and 4 key parts, each path its own: 656 steps */
    static char input[32768];
    size_t n = (size_t)snprintf(input, sizeof(input), "{\"fields\": {");
    static const char *const fields[] = {"event", "time", "duration", "status", "reason",
                                         "strategy", "time_constraint"};
    char path[160];
#define PATH16(prefix)                                                                      \
    do {                                                                                    \
        size_t pn_ = 0;                                                                     \
        for (int k_ = 0; k_ < 16; k_++)                                                     \
            pn_ += (size_t)snprintf(path + pn_, sizeof(path) - pn_, "%s%sk%d", k_ ? "." : "", \
                                    prefix, k_);                                            \
    } while (0)
    for (int f = 0; f < 7; f++) {
        n += (size_t)snprintf(input + n, sizeof(input) - n, "%s\"%s\": [", f ? ", " : "",
                              fields[f]);
        for (int a = 0; a < 4; a++) {
            char pre[16];
            snprintf(pre, sizeof(pre), "f%da%d", f, a);
            PATH16(pre);
            n += (size_t)snprintf(input + n, sizeof(input) - n, "%s\"%s\"", a ? ", " : "", path);
        }
        n += (size_t)snprintf(input + n, sizeof(input) - n, "]");
    }
    n += (size_t)snprintf(input + n, sizeof(input) - n, "}, \"filters\": [");
    for (int i = 0; i < 8; i++) {
        char pre[16];
        snprintf(pre, sizeof(pre), "x%d", i);
        PATH16(pre);
        n += (size_t)snprintf(input + n, sizeof(input) - n,
                              "%s{\"field\": \"%s\", \"equals\": [\"v\"]}", i ? ", " : "", path);
    }
    PATH16("w");
    n += (size_t)snprintf(input + n, sizeof(input) - n,
                          "], \"sample_weight\": {\"field\": \"%s\"}, \"correlate\": {\"key\": [",
                          path);
    for (int i = 0; i < 4; i++) {
        char pre[16];
        snprintf(pre, sizeof(pre), "y%d", i);
        PATH16(pre);
        n += (size_t)snprintf(input + n, sizeof(input) - n, "%s\"%s\"", i ? ", " : "", path);
    }
    snprintf(input + n, sizeof(input) - n, "]}}");
#undef PATH16
    mapped m;
    MAPPED(&m, input);
    if (!m.ok) {
        mapped_free(&m);
        return;
    }
    /* a message along the last alternatives, every filter holding */
    static char b[16384], base[16384];
    size_t bn = (size_t)snprintf(base, sizeof(base), "{\"pad\":0");
    for (int i = 0; i < 8; i++) {
        char pre[16];
        snprintf(pre, sizeof(pre), "x%d", i);
        bn = chain(base, bn, sizeof(base), pre, "\"v\"");
    }
    bn = chain(base, bn, sizeof(base), "w", "7");
    bn = chain(base, bn, sizeof(base), "y0", "\"p\"");
    bn = chain(base, bn, sizeof(base), "y1", "1");
    bn = chain(base, bn, sizeof(base), "y2", "\"u\"");
    bn = chain(base, bn, sizeof(base), "y3", "2");
    bn = chain(base, bn, sizeof(base), "f2a3", "12.5");
    bn = chain(base, bn, sizeof(base), "f3a3", "503");
    bn = chain(base, bn, sizeof(base), "f4a3", "\"preview_failed\"");
    bn = chain(base, bn, sizeof(base), "f5a3", "\"none\"");
    bn = chain(base, bn, sizeof(base), "f6a3", "false");
    /* the event name at its fourth path, the time at its second */
    size_t n1 = chain(memcpy(b, base, bn + 1), bn, sizeof(b), "f0a3", "\"" NAME_F "\"");
    n1 = chain(b, n1, sizeof(b), "f1a1", "1234");
    n1 = chain_close(b, n1, sizeof(b), 1);
    sw_event ev;
    memset(&ev, 0, sizeof(ev));
    run_n(&m.dc, b, n1, DEC_OK, &ev);
    CHECK_INT(ev.kind, SW_EV_FALLBACK);
    CHECK_INT(ev.ts_ms, 1234);
    CHECK_DBL(ev.duration_ms, 12.5, 0);
    CHECK_INT(ev.status, 503);
    CHECK_INT(ev.reason, 7);
    CHECK_INT(ev.strategy, 5);
    CHECK_INT(ev.tc, 0);
    CHECK_INT(ev.weight, 7);
    CHECK_INT(ev.has_key, 1);
    /* one filter short: filtered */
    {
        char *at = strstr(b, "\"x7k15\":\"v\"");
        CHECK(at != NULL);
        if (at) {
            at[9] = 'w';
            run_n(&m.dc, b, n1, DEC_FILTERED, NULL);
            at[9] = 'v';
        }
    }
    /* duplicate keys at interior nodes far down the trie (the time's and
     * the last key part's): jansson's last one */
    for (int order = 0; order < 2; order++) {
        n1 = chain(memcpy(b, base, bn + 1), bn, sizeof(b), "f0a3", "\"" NAME_F "\"");
        n1 += (size_t)snprintf(b + n1, sizeof(b) - n1, ",");
        n1 = chain_open(b, n1, sizeof(b), "f1a1", 0, 14);
        n1 += (size_t)snprintf(b + n1, sizeof(b) - n1,
                               order ? "\"f1a1k14\":{\"f1a1k15\":7},\"f1a1k14\":{\"f1a1k15\":8}"
                                     : "\"f1a1k14\":{\"f1a1k15\":8},\"f1a1k14\":{\"f1a1k15\":7}");
        n1 = chain_close(b, n1, sizeof(b), 14);
        n1 = chain_close(b, n1, sizeof(b), 1);
        memset(&ev, 0, sizeof(ev));
        run_n(&m.dc, b, n1, DEC_OK, &ev);
        CHECK_INT(ev.ts_ms, order ? 8 : 7);
    }
    for (int order = 0; order < 2; order++) {
        /* y3 holds the last node numbers; base has its chain too, so this
         * message holds y3k0 twice at the top: the last one wins */
        n1 = chain(memcpy(b, base, bn + 1), bn, sizeof(b), "f0a3", "\"" NAME_F "\"");
        n1 = chain(b, n1, sizeof(b), "f1a1", "5");
        n1 = chain(b, n1, sizeof(b), "y3", order ? "2" : "[2]");
        n1 = chain_close(b, n1, sizeof(b), 1);
        memset(&ev, 0, sizeof(ev));
        run_n(&m.dc, b, n1, DEC_OK, &ev);
        CHECK_INT(ev.has_key, order);
    }
    /* every path absent but the event and the time: the defaults */
    n1 = (size_t)snprintf(b, sizeof(b), "{\"pad\":0");
    for (int i = 0; i < 8; i++) {
        char pre[16];
        snprintf(pre, sizeof(pre), "x%d", i);
        n1 = chain(b, n1, sizeof(b), pre, "\"v\"");
    }
    n1 = chain(b, n1, sizeof(b), "f0a0", "\"" NAME_Q "\"");
    n1 = chain(b, n1, sizeof(b), "f1a3", "\"2026-11-26T10:00:00Z\"");
    n1 = chain_close(b, n1, sizeof(b), 1);
    memset(&ev, 0, sizeof(ev));
    run_n(&m.dc, b, n1, DEC_OK, &ev);
    CHECK_INT(ev.kind, SW_EV_REQUESTED);
    CHECK_INT(ev.ts_ms, (20783LL * 86400 + 10 * 3600) * 1000);
    CHECK_INT(ev.weight, 1);
    CHECK_INT(ev.has_key, 0);
    CHECK_INT(ev.tc, -1);
    mapped_free(&m);

    /* 63 steps in all: compiles and reads the paths */
    MAPPED(&m, "{\"fields\": {\"event\": [\"a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p\","
               " \"b.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p\"],"
               " \"time\": [\"c.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p\", \"d.b.c.d.e.f.g.h.i.j.k.l.m.n.o\"],"
               " \"duration\": null, \"status\": null, \"reason\": null, \"strategy\": null,"
               " \"time_constraint\": null}, \"duration_required\": false}");
    ev = mok(&m, "{\"b\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{\"h\":{\"i\":"
                 "{\"j\":{\"k\":{\"l\":{\"m\":{\"n\":{\"o\":{\"p\":\"" SUCC_NAME
                 "\"}}}}}}}}}}}}}}},\"d\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":"
                 "{\"g\":{\"h\":{\"i\":{\"j\":{\"k\":{\"l\":{\"m\":{\"n\":{\"o\":"
                 "77}}}}}}}}}}}}}}}");
    CHECK_INT(ev.kind, SW_EV_SUCCEEDED);
    CHECK_INT(ev.ts_ms, 77);
    CHECK_INT(ev.has_duration, 0);
    mapped_free(&m);
}

/* Mutations of logger lines under mappings like the fuzzer's: the fast
 * walk of the paths must agree with jansson everywhere, also inside a
 * field envelope (the mutated line escaped into it) and after a syslog
 * header. */
#define LOGGER_MAPPING                                                                        \
    "\"fields\": {\"event\": {\"path\": [\"msg\", \"context.event\"], \"prefix\": \"event=\"},"  \
    " \"time\": [\"ts\", \"context.timestamp\"], \"duration\": [\"context.payload.durationMs\","  \
    " \"spans[1].d\"], \"status\": \"http\\\\.status\", \"reason\": \"context.payload.reason\","  \
    " \"strategy\": \"context.payload.compressionStrategy\","                                   \
    " \"time_constraint\": \"context.payload.meetsTimeConstraint\"},"                           \
    " \"filters\": [{\"events\": [\"requested\"], \"field\": \"context.payload.source\","        \
    " \"equals\": [\"planning-engine\"]}], \"sample_weight\": {\"field\": \"context.sampleRate\"}," \
    " \"error_reasons\": [\"internal_error\", \"preview_failed\"],"                              \
    " \"correlate\": {\"key\": [\"context.payload.planId\", \"context.payload.userId\"]}"

static const char *const logger_seeds[] = {
    ("{\"level\":\"info\",\"msg\":\"event=" SUCC_NAME "\",\"ts\":\"2026-11-26T10:00:00.123Z\","
     "\"context\":{\"payload\":{\"durationMs\":812,\"compressionStrategy\":\"core_only\","
     "\"meetsTimeConstraint\":true,\"planId\":\"p-1\",\"userId\":42}},\"http.status\":200}"),
    ("{\"msg\":\"event=" NAME_Q "\",\"ts\":1795687200123,\"context\":{\"payload\":"
     "{\"source\":\"planning-engine\",\"planId\":\"p-1\",\"userId\":42},\"sampleRate\":10}}"),
    ("{\"msg\":\"event=" NAME_F "\",\"context\":{\"timestamp\":5,\"payload\":{\"reason\":"
     "\"preview_failed\",\"planId\":\"p\\u002d2\",\"userId\":\"u\"}},\"spans\":[{},{\"d\":1.5}]}"),
    ("{\"context\":{\"event\":\"event=" NAME_D "\",\"payload\":{\"x\":[1,{\"y\":null}]},"
     "\"context\":{}},\"ts\":-1,\"msg\":null}"),
};

/* s[0..n) as the body of a JSON string (quote, backslash and controls
 * escaped; other bytes as they are). */
static size_t escape_into(char *out, size_t cap, const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 7 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            out[k++] = '\\';
            out[k++] = (char)c;
        } else if (c < 0x20) {
            k += (size_t)snprintf(out + k, cap - k, "\\u%04x", c);
        } else {
            out[k++] = (char)c;
        }
    }
    return k;
}

static void mapped_mutations(void)
{
    mapped direct, field, syslog;
    MAPPED(&direct, "{" LOGGER_MAPPING "}");
    MAPPED(&field, "{\"envelope\": {\"type\": \"field\", \"field\": \"log.message\"}, "
                   LOGGER_MAPPING "}");
    MAPPED(&syslog, "{\"envelope\": {\"type\": \"syslog\"}, " LOGGER_MAPPING "}");
    if (!direct.ok || !field.ok || !syslog.ok)
        return;
    static char b[2048], w[8192];
    long verdicts[3][DEC_VERDICT_COUNT] = {{0}};
    const size_t ns = sizeof(logger_seeds) / sizeof(logger_seeds[0]);
    for (int i = 0; i < 120000; i++) {
        const char *s = logger_seeds[(size_t)i % ns];
        size_t n = strlen(s);
        memcpy(b, s, n);
        n = mutate(b, n, sizeof(b));
        verdicts[0][run_n(&direct.dc, b, n, ANY, NULL)]++;
        /* the line escaped into a shipper's record, which is sometimes
         * mutated too */
        size_t k = (size_t)snprintf(w, sizeof(w), "{\"host\":\"h\",\"log\":{\"message\":\"");
        k += escape_into(w + k, sizeof(w) - k - 8, b, n);
        k += (size_t)snprintf(w + k, sizeof(w) - k, "\"}}");
        if (i % 4 == 0)
            k = mutate(w, k, sizeof(w));
        verdicts[1][run_n(&field.dc, w, k, ANY, NULL)]++;
        /* after a syslog header */
        k = (size_t)snprintf(w, sizeof(w), "<14>1 2026-11-26T10:00:00Z host app - - - ");
        memcpy(w + k, b, n);
        verdicts[2][run_n(&syslog.dc, w, k + n, ANY, NULL)]++;
    }
    for (int e = 0; e < 3; e++) {
        CHECK(verdicts[e][DEC_OK] > 1000);
        CHECK(verdicts[e][DEC_REJ_INVALID_JSON] > 1000);
        CHECK(verdicts[e][DEC_IGNORED] > 100);
        CHECK(verdicts[e][DEC_FILTERED] > 100);
        CHECK(verdicts[e][DEC_REJ_EVENT] > 100);
    }
    CHECK(verdicts[1][DEC_REJ_ENVELOPE] > 1000);
    for (int v = 0; v < DEC_VERDICT_COUNT; v++)
        printf("mapped mutations: %-16s %7ld %7ld %7ld\n", dec_verdict_name((dec_verdict)v),
               verdicts[0][v], verdicts[1][v], verdicts[2][v]);
    mapped_free(&direct);
    mapped_free(&field);
    mapped_free(&syslog);
}

int main(void)
{
    setup();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        run(cases[i].s, cases[i].want);
    nul_cases();
    field_cases();
    long_cases();
    size_cases();
    nesting_cases();
    truncation_cases();
    mutation_cases();
    mapped_paths();
    mapped_extract();
    mapped_filters();
    mapped_weight();
    mapped_keys();
    mapped_duration();
    mapped_reasons();
    mapped_envelopes();
    mapped_duplicates();
    mapped_depth_and_length();
    mapped_limits();
    mapped_mutations();
    CHECK_STR(dec_verdict_name(DEC_REJ_TIME_CONSTRAINT), "time_constraint");
    CHECK_STR(dec_verdict_name(DEC_OK), "ok");
    printf("decode: %ld inputs compared\n", cases_run);
    CHECK_DONE();
}
