"""soak_verdict events (docs/semantics.md section 11): the plan's "Success
Criteria for Week 2 Beta Rollout" judged at soak hour 24 (provisional) and
at the soak's last hour (final). File replay with a control file of
sign-offs against the independent reference (reference.py), byte for byte
and in the same place of the stream: go, no_go after a rollback trigger,
pending while sign-offs are missing, a sign-off after a verdict, a sign-off
for an unknown criterion refused; live, the verdict is published once and
the sign-offs are counted in /metrics, and the verdict gauge follows it."""

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import jsonschema

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import reference  # noqa: E402
import scenarios as sc  # noqa: E402
from test_soak_updates import BASE, BIN, EV, FAST, H, SRC, ev  # noqa: E402

with open(SRC / "schemas" / "soak-verdict.schema.json") as _f:
    VALIDATOR = jsonschema.Draft202012Validator(
        json.load(_f), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
ALL = ["qa", "ops", "support", "docs", "no_regressions"]


def config(**soak):
    c = json.loads(json.dumps(FAST))
    c["soak"] = soak
    return c


def traffic(first, last, every=60, burst=None):
    """A request and a success every `every` seconds; in burst (from, to) a
    request and an internal error every 5 s."""
    out = []
    for s in range(first, last, every):
        out.append(ev("requested", s))
        out.append(ev("succeeded", s, durationMs=700 + s % 11, meetsTimeConstraint=True))
    if burst:
        for s in range(burst[0], burst[1], 5):
            out.append(ev("requested", s, ms=500))
            out.append(ev("fallback", s, ms=600, reason="internal_error", durationMs=900))
        out.sort(key=lambda x: json.loads(x)["ts"])
    return out


def signoff(criterion, sec, by="alice"):
    return {"type": "signoff", "criterion": criterion, "by": by, "ts": (BASE + sec) * 1000 + 250}


def both(lines, cfg, signoffs, tmp_path):
    """The verdicts of C and the reference, asserted equal byte for byte and
    at the same places of the output; returns them (dicts) and C's stderr."""
    inp, conf, ctl = tmp_path / "in.jsonl", tmp_path / "config.json", tmp_path / "ctl.jsonl"
    inp.write_text("\n".join(lines) + "\n")
    conf.write_text(json.dumps(cfg))
    ctl.write_text("".join(json.dumps(m) + "\n" for m in signoffs))
    p = subprocess.run([BIN, "replay", "--config", str(conf), "--input", str(inp),
                        "--control", str(ctl)], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    c_lines = p.stdout.splitlines()
    res = reference.replay([x.encode() for x in lines], cfg, signoffs=signoffs)
    r_lines = [reference.dumps(e) for e in res.outputs]
    assert len(c_lines) == len(r_lines)
    c_v = [(i, x) for i, x in enumerate(c_lines) if '"type":"soak_verdict"' in x]
    r_v = [(i, x) for i, x in enumerate(r_lines) if '"type":"soak_verdict"' in x]
    assert c_v == r_v
    # right after the soak_update of the same instant, as the schema says
    for i, x in c_v:
        VALIDATOR.validate(json.loads(x))
        prev = json.loads(c_lines[i - 1])
        assert prev["type"] == "soak_update" and prev["at_ms"] == json.loads(x)["at_ms"]
    return [json.loads(x) for _, x in c_v], p.stderr


def crit(v, key):
    return next(c for c in v["criteria"] if c["key"] == key)


def test_go_with_every_signoff(tmp_path):
    lines = traffic(0, 48 * H + 30)
    verdicts, _ = both(lines, config(), [signoff(k, 20 * H) for k in ALL], tmp_path)
    assert [(v["kind"], v["verdict"]) for v in verdicts] == [("provisional", "go"),
                                                            ("final", "go")]
    prov, final = verdicts
    assert prov["at_ms"] == (BASE + 24 * H) * 1000 and final["at_ms"] == (BASE + 48 * H) * 1000
    assert prov["id"] == "soak_verdict:%d" % prov["at_ms"]
    assert list(prov) == ["type", "schema_version", "id", "at_ms", "at", "soak_start_ms", "kind",
                          "verdict", "criteria", "text"]
    assert [c["key"] for c in prov["criteria"]] == \
        ["success_rate_24h", "latency_mean", "error_rate", "no_rollback_trigger"] + ALL
    assert crit(prov, "qa")["by"] == "alice" and crit(prov, "qa")["kind"] == "signoff"
    assert crit(final, "success_rate_24h")["detail"] == "longest run 48 h, current run 48 h"
    assert "Success Criteria for Week 2 Beta Rollout" in final["text"]
    assert final["text"].endswith("Decision: GO for the Week 2 beta rollout")


def test_no_go_after_a_rollback_trigger(tmp_path):
    """Errors for ten minutes in hour 30: error_rate_high fires; the soak's
    error rate stays below 5%, but a trigger fired, so the final is no_go."""
    lines = traffic(0, 48 * H + 30, burst=(30 * H, 30 * H + 600))
    verdicts, _ = both(lines, config(), [signoff(k, H) for k in ALL], tmp_path)
    prov, final = verdicts
    assert prov["verdict"] == "go"
    assert final["verdict"] == "no_go"
    assert crit(final, "no_rollback_trigger")["pass"] is False
    assert crit(final, "success_rate_24h")["pass"] is True  # hours 1-29 and 32-48
    assert "NO-GO" in final["text"]


def test_pending_while_signoffs_are_missing(tmp_path):
    lines = traffic(0, 48 * H + 30)
    verdicts, _ = both(lines, config(), [signoff("qa", 2 * H), signoff("ops", 3 * H, "bob")],
                       tmp_path)
    assert [v["verdict"] for v in verdicts] == ["pending", "pending"]
    prov = verdicts[0]
    assert [c["pass"] for c in prov["criteria"]] == [True] * 4 + [True, True, False, False, False]
    assert crit(prov, "ops")["by"] == "bob" and crit(prov, "docs")["by"] is None
    assert crit(prov, "docs")["detail"] == "not signed off"


def test_signoff_after_a_verdict_changes_only_later_ones(tmp_path):
    """Missing sign-offs given at hour 30: the provisional stays pending, the
    final is go; a sign-off after the final changes nothing written."""
    lines = traffic(0, 48 * H + 30)
    early = [signoff(k, H) for k in ("qa", "ops", "support")]
    late = [signoff("docs", 30 * H), signoff("no_regressions", 30 * H, "carol")]
    verdicts, _ = both(lines, config(), early + late, tmp_path)
    assert [v["verdict"] for v in verdicts] == ["pending", "go"]
    assert crit(verdicts[1], "no_regressions")["detail"] == \
        "signed off at " + reference.format_rfc3339_ms((BASE + 30 * H + 1) * 1000)
    after, _ = both(lines, config(), early + late + [signoff("qa", 48 * H + 10, "mallory")],
                    tmp_path)
    assert after == verdicts
    # the first sign-off of a criterion stands
    again, _ = both(lines, config(), early + late + [signoff("qa", 2 * H, "dave")], tmp_path)
    assert again == verdicts


def test_unknown_criterion_refused_and_config_list(tmp_path):
    """soak.signoffs replaces the list; a sign-off for a key not in it is
    refused with a log line and does not count."""
    lines = traffic(0, 10 * H + 30)
    cfg = config(hours=10, signoffs=[{"key": "qa", "title": "QA sign-off on integration tests"},
                                     {"key": "sec", "title": "Security review"}])
    verdicts, err = both(lines, cfg, [signoff("qa", H), signoff("ops", H), signoff("sec", 9 * H)],
                         tmp_path)
    assert [(v["kind"], v["verdict"]) for v in verdicts] == [("final", "go")]
    v = verdicts[0]
    assert [c["key"] for c in v["criteria"]][4:] == ["qa", "sec"]
    assert crit(v, "success_rate_24h")["title"] == "Success rate > 95% for 10+ hours"
    refused = [x for x in err.splitlines() if "sign-off refused" in x]
    assert len(refused) == 1 and '"ops"' in refused[0]


def test_text_format_and_schema_fields(tmp_path):
    lines = traffic(0, 10 * H + 30)
    verdicts, _ = both(lines, config(hours=10), [signoff("qa", H)], tmp_path)
    text = verdicts[0]["text"].split("\n")
    assert text[0] == "\U0001f3af Stream5 Staging Update - Hour 10 Final Decision: PENDING"
    assert text[4] == "Technical Metrics:"
    assert text[5].startswith("- [x] Success rate > 95% for 10+ hours: ")
    assert "- [x] QA sign-off on integration tests: signed off at " in verdicts[0]["text"]
    assert "- [ ] Ops confirms stability: not signed off" in text
    assert text[-1] == "Decision: PENDING, sign-offs missing"


def test_bad_signoffs_config_refused(tmp_path):
    conf = tmp_path / "c.json"
    for bad in ([{"key": "qa"}], [{"key": "qa", "title": "a"}, {"key": "qa", "title": "b"}],
                "qa", [{"key": "", "title": "x"}]):
        conf.write_text(json.dumps({"soak": {"signoffs": bad}}))
        p = subprocess.run([BIN, "replay", "--config", str(conf), "--input", "/dev/null"],
                           capture_output=True, text=True, timeout=30)
        assert p.returncode != 0 and "soak.signoffs" in p.stderr, p.stderr


def test_live_verdict_once_and_signoffs_counted(tmp_path):
    """run on stdin with a one-hour soak ending a few seconds ahead: the
    verdict is published once at its instant; sign-offs are counted, one
    for an unknown criterion is refused and logged, one after the verdict
    is counted and changes nothing."""
    now_s = int(time.time())
    S = now_s + 12 - H
    cfg = config(hours=1, start=S * 1000)
    cfg["status"]["interval_s"] = 1
    conf, control = tmp_path / "config.json", tmp_path / "ctl.jsonl"
    conf.write_text(json.dumps(cfg))
    control.write_text("")
    backlog = []
    for s in range(S - 30, now_s - 3, 10):
        backlog.append(json.dumps({"event": EV + "requested", "ts": s * 1000}))
        backlog.append(json.dumps({"event": EV + "succeeded", "ts": s * 1000 + 100,
                                   "durationMs": 500, "meetsTimeConstraint": True}))
    port = sc.free_port()
    env = dict(os.environ, SOAKWATCH_BROKERS="")
    p = subprocess.Popen([BIN, "run", "--config", str(conf), "--control", str(control),
                          "--http", "127.0.0.1:%d" % port], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    events = []
    try:
        p.stdin.write(("\n".join(backlog) + "\n").encode())
        p.stdin.flush()
        with open(control, "a") as f:
            for m in ({"type": "signoff", "criterion": k, "by": "alice",
                       "ts": int(time.time() * 1000)} for k in ALL + ["bogus"]):
                f.write(json.dumps(m) + "\n")
        os.set_blocking(p.stdout.fileno(), False)
        buf = b""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(e["type"] == "soak_verdict"
                                                      for e in events):
            ts = int(time.time() * 1000)
            p.stdin.write((json.dumps({"event": EV + "requested", "ts": ts}) + "\n" +
                           json.dumps({"event": EV + "succeeded", "ts": ts + 50,
                                       "durationMs": 500, "meetsTimeConstraint": True}) +
                           "\n").encode())
            p.stdin.flush()
            time.sleep(0.25)
            try:
                buf += os.read(p.stdout.fileno(), 1 << 20)
            except BlockingIOError:
                pass
            *done, buf = buf.split(b"\n")
            events += [json.loads(x) for x in done if x.strip()]
        verdicts = [e for e in events if e["type"] == "soak_verdict"]
        assert len(verdicts) == 1, events[-3:]
        v = verdicts[0]
        assert v["kind"] == "final" and v["at_ms"] == (S + H) * 1000
        assert v["verdict"] == "go", v["text"]
        with open(control, "a") as f:
            f.write(json.dumps(signoff("qa", 0, "late")) + "\n")
        time.sleep(1.5)
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as r:
            metrics = r.read().decode().splitlines()
        assert "soakwatch_control_acks_total 6" in metrics
        assert "soakwatch_control_rejected_total 1" in metrics
        # the verdict gauge is the go just published; the late sign-off
        # changed nothing
        assert 'soakwatch_soak_verdict{verdict="go"} 1' in metrics
        assert 'soakwatch_soak_verdict{verdict="pending"} 0' in metrics
        assert "soakwatch_soak_verdict_hour 1" in metrics
        assert 'soakwatch_outputs_total{type="soak_verdict"} 1' in metrics
    finally:
        p.stdin.close()
        rc = p.wait(timeout=30)
        err = p.stderr.read().decode()
        rest = p.stdout.read() or b""
    assert rc == 0, err
    events += [json.loads(x) for x in (buf + rest).split(b"\n") if x.strip()]
    assert len([e for e in events if e["type"] == "soak_verdict"]) == 1
    refused = [x for x in err.splitlines() if "refused" in x]
    assert len(refused) == 1 and "not in soak.signoffs" in refused[0], err


def test_report_lists_the_verdicts(tmp_path):
    """soakwatch report reads soak_verdict events: listed in text and JSON,
    none skipped as unreadable."""
    lines = traffic(0, 10 * H + 30)
    inp, conf, ctl = tmp_path / "in.jsonl", tmp_path / "config.json", tmp_path / "ctl.jsonl"
    inp.write_text("\n".join(lines) + "\n")
    conf.write_text(json.dumps(config(hours=10)))
    ctl.write_text(json.dumps(signoff("qa", H)) + "\n")
    out = tmp_path / "out.jsonl"
    p = subprocess.run([BIN, "replay", "--config", str(conf), "--input", str(inp), "--control",
                        str(ctl), "--output", str(out)], capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr

    def report(fmt):
        r = subprocess.run([BIN, "report", "--input", str(out), "--format", fmt],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        return r

    rep = report("json")
    doc = json.loads(rep.stdout)
    assert doc["soak_verdicts"] == [{"at_ms": (BASE + 10 * H) * 1000, "kind": "final",
                                     "verdict": "pending", "criteria": 9, "pass": 5}]
    assert doc["input"]["skipped_lines"] == 0 and "skipped" not in rep.stderr
    assert "final       pending  5 of 9 criteria pass" in report("text").stdout
    report("html")
