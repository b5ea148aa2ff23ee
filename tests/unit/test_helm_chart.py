"""The Helm chart (helm/twinteller), checked offline: no cluster, no helm binary, no network.

- `helm lint --strict` through helm-python-sdk (Helm 4 as a library), with the default values
  and with each ci/ values file (cpu, gpu, ha);
- rendered with each of them, every manifest parsed and validated against the Kubernetes 1.31
  schemas bundled in kubernetes-validate, strictly (an unknown field fails). The Prometheus
  Operator's ServiceMonitor and PodMonitor have no schema there: this file checks their shape
  itself. A manifest broken on purpose must fail the validator, so a pass means something;
- behaviour a zero-downtime, two-zone install depends on: routers spread over the zones with
  a gRPC readiness probe on their gRPC port and a liveness probe that does not depend on zones
  or etcd; one Deployment per zone pinned to its zone, with nvidia.com/gpu by default and none
  with ci/values-cpu.yaml; rolling updates that never take a router or a zone away first;
  probes on what Triton really reports; the seed model built once into the shared volume
  before zones start; a 3-member etcd with an initial cluster of 3 stable names; PDBs; HPA;
  admin tokens from a Secret; the Grafana dashboard shipped byte for byte;
- values.schema.json rejects bad values (zones.device "tpu", router.replicas "three", ...):
  Helm's render refuses them, and so does jsonschema on the file alone.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import helm_python
import jsonschema
import kubernetes_validate
import pytest
import yaml

CHART = Path(__file__).parents[2] / "helm" / "twinteller"
KUBE_VERSION = "1.31.0"
RELEASE, NAMESPACE = "tt", "prod"
PREFIX = f"{RELEASE}-twinteller"
CASES = ["default", "values-cpu", "values-gpu", "values-ha"]
CRDS = {("monitoring.coreos.com/v1", "ServiceMonitor"), ("monitoring.coreos.com/v1", "PodMonitor")}
# Everything optional switched on, so those templates are validated too.
ALL_ON: dict[str, Any] = {
    "adminTokens": {"tokens": "ops:s3cret-token,alice:another-token"},
    "legacy": {"address": "http://legacy.legacy.svc:8090"},
    "inspect": {"enabled": True},
    "router": {"zoneFromNode": False, "zone": "a", "settings": {"hedge_delay_s": 0.3, "session_ttl_s": 1800}},
    "zones": {"settings": {"restart_unready_s": 45}},
    "etcd": {"persistence": {"enabled": False}},
    "monitoring": {"serviceMonitor": {"enabled": True}, "podMonitor": {"enabled": True}},
    "otel": {"endpoint": "http://otel-collector:4318"},
}

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


# --- lint and Kubernetes schemas ---------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_lint_strict_passes(case: str) -> None:
    report = helm_python.lint(CHART, case_values(case) or None, strict=True, namespace=NAMESPACE)
    problems = [m for m in report["messages"] if m["severity"] >= 2]  # 2 warning, 3 error
    assert not problems and not report["errors"], (problems, report["errors"])


def check_crd(doc: Manifest) -> None:
    """ServiceMonitor/PodMonitor: no schema in kubernetes-validate, so their shape here."""
    assert set(doc) == {"apiVersion", "kind", "metadata", "spec"}
    spec = doc["spec"]
    assert spec["selector"]["matchLabels"]["app.kubernetes.io/instance"] == RELEASE
    assert spec["namespaceSelector"] == {"matchNames": [NAMESPACE]}
    endpoints = spec["endpoints" if doc["kind"] == "ServiceMonitor" else "podMetricsEndpoints"]
    assert endpoints and all(e["port"] == "metrics" and e["path"] == "/metrics" for e in endpoints)


@pytest.mark.parametrize("case", [*CASES, "all-on"])
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
    assert main["readinessProbe"]["grpc"] == {"port": grpc_port}  # service "": SERVING while a zone can serve
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
        assert args[:3] == ["python", "-m", "server"]
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
        http_port = next(p["containerPort"] for p in main["ports"] if p["name"] == "http")
        assert http_port == 8000
        # /v2/health/ready says 200 before any model is loaded (explicit model control):
        # ready means the model itself is ready (then the agent registers the zone).
        assert main["readinessProbe"]["httpGet"] == {"path": "/v2/models/intent/ready", "port": "http"}
        assert main["livenessProbe"]["httpGet"] == {"path": "/v2/health/live", "port": "http"}
        startup = main["startupProbe"]
        assert startup["httpGet"]["path"] == "/v2/models/intent/ready"
        assert startup["periodSeconds"] * startup["failureThreshold"] >= 300  # model load can take minutes
        pod = zone["spec"]["template"]["spec"]
        assert pod["terminationGracePeriodSeconds"] >= 30  # deregister, 1 s drain, stop Triton


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
    assert "python -m server.training --model-repo /models --version 1" in script
    assert script.index("kb.json ]") < script.index("server.training")  # skipped when present
    assert container(trainer, "trainer")["args"][:3] == ["python", "-m", "server.trainer"]
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
    assert container(insights, "insights")["args"][:3] == ["python", "-m", "server.insights"]
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
        assert url == f"http://{name}.{PREFIX}-etcd-peer.{NAMESPACE}.svc.cluster.local:2380"
    assert flags["--max-txn-ops"] == "2048" and flags["--max-request-bytes"] == "10485760"
    assert flags["--name"] == "$(POD_NAME)"
    clients = find(docs, "Service", f"{PREFIX}-etcd")
    assert clients["spec"]["clusterIP"] == "None"  # one name resolving to every member


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
    assert args[:3] == ["python", "-m", "twinteller.inspect"]
    assert args[args.index("--etcd") + 1] == f"{PREFIX}-etcd.{NAMESPACE}.svc.cluster.local:2379"
    assert args[args.index("--zones") + 1] == "a,b"
    env = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["env"]
    token = next(e for e in env if e["name"] == "TWINTELLER_ADMIN_TOKEN")
    assert token["valueFrom"]["secretKeyRef"]["key"] == "inspect-token"


# --- values.schema.json --------------------------------------------------------------------

BAD_VALUES = [
    pytest.param({"zones": {"device": "tpu"}}, "device", id="zones.device=tpu"),
    pytest.param({"router": {"replicas": "three"}}, "replicas", id="router.replicas=three"),
    pytest.param({"etcd": {"replicas": 2}}, "replicas", id="etcd.replicas=2"),
    pytest.param({"zones": {"list": [{"name": "a"}]}}, "nodeZone", id="zone-without-nodeZone"),
    pytest.param({"adminTokens": {"tokens": "no-name-here"}}, "tokens", id="token-without-name"),
    pytest.param({"router": {"settings": {"admin_tokens": "a:12345678"}}}, "admin_tokens", id="token-in-settings"),
    pytest.param({"routers": {"replicas": 3}}, "routers", id="unknown-key"),
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
