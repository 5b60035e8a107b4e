"""Helpers for the integration tests that need a real Kafka broker.

The broker is the one scripts/kafka-local runs (or any broker named by
SOAKWATCH_KAFKA_BOOTSTRAP). Producing goes through librdkafka itself (via
ctypes) so that tests control partitions and message timestamps; consuming,
topic creation and group offsets go through kcat and scripts/kafka-local.
Every call has a timeout and fails with an error naming what went wrong.
"""

import collections
import ctypes
import ctypes.util
import itertools
import json
import os
import re
import subprocess
import time

SRC = os.environ.get("SOAKWATCH_SRC") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(SRC, "scripts", "kafka-local")

# One consumed message. headers is a list of (name, value) pairs.
Message = collections.namedtuple("Message", "partition offset key value headers")


class KafkaUtilError(RuntimeError):
    """A broker helper failed; the message says which command and why."""


def _tail(text, lines=15):
    return "\n".join((text or "").strip().splitlines()[-lines:])


def _run(args, timeout, stdin=None, env_extra=None):
    env = dict(os.environ)
    if env_extra:
        env.update(env_extra)
    try:
        proc = subprocess.run(args, input=stdin, capture_output=True, timeout=timeout,
                              env=env, check=False)
    except subprocess.TimeoutExpired as exc:
        raise KafkaUtilError("%s timed out after %s s: %s" % (
            " ".join(args[:3]), timeout, _tail((exc.stderr or b"").decode(errors="replace"))))
    except FileNotFoundError as exc:
        raise KafkaUtilError("cannot run %s: %s" % (args[0], exc))
    if proc.returncode != 0:
        raise KafkaUtilError("%s exited with %d: %s" % (
            " ".join(args[:3]), proc.returncode, _tail(proc.stderr.decode(errors="replace"))))
    return proc.stdout.decode(errors="replace")


def _parse_bootstrap(out):
    for line in out.splitlines():
        if line.startswith("BOOTSTRAP="):
            return line[len("BOOTSTRAP="):].strip()
    raise KafkaUtilError("scripts/kafka-local printed no BOOTSTRAP= line: %r" % _tail(out))


def bootstrap():
    """Returns host:port of a running broker, starting one when none runs.

    SOAKWATCH_KAFKA_BOOTSTRAP wins when set (CI starts the broker once up
    front). A broker started here is left running for the tests after this
    one; `scripts/kafka-local stop` ends it.
    """
    env = os.environ.get("SOAKWATCH_KAFKA_BOOTSTRAP")
    if env:
        return env
    status = subprocess.run([SCRIPT, "status"], capture_output=True, timeout=30, check=False)
    if status.returncode == 0:
        found = _parse_bootstrap(status.stdout.decode())
    else:
        # A cold start downloads the broker's jars first: allow for it.
        found = _parse_bootstrap(_run([SCRIPT, "start"], timeout=900))
    os.environ["SOAKWATCH_KAFKA_BOOTSTRAP"] = found
    return found


def _script(args, timeout, stdin=None):
    return _run([SCRIPT] + args, timeout, stdin=stdin,
                env_extra={"KAFKA_LOCAL_BOOTSTRAP": bootstrap()})


_topic_seq = itertools.count()


def unique_topic(prefix="t"):
    """Returns a topic name no other test run uses: prefix, pid, time, counter."""
    clean = re.sub(r"[^A-Za-z0-9._-]", "-", prefix)[:100]
    return "%s-%d-%x-%d" % (clean, os.getpid(), time.time_ns() // 1000, next(_topic_seq))


def create_topic(name, partitions):
    """Creates topic name with that many partitions and waits for their leaders."""
    _script(["create-topic", name, str(int(partitions))], timeout=90)
    return name


def restart_broker():
    """Stops and starts the broker process of scripts/kafka-local, keeping its
    data and port; returns its bootstrap. Only for a broker the script runs."""
    return _parse_bootstrap(_run([SCRIPT, "restart-broker"], timeout=180))


# ---- producing through librdkafka (ctypes) --------------------------------

_VTYPE_TOPIC, _VTYPE_PARTITION, _VTYPE_VALUE, _VTYPE_KEY = 1, 3, 4, 5
_VTYPE_MSGFLAGS, _VTYPE_TIMESTAMP, _VTYPE_HEADER = 7, 8, 9
_MSG_F_COPY = 0x2
_ERR_QUEUE_FULL = -184
_PRODUCER = 0


class _Mem(ctypes.Structure):
    _fields_ = [("ptr", ctypes.c_void_p), ("size", ctypes.c_size_t)]


class _Header(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("val", ctypes.c_void_p), ("size", ctypes.c_ssize_t)]


class _Value(ctypes.Union):
    _fields_ = [("cstr", ctypes.c_char_p), ("i", ctypes.c_int), ("i32", ctypes.c_int32),
                ("i64", ctypes.c_int64), ("mem", _Mem), ("header", _Header),
                ("_pad", ctypes.c_char * 64)]


class _Vu(ctypes.Structure):
    """rd_kafka_vu_t: one (type, value) pair of rd_kafka_produceva()."""
    _fields_ = [("vtype", ctypes.c_int), ("u", _Value)]


class _MessageHead(ctypes.Structure):
    """The first field of rd_kafka_message_t, all a delivery report needs."""
    _fields_ = [("err", ctypes.c_int)]


_DR_CB = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.POINTER(_MessageHead), ctypes.c_void_p)
_lib = None


def _rdkafka():
    global _lib
    if _lib is not None:
        return _lib
    name = ctypes.util.find_library("rdkafka") or "librdkafka.so.1"
    try:
        lib = ctypes.CDLL(name)
    except OSError as exc:
        raise KafkaUtilError("cannot load librdkafka (%s): %s" % (name, exc))
    vp, cp = ctypes.c_void_p, ctypes.c_char_p
    lib.rd_kafka_conf_new.restype = vp
    lib.rd_kafka_conf_set.argtypes = [vp, cp, cp, cp, ctypes.c_size_t]
    lib.rd_kafka_conf_set_dr_msg_cb.argtypes = [vp, _DR_CB]
    lib.rd_kafka_conf_destroy.argtypes = [vp]
    lib.rd_kafka_new.restype = vp
    lib.rd_kafka_new.argtypes = [ctypes.c_int, vp, cp, ctypes.c_size_t]
    lib.rd_kafka_produceva.restype = vp
    lib.rd_kafka_produceva.argtypes = [vp, ctypes.POINTER(_Vu), ctypes.c_size_t]
    lib.rd_kafka_error_code.argtypes = [vp]
    lib.rd_kafka_error_string.restype = cp
    lib.rd_kafka_error_string.argtypes = [vp]
    lib.rd_kafka_error_destroy.argtypes = [vp]
    lib.rd_kafka_poll.argtypes = [vp, ctypes.c_int]
    lib.rd_kafka_flush.argtypes = [vp, ctypes.c_int]
    lib.rd_kafka_outq_len.argtypes = [vp]
    lib.rd_kafka_destroy.argtypes = [vp]
    lib.rd_kafka_err2str.restype = cp
    lib.rd_kafka_err2str.argtypes = [ctypes.c_int]
    _lib = lib
    return lib


def _vu(vtype, **fields):
    item = _Vu()
    item.vtype = vtype
    for key, value in fields.items():
        setattr(item.u, key, value)
    return item


def _as_bytes(value):
    if value is None or isinstance(value, bytes):
        return value
    return str(value).encode()


def produce_lines(topic, lines, partition=None, timestamps_ms=None, keys=None, headers=None,
                  timeout_s=60):
    """Produces one message per line (str or bytes) with acks=all and an
    idempotent producer, and waits until the broker has acknowledged all.

    partition: None (librdkafka's partitioner, by key), an int, or a
    callable(i, line) -> int. timestamps_ms: None (now) or one CreateTime per
    line. keys: None or one key per line. headers: None or a list of
    (name, value) pairs put on every message. Raises KafkaUtilError naming
    the first failed delivery.
    """
    lines = list(lines)
    if timestamps_ms is not None and len(timestamps_ms) != len(lines):
        raise KafkaUtilError("produce_lines: %d timestamps for %d lines" % (
            len(timestamps_ms), len(lines)))
    if keys is not None and len(keys) != len(lines):
        raise KafkaUtilError("produce_lines: %d keys for %d lines" % (len(keys), len(lines)))
    lib = _rdkafka()
    errstr = ctypes.create_string_buffer(512)
    conf = lib.rd_kafka_conf_new()
    for key, value in (("bootstrap.servers", bootstrap()), ("enable.idempotence", "true"),
                       ("acks", "all"), ("linger.ms", "5"), ("message.timeout.ms",
                                                             str(int(timeout_s * 1000)))):
        if lib.rd_kafka_conf_set(conf, key.encode(), value.encode(), errstr, 512) != 0:
            lib.rd_kafka_conf_destroy(conf)
            raise KafkaUtilError("librdkafka config %s=%s: %s" % (key, value, errstr.value.decode()))
    failures = []

    def on_delivery(_rk, msg, _opaque):
        if msg.contents.err != 0:
            failures.append(lib.rd_kafka_err2str(msg.contents.err).decode())

    callback = _DR_CB(on_delivery)
    lib.rd_kafka_conf_set_dr_msg_cb(conf, callback)
    rk = lib.rd_kafka_new(_PRODUCER, conf, errstr, 512)
    if not rk:
        lib.rd_kafka_conf_destroy(conf)
        raise KafkaUtilError("cannot create a librdkafka producer: " + errstr.value.decode())
    try:
        deadline = time.monotonic() + timeout_s
        topic_b = topic.encode()
        header_b = [(_as_bytes(n), _as_bytes(v)) for n, v in (headers or [])]
        for i, line in enumerate(lines):
            value = _as_bytes(line)
            vus = [_vu(_VTYPE_TOPIC, cstr=topic_b), _vu(_VTYPE_MSGFLAGS, i=_MSG_F_COPY),
                   _vu(_VTYPE_VALUE, mem=_Mem(ctypes.cast(ctypes.c_char_p(value), ctypes.c_void_p),
                                              len(value)))]
            part = partition(i, line) if callable(partition) else partition
            if part is not None:
                vus.append(_vu(_VTYPE_PARTITION, i32=int(part)))
            if timestamps_ms is not None:
                vus.append(_vu(_VTYPE_TIMESTAMP, i64=int(timestamps_ms[i])))
            if keys is not None and keys[i] is not None:
                key = _as_bytes(keys[i])
                vus.append(_vu(_VTYPE_KEY, mem=_Mem(ctypes.cast(ctypes.c_char_p(key),
                                                                ctypes.c_void_p), len(key))))
            for name, hval in header_b:
                vus.append(_vu(_VTYPE_HEADER, header=_Header(
                    name, ctypes.cast(ctypes.c_char_p(hval), ctypes.c_void_p), len(hval))))
            array = (_Vu * len(vus))(*vus)
            while True:
                err = lib.rd_kafka_produceva(rk, array, len(vus))
                if not err:
                    break
                code = lib.rd_kafka_error_code(err)
                text = lib.rd_kafka_error_string(err).decode()
                lib.rd_kafka_error_destroy(err)
                if code != _ERR_QUEUE_FULL or time.monotonic() > deadline:
                    raise KafkaUtilError("producing line %d to %s: %s" % (i, topic, text))
                lib.rd_kafka_poll(rk, 100)
            lib.rd_kafka_poll(rk, 0)
        remaining_ms = max(1000, int((deadline - time.monotonic()) * 1000))
        lib.rd_kafka_flush(rk, remaining_ms)
        lib.rd_kafka_poll(rk, 0)
        left = lib.rd_kafka_outq_len(rk)
        if left:
            raise KafkaUtilError("%d messages to %s still undelivered after %s s" % (
                left, topic, timeout_s))
        if failures:
            raise KafkaUtilError("%d of %d messages to %s failed; first: %s" % (
                len(failures), len(lines), topic, failures[0]))
    finally:
        lib.rd_kafka_destroy(rk)


# ---- reading back -----------------------------------------------------------

def consume_records(topic, timeout_s=60):
    """Returns every message of every partition of topic as kcat's JSON
    envelopes (dicts with partition, offset, ts, key, payload, headers),
    reading until the end of all partitions."""
    cmd = ["kcat", "-C", "-q", "-e", "-J", "-b", bootstrap(), "-t", topic,
           "-o", "beginning", "-m", "10"]
    out = _run(cmd, timeout=timeout_s)
    # kcat -e can report the end before its first fetch on a loaded machine
    # and print nothing: an empty answer is asked again before it is
    # believed.
    for _ in range(2):
        if out.strip():
            break
        time.sleep(0.5)
        out = _run(cmd, timeout=timeout_s)
    records = []
    for line in out.splitlines():
        if line.strip():
            try:
                records.append(json.loads(line))
            except ValueError as exc:
                raise KafkaUtilError("kcat printed a line that is not JSON (%s): %r" % (
                    exc, line[:200]))
    return records


def consume_all(topic, timeout_s=60):
    """Returns every message of topic as Message(partition, offset, key,
    value, headers), in partition then offset order."""
    messages = []
    for rec in consume_records(topic, timeout_s):
        raw = rec.get("headers") or []
        pairs = [(raw[i], raw[i + 1]) for i in range(0, len(raw) - 1, 2)]
        messages.append(Message(rec["partition"], rec["offset"], rec.get("key"),
                                rec.get("payload"), pairs))
    messages.sort(key=lambda m: (m.partition, m.offset))
    return messages


def offset_for_time(topic, partition, timestamp_ms, timeout_s=30):
    """Returns the ListOffsets answer: the first offset of partition whose
    timestamp is >= timestamp_ms, or -1 when no message is that late."""
    out = _run(["kcat", "-Q", "-b", bootstrap(), "-m", "10",
                "-t", "%s:%d:%d" % (topic, partition, timestamp_ms)], timeout=timeout_s)
    match = re.search(r"\[%d\] offset (-?\d+)" % partition, out)
    if not match:
        raise KafkaUtilError("kcat -Q gave no offset for %s [%d]: %r" % (topic, partition, out))
    return int(match.group(1))


def committed_offsets(group, topic, timeout_s=60):
    """Returns {partition: committed offset} of consumer group on topic, as
    the broker's group coordinator reports it (partitions without a commit
    are left out; a group that does not exist gives {})."""
    proc = subprocess.run([SCRIPT, "describe-group", group], capture_output=True,
                          timeout=timeout_s, check=False,
                          env=dict(os.environ, KAFKA_LOCAL_BOOTSTRAP=bootstrap()))
    out = proc.stdout.decode(errors="replace")
    err = proc.stderr.decode(errors="replace")
    if "does not exist" in out + err:
        return {}
    if proc.returncode != 0:
        raise KafkaUtilError("describe-group %s exited with %d: %s" % (
            group, proc.returncode, _tail(err)))
    offsets = {}
    for line in out.splitlines():
        cols = line.split()
        if len(cols) >= 4 and cols[0] == group and cols[1] == topic and cols[2].isdigit():
            if cols[3].isdigit():
                offsets[int(cols[2])] = int(cols[3])
    return offsets


# ---- the SASL_SSL listener (TLS + SASL) -------------------------------------

SaslListener = collections.namedtuple(
    "SaslListener", "bootstrap mechanisms user password ca client_properties")


def sasl_ssl():
    """Returns the SASL_SSL listener of the broker scripts/kafka-local runs,
    as SaslListener(bootstrap, mechanisms (a list), user, password, ca (the
    path of the CA certificate that signed the broker's), client_properties
    (a librdkafka properties file for kcat -F)). Starts the broker when none
    runs. A broker started by an older kafka-local has no such listener:
    the error says so (`scripts/kafka-local restart-broker` adds it)."""
    bootstrap()
    out = _run([SCRIPT, "sasl"], timeout=30)
    lines = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    try:
        return SaslListener(lines["BOOTSTRAP_SASL_SSL"], lines["SASL_MECHANISMS"].split(","),
                            lines["SASL_USER"], lines["SASL_PASSWORD"], lines["SASL_CA"],
                            lines["SASL_CLIENT_PROPERTIES"])
    except KeyError as exc:
        raise KafkaUtilError("scripts/kafka-local sasl printed no %s line: %r" % (exc, _tail(out)))


def sasl_properties(listener, mechanism="PLAIN", password=None, ca=None):
    """librdkafka properties (for soakwatch's kafka.properties) that connect
    to listener by mechanism; password and ca replace the right ones."""
    return {"security.protocol": "SASL_SSL", "sasl.mechanisms": mechanism,
            "sasl.username": listener.user,
            "sasl.password": listener.password if password is None else password,
            "ssl.ca.location": listener.ca if ca is None else ca}


def librdkafka_version():
    """The version of the librdkafka that soakwatch and these helpers load,
    as a tuple (major, minor, patch)."""
    lib = _rdkafka()
    lib.rd_kafka_version.restype = ctypes.c_int
    v = lib.rd_kafka_version()
    return ((v >> 24) & 0xff, (v >> 16) & 0xff, (v >> 8) & 0xff)
