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


# ---- the broker and the program, for the live and Kafka replay tests -------
#
# The broker is scripts/kafka-local's (started when none runs); messages go
# in and out through kcat, which shows keys and headers exactly.

import os
import re
import shutil
import signal
import socket
import subprocess
import time
import uuid

SRC = os.environ.get("SOAKWATCH_SRC",
                     os.path.dirname(os.path.dirname(os.path.dirname(
                         os.path.abspath(__file__)))))
BIN = os.environ.get("SOAKWATCH_BIN", os.path.join(SRC, "build", "soakwatch"))
KAFKA_LOCAL = os.path.join(SRC, "scripts", "kafka-local")


def kafka_local(*args, env=None, timeout=600):
    for attempt in range(3):
        r = subprocess.run([KAFKA_LOCAL, *args], capture_output=True, text=True,
                           env=env, timeout=timeout)
        if r.returncode == 0:
            break
        time.sleep(2)  # the admin tool can lose a race with the broker
    if r.returncode != 0:
        raise RuntimeError("kafka-local %s failed: %s" % (args[0], r.stderr))
    return r.stdout


def bootstrap(env=None):
    out = kafka_local("start", env=env)
    m = re.search(r"BOOTSTRAP=(\S+)", out)
    assert m, out
    return m.group(1)


def fresh_name(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


def create_topic(name, partitions, env=None):
    kafka_local("create-topic", name, str(partitions), env=env)


def produce_lines(brokers, topic, lines, partitions=1):
    """Lines round-robin over the partitions (line i to partition i % n)."""
    for p in range(partitions):
        part = lines[p::partitions]
        if not part:
            continue
        subprocess.run(["kcat", "-P", "-b", brokers, "-t", topic, "-p", str(p)],
                       input="\n".join(part) + "\n", text=True, check=True,
                       timeout=120)


def consume_all(brokers, topic):
    """Every message of every partition as dicts: value, key, headers,
    partition, offset."""
    r = subprocess.run(["kcat", "-C", "-b", brokers, "-t", topic, "-e", "-q",
                        "-o", "beginning", "-J"], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    msgs = []
    for line in r.stdout.splitlines():
        m = json.loads(line)
        h = m.get("headers") or []
        m["headers"] = dict(zip(h[0::2], h[1::2]))
        msgs.append(m)
    return msgs


def committed_offsets(group, topic, env=None):
    """{partition: committed offset} of group on topic (absent: none)."""
    out = kafka_local("describe-group", group, env=env)
    res = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 4 and f[0] == group and f[1] == topic and f[3].isdigit():
            res[int(f[2])] = int(f[3])
    return res


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def file_replay(path):
    r = subprocess.run([BIN, "replay", "--input", path], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return r.stdout.splitlines()


def max_second(lines):
    """Greatest event second of the well-formed events of a scenario."""
    best = None
    for x in lines:
        try:
            ts = json.loads(x).get("ts")
        except (ValueError, AttributeError):
            continue
        if isinstance(ts, int):
            best = ts // 1000 if best is None else max(best, ts // 1000)
    return best


def status_marker(at_ms):
    """A status as an earlier deployment would have published it: nothing
    firing, at at_ms. On restart soakwatch publishes from the next second."""
    return json.dumps({"type": "status", "schema_version": 1, "at_ms": at_ms,
                       "status": "green", "firing": []})


def output_key(o):
    return o.get("id") or "status:%d" % o["at_ms"]


class Run:
    """soakwatch run as a child process, stderr kept in a file."""

    def __init__(self, tmp, args, name="run"):
        self.err_path = os.path.join(str(tmp), name + ".err")
        self.err = open(self.err_path, "w")
        self.p = subprocess.Popen([BIN, "run", *args], stdout=subprocess.DEVNULL,
                                  stderr=self.err)

    def stop(self, sig=signal.SIGTERM, timeout=10):
        t0 = time.monotonic()
        self.p.send_signal(sig)
        rc = self.p.wait(timeout=timeout + 5)
        self.err.close()
        return rc, time.monotonic() - t0

    def stderr(self):
        if not self.err.closed:
            self.err.flush()
        with open(self.err_path) as f:
            return f.read()

    def alive(self):
        return self.p.poll() is None


def wait_until(cond, timeout, step=0.3):
    t_end = time.monotonic() + timeout
    while time.monotonic() < t_end:
        v = cond()
        if v:
            return v
        time.sleep(step)
    return cond()


def run_live_until(brokers, tmp, args, t_out, last, n_want, timeout=90):
    """soakwatch run with args until it has published n_want events up to
    second last + 1 on t_out (after the marker, the topic's first
    message); stops it (asserting it was alive and exited 0) and returns
    those messages as consume_all gives them."""
    run = Run(tmp, args)

    def published():
        msgs = consume_all(brokers, t_out)[1:]
        return [m for m in msgs if json.loads(m["payload"])["at_ms"] // 1000 <= last + 1]

    got = wait_until(lambda: len(published()) >= n_want and published(), timeout)
    assert run.alive(), run.stderr()
    rc, _ = run.stop()
    assert rc == 0, run.stderr()
    return got


def have_kcat():
    return shutil.which("kcat") is not None
