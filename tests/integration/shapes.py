"""Time Crunch preview telemetry in every shape of docs/semantics.md
section 9, from one underlying stream of previews.

The stream is what the public service writes: for each preview, a
`requested` event from the gateway and another from the planning engine,
then 200 to 3000 ms later an outcome (mostly succeeded; a few fallbacks for
plan_not_compressible or plan_missing_content; preview_failed, an internal
error, during an error burst), and now and then a decline. The planning
engine logs through a structured logger:

    {"level":"info","msg":"event=stream5.time_crunch_preview_succeeded",
     "ts":"2026-12-01T19:58:16.283Z","service":"planning-engine",
     "module":"telemetry","env":"production",
     "context":{"event":"...","timestamp":"...","payload":{"planId":"p-..",
       "targetMinutes":30,"compressionStrategy":"core_only",
       "meetsTimeConstraint":true,"reason":null,"userId":"u-..",
       "source":"planning-engine"}}}

with no durationMs and no status. The same lines are then written as they
reach Kafka in each shape, and config(shape) is the configuration that
reads that shape. Everything is deterministic in the seed.

    events = previews(seed=1, minutes=20, error_burst=(8, 5))
    lines = render("otlp", events, seed=1)   # bytes, one per message
    cfg = config("otlp")
"""

import datetime as dt
import json
import random

EVENT = "stream5.time_crunch_preview_"
START_MS = 1796152800000  # 2026-12-01T19:20:00.000Z
STRATEGIES = [("core_only", 30), ("core_plus_accessory", 25), ("core_plus_superset", 18),
              ("core_plus_block", 15), ("core_plus_block_and_superset", 12)]
FALLBACKS = [("plan_not_compressible", 80), ("plan_missing_content", 20)]
OTHER_MESSAGES = ["plan cache warmed", "GET /v1/plans/current 200", "feature flags refreshed",
                  "slow query on plan_blocks (212 ms)", "telemetry flush"]
HOSTS = ["planning-engine-7f9c4d-2xk8q", "planning-engine-7f9c4d-9bq4w"]

# The shapes, in the order the examples list them.
SHAPES = ["flat", "logger", "token", "filebeat", "fluentbit", "syslog", "otlp", "sampled"]


def _pick(rng, weighted):
    total = sum(w for _, w in weighted)
    x = rng.uniform(0, total)
    for name, w in weighted:
        x -= w
        if x <= 0:
            return name
    return weighted[-1][0]


def rfc3339(ms):
    t = dt.datetime.fromtimestamp(ms // 1000, tz=dt.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % (ms % 1000)


# ---- the underlying stream ---------------------------------------------------------------

def previews(seed=1, minutes=20, rate=2.0, start_ms=START_MS, error_burst=None,
             latency_spike=None, sample=1, other_every=40):
    """The events of `minutes` of previews arriving at `rate` per second, in
    time order. error_burst and latency_spike are (start minute, minutes).
    With sample N > 1 one preview in N is kept (all its lines, as a head
    sampler keyed by plan does) and each line carries sampleRate N.
    Every `other_every`-th line or so is a log line that is not telemetry.

    Each event is a dict: kind ("requested", "succeeded", "fallback",
    "declined" or "other"), ts_ms, and for telemetry plan, user, source,
    target, strategy, tc, reason, rate; an outcome also has dur, its time
    minus the planning engine's request time (what correlation derives)."""
    rng = random.Random(seed)
    end_ms = start_ms + minutes * 60000
    events = []

    def within(window, ms):
        return window is not None and \
            start_ms + window[0] * 60000 <= ms < start_ms + (window[0] + window[1]) * 60000

    t = float(start_ms)
    n = 0
    while True:
        t += rng.expovariate(rate) * 1000
        if t >= end_ms:
            break
        n += 1
        ms = int(t)
        keep = sample <= 1 or rng.randrange(sample) == 0
        plan = "p-%06x" % rng.randrange(1 << 24)
        user = "u-%05d" % rng.randrange(100000)
        target = rng.choice([15, 20, 30, 45])
        common = {"plan": plan, "user": user, "target": target,
                  "rate": sample if sample > 1 else None}
        gw = dict(common, kind="requested", ts_ms=ms, source="gateway-bff", strategy="pending",
                  tc=None, reason=None)
        pe_ms = ms + rng.randint(3, 15)
        pe = dict(gw, ts_ms=pe_ms, source="planning-engine")
        if within(latency_spike, pe_ms):
            dur = rng.randint(6000, 9000)
        else:
            dur = min(3000, max(200, int(rng.lognormvariate(6.7, 0.45))))
        out_ms = pe_ms + dur
        if within(error_burst, pe_ms) and rng.random() < 0.35:
            out = dict(common, kind="fallback", strategy="none", tc=False,
                       reason="preview_failed")
        elif rng.random() < 0.04:
            out = dict(common, kind="fallback", strategy="none", tc=False,
                       reason=_pick(rng, FALLBACKS))
        else:
            out = dict(common, kind="succeeded", strategy=_pick(rng, STRATEGIES),
                       tc=rng.random() < 0.92, reason=None)
        out.update(ts_ms=out_ms, source="planning-engine", dur=dur)
        group = [gw, pe, out]
        if rng.random() < 0.05:
            group.append(dict(common, kind="declined", ts_ms=out_ms + rng.randint(500, 5000),
                              source="planning-engine", strategy="user_decline", tc=None,
                              reason=None))
        if keep:
            events.extend(group)
        if other_every and rng.randrange(other_every) == 0:
            events.append({"kind": "other", "ts_ms": ms + 1, "msg": rng.choice(OTHER_MESSAGES)})
    events.sort(key=lambda e: e["ts_ms"])  # stable: a preview's lines keep their order
    return [e for e in events if e["ts_ms"] < end_ms]


# ---- one event as the producer writes it ---------------------------------------------------

def logger_doc(ev, style="prefix"):
    """The structured logger's object for one event. style "token": msg is
    "telemetry event=NAME source=SOURCE" (a logfmt-minded logger)."""
    if ev["kind"] == "other":
        return {"level": "info", "msg": ev["msg"], "ts": rfc3339(ev["ts_ms"]),
                "service": "planning-engine", "module": "http", "env": "production"}
    name = EVENT + ev["kind"]
    payload = {"planId": ev["plan"], "targetMinutes": ev["target"]}
    if ev["kind"] != "requested":
        payload["compressionStrategy"] = ev["strategy"]
    if ev["kind"] in ("succeeded", "fallback"):
        payload["meetsTimeConstraint"] = ev["tc"]
    if ev["kind"] != "requested":
        payload["reason"] = ev["reason"]
    payload["userId"] = ev["user"]
    payload["source"] = ev["source"]
    context = {"event": name, "timestamp": rfc3339(ev["ts_ms"]), "payload": payload}
    if ev.get("rate"):
        context["sampleRate"] = ev["rate"]
    msg = "event=" + name if style == "prefix" else \
        "telemetry event=%s source=%s" % (name, ev["source"])
    return {"level": "info", "msg": msg, "ts": rfc3339(ev["ts_ms"]), "service": "planning-engine",
            "module": "telemetry", "env": "production", "context": context}


def flat_doc(ev):
    """Section 1's flat event: the planning engine's requests only, durations
    as correlation derives them, preview_failed carrying status 500."""
    d = {"event": EVENT + ev["kind"], "ts": ev["ts_ms"]}
    if "dur" in ev:
        d["durationMs"] = ev["dur"]
    if ev["kind"] != "requested":
        d["compressionStrategy"] = ev["strategy"]
    if ev.get("reason"):
        d["reason"] = ev["reason"]
    if ev["reason"] == "preview_failed":
        d["status"] = 500
    if ev["kind"] in ("succeeded", "fallback"):
        d["meetsTimeConstraint"] = ev["tc"]
    return d


def _dumps(doc):
    return json.dumps(doc, separators=(",", ":"))


def _syslog_header(ms, rng):
    t = dt.datetime.fromtimestamp(ms // 1000, tz=dt.timezone.utc)
    return "<14>%s %2d %s %s planning-engine[%d]: " % (
        t.strftime("%b"), t.day, t.strftime("%H:%M:%S"), rng.choice(HOSTS), 4711)


def _otlp_record(ev, line, rng):
    ns = ev["ts_ms"] * 1000000 + rng.randrange(1000000)
    attrs = [{"key": "log.iostream", "value": {"stringValue": "stdout"}}]
    if ev["kind"] != "other":
        attrs.append({"key": "event.name", "value": {"stringValue": EVENT + ev["kind"]}})
    return {"timeUnixNano": str(ns),
            "observedTimeUnixNano": str(ns + rng.randint(1, 900) * 1000000),
            "severityNumber": 9, "severityText": "INFO",
            "body": {"stringValue": line}, "attributes": attrs}


def _otlp_message(records, host):
    resource = {"attributes": [
        {"key": "service.name", "value": {"stringValue": "planning-engine"}},
        {"key": "host.name", "value": {"stringValue": host}},
        {"key": "k8s.namespace.name", "value": {"stringValue": "production"}}]}
    return {"resourceLogs": [{"resource": resource, "scopeLogs": [
        {"scope": {"name": "telemetry"}, "logRecords": records}]}]}


# ---- the shapes -----------------------------------------------------------------------------

def render(shape, events, seed=1, malformed=0):
    """The messages (bytes, no line end) of `events` in `shape`. With
    malformed N, N lines of each kind a real topic of that shape gets wrong
    are spread over the stream."""
    rng = random.Random(seed * 7919 + SHAPES.index(shape))
    if shape == "flat":
        lines = [_dumps(flat_doc(e)).encode() for e in events
                 if e["kind"] != "other" and e["source"] != "gateway-bff"]
    elif shape == "otlp":
        lines, batch = [], []
        for e in events:
            batch.append(_otlp_record(e, _dumps(logger_doc(e)), rng))
            if len(batch) >= rng.randint(1, 24):
                lines.append(_dumps(_otlp_message(batch, rng.choice(HOSTS))).encode())
                batch = []
        if batch:
            lines.append(_dumps(_otlp_message(batch, rng.choice(HOSTS))).encode())
    else:
        lines = []
        for e in events:
            line = _dumps(logger_doc(e, "token" if shape == "token" else "prefix"))
            if shape == "filebeat":
                line = _dumps({"@timestamp": rfc3339(e["ts_ms"] + rng.randint(1, 40)),
                               "message": line, "host": {"name": rng.choice(HOSTS)},
                               "agent": {"type": "filebeat", "version": "8.15.0"},
                               "log": {"file": {"path": "/var/log/planning-engine.log"}},
                               "input": {"type": "filestream"}})
            elif shape == "fluentbit":
                line = _dumps({"date": (e["ts_ms"] + rng.randint(1, 40)) / 1000.0,
                               "log": line + "\n", "stream": "stdout",
                               "kubernetes": {"pod_name": rng.choice(HOSTS),
                                              "namespace_name": "production",
                                              "labels": {"app.kubernetes.io/name":
                                                         "planning-engine"}}})
            elif shape == "syslog":
                line = _syslog_header(e["ts_ms"], rng) + line
            lines.append(line.encode())
    if malformed:
        bad = _malformed(shape, events, rng) * malformed
        for b in bad:
            lines.insert(rng.randrange(1, len(lines)), b)
    return lines


def _malformed(shape, events, rng):
    """Lines of the kinds a topic of `shape` really gets wrong."""
    e = next(x for x in events if x["kind"] == "succeeded")
    good = _dumps(logger_doc(e))
    cut = good[:len(good) // 2]
    bad_ts = _dumps(dict(logger_doc(e), ts="yesterday", context={"payload": {}}))
    no_msg = _dumps({"level": "warn", "ts": rfc3339(e["ts_ms"]), "err": "timeout"})
    if shape == "flat":
        d = flat_doc(e)
        return [_dumps(d)[:30].encode(), _dumps(dict(d, ts="yesterday")).encode(),
                _dumps({"ts": e["ts_ms"]}).encode(),
                _dumps(dict(d, durationMs=-1)).encode()]
    if shape in ("logger", "token", "sampled"):
        out = [cut, bad_ts, no_msg]
        if shape == "sampled":
            d = logger_doc(e)
            d["context"]["sampleRate"] = 0
            out.append(_dumps(d))
        return [x.encode() for x in out]
    if shape == "filebeat":
        return [_dumps({"@timestamp": rfc3339(e["ts_ms"]), "message": cut}).encode(),
                _dumps({"@timestamp": rfc3339(e["ts_ms"]), "event": {"original": good}}).encode(),
                _dumps({"message": "GET /health 200"}).encode(),
                _dumps({"message": bad_ts}).encode(), cut.encode()]
    if shape == "fluentbit":
        return [_dumps({"log": cut + "\n"}).encode(), _dumps({"log": 17}).encode(),
                _dumps({"log": "[1]"}).encode(), b"not json at all"]
    if shape == "syslog":
        return [(_syslog_header(e["ts_ms"], rng) + "(root) CMD (run-parts /etc/cron.hourly)").encode(),
                (_syslog_header(e["ts_ms"], rng) + cut).encode(),
                (_syslog_header(e["ts_ms"], rng) + bad_ts).encode()]
    if shape == "otlp":
        rec = _otlp_record(e, good, rng)
        plain = dict(rec, body={"stringValue": "GET /health 200"})
        return [b'{"resourceLogs":[', _dumps({"resourceLogs": {}}).encode(),
                _dumps({"resourceLogs": [{"scopeLogs": [{"logRecords": [rec, "x", plain]}]},
                                         7]}).encode(),
                _dumps({"resourceLogs": [{"scopeLogs": {"logRecords": []}}]}).encode()]
    raise ValueError(shape)


def config(shape, correlate=True):
    """The configuration that reads `shape` (None: the flat contract needs
    no input section). correlate=False leaves out the derived latency."""
    if shape == "flat":
        return None
    event = {"path": "msg", "prefix": "event="}
    time = ["ts", "context.timestamp"]
    if shape == "token":
        event = {"path": "msg", "token": "event"}
    envelope = {"type": "none"}
    if shape == "filebeat":
        envelope = {"type": "field", "field": "message"}
    elif shape == "fluentbit":
        envelope = {"type": "field", "field": "log"}
    elif shape == "syslog":
        envelope = {"type": "syslog"}
    prefix = ""
    if shape == "otlp":
        envelope = {"type": "otlp"}
        prefix = "body."
        event = {"path": "body.msg", "prefix": "event="}
        time = ["timeUnixMs", "body.ts"]
    payload = prefix + "context.payload."
    inp = {
        "envelope": envelope,
        "fields": {"event": event, "time": time, "duration": payload + "durationMs",
                   "status": None, "reason": payload + "reason",
                   "strategy": payload + "compressionStrategy",
                   "time_constraint": payload + "meetsTimeConstraint"},
        "error_reasons": ["preview_failed", "internal_error"],
        "filters": [{"events": ["requested"], "field": payload + "source",
                     "equals": ["planning-engine"]}],
    }
    if shape == "sampled":
        inp["sample_weight"] = {"field": "context.sampleRate", "default": 1}
    if correlate:
        inp["correlate"] = {"key": [payload + "planId", payload + "userId"],
                            "max_latency_ms": 60000, "table_size": 65536}
    else:
        inp["duration_required"] = False
    return {"input": inp}


def stream(shape, seed=1, minutes=20, rate=2.0, error_burst=(8, 5), latency_spike=None,
           malformed=0):
    """render(shape, previews(...)): the sampled shape keeps one preview in
    ten, at five times the rate."""
    if shape == "sampled":
        events = previews(seed, minutes, rate * 5, error_burst=error_burst,
                          latency_spike=latency_spike, sample=10)
    else:
        events = previews(seed, minutes, rate, error_burst=error_burst,
                          latency_spike=latency_spike)
    return render(shape, events, seed, malformed)
