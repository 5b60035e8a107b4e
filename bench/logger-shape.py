#!/usr/bin/env python3
"""Turn bench_gen's flat events (stdin) into the structured logger's lines
(stdout) as the public service writes them: the name in `msg` after
`event=`, the fields under `context.payload`, no duration, no status, each
request logged twice (gateway-bff, then planning-engine), and each outcome
carrying the planId/userId of the oldest request still unanswered, so that
input.correlate pairs them as it would on real traffic."""
import collections
import json
import sys

pending = collections.deque()
serial = 0
out = sys.stdout
for line in sys.stdin:
    d = json.loads(line)
    name, ts = d.pop("event"), d.pop("ts")
    d.pop("status", None)
    d.pop("durationMs", None)
    if name.endswith("_requested"):
        serial += 1
        d["planId"], d["userId"] = "plan-%d" % serial, "u-%d" % (serial * 7919 % 1000003)
        pending.append((d["planId"], d["userId"]))
        sources = ("gateway-bff", "planning-engine")
    else:
        if pending and not name.endswith("_declined"):
            d["planId"], d["userId"] = pending.popleft()
        sources = ("planning-engine",)
    for src in sources:
        d["source"] = src
        doc = {"level": "info", "msg": "event=" + name, "ts": ts, "service": "planning-engine",
               "module": "telemetry", "env": "production",
               "context": {"event": name, "timestamp": ts, "payload": d}}
        out.write(json.dumps(doc, separators=(",", ":")) + "\n")
