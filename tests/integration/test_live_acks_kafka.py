# needs: kafka
"""soakwatch run from Kafka with --control-topic: the control topic is read
from its end at start, so an acknowledgement already there does not release
a latched trigger; one produced while running does, and the resolved event
on the output topic says who gave it. An unparseable control message is
refused with a one-line reason that does not quote it, and ignored.
"""
import json
import os
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenarios as sc  # noqa: E402
import test_live_acks as la  # noqa: E402

pytestmark = pytest.mark.skipif(not sc.have_kcat(), reason="kcat not installed")


def test_ack_on_control_topic_releases_latched_trigger(tmp_path):
    brokers = sc.bootstrap()
    now = int(time.time()) * 1000
    t0 = now - 8 * 60 * 1000
    # As in test_live_acks: fires at t0 + 60 s, and an unlatched rule would
    # resolve at t0 + 90 s.
    lines = la.outcomes(t0, 60, True) + la.outcomes(t0 + 60000, 6 * 60 + 30, False)
    fired_id = "errors_latched:%d" % (t0 + 60000)
    t_in, t_out, t_ctl = (sc.fresh_name(p) for p in ("in-ack", "out-ack", "ctl-ack"))
    sc.create_topic(t_in, 2)
    sc.create_topic(t_out, 1)
    sc.create_topic(t_ctl, 2)
    sc.produce_lines(brokers, t_in, lines, 2)
    # Published earlier, nothing firing: soakwatch publishes every instant
    # after it, the firing at t0 + 60 s included.
    sc.produce_lines(brokers, t_out, [sc.status_marker(t0 - 60000)], 1)
    # An acknowledgement from before the start: not an instruction for now.
    early = json.dumps({"type": "ack", "id": fired_id, "by": "early-bird",
                        "ts": int(time.time() * 1000)})
    sc.produce_lines(brokers, t_ctl, [early, early], 2)

    run = sc.Run(tmp_path, ["--config", la.write_config(tmp_path, True), "--brokers", brokers,
                            "--input-topic", t_in, "--output-topic", t_out,
                            "--group", sc.fresh_name("g"), "--control-topic", t_ctl])

    def published():
        return [json.loads(m["payload"]) for m in sc.consume_all(brokers, t_out)[1:]]

    try:
        # Read to the end, idle, and the idle clock at the wall clock: the
        # status of the current minute is out (or, within 3 s of a new
        # minute, that of the one before).
        last_status = ((now + 3000) // 60000) * 60000 - 60000
        assert sc.wait_until(lambda: any(o["type"] == "status" and o["at_ms"] >= last_status
                                         for o in published()), 60), run.stderr()
        time.sleep(3)  # past the lateness: instants after the start are evaluated
        out = published()
        fired = la.triggers(out, "firing")
        assert [o["id"] for o in fired] == [fired_id], run.stderr()
        assert fired[0]["latched"] is True
        assert la.triggers(out, "resolved") == [], run.stderr()

        sc.produce_lines(brokers, t_ctl, ['{"type":"ack","id":"secret-garbage-'], 1)
        sc.produce_lines(brokers, t_ctl, [json.dumps(
            {"type": "ack", "id": fired_id, "by": "alice", "ts": int(time.time() * 1000)})], 1)
        acked_wall_s = int(time.time())
        resolved = sc.wait_until(lambda: la.triggers(published(), "resolved"), 30)
        assert resolved, run.stderr()
        assert len(resolved) == 1
        assert resolved[0]["acknowledged"] == {"id": fired_id, "by": "alice"}
        assert resolved[0]["latched"] is False
        assert resolved[0]["at_ms"] >= (acked_wall_s - 1 - 2) * 1000
        assert run.alive(), run.stderr()
    finally:
        rc, took = run.stop()
    err = run.stderr()
    assert rc == 0, err
    assert took < 10
    refused = [x for x in err.splitlines() if "acknowledgement refused" in x]
    assert len(refused) == 1, err
    assert ("control topic %s/0" % t_ctl) in refused[0] and "not JSON" in refused[0]
    assert "secret-garbage" not in err
