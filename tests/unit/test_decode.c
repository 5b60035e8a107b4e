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
#include "event.h"

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
    CHECK_STR(dec_verdict_name(DEC_REJ_TIME_CONSTRAINT), "time_constraint");
    CHECK_STR(dec_verdict_name(DEC_OK), "ok");
    printf("decode: %ld inputs compared\n", cases_run);
    CHECK_DONE();
}
