# needs: kafka
"""Broker faults under a running soakwatch, checked against the undisturbed
run: the file replay of the same events.

1. The broker is stopped and started again (data and port kept) in the
   middle of an incident, between the two halves of an error burst. Over
   the whole run the output topic must hold every rollback transition of
   the replay, by id, and nothing else; a status may repeat but never with
   other content for the same instant; soakwatch keeps running, /healthz
   answers 200, and the input offsets are committed after the outage.
   The config sets idle_timeout_s to 600: the outage lasts longer than the
   default 5 s, and the idle clock would then move the watermark to the wall
   clock and make the second half (event times just before now) late. The
   test is about the broker, not about silence. The second half (eleven
   minutes of event time) is produced in slices of 10 s of event time, each
   acknowledged on every partition before the next, with allowed_lateness_s
   30: a partition read to its end does not hold the merge back, so events
   must reach all partitions about as they happen, as live producers send
   them. Instants after the watermark of the last event are not evaluated
   live, so outputs are compared up to it. After the restart the
   partitions' fetches resume at different moments: the merge must not take
   a partition as read to its end on what it knew before the outage, or
   the others' events go past it and its own arrive late (none may).

2. The output topic refuses every output for a while (its max.message.bytes
   set below any output event), then accepts them again. While it refuses,
   no input offset is committed and memory stays bounded; once it accepts,
   every transition of the replay must reach the topic and the offsets must
   be committed.

Both tests print their figures on stderr (pytest -s shows them).
"""
import json
import os
import re
import sys
import time
import urllib.request

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenarios as sc  # noqa: E402

pytestmark = pytest.mark.skipif(not sc.have_kcat(), reason="kcat not installed")

LATENESS_S = 30
SLICE_MS = 10000


def http_get(port, path):
    """(status, body) of GET path, or (None, error text) when nobody answers."""
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=2) as r:
            return r.status, r.read().decode()
    except OSError as exc:
        return None, str(exc)


def metric(port, name):
    """The value of an unlabelled sample of /metrics, or None."""
    status, body = http_get(port, "/metrics")
    if status != 200:
        return None
    m = re.search(r"^%s (\d+)$" % re.escape(name), body, re.M)
    return int(m.group(1)) if m else None


def live_flow(port):
    """The lines of /metrics that say where input and outputs stand (for a
    failure's message)."""
    status, body = http_get(port, "/metrics")
    if status != 200:
        return "no /metrics: %s" % body
    keep = ("soakwatch_consumer_lag", "soakwatch_outputs_", "soakwatch_output_",
            "soakwatch_offset_commits", "soakwatch_input_", "soakwatch_fetch_",
            "soakwatch_watermark_lag")
    return "\n".join(x for x in body.splitlines() if x.startswith(keep))


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def burst_setup(tmp_path):
    """The error burst shifted to end 20 s before now, its file replay, and
    its last event second."""
    span = sc.span_ms("error_burst")
    start = (int(time.time() * 1000) - span - 20000) // 1000 * 1000
    lines = sc.error_burst(start)
    path = tmp_path / "burst.jsonl"
    path.write_text("\n".join(lines) + "\n")
    want = [json.loads(w) for w in sc.file_replay(str(path))]
    transitions = {w["id"]: w for w in want if w["type"] == "rollback_trigger"}
    # The scenario fires and resolves error_rate_high: a test without an
    # incident would prove nothing.
    states = [(w["rule"], w["state"]) for w in transitions.values()]
    assert ("error_rate_high", "firing") in states and \
        ("error_rate_high", "resolved") in states, states
    return start, lines, want, transitions, sc.max_second(lines)


def outputs(brokers, topic):
    """Every output soakwatch published (the marker, first, left out)."""
    return [json.loads(m["payload"]) for m in sc.consume_all(brokers, topic)[1:]]


def test_broker_restart_mid_incident_loses_and_invents_nothing(tmp_path):
    # A broker of its own: restarting the shared one would disturb other tests.
    env = dict(os.environ, KAFKA_LOCAL_DIR=str(tmp_path / "kafka"))
    env.pop("KAFKA_LOCAL_BOOTSTRAP", None)
    brokers = sc.bootstrap(env)
    run = None
    try:
        start, lines, want, transitions, last = burst_setup(tmp_path)
        cut_ms = start + 35 * 60 * 1000  # inside the burst (minutes 32 to 38)
        first = [x for x in lines if json.loads(x)["ts"] < cut_ms]
        second = lines[len(first):]
        t_in, t_out = sc.fresh_name("in-brk"), sc.fresh_name("out-brk")
        sc.create_topic(t_in, 3, env)
        sc.create_topic(t_out, 1, env)
        sc.produce_lines(brokers, t_in, first, 3)
        sc.produce_lines(brokers, t_out, [sc.status_marker(start - 60000)], 1)
        cfg = tmp_path / "config.json"
        cfg.write_text('{"idle_timeout_s": 600, "allowed_lateness_s": %d}\n' % LATENESS_S)
        group = sc.fresh_name("g")
        port = sc.free_port()
        run = sc.Run(tmp_path, ["--config", str(cfg), "--brokers", brokers,
                                "--input-topic", t_in, "--output-topic", t_out,
                                "--group", group, "--http", "127.0.0.1:%d" % port])

        assert sc.wait_until(lambda: any(o.get("id") in transitions and o["state"] == "firing"
                                         for o in outputs(brokers, t_out)), 60, step=0.2), \
            run.stderr()
        # The first half is committed: the outage starts from a clean state.
        assert sc.wait_until(lambda: sum(sc.committed_offsets(group, t_in, env).values())
                             == len(first), 30), run.stderr()
        before = outputs(brokers, t_out)
        assert not any(o.get("state") == "resolved" for o in before), "not mid-incident"

        t_down = time.monotonic()
        sc.kafka_local("restart-broker", env=env)
        t_back = time.monotonic()
        outage_s = t_back - t_down
        assert run.alive(), run.stderr()
        assert http_get(port, "/healthz")[0] == 200

        assert metric(port, "soakwatch_events_late_total") == 0
        slices = {}
        for x in second:
            slices.setdefault(json.loads(x)["ts"] // SLICE_MS, []).append(x)
        for k in sorted(slices):
            sc.produce_lines(brokers, t_in, slices[k], 3)
        max_before = max(o["at_ms"] for o in before)
        assert sc.wait_until(lambda: any(o["at_ms"] > max_before
                                         for o in outputs(brokers, t_out)), 60, step=0.2), \
            run.stderr()
        resume_s = time.monotonic() - t_back

        horizon = last - LATENESS_S  # the watermark after the last event
        want_keys = {sc.output_key(w): w for w in want if w["at_ms"] // 1000 <= horizon}

        def in_range():
            return [o for o in outputs(brokers, t_out) if o["at_ms"] // 1000 <= horizon]

        sc.wait_until(lambda: {sc.output_key(o) for o in in_range()} >= set(want_keys), 60)
        missing = sorted(set(want_keys) - {sc.output_key(o) for o in in_range()})
        assert not missing, "missing %d of %d outputs, first %s; published transitions %s; " \
            "want %s; late events %s" % (
                len(missing), len(want_keys), missing[:5],
                [o["id"] for o in outputs(brokers, t_out) if "id" in o], sorted(transitions),
                metric(port, "soakwatch_events_late_total"))
        # After a broker restart the group coordinator reloads its offsets
        # before it answers: more time than before the outage.
        assert sc.wait_until(lambda: sum(sc.committed_offsets(group, t_in, env).values())
                             == len(lines), 60), \
            "committed %s of %d; %s\n%s" % (sc.committed_offsets(group, t_in, env), len(lines),
                                            live_flow(port), run.stderr())
        time.sleep(1)  # anything late would show now
        assert run.alive(), run.stderr()
        assert http_get(port, "/healthz")[0] == 200

        got = outputs(brokers, t_out)
        # Nothing past the watermark: the idle clock is off.
        assert all(o["at_ms"] // 1000 <= horizon for o in got), got[-1]
        union = {}
        for o in got:
            union.setdefault(sc.output_key(o), o)
        got_ids = {k for k in union if not k.startswith("status:")}
        want_ids = {k for k in want_keys if not k.startswith("status:")}
        # No transition lost, none invented.
        assert got_ids == want_ids, (sorted(got_ids), sorted(want_ids))
        assert metric(port, "soakwatch_events_late_total") == 0
        assert set(union) == set(want_keys)
        for k, o in union.items():
            assert o == want_keys[k], k
        for o in got:  # a repeat is the same event again
            assert o == union[sc.output_key(o)], sc.output_key(o)
        dups = len(got) - len(union)
        rc, took = run.stop()
        run = None
        assert rc == 0
        assert took < 10
        sys.stderr.write("broker restart: outage %.1f s; output resumed %.1f s after the "
                         "broker was back; %d outputs (%d transitions, %d before the outage), "
                         "%d duplicates\n" % (outage_s, resume_s, len(got), len(got_ids),
                                              len(before), dups))
    finally:
        if run is not None and run.alive():
            run.stop()
        sc.kafka_local("stop", env=env)


def set_max_message_bytes(brokers, topic, value):
    """Alter the topic's max.message.bytes (None: back to the broker's)."""
    args = ["tool", "org.apache.kafka.tools.ConfigCommand", "--bootstrap-server", brokers,
            "--alter", "--entity-type", "topics", "--entity-name", topic]
    if value is None:
        args += ["--delete-config", "max.message.bytes"]
    else:
        args += ["--add-config", "max.message.bytes=%d" % value]
    sc.kafka_local(*args)


@pytest.fixture(scope="module")
def unwritable_run(tmp_path_factory):
    """Runs soakwatch over an error burst while its output topic refuses
    every output, then makes the topic writable and waits for the catch-up;
    returns what it observed."""
    tmp_path = tmp_path_factory.mktemp("unwritable")
    brokers = sc.bootstrap()
    start, lines, want, transitions, last = burst_setup(tmp_path)
    t_in, t_out = sc.fresh_name("in-unw"), sc.fresh_name("out-unw")
    sc.create_topic(t_in, 3)
    sc.create_topic(t_out, 1)
    # The marker goes in while the topic still takes it.
    sc.produce_lines(brokers, t_out, [sc.status_marker(start - 60000)], 1)
    set_max_message_bytes(brokers, t_out, 100)
    sc.produce_lines(brokers, t_in, lines, 3)
    group = sc.fresh_name("g")
    port = sc.free_port()
    run = sc.Run(tmp_path, ["--brokers", brokers, "--input-topic", t_in,
                            "--output-topic", t_out, "--group", group,
                            "--http", "127.0.0.1:%d" % port])
    seen = {"lines": len(lines), "transitions": transitions, "brokers": brokers,
            "t_out": t_out, "rss_kib": []}
    try:
        seen["failed"] = sc.wait_until(
            lambda: "delivery of an output event failed" in run.stderr(), 60)
        t_fail = time.monotonic()
        # Ten seconds of outage, sampled every half second.
        consumed = []
        while time.monotonic() - t_fail < 10:
            seen["rss_kib"].append(rss_kib(run.p.pid))
            consumed.append(metric(port, "soakwatch_messages_total"))
            time.sleep(0.5)
        seen["consumed"] = [c for c in consumed if c is not None]
        seen["failures"] = metric(port, "soakwatch_output_delivery_failures_total")
        seen["committed_during"] = sc.committed_offsets(group, t_in)
        seen["alive_during"] = run.alive()
        seen["in_topic_during"] = len(sc.consume_all(brokers, t_out))
        seen["outage_s"] = time.monotonic() - t_fail

        set_max_message_bytes(brokers, t_out, None)
        t_open = time.monotonic()

        def caught_up():
            ids = {o.get("id") for o in outputs(brokers, t_out)}
            return set(transitions) <= ids

        # A status is due at every whole minute: within 70 s at least one
        # output is produced after the topic accepts them again.
        seen["caught_up"] = sc.wait_until(caught_up, 70, step=1)
        seen["catch_up_s"] = time.monotonic() - t_open if seen["caught_up"] else None
        seen["published"] = outputs(brokers, t_out)
        seen["type_headers"] = [(json.loads(m["payload"])["type"], m["headers"].get("type"))
                                for m in sc.consume_all(brokers, t_out)[1:]]
        seen["committed_after"] = sc.committed_offsets(group, t_in)
        seen["alive_after"] = run.alive()
        seen["stderr"] = run.stderr()
    finally:
        if run.alive():
            run.stop()
    sys.stderr.write(
        "unwritable output: outage %.1f s; RSS %d..%d KiB; %s of %d messages consumed "
        "during it (first..last sample); %s delivery failures; caught up: %s; "
        "after: %d outputs published, %d of %d transitions\n" % (
            seen["outage_s"], min(seen["rss_kib"]), max(seen["rss_kib"]),
            "%d..%d" % (seen["consumed"][0], seen["consumed"][-1]) if seen["consumed"] else "?",
            len(lines), seen["failures"],
            "%.1f s" % seen["catch_up_s"] if seen["caught_up"] else "no",
            len(seen["published"]),
            len(set(transitions) & {o.get("id") for o in seen["published"]}),
            len(transitions)))
    return seen


def test_unwritable_output_blocks_commits_with_bounded_memory(unwritable_run):
    seen = unwritable_run
    assert seen["failed"], seen["stderr"]
    assert "too large" in seen["stderr"].lower()
    assert seen["alive_during"] and seen["alive_after"], seen["stderr"]
    assert seen["failures"] and seen["failures"] > 0
    assert seen["committed_during"] == {}
    assert seen["in_topic_during"] == 1  # the marker only
    # Nothing is held for the refused outputs: memory does not grow.
    assert max(seen["rss_kib"]) < 100 * 1024, seen["rss_kib"]
    assert max(seen["rss_kib"]) - min(seen["rss_kib"]) < 8 * 1024, seen["rss_kib"]


def test_unwritable_output_catches_up_once_writable(unwritable_run):
    seen = unwritable_run
    ids = {o.get("id") for o in seen["published"]}
    assert set(seen["transitions"]) <= ids, sorted(set(seen["transitions"]) - ids)
    # Redelivered outputs carry the same type header as first deliveries.
    assert all(t == h for t, h in seen["type_headers"]), seen["type_headers"]
    assert ("rollback_trigger", "rollback_trigger") in seen["type_headers"]
    assert sum(seen["committed_after"].values()) == seen["lines"]
