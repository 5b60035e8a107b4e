"""The bundled incident recording, replayed by soakwatch, must give the
output the contract gives (examples/incident.expected.jsonl, computed by the
independent reference in reference.py): field by field, the histogram
percentiles within 1%, everything else exactly."""

import gzip
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import reference  # noqa: E402

SRC = Path(os.environ.get("SOAKWATCH_SRC", HERE.parent.parent))
BIN = os.environ.get("SOAKWATCH_BIN", str(SRC / "build" / "soakwatch"))
RECORDING = SRC / "examples" / "incident.jsonl.gz"
EXPECTED = SRC / "examples" / "incident.expected.jsonl"


def run(*args):
    p = subprocess.run([BIN, "replay", "--input", str(RECORDING), *args], capture_output=True,
                       timeout=300)
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    return p.stdout.decode(), p.stderr.decode()


@pytest.fixture(scope="module")
def expected():
    return [json.loads(line) for line in EXPECTED.read_text().splitlines()]


@pytest.fixture(scope="module")
def reference_result():
    return reference.replay(reference.split_lines(reference.read_input(str(RECORDING))))


@pytest.fixture(scope="module")
def replayed():
    out, err = run()
    return [json.loads(line) for line in out.splitlines()], err


def test_expected_file_is_the_reference_output(reference_result):
    # The expected file must be what the reference computes today, not a
    # stale copy (nor anything soakwatch wrote).
    want = [reference.dumps(e) for e in reference_result.outputs]
    assert EXPECTED.read_text().splitlines() == want


def test_output_matches_expected(expected, replayed):
    got, _ = replayed
    diffs = reference.compare(expected, got)
    assert not diffs, "soakwatch differs from examples/incident.expected.jsonl:\n" + "\n".join(
        diffs)


def test_error_burst_fires_and_resolves_once(replayed):
    got, _ = replayed
    trig = [(e["rule"], e["state"]) for e in got if e["type"] == "rollback_trigger"]
    assert trig.count(("error_rate_high", "firing")) == 1
    assert trig.count(("error_rate_high", "resolved")) == 1
    assert trig.index(("error_rate_high", "firing")) < trig.index(("error_rate_high", "resolved"))
    assert not [r for r, _ in trig if r in ("latency_high", "zero_requests")]
    for e in got:
        if e["type"] == "rollback_trigger" and e["rule"] == "error_rate_high":
            # 09:20 to 09:32 UTC is the burst; the 5-minute window sees it
            # within minutes and forgets it within minutes
            assert "2026-11-20T09:20" <= e["at"] <= "2026-11-20T09:40", e


def test_summary_line_reports_reference_counts(replayed, reference_result):
    _, err = replayed
    lines = [l for l in err.splitlines() if l.startswith("soakwatch: ") and "accepted" in l]
    assert lines, err
    want = "soakwatch: " + reference.summary_line(reference_result.summary)
    assert lines[-1] == want
    s = reference_result.summary
    # what the generator broke on purpose (examples/README.md)
    assert s["rejected"] == {"invalid_json": 3, "duration": 2, "status": 2}
    assert (s["ignored"], s["late"], s["out_of_range"]) == (4, 1, 1)


def test_text_format_one_line_per_event(expected):
    out, _ = run("--format", "text")
    lines = out.splitlines()
    assert len(lines) == len(expected)
    for line, ev in zip(lines, expected):
        if ev["type"] == "rollback_trigger":
            word = "FIRING" if ev["state"] == "firing" else "RESOLVED"
            assert word in line and ev["rule"] in line, (line, ev["id"])
        elif ev["type"] == "rollback_check":
            word = ev["state"].upper()
            assert word in line and ev["rule"] in line, (line, ev["id"])
        else:
            word = ev["status"].upper()
            assert word in line, (line, ev["at"])
        others = {"FIRING", "RESOLVED", "GREEN", "YELLOW", "RED", "VERIFIED", "NOT_VERIFIED",
                  "BASELINE"} - {word}
        assert not [w for w in others if w in line.split()], line
        assert ev["at"] in line, line


def _validator(name):
    path = SRC / "schemas" / name
    if not path.exists():
        pytest.skip("%s not written yet" % path)
    try:
        import jsonschema
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("python3 jsonschema is missing (apt install python3-jsonschema)")
        pytest.skip("python3 jsonschema is missing")
    schema = json.loads(path.read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def test_output_validates_against_schemas(replayed, expected):
    got, _ = replayed
    by_type = {"rollback_trigger": _validator("rollback-trigger.schema.json"),
               "rollback_check": _validator("rollback-check.schema.json"),
               "status": _validator("status.schema.json")}
    assert {ev.get("type") for ev in got} == set(by_type)  # the incident has all three
    for i, ev in enumerate(got + expected):
        v = by_type[ev.get("type")]
        errors = sorted(v.iter_errors(ev), key=str)
        assert not errors, "event %d: %s" % (i, errors[0].message)


def test_recording_is_what_the_readme_command_generates(tmp_path):
    # The command in examples/README.md must still make the bundled file.
    readme = (SRC / "examples" / "README.md").read_text()
    block = readme.split("It was generated with:", 1)[1].strip().split("\n\n", 1)[0]
    argv = shlex.split(block.replace("\\\n", " "))
    assert argv[0] == "scripts/gen-recording.py" and argv[-2:] == ["-o", "examples/incident.jsonl.gz"]
    out = tmp_path / "incident.jsonl.gz"
    subprocess.run([sys.executable, str(SRC / argv[0])] + argv[1:-1] + [str(out)], check=True,
                   timeout=600)
    assert gzip.decompress(out.read_bytes()) == gzip.decompress(RECORDING.read_bytes())
