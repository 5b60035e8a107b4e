"""The JSON Schemas: each is a valid draft 2020-12 schema, the example
configs satisfy the config schema, input events are told apart as the
contract says, and the loader (soakwatch check-config) agrees with the
config schema on what is valid."""
import copy
import json
import os
import pathlib
import subprocess

import jsonschema
import pytest

SRC = pathlib.Path(os.environ.get("SOAKWATCH_SRC", pathlib.Path(__file__).resolve().parents[2]))
BIN = os.environ.get("SOAKWATCH_BIN", "")
SCHEMAS = SRC / "schemas"
EXAMPLES = [SRC / "examples" / "config.default.json", SRC / "examples" / "config.backtest-8pct.json"]
NAMES = ["config", "input-event", "rollback-trigger", "status", "rollback-check", "soak-update",
         "soak-verdict"]


def schema(name):
    with open(SCHEMAS / f"{name}.schema.json") as f:
        return json.load(f)


def validator(name):
    return jsonschema.Draft202012Validator(
        schema(name), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def load(path):
    with open(path) as f:
        return json.load(f)


@pytest.mark.parametrize("name", NAMES)
def test_schema_is_valid(name):
    s = schema(name)
    jsonschema.Draft202012Validator.check_schema(s)
    assert s["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert s["$id"] == f"https://soakwatch.example/schemas/{name}.schema.json"
    assert s.get("description")


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_match_config_schema(path):
    validator("config").validate(load(path))


def test_backtest_differs_only_in_the_threshold():
    default, backtest = (load(p) for p in EXAMPLES)
    assert backtest["rules"][0]["name"] == "error_rate_high"
    assert backtest["rules"][0]["threshold"] == 0.08
    assert default["rules"][0]["threshold"] == 0.1
    backtest["rules"][0]["threshold"] = 0.1
    assert backtest == default


# Configs both the schema and the loader must refuse, with the key the
# loader's message must name.
def bad_configs():
    base = load(EXAMPLES[0])

    def with_change(fn):
        d = copy.deepcopy(base)
        fn(d)
        return d

    return [
        ("unknown top key", {"allowed_latenes_s": 2}, "allowed_latenes_s"),
        ("unknown nested key", {"status": {"interval": 60}}, "status.interval"),
        ("wrong type", with_change(lambda d: d["rules"][2].__setitem__("threshold", "5000")),
         "rules[2].threshold: expected a number, got string"),
        ("integer as real", {"max_gap_s": 1.5}, "max_gap_s"),
        ("out of range", {"max_message_bytes": 100}, "max_message_bytes"),
        ("rate above one", {"status": {"success_rate_min": 1.5}}, "status.success_rate_min"),
        ("unknown metric", {"rules": [{"name": "a", "metric": "error_ratio", "op": ">",
                                       "threshold": 1, "window_s": 60}]}, "rules[0].metric"),
        ("bad operator", {"rules": [{"name": "a", "metric": "errors", "op": "=",
                                     "threshold": 1, "window_s": 60}]}, "rules[0].op"),
        ("window too long", {"rules": [{"name": "a", "metric": "errors", "op": ">",
                                        "threshold": 1, "window_s": 86401}]}, "rules[0].window_s"),
        ("missing threshold", {"rules": [{"name": "a", "metric": "errors", "op": ">",
                                          "window_s": 60}]}, "rules[0]"),
        ("bad rule name", {"rules": [{"name": "a b", "metric": "errors", "op": ">",
                                      "threshold": 1, "window_s": 60}]}, "rules[0].name"),
        ("duplicate label", {"strategies": ["x", "x"]}, "strategies[1]"),
        ("too many properties", {"kafka": {"properties": {f"p{i}": "v" for i in range(65)}}},
         "kafka.properties"),
        ("long string", {"feature": "f" * 256}, "feature"),
        ("bad listen", {"http": {"listen": "9464"}}, "http.listen"),
        ("two status windows", {"status": {"windows_s": [300, 600]}}, "status.windows_s"),
        ("alertmanager without urls", {"alertmanager": {}}, "alertmanager.urls"),
        ("alertmanager url without scheme", {"alertmanager": {"urls": ["am:9093"]}},
         "alertmanager.urls[0]"),
        ("alertmanager five urls", {"alertmanager": {"urls": ["http://a"] * 5}},
         "alertmanager.urls"),
        ("alertmanager resend 0", {"alertmanager": {"urls": ["http://a"], "resend_s": 0}},
         "alertmanager.resend_s"),
        ("soak signoff without title", {"soak": {"signoffs": [{"key": "qa"}]}},
         "soak.signoffs"),
        ("soak signoff empty key", {"soak": {"signoffs": [{"key": "", "title": "x"}]}},
         "soak.signoffs"),
        ("alertmanager unknown key", {"alertmanager": {"urls": ["http://a"], "url": "x"}},
         "alertmanager.url"),
    ]


@pytest.mark.parametrize("doc,key", [(c[1], c[2]) for c in bad_configs()],
                         ids=[c[0] for c in bad_configs()])
def test_config_schema_refuses(doc, key):
    errors = list(validator("config").iter_errors(doc))
    assert errors, f"schema accepted a config the loader refuses ({key})"


def test_config_schema_accepts_rule_options():
    doc = {"rules": [{"name": "fast_burn", "metric": "error_rate", "op": ">",
                      "threshold": 0.0144, "window_s": 300, "min_samples": 0,
                      "windows_s": [3600], "resolve_threshold": 0.01, "keep_firing_for_s": 60,
                      "latch": True, "hold_when_no_data": True, "confidence": 0.95},
                     {"name": "unknown_strategy", "metric": "strategies.other", "op": ">",
                      "threshold": 10, "window_s": 600}],
           "data_quality": {"enabled": True, "max_watermark_lag_s": 120},
           "provenance": True,
           "kafka": {"properties": {"security.protocol": "SASL_SSL",
                                    "sasl.mechanisms": "SCRAM-SHA-512"}}}
    validator("config").validate(doc)


VALID_EVENTS = [
    {"event": "stream5.time_crunch_preview_requested", "ts": 1795165200000,
     "compressionStrategy": "pending", "planId": "p1", "userId": "u1", "source": "frontend"},
    {"event": "stream5.time_crunch_preview_succeeded", "ts": "2026-11-26T10:00:00.123Z",
     "durationMs": 850.5, "status": 200, "compressionStrategy": "core_only",
     "meetsTimeConstraint": True, "targetMinutes": 30},
    {"event": "stream5.time_crunch_preview_fallback", "ts": "2026-11-26T11:00:00+01:00",
     "durationMs": 0, "reason": "internal_error", "compressionStrategy": "none"},
    {"event": "stream5.time_crunch_preview_declined", "ts": 0, "reason": "modal_closed"},
    # Another event on the topic: valid input, ignored by soakwatch.
    {"event": "stream5.something_else", "ts": 1795165200000, "extra": [1, 2]},
]

INVALID_EVENTS = [
    ("no event", {"ts": 1795165200000}),
    ("event not a string", {"event": 3, "ts": 1795165200000}),
    ("no ts", {"event": "stream5.time_crunch_preview_requested"}),
    ("ts a real", {"event": "stream5.time_crunch_preview_requested", "ts": 1.5}),
    ("ts not a date", {"event": "stream5.time_crunch_preview_requested", "ts": "yesterday"}),
    ("ts before 1970", {"event": "stream5.time_crunch_preview_requested", "ts": -1}),
    ("succeeded without duration",
     {"event": "stream5.time_crunch_preview_succeeded", "ts": 1795165200000}),
    ("fallback without duration",
     {"event": "stream5.time_crunch_preview_fallback", "ts": 1795165200000,
      "reason": "internal_error"}),
    ("negative duration",
     {"event": "stream5.time_crunch_preview_succeeded", "ts": 1795165200000, "durationMs": -1}),
    ("status out of range",
     {"event": "stream5.time_crunch_preview_requested", "ts": 1795165200000, "status": 600}),
    ("status a string",
     {"event": "stream5.time_crunch_preview_requested", "ts": 1795165200000, "status": "200"}),
    ("meetsTimeConstraint not boolean",
     {"event": "stream5.time_crunch_preview_succeeded", "ts": 1795165200000, "durationMs": 5,
      "meetsTimeConstraint": "yes"}),
    ("not an object", ["stream5.time_crunch_preview_requested"]),
]


@pytest.mark.parametrize("ev", VALID_EVENTS, ids=lambda e: e["event"].rsplit("_", 1)[-1])
def test_valid_input_events(ev):
    validator("input-event").validate(ev)


@pytest.mark.parametrize("ev", [e[1] for e in INVALID_EVENTS], ids=[e[0] for e in INVALID_EVENTS])
def test_invalid_input_events(ev):
    assert list(validator("input-event").iter_errors(ev)), "schema accepted an invalid event"


WINDOW = {"requests": 30, "outcomes": 20, "successes": 18, "errors": 2, "declined": 1,
          "success_rate": 0.9, "error_rate": 0.1, "latency_mean_ms": 812.5,
          "latency_p95_ms": 2004.0, "latency_p99_ms": 2980.0,
          "time_constraint_success_rate": None, "strategies": {"core_only": 18, "none": 2},
          "fallback_reasons": {"internal_error": 2}}
STATUS = {"type": "status", "schema_version": 1, "at_ms": 1795165260000,
          "at": "2026-11-20T09:01:00.000Z", "status": "yellow", "firing": [],
          "windows": {"300": WINDOW, "600": WINDOW, "1800": WINDOW}}
TRIGGER = {"type": "rollback_trigger", "schema_version": 1, "id": "error_rate_high:1795165674000",
           "rule": "error_rate_high", "state": "firing", "at_ms": 1795165674000,
           "at": "2026-11-20T09:07:54.000Z", "window_s": 300, "window_start_ms": 1795165374000,
           "window_end_ms": 1795165674000, "metric": "error_rate", "op": ">", "threshold": 0.1,
           "value": 0.15, "samples": 900, "feature": "feature.stream5_time_crunch_mode",
           "action": "disable_flag"}
CHECK = {"type": "rollback_check", "schema_version": 1,
         "id": "error_rate_high:1795165674000:verified", "rule": "error_rate_high",
         "state": "verified", "at_ms": 1795165700000, "at": "2026-11-20T09:08:20.000Z",
         "fired_at_ms": 1795165674000, "verify_within_s": 300, "unavailable": 4, "quiet_s": 0,
         "evidence": "feature_not_available", "verified_at_ms": 1795165700000,
         "feature": "feature.stream5_time_crunch_mode", "action": "none"}


DROP = object()  # changed(doc, key=DROP) removes the key


def changed(doc, **kw):
    d = copy.deepcopy(doc)
    for k, v in kw.items():
        if v is DROP:
            del d[k]
        else:
            d[k] = v
    return d


def test_output_events_by_hand():
    validator("status").validate(STATUS)
    validator("rollback-trigger").validate(TRIGGER)
    validator("rollback-trigger").validate(
        changed(TRIGGER, state="resolved", action="none", value=None))
    bad_status = [
        changed(STATUS, extra=1),
        changed(STATUS, status="orange"),
        changed(STATUS, schema_version=2),
        changed(STATUS, at="2026-11-20T09:01:00Z"),
        changed(STATUS, windows={"300": WINDOW, "600": WINDOW}),
        changed(STATUS, windows={"300": changed(WINDOW, error_rate=1.5), "600": WINDOW,
                                 "1800": WINDOW}),
        changed(STATUS, windows={"300": changed(WINDOW, strategies={"core_only": 0}),
                                 "600": WINDOW, "1800": WINDOW}),
        changed(STATUS, windows={"300": changed(WINDOW, declined=DROP), "600": WINDOW,
                                 "1800": WINDOW}),
        changed(STATUS, firing=DROP),
    ]
    for doc in bad_status:
        assert list(validator("status").iter_errors(doc)), doc
    bad_trigger = [
        changed(TRIGGER, id="error_rate_high"),
        changed(TRIGGER, state="resolved"),  # action must then be "none"
        changed(TRIGGER, action="none"),
        changed(TRIGGER, type="status"),
        changed(TRIGGER, samples=-1),
        changed(TRIGGER, value="0.15"),
        changed(TRIGGER, feature=DROP),
        changed(TRIGGER, userId="u1"),
    ]
    for doc in bad_trigger:
        assert list(validator("rollback-trigger").iter_errors(doc)), doc
    # section 10: the rollback check
    check = validator("rollback-check")
    check.validate(CHECK)
    check.validate(changed(CHECK, id="error_rate_high:1795165674000:not_verified",
                           state="not_verified", evidence=None, verified_at_ms=None,
                           action="escalate"))
    check.validate(changed(CHECK, id="error_rate_high:1795165674000:baseline", state="baseline",
                           evidence=None, verified_at_ms=None))
    check.validate(changed(CHECK, id="error_rate_high:1795165674000:baseline", state="baseline"))
    bad_check = [
        changed(CHECK, id="error_rate_high:1795165674000"),
        changed(CHECK, state="pending"),
        changed(CHECK, action="escalate"),  # verified: none
        changed(CHECK, state="not_verified", id="error_rate_high:1795165674000:not_verified"),
        changed(CHECK, evidence=None),  # verified says by what
        changed(CHECK, unavailable=-1),
        changed(CHECK, quiet_s=DROP),
        changed(CHECK, type="rollback_trigger"),
        changed(CHECK, extra=1),
    ]
    for doc in bad_check:
        assert list(check.iter_errors(doc)), doc


def soakwatch_checks_configs():
    if not BIN or not os.access(BIN, os.X_OK):
        return False
    out = subprocess.run([BIN, "--help"], capture_output=True, text=True, timeout=30)
    return "check-config" in out.stdout + out.stderr


needs_bin = pytest.mark.skipif(not soakwatch_checks_configs(),
                               reason="no soakwatch executable with check-config")


def check_config(path, *extra):
    return subprocess.run([BIN, "check-config", str(path), *extra], capture_output=True,
                          text=True, timeout=30)


@needs_bin
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_check_config_accepts_examples(path):
    r = check_config(path)
    assert r.returncode == 0, r.stderr
    assert "ok (4 rules, fingerprint " in r.stdout
    # --print gives back the same document.
    r = check_config(path, "--print")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == load(path)


@needs_bin
def test_default_example_is_the_builtin_defaults(tmp_path):
    empty = tmp_path / "empty.json"
    empty.write_text("{}")
    r = check_config(empty, "--print")
    assert r.returncode == 0, r.stderr
    printed = json.loads(r.stdout)
    assert printed == load(EXAMPLES[0])
    validator("config").validate(printed)
    # Same semantics, same fingerprint; the backtest's threshold changes it.
    fp = [check_config(p).stdout.rsplit(" ", 1)[-1] for p in (empty, *EXAMPLES)]
    assert fp[0] == fp[1] and fp[0] != fp[2]


@needs_bin
@pytest.mark.parametrize("doc,key", [(c[1], c[2]) for c in bad_configs()],
                         ids=[c[0] for c in bad_configs()])
def test_check_config_refuses(tmp_path, doc, key):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    r = check_config(path)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert f"{path}: {key}" in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


SHAPE_CONFIGS = sorted((SRC / "examples" / "shapes").glob("*.config.json"))


@pytest.mark.parametrize("path", SHAPE_CONFIGS, ids=lambda p: p.name)
def test_shape_configs_match_config_schema(path):
    validator("config").validate(load(path))


@pytest.mark.parametrize("doc", [
    {"input": {"fields": {"event": {"path": "msg", "prefix": "a", "token": "b"}}}},
    {"input": {"fields": {"event": {"path": "msg", "token": "a=b"}}}},
    {"input": {"sample_weight": 0}},
    {"input": {"sample_weight": {"default": 2}}},
    {"input": {"envelope": {"type": "gelf"}}},
    {"input": {"correlate": {"key": []}}},
    {"input": {"filters": [{"field": "source"}]}},
    {"input": {"colour": 1}},
])
def test_config_schema_refuses_bad_input(doc):
    assert list(validator("config").iter_errors(doc)), doc


@needs_bin
def test_blind_statuses_match_status_schema(tmp_path):
    cfg = load(SRC / "examples" / "shapes" / "logger.config.json")
    del cfg["input"]["correlate"]
    cfg["input"]["fields"]["duration"] = None
    cfg["input"]["duration_required"] = False
    path = tmp_path / "c.json"
    path.write_text(json.dumps(cfg))
    p = subprocess.run([BIN, "replay", "--input", str(SRC / "examples" / "shapes" /
                                                       "logger.jsonl.gz"), "--config", str(path)],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    statuses = [json.loads(line) for line in p.stdout.splitlines()
                if json.loads(line)["type"] == "status"]
    blind = [s for s in statuses if "blind" in s]
    assert blind, "no status names the blind latency rule"
    for s in statuses:
        validator("status").validate(s)
    assert all(s["status"] != "green" for s in blind)
    assert blind[-1]["blind"] == [{"rule": "latency_high", "missing": "duration"}]
