#!/usr/bin/env python3
"""An independent reading of soakwatch's contract (docs/semantics.md,
sections 1-7, the rule options of section 8 that change no window
(hysteresis, latching with acknowledgements, missing data), the mapped
input of section 9, the rollback check of section 10, the soak cadence of
section 11 and the cohorts of section 12, comparison rules included) for
file replay, written to
be checked by eye rather than to be fast: every window is recomputed at
every instant by summing the per-second buckets it covers, and percentiles
are exact nearest-rank values.

Usage as a program:
    reference.py [--config FILE] [--input FILE|-] [--output FILE|-] [--control FILE]
writes the output events as JSON Lines and the summary line on stderr.
As a module: replay(lines, config) -> Result(outputs, summary).
"""

import argparse
import gzip
import json
import math
import re
import sys
from collections import Counter, OrderedDict
from itertools import chain

# ---- configuration -------------------------------------------------------

STRATEGIES = ["core_only", "core_plus_accessory", "core_plus_superset", "core_plus_block",
              "core_plus_block_and_superset", "none", "pending", "user_decline"]
REASONS = ["plan_not_compressible", "plan_missing_content", "internal_error", "plan_not_found",
           "forbidden", "unauthorized", "invalid_request", "preview_failed",
           "feature_not_available"]
EVENT_KINDS = ["requested", "succeeded", "fallback", "declined"]

DEFAULTS = {
    "allowed_lateness_s": 2,
    "max_gap_s": 86400,
    "max_message_bytes": 65536,
    "status": {
        "interval_s": 60,
        "window_s": 300,
        "min_outcomes": 20,
        "success_rate_min": 0.95,
        "error_rate_max": 0.05,
        "latency_mean_max_ms": 2000,
        "windows_s": [300, 600, 1800],
    },
    "events": {k: "stream5.time_crunch_preview_" + k for k in EVENT_KINDS},
    "strategies": STRATEGIES,
    "fallback_reasons": REASONS,
    "feature": "feature.stream5_time_crunch_mode",
    "rules": [
        {"name": "error_rate_high", "metric": "error_rate", "op": ">", "threshold": 0.10,
         "window_s": 300, "min_samples": 20},
        {"name": "success_rate_low", "metric": "success_rate", "op": "<", "threshold": 0.90,
         "window_s": 600, "min_samples": 20},
        {"name": "latency_high", "metric": "latency_mean_ms", "op": ">", "threshold": 5000,
         "window_s": 300, "min_samples": 20},
        {"name": "zero_requests", "metric": "requests", "op": "==", "threshold": 0,
         "window_s": 1800, "min_samples": 0},
    ],
    "rollback": {"check": True, "verify_within_s": 300, "reason": "feature_not_available",
                 "unavailable_min": 1, "quiet_s": 60},
}

RULE_KEYS = {"name", "metric", "op", "threshold", "window_s", "min_samples",
             # section 8: the options that change no window
             "resolve_threshold", "keep_firing_for_s", "latch", "hold_when_no_data",
             # section 12: where the rule is judged, and what its firing asks for
             "cohorts", "action",
             # section 12, "Comparison rules": the treatment against the control
             "compare"}
TOP_KEYS = {"allowed_lateness_s", "max_gap_s", "max_message_bytes", "status", "events",
            "strategies", "fallback_reasons", "feature", "rules", "input", "rollback", "soak",
            "cohorts"}
SOAK_DEFAULTS = {"start": None, "hours": 48, "title": "Stream5 Staging Update",
                 "dashboard_url": "",
                 "targets": {"success_rate_min": 0.95, "latency_mean_max_ms": 2000,
                             "error_rate_max": 0.05, "compression_success_min": 0.80},
                 "signoffs": [{"key": "qa", "title": "QA sign-off on integration tests"},
                              {"key": "ops", "title": "Ops confirms stability"},
                              {"key": "support", "title": "Support ready"},
                              {"key": "docs", "title": "Documentation reviewed"},
                              {"key": "no_regressions",
                               "title": "No regressions in existing functionality"}]}

TS_MAX_MS = 253402300799999
REJECT_NAMES = ["too_large", "envelope", "invalid_json", "not_object", "event", "ts", "duration",
                "status", "time_constraint", "weight"]
JANSSON_MAX_DEPTH = 2048
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1

OPS = {
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    "==": lambda a, b: a == b,
}


def make_config(overrides=None):
    """The defaults with `overrides` (the config file's keys) laid over them.
    Only what sections 1-7 and 9 define is accepted; anything else is a
    ValueError, so a test cannot believe it varied something the reference
    ignores. cfg["input"] is None without an `input` section (the flat
    contract, byte for byte), else the section read by input_config()."""
    cfg = json.loads(json.dumps(DEFAULTS))
    cfg["input"] = None
    cfg["soak"] = None
    cfg["cohorts"] = None
    for key, val in (overrides or {}).items():
        if key not in TOP_KEYS:
            raise ValueError("reference: unsupported config key %r" % key)
        if key == "cohorts":
            cfg["cohorts"] = cohorts_config(val)
        elif key == "soak":
            cfg["soak"] = soak_config(val)
        elif key == "input":
            cfg["input"] = input_config(val)
        elif key in ("status", "events", "rollback"):
            for k, v in val.items():
                if k not in cfg[key]:
                    raise ValueError("reference: unsupported config key %s.%s" % (key, k))
                cfg[key][k] = v
        elif key == "rules":
            rules = []
            for r in val:
                extra = set(r) - RULE_KEYS
                if extra:
                    raise ValueError("reference: unsupported rule keys %s" % sorted(extra))
                rules.append(dict({"min_samples": 0}, **r))
            cfg["rules"] = rules
        else:
            cfg[key] = val
    for i, rule in enumerate(cfg["rules"]):
        rule_options(rule, i)
        rule_scope(rule, i, cfg["cohorts"])
    return cfg


def rule_options(rule, i):
    """Section 8's options that change no window, checked as the doc
    states them: `resolve_threshold` on the resolving side of `threshold`
    (none for `==`), `keep_firing_for_s` >= 0, booleans for the rest."""
    where = "rules[%d]" % i
    if "resolve_threshold" in rule:
        rt, th, op = rule["resolve_threshold"], rule["threshold"], rule["op"]
        if not _is_number(rt) or op == "==" or (op in (">", ">=") and rt > th) \
                or (op in ("<", "<=") and rt < th):
            raise ValueError("reference: %s.resolve_threshold" % where)
    if not _int_in(rule.get("keep_firing_for_s", 0), 0, 86400):
        raise ValueError("reference: %s.keep_firing_for_s" % where)
    for k in ("latch", "hold_when_no_data"):
        if not isinstance(rule.get(k, False), bool):
            raise ValueError("reference: %s.%s is a boolean" % (where, k))


# ---- section 12: cohorts ---------------------------------------------------------

COHORT_VALUE = re.compile(r"[A-Za-z0-9_.-]{1,63}")
MAX_COHORTS = 16


def cohorts_config(val):
    """Section 12, "The cohort of an event": `cohorts.field` an input path
    (9.1's syntax), `cohorts.values` 0 to 16 distinct strings of 1 to 63
    characters of [A-Za-z0-9_.-], not `other`, and `cohorts.max` (default:
    as many as listed, at least 1) the cohorts kept, listed ones included.
    With max above the listed values, "keep" is set: the values kept first
    come fill the cohorts after the listed ones (Keeper)."""
    if not isinstance(val, dict) or "field" not in val or \
            not set(val) <= {"field", "values", "max"} or not set(val) & {"values", "max"}:
        raise ValueError("reference: cohorts: {field, values and/or max}, got %r" % (val,))
    values = val.get("values", [])
    if not isinstance(values, list) or len(values) > MAX_COHORTS or \
            ("values" in val and not values):
        raise ValueError("reference: cohorts.values: 1 to %d values" % MAX_COHORTS)
    cap = val.get("max", len(values))
    if not _int_in(cap, max(1, len(values)), MAX_COHORTS):
        raise ValueError("reference: cohorts.max: %d..%d, got %r" % (max(1, len(values)),
                                                                     MAX_COHORTS, cap))
    for v in values:
        if not isinstance(v, str) or not COHORT_VALUE.fullmatch(v) or v == "other":
            raise ValueError("reference: cohorts.values: bad value %r" % (v,))
    if len(set(values)) != len(values):
        raise ValueError("reference: cohorts.values: a value listed twice")
    return {"field": val["field"], "path": parse_path(val["field"]),
            "values": list(values), "names": list(values) + ["other"], "max": cap,
            "keep": cap > len(values)}


class Keeper:
    """Section 12, `cohorts.max`: a value not listed is kept as a cohort by
    the first accepted event carrying it while fewer than max cohorts hold
    a value, in acceptance order; that cohort is judged (and shown) from
    the instant after that event's second. kept: value -> that instant."""

    def __init__(self, cohorts):
        self.cohorts = cohorts
        self.kept = {}

    def assign(self, value, sec):
        c = self.cohorts
        if value in c["values"] or value == "other" or value in self.kept:
            return value
        if len(c["values"]) + len(self.kept) < c["max"]:
            self.kept[value] = sec + 1
            return value
        return "other"

    def names(self):
        """The cohorts in cohort order: listed, kept (in the order kept), other."""
        return list(self.cohorts["values"]) + list(self.kept) + ["other"]

    def judged_from(self, cohort):
        return self.kept.get(cohort, None)


def rule_scope(rule, i, cohorts):
    """Section 12, "Windows and scoped rules": rule["scope"] is None for
    "whole" (the default: the whole topic only), else the cohorts it is
    judged in, in cohort order ("each": all K + 1; a list: those named,
    `other` allowed). `action` is "disable_flag" (default) or, for a
    scoped rule only, "rollback_cohort". A comparison rule ("compare")
    has the scope [treatment]: its one state is the treatment's."""
    where = "rules[%d]" % i
    spec = rule.get("cohorts", "whole")
    if "compare" in rule:
        compare_config(rule, i, cohorts)
        rule["scope"] = [rule["compare"]["treatment"]]
    elif spec == "whole":
        rule["scope"] = None
    elif cohorts is None:
        raise ValueError("reference: %s.cohorts needs a cohorts section" % where)
    elif spec == "each":
        rule["scope"] = list(cohorts["names"])
        rule["each"] = True  # with cohorts.max, the kept values too
    elif isinstance(spec, list) and spec and all(v in cohorts["names"] for v in spec):
        # judged in cohort order, whatever the order of the list
        rule["scope"] = [c for c in cohorts["names"] if c in spec]
    else:
        raise ValueError("reference: %s.cohorts: \"whole\", \"each\" or a list of cohort "
                         "values, got %r" % (where, spec))
    action = rule.get("action", "disable_flag")
    if action not in ("disable_flag", "rollback_cohort") \
            or (action == "rollback_cohort" and rule["scope"] is None):
        raise ValueError("reference: %s.action: %r" % (where, action))
    rule["action"] = action


COMPARE_METRICS = ("error_rate", "success_rate", "time_constraint_success_rate",
                   "latency_mean_ms")
COMPARE_KEYS = ("treatment", "control", "alpha", "horizon_s")
COMPARE_DEFAULTS = {"alpha": 0.05, "horizon_s": 172800}
COMPARE_MAX_HORIZON_S = 31536000


def compare_config(rule, i, cohorts):
    """Section 12, "Comparison rules": `compare` is {treatment, control,
    alpha, horizon_s}, treatment and control two different cohorts (listed
    values or `other`), alpha 0 < a < 1 (0.05), horizon_s an integer
    1..31536000 (172800); no other key. The rule's metric is one of the
    two-sample metrics, its op not `==`, and `confidence`, `windows_s` and
    `cohorts` are refused on it. rule["compare"] becomes the spec with
    its defaults filled in. The ValueError names the key."""
    where = "rules[%d]" % i
    spec = rule["compare"]
    if cohorts is None:
        raise ValueError("reference: %s.compare needs a cohorts section" % where)
    if not isinstance(spec, dict):
        raise ValueError("reference: %s.compare: an object, got %r" % (where, spec))
    for k in spec:
        if k not in COMPARE_KEYS:
            raise ValueError("reference: %s.compare.%s: unknown key" % (where, k))
    for k in ("treatment", "control"):
        v = spec.get(k)
        if not isinstance(v, str) or v not in cohorts["names"]:
            raise ValueError("reference: %s.compare.%s: a cohort (a listed value or "
                             "\"other\"), got %r" % (where, k, v))
    if spec["treatment"] == spec["control"]:
        raise ValueError("reference: %s.compare.control: the same cohort as the treatment"
                         % where)
    alpha = spec.get("alpha", COMPARE_DEFAULTS["alpha"])
    if not _is_number(alpha) or not 0 < alpha < 1:
        raise ValueError("reference: %s.compare.alpha: 0 < alpha < 1, got %r" % (where, alpha))
    horizon = spec.get("horizon_s", COMPARE_DEFAULTS["horizon_s"])
    if not _int_in(horizon, 1, COMPARE_MAX_HORIZON_S):
        raise ValueError("reference: %s.compare.horizon_s: an integer 1..%d, got %r"
                         % (where, COMPARE_MAX_HORIZON_S, horizon))
    if rule.get("metric") not in COMPARE_METRICS:
        raise ValueError("reference: %s.metric: a compare rule takes %s" %
                         (where, ", ".join(COMPARE_METRICS)))
    if rule.get("op") not in (">", ">=", "<", "<="):
        raise ValueError("reference: %s.op: a compare rule takes >, >=, < or <=" % where)
    for k in ("confidence", "windows_s", "cohorts"):
        if k in rule:
            raise ValueError("reference: %s.%s: refused on a compare rule" % (where, k))
    rule["compare"] = {"treatment": spec["treatment"], "control": spec["control"],
                       "alpha": alpha, "horizon_s": horizon}


def cohort_of(doc, cfg):
    """Section 12: an accepted event's cohort is the listed value its
    `cohorts.field` holds (a string, compared byte for byte); anything else
    (absent, not a string, not listed) is `other`. The field is read from
    the event object (after any envelope; an OTLP record as 9.2 builds it)
    whether or not an `input` section is present. None without cohorts."""
    coh = cfg["cohorts"]
    if coh is None:
        return None
    v = resolve(doc, coh["path"])
    if coh["keep"]:  # a value that can be kept, for the Keeper to say at acceptance
        ok = isinstance(v, str) and COHORT_VALUE.fullmatch(v) and v != "other"
        return v if ok else "other"
    return v if isinstance(v, str) and v in coh["values"] else "other"


# ---- JSON as jansson reads it ----------------------------------------------

class Invalid(Exception):
    """The message is not valid JSON as jansson reads it."""


def _reject_constant(name):
    raise Invalid("jansson has no %s" % name)


def _int64(text):
    v = int(text)
    if v < INT64_MIN or v > INT64_MAX:
        raise Invalid("integer beyond 64 bits")
    return v


def _finite_real(text):
    v = float(text)
    if math.isinf(v):
        raise Invalid("real number overflow")
    return v


BAD_CHARS = re.compile("[\0\ud800-\udfff]")


def _check_value(v):
    """jansson refuses NUL in strings and keys and unpaired surrogates, which
    Python's json module lets through from \\u escapes. Objects are checked
    as they are built (duplicate keys included), so only strings and arrays
    are walked here."""
    stack = [v]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            if BAD_CHARS.search(v):
                raise Invalid("NUL or lone surrogate")
        elif isinstance(v, list):
            stack.extend(v)


def _object(pairs):
    for k, v in pairs:
        _check_value(k)
        _check_value(v)
    return dict(pairs)  # duplicate keys: the last one wins, as in jansson


def _depth(text):
    """jansson's nesting depth: a container at bracket level d counts d, a
    scalar inside it d + 1. Strings are skipped."""
    depth = best = 0
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            best = max(best, depth + 1)
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        elif c in "[{":
            depth += 1
            best = max(best, depth)
        elif c in "]}":
            depth -= 1
        elif c not in " \t\r\n,:":
            best = max(best, depth + 1)
        i += 1
    return best


def jansson_loads(raw):
    """Parse bytes as jansson's json_loadb(buf, len, 0) does; raise Invalid."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Invalid("invalid UTF-8")
    stripped = text.lstrip(" \t\r\n")
    if not stripped or stripped[0] not in "[{":
        raise Invalid("'[' or '{' expected")  # no JSON_DECODE_ANY
    kwargs = dict(parse_constant=_reject_constant, parse_int=_int64, parse_float=_finite_real,
                  object_pairs_hook=_object)
    try:
        doc = json.loads(text, **kwargs)
    except RecursionError:
        if _depth(text) > JANSSON_MAX_DEPTH:
            raise Invalid("maximum parsing depth reached")
        old = sys.getrecursionlimit()
        sys.setrecursionlimit(max(old, 20000))
        try:
            doc = json.loads(text, **kwargs)
        except ValueError:
            raise Invalid("not JSON")
        finally:
            sys.setrecursionlimit(old)
    except ValueError:
        raise Invalid("not JSON")
    # Deeper than jansson allows needs at least that many open brackets.
    if text.count("[") + text.count("{") >= JANSSON_MAX_DEPTH and _depth(text) > JANSSON_MAX_DEPTH:
        raise Invalid("maximum parsing depth reached")
    _check_value(doc)
    return doc


# ---- timestamps --------------------------------------------------------------

RFC3339 = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})"
                     r"(?:\.([0-9]+))?([Zz]|[+-][0-9]{2}:[0-9]{2})")


def _is_leap(y):
    return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)


def _days_before_year(y):
    """Days from 1970-01-01 to y-01-01 (negative before 1970), counted year by
    year's leap rule: the plain definition, not a clever formula."""
    def leaps_through(year):  # leap years in 1..year (proleptic Gregorian)
        return year // 4 - year // 100 + year // 400
    # Year 0 is a leap year; leaps_through(-1) counts it when going backwards.
    return 365 * (y - 1970) + (leaps_through(y - 1) - leaps_through(1969))


MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]


def parse_rfc3339(s):
    """Milliseconds since the epoch, or None when `s` is not an accepted
    RFC 3339 timestamp. Fraction digits beyond the millisecond are cut."""
    m = RFC3339.fullmatch(s)
    if not m:
        return None
    y, mo, d, h, mi, sec = (int(g) for g in m.groups()[:6])
    frac, zone = m.group(7), m.group(8)
    if not (1 <= mo <= 12 and h <= 23 and mi <= 59 and sec <= 59):
        return None
    dim = 29 if mo == 2 and _is_leap(y) else MONTH_DAYS[mo - 1]
    if not 1 <= d <= dim:
        return None
    off_min = 0
    if zone not in ("Z", "z"):
        oh, om = int(zone[1:3]), int(zone[4:6])
        if oh > 23 or om > 59:
            return None
        off_min = (oh * 60 + om) * (-1 if zone[0] == "-" else 1)
    days = _days_before_year(y) + sum(MONTH_DAYS[:mo - 1]) + (1 if mo > 2 and _is_leap(y) else 0)
    days += d - 1
    secs = days * 86400 + h * 3600 + mi * 60 + sec - off_min * 60
    ms = int((frac or "0")[:3].ljust(3, "0"))
    return secs * 1000 + ms


def format_rfc3339_ms(ms):
    """RFC 3339 UTC with milliseconds, for 0 <= ms <= TS_MAX_MS."""
    days, rem = divmod(ms, 86400000)
    y = 1970
    while days >= (366 if _is_leap(y) else 365):
        days -= 366 if _is_leap(y) else 365
        y += 1
    mo = 1
    while True:
        dim = 29 if mo == 2 and _is_leap(y) else MONTH_DAYS[mo - 1]
        if days < dim:
            break
        days -= dim
        mo += 1
    h, rem = divmod(rem, 3600000)
    mi, rem = divmod(rem, 60000)
    s, frac = divmod(rem, 1000)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (y, mo, days + 1, h, mi, s, frac)


# ---- section 1: one message to a verdict --------------------------------------

def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v):
    return (isinstance(v, (int, float))) and not isinstance(v, bool)


def decode(raw, cfg):
    """(verdict, event): verdict is "ok", "ignored" or a reject name; event a
    dict (kind, ts_ms, duration_ms, status, tc, strategy, reason) for "ok"."""
    if len(raw) > cfg["max_message_bytes"]:
        return "too_large", None
    try:
        doc = jansson_loads(raw)
    except Invalid:
        return "invalid_json", None
    if not isinstance(doc, dict):
        return "not_object", None
    name = doc.get("event")
    if not isinstance(name, str):
        return "event", None
    kinds = [k for k in EVENT_KINDS if cfg["events"][k] == name]
    if not kinds:
        return "ignored", None
    kind = kinds[0]
    ts = doc.get("ts")
    if _is_int(ts):
        ts_ms = ts
    elif isinstance(ts, str) and parse_rfc3339(ts) is not None:
        ts_ms = parse_rfc3339(ts)
    else:
        return "ts", None
    duration = None
    du = doc.get("durationMs")
    if _is_number(du) and math.isfinite(float(du)) and float(du) >= 0:
        duration = float(du)
    elif kind in ("succeeded", "fallback"):
        return "duration", None
    status = None
    if "status" in doc:
        status = doc["status"]
        if not _is_int(status) or not 100 <= status <= 599:
            return "status", None
    tc = None
    if "meetsTimeConstraint" in doc:
        tc = doc["meetsTimeConstraint"]
        if not isinstance(tc, bool):
            return "time_constraint", None
    strategy = doc.get("compressionStrategy")
    reason = doc.get("reason")
    return "ok", {
        "kind": kind, "ts_ms": ts_ms, "duration_ms": duration, "status": status, "tc": tc,
        "strategy": strategy if isinstance(strategy, str) else None,
        "reason": reason if isinstance(reason, str) else None,
        "cohort": cohort_of(doc, cfg),
    }


# ---- section 9: mapped input ----------------------------------------------------

FIELD_DEFAULTS = {"event": "event", "time": "ts", "duration": "durationMs", "status": "status",
                  "reason": "reason", "strategy": "compressionStrategy",
                  "time_constraint": "meetsTimeConstraint"}
INPUT_KEYS = {"envelope", "fields", "duration_required", "error_reasons", "filters",
              "sample_weight", "correlate"}
ENVELOPES = ("none", "field", "syslog", "otlp")
ABSENT = object()  # a path that does not resolve: the field is absent


def parse_path(text):
    """A 9.1 path as a list of steps: ("key", NAME) or ("index", N).
    Keys are separated by '.', each may be followed by [N] indexes; a
    backslash before '.', '[' or a backslash makes that character literal."""
    if not isinstance(text, str):
        raise ValueError("reference: a path is a string: %r" % (text,))
    steps = []
    i, n = 0, len(text)
    while True:
        key = ""
        while i < n and text[i] not in ".[":
            if text[i] == "\\":
                if i + 1 < n and text[i + 1] in ".[\\":
                    key += text[i + 1]
                    i += 2
                    continue
                raise ValueError("reference: bad escape in path %r" % text)
            key += text[i]
            i += 1
        if key == "":
            raise ValueError("reference: empty key in path %r" % text)
        steps.append(("key", key))
        while i < n and text[i] == "[":
            j = text.find("]", i)
            digits = text[i + 1:j] if j > 0 else ""
            if not digits or not all(c in "0123456789" for c in digits):
                raise ValueError("reference: bad index in path %r" % text)
            steps.append(("index", int(digits)))
            i = j + 1
        if i == n:
            return steps
        if text[i] != ".":
            raise ValueError("reference: '.' or '[' expected in path %r" % text)
        i += 1


def resolve(doc, steps):
    """The value at a parsed path, or ABSENT when a step fails."""
    v = doc
    for kind, arg in steps:
        if kind == "key":
            if not isinstance(v, dict) or arg not in v:
                return ABSENT
            v = v[arg]
        else:
            if not isinstance(v, list) or arg >= len(v):
                return ABSENT
            v = v[arg]
    return v


def _paths(spec):
    """One path or a list of 1 to 4 paths, parsed."""
    if isinstance(spec, list):
        if not 1 <= len(spec) <= 4:
            raise ValueError("reference: 1 to 4 paths, got %r" % (spec,))
        return [parse_path(p) for p in spec]
    return [parse_path(spec)]


def _field_spec(name, spec):
    """{"paths": [...], "prefix": P or None, "token": K or None}; no paths
    for null (never present)."""
    out = {"paths": [], "prefix": None, "token": None}
    if spec is None:
        return out
    if isinstance(spec, dict):
        if name != "event":
            raise ValueError("reference: only input.fields.event takes an object")
        if set(spec) not in ({"path", "prefix"}, {"path", "token"}):
            raise ValueError("reference: {path, prefix} or {path, token}: %r" % (spec,))
        out["paths"] = _paths(spec["path"])
        for k in ("prefix", "token"):
            if k in spec:
                if not isinstance(spec[k], str):
                    raise ValueError("reference: input.fields.event.%s is a string" % k)
                out[k] = spec[k]
        return out
    out["paths"] = _paths(spec)
    return out


def _int_in(v, lo, hi):
    return _is_int(v) and lo <= v <= hi


def input_config(inp):
    """The `input` section with every default filled in."""
    if not isinstance(inp, dict) or set(inp) - INPUT_KEYS:
        raise ValueError("reference: unsupported input keys %r" % (inp,))
    env = inp.get("envelope", {})
    if set(env) - {"type", "field"} or env.get("type", "none") not in ENVELOPES:
        raise ValueError("reference: bad input.envelope %r" % (env,))
    fields = inp.get("fields", {})
    if set(fields) - set(FIELD_DEFAULTS):
        raise ValueError("reference: unsupported input.fields %r" % sorted(fields))
    cfg = {
        "envelope": env.get("type", "none"),
        "envelope_field": parse_path(env.get("field", "message")),
        "fields": {k: _field_spec(k, fields.get(k, d)) for k, d in FIELD_DEFAULTS.items()},
        "error_reasons": list(inp.get("error_reasons", ["internal_error"])),
        "filters": [],
        "weight": 1, "weight_field": None,
        "correlate": None,
    }
    for f in inp.get("filters", []):
        if set(f) - {"events", "field", "equals"} or "field" not in f or "equals" not in f:
            raise ValueError("reference: bad filter %r" % (f,))
        kinds = f.get("events", EVENT_KINDS)
        if any(k not in EVENT_KINDS for k in kinds) or not 1 <= len(f["equals"]) <= 8 \
                or not all(isinstance(x, str) for x in f["equals"]):
            raise ValueError("reference: bad filter %r" % (f,))
        cfg["filters"].append({"events": list(kinds), "path": parse_path(f["field"]),
                               "equals": list(f["equals"])})
    if len(cfg["filters"]) > 8:
        raise ValueError("reference: at most 8 filters")
    w = inp.get("sample_weight", 1)
    if isinstance(w, dict):
        if set(w) - {"field", "default"} or "field" not in w \
                or not _int_in(w.get("default", 1), 1, 1000):
            raise ValueError("reference: bad input.sample_weight %r" % (w,))
        cfg["weight_field"] = parse_path(w["field"])
        cfg["weight"] = w.get("default", 1)
    elif _int_in(w, 1, 1000):
        cfg["weight"] = w
    else:
        raise ValueError("reference: bad input.sample_weight %r" % (w,))
    c = inp.get("correlate")
    if c is not None:
        if set(c) - {"key", "max_latency_ms", "table_size"} or "key" not in c:
            raise ValueError("reference: bad input.correlate %r" % (c,))
        keys = c["key"] if isinstance(c["key"], list) else [c["key"]]
        m, size = c.get("max_latency_ms", 60000), c.get("table_size", 65536)
        if not 1 <= len(keys) <= 4 or not _int_in(m, 1, 3600000) \
                or not _int_in(size, 16, 16777216):
            raise ValueError("reference: bad input.correlate %r" % (c,))
        cfg["correlate"] = {"key": [parse_path(k) for k in keys], "max_latency_ms": m,
                            "table_size": size}
    required = inp.get("duration_required", c is None)
    if not isinstance(required, bool):
        raise ValueError("reference: input.duration_required is a boolean")
    cfg["duration_required"] = required
    return cfg


def field_value(doc, spec):
    """The value of a field: the first of its paths whose value is present."""
    for steps in spec["paths"]:
        v = resolve(doc, steps)
        if v is not ABSENT:
            return v
    return ABSENT


def event_name(doc, spec):
    """(verdict, name): verdict "event" (absent or not a string), "ignored"
    (no prefix, no token), or None with the name."""
    v = field_value(doc, spec)
    if not isinstance(v, str):
        return "event", None
    if spec["prefix"] is not None:
        if not v.startswith(spec["prefix"]):
            return "ignored", None
        return None, v[len(spec["prefix"]):]
    if spec["token"] is not None:
        for tok in v.split(" "):
            if tok.startswith(spec["token"] + "="):
                return None, tok[len(spec["token"]) + 1:]
        return "ignored", None
    return None, v


def _key_part(v):
    """A key value: strings and integers, told apart by type."""
    if isinstance(v, str):
        return ("s", v)
    if _is_int(v):
        return ("i", v)
    return None


def decode_event(doc, cfg):
    """The verdict of 9.3 for one event object (after any envelope)."""
    inp = cfg["input"]
    f = inp["fields"]
    verdict, name = event_name(doc, f["event"])
    if verdict:
        return verdict, None
    kinds = [k for k in EVENT_KINDS if cfg["events"][k] == name]
    if not kinds:
        return "ignored", None
    kind = kinds[0]
    for flt in inp["filters"]:
        if kind in flt["events"]:
            v = resolve(doc, flt["path"])
            if not (isinstance(v, str) and v in flt["equals"]):
                return "filtered", None
    ts = field_value(doc, f["time"])
    if _is_int(ts):
        ts_ms = ts
    elif isinstance(ts, str) and parse_rfc3339(ts) is not None:
        ts_ms = parse_rfc3339(ts)
    else:
        return "ts", None
    outcome = kind in ("succeeded", "fallback")
    duration = None
    du = field_value(doc, f["duration"])
    if outcome:
        if du is ABSENT:
            if inp["duration_required"]:
                return "duration", None
        elif _is_number(du) and math.isfinite(float(du)) and float(du) >= 0:
            duration = float(du)
        else:
            return "duration", None
    status = field_value(doc, f["status"])
    if status is ABSENT:
        status = None
    elif not _is_int(status) or not 100 <= status <= 599:
        return "status", None
    tc = field_value(doc, f["time_constraint"])
    if tc is ABSENT:
        tc = None
    elif not isinstance(tc, bool):
        return "time_constraint", None
    weight = inp["weight"]
    if inp["weight_field"] is not None:
        w = resolve(doc, inp["weight_field"])
        if w is not ABSENT:
            if not _int_in(w, 1, 1000):
                return "weight", None
            weight = w
    strategy = field_value(doc, f["strategy"])
    reason = field_value(doc, f["reason"])
    key = None
    if inp["correlate"] is not None:
        parts = [_key_part(resolve(doc, steps)) for steps in inp["correlate"]["key"]]
        key = None if None in parts else tuple(parts)
    return "ok", {
        "kind": kind, "ts_ms": ts_ms, "duration_ms": duration, "status": status, "tc": tc,
        "strategy": strategy if isinstance(strategy, str) else None,
        "reason": reason if isinstance(reason, str) else None,
        "weight": weight, "key": key, "cohort": cohort_of(doc, cfg),
    }


def decode_line(raw, cfg):
    """An event line (bytes): invalid_json, not_object, or 9.3 on its object."""
    try:
        doc = jansson_loads(raw)
    except Invalid:
        return "invalid_json", None
    if not isinstance(doc, dict):
        return "not_object", None
    return decode_event(doc, cfg)


# OTLP/JSON: AnyValue and attribute lists to plain JSON values

_INT_TEXT = re.compile(r"-?[0-9]{1,19}")
_UINT_TEXT = re.compile(r"[0-9]{1,19}")


def _int_text(v, pattern):
    if _is_int(v):
        return v
    if isinstance(v, str) and pattern.fullmatch(v) and INT64_MIN <= int(v) <= INT64_MAX:
        return int(v)
    return None


def any_value(v):
    """An OTLP AnyValue as a plain value: the first kind that applies."""
    if not isinstance(v, dict):
        return None
    if isinstance(v.get("stringValue"), str):
        return v["stringValue"]
    if isinstance(v.get("boolValue"), bool):
        return v["boolValue"]
    if "intValue" in v and _int_text(v["intValue"], _INT_TEXT) is not None:
        return _int_text(v["intValue"], _INT_TEXT)
    if _is_number(v.get("doubleValue")):
        return v["doubleValue"]
    kv = v.get("kvlistValue")
    if isinstance(kv, dict) and isinstance(kv.get("values"), list):
        return key_values(kv["values"])
    arr = v.get("arrayValue")
    if isinstance(arr, dict) and isinstance(arr.get("values"), list):
        return [any_value(x) for x in arr["values"]]
    return None


def key_values(elements):
    """[{"key": K, "value": V}, ...] as {K: V}; later duplicates win, other
    elements are skipped. Not a list: an empty object."""
    out = {}
    if isinstance(elements, list):
        for e in elements:
            if isinstance(e, dict) and isinstance(e.get("key"), str):
                out[e["key"]] = any_value(e.get("value"))
    return out


def otlp_record(rec, resource):
    """One log record as the object the 9.1 paths read."""
    obj = {}
    if "body" in rec:
        body = any_value(rec["body"])
        if isinstance(body, str):
            try:
                parsed = jansson_loads(body.encode("utf-8"))
            except Invalid:
                parsed = None
            if isinstance(parsed, dict):
                body = parsed
        obj["body"] = body
    obj["attributes"] = key_values(rec.get("attributes"))
    obj["resource"] = key_values(resource.get("attributes")) if isinstance(resource, dict) else {}
    for src, dst in (("timeUnixNano", "timeUnixMs"), ("observedTimeUnixNano", "observedTimeUnixMs")):
        ns = _int_text(rec.get(src), _UINT_TEXT)
        if ns is not None:
            obj[dst] = ns // 1000000
    if isinstance(rec.get("severityText"), str):
        obj["severityText"] = rec["severityText"]
    return obj


def otlp_records(raw):
    """The records of an OTLP/JSON export, in order, each an object or the
    string "envelope" for one structural problem."""
    try:
        doc = jansson_loads(raw)
    except Invalid:
        return ["envelope"]
    if not isinstance(doc, dict) or not isinstance(doc.get("resourceLogs"), list):
        return ["envelope"]
    out = []
    for rl in doc["resourceLogs"]:
        if not isinstance(rl, dict):
            out.append("envelope")
            continue
        scopes = rl.get("scopeLogs", [])
        if not isinstance(scopes, list):
            out.append("envelope")
            continue
        for sl in scopes:
            if not isinstance(sl, dict):
                out.append("envelope")
                continue
            records = sl.get("logRecords", [])
            if not isinstance(records, list):
                out.append("envelope")
                continue
            for rec in records:
                out.append(otlp_record(rec, rl.get("resource")) if isinstance(rec, dict)
                           else "envelope")
    return out


def decode_message(raw, cfg):
    """Every (verdict, event) one message gives: one, except for OTLP, which
    gives one per log record and per structural problem (possibly none)."""
    inp = cfg["input"]
    if inp is None:
        return [decode(raw, cfg)]
    if len(raw) > cfg["max_message_bytes"]:
        return [("too_large", None)]
    env = inp["envelope"]
    if env == "none":
        return [decode_line(raw, cfg)]
    if env == "syslog":
        start = raw.find(b"{")
        if start < 0:
            return [("envelope", None)]
        return [decode_line(raw[start:], cfg)]
    if env == "field":
        try:
            doc = jansson_loads(raw)
        except Invalid:
            return [("envelope", None)]
        line = resolve(doc, inp["envelope_field"]) if isinstance(doc, dict) else ABSENT
        if not isinstance(line, str):
            return [("envelope", None)]
        return [decode_line(line.encode("utf-8"), cfg)]
    return [("envelope", None) if rec == "envelope" else decode_event(rec, cfg)
            for rec in otlp_records(raw)]


class Pairs:
    """9.6: requests pending by key (oldest first), paired with outcomes in
    the order events are accepted."""

    NAMES = ("matched", "unmatched", "duplicate", "evicted", "expired", "unkeyed")

    def __init__(self, corr):
        self.max_ms = corr["max_latency_ms"]
        self.size = corr["table_size"]
        self.pending = OrderedDict()  # key -> request ts_ms
        self.counts = {n: 0 for n in self.NAMES}

    def accept(self, ev):
        key = ev["key"]
        if ev["kind"] == "requested":
            if key is None:
                self.counts["unkeyed"] += 1
                return
            if key in self.pending:
                del self.pending[key]
                self.counts["duplicate"] += 1
            elif len(self.pending) >= self.size:
                _, old_ts = self.pending.popitem(last=False)
                self.counts["expired" if old_ts + self.max_ms < ev["ts_ms"] else "evicted"] += 1
            self.pending[key] = ev["ts_ms"]
        elif ev["kind"] in ("succeeded", "fallback"):
            if key is None or key not in self.pending:
                self.counts["unmatched"] += 1
                return
            gap = ev["ts_ms"] - self.pending.pop(key)
            if 0 <= gap <= self.max_ms:
                self.counts["matched"] += 1
                if ev["duration_ms"] is None:
                    ev["duration_ms"] = gap
            else:
                self.counts["unmatched"] += 1


BLIND = [
    # (metric test, missing field, counts: (window holds, none of it carries))
    (lambda m: m in ("errors", "error_rate"), "status_or_reason", ("fallbacks", "fb_status_or_reason")),
    (lambda m: m in ("latency_mean_ms", "latency_p95_ms", "latency_p99_ms"), "duration",
     ("obs_outcomes", "obs_with_duration")),
    (lambda m: m == "time_constraint_success_rate", "time_constraint", ("obs_successes", "succ_tc")),
    (lambda m: m.startswith("fallback_reasons."), "reason", ("fallbacks", "fb_reason")),
    (lambda m: m.startswith("strategies."), "strategy", ("obs_outcomes", "with_strategy")),
]


def blind_field(metric):
    """(missing, (holds, carries)) for a metric that can be blind, else None."""
    for test, missing, counts in BLIND:
        if test(metric):
            return missing, counts
    return None


# ---- section 2: classification --------------------------------------------------

def is_error(ev, error_reasons=("internal_error",)):
    """Section 2 (9.3: the reasons that count as 500 are configured)."""
    status = ev["status"]
    if status is None:
        if ev["kind"] == "succeeded":
            status = 200
        else:
            status = 500 if ev["reason"] in error_reasons else 422
    return status >= 500


def duration_us(ms):
    """durationMs held to the microsecond, rounded half away from zero
    (the value is >= 0); exact, no float rounding of the half."""
    us = ms * 1000.0
    if us >= 1.8e19:
        return 18000000000000000000
    whole = math.floor(us)
    return whole + (1 if us - whole >= 0.5 else 0)


# ---- sections 3-7: replay ---------------------------------------------------------

class Result:
    def __init__(self, outputs, summary):
        self.outputs = outputs
        self.summary = summary


def _label(name, names):
    if name is None:
        return None
    return name if name in names else "other"


def _label_object(counter, names):
    return {n: counter[n] for n in list(names) + ["other"] if counter.get(n)}


class Buckets:
    """Per-second counts from `base` on; every window is a plain sum of them.
    The counts of section 4 are sums of weights (9.5; a flat event weighs
    1); the obs_ ones and those behind blindness (9.7) count events as read."""

    FIELDS = ("requests", "outcomes", "successes", "errors", "declined",
              "lat_us", "lat_n",  # w x duration, and w, over outcomes with a duration
              "tc_true", "tc_known",
              "obs_requests", "obs_outcomes", "obs_with_duration", "obs_successes",
              "fallbacks", "fb_status_or_reason", "fb_reason", "succ_tc", "with_strategy")

    def __init__(self, events, base, last, cfg):
        n = last - base + 1
        self.base = base
        self.cfg = cfg
        error_reasons = cfg["input"]["error_reasons"] if cfg["input"] else ["internal_error"]
        self.arr = {f: [0] * n for f in self.FIELDS}
        self.durations = [[] for _ in range(n)]  # (duration_ms, weight)
        self.strategies = [None] * n
        self.reasons = [None] * n
        for sec, ev in events:
            i = sec - base
            a = self.arr
            kind = ev["kind"]
            w = ev.get("weight", 1)
            if kind == "requested":
                a["requests"][i] += w
                a["obs_requests"][i] += 1
            elif kind == "declined":
                a["declined"][i] += w
            else:
                a["outcomes"][i] += w
                a["obs_outcomes"][i] += 1
                if ev["duration_ms"] is not None:
                    a["lat_us"][i] += w * duration_us(ev["duration_ms"])
                    a["lat_n"][i] += w
                    a["obs_with_duration"][i] += 1
                    self.durations[i].append((ev["duration_ms"], w))
                if is_error(ev, error_reasons):
                    a["errors"][i] += w
                if kind == "succeeded":
                    a["successes"][i] += w
                    a["obs_successes"][i] += 1
                    if ev["tc"] is not None:
                        a["tc_known"][i] += w
                        a["tc_true"][i] += w if ev["tc"] else 0
                        a["succ_tc"][i] += 1
                else:
                    a["fallbacks"][i] += 1
                    if ev["status"] is not None or ev["reason"] is not None:
                        a["fb_status_or_reason"][i] += 1
                    if ev["reason"] is not None:
                        a["fb_reason"][i] += 1
                if ev["strategy"] is not None:
                    a["with_strategy"][i] += 1
                s = _label(ev["strategy"], cfg["strategies"])
                if s is not None:
                    self.strategies[i] = self.strategies[i] or Counter()
                    self.strategies[i][s] += w
                if kind == "fallback":
                    r = _label(ev["reason"], cfg["fallback_reasons"])
                    if r is not None:
                        self.reasons[i] = self.reasons[i] or Counter()
                        self.reasons[i][r] += w

    def _span(self, T, W):
        lo = max(T - W - self.base, 0)
        hi = max(min(T - self.base, len(self.durations)), 0)
        return lo, hi

    def count(self, field, T, W):
        lo, hi = self._span(T, W)
        return sum(self.arr[field][lo:hi])

    def metrics(self, T, W, full=True):
        """Section 4 metrics of window W at T, in section 7's key order."""
        c = {f: self.count(f, T, W) for f in self.FIELDS}
        m = {name: scalar_metric(name, c) for name in SCALAR_METRICS}
        if full:
            lo, hi = self._span(T, W)
            n = c["lat_n"]
            if n:
                d = sorted(chain.from_iterable(self.durations[lo:hi]))
                m["latency_p95_ms"] = nearest_rank(d, n, 0.95)
                m["latency_p99_ms"] = nearest_rank(d, n, 0.99)
            st, rs = Counter(), Counter()
            for x in self.strategies[lo:hi]:
                if x:
                    st.update(x)
            for x in self.reasons[lo:hi]:
                if x:
                    rs.update(x)
            m["strategies"] = _label_object(st, self.cfg["strategies"])
            m["fallback_reasons"] = _label_object(rs, self.cfg["fallback_reasons"])
        return m

    def rule_value(self, rule, T):
        """(value, samples) of a rule's metric over its window at T. Samples
        are observed events: requests for `requests`, outcomes with a
        duration for the latency metrics, outcomes otherwise."""
        W, metric = rule["window_s"], rule["metric"]
        if "." in metric or metric in ("latency_p95_ms", "latency_p99_ms"):
            m = self.metrics(T, W)
            if "." in metric:
                group, name = metric.split(".", 1)
                value = m[group].get(name, 0)
            else:
                value = m[metric]
        else:
            # only the sums this metric reads: the same definition, less work
            c = {f: self.count(f, T, W) for f in METRIC_FIELDS[metric]}
            value = scalar_metric(metric, c)
        if metric == "requests":
            samples = self.count("obs_requests", T, W)
        elif metric.startswith("latency_"):
            samples = self.count("obs_with_duration", T, W)
        else:
            samples = self.count("obs_outcomes", T, W)
        return (None if value is None else float(value)), samples

    def hist(self, T, W):
        """Section 4's latency histogram of window W at T: {bin: weighted
        count} over the outcomes with a duration (section 12's rank test)."""
        lo, hi = self._span(T, W)
        h = Counter()
        for d, w in chain.from_iterable(self.durations[lo:hi]):
            h[hist_bin(duration_us(d))] += w
        return h

    def compare_side(self, rule, T):
        """One cohort's side of a comparison rule at T (section 12): the
        metric's value and samples as section 5 has them (rule_value), and
        what the test reads: x and n, the metric's numerator and denominator
        (weighted), for a rate; the histogram for latency_mean_ms."""
        value, samples = self.rule_value(rule, T)
        side = {"value": value, "samples": samples}
        if rule["metric"] == "latency_mean_ms":
            side["hist"] = self.hist(T, rule["window_s"])
        else:
            x, n = RATE_PARTS[rule["metric"]]
            side["x"] = self.count(x, T, rule["window_s"])
            side["n"] = self.count(n, T, rule["window_s"])
        return side

    def seconds(self, lo, hi):
        """Indexes of the seconds lo .. hi-1 that the buckets hold."""
        return range(max(lo - self.base, 0), max(min(hi - self.base, len(self.durations)), 0))

    def reason_count(self, reason, lo, hi):
        """Fallbacks with `reason` (weighted) in seconds lo .. hi-1."""
        return sum(self.reasons[i][reason] for i in self.seconds(lo, hi) if self.reasons[i])

    def quiet(self, lo, hi):
        """Consecutive seconds without requests ending at hi-1, none before lo."""
        n = 0
        for s in range(hi - 1, lo - 1, -1):
            i = s - self.base
            if 0 <= i < len(self.durations) and self.arr["requests"][i] > 0:
                break
            n += 1
        return n

    def blind(self, rule, T):
        """9.7: the missing field when the rule's primary window at T holds
        traffic it should judge but none of it carries the field."""
        b = blind_field(rule["metric"])
        if b is None:
            return None
        missing, (holds, carries) = b
        W = rule["window_s"]
        if self.count(holds, T, W) > 0 and self.count(carries, T, W) == 0:
            return missing
        return None


HIST_SUB, HIST_LINEAR, HIST_TOP_EXP = 64, 128, 27
HIST_TOP_BIN = HIST_LINEAR + (HIST_TOP_EXP - 7) * HIST_SUB  # the open-ended bin


def hist_bin(us):
    """Section 4's bin of a duration held to the microsecond: in units of
    1/64 ms (floor), one bin per unit below 2 ms (128 units), then each
    power of two [2^e, 2^(e+1)) split into 64 equal bins, and one
    open-ended bin from 2^27 units (2,097,152 ms) up. Bins are numbered in
    increasing order of duration."""
    u = us * 64 // 1000
    if u < HIST_LINEAR:
        return u
    e = u.bit_length() - 1
    if e >= HIST_TOP_EXP:
        return HIST_TOP_BIN
    return HIST_LINEAR + (e - 7) * HIST_SUB + (u >> (e - 6)) - HIST_SUB


def nearest_rank(pairs, n, p):
    """The ceil(p*n)-th smallest duration, each (duration, w) counted w times."""
    rank = math.ceil(p * n)
    seen = 0
    for d, w in pairs:
        seen += w
        if seen >= rank:
            return d
    raise AssertionError("rank beyond the count")


SCALAR_METRICS = ("requests", "outcomes", "successes", "errors", "declined", "success_rate",
                  "error_rate", "latency_mean_ms", "latency_p95_ms", "latency_p99_ms",
                  "time_constraint_success_rate")
METRIC_FIELDS = {
    "requests": ("requests",), "outcomes": ("outcomes",), "successes": ("successes",),
    "errors": ("errors",), "declined": ("declined",),
    "success_rate": ("successes", "outcomes"), "error_rate": ("errors", "outcomes"),
    "latency_mean_ms": ("lat_us", "lat_n"),
    "time_constraint_success_rate": ("tc_true", "tc_known"),
}


# Section 12, "Comparison rules": a rate's numerator and denominator
RATE_PARTS = {"error_rate": ("errors", "outcomes"), "success_rate": ("successes", "outcomes"),
              "time_constraint_success_rate": ("tc_true", "tc_known")}


def scalar_metric(name, c):
    """One section 4 metric from window sums `c` (percentiles: None here)."""
    n = c.get("outcomes")
    if name in ("requests", "outcomes", "successes", "errors", "declined"):
        return c[name]
    if name == "success_rate":
        return c["successes"] / n if n else None
    if name == "error_rate":
        return c["errors"] / n if n else None
    if name == "latency_mean_ms":
        # sum held in microseconds, exact; one rounding for the division;
        # over the outcomes that have a duration (all of them, flat)
        n = c["lat_n"]
        return c["lat_us"] / (n * 1000.0) if n else None
    if name == "time_constraint_success_rate":
        return c["tc_true"] / c["tc_known"] if c["tc_known"] else None
    return None


def split_lines(data):
    """JSON Lines as the replay reads them: lines end at '\\n', one trailing
    '\\r' is dropped, empty lines are skipped."""
    out = []
    for line in data.split(b"\n"):
        if line.endswith(b"\r"):
            line = line[:-1]
        if line:
            out.append(line)
    return out


def replay(lines, config=None, start_s=None, soak_start_ms=None, signoffs=(), acks=()):
    """Replay lines (bytes, as split_lines cuts them: no line end; empty
    ones are skipped) through the contract. Returns Result(outputs: list of dicts, summary: dict).
    start_s: the watch start of a live run (section 3, live mode; `replay
    --start`): coverage starts there when no event came before it.
    With an `input` section the summary also has "filtered" (when filters are
    configured), "pairs" (when correlate is) and "blind" (rule -> [missing,
    instants], for rules blind at one instant or more).
    signoffs: the control file's sign-off messages (dicts), for the soak
    verdict. acks: its acknowledgements ({"id", "by", "ts"}), section 8.
    With `cohorts` configured (section 12) every accepted event carries
    its cohort, and the summary counts them: "cohorts" (cohort -> accepted
    events, soakwatch_cohort_events_total)."""
    cfg = make_config(config)
    inp = cfg["input"]
    summary = {"accepted": 0, "rejected": {}, "ignored": 0, "late": 0, "out_of_range": 0,
               "written": 0}
    pairs = None
    if inp is not None:
        if inp["filters"]:
            summary["filtered"] = 0
        if inp["correlate"] is not None:
            pairs = Pairs(inp["correlate"])
    lateness, max_gap = cfg["allowed_lateness_s"], cfg["max_gap_s"]
    accepted = []
    t0 = max_second = None
    # late and rejected input as the soak notes count it (section 11): the
    # last instant evaluated when each was read (None: none yet)
    troubles = {"late": [], "rejected": []}

    def trouble(kind):
        troubles[kind].append(None if max_second is None else max_second - lateness)
    keeper = Keeper(cfg["cohorts"]) if cfg["cohorts"] is not None and cfg["cohorts"]["keep"] \
        else None
    for raw in lines:
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogatepass")
        if not raw:
            continue
        for verdict, ev in decode_message(raw, cfg):
            if verdict == "ignored":
                summary["ignored"] += 1
                continue
            if verdict == "filtered":
                summary["filtered"] += 1
                continue
            if verdict != "ok":
                summary["rejected"][verdict] = summary["rejected"].get(verdict, 0) + 1
                trouble("rejected")
                continue
            ts = ev["ts_ms"]
            if ts < 0 or ts > TS_MAX_MS:
                summary["out_of_range"] += 1
                trouble("rejected")
                continue
            sec = ts // 1000
            if t0 is None and start_s is not None and sec > start_s:
                t0 = max_second = start_s  # watched since before this event
            if max_second is not None:
                if sec > max_second + max_gap:
                    summary["out_of_range"] += 1
                    trouble("rejected")
                    continue
                if sec < max_second - lateness:
                    summary["late"] += 1
                    trouble("late")
                    continue
            if t0 is None:
                t0 = max_second = sec
            if keeper is not None:
                ev["cohort"] = keeper.assign(ev["cohort"], sec)
            max_second = max(max_second, sec)
            if pairs is not None:
                pairs.accept(ev)  # may give the outcome its derived duration
            accepted.append((sec, ev))
            summary["accepted"] += 1
    outputs = []
    blind = {}
    if t0 is None and start_s is not None:
        t0 = max_second = start_s  # watched, and nothing came
    if t0 is not None:
        # An accepted event's second is never below an instant already
        # evaluated when it arrived (it is within the lateness of the greatest
        # second, and instants run only up to that minus the lateness), so
        # evaluating every instant after reading everything gives what an
        # interleaved evaluation gives.
        outputs, blind = evaluate(accepted, t0, max_second, cfg, acks, keeper)
        if cfg["soak"] is not None:
            outputs = soak_updates(outputs, accepted, t0, max_second, cfg, troubles,
                                   soak_start_ms, signoffs)
    summary["written"] = len(outputs)
    if pairs is not None:
        summary["pairs"] = dict(pairs.counts)
    if cfg["cohorts"] is not None:
        counts = Counter(ev["cohort"] for _, ev in accepted)
        names = keeper.names() if keeper is not None else cfg["cohorts"]["names"]
        summary["cohorts"] = {c: counts[c] for c in names}
    if inp is not None:
        summary["blind"] = {r["name"]: [blind_field(r["metric"])[0], blind[r["name"]]]
                            for r in cfg["rules"] if blind.get(r["name"])}
    return Result(outputs, summary)


# ---- section 12: comparison rules -------------------------------------------------------

def rate_z(t, c, d, op):
    """The two-proportion z test with the pooled proportion, on the sides'
    x (numerator) and n (denominator), weighted: d / se for > and >=,
    -d / se for < and <=. None when the test cannot be made: a side with
    n = 0 (its rate, and d, are null) or se = 0 (pooled p is 0 or 1).
    In doubles, in this order: p = (x_t + x_c) / (n_t + n_c) (the integer
    sums divided once), se = sqrt(p * (1 - p) * (1/n_t + 1/n_c))."""
    nt, nc = t["n"], c["n"]
    if not nt or not nc or d is None:
        return None
    p = (t["x"] + c["x"]) / (nt + nc)
    se = math.sqrt(p * (1.0 - p) * (1.0 / nt + 1.0 / nc))
    if se == 0:
        return None
    return d / se if op in (">", ">=") else -d / se


def rank_z(ht, hc, op):
    """The Mann-Whitney U test over two histograms ({bin: weighted count};
    a bin's durations are ties), normal approximation without continuity
    correction, with the tie correction: (U - mu) / sigma for > and >=,
    (mu - U) / sigma for < and <=. None when the test cannot be made:
    N < 2 or sigma^2 <= 0 (a side without durations, or every duration in
    one bin). In doubles, bins in increasing order, the counts exact
    integers:
        U += h_t[b] * (C[b] + h_c[b] / 2.0)     C[b]: control below b
        S += t * t * t - t                       t = h_t[b] + h_c[b], a double
        mu = n_t * n_c / 2.0
        sigma2 = n_t * n_c / 12.0 * ((N + 1) - S / (N * (N - 1)))
    (the products of counts n_t * n_c and N * (N - 1) are exact
    integers, each rounded once to a double)."""
    nt, nc = sum(ht.values()), sum(hc.values())
    n = nt + nc
    if n < 2:
        return None
    u = 0.0
    ties = 0.0
    below = 0  # the control's count in the bins below b
    for b in sorted(set(ht) | set(hc)):
        a, c = ht.get(b, 0), hc.get(b, 0)
        u += float(a) * (float(below) + float(c) / 2.0)
        t = float(a + c)
        ties += t * t * t - t
        below += c
    mu = float(nt * nc) / 2.0
    sigma2 = float(nt * nc) / 12.0 * (float(n + 1) - ties / float(n * (n - 1)))
    if not sigma2 > 0:
        return None
    sigma = math.sqrt(sigma2)
    return (u - mu) / sigma if op in (">", ">=") else (mu - u) / sigma


def one_sided_p(z):
    """p = erfc(z / sqrt 2) / 2: the normal upper tail beyond z."""
    return math.erfc(z / math.sqrt(2.0)) / 2.0


def compare_look(rule, t, c):
    """A comparison rule at one instant, from its two sides (as
    Buckets.compare_side gives them): d = treatment's value - control's
    (None when either is null), the statistic z and its p-value (both None
    when the test could not be made, whatever min_samples says), and
    alpha / horizon_s."""
    d = None if t["value"] is None or c["value"] is None else t["value"] - c["value"]
    if rule["metric"] == "latency_mean_ms":
        z = rank_z(t["hist"], c["hist"], rule["op"])
    else:
        z = rate_z(t, c, d, rule["op"])
    cmp = rule["compare"]
    return {"treatment": t, "control": c, "d": d, "statistic": z,
            "p_value": None if z is None else one_sided_p(z),
            "alpha_per_look": cmp["alpha"] / cmp["horizon_s"]}


def significant(look):
    """z > 0 and p <= alpha / L."""
    z = look["statistic"]
    return z is not None and z > 0 and look["p_value"] <= look["alpha_per_look"]


class RuleState:
    """One rule's state, over the whole topic or (section 12) over one
    cohort: sections 5 and 8, edge-triggered, with hysteresis, latching and
    missing data. cohort is None for the whole topic."""

    def __init__(self, rule, cohort=None):
        self.rule = rule
        self.cohort = cohort
        self.firing = False
        self.latched = False
        self.fired_at = None
        self.clear_since = None  # the first instant of the current clear run
        self.acked = None        # (id, by): told by the next resolved event

    def key(self):
        """"RULE" or, for a cohort, "RULE:COHORT" (section 12's cohorts_firing)."""
        if self.cohort is None:
            return self.rule["name"]
        return "%s:%s" % (self.rule["name"], self.cohort)

    def firing_id(self):
        """The id of its current firing: "RULE:AT_MS" (section 8), for a
        cohort "RULE:COHORT:AT_MS" (section 12)."""
        return "%s:%d" % (self.key(), self.fired_at * 1000)

    def judge(self, value, samples):
        """(cond, judged) at one instant. Judged: samples >= min_samples and
        a value (section 5); while firing the comparison uses
        `resolve_threshold` when the rule has one (section 8)."""
        rule = self.rule
        judged = samples >= rule["min_samples"] and value is not None
        threshold = rule["threshold"]
        if self.firing and "resolve_threshold" in rule:
            threshold = rule["resolve_threshold"]
        return judged and OPS[rule["op"]](value, float(threshold)), judged

    def judge_compare(self, look):
        """(cond, judged) of a comparison rule (section 12). Judged: both
        sides have min_samples samples and d is not null (section 8's
        missing data); the condition: judged, `d op threshold`
        (resolve_threshold while firing) and the test significant."""
        rule = self.rule
        judged = (look["treatment"]["samples"] >= rule["min_samples"]
                  and look["control"]["samples"] >= rule["min_samples"]
                  and look["d"] is not None)
        threshold = rule["threshold"]
        if self.firing and "resolve_threshold" in rule:
            threshold = rule["resolve_threshold"]
        return (judged and OPS[rule["op"]](look["d"], float(threshold))
                and significant(look)), judged

    def step(self, T, cond, judged):
        """Sections 5 and 8: fire when the condition holds; resolve once it
        has been false (or, with hold_when_no_data, judged false) for
        keep_firing_for_s and no latch holds it. True on a transition."""
        rule = self.rule
        if not self.firing:
            if not cond:
                return False
            self.firing = True
            self.latched = bool(rule.get("latch"))
            self.fired_at = T
            self.clear_since = None
            self.acked = None
            return True
        if cond or (rule.get("hold_when_no_data") and not judged):
            self.clear_since = None
            return False
        if self.clear_since is None:
            self.clear_since = T
        if self.latched or T - self.clear_since < rule.get("keep_firing_for_s", 0):
            return False
        self.firing = False
        self.clear_since = None
        return True


def ack_instants(acks, t0):
    """Section 8: an acknowledgement applies at the first instant not yet
    evaluated at or after its `ts`; in a file replay its ts rounded up to a
    whole second, and never before t0, the first instant evaluated. In
    order of that instant, the file's order among equals."""
    out = []
    for m in acks:
        ts = m["ts"] if _is_int(m["ts"]) else parse_rfc3339(m["ts"])
        A = 0 if ts <= 0 else -(-ts // 1000)
        out.append((max(A, t0), m["id"], m["by"]))
    return sorted(out, key=lambda a: a[0])


def apply_acks(due, states, unmatched):
    """Section 8 (and 12): each acknowledgement due releases the firing it
    names by id, of a rule or of a cohort state; the resolved event then
    says who acknowledged it. One naming no current firing changes nothing."""
    for _, ack_id, by in due:
        hit = False
        for st in states:
            if st.firing and st.firing_id() == ack_id:
                st.latched = False
                st.acked = (ack_id, by)
                hit = True
        if not hit:
            unmatched.append(ack_id)


def evaluate(accepted, t0, max_second, cfg, acks=(), keeper=None):
    """(outputs, blind instants per rule name). keeper: the values kept
    first come (cohorts.max), or None."""
    base = min([sec for sec, _ in accepted] + [t0])
    b = Buckets(accepted, base, max_second, cfg)
    rules = cfg["rules"]
    st = cfg["status"]
    mapped = cfg["input"] is not None
    # Section 12, "Windows and scoped rules": each cohort a scoped rule
    # judges has its own windows over the accepted events of that cohort
    # alone, on the whole topic's seconds (same base, t0 and instants).
    scoped = {c for rule in rules if rule["scope"] for c in rule["scope"]}
    scoped |= {rule["compare"]["control"] for rule in rules if "compare" in rule}
    names = keeper.names() if keeper is not None else \
        (cfg["cohorts"]["names"] if cfg["cohorts"] is not None else [])
    scoped |= set(names)  # every cohort's status metrics (section 12, Output)
    cohort_buckets = {c: Buckets([(sec, ev) for sec, ev in accepted if ev["cohort"] == c],
                                 base, max_second, cfg)
                      for c in scoped}
    # One state per whole-topic rule; a scoped rule one per cohort of its
    # scope, in cohort order (section 12). `states` is in evaluation order:
    # rules in list order and, within a rule, its cohorts in cohort order.
    states = []
    for rule in rules:
        if rule["scope"] is None:
            states.append(RuleState(rule))
        else:
            states.extend(RuleState(rule, c) for c in (names if rule.get("each")
                                                       else rule["scope"]))
    judged_from = keeper.judged_from if keeper is not None else (lambda c: None)
    pending = ack_instants(acks, t0)
    unmatched = []
    blind_instants = Counter()
    outputs = []
    watches = [None] * len(rules)  # section 10: the watch of each rule's last firing
    for T in range(t0, max_second + 2):
        # acknowledgements first (section 8), then the rules
        due = [a for a in pending if a[0] <= T]
        pending = pending[len(due):]
        apply_acks(due, states, unmatched)
        blind_now = []
        changed = {}
        for s in states:
            rule = s.rule
            W = rule["window_s"]
            if T - W < t0:
                continue
            if s.cohort is not None and T < (judged_from(s.cohort) or T):
                continue  # a value kept first come, judged from the instant after its keeping
            wb = b if s.cohort is None else cohort_buckets[s.cohort]
            look = None
            if "compare" in rule:
                # section 12: the treatment (s.cohort) against the control
                look = compare_look(rule, wb.compare_side(rule, T),
                                    cohort_buckets[rule["compare"]["control"]]
                                    .compare_side(rule, T))
                value, samples = look["d"], look["treatment"]["samples"]
                cond, judged = s.judge_compare(look)
            else:
                value, samples = wb.rule_value(rule, T)
                cond, judged = s.judge(value, samples)
            if s.step(T, cond, judged):
                if s.cohort is None:
                    changed[rule["name"]] = "firing" if s.firing else "resolved"
                outputs.append(trigger_event(s, T, value, samples, cfg, look))
                if not s.firing:
                    s.acked = None  # told, by this resolution
            # 9.7 blindness: reported for the whole topic's rules (section 12
            # says nothing of a cohort's blindness in the status event)
            missing = b.blind(rule, T) if mapped and s.cohort is None else None
            if missing:
                blind_now.append({"rule": rule["name"], "missing": missing})
                blind_instants[rule["name"]] += 1
        if cfg["rollback"]["check"]:
            # Section 12: rollback checks follow the whole topic's rules only.
            for i, rule in enumerate(rules):
                if rule["scope"] is None:
                    outputs.extend(rollback_checks(b, rule, watches, i,
                                                   changed.get(rule["name"]), T, cfg))
        interval = st["interval_s"]
        if T % interval == 0 and T >= t0 + interval:
            firing = [s.rule["name"] for s in states if s.cohort is None and s.firing]
            cohorts_firing = None
            if cfg["cohorts"] is not None:
                cohorts_firing = [s.key() for s in states if s.cohort is not None and s.firing]
            event = status_event(b, T, t0, firing, cfg, blind_now, cohorts_firing)
            if cfg["cohorts"] is not None:
                event["cohorts"] = cohort_windows(cohort_buckets, T, t0, cfg, names,
                                                  judged_from)
            outputs.append(event)
    return outputs, blind_instants


def cohort_windows(cohort_buckets, T, t0, cfg, names, judged_from):
    """Section 12, Output: each cohort's section 4 metrics over the status
    window at T, in cohort order (the listed values, the values kept first
    come from the instant after their keeping, then other), with
    observed_s while the window is partial."""
    W = cfg["status"]["window_s"]
    out = {}
    for c in names:
        if T < (judged_from(c) or T):
            continue
        m = cohort_buckets[c].metrics(T, W)
        if T - W < t0:
            m["observed_s"] = T - t0
        out[c] = m
    return out


def trigger_event(s, T, value, samples, cfg, look=None):
    """Section 7's rollback trigger of state s at T; section 12 adds
    `cohort` right after `rule` for a cohort, whose id is
    "RULE:COHORT:AT_MS" and whose action when firing is the rule's
    `action`. Section 8's fields follow `action`, each only when the rule
    uses its option: resolve_threshold, latched, acknowledged. A
    comparison rule (look: its compare_look at T) is the treatment's
    cohort state, with value d and the treatment's samples, and ends
    with `compare`."""
    rule = s.rule
    W = rule["window_s"]
    ev = {
        "type": "rollback_trigger", "schema_version": 1,
        "id": "%s:%d" % (s.key(), T * 1000),
        "rule": rule["name"],
    }
    if s.cohort is not None:
        ev["cohort"] = s.cohort
    ev.update({
        "state": "firing" if s.firing else "resolved",
        "at_ms": T * 1000, "at": format_rfc3339_ms(T * 1000),
        "window_s": W, "window_start_ms": (T - W) * 1000, "window_end_ms": T * 1000,
        "metric": rule["metric"], "op": rule["op"], "threshold": rule["threshold"],
        "value": value, "samples": samples, "feature": cfg["feature"],
        "action": rule["action"] if s.firing else "none",
    })
    if "resolve_threshold" in rule:
        ev["resolve_threshold"] = rule["resolve_threshold"]
    if rule.get("latch"):
        ev["latched"] = s.firing
    if not s.firing and s.acked is not None:
        ev["acknowledged"] = {"id": s.acked[0], "by": s.acked[1]}
    if look is not None:
        cmp = rule["compare"]
        ev["compare"] = {
            "treatment": {"cohort": cmp["treatment"], "value": look["treatment"]["value"],
                          "samples": look["treatment"]["samples"]},
            "control": {"cohort": cmp["control"], "value": look["control"]["value"],
                        "samples": look["control"]["samples"]},
            "statistic": look["statistic"], "p_value": look["p_value"],
            "alpha_per_look": look["alpha_per_look"],
        }
    return ev


def rollback_checks(b, rule, watches, i, change, T, cfg):
    """Section 10 at instant T for rule i, after every rule's transition:
    the check events, in order. watches[i] is the watch of the rule's last
    firing: {"F", "verdict" (None while pending), "verified_at",
    "evidence", "baseline" (reported)}, kept while it can still report."""
    rb = cfg["rollback"]
    out = []
    w = watches[i]
    if change == "firing":
        if w is not None and w["verdict"] is None:
            out.append(check_event(b, rule, w, "not_verified", T, cfg))
        watches[i] = {"F": T, "verdict": None, "verified_at": None, "evidence": None,
                      "baseline": False}
        return out
    if w is None:
        return out
    F = w["F"]
    if w["verdict"] is None and F < T <= F + rb["verify_within_s"]:
        u = b.reason_count(rb["reason"], F, T)
        q = b.quiet(F, T)
        if u >= rb["unavailable_min"] or q >= rb["quiet_s"]:
            w["verdict"] = "verified"
            w["verified_at"] = T
            w["evidence"] = rb["reason"] if u >= rb["unavailable_min"] else "no_requests"
            out.append(check_event(b, rule, w, "verified", T, cfg))
        elif T == F + rb["verify_within_s"]:
            w["verdict"] = "not_verified"
            out.append(check_event(b, rule, w, "not_verified", T, cfg))
    if change == "resolved" and not w["baseline"]:
        w["baseline"] = True
        out.append(check_event(b, rule, w, "baseline", T, cfg))
    return out


def check_event(b, rule, w, state, T, cfg):
    rb = cfg["rollback"]
    F = w["F"]
    return {
        "type": "rollback_check", "schema_version": 1,
        "id": "%s:%d:%s" % (rule["name"], F * 1000, state),
        "rule": rule["name"], "state": state,
        "at_ms": T * 1000, "at": format_rfc3339_ms(T * 1000),
        "fired_at_ms": F * 1000, "verify_within_s": rb["verify_within_s"],
        "unavailable": b.reason_count(rb["reason"], F, T), "quiet_s": b.quiet(F, T),
        "evidence": None if state == "not_verified" else w["evidence"],
        "verified_at_ms": None if w["verified_at"] is None else w["verified_at"] * 1000,
        "feature": cfg["feature"],
        "action": "escalate" if state == "not_verified" else "none",
    }


def status_event(b, T, t0, firing_names, cfg, blind=(), cohorts_firing=None):
    st = cfg["status"]
    windows = {str(W): b.metrics(T, W) for W in st["windows_s"]}
    for W in st["windows_s"]:
        if T - W < t0:  # section 6: a window not yet observed whole says how much was
            windows[str(W)]["observed_s"] = T - t0
    w = b.metrics(T, st["window_s"], full=False)
    observed_outcomes = b.count("obs_outcomes", T, st["window_s"])
    if firing_names or cohorts_firing:  # section 12: a firing cohort state is red too
        colour = "red"
    elif (blind
          or observed_outcomes < st["min_outcomes"]
          or (w["success_rate"] is not None and w["success_rate"] <= st["success_rate_min"])
          or (w["error_rate"] is not None and w["error_rate"] >= st["error_rate_max"])
          or (w["latency_mean_ms"] is not None
              and w["latency_mean_ms"] >= st["latency_mean_max_ms"])):
        colour = "yellow"
    else:
        colour = "green"
    event = {
        "type": "status", "schema_version": 1, "at_ms": T * 1000,
        "at": format_rfc3339_ms(T * 1000), "status": colour, "firing": firing_names,
    }
    if cohorts_firing is not None:  # section 12: with cohorts configured, right after firing
        event["cohorts_firing"] = cohorts_firing
    if blind:
        event["blind"] = list(blind)
    event["windows"] = windows
    return event


# ---- section 11: the soak cadence --------------------------------------------

SOAK_PHASES = [  # (last hour of the phase, name, focus, the plan's metric telemetry cannot give)
    (1, "Initial Deployment Verification", "Deployment confirmation and initial metrics", None),
    (2, "Load Testing Initiation", "Begin load testing and performance validation",
     "Memory Usage: not measured by soakwatch (Target: <80%)"),
    (4, "Extended Load Testing", "Sustained load testing and stability", None),
    (6, "Integration Testing", "Frontend integration and user flow testing",
     "Integration Tests: not reported by the telemetry"),
    (8, "Stability Validation", "Extended stability and performance optimization",
     "Uptime: not measured by soakwatch (Target: >99%)"),
    (12, "Extended Stability", "24-hour stability validation", None),
    (24, "Daily Assessment", "First 24-hour assessment and Week 2 preparation", None),
    (None, "Final Validation", "Complete 48-hour validation and final decision", None),
]
SOAK_MAX_NOTES = 32
COLOURS = ["green", "yellow", "red"]


def soak_config(val):
    s = json.loads(json.dumps(SOAK_DEFAULTS))
    if val is None:
        return None
    for k, v in val.items():
        if k not in s:
            raise ValueError("reference: unsupported config key soak.%s" % k)
        if k == "targets":
            s["targets"].update(v)
        elif k == "start" and isinstance(v, str):
            s["start"] = parse_rfc3339(v)
        else:
            s[k] = v
    return s


def soak_phase(hour_to):
    for upto, name, focus, extra in SOAK_PHASES:
        if upto is None or hour_to <= upto:
            return name, focus, extra


def soak_hours(hours):
    """The hours that end a period: 1..8, then every 4th, and the last."""
    out = [h for h in range(1, min(hours, 8) + 1)]
    h = 12
    while h < hours:
        out.append(h)
        h += 4
    if hours > 8:
        out.append(hours)
    return out


def _pct(v):
    return "%.2f%%" % (v * 100.0)


def soak_text(ev, s, extra):
    lines = ["\U0001f550 %s - Hour %d" % (s["title"], ev["hour_to"]), "",
             "\U0001f4ca Key Metrics:"]
    labels = {"success_rate": "Success Rate", "latency_mean_ms": "Response Time",
              "error_rate": "Error Rate", "time_constraint_success_rate": "Compression Success"}
    for c in ev["checks"]:
        ms = c["name"] == "latency_mean_ms"
        if c["value"] is None:
            val = "n/a"
        else:
            val = "%.3fs" % (c["value"] / 1000.0) if ms else _pct(c["value"])
        target = ("%s%gs" % (c["op"], c["target"] / 1000.0) if ms
                  else "%s%g%%" % (c["op"], c["target"] * 100.0))
        mark = {None: "\u2796 not judged", True: "\u2705", False: "\u274c"}[c["pass"]]
        lines.append("- %s: %s (Target: %s) %s" % (labels[c["name"]], val, target, mark))
    lines.append("- Requests: %d requests" % ev["requests"])
    if extra:
        lines.append("- " + extra)
    lines.append("")
    lines.append("\U0001f50d Status: " + (ev["status"].capitalize() if ev["status"]
                                            else "none in this period"))
    notes = ["%s%s %s at %s" % (t["rule"], " [%s]" % t["cohort"] if "cohort" in t else "",
                                t["state"], format_rfc3339_ms(t["at_ms"]))
             for t in ev["notes"]["triggers"]]
    n = ev["notes"]
    if n["triggers_omitted"]:
        notes.append("%d more rule transitions" % n["triggers_omitted"])
    if n["uncovered_s"]:
        notes.append("coverage began %d s into the period" % n["uncovered_s"])
    if n["late"]:
        notes.append("%d late events" % n["late"])
    if n["rejected"]:
        notes.append("%d rejected inputs" % n["rejected"])
    lines.append("\U0001f4dd Notes: " + ("; ".join(notes) if notes else "none"))
    nx = ev["next"]
    if nx is None:
        lines.append("\u23ed\ufe0f Next: none, this is the final update")
    else:
        hrs = ("Hour %d" % nx["hour_to"] if nx["hour_to"] == nx["hour_from"] + 1
               else "Hours %d-%d" % (nx["hour_from"] + 1, nx["hour_to"]))
        lines.append("\u23ed\ufe0f Next: %s: %s (%s)" % (hrs, nx["phase"], nx["focus"]))
    lines.append("")
    lines.append("Dashboard: " + (s["dashboard_url"] or "not configured"))
    return "\n".join(lines)


def soak_note(t):
    """A trigger as the notes list it: id, rule, its cohort (section 12)
    when it has one, state, at_ms."""
    note = {"id": t["id"], "rule": t["rule"]}
    if "cohort" in t:
        note["cohort"] = t["cohort"]
    note.update(state=t["state"], at_ms=t["at_ms"])
    return note


def soak_event(U, S, hf, ht, c, statuses, trig, late, rejected, t0, nxt, cfg):
    s, tg = cfg["soak"], cfg["soak"]["targets"]
    m = {name: scalar_metric(name, c) for name in
         ("requests", "outcomes", "successes", "errors", "success_rate", "error_rate",
          "latency_mean_ms", "time_constraint_success_rate")}
    checks = []
    for name, op, target in (("success_rate", ">", tg["success_rate_min"]),
                             ("latency_mean_ms", "<", tg["latency_mean_max_ms"]),
                             ("error_rate", "<", tg["error_rate_max"]),
                             ("time_constraint_success_rate", ">", tg["compression_success_min"])):
        v = m[name]
        ok = None if v is None else (v > target if op == ">" else v < target)
        checks.append({"name": name, "value": v, "op": op, "target": target, "pass": ok})
    ps = S + 3600 * hf
    name, focus, extra = soak_phase(ht)
    ev = {"type": "soak_update", "schema_version": 1, "at_ms": U * 1000,
          "at": format_rfc3339_ms(U * 1000), "soak_start_ms": S * 1000,
          "hour_from": hf, "hour_to": ht, "period_start_ms": ps * 1000,
          "period_end_ms": U * 1000, "phase": name, "focus": focus}
    ev.update(m)
    ev["status"] = max(statuses, key=COLOURS.index) if statuses else None
    ev["checks"] = checks
    ev["notes"] = {"triggers": [soak_note(t) for t in trig[:SOAK_MAX_NOTES]],
                   "triggers_omitted": max(len(trig) - SOAK_MAX_NOTES, 0),
                   "uncovered_s": max(t0 - ps, 0), "late": late, "rejected": rejected}
    ev["next"] = None
    if nxt is not None:
        nname, nfocus, _ = soak_phase(nxt)
        ev["next"] = {"hour_from": ht, "hour_to": nxt, "phase": nname, "focus": nfocus}
    ev["text"] = soak_text(ev, s, extra)
    return ev


def soak_updates(outputs, accepted, t0, max_second, cfg, troubles, soak_start_ms=None,
                 signoffs=()):
    """Section 11: the outputs with a soak_update after the events of each
    period end U = S + 3600 h that a replay evaluates (t0 <= U <= max_second + 1)."""
    s = cfg["soak"]
    unit = cfg["status"]["interval_s"]
    start = soak_start_ms if soak_start_ms is not None else s["start"]
    base = -(-start // 1000) if start is not None else t0
    S = -(-base // unit) * unit
    hours = soak_hours(s["hours"])
    ends = [(i, S + 3600 * h) for i, h in enumerate(hours)]
    ends = [(i, U) for i, U in ends if t0 <= U <= max_second + 1]
    result = []
    k = 0
    prev_U = None
    for i, U in ends:
        hf = hours[i - 1] if i > 0 else 0
        ht = hours[i]
        ps = S + 3600 * hf
        c = Counter()
        for sec, ev in accepted:
            if ps <= sec < U:
                _soak_add(c, ev, cfg)
        statuses = [o["status"] for o in outputs
                    if o["type"] == "status" and ps * 1000 < o["at_ms"] <= U * 1000]
        trig = [o for o in outputs
                if o["type"] == "rollback_trigger" and ps * 1000 < o["at_ms"] <= U * 1000]
        # input read while U was not yet evaluated, and after the previous update was
        counted = lambda lst: sum(1 for e in lst if (e is None or e < U) and
                                  (prev_U is None or (e is not None and e >= prev_U)))
        late, rejected = counted(troubles["late"]), counted(troubles["rejected"])
        nxt = hours[i + 1] if i + 1 < len(hours) else None
        ev = soak_event(U, S, hf, ht, c, statuses, trig, late, rejected, t0, nxt, cfg)
        while k < len(outputs) and outputs[k]["at_ms"] <= U * 1000:
            result.append(outputs[k])
            k += 1
        result.append(ev)
        prev_U = U
        h = ht
        if h == s["hours"] or (h == 24 and s["hours"] > 24):
            result.append(soak_verdict(U, S, h, accepted, outputs, t0, cfg, signoffs))
    result.extend(outputs[k:])
    return result


def signoff_instants(signoffs, cfg):
    """The first sign-off of each known criterion: (instant, by). A file's
    sign-off applies at its time rounded up to a whole second."""
    keys = [d["key"] for d in cfg["soak"]["signoffs"]]
    got = {}
    for m in sorted(signoffs, key=lambda m: m["ts"]):
        ts = m["ts"] if isinstance(m["ts"], int) else parse_rfc3339(m["ts"])
        A = 0 if ts <= 0 else -(-ts // 1000)
        if m["criterion"] in keys and m["criterion"] not in got:
            got[m["criterion"]] = (A, m["by"])
    return got


def soak_verdict(U, S, hour, accepted, outputs, t0, cfg, signoffs):
    """Section 11: the go/no-go at soak hour `hour`, instant U."""
    s, tg = cfg["soak"], cfg["soak"]["targets"]
    run = best = 0
    for k in range(1, hour + 1):
        he = S + 3600 * k
        c = Counter()
        for sec, ev in accepted:
            if he - 3600 <= sec < he:
                _soak_add(c, ev, cfg)
        sr = scalar_metric("success_rate", c)
        ok = he - 3600 >= t0 and sr is not None and sr > tg["success_rate_min"]
        run = run + 1 if ok else 0
        best = max(best, run)
    c = Counter()
    for sec, ev in accepted:
        if S <= sec < U:
            _soak_add(c, ev, cfg)
    lat, err = scalar_metric("latency_mean_ms", c), scalar_metric("error_rate", c)
    fired = sum(1 for o in outputs if o["type"] == "rollback_trigger" and o["state"] == "firing"
                and S * 1000 < o["at_ms"] <= U * 1000)

    def tech(key, title, ok, detail):
        return {"key": key, "title": title, "kind": "technical", "pass": ok, "detail": detail,
                "by": None}
    crit = [
        tech("success_rate_24h", "Success rate > %g%% for %d+ hours"
             % (tg["success_rate_min"] * 100.0, min(24, s["hours"])),
             best >= min(24, s["hours"]), "longest run %d h, current run %d h" % (best, run)),
        tech("latency_mean", "Response time < %gs average" % (tg["latency_mean_max_ms"] / 1000.0),
             lat is not None and lat < tg["latency_mean_max_ms"],
             "no response times in the soak" if lat is None else "%.3fs over the soak" % (lat / 1000.0)),
        tech("error_rate", "Error rate < %g%%" % (tg["error_rate_max"] * 100.0),
             err is not None and err < tg["error_rate_max"],
             "no outcomes in the soak" if err is None else "%.2f%% over the soak" % (err * 100.0)),
        tech("no_rollback_trigger", "No rollback trigger fired", fired == 0,
             "%d fired since the soak start" % fired),
    ]
    signed = signoff_instants(signoffs, cfg)
    for d in s["signoffs"]:
        A, by = signed.get(d["key"], (None, None))
        if A is not None and A > U:
            A = by = None
        crit.append({"key": d["key"], "title": d["title"], "kind": "signoff",
                     "pass": A is not None,
                     "detail": "not signed off" if A is None else
                     "signed off at " + format_rfc3339_ms(A * 1000), "by": by})
    failed = any(not c["pass"] for c in crit if c["kind"] == "technical")
    missing = any(not c["pass"] for c in crit if c["kind"] == "signoff")
    verdict = "no_go" if failed else "pending" if missing else "go"
    final = hour == s["hours"]
    lines = ["\U0001f3af %s - Hour %d %s: %s" % (s["title"], hour,
                                                 "Final Decision" if final else "Assessment (provisional)",
                                                 {"go": "GO", "no_go": "NO-GO", "pending": "PENDING"}[verdict]),
             "", "Success Criteria for Week 2 Beta Rollout", "", "Technical Metrics:"]
    for i, c in enumerate(crit):
        if i == 4:
            lines += ["", "Operational Metrics:"]
        lines.append("- [%s] %s: %s%s" % ("x" if c["pass"] else " ", c["title"], c["detail"],
                                          " by " + c["by"] if c["by"] else ""))
    if len(crit) == 4:
        lines += ["", "Operational Metrics: none configured"]
    lines += ["", {"go": "Decision: GO for the Week 2 beta rollout",
                   "no_go": "Decision: NO-GO, a technical criterion failed",
                   "pending": "Decision: PENDING, sign-offs missing"}[verdict]]
    return {"type": "soak_verdict", "schema_version": 1, "id": "soak_verdict:%d" % (U * 1000),
            "at_ms": U * 1000, "at": format_rfc3339_ms(U * 1000), "soak_start_ms": S * 1000,
            "kind": "final" if final else "provisional", "verdict": verdict, "criteria": crit,
            "text": "\n".join(lines)}


def _soak_add(c, ev, cfg):
    error_reasons = cfg["input"]["error_reasons"] if cfg["input"] else ["internal_error"]
    w = ev.get("weight", 1)
    kind = ev["kind"]
    if kind == "requested":
        c["requests"] += w
    elif kind in ("succeeded", "fallback"):
        c["outcomes"] += w
        if ev["duration_ms"] is not None:
            c["lat_us"] += w * duration_us(ev["duration_ms"])
            c["lat_n"] += w
        if is_error(ev, error_reasons):
            c["errors"] += w
        if kind == "succeeded":
            c["successes"] += w
            if ev["tc"] is not None:
                c["tc_known"] += w
                c["tc_true"] += w if ev["tc"] else 0


# ---- rendering -----------------------------------------------------------------------

def _plain(v):
    """Integral floats as integers, as soakwatch writes them ("1", not "1.0")."""
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return int(v)
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_plain(x) for x in v]
    return v


def dumps(event):
    return json.dumps(_plain(event), separators=(",", ":"), ensure_ascii=False)


def summary_line(s):
    """The summary as soakwatch prints it on stderr (without "soakwatch: ")."""
    rejected = sum(s["rejected"].values())
    text = "%d accepted; %d rejected" % (s["accepted"], rejected)
    if rejected:
        text += " (" + ", ".join("%s %d" % (n, s["rejected"][n]) for n in REJECT_NAMES
                                  if s["rejected"].get(n)) + ")"
    text += "; %d ignored; %d late; %d out of range; %d events written" % (
        s["ignored"], s["late"], s["out_of_range"], s["written"])
    if "filtered" in s:
        text += "; %d filtered" % s["filtered"]
    if "pairs" in s:
        text += "; pairs " + ", ".join("%d %s" % (s["pairs"][n], n) for n in Pairs.NAMES)
    if s.get("blind"):
        text += "; blind " + ", ".join("%s (%s) %d instants" % (name, missing, n)
                                       for name, (missing, n) in s["blind"].items())
    return text



# ---- comparison ------------------------------------------------------------------------

PERCENTILES = ("latency_p95_ms", "latency_p99_ms")


def _same(path, want, got, diffs, metric=None):
    key = path.rsplit(".", 1)[-1]
    if isinstance(want, dict) and isinstance(got, dict):
        if list(want) != list(got):
            diffs.append("%s: keys %s, expected %s" % (path, list(got), list(want)))
            return
        for k in want:
            # a trigger's value on a percentile comes from the histogram too
            _same(path + "." + k, want[k], got[k], diffs, want.get("metric"))
    elif isinstance(want, list) and isinstance(got, list):
        if len(want) != len(got):
            diffs.append("%s: %r, expected %r" % (path, got, want))
            return
        for i, (w, g) in enumerate(zip(want, got)):
            _same("%s[%d]" % (path, i), w, g, diffs)
    elif (key in PERCENTILES or key == "value" and metric in PERCENTILES) and _num(want) \
            and _num(got):
        if abs(got - want) > 0.01 * abs(want):
            diffs.append("%s: %r, expected %r within 1%%" % (path, got, want))
    elif _num(want) and _num(got):
        if float(want) != float(got):
            diffs.append("%s: %r, expected %r" % (path, got, want))
    elif want != got or type(want) is not type(got):
        diffs.append("%s: %r, expected %r" % (path, got, want))


def _num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def compare(expected, actual, limit=10):
    """Differences between two lists of output events, as lines: field by
    field, the percentiles within 1% relative, everything else exact (key
    order included). Empty when they agree."""
    diffs = []
    for i, (w, g) in enumerate(zip(expected, actual)):
        _same("event %d (%s %s)" % (i, w.get("type"), w.get("id", w.get("at"))), w, g, diffs)
        if len(diffs) >= limit:
            return diffs[:limit]
    if len(expected) != len(actual):
        diffs.append("%d events, expected %d" % (len(actual), len(expected)))
    return diffs[:limit]


def read_input(path):
    """Bytes of a plain or gzip file ("-": stdin)."""
    if path == "-":
        data = sys.stdin.buffer.read()
    else:
        with open(path, "rb") as f:
            data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data


def read_control(path):
    """(acks, signoffs) of a control file: one JSON object a line, by "type"."""
    acks, signoffs = [], []
    with open(path, "rb") as f:
        for raw in split_lines(f.read()):
            m = json.loads(raw)
            if m.get("type") == "ack":
                acks.append(m)
            elif m.get("type") == "signoff":
                signoffs.append(m)
    return acks, signoffs


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", help="JSON config overriding the defaults")
    ap.add_argument("--input", default="-")
    ap.add_argument("--output", default="-")
    ap.add_argument("--soak-start", type=int, default=None,
                    help="the soak starts here (epoch milliseconds); turns the cadence on")
    ap.add_argument("--start", type=int, default=None,
                    help="coverage starts at this second at the latest (epoch seconds)")
    ap.add_argument("--control", default=None,
                    help="control file: acknowledgements and sign-offs, one JSON a line")
    a = ap.parse_args(argv)
    acks, signoffs = read_control(a.control) if a.control else ([], [])
    config = None
    if a.config:
        with open(a.config) as f:
            config = json.load(f)
    if a.soak_start is not None:
        config = dict(config or {})
        config.setdefault("soak", {})
    res = replay(split_lines(read_input(a.input)), config, a.start, a.soak_start,
                 signoffs, acks)
    out = sys.stdout if a.output == "-" else open(a.output, "w")
    for ev in res.outputs:
        out.write(dumps(ev) + "\n")
    if out is not sys.stdout:
        out.close()
    print("reference: " + summary_line(res.summary), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
