# needs: kafka
"""Soak: soakwatch run live at 20,000 events/s for SOAK_SECONDS (default 60;
the documented run is SOAK_SECONDS=600) with a scripted incident, holding
memory and descriptors flat and the output equal to a file replay.

Design. bench/gen.c writes SOAK_SECONDS of events at 20,000 a second whose
event times start a few seconds from now; an 8-second stretch from 40% in
turns the success of every other request into an internal-error fallback
(status 500), which takes the 10-second error rate from under 2% to about
half: the rule
error_rate_high must fire and then resolve. bench/load.c produces the file
paced at 20,000 a second, round-robin over 6 partitions, so event time
follows the wall clock as in production. Every SAMPLE_S seconds the test
reads VmRSS and counts /proc/PID/fd; after the first WARMUP share of the
run, RSS may vary by at most RSS_SLACK_MIB and the descriptor count by at
most 2 (librdkafka may open a connection; a leak grows without bound).

Equality. The input topic is fresh, so soakwatch's rebuild on start reads
it from its first event: its t0 is the file's t0. A fresh output topic has
no history, so live publishes from (start second - allowed_lateness_s)
("publishing to ... from T" on stderr), which is before the first event.
File replay ends at the greatest second + 1; live evaluates instants past
that with the idle clock. So on every instant from T to the last instant
both have, the messages on the output topic must be byte-identical to the
lines of `soakwatch replay --input` of the produced file, in order.
"""
import json
import os
import re
import subprocess
import sys
import time
import urllib.request

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kafka_util as ku  # noqa: E402

SRC = ku.SRC
BIN = os.environ.get("SOAKWATCH_BIN") or os.path.join(SRC, "build", "soakwatch")
SECONDS = int(os.environ.get("SOAK_SECONDS", "60"))
RATE = 20000
SAMPLE_S = 2
WARMUP = 0.3
RSS_SLACK_MIB = 4
LATENESS_S = 2
INCIDENT_AT, INCIDENT_S = 0.4, 8

CONFIG = {
    "allowed_lateness_s": LATENESS_S,
    "status": {"interval_s": 10},
    "rules": [
        {"name": "error_rate_high", "metric": "error_rate", "op": ">", "threshold": 0.10,
         "window_s": 10, "min_samples": 20},
        {"name": "success_rate_low", "metric": "success_rate", "op": "<", "threshold": 0.90,
         "window_s": 30, "min_samples": 20},
    ],
}

pytestmark = pytest.mark.skipif(
    subprocess.run(["sh", "-c", "command -v kcat && pkg-config --exists rdkafka"],
                   capture_output=True).returncode != 0,
    reason="kcat or librdkafka's pkg-config file missing")


def build_tools(tmp_path):
    """bench/gen.c and bench/load.c, compiled here: the test needs no build
    directory but soakwatch's."""
    gen, load = str(tmp_path / "gen"), str(tmp_path / "load")
    subprocess.run(["cc", "-O2", "-o", gen, os.path.join(SRC, "bench", "gen.c")], check=True)
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "rdkafka"], check=True,
                           capture_output=True, text=True).stdout.split()
    subprocess.run(["cc", "-O2", "-D_POSIX_C_SOURCE=200809L", "-D_DEFAULT_SOURCE", "-o", load,
                    os.path.join(SRC, "bench", "load.c")] + flags, check=True)
    return gen, load


def write_events(gen, path, n, start_ms):
    """Generated events with the incident written in; returns the incident's
    first and last line numbers."""
    first = int(SECONDS * INCIDENT_AT) * RATE
    last = first + INCIDENT_S * RATE
    changed = 0
    with subprocess.Popen([gen, str(n), str(RATE), str(start_ms)], stdout=subprocess.PIPE,
                          text=True) as g, open(path, "w") as out:
        for i, line in enumerate(g.stdout):
            if first <= i < last and i % 4 == 1 and "_succeeded" in line:
                ev = json.loads(line)
                line = json.dumps({
                    "event": "stream5.time_crunch_preview_fallback", "ts": ev["ts"],
                    "durationMs": ev["durationMs"], "status": 500,
                    "compressionStrategy": "none", "reason": "internal_error",
                    "source": "gateway-bff"}, separators=(",", ":")) + "\n"
                changed += 1
            out.write(line)
    assert g.returncode == 0
    # Odd lines are outcomes, about 94% of them successes; lines 1 mod 4
    # are every other outcome: some 47% of the stretch's outcomes change.
    assert changed > INCIDENT_S * RATE // 4 * 0.9
    return first, last


def metric(port, name):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=2) as r:
            for line in r.read().decode().splitlines():
                if line.startswith(name + " "):
                    return float(line.split()[1])
    except OSError:
        return None
    return None


def vm_rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc/%d/status" % pid)


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_soak(tmp_path):
    brokers = ku.bootstrap()
    gen, load = build_tools(tmp_path)
    cfg = tmp_path / "soak.json"
    cfg.write_text(json.dumps(CONFIG))
    t_in = ku.create_topic(ku.unique_topic("soak-in"), 6)
    t_out = ku.create_topic(ku.unique_topic("soak-out"), 1)
    port = free_port()
    log = open(tmp_path / "soakwatch.err", "w+")
    sw = subprocess.Popen([BIN, "run", "--config", str(cfg), "--brokers", brokers,
                           "--input-topic", t_in, "--output-topic", t_out, "--group", t_in,
                           "--http", "127.0.0.1:%d" % port], stderr=log)
    try:
        deadline = time.monotonic() + 60
        while metric(port, "soakwatch_messages_total") is None:
            assert sw.poll() is None and time.monotonic() < deadline, "soakwatch did not start"
            time.sleep(0.1)
        log.seek(0)
        m = re.search(r"publishing to \S+ from (\d+)", log.read())
        assert m, "soakwatch did not say from which instant it publishes"
        live_from = int(m.group(1))

        n = SECONDS * RATE
        start_ms = (int(time.time()) + 3) * 1000
        events = str(tmp_path / "events.jsonl")
        write_events(gen, events, n, start_ms)
        # Event time follows the wall clock: start producing at start_ms.
        time.sleep(max(0.0, start_ms / 1000 - time.time()))
        prod = subprocess.Popen([load, "-r", str(RATE), brokers, t_in, events],
                                stderr=subprocess.PIPE, text=True)
        samples = []  # (seconds in, VmRSS KiB, fds, messages)
        t0 = time.monotonic()
        while prod.poll() is None:
            assert sw.poll() is None, "soakwatch exited during the soak"
            samples.append((time.monotonic() - t0, vm_rss_kib(sw.pid), fd_count(sw.pid),
                            metric(port, "soakwatch_messages_total")))
            time.sleep(SAMPLE_S)
        perr = prod.stderr.read()
        assert prod.returncode == 0, perr
        # All read, then idle: the idle clock evaluates past the last event.
        deadline = time.monotonic() + 120
        while metric(port, "soakwatch_messages_total") != n:
            assert time.monotonic() < deadline, "soakwatch did not read all %d events" % n
            time.sleep(0.5)
        time.sleep(5 + LATENESS_S + 3)
        final = (vm_rss_kib(sw.pid), fd_count(sw.pid))
    finally:
        sw.terminate()
        sw.wait(30)
    log.seek(0)
    err = log.read()
    assert sw.returncode == 0, err[-2000:]

    steady = [s for s in samples if s[0] >= SECONDS * WARMUP]
    assert len(steady) >= 5, samples
    rss = [s[1] for s in steady]
    fds = [s[2] for s in steady]
    rates = [(b[3] - a[3]) / (b[0] - a[0]) for a, b in zip(steady, steady[1:])
             if a[3] is not None and b[3] is not None]
    summary = ("soak %d s at %d events/s: %s; VmRSS after warm-up %.1f..%.1f MiB "
               "(end %.1f), fds %d..%d (end %d), consumed %.0f..%.0f events/s"
               % (SECONDS, RATE, perr.strip(), min(rss) / 1024, max(rss) / 1024,
                  final[0] / 1024, min(fds), max(fds), final[1], min(rates), max(rates)))
    print(summary)
    (tmp_path / "summary.txt").write_text(summary + "\n")
    assert max(rss) - min(rss) <= RSS_SLACK_MIB * 1024, summary
    assert max(fds) - min(fds) <= 2, summary

    live = [m.value for m in ku.consume_all(t_out, timeout_s=120)]
    replayed = tmp_path / "replay.jsonl"
    # The live run watched from before the first event (docs/semantics.md
    # section 3): the replay of the same events from the same watch start
    # computes what it computed.
    w = re.search(r"watching; coverage starts at (\S+) \(replay --start", err)
    assert w, "soakwatch did not say from when it watches"
    subprocess.run([BIN, "replay", "--config", str(cfg), "--input", events, "--output",
                    str(replayed), "--start", w.group(1)], check=True, capture_output=True)
    want = replayed.read_text().splitlines()

    def at_s(line):
        return json.loads(line)["at_ms"] // 1000

    last = min(at_s(live[-1]), at_s(want[-1]))
    got_common = [x for x in live if at_s(x) <= last]
    want_common = [x for x in want if live_from <= at_s(x) <= last]
    assert live_from * 1000 <= start_ms, "live publishing began after the first event"
    assert len(got_common) == len(want_common), (len(got_common), len(want_common))
    for i, (g, w) in enumerate(zip(got_common, want_common)):
        assert g == w, "output %d differs:\nlive   %s\nreplay %s" % (i, g, w)

    def transitions(lines):
        return [(o["rule"], o["state"]) for o in map(json.loads, lines)
                if o["type"] == "rollback_trigger"]

    trig = transitions(got_common)
    assert ("error_rate_high", "firing") in trig, trig
    assert ("error_rate_high", "resolved") in trig, trig
    assert trig.index(("error_rate_high", "firing")) < trig.index(("error_rate_high", "resolved"))
    statuses = sum(1 for o in map(json.loads, got_common) if o["type"] == "status")
    assert statuses >= SECONDS // CONFIG["status"]["interval_s"] - 2, statuses
    print("live = replay on %d outputs (instants %d..%d: %d statuses, transitions %s)"
          % (len(got_common), live_from, last, statuses, trig))
