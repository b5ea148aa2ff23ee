"""The Helm chart (helm/twinteller), checked offline: no cluster, no helm binary, no network.

- `helm lint --strict` through helm-python-sdk (Helm 4 as a library), with the default values
  and with each ci/ values file (cpu, gpu, ha);
- rendered with each of them, with everything optional on (cert-manager included) and with
  tls.enabled false, every manifest parsed and validated against the Kubernetes 1.31
  schemas bundled in kubernetes-validate, strictly (an unknown field fails). The Prometheus
  Operator's ServiceMonitor and PodMonitor and cert-manager's Certificate have no schema
  there: this file checks their shape itself. A manifest broken on purpose must fail the
  validator, so a pass means something;
- behaviour a zero-downtime, two-zone install depends on: routers spread over the zones with
  a gRPC readiness probe on their gRPC port and a liveness probe that does not depend on zones
  or etcd; one Deployment per zone pinned to its zone, with nvidia.com/gpu by default and none
  with ci/values-cpu.yaml; rolling updates that never take a router or a zone away first;
  probes on what Triton really reports; the seed model built once into the shared volume
  before zones start; a 3-member etcd with an initial cluster of 3 stable names; PDBs; HPA;
  admin tokens from a Secret; the Grafana dashboard shipped byte for byte;
- mutual TLS on every hop: each twinteller container reads TWINTELLER_TLS_CA/_CERT/_KEY from
  its component's Secret, mounted read-only; etcd serves clients and peers over https with
  client certificates; the probes that cannot speak TLS are replaced by exec probes, and
  those scripts, as rendered, are run against local TLS servers (a gRPC health server, a
  fake Triton) with certificates from twinteller/cli/certificates.py; cert-manager Certificates
  carry the names callers verify; tls.enabled false is plaintext everywhere, and only then;
- values.schema.json rejects bad values (zones.device "tpu", router.replicas "three", ...):
  Helm's render refuses them, and so does jsonschema on the file alone.
"""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
import helm_python
import jsonschema
import kubernetes_validate
import pytest
import yaml
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from tritonclient.grpc import service_pb2, service_pb2_grpc

from twinteller.cli.certificates import Issued, issue

ROOT = Path(__file__).parents[3]
CHART = ROOT / "helm" / "twinteller"
KUBE_VERSION = "1.31.0"
RELEASE, NAMESPACE = "tt", "prod"
PREFIX = f"{RELEASE}-twinteller"
CASES = ["default", "values-cpu", "values-gpu", "values-ha", "values-sites"]
CRDS = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"),
    ("monitoring.coreos.com/v1", "PodMonitor"),
    ("cert-manager.io/v1", "Certificate"),
}
ISSUER = {"name": "twinteller-ca", "kind": "ClusterIssuer", "group": "cert-manager.io"}
# Everything optional switched on, so those templates are validated too.
ALL_ON: dict[str, Any] = {
    "tls": {
        "certManager": {"enabled": True, "issuerRef": ISSUER},
        "router": {"dnsNames": ["assistant.bank.example"], "clientCASecret": "bank-client-ca"},
    },
    "adminTokens": {"tokens": "ops:s3cret-token,alice:another-token"},
    "legacy": {"address": "http://legacy.legacy.svc:8090"},
    "inspect": {"enabled": True},
    "router": {"zoneFromNode": False, "zone": "a", "settings": {"hedge_delay_s": 0.3, "session_ttl_s": 1800}},
    "zones": {"settings": {"restart_unready_s": 45}},
    "etcd": {"persistence": {"enabled": False}},
    "monitoring": {"serviceMonitor": {"enabled": True}, "podMonitor": {"enabled": True}},
    "otel": {"endpoint": "http://otel-collector:4318"},
}

# Development only: no TLS anywhere (and everything optional on, so that is validated too).
PLAINTEXT: dict[str, Any] = {**ALL_ON, "tls": {"enabled": False}}
TLS_DIR = "/etc/twinteller/tls"
# The twinteller processes and the identity (the Secret) each runs with.
IDENTITY = {"router": "router", "zone": "zone", "trainer": "client", "insights": "client", "console": "client"}
IDENTITY_ALL_ON = {**IDENTITY, "inspect": "client"}

Manifest = dict[str, Any]


def case_values(case: str) -> dict[str, Any]:
    if case == "default":
        return {}
    values: dict[str, Any] = yaml.safe_load((CHART / "ci" / f"{case}.yaml").read_text(encoding="utf-8"))
    return values


@pytest.fixture(scope="module")
def chart() -> Iterator[helm_python.Chart]:
    with helm_python.Chart.load(CHART) as loaded:
        yield loaded


def render(chart: helm_python.Chart, values: dict[str, Any]) -> list[Manifest]:
    files = chart.render(values=values, name=RELEASE, namespace=NAMESPACE)
    docs: list[Manifest] = []
    for path, text in sorted(files.items()):
        if path.endswith("NOTES.txt"):
            continue
        docs.extend(doc for doc in yaml.safe_load_all(text) if doc)
    return docs


@pytest.fixture(scope="module")
def rendered(chart: helm_python.Chart) -> dict[str, list[Manifest]]:
    cases = {case: render(chart, case_values(case)) for case in CASES}
    cases["all-on"] = render(chart, ALL_ON)
    cases["plaintext"] = render(chart, PLAINTEXT)
    return cases


def find(docs: list[Manifest], kind: str, name: str) -> Manifest:
    matches = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind} {name}: {len(matches)} found"
    return matches[0]


def kinds(docs: list[Manifest], kind: str) -> list[Manifest]:
    return [d for d in docs if d["kind"] == kind]


def container(workload: Manifest, name: str, *, init: bool = False) -> Manifest:
    spec = workload["spec"]["template"]["spec"]
    found = [c for c in spec["initContainers" if init else "containers"] if c["name"] == name]
    assert len(found) == 1, f"container {name} in {workload['metadata']['name']}"
    return found[0]


def zone_deployments(docs: list[Manifest]) -> list[Manifest]:
    return [d for d in kinds(docs, "Deployment") if d["metadata"]["name"].startswith(f"{PREFIX}-zone-")]


def pod_specs(docs: list[Manifest]) -> list[Manifest]:
    """The pod spec of every Deployment, StatefulSet and CronJob."""
    pods = [d["spec"]["template"]["spec"] for d in docs if d["kind"] in ("Deployment", "StatefulSet")]
    return pods + [d["spec"]["jobTemplate"]["spec"]["template"]["spec"] for d in kinds(docs, "CronJob")]


def env_of(main: Manifest) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in main.get("env", [])}


# --- lint and Kubernetes schemas ---------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_lint_strict_passes(case: str) -> None:
    report = helm_python.lint(CHART, case_values(case) or None, strict=True, namespace=NAMESPACE)
    problems = [m for m in report["messages"] if m["severity"] >= 2]  # 2 warning, 3 error
    assert not problems and not report["errors"], (problems, report["errors"])


GO_DURATION = re.compile(r"^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$")
CERTIFICATE_FIELDS = {
    "secretName", "secretTemplate", "commonName", "dnsNames", "ipAddresses", "duration", "renewBefore",
    "privateKey", "usages", "issuerRef",
}  # fmt: skip


def check_certificate(doc: Manifest) -> None:
    """cert-manager.io/v1 Certificate, as cert-manager's CRD takes it."""
    name = doc["metadata"]["name"]
    spec = doc["spec"]
    assert set(spec) <= CERTIFICATE_FIELDS, set(spec) - CERTIFICATE_FIELDS
    assert re.fullmatch(f"{PREFIX}-(router|zone|etcd|client)-tls", name)
    assert spec["secretName"] == name
    assert isinstance(spec["issuerRef"]["name"], str) and spec["issuerRef"]["name"]
    assert set(spec["issuerRef"]) == {"name", "kind", "group"}
    assert spec["privateKey"] == {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"}
    assert spec["usages"] == ["server auth", "client auth", "digital signature", "key encipherment"]
    assert GO_DURATION.match(spec["duration"]) and GO_DURATION.match(spec["renewBefore"])
    names = spec["dnsNames"]
    assert names and all(
        isinstance(n, str) and re.fullmatch(r"(\*\.)?[a-z0-9]([-a-z0-9.]*[a-z0-9])?", n) for n in names
    )
    assert len(set(names)) == len(names)
    assert spec["commonName"] in names and len(spec["commonName"]) <= 64
    for address in spec.get("ipAddresses", []):
        ipaddress.ip_address(address)
    assert set(spec["secretTemplate"]) == {"labels"}


def check_crd(doc: Manifest) -> None:
    """ServiceMonitor/PodMonitor/Certificate: no schema in kubernetes-validate, so their
    shape here."""
    assert set(doc) == {"apiVersion", "kind", "metadata", "spec"}
    assert doc["metadata"]["labels"]["app.kubernetes.io/instance"] == RELEASE
    if doc["kind"] == "Certificate":
        check_certificate(doc)
        return
    spec = doc["spec"]
    assert spec["selector"]["matchLabels"]["app.kubernetes.io/instance"] == RELEASE
    assert spec["namespaceSelector"] == {"matchNames": [NAMESPACE]}
    endpoints = spec["endpoints" if doc["kind"] == "ServiceMonitor" else "podMetricsEndpoints"]
    assert endpoints and all(e["port"] == "metrics" and e["path"] == "/metrics" for e in endpoints)


@pytest.mark.parametrize("case", [*CASES, "all-on", "plaintext"])
def test_every_manifest_validates_against_kubernetes_1_31(rendered: dict[str, list[Manifest]], case: str) -> None:
    docs = rendered[case]
    assert len(docs) >= 20
    for doc in docs:
        if (doc["apiVersion"], doc["kind"]) in CRDS:
            with pytest.raises(kubernetes_validate.SchemaNotFoundError):
                kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
            check_crd(doc)
            continue
        try:
            kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
        except kubernetes_validate.ValidationError as e:
            path = ".".join(str(p) for p in e.path)
            pytest.fail(f"{doc['kind']} {doc['metadata']['name']}: {path}: {e.message}")


def test_the_validator_fails_a_broken_manifest(rendered: dict[str, list[Manifest]]) -> None:
    router = json.loads(json.dumps(find(rendered["default"], "Deployment", f"{PREFIX}-router")))
    kubernetes_validate.validate(router, KUBE_VERSION, strict=True)
    router["spec"]["replicas"] = "three"
    with pytest.raises(kubernetes_validate.ValidationError, match="three"):
        kubernetes_validate.validate(router, KUBE_VERSION, strict=True)
    router["spec"]["replicas"] = 2
    router["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["grpcc"] = {"port": 1}
    with pytest.raises(kubernetes_validate.ValidationError):  # strict: unknown fields fail
        kubernetes_validate.validate(router, KUBE_VERSION, strict=True)


def test_optional_objects_appear_only_when_asked(rendered: dict[str, list[Manifest]]) -> None:
    default = {(d["kind"], d["metadata"]["name"]) for d in rendered["default"]}
    on = {(d["kind"], d["metadata"]["name"]) for d in rendered["all-on"]}
    optional = {
        ("CronJob", f"{PREFIX}-inspect"),
        ("Secret", f"{PREFIX}-admin-tokens"),
        ("ServiceMonitor", f"{PREFIX}-router"),
        ("PodMonitor", f"{PREFIX}-zones"),
    }
    assert not optional & default
    assert optional <= on
    assert ("HorizontalPodAutoscaler", f"{PREFIX}-router") not in default
    certificates = {("Certificate", f"{PREFIX}-{c}-tls") for c in ("router", "zone", "etcd", "client")}
    assert not certificates & default and certificates <= on
    assert not kinds(rendered["plaintext"], "Certificate")  # cert-manager on, TLS off: none


# --- routers -------------------------------------------------------------------------------


def test_routers_spread_over_zones_with_grpc_readiness(rendered: dict[str, list[Manifest]]) -> None:
    router = find(rendered["default"], "Deployment", f"{PREFIX}-router")
    pod = router["spec"]["template"]["spec"]
    spread = [c for c in pod["topologySpreadConstraints"] if c["topologyKey"] == "topology.kubernetes.io/zone"]
    assert len(spread) == 1 and spread[0]["maxSkew"] == 1
    assert spread[0]["labelSelector"]["matchLabels"] == router["spec"]["selector"]["matchLabels"]
    main = container(router, "router")
    grpc_port = next(p["containerPort"] for p in main["ports"] if p["name"] == "grpc")
    assert grpc_port == 50051
    # grpc.health.v1, service "": SERVING while a zone can serve. Over TLS: the exec probe
    # (test_router_readiness_probe_asks_health_over_mutual_tls), else the kubelet's own.
    readiness = main["readinessProbe"]
    assert "grpc" not in readiness and readiness["exec"]["command"][:2] == ["python", "-c"]
    assert readiness["timeoutSeconds"] >= 5 and readiness["failureThreshold"] >= 2
    plain = container(find(rendered["plaintext"], "Deployment", f"{PREFIX}-router"), "router")
    assert plain["readinessProbe"]["grpc"] == {"port": grpc_port} and "exec" not in plain["readinessProbe"]
    # Liveness must not fail because zones or etcd are down (health is NOT_SERVING then).
    assert "grpc" not in main["livenessProbe"]
    assert main["livenessProbe"]["tcpSocket"]["port"] in (grpc_port, "grpc")
    assert "grpc" not in main["startupProbe"]  # NOT_SERVING until the first zone registers
    assert pod["terminationGracePeriodSeconds"] >= 15
    assert main["lifecycle"]["preStop"]["exec"]["command"][0] == "sleep"
    # The zone the router prefers comes from its node (init container), mapped by nodeZone.
    zone_init = container(router, "zone", init=True)
    env = {e["name"]: e for e in zone_init["env"]}
    assert env["ZONE_MAP"]["value"] == "zone-a=a,zone-b=b"
    assert env["NODE_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "spec.nodeName"
    assert "TWINTELLER_ZONE" in " ".join(main["args"]) and main["args"][-1].endswith("exec python -m router")
    node_terms = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert node_terms["nodeSelectorTerms"][0]["matchExpressions"][0]["values"] == ["zone-a", "zone-b"]
    role = find(rendered["default"], "ClusterRole", f"{PREFIX}-{NAMESPACE}-node-zone")
    assert role["rules"] == [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get"]}]


@pytest.mark.parametrize("case", CASES)
def test_rolling_updates_never_remove_a_router_or_zone_first(rendered: dict[str, list[Manifest]], case: str) -> None:
    docs = rendered[case]
    zones = zone_deployments(docs)
    assert [z["metadata"]["name"] for z in zones] == [f"{PREFIX}-zone-a", f"{PREFIX}-zone-b"]
    for deployment in [find(docs, "Deployment", f"{PREFIX}-router"), *zones]:
        strategy = deployment["spec"]["strategy"]
        assert strategy["type"] == "RollingUpdate"
        assert strategy["rollingUpdate"] == {"maxUnavailable": 0, "maxSurge": 1}
    for zone in zones:
        assert zone["spec"]["replicas"] == 1  # one registration per zone
        assert zone["spec"]["minReadySeconds"] >= 1


def test_router_settings_and_legacy_reach_the_environment(rendered: dict[str, list[Manifest]]) -> None:
    default = find(rendered["default"], "ConfigMap", f"{PREFIX}-router")["data"]
    assert default["TWINTELLER_ETCD"] == f"{PREFIX}-etcd.{NAMESPACE}.svc.cluster.local:2379"
    assert default["TWINTELLER_LISTEN"] == "0.0.0.0:50051"
    assert default["TWINTELLER_METRICS_LISTEN"] == "0.0.0.0:9464"
    assert "TWINTELLER_LEGACY" not in default  # empty by default
    on = find(rendered["all-on"], "ConfigMap", f"{PREFIX}-router")["data"]
    assert on["TWINTELLER_LEGACY"] == "http://legacy.legacy.svc:8090"
    assert on["TWINTELLER_HEDGE_DELAY_S"] == "0.3"
    assert on["TWINTELLER_SESSION_TTL_S"] == "1800"  # not 1800.0 or 1.8e+03: the flag is an int
    zone_env = find(rendered["all-on"], "ConfigMap", f"{PREFIX}-zone")["data"]
    assert zone_env["TWINTELLER_RESTART_UNREADY_S"] == "45"
    assert zone_env["TWINTELLER_MODEL_REPO"] == "/models"


def test_admin_tokens_come_from_a_secret(chart: helm_python.Chart, rendered: dict[str, list[Manifest]]) -> None:
    def token_env(docs: list[Manifest]) -> Manifest | None:
        main = container(find(docs, "Deployment", f"{PREFIX}-router"), "router")
        return next((e for e in main["env"] if e["name"] == "TWINTELLER_ADMIN_TOKENS"), None)

    assert token_env(rendered["default"]) is None  # no tokens: the admin API refuses every call
    own = token_env(rendered["all-on"])
    assert own is not None and own["valueFrom"]["secretKeyRef"] == {"name": f"{PREFIX}-admin-tokens", "key": "tokens"}
    secret = find(rendered["all-on"], "Secret", f"{PREFIX}-admin-tokens")
    assert base64.b64decode(secret["data"]["tokens"]).decode() == "ops:s3cret-token,alice:another-token"
    existing = render(chart, {"adminTokens": {"existingSecret": "ops-tokens", "secretKey": "list"}})
    ref = token_env(existing)
    assert ref is not None and ref["valueFrom"]["secretKeyRef"] == {"name": "ops-tokens", "key": "list"}
    assert not kinds(existing, "Secret")
    ha = token_env(rendered["values-ha"])
    assert ha is not None and ha["valueFrom"]["secretKeyRef"]["name"] == "twinteller-admin-tokens"


# --- zones ---------------------------------------------------------------------------------


def test_zones_are_pinned_to_their_zone_on_gpu_by_default(rendered: dict[str, list[Manifest]]) -> None:
    for zone, node_zone in zip(zone_deployments(rendered["default"]), ["zone-a", "zone-b"], strict=True):
        pod = zone["spec"]["template"]["spec"]
        assert pod["nodeSelector"]["topology.kubernetes.io/zone"] == node_zone
        main = container(zone, "zone")
        assert main["resources"]["limits"]["nvidia.com/gpu"] == 1
        assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod["tolerations"]
        args = main["args"]
        assert args[:3] == ["python", "-m", "zone"]
        assert args[args.index("--device") + 1] == "gpu"
        assert args[args.index("--host") + 1] == "0.0.0.0"
        assert args[args.index("--advertise-host") + 1] == "$(POD_IP)"
        pod_ip = next(e for e in main["env"] if e["name"] == "POD_IP")
        assert pod_ip["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP"
        assert args[args.index("--zone") + 1] == zone["metadata"]["name"].rsplit("-", 1)[1]


def test_cpu_values_drop_every_gpu_request_and_toleration(rendered: dict[str, list[Manifest]]) -> None:
    docs = rendered["values-cpu"]
    assert "nvidia.com/gpu" not in json.dumps(docs)
    for zone in zone_deployments(docs):
        args = container(zone, "zone")["args"]
        assert args[args.index("--device") + 1] == "cpu"
        assert "topology.kubernetes.io/zone" in zone["spec"]["template"]["spec"]["nodeSelector"]


def test_gpu_values_request_a_gpu_on_gpu_nodes(rendered: dict[str, list[Manifest]]) -> None:
    for zone in zone_deployments(rendered["values-gpu"]):
        pod = zone["spec"]["template"]["spec"]
        assert pod["nodeSelector"]["nvidia.com/gpu.present"] == "true"
        assert container(zone, "zone")["resources"]["limits"]["nvidia.com/gpu"] == 1


def test_zone_probes_match_what_triton_reports(rendered: dict[str, list[Manifest]]) -> None:
    for zone in zone_deployments(rendered["default"]):
        main = container(zone, "zone")
        # With TLS Triton has no HTTP port: readiness asks the gRPC port over mutual TLS
        # whether the model is ready (test_zone_probes_ask_triton_over_mutual_tls), and
        # liveness is Triton's plain-HTTP metrics port answering.
        ports = {p["name"]: p["containerPort"] for p in main["ports"]}
        assert ports == {"grpc": 8001, "metrics": 8002}
        assert "httpGet" not in main["readinessProbe"] and "httpGet" not in main["startupProbe"]
        assert main["readinessProbe"]["exec"] == main["startupProbe"]["exec"]
        assert main["readinessProbe"]["timeoutSeconds"] >= 5
        assert main["livenessProbe"]["httpGet"] == {"path": "/metrics", "port": "metrics"}
        startup = main["startupProbe"]
        assert startup["periodSeconds"] * startup["failureThreshold"] >= 300  # model load can take minutes
        pod = zone["spec"]["template"]["spec"]
        assert pod["terminationGracePeriodSeconds"] >= 30  # deregister, 1 s drain, stop Triton
    for zone in zone_deployments(rendered["plaintext"]):
        main = container(zone, "zone")
        http_port = next(p["containerPort"] for p in main["ports"] if p["name"] == "http")
        assert http_port == 8000
        # /v2/health/ready says 200 before any model is loaded (explicit model control):
        # ready means the model itself is ready (then the agent registers the zone).
        assert main["readinessProbe"]["httpGet"] == {"path": "/v2/models/intent/ready", "port": "http"}
        assert main["livenessProbe"]["httpGet"] == {"path": "/v2/health/live", "port": "http"}
        assert main["startupProbe"]["httpGet"]["path"] == "/v2/models/intent/ready"


def test_seed_model_is_built_once_into_the_shared_volume_before_zones_start(
    rendered: dict[str, list[Manifest]],
) -> None:
    docs = rendered["default"]
    claim = find(docs, "PersistentVolumeClaim", f"{PREFIX}-models")
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    trainer = find(docs, "Deployment", f"{PREFIX}-trainer")
    assert trainer["spec"]["replicas"] == 1 and trainer["spec"]["strategy"]["type"] == "Recreate"
    bootstrap = container(trainer, "bootstrap-model", init=True)
    script = bootstrap["args"][-1]
    assert "[ -f /models/intent/1/kb.json ]" in script
    assert "python -m trainer.training --model-repo /models --version 1" in script
    assert script.index("kb.json ]") < script.index("trainer.training")  # skipped when present
    assert container(trainer, "trainer")["args"][:3] == ["python", "-m", "trainer"]
    volumes = {v["name"]: v for v in trainer["spec"]["template"]["spec"]["volumes"]}
    assert volumes["models"]["persistentVolumeClaim"]["claimName"] == f"{PREFIX}-models"
    assert all(not m.get("readOnly") for m in bootstrap["volumeMounts"])  # the trainer writes versions
    # The subdirectories exist (made by the pod's user) before any pod mounts them as subPath.
    layout = container(trainer, "volume-layout", init=True)
    assert layout["args"] == ["mkdir", "-p", "/volume/models", "/volume/cache"]
    init_names = [c["name"] for c in trainer["spec"]["template"]["spec"]["initContainers"]]
    assert init_names == ["volume-layout", "bootstrap-model"]
    for zone in zone_deployments(docs):
        wait = container(zone, "wait-for-model", init=True)
        assert wait["args"][-1].startswith("until [ -f /volume/models/intent/1/kb.json ]")
        assert wait["volumeMounts"] == [{"name": "models", "mountPath": "/volume", "readOnly": True}]
        zone_volumes = {v["name"]: v for v in zone["spec"]["template"]["spec"]["volumes"]}
        assert zone_volumes["models"]["persistentVolumeClaim"]["claimName"] == f"{PREFIX}-models"
        mount = next(m for m in container(zone, "zone")["volumeMounts"] if m["name"] == "models")
        assert mount["mountPath"] == "/models" and mount["readOnly"] is True
    insights = find(docs, "Deployment", f"{PREFIX}-insights")
    assert container(insights, "insights")["args"][:3] == ["python", "-m", "insights"]
    assert container(insights, "wait-for-model", init=True)
    console = find(docs, "Deployment", f"{PREFIX}-console")
    args = container(console, "console")["args"]
    assert args[args.index("--target") + 1] == f"{PREFIX}-router-headless.{NAMESPACE}.svc.cluster.local:50051"
    assert find(docs, "Service", f"{PREFIX}-console")["spec"]["ports"][0]["port"] == 8080


# --- etcd, availability, monitoring --------------------------------------------------------


def test_etcd_is_three_members_with_an_initial_cluster_of_three(rendered: dict[str, list[Manifest]]) -> None:
    docs = rendered["default"]
    etcd = find(docs, "StatefulSet", f"{PREFIX}-etcd")
    assert etcd["spec"]["replicas"] == 3
    assert etcd["spec"]["podManagementPolicy"] == "Parallel"
    peer = find(docs, "Service", etcd["spec"]["serviceName"])
    assert peer["spec"]["clusterIP"] == "None" and peer["spec"]["publishNotReadyAddresses"] is True
    args = container(etcd, "etcd")["args"]
    flags = dict(a.split("=", 1) for a in args)
    members = dict(m.split("=", 1) for m in flags["--initial-cluster"].split(","))
    assert sorted(members) == [f"{PREFIX}-etcd-{i}" for i in range(3)]
    for name, url in members.items():
        assert url == f"https://{name}.{PREFIX}-etcd-peer.{NAMESPACE}.svc.cluster.local:2380"
    assert flags["--max-txn-ops"] == "2048" and flags["--max-request-bytes"] == "10485760"
    assert flags["--name"] == "$(POD_NAME)"
    clients = find(docs, "Service", f"{PREFIX}-etcd")
    assert clients["spec"]["clusterIP"] == "None"  # one name resolving to every member


def test_etcd_sites_are_two_members_pinned_to_each_site_and_a_witness(rendered: dict[str, list[Manifest]]) -> None:
    docs = rendered["values-sites"]
    sets = {d["metadata"]["name"]: d for d in kinds(docs, "StatefulSet")}
    assert set(sets) == {f"{PREFIX}-etcd-a", f"{PREFIX}-etcd-b", f"{PREFIX}-etcd-witness"}
    expected = {"a": ("ap-east-1a", 2), "b": ("ap-east-1b", 2), "witness": ("ap-east-1c", 1)}
    clusters = set()
    for site, (zone, members) in expected.items():
        etcd = sets[f"{PREFIX}-etcd-{site}"]
        spec = etcd["spec"]["template"]["spec"]
        assert etcd["spec"]["replicas"] == members
        assert spec["nodeSelector"]["topology.kubernetes.io/zone"] == zone
        assert etcd["spec"]["template"]["metadata"]["labels"]["twinteller.io/site"] == site
        [apart] = spec["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        assert apart["topologyKey"] == "kubernetes.io/hostname"
        assert "twinteller.io/site" not in apart["labelSelector"]["matchLabels"]  # apart from every member
        flags = dict(a.split("=", 1) for a in container(etcd, "etcd")["args"])
        clusters.add(flags["--initial-cluster"])
    [cluster] = clusters  # every member starts with the same initial cluster of five
    names = sorted(m.split("=", 1)[0] for m in cluster.split(","))
    assert names == sorted([f"{PREFIX}-etcd-a-0", f"{PREFIX}-etcd-a-1", f"{PREFIX}-etcd-b-0", f"{PREFIX}-etcd-b-1",
                            f"{PREFIX}-etcd-witness-0"])  # fmt: skip
    witness = container(sets[f"{PREFIX}-etcd-witness"], "etcd")["resources"]
    assert witness["requests"]["cpu"] == "100m"
    assert find(docs, "PodDisruptionBudget", f"{PREFIX}-etcd")["spec"]["minAvailable"] == 3  # quorum of 5
    # One peer Service and one client Service for all of them.
    peer = find(docs, "Service", f"{PREFIX}-etcd-peer")["spec"]["selector"]
    for etcd in sets.values():
        assert etcd["spec"]["serviceName"] == f"{PREFIX}-etcd-peer"
        labels = etcd["spec"]["template"]["metadata"]["labels"]
        assert all(labels[k] == v for k, v in peer.items())


@pytest.mark.parametrize(
    ("etcd", "refusal"),
    [
        ({"sites": [{"name": "a", "zone": "z1", "members": 2}, {"name": "b", "zone": "z2", "members": 2}]},
         "site a holds 2 of 4 members"),
        ({"sites": [{"name": "a", "zone": "z1", "members": 3}, {"name": "b", "zone": "z2", "members": 1}],
          "witness": {"enabled": True, "zone": "z3"}}, "site a holds 3 of 5 members"),
        ({"sites": [{"name": "a", "zone": "z1", "members": 2}, {"name": "b", "zone": "z2", "members": 2}],
          "witness": {"enabled": True}}, "third place"),
    ],
)  # fmt: skip
def test_etcd_site_layouts_that_lose_the_quorum_with_a_site_are_refused(
    chart: helm_python.Chart, etcd: dict[str, Any], refusal: str
) -> None:
    with pytest.raises(helm_python.HelmRenderError, match=refusal):
        chart.render(values={"etcd": etcd}, name=RELEASE, namespace=NAMESPACE)


@pytest.mark.parametrize(("case", "router_min"), [("default", 1), ("values-ha", 2)])
def test_disruption_budgets(rendered: dict[str, list[Manifest]], case: str, router_min: int) -> None:
    docs = rendered[case]
    router = find(docs, "PodDisruptionBudget", f"{PREFIX}-router")
    assert router["spec"]["minAvailable"] == router_min
    selector = find(docs, "Deployment", f"{PREFIX}-router")["spec"]["selector"]["matchLabels"]
    assert router["spec"]["selector"]["matchLabels"] == selector
    assert find(docs, "PodDisruptionBudget", f"{PREFIX}-etcd")["spec"]["minAvailable"] == 2  # quorum of 3
    assert find(docs, "PodDisruptionBudget", f"{PREFIX}-zones")["spec"]["maxUnavailable"] == 1


def test_ha_values_autoscale_three_routers(rendered: dict[str, list[Manifest]]) -> None:
    docs = rendered["values-ha"]
    hpa = find(docs, "HorizontalPodAutoscaler", f"{PREFIX}-router")
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": f"{PREFIX}-router"}
    assert hpa["spec"]["minReplicas"] == 3
    assert "replicas" not in find(docs, "Deployment", f"{PREFIX}-router")["spec"]  # the HPA owns it
    assert find(docs, "Service", f"{PREFIX}-router")["spec"]["type"] == "LoadBalancer"
    assert kinds(docs, "ServiceMonitor") and kinds(docs, "PodMonitor")
    assert find(rendered["default"], "Deployment", f"{PREFIX}-router")["spec"]["replicas"] == 2


def test_dashboard_configmap_ships_the_dashboard(rendered: dict[str, list[Manifest]]) -> None:
    dashboard = find(rendered["default"], "ConfigMap", f"{PREFIX}-dashboard")
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    shipped = (CHART / "dashboards" / "twinteller.json").read_text(encoding="utf-8")
    assert dashboard["data"]["twinteller.json"] == shipped.rstrip("\n")
    assert json.loads(dashboard["data"]["twinteller.json"]) == json.loads(shipped)


def test_router_service_exposes_grpc_and_metrics(rendered: dict[str, list[Manifest]]) -> None:
    docs = rendered["default"]
    ports = {p["name"]: p["port"] for p in find(docs, "Service", f"{PREFIX}-router")["spec"]["ports"]}
    assert ports == {"grpc": 50051, "metrics": 9464}
    headless = find(docs, "Service", f"{PREFIX}-router-headless")
    assert headless["spec"]["clusterIP"] == "None"


def test_inspect_cronjob_is_optional(rendered: dict[str, list[Manifest]]) -> None:
    assert not kinds(rendered["default"], "CronJob")
    job = find(rendered["all-on"], "CronJob", f"{PREFIX}-inspect")
    args = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[:2] == ["twinteller", "inspect"]
    assert args[args.index("--etcd") + 1] == f"{PREFIX}-etcd.{NAMESPACE}.svc.cluster.local:2379"
    assert args[args.index("--zones") + 1] == "a,b"
    env = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["env"]
    token = next(e for e in env if e["name"] == "TWINTELLER_ADMIN_TOKEN")
    assert token["valueFrom"]["secretKeyRef"]["key"] == "inspect-token"


# --- TLS -------------------------------------------------------------------------------------


def tls_volumes(pod: Manifest) -> dict[str, Manifest]:
    """The pod's Secret volumes, by name."""
    return {v["name"]: v["secret"] for v in pod.get("volumes", []) if "secret" in v}


@pytest.mark.parametrize("case", [*CASES, "all-on"])
def test_every_twinteller_process_reads_its_certificate_from_its_secret(
    rendered: dict[str, list[Manifest]], case: str
) -> None:
    docs = rendered[case]
    identity = IDENTITY_ALL_ON if case == "all-on" else IDENTITY
    seen = set()
    for pod in pod_specs(docs):
        secrets = tls_volumes(pod)
        for main in pod["containers"]:
            env = env_of(main)
            if main["name"] not in identity:
                assert not any(k.startswith("TWINTELLER_TLS") for k in env), main["name"]
                continue
            seen.add(main["name"])
            assert "TWINTELLER_PLAINTEXT" not in env
            assert env["TWINTELLER_TLS_CA"] == f"{TLS_DIR}/ca.crt"
            assert env["TWINTELLER_TLS_CERT"] == f"{TLS_DIR}/tls.crt"
            assert env["TWINTELLER_TLS_KEY"] == f"{TLS_DIR}/tls.key"
            mounts = {m["mountPath"]: m for m in main["volumeMounts"]}
            mount = mounts[TLS_DIR]
            assert mount["readOnly"] is True and "subPath" not in mount
            secret = secrets[mount["name"]]
            assert secret["secretName"] == f"{PREFIX}-{identity[main['name']]}-tls"
            # Root and the pod's group (fsGroup) read the key; the processes run as that group.
            assert secret["defaultMode"] == 0o440
            assert pod["securityContext"]["fsGroup"] == pod["securityContext"]["runAsGroup"]
        # Init containers (model bootstrap, zone lookup) talk to neither etcd nor routers.
        for init in pod.get("initContainers", []):
            assert not any(k.startswith("TWINTELLER_TLS") for k in env_of(init))
    assert seen == set(identity)
    assert "TWINTELLER_PLAINTEXT" not in json.dumps(docs)


def test_existing_secrets_are_mounted_by_name(chart: helm_python.Chart) -> None:
    names = {c: f"bank-{c}-cert" for c in ("router", "zone", "etcd", "client")}
    docs = render(chart, {"tls": {"secrets": names}})
    pods = {
        "router": find(docs, "Deployment", f"{PREFIX}-router"),
        "zone": find(docs, "Deployment", f"{PREFIX}-zone-a"),
        "etcd": find(docs, "StatefulSet", f"{PREFIX}-etcd"),
        "client": find(docs, "Deployment", f"{PREFIX}-console"),
    }
    for component, workload in pods.items():
        assert tls_volumes(workload["spec"]["template"]["spec"])["tls"]["secretName"] == names[component]
    assert not kinds(docs, "Certificate")


def test_etcd_serves_clients_and_peers_over_mutual_tls(rendered: dict[str, list[Manifest]]) -> None:
    etcd = find(rendered["default"], "StatefulSet", f"{PREFIX}-etcd")
    main = container(etcd, "etcd")
    flags = dict(a.split("=", 1) for a in main["args"])
    for flag in ("--listen-client-urls", "--advertise-client-urls", "--listen-peer-urls"):
        assert flags[flag].startswith("https://"), flag
    assert flags["--initial-advertise-peer-urls"].startswith("https://")
    members = [m.split("=", 1)[1] for m in flags["--initial-cluster"].split(",")]
    assert len(members) == 3 and all(m.startswith("https://") for m in members)
    assert flags["--cert-file"] == flags["--peer-cert-file"] == f"{TLS_DIR}/tls.crt"
    assert flags["--key-file"] == flags["--peer-key-file"] == f"{TLS_DIR}/tls.key"
    assert flags["--trusted-ca-file"] == flags["--peer-trusted-ca-file"] == f"{TLS_DIR}/ca.crt"
    assert flags["--client-cert-auth"] == flags["--peer-client-cert-auth"] == "true"
    # The probes stay on the plain metrics listener.
    assert flags["--listen-metrics-urls"] == "http://0.0.0.0:2381"
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert main[probe]["httpGet"]["port"] == "metrics"
    mount = next(m for m in main["volumeMounts"] if m["mountPath"] == TLS_DIR)
    pod = etcd["spec"]["template"]["spec"]
    assert mount["readOnly"] is True
    assert tls_volumes(pod)[mount["name"]] == {"secretName": f"{PREFIX}-etcd-tls", "defaultMode": 0o440}
    assert pod["securityContext"]["fsGroup"] == 65532
    # Every process dials etcd by the client Service; with TLS it verifies twinteller-etcd.
    assert find(rendered["default"], "ConfigMap", f"{PREFIX}-router")["data"]["TWINTELLER_ETCD"].endswith(":2379")


def test_plaintext_only_when_tls_is_off(rendered: dict[str, list[Manifest]]) -> None:
    docs = rendered["plaintext"]
    text = json.dumps(docs)
    assert TLS_DIR not in text and "client-ca" not in text and "TWINTELLER_TLS" not in text
    seen = set()
    for pod in pod_specs(docs):
        assert not tls_volumes(pod)
        for main in pod["containers"]:
            if main["name"] in IDENTITY_ALL_ON:
                seen.add(main["name"])
                assert env_of(main)["TWINTELLER_PLAINTEXT"] == "1"
    assert seen == set(IDENTITY_ALL_ON)
    etcd = container(find(docs, "StatefulSet", f"{PREFIX}-etcd"), "etcd")
    flags = dict(a.split("=", 1) for a in etcd["args"])
    assert flags["--listen-client-urls"] == "http://0.0.0.0:2379"
    assert flags["--listen-peer-urls"] == "http://0.0.0.0:2380"
    assert all(m.split("=", 1)[1].startswith("http://") for m in flags["--initial-cluster"].split(","))
    assert not {"--cert-file", "--peer-cert-file", "--client-cert-auth", "--peer-client-cert-auth"} & set(flags)
    for name in (f"{PREFIX}-router", f"{PREFIX}-router-headless"):
        grpc_port = find(docs, "Service", name)["spec"]["ports"][0]
        assert grpc_port["appProtocol"] == "kubernetes.io/h2c"


def test_router_services_pass_tls_through(rendered: dict[str, list[Manifest]]) -> None:
    # kubernetes.io/h2c is cleartext HTTP/2: wrong with TLS, and grpc/http2 invite proxies
    # to terminate the connection (README.md "TLS"): no appProtocol.
    for case in ("default", "values-ha"):
        for name in (f"{PREFIX}-router", f"{PREFIX}-router-headless"):
            port = find(rendered[case], "Service", name)["spec"]["ports"][0]
            assert port["name"] == "grpc" and "appProtocol" not in port


def test_router_client_ca_is_mounted_when_asked(rendered: dict[str, list[Manifest]]) -> None:
    router = find(rendered["all-on"], "Deployment", f"{PREFIX}-router")
    main = container(router, "router")
    assert env_of(main)["TWINTELLER_TLS_CLIENT_CA"] == "/etc/twinteller/client-ca/ca.crt"
    mount = next(m for m in main["volumeMounts"] if m["mountPath"] == "/etc/twinteller/client-ca")
    secret = tls_volumes(router["spec"]["template"]["spec"])[mount["name"]]
    assert secret["secretName"] == "bank-client-ca" and secret["items"] == [{"key": "ca.crt", "path": "ca.crt"}]
    assert mount["readOnly"] is True
    default = container(find(rendered["default"], "Deployment", f"{PREFIX}-router"), "router")
    assert "TWINTELLER_TLS_CLIENT_CA" not in env_of(default)  # server TLS only
    console = container(find(rendered["all-on"], "Deployment", f"{PREFIX}-console"), "console")
    assert "TWINTELLER_TLS_CLIENT_CA" not in env_of(console)  # the router's alone


def test_cert_manager_certificates_carry_the_names_callers_verify(rendered: dict[str, list[Manifest]]) -> None:
    docs = rendered["all-on"]
    certificates = {c["metadata"]["name"]: c["spec"] for c in kinds(docs, "Certificate")}
    assert set(certificates) == {f"{PREFIX}-{c}-tls" for c in ("router", "zone", "etcd", "client")}
    for spec in certificates.values():
        assert spec["issuerRef"] == ISSUER
        assert (spec["duration"], spec["renewBefore"]) == ("2160h", "720h")
    domain = f"{NAMESPACE}.svc.cluster.local"
    router = certificates[f"{PREFIX}-router-tls"]["dnsNames"]
    assert router[0] == "twinteller-router"
    for name in (f"{PREFIX}-router", f"{PREFIX}-router-headless"):
        assert {name, f"{name}.{NAMESPACE}", f"{name}.{NAMESPACE}.svc", f"{name}.{domain}"} <= set(router)
    assert "assistant.bank.example" in router  # tls.router.dnsNames
    assert certificates[f"{PREFIX}-zone-tls"]["dnsNames"] == ["twinteller-zone"]
    assert certificates[f"{PREFIX}-client-tls"]["dnsNames"] == ["twinteller-client"]
    etcd = certificates[f"{PREFIX}-etcd-tls"]
    names = set(etcd["dnsNames"])
    assert {"twinteller-etcd", f"{PREFIX}-etcd", f"{PREFIX}-etcd.{domain}", "localhost"} <= names
    assert f"*.{PREFIX}-etcd-peer.{domain}" in names
    assert etcd["ipAddresses"] == ["127.0.0.1"]
    # Every member's peer and client URL host is named (spelled out and by the wildcard).
    flags = dict(a.split("=", 1) for a in container(find(docs, "StatefulSet", f"{PREFIX}-etcd"), "etcd")["args"])
    for member in flags["--initial-cluster"].split(","):
        host = member.split("=", 1)[1].removeprefix("https://").rsplit(":", 1)[0]
        assert host in names and host.split(".", 1)[1] == f"{PREFIX}-etcd-peer.{domain}"
    # Every pod mounts a Secret that a Certificate fills.
    secrets = {c["secretName"] for c in certificates.values()}
    for pod in pod_specs(docs):
        assert tls_volumes(pod)["tls"]["secretName"] in secrets


def test_cert_manager_needs_an_issuer(chart: helm_python.Chart) -> None:
    with pytest.raises(helm_python.HelmRenderError, match=r"issuerRef\.name is required"):
        chart.render(values={"tls": {"certManager": {"enabled": True}}}, name=RELEASE, namespace=NAMESPACE)
    external = render(chart, {"tls": {"certManager": {"enabled": True, "issuerRef": ISSUER}}, "etcd": {
        "enabled": False, "external": "etcd.example:2379"}})  # fmt: skip
    assert sorted(c["metadata"]["name"] for c in kinds(external, "Certificate")) == [
        f"{PREFIX}-{c}-tls" for c in ("client", "router", "zone")
    ]


# The probe scripts, as rendered, run against local servers over mutual TLS: certificates
# from twinteller/cli/certificates.py, the script's environment as the pod's (TWINTELLER_TLS_*
# pointing at the component's files), the repository as the image's /app.


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory) -> Issued:
    return issue(tmp_path_factory.mktemp("tls"))


def run_probe(main: Manifest, probe: str, issued: Issued, component: str, expected: int) -> None:
    """Run the container's exec probe as the kubelet would (its own interpreter for
    `python`): it must exit `expected` (0 passes; 1, from sys.exit or an exception, fails)."""
    command = main[probe]["exec"]["command"]
    assert command[0] == "python"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWINTELLER_")}
    env |= issued.environment(component) | {"PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, *command[1:]], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == expected, done.stderr


def secure_server(issued: Issued, component: str) -> tuple[grpc.Server, int]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    port = server.add_secure_port("127.0.0.1:0", issued.tls(component).server_credentials())
    return server, port


def test_router_readiness_probe_asks_health_over_mutual_tls(chart: helm_python.Chart, issued: Issued) -> None:
    server, port = secure_server(issued, "router")
    status = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(status, server)
    server.start()
    try:
        router = container(
            find(render(chart, {"router": {"grpcPort": port}}), "Deployment", f"{PREFIX}-router"), "router"
        )
        command = router["readinessProbe"]["exec"]["command"]
        assert command[0] == "python" and f"127.0.0.1:{port}" in command[-1]
        status.set("", health_pb2.HealthCheckResponse.SERVING)
        run_probe(router, "readinessProbe", issued, "router", 0)
        status.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
        run_probe(router, "readinessProbe", issued, "router", 1)
    finally:
        server.stop(None)
    run_probe(router, "readinessProbe", issued, "router", 1)  # nobody listening


class FakeTriton(service_pb2_grpc.GRPCInferenceServiceServicer):  # type: ignore[misc]
    def __init__(self) -> None:
        self.ready: set[str] = set()

    def ModelReady(self, request: Any, context: grpc.ServicerContext) -> Any:  # the gRPC method's name
        return service_pb2.ModelReadyResponse(ready=request.name in self.ready and request.version == "")


@contextlib.contextmanager
def zone_probing(chart: helm_python.Chart, issued: Issued, identity: str, triton: FakeTriton) -> Iterator[Manifest]:
    """`triton` served with the `identity` certificate; the zone container rendered to probe it."""
    server, port = secure_server(issued, identity)
    service_pb2_grpc.add_GRPCInferenceServiceServicer_to_server(triton, server)
    server.start()
    try:
        rendered = render(chart, {"zones": {"ports": {"grpc": port}}})
        yield container(find(rendered, "Deployment", f"{PREFIX}-zone-a"), "zone")
    finally:
        server.stop(None)


def test_zone_probes_ask_triton_over_mutual_tls(chart: helm_python.Chart, issued: Issued) -> None:
    triton = FakeTriton()
    with zone_probing(chart, issued, "zone", triton) as zone:
        run_probe(zone, "readinessProbe", issued, "zone", 1)  # Triton up, model not loaded
        triton.ready.add("intent")
        run_probe(zone, "readinessProbe", issued, "zone", 0)
        run_probe(zone, "startupProbe", issued, "zone", 0)
    # A peer that is not a zone (a router's certificate) is not taken for one.
    with zone_probing(chart, issued, "router", triton) as zone:
        run_probe(zone, "readinessProbe", issued, "zone", 1)


# --- values.schema.json --------------------------------------------------------------------

BAD_VALUES = [
    pytest.param({"zones": {"device": "tpu"}}, "device", id="zones.device=tpu"),
    pytest.param({"router": {"replicas": "three"}}, "replicas", id="router.replicas=three"),
    pytest.param({"etcd": {"replicas": 2}}, "replicas", id="etcd.replicas=2"),
    pytest.param({"zones": {"list": [{"name": "a"}]}}, "nodeZone", id="zone-without-nodeZone"),
    pytest.param({"adminTokens": {"tokens": "no-name-here"}}, "tokens", id="token-without-name"),
    pytest.param({"router": {"settings": {"admin_tokens": "a:12345678"}}}, "admin_tokens", id="token-in-settings"),
    pytest.param({"routers": {"replicas": 3}}, "routers", id="unknown-key"),
    pytest.param({"tls": {"enabled": "yes"}}, "enabled", id="tls.enabled=yes"),
    pytest.param({"tls": {"certManager": {"duration": "90 days"}}}, "duration", id="tls-duration-90-days"),
    pytest.param({"tls": {"router": {"dnsNames": "assistant.bank.example"}}}, "dnsNames", id="tls-dnsNames-string"),
    pytest.param({"tls": {"secrets": {"routers": "x"}}}, "routers", id="tls-unknown-secret"),
    pytest.param(
        {"etcd": {"sites": [{"name": "witness", "zone": "z", "members": 1}]}}, "name", id="site-named-witness"
    ),
    pytest.param({"etcd": {"sites": [{"name": "a", "zone": "z", "members": 0}]}}, "members", id="site-of-no-member"),
    pytest.param({"etcd": {"witness": {"enabled": True, "size": 1}}}, "size", id="witness-unknown-key"),
]


@pytest.mark.parametrize(("values", "named"), BAD_VALUES)
def test_schema_rejects_bad_values(chart: helm_python.Chart, values: dict[str, Any], named: str) -> None:
    with pytest.raises(helm_python.HelmValuesError, match=named):
        chart.render(values=values, name=RELEASE, namespace=NAMESPACE)
    report = helm_python.lint(CHART, values, strict=True)
    assert report["errors"]  # lint fails too
    # The file alone, with any JSON Schema validator, over the values as Helm merges them.
    schema = json.loads((CHART / "values.schema.json").read_text(encoding="utf-8"))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(chart.merge_values(values), schema)


@pytest.mark.parametrize("case", CASES)
def test_schema_accepts_the_shipped_values(chart: helm_python.Chart, case: str) -> None:
    schema = json.loads((CHART / "values.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    jsonschema.validate(chart.merge_values(case_values(case)), schema)
    chart.validate_schema(case_values(case))


def test_duplicate_zone_names_are_refused(chart: helm_python.Chart) -> None:
    twice = {"zones": {"list": [{"name": "a", "nodeZone": "z1"}, {"name": "a", "nodeZone": "z2"}]}}
    with pytest.raises(helm_python.HelmRenderError, match="twice"):
        chart.render(values=twice, name=RELEASE, namespace=NAMESPACE)
