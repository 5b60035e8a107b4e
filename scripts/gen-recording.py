#!/usr/bin/env python3
"""Generate a realistic, deterministic recording of Time Crunch preview
telemetry as JSON Lines: the same arguments always give the same bytes.

Traffic follows a daily curve (about 2 to 6 requests per second), ~96%
of previews succeed, latencies are log-normal around 800 ms, events arrive
up to a second out of order, and a few lines are broken the way real
producers break them (unless --clean). Incidents are scripted with
--incident KIND@START+DURATION, START an offset into the recording
("80m", "1h20m", "4800s") or an RFC 3339 time, DURATION an offset:

  error-burst     fallbacks with internal_error / status 500 (~35% of previews)
  latency-spike   every latency ~8x longer
  outage          no events at all
  success-drop    fallbacks for plan_not_compressible (~20%), not errors
  flag-off        the feature flag is off: for the first 10 s the endpoint
                  answers every preview with a quick fallback for
                  feature_not_available, then the callers stop calling it
                  (no requests) until the span ends; previews already in
                  flight when it begins still finish. After a latency-spike
                  or error-burst, it is the rollback that worked.
  canary-errors   the canary version (--versions) fails about half its
                  previews: internal_error fallbacks with status 500; the
                  stable version stays healthy

--versions STABLE,CANARY gives every event of a preview a gatewayVersion:
the canary on --canary-share of the previews (default 0.10), the stable
version on the rest (the cohorts of docs/semantics.md section 12). Without
it no event carries the field, and the same arguments give the same bytes
as before it existed.

--fallback-rate sets the share of previews that fall back for the usual
reasons outside incidents (default 0.035).

Examples:
  gen-recording.py --hours 4 --start 2026-11-20T08:00:00Z \\
      --incident error-burst@1h20m+12m -o incident.jsonl.gz
  gen-recording.py --hours 48.1 --seed 2 --start 2026-11-23T08:00:00Z \\
      --rate 0.5 --fallback-rate 0.006 --incident latency-spike@4h20m+6m \\
      --incident flag-off@4h26m+2m --incident latency-spike@30h10m+15m \\
      -o soak48.jsonl.gz
  gen-recording.py --hours 3 --seed 3 --start 2026-11-27T08:00:00Z --rate 1.5 \\
      --fallback-rate 0.006 --versions v1,v2 --incident canary-errors@1h+40m \\
      --clean -o canary.jsonl.gz
"""

import argparse
import datetime as dt
import gzip
import json
import math
import random
import re
import sys

EVENT = "stream5.time_crunch_preview_"
STRATEGIES = [("core_only", 30), ("core_plus_accessory", 25), ("core_plus_superset", 18),
              ("core_plus_block", 15), ("core_plus_block_and_superset", 12)]
FALLBACK_REASONS = [("plan_not_compressible", 80), ("plan_missing_content", 17),
                    ("internal_error", 3)]
DECLINE_REASONS = ["after_success", "during_loading", "error_state", "modal_closed"]
SOURCES = ["gateway-bff", "planning-engine", "frontend"]
INCIDENTS = ("error-burst", "latency-spike", "outage", "success-drop", "flag-off",
             "canary-errors")
VERSION_FIELD = "gatewayVersion"
CANARY_FAILURE = 0.5  # share of the canary's previews that fail in canary-errors
FLAG_OFF_ANSWERING_MS = 10000  # a flag-off span answers for this long, then nobody calls


def parse_offset(text):
    """Seconds in "90", "90s", "12m", "1h20m", "1h20m30s"."""
    if re.fullmatch(r"[0-9]+", text):
        return int(text)
    m = re.fullmatch(r"(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?", text)
    if not m or not any(m.groups()):
        raise argparse.ArgumentTypeError("not a duration like 90s, 12m or 1h20m: %r" % text)
    h, mi, s = (int(g or 0) for g in m.groups())
    return h * 3600 + mi * 60 + s


def parse_time(text):
    """Epoch milliseconds of an RFC 3339 time."""
    try:
        t = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError("not an RFC 3339 time: %r" % text)
    if t.tzinfo is None:
        raise argparse.ArgumentTypeError("RFC 3339 time needs Z or an offset: %r" % text)
    return round(t.timestamp() * 1000)


def fmt_ts(ms, offset_min=0):
    """RFC 3339 with milliseconds, in UTC ("Z") or at an offset."""
    tz = dt.timezone(dt.timedelta(minutes=offset_min))
    t = dt.datetime.fromtimestamp(ms / 1000, tz=dt.timezone.utc).astimezone(tz)
    text = t.strftime("%Y-%m-%dT%H:%M:%S") + ".%03d" % (ms % 1000)
    return text + ("Z" if offset_min == 0 else t.strftime("%z")[:3] + ":" + t.strftime("%z")[3:])


def pick(rng, weighted):
    total = sum(w for _, w in weighted)
    x = rng.uniform(0, total)
    for name, w in weighted:
        x -= w
        if x <= 0:
            return name
    return weighted[-1][0]


class Generator:
    def __init__(self, args):
        self.rng = random.Random(args.seed)
        self.start_ms = args.start
        self.end_ms = args.start + round(args.hours * 3600 * 1000)
        self.rate = args.rate
        self.fallback_rate = args.fallback_rate
        self.versions = args.versions  # (stable, canary) or None
        self.canary_share = args.canary_share
        self.incidents = []
        for kind, at, length in args.incident:
            begin = at if at >= 10 ** 11 else self.start_ms + at * 1000
            self.incidents.append((kind, begin, begin + length * 1000))

    def active(self, kind, ms):
        return any(k == kind and b <= ms < e for k, b, e in self.incidents)

    def silent(self, ms):
        """No request is made at ms: the flag has been off long enough that
        the callers stopped calling."""
        return any(k == "flag-off" and b + FLAG_OFF_ANSWERING_MS <= ms < e
                   for k, b, e in self.incidents)

    def rate_at(self, ms):
        """Requests per second: a daily curve, 2/s at 02:00 UTC, 6/s at 14:00."""
        day = (ms / 1000.0) % 86400
        return self.rate * (1 + 0.5 * math.sin(2 * math.pi * (day - 8 * 3600) / 86400))

    def poisson(self, lam):
        # Knuth's method: lam is small here.
        limit, k, p = math.exp(-lam), 0, 1.0
        while True:
            p *= self.rng.random()
            if p <= limit:
                return k
            k += 1

    def payload(self):
        rng = self.rng
        return {
            "planId": "plan-%05d" % rng.randrange(1500),
            "userId": "user-%05d" % rng.randrange(6000),
            "targetMinutes": rng.choice([15, 20, 25, 30, 40, 45, 60, 75, 90, 120, 150, 180]),
            "source": rng.choice(SOURCES),
        }

    def preview(self, t_ms):
        """The events of one preview request made at t_ms: (ts_ms, fields)."""
        rng = self.rng
        base = self.payload()
        canary = False
        if self.versions:  # drawn only then: recordings without versions keep their bytes
            canary = rng.random() < self.canary_share
            base[VERSION_FIELD] = self.versions[1] if canary else self.versions[0]
        out = [(t_ms, dict(base, event=EVENT + "requested", compressionStrategy="pending"))]
        latency = rng.lognormvariate(math.log(800), 0.45)
        if self.active("latency-spike", t_ms):
            latency *= 8
        done = t_ms + int(latency)
        duration = round(latency) if rng.random() < 0.7 else round(latency, 1)
        u = rng.random()
        burst = 0.35 if self.active("error-burst", t_ms) else 0.0
        if canary and self.active("canary-errors", t_ms):
            burst = CANARY_FAILURE
        drop = 0.20 if self.active("success-drop", t_ms) else 0.0
        if u < burst:
            ev = dict(base, event=EVENT + "fallback", compressionStrategy="none",
                      reason="internal_error", durationMs=duration, status=500)
        elif u < burst + drop:
            ev = dict(base, event=EVENT + "fallback", compressionStrategy="none",
                      reason="plan_not_compressible", durationMs=duration, status=422)
        elif u < burst + drop + self.fallback_rate:
            reason = pick(rng, FALLBACK_REASONS)
            ev = dict(base, event=EVENT + "fallback", compressionStrategy="none",
                      reason=reason, durationMs=duration)
            if rng.random() < 0.8:
                ev["status"] = 500 if reason == "internal_error" else 422
        else:
            ev = dict(base, event=EVENT + "succeeded", compressionStrategy=pick(rng, STRATEGIES),
                      durationMs=duration, meetsTimeConstraint=rng.random() < 0.9)
            if rng.random() < 0.8:
                ev["status"] = 200
        if self.active("flag-off", t_ms):
            # the flag is off: the endpoint answers at once, without a plan
            latency = rng.lognormvariate(math.log(40), 0.3)
            done = t_ms + int(latency)
            ev = dict(base, event=EVENT + "fallback", compressionStrategy="none",
                      reason="feature_not_available", durationMs=round(latency))
        out.append((done, ev))
        if rng.random() < 0.04:
            after = "after_success" if ev["event"].endswith("succeeded") else "error_state"
            reason = after if rng.random() < 0.6 else rng.choice(DECLINE_REASONS)
            out.append((done + rng.randrange(500, 20000),
                        dict(base, event=EVENT + "declined", compressionStrategy="user_decline",
                             reason=reason)))
        return out

    def events(self):
        """Every event of the recording, in arrival order: by time, each
        shifted by up to a second of jitter."""
        rng = self.rng
        timed = []
        for sec_ms in range(self.start_ms, self.end_ms, 1000):
            for _ in range(self.poisson(self.rate_at(sec_ms))):
                t_ms = sec_ms + rng.randrange(1000)
                if not self.silent(t_ms):
                    timed.extend(self.preview(t_ms))
        timed = [(t, e) for t, e in timed if t < self.end_ms and not self.active("outage", t)]
        keyed = [(t + rng.randrange(1000), i, t, e) for i, (t, e) in enumerate(timed)]
        keyed.sort()
        return [(t, e) for _, _, t, e in keyed]

    def line(self, t_ms, ev):
        """One JSON line; the time mostly as RFC 3339 text, sometimes epoch ms."""
        rng = self.rng
        u = rng.random()
        if u < 0.15:
            ts = t_ms
        elif u < 0.2:
            ts = fmt_ts(t_ms, 60)
        else:
            ts = fmt_ts(t_ms)
        doc = {"event": ev["event"], "ts": ts}
        doc.update((k, v) for k, v in ev.items() if k != "event")
        return json.dumps(doc, separators=(",", ":"))

    def noise(self, lines, times):
        """Break a few lines the way producers do; returns the new list."""
        rng = self.rng
        n = len(lines)
        if n < 100:
            return lines
        out = list(lines)

        def spot():
            return rng.randrange(n // 10, n - n // 10)

        for _ in range(3):  # cut off mid-write: not JSON
            i = spot()
            out[i] = out[i][: len(out[i]) // 2]
        for _ in range(2):  # an outcome without durationMs
            i = spot()
            while '"durationMs"' not in out[i]:
                i += 1
            doc = json.loads(out[i])
            del doc["durationMs"]
            out[i] = json.dumps(doc, separators=(",", ":"))
        for bad in ("500", 700):  # a status that is no HTTP status
            i = spot()
            doc = json.loads(out[i])
            doc["status"] = bad
            out[i] = json.dumps(doc, separators=(",", ":"))
        for _ in range(4):  # an event soakwatch does not watch
            i = spot()
            out.insert(i, json.dumps({"event": "stream5.time_crunch_preview_opened",
                                      "ts": fmt_ts(times[i]), "source": "frontend"},
                                     separators=(",", ":")))
            times.insert(i, times[i])
        i = spot()  # a late event: 10 s behind the stream
        out.insert(i, json.dumps({"event": EVENT + "requested", "ts": times[i] - 10000,
                                  "compressionStrategy": "pending", "source": "frontend"},
                                 separators=(",", ":")))
        times.insert(i, times[i])
        i = spot()  # a producer with a clock decades ahead
        out.insert(i, json.dumps({"event": EVENT + "requested", "ts": "2099-01-01T00:00:00.000Z",
                                  "compressionStrategy": "pending", "source": "gateway-bff"},
                                 separators=(",", ":")))
        times.insert(i, times[i])
        return out


def incident_arg(text):
    m = re.fullmatch(r"([a-z-]+)@(.+)\+([0-9hms]+)", text)
    if not m or m.group(1) not in INCIDENTS:
        raise argparse.ArgumentTypeError(
            "expected KIND@START+DURATION, KIND one of %s: %r" % (", ".join(INCIDENTS), text))
    start = m.group(2)
    at = parse_time(start) if "T" in start or "t" in start else parse_offset(start)
    return m.group(1), at, parse_offset(m.group(3))


def versions_arg(text):
    parts = text.split(",")
    if len(parts) != 2 or not all(re.fullmatch(r"[A-Za-z0-9_.-]{1,63}", p) for p in parts) \
            or parts[0] == parts[1]:
        raise argparse.ArgumentTypeError("expected STABLE,CANARY (two versions): %r" % text)
    return tuple(parts)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--hours", type=float, default=1.0, help="length of the recording")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--start", type=parse_time, default=parse_time("2026-11-20T08:00:00Z"),
                    help="RFC 3339 time of the first second (default 2026-11-20T08:00:00Z)")
    ap.add_argument("--rate", type=float, default=4.0,
                    help="mean requests per second of the daily curve (default 4)")
    ap.add_argument("--fallback-rate", type=float, default=0.035,
                    help="share of previews that fall back outside incidents (default 0.035)")
    ap.add_argument("--incident", type=incident_arg, action="append", default=[])
    ap.add_argument("--versions", type=versions_arg, default=None,
                    help="STABLE,CANARY: each preview's %s (default: none)" % VERSION_FIELD)
    ap.add_argument("--canary-share", type=float, default=0.10,
                    help="share of previews on the canary version (default 0.10)")
    ap.add_argument("--clean", action="store_true", help="no malformed or stray lines")
    ap.add_argument("-o", "--output", default="-", help="file (gzip when it ends in .gz)")
    args = ap.parse_args(argv)
    if args.hours <= 0 or args.rate <= 0:
        ap.error("--hours and --rate must be positive")
    if not 0 <= args.fallback_rate <= 1:
        ap.error("--fallback-rate must be between 0 and 1")
    if not 0 <= args.canary_share <= 1:
        ap.error("--canary-share must be between 0 and 1")
    if any(k == "canary-errors" for k, _, _ in args.incident) and not args.versions:
        ap.error("a canary-errors incident needs --versions")

    gen = Generator(args)
    timed = gen.events()
    lines = [gen.line(t, e) for t, e in timed]
    if not args.clean:
        lines = gen.noise(lines, [t for t, _ in timed])
    data = ("\n".join(lines) + "\n").encode() if lines else b""
    if args.output == "-":
        sys.stdout.buffer.write(data)
    elif args.output.endswith(".gz"):
        # mtime 0 and no file name: the same arguments give the same bytes
        with open(args.output, "wb") as raw:
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as f:
                f.write(data)
    else:
        with open(args.output, "wb") as f:
            f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
