#!/usr/bin/env python3
"""False alarms and detection delays of comparison rules
(docs/semantics.md section 12, "Comparison rules: `compare`"), simulated.

An A/A run gives the treatment and the control the same error rate and
the same latency distribution and judges a compare rule at every second
of the span, as soakwatch does; the section's promise is that the
fraction of runs with any firing is at most alpha when the span is at
most horizon_s. An A/B run changes the treatment at `change_at` and
reports the detection delay: the first firing instant minus the second
of the change.

The statistics, the condition and the rule's state are reference.py's
own (compare_look, RuleState.judge_compare, RuleState.step); this script
only keeps the per-second sums of each cohort's window, incrementally, so
that a 48-hour run at 100 events a second takes seconds a seed rather than
hours. tests/integration/test_compare.py runs it at a small scale, and
checks it against reference.replay's own windows over a short span.

    bench/compare_aa.py                      full scale: 48 h at 100 events/s,
                                             200 A/A seeds, 20 A/B seeds (error_rate:
                                             about 7 s a seed, half an hour in all,
                                             one core; latency several times that)
    bench/compare_aa.py --hours 2 --rate 20 --seeds 40 --ab-seeds 5
    bench/compare_aa.py --metric latency_mean_ms ...
"""

import argparse
import math
import os
import random
import sys
import time
from collections import Counter, deque

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import reference  # noqa: E402


def make_rule(metric="error_rate", op=">", threshold=0.0, window_s=300, min_samples=20,
              alpha=0.05, horizon_s=172800, **more):
    """A compare rule (treatment v2, control v1) as reference.make_config
    checks and completes it."""
    rule = {"name": "canary", "metric": metric, "op": op, "threshold": threshold,
            "window_s": window_s, "min_samples": min_samples,
            "compare": {"treatment": "v2", "control": "v1", "alpha": alpha,
                        "horizon_s": horizon_s}}
    rule.update(more)
    cfg = reference.make_config({"cohorts": {"field": "gatewayVersion", "values": ["v1", "v2"]},
                                 "rules": [rule]})
    return cfg["rules"][0]


class Traffic:
    """Outcomes second by second: `rate` a second, each of the treatment
    with probability `share`; an error with probability `error`, a duration
    of exp(N(mu, sigma)) ms rounded to `grain_ms`. From second `change_at`
    on, the treatment's error probability is `error_after` and its
    durations are multiplied by `slower`."""

    def __init__(self, seed, rate=20, share=0.10, error=0.05, mu=math.log(300), sigma=0.5,
                 grain_ms=1, change_at=None, error_after=None, slower=1.0):
        self.rng = random.Random(seed)
        self.rate, self.share, self.error = rate, share, error
        self.mu, self.sigma, self.grain = mu, sigma, grain_ms
        self.change_at = change_at
        self.error_after = error if error_after is None else error_after
        self.slower = slower

    def second(self, s, latency):
        """[(cohort, is_error, duration_ms or None)] of second s; durations
        only when latency is wanted."""
        rng = self.rng
        changed = self.change_at is not None and s >= self.change_at
        out = []
        for _ in range(self.rate):
            treated = rng.random() < self.share
            p = self.error_after if treated and changed else self.error
            err = rng.random() < p
            dur = None
            if latency:
                d = math.exp(rng.gauss(self.mu, self.sigma))
                if treated and changed:
                    d *= self.slower
                dur = max(self.grain, round(d / self.grain) * self.grain)
            out.append(("v2" if treated else "v1", err, dur))
        return out


class Side:
    """One cohort's sums over the window, moved a second at a time."""

    def __init__(self):
        self.x = self.n = self.lat_us = 0
        self.hist = Counter()

    def move(self, sec, sign):
        x, n, lat_us, hist = sec
        self.x += sign * x
        self.n += sign * n
        self.lat_us += sign * lat_us
        for b, k in hist.items():
            v = self.hist[b] + sign * k
            if v:
                self.hist[b] = v
            else:
                del self.hist[b]

    def view(self, metric):
        """The side as reference.compare_side gives it (weights 1: samples
        are the counts; the latency samples are the outcomes with a duration)."""
        if metric == "latency_mean_ms":
            value = reference.scalar_metric(metric, {"lat_us": self.lat_us, "lat_n": self.n})
            return {"value": value, "samples": self.n, "hist": self.hist}
        parts = dict(zip(reference.RATE_PARTS[metric], (self.x, self.n)))
        value = reference.scalar_metric(metric, dict(parts, outcomes=self.n))
        return {"value": None if value is None else float(value), "samples": self.n,
                "x": self.x, "n": self.n}


def summarize(events):
    """Per-cohort (x, n, lat_us, hist) of one second's outcomes; x counts
    errors (error_rate's numerator)."""
    acc = {"v1": [0, 0, 0, Counter()], "v2": [0, 0, 0, Counter()]}
    for cohort, err, dur in events:
        a = acc[cohort]
        a[0] += err
        a[1] += 1
        if dur is not None:
            us = reference.duration_us(dur)
            a[2] += us
            a[3][reference.hist_bin(us)] += 1
    return {c: tuple(a) for c, a in acc.items()}


def run(rule, traffic, span_s, keep_events=False, on_look=None):
    """Judge `rule` at every instant T = W .. span_s (t0 = 0, the window at
    T holding seconds T-W .. T-1) over `traffic`. Returns {"firings": [T,
    ...], "resolutions": [T, ...], "looks": instants judged, "p_le": {level:
    looks with p <= level}}, and "events" (every second's events) when
    keep_events. on_look(T, look) is called at every instant."""
    W = rule["window_s"]
    metric = rule["metric"]
    latency = metric == "latency_mean_ms"
    if metric not in ("error_rate", "latency_mean_ms"):
        raise ValueError("the simulation draws errors and durations only")
    state = reference.RuleState(rule, rule["compare"]["treatment"])
    sides = {"v1": Side(), "v2": Side()}
    ring = deque()
    out = {"firings": [], "resolutions": [], "looks": 0, "p_le": Counter(), "events": []}
    levels = (0.05, 0.01)
    for T in range(0, span_s + 1):
        if T >= 1:  # second T-1 enters the window, T-1-W leaves it
            events = traffic.second(T - 1, latency)
            if keep_events:
                out["events"].append(events)
            sums = summarize(events)
            ring.append(sums)
            for c in sides:
                sides[c].move(sums[c], +1)
            if len(ring) > W:
                old = ring.popleft()
                for c in sides:
                    sides[c].move(old[c], -1)
        if T < W:
            continue
        look = reference.compare_look(rule, sides["v2"].view(metric), sides["v1"].view(metric))
        if on_look is not None:
            on_look(T, look)
        out["looks"] += 1
        if look["p_value"] is not None:
            for lv in levels:
                if look["p_value"] <= lv:
                    out["p_le"][lv] += 1
        cond, judged = state.judge_compare(look)
        if state.step(T, cond, judged):
            out["firings" if state.firing else "resolutions"].append(T)
    return out


def aa(seeds, hours, rate, metric, window_s, alpha, share, error, grain_ms, progress=None):
    """A/A runs: (runs with a false firing, looks, p_le, seconds taken)."""
    span = int(hours * 3600)
    rule = make_rule(metric, ">", 0.0, window_s, 20, alpha, span)
    bad, looks, p_le = 0, 0, Counter()
    t = time.time()
    for seed in seeds:
        r = run(rule, Traffic(seed, rate, share, error, grain_ms=grain_ms), span)
        bad += bool(r["firings"])
        looks += r["looks"]
        p_le.update(r["p_le"])
        if progress:
            progress(seed, r)
    return bad, looks, p_le, time.time() - t


def ab(seeds, hours, rate, metric, window_s, alpha, share, error, grain_ms, change_at,
       error_after=None, slower=1.0):
    """A/B runs: [(seed, delay or None, false firings before the change)]."""
    span = int(hours * 3600)
    rule = make_rule(metric, ">", 0.0, window_s, 20, alpha, span)
    res = []
    for seed in seeds:
        tr = Traffic(seed, rate, share, error, grain_ms=grain_ms, change_at=change_at,
                     error_after=error_after, slower=slower)
        r = run(rule, tr, span)
        before = [T for T in r["firings"] if T <= change_at]
        after = [T for T in r["firings"] if T > change_at]
        res.append((seed, after[0] - change_at if after else None, len(before)))
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hours", type=float, default=48)
    ap.add_argument("--rate", type=int, default=100, help="outcomes a second, both cohorts")
    ap.add_argument("--share", type=float, default=0.10, help="the treatment's share")
    ap.add_argument("--error", type=float, default=0.05)
    ap.add_argument("--metric", default="error_rate",
                    choices=["error_rate", "latency_mean_ms"])
    ap.add_argument("--window", type=int, default=300)
    ap.add_argument("--alpha", type=float, default=0.05)
    ap.add_argument("--grain-ms", type=int, default=1, help="durations rounded to this")
    ap.add_argument("--seeds", type=int, default=200, help="A/A runs")
    ap.add_argument("--ab-seeds", type=int, default=20, help="A/B runs")
    ap.add_argument("--error-after", type=float, default=0.15,
                    help="A/B: the treatment's error rate after the change")
    ap.add_argument("--slower", type=float, default=1.2,
                    help="A/B (latency): the treatment's durations multiplied by this")
    a = ap.parse_args(argv)
    span = int(a.hours * 3600)
    print("compare rule: %s > 0, window %d s, min_samples 20, alpha %g over horizon_s %d "
          "(alpha per look %.3g); %d outcomes/s, treatment %.0f%%"
          % (a.metric, a.window, a.alpha, span, a.alpha / span, a.rate, 100 * a.share))

    def progress(seed, r):
        print("  A/A seed %d: %s" % (seed, "FALSE FIRING at %s" % r["firings"]
                                     if r["firings"] else "quiet"), file=sys.stderr)
    bad, looks, p_le, took = aa(range(a.seeds), a.hours, a.rate, a.metric, a.window, a.alpha,
                                a.share, a.error, a.grain_ms, progress)
    print("A/A: %d of %d runs with a false firing (%.3f; the bound is alpha = %g); "
          "%d looks, p <= 0.05 at %.4f of them, p <= 0.01 at %.4f; %.0f s"
          % (bad, a.seeds, bad / a.seeds, a.alpha, looks, p_le[0.05] / looks,
             p_le[0.01] / looks, took))
    change_at = span // 2
    res = ab(range(1000, 1000 + a.ab_seeds), a.hours, a.rate, a.metric, a.window, a.alpha,
             a.share, a.error, a.grain_ms, change_at, a.error_after, a.slower)
    delays = sorted(d for _, d, _ in res if d is not None)
    missed = sum(d is None for _, d, _ in res)
    what = ("error rate %g -> %g" % (a.error, a.error_after) if a.metric == "error_rate"
            else "durations x %g" % a.slower)
    print("A/B (%s at second %d): %d of %d detected, %d missed; delay s: min %s, median %s, "
          "max %s; false firings before the change: %d"
          % (what, change_at, len(delays), len(res), missed,
             delays[0] if delays else "-", delays[len(delays) // 2] if delays else "-",
             delays[-1] if delays else "-", sum(b for _, _, b in res)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
