# needs: kafka
"""Restart without loss: soakwatch run killed with SIGKILL in the middle of
an incident, then started again, publishes (over both runs, by id) every
output of an undisturbed run and nothing else.

The undisturbed run is the file replay of the whole scenario (see
test_live_scenarios.py for why live equals file replay on these inputs, and
for the status marker that makes the first run publish from the scenario's
start). The first half of an error burst, ending inside the incident, is
produced; the first run publishes the firing and is killed at once, before
the idle clock could move past the input (it waits idle_timeout_s after the
last message). The second half is produced while it is down; the second run
rebuilds its windows from the input topic, learns from the output topic what
was published last, and publishes from the instant after it. Statuses have
no id: they are keyed by their instant.
"""
import json
import os
import signal
import sys
import time
import urllib.request

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenarios as sc  # noqa: E402

pytestmark = pytest.mark.skipif(not sc.have_kcat(), reason="kcat not installed")


def ready(port):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/readyz" % port, timeout=1) as r:
            return r.status == 200
    except OSError:
        return False


def test_kill9_mid_incident_then_restart(tmp_path):
    brokers = sc.bootstrap()
    span = sc.span_ms("error_burst")
    start = (int(time.time() * 1000) - span - 20000) // 1000 * 1000
    lines = sc.error_burst(start)
    path = tmp_path / "burst.jsonl"
    path.write_text("\n".join(lines) + "\n")
    want = sc.file_replay(str(path))
    last = sc.max_second(lines)
    cut_ms = start + 35 * 60 * 1000  # inside the burst (minutes 32 to 38)
    first = [x for x in lines if json.loads(x)["ts"] < cut_ms]
    second = lines[len(first):]

    t_in, t_out = sc.fresh_name("in-rs"), sc.fresh_name("out-rs")
    sc.create_topic(t_in, 3)
    sc.create_topic(t_out, 1)
    sc.produce_lines(brokers, t_in, first, 3)
    sc.produce_lines(brokers, t_out, [sc.status_marker(start - 60000)], 1)
    group = sc.fresh_name("g")
    args = ["--brokers", brokers, "--input-topic", t_in, "--output-topic", t_out,
            "--group", group]

    def outputs():
        return [json.loads(m["payload"]) for m in sc.consume_all(brokers, t_out)[1:]]

    run1 = sc.Run(tmp_path, args, "run1")
    fired = sc.wait_until(lambda: any(o.get("state") == "firing" for o in outputs()), 60,
                          step=0.1)
    run1.p.send_signal(signal.SIGKILL)
    run1.p.wait()
    assert fired, run1.stderr()
    n_first = len(outputs())

    # The second half arrives while soakwatch is down.
    sc.produce_lines(brokers, t_in, second, 3)
    port = sc.free_port()
    t0 = time.monotonic()
    run2 = sc.Run(tmp_path, args + ["--http", "127.0.0.1:%d" % port], "run2")
    assert sc.wait_until(lambda: ready(port), 60, step=0.05), run2.stderr()
    time_to_ready = time.monotonic() - t0

    want_keys = {sc.output_key(json.loads(w)): w for w in want}

    def in_range():
        return [o for o in outputs() if o["at_ms"] // 1000 <= last + 1]

    sc.wait_until(lambda: {sc.output_key(o) for o in in_range()} >= set(want_keys), 90)
    time.sleep(1)
    rc, took = run2.stop()
    assert rc == 0, run2.stderr()
    assert took < 10

    got = in_range()
    union = {}
    for o in got:
        union.setdefault(sc.output_key(o), o)
    # Every transition and status of the undisturbed run, nothing else.
    assert set(union) == set(want_keys)
    for k, o in union.items():
        assert o == json.loads(want_keys[k]), k
    # Duplicates are the same event again (same id, same content).
    for o in got:
        assert o == union[sc.output_key(o)]
    dups = len(got) - len(union)
    sys.stderr.write("restart: ready after %.2f s; %d outputs (%d before the kill), "
                     "%d duplicates\n" % (time_to_ready, len(got), n_first, dups))
    assert time_to_ready < 30
