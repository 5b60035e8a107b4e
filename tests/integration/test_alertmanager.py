"""soakwatch run posting to a real Prometheus Alertmanager (Debian's
prometheus-alertmanager, started here on free ports) whose one receiver is
a webhook to a small HTTP server in this test that records what arrives.

Events are fed on stdin with timestamps of now: errors until the rule
fires, then (still erring) soakwatch is killed and started again, then
healthy traffic until the rule resolves. What must hold:
- the firing reaches the receiver with the rule's labels and annotations;
- the restart mid-incident posts the same labels again, so Alertmanager
  holds one alert for the rule, with the first run's start, and the
  receiver saw one firing notification for it (repeat_interval is an hour:
  any second notification would be a second alert or a changed group);
- the resolution resolves it: the receiver gets status "resolved";
- nothing turns the flag off, so each firing is not_verified after
  rollback.verify_within_s: one RollbackNotVerified alert for the rule,
  across the restart too, ended by the rule's baseline check;
- /metrics counts the POSTs.
"""
import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import datetime

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenarios as sc  # noqa: E402

ENV = dict(os.environ, SOAKWATCH_BROKERS="")
RULE = "errors_high"
NOT_VERIFIED = "RollbackNotVerified"
FEATURE = "feature.alertmanager_test"


def alertmanager_bin():
    for name in ("prometheus-alertmanager", "alertmanager"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Hook(http.server.BaseHTTPRequestHandler):
    received = []
    lock = threading.Lock()

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with Hook.lock:
            Hook.received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def notifications(status=None, name=RULE):
    """(status, fingerprint, alert) of every alert named name the webhook got."""
    with Hook.lock:
        got = list(Hook.received)
    out = []
    for n in got:
        for a in n["alerts"]:
            if a["labels"].get("alertname") == name and (status is None or a["status"] == status):
                out.append((n["status"], a["fingerprint"], a))
    return out


def am_alerts(port, name=RULE):
    url = f"http://127.0.0.1:{port}/api/v2/alerts?filter=alertname%3D%22{name}%22"
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read())


def rfc3339_ms(s):
    """Milliseconds of Alertmanager's RFC 3339 time (nanoseconds or not)."""
    head, _, frac = s.rstrip("Z").partition(".")
    ms = int((frac + "000")[:3]) if frac else 0
    return int(datetime.strptime(head, "%Y-%m-%dT%H:%M:%S").timestamp()) * 1000 + ms


class Feeder:
    """Writes 20 requests and 20 outcomes a second, timestamped now, to the
    current soakwatch's stdin: errors (internal_error fallbacks) or
    successes."""

    def __init__(self):
        self.proc = None
        self.errors = True
        self.stop = threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stop.is_set():
            now = int(time.time() * 1000)
            lines = []
            for k in range(4):
                ts = now + k
                lines.append(json.dumps({"event": sc.REQ, "ts": ts}))
                if self.errors:
                    lines.append(json.dumps({"event": sc.FB, "ts": ts, "durationMs": 100,
                                             "reason": "internal_error"}))
                else:
                    lines.append(json.dumps({"event": sc.OK, "ts": ts, "durationMs": 100,
                                             "status": 200, "compressionStrategy": "core_only",
                                             "meetsTimeConstraint": True}))
            p = self.proc
            if p is not None and p.poll() is None:
                try:
                    p.stdin.write("\n".join(lines) + "\n")
                    p.stdin.flush()
                except (BrokenPipeError, ValueError, OSError):
                    pass
            time.sleep(0.2)


class Soakwatch:
    """soakwatch run on stdin, its stdout collected line by line."""

    def __init__(self, tmp, cfg, name):
        self.err = open(os.path.join(str(tmp), name + ".err"), "w")
        self.p = subprocess.Popen([sc.BIN, "run", "--config", str(cfg)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=self.err, text=True, env=ENV)
        self.out = []
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        for line in self.p.stdout:
            self.out.append(json.loads(line))

    def trigger(self, state):
        return next((o for o in list(self.out) if o["type"] == "rollback_trigger"
                     and o["rule"] == RULE and o["state"] == state), None)


def write_am_config(tmp, hook_port):
    cfg = tmp / "alertmanager.yml"
    cfg.write_text(f"""global:
  resolve_timeout: 5m
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: http://127.0.0.1:{hook_port}/
        send_resolved: true
""")
    return cfg


def start_alertmanager(tmp, hook_port):
    binary = alertmanager_bin()
    if binary is None:
        pytest.skip("prometheus-alertmanager (or alertmanager) not found on PATH")
    port = sc.free_port()
    log = open(tmp / "alertmanager.log", "w")
    p = subprocess.Popen([binary, f"--config.file={write_am_config(tmp, hook_port)}",
                          f"--storage.path={tmp / 'am-data'}",
                          f"--web.listen-address=127.0.0.1:{port}",
                          "--cluster.listen-address="],
                         stdout=log, stderr=subprocess.STDOUT)

    def ready():
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=1) as r:
                return r.status == 200
        except OSError:
            return False
    assert sc.wait_until(ready, 30), (tmp / "alertmanager.log").read_text()
    return p, port


def soakwatch_config(tmp, am_port, http_port):
    cfg = tmp / "soakwatch.json"
    cfg.write_text(json.dumps({
        "feature": FEATURE,
        "rules": [{"name": RULE, "metric": "error_rate", "op": ">", "threshold": 0.5,
                   "window_s": 10, "min_samples": 20}],
        "status": {"interval_s": 5},
        # Nothing turns the flag off here: 5 s after each firing, not_verified.
        "rollback": {"verify_within_s": 5, "quiet_s": 5},
        "alertmanager": {"urls": [f"http://127.0.0.1:{am_port}"], "resend_s": 2,
                         "generator_url": f"http://127.0.0.1:{http_port}/status"},
        "http": {"listen": f"127.0.0.1:{http_port}"},
    }))
    return cfg


def posts_ok(http_port):
    """soakwatch_alertmanager_posts_total{result="ok"}, or None (not up yet)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/metrics", timeout=5) as r:
            text = r.read().decode()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith('soakwatch_alertmanager_posts_total{result="ok"}'):
            return int(float(line.split()[-1]))
    return None


def check_firing(alert, trigger, http_port):
    labels = alert["labels"]
    assert labels["alertname"] == RULE
    assert labels["feature"] == FEATURE
    assert labels["severity"] == "critical"
    ann = alert["annotations"]
    assert ann["trigger_id"] == trigger["id"]
    assert ann["action"] == "disable_flag"
    assert ann["summary"].startswith(f"{RULE} error_rate > 0.5: value ")
    assert "over 10 s" in ann["summary"]
    assert rfc3339_ms(alert["startsAt"]) == trigger["at_ms"]
    assert alert["generatorURL"] == f"http://127.0.0.1:{http_port}/status"


def test_alertmanager_firing_restart_resolution(tmp_path):
    if alertmanager_bin() is None:
        pytest.skip("prometheus-alertmanager (or alertmanager) not found on PATH")
    Hook.received = []
    hook = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    am, am_port = start_alertmanager(tmp_path, hook.server_address[1])
    feeder = Feeder()
    runs = []
    try:
        http_port = sc.free_port()
        cfg = soakwatch_config(tmp_path, am_port, http_port)
        runs.append(Soakwatch(tmp_path, cfg, "run1"))
        feeder.proc = runs[0].p
        feeder.t.start()

        # The firing reaches the receiver with the rule's labels and annotations.
        first = sc.wait_until(lambda: runs[0].trigger("firing"), 60)
        assert first, open(tmp_path / "run1.err").read()
        got = sc.wait_until(lambda: notifications("firing"), 30)
        assert got, "no firing notification"
        check_firing(got[0][2], first, http_port)
        fingerprint = got[0][1]
        assert sc.wait_until(lambda: (posts_ok(http_port) or 0) >= 2, 15)  # resent
        # Five seconds on, the flag not seen off: RollbackNotVerified, for the rule.
        nv = sc.wait_until(lambda: am_alerts(am_port, NOT_VERIFIED), 30)
        assert nv and len(nv) == 1, nv
        assert nv[0]["labels"] == {"alertname": NOT_VERIFIED, "rule": RULE, "feature": FEATURE,
                                   "severity": "critical"}
        assert nv[0]["annotations"]["action"] == "escalate"
        assert nv[0]["annotations"]["trigger_id"] == first["id"]

        # Killed mid-incident and started again, the errors going on: the new
        # run fires anew and posts the same labels.
        runs[0].p.kill()
        runs[0].p.wait(timeout=10)
        runs.append(Soakwatch(tmp_path, cfg, "run2"))
        feeder.proc = runs[1].p
        second = sc.wait_until(lambda: runs[1].trigger("firing"), 60)
        assert second, open(tmp_path / "run2.err").read()
        assert second["id"] != first["id"]

        def holds_second():
            a = am_alerts(am_port)
            return a if a and a[0]["annotations"].get("trigger_id") == second["id"] else None
        alerts = sc.wait_until(holds_second, 30)
        assert alerts and len(alerts) == 1, am_alerts(am_port)
        assert alerts[0]["fingerprint"] == fingerprint
        assert alerts[0]["status"]["state"] == "active"
        assert rfc3339_ms(alerts[0]["startsAt"]) == first["at_ms"]  # Alertmanager keeps the first
        time.sleep(3)  # group_interval x 3: a changed group would have been notified by now
        firing = notifications("firing")
        assert len(firing) == 1, firing
        assert {f for _, f, _ in notifications()} == {fingerprint}

        # Healthy again: the resolution resolves it.
        feeder.errors = False
        resolved = sc.wait_until(lambda: runs[1].trigger("resolved"), 60)
        assert resolved, open(tmp_path / "run2.err").read()
        done = sc.wait_until(lambda: notifications("resolved"), 30)
        assert done, Hook.received
        status, fp, alert = done[0]
        assert status == "resolved" and fp == fingerprint
        assert rfc3339_ms(alert["endsAt"]) == resolved["at_ms"]
        assert sc.wait_until(lambda: am_alerts(am_port) == [], 10), am_alerts(am_port)
        assert len(notifications("firing")) == 1
        # The rule's baseline check ends its RollbackNotVerified: one alert, resolved.
        assert sc.wait_until(lambda: notifications("resolved", NOT_VERIFIED), 30), Hook.received
        assert len({f for _, f, _ in notifications(name=NOT_VERIFIED)}) == 1
        assert am_alerts(am_port, NOT_VERIFIED) == []
        assert posts_ok(http_port) >= 1
    finally:
        feeder.stop.set()
        for r in runs:
            if r.p.poll() is None:
                r.p.send_signal(signal.SIGTERM)
                try:
                    r.p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    r.p.kill()
        am.terminate()
        am.wait(timeout=15)
        hook.shutdown()
    assert runs[-1].p.returncode == 0


def am_received(port, status):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(f'alertmanager_alerts_received_total{{status="{status}",version="v2"}}'):
                return int(float(line.split()[-1]))
    return 0


def test_end_of_input_posts_the_last_states(tmp_path):
    """A finite input read in one go: at its end soakwatch posts the state
    each alert was left in (here every firing resolved, and each
    not_verified ended by its baseline) before it exits."""
    if alertmanager_bin() is None:
        pytest.skip("prometheus-alertmanager (or alertmanager) not found on PATH")
    am, am_port = start_alertmanager(tmp_path, sc.free_port())
    try:
        start = (int(time.time() * 1000) - 50 * 60 * 1000) // 1000 * 1000
        path = tmp_path / "in.jsonl"
        path.write_text("\n".join(sc.error_burst(start)) + "\n")
        cfg = tmp_path / "soakwatch.json"
        cfg.write_text(json.dumps({"alertmanager": {"urls": [f"http://127.0.0.1:{am_port}"]}}))
        with open(path) as f:
            r = subprocess.run([sc.BIN, "run", "--config", str(cfg)], stdin=f,
                               capture_output=True, text=True, timeout=60, env=ENV)
        assert r.returncode == 0, r.stderr
        outs = [json.loads(x) for x in r.stdout.splitlines()]
        resolved = {o["rule"] for o in outs
                    if o["type"] == "rollback_trigger" and o["state"] == "resolved"}
        baselines = {o["rule"] for o in outs
                     if o["type"] == "rollback_check" and o["state"] == "baseline"}
        not_verified = {o["rule"] for o in outs
                        if o["type"] == "rollback_check" and o["state"] == "not_verified"}
        assert resolved and not_verified <= baselines
        assert am_received(am_port, "resolved") == len(resolved) + len(not_verified)
        assert am_received(am_port, "firing") == 0  # the latest state wins
    finally:
        am.terminate()
        am.wait(timeout=15)
