"""Coverage from the watch start (docs/semantics.md section 3, live mode):
`soakwatch replay --start TIME` computes what a live run that started
watching at TIME computes, and the independent reference agrees, clause by
clause, with the answers worked out by hand."""

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import reference  # noqa: E402

SRC = Path(os.environ.get("SOAKWATCH_SRC", HERE.parent.parent))
BIN = os.environ.get("SOAKWATCH_BIN", str(SRC / "build" / "soakwatch"))
W0 = 1795161600  # 2026-11-20T08:00:00Z
EV = "stream5.time_crunch_preview_"


def line(kind, sec, **kw):
    doc = {"event": EV + kind, "ts": (W0 + sec) * 1000}
    doc.update(kw)
    return json.dumps(doc)


def soakwatch(lines, start_s, tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text("".join(x + "\n" for x in lines))
    p = subprocess.run([BIN, "replay", "--input", str(path), "--start", str(start_s * 1000)],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return [json.loads(x) for x in p.stdout.splitlines()], p.stderr


def both(lines, start_s, tmp_path):
    got, err = soakwatch(lines, start_s, tmp_path)
    want = reference.replay([x.encode() for x in lines], None, start_s)
    diffs = reference.compare(want.outputs, got)
    assert not diffs, "\n".join(diffs)
    assert err.strip().endswith(reference.summary_line(want.summary)), err
    return got


def test_silence_from_the_start_fires_zero_requests(tmp_path):
    # Watching from W0; the first request comes 1900 s later. zero_requests
    # (1800 s, == 0) is first evaluated at W0 + 1800 and holds: it fires
    # there, and resolves at W0 + 1901 once the request is in its window.
    out = both([line("requested", 1900)], W0, tmp_path)
    trig = [(o["rule"], o["state"], o["at_ms"] // 1000 - W0) for o in out
            if o["type"] == "rollback_trigger"]
    assert trig == [("zero_requests", "firing", 1800), ("zero_requests", "resolved", 1901)]
    statuses = [o for o in out if o["type"] == "status"]
    # a status every minute from W0 + 60; partial windows say how much was seen
    assert statuses[0]["at_ms"] // 1000 == W0 + 60
    assert statuses[0]["windows"]["1800"]["observed_s"] == 60
    assert statuses[0]["windows"]["300"]["observed_s"] == 60
    assert "observed_s" not in statuses[4]["windows"]["300"]  # W0 + 300: whole
    assert statuses[28]["at_ms"] // 1000 == W0 + 1740
    assert statuses[28]["windows"]["1800"]["observed_s"] == 1740
    assert "observed_s" not in statuses[29]["windows"]["1800"]  # W0 + 1800: whole


def test_the_watch_start_holds_back_what_came_after_it(tmp_path):
    # Watching from W0, the first event at W0 + 10: coverage starts at W0
    # with the greatest second W0, so an event at W0 - 3 (lateness 2) that
    # follows is late, where without the watch start it would not be.
    lines = [line("requested", 10), line("requested", 9), line("requested", -3)]
    got, err = soakwatch(lines, W0, tmp_path)
    assert "2 accepted" in err and "1 late" in err, err
    both(lines, W0, tmp_path)


def test_events_before_the_watch_start_were_history(tmp_path):
    # Live, events read while rebuilding start coverage before the watch
    # start, which then changes nothing: the same as a plain replay.
    lines = [line("requested", s) for s in range(0, 400, 7)]
    plain = subprocess.run([BIN, "replay"], input="".join(x + "\n" for x in lines),
                           capture_output=True, text=True, timeout=60).stdout
    got, _ = soakwatch(lines, W0 + 50, tmp_path)
    assert [json.dumps(o, separators=(",", ":")) for o in got] == plain.splitlines()
    both(lines, W0 + 50, tmp_path)
