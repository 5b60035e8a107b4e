"""The bundled 48-hour soak recording (examples/soak48.jsonl.gz, its config
examples/soak48.config.json): the script makes it byte for byte from the
command in examples/README.md; soakwatch's replay of it equals the
independent reference (tests/integration/reference.py), its triggers,
rollback checks, soak updates and verdicts byte for byte and held to
examples/soak48.expected.jsonl; and it shows what it is bundled to show:
the runbook's cadence, one rollback that was verified and one that was not."""

import gzip
import json
import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import recordings  # noqa: E402
import reference  # noqa: E402

SRC = Path(os.environ.get("SOAKWATCH_SRC", HERE.parent.parent))
BIN = os.environ.get("SOAKWATCH_BIN", str(SRC / "build" / "soakwatch"))
RECORDING = SRC / "examples" / "soak48.jsonl.gz"
CONFIG = SRC / "examples" / "soak48.config.json"
EXPECTED = SRC / "examples" / "soak48.expected.jsonl"
# what examples/soak48.expected.jsonl keeps of the output (the 2,880 status
# events are left out: they are the bulk, and their percentiles are read
# from a histogram, within 1% of the reference's exact ones)
KEPT = ("rollback_trigger", "rollback_check", "soak_update", "soak_verdict")
# the incidents, as examples/README.md describes them: the verified
# rollback in soak hour 5, the unverified one in soak hour 32
INCIDENT_HOURS = {5: "2026-11-23T12:", 32: "2026-11-24T14:"}
SOAK_START_MS = 1795420800000


@pytest.fixture(scope="module")
def reference_outputs():
    return recordings.reference_outputs(RECORDING, CONFIG)


@pytest.fixture(scope="module")
def replayed():
    return recordings.replay(BIN, CONFIG, RECORDING, timeout=600)


def kept(lines):
    return [l for l in lines if json.loads(l)["type"] in KEPT]


events = recordings.events


def test_recording_is_what_the_readme_command_generates(tmp_path):
    recordings.check_readme_generates(SRC, "## The 48-hour soak: `soak48.jsonl.gz`", RECORDING, tmp_path)


def test_expected_file_is_the_reference_output(reference_outputs):
    assert EXPECTED.read_text().splitlines() == kept(reference_outputs)


def test_replay_equals_reference(replayed, reference_outputs):
    # triggers, checks, updates and verdicts byte for byte; everything (the status
    # events too) field by field, percentiles within 1%
    assert kept(replayed) == kept(reference_outputs)
    diffs = reference.compare([json.loads(l) for l in reference_outputs],
                              [json.loads(l) for l in replayed])
    assert not diffs, "soakwatch differs from the reference:\n" + "\n".join(diffs)


def test_one_verified_and_one_not_verified_rollback(replayed):
    trig = events(replayed, "rollback_trigger")
    assert [(e["rule"], e["state"]) for e in trig] == [("latency_high", "firing"),
                                                       ("latency_high", "resolved")] * 2
    checks = events(replayed, "rollback_check")
    assert [e["state"] for e in checks] == ["verified", "baseline", "not_verified", "baseline"]
    verified, base1, not_verified, base2 = checks
    fired1, resolved1, fired2, resolved2 = trig
    # the flag went off after the first firing: the endpoint answered
    # feature_not_available within the 5 minutes
    assert verified["fired_at_ms"] == fired1["at_ms"]
    assert verified["evidence"] == "feature_not_available" and verified["action"] == "none"
    assert fired1["at_ms"] < verified["at_ms"] <= fired1["at_ms"] + 300000
    assert (base1["at_ms"], base1["fired_at_ms"]) == (resolved1["at_ms"], fired1["at_ms"])
    assert base1["verified_at_ms"] == verified["at_ms"]
    # it did not after the second: slow answers went on, escalate
    assert not_verified["fired_at_ms"] == fired2["at_ms"]
    assert not_verified["at_ms"] == fired2["at_ms"] + 300000
    assert not_verified["action"] == "escalate" and not_verified["evidence"] is None
    assert (base2["at_ms"], base2["fired_at_ms"]) == (resolved2["at_ms"], fired2["at_ms"])
    assert base2["verified_at_ms"] is None and base2["evidence"] is None
    assert fired2["at_ms"] < not_verified["at_ms"] < resolved2["at_ms"]


def test_soak_updates_on_the_runbook_cadence(replayed):
    ups = events(replayed, "soak_update")
    assert [u["hour_to"] for u in ups] == list(range(1, 9)) + list(range(12, 49, 4))
    for u in ups:
        assert u["soak_start_ms"] == SOAK_START_MS  # soak.start, 2026-11-23T08:00:00Z
        want = "red" if u["hour_to"] in INCIDENT_HOURS else "green"
        assert u["status"] == want, (u["hour_to"], u["status"])
        names = [(n["rule"], n["state"]) for n in u["notes"]["triggers"]]
        if u["hour_to"] in INCIDENT_HOURS:
            assert names == [("latency_high", "firing"), ("latency_high", "resolved")]
        else:
            assert names == []
    assert ups[-1]["next"] is None


def test_update_text_names_the_verified_firing(replayed):
    fired = events(replayed, "rollback_trigger")[0]
    (u5,) = [u for u in events(replayed, "soak_update") if u["hour_to"] == 5]
    assert fired["at"].startswith(INCIDENT_HOURS[5])
    assert u5["period_start_ms"] < fired["at_ms"] <= u5["at_ms"]
    assert "Hour 5" in u5["text"].splitlines()[0]
    assert "🔍 Status: Red" in u5["text"]
    assert "latency_high firing at %s" % fired["at"] in u5["text"]
    (u32,) = [u for u in events(replayed, "soak_update") if u["hour_to"] == 32]
    fired2 = events(replayed, "rollback_trigger")[2]
    assert fired2["at"].startswith(INCIDENT_HOURS[32])
    assert "latency_high firing at %s" % fired2["at"] in u32["text"]


def test_recording_size_and_span():
    # small enough to bundle: about 1 event a second for 48 hours
    assert RECORDING.stat().st_size < 3_000_000
    lines = gzip.decompress(RECORDING.read_bytes()).splitlines()
    assert 150_000 < len(lines) < 200_000


def test_verdicts_are_no_go_for_the_firings(replayed):
    # both firings fell in the first 48 hours, so neither verdict can be go
    verdicts = events(replayed, "soak_verdict")
    assert [(v["kind"], v["verdict"]) for v in verdicts] == [("provisional", "no_go"),
                                                             ("final", "no_go")]
    for v in verdicts:
        (c,) = [c for c in v["criteria"] if c["key"] == "no_rollback_trigger"]
        assert c["pass"] is False
