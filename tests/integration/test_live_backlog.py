# needs: kafka
"""A backlog read live, with partitions far apart in event time, publishes
exactly what a file replay of the same events writes.

An incident of 30 minutes at 100 requests a second (about 370 000 events) is
on a 3-partition topic before soakwatch starts, unevenly: eight events in
ten on partition 0, one on each of the others, each partition in time
order. A fetch brings up to the same number of bytes of every partition, so
partitions 1 and 2 arrive minutes of event time ahead of partition 0 and
fill their staging rings: they are paused, the messages of theirs already
taken from librdkafka wait for room, and the reading goes on with partition
0. librdkafka's prefetch queue fills and empties many times over. None of
it may lose, repeat or reorder an event: the outputs must equal the file
replay's byte for byte (the comparison of test_live_scenarios.py), no event
may be late, everything must be committed, and the pause path must have
been taken (soakwatch_input_pauses_total > 0), or the test proves nothing.
"""
import json
import os
import random
import subprocess
import sys
import time
import urllib.request

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenarios as sc  # noqa: E402

pytestmark = pytest.mark.skipif(not sc.have_kcat(), reason="kcat not installed")

PER_S = 100


def incident(start_ms):
    """Healthy 20 min, 6 min with 35% internal errors, healthy 4 min."""
    rng = random.Random(7)
    out = []
    t = sc._traffic(rng, out, start_ms, 20 * 60, PER_S)
    t = sc._traffic(rng, out, t, 6 * 60, PER_S, error_p=0.35)
    sc._traffic(rng, out, t, 4 * 60, PER_S)
    return out


def metrics(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
        body = r.read().decode()
    out = {}
    for line in body.splitlines():
        if line and not line.startswith("#"):
            k, _, v = line.rpartition(" ")
            out[k] = float(v)
    return out


def test_skewed_backlog_equals_file_replay(tmp_path):
    brokers = sc.bootstrap()
    start = (int(time.time() * 1000) - 30 * 60 * 1000 - 15000) // 1000 * 1000
    lines = incident(start)
    path = tmp_path / "incident.jsonl"
    path.write_text("\n".join(lines) + "\n")
    want = sc.file_replay(str(path))
    assert any('"rollback_trigger"' in w for w in want), "the incident fires nothing"
    last = sc.max_second(lines)

    t_in, t_out = sc.fresh_name("in-backlog"), sc.fresh_name("out-backlog")
    sc.create_topic(t_in, 3)
    sc.create_topic(t_out, 1)
    parts = {0: [], 1: [], 2: []}
    for i, x in enumerate(lines):
        parts[0 if i % 10 < 8 else i % 10 - 7].append(x)
    for p, part in parts.items():
        subprocess.run(["kcat", "-P", "-b", brokers, "-t", t_in, "-p", str(p)],
                       input="\n".join(part) + "\n", text=True, check=True, timeout=300)
    sc.produce_lines(brokers, t_out, [sc.status_marker(start - 60000)], 1)

    group = sc.fresh_name("g")
    port = sc.free_port()
    t0 = time.monotonic()
    run = sc.Run(tmp_path, ["--brokers", brokers, "--input-topic", t_in,
                            "--output-topic", t_out, "--group", group,
                            "--http", "127.0.0.1:%d" % port])

    def read_all():
        try:
            return metrics(port).get("soakwatch_messages_total", 0) >= len(lines)
        except OSError:
            return False

    assert sc.wait_until(read_all, 120, step=0.1), run.stderr()
    took = time.monotonic() - t0

    def published():
        msgs = sc.consume_all(brokers, t_out)[1:]  # the marker first
        return [m["payload"] for m in msgs
                if json.loads(m["payload"])["at_ms"] // 1000 <= last + 1]

    got = sc.wait_until(lambda: len(published()) >= len(want) and published(), 90)
    time.sleep(1)
    got = published()
    m = metrics(port)
    assert run.alive(), run.stderr()
    rc, _ = run.stop()
    assert rc == 0, run.stderr()
    assert m["soakwatch_events_late_total"] == 0
    assert m["soakwatch_input_pauses_total"] > 0, "no partition was paused: nothing was tested"
    assert got == want

    ends = {p: len(part) for p, part in parts.items()}
    assert sc.wait_until(lambda: sc.committed_offsets(group, t_in) == ends, 30)
    sys.stderr.write("skewed backlog: %d events read in %.1f s (from start); %d pauses, "
                     "%d fetcher wake-ups; %d outputs equal to the file replay\n" % (
                         len(lines), took, m["soakwatch_input_pauses_total"],
                         m["soakwatch_fetch_wakeups_total"], len(want)))
