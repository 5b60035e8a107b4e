# needs: kafka
"""Mapped input (docs/semantics.md section 9) live, from Kafka to Kafka:
soakwatch run publishes exactly what a file replay of the same messages
with the same configuration writes.

The method is test_live_scenarios.py's: the stream of shapes.py is shifted
so that it ends a few seconds before now, produced to a fresh 3-partition
input topic (record timestamps are the time of producing, so it lies inside
the rebuild window soakwatch reads on start), and the fresh output topic
first receives one status "as published earlier", nothing firing, a minute
before the stream's first event. soakwatch then publishes every instant
after that marker; the outputs at instants up to the last accepted event's
second + 1 (where file replay ends) must be byte-identical to the file
replay's, in order.

Cases:
  otlp              OTLP/JSON exports, up to 24 log records per Kafka
                    message, with correlation: every message on one
                    partition (the records of one preview are spread over
                    several messages and hosts, so no message key keeps a
                    request with its outcome; docs/semantics.md 9.6).
  otlp_spread       the same exports without correlation, round-robin over
                    the 3 partitions: multi-record messages merged by event
                    time across partitions (latency_high blind).
  logger            structured logger lines, the gateway's requests filtered
                    out and durations derived by correlation; messages keyed
                    by planId, so a request and its outcome share a
                    partition.
  sampled           one preview in ten kept, each line weighted by its
                    sampleRate; keyed by planId, with correlation.
  logger_blind      logger lines with `duration: null` and no correlation,
                    round-robin: latency_high is blind, in the statuses and
                    in /metrics.
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
import scenarios as sc  # noqa: E402
import shapes  # noqa: E402

pytestmark = pytest.mark.skipif(not sc.have_kcat(), reason="kcat not installed")

MINUTES = 20
BLIND = [{"rule": "latency_high", "missing": "duration"}]


@pytest.fixture(scope="module")
def brokers():
    return ku.bootstrap()


# ---- the cases ------------------------------------------------------------------------------

def _by_plan(events, lines):
    """Message keys: the planId of each logger line (None for lines that are
    not telemetry; librdkafka's partitioner spreads those at random)."""
    assert len(events) == len(lines)
    return [e.get("plan") for e in events]


def _round_robin(i, _line):
    return i % 3


CASES = {
    # name: (shape, correlate, duration field null, partitioning)
    "otlp": ("otlp", True, False, "one"),
    "otlp_spread": ("otlp", False, False, "round_robin"),
    "logger": ("logger", True, False, "key"),
    "sampled": ("sampled", True, False, "key"),
    "logger_blind": ("logger", False, True, "round_robin"),
}


def make_case(name, tmp_path):
    """The stream of case `name` ending about 15 s before now: (events,
    messages, config path, input file path)."""
    shape, correlate, null_duration, _ = CASES[name]
    start = (int(time.time() * 1000) - MINUTES * 60000 - 15000) // 1000 * 1000
    if shape == "sampled":
        events = shapes.previews(1, MINUTES, 10.0, start_ms=start, error_burst=(8, 5),
                                 sample=10)
    else:
        events = shapes.previews(1, MINUTES, 2.0, start_ms=start, error_burst=(8, 5))
    lines = shapes.render(shape, events, 1)
    cfg = shapes.config(shape, correlate=correlate)
    if null_duration:
        cfg["input"]["fields"]["duration"] = None
    cfg_path = tmp_path / (name + ".json")
    cfg_path.write_text(json.dumps(cfg))
    in_path = tmp_path / (name + ".jsonl")
    in_path.write_bytes(b"\n".join(lines) + b"\n")
    return start, events, lines, str(cfg_path), str(in_path)


def last_second(events):
    """Greatest second of an accepted event: every event but the non-telemetry
    lines (ignored) and the gateway's requests (filtered), which move no time."""
    return max(e["ts_ms"] for e in events
               if e["kind"] != "other" and e.get("source") != "gateway-bff") // 1000


def file_replay(in_path, cfg_path):
    r = subprocess.run([sc.BIN, "replay", "--input", in_path, "--config", cfg_path],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout.splitlines(), r.stderr


def summary_counts(stderr):
    """The numbers of replay's summary line this test compares with /metrics."""
    out = {}
    m = re.search(r"(\d+) filtered", stderr)
    if m:
        out["filtered"] = int(m.group(1))
    m = re.search(r"pairs (\d+) matched, (\d+) unmatched", stderr)
    if m:
        out["matched"], out["unmatched"] = int(m.group(1)), int(m.group(2))
    return out


def produce(name, events, lines, topic):
    _, _, _, how = CASES[name]
    if how == "one":
        ku.produce_lines(topic, lines, partition=1)
    elif how == "round_robin":
        ku.produce_lines(topic, lines, partition=_round_robin)
    else:
        ku.produce_lines(topic, lines, keys=_by_plan(events, lines))


def scrape(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
        assert r.status == 200
        return r.read().decode()


def metric(text, name, labels=""):
    """The value of one sample of the exposition, or None when absent."""
    m = re.search(r"^%s%s (\S+)$" % (re.escape(name), re.escape(labels)), text, re.M)
    return None if m is None else float(m.group(1))


# ---- the test -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(CASES))
def test_live_mapped_equals_file_replay(brokers, tmp_path, name):
    t0 = time.monotonic()
    start, events, lines, cfg_path, in_path = make_case(name, tmp_path)
    want, replay_err = file_replay(in_path, cfg_path)
    last = last_second(events)
    assert len(want) > 10, replay_err
    assert any('"rollback_trigger"' in w for w in want), "the stream fires nothing"
    assert max(json.loads(w)["at_ms"] for w in want) // 1000 <= last + 1, replay_err
    if CASES[name][0] == "otlp":
        assert len(lines) * 2 < len(events), "OTLP messages should carry several records"

    t_in, t_out = sc.fresh_name("in-mapped-" + name), sc.fresh_name("out-mapped-" + name)
    ku.create_topic(t_in, 3)
    ku.create_topic(t_out, 1)
    produce(name, events, lines, t_in)
    sc.produce_lines(brokers, t_out, [sc.status_marker(start - 60000)], 1)
    parts = {m["partition"] for m in sc.consume_all(brokers, t_in)}
    if CASES[name][3] != "one":
        assert parts == {0, 1, 2}, parts

    port = sc.free_port()
    group = sc.fresh_name("g")
    run = sc.Run(tmp_path, ["--brokers", brokers, "--input-topic", t_in,
                            "--output-topic", t_out, "--group", group,
                            "--config", cfg_path, "--http", "127.0.0.1:%d" % port])
    try:
        def published():
            msgs = sc.consume_all(brokers, t_out)[1:]  # the marker first
            return [m["payload"] for m in msgs
                    if json.loads(m["payload"])["at_ms"] // 1000 <= last + 1]

        sc.wait_until(lambda: not run.alive() or len(published()) >= len(want), 45)
        assert run.alive(), run.stderr()
        time.sleep(1)  # nothing more comes: a second look finds the same
        got = published()
        metrics = scrape(port)
    finally:
        if run.alive():
            rc, took = run.stop()
        else:
            rc, took = run.p.wait(), 0.0
    assert rc == 0, run.stderr()
    assert took < 10

    if got != want:
        diff = next((i for i, (g, w) in enumerate(zip(got, want)) if g != w),
                    min(len(got), len(want)))
        pytest.fail("live differs from file replay at output %d of %d (live %d):\n"
                    "live:   %s\nreplay: %s\nreplay summary: %s\nrun stderr: %s" % (
                        diff, len(want), len(got),
                        got[diff] if diff < len(got) else "(none)",
                        want[diff] if diff < len(want) else "(none)",
                        replay_err.strip(), run.stderr()[-2000:]))

    # Nothing was late, rejected or out of range live either.
    assert metric(metrics, "soakwatch_events_late_total") == 0, metrics
    assert metric(metrics, "soakwatch_events_out_of_range_total") == 0, metrics

    counts = summary_counts(replay_err)
    if name in ("logger", "otlp", "sampled"):
        matched = metric(metrics, "soakwatch_correlate_total", '{result="matched"}')
        filtered = metric(metrics, "soakwatch_events_filtered_total")
        assert matched and matched > 0, metrics
        assert filtered and filtered > 0, metrics
        # Every message was read once: the same pairing and filtering as the replay.
        assert matched == counts["matched"], (matched, replay_err)
        assert filtered == counts["filtered"], (filtered, replay_err)

    statuses = [json.loads(x) for x in want if '"type":"status"' in x]
    if name in ("logger_blind", "otlp_spread"):
        assert metric(metrics, "soakwatch_rule_blind", '{rule="latency_high"}') == 1, metrics
        blind = [s for s in statuses if "blind" in s]
        assert len(blind) >= 10, statuses
        assert all(s["blind"] == BLIND for s in blind), blind
        assert '"blind":[{"rule":"latency_high","missing":"duration"}]' in "".join(got)
        assert all(s["windows"]["300"]["latency_mean_ms"] is None for s in blind)
    else:
        assert metric(metrics, "soakwatch_rule_blind", '{rule="latency_high"}') == 0, metrics
        assert not any("blind" in s for s in statuses)
    assert time.monotonic() - t0 < 60, "case took %.1f s" % (time.monotonic() - t0)
