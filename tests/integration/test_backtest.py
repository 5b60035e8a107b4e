"""soakwatch backtest (docs/semantics.md section 13): every row's firings
are the triggers `soakwatch replay` writes with the config `--row N`
prints, and its figures (triggers, time firing, time off, false alarms,
detection delays, misses) are worked out again here from those triggers
and the incidents, independently of the C scoring."""
import json
import os
import subprocess

import pytest

SRC = os.environ.get("SOAKWATCH_SRC") or os.path.join(os.path.dirname(__file__), "..", "..")
BIN = os.environ.get("SOAKWATCH_BIN") or os.path.join(SRC, "build", "soakwatch")
RECORDING = os.path.join(SRC, "examples", "incident.jsonl.gz")
SWEEPS = ["rules[error_rate_high].threshold=0.05..0.25/0.05",
          "rules[error_rate_high].keep_firing_for_s=0,120",
          "rules[success_rate_low].window_s=300,600"]


def run(args, **kw):
    return subprocess.run([BIN] + args, capture_output=True, text=True, timeout=300, **kw)


def backtest(tmp_path, incidents=None, extra=()):
    args = ["backtest", "--input", RECORDING, "--format", "json", "--no-progress"]
    for s in SWEEPS:
        args += ["--sweep", s]
    if incidents is not None:
        path = tmp_path / "incidents.jsonl"
        path.write_text("".join(json.dumps(i) + "\n" for i in incidents))
        args += ["--incidents", str(path)]
    r = run(args + list(extra))
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def replay_firings(tmp_path, row):
    """The firings of `replay` with row's config: [(rule, from_ms, to_ms|None)]."""
    r = run(["backtest", "--row", str(row)] + sum((["--sweep", s] for s in SWEEPS), []))
    assert r.returncode == 0, r.stderr
    cfg = tmp_path / ("row%d.json" % row)
    cfg.write_text(r.stdout)
    r = run(["replay", "--config", str(cfg), "--input", RECORDING])
    assert r.returncode == 0, r.stderr
    open_at, out = {}, []
    for e in map(json.loads, r.stdout.splitlines()):
        if e["type"] != "rollback_trigger":
            continue
        if e["state"] == "firing":
            open_at[e["rule"]] = e["at_ms"]
        else:
            out.append((e["rule"], open_at.pop(e["rule"]), e["at_ms"]))
    out += [(rule, at, None) for rule, at in open_at.items()]
    return sorted(out)


def figures(firings, end_ms, incidents):
    """Section 13's figures from firings, worked out here."""
    spans = [(f, t if t is not None else end_ms) for _, f, t in firings]
    union, cur = 0, None
    for a, b in sorted(spans):
        if cur is None or a > cur[1]:
            if cur:
                union += cur[1] - cur[0]
            cur = [a, b]
        else:
            cur[1] = max(cur[1], b)
    if cur:
        union += cur[1] - cur[0]
    inc = [(i["start"], i["end"]) for i in incidents]
    delays = []
    for a, b in inc:
        hits = [max(f, a) - a for f, t in spans if t > a and f < b]
        delays.append(min(hits) // 1000 if hits else None)
    found = [d for d in delays if d is not None]
    return {
        "triggers": len(spans),
        "firing_s": sum(t - f for f, t in spans) // 1000,
        "off_s": union // 1000,
        "false_alarms": sum(1 for f, _ in spans if not any(a <= f < b for a, b in inc)),
        "detected": len(found),
        "missed": len(delays) - len(found),
        "delay_mean_s": sum(found) / len(found) if found else None,
        "delay_max_s": max(found) if found else None,
    }


@pytest.fixture(scope="module")
def plain_firings(tmp_path_factory):
    return replay_firings(tmp_path_factory.mktemp("row0"), 0)


def test_every_row_is_what_replay_fires_with_its_config(tmp_path, plain_firings):
    doc = backtest(tmp_path)
    rows = {r["row"]: r for r in doc["rows"]}
    assert sorted(rows) == list(range(0, 5 * 2 * 2 + 1))
    seen = set()
    for n in sorted(rows):
        want = replay_firings(tmp_path, n) if n else plain_firings
        got = sorted((f["rule"], f["from_ms"], f["to_ms"]) for f in rows[n]["firings"])
        assert got == want, n
        seen.add(tuple(want))
    # the sweep really varied what fires: not every row fires the same
    assert len(seen) > 3
    # the thresholds' order shows: a higher threshold never fires longer
    by = {r["parameters"]: r for r in doc["rows"]}
    lo = by["rules[error_rate_high].threshold=0.05 rules[error_rate_high].keep_firing_for_s=0 "
            "rules[success_rate_low].window_s=600"]
    hi = by["rules[error_rate_high].threshold=0.25 rules[error_rate_high].keep_firing_for_s=0 "
            "rules[success_rate_low].window_s=600"]
    assert hi["firing_s"] < lo["firing_s"]


def test_figures_against_incidents(tmp_path, plain_firings):
    first = min(f for _, f, _ in plain_firings)
    incidents = [
        {"start": first - 120_000, "end": first + 1_800_000},  # the incident: detected
        {"start": first - 7_200_000, "end": first - 3_600_000},  # a quiet hour: missed
    ]
    doc = backtest(tmp_path, incidents)
    for row in doc["rows"]:
        firings = sorted((f["rule"], f["from_ms"], f["to_ms"]) for f in row["firings"])
        want = figures(firings, doc["end_ms"], incidents)
        for k, v in want.items():
            assert row[k] == v, (row["row"], k, row[k], v)
    base = next(r for r in doc["rows"] if r["row"] == 0)
    assert base["detected"] == 1 and base["missed"] == 1 and base["delay_max_s"] == 120


def test_objectives_order_the_rows(tmp_path):
    doc = backtest(tmp_path, extra=["--objective", "off"])
    offs = [r["off_s"] for r in doc["rows"]]
    assert offs == sorted(offs) and offs[0] < offs[-1]


def test_text_table_names_every_row(tmp_path):
    args = ["backtest", "--input", RECORDING, "--no-progress"]
    for s in SWEEPS:
        args += ["--sweep", s]
    r = run(args)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split()[:3] == ["row", "triggers", "firing_s"]
    assert len(lines) == 1 + 21 + 1
    assert "(the config as given)" in r.stdout


@pytest.mark.parametrize("spec,needle", [
    ("rules[nope].threshold=1,2", "no rule named"),
    ("rules[error_rate_high].colour=1,2", "a sweep moves"),
    ("rules[error_rate_high].threshold=0.3..0.1/0.1", "HI >= LO"),
    ("rules[error_rate_high].threshold=a,b", "not a number"),
    ("rules[error_rate_high].min_samples=1.5", "whole numbers"),
    ("rules[error_rate_high].threshold", "expected rules[NAME].KEY=VALUES"),
    ("rules[error_rate_high].resolve_threshold=0.5", "combination 1"),
])
def test_bad_sweeps_are_refused_by_name(spec, needle):
    r = run(["backtest", "--input", RECORDING, "--sweep", spec])
    assert r.returncode == 2
    assert needle in r.stderr, r.stderr


def test_missing_input_and_bad_incidents(tmp_path):
    r = run(["backtest", "--sweep", SWEEPS[0]])
    assert r.returncode == 2 and "--input" in r.stderr
    bad = tmp_path / "inc.jsonl"
    bad.write_text('{"start": 10, "end": 5}\n')
    r = run(["backtest", "--input", RECORDING, "--sweep", SWEEPS[0], "--incidents", str(bad)])
    assert r.returncode == 2 and "line 1" in r.stderr
