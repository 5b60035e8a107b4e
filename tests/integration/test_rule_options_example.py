"""The bundled recording replayed with examples/config.all-options.json
(every rule option beyond the runbook) and examples/acks.jsonl: the output
examples/all-options.md explains, held to what the options define."""
import datetime
import gzip
import json
import os
import subprocess

SRC = os.environ.get("SOAKWATCH_SRC", ".")
BIN = os.environ.get("SOAKWATCH_BIN", "build/soakwatch")
REC = os.path.join(SRC, "examples/incident.jsonl.gz")
CFG = os.path.join(SRC, "examples/config.all-options.json")
ACKS = os.path.join(SRC, "examples/acks.jsonl")


def replay(*extra):
    p = subprocess.run([BIN, "replay", "--input", REC, *extra], capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return [json.loads(l) for l in p.stdout.splitlines()]


def triggers(out, rule=None):
    return [o for o in out if o["type"] == "rollback_trigger" and rule in (None, o["rule"])]


def test_all_options_on_the_recording():
    plain = replay()
    out = replay("--config", CFG, "--control", ACKS)
    ack = json.loads(open(ACKS).read())

    # Confidence: fires only once the whole 95% interval is past 0.10, so
    # not before the plain rule does, and with the interval's lower bound
    # above the threshold.
    plain_fire = triggers(plain, "error_rate_high")[0]
    fire, resolved = triggers(out, "error_rate_high")
    assert fire["state"] == "firing" and fire["latched"] is True
    assert fire["at_ms"] >= plain_fire["at_ms"]
    assert fire["interval"][0] > 0.10 and fire["interval"][0] <= fire["value"]
    assert fire["id"] == ack["id"]
    # Latched: it stays firing after the burst although the plain rule
    # resolved long before; the acknowledgement releases it, and the
    # condition (under the 0.05 resolve threshold, clear for more than
    # keep_firing_for_s) lets it resolve at the acknowledgement's instant.
    plain_resolved = triggers(plain, "error_rate_high")[1]
    assert resolved["state"] == "resolved"
    assert resolved["at"] == "2026-11-20T09:45:00.000Z"
    assert resolved["at_ms"] > plain_resolved["at_ms"] + 120_000
    assert resolved["acknowledged"] == {"id": ack["id"], "by": "oncall-sre"}
    assert resolved["latched"] is False and resolved["value"] <= 0.05
    # Every status in between says the rule fires.
    between = [o for o in out if o["type"] == "status"
               and fire["at_ms"] <= o["at_ms"] < resolved["at_ms"]]
    assert between and all("error_rate_high" in o["firing"] for o in between)

    # Multiwindow burn rate: fires only when both 300 s and 3600 s hold.
    burn = triggers(out, "error_budget_fast_burn")
    assert [b["state"] for b in burn] == ["firing", "resolved"]
    f = burn[0]
    assert [w["window_s"] for w in f["windows"]] == [300, 3600]
    assert all(w["value"] > 0.0144 for w in f["windows"])

    # p95 latency (about 1.7 s here) stays under 2.5 s: no trigger.
    assert triggers(out, "latency_p95_high") == []

    # Data quality on every status.
    statuses = [o for o in out if o["type"] == "status"]
    assert statuses and all(o["quality"] in ("ok", "too_few_samples", "no_traffic")
                            for o in statuses)

    # Provenance: the fingerprint check-config reports, the rule as used,
    # and line numbers that bracket exactly the window's data.
    fp = subprocess.run([BIN, "check-config", CFG], capture_output=True, text=True,
                        check=True).stdout.split("fingerprint ")[1].split(")")[0]
    assert fire["provenance"]["config"] == fp
    assert fire["provenance"]["rule"]["confidence"] == 0.95
    first, last = fire["provenance"]["lines"]["0"]
    lines = gzip.open(REC, "rt").read().split("\n")
    in_window = []
    for n, line in enumerate(lines, start=1):
        try:
            ev = json.loads(line)
        except ValueError:
            continue
        ts = ev.get("ts")
        if isinstance(ts, str) or not isinstance(ev, dict):
            continue  # RFC 3339 lines: checked through the integer ones below
        if isinstance(ts, int) and fire["window_start_ms"] <= ts < fire["window_end_ms"]:
            in_window.append(n)
    assert in_window, "the recording has epoch-ms lines in the window"
    assert first <= min(in_window) and max(in_window) <= last
    # ... and the first and last lines quoted are themselves in the window.
    for n in (first, last):
        ts = json.loads(lines[n - 1])["ts"]
        if isinstance(ts, str):
            ts = int(datetime.datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp() * 1000)
        assert fire["window_start_ms"] <= ts // 1000 * 1000 < fire["window_end_ms"]

    # Without the acknowledgement the latched rule never resolves.
    unacked = replay("--config", CFG)
    assert [t["state"] for t in triggers(unacked, "error_rate_high")] == ["firing"]
