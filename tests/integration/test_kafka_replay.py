# needs: kafka
"""soakwatch replay of a recorded topic writes, byte for byte, what a file
replay of the same events writes at the same instants.

The file is produced round-robin to a 3-partition topic. Its events never go
back in time (scenarios.py), so the merge by event time feeds the engine the
same seconds as the file. The replay from Kafka starts reading a warm-up of
the longest window before --from (record timestamps are the time of
producing, so it reads the whole topic), and writes only instants in
[--from, --to]: the file replay's lines with at_ms in that range.
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
def recorded(tmp_path_factory):
    brokers = sc.bootstrap()
    tmp = tmp_path_factory.mktemp("kr")
    start = (int(time.time() * 1000) - 3 * 3600 * 1000) // 1000 * 1000
    lines = sc.error_burst(start)
    path = tmp / "burst.jsonl"
    path.write_text("\n".join(lines) + "\n")
    topic = sc.fresh_name("rec")
    sc.create_topic(topic, 3)
    sc.produce_lines(brokers, topic, lines, 3)
    return brokers, topic, str(path), start, sc.file_replay(str(path))


def kafka_replay(brokers, topic, *args):
    r = subprocess.run([sc.BIN, "replay", "--brokers", brokers, "--topic", topic,
                        *args], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    # stderr is not a terminal here: one summary line, no progress.
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    return r.stdout.splitlines()


def between(lines, lo_ms, hi_ms):
    return [x for x in lines if lo_ms <= json.loads(x)["at_ms"] and
            (hi_ms is None or json.loads(x)["at_ms"] <= hi_ms)]


def test_from_to_equals_file_replay(recorded):
    brokers, topic, _, start, want = recorded
    lo = start + 31 * 60 * 1000 + 500   # rounded up to the next second
    hi = start + 40 * 60 * 1000
    got = kafka_replay(brokers, topic, "--from", str(lo), "--to", str(hi))
    exp = between(want, lo, hi)
    assert any('"firing"' in x and "rollback_trigger" in x for x in exp)
    assert got == exp


def test_from_to_end_of_topic(recorded):
    brokers, topic, _, start, want = recorded
    lo = start + 36 * 60 * 1000
    got = kafka_replay(brokers, topic, "--from", str(lo))
    exp = between(want, lo, None)
    assert any('"resolved"' in x for x in exp)
    assert got == exp


def test_whole_topic(recorded):
    brokers, topic, _, start, want = recorded
    assert kafka_replay(brokers, topic, "--from", str(start)) == want


def test_a_corrupt_timestamp_holds_back_nothing(tmp_path):
    """The bundled recording (messy on purpose) over 3 partitions: one event
    stamped 2099, out of range, does not hold its partition back behind it
    until the others are read (which would make the rest of that partition
    late): replay from the topic writes what the file replay writes, with
    the same summary line."""
    brokers = sc.bootstrap()
    path = os.path.join(sc.SRC, "examples", "incident.jsonl.gz")
    f = subprocess.run([sc.BIN, "replay", "--input", path], capture_output=True, text=True,
                       timeout=300)
    assert f.returncode == 0, f.stderr
    lines = subprocess.run(["zcat", path], capture_output=True, text=True,
                           check=True).stdout.splitlines()
    assert any('"ts":"2099-' in x for x in lines)
    topic = sc.fresh_name("messy")
    sc.create_topic(topic, 3)
    sc.produce_lines(brokers, topic, lines, 3)
    r = subprocess.run([sc.BIN, "replay", "--brokers", brokers, "--topic", topic,
                        "--from", "2026-11-20T00:00:00Z"], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stderr.splitlines()[-1] == f.stderr.splitlines()[-1]
    assert " 1 late;" in r.stderr
    assert r.stdout == f.stdout


def test_unknown_topic_fails_clearly(recorded):
    brokers = recorded[0]
    r = subprocess.run([sc.BIN, "replay", "--brokers", brokers, "--topic",
                        sc.fresh_name("absent"), "--from", "0"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode != 0
    assert "absent" in r.stderr
