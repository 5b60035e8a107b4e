"""README.md prints what it says it prints: every `build/soakwatch` command
in a ```sh block that is followed by `# ` lines (its output as shown) is run
from the repository root and its output compared with them.

The shown output: one line per `# ` line; a line `# ...` stands for any
number of lines; a line ending in `...` matches any line that begins with
what comes before the dots. Blank lines of the output are not shown.
stdout is compared, and stderr after it when the shown output quotes
soakwatch's own summary (a line starting `soakwatch:`). Commands write
their files under /tmp, so that the examples leave `git status` clean.
"""
import os
import re
import subprocess

import pytest

ROOT = os.environ.get("SOAKWATCH_SRC") or os.path.join(os.path.dirname(__file__), "..", "..")
BIN = os.environ.get("SOAKWATCH_BIN") or os.path.join(ROOT, "build", "soakwatch")


def examples():
    """(line number, command, shown output lines) of README's sh blocks."""
    lines = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read().split("\n")
    out, in_sh, i = [], False, 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            in_sh = line.strip() == "```sh" if not in_sh else False
            i += 1
            continue
        if in_sh and line.startswith("build/soakwatch"):
            start, cmd = i + 1, line
            while cmd.endswith("\\"):
                i += 1
                cmd = cmd[:-1] + lines[i].strip()
            shown = []
            while i + 1 < len(lines) and lines[i + 1].startswith("#"):
                i += 1
                shown.append(re.sub(r"^# ?", "", lines[i]))
            if shown:
                out.append((start, cmd, shown))
        i += 1
    return out


def matches(shown, actual):
    """Whether actual lines are what shown lines say (see the module doc)."""
    if not shown:
        return not actual
    head, rest = shown[0], shown[1:]
    if head == "...":
        return any(matches(rest, actual[k:]) for k in range(len(actual) + 1))
    if not actual:
        return False
    ok = actual[0].startswith(head[:-3]) if head.endswith("...") else actual[0] == head
    return ok and matches(rest, actual[1:])


CASES = examples()


def test_readme_has_examples_with_output():
    assert len(CASES) >= 5, CASES


@pytest.mark.parametrize("line,cmd,shown", CASES, ids=[f"README.md:{c[0]}" for c in CASES])
def test_readme_example_prints_what_it_shows(line, cmd, shown):
    run = cmd.replace("build/soakwatch", BIN)
    p = subprocess.run(["bash", "-o", "pipefail", "-c", run], cwd=ROOT, capture_output=True,
                       text=True, timeout=300)
    actual = [l for l in p.stdout.split("\n") if l.strip()]
    if any(s.startswith("soakwatch:") for s in shown):
        actual += [l for l in p.stderr.split("\n") if l.strip()]
    assert matches(shown, actual), (
        f"README.md:{line}: {cmd}\nshown:\n  " + "\n  ".join(shown) +
        "\nprinted:\n  " + "\n  ".join(actual) + f"\nexit {p.returncode}")


def test_examples_leave_the_tree_clean():
    for _, cmd, _ in CASES:
        for word in re.findall(r"--output\s+(\S+)|>\s*(\S+)", cmd):
            target = next(w for w in word if w)
            assert target.startswith("/tmp/") or target == "/dev/null", (cmd, target)
