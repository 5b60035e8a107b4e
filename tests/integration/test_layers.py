"""The include graph shows the layers: no include runs from a lower layer
back up to a higher one, and the parts of the live program never include
each other (their driver hands things from one to the next).

Layers, bottom up:
  windows/                      the pure window library
  processor/*.c|h               mechanisms: decoder, engine, merge, kafka, ...
  processor/backtest/           the backtest command (sweep, scores), on the replay
  processor/report/             the report (model, renderers, command)
  processor/live/ parts         outbox, sink, commit, history, control_in, source, alerts
  processor/live/loop, stages   the loop and the output stages the drivers share
  processor/live/ drivers       run_kafka, run_stdin, kafka_replay
  processor/main.c              wiring
"""
import os
import re

ROOT = os.environ.get("SOAKWATCH_SRC") or os.path.join(os.path.dirname(__file__), "..", "..")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
PARTS = {"outbox", "sink", "commit", "history", "control_in", "source", "alerts", "recent",
         "parts"}
DRIVERS = {"run_kafka", "run_stdin", "kafka_replay", "live"}


def layer(rel):
    """(rank, name) of a source file by its path relative to the root."""
    stem = os.path.splitext(os.path.basename(rel))[0]
    if rel.startswith("windows/"):
        return 0, "windows"
    if rel.startswith("processor/report/"):
        return 2, "report"
    if rel.startswith("processor/live/"):
        if stem in PARTS:
            return 3, "live part"
        if stem in ("loop", "stages"):
            return 4, "live loop"
        return 5, "live driver"
    if rel == "processor/main.c":
        return 6, "main"
    return 1, "mechanism"


def sources():
    for top in ("windows", "processor"):
        for dirpath, _, files in os.walk(os.path.join(ROOT, top)):
            for f in files:
                if f.endswith((".c", ".h")):
                    path = os.path.join(dirpath, f)
                    yield os.path.relpath(path, ROOT), path


def edges():
    for rel, path in sources():
        text = open(path, encoding="utf-8").read()
        for inc in INCLUDE.findall(text):
            target = os.path.normpath(os.path.join(os.path.dirname(path), inc))
            if not os.path.exists(target):
                # include path: processor/ and windows/ are on it
                for base in ("processor", "windows"):
                    cand = os.path.join(ROOT, base, inc)
                    if os.path.exists(cand):
                        target = cand
                        break
                else:
                    continue  # a system header
            yield rel, os.path.relpath(target, ROOT)


def test_every_layer_is_populated():
    ranks = {layer(rel)[1] for rel, _ in sources()}
    assert ranks == {"windows", "mechanism", "report", "live part", "live loop",
                     "live driver", "main"}


def test_no_include_runs_upward():
    up = []
    for src, dst in edges():
        (rs, ns), (rd, nd) = layer(src), layer(dst)
        if rd > rs:
            up.append(f"{src} ({ns}) includes {dst} ({nd})")
    assert not up, "\n".join(up)


def test_live_parts_do_not_include_each_other():
    # A part may use the shared types (parts.h, commit.h's state) and the
    # sink its own outbox; nothing else of another part.
    allowed = {("sink", "outbox"), ("source", "commit")}
    sideways = []
    for src, dst in edges():
        if layer(src)[1] != "live part" or layer(dst)[1] != "live part":
            continue
        s = os.path.splitext(os.path.basename(src))[0]
        d = os.path.splitext(os.path.basename(dst))[0]
        if s == d or d == "parts" or (s, d) in allowed:
            continue
        sideways.append(f"{src} includes {dst}")
    assert not sideways, "\n".join(sideways)


def test_drivers_do_not_include_each_other():
    found = []
    for src, dst in edges():
        s = os.path.splitext(os.path.basename(src))[0]
        d = os.path.splitext(os.path.basename(dst))[0]
        if layer(src)[1] == "live driver" and layer(dst)[1] == "live driver" and d != "live" and s != d:
            found.append(f"{src} includes {dst}")
    assert not found, "\n".join(found)


def test_only_kafka_c_includes_rdkafka():
    users = [rel for rel, path in sources()
             if re.search(r'#\s*include\s+<librdkafka/', open(path, encoding="utf-8").read())]
    assert users == ["processor/kafka.c"], users


def test_every_file_says_what_it_is_for():
    missing = []
    for rel, path in sources():
        head = open(path, encoding="utf-8").read(400).lstrip()
        if not head.startswith("/*"):
            missing.append(rel)
    assert not missing, "files without a leading comment: " + ", ".join(missing)
