"""soak_update events (docs/semantics.md section 11): the runbook's cadence
run by soakwatch. File replay against the independent reference
(reference.py) on hand-worked edges and randomized streams, byte for byte;
the cadence 1..8 then every 4 hours and the last; the text against the
plan's "Hourly Update Format", line for line; the config's errors."""

import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import reference  # noqa: E402

SRC = Path(os.environ.get("SOAKWATCH_SRC", HERE.parent.parent))
BIN = os.environ.get("SOAKWATCH_BIN", str(SRC / "build" / "soakwatch"))
PLAN = SRC.parent / "shared" / "reference" / "soak-monitoring-plan.md"

BASE = 1795161600  # 2026-11-20T08:00:00Z, a multiple of 60
EV = "stream5.time_crunch_preview_"
H = 3600

# Short windows, so that the reference evaluates hours of instants quickly.
FAST = {
    "status": {"window_s": 60, "windows_s": [60, 120, 300], "min_outcomes": 5},
    "rules": [
        {"name": "error_rate_high", "metric": "error_rate", "op": ">", "threshold": 0.10,
         "window_s": 60, "min_samples": 5},
        {"name": "zero_requests", "metric": "requests", "op": "==", "threshold": 0,
         "window_s": 600},
    ],
}


def cfg(**soak):
    c = json.loads(json.dumps(FAST))
    c["soak"] = soak
    return c


def ev(kind, sec, **fields):
    doc = {"event": EV + kind, "ts": (BASE + sec) * 1000 + fields.pop("ms", 0)}
    doc.update(fields)
    return json.dumps(doc)


def traffic(first, last, every=10, error_from=None, error_to=None, tc=True):
    """A request and its outcome every `every` seconds; internal errors in
    [error_from, error_to)."""
    out = []
    for s in range(first, last, every):
        out.append(ev("requested", s))
        if error_from is not None and error_from <= s < error_to:
            out.append(ev("fallback", s, reason="internal_error", durationMs=900))
        else:
            out.append(ev("succeeded", s, durationMs=800 + s % 7, meetsTimeConstraint=tc))
    return out


def run_c(lines, config, tmp_path, extra=()):
    inp, conf = tmp_path / "in.jsonl", tmp_path / "config.json"
    inp.write_text("\n".join(lines) + "\n")
    conf.write_text(json.dumps(config))
    p = subprocess.run([BIN, "replay", "--config", str(conf), "--input", str(inp), *extra],
                       capture_output=True, text=True, check=True)
    return [json.loads(x) for x in p.stdout.splitlines()], p.stdout.splitlines()


def updates(events):
    return [e for e in events if e["type"] == "soak_update"]


def both(lines, config, tmp_path, start_s=None):
    """C's output lines and the reference's, asserting the soak updates equal
    byte for byte and in the same places of the stream."""
    extra = ("--start", str((BASE + start_s) * 1000)) if start_s is not None else ()
    c_events, c_lines = run_c(lines, config, tmp_path, extra)
    res = reference.replay([x.encode() for x in lines], config,
                           None if start_s is None else BASE + start_s)
    r_lines = [reference.dumps(e) for e in res.outputs]
    assert len(c_lines) == len(r_lines)
    c_soak = [(i, x) for i, x in enumerate(c_lines) if '"type":"soak_update"' in x]
    r_soak = [(i, x) for i, x in enumerate(r_lines) if '"type":"soak_update"' in x]
    assert c_soak == r_soak
    return c_events


# ---- the cadence --------------------------------------------------------------

def test_cadence_hours():
    assert reference.soak_hours(48) == list(range(1, 9)) + list(range(12, 49, 4))
    assert reference.soak_hours(13) == list(range(1, 9)) + [12, 13]
    assert reference.soak_hours(10) == list(range(1, 9)) + [10]
    assert reference.soak_hours(5) == [1, 2, 3, 4, 5]


def test_eight_to_twelve_and_a_last_hour_off_the_grid(tmp_path):
    """hours 13: updates at 1..8, 12 (covering 8->12) and 13; each sums the
    exact counts of its seconds; the phases are the plan's."""
    lines = traffic(0, 13 * H + 30)
    got = updates(both(lines, cfg(hours=13), tmp_path))
    assert [(u["hour_from"], u["hour_to"]) for u in got] == \
        [(h - 1, h) for h in range(1, 9)] + [(8, 12), (12, 13)]
    assert got[0]["soak_start_ms"] == BASE * 1000
    assert [u["requests"] for u in got] == [360] * 8 + [1440, 360]
    assert got[8]["period_start_ms"] == (BASE + 8 * H) * 1000
    assert got[8]["at_ms"] == got[8]["period_end_ms"] == (BASE + 12 * H) * 1000
    assert [u["phase"] for u in got] == [
        "Initial Deployment Verification", "Load Testing Initiation", "Extended Load Testing",
        "Extended Load Testing", "Integration Testing", "Integration Testing",
        "Stability Validation", "Stability Validation", "Extended Stability",
        "Daily Assessment"]
    assert got[7]["next"] == {"hour_from": 8, "hour_to": 12, "phase": "Extended Stability",
                              "focus": "24-hour stability validation"}
    assert got[-1]["next"] is None
    assert all(u["status"] == "green" and u["checks"][0]["pass"] for u in got)


def test_period_without_traffic(tmp_path):
    """Hour 2 holds no event: counts 0, rates null, no check judged; the
    zero-requests rule fires in it and the status is red."""
    lines = traffic(0, H) + traffic(2 * H, 3 * H + 30)
    got = updates(both(lines, cfg(hours=3), tmp_path))
    h2 = got[1]
    assert (h2["requests"], h2["outcomes"]) == (0, 0)
    assert h2["success_rate"] is None and h2["latency_mean_ms"] is None
    assert [c["pass"] for c in h2["checks"]] == [None] * 4
    assert h2["status"] == "red"
    assert [t["rule"] for t in h2["notes"]["triggers"]] == ["zero_requests"]
    assert "- Success Rate: n/a (Target: >95%) \u2796 not judged" in h2["text"]


def test_started_mid_incident(tmp_path):
    """The soak starts (soak.start, not on a minute) while error_rate_high
    fires: S is rounded up to the status interval; the firing before S is
    not the period's, its resolution is; the period is red."""
    lines = traffic(0, 2 * H + 30, error_from=600, error_to=H + 300)
    start_ms = (BASE + H) * 1000 - 30500  # 30.5 s before a whole minute
    got = updates(both(lines, cfg(hours=1, start=start_ms), tmp_path))
    assert len(got) == 1
    u = got[0]
    assert u["soak_start_ms"] == (BASE + H) * 1000
    assert u["status"] == "red"
    assert [(t["rule"], t["state"]) for t in u["notes"]["triggers"]] == \
        [("error_rate_high", "resolved")]
    assert u["notes"]["uncovered_s"] == 0
    assert u["errors"] == 30


def test_soak_start_flag_and_partial_coverage(tmp_path):
    """--soak-start overrides soak.start; a soak that starts before the
    first event says how many seconds of its first period were not covered."""
    lines = traffic(600, 2 * H)
    c = cfg(hours=2, start=(BASE + 5 * H) * 1000)
    conf = tmp_path / "c.json"
    conf.write_text(json.dumps(c))
    inp = tmp_path / "in.jsonl"
    inp.write_text("\n".join(lines) + "\n")
    p = subprocess.run([BIN, "replay", "--config", str(conf), "--input", str(inp),
                        "--soak-start", str(BASE * 1000)],
                       capture_output=True, text=True, check=True)
    c_up = [x for x in p.stdout.splitlines() if '"soak_update"' in x]
    res = reference.replay([x.encode() for x in lines], c, None, BASE * 1000)
    assert c_up == [reference.dumps(e) for e in res.outputs if e["type"] == "soak_update"]
    first = json.loads(c_up[0])
    assert first["soak_start_ms"] == BASE * 1000
    assert first["notes"]["uncovered_s"] == 600


def test_late_and_rejected_are_noted(tmp_path):
    lines = traffic(0, 2 * H + 30)
    lines.insert(300, ev("succeeded", 1000, durationMs=10))   # late by far
    lines.insert(310, "not json")
    lines.insert(900, '{"event": "%ssucceeded", "ts": "x"}' % EV)
    got = updates(both(lines, cfg(hours=2), tmp_path))
    assert (got[0]["notes"]["late"], got[0]["notes"]["rejected"]) == (1, 1)
    assert (got[1]["notes"]["late"], got[1]["notes"]["rejected"]) == (0, 1)
    assert "1 late events; 1 rejected inputs" in got[0]["text"]


# ---- randomized streams ------------------------------------------------------------

@pytest.mark.parametrize("seed", range(6))
def test_random_streams_equal_reference(tmp_path, seed):
    rnd = random.Random(seed)
    lines, t = [], 0
    end = rnd.randint(2 * H, 5 * H)
    while t < end:
        t += rnd.choice([1, 2, 5, 13, 40]) if rnd.random() > 0.002 else rnd.randint(600, 2 * H)
        s = t - (rnd.randint(0, 6) if rnd.random() < 0.05 else 0)  # some late, some not
        lines.append(ev("requested", s, ms=rnd.randint(0, 999)))
        r = rnd.random()
        bad = 2000 <= t % 7000 < 2600
        if r < (0.5 if bad else 0.04):
            lines.append(ev("fallback", s, reason=rnd.choice(["internal_error",
                                                              "plan_not_compressible"]),
                            durationMs=rnd.uniform(5, 9000)))
        elif r < 0.97:
            kw = {"meetsTimeConstraint": rnd.random() < 0.85} if rnd.random() < 0.8 else {}
            lines.append(ev("succeeded", s, durationMs=rnd.uniform(5, 4000), **kw))
        else:
            lines.append(rnd.choice(["{", "[]", '{"event": 3}', ev("declined", s)]))
    c = cfg(hours=rnd.choice([2, 3, 9]), dashboard_url="https://example.invalid/d")
    if seed % 2:
        c["soak"]["start"] = (BASE + rnd.randint(-900, 900)) * 1000 + rnd.randint(0, 999)
    start = rnd.choice([None, -120]) if seed % 3 == 0 else None
    both(lines, c, tmp_path, start)


# ---- the text ----------------------------------------------------------------------

def plan_template():
    if not PLAN.exists():
        pytest.skip("the soak plan is not beside the repository")
    text = PLAN.read_text(encoding="utf-8")
    block = text.split("**Hourly Update Format:**", 1)[1].split("```", 2)[1]
    return block.strip("\n").split("\n")


def template_regex(line):
    """A template line as a pattern: [X] a number, [X]% a percentage,
    [Green/Yellow/Red] a colour, the marks one of pass/fail/not judged."""
    pat = re.escape(line)
    pat = pat.replace(re.escape("Hour [X]"), r"Hour \d+")
    pat = pat.replace(re.escape("[X]%"), r"(\d+\.\d\d%|n/a)")
    pat = pat.replace(re.escape("[X]s"), r"(\d+\.\d\d\ds|n/a)")
    pat = pat.replace(re.escape("✅/❌"), "(✅|❌|➖ not judged)")
    pat = pat.replace(re.escape("[Green/Yellow/Red]"), "(Green|Yellow|Red|none in this period)")
    pat = pat.replace(re.escape("[Any issues or observations]"), ".+")
    pat = pat.replace(re.escape("[Next hour focus]"), ".+")
    return "^" + pat + "$"


def test_text_follows_the_plan_line_for_line(tmp_path):
    tpl = plan_template()
    url = re.search(r"Dashboard: (\S+)", "\n".join(tpl)).group(1)
    lines = traffic(0, 3 * H + 30, error_from=H + 100, error_to=H + 900)
    got = updates(both(lines, cfg(hours=3, dashboard_url=url), tmp_path))
    for u in got:
        out = u["text"].split("\n")
        i = 0
        for j, t in enumerate(tpl):
            if t == "" and j > 0 and tpl[j - 1].startswith("- "):
                # after the template's three metrics: the plan's others for the hour
                while out[i].startswith("- "):
                    i += 1
            assert re.match(template_regex(t), out[i]), (t, out[i])
            i += 1
        assert i == len(out)
        assert len(out) >= len(tpl)
    assert got[1]["status"] == "red"
    assert "error_rate_high firing at" in got[1]["text"]


# ---- config ----------------------------------------------------------------------------

@pytest.mark.parametrize("soak,key", [
    ({"hours": 0}, "soak.hours"),
    ({"start": "yesterday"}, "soak.start"),
    ({"targets": {"memory_max": 0.8}}, "soak.targets.memory_max"),
    ({"targets": {"error_rate_max": 2}}, "soak.targets.error_rate_max"),
    ({"title": ""}, "soak.title"),
    ({"cadence": 4}, "soak.cadence"),
])
def test_config_errors_name_the_key(tmp_path, soak, key):
    conf = tmp_path / "c.json"
    conf.write_text(json.dumps({"soak": soak}))
    p = subprocess.run([BIN, "check-config", str(conf)], capture_output=True, text=True)
    assert p.returncode == 2
    assert key + ":" in p.stderr


def test_off_without_the_section(tmp_path):
    events, _ = run_c(traffic(0, 2 * H), FAST, tmp_path)
    assert not updates(events)


def test_updates_match_the_schema(tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    with open(SRC / "schemas" / "soak-update.schema.json") as f:
        v = jsonschema.Draft202012Validator(
            json.load(f), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    lines = traffic(0, 2 * H) + traffic(3 * H, 10 * H + 30, error_from=4 * H, error_to=4 * H + 600)
    got = updates(run_c(lines, cfg(hours=10), tmp_path)[0])
    assert [u["hour_to"] for u in got] == list(range(1, 9)) + [10]
    for u in got:
        v.validate(u)
    with open(SRC / "schemas" / "config.schema.json") as f:
        jsonschema.Draft202012Validator(json.load(f)).validate(cfg(hours=10, start="2026-11-20T08:00:00Z"))


def test_check_config_prints_the_section(tmp_path):
    conf = tmp_path / "c.json"
    conf.write_text(json.dumps({"soak": {"hours": 24, "start": "2026-11-20T08:00:30Z"}}))
    p = subprocess.run([BIN, "check-config", str(conf), "--print"], capture_output=True,
                       text=True, check=True)
    soak = json.loads(p.stdout)["soak"]
    assert soak["hours"] == 24 and soak["start"] == (BASE + 30) * 1000
    assert soak["targets"]["compression_success_min"] == 0.8
    again = tmp_path / "again.json"
    again.write_text(p.stdout)
    assert subprocess.run([BIN, "check-config", str(again)]).returncode == 0


# ---- the report ------------------------------------------------------------------------

def test_report_tiles_the_same_periods(tmp_path):
    """soakwatch report recomputes each update's period from the status
    windows (tiled from soak_start_ms): the same sums, rates and worst
    status; one row per update in text, JSON and HTML."""
    lines = (traffic(0, H) + traffic(2 * H, 9 * H + 30, error_from=3 * H, error_to=3 * H + 900))
    _, out_lines = run_c(lines, cfg(hours=9), tmp_path)
    out = tmp_path / "out.jsonl"
    out.write_text("\n".join(out_lines) + "\n")
    got = updates([json.loads(x) for x in out_lines])
    assert len(got) == 9

    def report(fmt):
        return subprocess.run([BIN, "report", "--input", str(out), "--format", fmt],
                              capture_output=True, text=True, check=True).stdout

    rows = json.loads(report("json"))["soak_updates"]
    assert len(rows) == len(got)
    for u, row in zip(got, rows):
        t = row["tiled"]
        assert row["agrees"] and t["covered_s"] == u["period_end_ms"] // 1000 - u["period_start_ms"] // 1000
        for k in ("requests", "outcomes", "successes", "errors", "success_rate", "error_rate",
                  "status"):
            assert t[k] == u[k], (u["hour_to"], k)
        if u["latency_mean_ms"] is None:
            assert t["latency_mean_ms"] is None
        else:
            assert abs(t["latency_mean_ms"] - u["latency_mean_ms"]) <= 1e-9 * u["latency_mean_ms"]
    text = report("text")
    assert text.count("statuses agree") == len(got)
    assert report("html").count("<td>agree</td>") == len(got)


# ---- live on stdin: the update and /metrics ---------------------------------------------

def test_run_on_stdin_publishes_the_update_and_metrics(tmp_path):
    """soakwatch run writes the same update and verdict as replay, and
    /metrics says which hour the last update closed, its status, the last
    verdict and how many of each were written."""
    import threading
    import time
    import urllib.request
    sys.path.insert(0, str(HERE))
    import scenarios as sc

    now = int(time.time())
    first = (now - 3600 - 300) // 60 * 60
    lines = [json.loads(x) for x in traffic(0, 3600 + 240)]
    for d in lines:
        d["ts"] += (first - BASE) * 1000
    lines = [json.dumps(d) for d in lines]
    c = cfg(hours=1, start=first * 1000)
    conf = tmp_path / "c.json"
    conf.write_text(json.dumps(c))
    replayed = run_c(lines, c, tmp_path)[1]
    want = [x for x in replayed if '"soak_update"' in x]
    assert len(want) == 1
    verdicts = [json.loads(x) for x in replayed if '"soak_verdict"' in x]
    # hour 1 is the last: the final verdict; no sign-off, so pending
    assert [(v["kind"], v["verdict"]) for v in verdicts] == [("final", "pending")]
    port = sc.free_port()
    p = subprocess.Popen([BIN, "run", "--config", str(conf), "--http", "127.0.0.1:%d" % port],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    got = []
    reader = threading.Thread(target=lambda: got.extend(p.stdout), daemon=True)
    reader.start()
    try:
        p.stdin.write(("\n".join(lines) + "\n").encode())
        p.stdin.flush()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(b'"soak_verdict"' in x for x in got):
            time.sleep(0.2)
        assert [x.decode().rstrip("\n") for x in got if b'"soak_update"' in x] == want
        assert [json.loads(x)["verdict"] for x in got if b'"soak_verdict"' in x] == ["pending"]
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as r:
            metrics = r.read().decode().splitlines()
        assert "soakwatch_soak_hour 1" in metrics
        assert "soakwatch_soak_last_update_status 0" in metrics
        # the verdict gauges follow the verdict published, and both soak
        # events are counted among the outputs
        assert 'soakwatch_soak_verdict{verdict="pending"} 1' in metrics
        assert 'soakwatch_soak_verdict{verdict="go"} 0' in metrics
        assert 'soakwatch_soak_verdict{verdict="no_go"} 0' in metrics
        assert "soakwatch_soak_verdict_hour 1" in metrics
        assert 'soakwatch_outputs_total{type="soak_update"} 1' in metrics
        assert 'soakwatch_outputs_total{type="soak_verdict"} 1' in metrics
    finally:
        p.stdin.close()
        p.wait(timeout=30)
