"""What the tests of the bundled recordings (examples/*.jsonl.gz) share:
the reference's outputs for a recording and its config, soakwatch's
replay of it, and the check that examples/README.md's command generates
it byte for byte."""
import json
import shlex
import subprocess
import sys

import reference


def reference_outputs(recording, config_path):
    """The reference's output events for the recording, as JSON lines."""
    config = json.loads(config_path.read_text())
    res = reference.replay(reference.split_lines(reference.read_input(str(recording))), config)
    return [reference.dumps(e) for e in res.outputs]


def replay(binary, config_path, recording, timeout=600):
    """soakwatch replay's output lines for the recording."""
    p = subprocess.run([binary, "replay", "--config", str(config_path), "--input",
                        str(recording)], capture_output=True, timeout=timeout)
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    return p.stdout.decode().splitlines()


def events(lines, type_):
    return [e for e in map(json.loads, lines) if e["type"] == type_]


def check_readme_generates(src, heading, recording, tmp_path):
    """The command under `heading` in examples/README.md ("It was made
    with:") writes exactly the bundled recording."""
    readme = (src / "examples" / "README.md").read_text()
    section = readme.split(heading, 1)[1]
    block = section.split("It was made with:", 1)[1].strip().split("\n\n", 1)[0]
    argv = shlex.split(block.replace("\\\n", " "))
    name = "examples/" + recording.name
    assert argv[0] == "scripts/gen-recording.py" and argv[-2:] == ["-o", name]
    out = tmp_path / recording.name
    subprocess.run([sys.executable, str(src / argv[0])] + argv[1:-1] + [str(out)], check=True,
                   timeout=600)
    assert out.read_bytes() == recording.read_bytes()
