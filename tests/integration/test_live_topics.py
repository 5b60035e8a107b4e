# needs: kafka
"""Topics that are missing or vanish under a running soakwatch, and input
that never comes.

1. The output topic is deleted in the middle of a run fed with paced live
   traffic (event time = now, about 150 events/s over 3 partitions, an
   error burst that fires and resolves two rules), and created again 20 s
   later. While it is gone, soakwatch must not create it again (the local
   broker has auto.create.topics.enable=true, so a producer that asks for
   it recreates it), must log the failed delivery and keep the outputs
   for redelivery, and must commit nothing past them. (librdkafka 2.0
   refuses or fails only the first outputs after the deletion; the next
   ones wait in its queue for the topic, so here soakwatch holds its input
   for a second or two only: test 2 holds it for longer.) Once the topic
   is back, outputs flow again, the consumer lag returns to 0 and the
   commits resume, up to the input's end once the traffic stops (while it
   runs they trail it by up to a commit tick, so they are checked to pass
   the end offsets of the moment the topic came back). Over the whole run
   no event is late, every rollback
   transition of the file replay of everything produced is on the output
   topic, every output due after the deletion reaches the new topic, and
   no status there differs from the replay's at the same instant (compared
   up to the watermark of the last event, as in test_live_faults.py: later
   instants are the idle clock's, which a replay does not evaluate).

2. The dead-letter topic does not exist at start. Invalid lines arrive
   among valid ones: their dead letters fail and are produced again (every
   second, refused at once by librdkafka), no offset is committed past
   them meanwhile, and nothing more is read (backpressure). Live events
   produced during 10 s of that (longer than idle_timeout_s +
   allowed_lateness_s) wait in the topic: the idle clock must not move
   past them, or they are late once reading resumes. Once the topic is
   created the dead letters arrive with their soakwatch.reason and
   soakwatch.source headers, every valid event is accepted (none late) and
   the offsets are committed to the input's end.

3. An empty input topic (Kafka) and 4. an open, silent stdin: soakwatch
   watches from when it started (docs/semantics.md section 3, W0), so a
   zero_requests rule on a 60 s window fires 60 s after W0, and the status
   events before that say how much of each partial window was observed
   (observed_s, section 6). Both runs start with the first test of this
   file and are checked by the last two, so that their minute of waiting
   overlaps the other tests.

Every test prints its figures on stderr (pytest -s shows them).
"""
import json
import os
import random
import re
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


# ---- helpers ------------------------------------------------------------------

def broker_env():
    """The broker (SOAKWATCH_KAFKA_BOOTSTRAP, or scripts/kafka-local's, started
    when none runs) and an environment that points kafka-local's client
    commands at it."""
    brokers = ku.bootstrap()
    return brokers, dict(os.environ, KAFKA_LOCAL_BOOTSTRAP=brokers)


def http_get(port, path):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=2) as r:
            return r.status, r.read().decode()
    except OSError as exc:
        return None, str(exc)


def metric(port, name, labels=""):
    """One sample of /metrics (labels: the exact label text, '{rule="x"}'),
    or None."""
    status, body = http_get(port, "/metrics")
    if status != 200:
        return None
    m = re.search(r"^%s%s (\S+)$" % (re.escape(name), re.escape(labels)), body, re.M)
    return float(m.group(1)) if m else None


def consumer_lag(port):
    """{partition: lag} from /metrics ({} when unknown)."""
    status, body = http_get(port, "/metrics")
    if status != 200:
        return {}
    return {int(p): int(v) for p, v in re.findall(
        r'^soakwatch_consumer_lag_messages\{partition="(\d+)"\} (\d+)$', body, re.M)}


def committed(group, topic, env):
    """{partition: committed offset} of group on topic; {} while the group
    has committed nothing (kafka-local's describe-group fails then)."""
    r = subprocess.run([sc.KAFKA_LOCAL, "describe-group", group], capture_output=True,
                       text=True, env=env, timeout=120)
    if r.returncode != 0:
        if "not found" in r.stdout + r.stderr or "does not exist" in r.stdout + r.stderr:
            return {}
        raise RuntimeError("describe-group %s: %s" % (group, r.stderr[-2000:]))
    res = {}
    for line in r.stdout.splitlines():
        f = line.split()
        if len(f) >= 4 and f[0] == group and f[1] == topic and f[3].isdigit():
            res[int(f[2])] = int(f[3])
    return res


def end_offsets(brokers, topic, partitions):
    """{partition: end offset} (kcat -Q with the time OFFSET_END)."""
    args = ["kcat", "-Q", "-b", brokers]
    for p in range(partitions):
        args += ["-t", "%s:%d:-1" % (topic, p)]
    r = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    got = {int(p): int(o) for p, o in re.findall(r"\[(\d+)\] offset (-?\d+)", r.stdout)}
    assert len(got) == partitions, r.stdout
    return got


def topics(brokers, env):
    """The broker's topic names, through the admin client (a metadata
    request naming a topic could create it on this broker)."""
    out = sc.kafka_local("tool", TOPIC_TOOL, "--bootstrap-server", brokers, "--list",
                         env=env, timeout=120)
    return set(out.split())


def delete_topic(brokers, topic, env):
    sc.kafka_local("tool", TOPIC_TOOL, "--bootstrap-server", brokers, "--delete",
                   "--topic", topic, env=env, timeout=120)


def outputs(brokers, topic):
    return [json.loads(m["payload"]) for m in sc.consume_all(brokers, topic)]


def replay(path, cfg):
    r = subprocess.run([sc.BIN, "replay", "--input", str(path), "--config", str(cfg)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return [json.loads(x) for x in r.stdout.splitlines()]


def summary(stderr):
    """The last 'soakwatch:' line of stderr (the summary at exit) and its
    late count."""
    lines = [x for x in stderr.splitlines() if x.startswith("soakwatch:")]
    assert lines, stderr
    m = re.search(r"; (\d+) late;", lines[-1])
    assert m, lines[-1]
    return lines[-1], int(m.group(1))


def ev(name, ts, **kw):
    d = {"event": name, "ts": ts, "planId": "plan-1", "userId": "u-1",
         "source": "gateway-bff"}
    d.update(kw)
    return json.dumps(d, separators=(",", ":"))


class Traffic(threading.Thread):
    """Paced live telemetry: PER_TICK previews (a request and its outcome,
    sometimes a declined) every TICK_S, event time = now, dealt to the
    partitions in turn, each through its own kcat producer. Between
    burst[0] and burst[1] seconds after the first event a share burst[2]
    of the outcomes are internal errors. lines: everything produced, in
    order (event times never go backwards)."""

    TICK_S = 0.1
    PER_TICK = 7

    def __init__(self, tmp_path, brokers, topic, partitions, burst):
        super().__init__(daemon=True)
        self.burst = burst
        self.lines = []
        self.start_ms = None
        self.stopping = threading.Event()
        self.error = None
        self.errs = [open(os.path.join(str(tmp_path), "kcat-%d.err" % p), "w")
                     for p in range(partitions)]
        self.procs = [subprocess.Popen(["kcat", "-P", "-b", brokers, "-t", topic,
                                        "-p", str(p)], stdin=subprocess.PIPE,
                                       stderr=self.errs[p], text=True)
                      for p in range(partitions)]

    def run(self):
        rng = random.Random(11)
        last = 0
        i = 0
        n = len(self.procs)
        tick = time.monotonic()
        try:
            while not self.stopping.is_set():
                ts = max(int(time.time() * 1000), last)
                last = ts
                if self.start_ms is None:
                    self.start_ms = ts
                el = (ts - self.start_ms) / 1000
                err_p = self.burst[2] if self.burst[0] <= el < self.burst[1] else 0.0
                batch = [[] for _ in range(n)]
                for _ in range(self.PER_TICK):
                    out = [ev(sc.REQ, ts, compressionStrategy="pending", targetMinutes=30)]
                    dur = rng.randint(80, 900)
                    if rng.random() < err_p:
                        out.append(ev(sc.FB, ts, durationMs=dur, reason="internal_error",
                                      compressionStrategy="none"))
                    elif rng.random() < 0.02:
                        out.append(ev(sc.FB, ts, durationMs=dur, reason="plan_not_compressible",
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


# ---- 3 and 4: started first, checked last --------------------------------------

ZERO_WINDOW_S = 60
ZERO_CONFIG = {
    "status": {"interval_s": 10, "windows_s": [ZERO_WINDOW_S, 300, 1800]},
    "rules": [{"name": "zero_requests", "metric": "requests", "op": "==", "threshold": 0,
               "window_s": ZERO_WINDOW_S, "min_samples": 0}],
}


class EmptyRuns:
    """soakwatch on an empty Kafka topic and on a silent stdin, side by side,
    with the wall-clock moments at which each showed what the tests
    expect."""

    def __init__(self, tmp_path):
        self.tmp = tmp_path
        self.brokers, self.env = broker_env()
        self.cfg = tmp_path / "zero.json"
        self.cfg.write_text(json.dumps(ZERO_CONFIG))
        self.t_in = sc.fresh_name("in-empty")
        self.t_out = sc.fresh_name("out-empty")
        sc.create_topic(self.t_in, 3, self.env)
        sc.create_topic(self.t_out, 1, self.env)
        self.port = sc.free_port()
        self.stopping = threading.Event()
        self.kafka_firing_s = None   # seconds after start: /metrics says firing
        self.kafka_status_s = None   # ... has a status
        self.stdin_lines = []        # (seconds after start, line)
        self.start_wall_s = int(time.time())
        self.t_start = time.monotonic()
        self.kafka = sc.Run(tmp_path, ["--config", str(self.cfg), "--brokers", self.brokers,
                                       "--input-topic", self.t_in, "--output-topic", self.t_out,
                                       "--group", sc.fresh_name("g"),
                                       "--http", "127.0.0.1:%d" % self.port], name="empty")
        self.stdin_err = open(tmp_path / "stdin.err", "w")
        self.stdin = subprocess.Popen([sc.BIN, "run", "--config", str(self.cfg)],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=self.stdin_err, text=True,
                                      env=dict(os.environ, SOAKWATCH_BROKERS=""))
        self.threads = [threading.Thread(target=self._poll_metrics, daemon=True),
                        threading.Thread(target=self._read_stdout, daemon=True)]
        for t in self.threads:
            t.start()

    def _poll_metrics(self):
        while not self.stopping.is_set():
            el = time.monotonic() - self.t_start
            if self.kafka_status_s is None and \
                    metric(self.port, "soakwatch_status_code") is not None:
                self.kafka_status_s = el
            if self.kafka_firing_s is None and \
                    metric(self.port, "soakwatch_rule_firing", '{rule="zero_requests"}') == 1:
                self.kafka_firing_s = el
            self.stopping.wait(0.5)

    def _read_stdout(self):
        for line in self.stdin.stdout:
            self.stdin_lines.append((time.monotonic() - self.t_start, line.rstrip("\n")))

    def wait_for(self, cond, seconds):
        """Waits until cond() or until seconds after the start."""
        left = seconds - (time.monotonic() - self.t_start)
        return sc.wait_until(cond, max(0.0, left), step=0.5)

    def close(self):
        self.stopping.set()
        if self.kafka.alive():
            self.kafka.stop()
        if self.stdin.poll() is None:
            self.stdin.stdin.close()  # end of input: it evaluates the rest and exits
            try:
                self.stdin.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.stdin.kill()
                self.stdin.wait()
        self.stdin_err.close()


@pytest.fixture(scope="module", autouse=True)
def empty_runs(tmp_path_factory):
    runs = EmptyRuns(tmp_path_factory.mktemp("empty"))
    try:
        yield runs
    finally:
        runs.close()


def check_zero_requests_outputs(got, start_wall_s, where):
    """The outputs of a run that never saw an event: statuses every 10 s
    from W0 + 10 with observed_s on each partial window, and the
    zero_requests firing at W0 + 60. Returns (W0, statuses, firing)."""
    statuses = [o for o in got if o["type"] == "status"]
    triggers = [o for o in got if o["type"] == "rollback_trigger"]
    assert statuses, "%s: no status: %s" % (where, got)
    # W0 as each partial window reports it: T - observed_s.
    w0s = {o["at_ms"] // 1000 - w["observed_s"] for o in statuses
           for w in o["windows"].values() if "observed_s" in w}
    assert len(w0s) == 1, (where, sorted(w0s))
    w0 = w0s.pop()
    assert start_wall_s - 1 <= w0 <= start_wall_s + 15, (where, w0, start_wall_s)
    for o in statuses:
        t = o["at_ms"] // 1000
        assert t % 10 == 0 and t >= w0 + 10, (where, o)
        for key, w in o["windows"].items():
            assert w["requests"] == 0 and w["outcomes"] == 0, (where, o)
            if t - int(key) < w0:
                assert w.get("observed_s") == t - w0, (where, key, o)
            else:
                assert "observed_s" not in w, (where, key, o)
        firing = t >= w0 + ZERO_WINDOW_S
        assert o["firing"] == (["zero_requests"] if firing else []), (where, o)
        assert o["status"] == ("red" if firing else "yellow"), (where, o)
    fired = [o for o in triggers if o["rule"] == "zero_requests" and o["state"] == "firing"]
    assert fired, "%s: no zero_requests firing among %s" % (where, got)
    f = fired[0]
    assert f["at_ms"] == (w0 + ZERO_WINDOW_S) * 1000, (where, f, w0)
    assert f["id"] == "zero_requests:%d" % f["at_ms"], f
    assert (f["value"], f["samples"], f["window_s"], f["action"]) == \
        (0, 0, ZERO_WINDOW_S, "disable_flag"), f
    assert len(triggers) == 1, (where, triggers)  # nothing resolves it
    return w0, statuses, f


# ---- 1. the output topic deleted and created again ------------------------------

LATENESS_S = 5
TRAFFIC_S = 95         # seconds of traffic, at least
BURST = (5, 25, 0.6)   # from, to (seconds into the traffic), share of internal errors
OUTAGE_S = 20
A_CONFIG = {
    "allowed_lateness_s": LATENESS_S,
    "status": {"interval_s": 10, "window_s": 60, "windows_s": [60, 120, 300]},
    "rules": [
        {"name": "error_rate_high", "metric": "error_rate", "op": ">", "threshold": 0.1,
         "window_s": 60, "min_samples": 20},
        {"name": "success_rate_low", "metric": "success_rate", "op": "<", "threshold": 0.9,
         "window_s": 60, "min_samples": 20},
    ],
}


def test_output_topic_deleted_then_recreated(tmp_path):
    brokers, env = broker_env()
    t_in, t_out = sc.fresh_name("in-del"), sc.fresh_name("out-del")
    sc.create_topic(t_in, 3, env)
    sc.create_topic(t_out, 1, env)
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps(A_CONFIG))
    group = sc.fresh_name("g")
    port = sc.free_port()
    traffic = Traffic(tmp_path, brokers, t_in, 3, BURST)
    traffic.start()
    run = None
    try:
        # The first events are in the topic before soakwatch starts, so its
        # coverage starts at the first event's second, as the replay's does.
        assert sc.wait_until(lambda: traffic.start_ms is not None, 10)
        time.sleep(2)
        run = sc.Run(tmp_path, ["--config", str(cfg), "--brokers", brokers,
                                "--input-topic", t_in, "--output-topic", t_out,
                                "--group", group, "--http", "127.0.0.1:%d" % port])
        assert sc.wait_until(lambda: any(o["type"] == "status" for o in outputs(brokers, t_out)),
                             60, step=0.5), run.stderr()
        before = outputs(brokers, t_out)

        delete_topic(brokers, t_out, env)
        t_del = time.monotonic()
        t_del_wall_s = int(time.time())
        assert t_out not in topics(brokers, env)
        # OUTAGE_S seconds: the topic stays gone (nobody creates it again),
        # the failure is logged, and once it is, nothing more is committed.
        absent_checks = 0
        fail_s = None
        committed_after_fail = None  # (seconds after the deletion, offsets)
        consumed = []
        while True:
            el = time.monotonic() - t_del
            if el >= 60 or (el >= OUTAGE_S and committed_after_fail is not None and
                            el >= committed_after_fail[0] + 5):
                break
            names = topics(brokers, env)
            assert t_out not in names, "%s exists again %.1f s after its deletion:\n%s" % (
                t_out, time.monotonic() - t_del, run.stderr())
            absent_checks += 1
            if fail_s is None and "delivery of an output event failed" in run.stderr():
                fail_s = time.monotonic() - t_del
            elif fail_s is not None and committed_after_fail is None and \
                    time.monotonic() - t_del > fail_s + 2:
                committed_after_fail = (time.monotonic() - t_del,
                                        committed(group, t_in, env))
            consumed.append(metric(port, "soakwatch_messages_total"))
            time.sleep(1)
        outage_s = time.monotonic() - t_del
        err = run.stderr()
        assert fail_s is not None, "no failed output delivery logged in %.0f s:\n%s" % (
            outage_s, err)
        fail_lines = [x for x in err.splitlines() if "producing it again" in x]
        assert any(re.search(r"delivery of an output event failed: .+; producing it again", x)
                   for x in fail_lines), fail_lines
        committed_end_outage = committed(group, t_in, env)
        ends_end_outage = end_offsets(brokers, t_in, 3)
        assert committed_after_fail is not None
        # Outputs wait: nothing is committed past them.
        assert committed_end_outage == committed_after_fail[1], (committed_after_fail,
                                                                 committed_end_outage)
        assert sum(committed_end_outage.values()) < sum(ends_end_outage.values())
        assert run.alive(), err
        assert http_get(port, "/healthz")[0] == 200
        assert metric(port, "soakwatch_events_late_total") == 0
        delivery_failures = metric(port, "soakwatch_output_delivery_failures_total")

        sc.create_topic(t_out, 1, env)
        t_back = time.monotonic()
        ends_back = end_offsets(brokers, t_in, 3)
        assert sc.wait_until(lambda: len(outputs(brokers, t_out)) > 0, 60, step=0.5), \
            run.stderr()
        resume_s = time.monotonic() - t_back

        def commits_resumed():
            c = committed(group, t_in, env)
            return all(c.get(p, -1) >= ends_back[p] for p in ends_back)

        assert sc.wait_until(lambda: sum(consumer_lag(port).values()) == 0 and
                             len(consumer_lag(port)) == 3, 30, step=0.2), consumer_lag(port)
        lag0_s = time.monotonic() - t_back
        assert sc.wait_until(commits_resumed, 30, step=0.5), (
            ends_back, committed(group, t_in, env), run.stderr())
        commit_s = time.monotonic() - t_back

        # The rest of the incident, then the last outputs.
        left = TRAFFIC_S - (int(time.time() * 1000) - traffic.start_ms) / 1000
        if left > 0:
            time.sleep(left)
        traffic.finish()
        lines = traffic.lines
        path = tmp_path / "traffic.jsonl"
        path.write_text("\n".join(lines) + "\n")
        want = replay(path, cfg)
        horizon = sc.max_second(lines) - LATENESS_S  # the watermark of the last event
        want_in = [w for w in want if w["at_ms"] // 1000 <= horizon]
        want_tr = {w["id"]: w for w in want_in if w["type"] == "rollback_trigger"}
        want_st = {w["at_ms"]: w for w in want_in if w["type"] == "status"}
        states = {(w["rule"], w["state"]) for w in want_tr.values()}
        assert {("error_rate_high", "firing"), ("error_rate_high", "resolved"),
                ("success_rate_low", "firing"), ("success_rate_low", "resolved")} <= states, \
            sorted(want_tr)
        # Due after the deletion: produced after it, so on the new topic.
        want_after = {sc.output_key(w) for w in want_in if w["at_ms"] // 1000 >= t_del_wall_s}
        last_status = max(want_st)

        def done():
            keys = {sc.output_key(o) for o in outputs(brokers, t_out)}
            return set(want_tr) <= keys and want_after <= keys and \
                "status:%d" % last_status in keys

        assert sc.wait_until(done, 60, step=1), (
            sorted(want_after - {sc.output_key(o) for o in outputs(brokers, t_out)}),
            run.stderr())
        ends = end_offsets(brokers, t_in, 3)
        assert sum(ends.values()) == len(lines)
        assert sc.wait_until(lambda: committed(group, t_in, env) == ends, 30, step=0.5), (
            ends, committed(group, t_in, env))
        assert sc.wait_until(lambda: sum(consumer_lag(port).values()) == 0, 10), \
            consumer_lag(port)
        late_metric = metric(port, "soakwatch_events_late_total")
        rc, took = run.stop()
        err = run.stderr()
        run = None
        assert rc == 0, err
        line, late = summary(err)
        assert late == 0, line
        assert late_metric == 0

        after = outputs(brokers, t_out)
        got = before + after
        got_tr = {}
        for o in got:
            if o["type"] == "rollback_trigger":
                got_tr.setdefault(o["id"], o)
        # Every transition of the replay is published, as the replay has it,
        # and none that the replay does not have (up to the watermark).
        missing = sorted(set(want_tr) - set(got_tr))
        assert not missing, (missing, sorted(got_tr))
        for k, w in want_tr.items():
            assert got_tr[k] == w, (k, got_tr[k], w)
        extra = sorted(k for k, o in got_tr.items()
                       if o["at_ms"] // 1000 <= horizon and k not in want_tr)
        assert not extra, extra
        # No status contradicts the replay's at the same instant.
        compared = 0
        for o in got:
            if o["type"] == "status" and o["at_ms"] // 1000 <= horizon:
                assert o["at_ms"] in want_st, o
                assert o == want_st[o["at_ms"]], (o, want_st[o["at_ms"]])
                compared += 1
        assert compared >= 5, compared
        after_keys = {sc.output_key(o) for o in after}
        assert want_after <= after_keys, sorted(want_after - after_keys)
        union = {sc.output_key(o) for o in got}
        sys.stderr.write(
            "output topic deleted: %d events in %.0f s (%.0f/s) over 3 partitions; topic gone "
            "%.1f s (%d checks, never recreated), failure logged %.1f s after the deletion "
            "(%d 'producing it again' lines, %s delivery failures; messages read during the "
            "outage, per sample: %s); after recreation: outputs %.1f s, lag 0 %.1f s, commits "
            "past the outage backlog %.1f s; %d outputs before the deletion, %d after (%d "
            "duplicates); %d transitions, %d statuses compared with the replay, %d outputs "
            "due after the deletion all on the new topic; 0 late; stopped in %.1f s\n    %s\n" % (
                len(lines), (sc.max_second(lines) - traffic.start_ms // 1000) or 1,
                len(lines) / max(1, sc.max_second(lines) - traffic.start_ms // 1000),
                outage_s, absent_checks, fail_s, len(fail_lines), delivery_failures,
                [int(c) if c is not None else None for c in consumed],
                resume_s, lag0_s, commit_s, len(before), len(after), len(got) - len(union),
                len(want_tr), compared, len(want_after), took, line))
    finally:
        if not traffic.stopping.is_set():
            try:
                traffic.finish()
            except Exception:
                pass
        if run is not None and run.alive():
            run.stop()


# ---- 2. the dead-letter topic missing at start ----------------------------------

HELD_S = 10  # seconds of live input while the dead letters fail (> 5 s idle + 2 s lateness)


def test_missing_dead_letter_topic_waits_then_delivers(tmp_path):
    brokers, env = broker_env()
    t_in, t_out, t_dlt = sc.fresh_name("in-dlt"), sc.fresh_name("out-dlt"), \
        sc.fresh_name("dlt")
    sc.create_topic(t_in, 1, env)
    sc.create_topic(t_out, 1, env)
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"status": {"interval_s": 10}, "rules": []}))
    group = sc.fresh_name("g")
    port = sc.free_port()
    now = int(time.time() * 1000)
    valid = [ev(sc.REQ, now + i) for i in range(20)]
    sc.produce_lines(brokers, t_in, valid, 1)
    run = sc.Run(tmp_path, ["--config", str(cfg), "--brokers", brokers,
                            "--input-topic", t_in, "--output-topic", t_out, "--group", group,
                            "--dead-letter-topic", t_dlt, "--http", "127.0.0.1:%d" % port])
    try:
        # Commits work before any dead letter.
        assert sc.wait_until(lambda: committed(group, t_in, env) == {0: 20}, 30, step=0.5), \
            run.stderr()
        now = int(time.time() * 1000)
        bad = {  # line -> reason
            "not json at all": "invalid_json",
            "[1, 2, 3]": "not_object",
            json.dumps({"event": sc.REQ}): "ts",
            json.dumps({"event": sc.OK, "ts": now}): "duration",
        }
        second = []
        for i, b in enumerate(bad):
            second += [ev(sc.REQ, now + 10 * i + k) for k in range(3)] + [b]
        second += [ev(sc.REQ, now + 100 + k) for k in range(5)]
        first_bad = 20 + min(i for i, x in enumerate(second) if x in bad)
        want_dl = {(x, bad[x], "%s/0/%d" % (t_in, 20 + i)) for i, x in enumerate(second)
                   if x in bad}
        t_bad = time.monotonic()
        sc.produce_lines(brokers, t_in, second, 1)
        total = 20 + len(second)

        def dl_failures():
            return [x for x in run.stderr().splitlines() if "producing it again" in x and
                    ("dead letter" in x or t_dlt in x)]

        assert sc.wait_until(lambda: len(dl_failures()) >= 2, 60, step=0.5), run.stderr()
        fail_s = time.monotonic() - t_bad
        # While the dead letters fail, live events keep arriving, one a
        # second for longer than idle_timeout_s + allowed_lateness_s: they
        # wait unread (backpressure), and the idle clock must not pass them.
        samples = []
        read = []
        live_lines = []
        for k in range(HELD_S):
            line = ev(sc.REQ, int(time.time() * 1000))
            sc.produce_lines(brokers, t_in, [line], 1)
            live_lines.append(line)
            samples.append(committed(group, t_in, env))
            read.append(metric(port, "soakwatch_messages_total"))
            time.sleep(max(0.0, t_bad + fail_s + k + 1 - time.monotonic()))
        for c in samples:  # nothing committed past the failing dead letters
            assert c.get(0, 0) <= first_bad, (samples, first_bad)
        # Nothing read while they wait: the live events stay in the topic.
        assert set(read) == {20 + len(second)}, read
        assert t_dlt not in topics(brokers, env)
        assert run.alive(), run.stderr()
        retries = len(dl_failures())
        total += len(live_lines)

        sc.create_topic(t_dlt, 1, env)
        t_dlt_made = time.monotonic()

        def dead_letters():
            return {(m["payload"], m["headers"].get("soakwatch.reason"),
                     m["headers"].get("soakwatch.source"))
                    for m in sc.consume_all(brokers, t_dlt)}

        assert sc.wait_until(lambda: dead_letters() == want_dl, 30, step=0.5), (
            dead_letters(), want_dl, run.stderr())
        arrive_s = time.monotonic() - t_dlt_made
        assert sc.wait_until(lambda: committed(group, t_in, env) == {0: total}, 30, step=0.5), (
            committed(group, t_in, env), total, run.stderr())
        commit_s = time.monotonic() - t_dlt_made
        msgs = sc.consume_all(brokers, t_dlt)
        dl_total = metric(port, "soakwatch_dead_lettered_total")
        rc, took = run.stop()
        err = run.stderr()
        assert rc == 0, err
        line, late = summary(err)
        assert late == 0, line
        accepted = int(re.search(r"soakwatch: (\d+) accepted;", line).group(1))
        assert accepted == total - len(bad), (line, total, len(bad))
        kinds = sorted({re.sub(r"^soakwatch: (delivery of a dead letter failed|kafka: producing "
                                r"to \S+): ([^;]*);.*", r"\1: \2", x) for x in dl_failures()})
        sys.stderr.write(
            "missing dead-letter topic: %d input lines, %d invalid; dead-letter failure logged "
            "%.1f s after they were produced (%d lines: %s); %d live events produced while it "
            "failed, messages read meanwhile %s, committed meanwhile %s (first invalid offset "
            "%d); after the topic was created: dead letters in %.1f s (%d messages, %d "
            "duplicates, dead_lettered_total %s), offsets committed to %d in %.1f s; 0 late\n"
            "    %s\n" % (
                total, len(bad), fail_s, retries, kinds, len(live_lines), read,
                sorted({c.get(0) for c in samples}, key=str), first_bad, arrive_s,
                len(msgs), len(msgs) - len(want_dl), dl_total, total, commit_s, line))
    finally:
        if run.alive():
            run.stop()


# ---- 3 and 4: the empty topic and the silent stdin --------------------------------

DEADLINE_S = 90


def test_empty_topic_fires_zero_requests(empty_runs):
    r = empty_runs
    r.wait_for(lambda: r.kafka_firing_s is not None, DEADLINE_S)
    time.sleep(1)  # the trigger is on the topic by now
    assert r.kafka.alive(), r.kafka.stderr()
    assert r.kafka_firing_s is not None and r.kafka_firing_s <= DEADLINE_S, (
        r.kafka_firing_s, r.kafka.stderr())
    assert metric(r.port, "soakwatch_rule_firing", '{rule="zero_requests"}') == 1
    got = outputs(r.brokers, r.t_out)
    w0, statuses, fired = check_zero_requests_outputs(got, r.start_wall_s, "kafka")
    assert metric(r.port, "soakwatch_events_total", '{kind="requested"}') in (None, 0)
    sys.stderr.write(
        "empty topic: W0 %+d s from start; first status on /metrics %.1f s, zero_requests "
        "firing on /metrics %.1f s after start (at W0 + %d s); %d statuses, observed_s %s\n" % (
            w0 - r.start_wall_s, r.kafka_status_s, r.kafka_firing_s,
            fired["at_ms"] // 1000 - w0, len(statuses),
            [o["windows"]["1800"]["observed_s"] for o in statuses]))


def test_silent_stdin_fires_zero_requests(empty_runs):
    r = empty_runs
    r.wait_for(lambda: any('"rollback_trigger"' in x for _, x in r.stdin_lines), DEADLINE_S)
    assert r.stdin.poll() is None, open(r.stdin_err.name).read()
    timed = list(r.stdin_lines)
    got = [json.loads(x) for _, x in timed]
    w0, statuses, fired = check_zero_requests_outputs(got, r.start_wall_s, "stdin")
    fired_s = next(t for t, x in timed if '"rollback_trigger"' in x)
    assert fired_s <= DEADLINE_S, fired_s
    first_status_s = next(t for t, x in timed if '"status"' in x)
    sys.stderr.write(
        "silent stdin: W0 %+d s from start; first status on stdout %.1f s, zero_requests "
        "firing %.1f s after start (at W0 + %d s); %d statuses\n" % (
            w0 - r.start_wall_s, first_status_s, fired_s, fired["at_ms"] // 1000 - w0,
            len(statuses)))
