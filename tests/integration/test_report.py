"""`soakwatch report`: hourly updates, JSON summary, HTML timeline and the
soak go/no-go verdict, on status and trigger events generated here from
per-minute traffic whose hourly sums are worked out by hand in each test."""
import gzip
import json
import os
import re
import shutil
import struct
import subprocess
import tempfile
import zlib
from datetime import datetime, timezone

import pytest

BIN = os.environ.get("SOAKWATCH_BIN", "build/soakwatch")
SRC = os.environ.get("SOAKWATCH_SRC", os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "report_fixtures")

# 2026-11-26T10:00:00Z
T0 = int(datetime(2026, 11, 26, 10, 0, tzinfo=timezone.utc).timestamp() * 1000)
MIN = 60_000
HOUR = 3_600_000


def iso(ms):
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def steady(outcomes=50, successes=49, errors=1, latency=800.0):
    """Per-minute traffic: the same every minute."""
    return lambda minute_ms: (outcomes + 5, outcomes, successes, errors, latency)


def window(minute_fn, at_ms, w_s):
    """The section 4 metrics of the window of w_s seconds ending at at_ms,
    summed from the per-minute traffic (minutes before T0 hold nothing)."""
    req = out = succ = err = 0
    lat_sum = 0.0
    for m in range(at_ms - w_s * 1000, at_ms, MIN):
        if m < T0:
            continue
        r, o, s, e, lat = minute_fn(m)
        req, out, succ, err, lat_sum = req + r, out + o, succ + s, err + e, lat_sum + lat * o
    mean = lat_sum / out if out else None
    return {"requests": req, "outcomes": out, "successes": succ, "errors": err, "declined": 1,
            "success_rate": succ / out if out else None,
            "error_rate": err / out if out else None,
            "latency_mean_ms": mean, "latency_p95_ms": mean * 1.8 if out else None,
            "latency_p99_ms": mean * 2.5 if out else None,
            "time_constraint_success_rate": 0.9 if out else None,
            "strategies": {"core_only": succ // 2, "core_plus_superset": succ - succ // 2,
                           "none": out - succ} if out else {},
            "fallback_reasons": {"internal_error": err, "plan_not_compressible": out - succ - err}
            if out - succ - err else ({"internal_error": err} if err else {})}


def status(minute_fn, at_ms, firing=(), interval_windows=(300, 600, 1800)):
    w = {str(s): window(minute_fn, at_ms, s) for s in interval_windows}
    m = w[str(interval_windows[0])]
    level = "green"
    if (m["outcomes"] < 20 or m["success_rate"] <= 0.95 or m["error_rate"] >= 0.05
            or m["latency_mean_ms"] >= 2000):
        level = "yellow"
    if firing:
        level = "red"
    return {"type": "status", "schema_version": 1, "at_ms": at_ms, "at": iso(at_ms),
            "status": level, "firing": list(firing), "windows": w}


def trigger(rule, state, at_ms, metric="error_rate", op=">", threshold=0.1, value=0.35,
            samples=40, window_s=300):
    return {"type": "rollback_trigger", "schema_version": 1, "id": f"{rule}:{at_ms}",
            "rule": rule, "state": state, "at_ms": at_ms, "at": iso(at_ms),
            "window_s": window_s, "window_start_ms": at_ms - window_s * 1000,
            "window_end_ms": at_ms, "metric": metric, "op": op, "threshold": threshold,
            "value": value if state == "firing" else 0.02, "samples": samples,
            "feature": "feature.stream5_time_crunch_mode",
            "action": "disable_flag" if state == "firing" else "none"}


def events(hours, minute_fn=None, start=T0, step_s=60, triggers=(), firing_between=None):
    """Statuses every step_s from start + step_s to start + hours, and the
    given triggers, merged in time order as soakwatch writes them."""
    minute_fn = minute_fn or steady()
    out = []
    for at in range(start + step_s * 1000, start + int(hours * HOUR) + 1, step_s * 1000):
        f = ()
        if firing_between and firing_between[0] <= at < firing_between[1]:
            f = ("error_rate_high",)
        out.append(status(minute_fn, at, f))
    out.extend(triggers)
    out.sort(key=lambda e: (e["at_ms"], e["type"] == "status"))
    return out


def write(tmp_path, evs, name="in.jsonl", extra_lines=()):
    p = tmp_path / name
    text = "".join(json.dumps(e) + "\n" for e in evs) + "".join(l + "\n" for l in extra_lines)
    if name.endswith(".gz"):
        p.write_bytes(gzip.compress(text.encode()))
    else:
        p.write_text(text)
    return p


def run(*args, input_text=None):
    return subprocess.run([BIN, "report", *map(str, args)], capture_output=True, text=True,
                          input=input_text, timeout=120)


def soak_json(path):
    p = run("--input", path, "--soak", "--format", "json")
    assert p.returncode in (0, 1), p.stderr
    assert p.stderr == "", p.stderr  # the fixture itself must be readable
    doc = json.loads(p.stdout)
    return p.returncode, doc, {c["name"]: c for c in doc["criteria"]}


# ---- the verdict --------------------------------------------------------

def test_26_green_hours_are_go(tmp_path):
    src = write(tmp_path, events(26))
    p = run("--input", src, "--soak")
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.rstrip().endswith("VERDICT: GO")
    assert "FAIL" not in p.stdout
    rc, doc, crit = soak_json(src)
    assert rc == 0 and doc["verdict"] == "GO"
    assert doc["hours"] == 26 and doc["complete_hours"] == 26
    assert doc["longest_success_run_hours"] == 26
    assert all(c["pass"] for c in crit.values())


def test_one_hour_at_94_percent_is_no_go_naming_that_hour(tmp_path):
    # Hour 7 (16:00-17:00): 47 of 50 outcomes succeed every minute = 94%.
    def bad(m):
        return (55, 50, 47 if T0 + 6 * HOUR <= m < T0 + 7 * HOUR else 49, 1, 800.0)
    src = write(tmp_path, events(26, bad))
    p = run("--input", src, "--soak")
    assert p.returncode == 1, p.stdout + p.stderr
    assert p.stdout.rstrip().endswith("VERDICT: NO-GO")
    line = [l for l in p.stdout.splitlines() if l.startswith("- Success rate")][0]
    assert "FAIL" in line and "hour 7 (2026-11-26 16:00-17:00 UTC)" in line and "94.0%" in line
    rc, doc, crit = soak_json(src)
    assert rc == 1 and doc["verdict"] == "NO-GO"
    assert crit["success_rate"]["pass"] is False
    assert crit["success_rate"]["first_failed_hour"] == 7
    assert crit["success_rate"]["first_failed_start"] == "2026-11-26T16:00:00.000Z"
    assert crit["latency_mean"]["pass"] and crit["error_rate"]["pass"]
    assert crit["no_rollback_trigger"]["pass"]


def test_a_trigger_is_no_go_naming_the_rule(tmp_path):
    fire, res = T0 + 4 * HOUR + 41 * MIN + 7000, T0 + 4 * HOUR + 52 * MIN
    trig = [trigger("error_rate_high", "firing", fire), trigger("error_rate_high", "resolved", res)]
    src = write(tmp_path, events(26, triggers=trig, firing_between=(fire, res)))
    p = run("--input", src, "--soak")
    assert p.returncode == 1
    line = [l for l in p.stdout.splitlines() if l.startswith("- No rollback trigger")][0]
    assert "FAIL" in line and "error_rate_high fired at 2026-11-26 14:41:07 UTC in hour 5" in line
    rc, doc, crit = soak_json(src)
    assert crit["no_rollback_trigger"]["first_failed_hour"] == 5
    assert doc["firings"] == 1
    assert crit["success_rate"]["pass"] and crit["error_rate"]["pass"]


def test_23_hours_are_too_short_and_24_are_enough(tmp_path):
    p = run("--input", write(tmp_path, events(23)), "--soak")
    assert p.returncode == 1
    assert "only 23 consecutive complete hours in the input (24 needed)" in p.stdout
    p = run("--input", write(tmp_path, events(24), "24.jsonl"), "--soak")
    assert p.returncode == 0, p.stdout
    # 24 hours that start at half past: 23 complete hours and two halves.
    p = run("--input", write(tmp_path, events(24, start=T0 + 30 * MIN), "half.jsonl"), "--soak")
    assert p.returncode == 1, p.stdout
    assert "only 23 consecutive complete hours" in p.stdout


def test_a_gap_breaks_the_24_hour_run(tmp_path):
    # 30 hours with hour 13 missing: runs of 12 and 17 hours.
    evs = [e for e in events(30) if not (T0 + 12 * HOUR < e["at_ms"] <= T0 + 13 * HOUR)]
    rc, doc, crit = soak_json(write(tmp_path, evs))
    assert rc == 1 and doc["longest_success_run_hours"] == 17
    assert crit["success_rate"]["pass"] is False
    assert crit["success_rate"]["first_failed_hour"] is None


def test_latency_2100_ms_hour_is_no_go_and_1999_is_not(tmp_path):
    def slow(lat):
        return lambda m: (55, 50, 49, 1, lat if T0 + 2 * HOUR <= m < T0 + 3 * HOUR else 800.0)
    rc, doc, crit = soak_json(write(tmp_path, events(26, slow(2100.0))))
    assert rc == 1 and crit["latency_mean"]["first_failed_hour"] == 3
    assert "2.10s" in crit["latency_mean"]["detail"]
    assert crit["success_rate"]["pass"] and crit["error_rate"]["pass"]
    rc, doc, crit = soak_json(write(tmp_path, events(26, slow(1999.0)), "ok.jsonl"))
    assert rc == 0, crit


def test_boundaries_are_strict(tmp_path):
    # Exactly 95.0% success fails "> 95%"; exactly 5.0% errors fails "< 5%".
    at95 = lambda m: (45, 40, 38, 1, 800.0) if m >= T0 + 20 * HOUR else (45, 40, 39, 1, 800.0)
    rc, doc, crit = soak_json(write(tmp_path, events(26, at95)))
    assert rc == 1 and crit["success_rate"]["first_failed_hour"] == 21
    # Errors are at most the non-successes, so 5% errors means <= 95% success.
    at5 = lambda m: (45, 40, 38, 2, 800.0) if m >= T0 + 25 * HOUR else (45, 40, 39, 1, 800.0)
    rc, doc, crit = soak_json(write(tmp_path, events(26, at5), "e.jsonl"))
    assert rc == 1 and crit["error_rate"]["first_failed_hour"] == 26
    assert crit["success_rate"]["first_failed_hour"] == 26
    # Exactly 2000 ms fails "< 2 s".
    at2s = lambda m: (45, 40, 39, 1, 2000.0) if m >= T0 + 25 * HOUR else (45, 40, 39, 1, 800.0)
    rc, doc, crit = soak_json(write(tmp_path, events(26, at2s), "l.jsonl"))
    assert rc == 1 and crit["latency_mean"]["first_failed_hour"] == 26


# ---- hour metrics -------------------------------------------------------

def hand_fixture():
    """Two hours. Every minute: 40 outcomes, 39 successes, 1 error, 800 ms,
    except 12:20-12:25 (5 minutes): 40 outcomes, 30 successes, 8 errors,
    3000 ms. Hour 12:00-13:00 by hand: outcomes 55*40 + 5*40 = 2400,
    successes 55*39 + 5*30 = 2295 (95.625%), errors 55 + 40 = 95 (3.958%),
    mean latency (2200*800 + 200*3000) / 2400 = 983.3 ms."""
    def fn(m):
        if T0 + 2 * HOUR + 20 * MIN <= m < T0 + 2 * HOUR + 25 * MIN:
            return (44, 40, 30, 8, 3000.0)
        return (44, 40, 39, 1, 800.0)
    fire, res = T0 + 2 * HOUR + 41 * MIN + 7000, T0 + 2 * HOUR + 52 * MIN
    trig = [trigger("error_rate_high", "firing", fire), trigger("error_rate_high", "resolved", res)]
    return events(3, fn, triggers=trig, firing_between=(fire, res))


def test_text_hour_numbers_match_the_hand_computation(tmp_path):
    p = run("--input", write(tmp_path, hand_fixture()))
    assert p.returncode == 0, p.stderr
    blocks = p.stdout.strip().split("\n\n")
    assert len(blocks) == 3
    assert blocks[2].splitlines() == [
        "Stream5 Staging Update - Hour 3 (2026-11-26 12:00-13:00 UTC)",
        "Key Metrics:",
        "- Success Rate: 95.6% (Target: >95%) PASS",
        "- Response Time: 0.98s (Target: <2s) PASS",
        "- Error Rate: 4.0% (Target: <5%) PASS",
        "- Outcomes: 2400",
        "Status: Red",
        "Notes: error_rate_high FIRING at 12:41:07 (error_rate 0.35 > 0.1 over 300 s, "
        "40 samples); resolved at 12:52:00",
    ]
    # Hour 1: 60 * 40 outcomes, 39/40 = 97.5%, 1/40 = 2.5%.
    assert "- Success Rate: 97.5% (Target: >95%) PASS" in blocks[0]
    assert "- Error Rate: 2.5% (Target: <5%) PASS" in blocks[0]
    assert "- Response Time: 0.80s" in blocks[0]
    assert "Status: Green" in blocks[0] and "Notes: none" in blocks[0]


def test_json_report_fields(tmp_path):
    p = run("--input", write(tmp_path, hand_fixture()), "--format", "json")
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert [h["hour"] for h in doc["hours"]] == [1, 2, 3]
    h = doc["hours"][2]
    assert h["start"] == "2026-11-26T12:00:00.000Z" and h["end"] == "2026-11-26T13:00:00.000Z"
    assert (h["outcomes"], h["successes"], h["errors"]) == (2400, 2295, 95)
    assert h["success_rate"] == pytest.approx(2295 / 2400)
    assert h["error_rate"] == pytest.approx(95 / 2400)
    assert h["latency_mean_ms"] == pytest.approx((2200 * 800 + 200 * 3000) / 2400)
    assert h["covered_s"] == 3600 and h["windows"] == 12 and h["statuses"] == 60
    assert h["status"] == "red"
    assert h["pass"] == {"success_rate": True, "latency_mean_ms": True, "error_rate": True}
    assert h["triggers"] == [f"error_rate_high:{T0 + 2 * HOUR + 41 * MIN + 7000}",
                             f"error_rate_high:{T0 + 2 * HOUR + 52 * MIN}"]
    assert doc["hours"][0]["status"] == "green"
    assert [t["state"] for t in doc["triggers"]] == ["firing", "resolved"]
    assert doc["triggers"][0]["hour"] == 3 and doc["triggers"][0]["value"] == 0.35
    assert doc["input"]["statuses"] == 180 and doc["input"]["status_interval_s"] == 60
    assert doc["soak"]["verdict"] == "NO-GO"


def test_ten_minute_statuses_tile_with_their_600_s_windows(tmp_path):
    # Statuses every 10 min: the 600 s windows tile each hour; the sums
    # equal those of the one-minute statuses.
    one = json.loads(run("--input", write(tmp_path, hand_fixture()), "--format", "json").stdout)
    ten = [e for e in hand_fixture() if e["type"] != "status" or e["at_ms"] % (10 * MIN) == 0]
    doc = json.loads(run("--input", write(tmp_path, ten, "ten.jsonl"), "--format", "json").stdout)
    assert doc["input"]["status_interval_s"] == 600
    for a, b in zip(one["hours"], doc["hours"]):
        for k in ("outcomes", "successes", "errors"):
            assert a[k] == b[k], (a["hour"], k)
        assert b["covered_s"] == 3600 and b["windows"] == 6


def test_partial_hour_says_so(tmp_path):
    p = run("--input", write(tmp_path, events(1.5)))
    blocks = p.stdout.strip().split("\n\n")
    assert "- Coverage: 30 of 60 min (partial hour)" in blocks[1]
    assert "Coverage" not in blocks[0]


def test_duplicates_and_order_do_not_change_the_numbers(tmp_path):
    evs = hand_fixture()
    a = run("--input", write(tmp_path, evs), "--format", "json").stdout
    b = run("--input", write(tmp_path, list(reversed(evs)) + evs[:500], "dup.jsonl"),
            "--format", "json").stdout
    da, db = json.loads(a), json.loads(b)
    assert da["hours"] == db["hours"] and da["triggers"] == db["triggers"]


# ---- input handling and exit codes --------------------------------------

def test_unreadable_lines_are_counted_and_skipped(tmp_path):
    bad = ["not json", "[1, 2]", '{"type":"heartbeat","at_ms":1}', '{"type":"status"}',
           '{"type":"status","at_ms":1795687200000,"status":"blue","windows":{}}', "", "   "]
    src = write(tmp_path, events(2), extra_lines=bad)
    p = run("--input", src)
    assert p.returncode == 0, p.stderr
    assert p.stderr.strip() == "report: skipped 5 unreadable lines"
    assert p.stdout.count("Stream5 Staging Update") == 2


def test_gzip_and_stdin_and_output_file(tmp_path):
    evs = events(2)
    plain = run("--input", write(tmp_path, evs)).stdout
    assert run("--input", write(tmp_path, evs, "in.jsonl.gz")).stdout == plain
    p = run("--input", "-", input_text="".join(json.dumps(e) + "\n" for e in evs))
    assert p.stdout == plain
    out = tmp_path / "out.txt"
    assert run("--input", write(tmp_path, evs), "--output", out).returncode == 0
    assert out.read_text() == plain


def test_exit_code_2_on_usage_and_input_errors(tmp_path):
    src = write(tmp_path, events(1))
    cases = [
        (["--input", src, "--format", "pdf"], "unknown format pdf"),
        (["--input", src, "--bogus"], "unknown option --bogus"),
        (["--input"], "missing value after --input"),
        (["--input", tmp_path / "missing.jsonl"], "cannot open input"),
        (["--input", write(tmp_path, [], "empty.jsonl")], "no status or rollback_trigger events"),
        (["--input", src, "--output", tmp_path / "no" / "dir.txt"], "cannot write"),
    ]
    for args, msg in cases:
        p = run(*args)
        assert p.returncode == 2, (args, p.stdout, p.stderr)
        assert msg in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr
    broken = tmp_path / "broken.jsonl.gz"
    whole = gzip.compress(src.read_bytes())
    broken.write_bytes(whole[:len(whole) // 2])
    p = run("--input", broken)
    assert p.returncode == 2 and "cannot read" in p.stderr


def test_more_than_a_million_lines_is_refused(tmp_path):
    src = tmp_path / "big.jsonl"
    src.write_text(json.dumps(events(1)[0]) + "\n" + "\n" * 1_000_000)
    p = run("--input", src)
    assert p.returncode == 2
    assert "more than 1000000 lines" in p.stderr


def test_hand_made_fixture_files(tmp_path):
    # report_fixtures/: a short recorded-style input with a rule firing and
    # resolving inside one hour and a line of garbage.
    src = os.path.join(FIXTURES, "two_hours_with_trigger.jsonl")
    p = run("--input", src, "--soak")
    assert p.returncode == 1
    assert "latency_high fired at 2026-11-26 10:31:00 UTC in hour 1" in p.stdout
    assert "only 2 consecutive complete hours" in p.stdout
    assert p.stderr.strip() == "report: skipped 1 unreadable lines"
    p = run("--input", src)
    hour1 = p.stdout.split("\n\n")[0]
    # 11 windows of 100 outcomes (98 successes, 1 error, 900 ms) and one of
    # 25 (24, 1, 6200 ms): 1102/1125 = 98.0%, 12/1125 = 1.1%,
    # (1100 * 900 + 25 * 6200) / 1125 = 1017.8 ms.
    assert "- Success Rate: 98.0% (Target: >95%) PASS" in hour1
    assert "- Error Rate: 1.1% (Target: <5%) PASS" in hour1
    assert "- Response Time: 1.02s (Target: <2s) PASS" in hour1
    assert "- Outcomes: 1125" in hour1 and "Status: Red" in hour1
    assert "latency_high FIRING at 10:31:00 (latency_mean_ms 6200 > 5000 over 300 s, " \
           "25 samples); resolved at 10:36:00" in p.stdout


# ---- html ---------------------------------------------------------------

def html_fixture():
    """Three hours with a bad stretch: errors climb, a rule fires and
    resolves, and latency rises for a while."""
    def fn(m):
        k = (m - T0) // MIN
        if 95 <= k < 110:
            return (60, 50, 38, 11, 2600.0)
        return (60, 50, 49 - (k % 7 == 0), 1 if k % 5 else 0, 700.0 + 40 * (k % 9))
    fire, res = T0 + 99 * MIN, T0 + 116 * MIN
    trig = [trigger("error_rate_high", "firing", fire, value=0.22),
            trigger("error_rate_high", "resolved", res),
            trigger("success_rate_low", "firing", T0 + 104 * MIN, metric="success_rate",
                    op="<", threshold=0.9, value=0.81, window_s=600),
            trigger("success_rate_low", "resolved", T0 + 118 * MIN, metric="success_rate",
                    op="<", threshold=0.9, window_s=600)]
    evs = events(3, fn, triggers=trig, firing_between=(fire, res))
    # A rule name from a config is text: it must come out escaped.
    evs.append(trigger("<b>odd&rule", "firing", T0 + 150 * MIN, metric="requests", op="==",
                       threshold=0, value=0, window_s=1800))
    return evs


def png_pixels(path):
    """Decode an 8-bit RGB or RGBA PNG (what Chromium writes) with zlib."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and ctype in (2, 6), (depth, ctype)
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    prev = bytearray(stride)
    rows = []
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


def test_html_is_self_contained_and_escaped(tmp_path):
    out = tmp_path / "report.html"
    p = run("--input", write(tmp_path, html_fixture()), "--format", "html", "--output", out,
            "--soak")
    assert p.returncode == 1, p.stderr  # triggers fired: NO-GO, also with html
    html = out.read_text()
    assert html.count("<svg") == 9  # status band + 8 metric charts
    for title in ("Requests per minute", "Success rate", "Error rate", "Response time (ms)",
                  "Response time percentiles (ms)",
                  "Time-constraint success rate", "Strategy mix", "Fallback reasons"):
        assert f"<h2>{title}</h2>" in html
    assert "<script" not in html.lower()
    assert "http://" not in html and "https://" not in html
    assert "<b>odd" not in html and "&lt;b&gt;odd&amp;rule" in html
    assert "NO-GO" in html
    assert "target &gt; 95%" in html and "rule success_rate_low: &lt; 90" in html
    assert "class='fire'" in html and "class='resolve'" in html


def test_html_renders_in_chromium(tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed: cannot render the HTML report")
    art = os.environ.get("SOAKWATCH_ARTIFACTS") or os.path.join(SRC, "tests", "integration",
                                                                 "artifacts")
    os.makedirs(art, exist_ok=True)
    html = os.path.join(art, "report.html")
    png = os.path.join(art, "report.png")
    if os.path.exists(png):
        os.remove(png)
    p = run("--input", write(tmp_path, html_fixture()), "--format", "html", "--output", html)
    assert p.returncode == 0, p.stderr
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                        "--disable-quic", "--no-first-run", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync",
                        f"--user-data-dir={profile}", "--window-size=1400,3000",
                        f"--screenshot={png}", "file://" + os.path.abspath(html)],
                       capture_output=True, timeout=120)
    assert os.path.exists(png), "chromium wrote no screenshot"
    w, h, bpp, rows = png_pixels(png)
    assert (w, h) == (1400, 3000)
    nonwhite = 0
    colours = set()
    for row in rows[::3]:
        for x in range(0, w * bpp, bpp * 3):
            r, g, b = row[x], row[x + 1], row[x + 2]
            if r < 240 or g < 240 or b < 240:
                nonwhite += 1
            colours.add((r >> 4, g >> 4, b >> 4))
    sampled = len(rows[::3]) * len(range(0, w * bpp, bpp * 3))
    assert nonwhite / sampled > 0.05, f"only {nonwhite / sampled:.1%} of the page is drawn"

    def near(rgb):
        return any(abs(c[0] * 16 + 8 - rgb[0]) <= 24 and abs(c[1] * 16 + 8 - rgb[1]) <= 24
                   and abs(c[2] * 16 + 8 - rgb[2]) <= 24 for c in colours)
    # Status green, status red, the first two series colours.
    for name, rgb in (("green", (0x2c, 0xa0, 0x2c)), ("red", (0xd6, 0x27, 0x28)),
                      ("blue line", (0x1f, 0x77, 0xb4)), ("orange line", (0xff, 0x7f, 0x0e))):
        assert near(rgb), f"no {name} in the screenshot"


def test_notes_across_hours_and_a_trigger_still_firing(tmp_path):
    fire, res = T0 + 58 * MIN + 30000, T0 + HOUR + 3 * MIN
    late = T0 + 2 * HOUR - 2 * MIN
    trig = [trigger("error_rate_high", "firing", fire), trigger("error_rate_high", "resolved", res),
            trigger("latency_high", "firing", late, metric="latency_mean_ms", threshold=5000,
                    value=6100.5, samples=33)]
    p = run("--input", write(tmp_path, events(2, triggers=trig)))
    blocks = p.stdout.strip().split("\n\n")
    assert blocks[0].splitlines()[-1] == (
        "Notes: error_rate_high FIRING at 10:58:30 (error_rate 0.35 > 0.1 over 300 s, "
        "40 samples); resolved at 2026-11-26 11:03:00 (hour 2)")
    assert blocks[1].splitlines()[-1] == (
        "Notes: error_rate_high resolved at 11:03:00 (firing since 2026-11-26 10:58:30); "
        "latency_high FIRING at 11:58:00 (latency_mean_ms 6100 > 5000 over 300 s, 33 samples); "
        "still firing at the end of the input")


def check(rule, state, at_ms, fired_ms, unavailable=0, quiet_s=0, evidence=None,
          verified_at_ms=None):
    """A rollback check (docs/semantics.md section 10)."""
    return {"type": "rollback_check", "schema_version": 1,
            "id": "%s:%d:%s" % (rule, fired_ms, state), "rule": rule, "state": state,
            "at_ms": at_ms, "at": iso(at_ms), "fired_at_ms": fired_ms, "verify_within_s": 300,
            "unavailable": unavailable, "quiet_s": quiet_s, "evidence": evidence,
            "verified_at_ms": verified_at_ms, "feature": "feature.stream5_time_crunch_mode",
            "action": "escalate" if state == "not_verified" else "none"}


def test_rollback_checks_are_read_and_listed(tmp_path):
    fire, res = T0 + 20 * MIN, T0 + 30 * MIN
    ver = fire + 40000
    trig = [trigger("error_rate_high", "firing", fire),
            trigger("error_rate_high", "resolved", res)]
    checks = [check("error_rate_high", "verified", ver, fire, 3, 0, "feature_not_available",
                    ver),
              check("error_rate_high", "baseline", res, fire, 9, 0, "feature_not_available",
                    ver),
              check("latency_high", "not_verified", T0 + HOUR + 5 * MIN, T0 + HOUR)]
    evs = events(2, triggers=trig) + checks
    evs.append(checks[0])  # redelivered: told once
    src = write(tmp_path, evs)
    p = run("--input", src)
    assert p.returncode == 0 and p.stderr == "", p.stderr  # nothing skipped
    blocks = p.stdout.strip().split("\n\n")
    assert blocks[0].splitlines()[-1] == (
        "Notes: error_rate_high FIRING at 10:20:00 (error_rate 0.35 > 0.1 over 300 s, "
        "40 samples); resolved at 10:30:00; "
        "error_rate_high rollback verified at 10:20:40 (fired 10:20:00; 3 unavailable, "
        "0 s without requests) by feature_not_available; "
        "error_rate_high rollback baseline at 10:30:00 (fired 10:20:00; 9 unavailable, "
        "0 s without requests): verified at 10:20:40")
    assert blocks[1].splitlines()[-1] == (
        "Notes: latency_high rollback NOT VERIFIED at 11:05:00 (fired 11:00:00; 0 unavailable, "
        "0 s without requests): escalate")
    doc = json.loads(run("--input", src, "--format", "json").stdout)
    assert doc["input"]["skipped_lines"] == 0
    assert [(c["rule"], c["state"], c["hour"], c["evidence"]) for c in doc["rollback_checks"]] == [
        ("error_rate_high", "verified", 1, "feature_not_available"),
        ("error_rate_high", "baseline", 1, "feature_not_available"),
        ("latency_high", "not_verified", 2, None)]
    assert doc["rollback_checks"][0]["verified_at_ms"] == ver
    html = run("--input", src, "--format", "html").stdout
    assert "<h2>Rollback checks</h2>" in html
    assert html.count("<td class='l fail'>not_verified</td>") == 1
    # the verdict reads the triggers, as before
    code, _, crit = soak_json(src)
    assert code == 1


def test_config_sets_the_targets(tmp_path):
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"status": {"success_rate_min": 0.97, "latency_mean_max_ms": 900}}))
    p = run("--input", write(tmp_path, hand_fixture()), "--config", cfg)
    assert p.returncode == 0, p.stderr
    blocks = p.stdout.strip().split("\n\n")
    assert "- Success Rate: 97.5% (Target: >97%) PASS" in blocks[0]
    assert "- Response Time: 0.80s (Target: <0.9s) PASS" in blocks[0]
    assert "- Success Rate: 95.6% (Target: >97%) FAIL" in blocks[2]
    assert "- Response Time: 0.98s (Target: <0.9s) FAIL" in blocks[2]
    cfg.write_text('{"status": {"success_rate_min": "high"}}')
    p = run("--input", write(tmp_path, hand_fixture()), "--config", cfg)
    assert p.returncode == 2 and "success_rate_min" in p.stderr, p.stderr


def test_hour_sums_equal_the_raw_events_after_replay(tmp_path):
    """End to end: raw telemetry through `soakwatch replay`, then report.
    Every hour's counts and mean latency must equal those counted directly
    from the raw events whose time falls in that hour."""
    raw, truth = [], {}
    n = 0
    for ts in range(T0, T0 + 2 * HOUR + 10 * MIN, 250):
        n += 1
        kind = "requested" if n % 2 else ("fallback" if n % 26 == 0 else "succeeded")
        ev = {"event": f"stream5.time_crunch_preview_{kind}", "ts": ts}
        if kind != "requested":
            ev["durationMs"] = 300 + (n * 7919) % 2500
            if kind == "fallback":
                ev["reason"] = "internal_error" if n % 52 == 0 else "plan_not_compressible"
            h = truth.setdefault((ts - T0) // HOUR, [0, 0, 0, 0])
            h[0] += 1
            h[1] += kind == "succeeded"
            h[2] += ev.get("reason") == "internal_error"  # a missing status means 500 here
            h[3] += ev["durationMs"]
        raw.append(ev)
    src = write(tmp_path, raw, "raw.jsonl")
    out = tmp_path / "out.jsonl"
    p = subprocess.run([BIN, "replay", "--input", src, "--output", out], capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    doc = json.loads(run("--input", out, "--format", "json").stdout)
    assert len(doc["hours"]) == 3
    for i, h in enumerate(doc["hours"]):
        o, s, e, lat = truth[i]
        assert (h["outcomes"], h["successes"], h["errors"]) == (o, s, e), i
        assert h["latency_mean_ms"] == pytest.approx(lat / o, rel=1e-9)
    assert [h["covered_s"] for h in doc["hours"]] == [3600, 3600, 600]


def test_statuses_that_cannot_tile_report_their_coverage(tmp_path):
    # Every 7 minutes, 40 outcomes a minute. Hour 1 (10:00, 11:00]: statuses
    # at 10:07 .. 10:56; each one's 300 s window starts after the previous
    # one ends: 8 windows, 40 min, 1600 outcomes. Hour 2: 11:03's windows
    # all reach into hour 1 (skipped); 11:10 takes its 600 s window
    # (11:00-11:10), then 11:17 .. 11:59 one 300 s window each: 10 + 7 * 5
    # = 45 min, 1800 outcomes.
    evs = events(2, steady(40, 39, 1, 800.0), step_s=420)
    doc = json.loads(run("--input", write(tmp_path, evs), "--format", "json").stdout)
    assert doc["input"]["status_interval_s"] == 420
    assert [(h["covered_s"], h["windows"], h["outcomes"]) for h in doc["hours"]] == [
        (2400, 8, 1600), (2700, 8, 1800)]
    text = run("--input", write(tmp_path, evs)).stdout.split("\n\n")
    assert "- Coverage: 40 of 60 min (partial hour)" in text[0]
    assert "- Coverage: 45 of 60 min (partial hour)" in text[1]


def _section(html, title):
    """The HTML of the chart titled title."""
    start = html.index(f"<h2>{title}</h2>")
    return html[start:html.index("</section>", start)]


def _html(tmp_path, evs):
    out = tmp_path / "r.html"
    p = run("--input", write(tmp_path, evs), "--format", "html", "--output", out)
    assert p.returncode == 0, p.stderr
    return out.read_text()


def test_html_requests_beneath_outcomes_and_said_when_they_coincide(tmp_path):
    html = _html(tmp_path, events(2))
    sec = _section(html, "Requests per minute")
    # the requests line: wide and pale, drawn first; outcomes thin on top
    paths = re.findall(r"<path fill='none' stroke='(#[0-9a-f]+)' stroke-width='([0-9.]+)'", sec)
    assert paths[0][1] == "5" and paths[1][1] == "1.6", paths
    assert "stroke-opacity='0.45'" in sec
    assert "they coincide" not in sec  # steady(): 55 requests, 50 outcomes a minute
    html = _html(tmp_path, events(2, lambda m: (50, 50, 49, 1, 700.0)))
    assert "they coincide at every status" in _section(html, "Requests per minute")


def test_html_marks_the_window_filling_at_the_start(tmp_path):
    evs = events(2)
    assert "class='partial'" not in _html(tmp_path, evs)
    # the first statuses of a run say their 300 s window is partial
    for e in evs:
        if e["type"] == "status" and e["at_ms"] - T0 < 300_000:
            e["windows"]["300"]["observed_s"] = (e["at_ms"] - T0) // 1000
    html = _html(tmp_path, evs)
    sec = _section(html, "Success rate")
    assert "class='partial'" in sec and "window filling" in sec


def test_html_trigger_labels_do_not_overlap(tmp_path):
    at = T0 + 30 * MIN
    trig = [trigger(f"rule_{k}", "firing", at + k * 1000) for k in range(3)]
    html = _html(tmp_path, events(1, triggers=trig))
    band = html[html.index("<h2>Status</h2>"):]
    band = band[:band.index("</section>")]
    ys = [y for y in re.findall(r"<text x='[0-9.]+' y='([0-9]+)' class='firetxt'>", band)]
    assert len(ys) == 3 and len(set(ys)) == 3, ys


def test_html_percentiles_apart_from_the_means_target(tmp_path):
    html = _html(tmp_path, html_fixture())
    assert "target mean &lt; 2000" in _section(html, "Response time (ms)")
    pct = _section(html, "Response time percentiles (ms)")
    assert "target" not in re.sub(r"<p class='cap'>.*?</p>", "", pct)
    assert ">p95<" in pct and ">p99<" in pct


def test_html_a_dip_stays_inside_the_plot(tmp_path):
    def fn(m):
        k = (m - T0) // MIN
        return (60, 50, 5 if k == 40 else 49, 45 if k == 40 else 1, 700.0)
    html = _html(tmp_path, events(2, fn))
    sec = _section(html, "Success rate")
    top = int(re.search(r"<rect x='\d+' y='(\d+)' width='\d+' height='(\d+)' class='plot'/>",
                        sec).group(1))
    height = int(re.search(r"class='plot'/>", sec) and
                 re.search(r"<rect x='\d+' y='\d+' width='\d+' height='(\d+)' class='plot'/>",
                           sec).group(1))
    ys = [float(y) for d in re.findall(r" d='([^']*)'", sec)
          for y in re.findall(r"[ML][0-9.]+ ([0-9.]+)", d)]
    assert ys and all(top - 0.05 <= y <= top + height + 0.05 for y in ys), (top, height)
    assert max(ys) > top + height * 0.8  # the dip reaches low in the plot


# ---- soak verdicts in the html report -----------------------------------

SOAK48_EXPECTED = os.path.join(SRC, "examples", "soak48.expected.jsonl")


def html_escape(s):
    """As the report escapes text from its input."""
    for a, b in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"), ("'", "&#39;")):
        s = s.replace(a, b)
    return s


def _verdict_tables(html):
    """[(heading, [row cells, ...]), ...] of the "Soak verdicts" section."""
    sec = _section(html, "Soak verdicts")
    out = []
    for part in sec.split("<h3>")[1:]:
        head, table = part.split("</h3>", 1)
        rows = re.findall(r"<tr>(<td.*?)</tr>", table)
        out.append((head, [re.findall(r"<td[^>]*>(.*?)</td>", r) for r in rows]))
    return out


def test_html_lists_soak48s_verdicts_with_their_criteria(tmp_path):
    """The report over the 48-hour soak's expected outputs shows both
    verdicts (test_soak_example.py holds the replay to that file), each
    criterion with its result and detail, and the sign-offs as missing."""
    with open(SOAK48_EXPECTED, encoding="utf-8") as f:
        verdicts = [e for e in map(json.loads, f) if e["type"] == "soak_verdict"]
    assert [(v["kind"], v["verdict"]) for v in verdicts] == [("provisional", "no_go"),
                                                             ("final", "no_go")]
    p = run("--input", SOAK48_EXPECTED, "--format", "html")
    assert p.returncode in (0, 1) and p.stderr == "", p.stderr
    tables = _verdict_tables(p.stdout)
    assert [h for h, _ in tables] == [
        "Hour 24, provisional: <span class='vd nogo'>NO-GO</span> <span class='sub'>"
        "2026-11-24 08:00 UTC, 3 of 9 criteria pass</span>",
        "Hour 48, final: <span class='vd nogo'>NO-GO</span> <span class='sub'>"
        "2026-11-25 08:00 UTC, 3 of 9 criteria pass</span>"]
    for v, (_, rows) in zip(verdicts, tables):
        want = [[html_escape(c["title"]), "sign-off" if c["kind"] == "signoff" else "technical",
                 "PASS" if c["pass"] else "FAIL", html_escape(c["detail"]),
                 "-" if c["kind"] == "technical" else "<span class='fail'>missing</span>"]
                for c in v["criteria"]]
        assert rows == want
    # what the two differ in, written out: the firings and the run of hours
    assert tables[0][1][3][3] == "1 fired since the soak start"
    assert tables[1][1][3][3] == "2 fired since the soak start"
    assert tables[1][1][0][:4] == ["Success rate &gt; 95% for 24+ hours", "technical", "PASS",
                                   "longest run 48 h, current run 48 h"]


def _signed_soak48(tmp_path):
    """soak48's outputs with the final verdict signed off by qa, in a name
    and a title that must be escaped, and its verdict made pending."""
    lines = []
    with open(SOAK48_EXPECTED, encoding="utf-8") as f:
        for line in f:
            e = json.loads(line)
            if e["type"] == "soak_verdict" and e["kind"] == "final":
                e["verdict"] = "pending"
                (qa,) = [c for c in e["criteria"] if c["key"] == "qa"]
                qa.update({"pass": True, "by": "<b>alice</b> & co",
                           "title": "QA <sign-off>", "detail": "signed off at "
                           "2026-11-24T09:00:00.000Z"})
            lines.append(json.dumps(e))
    src = tmp_path / "signed.jsonl"
    src.write_text("\n".join(lines) + "\n")
    return src


def test_html_verdict_names_who_signed_off_escaped(tmp_path):
    out = tmp_path / "signed.html"
    p = run("--input", _signed_soak48(tmp_path), "--format", "html", "--output", out)
    assert p.returncode in (0, 1) and p.stderr == "", p.stderr
    html = out.read_text()
    tables = _verdict_tables(html)
    assert "<span class='vd pending'>PENDING</span>" in tables[1][0]
    assert "4 of 9 criteria pass" in tables[1][0]
    (qa,) = [r for r in tables[1][1] if r[1] == "sign-off" and r[2] == "PASS"]
    assert qa == ["QA &lt;sign-off&gt;", "sign-off", "PASS",
                  "signed off at 2026-11-24T09:00:00.000Z", "&lt;b&gt;alice&lt;/b&gt; &amp; co"]
    assert [r[4] for r in tables[1][1]].count("<span class='fail'>missing</span>") == 4
    assert "<b>alice" not in html and "<sign-off>" not in html


def test_html_verdicts_parse_as_tables_in_chromium(tmp_path):
    """Chromium's DOM of the page: two verdict tables of 9 criteria each,
    and the signed-off name as text, not markup."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed: cannot render the HTML report")
    out = tmp_path / "signed.html"
    p = run("--input", _signed_soak48(tmp_path), "--format", "html", "--output", out)
    assert p.returncode in (0, 1), p.stderr
    with tempfile.TemporaryDirectory() as profile:
        d = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                            "--disable-quic", "--no-first-run", "--disable-background-networking",
                            "--disable-component-update", "--disable-sync",
                            f"--user-data-dir={profile}", "--dump-dom", "file://" + str(out)],
                           capture_output=True, text=True, timeout=120)
    dom = d.stdout
    assert "<h2>Soak verdicts</h2>" in dom, d.stderr[-2000:]
    sec = _section(dom, "Soak verdicts")
    assert sec.count("<table>") == 2 and sec.count("<h3>") == 2
    assert sec.count("<tr>") == 2 * (1 + 9)
    assert "<b>" not in sec and "&lt;b&gt;alice&lt;/b&gt; &amp; co" in sec


# ---- cohorts (docs/semantics.md section 12) -----------------------------

COHORT_RULE = "cohort_error_rate_high"


def cohort_trigger(cohort, state, at_ms, rule=COHORT_RULE, **kw):
    """A cohort's trigger as soakwatch writes it: `cohort` right after
    `rule`, the id RULE:COHORT:AT_MS."""
    t = trigger(rule, state, at_ms, **kw)
    out = {}
    for k, v in t.items():
        out[k] = v
        if k == "rule":
            out["cohort"] = cohort
    out["id"] = f"{rule}:{cohort}:{at_ms}"
    if state == "firing":
        out["action"] = "rollback_cohort"
    return out


def v1_minute(m):
    return (50, 45, 45, 0, 700.0)


def v2_minute(m):
    """v2 fails 3 of its 5 outcomes a minute in minutes 30 to 69."""
    bad = 30 <= (m - T0) // MIN < 70
    return (6, 5, 2 if bad else 5, 3 if bad else 0, 900.0)


def whole_minute(m):
    a, b = v1_minute(m), v2_minute(m)
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3],
            (a[4] * a[1] + b[4] * b[1]) / (a[1] + b[1]))


def cohort_events(hours, triggers=(), names=("v1", "v2"), with_cohorts=True):
    """Statuses of the whole topic (v1 + v2) every minute, each with its
    cohorts' 300 s windows (the status window) when with_cohorts."""
    fns = dict(zip(names, (v1_minute, v2_minute)))
    evs = events(hours, whole_minute, triggers=triggers)
    if with_cohorts:
        for e in evs:
            if e["type"] == "status":
                e["cohorts"] = {n: window(fn, e["at_ms"], 300) for n, fn in fns.items()}
    return evs


def overlapping_cohort_triggers():
    """Two cohorts of one rule firing at overlapping times (v1 10:40 to
    10:50, v2 10:42 to 11:15), `other` firing at v1's very instant, and v2's
    firing delivered twice."""
    return [cohort_trigger("v1", "firing", T0 + 40 * MIN, value=0.21),
            cohort_trigger("other", "firing", T0 + 40 * MIN, value=0.5, samples=22),
            cohort_trigger("v2", "firing", T0 + 42 * MIN, value=0.6, samples=25),
            cohort_trigger("v2", "firing", T0 + 42 * MIN, value=0.6, samples=25),
            cohort_trigger("v1", "resolved", T0 + 50 * MIN),
            cohort_trigger("other", "resolved", T0 + 55 * MIN),
            cohort_trigger("v2", "resolved", T0 + 75 * MIN)]


def test_cohort_triggers_pair_within_their_cohort(tmp_path):
    src = write(tmp_path, cohort_events(2, overlapping_cohort_triggers()))
    p = run("--input", src)
    assert p.returncode == 0 and p.stderr == "", p.stderr
    hour1, hour2 = p.stdout.strip().split("\n\n")
    notes = hour1.splitlines()[-1]
    assert notes == (
        "Notes: cohort_error_rate_high [v1] FIRING at 10:40:00 (error_rate 0.21 > 0.1 over "
        "300 s, 40 samples); resolved at 10:50:00; "
        "cohort_error_rate_high [other] FIRING at 10:40:00 (error_rate 0.5 > 0.1 over 300 s, "
        "22 samples); resolved at 10:55:00; "
        "cohort_error_rate_high [v2] FIRING at 10:42:00 (error_rate 0.6 > 0.1 over 300 s, "
        "25 samples); resolved at 2026-11-26 11:15:00 (hour 2)")
    assert hour2.splitlines()[-1] == ("Notes: cohort_error_rate_high [v2] resolved at 11:15:00 "
                                      "(firing since 2026-11-26 10:42:00)")
    # JSON: the repeated firing counts once, each trigger names its cohort
    doc = json.loads(run("--input", src, "--format", "json").stdout)
    got = [(t["cohort"], t["state"], t["at_ms"], t["id"]) for t in doc["triggers"]]
    assert got == [(c, s, at, f"{COHORT_RULE}:{c}:{at}") for c, s, at in (
        ("v1", "firing", T0 + 40 * MIN), ("other", "firing", T0 + 40 * MIN),
        ("v2", "firing", T0 + 42 * MIN), ("v1", "resolved", T0 + 50 * MIN),
        ("other", "resolved", T0 + 55 * MIN), ("v2", "resolved", T0 + 75 * MIN))]
    assert list(doc["triggers"][0])[:4] == ["id", "rule", "cohort", "state"]
    assert doc["soak"]["firings"] == 3
    # HTML: each firing's row with its own cohort's resolution
    html = _html(tmp_path, cohort_events(2, overlapping_cohort_triggers()))
    table = html[html.index("<h2>Rollback triggers</h2>"):]
    table = table[:table.index("</table>")]
    rows = [re.findall(r"<td[^>]*>(.*?)</td>", r) for r in re.findall(r"<tr>(<td.*?)</tr>", table)]
    assert [(r[0], r[1], r[3], r[4]) for r in rows] == [
        ("cohort_error_rate_high [v1]", "2026-11-26 10:40:00", "2026-11-26 10:50:00",
         "10 min 00 s"),
        ("cohort_error_rate_high [other]", "2026-11-26 10:40:00", "2026-11-26 10:55:00",
         "15 min 00 s"),
        ("cohort_error_rate_high [v2]", "2026-11-26 10:42:00", "2026-11-26 11:15:00",
         "33 min 00 s")]


def test_compare_trigger_shows_treatment_against_control(tmp_path):
    fire = cohort_trigger("v2", "firing", T0 + 40 * MIN, rule="canary_errors", threshold=0.02,
                          value=0.59, samples=25)
    fire["compare"] = {"treatment": {"cohort": "v2", "value": 0.6, "samples": 25},
                       "control": {"cohort": "v1", "value": 0.01, "samples": 225},
                       "statistic": 12.5, "p_value": 3.7e-36, "alpha_per_look": 2.9e-07}
    res = cohort_trigger("v2", "resolved", T0 + 75 * MIN, rule="canary_errors", threshold=0.02)
    res["compare"] = dict(fire["compare"], p_value=0.3)
    src = write(tmp_path, cohort_events(2, [fire, res]))
    want = ("error_rate difference 0.59 &gt; 0.02 over 300 s: <span class='cmp'>v2 0.6 "
            "(25 samples) vs v1 0.01 (225 samples), p = 3.7e-36</span>")
    html = _html(tmp_path, cohort_events(2, [fire, res]))
    assert want in html
    text = run("--input", src).stdout
    assert ("canary_errors [v2] FIRING at 10:40:00 (error_rate difference 0.59 > 0.02 over "
            "300 s: v2 0.6 (25 samples) vs v1 0.01 (225 samples), p = 3.7e-36); resolved at "
            "2026-11-26 11:15:00 (hour 2)") in text
    t = json.loads(run("--input", src, "--format", "json").stdout)["triggers"][0]
    assert t["compare"] == {"treatment": {"cohort": "v2", "value": 0.6, "samples": 25},
                            "control": {"cohort": "v1", "value": 0.01, "samples": 225},
                            "statistic": 12.5, "p_value": 3.7e-36}
    # a threshold on the difference is no level: not drawn on the error chart
    assert "rule canary_errors" not in _section(html, "Error rate")


def _path_ys(sec):
    """{stroke colour: [y, ...]} of the chart's series paths."""
    out = {}
    for colour, d in re.findall(r"<path fill='none' stroke='(#[0-9a-f]+)'[^>]* d='([^']*)'", sec):
        out[colour] = [float(y) for y in re.findall(r"[ML][0-9.]+ ([0-9.]+)", d)]
    return out


def test_html_draws_each_cohort_beside_the_whole(tmp_path):
    html = _html(tmp_path, cohort_events(2))
    for title, whole in (("Error rate", "error rate"), ("Success rate", "success rate")):
        sec = _section(html, title)
        legend = re.findall(r"<text [^>]*class='legend'>([^<]*)</text>", sec)
        assert legend == [whole + ", whole topic", "cohort v1", "cohort v2"], legend
        ys = _path_ys(sec)
        assert len(ys) == 3, ys.keys()  # three series, three colours
        assert "each cohort" in sec
    errs = _path_ys(_section(html, "Error rate"))
    whole, v1, v2 = list(errs.values())
    # v2 at 60% errors stands far above the whole (about 5%) and v1 (0%)
    assert min(v2) < min(whole) - 50 and min(v1) == max(v1) >= max(whole) - 0.05
    # the hourly table by cohort: 12 windows of 300 s tile each hour; v2
    # had 300 outcomes in hour 1, 90 of them errors (minutes 30 to 59)
    sec = _section(html, "Hourly updates by cohort")
    rows = [re.findall(r"<td[^>]*>(.*?)</td>", r) for r in re.findall(r"<tr>(<td.*?)</tr>", sec)]
    assert [r[2:] for r in rows[:2]] == [["v1", "100.0%", "0.70s", "0.0%", "2700", "60 min"],
                                         ["v2", "70.0%", "0.90s", "30.0%", "300", "60 min"]]
    text = run("--input", write(tmp_path, cohort_events(2))).stdout
    assert "- Cohort v2: success 70.0%, errors 30.0%, response 0.90s, 300 outcomes\n" in text


def test_cohorts_leave_the_whole_topics_numbers_alone(tmp_path):
    trig = overlapping_cohort_triggers()
    plain = write(tmp_path, cohort_events(2, trig, with_cohorts=False), name="plain.jsonl")
    both = write(tmp_path, cohort_events(2, trig), name="both.jsonl")
    a, b = run("--input", plain).stdout, run("--input", both).stdout
    assert "- Cohort" not in a
    assert a == "".join(l for l in b.splitlines(True) if not l.startswith("- Cohort "))
    ja = json.loads(run("--input", plain, "--format", "json").stdout)
    jb = json.loads(run("--input", both, "--format", "json").stdout)
    assert all("cohorts" not in h for h in ja["hours"])
    for h in jb["hours"]:
        assert h.pop("cohorts")["v2"]["outcomes"] == 300
    assert ja == jb
    html = _html(tmp_path, cohort_events(2, trig, with_cohorts=False))
    assert "cohort v1" not in html and "Hourly updates by cohort" not in html


ODD_COHORT = "<i>v\"3'&amp"


def test_html_escapes_cohort_names(tmp_path):
    evs = cohort_events(2, [cohort_trigger(ODD_COHORT, "firing", T0 + 40 * MIN),
                            cohort_trigger(ODD_COHORT, "resolved", T0 + 50 * MIN)],
                        names=("v1", ODD_COHORT))
    html = _html(tmp_path, evs)
    esc = html_escape(ODD_COHORT)
    assert "<i>" not in html
    assert f"cohort {esc}" in _section(html, "Error rate")  # legend
    assert f"cohort_error_rate_high [{esc}]" in html        # tables, markers
    assert f"<td class='l'>{esc}</td>" in _section(html, "Hourly updates by cohort")
    src = write(tmp_path, evs)
    doc = json.loads(run("--input", src, "--format", "json").stdout)
    assert doc["triggers"][0]["cohort"] == ODD_COHORT
    assert list(doc["hours"][0]["cohorts"]) == ["v1", ODD_COHORT]
    assert f"cohort_error_rate_high [{ODD_COHORT}] FIRING" in run("--input", src).stdout


def test_html_cohorts_render_in_chromium(tmp_path):
    """Chromium's DOM has each cohort's legend as text (the odd name too),
    and its screenshot shows the cohorts' colours."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed: cannot render the HTML report")
    evs = cohort_events(2, [cohort_trigger(ODD_COHORT, "firing", T0 + 40 * MIN)],
                        names=("v1", ODD_COHORT))
    out = tmp_path / "cohorts.html"
    png = tmp_path / "cohorts.png"
    p = run("--input", write(tmp_path, evs), "--format", "html", "--output", out)
    assert p.returncode == 0, p.stderr
    base = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync"]
    with tempfile.TemporaryDirectory() as profile:
        d = subprocess.run(base + [f"--user-data-dir={profile}", "--dump-dom",
                                   "file://" + str(out)], capture_output=True, text=True,
                           timeout=120)
    assert "<h2>Error rate</h2>" in d.stdout, d.stderr[-2000:]
    sec = _section(d.stdout, "Error rate")
    legend = re.findall(r"<text [^>]*class=\"legend\">([^<]*)</text>", sec)
    assert legend == ["error rate, whole topic", "cohort v1",
                      "cohort &lt;i&gt;v\"3'&amp;amp"], legend
    assert "<i>" not in d.stdout and len(re.findall(r"<path ", sec)) == 3
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(base + [f"--user-data-dir={profile}", "--window-size=1400,1800",
                               f"--screenshot={png}", "file://" + str(out)],
                       capture_output=True, timeout=120)
    assert png.exists(), "chromium wrote no screenshot"
    w, h, bpp, rows = png_pixels(str(png))
    colours = set()
    for row in rows:
        for x in range(0, w * bpp, bpp):
            colours.add((row[x] >> 3, row[x + 1] >> 3, row[x + 2] >> 3))

    def near(rgb):
        return any(abs(c[0] * 8 + 4 - rgb[0]) <= 12 and abs(c[1] * 8 + 4 - rgb[1]) <= 12
                   and abs(c[2] * 8 + 4 - rgb[2]) <= 12 for c in colours)
    for name, rgb in (("v1 purple", (0x94, 0x67, 0xbd)), ("odd cohort brown", (0x8c, 0x56, 0x4b)),
                      ("whole orange", (0xff, 0x7f, 0x0e))):
        assert near(rgb), f"no {name} in the screenshot"
