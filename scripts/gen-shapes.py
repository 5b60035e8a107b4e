#!/usr/bin/env python3
"""Write examples/shapes/: for each input shape of docs/semantics.md
section 9, a 20-minute recording (gzip JSON Lines) with an error burst that
fires error_rate_high, its config, and a README saying how to replay them.
The same arguments always give the same bytes.

Usage: gen-shapes.py [--out DIR] [--seed N]
"""

import argparse
import gzip
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "integration"))
import shapes  # noqa: E402

MINUTES = 20
RATE = 1.0          # previews per second (the sampled shape: 5, one in ten kept)
ERROR_BURST = (8, 5)

WHAT = {
    "flat": "Section 1's flat events (`event`, `ts`, `durationMs`, `status`): no `input` "
            "section needed. The planning engine's requests only, durations as the logger "
            "shape's correlation derives them.",
    "logger": "The planning engine's structured logger as it writes today: the event name "
              "in `msg` after `event=`, fields under `context.payload`, no duration and no "
              "status. Requests are logged twice (gateway-bff and planning-engine); the "
              "filter keeps the planning engine's, and correlation by planId and userId "
              "derives each latency.",
    "token": "The same logger with a logfmt-minded `msg` (`telemetry event=NAME "
             "source=SOURCE`): the event name is read with `token`.",
    "filebeat": "The logger lines as filebeat ships them: each one a string in the "
                "`message` field of a record with `@timestamp`, `host`, `agent`, `log`.",
    "fluentbit": "The logger lines as Fluent Bit's tail input ships them: the string in "
                 "`log`, with its newline, next to `kubernetes` metadata.",
    "syslog": "The logger lines behind an RFC 3164 syslog header "
              "(`<14>Dec  1 19:58:16 host planning-engine[4711]: `).",
    "otlp": "OpenTelemetry OTLP/JSON log exports, 1 to 24 records a message: each "
            "record's body `stringValue` is a logger line, `timeUnixNano` a string.",
    "sampled": "The logger shape with one preview in ten kept (at five times the traffic), "
               "each line carrying `context.sampleRate: 10`, read as its weight.",
}


def readme(names):
    out = ["# Input shapes", "",
           "Short recordings of the same kind of Time Crunch preview traffic in every input "
           "shape soakwatch reads (docs/semantics.md, section 9), each with the config that "
           "reads it. Every recording is %d minutes of previews with an error burst "
           "(preview_failed in about a third of previews, minutes %d to %d) that fires "
           "`error_rate_high`, and a few lines that are not telemetry (ignored)."
           % (MINUTES, ERROR_BURST[0], ERROR_BURST[0] + ERROR_BURST[1]), "",
           "| shape | recording | config | what it is |", "|---|---|---|---|"]
    for name in names:
        out.append("| %s | `%s.jsonl.gz` | `%s.config.json` | %s |" % (name, name, name,
                                                                      WHAT[name]))
    out += ["", "Replay one (any other shape: change both names):", "", "```",
            "build/soakwatch replay --input examples/shapes/logger.jsonl.gz \\",
            "    --config examples/shapes/logger.config.json --format text", "```", "",
            "The flat config is `{}`: the defaults read section 1's flat events.", "",
            "Regenerate with `scripts/gen-shapes.py` (deterministic: the same bytes every "
            "time); the shapes come from `tests/integration/shapes.py`.", ""]
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(ROOT / "examples" / "shapes"))
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args(argv)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    for name in shapes.SHAPES:
        lines = shapes.stream(name, seed=a.seed, minutes=MINUTES, rate=RATE,
                              error_burst=ERROR_BURST)
        data = b"".join(line + b"\n" for line in lines)
        # mtime 0: the same bytes on every run
        (out / ("%s.jsonl.gz" % name)).write_bytes(gzip.compress(data, 9, mtime=0))
        cfg = shapes.config(name) or {}
        (out / ("%s.config.json" % name)).write_text(json.dumps(cfg, indent=2) + "\n")
    (out / "README.md").write_text(readme(shapes.SHAPES))
    return 0


if __name__ == "__main__":
    sys.exit(main())
