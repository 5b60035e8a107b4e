"""`soakwatch check-config CONFIG --input SAMPLE` (docs/configuration.md,
"input"): what it counts must be what the independent reference reads from
the same lines, a rule it calls blind must be one the reference's section
9.7 calls blind over the whole sample, its exit status must say so, and the
README must show what it really prints."""

import gzip
import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import reference  # noqa: E402

SRC = Path(os.environ.get("SOAKWATCH_SRC", HERE.parent.parent))
BIN = os.environ.get("SOAKWATCH_BIN", str(SRC / "build" / "soakwatch"))
SHAPES = SRC / "examples" / "shapes"


def check(config, sample, *extra):
    return subprocess.run([BIN, "check-config", str(config), "--input", str(sample), *extra],
                          capture_output=True, text=True, timeout=120)


def reference_counts(config_path, sample):
    cfg = reference.make_config(json.loads(Path(config_path).read_text()))
    verdicts = Counter()
    lines = 0
    for raw in reference.split_lines(reference.read_input(str(sample))):
        lines += 1
        for verdict, _ in reference.decode_message(raw, cfg):
            verdicts[verdict] += 1
    return lines, verdicts


SUMMARY = re.compile(r"^(?P<path>\S+): (?P<lines>\d+) lines: (?P<ok>\d+) events accepted, "
                     r"(?P<ignored>\d+) ignored, (?P<filtered>\d+) filtered, (?P<rejected>\d+) "
                     r"rejected(?: \((?P<reasons>[^)]*)\))?$", re.M)


@pytest.mark.parametrize("shape", ["flat", "logger", "token", "filebeat", "fluentbit", "syslog",
                                   "otlp", "sampled"])
def test_counts_are_the_references(shape):
    config, sample = SHAPES / f"{shape}.config.json", SHAPES / f"{shape}.jsonl.gz"
    p = check(config, sample)
    assert p.returncode == 0, p.stdout + p.stderr
    m = SUMMARY.search(p.stdout)
    assert m, p.stdout
    lines, v = reference_counts(config, sample)
    rejected = {k: n for k, n in v.items() if k not in ("ok", "ignored", "filtered")}
    assert int(m["lines"]) == lines
    assert int(m["ok"]) == v["ok"]
    assert int(m["ignored"]) == v["ignored"]
    assert int(m["filtered"]) == v["filtered"]
    assert int(m["rejected"]) == sum(rejected.values())
    got = dict((r.split()[0], int(r.split()[1])) for r in (m["reasons"] or "").split(", ") if r)
    assert got == rejected
    assert re.findall(r"^  (\S+) +ok:", p.stdout, re.M) == [
        r["name"] for r in reference.make_config(json.loads(config.read_text()))["rules"]]


def test_a_mapping_without_latency_is_blind_and_says_why(tmp_path):
    cfg = json.loads((SHAPES / "logger.config.json").read_text())
    del cfg["input"]["correlate"]
    cfg["input"]["fields"]["duration"] = None
    cfg["input"]["duration_required"] = False
    path = tmp_path / "no-latency.json"
    path.write_text(json.dumps(cfg))
    p = check(path, SHAPES / "logger.jsonl.gz")
    assert p.returncode == 1, p.stdout + p.stderr
    assert re.search(r"^  latency_high +BLIND: .*input\.fields\.duration is null", p.stdout, re.M)
    assert re.search(r"^  error_rate_high +ok:", p.stdout, re.M)
    # the same warning at start-up, on stderr, naming the key
    assert "warning: rule latency_high can never see a latency" in p.stderr


def test_traffic_without_the_field_is_blind(tmp_path):
    # Fallbacks with neither status nor reason: errors cannot be told apart.
    sample = tmp_path / "s.jsonl"
    ev = "stream5.time_crunch_preview_"
    sample.write_text("".join(json.dumps(d) + "\n" for d in [
        {"event": ev + "requested", "ts": 1000},
        {"event": ev + "fallback", "ts": 1100, "durationMs": 5},
        {"event": ev + "succeeded", "ts": 1200, "durationMs": 5},
    ]))
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"input": {"fields": {"event": "event"}}}))
    p = check(cfg, sample)
    assert p.returncode == 1, p.stdout
    assert re.search(r"^  error_rate_high +BLIND: .*no status_or_reason", p.stdout, re.M)
    # and a reason on the fallback makes it visible
    sample.write_text(sample.read_text().replace('"durationMs": 5}', '"durationMs": 5, '
                                                 '"reason": "plan_not_compressible"}', 1))
    p = check(cfg, sample)
    assert p.returncode == 0, p.stdout


def test_nothing_accepted_is_a_failure_with_a_hint():
    p = check(SRC / "examples" / "config.default.json", SHAPES / "logger.jsonl.gz")
    assert p.returncode == 1
    assert "rejected (event " in p.stdout
    assert "no event was accepted" in p.stdout


def test_unreadable_sample_names_the_path(tmp_path):
    p = check(SHAPES / "logger.config.json", tmp_path / "missing.jsonl")
    assert p.returncode == 2
    assert "missing.jsonl" in p.stderr


def test_readme_shows_what_it_prints():
    readme = (SRC / "README.md").read_text()
    block = re.search(r"```sh\n(build/soakwatch check-config [^\n]+)\n((?:# [^\n]*\n)+)```",
                      readme)
    assert block, "README has no check-config --input example"
    args = block[1].split()[1:]
    p = subprocess.run([BIN, *args], capture_output=True, text=True, cwd=SRC, timeout=120)
    shown = "".join(line[2:] + "\n" for line in block[2].splitlines())
    assert p.stdout == shown
