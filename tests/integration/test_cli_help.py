"""`soakwatch COMMAND --help` prints that command's usage on stdout and exits
0; an unknown command still exits 2."""

import os
import subprocess
from pathlib import Path

import pytest

SRC = Path(os.environ.get("SOAKWATCH_SRC", Path(__file__).resolve().parents[2]))
BIN = os.environ.get("SOAKWATCH_BIN", str(SRC / "build" / "soakwatch"))


@pytest.mark.parametrize("cmd,flag", [("replay", "--start"), ("run", "--http"),
                                      ("report", "--soak"), ("check-config", "--input")])
def test_each_command_has_its_own_help(cmd, flag):
    for ask in ("--help", "-h"):
        p = subprocess.run([BIN, cmd, ask], capture_output=True, text=True, timeout=30)
        assert p.returncode == 0, p.stderr
        lines = p.stdout.splitlines()
        assert lines[0].startswith("usage: soakwatch " + cmd + " "), p.stdout
        assert flag in p.stdout
        others = {"replay", "run", "report", "check-config"} - {cmd}
        assert not any(line.startswith("usage: soakwatch " + o + " ") for o in others
                       for line in lines), p.stdout


def test_backtest_help_names_both_inputs():
    p = subprocess.run([BIN, "backtest", "--help"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].startswith("usage: soakwatch backtest --input PATH"), p.stdout
    assert any(line.startswith("usage: soakwatch backtest --brokers LIST --topic T --from TIME")
               for line in lines), p.stdout
    assert "no_go soak verdicts" in p.stdout


def test_help_after_other_options_too():
    p = subprocess.run([BIN, "replay", "--format", "text", "--help"], capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 0 and p.stdout.startswith("usage: soakwatch replay"), p.stderr


def test_unknown_command_is_an_error():
    p = subprocess.run([BIN, "frobnicate", "--help"], capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 2
    assert "unknown command frobnicate" in p.stderr


def test_install_puts_the_executable_under_the_prefix(tmp_path):
    build = Path(BIN).parent
    if not (build / "CMakeCache.txt").exists():
        pytest.skip("not a CMake build directory: %s" % build)
    p = subprocess.run(["cmake", "--install", str(build), "--prefix", str(tmp_path)],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    exe = tmp_path / "bin" / "soakwatch"
    assert exe.exists()
    v = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=30)
    assert v.returncode == 0 and v.stdout.startswith("soakwatch "), v.stdout


def test_a_directory_as_input_is_named_with_its_cause(tmp_path):
    p = subprocess.run([BIN, "replay", "--input", str(tmp_path)], capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 2
    assert str(tmp_path) in p.stderr and "directory" in p.stderr, p.stderr
    p = subprocess.run([BIN, "check-config", str(tmp_path)], capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 2
    assert str(tmp_path) in p.stderr and "directory" in p.stderr.lower(), p.stderr


def test_report_given_raw_telemetry_says_what_it_wants(tmp_path):
    raw = tmp_path / "raw.jsonl"
    raw.write_text('{"event":"stream5.time_crunch_preview_requested","ts":1795161600000}\n' * 3)
    p = subprocess.run([BIN, "report", "--input", str(raw)], capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 2
    assert "holds input telemetry (3 lines" in p.stderr, p.stderr
    assert "soakwatch replay --input FILE --output outputs.jsonl" in p.stderr
    # Neither telemetry nor output events: the plain message.
    other = tmp_path / "other.jsonl"
    other.write_text('{"hello": 1}\n')
    p = subprocess.run([BIN, "report", "--input", str(other)], capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 2
    assert "no status or rollback_trigger events" in p.stderr, p.stderr


@pytest.mark.parametrize("cmd,want", [(["replay"], "soakwatch: reading input events from stdin"),
                                      (["report"], "report: reading soakwatch's output events")])
def test_reading_a_terminal_says_it_waits_for_stdin(cmd, want):
    import pty
    master, slave = pty.openpty()
    try:
        p = subprocess.Popen([BIN] + cmd, stdin=slave, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        os.write(master, b"\x04")  # Ctrl-D: end of input on the terminal
        out, err = p.communicate(timeout=30)
    finally:
        os.close(master)
        os.close(slave)
    assert want in err, err
    assert "Ctrl-D" in err
