"""Cohorts (docs/semantics.md section 12) in file replay and on stdin,
against the independent reference (reference.py).

Each scenario first asserts, on the reference's own output, what the
contract says the answer is (so that the stream really is the case it
claims to be: a canary failing under a quiet whole, a cohort going silent,
values that are not listed), then holds soakwatch to the reference, event
for event (percentiles within 1%, everything else exactly, key order
included) and for the summary line:

(a) a staged rollout: v2, about 10% of the traffic, fails about half its
    previews while the whole topic stays under the 10% error threshold;
(b) cohorts that appear and disappear: requests == 0 scoped to cohorts;
(c) values not listed, values of other types and events without the field
    are the cohort `other`; late events count in no cohort;
(d) the field at a nested path, with an `input` section (a structured
    logger line and an OTLP record) and with flat input;
(e) a latched cohort trigger released by an acknowledgement (--control);
(f) configuration errors name the key (check-config exits 2)."""

import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import reference  # noqa: E402
import shapes  # noqa: E402
from test_reference import BASE, BIN, EV, run_c  # noqa: E402

REQ, OK, FB = EV + "requested", EV + "succeeded", EV + "fallback"
ENV = dict(os.environ, SOAKWATCH_BROKERS="")

# The example of section 12: the runbook's error rule on the whole topic,
# and the same rule judged in every cohort, acting on that cohort only.
WHOLE_ERRORS = {"name": "error_rate_high", "metric": "error_rate", "op": ">", "threshold": 0.10,
                "window_s": 300, "min_samples": 20}
COHORT_ERRORS = dict(WHOLE_ERRORS, name="cohort_error_rate_high", cohorts="each",
                     action="rollback_cohort")
TRIGGER_FIELDS = ["type", "schema_version", "id", "rule", "cohort", "state", "at_ms", "at",
                  "window_s", "window_start_ms", "window_end_ms", "metric", "op", "threshold",
                  "value", "samples", "feature", "action"]


# ---- building inputs ---------------------------------------------------------------------

def dumps(doc):
    return json.dumps(doc, separators=(",", ":")).encode()


def ms(sec, extra=0):
    return (BASE + sec) * 1000 + extra


def flat(kind, sec, extra_ms=0, version=None, at="gatewayVersion", **fields):
    """One flat event at BASE + sec; the cohort field at path `at` (dotted:
    nested objects) when version is not None."""
    doc = {"event": EV + kind, "ts": ms(sec, extra_ms)}
    if version is not None:
        node = doc
        keys = at.split(".")
        for k in keys[:-1]:
            node = node.setdefault(k, {})
        node[keys[-1]] = version
    doc.update(fields)
    return doc


def rollout(seed=1, minutes=30, per_s=3, v2_share=0.10, other_share=0.02, fail=(10, 20),
            fail_p=0.5, start=0):
    """A staged rollout as dicts in time order: per_s previews a second,
    each a request and an outcome 100 ms later, of version v2 with
    probability v2_share, of no version at all with other_share, else v1.
    Between minutes fail[0] and fail[1], a v2 preview fails (internal error,
    no status: a 500) with probability fail_p; 2% of all previews fall back
    for plan_not_compressible (not an error)."""
    rng = random.Random(seed)
    out = []
    for s in range(start, start + minutes * 60):
        for k in range(per_s):
            x = rng.random()
            version = "v2" if x < v2_share else None if x < v2_share + other_share else "v1"
            off = k * (1000 // per_s)
            out.append(flat("requested", s, off, version, compressionStrategy="pending"))
            dur = rng.randint(80, 900)
            failing = version == "v2" and fail[0] * 60 <= s - start < fail[1] * 60 \
                and rng.random() < fail_p
            if failing:
                out.append(flat("fallback", s, off + 100, version, durationMs=dur,
                                reason="internal_error", compressionStrategy="none"))
            elif rng.random() < 0.02:
                out.append(flat("fallback", s, off + 100, version, durationMs=dur,
                                reason="plan_not_compressible", compressionStrategy="none"))
            else:
                out.append(flat("succeeded", s, off + 100, version, durationMs=dur, status=200,
                                compressionStrategy=rng.choice(shapes.STRATEGIES)[0],
                                meetsTimeConstraint=rng.random() < 0.9))
    return out


# ---- running both --------------------------------------------------------------------------

def ref(lines, config, acks=()):
    """The reference's Result for `lines` (bytes, or dicts to write as JSON)."""
    lines = [d if isinstance(d, bytes) else dumps(d) for d in lines]
    return reference.replay(lines, config, acks=list(acks))


def c_agrees(res, lines, tmp_path, config, acks=()):
    """Replay `lines` with soakwatch (with --control when there are
    acknowledgements); assert it writes the reference's events `res` and
    the same summary line. Called after the test's assertions on `res`, so
    that the scenario is checked even while soakwatch disagrees."""
    lines = [d if isinstance(d, bytes) else dumps(d) for d in lines]
    data = b"\n".join(lines) + b"\n"
    extra = []
    if acks:
        control = tmp_path / "control.jsonl"
        control.write_bytes(b"".join(dumps(a) + b"\n" for a in acks))
        extra = ["--control", str(control)]
    got, summary = run_c_extra(data, tmp_path, config, extra)
    diffs = reference.compare(res.outputs, got)
    assert not diffs, "soakwatch and the reference differ:\n" + "\n".join(diffs)
    assert summary == reference.summary_line(res.summary)


def run_c_extra(data, tmp_path, config, extra):
    """test_reference.run_c with extra arguments (--control)."""
    args = [BIN, "replay"]
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps(config))
    path = tmp_path / "in.jsonl"
    path.write_bytes(data)
    args += ["--config", str(cfg), "--input", str(path)] + list(extra)
    p = subprocess.run(args, capture_output=True, timeout=300)
    err_text = p.stderr.decode(errors="replace")
    assert p.returncode == 0, err_text
    summary = [l for l in err_text.splitlines()
               if l.startswith("soakwatch: ") and " accepted;" in l]
    assert summary, err_text
    return [json.loads(l) for l in p.stdout.decode().splitlines()], \
        summary[-1][len("soakwatch: "):]


def triggers(res, cohort=False):
    """(rule, cohort or None, state, relative second), in output order."""
    return [(e["rule"], e.get("cohort"), e["state"], e["at_ms"] // 1000 - BASE)
            for e in res.outputs if e["type"] == "rollback_trigger"
            and (cohort is False or e.get("cohort") == cohort)]


def statuses(res):
    return [e for e in res.outputs if e["type"] == "status"]


def cohort_config(rules, values=("v1", "v2"), field="gatewayVersion", **more):
    cfg = {"cohorts": {"field": field, "values": list(values)}, "rules": rules}
    cfg.update(more)
    return cfg


# ---- (a) a staged rollout: the whole hides the part --------------------------------------

ROLLOUT_CFG = cohort_config([WHOLE_ERRORS, COHORT_ERRORS])


def check_rollout(res):
    """What section 12's example promises on the rollout stream."""
    trig = [e for e in res.outputs if e["type"] == "rollback_trigger"]
    # The whole topic's rule stays silent; the cohort rule fires for v2,
    # and only for v2, once, then resolves after the failures stop.
    assert [(e["rule"], e.get("cohort"), e["state"]) for e in trig] == [
        ("cohort_error_rate_high", "v2", "firing"), ("cohort_error_rate_high", "v2", "resolved")]
    fire, resolved = trig
    assert list(fire) == TRIGGER_FIELDS and list(resolved) == TRIGGER_FIELDS
    assert fire["id"] == "cohort_error_rate_high:v2:%d" % fire["at_ms"]
    assert fire["action"] == "rollback_cohort" and resolved["action"] == "none"
    assert fire["value"] > 0.10 and fire["samples"] >= 20
    assert resolved["value"] <= 0.10
    # the failures start at minute 10 and stop at minute 20
    assert (BASE + 600) * 1000 < fire["at_ms"] < (BASE + 720) * 1000
    assert (BASE + 1200) * 1000 < resolved["at_ms"] < (BASE + 1500) * 1000
    # Status: red while v2 fires, the whole topic's firing list empty, and
    # its 300 s error rate under the threshold at every status of the run.
    sts = statuses(res)
    assert sts
    for st in sts:
        assert list(st)[:7] == ["type", "schema_version", "at_ms", "at", "status", "firing",
                                "cohorts_firing"]
        assert st["firing"] == []
        assert st["windows"]["300"]["error_rate"] < 0.10
        inside = fire["at_ms"] <= st["at_ms"] < resolved["at_ms"]
        assert st["cohorts_firing"] == (["cohort_error_rate_high:v2"] if inside else [])
        if inside:
            assert st["status"] == "red"
        else:
            assert st["status"] != "red"
    assert any(fire["at_ms"] <= st["at_ms"] < resolved["at_ms"] for st in sts)
    # ... though the whole topic did see the failures: its error rate was
    # above the yellow line at some status, never at the rule's threshold.
    assert max(st["windows"]["300"]["error_rate"] for st in sts) > 0.03
    # Rollback checks follow the whole topic's rules only: none here.
    assert not [e for e in res.outputs if e["type"] == "rollback_check"]
    # All three cohorts had traffic.
    assert all(res.summary["cohorts"][c] > 0 for c in ("v1", "v2", "other"))
    assert res.summary["cohorts"]["v2"] < res.summary["cohorts"]["v1"] / 5


def test_rollout_reference_is_the_case_it_claims():
    res = ref(rollout(), ROLLOUT_CFG)
    check_rollout(res)
    # The same stream without cohorts: the runbook's rule never fires.
    plain = ref(rollout(), {"rules": [WHOLE_ERRORS]})
    assert not [e for e in plain.outputs if e["type"] == "rollback_trigger"]
    assert all("cohorts_firing" not in st for st in statuses(plain))


@pytest.mark.parametrize("seed", [1, 2, 4])
def test_rollout_soakwatch_equals_reference(tmp_path, seed):
    docs = rollout(seed=seed)
    res = ref(docs, ROLLOUT_CFG)
    check_rollout(res)
    c_agrees(res, docs, tmp_path, ROLLOUT_CFG)


def test_rollout_hysteresis_per_cohort(tmp_path):
    # Seed 3's v2 error rate hovers at 0.10 as the failures leave the
    # window: the plain cohort rule flaps (resolved, firing, resolved within
    # four seconds). With resolve_threshold 0.05 (section 8, per cohort
    # state) it resolves once, later, and carries resolve_threshold.
    docs = rollout(seed=3)
    flapping = ref(docs, ROLLOUT_CFG)
    assert [x[2] for x in triggers(flapping)] == ["firing", "resolved", "firing", "resolved"]
    cfg = cohort_config([WHOLE_ERRORS, dict(COHORT_ERRORS, resolve_threshold=0.05)])
    res = ref(docs, cfg)
    t = triggers(res)
    assert [x[:3] for x in t] == [("cohort_error_rate_high", "v2", "firing"),
                                  ("cohort_error_rate_high", "v2", "resolved")]
    assert t[0][3] == triggers(flapping)[0][3] and t[1][3] > triggers(flapping)[3][3]
    trig = [e for e in res.outputs if e["type"] == "rollback_trigger"]
    assert all(list(e) == TRIGGER_FIELDS + ["resolve_threshold"] for e in trig)
    assert trig[1]["value"] <= 0.05
    c_agrees(flapping, docs, tmp_path, ROLLOUT_CFG)
    c_agrees(res, docs, tmp_path, cfg)


def test_rollout_whole_rule_also_fires_when_the_canary_is_big(tmp_path):
    # With v2 at 40% of the traffic the whole topic crosses 10% too: both
    # the whole rule (with its rollback check) and the cohort rule fire; in
    # one instant, rules in list order.
    docs = rollout(seed=4, v2_share=0.4, minutes=25, fail=(8, 14))
    res = ref(docs, ROLLOUT_CFG)
    t = triggers(res)
    assert ("error_rate_high", None, "firing") in [x[:3] for x in t]
    assert ("cohort_error_rate_high", "v2", "firing") in [x[:3] for x in t]
    assert not [x for x in t if x[1] in ("v1", "other")]
    checks = [e for e in res.outputs if e["type"] == "rollback_check"]
    assert checks and all(e["rule"] == "error_rate_high" for e in checks)
    c_agrees(res, docs, tmp_path, ROLLOUT_CFG)


def test_cohorts_configured_but_no_scoped_rule(tmp_path):
    # cohorts_firing is on every status (empty), each cohort's status-window
    # metrics sum to the whole topic's, and nothing else changes.
    docs = rollout(seed=5, minutes=12)
    cfg = cohort_config([WHOLE_ERRORS])
    res = ref(docs, cfg)
    plain = ref(docs, {"rules": [WHOLE_ERRORS]})
    stripped = []
    for e in res.outputs:
        e = dict(e)
        if e["type"] == "status":
            assert e.pop("cohorts_firing") == []
            per = e.pop("cohorts")
            assert list(per) == ["v1", "v2", "other"]
            whole = e["windows"]["300"]
            for key in ("requests", "outcomes", "successes", "errors"):
                assert sum(m[key] for m in per.values()) == whole[key], key
        stripped.append(e)
    assert stripped == plain.outputs
    c_agrees(res, docs, tmp_path, cfg)


def test_rollout_on_stdin_equals_reference(tmp_path):
    """soakwatch run on stdin (no brokers): at end of input it writes what
    the reference computes for the same lines."""
    now_s = int(time.time())
    start = now_s - 40 * 60
    docs = rollout(seed=6, minutes=30, start=start - BASE)
    data = b"\n".join(dumps(d) for d in docs) + b"\n"
    ref = reference.replay(reference.split_lines(data), ROLLOUT_CFG)
    assert [x[:3] for x in triggers(ref)] == [("cohort_error_rate_high", "v2", "firing"),
                                               ("cohort_error_rate_high", "v2", "resolved")]
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps(ROLLOUT_CFG))
    p = subprocess.run([BIN, "run", "--config", str(cfg)], input=data, capture_output=True,
                       timeout=300, env=ENV)
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    got = [json.loads(l) for l in p.stdout.decode().splitlines()]
    diffs = reference.compare(ref.outputs, got)
    assert not diffs, "soakwatch run and the reference differ:\n" + "\n".join(diffs)


# ---- (b) cohorts that appear and disappear ------------------------------------------------

ZERO = {"name": "cohort_silent", "metric": "requests", "op": "==", "threshold": 0,
        "window_s": 120, "cohorts": ["other", "v3", "v2"]}


def appear_disappear():
    """v1 every second 0..899; v2 every second except 300..599 (silent five
    minutes); v3 only from second 240 on; nothing without a version."""
    docs = []
    for s in range(900):
        docs.append(flat("requested", s, 0, "v1"))
        docs.append(flat("succeeded", s, 50, "v1", durationMs=300))
        if not 300 <= s < 600:
            docs.append(flat("requested", s, 100, "v2"))
        if s >= 240:
            docs.append(flat("requested", s, 200, "v3"))
    return docs


def test_cohort_silence_fires_and_resolves(tmp_path):
    cfg = cohort_config([dict(ZERO, name="zero_requests", cohorts="whole", window_s=120), ZERO],
                        values=("v1", "v2", "v3"))
    docs = appear_disappear()
    res = ref(docs, cfg)
    # Worked by hand (window 120 s, judged from T = t0 + 120 = 120 on):
    # - v3 and other hold no request in 0..119: both fire at 120, in cohort
    #   order (v1, v2, v3, other), whatever the order of the rule's list;
    # - v3's first request is in second 240: its window at 241 holds it;
    # - v2's last request before the silence is in second 299: the window
    #   at 420 (300..419) is the first without one; it is back in 600, so
    #   the window at 601 holds one again;
    # - other never has traffic and stays firing; the whole topic never
    #   goes quiet.
    assert triggers(res) == [
        ("cohort_silent", "v3", "firing", 120),
        ("cohort_silent", "other", "firing", 120),
        ("cohort_silent", "v3", "resolved", 241),
        ("cohort_silent", "v2", "firing", 420),
        ("cohort_silent", "v2", "resolved", 601),
    ]
    fire = [e for e in res.outputs if e["type"] == "rollback_trigger"][0]
    assert fire["value"] == 0 and fire["samples"] == 0 and fire["action"] == "disable_flag"
    assert fire["id"] == "cohort_silent:v3:%d" % ((BASE + 120) * 1000)
    by_at = {st["at_ms"] // 1000 - BASE: st for st in statuses(res)}
    assert by_at[180]["cohorts_firing"] == ["cohort_silent:v3", "cohort_silent:other"]
    assert by_at[480]["cohorts_firing"] == ["cohort_silent:v2", "cohort_silent:other"]
    assert by_at[660]["cohorts_firing"] == ["cohort_silent:other"]
    # from 120 on some cohort fires: red, with no whole-topic rule firing
    assert by_at[60]["cohorts_firing"] == [] and by_at[60]["status"] != "red"
    assert all(st["status"] == "red" and st["firing"] == []
               for at, st in by_at.items() if at >= 120)
    c_agrees(res, docs, tmp_path, cfg)


def test_cohort_silence_to_the_end_of_the_input(tmp_path):
    # v2 goes silent at second 300 and never comes back: fires at 420 and
    # is still firing at the end (the replay evaluates up to the greatest
    # second + 1, 900).
    docs = [d for d in appear_disappear() if not (d.get("gatewayVersion") == "v2"
                                                  and d["ts"] >= ms(600))]
    cfg = cohort_config([dict(ZERO, cohorts=["v2"])], values=("v1", "v2", "v3"))
    res = ref(docs, cfg)
    assert triggers(res) == [("cohort_silent", "v2", "firing", 420)]
    assert statuses(res)[-1]["at_ms"] == ms(900)
    assert statuses(res)[-1]["cohorts_firing"] == ["cohort_silent:v2"]
    c_agrees(res, docs, tmp_path, cfg)


# ---- (c) what `other` holds ---------------------------------------------------------------------

def test_unlisted_values_and_missing_field_are_other():
    cfg = reference.make_config(cohort_config([], values=("v1", "v2")))
    cases = [("v1", "v1"), ("v2", "v2"), ("v9", "other"), ("V1", "other"), ("v1 ", "other"),
             (2, "other"), (None, "other"), (["v1"], "other"), ({"v": "v1"}, "other"),
             (True, "other")]
    for value, want in cases:
        doc = {"event": REQ, "ts": ms(0), "gatewayVersion": value}
        (verdict, ev), = reference.decode_message(dumps(doc), cfg)
        assert verdict == "ok" and ev["cohort"] == want, (value, ev)
    (verdict, ev), = reference.decode_message(dumps({"event": REQ, "ts": ms(0)}), cfg)
    assert ev["cohort"] == "other"


def other_stream():
    """Second 10: one v1 request and six requests of cohort `other` (a value
    not listed, a listed one in another case, a number, null, a list, no
    field). Second 20: one v2 request that arrives late (after second 30),
    counted in no window. Quiet traffic of v1 around them."""
    docs = [flat("requested", s, 0, "v1") for s in range(0, 40)]
    weird = [flat("requested", 10, 100, "v9"), flat("requested", 10, 110, "V1"),
             flat("requested", 10, 120, 7), dict(flat("requested", 10, 130), gatewayVersion=None),
             flat("requested", 10, 140, ["v1"]), flat("requested", 10, 150)]
    docs[11:11] = weird
    late = flat("requested", 20, 0, "v2")
    docs.insert(docs.index(flat("requested", 31, 0, "v1")), late)
    return docs


def test_other_counts_unlisted_and_missing(tmp_path):
    rules = [{"name": "other_burst", "metric": "requests", "op": ">=", "threshold": 6,
              "window_s": 1, "cohorts": ["other"]},
             {"name": "v2_any", "metric": "requests", "op": ">=", "threshold": 1,
              "window_s": 1, "cohorts": ["v2"]},
             {"name": "whole_burst", "metric": "requests", "op": ">=", "threshold": 7,
              "window_s": 1}]
    docs = other_stream()
    cfg = cohort_config(rules, values=("v1", "v2"), rollback={"check": False})
    res = ref(docs, cfg)
    # second 10 holds 6 of other and 7 in all; the late v2 event counts
    # nowhere, so v2_any never fires.
    assert triggers(res) == [
        ("other_burst", "other", "firing", 11), ("whole_burst", None, "firing", 11),
        ("other_burst", "other", "resolved", 12), ("whole_burst", None, "resolved", 12),
    ]
    assert res.summary["late"] == 1
    assert res.summary["cohorts"] == {"v1": 40, "v2": 0, "other": 6}
    c_agrees(res, docs, tmp_path, cfg)


def test_array_index_path(tmp_path):
    # `deploy.tags[1]`: the second tag is the version; a message whose tags
    # are too short, or not a list, is `other`.
    rules = [{"name": "v2_errors", "metric": "errors", "op": ">=", "threshold": 1,
              "window_s": 1, "cohorts": ["v2"]}]
    docs = [flat("requested", s, 0, "v1") for s in range(0, 20)]
    docs += [{"event": FB, "ts": ms(5, 500), "reason": "internal_error", "durationMs": 5,
              "deploy": {"tags": ["canary", "v2"]}},
             {"event": FB, "ts": ms(8, 500), "reason": "internal_error", "durationMs": 5,
              "deploy": {"tags": ["v2"]}},
             {"event": FB, "ts": ms(9, 500), "reason": "internal_error", "durationMs": 5,
              "deploy": {"tags": "v2"}}]
    docs.sort(key=lambda d: d["ts"])
    cfg = cohort_config(rules, field="deploy.tags[1]", rollback={"check": False})
    res = ref(docs, cfg)
    assert triggers(res) == [("v2_errors", "v2", "firing", 6), ("v2_errors", "v2", "resolved", 7)]
    assert res.summary["cohorts"] == {"v1": 0, "v2": 1, "other": 22}
    c_agrees(res, docs, tmp_path, cfg)


# ---- (d) the field at a nested path: mapped and flat input -------------------------------------

def versioned_previews(seed, minutes=24, fail=(8, 14)):
    """shapes.previews with a version per preview (by plan: about 10% v2),
    and v2's outcomes in the fail minutes mostly preview_failed."""
    rng = random.Random(seed)
    events = shapes.previews(seed=seed, minutes=minutes, rate=3.0)
    version = {}
    for e in events:
        if e["kind"] == "other":
            continue
        v = version.setdefault(e["plan"], "v2" if rng.random() < 0.10 else "v1")
        e["version"] = v
        in_fail = shapes.START_MS + fail[0] * 60000 <= e["ts_ms"] < \
            shapes.START_MS + fail[1] * 60000
        if v == "v2" and in_fail and e["kind"] in ("succeeded", "fallback") \
                and rng.random() < 0.6:
            e.update(kind="fallback", strategy="none", tc=False, reason="preview_failed")
    return events


MAPPED_RULES = [dict(WHOLE_ERRORS, min_samples=15),
                dict(COHORT_ERRORS, min_samples=15, cohorts=["v2"])]


def check_v2_only(res):
    t = [x[:3] for x in triggers(res)]
    assert ("cohort_error_rate_high", "v2", "firing") in t, t
    assert all(r == "cohort_error_rate_high" and c == "v2" for r, c, _ in t), t
    assert all(st["cohorts_firing"] in ([], ["cohort_error_rate_high:v2"])
               for st in statuses(res))


def test_logger_lines_nested_field(tmp_path):
    events = versioned_previews(seed=11)
    lines = []
    for e in events:
        doc = shapes.logger_doc(e)
        if "version" in e:
            doc["context"]["payload"]["gatewayVersion"] = e["version"]
        lines.append(dumps(doc))
    cfg = dict(shapes.config("logger"),
               cohorts={"field": "context.payload.gatewayVersion", "values": ["v1", "v2"]},
               rules=MAPPED_RULES)
    res = ref(lines, cfg)
    check_v2_only(res)
    assert res.summary["cohorts"]["other"] == 0  # every telemetry line carries a version
    assert res.summary["filtered"] > 0  # the gateway's requests are filtered, in no cohort
    c_agrees(res, lines, tmp_path, cfg)


def test_otlp_attribute_with_an_escaped_dot(tmp_path):
    """The version as a record attribute `gateway.version` (a key with a
    dot: the path `attributes.gateway\\.version`)."""
    events = versioned_previews(seed=12)
    rng = random.Random(12)
    records = []
    for e in events:
        rec = shapes._otlp_record(e, json.dumps(shapes.logger_doc(e), separators=(",", ":")), rng)
        if "version" in e:
            rec["attributes"].append({"key": "gateway.version",
                                      "value": {"stringValue": e["version"]}})
        records.append(rec)
    lines = []
    while records:
        n = rng.randint(1, 12)
        lines.append(dumps(shapes._otlp_message(records[:n], rng.choice(shapes.HOSTS))))
        records = records[n:]
    cfg = dict(shapes.config("otlp"),
               cohorts={"field": "attributes.gateway\\.version", "values": ["v1", "v2"]},
               rules=MAPPED_RULES)
    res = ref(lines, cfg)
    check_v2_only(res)
    assert res.summary["cohorts"]["v2"] > 0 and res.summary["cohorts"]["other"] == 0
    c_agrees(res, lines, tmp_path, cfg)


def test_flat_input_nested_field(tmp_path):
    docs = rollout(seed=13, minutes=25, fail=(8, 14))
    for d in docs:  # the version moves to deploy.gateway.version
        if "gatewayVersion" in d:
            d["deploy"] = {"gateway": {"version": d.pop("gatewayVersion")}}
    cfg = cohort_config([WHOLE_ERRORS, COHORT_ERRORS], field="deploy.gateway.version")
    res = ref(docs, cfg)
    check_v2_only(res)
    # the same stream read at the old place has every event in `other`
    res_top = ref(docs, cohort_config([WHOLE_ERRORS, COHORT_ERRORS]))
    assert set(k for k, v in res_top.summary["cohorts"].items() if v) == {"other"}
    c_agrees(res, docs, tmp_path, cfg)


# ---- (e) a latched cohort trigger released by an acknowledgement -------------------------------

LATCHED = {"name": "canary_errors", "metric": "error_rate", "op": ">", "threshold": 0.3,
           "window_s": 60, "min_samples": 5, "cohorts": ["v2"], "latch": True,
           "action": "rollback_cohort"}


def latch_stream():
    """v1 and v2 each a request and a success a second for 600 s, except
    that v2's outcomes in seconds 100..159 are internal errors."""
    docs = []
    for s in range(600):
        for v, off in (("v1", 0), ("v2", 300)):
            docs.append(flat("requested", s, off, v))
            if v == "v2" and 100 <= s < 160:
                docs.append(flat("fallback", s, off + 100, v, durationMs=400,
                                 reason="internal_error"))
            else:
                docs.append(flat("succeeded", s, off + 100, v, durationMs=400, status=200))
    return docs


def test_latched_cohort_trigger_released_by_ack(tmp_path):
    cfg = cohort_config([LATCHED], rollback={"check": False})
    lines = [dumps(d) for d in latch_stream()]
    unacked = ref(lines, cfg)
    # Window 60 s, min 5: at T = 119 the window 59..118 holds 19 errors of
    # 60 (0.317 > 0.3): fires; without the latch it would resolve when the
    # errors leave the window (at 160 + 42 = 202 the window 142..201 holds
    # 18/60 = 0.3, not above). Latched, it never resolves.
    assert triggers(unacked) == [("canary_errors", "v2", "firing", 119)]
    fire = [e for e in unacked.outputs if e["type"] == "rollback_trigger"][0]
    assert fire["id"] == "canary_errors:v2:%d" % ((BASE + 119) * 1000)
    assert fire["latched"] is True and fire["action"] == "rollback_cohort"
    assert list(fire) == TRIGGER_FIELDS + ["latched"]
    assert statuses(unacked)[-1]["cohorts_firing"] == ["canary_errors:v2"]
    c_agrees(unacked, lines, tmp_path, cfg)

    # Acknowledged at second 300.2 (applies at 301, the condition long
    # false): resolved at 301, saying who released it. An ack with the
    # whole-topic form of the id, and one naming another cohort, release
    # nothing.
    acks = [{"type": "ack", "id": "canary_errors:%d" % ((BASE + 119) * 1000), "by": "eve",
             "ts": ms(250)},
            {"type": "ack", "id": "canary_errors:v1:%d" % ((BASE + 119) * 1000), "by": "eve",
             "ts": ms(260)},
            {"type": "ack", "id": fire["id"], "by": "alice", "ts": ms(300, 200)}]
    res = ref(lines, cfg, acks)
    assert triggers(res) == [("canary_errors", "v2", "firing", 119),
                             ("canary_errors", "v2", "resolved", 301)]
    resolved = [e for e in res.outputs if e["type"] == "rollback_trigger"][1]
    assert resolved["latched"] is False and resolved["action"] == "none"
    assert resolved["acknowledged"] == {"id": fire["id"], "by": "alice"}
    assert list(resolved) == TRIGGER_FIELDS + ["latched", "acknowledged"]
    assert statuses(res)[-1]["cohorts_firing"] == []
    c_agrees(res, lines, tmp_path, cfg, acks)

    # Acknowledged while the condition still holds (second 130): released,
    # it resolves as an unlatched rule would, when the rate falls to 0.3.
    early = [{"type": "ack", "id": fire["id"], "by": "bob", "ts": ms(130)}]
    res = ref(lines, cfg, early)
    assert triggers(res) == [("canary_errors", "v2", "firing", 119),
                             ("canary_errors", "v2", "resolved", 202)]
    c_agrees(res, lines, tmp_path, cfg, early)


# ---- (f) configuration errors name the key ----------------------------------------------------

GOOD_COHORTS = {"field": "gatewayVersion", "values": ["v1", "v2"]}
RULE = {"name": "r", "metric": "error_rate", "op": ">", "threshold": 0.1, "window_s": 60}

CONFIG_ERRORS = [
    ({"cohorts": {"field": "gatewayVersion", "values": []}}, "cohorts.values"),
    ({"cohorts": {"field": "gatewayVersion", "values": ["v1", "v1"]}}, "cohorts.values"),
    ({"cohorts": {"field": "gatewayVersion", "values": ["other"]}}, "cohorts.values"),
    ({"cohorts": {"field": "gatewayVersion", "values": ["v 1"]}}, "cohorts.values"),
    ({"cohorts": {"field": "gatewayVersion", "values": ["x" * 64]}}, "cohorts.values"),
    ({"cohorts": {"field": "gatewayVersion", "values": [""]}}, "cohorts.values"),
    ({"cohorts": {"field": "gatewayVersion", "values": [1]}}, "cohorts.values"),
    ({"cohorts": {"field": "gatewayVersion", "values": ["v%d" % i for i in range(17)]}},
     "cohorts.values"),
    ({"cohorts": {"field": "gatewayVersion", "values": "v1"}}, "cohorts.values"),
    ({"cohorts": {"values": ["v1"]}}, "cohorts.field"),
    ({"cohorts": {"field": 7, "values": ["v1"]}}, "cohorts.field"),
    ({"cohorts": {"field": "a..b", "values": ["v1"]}}, "cohorts.field"),
    ({"cohorts": GOOD_COHORTS, "rules": [RULE, dict(RULE, name="s", cohorts="some")]},
     "rules[1].cohorts"),
    ({"cohorts": GOOD_COHORTS, "rules": [dict(RULE, cohorts=["v3"])]}, "rules[0].cohorts"),
    ({"cohorts": GOOD_COHORTS, "rules": [dict(RULE, cohorts=[])]}, "rules[0].cohorts"),
    ({"cohorts": GOOD_COHORTS, "rules": [dict(RULE, cohorts=7)]}, "rules[0].cohorts"),
    ({"rules": [RULE, dict(RULE, name="s", cohorts="each")]}, "rules[1].cohorts"),
    ({"cohorts": GOOD_COHORTS, "rules": [dict(RULE, action="rollback_cohort")]},
     "rules[0].action"),
    ({"cohorts": GOOD_COHORTS,
      "rules": [RULE, dict(RULE, name="s", cohorts="whole", action="rollback_cohort")]},
     "rules[1].action"),
    ({"cohorts": GOOD_COHORTS, "rules": [dict(RULE, cohorts="each", action="page")]},
     "rules[0].action"),
    # cohorts kept first come (cohorts.max)
    ({"cohorts": {"field": "g", "max": 0}}, "cohorts.max"),
    ({"cohorts": {"field": "g", "max": 17}}, "cohorts.max"),
    ({"cohorts": {"field": "g", "max": "3"}}, "cohorts.max"),
    ({"cohorts": {"field": "g", "max": 2.5}}, "cohorts.max"),
    ({"cohorts": {"field": "g", "values": ["a", "b", "c"], "max": 2}}, "cohorts.max"),
    ({"cohorts": {"field": "g"}}, "cohorts.values"),
    # a value kept first come cannot be named by a rule
    ({"cohorts": {"field": "g", "max": 3},
      "rules": [dict(RULE, cohorts=["v2"])]}, "rules[0].cohorts"),
    ({"cohorts": {"field": "g", "values": ["v1"], "max": 3},
      "rules": [dict(RULE, compare={"treatment": "v2", "control": "v1"})]},
     "rules[0].compare.treatment"),
]


@pytest.mark.parametrize("doc,key", CONFIG_ERRORS, ids=[k + ":" + json.dumps(d)[:60]
                                                        for d, k in CONFIG_ERRORS])
def test_config_errors_name_the_key(tmp_path, doc, key):
    with pytest.raises(ValueError):  # the reference refuses it too
        reference.make_config(doc)
    check_config_refuses(tmp_path, doc, key)


def check_config_refuses(tmp_path, doc, key):
    """soakwatch check-config exits 2 on the config doc, naming key."""
    conf = tmp_path / "c.json"
    conf.write_text(json.dumps(doc))
    p = subprocess.run([BIN, "check-config", str(conf)], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert key in p.stderr, p.stderr


@pytest.mark.parametrize("doc", [
    {"cohorts": GOOD_COHORTS},
    {"cohorts": {"field": "resource.service\\.version", "values": ["a.b-c_9", "x" * 63]}},
    {"cohorts": {"field": "g", "values": ["v%d" % i for i in range(16)]}},
    {"cohorts": GOOD_COHORTS, "rules": [RULE, dict(RULE, name="s", cohorts="each",
                                                   action="rollback_cohort")]},
    {"cohorts": GOOD_COHORTS, "rules": [dict(RULE, cohorts=["other", "v2"], action="disable_flag"),
                                        dict(RULE, name="s", cohorts="whole",
                                             action="disable_flag")]},
])
def test_good_configs_are_accepted(tmp_path, doc):
    reference.make_config(doc)
    conf = tmp_path / "c.json"
    conf.write_text(json.dumps(doc))
    p = subprocess.run([BIN, "check-config", str(conf)], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0, p.stderr


def test_soak_update_lists_cohort_triggers(tmp_path):
    """The soak cadence (section 11) over a rollout: the hour-1 update lists
    the cohort triggers with their ids and cohorts, and its text names the
    cohort; soakwatch writes what the reference writes."""
    docs = rollout(seed=3, minutes=62)
    cfg = dict(ROLLOUT_CFG, soak={"start": ms(0), "hours": 1})
    res = ref(docs, cfg)
    updates = [e for e in res.outputs if e["type"] == "soak_update"]
    assert len(updates) == 1
    notes = updates[0]["notes"]["triggers"]
    cohort_notes = [n for n in notes if "cohort" in n]
    assert cohort_notes and all(n["cohort"] == "v2" for n in cohort_notes)
    assert all(n["id"] == "%s:v2:%d" % (n["rule"], n["at_ms"]) for n in cohort_notes)
    assert "cohort_error_rate_high [v2] firing at" in updates[0]["text"]
    c_agrees(res, docs, tmp_path, cfg)
