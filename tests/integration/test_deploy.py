"""Offline checks of everything under deploy/ and of the Dockerfile: YAML
style, Kubernetes schemas and cross-references, the Prometheus rules (syntax
and behaviour, with promtool), the Grafana dashboard, the metric names both
use, and the ConfigMap's config as soakwatch itself reads it.

No cluster, registry or container engine is needed. A tool that is missing
fails the test when CI is set, and skips it otherwise."""
import copy
import json
import os
import re
import shutil
import subprocess
import textwrap

import jsonschema
import pytest
import yaml

SRC = os.environ.get("SOAKWATCH_SRC") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
K8S = os.path.join(SRC, "deploy", "k8s")
RULES = os.path.join(SRC, "deploy", "prometheus", "soakwatch-rules.yaml")
DASHBOARD = os.path.join(SRC, "deploy", "grafana", "soakwatch-dashboard.json")
DOCKERFILE = os.path.join(SRC, "Dockerfile")
DEPLOYMENT_DOC = os.path.join(SRC, "docs", "deployment.md")

# The metric names soakwatch exposes (docs/metrics.md): dashboards and alert
# rules may use these and nothing else.
CONTRACT_METRICS = {
    "soakwatch_window_requests", "soakwatch_window_outcomes", "soakwatch_window_successes",
    "soakwatch_window_errors", "soakwatch_window_declined", "soakwatch_window_success_ratio",
    "soakwatch_window_error_ratio", "soakwatch_window_latency_mean_seconds",
    "soakwatch_window_latency_p95_seconds", "soakwatch_window_latency_p99_seconds",
    "soakwatch_window_time_constraint_success_ratio", "soakwatch_window_strategy_outcomes",
    "soakwatch_window_fallbacks", "soakwatch_rule_firing", "soakwatch_rule_value",
    "soakwatch_rule_threshold", "soakwatch_status", "soakwatch_status_code",
    "soakwatch_events_total", "soakwatch_events_ignored_total", "soakwatch_events_rejected_total",
    "soakwatch_events_late_total", "soakwatch_events_out_of_range_total", "soakwatch_outputs_total",
    "soakwatch_output_delivery_failures_total", "soakwatch_dead_lettered_total",
    "soakwatch_control_acks_total", "soakwatch_control_rejected_total",
    "soakwatch_messages_total", "soakwatch_consumer_lag_messages",
    "soakwatch_watermark_lag_seconds", "soakwatch_ready", "soakwatch_build_info",
    "soakwatch_window_memory_bytes", "soakwatch_event_time_seconds",
    "soakwatch_start_time_seconds", "soakwatch_input_pauses_total",
    "soakwatch_fetch_wakeups_total", "soakwatch_input_interruptions_total",
    "soakwatch_rule_blind", "soakwatch_events_filtered_total", "soakwatch_correlate_total",
    "soakwatch_rollback_checks_total",
    "soakwatch_input_overflow_total", "soakwatch_soak_hour", "soakwatch_soak_last_update_status",
    "soakwatch_soak_verdict", "soakwatch_soak_verdict_hour",
    "soakwatch_alertmanager_posts_total", "soakwatch_cohort_events_total",
}
METRICS_SOURCE = os.path.join(SRC, "processor", "metrics.c")
METRIC_TOKEN = re.compile(r"\bsoakwatch_[a-z0-9_]+")


def need_tool(name):
    """Path of an executable; fails under CI and skips elsewhere when absent."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is not installed (scripts/install-deps installs it)")
        pytest.skip(f"{name} is not installed")
    return path


def need_module(name):
    try:
        return __import__(name)
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail(f"Python module {name} is missing (scripts/install-deps installs it)")
        pytest.skip(f"Python module {name} is missing")


def need_bin():
    b = os.environ.get("SOAKWATCH_BIN")
    if not b or not os.access(b, os.X_OK):
        if os.environ.get("CI"):
            pytest.fail("SOAKWATCH_BIN does not name the built soakwatch executable")
        pytest.skip("SOAKWATCH_BIN is not set (run through ctest)")
    return b


def manifest_files():
    return sorted(os.path.join(K8S, f) for f in os.listdir(K8S) if f.endswith(".yaml"))


def load_docs(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def resources():
    """Every Kubernetes object in deploy/k8s, keyed by (kind, name)."""
    out = {}
    for path in manifest_files():
        for doc in load_docs(path):
            if doc.get("kind") == "Kustomization":
                continue
            out[(doc["kind"], doc["metadata"]["name"])] = doc
    return out


def deployment():
    return resources()[("Deployment", "gateway")]


def sidecar():
    cs = [c for c in deployment()["spec"]["template"]["spec"]["containers"] if c["name"] == "soakwatch"]
    assert len(cs) == 1, "the Deployment must have exactly one soakwatch container"
    return cs[0]


def config_map():
    return resources()[("ConfigMap", "soakwatch-config")]


# ---------------------------------------------------------------- YAML style

def test_yamllint_strict_on_every_manifest_and_rule_file():
    yl = need_tool("yamllint")
    p = subprocess.run([yl, "--strict", "-c", os.path.join(SRC, ".yamllint"), "-f", "parsable",
                        os.path.join(SRC, "deploy"), os.path.join(SRC, ".yamllint")],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr


def test_yamllint_config_is_strict_enough_to_catch_a_style_error(tmp_path):
    # The config must not be so lax that the check above passes on anything.
    yl = need_tool("yamllint")
    bad = tmp_path / "bad.yaml"
    bad.write_text("---\nkey: yes\nlist:\n- a\n")  # truthy and unindented sequence
    p = subprocess.run([yl, "--strict", "-c", os.path.join(SRC, ".yamllint"), str(bad)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode != 0
    assert "truthy" in p.stdout and "indentation" in p.stdout, p.stdout


# ---------------------------------------------- Kubernetes: structural schema

PROBE = {
    "type": "object",
    "required": ["httpGet", "periodSeconds"],
    "properties": {
        "httpGet": {"type": "object", "required": ["path", "port"],
                    "properties": {"path": {"type": "string", "pattern": "^/"},
                                   "port": {"type": ["integer", "string"]}}},
        "periodSeconds": {"type": "integer", "minimum": 1},
        "failureThreshold": {"type": "integer", "minimum": 1},
        "timeoutSeconds": {"type": "integer", "minimum": 1},
    },
}
METADATA = {"type": "object", "required": ["name"],
            "properties": {"name": {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"}}}
CONTAINER = {
    "type": "object",
    "required": ["name", "image", "ports"],
    "properties": {
        "name": {"type": "string"},
        "image": {"type": "string", "pattern": r"^[^\s:]+(:[\w][\w.-]*)$"},
        "args": {"type": "array", "items": {"type": "string"}},
        "ports": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["containerPort"],
            "properties": {"containerPort": {"type": "integer", "minimum": 1, "maximum": 65535},
                           "name": {"type": "string", "maxLength": 15}}}},
        "env": {"type": "array", "items": {"type": "object", "required": ["name"]}},
        "startupProbe": PROBE, "livenessProbe": PROBE, "readinessProbe": PROBE,
    },
}
SIDECAR = {
    "type": "object",
    "required": ["args", "livenessProbe", "readinessProbe", "resources", "securityContext",
                 "volumeMounts", "env"],
    "properties": {
        "resources": {"type": "object", "required": ["requests", "limits"],
                      "properties": {"requests": {"required": ["cpu", "memory"]},
                                     "limits": {"required": ["cpu", "memory"]}}},
        "securityContext": {
            "type": "object",
            "required": ["runAsNonRoot", "runAsUser", "readOnlyRootFilesystem",
                         "allowPrivilegeEscalation", "capabilities", "seccompProfile"],
            "properties": {
                "runAsNonRoot": {"const": True},
                "runAsUser": {"type": "integer", "minimum": 1},
                "readOnlyRootFilesystem": {"const": True},
                "allowPrivilegeEscalation": {"const": False},
                "capabilities": {"type": "object", "required": ["drop"],
                                 "properties": {"drop": {"const": ["ALL"]},
                                                "add": {"maxItems": 0}}},
                "seccompProfile": {"type": "object", "required": ["type"],
                                   "properties": {"type": {"const": "RuntimeDefault"}}},
            },
        },
    },
}
SCHEMAS = {
    "Deployment": {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "apiVersion": {"const": "apps/v1"},
            "metadata": METADATA,
            "spec": {
                "type": "object", "required": ["selector", "template"],
                "properties": {
                    "selector": {"type": "object", "required": ["matchLabels"]},
                    "template": {
                        "type": "object", "required": ["metadata", "spec"],
                        "properties": {
                            "metadata": {"type": "object", "required": ["labels", "annotations"]},
                            "spec": {"type": "object", "required": ["containers"],
                                     "properties": {"containers": {
                                         "type": "array", "minItems": 2, "items": CONTAINER}}},
                        },
                    },
                },
            },
        },
    },
    "ConfigMap": {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "data"],
        "properties": {"apiVersion": {"const": "v1"}, "metadata": METADATA,
                       "data": {"type": "object", "additionalProperties": {"type": "string"}}},
    },
    "Service": {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {"apiVersion": {"const": "v1"}, "metadata": METADATA,
                       "spec": {"type": "object", "required": ["selector", "ports"]}},
    },
    "Kustomization": {
        "type": "object",
        "required": ["apiVersion", "kind", "resources"],
        "properties": {"apiVersion": {"const": "kustomize.config.k8s.io/v1beta1"},
                       "resources": {"type": "array", "minItems": 1, "items": {"type": "string"}}},
    },
}


def test_every_manifest_matches_the_structural_schema_of_its_kind():
    seen = set()
    for path in manifest_files():
        for doc in load_docs(path):
            kind = doc.get("kind")
            assert kind in SCHEMAS, f"{path}: unexpected kind {kind!r}"
            jsonschema.validate(doc, SCHEMAS[kind])
            seen.add(kind)
    assert {"Deployment", "ConfigMap", "Kustomization"} <= seen
    jsonschema.validate(sidecar(), SIDECAR)


def test_structural_schema_rejects_a_broken_sidecar():
    # The check is only worth something if it fails on a wrong field.
    broken = copy.deepcopy(sidecar())
    broken["securityContext"]["allowPrivilegeEscalation"] = True
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SIDECAR)
    d = copy.deepcopy(deployment())
    del d["spec"]["template"]["spec"]["containers"][0]["image"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(d, SCHEMAS["Deployment"])


def test_sidecar_runs_soakwatch_as_specified():
    c = sidecar()
    assert c["image"] == "registry.example/soakwatch:0.1.0"
    assert c["args"] == ["run", "--config", "/etc/soakwatch/config.json", "--http", "0.0.0.0:9464"]
    assert c["resources"] == {"requests": {"cpu": "50m", "memory": "48Mi"},
                              "limits": {"cpu": "500m", "memory": "96Mi"}}
    assert c["securityContext"]["runAsUser"] == 65532
    env = {e["name"] for e in c["env"]}
    assert {"SOAKWATCH_BROKERS", "SOAKWATCH_INPUT_TOPIC", "SOAKWATCH_OUTPUT_TOPIC"} <= env
    gw = [x for x in deployment()["spec"]["template"]["spec"]["containers"] if x["name"] == "gateway"]
    assert gw and any(p["containerPort"] == 8080 for p in gw[0]["ports"])


def port_number(container, port):
    if isinstance(port, int):
        return port
    named = {p.get("name"): p["containerPort"] for p in container["ports"]}
    assert port in named, f"probe port {port!r} is no port of container {container['name']}"
    return named[port]


def test_probes_hit_the_port_soakwatch_listens_on():
    c = sidecar()
    listen_port = int(c["args"][c["args"].index("--http") + 1].rsplit(":", 1)[1])
    assert listen_port in [p["containerPort"] for p in c["ports"]]
    paths = {}
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        if probe in c:
            assert port_number(c, c[probe]["httpGet"]["port"]) == listen_port, probe
            paths[probe] = c[probe]["httpGet"]["path"]
    assert paths["livenessProbe"] == "/healthz"
    assert paths["readinessProbe"] == "/readyz"
    # Readiness may flap on a broker blip without pulling the pod at once.
    assert c["readinessProbe"]["failureThreshold"] * c["readinessProbe"]["periodSeconds"] >= 60


def test_pod_is_annotated_for_prometheus_on_the_metrics_port():
    ann = deployment()["spec"]["template"]["metadata"]["annotations"]
    assert ann["prometheus.io/scrape"] == "true"
    assert ann["prometheus.io/path"] == "/metrics"
    assert int(ann["prometheus.io/port"]) in [p["containerPort"] for p in sidecar()["ports"]]


def test_config_is_mounted_from_an_existing_configmap_key():
    spec = deployment()["spec"]["template"]["spec"]
    c = sidecar()
    config_path = c["args"][c["args"].index("--config") + 1]
    mounts = [m for m in c["volumeMounts"] if config_path.startswith(m["mountPath"].rstrip("/") + "/")]
    assert len(mounts) == 1, f"{config_path} is under no volume mount"
    assert mounts[0].get("readOnly") is True
    vol = [v for v in spec["volumes"] if v["name"] == mounts[0]["name"]]
    assert len(vol) == 1 and "configMap" in vol[0]
    cm_name = vol[0]["configMap"]["name"]
    cm = resources().get(("ConfigMap", cm_name))
    assert cm is not None, f"ConfigMap {cm_name} is not in deploy/k8s"
    rel = config_path[len(mounts[0]["mountPath"].rstrip("/")) + 1:]
    items = vol[0]["configMap"].get("items")
    key = rel if items is None else {i["path"]: i["key"] for i in items}.get(rel)
    assert key in cm["data"], f"{config_path} maps to no key of ConfigMap {cm_name}"
    json.loads(cm["data"][key])


def test_env_overrides_reference_existing_keys_that_agree_with_the_config():
    cm = config_map()
    config = json.loads(cm["data"]["config.json"])
    fields = {"SOAKWATCH_BROKERS": "brokers", "SOAKWATCH_INPUT_TOPIC": "input_topic",
              "SOAKWATCH_OUTPUT_TOPIC": "output_topic", "SOAKWATCH_GROUP": "group",
              "SOAKWATCH_DEAD_LETTER_TOPIC": "dead_letter_topic"}
    for e in sidecar()["env"]:
        ref = e.get("valueFrom", {}).get("configMapKeyRef")
        if ref is None:
            continue
        assert ref["name"] == cm["metadata"]["name"], e["name"]
        assert ref["key"] in cm["data"], f"{e['name']}: key {ref['key']} is not in the ConfigMap"
        if e["name"] in fields:
            # Two places naming the broker must not drift apart.
            assert cm["data"][ref["key"]] == config["kafka"][fields[e["name"]]], e["name"]


def test_service_targets_existing_ports_of_the_selected_pods():
    svc = resources().get(("Service", "gateway"))
    if svc is None:
        return
    d = deployment()
    labels = d["spec"]["template"]["metadata"]["labels"]
    assert all(labels.get(k) == v for k, v in svc["spec"]["selector"].items())
    names = {p.get("name") for c in d["spec"]["template"]["spec"]["containers"] for p in c["ports"]}
    numbers = {p["containerPort"] for c in d["spec"]["template"]["spec"]["containers"] for p in c["ports"]}
    for p in svc["spec"]["ports"]:
        t = p.get("targetPort", p["port"])
        assert (t in names) if isinstance(t, str) else (t in numbers), p


def test_kustomization_lists_every_manifest_and_only_existing_ones():
    kz = load_docs(os.path.join(K8S, "kustomization.yaml"))[0]
    listed = kz["resources"]
    for r in listed:
        assert os.path.isfile(os.path.join(K8S, r)), f"kustomization lists missing {r}"
    others = {os.path.basename(p) for p in manifest_files()} - {"kustomization.yaml"}
    assert set(listed) == others


def test_manifests_validate_against_the_kubernetes_openapi_schemas():
    kv = need_module("kubernetes_validate")
    versions = ["1.27.0", kv.utils.latest_version()]
    for path in manifest_files():
        for doc in load_docs(path):
            if doc["kind"] == "Kustomization":
                continue
            for v in versions:
                try:
                    kv.validate(doc, v, strict=True)
                except kv.ValidationError as e:
                    pytest.fail(f"{os.path.basename(path)} against Kubernetes {v}: {e}")
    # And the validator does reject a misspelt field.
    bad = copy.deepcopy(deployment())
    bad["spec"]["template"]["spec"]["containers"][1]["securityContext"]["readOnlyRootFileSystem"] = True
    with pytest.raises(kv.ValidationError):
        kv.validate(bad, versions[-1], strict=True)


def test_kustomize_build_renders_all_resources():
    kubectl = need_tool("kubectl")
    p = subprocess.run([kubectl, "kustomize", K8S], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    built = {(d["kind"], d["metadata"]["name"]) for d in yaml.safe_load_all(p.stdout) if d}
    assert built == set(resources().keys())


# ------------------------------------------------------------ the ConfigMap config

def test_configmap_config_is_accepted_by_soakwatch(tmp_path):
    b = need_bin()
    cfg = tmp_path / "config.json"
    cfg.write_text(config_map()["data"]["config.json"])
    p = subprocess.run([b, "check-config", str(cfg)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    # check-config does check: the same file with one wrong key is refused.
    bad = json.loads(cfg.read_text())
    bad["rules"][0]["metric"] = "error_rates"
    cfg.write_text(json.dumps(bad))
    p = subprocess.run([b, "check-config", str(cfg)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 2, p.stdout + p.stderr


# ------------------------------------------------------------ Prometheus rules

def rule_groups():
    with open(RULES, encoding="utf-8") as f:
        return yaml.safe_load(f)["groups"]


def test_promtool_accepts_the_rules():
    promtool = need_tool("promtool")
    p = subprocess.run([promtool, "check", "rules", RULES], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "SUCCESS" in p.stdout


def test_the_required_alerts_exist_with_runbooks_that_resolve():
    alerts = {r["alert"]: r for g in rule_groups() for r in g["rules"] if "alert" in r}
    assert {"SoakwatchRollbackFiring", "SoakwatchDown", "SoakwatchNotReady", "SoakwatchInputBehind",
            "SoakwatchDeliveryFailures", "SoakwatchRejectsHigh"} <= set(alerts)
    with open(DEPLOYMENT_DOC, encoding="utf-8") as f:
        doc = f.read()
    # GitHub-style anchors of the doc's headings.
    anchors = {re.sub(r"[^a-z0-9 _-]", "", h.strip().lower()).replace(" ", "-")
               for h in re.findall(r"^#+ (.+)$", doc, re.M)}
    for name, r in alerts.items():
        assert r["labels"]["severity"] in ("critical", "warning"), name
        url = r["annotations"]["runbook_url"]
        path, _, anchor = url.partition("#")
        assert os.path.isfile(os.path.join(SRC, path)), f"{name}: {path} does not exist"
        assert anchor in anchors, f"{name}: no heading #{anchor} in {path}"
    records = [r["record"] for g in rule_groups() for r in g["rules"] if "record" in r]
    assert "soakwatch:events_rejected:rate5m" in records
    for rec in records:
        assert re.fullmatch(r"[a-z_]+:[a-z0-9_]+:[a-z0-9_]+", rec), f"{rec} is not level:metric:operations"


PROMTOOL_TESTS = textwrap.dedent("""\
    rule_files: [RULES]
    evaluation_interval: 30s
    tests:
      # Two replicas report the same firing rule: one alert, not two.
      - interval: 30s
        input_series:
          - series: 'soakwatch_rule_firing{job="soakwatch",instance="a",rule="error_rate_high"}'
            values: '0 0 1 1 1 0'
          - series: 'soakwatch_rule_firing{job="soakwatch",instance="b",rule="error_rate_high"}'
            values: '0 0 1 1 1 0'
          - series: 'soakwatch_rule_firing{job="soakwatch",instance="a",rule="latency_high"}'
            values: '0 0 0 0 0 0'
        alert_rule_test:
          - eval_time: 30s
            alertname: SoakwatchRollbackFiring
            exp_alerts: []
          - eval_time: 1m
            alertname: SoakwatchRollbackFiring
            exp_alerts:
              - exp_labels: {severity: critical, rule: error_rate_high}
          - eval_time: 150s
            alertname: SoakwatchRollbackFiring
            exp_alerts: []
        promql_expr_test:
          - expr: soakwatch:rules_firing:count
            eval_time: 1m
            exp_samples:
              - labels: 'soakwatch:rules_firing:count'
                value: 1
          - expr: soakwatch:rules_firing:count
            eval_time: 0m
            exp_samples:
              - labels: 'soakwatch:rules_firing:count'
                value: 0
      # A rule judged in cohorts (docs/semantics.md section 12): one alert per
      # firing cohort, labelled with it; the count counts both.
      - interval: 30s
        input_series:
          - series: 'soakwatch_rule_firing{job="soakwatch",instance="a",rule="cohort_errors",cohort="v2"}'
            values: '0 1 1 1'
          - series: 'soakwatch_rule_firing{job="soakwatch",instance="a",rule="cohort_errors",cohort="other"}'
            values: '0 1 1 0'
          - series: 'soakwatch_rule_firing{job="soakwatch",instance="a",rule="cohort_errors",cohort="v1"}'
            values: '0 0 0 0'
        alert_rule_test:
          - eval_time: 1m
            alertname: SoakwatchRollbackFiring
            exp_alerts:
              - exp_labels: {severity: critical, rule: cohort_errors, cohort: v2}
              - exp_labels: {severity: critical, rule: cohort_errors, cohort: other}
        promql_expr_test:
          - expr: soakwatch:rules_firing:count
            eval_time: 1m
            exp_samples:
              - labels: 'soakwatch:rules_firing:count'
                value: 2
      # The watermark a minute and more behind for 5 minutes; 60 s exactly is fine.
      - interval: 1m
        input_series:
          - series: 'soakwatch_watermark_lag_seconds{job="soakwatch",instance="a"}'
            values: '60 61 61 61 61 61 61 61 3'
        alert_rule_test:
          - eval_time: 5m
            alertname: SoakwatchInputBehind
            exp_alerts: []
          - eval_time: 6m
            alertname: SoakwatchInputBehind
            exp_alerts:
              - exp_labels: {severity: warning, job: soakwatch, instance: a}
          - eval_time: 8m
            alertname: SoakwatchInputBehind
            exp_alerts: []
      # Not ready for 10 minutes.
      - interval: 1m
        input_series:
          - series: 'soakwatch_ready{job="soakwatch",instance="a"}'
            values: '0x12'
        alert_rule_test:
          - eval_time: 9m
            alertname: SoakwatchNotReady
            exp_alerts: []
          - eval_time: 10m
            alertname: SoakwatchNotReady
            exp_alerts:
              - exp_labels: {severity: warning, job: soakwatch, instance: a}
      # A rollback not seen to take effect (docs/semantics.md section 10),
      # counted by two replicas: one alert, for 15 minutes.
      - interval: 1m
        input_series:
          - series: 'soakwatch_rollback_checks_total{job="soakwatch",instance="a",rule="error_rate_high",state="not_verified"}'
            values: '0 0 0 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1'
          - series: 'soakwatch_rollback_checks_total{job="soakwatch",instance="b",rule="error_rate_high",state="not_verified"}'
            values: '0 0 0 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1'
          - series: 'soakwatch_rollback_checks_total{job="soakwatch",instance="a",rule="error_rate_high",state="verified"}'
            values: '0 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1'
        alert_rule_test:
          - eval_time: 2m
            alertname: SoakwatchRollbackNotVerified
            exp_alerts: []
          - eval_time: 4m
            alertname: SoakwatchRollbackNotVerified
            exp_alerts:
              - exp_labels: {severity: critical, rule: error_rate_high}
          - eval_time: 20m
            alertname: SoakwatchRollbackNotVerified
            exp_alerts: []
      # One delivery failure is enough.
      - interval: 1m
        input_series:
          - series: 'soakwatch_output_delivery_failures_total{job="soakwatch",instance="a"}'
            values: '0 0 0 1 1 1 1 1 1 1 1 1'
        alert_rule_test:
          - eval_time: 2m
            alertname: SoakwatchDeliveryFailures
            exp_alerts: []
          - eval_time: 4m
            alertname: SoakwatchDeliveryFailures
            exp_alerts:
              - exp_labels: {severity: critical, job: soakwatch, instance: a}
          - eval_time: 10m
            alertname: SoakwatchDeliveryFailures
            exp_alerts: []
      # 10 of 100 messages a second rejected (10% > 5%) for 10 minutes; the
      # rejected ratio is recorded as rejected / messages.
      - interval: 1m
        input_series:
          - series: 'soakwatch_messages_total{job="soakwatch",instance="a"}'
            values: '0+6000x20'
          - series: 'soakwatch_events_rejected_total{job="soakwatch",instance="a",reason="invalid_json"}'
            values: '0+480x20'
          - series: 'soakwatch_events_rejected_total{job="soakwatch",instance="a",reason="missing_ts"}'
            values: '0+120x20'
        promql_expr_test:
          - expr: soakwatch:events_rejected:ratio_rate5m
            eval_time: 10m
            exp_samples:
              - labels: 'soakwatch:events_rejected:ratio_rate5m{job="soakwatch"}'
                value: 0.1
        alert_rule_test:
          - eval_time: 5m
            alertname: SoakwatchRejectsHigh
            exp_alerts: []
          - eval_time: 16m
            alertname: SoakwatchRejectsHigh
            exp_alerts:
              - exp_labels: {severity: warning, job: soakwatch}
      # Scraped but down, and never scraped at all.
      - interval: 1m
        input_series:
          - series: 'up{job="soakwatch",instance="a"}'
            values: '1 0 0 0 0 0 0 0'
        alert_rule_test:
          - eval_time: 5m
            alertname: SoakwatchDown
            exp_alerts: []
          - eval_time: 7m
            alertname: SoakwatchDown
            exp_alerts:
              - exp_labels: {severity: critical, job: soakwatch, instance: a}
      - interval: 1m
        input_series:
          - series: 'up{job="other",instance="x"}'
            values: '1x10'
        alert_rule_test:
          - eval_time: 6m
            alertname: SoakwatchDown
            exp_alerts:
              - exp_labels: {severity: critical, job: soakwatch}
    """)


def test_alerts_fire_and_resolve_as_intended(tmp_path):
    promtool = need_tool("promtool")
    # promtool compares annotations too; their wording is not what this
    # tests, so the rules run here without them.
    with open(RULES, encoding="utf-8") as f:
        rules = yaml.safe_load(f)
    for g in rules["groups"]:
        for r in g["rules"]:
            r.pop("annotations", None)
    bare = tmp_path / "rules.yaml"
    bare.write_text(yaml.safe_dump(rules))
    t = tmp_path / "rules_test.yaml"
    t.write_text(PROMTOOL_TESTS.replace("[RULES]", json.dumps([str(bare)])))
    p = subprocess.run([promtool, "test", "rules", str(t)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr


# ------------------------------------------------------------ Grafana dashboard

def dashboard():
    with open(DASHBOARD, encoding="utf-8") as f:
        return json.load(f)


def leaf_panels(d):
    for p in d["panels"]:
        if p["type"] == "row":
            yield from p.get("panels", [])
        else:
            yield p


def test_dashboard_has_a_prometheus_datasource_variable_and_every_panel_uses_it():
    d = dashboard()
    assert d["schemaVersion"] == 39
    ds = [v for v in d["templating"]["list"] if v["name"] == "DS_PROMETHEUS"]
    assert len(ds) == 1 and ds[0]["type"] == "datasource" and ds[0]["query"] == "prometheus"
    ids = set()
    for p in leaf_panels(d):
        assert p["id"] not in ids, f"duplicate panel id {p['id']}"
        ids.add(p["id"])
        assert p["datasource"] == {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}, p["title"]
        assert p["targets"], f"panel {p['title']} has no targets"
        for t in p["targets"]:
            assert t["expr"].strip() and t["datasource"]["uid"] == "${DS_PROMETHEUS}", p["title"]
        refs = [t["refId"] for t in p["targets"]]
        assert len(refs) == len(set(refs)), p["title"]


def test_dashboard_panels_do_not_overlap():
    cells = {}
    for p in dashboard()["panels"]:
        g = p["gridPos"]
        assert g["x"] + g["w"] <= 24, p["title"]
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                assert (x, y) not in cells, f"{p['title']} overlaps {cells[(x, y)]}"
                cells[(x, y)] = p["title"]


def panel(title):
    ps = [p for p in leaf_panels(dashboard()) if p["title"] == title]
    assert len(ps) == 1, f"no single panel titled {title!r}"
    return ps[0]


def test_dashboard_has_the_soak_plan_panels_on_the_right_metrics():
    def exprs(title):
        return " ".join(t["expr"] for t in panel(title)["targets"])
    req = exprs("Time Crunch Preview Requests")
    assert "soakwatch_window_requests" in req
    assert 'rate(soakwatch_events_total{kind="requested"}[5m])' in req
    assert "by (strategy)" in exprs("Compression Strategy Distribution")
    assert "soakwatch_window_strategy_outcomes" in exprs("Compression Strategy Distribution")
    assert "soakwatch_window_time_constraint_success_ratio" in exprs("Time Constraint Success Rate")
    lat = exprs("Preview Endpoint Response Time")
    for q in ("mean", "p95", "p99"):
        assert f"soakwatch_window_latency_{q}_seconds" in lat
    rt = panel("Preview Endpoint Response Time")["fieldConfig"]["defaults"]
    assert rt["unit"] == "s"
    assert [s["value"] for s in rt["thresholds"]["steps"]] == [None, 2, 5]
    fb = exprs("Fallback Reasons")
    assert "soakwatch_window_fallbacks" in fb and "by (reason)" in fb
    rules = panel("Rule States")
    assert rules["type"] == "state-timeline" and "soakwatch_rule_firing" in exprs("Rule States")
    status = panel("Status")
    assert "soakwatch_status_code" in exprs("Status")
    mapping = status["fieldConfig"]["defaults"]["mappings"][0]["options"]
    assert {k: v["color"] for k, v in mapping.items()} == {"0": "green", "1": "yellow", "2": "red"}
    rows = [p["title"] for p in dashboard()["panels"] if p["type"] == "row"]
    assert "Data quality" in rows and "Soak cadence" in rows
    dq = " ".join(exprs(t) for t in ("Rejected Input by Reason", "Late and Out-of-Range Events", "Input Lag"))
    for m in ("soakwatch_events_rejected_total", "soakwatch_events_late_total",
              "soakwatch_watermark_lag_seconds", "soakwatch_consumer_lag_messages"):
        assert m in dq


def test_dashboard_has_the_soak_cadence_panels():
    """The soak hour, the last update's status and the verdict
    (docs/semantics.md section 11), each read as one current value."""
    def only_target(title):
        (t,) = panel(title)["targets"]
        assert t.get("instant") is True, f"{title}: the current value, an instant query"
        return t
    assert only_target("Soak Hour")["expr"] == "max(soakwatch_soak_hour)"
    st = panel("Last Soak Update Status")
    assert only_target("Last Soak Update Status")["expr"] == \
        "max(soakwatch_soak_last_update_status)"
    mapping = st["fieldConfig"]["defaults"]["mappings"][0]["options"]
    assert {k: (v["text"], v["color"]) for k, v in mapping.items()} == {
        "-1": ("NONE", "text"), "0": ("GREEN", "green"), "1": ("YELLOW", "yellow"),
        "2": ("RED", "red")}
    # the verdict: the state set's one sample at 1, named by its label, and
    # a colour for each value soakwatch_soak_verdict's label takes
    vd = panel("Soak Verdict")
    t = only_target("Soak Verdict")
    assert "soakwatch_soak_verdict" in t["expr"] and "by (verdict)" in t["expr"]
    assert t["expr"].endswith("== 1") and t["legendFormat"] == "{{verdict}}"
    assert vd["options"]["textMode"] == "name"
    colours = {o["matcher"]["options"]: o["properties"][0]["value"]["fixedColor"]
               for o in vd["fieldConfig"]["overrides"] if o["matcher"]["id"] == "byName"}
    assert colours == {"go": "green", "no_go": "red", "pending": "yellow"}
    with open(METRICS_SOURCE, encoding="utf-8") as f:
        src = f.read()
    assert re.search(r'verdicts\[3\] = \{"go", "no_go", "pending"\}', src), \
        "the verdict label's values changed in processor/metrics.c"
    assert only_target("Soak Verdict Hour")["expr"] == "max(soakwatch_soak_verdict_hour)"


# ------------------------------------------------------------ metric names

def deploy_metric_names():
    """Every soakwatch_* name used by the dashboard or the rules."""
    names = set()
    for p in leaf_panels(dashboard()):
        for t in p["targets"]:
            names |= set(METRIC_TOKEN.findall(t["expr"]))
    for g in rule_groups():
        for r in g["rules"]:
            names |= set(METRIC_TOKEN.findall(r["expr"]))
    return names


def test_dashboard_and_rules_use_only_contract_metric_names():
    used = deploy_metric_names()
    assert len(used) >= 15, used  # the token scan does find them
    assert used - CONTRACT_METRICS == set()


def test_every_deploy_expr_names_a_metric_the_code_exports():
    """Each name a dashboard panel (the soak cadence's too) or a rule uses is
    a family processor/metrics.c writes, not only one listed here."""
    with open(METRICS_SOURCE, encoding="utf-8") as f:
        exported = set(re.findall(r'"(soakwatch_[a-z0-9_]+)"', f.read()))
    assert CONTRACT_METRICS <= exported, sorted(CONTRACT_METRICS - exported)
    used = deploy_metric_names()
    assert {"soakwatch_soak_hour", "soakwatch_soak_verdict"} <= used
    assert used - exported == set(), sorted(used - exported)


def test_contract_names_are_the_ones_docs_metrics_lists():
    path = os.path.join(SRC, "docs", "metrics.md")
    with open(path, encoding="utf-8") as f:
        documented = set(re.findall(r"^\|\s*`(soakwatch_[a-z0-9_]+)`", f.read(), re.M))
    assert documented == CONTRACT_METRICS, (
        f"only in docs/metrics.md: {sorted(documented - CONTRACT_METRICS)}; "
        f"only here: {sorted(CONTRACT_METRICS - documented)}")


# ------------------------------------------------------------ Dockerfile

def dockerfile_instructions():
    with open(DOCKERFILE, encoding="utf-8") as f:
        text = f.read().replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def apt_packages(run_arg):
    m = re.search(r"apt-get install ([^&;|]+)", run_arg)
    return [w for w in m.group(1).split() if not w.startswith("-")] if m else []


def test_dockerfile_is_multi_stage_and_runs_unprivileged():
    ins = dockerfile_instructions()
    froms = [i for i, (w, _) in enumerate(ins) if w == "FROM"]
    assert len(froms) == 2, "one build and one runtime stage"
    assert ins[froms[0]][1].startswith("debian:bookworm-slim")
    assert ins[froms[1]][1].startswith("debian:bookworm-slim")
    runtime = ins[froms[1]:]
    build = ins[froms[0]:froms[1]]
    for w, rest in ins:
        assert not (w == "ADD" and re.search(r"https?://", rest)), "no ADD of a URL"
    users = [rest for w, rest in runtime if w == "USER"]
    assert users and re.fullmatch(r"[1-9][0-9]*(:[1-9][0-9]*)?", users[-1]), users
    runtime_pkgs = [p for w, rest in runtime if w == "RUN" for p in apt_packages(rest)]
    assert runtime_pkgs, "the runtime stage installs its shared libraries"
    assert not [p for p in runtime_pkgs if p.endswith("-dev") or p in ("gcc", "cmake", "make")]
    assert {"librdkafka1", "libjansson4", "libev4", "libhttp-parser2.9", "zlib1g"} <= set(runtime_pkgs)
    build_pkgs = [p for w, rest in build if w == "RUN" for p in apt_packages(rest)]
    for p in ("cmake", "gcc", "pkg-config", "librdkafka-dev", "libjansson-dev", "libev-dev",
              "libhttp-parser-dev", "zlib1g-dev"):
        assert p in build_pkgs, p
    assert any(w == "RUN" and "-DCMAKE_BUILD_TYPE=Release" in rest for w, rest in build)
    copies = [rest for w, rest in runtime if w == "COPY"]
    assert copies == ["--from=build /src/build/soakwatch /usr/local/bin/soakwatch"]
    entry = [json.loads(rest) for w, rest in runtime if w == "ENTRYPOINT"]
    assert entry == [["/usr/local/bin/soakwatch"]], "ENTRYPOINT in exec form"
    cmd = [json.loads(rest) for w, rest in runtime if w == "CMD"]
    assert cmd == [["run", "--config", "/etc/soakwatch/config.json", "--http", "0.0.0.0:9464"]]
    assert ("EXPOSE", "9464") in runtime
    # The image user is the one the manifests name.
    assert int(users[-1].split(":")[0]) == sidecar()["securityContext"]["runAsUser"]


def dependency_closure(dpkg, roots):
    """Installed packages reachable from roots through Depends and
    Pre-Depends (either side of an alternative)."""
    seen, todo = set(), list(roots)
    while todo:
        pkg = todo.pop()
        if pkg in seen:
            continue
        seen.add(pkg)
        d = subprocess.run([dpkg, "-W", "-f", "${Depends},${Pre-Depends}", pkg],
                           capture_output=True, text=True, timeout=30)
        for alt in re.split(r"[,|]", d.stdout):
            if alt.strip():
                todo.append(alt.split()[0].split(":")[0])
    return seen


def test_runtime_stage_installs_every_library_the_binary_needs():
    """Map the built binary's shared libraries, and theirs, to the Debian
    packages that ship them: each must be installed by the runtime stage or
    come with it as a dependency. Checked against this machine's packages,
    which are bookworm's like the image's."""
    b = need_bin()
    dpkg = need_tool("dpkg-query")
    p = subprocess.run(["ldd", b], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    libs = re.findall(r"=> (/\S+) \(", p.stdout)
    assert libs, p.stdout
    runtime = dockerfile_instructions()
    runtime = runtime[[i for i, (w, _) in enumerate(runtime) if w == "FROM"][1]:]
    pkgs = {q for w, rest in runtime if w == "RUN" for q in apt_packages(rest)}
    deps = dependency_closure(dpkg, pkgs)
    missing = []
    for lib in libs:
        owner = subprocess.run(["dpkg", "-S", os.path.realpath(lib)], capture_output=True, text=True)
        if owner.returncode != 0:
            owner = subprocess.run(["dpkg", "-S", lib], capture_output=True, text=True)
        assert owner.returncode == 0, f"no Debian package ships {lib}"
        pkg = owner.stdout.split(":")[0]
        if pkg not in deps:
            missing.append(f"{lib} ({pkg})")
    assert not missing, f"the runtime stage lacks {missing}"
    for direct in ("librdkafka1", "libjansson4", "libev4", "libhttp-parser2.9"):
        assert any(direct in subprocess.run(["dpkg", "-S", os.path.realpath(lib)], capture_output=True,
                                            text=True).stdout for lib in libs), f"binary does not use {direct}?"


def test_dockerignore_keeps_build_dirs_and_git_out_of_the_context():
    with open(os.path.join(SRC, ".dockerignore"), encoding="utf-8") as f:
        lines = {l.strip() for l in f if l.strip() and not l.startswith("#")}
    assert ".git" in lines and "build*/" in lines
    # What CMakeLists.txt reads must stay in the context.
    for needed in ("processor", "windows", "tests", "bench", "CMakeLists.txt"):
        assert not any(l.rstrip("/") == needed for l in lines), needed
