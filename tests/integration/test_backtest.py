"""soakwatch backtest (docs/semantics.md section 13): every row's firings
are the triggers `soakwatch replay` writes with the config `--row N`
prints, and its figures (triggers, time firing, time off, false alarms,
detection delays, misses) are worked out again here from those triggers
and the incidents, independently of the C scoring."""
import gzip
import html as htmllib
import json
import math
import os
import re
import shutil
import subprocess
import tempfile

import pytest

SRC = os.environ.get("SOAKWATCH_SRC") or os.path.join(os.path.dirname(__file__), "..", "..")
BIN = os.environ.get("SOAKWATCH_BIN") or os.path.join(SRC, "build", "soakwatch")
RECORDING = os.path.join(SRC, "examples", "incident.jsonl.gz")
ALL_OPTIONS = os.path.join(SRC, "examples", "config.all-options.json")
ACKS = os.path.join(SRC, "examples", "acks.jsonl")
SWEEPS = ["rules[error_rate_high].threshold=0.05..0.25/0.05",
          "rules[error_rate_high].keep_firing_for_s=0,120",
          "rules[success_rate_low].window_s=300,600"]


def run(args, **kw):
    return subprocess.run([BIN] + args, capture_output=True, text=True, timeout=300, **kw)


def backtest(tmp_path, incidents=None, extra=(), fmt="json", recording=RECORDING):
    args = ["backtest", "--input", recording, "--format", fmt, "--no-progress"]
    for s in SWEEPS:
        args += ["--sweep", s]
    if incidents is not None:
        path = tmp_path / "incidents.jsonl"
        path.write_text("".join(json.dumps(i) + "\n" for i in incidents))
        args += ["--incidents", str(path)]
    r = run(args + list(extra))
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout) if fmt == "json" else r.stdout


def row_replay_triggers(tmp_path, sweeps, n):
    """The rollback triggers `replay` writes over RECORDING with the config
    `backtest --row n` prints for these sweeps, in output order."""
    c = run(["backtest", "--row", str(n)] + sum((["--sweep", x] for x in sweeps), []))
    assert c.returncode == 0, c.stderr
    cfg = tmp_path / ("row-%d.json" % n)
    cfg.write_text(c.stdout)
    rep = run(["replay", "--config", str(cfg), "--input", RECORDING])
    assert rep.returncode == 0, rep.stderr
    return [e for e in map(json.loads, rep.stdout.splitlines())
            if e["type"] == "rollback_trigger"]


def replay_firings(tmp_path, row):
    """The firings of `replay` with row's config: [(rule, from_ms, to_ms|None)]."""
    open_at, out = {}, []
    for e in row_replay_triggers(tmp_path, SWEEPS, row):
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


def row_config_transitions(tmp_path, sweeps, n):
    """What replay writes with row n's config (--row n of these sweeps):
    sorted (rule, at_ms, state) of its triggers."""
    return sorted((e["rule"], e["at_ms"], e["state"])
                  for e in row_replay_triggers(tmp_path, sweeps, n))


def row_transitions(row):
    """A backtest row's firings as (rule, at_ms, state), sorted."""
    return sorted([(f["rule"], f["from_ms"], "firing") for f in row["firings"]] +
                  [(f["rule"], f["to_ms"], "resolved") for f in row["firings"]
                   if f["to_ms"] is not None])


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


@pytest.mark.parametrize("args,needle", [
    (["--input", RECORDING, "--brokers", "127.0.0.1:1", "--topic", "t", "--from", "0"],
     "--input and --brokers/--topic: give one of the two"),
    (["--brokers", "127.0.0.1:1", "--topic", "t"],
     "backtest from Kafka needs --brokers, --topic and --from"),
    (["--brokers", "127.0.0.1:1", "--topic", "t", "--from", "yesterday"],
     "--from: not RFC 3339 or epoch milliseconds: yesterday"),
    (["--brokers", "127.0.0.1:1", "--topic", "t", "--from", "2000", "--to", "1000"],
     "--to is before --from"),
])
def test_input_or_topic_as_replay_takes_it(args, needle):
    """A file or a recorded topic, one of the two; the topic's options are
    checked as `soakwatch replay --brokers` checks them, before any broker
    is asked."""
    r = run(["backtest"] + args + ["--sweep", SWEEPS[0]])
    assert r.returncode == 2, r.stderr
    assert needle in r.stderr, r.stderr
    assert r.stdout == ""


# ---- --incidents from soakwatch output events ------------------------------

def trigger(rule, state, at_ms, cohort=None, acked=False):
    e = {"type": "rollback_trigger", "schema_version": 1, "rule": rule}
    if cohort:
        e["cohort"] = cohort
    e.update({"state": state, "at_ms": at_ms, "action": "none"})
    if acked:
        e["acknowledged"] = {"id": "%s:%d" % (rule, at_ms), "by": "alice"}
    return e


def test_incidents_from_acknowledged_triggers(tmp_path):
    """Spans and output events in one file: an acknowledged resolution makes
    [its firing, itself) an incident (per rule and cohort); statuses,
    unacknowledged pairs and the rest are skipped and counted."""
    r = run(["replay", "--input", RECORDING, "--config", ALL_OPTIONS, "--control", ACKS])
    assert r.returncode == 0, r.stderr
    events = [json.loads(l) for l in r.stdout.splitlines()]
    trig = [e for e in events if e["type"] == "rollback_trigger"]
    acked = [e for e in trig if "acknowledged" in e]
    assert len(acked) == 1 and acked[0]["rule"] == "error_rate_high"
    fire = next(e for e in trig if e["rule"] == "error_rate_high" and e["state"] == "firing")
    # unacknowledged pairs are there too, and must not become incidents
    assert any(e["state"] == "resolved" and "acknowledged" not in e for e in trig)
    t = fire["at_ms"]
    cohort = [trigger("canary", "firing", t + 60_000, "v2"),
              trigger("canary", "firing", t + 90_000, "v1"),   # another cohort: not it
              trigger("canary", "resolved", t + 300_000, "v2", acked=True),
              trigger("canary", "resolved", t + 400_000, "v1"),  # not acknowledged
              trigger("lonely", "resolved", t + 500_000, acked=True)]  # no firing before
    span = {"start": t - 7_200_000, "end": t - 3_600_000}
    lines = [json.dumps(e) for e in events[:10]] + [json.dumps(span)] + \
        [json.dumps(e) for e in events[10:]] + [json.dumps(e) for e in cohort]
    want = [(span["start"], span["end"]), (fire["at_ms"], acked[0]["at_ms"]),
            (t + 60_000, t + 300_000)]
    plain = tmp_path / "mixed.jsonl"
    plain.write_text("\n".join(lines) + "\n")
    packed = tmp_path / "mixed.jsonl.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    for path in (plain, packed):
        args = ["backtest", "--input", RECORDING, "--format", "json", "--no-progress",
                "--incidents", str(path)] + sum((["--sweep", s] for s in SWEEPS), [])
        r = run(args)
        assert r.returncode == 0, r.stderr
        doc = json.loads(r.stdout)
        got = sorted((i["start_ms"], i["end_ms"]) for i in doc["incidents"])
        assert got == sorted(want), (got, want)
        n_events = len(events) + len(cohort)
        assert ("%s: 3 incidents: 1 from spans, 2 from acknowledged rollback triggers, 0 from "
                "no_go soak verdicts; "
                "%d output events skipped" % (path, n_events - 4)) in r.stderr, r.stderr
        incidents = [{"start": a, "end": b} for a, b in want]
        for row in doc["rows"]:
            firings = sorted((f["rule"], f["from_ms"], f["to_ms"]) for f in row["firings"])
            wanted = figures(firings, doc["end_ms"], incidents)
            for k, v in wanted.items():
                assert row[k] == v, (row["row"], k, row[k], v)


# ---- --format html --------------------------------------------------------

POINT = re.compile(r"<circle class='(pt[^']*)' data-row='(\d+)' data-x='(\d+)' "
                   r"data-y='([^']*)' data-front='([01])'")


def pareto(rows, n_inc):
    """Section 13's front, worked out here: x = false alarms, y = mean delay
    among the rows missing the fewest incidents (or time off when no row
    detected any); on it, the rows no other such row beats on both."""
    delay = n_inc > 0 and any(r["detected"] for r in rows)
    fewest = min(r["missed"] for r in rows)

    def y(r):
        return (r["delay_mean_s"] if r["detected"] else math.inf) if delay else r["off_s"]
    ok = [r for r in rows if not delay or (r["missed"] == fewest and r["detected"])]
    front = {r["row"] for r in ok
             if not any(o is not r and o["false_alarms"] <= r["false_alarms"] and y(o) <= y(r)
                        and (o["false_alarms"] < r["false_alarms"] or y(o) < y(r)) for o in ok)}
    return front, delay, y


HTML_SWEEPS = ["rules[error_rate_high].threshold=0.02..0.3/0.02",
               "rules[error_rate_high].min_samples=10,1000",
               "rules[success_rate_low].threshold=0.8,0.9,0.95"]


def html_and_json(tmp_path, incidents, recording=RECORDING):
    args = sum((["--sweep", s] for s in HTML_SWEEPS), ["--objective", "delay"])
    if incidents is not None:
        path = tmp_path / "incidents.jsonl"
        path.write_text("".join(json.dumps(i) + "\n" for i in incidents))
        args += ["--incidents", str(path)]
    doc = json.loads(run(["backtest", "--input", recording, "--format", "json",
                          "--no-progress"] + args).stdout)
    page = run(["backtest", "--input", recording, "--format", "html", "--no-progress"] + args)
    assert page.returncode == 0, page.stderr
    return doc, page.stdout


def incident_of(tmp_path):
    first = min(f for _, f, _ in replay_firings(tmp_path, 0))
    return [{"start": first - 120_000, "end": first + 1_800_000},
            {"start": first + 10_800_000, "end": first + 11_000_000}]


@pytest.mark.parametrize("with_incidents", [True, False])
def test_html_points_rows_and_front(tmp_path, with_incidents):
    incidents = incident_of(tmp_path) if with_incidents else None
    doc, page = html_and_json(tmp_path, incidents)
    rows = {r["row"]: r for r in doc["rows"]}
    points = POINT.findall(page)
    assert len(points) == len(rows) == 1 + 15 * 2 * 3
    assert sorted(int(p[1]) for p in points) == sorted(rows)
    front, delay, y = pareto(doc["rows"], len(incidents or []))
    assert ("data-view='delay'" if delay else "data-view='off'") in page
    assert ("mean detection delay (s)" if delay else "time the flag is off (s)") in page
    marked = {int(p[1]) for p in points if p[4] == "1"}
    assert marked == front and front
    assert marked == {int(p[1]) for p in points if " front" in p[0]}
    for cls, row, x, yv, _ in points:
        r = rows[int(row)]
        assert int(x) == r["false_alarms"]
        want = y(r)
        assert (yv == "null") if want == math.inf else abs(float(yv) - want) <= 1e-5 * max(1, want)
        assert ("given" in cls.split()) == (int(row) == 0)
    assert page.count("class='givenring'") == 2  # the point's ring and the legend's
    assert "row 0: the config as given" in page
    # the table: every row in the objective's order, each with its --row hint
    order = [int(m) for m in re.findall(r"<tr data-row='(\d+)'", page)]
    assert order == [r["row"] for r in doc["rows"]]
    for n in rows:
        assert "soakwatch backtest ... --row %d</code>" % n in page
    assert re.search(r"<tr data-row='0' class='given ", page)
    n_inc = len(incidents or [])
    assert "90 combinations and the config as given (91 rows), %d incident" % n_inc in page


def test_html_is_self_contained_and_escaped(tmp_path):
    odd = tmp_path / "a&b<i>.jsonl.gz"
    shutil.copy(RECORDING, odd)
    _, page = html_and_json(tmp_path, None, recording=str(odd))
    assert "<script" not in page.lower()
    assert "http://" not in page and "https://" not in page
    assert not re.search(r"\b(src|href)=", page)
    assert "<i>" not in page and "a&amp;b&lt;i&gt;.jsonl.gz" in page


def test_html_renders_in_chromium(tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed: cannot render the HTML page")
    art = os.environ.get("SOAKWATCH_ARTIFACTS") or os.path.join(SRC, "tests", "integration",
                                                                 "artifacts")
    os.makedirs(art, exist_ok=True)
    doc, page = html_and_json(tmp_path, incident_of(tmp_path))
    html = os.path.join(art, "backtest.html")
    png = os.path.join(art, "backtest.png")
    with open(html, "w") as f:
        f.write(page)
    if os.path.exists(png):
        os.remove(png)
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync"]
    with tempfile.TemporaryDirectory() as profile:
        dom = subprocess.run([chromium] + flags + [f"--user-data-dir={profile}", "--dump-dom",
                                                   "file://" + html],
                             capture_output=True, text=True, timeout=120).stdout
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([chromium] + flags + [f"--user-data-dir={profile}",
                                             "--window-size=1000,700", f"--screenshot={png}",
                                             "file://" + html], capture_output=True, timeout=120)
    # The DOM Chromium built: every row a point inside the chart's svg, the
    # front as worked out here, row 0 labelled.
    svg = dom[dom.index("<svg"):dom.index("</svg>")]
    rows = re.findall(r'<circle class="pt[^"]*" data-row="(\d+)"', svg)
    assert sorted(map(int, rows)) == sorted(r["row"] for r in doc["rows"])
    front = {int(m) for m in re.findall(r'data-row="(\d+)"[^>]*data-front="1"', svg)}
    assert front == pareto(doc["rows"], 2)[0]
    assert "row 0: the config as given" in htmllib.unescape(svg)
    assert re.search(r'<polyline class="frontline" points="[\d., ]+"', svg)
    # And it was drawn: the front's red and the points' blue are on screen.
    assert os.path.exists(png), "chromium wrote no screenshot"
    from test_report import png_pixels  # the PNG decoder the report's test uses
    w, h, bpp, pix = png_pixels(png)
    colours = {(row[x] >> 4, row[x + 1] >> 4, row[x + 2] >> 4)
               for row in pix[::2] for x in range(0, w * bpp, bpp)}

    def near(rgb):
        return any(all(abs(c[k] * 16 + 8 - rgb[k]) <= 24 for k in range(3)) for c in colours)
    for name, rgb in (("front red", (0xd6, 0x27, 0x28)), ("point blue", (0x9e, 0xca, 0xe1))):
        assert near(rgb), f"no {name} in the screenshot"


def test_windows_only_a_combination_uses(tmp_path):
    """Window lengths neither the config's rules nor its status read (120
    and 900 s) join the shared rings: each row still fires what replay
    fires with its config."""
    sweeps = ["rules[error_rate_high].window_s=120,900",
              "rules[error_rate_high].threshold=0.05,0.3"]
    args = ["backtest", "--input", RECORDING, "--format", "json", "--no-progress"]
    for s in sweeps:
        args += ["--sweep", s]
    r = run(args)
    assert r.returncode == 0, r.stderr
    rows = {x["row"]: x for x in json.loads(r.stdout)["rows"]}
    assert len(rows) == 5
    distinct = set()
    for n in range(1, 5):
        want = row_config_transitions(tmp_path, sweeps, n)
        assert row_transitions(rows[n]) == want, n
        distinct.add(tuple(want))
    assert len(distinct) >= 3


def test_a_config_with_cohorts_is_refused_by_name(tmp_path):
    cfg = tmp_path / "cohorts.json"
    cfg.write_text(json.dumps({"cohorts": {"field": "gatewayVersion", "values": ["v1"]}}))
    r = run(["backtest", "--input", RECORDING, "--config", str(cfg), "--sweep", SWEEPS[0]])
    assert r.returncode == 2
    assert "cohorts" in r.stderr and "not swept" in r.stderr, r.stderr


def test_lateness_sweep_one_pass_per_value(tmp_path):
    """allowed_lateness_s changes which events count: the backtest reads the
    input once per value swept (and once for the config as given), and
    every row still fires what replay fires with its config."""
    sweeps = ["allowed_lateness_s=0,30", "rules[error_rate_high].threshold=0.05,0.2"]
    args = ["backtest", "--input", RECORDING, "--format", "json", "--no-progress"]
    for s in sweeps:
        args += ["--sweep", s]
    r = run(args)
    assert r.returncode == 0, r.stderr
    assert "pass 3 of 3, allowed_lateness_s 30, 2 combinations" in r.stderr, r.stderr
    rows = {x["row"]: x for x in json.loads(r.stdout)["rows"]}
    assert sorted(rows) == [0, 1, 2, 3, 4]
    assert rows[1]["parameters"] == ("allowed_lateness_s=0 "
                                     "rules[error_rate_high].threshold=0.05")
    for n in range(0, 5):
        assert row_transitions(rows[n]) == row_config_transitions(tmp_path, sweeps, n), n


def test_standard_input_once(tmp_path):
    """--input - is read once: one pass gives the file's rows; a sweep that
    needs a pass per lateness is refused before reading, naming --input -."""
    data = gzip.decompress(open(RECORDING, "rb").read()).decode()
    from_file = backtest(tmp_path)
    args = ["backtest", "--input", "-", "--format", "json", "--no-progress"]
    for s in SWEEPS:
        args += ["--sweep", s]
    r = run(args, input=data)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["rows"] == from_file["rows"]
    r = run(args + ["--sweep", "allowed_lateness_s=0,30"], input=data)
    assert r.returncode == 2 and "--input -" in r.stderr and "3 passes" in r.stderr, r.stderr
    assert r.stdout == ""


# ---- --incidents from no_go soak verdicts ----------------------------------

SOAK_START = 1795161600000  # 2026-11-20T08:00:00Z, the recording's first hour
H_MS = 3_600_000


def verdict(start_ms, at_ms, v, kind="final"):
    return {"type": "soak_verdict", "schema_version": 1, "id": "soak_verdict:%d" % at_ms,
            "at_ms": at_ms, "soak_start_ms": start_ms, "kind": kind, "verdict": v}


def test_incidents_from_no_go_verdicts(tmp_path):
    """A no_go soak_verdict makes the period it judged, [soak_start_ms,
    at_ms), an incident; a later no_go of the same soak extends it; go and
    pending verdicts, and every other output event, are skipped."""
    cfg = tmp_path / "soak.json"
    cfg.write_text(json.dumps({"soak": {"hours": 2, "start": SOAK_START}}))
    r = run(["replay", "--input", RECORDING, "--config", str(cfg)])
    assert r.returncode == 0, r.stderr
    events = [json.loads(l) for l in r.stdout.splitlines()]
    verdicts = [e for e in events if e["type"] == "soak_verdict"]
    # the error burst of hour 2 fired a rollback trigger: the soak is a no_go
    assert [(v["verdict"], v["soak_start_ms"], v["at_ms"]) for v in verdicts] == \
        [("no_go", SOAK_START, SOAK_START + 2 * H_MS)]
    other = SOAK_START + 3 * H_MS
    extra = [verdict(SOAK_START, SOAK_START + 3 * H_MS, "no_go"),   # extends the first
             verdict(SOAK_START, SOAK_START + H_MS, "no_go", "provisional"),  # inside it
             verdict(other, other + H_MS, "no_go"),                 # another soak
             verdict(other, other + 2 * H_MS, "go"),                # skipped
             verdict(other + H_MS, other + 2 * H_MS, "pending")]    # skipped
    path = tmp_path / "outputs.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in events + extra))
    args = ["backtest", "--input", RECORDING, "--format", "json", "--no-progress",
            "--incidents", str(path)] + sum((["--sweep", s] for s in SWEEPS), [])
    r = run(args)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    want = [(SOAK_START, SOAK_START + 3 * H_MS), (other, other + H_MS)]
    assert [(i["start_ms"], i["end_ms"]) for i in doc["incidents"]] == want
    no_go = 1 + 3
    assert ("%s: 2 incidents: 0 from spans, 0 from acknowledged rollback triggers, 2 from "
            "no_go soak verdicts; %d output events skipped"
            % (path, len(events) + len(extra) - no_go)) in r.stderr, r.stderr
    incidents = [{"start": a, "end": b} for a, b in want]
    for row in doc["rows"]:
        firings = sorted((f["rule"], f["from_ms"], f["to_ms"]) for f in row["firings"])
        for k, v in figures(firings, doc["end_ms"], incidents).items():
            assert row[k] == v, (row["row"], k, row[k], v)
    base = next(x for x in doc["rows"] if x["row"] == 0)
    # the soak's incident is seen at the first firing, 09:21:20, 4880 s in;
    # the other soak's hour (11:00-12:00) is quiet: missed
    assert (base["detected"], base["missed"], base["delay_max_s"]) == (1, 1, 4880)
