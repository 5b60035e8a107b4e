# needs: kafka
"""A log file shipped by a real log shipper (rsyslog with omkafka) into the
real broker, replayed by soakwatch with a syslog envelope, gives exactly what
a file replay of the same lines gives (docs/semantics.md section 9,
docs/shippers.md).

The application writes structured logger lines (the event name in `msg` as
`event=...`, the fields under `context.payload`, no duration, no status) to
a file. rsyslogd, run in the foreground with its own configuration, pid file
and work directory (no system socket, no system configuration), reads the
file from its start with imfile and produces every line to a fresh
3-partition topic with omkafka, behind a syslog header
(`<PRI>TIMESTAMP HOSTNAME TAG: `), with an idempotent `acks=all` producer
that librdkafka spreads over the partitions. The test waits until every line
is on the topic, stops rsyslogd, and checks that rsyslog changed no byte of
any line. Then `soakwatch replay --brokers ... --topic ...` with
`input.envelope.type` "syslog" must write, byte for byte, what
`soakwatch replay --input FILE` writes with the same `input` mapping and no
envelope, over the same instants; the summary counts must agree, every
telemetry line must be accepted and every other log line ignored.

The lines' event times never go back, and each partition holds a
subsequence of the file, so the merge by event time feeds the engine the
same seconds as the file (as in test_kafka_replay.py). Record timestamps are
the time of producing, later than every event time (the streams lie in the
past), so a replay from the first event second reads the whole topic.

The lines are shapes.py's logger stream when that module is there (else a
built-in generator), plus lines that a shipper could mangle (awkward()).
"""
import collections
import glob
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kafka_util as ku  # noqa: E402
import scenarios as sc  # noqa: E402

try:  # the shared generator of section 9's shapes, when it is there
    import shapes  # noqa: E402
except ImportError:
    shapes = None

RSYSLOGD = shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"
OMKAFKA = (glob.glob("/usr/lib/*/rsyslog/omkafka.so") +
           glob.glob("/usr/lib/rsyslog/omkafka.so"))


def need_shipper():
    """kcat, rsyslogd and omkafka: a failure in CI, a skip on a laptop."""
    missing = [name for name, ok in (("kcat", sc.have_kcat()),
                                     ("rsyslogd (rsyslog)", os.access(RSYSLOGD, os.X_OK)),
                                     ("omkafka (rsyslog-kafka)", bool(OMKAFKA))) if not ok]
    if missing:
        msg = "%s not installed (scripts/install-deps installs them)" % ", ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)


START_MS = 1795161600000  # 2026-11-20T08:00:00Z, the built-in generator's start
MINUTES = 20
TAG = "planning-engine"

REQ = "stream5.time_crunch_preview_requested"
OK = "stream5.time_crunch_preview_succeeded"
FB = "stream5.time_crunch_preview_fallback"
DECL = "stream5.time_crunch_preview_declined"
STRATEGIES = ["core_only", "core_plus_accessory", "core_plus_superset",
              "core_plus_block", "core_plus_block_and_superset"]

FIELDS = {
    "event": {"path": "msg", "prefix": "event="},
    "reason": "context.payload.reason",
    "strategy": "context.payload.compressionStrategy",
    "time_constraint": "context.payload.meetsTimeConstraint",
    "duration": None,
    "status": None,
}


def config(envelope):
    return {"input": {"envelope": {"type": envelope}, "fields": FIELDS,
                      "duration_required": False,
                      "error_reasons": ["internal_error", "preview_failed"]}}


def rfc3339(ms):
    t = datetime.fromtimestamp(ms // 1000, tz=timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % (ms % 1000)


def _line(level, msg, ms, context):
    # The key order and spacing of a typical Node.js structured logger; raw
    # UTF-8 (ensure_ascii off), as such loggers write it.
    return json.dumps({"level": level, "msg": msg, "ts": rfc3339(ms),
                       "service": TAG, "context": context},
                      separators=(",", ":"), ensure_ascii=False)


def _event(name, ms, plan, user, **payload):
    p = {"planId": plan, "userId": user, "source": TAG}
    p.update(payload)
    return _line("info", "event=" + name, ms, {"payload": p})


def logger_lines(start_ms=START_MS, minutes=MINUTES, per_s=2, seed=7):
    """(lines, telemetry lines): the built-in generator, used when shapes.py
    is absent. Two previews a second for `minutes`, with 35% preview_failed
    fallbacks in minutes 8 to 13 (error_rate_high fires, then resolves),
    some declines, and now and then a debug line whose msg starts with
    "event" but not "event=" (not telemetry). Event times never go back."""
    rng = random.Random(seed)
    out = []
    telemetry = 0
    step = 1000 // (2 * per_s)
    for s in range(minutes * 60):
        error_p = 0.35 if 8 * 60 <= s < 14 * 60 else 0.0
        for k in range(per_s):
            ms = start_ms + s * 1000 + k * step + rng.randrange(0, step // 4)
            plan, user = "p%d" % rng.randrange(1, 400), "u%d" % rng.randrange(1, 90)
            out.append(_event(REQ, ms, plan, user, compressionStrategy="pending",
                              targetMinutes=rng.choice([20, 30, 45])))
            ms2 = ms + step // 2
            r = rng.random()
            if r < error_p:
                out.append(_event(FB, ms2, plan, user, reason="preview_failed",
                                  compressionStrategy="none"))
            elif r < error_p + 0.02:
                out.append(_event(FB, ms2, plan, user, reason="plan_not_compressible",
                                  compressionStrategy="none"))
            else:
                out.append(_event(OK, ms2, plan, user,
                                  compressionStrategy=rng.choice(STRATEGIES),
                                  meetsTimeConstraint=rng.random() < 0.9))
            telemetry += 2
            if rng.random() < 0.05:
                out.append(_event(DECL, ms2 + 1, plan, user, reason="after_success",
                                  compressionStrategy="user_decline"))
                telemetry += 1
            if rng.random() < 0.02:
                out.append(_line("debug", "event cache warmed", ms2 + 3,
                                 {"entries": rng.randrange(1, 5000)}))
    return out, telemetry


def awkward(lines, every=97):
    """lines with, after every `every`-th one, a log line that is not
    telemetry and holds what a shipper could mangle: escaped quotes,
    backslashes and control characters, braces, raw UTF-8 (2 and 3 bytes,
    U+2028); and in the middle one error line with a 20 KB stack trace
    (rsyslog's default maxMessageSize, 8 KiB, would cut it). Each takes the
    time of the line before it, so times never go back."""
    out = []
    for i, x in enumerate(lines):
        out.append(x)
        ts = json.loads(x)["ts"]
        if i == len(lines) // 2:
            frames = "".join("\n    at previewWorker (/app/dist/preview/worker.js:%d:%d)"
                             % (100 + k, k % 80) for k in range(400))
            out.append(json.dumps(
                {"level": "error", "msg": "unhandled error in preview worker", "ts": ts,
                 "service": TAG, "context": {"stack": "Error: boom" + frames}},
                separators=(",", ":")))
        if i % every == every - 1:
            out.append(json.dumps(
                {"level": "warn", "msg": "request completed", "ts": ts, "service": TAG,
                 "context": {"http": {"method": "POST", "path": "/v1/plans/p-%d/preview" % i,
                                      "status": 200},
                             "note": "quote \" backslash \\ tab \t newline \n brace } { "
                                     "Z\u00fcrich \u2713 \u2028 event=not.at.start"}},
                separators=(",", ":"), ensure_ascii=False))
    return out


def application_log():
    """(lines, telemetry lines, first event ms): the planning engine's log
    file. The stream is tests/integration/shapes.py's logger shape when that
    module is there (previews with both requested events, outcomes 0.2 to
    3 s later, a 35% preview_failed burst in minutes 8 to 12, other log
    lines), else logger_lines(); awkward() lines are added to either."""
    if shapes is not None:
        events = shapes.previews(seed=1, minutes=MINUTES, error_burst=(8, 5))
        lines = [b.decode() for b in shapes.render("logger", events, seed=1)]
        telemetry = sum(e["kind"] != "other" for e in events)
        start_ms = shapes.START_MS
    else:
        lines, telemetry = logger_lines()
        start_ms = START_MS
    return awkward(lines), telemetry, start_ms


RSYSLOG_CONF = """\
# soakwatch test_shipper.py: a private rsyslogd, no system socket.
# processInternalMessages: rsyslogd's own messages stay in this instance
# (by default they go to the system log socket).
global(workDirectory="{work}" maxMessageSize="64k" processInternalMessages="on")
module(load="imfile")
module(load="omkafka")

# rsyslog's forwarding format (RSYSLOG_ForwardFormat): "<PRI>TIMESTAMP
# HOSTNAME TAG: " and the line, as it was read.
template(name="soakwatch_syslog" type="string"
         string="<%PRI%>%TIMESTAMP:::date-rfc3339% %HOSTNAME% %syslogtag:1:32%%msg:::sp-if-no-1st-sp%%msg%")

# Every line delivered: an idempotent producer, acks from all in-sync replicas,
# retries without a time limit, 60 s to flush at shutdown; a failed message
# would be written to errorFile. partitions.auto: librdkafka's partitioner;
# without sticky partitioning each keyless line goes to a random partition,
# so all three are used and soakwatch's merge by event time is exercised.
ruleset(name="to_kafka") {{
    action(type="omkafka" name="soakwatch_kafka"
           broker=["{broker}"] topic="{topic}" template="soakwatch_syslog"
           partitions.auto="on"
           confParam=["enable.idempotence=true", "message.send.max.retries=1000000",
                      "linger.ms=5", "sticky.partitioning.linger.ms=0"]
           topicConfParam=["request.required.acks=-1", "message.timeout.ms=0"]
           closeTimeout="60000"
           errorFile="{errors}")
}}

# The application's log, from its first line (no state file yet).
input(type="imfile" file="{logfile}" tag="{tag}:" ruleset="to_kafka"
      freshStartTail="off" readMode="0")

# rsyslogd's own messages go to a file of the test, not to the system log.
*.* action(type="omfile" file="{internal}")
"""


def topic_partitions_and_values(brokers, topic):
    """[(partition, offset, value bytes)] of every message, read to the end."""
    r = subprocess.run(["kcat", "-C", "-b", brokers, "-t", topic, "-e", "-q",
                        "-o", "beginning", "-f", "%p\t%o\t%s\n"],
                       capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    msgs = []
    for raw in r.stdout.split(b"\n")[:-1]:
        p, o, v = raw.split(b"\t", 2)
        msgs.append((int(p), int(o), v))
    return msgs


def count_messages(brokers, topic):
    r = subprocess.run(["kcat", "-C", "-b", brokers, "-t", topic, "-e", "-q",
                        "-o", "beginning", "-f", "%o\n"],
                       capture_output=True, timeout=120)
    return r.stdout.count(b"\n") if r.returncode == 0 else -1


def ship_with_rsyslog(tmp, brokers, topic, logfile, n_lines, timeout_s=180):
    """Runs rsyslogd until every line of logfile is on topic, then stops it.
    Returns (seconds to deliver, rsyslogd's exit status, its own log)."""
    work = tmp / "rsyslog-work"
    work.mkdir()
    paths = {"work": str(work), "broker": brokers, "topic": topic,
             "logfile": str(logfile), "tag": TAG,
             "errors": str(tmp / "omkafka-errors.json"),
             "internal": str(tmp / "rsyslogd-internal.log")}
    conf = tmp / "rsyslog.conf"
    conf.write_text(RSYSLOG_CONF.format(**paths))
    check = subprocess.run([RSYSLOGD, "-N1", "-f", str(conf)], capture_output=True,
                           text=True, timeout=60)
    assert check.returncode == 0, "rsyslogd -N1 rejects the config:\n" + check.stderr
    err = open(tmp / "rsyslogd.err", "w")
    t0 = time.monotonic()
    proc = subprocess.Popen([RSYSLOGD, "-n", "-f", str(conf), "-i", str(tmp / "rsyslogd.pid")],
                            stdin=subprocess.DEVNULL, stdout=err, stderr=subprocess.STDOUT)
    try:
        got = sc.wait_until(lambda: proc.poll() is not None or
                            count_messages(brokers, topic) >= n_lines,
                            timeout_s, step=0.5)
        elapsed = time.monotonic() - t0
        assert proc.poll() is None, "rsyslogd exited early (%s): %s" % (
            proc.returncode, (tmp / "rsyslogd.err").read_text())
        assert got, "rsyslogd delivered %d of %d lines in %d s" % (
            count_messages(brokers, topic), n_lines, timeout_s)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=90)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        err.close()
    internal = tmp / "rsyslogd-internal.log"
    log = internal.read_text(errors="replace") if internal.exists() else ""
    return elapsed, proc.returncode, log


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    need_shipper()
    brokers = ku.bootstrap()  # SOAKWATCH_KAFKA_BOOTSTRAP, or scripts/kafka-local's
    tmp = tmp_path_factory.mktemp("shipper")
    lines, telemetry, start_ms = application_log()
    logfile = tmp / "planning-engine.log"
    logfile.write_bytes(("\n".join(lines) + "\n").encode())
    topic = ku.unique_topic("shipped")
    ku.create_topic(topic, 3)
    elapsed, rc, log = ship_with_rsyslog(tmp, brokers, topic, logfile, len(lines))
    cfg_syslog = tmp / "input-syslog.json"
    cfg_syslog.write_text(json.dumps(config("syslog")))
    cfg_plain = tmp / "input-none.json"
    cfg_plain.write_text(json.dumps(config("none")))
    return {"brokers": brokers, "topic": topic, "tmp": tmp, "lines": lines,
            "telemetry": telemetry, "start_ms": start_ms, "logfile": str(logfile),
            "elapsed": elapsed,
            "rc": rc, "rsyslog_log": log, "cfg_syslog": str(cfg_syslog),
            "cfg_plain": str(cfg_plain)}


def test_generated_file_shape():
    lines, telemetry, start_ms = application_log()
    assert 5000 <= len(lines) <= 12000, len(lines)
    assert telemetry == sum('"msg":"event=' in x for x in lines)
    assert len(lines) - telemetry > 100  # other log lines, ignored
    ts = [json.loads(x)["ts"] for x in lines]
    assert ts == sorted(ts)  # RFC 3339, one format: text order is time order
    assert ts[0][:16] == rfc3339(start_ms)[:16]
    assert ts[-1][:16] == rfc3339(start_ms + (MINUTES - 1) * 60000)[:16]
    assert sum('"reason":"preview_failed"' in x for x in lines) > 100
    assert application_log() == (lines, telemetry, start_ms)  # deterministic
    assert all("\n" not in x and "\r" not in x for x in lines)
    assert 16000 < max(len(x.encode()) for x in lines) < 60000


def test_rsyslog_delivers_every_line_unchanged(shipped):
    s = shipped
    assert s["rc"] == 0, "rsyslogd exit status %s; its log:\n%s" % (s["rc"], s["rsyslog_log"])
    assert not os.path.exists(s["tmp"] / "omkafka-errors.json"), \
        (s["tmp"] / "omkafka-errors.json").read_text()
    msgs = topic_partitions_and_values(s["brokers"], s["topic"])
    assert len(msgs) == len(s["lines"])
    # librdkafka spread the lines over the partitions.
    assert {p for p, _, _ in msgs} == {0, 1, 2}
    header = re.compile(rb"<\d{1,3}>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?"
                        rb"(Z|[+-]\d\d:\d\d) \S+ " + TAG.encode() + rb": $")
    want = [x.encode() for x in s["lines"]]
    bodies = {0: [], 1: [], 2: []}
    for p, _, v in sorted(msgs):
        cut = v.index(b"{")
        assert header.match(v[:cut]), v[:cut + 40]
        bodies[p].append(v[cut:])
    # Every line arrives once, byte for byte: no escaping, no truncation.
    got = collections.Counter(b for p in bodies for b in bodies[p])
    assert got == collections.Counter(want), \
        [x[:200] for x in (got - collections.Counter(want))][:3]
    # Each partition holds a subsequence of the file, in file order.
    for p, seq in bodies.items():
        it = iter(want)
        assert all(any(b == x for x in it) for b in seq), "partition %d out of file order" % p


def replay_file(path, cfg):
    r = subprocess.run([sc.BIN, "replay", "--input", path, "--config", cfg],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return r.stdout.splitlines(), r.stderr


def replay_topic(brokers, topic, cfg, *args):
    r = subprocess.run([sc.BIN, "replay", "--brokers", brokers, "--topic", topic,
                        "--config", cfg, *args], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return r.stdout.splitlines(), r.stderr


def summary(stderr):
    """The counts of replay's summary line (other stderr lines, such as the
    start-up note on rules that cannot be judged, are skipped)."""
    line = [x for x in stderr.splitlines() if " accepted; " in x]
    assert len(line) == 1, stderr
    counts = {}
    for key in ("accepted", "rejected", "ignored", "late", "out of range", "events written"):
        m = re.search(r"(\d+) %s\b" % key, line[0])
        assert m, (key, line[0])
        counts[key] = int(m.group(1))
    return counts


def between(lines, lo_ms, hi_ms):
    return [x for x in lines if lo_ms <= json.loads(x)["at_ms"] and
            (hi_ms is None or json.loads(x)["at_ms"] <= hi_ms)]


def fired(lines, rule, state="firing"):
    return [x for x in lines if '"rollback_trigger"' in x and
            json.loads(x).get("rule") == rule and json.loads(x).get("state") == state]


@pytest.fixture(scope="module")
def file_replay(shipped):
    return replay_file(shipped["logfile"], shipped["cfg_plain"])


def test_file_replay_of_the_log(shipped, file_replay):
    out, err = file_replay
    c = summary(err)
    assert c["accepted"] == shipped["telemetry"], err
    assert c["ignored"] == len(shipped["lines"]) - shipped["telemetry"], err
    assert c["rejected"] == 0 and c["late"] == 0 and c["out of range"] == 0, err
    assert out and c["events written"] == len(out)
    assert fired(out, "error_rate_high") and fired(out, "error_rate_high", "resolved")


def test_whole_topic_equals_file_replay(shipped, file_replay):
    want, want_err = file_replay
    got, err = replay_topic(shipped["brokers"], shipped["topic"], shipped["cfg_syslog"],
                            "--from", str(shipped["start_ms"]))
    assert got and want
    assert fired(got, "error_rate_high") and fired(want, "error_rate_high")
    assert got == want
    c, w = summary(err), summary(want_err)
    assert c == w, (err, want_err)
    assert c["accepted"] == shipped["telemetry"]


def test_from_to_equals_file_replay(shipped, file_replay):
    want, _ = file_replay
    lo = shipped["start_ms"] + 6 * 60 * 1000
    hi = shipped["start_ms"] + 16 * 60 * 1000
    got, err = replay_topic(shipped["brokers"], shipped["topic"], shipped["cfg_syslog"],
                            "--from", rfc3339(lo)[:19] + "Z", "--to", rfc3339(hi)[:19] + "Z")
    exp = between(want, lo, hi)
    assert fired(exp, "error_rate_high")
    assert got == exp
    c = summary(err)
    assert c["rejected"] == 0 and c["late"] == 0 and c["events written"] == len(exp), err
