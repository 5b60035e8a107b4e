"""No planId or userId value ever reaches an output event, a metric or a log
line. Events carry distinctive personal values, also smuggled into the
fields that soakwatch does echo (reason, strategy, event name) and into
malformed lines that are rejected; nothing of them may come out."""
import json
import os
import subprocess
import urllib.request

BIN = os.environ.get("SOAKWATCH_BIN", "build/soakwatch")
SECRETS = ["plan-SECRET-4711", "user-SECRET-0815", "SECRET"]


def events():
    base = 1795161600000
    out = []
    for i in range(4000):
        ts = base + i * 250
        kind = ["requested", "succeeded", "fallback", "declined"][i % 4]
        ev = {"event": f"stream5.time_crunch_preview_{kind}", "ts": ts,
              "planId": "plan-SECRET-4711", "userId": "user-SECRET-0815",
              "targetMinutes": 45, "source": "gateway-bff"}
        if kind in ("succeeded", "fallback"):
            ev["durationMs"] = 100 + i % 900
        if kind == "fallback":
            # A producer bug: personal data where a reason belongs.
            ev["reason"] = "user-SECRET-0815" if i % 8 == 2 else "internal_error"
        if kind == "succeeded":
            ev["compressionStrategy"] = "plan-SECRET-4711" if i % 12 == 1 else "core_only"
        out.append(json.dumps(ev))
    out.append('{"event":"user-SECRET-0815","ts":1795161600000}')           # unknown name
    out.append('{"event":"stream5.time_crunch_preview_succeeded","ts":"plan-SECRET-4711"}')
    out.append('{"planId":"plan-SECRET-4711", broken json')
    out.append('{"event":"stream5.time_crunch_preview_fallback","ts":1795161600000,'
               '"durationMs":-1,"userId":"user-SECRET-0815"}')
    return "\n".join(out) + "\n"


def assert_clean(text, where):
    for s in SECRETS:
        assert s not in text, f"{s!r} leaked into {where}"


def test_replay_outputs_and_logs_hold_no_personal_data(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(events())
    for fmt in ("json", "text"):
        p = subprocess.run([BIN, "replay", "--input", str(src), "--format", fmt],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        # The test means something only if outputs were produced and the
        # bad lines were seen.
        assert p.stdout.count("\n") > 10
        assert "rejected" in p.stderr and "ignored" in p.stderr
        assert_clean(p.stdout, f"{fmt} output")
        assert_clean(p.stderr, f"{fmt} log")
    # The smuggled reason/strategy were counted, under "other".
    last_status = [json.loads(l) for l in subprocess.run(
        [BIN, "replay", "--input", str(src)], capture_output=True, text=True,
        timeout=60).stdout.splitlines() if '"status"' in l][-1]
    assert last_status["windows"]["1800"]["fallback_reasons"].get("other", 0) > 0
    assert last_status["windows"]["1800"]["strategies"].get("other", 0) > 0


def test_metrics_status_and_run_logs_hold_no_personal_data(tmp_path):
    """soakwatch run (stdin mode) serving /metrics and /status while the
    same events go through: nothing personal in the scrape, the status
    document or the process's own output."""
    import socket
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path / "run.log"
    with open(log, "w") as err:
        p = subprocess.Popen([BIN, "run", "--http", f"127.0.0.1:{port}"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err)
        try:
            p.stdin.write(events().encode())
            p.stdin.flush()

            def get(path):
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
                    return r.read().decode()

            deadline = time.monotonic() + 30
            metrics = ""
            while time.monotonic() < deadline:
                try:
                    metrics = get("/metrics")
                    if "soakwatch_events_total" in metrics and 'window="1800"' in metrics:
                        break
                except OSError:
                    pass
                time.sleep(0.2)
            status = get("/status")
            assert "soakwatch_events_rejected_total" in metrics
            assert '"type":"status"' in status
            assert_clean(metrics, "/metrics")
            assert_clean(status, "/status")
            # The smuggled values were counted under "other", not as labels.
            assert 'reason="other"' in metrics and 'strategy="other"' in metrics
        finally:
            p.stdin.close()
            out = p.stdout.read().decode()
            p.wait(timeout=20)
    assert out.count("\n") > 10
    assert_clean(out, "run output")
    assert_clean(log.read_text(), "run log")
