# needs: kafka
"""At least once: input offsets are committed only behind acknowledged
outputs. With an output topic that refuses every output (its
max.message.bytes is smaller than any output event), deliveries fail, each
is counted and logged with the broker's reason, soakwatch keeps running,
and no input offset is ever committed, not even at shutdown.
"""
import json
import os
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenarios as sc  # noqa: E402

pytestmark = pytest.mark.skipif(not sc.have_kcat(), reason="kcat not installed")


def test_failed_delivery_blocks_commits(tmp_path):
    brokers = sc.bootstrap()
    span = sc.span_ms("healthy")
    start = (int(time.time() * 1000) - span - 15000) // 1000 * 1000
    lines = sc.healthy(start)
    t_in, t_out = sc.fresh_name("in-dl"), sc.fresh_name("out-tiny")
    sc.create_topic(t_in, 3)
    sc.kafka_local("tool", "org.apache.kafka.tools.TopicCommand", "--bootstrap-server",
                   brokers, "--create", "--topic", t_out, "--partitions", "1",
                   "--config", "max.message.bytes=200")
    sc.produce_lines(brokers, t_in, lines, 3)
    # The marker (under 200 bytes) makes it publish from the scenario start.
    sc.produce_lines(brokers, t_out, [sc.status_marker(start - 60000)], 1)
    group = sc.fresh_name("g")
    run = sc.Run(tmp_path, ["--brokers", brokers, "--input-topic", t_in,
                            "--output-topic", t_out, "--group", group])
    failed = sc.wait_until(lambda: "delivery of an output event failed" in run.stderr(),
                           60)
    assert failed, run.stderr()
    # librdkafka's text for the broker's refusal is in the line.
    assert "too large" in run.stderr().lower(), run.stderr()
    time.sleep(3)  # three commit ticks
    assert run.alive(), run.stderr()
    assert sc.committed_offsets(group, t_in) == {}
    rc, took = run.stop()
    assert rc == 0, run.stderr()
    assert took < 10
    assert sc.committed_offsets(group, t_in) == {}
    assert len(sc.consume_all(brokers, t_out)) == 1  # the marker only


def test_sigterm_exits_zero_within_ten_seconds_with_broker_gone(tmp_path):
    """A broker of its own, stopped under a running soakwatch: SIGTERM still
    ends it with status 0 within 10 s."""
    env = dict(os.environ, KAFKA_LOCAL_DIR=str(tmp_path / "kafka"))
    brokers = sc.bootstrap(env)
    try:
        t_in, t_out = "in-term", "out-term"
        sc.create_topic(t_in, 3, env)
        sc.create_topic(t_out, 1, env)
        now = int(time.time() * 1000) // 1000 * 1000
        sc.produce_lines(brokers, t_in, sc.healthy(now - 120000, minutes=2), 3)
        run = sc.Run(tmp_path, ["--brokers", brokers, "--input-topic", t_in,
                                "--output-topic", t_out, "--group", "g-term"])
        time.sleep(4)
        assert run.alive(), run.stderr()
        sc.kafka_local("stop", env=env)
        time.sleep(3)
        rc, took = run.stop()
        assert rc == 0, run.stderr()
        assert took < 10
    finally:
        sc.kafka_local("stop", env=env)


def test_broker_restart_during_run(tmp_path):
    """The broker restarted under a running soakwatch: it does not crash,
    reads what is produced afterwards, commits it, and publishes again."""
    env = dict(os.environ, KAFKA_LOCAL_DIR=str(tmp_path / "kafka"))
    brokers = sc.bootstrap(env)
    try:
        t_in, t_out = "in-rb", "out-rb"
        sc.create_topic(t_in, 3, env)
        sc.create_topic(t_out, 1, env)
        now = int(time.time() * 1000) // 1000 * 1000
        first = sc.healthy(now - 240000, minutes=4)
        sc.produce_lines(brokers, t_in, first, 3)
        run = sc.Run(tmp_path, ["--brokers", brokers, "--input-topic", t_in,
                                "--output-topic", t_out, "--group", "g-rb"])
        assert sc.wait_until(lambda: sc.committed_offsets("g-rb", t_in, env), 60)
        sc.kafka_local("restart-broker", env=env)
        t_back = int(time.time() * 1000)
        # Fresh events (now) after the restart; outputs follow from them
        # and from the idle clock's statuses at the next whole minutes.
        now2 = int(time.time() * 1000)
        second = [sc._ev(sc.REQ, now2 + i * 100, compressionStrategy="pending")
                  for i in range(50)]
        sc.produce_lines(brokers, t_in, second, 3)
        total = len(first) + len(second)
        assert sc.wait_until(
            lambda: sum(sc.committed_offsets("g-rb", t_in, env).values()) == total, 120), \
            run.stderr()
        assert run.alive(), run.stderr()
        assert sc.wait_until(lambda: any(
            json.loads(m["payload"])["at_ms"] > t_back
            for m in sc.consume_all(brokers, t_out)), 90), run.stderr()
        rc, took = run.stop()
        assert rc == 0, run.stderr()
    finally:
        sc.kafka_local("stop", env=env)
