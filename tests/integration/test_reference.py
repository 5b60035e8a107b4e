"""soakwatch's file replay against the independent reference (reference.py):
generated streams and hand-made edge cases, clause by clause of
docs/semantics.md. For every input both must write the same events (the
histogram percentiles within 1%, everything else exactly) and the same
summary counts; the edge cases also assert what the contract says the
answer is, worked out by hand, so that the reference is checked too."""

import gzip
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import reference  # noqa: E402

SRC = Path(os.environ.get("SOAKWATCH_SRC", HERE.parent.parent))
BIN = os.environ.get("SOAKWATCH_BIN", str(SRC / "build" / "soakwatch"))

_spec = importlib.util.spec_from_file_location("gen_recording", SRC / "scripts" / "gen-recording.py")
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)

BASE = 1795161600  # 2026-11-20T08:00:00Z, a multiple of 60
EV = "stream5.time_crunch_preview_"


# ---- building inputs ------------------------------------------------------------

def line(kind, sec, ms=0, **fields):
    """One event at BASE + sec seconds (+ ms), ts as epoch milliseconds."""
    doc = {"event": EV + kind, "ts": (BASE + sec) * 1000 + ms}
    doc.update(fields)
    return json.dumps(doc).encode()


def req(sec, **kw):
    return line("requested", sec, **kw)


def ok(sec, dur=800, **kw):
    return line("succeeded", sec, durationMs=dur, **kw)


def fb(sec, reason="plan_not_compressible", dur=900, **kw):
    return line("fallback", sec, reason=reason, durationMs=dur, **kw)


def err(sec, dur=1200):
    return fb(sec, reason="internal_error", dur=dur)


def steady(first, last, per_sec=1):
    """Healthy traffic: each second `per_sec` requests and as many successes."""
    out = []
    for s in range(first, last + 1):
        for _ in range(per_sec):
            out += [req(s), ok(s)]
    return out


# ---- running both ------------------------------------------------------------------

def run_c(data, tmp_path, config=None, mode="file", extra=()):
    """soakwatch replay over `data` (bytes). Returns (events, summary line)."""
    args = [BIN, "replay"]
    if config is not None:
        cfg = tmp_path / "config.json"
        cfg.write_text(json.dumps(config))
        args += ["--config", str(cfg)]
    stdin = None
    if mode == "file":
        path = tmp_path / "in.jsonl"
        path.write_bytes(data)
        args += ["--input", str(path)]
    elif mode == "gzip":
        path = tmp_path / "in.jsonl.gz"
        path.write_bytes(gzip.compress(data))
        args += ["--input", str(path)]
    elif mode == "stdin-dash":
        args += ["--input", "-"]
        stdin = data
    else:  # stdin, no --input at all
        stdin = data
    p = subprocess.run(args + list(extra), input=stdin, capture_output=True, timeout=120)
    err_text = p.stderr.decode(errors="replace")
    assert p.returncode == 0, err_text
    summary = [l for l in err_text.splitlines() if l.startswith("soakwatch: ") and " accepted;" in l]
    assert summary, err_text
    events = [json.loads(l) for l in p.stdout.decode().splitlines()]
    return events, summary[-1][len("soakwatch: "):]


def agree(lines, tmp_path, config=None, mode="file", sep=b"\n"):
    """Replay `lines` with both; assert they agree; return the reference's
    Result."""
    data = sep.join(lines) + sep
    ref = reference.replay(reference.split_lines(data), config)
    got, summary = run_c(data, tmp_path, config, mode)
    diffs = reference.compare(ref.outputs, got)
    assert not diffs, "soakwatch and the reference differ:\n" + "\n".join(diffs)
    assert summary == reference.summary_line(ref.summary)
    return ref


def triggers(res):
    return [(e["rule"], e["state"], e["at_ms"] // 1000 - BASE) for e in res.outputs
            if e["type"] == "rollback_trigger"]


def statuses(res):
    return [(e["at_ms"] // 1000 - BASE, e["status"]) for e in res.outputs if e["type"] == "status"]


def only_rule(**rule):
    r = {"name": "r", "min_samples": 0}
    r.update(rule)
    return {"rules": [r]}


# ---- generated streams ------------------------------------------------------------

GENERATED = [
    # (generator arguments, config)
    (["--hours", "0.6", "--seed", "2", "--incident", "error-burst@10m+10m"], None),
    (["--hours", "0.6", "--seed", "3", "--rate", "3", "--incident", "latency-spike@8m+12m"], None),
    (["--hours", "0.9", "--seed", "4", "--rate", "1", "--incident", "outage@10m+35m"], None),
    (["--hours", "0.6", "--seed", "5", "--incident", "success-drop@5m+20m"], None),
    (["--hours", "0.4", "--seed", "6", "--incident", "error-burst@5m+6m"],
     {"allowed_lateness_s": 0}),
    (["--hours", "0.4", "--seed", "7", "--incident", "error-burst@5m+6m"],
     {"allowed_lateness_s": 7, "status": {"interval_s": 45, "windows_s": [60, 300, 900]}}),
    (["--hours", "0.5", "--seed", "8", "--rate", "2", "--incident", "outage@5m+15m"],
     {"max_gap_s": 600}),
    (["--hours", "0.4", "--seed", "9", "--incident", "error-burst@3m+8m"],
     {"rules": [
         {"name": "errors_8pct", "metric": "error_rate", "op": ">=", "threshold": 0.08,
          "window_s": 120, "min_samples": 50},
         {"name": "few_core_only", "metric": "strategies.core_only", "op": "<", "threshold": 60,
          "window_s": 240},
         {"name": "internal", "metric": "fallback_reasons.internal_error", "op": ">",
          "threshold": 30, "window_s": 300},
         {"name": "slow_p95", "metric": "latency_p95_ms", "op": ">", "threshold": 10000,
          "window_s": 300, "min_samples": 20},
         {"name": "fit", "metric": "time_constraint_success_rate", "op": "<=", "threshold": 0.85,
          "window_s": 180, "min_samples": 10},
         {"name": "declines", "metric": "declined", "op": ">", "threshold": 5, "window_s": 60},
     ]}),
]


@pytest.mark.parametrize("args,config", GENERATED, ids=[" ".join(a[4:]) or a[3] for a, _ in
                                                        GENERATED])
def test_generated_stream(args, config, tmp_path):
    out = tmp_path / "gen.jsonl"
    assert gen.main(args + ["-o", str(out)]) == 0
    ref = agree(out.read_bytes().split(b"\n")[:-1], tmp_path, config)
    assert ref.summary["accepted"] > 1000
    if "--incident" in args and config is None:
        kind = args[args.index("--incident") + 1].split("@")[0]
        rule = {"error-burst": "error_rate_high", "latency-spike": "latency_high",
                "outage": "zero_requests", "success-drop": "success_rate_low"}[kind]
        assert (rule, "firing") in [(r, s) for r, s, _ in triggers(ref)], kind
    if config == {"allowed_lateness_s": 0}:
        assert ref.summary["late"] > 100  # events arrive up to a second out of order
    if config == {"max_gap_s": 600}:
        # nothing after a 15-minute silence is accepted: the gap exceeds 600 s
        assert ref.summary["out_of_range"] > 100


def test_generated_stream_gzip_and_stdin(tmp_path):
    out = tmp_path / "gen.jsonl"
    gen.main(["--hours", "0.3", "--seed", "11", "-o", str(out)])
    lines = out.read_bytes().split(b"\n")[:-1]
    first = agree(lines, tmp_path, mode="gzip")
    for mode in ("stdin", "stdin-dash"):
        again = agree(lines, tmp_path, mode=mode)
        assert again.outputs == first.outputs


def test_crlf_and_blank_lines(tmp_path):
    lines = steady(0, 200)
    plain = agree(lines, tmp_path)
    spaced = []
    for i, l in enumerate(lines):
        spaced += [l, b"", b"\r"] if i % 7 == 0 else [l]
    assert agree(spaced, tmp_path, sep=b"\r\n").outputs == plain.outputs
    assert agree(spaced, tmp_path).outputs == plain.outputs
    # a line of spaces is not blank: it is no JSON
    res = agree(lines + [b"   ", b"\t"], tmp_path)
    assert res.summary["rejected"] == {"invalid_json": 2}


# ---- section 1: one verdict per message -------------------------------------------------

def _padded(total, max_bytes=65536):
    """A valid requested event of exactly `total` bytes."""
    head = b'{"event":"' + EV.encode() + b'requested","ts":%d,"pad":"' % (BASE * 1000)
    return head + b"x" * (total - len(head) - 2) + b'"}'


VERDICTS = [
    # (line, verdict)
    (_padded(65536), "ok"),
    (_padded(65537), "too_large"),
    (b'{"event":', "invalid_json"),
    (b'{"event":"%srequested","ts":%d} x' % (EV.encode(), BASE * 1000), "invalid_json"),
    (b'{"event":"%srequested","ts":%d,"a":NaN}' % (EV.encode(), BASE * 1000), "invalid_json"),
    (b'{"event":"%srequested","ts":%d,"a":-Infinity}' % (EV.encode(), BASE * 1000),
     "invalid_json"),
    (b'{"event":"%srequested","ts":9223372036854775808}' % EV.encode(), "invalid_json"),
    (b'{"event":"%srequested","ts":%d,"a":-9223372036854775809}' % (EV.encode(), BASE * 1000),
     "invalid_json"),
    (b'{"event":"%ssucceeded","ts":%d,"durationMs":1e400}' % (EV.encode(), BASE * 1000),
     "invalid_json"),
    (b'{"event":"%srequested","ts":%d,"a":"\\u0000"}' % (EV.encode(), BASE * 1000),
     "invalid_json"),
    (b'{"event":"%srequested","ts":%d,"a":["\\ud800"]}' % (EV.encode(), BASE * 1000),
     "invalid_json"),
    (b'{"event":"%srequested","ts":%d,"a":"\\ud83d\\ude00"}' % (EV.encode(), BASE * 1000), "ok"),
    (b'{"event":"%srequested","ts":%d,"a":"\xff"}' % (EV.encode(), BASE * 1000), "invalid_json"),
    (b'{"event":"%srequested","ts":%d,"a":"\xc3\xa9"}' % (EV.encode(), BASE * 1000), "ok"),
    (b'{"event":"%srequested","ts":%d,"a":"tab\there"}' % (EV.encode(), BASE * 1000),
     "invalid_json"),
    (b'\xef\xbb\xbf{"event":"%srequested","ts":%d}' % (EV.encode(), BASE * 1000), "invalid_json"),
    (b'{"event":"%srequested","ts":%d,"a":%s1%s}' % (EV.encode(), BASE * 1000, b"[" * 2047,
                                                     b"]" * 2047), "invalid_json"),
    (b'{"event":"%srequested","ts":%d,"a":%s1%s}' % (EV.encode(), BASE * 1000, b"[" * 2046,
                                                     b"]" * 2046), "ok"),
    (b'"just a string"', "invalid_json"),
    (b"42", "invalid_json"),
    (b"null", "invalid_json"),
    (b'[{"event":"%srequested","ts":%d}]' % (EV.encode(), BASE * 1000), "not_object"),
    (b"[]", "not_object"),
    (b'{"ts":%d}' % (BASE * 1000), "event"),
    (b'{"event":7,"ts":%d}' % (BASE * 1000), "event"),
    (b'{"event":null,"ts":%d}' % (BASE * 1000), "event"),
    (b'{"event":"stream5.time_crunch_preview_opened","ts":"garbage"}', "ignored"),
    (b'{"event":"STREAM5.time_crunch_preview_requested","ts":%d}' % (BASE * 1000), "ignored"),
    (b'{"event":"%srequested "}' % EV.encode(), "ignored"),
    (b'{"event":"stream5\\u002etime_crunch_preview_requested","ts":%d}' % (BASE * 1000), "ok"),
    (b'{"event":"x","ts":%d,"event":"%srequested"}' % (BASE * 1000, EV.encode()), "ok"),
    (b'{"event":"%srequested","ts":%d,"event":"x"}' % (EV.encode(), BASE * 1000), "ignored"),
    (b'  {"event":"%srequested","ts":%d}  ' % (EV.encode(), BASE * 1000), "ok"),
    # ts
    (b'{"event":"%srequested"}' % EV.encode(), "ts"),
    (b'{"event":"%srequested","ts":null}' % EV.encode(), "ts"),
    (b'{"event":"%srequested","ts":true}' % EV.encode(), "ts"),
    (b'{"event":"%srequested","ts":%d.0}' % (EV.encode(), BASE * 1000), "ts"),
    (b'{"event":"%srequested","ts":1.7e12}' % EV.encode(), "ts"),
    (b'{"event":"%srequested","ts":"%d"}' % (EV.encode(), BASE * 1000), "ts"),
    (b'{"event":"%srequested","ts":"2026-11-20T08:00:00.123Z"}' % EV.encode(), "ok"),
    (b'{"event":"%srequested","ts":"2026-11-20t08:00:00z"}' % EV.encode(), "ok"),
    (b'{"event":"%srequested","ts":"2026-11-20T09:00:00.1239999+01:00"}' % EV.encode(), "ok"),
    (b'{"event":"%srequested","ts":"2026-11-20T08:00:00.Z"}' % EV.encode(), "ts"),
    (b'{"event":"%srequested","ts":"2026-11-20T08:00:00"}' % EV.encode(), "ts"),
    (b'{"event":"%srequested","ts":"2026-11-20 08:00:00Z"}' % EV.encode(), "ts"),
    (b'{"event":"%srequested","ts":"2026-11-20T08:00:60Z"}' % EV.encode(), "ts"),
    (b'{"event":"%srequested","ts":"2026-11-31T08:00:00Z"}' % EV.encode(), "ts"),
    (b'{"event":"%srequested","ts":"2026-02-29T08:00:00Z"}' % EV.encode(), "ts"),
    (b'{"event":"%srequested","ts":"2028-02-29T08:00:00Z"}' % EV.encode(), "ok"),
    (b'{"event":"%srequested","ts":"2026-11-20T24:00:00Z"}' % EV.encode(), "ts"),
    (b'{"event":"%srequested","ts":"2026-11-20T08:00:00+24:00"}' % EV.encode(), "ts"),
    (b'{"event":"%srequested","ts":"2026-11-20T08:00:00+0100"}' % EV.encode(), "ts"),
    (b'{"event":"%srequested","ts":"2026-11-20T08:00:00Z "}' % EV.encode(), "ts"),
    (b'{"event":"%srequested","ts":"\\u0032026-11-20T08:00:00Z"}' % EV.encode(), "ok"),
    (b'{"event":"%srequested","ts":"\xd9\xa2026-11-20T08:00:00Z"}' % EV.encode(), "ts"),
    # duration (after ts)
    (b'{"event":"%ssucceeded","ts":"bad"}' % EV.encode(), "ts"),
    (b'{"event":"%ssucceeded","ts":%d}' % (EV.encode(), BASE * 1000), "duration"),
    (b'{"event":"%sfallback","ts":%d,"durationMs":-1}' % (EV.encode(), BASE * 1000), "duration"),
    (b'{"event":"%sfallback","ts":%d,"durationMs":-0.0}' % (EV.encode(), BASE * 1000), "ok"),
    (b'{"event":"%ssucceeded","ts":%d,"durationMs":"800"}' % (EV.encode(), BASE * 1000),
     "duration"),
    (b'{"event":"%ssucceeded","ts":%d,"durationMs":true}' % (EV.encode(), BASE * 1000),
     "duration"),
    (b'{"event":"%ssucceeded","ts":%d,"durationMs":null}' % (EV.encode(), BASE * 1000),
     "duration"),
    (b'{"event":"%ssucceeded","ts":%d,"durationMs":0}' % (EV.encode(), BASE * 1000), "ok"),
    (b'{"event":"%ssucceeded","ts":%d,"durationMs":1e-400}' % (EV.encode(), BASE * 1000), "ok"),
    (b'{"event":"%srequested","ts":%d,"durationMs":-5}' % (EV.encode(), BASE * 1000), "ok"),
    (b'{"event":"%sdeclined","ts":%d,"durationMs":"x"}' % (EV.encode(), BASE * 1000), "ok"),
    # status (after duration)
    (b'{"event":"%ssucceeded","ts":%d,"status":99}' % (EV.encode(), BASE * 1000), "duration"),
    (b'{"event":"%ssucceeded","ts":%d,"durationMs":1,"status":99}' % (EV.encode(), BASE * 1000),
     "status"),
    (b'{"event":"%ssucceeded","ts":%d,"durationMs":1,"status":600}' % (EV.encode(), BASE * 1000),
     "status"),
    (b'{"event":"%ssucceeded","ts":%d,"durationMs":1,"status":100}' % (EV.encode(), BASE * 1000),
     "ok"),
    (b'{"event":"%sfallback","ts":%d,"durationMs":1,"status":599}' % (EV.encode(), BASE * 1000),
     "ok"),
    (b'{"event":"%ssucceeded","ts":%d,"durationMs":1,"status":200.0}' % (EV.encode(),
                                                                        BASE * 1000), "status"),
    (b'{"event":"%ssucceeded","ts":%d,"durationMs":1,"status":"200"}' % (EV.encode(),
                                                                        BASE * 1000), "status"),
    (b'{"event":"%ssucceeded","ts":%d,"durationMs":1,"status":true}' % (EV.encode(),
                                                                       BASE * 1000), "status"),
    (b'{"event":"%srequested","ts":%d,"status":null}' % (EV.encode(), BASE * 1000), "status"),
    # time_constraint (last)
    (b'{"event":"%ssucceeded","ts":%d,"durationMs":1,"status":0,"meetsTimeConstraint":1}'
     % (EV.encode(), BASE * 1000), "status"),
    (b'{"event":"%ssucceeded","ts":%d,"durationMs":1,"meetsTimeConstraint":1}'
     % (EV.encode(), BASE * 1000), "time_constraint"),
    (b'{"event":"%ssucceeded","ts":%d,"durationMs":1,"meetsTimeConstraint":"true"}'
     % (EV.encode(), BASE * 1000), "time_constraint"),
    (b'{"event":"%srequested","ts":%d,"meetsTimeConstraint":null}' % (EV.encode(), BASE * 1000),
     "time_constraint"),
    (b'{"event":"%ssucceeded","ts":%d,"durationMs":1,"meetsTimeConstraint":false}'
     % (EV.encode(), BASE * 1000), "ok"),
    # optional fields of another type are ignored
    (b'{"event":"%sfallback","ts":%d,"durationMs":1,"reason":5,"compressionStrategy":[]}'
     % (EV.encode(), BASE * 1000), "ok"),
]


def test_verdicts_of_the_reference():
    cfg = reference.make_config()
    for raw, want in VERDICTS:
        assert reference.decode(raw, cfg)[0] == want, raw[:120]


@pytest.mark.parametrize("raw,want", VERDICTS, ids=[str(i) for i in range(len(VERDICTS))])
def test_verdict(raw, want, tmp_path):
    _, summary = run_c(raw + b"\n", tmp_path)
    if want == "ok":
        assert summary.startswith("1 accepted; 0 rejected; 0 ignored"), summary
    elif want == "ignored":
        assert summary.startswith("0 accepted; 0 rejected; 1 ignored"), summary
    else:
        assert summary.startswith("0 accepted; 1 rejected (%s 1); 0 ignored" % want), summary


def test_verdicts_in_a_stream(tmp_path):
    lines = steady(0, 120)
    for i, (raw, _) in enumerate(VERDICTS):
        lines.insert(2 * i + 1, raw)
    agree(lines, tmp_path)


def test_message_cap_is_config(tmp_path):
    lines = [_padded(256), _padded(257), _padded(200)]
    res = agree(lines, tmp_path, {"max_message_bytes": 256})
    assert res.summary["accepted"] == 2 and res.summary["rejected"] == {"too_large": 1}


def test_timestamps_in_any_form_land_in_the_same_second(tmp_path):
    forms = ['"2026-11-20T08:01:00.999Z"', '"2026-11-20T09:01:00.999+01:00"',
             '"2026-11-20T07:31:00.999999-00:30"', '"2026-11-20t08:01:00.9999z"',
             str((BASE + 60) * 1000 + 999)]
    lines = [req(0)]
    for f in forms:
        lines.append(b'{"event":"%srequested","ts":%s}' % (EV.encode(), f.encode()))
    lines.append(req(120))
    res = agree(lines, tmp_path)
    st = {e["at_ms"] // 1000 - BASE: e for e in res.outputs if e["type"] == "status"}
    # the five land in second 60: the window of T=61.. sees them, T=60 not
    assert st[60]["windows"]["300"]["requests"] == 1
    assert st[120]["windows"]["300"]["requests"] == 6


def test_range_of_timestamps(tmp_path):
    res = agree([b'{"event":"%srequested","ts":-1}' % EV.encode(),
                 b'{"event":"%srequested","ts":"1969-12-31T23:59:59.999Z"}' % EV.encode(),
                 b'{"event":"%srequested","ts":"0000-01-01T00:00:00Z"}' % EV.encode(),
                 b'{"event":"%srequested","ts":253402300800000}' % EV.encode(),
                 b'{"event":"%srequested","ts":"9999-12-31T23:59:59.999Z"}' % EV.encode()],
                tmp_path)
    assert res.summary["out_of_range"] == 4 and res.summary["accepted"] == 1
    res = agree([b'{"event":"%srequested","ts":0}' % EV.encode(),
                 b'{"event":"%srequested","ts":"1969-12-31T23:59:59-00:01"}' % EV.encode(),
                 b'{"event":"%srequested","ts":61000}' % EV.encode()], tmp_path)
    assert res.summary["accepted"] == 3
    assert statuses(res) == [(60 - BASE, "yellow")]
    assert res.outputs[0]["at"] == "1970-01-01T00:01:00.000Z"


# ---- section 2: classification ---------------------------------------------------------

def test_classification_of_errors(tmp_path):
    lines = [
        ok(0, status=503),                        # error: explicit status wins
        ok(0),                                    # 200
        fb(0, reason="internal_error"),           # 500
        fb(0, reason="plan_not_compressible"),    # 422
        fb(0, reason="internal_error", status=200),  # explicit status wins: not an error
        fb(0, reason="plan_not_found", status=500),  # error
        line("fallback", 0, durationMs=1),         # no reason: 422
        line("fallback", 0, durationMs=1, reason=7),  # reason not a string: 422
        req(0, status=500),                       # a request is no outcome
        line("declined", 0, status=500),          # nor is a decline
        req(60),
    ]
    res = agree(lines, tmp_path)
    w = res.outputs[-1]["windows"]["300"]
    assert (w["requests"], w["outcomes"], w["successes"], w["errors"], w["declined"]) == \
        (1, 8, 2, 3, 1)  # req(60) is in the window of T = 61, not 60
    assert w["error_rate"] == 3 / 8 and w["success_rate"] == 2 / 8


def test_labels_and_time_constraint(tmp_path):
    lines = [
        ok(0, compressionStrategy="core_only", meetsTimeConstraint=True),
        ok(0, compressionStrategy="core_only", meetsTimeConstraint=False),
        ok(0, compressionStrategy="mystery", meetsTimeConstraint=True),
        ok(0, compressionStrategy=3),
        ok(0),
        fb(0, reason="internal_error", compressionStrategy="none", meetsTimeConstraint=False),
        fb(0, reason="brand_new_reason", compressionStrategy="none"),
        fb(0, reason=None),
        req(0, compressionStrategy="pending", reason="internal_error"),
        line("declined", 0, compressionStrategy="user_decline", reason="after_success"),
        ok(0, reason="plan_not_found"),
        req(60),
    ]
    res = agree(lines, tmp_path)
    w = res.outputs[-1]["windows"]["300"]
    assert w["strategies"] == {"core_only": 2, "none": 2, "other": 1}
    assert w["fallback_reasons"] == {"internal_error": 1, "other": 1}
    # successes carrying a boolean: 3 (the fallback's does not count), 2 true
    assert w["time_constraint_success_rate"] == 2 / 3
    # configured lists: a name left out counts as other
    cfg = {"strategies": ["none"], "fallback_reasons": ["plan_not_found"],
           "rollback": {"reason": "plan_not_found"}}  # section 10: a listed reason
    res = agree(lines, tmp_path, cfg)
    w = res.outputs[-1]["windows"]["300"]
    assert w["strategies"] == {"none": 2, "other": 3}
    assert w["fallback_reasons"] == {"other": 2}


def test_no_time_constraint_is_null(tmp_path):
    res = agree([ok(0), fb(0, meetsTimeConstraint=True), req(60)], tmp_path)
    assert res.outputs[-1]["windows"]["300"]["time_constraint_success_rate"] is None


def test_mean_in_microseconds_and_percentiles(tmp_path):
    # durations to the microsecond, half away from zero: 0.0005 ms is 0.5 us
    durs = [0.0005, 0.0004, 0.0015, 2.5, 799.9994, 800.0006, 1e-7, 123456.789, 7, 3]
    lines = [ok(0, dur=d) for d in durs] + [req(60)]
    res = agree(lines, tmp_path)
    w = res.outputs[-1]["windows"]["300"]
    us = [1, 0, 2, 2500, 799999, 800001, 0, 123456789, 7000, 3000]
    assert w["latency_mean_ms"] == sum(us) / (10 * 1000.0)
    s = sorted(durs)
    assert w["latency_p95_ms"] == s[9] and w["latency_p99_ms"] == s[9]
    lines = [ok(0, dur=100 + i) for i in range(20)] + [req(60)]
    w = agree(lines, tmp_path).outputs[-1]["windows"]["300"]
    assert (w["latency_p95_ms"], w["latency_p99_ms"]) == (118, 119)  # ranks 19 and 20


# ---- section 3: time -----------------------------------------------------------------------

def test_lateness_edge(tmp_path):
    lines = [req(100), req(105), req(103), req(102), req(106, ms=999), req(104)]
    res = agree(lines, tmp_path)
    # 103 is exactly 2 s behind 105: accepted; 102 is 3 behind: late;
    # 104 is 2 behind 106: accepted
    assert (res.summary["accepted"], res.summary["late"]) == (5, 1)
    res = agree(lines, tmp_path, {"allowed_lateness_s": 0})
    assert (res.summary["accepted"], res.summary["late"]) == (3, 3)
    res = agree(lines, tmp_path, {"allowed_lateness_s": 3})
    assert (res.summary["accepted"], res.summary["late"]) == (6, 0)


def test_late_counts_against_greatest_second_before(tmp_path):
    # a late or out-of-range event moves nothing: the next one is judged
    # against the greatest *accepted* second
    lines = [req(100), req(90), req(3000), req(98), req(97)]
    res = agree(lines, tmp_path, {"max_gap_s": 1000})
    assert (res.summary["accepted"], res.summary["late"], res.summary["out_of_range"]) == \
        (2, 2, 1)


def test_events_before_t0_within_lateness(tmp_path):
    lines = [req(60), req(59), req(58), req(57), req(125)]
    res = agree(lines, tmp_path)
    assert res.summary["late"] == 1
    # t0 = 60: first status at 120, and its window holds seconds 58 and 59 too
    assert statuses(res) == [(120, "yellow")]
    assert res.outputs[0]["windows"]["300"]["requests"] == 3


def test_max_gap_edge(tmp_path):
    cfg = {"max_gap_s": 700}
    lines = [req(0), req(700), req(1401), req(1400), req(1399)]
    res = agree(lines, tmp_path, cfg)
    assert (res.summary["accepted"], res.summary["out_of_range"]) == (4, 1)
    # the default: one day; a corrupt timestamp beyond it is dropped and
    # does not drag time forward
    res = agree([req(0), req(86401), req(30), ok(30)], tmp_path)
    assert (res.summary["accepted"], res.summary["out_of_range"]) == (3, 1)
    assert res.outputs == []


def test_ignored_events_do_not_move_time(tmp_path):
    lines = [req(0), line("opened", 5000), req(1), line("opened", -5000), req(61)]
    res = agree(lines, tmp_path)
    assert res.summary["ignored"] == 2 and res.summary["late"] == 0
    assert statuses(res) == [(60, "yellow")]


def test_rejected_events_do_not_move_time(tmp_path):
    lines = [req(0), line("requested", 5000, status=700), line("succeeded", 9000),
             req(1), req(61)]
    res = agree(lines, tmp_path)
    assert res.summary["rejected"] == {"duration": 1, "status": 1}
    assert (res.summary["accepted"], res.summary["late"]) == (3, 0)


def test_event_names_and_feature_are_config(tmp_path):
    cfg = {"events": {"requested": "req", "succeeded": "ok"}, "feature": "flag.x",
           "rules": [{"name": "any", "metric": "requests", "op": ">", "threshold": 0,
                      "window_s": 1}]}
    lines = [b'{"event":"req","ts":%d}' % (BASE * 1000),
             b'{"event":"ok","ts":%d,"durationMs":5}' % (BASE * 1000),
             req(0), line("declined", 0), b'{"event":"req","ts":%d}' % ((BASE + 3) * 1000)]
    res = agree(lines, tmp_path, cfg)
    assert res.summary["ignored"] == 1  # the default requested name is no longer known
    assert res.summary["accepted"] == 4
    assert [(e["id"], e["feature"]) for e in res.outputs if e["type"] == "rollback_trigger"] == [
        ("any:%d" % ((BASE + 1) * 1000), "flag.x"), ("any:%d" % ((BASE + 2) * 1000), "flag.x"),
        ("any:%d" % ((BASE + 4) * 1000), "flag.x")]


def test_evaluation_at_end_up_to_greatest_second_plus_one(tmp_path):
    cfg = only_rule(metric="requests", op=">=", threshold=1, window_s=1)
    res = agree([req(0), req(5)], tmp_path, cfg)
    assert triggers(res) == [("r", "firing", 1), ("r", "resolved", 2), ("r", "firing", 6)]
    # a status at greatest second + 1, none past it
    res = agree([req(0), req(59)], tmp_path)
    assert statuses(res) == [(60, "yellow")]
    res = agree([req(0), req(58)], tmp_path)
    assert statuses(res) == []


def test_every_second_of_a_gap_is_evaluated(tmp_path):
    cfg = only_rule(metric="requests", op="==", threshold=0, window_s=10)
    res = agree([req(0), req(100), req(1000)], tmp_path, cfg)
    assert triggers(res) == [("r", "firing", 11), ("r", "resolved", 101),
                             ("r", "firing", 111), ("r", "resolved", 1001)]
    assert [t for t, _ in statuses(res)] == list(range(60, 1001, 60))


# ---- section 5: rules --------------------------------------------------------------------------

def test_min_samples_20_vs_19(tmp_path):
    for n, fires in ((19, False), (20, True)):
        lines = [err(0) for _ in range(n)] + [req(s) for s in range(0, 400, 10)]
        res = agree(lines, tmp_path)
        if fires:
            # first evaluation at t0 + 300; the next instant's window no
            # longer holds second 0
            assert triggers(res) == [("error_rate_high", "firing", 300),
                                     ("error_rate_high", "resolved", 301)]
            trig = [e for e in res.outputs if e["type"] == "rollback_trigger"][0]
            assert (trig["value"], trig["samples"], trig["window_start_ms"]) == \
                (1, 20, BASE * 1000)
            at300 = [e for e in res.outputs if e["at_ms"] == (BASE + 300) * 1000]
            assert [e["type"] for e in at300] == ["rollback_trigger", "status"]
            assert at300[1]["status"] == "red" and at300[1]["firing"] == ["error_rate_high"]
        else:
            assert triggers(res) == []


def test_error_rate_exactly_at_threshold(tmp_path):
    for n_err, fires in ((2, False), (3, True)):
        lines = []
        for s in range(0, 400):
            lines.append(req(s))
        for i in range(20):
            lines.insert(i + 1, err(0) if i < n_err else ok(0))
        res = agree(lines, tmp_path)
        got = [t for t in triggers(res) if t[0] == "error_rate_high"]
        assert got == ([("error_rate_high", "firing", 300), ("error_rate_high", "resolved", 301)]
                       if fires else [])


def test_first_rule_evaluation_at_t0_plus_window(tmp_path):
    # errors every second from the start: the condition holds from T = 20 on,
    # but the 300 s window is first fully observed at T = t0 + 300
    lines = []
    for s in range(0, 420):
        lines += [req(s), err(s)]
    res = agree(lines, tmp_path)
    assert triggers(res)[0] == ("error_rate_high", "firing", 300)
    assert ("success_rate_low", "firing", 600) not in triggers(res)  # 420 < 600: never judged
    lines = [l.replace(b'"ts": %d' % (BASE * 1000), b'"ts": %d' % (BASE * 1000 + 999))
             for l in lines]
    assert triggers(agree(lines, tmp_path))[0] == ("error_rate_high", "firing", 300)


def test_zero_requests_in_a_31_minute_gap(tmp_path):
    lines = steady(0, 99) + steady(1960, 2000)
    res = agree(lines, tmp_path)
    # last request at 99: the 1800 s window is empty from T = 1900; the
    # request at 1960 is in the window of T = 1961
    assert triggers(res) == [("zero_requests", "firing", 1900),
                             ("zero_requests", "resolved", 1961)]
    reds = [t for t, c in statuses(res) if c == "red"]
    assert reds == list(range(1920, 1961, 60))


def test_latency_and_success_rules(tmp_path):
    lines = []
    for s in range(0, 700):
        lines += [req(s), ok(s, dur=6000 if 100 <= s < 500 else 500)]
        if 300 <= s < 400:
            lines.append(fb(s, dur=6000))
            lines.append(fb(s, dur=6000))
    res = agree(lines, tmp_path)
    rules = {r for r, _, _ in triggers(res)}
    assert rules == {"latency_high", "success_rate_low"}


def test_operators_and_metrics(tmp_path):
    rules = [
        {"name": "ge", "metric": "outcomes", "op": ">=", "threshold": 3, "window_s": 5},
        {"name": "le", "metric": "successes", "op": "<=", "threshold": 1, "window_s": 5},
        {"name": "eq", "metric": "errors", "op": "==", "threshold": 2, "window_s": 5},
        {"name": "lt", "metric": "latency_mean_ms", "op": "<", "threshold": 100, "window_s": 5,
         "min_samples": 2},
        {"name": "dq", "metric": "declined", "op": ">", "threshold": 0, "window_s": 5},
        {"name": "tc", "metric": "time_constraint_success_rate", "op": "<", "threshold": 0.5,
         "window_s": 5},
        {"name": "p99", "metric": "latency_p99_ms", "op": ">", "threshold": 5000, "window_s": 5},
    ]
    lines = []
    for s in range(0, 60):
        k = s % 9
        lines.append(req(s))
        if k < 4:
            lines.append(ok(s, dur=50 + 20 * k, meetsTimeConstraint=k % 2 == 0))
        if k in (2, 3, 7):
            lines.append(err(s, dur=9000 if k == 7 else 60))
        if k == 5:
            lines.append(line("declined", s))
    res = agree(lines, tmp_path, {"rules": rules})
    assert {r for r, _, _ in triggers(res)} == {r["name"] for r in rules}


# ---- section 6: status ---------------------------------------------------------------------------

def test_first_status_at_t0_plus_interval(tmp_path):
    res = agree([req(0), req(130)], tmp_path)
    assert [t for t, _ in statuses(res)] == [60, 120]
    res = agree([req(1), req(130)], tmp_path)
    assert [t for t, _ in statuses(res)] == [120]
    res = agree([req(1), req(130)], tmp_path, {"status": {"interval_s": 7}})
    # multiples of 7 in epoch seconds, from t0 + 7 up to greatest second + 1
    assert [t for t, _ in statuses(res)] == [s for s in range(8, 132) if (BASE + s) % 7 == 0]


def _status_at_60(tmp_path, outcomes, cfg=None):
    res = agree([req(0)] + outcomes + [req(60)], tmp_path, cfg)
    (t, colour), = statuses(res)
    assert t == 60
    return colour


def test_status_colours_at_their_edges(tmp_path):
    # 20 outcomes, 19 of them successes: success_rate 0.95 is not > 0.95
    assert _status_at_60(tmp_path, [ok(0)] * 19 + [fb(0)]) == "yellow"
    assert _status_at_60(tmp_path, [ok(0)] * 20 + [fb(0)]) == "green"
    assert _status_at_60(tmp_path, [ok(0)] * 19) == "yellow"  # fewer than 20 outcomes
    # error_rate 0.05 exactly (with the success target out of the way)
    low = {"status": {"success_rate_min": 0.5}}
    assert _status_at_60(tmp_path, [ok(0)] * 38 + [err(0)] * 2, low) == "yellow"
    assert _status_at_60(tmp_path, [ok(0)] * 39 + [err(0)] * 1, low) == "green"
    # latency_mean_ms 2000 exactly
    assert _status_at_60(tmp_path, [ok(0, dur=1500)] * 20 + [ok(0, dur=12000)]) == "yellow"
    assert _status_at_60(tmp_path, [ok(0, dur=1500)] * 20 + [ok(0, dur=11999)]) == "green"
    # targets are config
    cfg = {"status": {"min_outcomes": 0, "success_rate_min": 0.5}}
    assert _status_at_60(tmp_path, [ok(0)] * 3 + [fb(0)], cfg) == "green"
    assert _status_at_60(tmp_path, [], cfg) == "green"  # nothing to judge, rates null


def test_status_windows_are_config(tmp_path):
    cfg = {"status": {"window_s": 60, "windows_s": [10, 60, 120]}}
    lines = steady(0, 200)
    res = agree(lines, tmp_path, cfg)
    assert list(res.outputs[0]["windows"]) == ["10", "60", "120"]
    assert res.outputs[0]["windows"]["10"]["requests"] == 10
