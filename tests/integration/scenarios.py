"""Deterministic telemetry scenarios for the live and Kafka replay tests.

Each generator returns JSON Lines (strings, no newline) whose event times
never go backwards, starting at start_ms: a file replay and a merge of
partitions by event time then see the same events in the same seconds, so
their outputs must be identical. Durations are whole milliseconds, so that
latency sums do not depend on the order of events within a second.
"""
import json
import random

REQ = "stream5.time_crunch_preview_requested"
OK = "stream5.time_crunch_preview_succeeded"
FB = "stream5.time_crunch_preview_fallback"
DECL = "stream5.time_crunch_preview_declined"
STRATEGIES = ["core_only", "core_plus_accessory", "core_plus_superset",
              "core_plus_block", "core_plus_block_and_superset"]


def _ev(name, ts, **kw):
    d = {"event": name, "ts": ts, "planId": "plan-1", "userId": "u-1",
         "source": "gateway-bff"}
    d.update(kw)
    return json.dumps(d, separators=(",", ":"))


def _traffic(rng, out, t_ms, seconds, per_s, error_p=0.0, slow=False):
    """per_s requests and as many outcomes in each second from t_ms."""
    for s in range(seconds):
        base = t_ms + s * 1000
        for k in range(per_s):
            ts = base + k * (1000 // (2 * per_s))
            out.append(_ev(REQ, ts, compressionStrategy="pending",
                           targetMinutes=30))
            ts2 = ts + 1000 // (4 * per_s)
            dur = rng.randint(6000, 9000) if slow else rng.randint(80, 900)
            if rng.random() < error_p:
                out.append(_ev(FB, ts2, durationMs=dur, reason="internal_error",
                               compressionStrategy="none"))
            elif rng.random() < 0.02:
                out.append(_ev(FB, ts2, durationMs=dur,
                               reason="plan_not_compressible",
                               compressionStrategy="none"))
            else:
                out.append(_ev(OK, ts2, durationMs=dur, status=200,
                               compressionStrategy=rng.choice(STRATEGIES),
                               meetsTimeConstraint=rng.random() < 0.9))
            if rng.random() < 0.05:
                out.append(_ev(DECL, ts2 + 1, reason="after_success",
                               compressionStrategy="user_decline"))
    return t_ms + seconds * 1000


def healthy(start_ms, minutes=40, per_s=2, seed=1):
    rng = random.Random(seed)
    out = []
    _traffic(rng, out, start_ms, minutes * 60, per_s)
    return out


def error_burst(start_ms, seed=2):
    """Healthy 32 min, 6 min with 35% internal errors, healthy 8 min:
    error_rate_high and success_rate_low fire, then resolve."""
    rng = random.Random(seed)
    out = []
    t = _traffic(rng, out, start_ms, 32 * 60, 2)
    t = _traffic(rng, out, t, 6 * 60, 2, error_p=0.35)
    _traffic(rng, out, t, 8 * 60, 2)
    return out


def latency_spike(start_ms, seed=3):
    """Healthy 32 min, 6 min of 6 to 9 s previews, healthy 8 min:
    latency_high fires, then resolves."""
    rng = random.Random(seed)
    out = []
    t = _traffic(rng, out, start_ms, 32 * 60, 2)
    t = _traffic(rng, out, t, 6 * 60, 2, slow=True)
    _traffic(rng, out, t, 8 * 60, 2)
    return out


def outage_gap(start_ms, seed=4):
    """Traffic 31 min, no events at all for 35 min, traffic 4 min:
    zero_requests fires inside the gap and resolves when requests return."""
    rng = random.Random(seed)
    out = []
    t = _traffic(rng, out, start_ms, 31 * 60, 2)
    _traffic(rng, out, t + 35 * 60 * 1000, 4 * 60, 2)
    return out


def messy(start_ms, seed=5):
    """Healthy traffic with invalid JSON, missing fields, bad types and
    unknown events mixed in (each counted, none stops the stream)."""
    rng = random.Random(seed)
    good = healthy(start_ms, minutes=33, seed=seed)
    bad = ['{"event": "stream5.time_crunch_preview_requested", "ts": ',
           '[1, 2, 3]',
           '{"ts": 1}',
           '{"event": "stream5.time_crunch_preview_succeeded", "ts": %d}',
           '{"event": "stream5.time_crunch_preview_requested"}',
           '{"event": "stream5.time_crunch_preview_succeeded", "ts": %d, '
           '"durationMs": 5, "status": 700}',
           '{"event": "stream5.something_else", "ts": %d}',
           'not json at all']
    out = []
    for i, line in enumerate(good):
        out.append(line)
        if i % 97 == 13:
            b = bad[rng.randrange(len(bad))]
            if "%d" in b:
                b = b % json.loads(line)["ts"]
            out.append(b)
    return out


SCENARIOS = {
    "healthy": healthy,
    "error_burst": error_burst,
    "latency_spike": latency_spike,
    "outage_gap": outage_gap,
    "messy": messy,
}


def span_ms(name):
    """Event-time length of a scenario."""
    lines = SCENARIOS[name](0)
    ts = [json.loads(x)["ts"] for x in lines if x.startswith("{") and '"ts":' in x
          and x.endswith("}")]
    return max(t for t in ts if isinstance(t, int))
