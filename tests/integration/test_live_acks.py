"""soakwatch run on stdin with --control FILE: a latched trigger stays firing
after its condition clears until a line appended to the control file names
its id; the resolved event then says who acknowledged it. A bad control line
is refused with a one-line reason that does not quote it, both are counted
in /metrics, and run refuses a control file it cannot open.
"""
import json
import os
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenarios as sc  # noqa: E402

ENV = dict(os.environ, SOAKWATCH_BROKERS="")

# error_rate over 60 s above one half, from 5 outcomes on.
RULE = {"name": "errors_latched", "metric": "error_rate", "op": ">", "threshold": 0.5,
        "window_s": 60, "min_samples": 5}


def write_config(tmp_path, latch):
    path = tmp_path / ("latched.json" if latch else "unlatched.json")
    path.write_text(json.dumps({"rules": [dict(RULE, latch=latch)]}))
    return str(path)


def outcomes(start_ms, seconds, error):
    """Two requests and two outcomes per second from start_ms: all internal
    errors (error rate 1) or all successes (error rate 0)."""
    out = []
    for s in range(seconds):
        for k in range(2):
            ts = start_ms + s * 1000 + k * 400
            out.append(sc._ev(sc.REQ, ts, compressionStrategy="pending", targetMinutes=30))
            if error:
                out.append(sc._ev(sc.FB, ts + 100, durationMs=300, reason="internal_error",
                                  compressionStrategy="none"))
            else:
                out.append(sc._ev(sc.OK, ts + 100, durationMs=300, status=200,
                                  compressionStrategy="core_only", meetsTimeConstraint=True))
    return out


class Reader:
    """Non-blocking reader of a child's stdout, split into JSON lines."""

    def __init__(self, f):
        self.fd = f.fileno()
        os.set_blocking(self.fd, False)
        self.buf = b""
        self.events = []

    def poll(self):
        try:
            while True:
                chunk = os.read(self.fd, 1 << 16)
                if not chunk:
                    break
                self.buf += chunk
        except BlockingIOError:
            pass
        *lines, self.buf = self.buf.split(b"\n")
        self.events += [json.loads(x) for x in lines if x.strip()]
        return self.events


def triggers(events, state=None):
    return [e for e in events if e["type"] == "rollback_trigger"
            and (state is None or e["state"] == state)]


def test_ack_on_control_file_releases_latched_trigger(tmp_path):
    now = int(time.time()) * 1000
    t0 = now - 8 * 60 * 1000
    # 60 s of errors, then successes up to 30 s ago. The rule is judged from
    # T = t0 + 60 (its window t0 .. t0 + 59 fully seen: all errors, fires);
    # at t0 + 90 its window holds 30 s of errors and 30 s of successes, 0.5,
    # not above the threshold: an unlatched rule resolves there.
    before = outcomes(t0, 60, True) + outcomes(t0 + 60000, 6 * 60 + 30, False)

    # The same lines with latch off do resolve: the hold below is the latch's.
    plain = tmp_path / "before.jsonl"
    plain.write_text("\n".join(before) + "\n")
    r = subprocess.run([sc.BIN, "replay", "--config", write_config(tmp_path, False),
                        "--input", str(plain)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    unlatched = [json.loads(x) for x in r.stdout.splitlines()]
    assert [e["at_ms"] for e in triggers(unlatched, "firing")] == [t0 + 60000]
    assert [e["at_ms"] for e in triggers(unlatched, "resolved")] == [t0 + 90000]

    control = tmp_path / "acks.jsonl"
    control.write_text("")
    port = sc.free_port()
    p = subprocess.Popen([sc.BIN, "run", "--config", write_config(tmp_path, True),
                          "--control", str(control), "--http", "127.0.0.1:%d" % port],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=ENV)
    try:
        out = Reader(p.stdout)
        p.stdin.write(("\n".join(before) + "\n").encode())
        p.stdin.flush()
        # Every instant up to the last line's second minus the lateness is
        # evaluated: wait for the last status before it.
        last_status = ((now - 30000) // 60000) * 60000
        assert sc.wait_until(lambda: any(e["type"] == "status" and e["at_ms"] == last_status
                                         for e in out.poll()), 30), out.events
        fired = triggers(out.events, "firing")
        assert len(fired) == 1, out.events
        assert fired[0]["rule"] == "errors_latched" and fired[0]["latched"] is True
        assert fired[0]["at_ms"] == t0 + 60000
        assert fired[0]["id"] == "errors_latched:%d" % (t0 + 60000)
        assert triggers(out.events, "resolved") == []

        # A bad line (its text must not reach the log), an ack naming no
        # firing, then the ack of the firing, appended as an operator would.
        with open(control, "a") as f:
            f.write('{"type":"ack","id":"secret-garbage-\n')
            f.write(json.dumps({"type": "ack", "id": "errors_latched:1", "by": "mallory",
                                "ts": int(time.time() * 1000)}) + "\n")
            f.write(json.dumps({"type": "ack", "id": fired[0]["id"], "by": "alice",
                                "ts": int(time.time() * 1000)}) + "\n")
        acked_wall_s = int(time.time())

        # Live traffic from now on: the instants after the ack are evaluated.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not triggers(out.poll(), "resolved"):
            ts = int(time.time() * 1000)
            p.stdin.write(("\n".join(outcomes(ts, 1, False)) + "\n").encode())
            p.stdin.flush()
            time.sleep(0.25)
        resolved = triggers(out.events, "resolved")
        assert len(resolved) == 1, out.events[-5:]
        assert resolved[0]["rule"] == "errors_latched"
        assert resolved[0]["latched"] is False
        assert resolved[0]["acknowledged"] == {"id": fired[0]["id"], "by": "alice"}
        # Applied at live time, not at the long-evaluated instants of the
        # backlog: no earlier than the wall clock minus the lateness (2 s)
        # when it was written.
        assert resolved[0]["at_ms"] >= (acked_wall_s - 1 - 2) * 1000
        # Two acknowledgements taken (one naming no firing), one line refused.
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as r:
            metrics = r.read().decode().splitlines()
        assert "soakwatch_control_acks_total 2" in metrics
        assert "soakwatch_control_rejected_total 1" in metrics
    finally:
        p.stdin.close()
        rc = p.wait(timeout=30)
        err = p.stderr.read().decode()
    assert rc == 0, err
    refused = [x for x in err.splitlines() if "acknowledgement refused" in x]
    assert len(refused) == 1, err
    assert "line 1" in refused[0] and "not JSON" in refused[0]
    assert "secret-garbage" not in err


def test_run_control_file_errors(tmp_path):
    missing = str(tmp_path / "nope.jsonl")
    r = subprocess.run([sc.BIN, "run", "--control", missing], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=30, env=ENV)
    assert r.returncode == 2
    assert "cannot open control file" in r.stderr and missing in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1

    r = subprocess.run([sc.BIN, "run", "--brokers", "127.0.0.1:1", "--control", missing],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    assert r.returncode == 2
    assert "--control-topic" in r.stderr

    r = subprocess.run([sc.BIN, "run", "--control-topic", "acks"], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=30, env=ENV)
    assert r.returncode == 2
    assert "needs brokers" in r.stderr
