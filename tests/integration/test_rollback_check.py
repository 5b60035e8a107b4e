"""The rollback check (docs/semantics.md section 10) in file replay, against
the independent reference: hand-worked edge cases, each asserting the exact
events, and randomized streams on which soakwatch and reference.py must
write the same events. The emit range (a firing before it whose check falls
inside it) is held by tests/unit/test_rollback_check.c, where the engine's
emit range is set directly."""

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import reference  # noqa: E402
from test_reference import BASE, BIN, agree, err, fb, line, ok, req, steady  # noqa: E402

FNA = "feature_not_available"


def fna(sec, **kw):
    """What the endpoint answers once the flag is off."""
    return fb(sec, reason=FNA, **kw)


def timed(lines):
    """The lines in event-time order (stable): none of them late."""
    return sorted(lines, key=lambda l: json.loads(l)["ts"])


def config(**rollback):
    """One rule that fires at T when second T-1 held an error (window 1 s)
    and resolves at the first T whose second T-1 held none; a 10 s watch."""
    rb = {"verify_within_s": 10, "quiet_s": 3, "unavailable_min": 1}
    rb.update(rollback)
    return {"rules": [{"name": "r", "metric": "errors", "op": ">=", "threshold": 1,
                       "window_s": 1}],
            "rollback": rb}


def events(res):
    """Triggers and checks, relative seconds, in output order."""
    out = []
    for e in res.outputs:
        if e["type"] == "rollback_trigger":
            out.append(("trigger", e["state"], e["at_ms"] // 1000 - BASE))
        elif e["type"] == "rollback_check":
            rel = None if e["verified_at_ms"] is None else e["verified_at_ms"] // 1000 - BASE
            out.append((e["state"], e["at_ms"] // 1000 - BASE, e["fired_at_ms"] // 1000 - BASE,
                        e["unavailable"], e["quiet_s"], e["evidence"], rel, e["action"]))
    return out


def test_event_fields_in_order(tmp_path):
    res = agree(timed(steady(0, 30) + [err(4), fna(5)]), tmp_path, config())
    check = [e for e in res.outputs if e["type"] == "rollback_check"][0]
    assert list(check) == ["type", "schema_version", "id", "rule", "state", "at_ms", "at",
                           "fired_at_ms", "verify_within_s", "unavailable", "quiet_s", "evidence",
                           "verified_at_ms", "feature", "action"]
    assert check["id"] == "r:%d:verified" % ((BASE + 5) * 1000)
    assert check["at"] == reference.format_rfc3339_ms((BASE + 6) * 1000)
    assert check["verify_within_s"] == 10
    assert check["feature"] == "feature.stream5_time_crunch_mode"


def test_verified_by_reason_at_the_first_second_after_firing(tmp_path):
    # error in second 4: fires at 5; the flag's answer in second 5 is counted
    # at 6, the first instant after F; the rule resolves at 6 too: the
    # transition first, then the check, then the baseline of the same watch.
    res = agree(timed(steady(0, 30) + [err(4), fna(5)]), tmp_path, config())
    assert events(res) == [
        ("trigger", "firing", 5),
        ("trigger", "resolved", 6),
        ("verified", 6, 5, 1, 0, FNA, 6, "none"),
        ("baseline", 6, 5, 1, 0, FNA, 6, "none"),
    ]


def test_unavailable_before_firing_does_not_count(tmp_path):
    # second 4 holds the flag's answer and the error: before F = 5, not counted
    res = agree(timed(steady(0, 30) + [err(4), fna(4)]), tmp_path, config())
    assert events(res)[2:] == [
        ("baseline", 6, 5, 0, 0, None, None, "none"),
        ("not_verified", 15, 5, 0, 0, None, None, "escalate"),
    ]


def test_unavailable_min_sums_over_seconds(tmp_path):
    # 3 needed: one in second 7, then two in second 9 -> verified at 10
    res = agree(timed(steady(0, 30) + [err(4), fna(7), fna(9), fna(9)]), tmp_path,
                config(unavailable_min=3))
    assert ("verified", 10, 5, 3, 0, FNA, 10, "none") in events(res)


def test_verified_by_silence_exactly_at_quiet_s(tmp_path):
    # traffic stops after second 4; F = 5: q(7) = 2, q(8) = 3 = quiet_s.
    # The rule resolves at 6, before verification: its baseline has none yet.
    lines = steady(0, 4) + [err(4), req(20)]
    res = agree(timed(lines), tmp_path, config())
    assert events(res) == [
        ("trigger", "firing", 5),
        ("trigger", "resolved", 6),
        ("baseline", 6, 5, 0, 1, None, None, "none"),
        ("verified", 8, 5, 0, 3, "no_requests", 8, "none"),
    ]


def test_silence_counts_from_firing_not_before(tmp_path):
    # no requests in seconds 2..4 either (outcomes only): silence from F = 5 on
    lines = steady(0, 1) + [ok(2), ok(3), err(4), req(20)]
    res = agree(timed(lines), tmp_path, config())
    assert ("verified", 8, 5, 0, 3, "no_requests", 8, "none") in events(res)


def test_reason_wins_when_both_qualify(tmp_path):
    # second 5: the flag's answer and no request: u = 1 and q = 1 >= quiet_s 1
    lines = steady(0, 4) + [err(4), fna(5), req(20)]
    res = agree(timed(lines), tmp_path, config(quiet_s=1))
    assert ("verified", 6, 5, 1, 1, FNA, 6, "none") in events(res)


def test_not_verified_at_exactly_f_plus_verify_within(tmp_path):
    lines = steady(0, 30) + [err(4), fna(15)]
    res = agree(timed(lines), tmp_path, config())
    assert events(res) == [
        ("trigger", "firing", 5),
        ("trigger", "resolved", 6),
        ("baseline", 6, 5, 0, 0, None, None, "none"),
        ("not_verified", 15, 5, 0, 0, None, None, "escalate"),
    ]
    # one second earlier the answer is in time: verified at F + verify_within_s
    res = agree(timed(steady(0, 30) + [err(4), fna(14)]), tmp_path, config())
    assert events(res)[-1] == ("verified", 15, 5, 1, 0, FNA, 15, "none")


def test_baseline_carries_an_earlier_verification(tmp_path):
    # errors hold the rule firing through second 7; verified at 6, resolved at 9
    lines = steady(0, 30) + [err(4), err(5), err(6), err(7), fna(5)]
    res = agree(timed(lines), tmp_path, config())
    assert events(res) == [
        ("trigger", "firing", 5),
        ("verified", 6, 5, 1, 0, FNA, 6, "none"),
        ("trigger", "resolved", 9),
        ("baseline", 9, 5, 1, 0, FNA, 6, "none"),
    ]


def test_firing_again_while_pending(tmp_path):
    # fires at 5, resolves at 6, fires again at 9 with the first watch still
    # pending: it ends then as not_verified, after the transition
    lines = steady(0, 40) + [err(4), err(8)]
    res = agree(timed(lines), tmp_path, config())
    assert events(res) == [
        ("trigger", "firing", 5),
        ("trigger", "resolved", 6),
        ("baseline", 6, 5, 0, 0, None, None, "none"),
        ("trigger", "firing", 9),
        ("not_verified", 9, 5, 0, 0, None, None, "escalate"),
        ("trigger", "resolved", 10),
        ("baseline", 10, 9, 0, 0, None, None, "none"),
        ("not_verified", 19, 9, 0, 0, None, None, "escalate"),
    ]
    ids = [e["id"] for e in res.outputs if e["type"] == "rollback_check"]
    assert len(set(ids)) == len(ids)


def test_firing_again_ends_the_watch_even_when_it_would_verify(tmp_path):
    # the flag's answer comes in second 8, with the error that fires the rule
    # again at 9: the first watch ends as not_verified at 9 (u = 1 then), and
    # the answer, before the new F, does not count for the new watch
    lines = steady(0, 40) + [err(4), err(8), fna(8)]
    res = agree(timed(lines), tmp_path, config())
    assert [e for e in events(res) if e[0] != "trigger"] == [
        ("baseline", 6, 5, 0, 0, None, None, "none"),
        ("not_verified", 9, 5, 1, 0, None, None, "escalate"),
        ("baseline", 10, 9, 0, 0, None, None, "none"),
        ("not_verified", 19, 9, 0, 0, None, None, "escalate"),
    ]


def test_firing_again_after_verification(tmp_path):
    lines = steady(0, 40) + [err(4), fna(5), err(8)]
    res = agree(timed(lines), tmp_path, config())
    assert [e for e in events(res) if e[0] != "trigger"] == [
        ("verified", 6, 5, 1, 0, FNA, 6, "none"),
        ("baseline", 6, 5, 1, 0, FNA, 6, "none"),
        ("baseline", 10, 9, 0, 0, None, None, "none"),
        ("not_verified", 19, 9, 0, 0, None, None, "escalate"),
    ]


def test_several_rules_in_rule_list_order(tmp_path):
    cfg = config()
    cfg["rules"].append({"name": "q", "metric": "errors", "op": ">=", "threshold": 1,
                         "window_s": 2})
    res = agree(timed(steady(0, 30) + [err(4), fna(5)]), tmp_path, cfg)
    at6 = [(e["type"], e["rule"], e["state"]) for e in res.outputs
           if e["at_ms"] == (BASE + 6) * 1000 and e["type"] != "status"]
    # r resolves at 6, q (2 s window) fired at 5 and holds; checks in rule order
    assert at6 == [("rollback_trigger", "r", "resolved"), ("rollback_check", "r", "verified"),
                   ("rollback_check", "r", "baseline"), ("rollback_check", "q", "verified")]


def test_check_disabled(tmp_path):
    lines = steady(0, 30) + [err(4), fna(5)]
    res = agree(timed(lines), tmp_path, config(check=False))
    assert events(res) == [("trigger", "firing", 5), ("trigger", "resolved", 6)]


def test_text_form(tmp_path):
    data = b"\n".join(timed(steady(0, 30) + [err(4), fna(5), err(8)])) + b"\n"
    (tmp_path / "in.jsonl").write_bytes(data)
    (tmp_path / "c.json").write_text(json.dumps(config()))
    p = subprocess.run([BIN, "replay", "--input", str(tmp_path / "in.jsonl"), "--config",
                        str(tmp_path / "c.json"), "--format", "text"],
                       capture_output=True, text=True, check=True)
    lines = [l for l in p.stdout.splitlines() if "FIRING" not in l and "RESOLVED" not in l]
    f5 = reference.format_rfc3339_ms((BASE + 5) * 1000)
    f9 = reference.format_rfc3339_ms((BASE + 9) * 1000)
    assert lines == [
        reference.format_rfc3339_ms((BASE + 6) * 1000) + " VERIFIED r: fired " + f5 +
        "; feature_not_available 1, no requests for 0 s; evidence feature_not_available",
        reference.format_rfc3339_ms((BASE + 6) * 1000) + " BASELINE r: fired " + f5 +
        "; feature_not_available 1, no requests for 0 s; verified at " +
        reference.format_rfc3339_ms((BASE + 6) * 1000),
        reference.format_rfc3339_ms((BASE + 10) * 1000) + " BASELINE r: fired " + f9 +
        "; feature_not_available 0, no requests for 0 s; not verified",
        reference.format_rfc3339_ms((BASE + 19) * 1000) + " NOT_VERIFIED r: fired " + f9 +
        "; feature_not_available 0, no requests for 0 s; not verified within 10 s -> escalate",
    ]


def test_config_errors_name_the_key(tmp_path):
    for doc, want in [
        ({"rollback": {"verify_within_s": 86401}},
         "rollback.verify_within_s: 86401 out of range"),
        ({"rollback": {"quiet_s": 301}}, "rollback.quiet_s: 301 must be at most"),
        ({"rollback": {"reason": "plan_gone"}}, "rollback.reason: \"plan_gone\" is not one of"),
        ({"rollback": {"unavailable_min": 0}}, "rollback.unavailable_min: 0 out of range"),
    ]:
        (tmp_path / "c.json").write_text(json.dumps(doc))
        p = subprocess.run([BIN, "check-config", str(tmp_path / "c.json")], capture_output=True,
                           text=True)
        assert p.returncode == 2, doc
        assert want in p.stderr, p.stderr


# ---- randomized streams ------------------------------------------------------------

def random_stream(seed, seconds=1500):
    """Phases of healthy traffic, error bursts, the flag turned off
    (feature_not_available answers, some weighted), silence and mixes,
    with events up to a second out of order."""
    rnd = random.Random(seed)
    out = []
    sec = 0
    while sec < seconds:
        phase = rnd.choice(["ok", "ok", "errors", "off", "silence", "trickle"])
        length = rnd.randint(5, 120)
        for s in range(sec, min(sec + length, seconds)):
            if phase == "silence":
                continue
            n = rnd.randint(0, 4) if phase != "trickle" else rnd.randint(0, 1)
            for _ in range(n):
                ms = rnd.randint(0, 999)
                out.append(req(s, ms=ms))
                x = rnd.random()
                if phase == "errors" and x < 0.5:
                    out.append(err(s))
                elif phase == "off" and x < 0.7:
                    out.append(fna(s, weight=rnd.choice([1, 1, 2])))
                elif x < 0.05:
                    out.append(fna(s))
                else:
                    out.append(ok(s, dur=rnd.randint(100, 3000)))
            if phase == "off" and rnd.random() < 0.2:
                out.append(fna(s))  # an answer without its request
        sec += length
    # a little disorder within the lateness
    for i in range(len(out) - 1):
        if rnd.random() < 0.02:
            out[i], out[i + 1] = out[i + 1], out[i]
    return out


RULES = [
    {"name": "errors_hi", "metric": "error_rate", "op": ">", "threshold": 0.2, "window_s": 30,
     "min_samples": 5},
    {"name": "idle", "metric": "requests", "op": "==", "threshold": 0, "window_s": 20},
    {"name": "fna_seen", "metric": "fallback_reasons.feature_not_available", "op": ">=",
     "threshold": 3, "window_s": 10},
]

RANDOM_CONFIGS = [
    {"rules": RULES},
    {"rules": RULES, "rollback": {"verify_within_s": 45, "quiet_s": 5, "unavailable_min": 2}},
    {"rules": RULES, "rollback": {"verify_within_s": 1, "quiet_s": 1}},
    {"rules": RULES, "rollback": {"verify_within_s": 120, "quiet_s": 120, "unavailable_min": 6,
                                  "reason": "internal_error"}},
    {"rules": RULES, "allowed_lateness_s": 0, "rollback": {"verify_within_s": 30, "quiet_s": 10}},
    None,  # the runbook's rules and the defaults
]


@pytest.mark.parametrize("seed", range(6))
def test_randomized_streams_equal_reference(seed, tmp_path):
    cfg = RANDOM_CONFIGS[seed % len(RANDOM_CONFIGS)]
    if cfg is not None and "input" not in cfg:
        cfg = dict(cfg)
        # weights are read from the event's "weight" field (section 9.5)
        cfg["input"] = {"sample_weight": {"field": "weight", "default": 1}}
    res = agree(random_stream(seed), tmp_path, cfg)
    checks = [e for e in res.outputs if e["type"] == "rollback_check"]
    if cfg is not None:
        assert checks, "the stream should exercise the check"
