"""Mapped input (docs/semantics.md section 9) in file replay.

(a) Hand-worked cases, clause by clause and at each clause's edges: each
    asserts the answer worked out by hand against the independent
    reference (reference.py), and soakwatch must then agree with the
    reference on the same input.
(b) Generated streams in every shape of section 9 (shapes.py): soakwatch
    and the reference must write the same events and the same summary.
(c) One stream in several shapes: where the contract says two readings are
    the same (a logger line and its flat twin with the derived durations,
    the same lines in any envelope, a constant weight and a weight field),
    the outputs must be the same."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import reference  # noqa: E402
import shapes  # noqa: E402
from test_reference import BASE, BIN, EV, run_c  # noqa: E402

REQ, OK, FB, DECL = (EV + k for k in ("requested", "succeeded", "fallback", "declined"))


# ---- helpers ---------------------------------------------------------------------------------

def ms(sec, extra=0):
    return (BASE + sec) * 1000 + extra


def dumps(doc):
    return json.dumps(doc, separators=(",", ":")).encode()


def lg(kind, sec, extra_ms=0, **payload):
    """A structured logger line: event name in msg, fields in context.payload."""
    return {"level": "info", "msg": "event=" + EV + kind, "ts": reference.format_rfc3339_ms(
        ms(sec, extra_ms)), "context": {"payload": payload}}


LOGGER = {
    "fields": {"event": {"path": "msg", "prefix": "event="}, "time": "ts",
               "duration": "context.payload.durationMs", "status": "context.payload.status",
               "reason": "context.payload.reason",
               "strategy": "context.payload.compressionStrategy",
               "time_constraint": "context.payload.meetsTimeConstraint"},
}


def logger_cfg(rules=None, **inp):
    cfg = {"input": dict(json.loads(json.dumps(LOGGER)), **inp)}
    if rules is not None:
        cfg["rules"] = rules
    return cfg


def verdicts(lines, config):
    """Every verdict the reference gives the messages, in order."""
    cfg = reference.make_config(config)
    return [v for raw in lines for v, _ in reference.decode_message(raw, cfg)]


def decoded(raw, config):
    """The one accepted event of a message, as the reference reads it."""
    cfg = reference.make_config(config)
    (v, ev), = reference.decode_message(raw, cfg)
    assert v == "ok", v
    return ev


def triggers(res):
    return [(e["rule"], e["state"], e["at_ms"] // 1000 - BASE) for e in res.outputs
            if e["type"] == "rollback_trigger"]


def statuses(res):
    return {e["at_ms"] // 1000 - BASE: e for e in res.outputs if e["type"] == "status"}


def rule(name, metric, op, threshold, window_s=60, min_samples=0):
    return {"name": name, "metric": metric, "op": op, "threshold": threshold,
            "window_s": window_s, "min_samples": min_samples}


def ref_replay(lines, config):
    return reference.replay(lines, config)


def c_agrees(lines, config, tmp_path):
    """soakwatch over `lines` agrees with the reference: events and summary."""
    data = b"\n".join(lines) + b"\n"
    ref = reference.replay(reference.split_lines(data), config)
    got, summary = run_c(data, tmp_path, config)
    diffs = reference.compare(ref.outputs, got)
    assert not diffs, "soakwatch and the reference differ:\n" + "\n".join(diffs)
    assert summary == reference.summary_line(ref.summary)
    return ref


# ---- (a) hand-worked cases -------------------------------------------------------------------
#
# Each case returns (lines, config, check): check(reference result) asserts
# the hand-worked answer; test_soakwatch_on_hand_case replays the same
# lines through soakwatch.

HAND = []


def hand(fn):
    HAND.append(fn)
    return fn


@hand
def paths_with_escapes_and_indexes():
    cfg = {"input": {"fields": {"event": "a\\.b[1].c", "time": "t[0][1]",
                                "reason": "x\\[0]", "strategy": "w\\\\v.s"}}}
    good = {"a.b": [{}, {"c": REQ}], "t": [[0, ms(0)]]}
    lines = [
        dumps(good),                                                    # ok
        dumps({"a": {"b": [{}, {"c": REQ}]}, "t": [[0, ms(0)]]}),       # '.' is a key step: event
        dumps({"a.b": [{"c": REQ}], "t": [[0, ms(0)]]}),                # index 1 of 1 element: event
        dumps({"a.b": {"1": {"c": REQ}}, "t": [[0, ms(0)]]}),           # [1] needs an array: event
        dumps({"a.b": [{}, {"c": REQ}], "t": [ms(0)]}),                 # t[0] is no array: ts
        dumps({"a.b": [{}, {"c": FB}], "t": [[0, ms(1)]], "durationMs": 5,
               "x[0]": "internal_error", "w\\v": {"s": "core_only"}}),  # ok
        # of duplicate keys the last one counts
        b'{"a.b":[{},{"c":"%s"}],"t":[[0,%d]],"a.b":[{},{"c":"other"}]}' % (REQ.encode(), ms(2)),
    ]

    def check(res):
        assert verdicts(lines, cfg) == ["ok", "event", "event", "event", "ts", "ok", "ignored"]
        ev = decoded(lines[5], cfg)
        assert (ev["reason"], ev["strategy"], ev["ts_ms"]) == ("internal_error", "core_only", ms(1))
        assert res.summary["rejected"] == {"event": 3, "ts": 1}
    return lines, cfg, check


@hand
def alternatives_and_null_fields():
    cfg = {"input": {"fields": {"event": ["event", "context.event"],
                                "time": ["ts", "context.timestamp"], "status": None}}}
    lines = [
        dumps({"context": {"event": REQ, "timestamp": "2026-11-20T08:00:00.250Z"}}),  # ok, 2nd paths
        dumps({"event": REQ, "ts": None, "context": {"timestamp": ms(0)}}),  # null is present: ts
        dumps({"event": 5, "context": {"event": REQ}, "ts": ms(0)}),  # first present is used: event
        # status mapped to null is never present: 503 neither rejects nor makes an error
        dumps({"event": OK, "ts": ms(1), "durationMs": 10, "status": 503}),
        dumps({"event": OK, "ts": ms(1), "durationMs": 10, "status": "bad"}),
    ]

    def check(res):
        assert verdicts(lines, cfg) == ["ok", "ts", "event", "ok", "ok"]
        assert decoded(lines[0], cfg)["ts_ms"] == ms(0, 250)
        assert decoded(lines[3], cfg)["status"] is None
        rec = res.summary
        assert rec["accepted"] == 3 and rec["rejected"] == {"ts": 1, "event": 1}
    return lines, cfg, check


@hand
def prefix_and_token():
    pre = {"input": {"fields": {"event": {"path": ["msg", "message"], "prefix": "event="}}}}
    tok = {"input": {"fields": {"event": {"path": "msg", "token": "event"}}}}
    t = ms(0)
    p_lines = [
        dumps({"msg": "event=" + REQ, "ts": t}),                 # ok
        dumps({"msg": "event=" + EV + "opened", "ts": t}),       # unknown name: ignored
        dumps({"msg": "GET /v1/plans 200"}),                     # no prefix: ignored, ts not read
        dumps({"msg": " event=" + REQ, "ts": t}),                # must start with it: ignored
        dumps({"msg": 17, "message": "event=" + REQ, "ts": t}),  # first present not a string: event
        dumps({"message": "event=" + REQ, "ts": t}),             # second path: ok
        dumps({"msg": "hello", "message": "event=" + REQ, "ts": t}),  # first present wins: ignored
        dumps({"level": "warn", "ts": t}),                       # absent: event
        dumps({"msg": "event=" + REQ}),                          # telemetry without time: ts
    ]
    t_lines = [
        dumps({"msg": "telemetry event=%s source=pe" % REQ, "ts": t}),   # ok
        dumps({"msg": "telemetry  event=" + REQ, "ts": t}),              # two spaces: ok
        dumps({"msg": "event=" + REQ, "ts": t}),                         # first token: ok
        dumps({"msg": "a event=x event=" + REQ, "ts": t}),               # first K= token: ignored
        dumps({"msg": "telemetry events=" + REQ, "ts": t}),              # not K=: ignored
        dumps({"msg": "telemetry\tevent=" + REQ, "ts": t}),              # tab is no separator
        dumps({"msg": "telemetry event=", "ts": t}),                     # empty name: ignored
        dumps({"msg": ["event=" + REQ], "ts": t}),                       # not a string: event
    ]

    def check(res):
        assert verdicts(p_lines, pre) == ["ok", "ignored", "ignored", "ignored", "event", "ok",
                                          "ignored", "event", "ts"]
        assert verdicts(t_lines, tok) == ["ok", "ok", "ok", "ignored", "ignored", "ignored",
                                          "ignored", "event"]
        assert res.summary["accepted"] == 2 and res.summary["ignored"] == 4
    return p_lines, pre, check


@hand
def token_lines():
    tok = {"input": {"fields": {"event": {"path": "msg", "token": "event"}}}}
    t = ms(0)
    t_lines = [dumps({"msg": "telemetry event=%s source=pe" % REQ, "ts": t}),
               dumps({"msg": "a event=x event=" + REQ, "ts": t}),
               dumps({"msg": "telemetry\tevent=" + REQ, "ts": t}),
               dumps({"msg": ["event=" + REQ], "ts": t})]

    def check(res):
        assert (res.summary["accepted"], res.summary["ignored"], res.summary["rejected"]) == \
            (1, 2, {"event": 1})
    return t_lines, tok, check


@hand
def verdict_order():
    cfg = logger_cfg(filters=[{"events": ["succeeded"], "field": "context.payload.source",
                               "equals": ["planning-engine"]}],
                     sample_weight={"field": "context.payload.w"})
    pe = {"source": "planning-engine"}

    def line(kind="succeeded", ts=True, **payload):
        fields = dict(pe, durationMs=5)
        fields.update(payload)
        d = lg(kind, 0, **fields)
        if ts is not True:
            d["ts"] = ts
        return dumps(d)
    lines = [
        dumps(dict(lg("succeeded", 0, source="gateway-bff"), ts="bad")),  # filtered before ts
        line(ts="bad", durationMs=-1),                                    # ts before duration
        line(durationMs=-1, status=99),                                   # duration before status
        line(status=600, meetsTimeConstraint="yes"),                      # status before tc
        line(meetsTimeConstraint=1, w=0),                                 # tc before weight
        line(w=0),                                                        # weight
        line(w=1001), line(w=10.0), line(w="10"), line(w=None), line(w=True),  # weight
        line(w=1000), line(w=1),                                          # ok
        line(status=599, meetsTimeConstraint=False),                      # ok
    ]

    def check(res):
        assert verdicts(lines, cfg) == ["filtered", "ts", "duration", "status", "time_constraint"] \
            + ["weight"] * 6 + ["ok"] * 3
        assert res.summary["filtered"] == 1
        assert reference.summary_line(res.summary) == (
            "3 accepted; 10 rejected (ts 1, duration 1, status 1, time_constraint 1, weight 6); "
            "0 ignored; 0 late; 0 out of range; 0 events written; 1 filtered")
    return lines, cfg, check


@hand
def duration_required_or_not():
    no_dur = [dumps(lg("requested", 0, durationMs="x")),    # a request's duration is not read
              dumps(lg("succeeded", 0)),                    # absent
              dumps(lg("fallback", 0, reason="r", durationMs=None)),  # present, null
              dumps(lg("succeeded", 0, durationMs=-0.5)),
              dumps(lg("declined", 0, durationMs=-1)),
              dumps(lg("succeeded", 0, durationMs=0))]
    cfg = logger_cfg(duration_required=False, rules=[
        rule("slow", "latency_mean_ms", ">=", 0, window_s=1)])

    def check(res):
        assert verdicts(no_dur, logger_cfg()) == ["ok", "duration", "duration", "duration", "ok",
                                                  "ok"]
        assert verdicts(no_dur, cfg) == ["ok", "ok", "duration", "duration", "ok", "ok"]
        # correlate makes it optional by default
        corr = logger_cfg(correlate={"key": ["context.payload.planId"]})
        assert verdicts(no_dur, corr) == verdicts(no_dur, cfg)
        # two outcomes, one with a duration: the mean is over that one; samples 1
        (name, state, at), = triggers(res)
        trig = res.outputs[0]
        assert (name, state, at, trig["value"], trig["samples"]) == ("slow", "firing", 1, 0, 1)
    return no_dur, cfg, check


@hand
def error_reasons():
    cfg = logger_cfg(error_reasons=["preview_failed"], rules=[
        rule("errors", "errors", ">=", 0, window_s=1)])
    lines = [dumps(lg("fallback", 0, durationMs=1, reason="preview_failed")),   # 500
             dumps(lg("fallback", 0, durationMs=1, reason="internal_error")),   # 422 now
             dumps(lg("fallback", 0, durationMs=1, reason="preview_failed", status=422)),
             dumps(lg("succeeded", 0, durationMs=1, status=503)),               # status wins
             dumps(lg("succeeded", 0, durationMs=1))]

    def check(res):
        trig = res.outputs[0]
        assert (trig["rule"], trig["value"], trig["samples"]) == ("errors", 2, 5)
    return lines, cfg, check


@hand
def field_envelope():
    cfg = {"input": {"envelope": {"type": "field", "field": "log\\.line"},
                     "fields": {"event": {"path": "msg", "prefix": "event="}}}}
    inner = dumps(lg("requested", 0)).decode()
    big = {"log.line": inner, "pad": "x" * 70000}
    lines = [
        dumps({"log.line": inner, "host": {"name": "h"}}),         # ok
        dumps({"log.line": inner + "\n"}),                         # a shipper's newline: ok
        dumps({"log": {"line": inner}}),                           # '.' escaped: no such path
        dumps({"log.line": json.loads(inner)}),                    # not a string: envelope
        dumps([{"log.line": inner}]),                              # not an object: envelope
        b'{"log.line": "' + inner.encode()[:20],                   # not JSON: envelope
        dumps({"log.line": inner[:40]}),                           # the line's own: invalid_json
        dumps({"log.line": "[1,2]"}),                              # not_object
        dumps({"log.line": "GET /health 200"}),                    # invalid_json
        dumps({"log.line": '{"msg":"hello"}'}),                    # ignored
        dumps({"log.line": '{"ts":1}'}),                           # event
        dumps(big),                                                # too_large, whole message
    ]

    def check(res):
        assert verdicts(lines, cfg) == ["ok", "ok", "envelope", "envelope", "envelope", "envelope",
                                        "invalid_json", "not_object", "invalid_json", "ignored",
                                        "event", "too_large"]
        assert reference.summary_line(res.summary).startswith(
            "2 accepted; 9 rejected (too_large 1, envelope 4, invalid_json 2, not_object 1, "
            "event 1); 1 ignored;")
    return lines, cfg, check


@hand
def syslog_envelope():
    cfg = {"input": {"envelope": {"type": "syslog"},
                     "fields": {"event": {"path": "msg", "prefix": "event="}}}}
    line = dumps(lg("requested", 0))
    lines = [
        b"<14>Nov 20 08:00:00 pe-1 planning-engine[42]: " + line,   # ok
        line,                                                       # no header: ok
        b"<14>Nov 20 08:00:00 pe-1 CRON[7]: (root) CMD (run-parts)",  # no '{': envelope
        b"<14>Nov 20 08:00:00 pe-1 app[1]: {bad} " + line,          # from the first '{': invalid
        b"<14>Nov 20 08:00:00 pe-1 app[1]: " + line + b" trailing",  # to the end: invalid_json
        b"<14>x: {}",                                               # event
    ]

    def check(res):
        assert verdicts(lines, cfg) == ["ok", "ok", "envelope", "invalid_json", "invalid_json",
                                        "event"]
    return lines, cfg, check


def _kv(key, **value):
    return {"key": key, "value": value}


def _otlp(*resource_logs):
    return dumps({"resourceLogs": list(resource_logs)})


@hand
def otlp_records_and_values():
    cfg = {"input": {
        "envelope": {"type": "otlp"},
        "fields": {"event": ["attributes.event\\.name", "body.event"],
                   "time": ["timeUnixMs", "observedTimeUnixMs"],
                   "duration": "attributes.d", "strategy": "attributes.kv.s",
                   "reason": "attributes.arr[1]", "time_constraint": "body.tc"},
        "filters": [{"field": "resource.service\\.name", "equals": ["planning-engine"]}],
        "duration_required": False,
    }}
    res_pe = {"attributes": [_kv("service.name", stringValue="planning-engine")]}
    res_gw = {"attributes": [_kv("service.name", stringValue="gateway-bff")]}
    ns = str(ms(0, 7) * 1000000 + 999999)  # rounded down to the millisecond: ms(0, 7)
    req_rec = {"timeUnixNano": ns, "attributes": [_kv("event.name", stringValue=REQ)]}
    ok_rec = {"timeUnixNano": ms(1) * 1000000,  # a JSON integer
              "body": {"stringValue": json.dumps({"event": OK, "tc": True})},
              "attributes": [_kv("d", intValue="-5"), _kv("d", intValue="250"),  # later wins
                             _kv("kv", kvlistValue={"values": [_kv("s", stringValue="core_only")]}),
                             _kv("arr", arrayValue={"values": [{"stringValue": "a"},
                                                               {"stringValue": "b"}]}),
                             {"key": 7, "value": {"stringValue": "skipped"}}]}
    fb_rec = {"observedTimeUnixNano": str(ms(1) * 1000000), "severityText": "WARN",
              "body": {"kvlistValue": {"values": [_kv("event", stringValue=FB)]}},
              "attributes": [_kv("d", doubleValue=12.5),
                             _kv("arr", arrayValue={"values": [{}, {"stringValue": "internal_error"}]})]}
    lines = [
        _otlp({"resource": res_pe, "scopeLogs": [
            {"logRecords": [req_rec, "x", ok_rec]},          # ok, envelope, ok
            7,                                               # envelope
            {"logRecords": {"not": "an array"}},             # envelope
            {"scope": {"name": "no records"}},               # nothing
            {"logRecords": [fb_rec, dict(req_rec, timeUnixNano="12345678901234567890")]}]},
              # fb ok; 20 digits: no time -> ts
              {"resource": res_gw, "scopeLogs": [{"logRecords": [req_rec]}]},  # filtered
              [1],                                           # envelope
              {"resource": res_pe, "scopeLogs": "no"},       # envelope
              {"resource": res_pe}),                         # nothing
        _otlp(),                                             # no records: no verdict at all
        b'{"resourceLogs":[',                                # envelope
        dumps({"resourceLogs": {}}),                         # envelope
        dumps({"resource_logs": []}),                        # envelope
        dumps([]),                                           # envelope
        _otlp({"resource": res_pe, "scopeLogs": [{"logRecords": [
            {"timeUnixNano": "-1", "attributes": [_kv("event.name", stringValue=REQ)]},  # ts
            {"timeUnixNano": ns, "body": {"stringValue": "GET /health 200"}},           # event
            {"timeUnixNano": ns, "body": {"stringValue": '{"event":"other"}'}},         # ignored
            {"timeUnixNano": ns, "attributes": [_kv("event.name", intValue="1")],
             "body": {"stringValue": '{"event":"%s"}' % REQ}},  # first present is an int: event
        ]}]}),
    ]

    def check(res):
        assert verdicts(lines, cfg) == [
            "ok", "envelope", "ok", "envelope", "envelope", "ok", "ts", "filtered", "envelope",
            "envelope", "envelope", "envelope", "envelope", "envelope", "ts", "event",
            "ignored", "event"]
        c = reference.make_config(cfg)
        recs = reference.otlp_records(lines[0])
        assert reference.decode_event(recs[0], c)[1]["ts_ms"] == ms(0, 7)
        ok_obj = recs[2]
        assert ok_obj["body"] == {"event": OK, "tc": True}
        assert ok_obj["attributes"] == {"d": 250, "kv": {"s": "core_only"}, "arr": ["a", "b"]}
        assert ok_obj["resource"] == {"service.name": "planning-engine"}
        assert ok_obj["timeUnixMs"] == ms(1) and "observedTimeUnixMs" not in ok_obj
        ev = reference.decode_event(ok_obj, c)[1]
        assert (ev["duration_ms"], ev["strategy"], ev["reason"], ev["tc"]) == \
            (250, "core_only", "b", True)
        fb_obj = recs[5]
        assert fb_obj["body"] == {"event": FB} and fb_obj["severityText"] == "WARN"
        assert fb_obj["attributes"]["arr"] == [None, "internal_error"]
        ev = reference.decode_event(fb_obj, c)[1]
        assert (ev["kind"], ev["ts_ms"], ev["duration_ms"], ev["reason"]) == \
            ("fallback", ms(1), 12.5, "internal_error")
        assert res.summary["accepted"] == 3 and res.summary["filtered"] == 1
        assert res.summary["ignored"] == 1
        assert res.summary["rejected"] == {"envelope": 9, "ts": 2, "event": 2}
    return lines, cfg, check


@hand
def otlp_any_values():
    cfg = {"input": {"envelope": {"type": "otlp"},
                     "fields": {"event": "attributes.e", "time": "attributes.t",
                                "duration": "attributes.d", "time_constraint": "attributes.b"}}}

    def rec(*attrs):
        return _otlp({"scopeLogs": [{"logRecords": [{"attributes": [
            _kv("e", stringValue=OK), *attrs]}]}]})
    lines = [
        rec(_kv("t", intValue=str(ms(0))), _kv("d", intValue=3), _kv("b", boolValue=True)),  # ok
        rec(_kv("t", intValue=ms(0)), _kv("d", doubleValue=2.5)),                         # ok
        rec(_kv("t", stringValue="2026-11-20T08:00:00Z"), _kv("d", intValue="3")),        # ok
        rec(_kv("t", intValue="+5"), _kv("d", intValue=1)),           # "+5" is no intValue: ts
        rec(_kv("t", intValue="9223372036854775808"), _kv("d", intValue=1)),  # beyond 64 bits: ts
        rec(_kv("t", intValue=ms(0)), _kv("d", stringValue="3")),             # a string: duration
        rec(_kv("t", intValue=ms(0)), _kv("d", doubleValue="3")),             # no number: null
        rec(_kv("t", intValue=ms(0)), _kv("d", intValue=1), _kv("b", boolValue="true")),  # null: tc
        rec(_kv("t", intValue=ms(0)), _kv("d", intValue=1),
            _kv("b", stringValue=7, boolValue=False)),   # first kind that applies: the boolean
        rec(_kv("t", intValue=ms(0)), _kv("d", intValue=1), {"key": "b"}),  # no value: null, tc
    ]

    def check(res):
        assert verdicts(lines, cfg) == ["ok", "ok", "ok", "ts", "ts", "duration", "duration",
                                        "time_constraint", "ok", "time_constraint"]
    return lines, cfg, check


@hand
def otlp_message_too_large():
    cfg = {"input": {"envelope": {"type": "otlp"}, "fields": {"event": "attributes.e",
                                                               "time": "timeUnixMs"}},
           "max_message_bytes": 4096}
    records = [{"timeUnixNano": str(ms(0) * 1000000),
                "attributes": [_kv("e", stringValue=REQ)]}] * 40
    small = _otlp({"scopeLogs": [{"logRecords": records[:10]}]})
    big = _otlp({"scopeLogs": [{"logRecords": records}]})

    def check(res):
        assert len(small) <= 4096 < len(big)
        assert verdicts([small, big], cfg) == ["ok"] * 10 + ["too_large"]
        assert res.summary["accepted"] == 10 and res.summary["rejected"] == {"too_large": 1}
    return [small, big], cfg, check


@hand
def filters():
    cfg = logger_cfg(filters=[
        {"events": ["requested"], "field": "context.payload.source", "equals": ["planning-engine"]},
        {"events": ["requested", "declined"], "field": "env", "equals": ["production", "prod"]},
        {"field": "service", "equals": ["planning-engine"]},  # every kind
    ], rules=[rule("no_requests", "requests", "==", 0)])

    def d(kind, sec, env="production", service="planning-engine", **payload):
        x = lg(kind, sec, **payload)
        x.update(env=env, service=service)
        return dumps(x)
    lines = [
        d("requested", 0, source="gateway-bff"),          # filtered: no second source
        d("requested", 0, source="planning-engine", env="staging"),   # filtered
        d("requested", 0, source="planning-engine", env=None),        # not a string: filtered
        d("declined", 0, env="dev"),                       # filtered
        d("succeeded", 0, env="dev", durationMs=1),        # only the third filter: kept
        d("succeeded", 0, service="gw", durationMs=1),     # filtered
        dumps(dict(lg("succeeded", 0, durationMs=1), env="production")),  # no service: filtered
        d("requested", 10, source="planning-engine", env="prod"),          # kept
        d("requested", 100, source="planning-engine"),                     # kept
        d("requested", 50, source="gw", ts="x"),   # filtered, before its bad time is read
    ]
    lines[-1] = dumps(dict(json.loads(lines[-1]), ts="never"))

    def check(res):
        assert verdicts(lines, cfg) == ["filtered"] * 4 + ["ok", "filtered", "filtered", "ok",
                                                           "ok", "filtered"]
        assert reference.summary_line(res.summary) == (
            "3 accepted; 0 rejected; 0 ignored; 0 late; 0 out of range; %d events written; "
            "7 filtered" % len(res.outputs))
        # filtered events do not count: the only request read before T=61
        # was at 10, so no_requests fires once its window (60 s) leaves it
        assert triggers(res) == [("no_requests", "firing", 71), ("no_requests", "resolved", 101)]
    return lines, cfg, check


@hand
def filtered_events_do_not_move_time():
    cfg = logger_cfg(filters=[{"events": ["requested"], "field": "context.payload.source",
                               "equals": ["planning-engine"]}])
    lines = [dumps(lg("requested", 0, source="gw")),
             dumps(lg("requested", 100, source="planning-engine")),
             dumps(lg("requested", 5000, source="gw")),          # would be a 5000 s gap
             dumps(lg("requested", 200, source="planning-engine"))]

    def check(res):
        # t0 is 100, not 0; the last filtered one moved no time
        assert sorted(statuses(res)) == [180]
        assert res.summary["filtered"] == 2 and res.summary["accepted"] == 2
    return lines, cfg, check


def _weighted(w, kind, sec, **payload):
    d = lg(kind, sec, **payload)
    if w is not None:
        d["context"]["sampleRate"] = w
    return dumps(d)


@hand
def weights_min_samples_are_observed():
    cfg = logger_cfg(sample_weight={"field": "context.sampleRate", "default": 1}, rules=[
        rule("errors", "error_rate", ">", 0.10, min_samples=20),
        rule("errors_at_10", "error_rate", ">", 0.10, min_samples=21)])
    # 18 successes of weight 1 (no field: the default) and 2 errors of weight
    # 10: 20 outcomes read; error_rate 20 / 38, while unweighted it would be
    # 2/20 = 0.10, not above the threshold
    lines = [_weighted(None, "succeeded", 0, durationMs=100)] * 18 + \
        [_weighted(10, "fallback", 0, durationMs=100, reason="internal_error")] * 2 + \
        [_weighted(None, "requested", 61)]

    def check(res):
        # the window of 60 s at 61 is empty again
        assert triggers(res) == [("errors", "firing", 60), ("errors", "resolved", 61)]
        trig = res.outputs[0]
        assert trig["value"] == 20 / 38 and trig["samples"] == 20
    return lines, cfg, check


@hand
def weights_in_every_count():
    cfg = logger_cfg(sample_weight={"field": "context.sampleRate"},
                     error_reasons=["preview_failed"])
    cfg["status"] = {"window_s": 60, "windows_s": [60, 120, 300]}
    lines = [
        _weighted(5, "requested", 0),
        _weighted(None, "requested", 0),
        _weighted(19, "succeeded", 0, durationMs=100, compressionStrategy="core_only",
                  meetsTimeConstraint=True),
        _weighted(1, "succeeded", 0, durationMs=400, compressionStrategy="x",
                  meetsTimeConstraint=False),
        _weighted(3, "fallback", 1, durationMs=1000, reason="preview_failed"),
        _weighted(2, "declined", 1),
        _weighted(1, "requested", 60),
    ]

    def check(res):
        w = statuses(res)[60]["windows"]["60"]
        assert w == {
            "requests": 6, "outcomes": 23, "successes": 20, "errors": 3, "declined": 2,
            "success_rate": 20 / 23, "error_rate": 3 / 23,
            "latency_mean_ms": (19 * 100 + 400 + 3 * 1000) / 23,
            # nearest rank over 23 weighted durations: ceil(21.85) = 22nd is 1000;
            # ceil(22.77) = 23rd is 1000
            "latency_p95_ms": 1000, "latency_p99_ms": 1000,
            "time_constraint_success_rate": 19 / 20,
            "strategies": {"core_only": 19, "other": 1},
            "fallback_reasons": {"preview_failed": 3},
        }
        # 3 outcomes read: fewer than 20, so yellow whatever the weights
        assert statuses(res)[60]["status"] == "yellow"
    return lines, cfg, check


@hand
def weighted_percentiles_at_rank_edges():
    cfg = logger_cfg(sample_weight={"field": "context.sampleRate", "default": 19})
    cfg["status"] = {"window_s": 60, "windows_s": [60, 120, 300]}
    # 19 x 100 ms and 1 x 400 ms: p95 is the 19th (100), p99 the 20th (400)
    lines = [_weighted(None, "succeeded", 0, durationMs=100),
             _weighted(1, "succeeded", 0, durationMs=400), _weighted(1, "requested", 60)]

    def check(res):
        w = statuses(res)[60]["windows"]["60"]
        assert (w["outcomes"], w["latency_p95_ms"], w["latency_p99_ms"]) == (20, 100, 400)
    return lines, cfg, check


@hand
def constant_weight():
    cfg = logger_cfg(sample_weight=10)
    cfg["status"] = {"window_s": 60, "windows_s": [60, 120, 300], "min_outcomes": 2}
    lines = [_weighted(3, "requested", 0),     # a constant ignores any field
             _weighted(None, "succeeded", 0, durationMs=10),
             _weighted(None, "succeeded", 0, durationMs=30), _weighted(None, "requested", 60)]

    def check(res):
        s = statuses(res)[60]
        w = s["windows"]["60"]
        assert (w["requests"], w["outcomes"], w["latency_mean_ms"]) == (10, 20, 20)
        assert s["status"] == "green"  # 2 outcomes read, min_outcomes 2
    return lines, cfg, check


def _corr(sec, kind, plan, extra_ms=0, **payload):
    return dumps(lg(kind, sec, extra_ms, planId=plan, **payload))


@hand
def correlate_pairs():
    cfg = logger_cfg(correlate={"key": ["context.payload.planId"], "max_latency_ms": 1000,
                                "table_size": 16},
                     rules=[rule("slow", "latency_mean_ms", ">=", 0, window_s=1)])
    lines = [
        _corr(0, "requested", "a"), _corr(0, "succeeded", "a", 500),        # matched, 500
        _corr(1, "requested", "b"), _corr(1, "requested", "b", 200),        # duplicate
        _corr(1, "succeeded", "b", 700),                                     # matched, 500
        _corr(2, "succeeded", "c"),                                          # unmatched
        _corr(2, "requested", "d"), _corr(3, "fallback", "d", 500, reason="x"),  # 1500: unmatched
        _corr(3, "succeeded", "d", 600),                                     # none pending
        _corr(4, "requested", None), _corr(4, "succeeded", None),            # unkeyed, unmatched
        _corr(4, "requested", "e"), _corr(4, "succeeded", "e", 1000, durationMs=42),  # keeps 42
        _corr(5, "requested", "f", 300), _corr(5, "succeeded", "f", 100),    # -200: unmatched
        _corr(5, "requested", "g"), _corr(5, "declined", "g", 10),           # no part
        _corr(5, "succeeded", "g", 1000),                                    # matched at M
        _corr(6, "requested", 7), _corr(6, "succeeded", 7, 1),               # integer key
        _corr(6, "requested", True), _corr(6, "requested", {"id": 1}),       # unkeyed
    ]

    def check(res):
        assert res.summary["pairs"] == {"matched": 5, "unmatched": 5, "duplicate": 1,
                                        "evicted": 0, "expired": 0, "unkeyed": 3}
        # seconds 2, 3 and 4 hold outcomes, none with a duration: slow is
        # blind at 3, 4 and 5
        assert reference.summary_line(res.summary).endswith(
            "; pairs 5 matched, 5 unmatched, 1 duplicate, 0 evicted, 0 expired, 3 unkeyed"
            "; blind slow (duration) 3 instants")
        # windows of 1 s: latency over the matched (and own) durations only
        value = {e["at_ms"] // 1000 - BASE: (e["value"], e["samples"]) for e in res.outputs
                 if e["type"] == "rollback_trigger"}
        assert triggers(res) == [("slow", "firing", 1), ("slow", "resolved", 3),
                                 ("slow", "firing", 6)]
        assert value[1] == (500, 1)   # a's 500 ms
        assert value[3] == (None, 0)  # c: unmatched, no duration
        assert value[6] == (42, 1)    # second 5: e's own 42 (f is unmatched, without one)
    return lines, cfg, check


@hand
def correlate_table_full():
    cfg = logger_cfg(correlate={"key": ["context.payload.planId"], "max_latency_ms": 1000,
                                "table_size": 16})
    lines = [_corr(0, "requested", "k%d" % i, i) for i in range(16)]
    lines += [_corr(0, "requested", "k16", 500)]             # k0 (0 + 1000 >= 500): evicted
    lines += [_corr(1, "requested", "k1", 0)]                # duplicate, not an eviction
    lines += [_corr(1, "requested", "k17", 3)]               # k2 at 2: 1002 >= 1003? no: expired
    lines += [_corr(1, "succeeded", "k0", 10)]               # evicted: unmatched
    lines += [_corr(1, "succeeded", "k3", 10)]               # 1007 > 1000: unmatched
    lines += [_corr(1, "succeeded", "k16", 400)]             # 900: matched

    def check(res):
        assert res.summary["pairs"] == {"matched": 1, "unmatched": 2, "duplicate": 1,
                                        "evicted": 1, "expired": 1, "unkeyed": 0}
    return lines, cfg, check


@hand
def correlate_only_accepted_events():
    cfg = logger_cfg(correlate={"key": ["context.payload.planId", "context.payload.userId"]},
                     filters=[{"events": ["requested"], "field": "context.payload.source",
                               "equals": ["pe"]}])
    lines = [
        _corr(10, "requested", "a", userId="u", source="gw"),          # filtered: not pending
        _corr(10, "succeeded", "a", 100, userId="u"),                  # unmatched
        _corr(10, "requested", "b", userId="u", source="pe"),
        _corr(10, "requested", "b", userId="u", source="pe", durationMs="x"),  # requests may
        _corr(10, "succeeded", "b", 300, userId=1, source="pe"),       # other key: unmatched
        _corr(10, "succeeded", "b", 300, userId="u", status=99),       # rejected: no part
        _corr(10, "succeeded", "b", 400, userId="u"),                  # matched (2nd b request)
        _corr(20, "requested", "c", userId="u", source="pe"),
        _corr(21, "requested", "e", userId="u", source="pe"),
        _corr(5, "requested", "d", userId="u", source="pe"),           # late: no part
        _corr(20, "succeeded", "d", userId="u"),                       # unmatched
        _corr(20, "succeeded", "c", 60000, userId="u"),                # exactly M: matched
        _corr(21, "succeeded", "e", 60001, userId="u"),                # past M: unmatched
    ]

    def check(res):
        assert res.summary["late"] == 1 and res.summary["rejected"] == {"status": 1}
        assert res.summary["pairs"] == {"matched": 2, "unmatched": 4, "duplicate": 1,
                                        "evicted": 0, "expired": 0, "unkeyed": 0}
    return lines, cfg, check


@hand
def derived_durations_in_windows():
    cfg = logger_cfg(correlate={"key": ["context.payload.planId"]},
                     rules=[rule("p95", "latency_p95_ms", ">", 10 ** 9)])
    cfg["status"] = {"window_s": 60, "windows_s": [60, 120, 300], "min_outcomes": 1}
    lines = [_corr(0, "requested", "a"), _corr(0, "requested", "b", 7),
             _corr(1, "succeeded", "a", 250),                            # 1250 ms
             _corr(1, "fallback", "b", 7, reason="plan_not_compressible"),  # 1000 ms
             _corr(1, "succeeded", "zz"),                                # no duration
             _corr(60, "requested", "c")]

    def check(res):
        s = statuses(res)[60]
        w = s["windows"]["60"]
        assert (w["outcomes"], w["latency_mean_ms"], w["latency_p95_ms"]) == (3, 1125, 1250)
        # latency_high and p95 are judged on 2 outcomes with a duration; not
        # blind, since some have one
        assert "blind" not in s and s["status"] == "yellow"  # success rate 2/3
    return lines, cfg, check


@hand
def blind_rules():
    rules = [
        rule("err", "error_rate", ">", 2), rule("n_err", "errors", ">", 10 ** 6),
        rule("lat", "latency_mean_ms", ">", 10 ** 9), rule("p99", "latency_p99_ms", ">", 10 ** 9),
        rule("fit", "time_constraint_success_rate", "<", -1),
        rule("pnc", "fallback_reasons.plan_not_compressible", ">", 10 ** 6),
        rule("core", "strategies.core_only", ">", 10 ** 6),
        rule("req", "requests", "<", -1), rule("sr", "success_rate", "<", -1),
        rule("lat_long", "latency_mean_ms", ">", 10 ** 9, window_s=120),
    ]
    cfg = logger_cfg(rules=rules, duration_required=False)
    cfg["input"]["fields"]["status"] = None
    lines = []
    for s in range(0, 120):
        lines += [dumps(lg("requested", s)), dumps(lg("fallback", s)),
                  dumps(lg("succeeded", s, reason=7, compressionStrategy=None))]
        if s == 90:  # one fallback with a reason: err, n_err and pnc see again
            lines.append(dumps(lg("fallback", s, reason="plan_not_compressible")))

    def check(res):
        # rules of 60 s are judged at 60..120 (61 instants); the window at T
        # holds second 90 for T in 91..120
        blind = {"err": ["status_or_reason", 31], "n_err": ["status_or_reason", 31],
                 "lat": ["duration", 61], "p99": ["duration", 61],
                 "fit": ["time_constraint", 61], "pnc": ["reason", 31],
                 "core": ["strategy", 61], "lat_long": ["duration", 1]}
        assert res.summary["blind"] == blind
        assert reference.summary_line(res.summary).endswith(
            "; blind err (status_or_reason) 31 instants, n_err (status_or_reason) 31 instants, "
            "lat (duration) 61 instants, p99 (duration) 61 instants, fit (time_constraint) 61 "
            "instants, pnc (reason) 31 instants, core (strategy) 61 instants, lat_long (duration)"
            " 1 instants")
        st = statuses(res)
        assert st[60]["blind"] == [{"rule": r, "missing": blind[r][0]} for r in
                                   ("err", "n_err", "lat", "p99", "fit", "pnc", "core")]
        assert st[120]["blind"] == [{"rule": r, "missing": blind[r][0]} for r in
                                    ("lat", "p99", "fit", "core", "lat_long")]
        assert list(st[120])[5:7] == ["firing", "blind"]
        assert not triggers(res)  # blindness changes no condition
    return lines, cfg, check


@hand
def blind_makes_yellow_only_once_judged():
    cfg = logger_cfg(duration_required=False)
    lines = []
    for s in range(0, 360):
        lines += [dumps(lg("requested", s)), dumps(lg("succeeded", s))]

    def check(res):
        st = statuses(res)
        # green until latency_high (300 s) is first judged at 300
        assert [(t, st[t]["status"]) for t in sorted(st)] == \
            [(60, "green"), (120, "green"), (180, "green"), (240, "green"), (300, "yellow"),
             (360, "yellow")]
        assert "blind" not in st[240]
        assert st[300]["blind"] == [{"rule": "latency_high", "missing": "duration"}]
        assert st[300]["windows"]["300"]["latency_mean_ms"] is None
        assert res.summary["blind"] == {"latency_high": ["duration", 61]}
    return lines, cfg, check


@hand
def blind_is_off_without_input():
    # fallbacks without a reason or a status, flat: without an input section
    # nothing of section 9 applies, so no rule is ever blind
    cfg = {"rules": [rule("err", "error_rate", ">", 2)]}
    lines = []
    for s in range(0, 120):
        lines += [dumps({"event": REQ, "ts": ms(s)}),
                  dumps({"event": FB, "ts": ms(s), "durationMs": 5})]

    def check(res):
        assert all("blind" not in e for e in res.outputs)
        assert "blind" not in res.summary and "pairs" not in res.summary
        assert statuses(res)[60]["status"] == "yellow"  # 0 successes
        # the same with an (empty) input section: err is blind at 60..120
        with_input = ref_replay(lines, dict(cfg, input={}))
        assert with_input.summary["blind"] == {"err": ["status_or_reason", 61]}
        assert statuses(with_input)[60]["blind"] == [{"rule": "err",
                                                      "missing": "status_or_reason"}]
    return lines, cfg, check


@hand
def empty_input_section_is_the_flat_contract():
    lines = []
    for s in range(0, 400):
        lines += [dumps({"event": REQ, "ts": ms(s)}),
                  dumps({"event": OK, "ts": ms(s), "durationMs": 700 + s,
                         "meetsTimeConstraint": s % 3 == 0, "compressionStrategy": "core_only"})]
        if s % 9 == 0:
            lines.append(dumps({"event": FB, "ts": ms(s), "durationMs": 100,
                                "reason": "internal_error"}))
    cfg = {"input": {"filters": []}}

    def check(res):
        flat = ref_replay(lines, None)
        assert res.outputs == flat.outputs
        assert reference.summary_line(res.summary) == reference.summary_line(flat.summary)
        assert ("error_rate_high", "firing", 300) in triggers(res)
    return lines, cfg, check


@pytest.mark.parametrize("case", HAND, ids=[f.__name__ for f in HAND])
def test_reference_by_hand(case):
    lines, cfg, check = case()
    check(ref_replay(lines, cfg))


@pytest.mark.parametrize("case", HAND, ids=[f.__name__ for f in HAND])
def test_soakwatch_on_hand_case(case, tmp_path):
    lines, cfg, _ = case()
    c_agrees(lines, cfg, tmp_path)


def test_reference_refuses_what_it_does_not_define():
    for bad in [{"input": {"envelope": {"type": "gelf"}}},
                {"input": {"fields": {"when": "ts"}}},
                {"input": {"fields": {"time": {"path": "ts", "prefix": "x"}}}},
                {"input": {"fields": {"event": ["a", "b", "c", "d", "e"]}}},
                {"input": {"fields": {"event": "a..b"}}},
                {"input": {"fields": {"event": "a[x]"}}},
                {"input": {"fields": {"event": "a\\b"}}},
                {"input": {"sample_weight": 0}},
                {"input": {"sample_weight": {"field": "w", "default": 1001}}},
                {"input": {"correlate": {"key": ["a"], "table_size": 15}}},
                {"input": {"correlate": {"key": ["a"], "max_latency_ms": 3600001}}},
                {"input": {"filters": [{"field": "a", "equals": []}]}},
                {"input": {"filters": [{"field": "a", "equals": ["x"]}] * 9}}]:
        with pytest.raises(ValueError):
            reference.make_config(bad)


def test_paths_parse_by_hand():
    P = reference.parse_path
    assert P("context.payload.reason") == [("key", "context"), ("key", "payload"),
                                           ("key", "reason")]
    assert P("records[0][12].attributes") == [("key", "records"), ("index", 0), ("index", 12),
                                              ("key", "attributes")]
    assert P("attributes.service\\.name") == [("key", "attributes"), ("key", "service.name")]
    assert P("a\\[0]\\\\.b") == [("key", "a[0]\\"), ("key", "b")]
    assert P("a]b") == [("key", "a]b")]


# ---- (b) every shape against soakwatch ----------------------------------------------------------

DIFFERENTIAL = [
    # (shape, seed, generator options, config options)
    ("flat", 21, {}, {}),
    ("logger", 22, {}, {}),
    ("token", 23, {}, {}),
    ("filebeat", 24, {}, {}),
    ("fluentbit", 25, {"latency_spike": (14, 6)}, {}),
    ("syslog", 26, {}, {}),
    ("otlp", 27, {}, {}),
    ("sampled", 28, {}, {}),
    # without correlation no outcome has a duration: the latency rule is blind
    ("filebeat", 29, {}, {"correlate": False}),
    ("otlp", 30, {"latency_spike": (3, 4)}, {"correlate": False}),
]


def _shape_files(tmp_path, shape, seed, gen, cfg_opts):
    lines = shapes.stream(shape, seed=seed, minutes=25, malformed=2, **gen)
    config = shapes.config(shape, **cfg_opts)
    return lines, config


@pytest.mark.parametrize("shape,seed,gen,cfg_opts", DIFFERENTIAL,
                         ids=["%s-%d" % (d[0], d[1]) for d in DIFFERENTIAL])
def test_shape_against_soakwatch(shape, seed, gen, cfg_opts, tmp_path):
    lines, config = _shape_files(tmp_path, shape, seed, gen, cfg_opts)
    inp = tmp_path / ("%s.jsonl" % shape)
    inp.write_bytes(b"\n".join(lines) + b"\n")
    args = [BIN, "replay", "--input", str(inp), "--output", str(tmp_path / "out.jsonl")]
    if config is not None:
        (tmp_path / "config.json").write_text(json.dumps(config))
        args += ["--config", str(tmp_path / "config.json")]
    ref = reference.replay(lines, config)
    # the stream is what the test claims it is: thousands of events, the
    # error burst fires, malformed lines are rejected
    assert ref.summary["accepted"] > 2500
    assert ("error_rate_high", "firing") in [(r, s) for r, s, _ in triggers(ref)]
    assert ref.summary["rejected"]
    if gen.get("latency_spike") and not cfg_opts:
        assert ("latency_high", "firing") in [(r, s) for r, s, _ in triggers(ref)]
    if cfg_opts.get("correlate") is False:
        assert ref.summary["blind"]["latency_high"][0] == "duration"
    p = subprocess.run(args, capture_output=True, timeout=300)
    err = p.stderr.decode(errors="replace")
    assert p.returncode == 0, err
    summary = [l for l in err.splitlines() if l.startswith("soakwatch: ") and " accepted;" in l]
    assert summary, err
    got = [json.loads(l) for l in (tmp_path / "out.jsonl").read_text().splitlines()]
    diffs = reference.compare(ref.outputs, got)
    assert not diffs, "soakwatch and the reference differ:\n" + "\n".join(diffs)
    assert summary[-1][len("soakwatch: "):] == reference.summary_line(ref.summary)


# ---- (c) one stream, several shapes ------------------------------------------------------------

MAPPED = ["logger", "token", "filebeat", "fluentbit", "syslog", "otlp"]


@pytest.fixture(scope="module")
def underlying():
    return shapes.previews(seed=40, minutes=25, error_burst=(9, 5), latency_spike=(17, 5))


@pytest.fixture(scope="module")
def readings(underlying):
    """The reference's reading of the stream in each shape."""
    return {shape: reference.replay(shapes.render(shape, underlying, seed=40),
                                    shapes.config(shape)) for shape in ["flat"] + MAPPED}


def test_logger_with_correlation_is_its_flat_twin(underlying, readings):
    flat, logger = readings["flat"], readings["logger"]
    assert logger.outputs == flat.outputs
    assert logger.summary["accepted"] == flat.summary["accepted"]
    p = logger.summary["pairs"]
    # every outcome found its planning-engine request; the gateway's were filtered
    outcomes = sum(1 for e in underlying if e["kind"] in ("succeeded", "fallback"))
    assert p == {"matched": outcomes, "unmatched": 0, "duplicate": 0, "evicted": 0,
                 "expired": 0, "unkeyed": 0}
    assert logger.summary["filtered"] == sum(1 for e in underlying
                                             if e.get("source") == "gateway-bff")
    assert logger.summary["ignored"] == sum(1 for e in underlying if e["kind"] == "other")
    assert {r for r, s, _ in triggers(flat)} >= {"error_rate_high", "latency_high"}


@pytest.mark.parametrize("shape", MAPPED[1:])
def test_every_envelope_reads_the_same(readings, shape):
    assert readings[shape].outputs == readings["logger"].outputs
    assert reference.summary_line(readings[shape].summary) == \
        reference.summary_line(readings["logger"].summary)


def test_weight_field_and_constant_weight_agree():
    events = shapes.previews(seed=41, minutes=20, rate=10, error_burst=(8, 5), sample=10)
    with_field = shapes.render("sampled", events, seed=41)
    cfg = shapes.config("sampled")
    constant = json.loads(json.dumps(cfg))
    constant["input"]["sample_weight"] = 10
    a, b = reference.replay(with_field, cfg), reference.replay(with_field, constant)
    assert a.outputs == b.outputs
    # and weight 1 everywhere reads as no weighting at all
    ones = json.loads(json.dumps(cfg))
    ones["input"]["sample_weight"] = 1
    unweighted = json.loads(json.dumps(cfg))
    del unweighted["input"]["sample_weight"]
    assert reference.replay(with_field, ones).outputs == \
        reference.replay(with_field, unweighted).outputs
    # a tenth of the previews, weighed by ten: request counts are multiples of 10
    reqs = [e["windows"]["300"]["requests"] for e in a.outputs if e["type"] == "status"]
    assert reqs and all(r % 10 == 0 for r in reqs) and max(reqs) > 0


def test_soakwatch_reads_every_shape_the_same(underlying, readings, tmp_path):
    """soakwatch itself, not only the reference: the flat twin and each
    envelope give the same events."""
    want = None
    for shape in ["flat"] + MAPPED:
        d = tmp_path / shape
        d.mkdir()
        data = b"\n".join(shapes.render(shape, underlying, seed=40)) + b"\n"
        got, summary = run_c(data, d, shapes.config(shape))
        if want is None:
            want = got
        diffs = reference.compare(want, got)
        assert not diffs, "%s differs from flat:\n%s" % (shape, "\n".join(diffs))
        assert summary == reference.summary_line(readings[shape].summary)


# ---- the bundled examples (examples/shapes, scripts/gen-shapes.py) ------------------------------

EXAMPLES = HERE.parent.parent / "examples" / "shapes"


@pytest.mark.parametrize("shape", shapes.SHAPES)
def test_example_shape(shape, tmp_path):
    rec, cfg_path = EXAMPLES / ("%s.jsonl.gz" % shape), EXAMPLES / ("%s.config.json" % shape)
    assert rec.stat().st_size < 200 * 1024
    config = json.loads(cfg_path.read_text())
    ref = reference.replay(reference.split_lines(reference.read_input(str(rec))), config)
    assert ("error_rate_high", "firing") in [(r, s) for r, s, _ in triggers(ref)]
    p = subprocess.run([BIN, "replay", "--input", str(rec), "--config", str(cfg_path)],
                       capture_output=True, timeout=300)
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    got = [json.loads(l) for l in p.stdout.decode().splitlines()]
    diffs = reference.compare(ref.outputs, got)
    assert not diffs, "soakwatch and the reference differ:\n" + "\n".join(diffs)
