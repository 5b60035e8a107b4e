"""soakwatch run with no brokers: JSON Lines on stdin, output events on
stdout. At end of input it writes what a file replay of the same lines
writes; a line over the size cap is rejected as too large and the next line
is read normally; SIGTERM ends it with status 0 at once; silence on an open
stdin moves the watermark with the wall clock (the idle clock).
"""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenarios as sc  # noqa: E402

ENV = dict(os.environ, SOAKWATCH_BROKERS="")


def test_stdin_equals_file_replay(tmp_path):
    start = (int(time.time() * 1000) - 50 * 60 * 1000) // 1000 * 1000
    lines = sc.error_burst(start)
    # One line over the 64 KiB cap in the middle, then valid lines again.
    big = '{"event":"x","pad":"%s"}' % ("a" * 70000)
    lines = lines[:5000] + [big] + lines[5000:]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(lines) + "\n")
    want = sc.file_replay(str(path))
    with open(path) as f:
        r = subprocess.run([sc.BIN, "run"], stdin=f, capture_output=True, text=True,
                           timeout=120, env=ENV)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == want
    assert any("rollback_trigger" in x for x in want)
    assert "too_large 1" in r.stderr, r.stderr


def test_idle_clock_and_sigterm(tmp_path):
    """Requests up to a few seconds ago, then silence on an open pipe: the
    status of the next whole minute appears without any new line, and
    SIGTERM then exits 0 within 10 s."""
    now = int(time.time() * 1000)
    # Data from 100 s to 40 s ago: the first status (T >= t0 + 60, a
    # multiple of 60) lies past the last event's watermark, so only the
    # idle clock can reach it.
    lines = [json.dumps({"event": sc.REQ, "ts": now - 100000 + i * 500})
             for i in range(121)]
    first = now - 100000
    last_s = (now - 40000) // 1000
    p = subprocess.Popen([sc.BIN, "run"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=ENV)
    p.stdin.write("\n".join(lines) + "\n")
    p.stdin.flush()
    os.set_blocking(p.stdout.fileno(), False)
    due = ((first // 1000 + 60 + 59) // 60) * 60  # first status instant
    assert due > last_s - 2
    got = ""
    t_end = time.monotonic() + max(due - time.time(), 0) + 15
    while time.monotonic() < t_end and '"type":"status"' not in got:
        time.sleep(0.5)
        try:
            got += os.read(p.stdout.fileno(), 1 << 16).decode()
        except BlockingIOError:
            pass
    assert '"type":"status"' in got, got
    st = json.loads(got.splitlines()[0])
    assert st["at_ms"] == due * 1000
    t0 = time.monotonic()
    p.send_signal(signal.SIGTERM)
    rc = p.wait(timeout=15)
    assert rc == 0
    assert time.monotonic() - t0 < 10
