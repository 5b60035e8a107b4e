# needs: kafka
"""soakwatch backtest of a recorded topic (docs/semantics.md section 13):
it reads the topic exactly as `soakwatch replay --brokers ... --topic ...`
does, once per pass.

The recording (70 healthy minutes, 6 with 35% internal errors, 10 healthy)
is produced over 3 partitions with record times equal to event times, so
that --from decides where reading starts: a replay rebuilds its windows
from the longest of them (plus the lateness and a margin) before --from.
The sweep moves error_rate_high's window to 2400 s, longer than any of the
config's (1800 s), so those rows must be read from further back than the
others: each row is held to what `replay --brokers` writes with its config.
Over the whole topic the rows are those of `backtest --input` over the
same lines; with --from/--to they are the triggers replay writes in that
range, a firing under way at --from counting from it and one under way at
--to counting to its end (section 13).
"""
import json
import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kafka_util  # noqa: E402
import scenarios as sc  # noqa: E402
from test_backtest import figures  # noqa: E402

SWEEPS = ["rules[error_rate_high].window_s=300,2400",
          "rules[error_rate_high].threshold=0.03,0.1,0.3"]
MIN = 60_000


def run(args):
    return subprocess.run([sc.BIN] + args, capture_output=True, text=True, timeout=600)


def sweep_args(sweeps=SWEEPS):
    return sum((["--sweep", s] for s in sweeps), [])


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    brokers = kafka_util.bootstrap()
    tmp = tmp_path_factory.mktemp("btk")
    start = 1_790_000_000_000  # 2026-09-21T...Z, a whole second
    rng = sc.random.Random(7)
    lines = []
    t = sc._traffic(rng, lines, start, 70 * 60, 2)
    t = sc._traffic(rng, lines, t, 6 * 60, 2, error_p=0.35)
    sc._traffic(rng, lines, t, 10 * 60, 2)
    path = tmp / "recording.jsonl"
    path.write_text("\n".join(lines) + "\n")
    topic = kafka_util.unique_topic("bt-rec")
    kafka_util.create_topic(topic, 3)
    kafka_util.produce_lines(topic, lines, partition=lambda i, _: i % 3,
                             timestamps_ms=[json.loads(x)["ts"] for x in lines])
    return brokers, topic, str(path), start, tmp


def topic_backtest(rec, *extra, sweeps=SWEEPS):
    brokers, topic = rec[0], rec[1]
    r = run(["backtest", "--brokers", brokers, "--topic", topic, "--format", "json",
             "--no-progress"] + list(extra) + sweep_args(sweeps))
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout), r.stderr


def replay_firings(rec, row, frm, to=None):
    """The firings replay --brokers writes with row's config in [frm, to]:
    [(rule, from_ms, to_ms|None)]. A firing under way at frm's second (its
    firing trigger lies before the range) counts from it: the replay shows
    it by a resolution without its firing, or by the rule's name in the
    `firing` list of the first status before any trigger of that rule. An
    empty one is dropped."""
    brokers, topic, tmp = rec[0], rec[1], rec[4]
    c = run(["backtest", "--row", str(row)] + sweep_args())
    assert c.returncode == 0, c.stderr
    cfg = tmp / ("row%d.json" % row)
    cfg.write_text(c.stdout)
    args = ["replay", "--brokers", brokers, "--topic", topic, "--config", str(cfg),
            "--from", str(frm)] + (["--to", str(to)] if to is not None else [])
    r = run(args)
    assert r.returncode == 0, r.stderr
    first = -(-frm // 1000) * 1000
    open_at, out, seen, statuses = {}, [], set(), 0
    for e in map(json.loads, r.stdout.splitlines()):
        if e["type"] == "status" and not statuses:
            statuses += 1
            for rule in e["firing"]:
                if rule not in seen:
                    open_at[rule] = first
        if e["type"] != "rollback_trigger":
            continue
        seen.add(e["rule"])
        if e["state"] == "firing":
            open_at[e["rule"]] = e["at_ms"]
            continue
        since = open_at.pop(e["rule"], first)
        if e["at_ms"] > since:
            out.append((e["rule"], since, e["at_ms"]))
    out += [(rule, at, None) for rule, at in open_at.items()]
    return sorted(out)


def firings_of(row):
    return sorted((f["rule"], f["from_ms"], f["to_ms"]) for f in row["firings"])


def test_whole_topic_is_the_file_backtest(recorded):
    _, _, path, start, _ = recorded
    doc, err = topic_backtest(recorded, "--from", str(start))
    r = run(["backtest", "--input", path, "--format", "json", "--no-progress"] + sweep_args())
    assert r.returncode == 0, r.stderr
    want = json.loads(r.stdout)
    assert doc == want
    assert len(doc["rows"]) == 7 and any(row["triggers"] for row in doc["rows"])
    # the 2400 s windows are rebuilt from further back: a pass of their own,
    # from the window, the lateness (2 s), the margin (60 s) and the
    # rollback check's verify_within_s (300 s) before --from (section 3)
    for n, window in ((1, 1800), (2, 2400)):
        back = start - (window + 2 + 60 + 300) * 1000
        assert ("pass %d of 2, allowed_lateness_s 2, 3 combinations, reading from %s"
                % (n, iso(back))) in err, err
    # one summary line per pass, as replay writes it
    assert sum(1 for x in err.splitlines() if " accepted" in x) == 2, err


def iso(ms):
    import datetime
    d = datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (ms % 1000)


@pytest.mark.parametrize("lo_min,hi_min", [(73, 80), (71, None)])
def test_bounds_rows_are_replays_of_their_config(recorded, lo_min, hi_min):
    """--from/--to as replay takes them: each row is the triggers replay
    --brokers writes in that range with the row's config, and its figures
    are worked out again from them."""
    start = recorded[3]
    lo = start + lo_min * MIN + 500  # rounded up to the next second
    hi = None if hi_min is None else start + hi_min * MIN
    incidents = [{"start": start + 70 * MIN, "end": start + 80 * MIN}]
    inc = recorded[4] / "incidents.jsonl"
    inc.write_text(json.dumps(incidents[0]) + "\n")
    extra = ["--from", str(lo), "--incidents", str(inc)]
    if hi is not None:
        extra += ["--to", str(hi)]
    doc, _ = topic_backtest(recorded, *extra)
    rows = {r["row"]: r for r in doc["rows"]}
    assert sorted(rows) == list(range(7))
    under_way_at_from = open_at_end = 0
    for n in sorted(rows):
        want = replay_firings(recorded, n, lo, hi)
        assert firings_of(rows[n]) == want, n
        under_way_at_from += sum(1 for _, f, _ in want if f == lo + 500)
        open_at_end += sum(1 for _, _, t in want if t is None)
        got = figures(want, doc["end_ms"], incidents)
        for k, v in got.items():
            assert rows[n][k] == v, (n, k, rows[n][k], v)
    # both clauses were exercised, and the 2400 s rows fired (their windows
    # were full at --from only because they were read from further back)
    assert under_way_at_from > 0
    assert open_at_end > 0 or hi is None
    long_rows = [r for r in doc["rows"] if "window_s=2400" in r["parameters"]]
    assert any(r["triggers"] for r in long_rows)
    want_end = (hi // 1000 + 1) * 1000 if hi is not None else None
    if want_end is not None:
        assert doc["end_ms"] == want_end


def test_missing_topic_fails_clearly(recorded):
    brokers = recorded[0]
    absent = kafka_util.unique_topic("bt-absent")
    r = run(["backtest", "--brokers", brokers, "--topic", absent, "--from", "0"] + sweep_args())
    assert r.returncode != 0 and r.returncode != 2, r.stderr
    assert absent in r.stderr, r.stderr
    assert r.stdout == ""


def test_unreachable_broker_fails_clearly():
    r = run(["backtest", "--brokers", "127.0.0.1:%d" % sc.free_port(), "--topic", "t",
             "--from", "0"] + sweep_args())
    assert r.returncode == 1, r.stderr
    assert r.stderr.strip() and r.stdout == ""
