# needs: kafka
"""soakwatch run from Kafka to Kafka publishes exactly what a file replay of
the same events writes.

Design. Live publishing starts where the output topic's history ends, so the
test uses the restart path to make the two comparable without any flag
for tests: each scenario's event times are shifted so that it ends a few
seconds before now; it is produced round-robin to a fresh 3-partition topic
(record timestamps are the time of producing, so the whole scenario lies
inside the rebuild window soakwatch reads on start); and the fresh output
topic first receives one status "as published earlier", nothing firing, a
minute before the scenario's first event. soakwatch then publishes every
instant after that marker, i.e. every instant of the scenario. After the
input is read to its end and idle, the idle clock evaluates instants past
the last event (the wall clock), which a file replay does not; file replay
ends at the greatest second + 1. So the outputs at instants up to that
second must be byte-identical to the file replay's, in order, and nothing
else may appear before it. Event times never go backwards within a scenario
and durations are whole milliseconds (scenarios.py), so the merge of the
partitions by event time gives the engine the same seconds as the file.
"""
import json
import os
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenarios as sc  # noqa: E402

pytestmark = pytest.mark.skipif(not sc.have_kcat(), reason="kcat not installed")


@pytest.fixture(scope="module")
def brokers():
    return sc.bootstrap()


def setup_scenario(brokers, tmp_path, name, lines_fn):
    span = sc.span_ms(name)
    start = (int(time.time() * 1000) - span - 15000) // 1000 * 1000
    lines = lines_fn(start)
    path = tmp_path / (name + ".jsonl")
    path.write_text("\n".join(lines) + "\n")
    t_in, t_out = sc.fresh_name("in-" + name), sc.fresh_name("out-" + name)
    sc.create_topic(t_in, 3)
    sc.create_topic(t_out, 1)
    sc.produce_lines(brokers, t_in, lines, 3)
    sc.produce_lines(brokers, t_out, [sc.status_marker(start - 60000)], 1)
    return lines, str(path), t_in, t_out


@pytest.mark.parametrize("name", ["healthy", "error_burst", "latency_spike",
                                  "outage_gap", "messy"])
def test_live_equals_file_replay(brokers, tmp_path, name):
    lines, path, t_in, t_out = setup_scenario(brokers, tmp_path, name,
                                              sc.SCENARIOS[name])
    want = sc.file_replay(path)
    last = sc.max_second(lines)
    assert len(want) > 10
    if name not in ("healthy", "messy"):
        assert any('"rollback_trigger"' in w for w in want), "scenario fires nothing"
    group = sc.fresh_name("g")
    dlt = sc.fresh_name("dlt")
    args = ["--brokers", brokers, "--input-topic", t_in, "--output-topic", t_out,
            "--group", group]
    if name == "messy":
        sc.create_topic(dlt, 1)
        args += ["--dead-letter-topic", dlt]
    run = sc.Run(tmp_path, args)

    def published():
        msgs = sc.consume_all(brokers, t_out)[1:]  # the marker first
        return [m["payload"] for m in msgs
                if json.loads(m["payload"])["at_ms"] // 1000 <= last + 1]

    got = sc.wait_until(lambda: len(published()) >= len(want) and published(), 90)
    assert run.alive(), run.stderr()
    # Nothing after: a second look finds the same.
    time.sleep(1)
    got = published()
    rc, took = run.stop()
    assert rc == 0, run.stderr()
    assert took < 10
    assert got == want

    # Keys and headers of what was published.
    msgs = sc.consume_all(brokers, t_out)[1:]
    for m in msgs:
        o = json.loads(m["payload"])
        assert m["headers"]["schema_version"] == "1"
        assert m["headers"]["type"] == o["type"]
        # CloudEvents binary content mode: routable without parsing.
        ce = m["headers"]
        assert ce["ce_specversion"] == "1.0"
        assert ce["ce_type"] == "com.soakwatch." + o["type"]
        assert ce["ce_source"] == "/soakwatch/feature.stream5_time_crunch_mode"
        assert ce["ce_id"] == o.get("id", "%s:%d" % (o["type"], o["at_ms"]))
        assert ce["ce_time"] == o["at"]
        assert ce["content-type"] == "application/json"
        assert m["key"] == (o["rule"] if o["type"] in ("rollback_trigger", "rollback_check")
                            else "feature.stream5_time_crunch_mode")

    # Everything read was committed once delivered: the ends of the input.
    ends = {}
    for m in sc.consume_all(brokers, t_in):
        ends[m["partition"]] = max(ends.get(m["partition"], 0), m["offset"] + 1)
    assert sc.committed_offsets(group, t_in) == ends

    if name == "messy":
        check_dead_letters(brokers, lines, t_in, dlt, run.stderr())


def check_dead_letters(brokers, lines, t_in, dlt, stderr):
    """Every rejected line is on the dead-letter topic with its bytes, its
    reason and its source; ignored (unknown) events are not."""
    rejected = []
    for x in lines:
        try:
            o = json.loads(x)
        except ValueError:
            rejected.append(x)
            continue
        if not isinstance(o, dict) or not isinstance(o.get("event"), str) \
                or "ts" not in o:
            rejected.append(x)
        elif o["event"].endswith("_succeeded") and "durationMs" not in o:
            rejected.append(x)
        elif "status" in o and not 100 <= o["status"] <= 599:
            rejected.append(x)
    assert rejected
    dl = sc.wait_until(lambda: (lambda d: len(d) >= len(rejected) and d)(
        sc.consume_all(brokers, dlt)), 30)
    assert sorted(m["payload"] for m in dl) == sorted(rejected), stderr
    src = {(m["partition"], m["offset"]): m["payload"]
           for m in sc.consume_all(brokers, t_in)}
    for m in dl:
        reason = m["headers"]["soakwatch.reason"]
        assert reason and reason != "ok", reason
        topic, part, off = m["headers"]["soakwatch.source"].rsplit("/", 2)
        assert topic == t_in
        assert src[(int(part), int(off))] == m["payload"]


def test_live_soak_update_equals_file_replay(brokers, tmp_path):
    """The soak cadence live (docs/semantics.md section 11): with soak.start
    an hour before a moment inside the scenario, the update of hour 1 falls
    in it; live publishes it like a file replay writes it, after the
    statuses of its instant, keyed by the flag with header type
    soak_update."""
    name = "error_burst"
    lines, path, t_in, t_out = setup_scenario(brokers, tmp_path, name, sc.SCENARIOS[name])
    first = min(json.loads(x)["ts"] for x in lines if x.startswith("{"))
    last = sc.max_second(lines)
    mid = (first // 1000 + last) // 2
    start_ms = (mid - 60 - 3600) * 1000  # S, U = S + 1 h: within a minute before mid
    conf = tmp_path / "soak.json"
    conf.write_text(json.dumps({"soak": {"start": start_ms, "hours": 1}}))
    r = subprocess.run([sc.BIN, "replay", "--config", str(conf), "--input", path],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    want = r.stdout.splitlines()
    soak = [w for w in want if '"soak_update"' in w]
    assert len(soak) == 1 and json.loads(soak[0])["at_ms"] > first
    run = sc.Run(tmp_path, ["--config", str(conf), "--brokers", brokers, "--input-topic", t_in,
                            "--output-topic", t_out, "--group", sc.fresh_name("g")])

    def published():
        msgs = sc.consume_all(brokers, t_out)[1:]
        return [m for m in msgs if json.loads(m["payload"])["at_ms"] // 1000 <= last + 1]

    got = sc.wait_until(lambda: len(published()) >= len(want) and published(), 90)
    assert run.alive(), run.stderr()
    rc, _ = run.stop()
    assert rc == 0, run.stderr()
    assert [m["payload"] for m in got] == want
    m = [m for m in got if m["headers"]["type"] == "soak_update"]
    assert len(m) == 1 and m[0]["key"] == "feature.stream5_time_crunch_mode"


def test_live_cohorts_equal_file_replay(brokers, tmp_path):
    """Cohorts and a comparison rule (docs/semantics.md section 12) live:
    a staged rollout where v2, a tenth of the traffic, fails half its
    previews for six minutes; the whole topic's rule stays silent, the
    cohort rule and the comparison fire for v2 only, and live Kafka
    publishes exactly what the file replay writes, statuses with their
    cohorts_firing and per-cohort metrics included."""
    import test_cohorts as tc
    minutes = 14
    start = int(time.time()) - tc.BASE - minutes * 60 - 15
    docs = tc.rollout(seed=2, minutes=minutes, fail=(4, 10), start=start)
    lines = [json.dumps(d, separators=(",", ":")) for d in docs]
    compare = {"name": "canary_errors", "metric": "error_rate", "op": ">", "threshold": 0.02,
               "window_s": 300, "min_samples": 20, "action": "rollback_cohort",
               "compare": {"treatment": "v2", "control": "v1"}}
    conf, want = replayed(tmp_path, tc.cohort_config([tc.WHOLE_ERRORS, tc.COHORT_ERRORS,
                                                      compare]), lines)
    fired = [json.loads(w) for w in want if '"rollback_trigger"' in w]
    assert {(t["rule"], t.get("cohort")) for t in fired if t["state"] == "firing"} == \
        {("cohort_error_rate_high", "v2"), ("canary_errors", "v2")}, fired
    got = cohorts_live(brokers, tmp_path, conf, lines, tc.ms(start), len(want))
    assert [m["payload"] for m in got] == want
    for m in got:  # a cohort's trigger is keyed by its rule, like any trigger
        o = json.loads(m["payload"])
        if o["type"] == "rollback_trigger":
            assert m["key"] == o["rule"] and m["headers"]["ce_id"] == o["id"]


def replayed(tmp_path, config, lines):
    """(config's path, the lines soakwatch replay writes for lines with it)."""
    conf = tmp_path / "config.json"
    conf.write_text(json.dumps(config))
    path = tmp_path / "input.jsonl"
    path.write_text("\n".join(lines) + "\n")
    r = subprocess.run([sc.BIN, "replay", "--config", str(conf), "--input", str(path)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return conf, r.stdout.splitlines()


def cohorts_live(brokers, tmp_path, conf, lines, start_ms, n_want):
    """lines on a fresh 3-partition topic, after a marker status a minute
    before start_ms on a fresh output topic; soakwatch run with conf until
    it has published n_want events up to the last second + 1."""
    t_in, t_out = sc.fresh_name("in-cohorts"), sc.fresh_name("out-cohorts")
    sc.create_topic(t_in, 3)
    sc.create_topic(t_out, 1)
    sc.produce_lines(brokers, t_in, lines, 3)
    sc.produce_lines(brokers, t_out, [sc.status_marker(start_ms - 60000)], 1)
    return sc.run_live_until(brokers, tmp_path,
                             ["--config", str(conf), "--brokers", brokers, "--input-topic", t_in,
                              "--output-topic", t_out, "--group", sc.fresh_name("g")],
                             t_out, sc.max_second(lines), n_want)


def test_live_cohorts_kept_first_come_equal_file_replay(brokers, tmp_path):
    """Cohorts kept first come (cohorts.max, docs/semantics.md section 12)
    live: values that appear over time take the free cohorts in the order
    accepted through the merge of three partitions, the next ones count as
    other, and live Kafka publishes exactly what the file replay writes
    (the new values first appear minutes apart, so the order is the
    same whatever the partitions' interleaving)."""
    import test_cohort_cap as cap
    seconds = 900
    start = int(time.time()) - cap.BASE - seconds - 15
    docs = cap.releases(seed=7, seconds=seconds, start=start)
    lines = [json.dumps(d, separators=(",", ":")) for d in docs]
    conf, want = replayed(tmp_path, cap.CAP_CFG, lines)
    last_status = [json.loads(w) for w in want if '"status"' in w][-1]
    assert list(last_status["cohorts"]) == ["v1", "v2", "v9", "other"]
    assert any('"cohort":"v2"' in w and '"rollback_trigger"' in w for w in want)
    got = cohorts_live(brokers, tmp_path, conf, lines, cap.tc.ms(start), len(want))
    assert [m["payload"] for m in got] == want
