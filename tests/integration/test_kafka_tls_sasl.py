# needs: kafka
"""soakwatch through the broker's SASL_SSL listener (TLS + SASL), configured
only by kafka.properties, as docs/operations.md "TLS and SASL" describes.

scripts/kafka-local runs that listener beside the PLAINTEXT one: a CA and a
broker certificate made at start, and one user with one password, by
SCRAM-SHA-512 or PLAIN (`scripts/kafka-local sasl` prints them). Input is
produced and output read back through PLAINTEXT; soakwatch itself talks
SASL_SSL only, consumer and producer alike.

- run: what it publishes equals the file replay of the same events (the
  method of test_live_scenarios.py), and the password never reaches stderr;
- replay --brokers --topic equals the file replay;
- a wrong password, or a CA that did not sign the broker's certificate:
  soakwatch exits non-zero within 20 s, and stderr names the broker and
  the cause;
- SCRAM-SHA-512: the broker side works (a Java client gets in); librdkafka
  before 2.6.1 (Debian bookworm: 2.0.2) cannot log in by SCRAM to a Kafka 4
  broker (it appends its nonce twice: librdkafka PR 4895), so with such a
  librdkafka the test checks that soakwatch says so clearly, and from 2.6.1
  on that soakwatch runs.
"""
import json
import os
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kafka_util as ku  # noqa: E402
import scenarios as sc  # noqa: E402

pytestmark = pytest.mark.skipif(not sc.have_kcat(), reason="kcat not installed")

FAIL_WITHIN_S = 20


@pytest.fixture(scope="module")
def brokers():
    return ku.bootstrap()


@pytest.fixture(scope="module")
def listener(brokers):
    return ku.sasl_ssl()


def write_config(tmp_path, listener, name="sasl", **kw):
    path = tmp_path / (name + ".config.json")
    path.write_text(json.dumps({"kafka": {"brokers": listener.bootstrap,
                                          "properties": ku.sasl_properties(listener, **kw)}}))
    return str(path)


def other_ca(tmp_path):
    """A CA certificate that did not sign the broker's."""
    key, pem = tmp_path / "other-ca.key", tmp_path / "other-ca.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=not the kafka-local CA", "-keyout", str(key),
                    "-out", str(pem)], check=True, capture_output=True, timeout=60)
    return str(pem)


def setup_scenario(brokers, tmp_path, name):
    """Like test_live_scenarios.py: events ending a few seconds before now on
    a fresh 3-partition topic, and a status "published earlier" on a fresh
    output topic, so that soakwatch publishes every instant of the scenario."""
    span = sc.span_ms(name)
    start = (int(time.time() * 1000) - span - 15000) // 1000 * 1000
    lines = sc.SCENARIOS[name](start)
    path = tmp_path / (name + ".jsonl")
    path.write_text("\n".join(lines) + "\n")
    t_in, t_out = sc.fresh_name("tls-in-" + name), sc.fresh_name("tls-out-" + name)
    sc.create_topic(t_in, 3)
    sc.create_topic(t_out, 1)
    sc.produce_lines(brokers, t_in, lines, 3)
    sc.produce_lines(brokers, t_out, [sc.status_marker(start - 60000)], 1)
    return lines, str(path), t_in, t_out, start


def run_until_exit(args, timeout=FAIL_WITHIN_S + 30):
    """soakwatch ARGS, expected to give up: (exit status, seconds, stderr)."""
    t0 = time.monotonic()
    proc = subprocess.run([sc.BIN, *args], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, timeout=timeout)
    return proc.returncode, time.monotonic() - t0, proc.stderr


def lines_naming(stderr, broker, *words):
    """The lines of stderr that name broker (host:port) and every word
    (case-insensitive)."""
    return [x for x in stderr.splitlines()
            if broker in x and all(w.lower() in x.lower() for w in words)]


def live_args(listener, config, t_in, t_out):
    return ["--config", config, "--brokers", listener.bootstrap, "--input-topic", t_in,
            "--output-topic", t_out, "--group", sc.fresh_name("g-tls")]


def test_run_through_sasl_ssl_equals_file_replay(brokers, listener, tmp_path):
    lines, path, t_in, t_out, _ = setup_scenario(brokers, tmp_path, "error_burst")
    want = sc.file_replay(path)
    last = sc.max_second(lines)
    assert any('"rollback_trigger"' in w for w in want), "scenario fires nothing"
    config = write_config(tmp_path, listener)
    group = sc.fresh_name("g-tls")
    # The brokers come from the config file alone.
    run = sc.Run(tmp_path, ["--config", config, "--input-topic", t_in, "--output-topic", t_out,
                            "--group", group])

    def published():
        msgs = sc.consume_all(brokers, t_out)[1:]  # the marker first
        return [m["payload"] for m in msgs
                if json.loads(m["payload"])["at_ms"] // 1000 <= last + 1]

    got = sc.wait_until(lambda: len(published()) >= len(want) and published(), 90)
    assert run.alive(), run.stderr()
    time.sleep(1)
    got = published()
    rc, took = run.stop()
    err = run.stderr()
    assert rc == 0, err
    assert took < 10
    assert got == want
    assert any('"firing"' in g for g in got)
    assert listener.password not in err
    # Everything read was committed, through the same listener.
    ends = {}
    for m in sc.consume_all(brokers, t_in):
        ends[m["partition"]] = max(ends.get(m["partition"], 0), m["offset"] + 1)
    assert sc.committed_offsets(group, t_in) == ends


def test_replay_of_a_topic_through_sasl_ssl(brokers, listener, tmp_path):
    _, path, t_in, _, start = setup_scenario(brokers, tmp_path, "latency_spike")
    want = sc.file_replay(path)
    config = write_config(tmp_path, listener)
    r = subprocess.run([sc.BIN, "replay", "--config", config, "--brokers", listener.bootstrap,
                        "--topic", t_in, "--from", str(start)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert listener.password not in r.stderr
    assert r.stdout.splitlines() == want
    assert any('"latency_high"' in x and '"firing"' in x for x in want)


def test_wrong_password_fails_naming_broker_and_cause(brokers, listener, tmp_path):
    t_in = sc.fresh_name("tls-pw-in")
    sc.create_topic(t_in, 1)
    config = write_config(tmp_path, listener, name="wrong", password="not-the-password")
    rc, took, err = run_until_exit(["run", *live_args(listener, config, t_in,
                                                      sc.fresh_name("tls-pw-out"))])
    assert rc != 0, err
    assert took < FAIL_WITHIN_S, (took, err)
    assert lines_naming(err, listener.bootstrap, "authentication failed"), err
    assert "not-the-password" not in err and listener.password not in err


def test_untrusted_certificate_fails_naming_broker_and_cause(brokers, listener, tmp_path):
    config = write_config(tmp_path, listener, name="otherca", ca=other_ca(tmp_path))
    rc, took, err = run_until_exit(["run", *live_args(listener, config, "tls-ca-in",
                                                      "tls-ca-out")])
    assert rc != 0, err
    assert took < FAIL_WITHIN_S, (took, err)
    assert lines_naming(err, listener.bootstrap, "certificate could not be verified"), err
    # replay gives up the same way.
    rc, took, err = run_until_exit(["replay", "--config", config, "--brokers",
                                    listener.bootstrap, "--topic", "tls-ca-in",
                                    "--from", "0"])
    assert rc != 0, err
    assert took < FAIL_WITHIN_S, (took, err)
    assert lines_naming(err, listener.bootstrap, "certificate could not be verified"), err


# soakwatch's own last word on these failures, its metadata error, must
# name the broker and the cause (with TLS or SASL configured it quotes what
# librdkafka last reported), not guess at the protocol.
@pytest.mark.parametrize("case", ["password", "certificate"])
def test_last_line_names_the_cause(brokers, listener, tmp_path, case):
    if case == "password":
        config = write_config(tmp_path, listener, name="wrong", password="not-the-password")
        words = ("authentication failed",)
    else:
        config = write_config(tmp_path, listener, name="otherca", ca=other_ca(tmp_path))
        words = ("certificate could not be verified",)
    rc, _, err = run_until_exit(["run", *live_args(listener, config, "tls-last-in",
                                                   "tls-last-out")])
    assert rc != 0, err
    last = err.strip().splitlines()[-1]
    assert "not as a Kafka broker" not in err
    assert lines_naming(last, listener.bootstrap, *words), err


def test_scram_sha_512(brokers, listener, tmp_path):
    assert "SCRAM-SHA-512" in listener.mechanisms
    # The broker lets the user in by SCRAM-SHA-512: a Java client lists topics.
    props = tmp_path / "java-client.properties"
    props.write_text("\n".join([
        "security.protocol=SASL_SSL", "sasl.mechanism=SCRAM-SHA-512",
        'sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required '
        'username="%s" password="%s";' % (listener.user, listener.password),
        "ssl.truststore.type=PEM", "ssl.truststore.location=" + listener.ca]) + "\n")
    config = write_config(tmp_path, listener, name="scram", mechanism="SCRAM-SHA-512")
    t_in, t_out = sc.fresh_name("tls-scram-in"), sc.fresh_name("tls-scram-out")
    sc.create_topic(t_in, 1)
    sc.create_topic(t_out, 1)
    java = subprocess.run([ku.SCRIPT, "tool", "org.apache.kafka.tools.TopicCommand",
                           "--bootstrap-server", listener.bootstrap, "--command-config", str(props),
                           "--list"], capture_output=True, text=True, timeout=120)
    assert java.returncode == 0, java.stderr
    assert t_in in java.stdout.split(), java.stdout

    if ku.librdkafka_version() >= (2, 6, 1):
        now = int(time.time() * 1000)
        sc.produce_lines(brokers, t_in, sc.healthy(now - 120000, minutes=2), 1)
        run = sc.Run(tmp_path, live_args(listener, config, t_in, t_out), name="scram")
        got = sc.wait_until(lambda: [m for m in sc.consume_all(brokers, t_out)
                                     if '"status"' in m["payload"]], 60)
        rc, _ = run.stop()
        assert got, run.stderr()
        assert rc == 0, run.stderr()
    else:
        # librdkafka before 2.6.1 sends a SCRAM nonce Kafka 4 rejects.
        rc, took, err = run_until_exit(["run", *live_args(listener, config, t_in, t_out)])
        assert rc != 0, err
        assert took < FAIL_WITHIN_S, (took, err)
        assert lines_naming(err, listener.bootstrap, "authentication failed",
                            "SCRAM-SHA-512"), err
