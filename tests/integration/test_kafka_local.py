# needs: kafka
"""scripts/kafka-local and kafka_util against a real broker: topic creation,
produce and consume across partitions, ListOffsets by timestamp, consumer
group commits, and the script's own commands."""

import os
import subprocess
import time

import kafka_util as ku

LINES = 1000
PARTITIONS = 3


def test_round_trip_over_partitions():
    topic = ku.create_topic(ku.unique_topic("roundtrip"), PARTITIONS)
    lines = ["line %04d {\"n\": %d}" % (i, i) for i in range(LINES)]
    ku.produce_lines(topic, lines, partition=lambda i, _line: i % PARTITIONS)
    got = ku.consume_all(topic, timeout_s=60)
    assert len(got) == LINES
    assert sorted(m.value for m in got) == sorted(lines)
    by_part = {p: [m for m in got if m.partition == p] for p in range(PARTITIONS)}
    for p in range(PARTITIONS):
        # Line i went to partition i % 3, in order, so offsets count them.
        assert [m.value for m in by_part[p]] == lines[p::PARTITIONS]
        assert [m.offset for m in by_part[p]] == list(range(len(lines[p::PARTITIONS])))


def test_timestamps_keys_headers_and_list_offsets_by_time():
    topic = ku.create_topic(ku.unique_topic("bytime"), 1)
    base = 1_700_000_000_000
    stamps = [base + 1000 * i for i in range(10)]
    ku.produce_lines(topic, ["v%d" % i for i in range(10)], partition=0, timestamps_ms=stamps,
                     keys=["k%d" % i for i in range(10)], headers=[("origin", "test")])
    recs = ku.consume_records(topic)
    assert [r["ts"] for r in recs] == stamps
    assert [r["key"] for r in recs] == ["k%d" % i for i in range(10)]
    msgs = ku.consume_all(topic)
    assert msgs[3].headers == [("origin", "test")]
    # The first offset at or after a timestamp: exact hits and the gaps between.
    assert ku.offset_for_time(topic, 0, base) == 0
    assert ku.offset_for_time(topic, 0, base + 4000) == 4
    assert ku.offset_for_time(topic, 0, base + 4001) == 5
    assert ku.offset_for_time(topic, 0, base - 1) == 0
    # Past the last message the broker answers offset -1 (no such message).
    assert ku.offset_for_time(topic, 0, base + 60_000) == -1


def test_list_offsets_on_messages_stamped_now():
    topic = ku.create_topic(ku.unique_topic("bynow"), 1)
    ku.produce_lines(topic, ["before%d" % i for i in range(5)], partition=0)
    time.sleep(0.05)
    cut = int(time.time() * 1000)
    time.sleep(0.05)
    ku.produce_lines(topic, ["after%d" % i for i in range(7)], partition=0)
    assert ku.offset_for_time(topic, 0, cut) == 5


def test_consumer_group_commit_is_visible():
    topic = ku.create_topic(ku.unique_topic("group"), PARTITIONS)
    ku.produce_lines(topic, ["m%d" % i for i in range(30)], partition=lambda i, _l: i % 3)
    group = ku.unique_topic("grp")
    assert ku.committed_offsets(group, topic) == {}
    # A balanced consumer reads all 30 and commits them as it closes.
    proc = subprocess.run(
        ["kcat", "-C", "-q", "-b", ku.bootstrap(), "-G", group,
         "-X", "auto.offset.reset=earliest", "-X", "enable.auto.commit=true",
         "-X", "auto.commit.interval.ms=100", "-c", "30", topic],
        capture_output=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr.decode()
    assert len(proc.stdout.decode().splitlines()) == 30
    assert ku.committed_offsets(group, topic) == {0: 10, 1: 10, 2: 10}


def test_script_commands():
    boot = ku.bootstrap()
    env = dict(os.environ, KAFKA_LOCAL_BOOTSTRAP=boot)
    script = ku.SCRIPT
    topic = ku.create_topic(ku.unique_topic("script"), 2)
    # Creating it again with the same count is fine; another count is refused.
    ku.create_topic(topic, 2)
    again = subprocess.run([script, "create-topic", topic, "3"], capture_output=True, env=env,
                           timeout=60, check=False)
    assert again.returncode != 0
    assert b"another partition count" in again.stderr
    subprocess.run([script, "produce", topic, "1"], input=b"a\nb\nc\n", env=env, timeout=60,
                   check=True)
    out = subprocess.run([script, "consume", topic], capture_output=True, env=env, timeout=60,
                         check=True).stdout
    assert out.split() == [b"a", b"b", b"c"]
    assert {m.partition for m in ku.consume_all(topic)} == {1}
    if _ours(boot):
        status = subprocess.run([script, "status"], capture_output=True, timeout=30, check=True)
        assert status.stdout.decode().strip() == "BOOTSTRAP=" + boot
        # start on a running broker finds it instead of starting another.
        start = subprocess.run([script, "start"], capture_output=True, timeout=30, check=True)
        assert start.stdout.decode().strip() == "BOOTSTRAP=" + boot


def _ours(boot):
    status = subprocess.run([ku.SCRIPT, "status"], capture_output=True, timeout=30, check=False)
    return status.returncode == 0 and status.stdout.decode().strip() == "BOOTSTRAP=" + boot
