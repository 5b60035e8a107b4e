"""Cohorts kept first come (docs/semantics.md section 12, `cohorts.max`) in
file replay and on stdin, against the independent reference
(reference.py).

The stream: v1 from the start; v2 from second 120; a v9 event at second
150 that arrives late (after second 160) and so keeps nothing; v9 from
second 240; v4 from second 360, after the cap is full; values that can
never be kept (too long, a space, a number, "other") throughout. v2 fails
half its previews in 600..899 and falls silent from 1000.

With `values: ["v1"], max: 3` the cohorts are v1, v2, v9 (in the order
kept) and `other`; v4 and the values that cannot be kept are `other`. Each
scenario first asserts that on the reference's own output, then holds
soakwatch to the reference event for event."""

import json
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import reference  # noqa: E402
import test_cohorts as tc  # noqa: E402
from test_reference import BASE, BIN  # noqa: E402

SILENT = {"name": "cohort_silent", "metric": "requests", "op": "==", "threshold": 0,
          "window_s": 60, "cohorts": "each"}
CAP = {"field": "gatewayVersion", "values": ["v1"], "max": 3}
CAP_CFG = {"cohorts": CAP, "rules": [tc.WHOLE_ERRORS, tc.COHORT_ERRORS, SILENT]}
NEVER_KEPT = ["x" * 64, "v 1", 7, "other", ""]


def releases(seed=1, seconds=1200, start=0):
    """The stream of the module's docstring as dicts in time order, 3
    previews a second (each a request and its outcome 100 ms later)."""
    rng = random.Random(seed)
    docs = []
    for s in range(start, start + seconds):
        rel = s - start
        live = ["v1"] + (["v2"] if 120 <= rel < 1000 else []) + (["v9"] if rel >= 240 else []) \
            + (["v4"] if rel >= 360 else [])
        for k in range(3):
            v = live[(rel + k) % len(live)] if k < 2 else rng.choice(live + NEVER_KEPT[:2])
            off = k * 300
            docs.append(tc.flat("requested", s, off, v))
            if v == "v2" and 600 <= rel < 900 and rng.random() < 0.5:
                docs.append(tc.flat("fallback", s, off + 100, v, durationMs=5,
                                    reason="internal_error", status=500))
            else:
                docs.append(tc.flat("succeeded", s, off + 100, v, durationMs=200, status=200))
        if rel % 50 == 0:
            docs.append(tc.flat("requested", s, 950, NEVER_KEPT[2 + rel // 50 % 3]))
        if rel == 161:  # second 150's v9 request, late by 11 s
            docs.append(tc.flat("requested", s - 11, 0, "v9"))
    return docs


def cohorts_of(status):
    return list(status.get("cohorts", {}))


def check_releases(res, docs, start=0):
    """What section 12 says of the stream, on the reference's output."""
    assert list(res.summary["cohorts"]) == ["v1", "v2", "v9", "other"]
    assert res.summary["late"] == 1
    for st in tc.statuses(res):
        at = st["at_ms"] // 1000 - BASE - start
        want = ["v1"] + (["v2"] if at >= 121 else []) + (["v9"] if at >= 241 else []) + ["other"]
        assert cohorts_of(st) == want, (at, cohorts_of(st))
    trig = [(r, c, s, at - start) for r, c, s, at in tc.triggers(res) if c is not None]
    fired = {(r, c) for r, c, s, _ in trig if s == "firing"}
    assert ("cohort_error_rate_high", "v2") in fired
    last_v2 = max(d["ts"] for d in docs if d.get("gatewayVersion") == "v2") // 1000 - BASE - start
    assert 996 <= last_v2 < 1000
    assert ("cohort_silent", "v2", "firing", last_v2 + 61) in trig  # window 60 after the last
    assert not any(c == "v4" for _, c, _, _ in trig)
    # v2 and v9 are judged only from the instant after their first event:
    # no silence is ever seen in them before it
    assert not any(r == "cohort_silent" and c in ("v2", "v9") and at < 1000
                   for r, c, _, at in trig)


def test_releases_reference_is_the_case_it_claims():
    docs = releases()
    res = tc.ref(docs, CAP_CFG)
    check_releases(res, docs)
    assert res.summary["cohorts"]["other"] > 0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_releases_soakwatch_equals_reference(tmp_path, seed):
    docs = releases(seed)
    res = tc.ref(docs, CAP_CFG)
    check_releases(res, docs)
    tc.c_agrees(res, docs, tmp_path, CAP_CFG)


def test_a_full_cap_keeps_the_first_values(tmp_path):
    # max 2 with nothing listed: v1 and v2 are kept; v9 and v4 go to other
    cfg = dict(CAP_CFG, cohorts={"field": "gatewayVersion", "max": 2})
    docs = releases(4)
    res = tc.ref(docs, cfg)
    assert list(res.summary["cohorts"]) == ["v1", "v2", "other"]
    v9 = sum(1 for d in docs if d.get("gatewayVersion") == "v9") - 1  # one is late
    assert res.summary["cohorts"]["other"] >= v9
    tc.c_agrees(res, docs, tmp_path, cfg)


def test_releases_on_stdin_equal_reference(tmp_path):
    """soakwatch run on stdin writes what the reference computes."""
    start = int(time.time()) - BASE - 1300
    docs = releases(5, start=start)
    data = b"\n".join(tc.dumps(d) for d in docs) + b"\n"
    res = reference.replay(reference.split_lines(data), CAP_CFG)
    check_releases(res, docs, start)
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps(CAP_CFG))
    p = subprocess.run([BIN, "run", "--config", str(cfg)], input=data, capture_output=True,
                       timeout=300, env=tc.ENV)
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    got = [json.loads(l) for l in p.stdout.decode().splitlines()]
    diffs = reference.compare(res.outputs, got)
    assert not diffs, "soakwatch run and the reference differ:\n" + "\n".join(diffs)


def test_effective_config_says_max(tmp_path):
    conf = tmp_path / "c.json"
    conf.write_text(json.dumps(CAP_CFG))
    p = subprocess.run([BIN, "check-config", "--print", str(conf)], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["cohorts"] == CAP
    # what it prints is a config that loads to the same
    again = tmp_path / "again.json"
    again.write_text(p.stdout)
    q = subprocess.run([BIN, "check-config", "--print", str(again)], capture_output=True,
                       text=True, timeout=60)
    assert q.returncode == 0 and q.stdout == p.stdout, q.stderr


def test_report_lists_kept_cohorts_other_last(tmp_path):
    """soakwatch report over the replay's output: the cohorts kept first
    come appear in statuses after `other` does, and the report lists them
    in cohort order, `other` last, each with its own requests (the 300 s
    status windows at 300, 600, 900 and 1200 tile the 20 minutes)."""
    docs = releases(6)
    res = tc.ref(docs, CAP_CFG)
    out = tmp_path / "out.jsonl"
    out.write_text("".join(json.dumps(o, separators=(",", ":")) + "\n" for o in res.outputs))
    p = subprocess.run([BIN, "report", "--input", str(out), "--format", "json"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    hour = json.loads(p.stdout)["hours"][0]
    assert list(hour["cohorts"]) == ["v1", "v2", "v9", "other"]
    for value in ("v1", "v2", "v9"):
        n = sum(1 for d in docs if d.get("gatewayVersion") == value and "requested" in d["event"])
        late = 1 if value == "v9" else 0
        assert hour["cohorts"][value]["requests"] == n - late, value
