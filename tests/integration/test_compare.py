"""Comparison rules (docs/semantics.md section 12, "Comparison rules:
`compare`") in file replay, against the independent reference
(reference.py), and the statistics behind them simulated.

As in test_cohorts.py, each scenario first asserts on the reference's own
output what the contract says the answer is, then holds soakwatch to the
reference event for event (and the summary line):

(a) rates and latency, both directions of op, hysteresis, missing data,
    a latched compare rule acknowledged with --control, the treatment
    `other`, weighted input, and triggers whose statistic is null (the
    test could not be made) or whose sides are short of min_samples;
(b) the canary: v2 on 10% of the traffic failing a quarter of its
    previews against 1% while the whole topic's runbook rule is silent;
(c) A/A: treatment and control alike, a compare rule judged every second
    over a long span for many seeds (bench/compare_aa.py's windows, the
    reference's statistics and rule state): the share of runs with any
    false firing is at most alpha; a real difference is detected, and
    the detection delay is reported (stderr) and bounded;
(d) configuration errors name the key (check-config exits 2)."""

import json
import math
import random
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent.parent / "bench"))
import compare_aa  # noqa: E402
import reference  # noqa: E402
from test_cohorts import (BASE, BIN, COHORT_ERRORS, TRIGGER_FIELDS, WHOLE_ERRORS,  # noqa: E402
                          c_agrees, check_config_refuses, cohort_config, dumps, flat, ms, ref,
                          statuses, triggers)

CANARY = {"name": "canary_errors", "metric": "error_rate", "op": ">", "threshold": 0.02,
          "window_s": 300, "min_samples": 20, "action": "rollback_cohort",
          "compare": {"treatment": "v2", "control": "v1"}}
ALPHA_PER_LOOK = 0.05 / 172800
NO_CHECKS = {"check": False}


# ---- a stream with cohorts that differ when told to ---------------------------------------

def stream(seed=1, minutes=30, per_s=3, shares=(("v1", 0.88), ("v2", 0.10), (None, 0.02)),
           error=0.0, fail=None, slow=None, tc_miss=None, weights=None, start=0):
    """Previews in time order, per_s a second: a request and, 100 ms later,
    its outcome, each of a version drawn from `shares` (None: no version,
    the cohort `other`). Every outcome is an internal error (a 500) with
    probability `error`, or, for a cohort c in `fail` = {c: (from_min,
    to_min, p)}, with probability p in those minutes; 2% of the rest fall
    back for plan_not_compressible (not an error). Durations are 80..900
    ms, multiplied by f for a cohort in `slow` = {c: (from_min, to_min,
    f)}. A success meets its time constraint with probability 0.9 (0.5 for
    a cohort in `tc_miss` = {c: (from_min, to_min)}). weights = {c: (lo,
    hi)}: each event of c carries "w" drawn in lo..hi."""
    rng = random.Random(seed)
    out = []

    def within(spec, c, s):
        return spec is not None and c in spec and \
            spec[c][0] * 60 <= s - start < spec[c][1] * 60

    for s in range(start, start + minutes * 60):
        for k in range(per_s):
            x = rng.random()
            version = None
            for v, share in shares:
                if x < share:
                    version = v
                    break
                x -= share
            key = version if version is not None else "other"
            extra = {}
            if weights and key in weights:
                extra["w"] = rng.randint(*weights[key])
            off = k * (1000 // per_s)
            out.append(flat("requested", s, off, version, **extra))
            dur = rng.randint(80, 900)
            if within(slow, key, s):
                dur = round(dur * slow[key][2])
            p = fail[key][2] if within(fail, key, s) else error
            if rng.random() < p:
                out.append(flat("fallback", s, off + 100, version, durationMs=dur,
                                reason="internal_error", **extra))
            elif rng.random() < 0.02:
                out.append(flat("fallback", s, off + 100, version, durationMs=dur,
                                reason="plan_not_compressible", **extra))
            else:
                meets = rng.random() < (0.5 if within(tc_miss, key, s) else 0.9)
                out.append(flat("succeeded", s, off + 100, version, durationMs=dur, status=200,
                                meetsTimeConstraint=meets, **extra))
    return out


def trig_events(res, rule=None):
    return [e for e in res.outputs if e["type"] == "rollback_trigger"
            and (rule is None or e["rule"] == rule)]


def check_compare_trigger(e, rule, extra=()):
    """What section 12 says of every compare trigger: the fields of
    section 7 with cohort after rule, the section 8 fields, then compare;
    value = d, samples = the treatment's; z and p together null or not,
    p = erfc(z / sqrt 2) / 2; a firing is significant."""
    cmp = dict({"alpha": 0.05, "horizon_s": 172800}, **rule["compare"])
    assert list(e) == TRIGGER_FIELDS + list(extra) + ["compare"], list(e)
    assert e["rule"] == rule["name"] and e["cohort"] == cmp["treatment"]
    assert e["id"] == "%s:%s:%d" % (rule["name"], cmp["treatment"], e["at_ms"])
    c = e["compare"]
    assert list(c) == ["treatment", "control", "statistic", "p_value", "alpha_per_look"]
    assert list(c["treatment"]) == list(c["control"]) == ["cohort", "value", "samples"]
    assert c["treatment"]["cohort"] == cmp["treatment"]
    assert c["control"]["cohort"] == cmp["control"]
    assert e["samples"] == c["treatment"]["samples"]
    tv, cv = c["treatment"]["value"], c["control"]["value"]
    assert e["value"] == (None if tv is None or cv is None else tv - cv)
    assert c["alpha_per_look"] == cmp["alpha"] / cmp["horizon_s"]
    assert (c["statistic"] is None) == (c["p_value"] is None)
    if c["statistic"] is not None:
        assert c["p_value"] == math.erfc(c["statistic"] / math.sqrt(2)) / 2
    if e["state"] == "firing":
        assert e["action"] == rule.get("action", "disable_flag")
        assert c["statistic"] > 0 and c["p_value"] <= c["alpha_per_look"]
        assert min(c["treatment"]["samples"], c["control"]["samples"]) >= \
            rule.get("min_samples", 0)
        op = reference.OPS[rule["op"]]
        assert op(e["value"], rule["threshold"])
    else:
        assert e["action"] == "none"


def window_counts(docs, version, T, W):
    """(errors, outcomes) of one version's outcomes in seconds T-W .. T-1
    (relative to BASE), straight from the documents (no late events)."""
    x = n = 0
    for d in docs:
        if d.get("gatewayVersion") != version or d["event"].endswith("requested"):
            continue
        s = d["ts"] // 1000 - BASE
        if T - W <= s < T:
            n += 1
            x += d["event"].endswith("fallback") and d.get("reason") == "internal_error"
    return x, n


# ---- (a) rates ----------------------------------------------------------------------------

ROLLOUT = dict(fail={"v2": (10, 20, 0.5)})


@pytest.mark.parametrize("seed", [1, 2])
def test_error_rate_treatment_higher(tmp_path, seed):
    docs = stream(seed, **ROLLOUT)
    cfg = cohort_config([WHOLE_ERRORS, CANARY])
    res = ref(docs, cfg)
    trig = trig_events(res)
    assert [(e["rule"], e["cohort"], e["state"]) for e in trig] == [
        ("canary_errors", "v2", "firing"), ("canary_errors", "v2", "resolved")]
    fire, resolved = trig
    for e in trig:
        check_compare_trigger(e, CANARY)
    assert (BASE + 600) * 1000 < fire["at_ms"] < (BASE + 720) * 1000
    assert (BASE + 1200) * 1000 < resolved["at_ms"] < (BASE + 1500) * 1000
    # z by hand from the documents, as the doc's formula writes it
    T = fire["at_ms"] // 1000 - BASE
    xt, nt = window_counts(docs, "v2", T, 300)
    xc, nc = window_counts(docs, "v1", T, 300)
    p = (xt + xc) / (nt + nc)
    z = (xt / nt - xc / nc) / math.sqrt(p * (1 - p) * (1 / nt + 1 / nc))
    assert fire["compare"]["statistic"] == pytest.approx(z, rel=1e-12)
    assert fire["compare"]["treatment"]["samples"] == nt  # flat: observed = weighted
    assert fire["compare"]["alpha_per_look"] == ALPHA_PER_LOOK
    # no rollback check follows a compare rule; the status shows its state
    assert not [e for e in res.outputs if e["type"] == "rollback_check"]
    for st in statuses(res):
        inside = fire["at_ms"] <= st["at_ms"] < resolved["at_ms"]
        assert st["cohorts_firing"] == (["canary_errors:v2"] if inside else [])
        assert st["firing"] == [] and (st["status"] == "red") == inside
    c_agrees(res, docs, tmp_path, cfg)


def test_success_rate_treatment_lower(tmp_path):
    rule = dict(CANARY, name="canary_success", metric="success_rate", op="<", threshold=-0.05)
    docs = stream(3, **ROLLOUT)
    cfg = cohort_config([rule])
    res = ref(docs, cfg)
    trig = trig_events(res)
    assert [e["state"] for e in trig] == ["firing", "resolved"]
    for e in trig:
        check_compare_trigger(e, rule)
    assert trig[0]["value"] < -0.05 and trig[0]["compare"]["statistic"] > 0
    c_agrees(res, docs, tmp_path, cfg)


def test_direction_of_op(tmp_path):
    """Treatment v1 against control v2 (v1 the better one): `<` fires on
    error_rate, `>` never does, whatever its threshold."""
    docs = stream(4, **ROLLOUT)
    lower = dict(CANARY, name="v1_better", op="<", threshold=0,
                 compare={"treatment": "v1", "control": "v2", "alpha": 0.01})
    higher = dict(CANARY, name="v1_worse", op=">=", threshold=-1,
                  compare={"treatment": "v1", "control": "v2", "alpha": 0.01})
    cfg = cohort_config([higher, lower], rollback=NO_CHECKS)
    res = ref(docs, cfg)
    assert [(e["rule"], e["cohort"], e["state"]) for e in trig_events(res)] == [
        ("v1_better", "v1", "firing"), ("v1_better", "v1", "resolved")]
    for e in trig_events(res):
        check_compare_trigger(e, lower)
        assert e["compare"]["alpha_per_look"] == 0.01 / 172800
    c_agrees(res, docs, tmp_path, cfg)


def test_time_constraint_rate(tmp_path):
    rule = dict(CANARY, name="canary_tc", metric="time_constraint_success_rate", op="<=",
                threshold=-0.1, compare={"treatment": "v2", "control": "v1",
                                         "horizon_s": 3600})
    docs = stream(5, tc_miss={"v2": (8, 16)}, minutes=25)
    cfg = cohort_config([rule], rollback=NO_CHECKS)
    res = ref(docs, cfg)
    trig = trig_events(res)
    assert [e["state"] for e in trig][:2] == ["firing", "resolved"]
    for e in trig:
        check_compare_trigger(e, rule)
    assert trig[0]["compare"]["alpha_per_look"] == 0.05 / 3600
    c_agrees(res, docs, tmp_path, cfg)


def test_treatment_other(tmp_path):
    """The events without a version (10% here) fail: the treatment `other`
    against v1."""
    rule = dict(CANARY, name="unversioned", compare={"treatment": "other", "control": "v1"})
    docs = stream(6, shares=(("v1", 0.8), ("v2", 0.1), (None, 0.1)),
                  fail={"other": (10, 20, 0.4)})
    cfg = cohort_config([rule, CANARY])
    res = ref(docs, cfg)
    trig = trig_events(res)
    assert [(e["rule"], e["cohort"], e["state"]) for e in trig] == [
        ("unversioned", "other", "firing"), ("unversioned", "other", "resolved")]
    for e in trig:
        check_compare_trigger(e, rule)
    assert trig[0]["id"].startswith("unversioned:other:")
    assert any(st["cohorts_firing"] == ["unversioned:other"] for st in statuses(res))
    c_agrees(res, docs, tmp_path, cfg)


def test_weighted_counts(tmp_path):
    """With input.sample_weight the test reads weighted counts (x, n and the
    histograms) while samples stay events as read (section 9.5)."""
    docs = stream(7, fail={"v2": (10, 20, 0.3)}, slow={"v2": (10, 20, 1.4)},
                  weights={"v2": (1, 4), "v1": (1, 2)})
    rules = [CANARY, dict(CANARY, name="canary_slow", metric="latency_mean_ms",
                          threshold=50)]
    cfg = cohort_config(rules, input={"sample_weight": {"field": "w", "default": 1}},
                        rollback=NO_CHECKS)
    res = ref(docs, cfg)
    trig = trig_events(res)
    assert {(e["rule"], e["state"]) for e in trig} >= {("canary_errors", "firing"),
                                                       ("canary_slow", "firing")}
    for e in trig:
        check_compare_trigger(e, rules[0] if e["rule"] == "canary_errors" else rules[1])
    fire = trig_events(res, "canary_errors")[0]
    T = fire["at_ms"] // 1000 - BASE
    assert fire["samples"] == window_counts(docs, "v2", T, 300)[1]  # observed
    c_agrees(res, docs, tmp_path, cfg)


# ---- (a) latency ----------------------------------------------------------------------------

SLOW = {"name": "canary_slow", "metric": "latency_mean_ms", "op": ">", "threshold": 50,
        "window_s": 300, "min_samples": 20, "action": "rollback_cohort",
        "compare": {"treatment": "v2", "control": "v1"}}


def test_latency_treatment_slower(tmp_path):
    docs = stream(8, slow={"v2": (10, 20, 2.0)})
    cfg = cohort_config([SLOW])
    res = ref(docs, cfg)
    trig = trig_events(res)
    assert [e["state"] for e in trig] == ["firing", "resolved"]
    for e in trig:
        check_compare_trigger(e, SLOW)
    assert (BASE + 600) * 1000 < trig[0]["at_ms"] < (BASE + 900) * 1000
    assert trig[0]["value"] > 50
    c_agrees(res, docs, tmp_path, cfg)


def test_latency_treatment_faster_and_ties(tmp_path):
    """v2 faster (`<`), with durations in whole 50 ms steps: many ties in
    one bin, so the tie correction matters. z hovers about 5 at times:
    keep_firing_for_s keeps one firing."""
    rule = dict(SLOW, name="canary_fast", op="<", threshold=-30, keep_firing_for_s=60)
    docs = stream(9, slow={"v2": (10, 20, 0.5)})
    for d in docs:
        if "durationMs" in d:
            d["durationMs"] = max(50, round(d["durationMs"] / 50) * 50)
    cfg = cohort_config([rule])
    res = ref(docs, cfg)
    trig = trig_events(res)
    assert [e["state"] for e in trig] == ["firing", "resolved"]
    for e in trig:
        check_compare_trigger(e, rule)
    assert trig[0]["value"] < -30
    # the same z without the tie correction would be smaller in size
    c_agrees(res, docs, tmp_path, cfg)


def test_rank_z_by_hand():
    """reference.rank_z on a worked case: treatment {10, 20, 20}, control
    {10, 10, 30} in bins 1, 2, 2 / 1, 1, 3. U = 0.5*2 (the 10 against two
    10s) + 2*(2 + 0) (each 20 above the two 10s) = 5; mu = 4.5;
    ties: bin 1 t = 3 (24), bin 2 t = 2 (6), bin 3 t = 1 (0): S = 30;
    sigma2 = 9/12 * (7 - 30/30) = 4.5; z = 0.5/sqrt(4.5)."""
    ht, hc = {1: 1, 2: 2}, {1: 2, 3: 1}
    assert reference.rank_z(ht, hc, ">") == 0.5 / math.sqrt(4.5)
    assert reference.rank_z(ht, hc, "<=") == -0.5 / math.sqrt(4.5)
    assert reference.rank_z({5: 3}, {5: 4}, ">") is None       # one bin: sigma2 = 0
    assert reference.rank_z({5: 1}, {}, ">") is None           # N < 2
    assert reference.rank_z({}, {5: 1, 6: 1}, ">") is None     # a side empty
    assert reference.rate_z({"x": 0, "n": 10}, {"x": 0, "n": 5}, 0.0, ">") is None
    assert reference.rate_z({"x": 3, "n": 0}, {"x": 0, "n": 5}, None, ">") is None
    # bins: 1/64 ms below 2 ms, 64 a power of two above, the top from 2,097,152 ms
    assert [reference.hist_bin(us) for us in (0, 15, 16, 1999, 2000, 2031, 2032, 4000)] == \
        [0, 0, 1, 127, 128, 128, 129, 192]
    assert reference.hist_bin(2097152000) == reference.hist_bin(10 ** 15) == 1408


# ---- (a) hysteresis and missing data --------------------------------------------------------

def test_hysteresis(tmp_path):
    """resolve_threshold: while firing the effect needs only stay above it
    (the test must still be significant); keep_firing_for_s delays the
    resolution. Both carry the section 8 fields before compare."""
    docs = stream(10, fail={"v2": (10, 20, 0.5)})
    plain = ref(docs, cohort_config([CANARY]))
    base = trig_events(plain)
    assert [e["state"] for e in base] == ["firing", "resolved"]
    rt = dict(CANARY, name="canary_rt", resolve_threshold=-1)
    kf = dict(CANARY, name="canary_kf", keep_firing_for_s=120)
    res = ref(docs, cohort_config([rt, kf], rollback=NO_CHECKS))
    with_rt, with_kf = trig_events(res, "canary_rt"), trig_events(res, "canary_kf")
    assert [e["state"] for e in with_rt] == [e["state"] for e in with_kf] == \
        ["firing", "resolved"]
    assert [e["at_ms"] for e in with_kf] == [base[0]["at_ms"], base[1]["at_ms"] + 120000]
    assert with_rt[0]["at_ms"] == base[0]["at_ms"]
    assert with_rt[1]["at_ms"] >= base[1]["at_ms"]
    for e in with_rt:
        check_compare_trigger(e, rt, ["resolve_threshold"])
        assert e["resolve_threshold"] == -1
    for e in with_kf:
        check_compare_trigger(e, kf)
    c_agrees(plain, docs, tmp_path, cohort_config([CANARY]))
    c_agrees(res, docs, tmp_path, cohort_config([rt, kf], rollback=NO_CHECKS))


def vanish_stream():
    """v1 and v2 one preview a second each for 600 s; v2's outcomes in
    seconds 100..149 are all internal errors, and v2 sends nothing from
    second 150 on."""
    docs = []
    for s in range(600):
        for v, off in (("v1", 0), ("v2", 300)):
            if v == "v2" and s >= 150:
                continue
            docs.append(flat("requested", s, off, v))
            if v == "v2" and s >= 100:
                docs.append(flat("fallback", s, off + 100, v, durationMs=400,
                                 reason="internal_error"))
            else:
                docs.append(flat("succeeded", s, off + 100, v, durationMs=400, status=200))
    return docs


VANISH = {"name": "v2_errors", "metric": "error_rate", "op": ">", "threshold": 0.1,
          "window_s": 60, "min_samples": 40, "compare": {"treatment": "v2", "control": "v1"}}


def test_samples_short_and_treatment_gone(tmp_path):
    """Worked by hand (window 60, min 40, alpha/L = 2.9e-7, z > 4.99): at
    T the window T-60..T-1 holds 60 v1 and, up to T = 150, 60 v2 outcomes,
    k = T - 100 of them errors: d = k/60, pooled p = k/120, z = d / sqrt(p
    (1 - p) / 30): k = 20 gives 4.90 (p 4.8e-7, not enough), k = 21 5.05:
    fires at T = 121. From T = 171 v2 has 39 outcomes (111..149, all
    errors) < 40: not judged, so it resolves, with a statistic all the
    same (z computed whatever min_samples says)."""
    docs = vanish_stream()
    cfg = cohort_config([VANISH], rollback=NO_CHECKS)
    res = ref(docs, cfg)
    assert triggers(res) == [("v2_errors", "v2", "firing", 121),
                             ("v2_errors", "v2", "resolved", 171)]
    fire, resolved = trig_events(res)
    for e in (fire, resolved):
        check_compare_trigger(e, VANISH)
    assert fire["compare"]["statistic"] == pytest.approx(5.045, abs=0.001)
    assert resolved["samples"] == 39 and resolved["value"] == 1
    assert resolved["compare"]["statistic"] > 5  # significant, but not judged
    c_agrees(res, docs, tmp_path, cfg)

    # hold_when_no_data: not judged keeps it firing, to the end (v2 never returns)
    held = dict(VANISH, hold_when_no_data=True)
    cfg = cohort_config([held], rollback=NO_CHECKS)
    res = ref(docs, cfg)
    assert triggers(res) == [("v2_errors", "v2", "firing", 121)]
    assert statuses(res)[-1]["cohorts_firing"] == ["v2_errors:v2"]
    c_agrees(res, docs, tmp_path, cfg)


def test_latched_acknowledged_null_statistic(tmp_path):
    """Latched, it stays firing after v2 is gone; acknowledged at 300.2 it
    resolves at 301, when v2's window is empty: value, the treatment's
    value and the statistic are null, samples 0."""
    rule = dict(VANISH, latch=True)
    cfg = cohort_config([rule], rollback=NO_CHECKS)
    lines = [dumps(d) for d in vanish_stream()]
    unacked = ref(lines, cfg)
    assert triggers(unacked) == [("v2_errors", "v2", "firing", 121)]
    fire = trig_events(unacked)[0]
    check_compare_trigger(fire, rule, ["latched"])
    assert fire["latched"] is True and fire["id"] == "v2_errors:v2:%d" % ms(121)
    assert statuses(unacked)[-1]["cohorts_firing"] == ["v2_errors:v2"]
    c_agrees(unacked, lines, tmp_path, cfg)

    acks = [{"type": "ack", "id": "v2_errors:%d" % ms(121), "by": "eve", "ts": ms(200)},
            {"type": "ack", "id": fire["id"], "by": "alice", "ts": ms(300, 200)}]
    res = ref(lines, cfg, acks)
    assert triggers(res) == [("v2_errors", "v2", "firing", 121),
                             ("v2_errors", "v2", "resolved", 301)]
    resolved = trig_events(res)[1]
    check_compare_trigger(resolved, rule, ["latched", "acknowledged"])
    assert resolved["acknowledged"] == {"id": fire["id"], "by": "alice"}
    assert resolved["value"] is None and resolved["samples"] == 0
    assert resolved["compare"]["treatment"] == {"cohort": "v2", "value": None, "samples": 0}
    assert resolved["compare"]["control"] == {"cohort": "v1", "value": 0, "samples": 60}
    assert resolved["compare"]["statistic"] is None and resolved["compare"]["p_value"] is None
    c_agrees(res, lines, tmp_path, cfg, acks)


def test_latched_latency_one_bin_null_statistic(tmp_path):
    """Every duration 400 ms except v2's 3000 ms in seconds 100..159: once
    acknowledged (at 400, both windows all in the 400 ms bin), sigma^2 = 0
    and the statistic is null though both values (d = 0) are not. Also a
    rates rule on the same stream, acknowledged when no error is left in
    either window: pooled p = 0, se = 0, statistic null."""
    docs = []
    for s in range(600):
        for v, off in (("v1", 0), ("v2", 300)):
            slow = v == "v2" and 100 <= s < 160
            docs.append(flat("requested", s, off, v))
            docs.append(flat("fallback" if slow else "succeeded", s, off + 100, v,
                             durationMs=3000 if slow else 400, status=503 if slow else 200))
    lat = dict(VANISH, name="v2_slow", metric="latency_mean_ms", threshold=100, latch=True,
               min_samples=20)
    err = dict(VANISH, latch=True, min_samples=20)
    cfg = cohort_config([lat, err], rollback=NO_CHECKS)
    fired = trig_events(ref(docs, cfg))
    assert sorted(e["rule"] for e in fired) == ["v2_errors", "v2_slow"]
    assert all(e["state"] == "firing" and 100 < e["at_ms"] // 1000 - BASE < 160
               for e in fired)
    acks = [{"type": "ack", "id": e["id"], "by": "bob", "ts": ms(399, 500)} for e in fired]
    res = ref(docs, cfg, acks)
    resolved = [e for e in trig_events(res) if e["state"] == "resolved"]
    # at 400 both rules resolve, in rule-list order
    assert [(e["rule"], e["at_ms"]) for e in resolved] == [("v2_slow", ms(400)),
                                                            ("v2_errors", ms(400))]
    for e in trig_events(res):
        check_compare_trigger(e, lat if e["rule"] == "v2_slow" else err,
                              ["latched"] + (["acknowledged"] if e["state"] == "resolved"
                                             else []))
    for e in resolved:
        assert e["value"] == 0 and e["compare"]["statistic"] is None
        assert e["compare"]["p_value"] is None
    c_agrees(res, docs, tmp_path, cfg, acks)


def equal_stream():
    """v1 and v2 one preview a second each for 400 s; both fail every tenth
    second, and v2 also in seconds 100..159."""
    docs = []
    for s in range(400):
        for v, off in (("v1", 0), ("v2", 300)):
            bad = s % 10 == 0 or (v == "v2" and 100 <= s < 160)
            docs.append(flat("requested", s, off, v))
            docs.append(flat("fallback" if bad else "succeeded", s, off + 100, v,
                             durationMs=400,
                             **({"reason": "internal_error"} if bad else {"status": 200})))
    return docs


def c_trigger_lines(res, docs, tmp_path, cfg, acks=()):
    """soakwatch's trigger lines, byte for byte those the reference writes
    (reference.dumps: the shortest form of each double, integral ones as
    integers, null where the test could not be made)."""
    data = b"\n".join(dumps(d) for d in docs) + b"\n"
    (tmp_path / "in.jsonl").write_bytes(data)
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    args = [BIN, "replay", "--config", str(tmp_path / "config.json"), "--input",
            str(tmp_path / "in.jsonl")]
    if acks:
        (tmp_path / "control.jsonl").write_bytes(b"".join(dumps(a) + b"\n" for a in acks))
        args += ["--control", str(tmp_path / "control.jsonl")]
    p = subprocess.run(args, capture_output=True, timeout=300)
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    got = [l for l in p.stdout.decode().splitlines() if '"type":"rollback_trigger"' in l]
    assert got == [reference.dumps(e) for e in trig_events(res)]


def test_equal_rates_zero_statistic(tmp_path):
    """A latched `<` rule on success_rate acknowledged at 300, when both
    windows (240..299) hold 6 failures in 60: d = 0, se > 0, and z = -d/se
    is a zero (written 0, as any integral double), p = 0.5."""
    rule = {"name": "r", "metric": "success_rate", "op": "<", "threshold": 0,
            "window_s": 60, "min_samples": 5, "latch": True,
            "compare": {"treatment": "v2", "control": "v1"}}
    cfg = cohort_config([rule], rollback=NO_CHECKS)
    docs = equal_stream()
    fire = trig_events(ref(docs, cfg))[0]
    acks = [{"type": "ack", "id": fire["id"], "by": "a", "ts": ms(300)}]
    res = ref(docs, cfg, acks)
    resolved = trig_events(res)[1]
    assert resolved["at_ms"] == ms(300) and resolved["value"] == 0
    assert resolved["compare"]["statistic"] == 0 and resolved["compare"]["p_value"] == 0.5
    assert '"statistic":0,"p_value":0.5,' in reference.dumps(resolved)
    check_compare_trigger(resolved, rule, ["latched", "acknowledged"])
    c_agrees(res, docs, tmp_path, cfg, acks)
    c_trigger_lines(res, docs, tmp_path, cfg, acks)


def test_trigger_bytes(tmp_path):
    """Trigger lines byte for byte: rates and latency, a statistic and
    p-value in exponent form, null statistics, alpha_per_look."""
    lines = vanish_stream()
    rule = dict(VANISH, latch=True)
    cfg = cohort_config([rule, dict(VANISH, name="plain")], rollback=NO_CHECKS)
    acks = [{"type": "ack", "id": "v2_errors:v2:%d" % ms(121), "by": "alice",
             "ts": ms(300, 200)}]
    res = ref(lines, cfg, acks)
    assert len(trig_events(res)) == 4
    c_trigger_lines(res, lines, tmp_path, cfg, acks)
    docs = stream(8, slow={"v2": (10, 20, 2.0)})
    cfg = cohort_config([SLOW, dict(CANARY, compare={"treatment": "v2", "control": "other",
                                                     "alpha": 0.3, "horizon_s": 7})])
    res = ref(docs, cfg)
    assert len(trig_events(res)) >= 2
    c_trigger_lines(res, docs, tmp_path, cfg)


# ---- (b) the canary: the whole topic is silent, the comparison fires ------------------------

def test_canary_whole_silent_compare_fires(tmp_path):
    """Section 12's claim: a 10% canary failing a quarter of its previews
    against 1% is met within a 300 s window of a few hundred outcomes
    (here one preview a second: 300), at the default alpha and horizon.
    The whole topic's error rate, about 3.4%, never reaches the runbook's
    10%."""
    docs = stream(21, minutes=40, per_s=1, error=0.01, fail={"v2": (10, 30, 0.25)},
                  shares=(("v1", 0.9), ("v2", 0.1)))
    cfg = cohort_config([WHOLE_ERRORS, CANARY, COHORT_ERRORS])
    res = ref(docs, cfg)
    fires = [e for e in trig_events(res) if e["state"] == "firing"]
    assert not [e for e in trig_events(res) if e["rule"] == "error_rate_high"]
    canary = [e for e in fires if e["rule"] == "canary_errors"]
    assert canary, "the compare rule never fired"
    first = canary[0]
    check_compare_trigger(first, CANARY)
    assert (BASE + 600) * 1000 < first["at_ms"] <= (BASE + 900) * 1000
    assert 200 <= first["compare"]["treatment"]["samples"] + \
        first["compare"]["control"]["samples"] <= 400
    assert first["compare"]["p_value"] <= ALPHA_PER_LOOK
    assert all(st["windows"]["300"]["error_rate"] is None
               or st["windows"]["300"]["error_rate"] < 0.10 for st in statuses(res))
    # cohorts_firing lists the states in rule-list order: the compare rule
    # (second) before the per-cohort rule (third) when both fire
    both = [st for st in statuses(res)
            if set(st["cohorts_firing"]) == {"canary_errors:v2", "cohort_error_rate_high:v2"}]
    assert all(st["cohorts_firing"] == ["canary_errors:v2", "cohort_error_rate_high:v2"]
               for st in both)
    print("canary: compare rule fired %d s after the failures began (z %.2f)"
          % (first["at_ms"] // 1000 - BASE - 600, first["compare"]["statistic"]),
          file=sys.stderr)
    c_agrees(res, docs, tmp_path, cfg)


# ---- (c) A/A: false alarms within alpha; detection delay -----------------------------------

def sim_docs(events_by_second):
    """bench/compare_aa.py's kept events as flat documents (an error a 500
    fallback, a success a 200), seconds from BASE."""
    docs = []
    for s, events in enumerate(events_by_second):
        for k, (cohort, err, dur) in enumerate(events):
            docs.append(flat("fallback" if err else "succeeded", s, k * 10, cohort,
                             durationMs=400 if dur is None else dur,
                             **({"reason": "internal_error"} if err else {"status": 200})))
    return docs


@pytest.mark.parametrize("metric,slower,error_after", [("error_rate", 1.0, 0.3),
                                                       ("latency_mean_ms", 1.5, None)])
def test_simulation_is_the_reference(metric, slower, error_after):
    """The simulation's incremental windows give, at every instant, the
    look that reference.py's own windows give (Buckets.compare_side), and
    the same transitions as reference.replay over the same events."""
    span, W = 1200, 300
    rule = compare_aa.make_rule(metric, ">", 0.0, W, 20, 0.05, span)
    looks = {}
    tr = compare_aa.Traffic(31, rate=20, change_at=600, error_after=error_after,
                            slower=slower, grain_ms=5)
    sim = compare_aa.run(rule, tr, span, keep_events=True,
                         on_look=lambda T, look: looks.__setitem__(T, look))
    assert sim["firings"], "the change should be detected"
    docs = sim_docs(sim["events"])
    cfg = cohort_config([dict(rule_doc(rule))], rollback=NO_CHECKS)
    conf = reference.make_config(cfg)
    acc = []
    for raw in map(dumps, docs):
        (verdict, ev), = reference.decode_message(raw, conf)
        acc.append((ev["ts_ms"] // 1000 - BASE, ev))
    bt = reference.Buckets([(s, e) for s, e in acc if e["cohort"] == "v2"], 0, span, conf)
    bc = reference.Buckets([(s, e) for s, e in acc if e["cohort"] == "v1"], 0, span, conf)
    r = conf["rules"][0]
    for T in range(W, span + 1, 7):
        want = reference.compare_look(r, bt.compare_side(r, T), bc.compare_side(r, T))
        got = looks[T]
        for k in ("d", "statistic", "p_value"):
            assert got[k] == want[k], (T, k, got[k], want[k])
        assert got["treatment"]["samples"] == want["treatment"]["samples"]
    res = ref(docs, cfg)
    got = [(x[2], x[3]) for x in triggers(res)]
    want = sorted([("firing", T) for T in sim["firings"]] +
                  [("resolved", T) for T in sim["resolutions"]], key=lambda x: x[1])
    assert got == want


def rule_doc(rule):
    """A completed rule back as a config document."""
    return {k: v for k, v in rule.items() if k not in ("scope",)}


def test_aa_false_alarms_within_alpha_and_detection_delay():
    """Two hours at 20 outcomes a second, the treatment 10% of them, both
    cohorts failing 5%, judged every second with horizon_s = the span
    (7200): at most alpha of 40 runs may fire at all (the union bound says
    so whatever the correlation of the windows). Per look, p <= 0.05 at
    about 5% of the looks (the test is calibrated, not merely strict).
    Then the treatment's error rate goes to 15% at the hour: every run
    detects it, within one window length."""
    seeds, hours, alpha = 40, 2, 0.05
    bad, looks, p_le, took = compare_aa.aa(range(seeds), hours, 20, "error_rate", 300, alpha,
                                           0.10, 0.05, 1)
    print("A/A error_rate: %d of %d runs fired falsely; p <= 0.05 at %.4f of %d looks; %.1f s"
          % (bad, seeds, p_le[0.05] / looks, looks, took), file=sys.stderr)
    assert bad <= alpha * seeds
    assert 0.03 <= p_le[0.05] / looks <= 0.08
    assert 0.004 <= p_le[0.01] / looks <= 0.02
    res = compare_aa.ab(range(100, 110), hours, 20, "error_rate", 300, alpha, 0.10, 0.05, 1,
                        change_at=3600, error_after=0.15)
    delays = [d for _, d, _ in res]
    print("A/B error_rate 5%% -> 15%% at 2/s of treatment: detection delays (s) %s"
          % delays, file=sys.stderr)
    assert all(d is not None for d in delays), delays
    assert max(delays) <= 300
    assert sum(b for _, _, b in res) == 0  # no firing before the change


def test_aa_latency_within_alpha_and_detection_delay():
    """The same for latency_mean_ms (the rank test, durations rounded to 10
    ms so that most bins hold ties): one hour, 12 runs; then the
    treatment 20% slower from the half hour."""
    seeds, hours, alpha = 12, 1, 0.05
    bad, looks, p_le, took = compare_aa.aa(range(seeds), hours, 20, "latency_mean_ms", 300,
                                           alpha, 0.10, 0.05, 10)
    print("A/A latency: %d of %d runs fired falsely; p <= 0.05 at %.4f of %d looks; %.1f s"
          % (bad, seeds, p_le[0.05] / looks, looks, took), file=sys.stderr)
    assert bad <= alpha * seeds
    assert 0.02 <= p_le[0.05] / looks <= 0.09
    res = compare_aa.ab(range(200, 204), hours, 20, "latency_mean_ms", 300, alpha, 0.10, 0.05,
                        10, change_at=1800, slower=1.2)
    delays = [d for _, d, _ in res]
    print("A/B latency x1.2 at 2/s of treatment: detection delays (s) %s" % delays,
          file=sys.stderr)
    assert all(d is not None for d in delays) and max(delays) <= 300, delays


# ---- (d) configuration errors name the key ----------------------------------------------------

GOOD_COHORTS = {"field": "gatewayVersion", "values": ["v1", "v2"]}
CMP = {"name": "r", "metric": "error_rate", "op": ">", "threshold": 0.02, "window_s": 300,
       "compare": {"treatment": "v2", "control": "v1"}}


def with_cmp(**more):
    return dict(CMP, **more)


def cmp_spec(**more):
    return with_cmp(compare=dict(CMP["compare"], **more))


CONFIG_ERRORS = [
    ({"rules": [CMP]}, "rules[0].compare"),  # no cohorts section
    ({"cohorts": GOOD_COHORTS, "rules": [with_cmp(compare="v2")]}, "rules[0].compare"),
    ({"cohorts": GOOD_COHORTS, "rules": [with_cmp(compare={"treatment": "v2"})]},
     "rules[0].compare.control"),
    ({"cohorts": GOOD_COHORTS, "rules": [with_cmp(compare={"control": "v1"})]},
     "rules[0].compare.treatment"),
    ({"cohorts": GOOD_COHORTS, "rules": [cmp_spec(treatment="v3")]},
     "rules[0].compare.treatment"),
    ({"cohorts": GOOD_COHORTS, "rules": [cmp_spec(treatment=2)]},
     "rules[0].compare.treatment"),
    ({"cohorts": GOOD_COHORTS, "rules": [cmp_spec(control="V1")]},
     "rules[0].compare.control"),
    ({"cohorts": GOOD_COHORTS, "rules": [cmp_spec(control="v2")]}, "rules[0].compare"),
    ({"cohorts": GOOD_COHORTS, "rules": [cmp_spec(treatment="other", control="other")]},
     "rules[0].compare"),
    ({"cohorts": GOOD_COHORTS, "rules": [cmp_spec(alpha=0)]}, "rules[0].compare.alpha"),
    ({"cohorts": GOOD_COHORTS, "rules": [cmp_spec(alpha=1)]}, "rules[0].compare.alpha"),
    ({"cohorts": GOOD_COHORTS, "rules": [cmp_spec(alpha=-0.1)]}, "rules[0].compare.alpha"),
    ({"cohorts": GOOD_COHORTS, "rules": [cmp_spec(alpha="0.05")]}, "rules[0].compare.alpha"),
    ({"cohorts": GOOD_COHORTS, "rules": [cmp_spec(alpha=True)]}, "rules[0].compare.alpha"),
    ({"cohorts": GOOD_COHORTS, "rules": [cmp_spec(horizon_s=0)]},
     "rules[0].compare.horizon_s"),
    ({"cohorts": GOOD_COHORTS, "rules": [cmp_spec(horizon_s=31536001)]},
     "rules[0].compare.horizon_s"),
    ({"cohorts": GOOD_COHORTS, "rules": [cmp_spec(horizon_s=3600.5)]},
     "rules[0].compare.horizon_s"),
    ({"cohorts": GOOD_COHORTS, "rules": [cmp_spec(horizon_s=3600.0)]},
     "rules[0].compare.horizon_s"),
    ({"cohorts": GOOD_COHORTS, "rules": [cmp_spec(horizon_s="3600")]},
     "rules[0].compare.horizon_s"),
    ({"cohorts": GOOD_COHORTS, "rules": [cmp_spec(beta=0.2)]}, "rules[0].compare"),
    ({"cohorts": GOOD_COHORTS, "rules": [with_cmp(metric="requests")]}, "rules[0].metric"),
    ({"cohorts": GOOD_COHORTS, "rules": [with_cmp(metric="latency_p95_ms")]},
     "rules[0].metric"),
    ({"cohorts": GOOD_COHORTS, "rules": [with_cmp(metric="strategies.none")]},
     "rules[0].metric"),
    ({"cohorts": GOOD_COHORTS, "rules": [with_cmp(op="==")]}, "rules[0].op"),
    ({"cohorts": GOOD_COHORTS, "rules": [with_cmp(confidence=0.95)]}, "rules[0].confidence"),
    ({"cohorts": GOOD_COHORTS, "rules": [with_cmp(windows_s=[3600])]}, "rules[0].windows_s"),
    ({"cohorts": GOOD_COHORTS, "rules": [with_cmp(cohorts="each")]}, "rules[0].cohorts"),
    ({"cohorts": GOOD_COHORTS, "rules": [with_cmp(cohorts=["v2"])]}, "rules[0].cohorts"),
    ({"cohorts": GOOD_COHORTS, "rules": [with_cmp(cohorts="whole")]}, "rules[0].cohorts"),
    ({"cohorts": GOOD_COHORTS, "rules": [with_cmp(action="page")]}, "rules[0].action"),
    ({"cohorts": GOOD_COHORTS, "rules": [with_cmp(resolve_threshold=0.01),
                                         with_cmp(name="s", resolve_threshold=0.5)]},
     "rules[1].resolve_threshold"),
]


@pytest.mark.parametrize("doc,key", CONFIG_ERRORS, ids=[k + ":" + json.dumps(d)[-70:]
                                                        for d, k in CONFIG_ERRORS])
def test_config_errors_name_the_key(tmp_path, doc, key):
    with pytest.raises(ValueError) as err:  # the reference refuses it too
        reference.make_config(doc)
    if key not in ("rules[0].confidence", "rules[0].windows_s"):  # keys it does not know
        assert key in str(err.value), str(err.value)
    check_config_refuses(tmp_path, doc, key)


@pytest.mark.parametrize("doc", [
    {"cohorts": GOOD_COHORTS, "rules": [CMP]},
    {"cohorts": GOOD_COHORTS, "rules": [cmp_spec(treatment="other", alpha=0.001,
                                                 horizon_s=31536000)]},
    {"cohorts": GOOD_COHORTS, "rules": [cmp_spec(treatment="v1", control="other", horizon_s=1)],
     "rollback": {"check": False}},
    {"cohorts": GOOD_COHORTS,
     "rules": [with_cmp(action="rollback_cohort", latch=True, hold_when_no_data=True,
                        resolve_threshold=0.01, keep_firing_for_s=60, min_samples=30),
               with_cmp(name="s", metric="latency_mean_ms", op="<=", threshold=-100,
                        action="disable_flag"),
               with_cmp(name="t", metric="success_rate", op="<", threshold=-0.02),
               with_cmp(name="u", metric="time_constraint_success_rate", op=">=",
                        threshold=0)]},
])
def test_good_configs_are_accepted(tmp_path, doc):
    cfg = reference.make_config(doc)
    assert all(r["compare"]["alpha"] > 0 for r in cfg["rules"])
    conf = tmp_path / "c.json"
    conf.write_text(json.dumps(doc))
    p = subprocess.run([BIN, "check-config", str(conf)], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0, p.stderr
