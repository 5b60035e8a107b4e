"""The bundled canary recording (examples/canary.jsonl.gz, its config
examples/canary.config.json; docs/semantics.md section 12): the script makes
it byte for byte from the command in examples/README.md; soakwatch's replay
of it writes examples/canary.expected.jsonl (its rollback triggers, as the
independent reference computes them) byte for byte, its statuses agree with
the reference's field by field; and it shows what it is bundled to show:
gatewayVersion v2, about 10% of the traffic, fails about half its previews
for 40 minutes while the whole topic's error_rate_high stays silent, and the
comparison rule and the rule scoped to each cohort fire for v2 alone, then
resolve. Last, `soakwatch report` draws each cohort beside the whole."""

import gzip
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import recordings  # noqa: E402
import reference  # noqa: E402

SRC = Path(os.environ.get("SOAKWATCH_SRC", HERE.parent.parent))
BIN = os.environ.get("SOAKWATCH_BIN", str(SRC / "build" / "soakwatch"))
RECORDING = SRC / "examples" / "canary.jsonl.gz"
CONFIG = SRC / "examples" / "canary.config.json"
EXPECTED = SRC / "examples" / "canary.expected.jsonl"
# what canary.expected.jsonl keeps of the output: the statuses (180, each
# with its cohorts) are compared with the reference's on every run instead
KEPT = ("rollback_trigger", "rollback_check")
START_MS = 1795766400000                         # 2026-11-27T08:00:00Z
FAIL_FROM, FAIL_TO = START_MS + 3600_000, START_MS + 6000_000  # 09:00 to 09:40


@pytest.fixture(scope="module")
def reference_outputs():
    return recordings.reference_outputs(RECORDING, CONFIG)


@pytest.fixture(scope="module")
def replayed():
    return recordings.replay(BIN, CONFIG, RECORDING, timeout=300)


def kept(lines):
    return [l for l in lines if json.loads(l)["type"] in KEPT]


events = recordings.events


def test_recording_is_what_the_readme_command_generates(tmp_path):
    recordings.check_readme_generates(SRC, "## The canary: `canary.jsonl.gz`", RECORDING, tmp_path)


def test_recording_is_small_and_carries_the_versions():
    assert RECORDING.stat().st_size < 1_000_000
    docs = [json.loads(l) for l in gzip.decompress(RECORDING.read_bytes()).splitlines()]
    assert 20_000 < len(docs) < 80_000
    versions = [d["gatewayVersion"] for d in docs if d["event"].endswith("_requested")]
    assert set(versions) == {"v1", "v2"}
    assert 0.08 < versions.count("v2") / len(versions) < 0.12


def test_expected_file_is_the_reference_output(reference_outputs):
    assert EXPECTED.read_text().splitlines() == kept(reference_outputs)


def test_replay_equals_expected_and_reference(replayed, reference_outputs):
    assert kept(replayed) == EXPECTED.read_text().splitlines()
    diffs = reference.compare([json.loads(x) for x in reference_outputs],
                              [json.loads(x) for x in replayed])
    assert not diffs, "soakwatch differs from the reference:\n" + "\n".join(diffs[:20])


def test_cohorts_add_up_to_the_whole(replayed):
    # every accepted event is of exactly one cohort: v1, v2 or other; the
    # cohorts hold the status window, 300 s here
    sts = events(replayed, "status")
    assert len(sts) == 180
    for st in sts:
        assert list(st["cohorts"]) == ["v1", "v2", "other"]
        for key in ("requests", "outcomes", "successes", "errors"):
            assert sum(c[key] for c in st["cohorts"].values()) == st["windows"]["300"][key]


def test_whole_topic_silent_while_v2_fails(replayed):
    trig = events(replayed, "rollback_trigger")
    assert [(e["rule"], e.get("cohort"), e["state"]) for e in trig] == [
        ("canary_error_rate", "v2", "firing"), ("cohort_error_rate_high", "v2", "firing"),
        ("cohort_error_rate_high", "v2", "resolved"), ("canary_error_rate", "v2", "resolved")]
    assert events(replayed, "rollback_check") == []  # a cohort's trigger starts no check
    for st in events(replayed, "status"):
        w = st["windows"]["300"]
        assert st["firing"] == []
        assert w["error_rate"] is None or w["error_rate"] <= 0.10
        v2 = st["cohorts"]["v2"]
        if FAIL_FROM + 300_000 <= st["at_ms"] <= FAIL_TO:
            assert 0.3 < v2["error_rate"] < 0.7, st["at"]  # about half of v2 fails
            assert "canary_error_rate:v2" in st["cohorts_firing"] and st["status"] == "red"
        if st["at_ms"] < FAIL_FROM or st["at_ms"] > FAIL_TO + 600_000:
            assert st["cohorts"]["v1"]["error_rate"] in (0, None) or \
                st["cohorts"]["v1"]["error_rate"] < 0.02
            assert st["cohorts_firing"] == []


def test_compare_rule_fires_for_v2_then_resolves(replayed):
    fire, resolved = [e for e in events(replayed, "rollback_trigger")
                      if e["rule"] == "canary_error_rate"]
    assert FAIL_FROM < fire["at_ms"] < FAIL_FROM + 300_000
    assert FAIL_TO < resolved["at_ms"] < FAIL_TO + 600_000
    assert fire["id"] == "canary_error_rate:v2:%d" % fire["at_ms"]
    assert fire["action"] == "rollback_cohort" and resolved["action"] == "none"
    c = fire["compare"]
    assert (c["treatment"]["cohort"], c["control"]["cohort"]) == ("v2", "v1")
    assert c["treatment"]["samples"] >= 20 and c["control"]["samples"] >= 20
    assert c["treatment"]["value"] - c["control"]["value"] == pytest.approx(fire["value"])
    assert fire["value"] > 0.02 and c["p_value"] <= c["alpha_per_look"]


def test_report_of_the_replay_draws_each_cohort(replayed, tmp_path):
    # the pipeline docs/reports.md gives
    cmd = "%s replay --config %s --input %s | %s report --format html" % (
        shlex.quote(BIN), shlex.quote(str(CONFIG)), shlex.quote(str(RECORDING)), shlex.quote(BIN))
    p = subprocess.run(["sh", "-c", cmd], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    html = p.stdout
    err = html.split("<h2>Error rate</h2>", 1)[1].split("</section>", 1)[0]
    legend = re.findall(r"<text [^>]*class='legend'>([^<]*)</text>", err)
    assert legend == ["error rate, whole topic", "cohort v1", "cohort v2", "cohort other"]
    assert len(re.findall(r"<path fill='none'", err)) == 4
    assert "canary_error_rate [v2]" in html and "cohort_error_rate_high [v2]" in html
    assert "<h2>Hourly updates by cohort</h2>" in html
    text = subprocess.run([BIN, "report", "--input", "-"], input="\n".join(replayed) + "\n",
                          capture_output=True, text=True, timeout=120)
    assert text.returncode == 0, text.stderr
    assert re.search(r"canary_error_rate \[v2\] FIRING at 09:00:\d\d \(error_rate difference "
                     r"[0-9.]+ > 0\.02 over 300 s: v2 [0-9.]+ \(\d+ samples\) vs v1 [0-9.e-]+ "
                     r"\(\d+ samples\), p = [0-9.e-]+\)", text.stdout), text.stdout
    assert "- Cohort v2: success" in text.stdout
