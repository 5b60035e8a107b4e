# needs: kafka
"""soakwatch run from Kafka posting to a real Alertmanager: the restart of
docs/operations.md ("Restart") does not fire again a rule the output topic
says is firing, so the restarted run posts that rule's alert from the
engine's firing state, with the same labels. Alertmanager then holds one
alert for the rule, with the first run's start, and the receiver saw one
firing notification; the resolution resolves it. The harness (Alertmanager
on free ports, the webhook receiver, the feed of events timestamped now)
is test_alertmanager.py's.
"""
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenarios as sc  # noqa: E402
import test_alertmanager as am_test  # noqa: E402

pytestmark = pytest.mark.skipif(not sc.have_kcat(), reason="kcat not installed")


class KafkaRun:
    """soakwatch run on Kafka, stderr kept in a file."""

    def __init__(self, tmp, cfg, args, name):
        self.err_path = os.path.join(str(tmp), name + ".err")
        self.err = open(self.err_path, "w")
        self.p = subprocess.Popen([sc.BIN, "run", "--config", str(cfg), *args],
                                  stdout=subprocess.DEVNULL, stderr=self.err)

    def stderr(self):
        self.err.flush()
        with open(self.err_path) as f:
            return f.read()


def outputs(brokers, topic):
    return [json.loads(m["payload"]) for m in sc.consume_all(brokers, topic)
            if m.get("payload")]


def trigger(outs, state):
    return [o for o in outs if o["type"] == "rollback_trigger" and o["rule"] == am_test.RULE
            and o["state"] == state]


def test_kafka_restart_posts_the_same_alert(tmp_path):
    if am_test.alertmanager_bin() is None:
        pytest.skip("prometheus-alertmanager (or alertmanager) not found on PATH")
    brokers = sc.bootstrap()
    t_in, t_out = sc.fresh_name("in-am"), sc.fresh_name("out-am")
    sc.create_topic(t_in, 1)
    sc.create_topic(t_out, 1)
    am_test.Hook.received = []
    hook = am_test.http.server.ThreadingHTTPServer(("127.0.0.1", 0), am_test.Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    am, am_port = am_test.start_alertmanager(tmp_path, hook.server_address[1])
    kcat = subprocess.Popen(["kcat", "-P", "-b", brokers, "-t", t_in, "-p", "0"],
                            stdin=subprocess.PIPE, text=True)
    feeder = am_test.Feeder()
    feeder.proc = kcat
    feeder.t.start()
    runs = []
    try:
        http_port = sc.free_port()
        cfg = am_test.soakwatch_config(tmp_path, am_port, http_port)
        args = ["--brokers", brokers, "--input-topic", t_in, "--output-topic", t_out,
                "--group", sc.fresh_name("g")]
        runs.append(KafkaRun(tmp_path, cfg, args, "run1"))
        fired = sc.wait_until(lambda: trigger(outputs(brokers, t_out), "firing"), 90, step=0.5)
        assert fired, runs[0].stderr()
        first = fired[0]
        got = sc.wait_until(lambda: am_test.notifications("firing"), 30)
        assert got, runs[0].stderr()
        am_test.check_firing(got[0][2], first, http_port)
        fingerprint = got[0][1]

        # Killed mid-incident; the restart publishes after what was published
        # and does not fire again: the alert comes from the engine's state.
        runs[0].p.send_signal(signal.SIGKILL)
        runs[0].p.wait(timeout=10)
        time.sleep(2)
        posts_before = am_test.am_alerts(am_port)[0]["updatedAt"]
        runs.append(KafkaRun(tmp_path, cfg, args, "run2"))
        assert sc.wait_until(lambda: am_test.posts_ok(http_port), 60), runs[1].stderr()
        alerts = sc.wait_until(
            lambda: [a for a in am_test.am_alerts(am_port) if a["updatedAt"] != posts_before],
            30)
        assert alerts and len(am_test.am_alerts(am_port)) == 1, am_test.am_alerts(am_port)
        assert alerts[0]["fingerprint"] == fingerprint
        # Posted from the engine's state: no firing of this run to name.
        assert "trigger_id" not in alerts[0]["annotations"], alerts[0]
        assert "firing since before soakwatch started" in alerts[0]["annotations"]["summary"]
        assert am_test.rfc3339_ms(alerts[0]["startsAt"]) == first["at_ms"]
        assert len(trigger(outputs(brokers, t_out), "firing")) == 1  # not fired again
        time.sleep(3)
        assert len(am_test.notifications("firing")) == 1, am_test.notifications("firing")

        feeder.errors = False
        resolved = sc.wait_until(lambda: trigger(outputs(brokers, t_out), "resolved"), 90,
                                 step=0.5)
        assert resolved, runs[1].stderr()
        done = sc.wait_until(lambda: am_test.notifications("resolved"), 30)
        assert done and done[0][1] == fingerprint, am_test.Hook.received
        assert am_test.rfc3339_ms(done[0][2]["endsAt"]) == resolved[0]["at_ms"]
        assert len(am_test.notifications("firing")) == 1
    finally:
        feeder.stop.set()
        for r in runs:
            if r.p.poll() is None:
                r.p.send_signal(signal.SIGTERM)
                try:
                    r.p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    r.p.kill()
        kcat.stdin.close()
        kcat.wait(timeout=30)
        am.terminate()
        am.wait(timeout=15)
        hook.shutdown()
    assert runs[-1].p.returncode == 0, runs[-1].stderr()
