"""soakwatch's /metrics as a real Prometheus sees it. `soakwatch run` in
stdin mode (no broker), with the soak cadence on, is fed a generated stream
of events whose times end just before now, through a pipe that stays open;
then:

- every metric name the dashboard and the alert rules use is in the scrape,
  except exactly the ones docs/metrics.md lists as live (Kafka) mode only;
- `promtool check metrics` accepts the scrape;
- a real Prometheus (Debian's /usr/bin/prometheus) scrapes it every second
  with deploy/prometheus/soakwatch-rules.yaml loaded, and its query API
  returns the window counts the fed events imply, and every rule evaluates
  without error.

Needs prometheus and promtool: a missing one fails the test when CI is set
and skips it otherwise."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
import yaml

SRC = os.environ.get("SOAKWATCH_SRC") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
RULES = os.path.join(SRC, "deploy", "prometheus", "soakwatch-rules.yaml")
DASHBOARD = os.path.join(SRC, "deploy", "grafana", "soakwatch-dashboard.json")
METRICS_DOC = os.path.join(SRC, "docs", "metrics.md")
METRIC_TOKEN = re.compile(r"\bsoakwatch_[a-z0-9_]+")
PREFIX = "stream5.time_crunch_preview_"


def need_tool(name):
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is not installed (scripts/install-deps installs it)")
        pytest.skip(f"{name} is not installed")
    return path


def need_bin():
    b = os.environ.get("SOAKWATCH_BIN")
    if not b or not os.access(b, os.X_OK):
        if os.environ.get("CI"):
            pytest.fail("SOAKWATCH_BIN does not name the built soakwatch executable")
        pytest.skip("SOAKWATCH_BIN is not set (run through ctest)")
    return b


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=2.0):
    """(status, body) of a GET; status 0 when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except (urllib.error.URLError, ConnectionError, socket.timeout):
        return 0, ""


def wait_for(what, fn, timeout_s, interval=0.2):
    """Poll fn until it returns something true; fail naming what was awaited."""
    deadline = time.monotonic() + timeout_s
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(interval)


def deploy_metric_names():
    with open(DASHBOARD, encoding="utf-8") as f:
        dash = json.load(f)
    names = set()
    for p in dash["panels"]:
        for q in p.get("panels", []) + [p]:
            for t in q.get("targets", []):
                names |= set(METRIC_TOKEN.findall(t["expr"]))
    with open(RULES, encoding="utf-8") as f:
        for g in yaml.safe_load(f)["groups"]:
            for r in g["rules"]:
                names |= set(METRIC_TOKEN.findall(r["expr"]))
    return names


def live_only_metrics():
    """Names in the "Live mode only" section of docs/metrics.md."""
    with open(METRICS_DOC, encoding="utf-8") as f:
        doc = f.read()
    m = re.search(r"^#+ Live mode only\s*$(.*?)(?=^#)", doc, re.M | re.S)
    assert m, "docs/metrics.md has no 'Live mode only' section"
    names = set(re.findall(r"^\|\s*`(soakwatch_[a-z0-9_]+)`", m.group(1), re.M))
    assert names, "the live-only section lists no metric"
    return names


def parse_scrape(text):
    """{(name, frozenset(labels)): value} of a Prometheus text exposition."""
    out = {}
    sample = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)( \d+)?$')
    label = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = sample.match(line)
        assert m, f"unparseable exposition line: {line!r}"
        labels = frozenset(label.findall(m.group(3) or ""))
        out[(m.group(1), labels)] = float(m.group(4))
    return out


def make_events(now_s):
    """A deterministic stream over the 200 seconds before now_s, ending with
    an event at now_s that moves the watermark past all the others."""
    evs = []
    for s in range(now_s - 200, now_s - 10):
        ms = s * 1000
        for k in range(3 if s % 7 == 0 else 2):
            evs.append({"event": PREFIX + "requested", "ts": ms + 10 * k,
                        "compressionStrategy": "pending"})
        evs.append({"event": PREFIX + "succeeded", "ts": ms + 300, "status": 200,
                    "durationMs": 100 + (s % 10) * 50, "meetsTimeConstraint": s % 4 != 0,
                    "compressionStrategy": "core_only" if s % 3 else "core_plus_superset"})
        if s % 5 == 0:
            evs.append({"event": PREFIX + "fallback", "ts": ms + 600, "status": 500,
                        "durationMs": 2500, "reason": "internal_error",
                        "compressionStrategy": "none"})
        elif s % 6 == 0:
            evs.append({"event": PREFIX + "fallback", "ts": ms + 700, "status": 422,
                        "durationMs": 40, "reason": "plan_not_compressible",
                        "compressionStrategy": "none"})
    evs.append({"event": PREFIX + "declined", "ts": now_s * 1000, "reason": "modal_closed",
                "compressionStrategy": "user_decline"})
    return evs


def expected_window(evs, lo_s, hi_s):
    """Counts of section 4 over the events whose second is in [lo_s, hi_s]."""
    inside = [e for e in evs if lo_s <= e["ts"] // 1000 <= hi_s]
    kinds = [e["event"][len(PREFIX):] for e in inside]
    outcomes = [e for e in inside if e["event"].endswith(("succeeded", "fallback"))]
    return {
        "requests": kinds.count("requested"),
        "outcomes": len(outcomes),
        "successes": kinds.count("succeeded"),
        "errors": sum(1 for e in outcomes if e.get("status", 200) >= 500),
        "latency_sum_ms": sum(e["durationMs"] for e in outcomes),
    }


@pytest.fixture
def soakwatch(tmp_path):
    b = need_bin()
    port = free_port()
    out = open(tmp_path / "outputs.jsonl", "w")
    err = open(tmp_path / "stderr.txt", "w")
    # With the soak cadence on (a soak that began ten minutes ago), so that
    # its families, which the dashboard shows, are served too.
    soak_start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 600))
    p = subprocess.Popen([b, "run", "--http", f"127.0.0.1:{port}", "--soak-start", soak_start],
                         stdin=subprocess.PIPE, stdout=out, stderr=err, text=True)
    yield p, port, tmp_path
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    out.close()
    err.close()


@pytest.fixture
def prometheus(tmp_path):
    """Start Prometheus with a config made by the test; yields (start, port)."""
    prom = need_tool("prometheus")
    procs = []

    def start(target_port):
        port = free_port()
        cfg = tmp_path / "prometheus.yml"
        cfg.write_text(yaml.safe_dump({
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [RULES],
            "scrape_configs": [{"job_name": "soakwatch",
                                "static_configs": [{"targets": [f"127.0.0.1:{target_port}"]}]}],
        }))
        log = open(tmp_path / "prometheus.log", "w")
        p = subprocess.Popen([prom, f"--config.file={cfg}",
                              f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                              f"--web.listen-address=127.0.0.1:{port}"],
                             stdout=log, stderr=subprocess.STDOUT)
        procs.append((p, log))
        wait_for("Prometheus to be ready",
                 lambda: p.poll() is None and http_get(f"http://127.0.0.1:{port}/-/ready")[0] == 200, 60)
        return port

    yield start
    for p, log in procs:
        p.terminate()
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        log.close()


def prom_query(port, q):
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": q})
    status, body = http_get(url, timeout=5)
    assert status == 200, f"query {q!r}: HTTP {status} {body[:200]}"
    data = json.loads(body)
    assert data["status"] == "success", data
    return data["data"]["result"]


def test_live_scrape_serves_every_metric_the_deploy_files_use(soakwatch, prometheus):
    promtool = need_tool("promtool")
    need_tool("prometheus")
    proc, port, tmp = soakwatch
    started = time.time()
    now_s = int(started)
    evs = make_events(now_s)
    lines = "".join(json.dumps(e) + "\n" for e in evs)
    proc.stdin.write(lines)
    proc.stdin.flush()  # stdin stays open: soakwatch keeps running live

    base = f"http://127.0.0.1:{port}"
    wait_for("/readyz to answer 200",
             lambda: proc.poll() is None and http_get(base + "/readyz")[0] == 200, 30)
    assert http_get(base + "/healthz")[0] == 200

    def all_read():
        status, body = http_get(base + "/metrics")
        if status != 200:
            return None
        samples = parse_scrape(body)
        if samples.get(("soakwatch_messages_total", frozenset())) == len(evs):
            return body
        return None
    scrape = wait_for(f"soakwatch_messages_total to reach {len(evs)}", all_read, 30)
    read_done = time.time()
    samples = parse_scrape(scrape)

    # Names: everything the dashboard and rules use is served, except exactly
    # the live-only ones, which stdin mode has no data for.
    families = {name for name, _ in samples}
    used = deploy_metric_names()
    live_only = live_only_metrics()
    assert used - families == used & live_only
    assert not (families & live_only), "stdin mode serves a metric documented as live-only"

    # The format: promtool's linter must accept the scrape as it is.
    p = subprocess.run([promtool, "check", "metrics"], input=scrape, capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr

    # Values. The anchor event at now_s puts the watermark at now_s - 2 (the
    # default allowed lateness), and the wall clock can only move it on, so
    # the last instant T is in [now_s - 2, now_s + elapsed] and the 300 s
    # window [T-300, T-1] holds every second from now_s - 200 to now_s - 3.
    elapsed = int(time.time() - started) + 1
    assert elapsed < 90, "the test is too slow for its own window arithmetic"
    want = expected_window(evs, now_s + elapsed - 300, now_s - 3)
    every = expected_window(evs, 0, now_s - 3)
    assert want == every, "the generated events must all fall in the 300 s window"
    assert want["requests"] > 380 and want["errors"] > 0 and want["outcomes"] > want["successes"]

    def g(name, **labels):
        key = (name, frozenset(labels.items()))
        assert key in samples, f"{name}{labels} is not in the scrape"
        return samples[key]
    for k in ("requests", "outcomes", "successes", "errors"):
        assert g(f"soakwatch_window_{k}", window="300") == want[k], k
    mean_s = want["latency_sum_ms"] / want["outcomes"] / 1000
    assert abs(g("soakwatch_window_latency_mean_seconds", window="300") - mean_s) <= 1e-9 * mean_s
    assert g("soakwatch_events_total", kind="requested") == want["requests"]
    assert g("soakwatch_ready") == 1
    assert g("soakwatch_status_code") in (0, 1, 2)
    # Fewer than 300 s observed: no rule may speak yet (SEMANTICS section 5).
    assert all(v == 0 for (n, _), v in samples.items() if n == "soakwatch_rule_firing")
    # The soak began ten minutes ago: no period closed, no verdict yet, and
    # neither kind of soak event written.
    assert g("soakwatch_soak_hour") == 0
    assert g("soakwatch_soak_last_update_status") == -1
    for v in ("go", "no_go", "pending"):
        assert g("soakwatch_soak_verdict", verdict=v) == 0, v
    assert g("soakwatch_soak_verdict_hour") == 0
    assert g("soakwatch_outputs_total", type="soak_update") == 0
    assert g("soakwatch_outputs_total", type="soak_verdict") == 0
    assert g("soakwatch_outputs_total", type="status") > 0

    # A real Prometheus scrapes it, with the alert and recording rules loaded.
    pport = prometheus(port)

    def fresh_sample():
        r = prom_query(pport, 'timestamp(soakwatch_window_requests{window="300"})')
        return r and float(r[0]["value"][1]) > read_done
    wait_for("Prometheus to scrape soakwatch after all events were read", fresh_sample, 60)
    r = prom_query(pport, 'soakwatch_window_requests{window="300"}')
    assert len(r) == 1, r
    assert r[0]["metric"]["job"] == "soakwatch"
    assert float(r[0]["value"][1]) == want["requests"]
    r = prom_query(pport, 'soakwatch_window_errors{window="300"}')
    assert float(r[0]["value"][1]) == want["errors"]
    r = prom_query(pport, 'up{job="soakwatch"}')
    assert [float(x["value"][1]) for x in r] == [1.0]
    # The dashboard's soak panels, as Grafana asks them: the hour and the
    # status are one value each, the verdict none yet ("no verdict yet").
    with open(DASHBOARD, encoding="utf-8") as f:
        soak_row = {q["title"]: q["targets"][0]["expr"] for q in json.load(f)["panels"]
                    if q["title"] in ("Soak Hour", "Last Soak Update Status", "Soak Verdict",
                                      "Soak Verdict Hour")}
    assert [float(x["value"][1]) for x in prom_query(pport, soak_row["Soak Hour"])] == [0.0]
    assert [float(x["value"][1])
            for x in prom_query(pport, soak_row["Last Soak Update Status"])] == [-1.0]
    assert prom_query(pport, soak_row["Soak Verdict"]) == []
    assert [float(x["value"][1]) for x in prom_query(pport, soak_row["Soak Verdict Hour"])] == [0.0]

    # Every rule of deploy/prometheus runs against the real series without
    # error, and no alert fires on this healthy input.
    def rules_evaluated():
        status, body = http_get(f"http://127.0.0.1:{pport}/api/v1/rules", timeout=5)
        if status != 200:
            return None
        groups = json.loads(body)["data"]["groups"]
        rules = [r for g in groups for r in g["rules"]]
        if rules and all(r.get("health") != "unknown" for r in rules):
            return rules
        return None
    rules = wait_for("Prometheus to evaluate every rule", rules_evaluated, 90, interval=1)
    with open(RULES, encoding="utf-8") as f:
        n_rules = sum(len(g["rules"]) for g in yaml.safe_load(f)["groups"])
    assert len(rules) == n_rules
    bad = [(r["name"], r.get("lastError")) for r in rules if r["health"] != "ok"]
    assert not bad, bad
    firing = [r["name"] for r in rules if r["type"] == "alerting" and r["state"] == "firing"]
    assert not firing, firing
    count = prom_query(pport, "soakwatch:rules_firing:count")
    assert [float(x["value"][1]) for x in count] == [0.0]

    # soakwatch stops cleanly on SIGTERM.
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=15) == 0, (tmp / "stderr.txt").read_text()
