# needs: kafka
"""The input topic changing shape under a running soakwatch, shutdown and
start-up bounds, and two replicas on one topic.

Every test that compares with `soakwatch replay` produces paced live
traffic (event time = now, about 140 events/s, dealt to every partition in
turn, each partition through its own kcat producer), as
test_live_topics.py does, so that nothing is late for test-artifact
reasons, and compares the output topic with the file replay of everything
produced, up to the watermark of the last event (later instants are the
idle clock's, which a replay does not evaluate).

a. Partitions added mid-run (3 -> 6, TopicCommand --alter) while an error
   burst fires two rules: soakwatch logs "now has 6 partitions (had 3)",
   starts over in place (same pid, still running), reads all 6 partitions
   (committed to their ends), and over the whole run the output topic holds
   every rollback transition of the replay, by id and identical, no status
   contradicts the replay's at its instant, a repeat is byte-identical, and
   the final summary accepts every event produced with 0 late.
b. The input topic deleted and created again with the same partition count
   (old topic ~5 s of traffic, ~240 messages a partition); the moment it
   exists, a block of events at event time now puts twice as many messages
   in each new partition, so the old positions lie inside the new topic's
   range, then paced traffic goes on: soakwatch says it is back and starts
   over, accepts every event of the new topic (none skipped) with 0 late,
   and its statuses after the restart are the file replay's of the new
   topic's lines.
c. The input topic deleted and created again with fewer partitions (3 -> 1):
   SIGTERM at once, and SIGTERM after the start-over; each process exits 0
   within 16 s (cleanly, or through the shutdown watchdog).
d. Start-up against things that are not a Kafka broker: a listener that
   accepts and never answers (SIGTERM 1 s after start: exit 0 within 12 s,
   "stopped by a signal during start-up"; without it, the error names the
   address and says it answers no Kafka request), an HTTP server, a closed
   port.
e. Two replicas (one consumer group each) on the same input and output
   topics; one is killed with SIGKILL in the middle of an error burst and
   started again 10 s later: the output topic holds every rollback
   transition of the replay, and every repeat (same id, or same status
   instant) is byte-identical.

Every test prints its figures on stderr (pytest -s shows them).
"""
import http.server
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kafka_util as ku  # noqa: E402
import scenarios as sc  # noqa: E402

pytestmark = pytest.mark.skipif(not sc.have_kcat(), reason="kcat not installed")

TOPIC_TOOL = "org.apache.kafka.tools.TopicCommand"
LATENESS_S = 5
CONFIG = {
    "allowed_lateness_s": LATENESS_S,
    "status": {"interval_s": 10, "window_s": 30, "windows_s": [30, 60, 120]},
    "rules": [
        {"name": "error_rate_high", "metric": "error_rate", "op": ">", "threshold": 0.1,
         "window_s": 30, "min_samples": 20},
        {"name": "success_rate_low", "metric": "success_rate", "op": "<", "threshold": 0.9,
         "window_s": 30, "min_samples": 20},
    ],
}
# The longest window (120 s) + lateness + 60 s: a start-over reads the input
# topic from this far back, so every test's traffic (< 90 s) is rebuilt whole.
REBUILD_S = 120 + LATENESS_S + 60
BURST = (5, 20, 0.6)  # from, to (seconds into the traffic), share of internal errors
TRAFFIC_S = 60        # the burst's rules fire by ~7 s and resolve by ~47 s


# ---- helpers --------------------------------------------------------------------

def broker_env():
    brokers = ku.bootstrap()
    return brokers, dict(os.environ, KAFKA_LOCAL_BOOTSTRAP=brokers)


def write_config(tmp_path):
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps(CONFIG))
    return cfg


def http_get(port, path):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=2) as r:
            return r.status, r.read().decode()
    except OSError as exc:
        return None, str(exc)


def metric(port, name, labels=""):
    status, body = http_get(port, "/metrics")
    if status != 200:
        return None
    m = re.search(r"^%s%s (\S+)$" % (re.escape(name), re.escape(labels)), body, re.M)
    return float(m.group(1)) if m else None


def lag_partitions(port):
    status, body = http_get(port, "/metrics")
    if status != 200:
        return {}
    return {int(p): int(v) for p, v in re.findall(
        r'^soakwatch_consumer_lag_messages\{partition="(\d+)"\} (-?\d+)$', body, re.M)}


def committed(group, topic, env):
    r = subprocess.run([sc.KAFKA_LOCAL, "describe-group", group], capture_output=True,
                       text=True, env=env, timeout=120)
    if r.returncode != 0:
        return {}
    res = {}
    for line in r.stdout.splitlines():
        f = line.split()
        if len(f) >= 4 and f[0] == group and f[1] == topic and f[3].isdigit():
            res[int(f[2])] = int(f[3])
    return res


def end_offsets(brokers, topic, partitions):
    args = ["kcat", "-Q", "-b", brokers]
    for p in range(partitions):
        args += ["-t", "%s:%d:-1" % (topic, p)]
    r = subprocess.run(args, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        return None
    got = {int(p): int(o) for p, o in re.findall(r"\[(\d+)\] offset (-?\d+)", r.stdout)}
    return got if len(got) == partitions and min(got.values()) >= 0 else None


def topics(brokers, env):
    out = sc.kafka_local("tool", TOPIC_TOOL, "--bootstrap-server", brokers, "--list",
                         env=env, timeout=120)
    return set(out.split())


def delete_topic(brokers, topic, env):
    sc.kafka_local("tool", TOPIC_TOOL, "--bootstrap-server", brokers, "--delete",
                   "--topic", topic, env=env, timeout=120)


def grow_topic(brokers, topic, partitions, env):
    sc.kafka_local("tool", TOPIC_TOOL, "--bootstrap-server", brokers, "--alter",
                   "--topic", topic, "--partitions", str(partitions), env=env, timeout=120)


def raw_outputs(brokers, topic):
    """The output topic's payloads, as published (bytes compared as text)."""
    return [m["payload"] for m in sc.consume_all(brokers, topic)]


def replay(path, cfg):
    r = subprocess.run([sc.BIN, "replay", "--input", str(path), "--config", str(cfg)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return [json.loads(x) for x in r.stdout.splitlines()]


SUMMARY_RE = re.compile(r"^soakwatch: (\d+) accepted;.*$", re.M)


def summary(stderr):
    """The last summary line of stderr, its accepted and late counts."""
    lines = [m.group(0) for m in SUMMARY_RE.finditer(stderr)]
    assert lines, stderr[-3000:]
    line = lines[-1]
    late = re.search(r"; (\d+) late;", line)
    assert late, line
    return line, int(re.match(r"soakwatch: (\d+) accepted;", line).group(1)), \
        int(late.group(1))


def wait_line(run, pattern, timeout, step=0.2):
    """Waits until run's stderr matches pattern; returns the match or None."""
    rx = re.compile(pattern, re.M)
    return sc.wait_until(lambda: rx.search(run.stderr()), timeout, step=step)


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return None


def proc_start_ticks(pid):
    """Field 22 of /proc/PID/stat: when the process began (exec keeps it)."""
    with open("/proc/%d/stat" % pid) as f:
        return int(f.read().rsplit(")", 1)[1].split()[19])


def ev(name, ts, **kw):
    d = {"event": name, "ts": ts, "planId": "plan-1", "userId": "u-1",
         "source": "gateway-bff"}
    d.update(kw)
    return json.dumps(d, separators=(",", ":"))


class Traffic(threading.Thread):
    """Paced live telemetry as in test_live_topics.py: PER_TICK previews (a
    request and its outcome, sometimes a declined) every TICK_S, event time
    = now, dealt to the partitions in turn, each through its own kcat
    producer; between burst[0] and burst[1] seconds after the first event a
    share burst[2] of the outcomes are internal errors. add_partitions()
    deals to more partitions from the next tick on. lines: everything
    produced, in order (event times never go backwards)."""

    TICK_S = 0.1
    PER_TICK = 7

    def __init__(self, tmp_path, brokers, topic, partitions, burst=(0, 0, 0.0), seed=11,
                 name="kcat"):
        super().__init__(daemon=True)
        self.tmp, self.brokers, self.topic, self.name_ = tmp_path, brokers, topic, name
        self.burst = burst
        self.seed = seed
        self.lines = []
        self.per_partition = []
        self.start_ms = None
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.error = None
        self.errs, self.procs = [], []
        self.add_partitions(partitions)

    def add_partitions(self, n):
        with self.lock:
            for p in range(len(self.procs), n):
                err = open(os.path.join(str(self.tmp), "%s-%d.err" % (self.name_, p)), "w")
                self.errs.append(err)
                self.procs.append(subprocess.Popen(
                    ["kcat", "-P", "-b", self.brokers, "-t", self.topic, "-p", str(p)],
                    stdin=subprocess.PIPE, stderr=err, text=True))
                self.per_partition.append(0)

    def elapsed_s(self):
        return 0.0 if self.start_ms is None else time.time() - self.start_ms / 1000

    def run(self):
        rng = random.Random(self.seed)
        last = 0
        i = 0
        tick = time.monotonic()
        try:
            while not self.stopping.is_set():
                with self.lock:
                    ts = max(int(time.time() * 1000), last)
                    last = ts
                    if self.start_ms is None:
                        self.start_ms = ts
                    el = (ts - self.start_ms) / 1000
                    err_p = self.burst[2] if self.burst[0] <= el < self.burst[1] else 0.0
                    n = len(self.procs)
                    batch = [[] for _ in range(n)]
                    for _ in range(self.PER_TICK):
                        out = [ev(sc.REQ, ts, compressionStrategy="pending", targetMinutes=30)]
                        dur = rng.randint(80, 900)
                        if rng.random() < err_p:
                            out.append(ev(sc.FB, ts, durationMs=dur, reason="internal_error",
                                          compressionStrategy="none"))
                        elif rng.random() < 0.02:
                            out.append(ev(sc.FB, ts, durationMs=dur,
                                          reason="plan_not_compressible",
                                          compressionStrategy="none"))
                        else:
                            out.append(ev(sc.OK, ts, durationMs=dur, status=200,
                                          compressionStrategy=rng.choice(sc.STRATEGIES),
                                          meetsTimeConstraint=rng.random() < 0.9))
                        if rng.random() < 0.05:
                            out.append(ev(sc.DECL, ts, reason="after_success",
                                          compressionStrategy="user_decline"))
                        for line in out:
                            batch[i % n].append(line)
                            self.lines.append(line)
                            i += 1
                    for p, part in enumerate(batch):
                        if part:
                            self.procs[p].stdin.write("\n".join(part) + "\n")
                            self.procs[p].stdin.flush()
                            self.per_partition[p] += len(part)
                tick += self.TICK_S
                time.sleep(max(0.0, tick - time.monotonic()))
        except Exception as exc:  # reported by finish()
            self.error = exc

    def finish(self):
        """Stops producing and waits until kcat has delivered everything."""
        self.stopping.set()
        self.join(10)
        for p in self.procs:
            if p.stdin and not p.stdin.closed:
                p.stdin.close()
        rcs = [p.wait(timeout=60) for p in self.procs]
        for f in self.errs:
            f.close()
        assert self.error is None, self.error
        assert rcs == [0] * len(rcs), [open(f.name).read() for f in self.errs]

    def abandon(self):
        if not self.stopping.is_set():
            try:
                self.finish()
            except Exception:
                pass


def run_args(cfg, brokers, t_in, t_out, group, port=None):
    args = ["--config", str(cfg), "--brokers", brokers, "--input-topic", t_in,
            "--output-topic", t_out, "--group", group]
    if port:
        args += ["--http", "127.0.0.1:%d" % port]
    return args


def compare_with_replay(raws, want, horizon, first_s=None):
    """Checks the published outputs (raw payloads) against the replay.
    Returns (problems, figures): problems lists every difference, as
    text; figures counts what was compared."""
    problems = []
    got = [json.loads(r) for r in raws]
    by_key = {}
    for r, o in zip(raws, got):
        by_key.setdefault(sc.output_key(o), []).append(r)
    differing = {k: v for k, v in by_key.items() if len(set(v)) > 1}
    for k, v in sorted(differing.items()):
        problems.append("repeat of %s not byte-identical: %s" % (k, sorted(set(v))))
    want_in = [w for w in want if w["at_ms"] // 1000 <= horizon]
    want_tr = {w["id"]: w for w in want_in if w["type"] == "rollback_trigger"}
    want_st = {w["at_ms"]: w for w in want_in if w["type"] == "status"}
    got_tr = {}
    for o in got:
        if o["type"] == "rollback_trigger":
            got_tr.setdefault(o["id"], o)
    for k in sorted(set(want_tr) - set(got_tr)):
        problems.append("transition %s of the replay not published" % k)
    for k in sorted(set(want_tr) & set(got_tr)):
        if got_tr[k] != want_tr[k]:
            problems.append("transition %s differs: published %s, replay %s" % (
                k, got_tr[k], want_tr[k]))
    for k in sorted(k for k, o in got_tr.items()
                    if o["at_ms"] // 1000 <= horizon and k not in want_tr):
        problems.append("transition %s published, not in the replay: %s" % (k, got_tr[k]))
    compared = 0
    seen_st = set()
    for o in got:
        if o["type"] != "status" or o["at_ms"] // 1000 > horizon or o["at_ms"] in seen_st:
            continue
        seen_st.add(o["at_ms"])
        if first_s is not None and o["at_ms"] // 1000 < first_s:
            continue
        w = want_st.get(o["at_ms"])
        if w is None:
            problems.append("status at %d not in the replay: %s" % (o["at_ms"], o))
        elif o != w:
            problems.append("status at %d differs: published windows %s firing %s; replay "
                            "windows %s firing %s" % (
                                o["at_ms"],
                                {k: (v["requests"], v["outcomes"]) for k, v in
                                 o["windows"].items()}, o["firing"],
                                {k: (v["requests"], v["outcomes"]) for k, v in
                                 w["windows"].items()}, w["firing"]))
        compared += 1
    # No instant skipped: every replay status from the first one published.
    published_st = [o["at_ms"] for o in got if o["type"] == "status"]
    if published_st:
        lo = min(published_st) if first_s is None else max(first_s * 1000,
                                                           min(published_st))
        for at in sorted(want_st):
            if at >= lo and at not in seen_st:
                problems.append("status at %d of the replay not published" % at)
    figures = {"outputs": len(raws), "distinct": len(by_key),
               "duplicates": len(raws) - len(by_key), "transitions": len(want_tr),
               "statuses_compared": compared,
               "states": sorted({(w["rule"], w["state"]) for w in want_tr.values()})}
    return problems, figures


def burst_states_ok(want):
    states = {(w["rule"], w["state"]) for w in want if w["type"] == "rollback_trigger"}
    return {("error_rate_high", "firing"), ("error_rate_high", "resolved"),
            ("success_rate_low", "firing"), ("success_rate_low", "resolved")} <= states


def wait_published(brokers, t_out, want, horizon, timeout=60):
    """Waits until the output topic holds the replay's transitions and its
    last status up to horizon."""
    want_in = [w for w in want if w["at_ms"] // 1000 <= horizon]
    ids = {w["id"] for w in want_in if w["type"] == "rollback_trigger"}
    st = [w["at_ms"] for w in want_in if w["type"] == "status"]
    last = "status:%d" % max(st) if st else None

    def done():
        keys = {sc.output_key(json.loads(r)) for r in raw_outputs(brokers, t_out)}
        return ids <= keys and (last is None or last in keys)

    return sc.wait_until(done, timeout, step=1)


# ---- a. partitions added mid-run -------------------------------------------------

def test_partitions_added_mid_run_start_over_in_place(tmp_path):
    brokers, env = broker_env()
    t_in, t_out = sc.fresh_name("in-grow"), sc.fresh_name("out-grow")
    sc.create_topic(t_in, 3, env)
    sc.create_topic(t_out, 1, env)
    cfg = write_config(tmp_path)
    group = sc.fresh_name("g")
    port = sc.free_port()
    traffic = Traffic(tmp_path, brokers, t_in, 3, BURST)
    traffic.start()
    run = None
    try:
        assert sc.wait_until(lambda: traffic.start_ms is not None, 10)
        time.sleep(2)
        run = sc.Run(tmp_path, run_args(cfg, brokers, t_in, t_out, group, port))
        pid = run.p.pid
        assert wait_line(run, r"^soakwatch: reading %s \(3 partitions\)" % re.escape(t_in), 30), \
            run.stderr()
        argv = cmdline(pid)  # once soakwatch runs (not the forked child before its exec)
        started = proc_start_ticks(pid)
        # ~20 s of traffic on 3 partitions, the burst's firings among them.
        time.sleep(max(0.0, 20 - traffic.elapsed_s()))
        t_alter = time.monotonic()
        alter_el = traffic.elapsed_s()
        grow_topic(brokers, t_in, 6, env)
        alter_took = time.monotonic() - t_alter
        assert sc.wait_until(lambda: end_offsets(brokers, t_in, 6) is not None, 30), \
            "6 partitions never had leaders"
        traffic.add_partitions(6)
        t_six = time.monotonic()
        six_el = traffic.elapsed_s()
        m = wait_line(run, r"^soakwatch: input topic %s now has 6 partitions \(had 3\); "
                      r"starting over to read them all$" % re.escape(t_in), 20)
        assert m, "no start-over line %.0f s after the topic grew:\n%s" % (
            time.monotonic() - t_alter, run.stderr())
        said_s = time.monotonic() - t_alter
        assert wait_line(run, r"^soakwatch: reading %s \(6 partitions\)" % re.escape(t_in), 20), \
            run.stderr()
        ready_s = time.monotonic() - t_alter
        # In place: the same process (pid, start time, arguments), running.
        assert run.alive(), run.stderr()
        assert cmdline(pid) == argv and proc_start_ticks(pid) == started, (cmdline(pid), argv)
        restart_el = traffic.elapsed_s()
        assert sc.wait_until(lambda: len(lag_partitions(port)) == 6, 20), lag_partitions(port)

        time.sleep(max(0.0, TRAFFIC_S - traffic.elapsed_s()))
        traffic.finish()
        lines = traffic.lines
        path = tmp_path / "traffic.jsonl"
        path.write_text("\n".join(lines) + "\n")
        want = replay(path, cfg)
        assert burst_states_ok(want), [w["id"] for w in want if "id" in w]
        horizon = sc.max_second(lines) - LATENESS_S
        assert wait_published(brokers, t_out, want, horizon), run.stderr()
        ends = end_offsets(brokers, t_in, 6)
        assert sum(ends.values()) == len(lines), (ends, len(lines))
        assert sc.wait_until(lambda: committed(group, t_in, env) == ends, 30, step=0.5), (
            ends, committed(group, t_in, env))
        assert run.alive() and cmdline(pid) == argv, run.stderr()
        late_metric = metric(port, "soakwatch_events_late_total")
        rc, took = run.stop()
        err = run.stderr()
        run = None
        assert rc == 0, err
        line, accepted, late = summary(err)
        raws = raw_outputs(brokers, t_out)
        problems, fig = compare_with_replay(raws, want, horizon)
        restarts = re.findall(r"^soakwatch: reading .*$", err, re.M)
        pub_from = [int(x) for x in re.findall(r"publishing to \S+ from (\d+)$", err, re.M)]
        sys.stderr.write(
            "partitions added: %d events in %.0f s over 3 then 6 partitions (per partition %s); "
            "alter at %.1f s into the traffic (tool took %.1f s), 6 producers from %.1f s; "
            "start-over line %.1f s after the alter, new image reading %.1f s after it (%.1f s "
            "into the traffic), same pid %d; %d start lines %s; outputs %d (%d duplicates), %d "
            "transitions %s, %d statuses compared; differences: %d; committed %s; late metric "
            "%s; stopped in %.1f s\n    %s\n" % (
                len(lines), sc.max_second(lines) - traffic.start_ms // 1000,
                traffic.per_partition, alter_el, alter_took, six_el, said_s, ready_s,
                restart_el, pid, len(restarts), pub_from, fig["outputs"], fig["duplicates"],
                fig["transitions"], fig["states"], fig["statuses_compared"], len(problems),
                ends, late_metric, took, line))
        for p in problems:
            sys.stderr.write("    difference: %s\n" % p)
        assert late == 0, line
        assert accepted == len(lines), (line, len(lines))
        assert not problems, problems
        assert fig["statuses_compared"] >= 4, fig
    finally:
        traffic.abandon()
        if run is not None and run.alive():
            run.stop()


# ---- b. the input topic deleted and created again, same partition count -----------

OLD_S = 5       # seconds of traffic on the old topic (~240 messages a partition)
NEW_S = 35      # ... on the new one (~1700 a partition, after the first block)
FIRST_BLOCK = 2  # the new topic's first messages: this many times what the old held


def first_block(per_partition, partitions, seed=23):
    """Previews all at event time now, as a busy producer sends them the
    moment the topic exists: per_partition messages for each partition
    (dealt in turn, so every partition gets as many)."""
    rng = random.Random(seed)
    now = int(time.time() * 1000)
    lines = []
    while len(lines) < per_partition * partitions:
        lines.append(ev(sc.REQ, now, compressionStrategy="pending", targetMinutes=30))
        lines.append(ev(sc.OK, now, durationMs=rng.randint(80, 900), status=200,
                        compressionStrategy=rng.choice(sc.STRATEGIES),
                        meetsTimeConstraint=rng.random() < 0.9))
    return lines


def test_topic_recreated_same_partitions_reads_the_new_topic_whole(tmp_path):
    brokers, env = broker_env()
    t_in, t_out = sc.fresh_name("in-again"), sc.fresh_name("out-again")
    sc.create_topic(t_in, 3, env)
    sc.create_topic(t_out, 1, env)
    cfg = write_config(tmp_path)
    group = sc.fresh_name("g")
    port = sc.free_port()
    old = Traffic(tmp_path, brokers, t_in, 3, seed=21, name="old")
    new = None
    old.start()
    run = None
    try:
        assert sc.wait_until(lambda: old.start_ms is not None, 10)
        time.sleep(2)
        run = sc.Run(tmp_path, run_args(cfg, brokers, t_in, t_out, group, port))
        pid, started = run.p.pid, proc_start_ticks(run.p.pid)
        time.sleep(max(0.0, OLD_S - old.elapsed_s()))
        old.finish()
        old_ends = end_offsets(brokers, t_in, 3)
        assert sum(old_ends.values()) == len(old.lines), (old_ends, len(old.lines))
        # soakwatch has read the old topic to its end.
        assert sc.wait_until(lambda: metric(port, "soakwatch_messages_total") ==
                             len(old.lines), 20), (metric(port, "soakwatch_messages_total"),
                                                   len(old.lines), run.stderr())
        t_del = time.monotonic()
        delete_topic(brokers, t_in, env)
        assert t_in not in topics(brokers, env)
        sc.create_topic(t_in, 3, env)  # fails if anyone created it again meanwhile
        t_made = time.monotonic()
        t_made_wall_s = int(time.time())
        # At once more messages in each partition than the old one held: the
        # old positions are inside the new topic's range.
        block = first_block(FIRST_BLOCK * max(old_ends.values()), 3)
        sc.produce_lines(brokers, t_in, block, 3)
        block_s = time.monotonic() - t_made
        new = Traffic(tmp_path, brokers, t_in, 3, seed=22, name="new")
        new.start()
        back = wait_line(run, r"^soakwatch: input topic %s is back with 3 partitions; "
                         r"starting over" % re.escape(t_in), 25)
        back_s = time.monotonic() - t_made if back else None
        restarted = wait_line(run, r"^soakwatch: reading %s \(3 partitions\)(.|\n)*"
                              r"^soakwatch: reading %s \(3 partitions\)" % (
                                  re.escape(t_in), re.escape(t_in)), 5 if back else 0)
        err = run.stderr()
        gone = re.search(r"^soakwatch: input topic %s is gone.*$" % re.escape(t_in), err, re.M)
        consumer_errs = re.findall(r"^soakwatch: kafka consumer: .*$", err, re.M)
        resets = re.findall(r"^soakwatch: kafka OFFSET: .*offset reset \(at offset (\d+)",
                            err, re.M)
        read_at_back = metric(port, "soakwatch_messages_total")
        assert run.alive() and proc_start_ticks(pid) == started, err

        time.sleep(max(0.0, NEW_S - new.elapsed_s()))
        new.finish()
        lines = block + new.lines
        per_partition = [len(block) // 3 + n for n in new.per_partition]
        path = tmp_path / "new.jsonl"
        path.write_text("\n".join(lines) + "\n")
        want = replay(path, cfg)
        horizon = sc.max_second(lines) - LATENESS_S
        published = wait_published(brokers, t_out, want, horizon, timeout=30)
        ends = end_offsets(brokers, t_in, 3)
        assert sum(ends.values()) == len(lines), (ends, len(lines))
        committed_all = sc.wait_until(lambda: committed(group, t_in, env) == ends, 30, step=0.5)
        read_end = metric(port, "soakwatch_messages_total")
        rc, took = run.stop()
        err = run.stderr()
        run = None
        line, accepted, late = summary(err)
        pub_from = [int(x) for x in re.findall(r"publishing to \S+ from (\d+)$", err, re.M)]
        raws = raw_outputs(brokers, t_out)
        # A restarted image publishes from pub_from[-1]: from there on its
        # statuses are the replay's of the new topic alone.
        problems, fig = compare_with_replay(raws, want, horizon,
                                            first_s=pub_from[-1] if back else t_made_wall_s)
        sys.stderr.write(
            "topic created again: old topic %d events (ends %s); deleted and created again in "
            "%.1f s; first block of %d events (%d a partition) produced %.1f s after the "
            "creation; %s; %d consumer error lines (%s); offset resets at %s; start-over line: "
            "%s; messages read by then %s; new topic %d events (per partition %s), %s read by "
            "the end; published every transition and the last status: %s; committed to the "
            "ends: %s; publishing from %s; %d statuses compared with the replay of the new "
            "topic, %d differences; exit %d in %.1f s\n    %s\n" % (
                len(old.lines), old_ends, t_made - t_del, len(block), len(block) // 3, block_s,
                "said gone" if gone else "never said gone", len(consumer_errs),
                "; ".join(sorted(set(re.sub(r"^soakwatch: kafka consumer: \S+ \[\d\]: ", "", x)
                                     for x in consumer_errs))), resets,
                "%.1f s after the creation" % back_s if back else "none",
                read_at_back, len(lines), per_partition, read_end, bool(published),
                committed_all, pub_from, fig["statuses_compared"], len(problems), rc, took,
                line))
        for p in problems[:12]:
            sys.stderr.write("    difference: %s\n" % p)
        assert back, "no 'is back ... starting over' line %.0f s after the topic was created " \
            "again; the process accepted %d events: the old topic's %d and %d of the new " \
            "topic's %d (%d skipped):\n%s" % (
                25, accepted, len(old.lines), accepted - len(old.lines), len(lines),
                len(lines) - (accepted - len(old.lines)), err)
        assert restarted, err
        assert rc == 0, err
        assert late == 0, line
        assert accepted == len(lines), (line, len(lines))  # nothing of the new topic skipped
        assert published and committed_all
        assert not problems, problems
        assert fig["statuses_compared"] >= 2, fig
    finally:
        old.abandon()
        if new is not None:
            new.abandon()
        if run is not None and run.alive():
            run.stop()


# ---- c. fewer partitions, then SIGTERM: shutdown is bounded ------------------------

SHUTDOWN_BOUND_S = 16


def test_shutdown_bounded_after_topic_recreated_with_fewer_partitions(tmp_path):
    brokers, env = broker_env()
    t_in, t_out = sc.fresh_name("in-fewer"), sc.fresh_name("out-fewer")
    sc.create_topic(t_in, 3, env)
    sc.create_topic(t_out, 1, env)
    cfg = write_config(tmp_path)
    traffic = Traffic(tmp_path, brokers, t_in, 3, seed=31)
    traffic.start()
    runs = {}
    try:
        assert sc.wait_until(lambda: traffic.start_ms is not None, 10)
        time.sleep(2)
        for name in ("now", "after"):
            runs[name] = sc.Run(tmp_path, run_args(cfg, brokers, t_in, t_out,
                                                   sc.fresh_name("g-" + name)), name=name)
        for r in runs.values():
            assert wait_line(r, r"^soakwatch: reading ", 30), r.stderr()
        time.sleep(max(0.0, 8 - traffic.elapsed_s()))
        traffic.finish()
        time.sleep(1)
        delete_topic(brokers, t_in, env)
        sc.create_topic(t_in, 1, env)
        # One at once, while its consumer still holds the vanished partitions.
        r = runs["now"]
        t0 = time.monotonic()
        r.p.send_signal(signal.SIGTERM)
        rc_now = r.p.wait(timeout=60)
        took_now = time.monotonic() - t0
        r.err.close()
        err_now = r.stderr()
        # The other once it has started over on the 1-partition topic.
        r = runs["after"]
        said = wait_line(r, r"^soakwatch: input topic %s (is back with 1 partitions|now has 1 "
                         r"partitions)" % re.escape(t_in), 30)
        reading = wait_line(r, r"^soakwatch: reading %s \(1 partitions\)" % re.escape(t_in), 30)
        t0 = time.monotonic()
        r.p.send_signal(signal.SIGTERM)
        rc_after = r.p.wait(timeout=60)
        took_after = time.monotonic() - t0
        r.err.close()
        err_after = r.stderr()

        def how(err):
            if "shutdown overdue (15 s)" in err:
                return "watchdog"
            tail = err.strip().splitlines()[-1] if err.strip() else ""
            return "clean" if SUMMARY_RE.match(tail) else "other: %s" % tail

        sys.stderr.write(
            "fewer partitions (3 -> 1): %d events before; SIGTERM at once: exit %d in %.1f s "
            "(%s; started over before it: %s); SIGTERM after the start-over (%s): exit %d in "
            "%.1f s (%s)\n" % (
                len(traffic.lines), rc_now, took_now, how(err_now),
                "yes" if "starting over" in err_now else "no",
                said.group(0) if said else "never said", rc_after, took_after,
                how(err_after)))
        assert rc_now == 0 and took_now <= SHUTDOWN_BOUND_S, (rc_now, took_now, err_now)
        assert said and reading, err_after
        assert rc_after == 0 and took_after <= SHUTDOWN_BOUND_S, (rc_after, took_after,
                                                                 err_after)
    finally:
        traffic.abandon()
        for r in runs.values():
            if r.alive():
                r.p.kill()
                r.p.wait()


# ---- d. start-up against what is not a Kafka broker ---------------------------------

class Silent(threading.Thread):
    """A TCP listener that accepts every connection and never answers."""

    def __init__(self):
        super().__init__(daemon=True)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.conns = []

    def run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)  # held open, never read or written

    def close(self):
        self.sock.close()
        for c in self.conns:
            c.close()


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def startup_runs(tmp_path_factory):
    """Four runs side by side: a silent listener with SIGTERM 1 s after
    start, the same without, an HTTP server, and a closed port. Returns
    {name: (exit status, seconds from start, seconds from SIGTERM or None,
    stderr, address)}."""
    tmp = tmp_path_factory.mktemp("startup")
    silent = Silent()
    silent.start()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    closed = sc.free_port()
    addrs = {"silent-term": "127.0.0.1:%d" % silent.port,
             "silent": "127.0.0.1:%d" % silent.port,
             "http": "127.0.0.1:%d" % httpd.server_address[1],
             "closed": "127.0.0.1:%d" % closed}
    runs, t0 = {}, {}
    try:
        for name, addr in addrs.items():
            t0[name] = time.monotonic()
            runs[name] = sc.Run(tmp, ["--brokers", addr, "--input-topic", "in-startup",
                                      "--output-topic", "out-startup", "--group", "g-startup"],
                                name=name)
        time.sleep(max(0.0, t0["silent-term"] + 1 - time.monotonic()))
        t_term = time.monotonic()
        runs["silent-term"].p.send_signal(signal.SIGTERM)
        res = {}
        for name, r in runs.items():
            try:
                rc = r.p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                r.p.kill()
                rc = "killed after 60 s"
            end = time.monotonic()
            r.err.close()
            res[name] = (rc, end - t0[name], end - t_term if name == "silent-term" else None,
                         r.stderr(), addrs[name])
        for name, (rc, took, after, err, addr) in res.items():
            last = err.strip().splitlines()[-1] if err.strip() else ""
            sys.stderr.write("start-up, %s (%s): exit %s %.1f s after start%s; last line: %s\n"
                             % (name, addr, rc, took,
                                "" if after is None else ", %.1f s after SIGTERM" % after,
                                last))
        return res
    finally:
        for r in runs.values():
            if r.alive():
                r.p.kill()
                r.p.wait()
        silent.close()
        httpd.shutdown()
        httpd.server_close()


def test_sigterm_during_startup_stops_cleanly(startup_runs):
    rc, took, after, err, addr = startup_runs["silent-term"]
    assert rc == 0, (rc, err)
    assert after <= 12, (after, err)
    assert "soakwatch: stopped by a signal during start-up" in err.splitlines(), err


def test_startup_names_a_listener_that_never_answers(startup_runs):
    rc, took, after, err, addr = startup_runs["silent"]
    assert rc not in (0, "killed after 60 s"), (rc, err)
    assert re.search(r"broker %s: it accepts connections but answers no Kafka request" %
                     re.escape(addr), err), err


def test_startup_names_an_http_server(startup_runs):
    rc, took, after, err, addr = startup_runs["http"]
    assert rc not in (0, "killed after 60 s"), (rc, err)
    assert re.search(r"broker %s: it answers like an HTTP server" % re.escape(addr), err), err


def test_startup_names_a_closed_port(startup_runs):
    rc, took, after, err, addr = startup_runs["closed"]
    assert rc not in (0, "killed after 60 s"), (rc, err)
    assert re.search(r"broker %s: cannot connect \(Connection refused\)" % re.escape(addr),
                     err), err


# ---- e. two replicas, one killed mid-burst and started again ------------------------

KILL_AT_S = 12       # into the traffic: the middle of the burst
DOWN_S = 10


def test_two_replicas_one_killed_mid_burst(tmp_path):
    brokers, env = broker_env()
    t_in, t_out = sc.fresh_name("in-two"), sc.fresh_name("out-two")
    sc.create_topic(t_in, 3, env)
    sc.create_topic(t_out, 1, env)
    cfg = write_config(tmp_path)
    groups = {"a": sc.fresh_name("g-a"), "b": sc.fresh_name("g-b")}
    ports = {"a": sc.free_port(), "b": sc.free_port()}
    traffic = Traffic(tmp_path, brokers, t_in, 3, BURST, seed=41)
    traffic.start()
    runs = {}
    b2 = None
    try:
        assert sc.wait_until(lambda: traffic.start_ms is not None, 10)
        time.sleep(2)
        for k in ("a", "b"):
            runs[k] = sc.Run(tmp_path, run_args(cfg, brokers, t_in, t_out, groups[k],
                                                ports[k]), name=k)
        time.sleep(max(0.0, KILL_AT_S - traffic.elapsed_s()))
        kill_el = traffic.elapsed_s()
        before_kill = len(raw_outputs(brokers, t_out))
        runs["b"].p.kill()
        runs["b"].p.wait()
        runs["b"].err.close()
        time.sleep(DOWN_S)
        back_el = traffic.elapsed_s()
        b2 = sc.Run(tmp_path, run_args(cfg, brokers, t_in, t_out, groups["b"], ports["b"]),
                    name="b2")
        assert wait_line(b2, r"^soakwatch: reading ", 30), b2.stderr()

        time.sleep(max(0.0, TRAFFIC_S - traffic.elapsed_s()))
        traffic.finish()
        lines = traffic.lines
        path = tmp_path / "traffic.jsonl"
        path.write_text("\n".join(lines) + "\n")
        want = replay(path, cfg)
        assert burst_states_ok(want), [w["id"] for w in want if "id" in w]
        horizon = sc.max_second(lines) - LATENESS_S
        assert wait_published(brokers, t_out, want, horizon), (runs["a"].stderr(), b2.stderr())
        ends = end_offsets(brokers, t_in, 3)
        for k in ("a", "b"):
            assert sc.wait_until(lambda: committed(groups[k], t_in, env) == ends, 30,
                                 step=0.5), (k, ends, committed(groups[k], t_in, env))
        results = {}
        for k, r in (("a", runs["a"]), ("b2", b2)):
            assert r.alive(), r.stderr()
            rc, took = r.stop()
            results[k] = (rc, took) + summary(r.stderr())
        raws = raw_outputs(brokers, t_out)
        problems, fig = compare_with_replay(raws, want, horizon)
        pub_from = re.findall(r"publishing to \S+ from (\d+)$", b2.stderr(), re.M)
        sys.stderr.write(
            "two replicas: %d events in %.0f s; B killed %.1f s into the traffic (%d outputs "
            "on the topic then), started again at %.1f s, publishing from %s; outputs %d "
            "(%d distinct, %d duplicates), %d transitions %s, %d statuses compared, %d "
            "differences; A: exit %d in %.1f s, %s; B: exit %d in %.1f s, %s\n" % (
                len(lines), sc.max_second(lines) - traffic.start_ms // 1000, kill_el,
                before_kill, back_el, pub_from, fig["outputs"], fig["distinct"],
                fig["duplicates"], fig["transitions"], fig["states"],
                fig["statuses_compared"], len(problems),
                results["a"][0], results["a"][1], results["a"][2],
                results["b2"][0], results["b2"][1], results["b2"][2]))
        for p in problems:
            sys.stderr.write("    difference: %s\n" % p)
        for k, (rc, took, line, accepted, late) in results.items():
            assert rc == 0, (k, line)
            assert late == 0, (k, line)
        assert results["a"][3] == len(lines), (results["a"][2], len(lines))
        assert not problems, problems
        assert fig["duplicates"] > 0, fig  # both replicas published
    finally:
        traffic.abandon()
        for r in list(runs.values()) + ([b2] if b2 else []):
            if r.alive():
                r.stop()
