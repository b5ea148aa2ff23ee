"""Launching the real `tritonserver` shipped in the `nvidia-pytriton` wheel.

Facts checked on these machines that this module encodes: the python backend needs the
`triton_python_backend_stub` for our Python beside `libtriton_python.so`, and the stub
must find the venv's packages, so the venv's `bin` goes first on PATH.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from google.protobuf import json_format, text_format
from tritonclient.grpc import model_config_pb2

from twinteller.config import ZoneConfig

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def triton_home() -> Path:
    import pytriton

    return Path(pytriton.__file__).parent / "tritonserver"


def prepare_backends(target: Path) -> Path:
    """A backend directory whose python backend has the stub for this interpreter."""
    home = triton_home()
    python_dir = target / "python"
    python_dir.mkdir(parents=True, exist_ok=True)
    for name in ("libtriton_python.so", "triton_python_backend_utils.py"):
        _replace(home / "backends" / "python" / name, python_dir / name)
    stub = home / "python_backend_stubs" / sysconfig.get_python_version() / "triton_python_backend_stub"
    if not stub.exists():
        raise RuntimeError(f"no Triton python backend stub for Python {sysconfig.get_python_version()}")
    _replace(stub, python_dir / stub.name)
    return target


def _replace(source: Path, target: Path) -> None:
    """Copy then rename: a stub still running from an earlier Triton keeps its old inode
    (overwriting a running executable in place fails with 'Text file busy')."""
    tmp = target.with_name(target.name + ".tmp")
    shutil.copy2(source, tmp)
    tmp.replace(target)


def otlp_traces_url() -> str:
    """Triton exports OTLP over HTTP; honour the standard OTEL_* variables."""
    explicit = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    if explicit:
        return explicit
    base = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    return base.rstrip("/") + "/v1/traces"


def transport_arguments(config: ZoneConfig) -> list[str]:
    """Mutual TLS on Triton's gRPC port (callers need a certificate from the cluster's CA),
    and no HTTP port at all: Triton's HTTP endpoint has no client certificates, and nothing
    of twinteller uses it. Metrics stay plain HTTP (counts only, no customer data)."""
    tls = config.tls
    if tls is None:
        return [f"--http-address={config.host}", f"--http-port={config.http_port}"]
    return [
        "--allow-http=false",
        "--grpc-use-ssl=true",
        "--grpc-use-ssl-mutual=true",
        f"--grpc-server-cert={tls.cert.resolve()}",
        f"--grpc-server-key={tls.key.resolve()}",
        f"--grpc-root-cert={tls.ca.resolve()}",
    ]


def command(config: ZoneConfig, backends: Path) -> list[str]:
    return [
        str(triton_home() / "bin" / "tritonserver"),
        f"--model-repository={config.model_repo.resolve()}",
        f"--backend-directory={backends}",
        "--model-control-mode=explicit",
        f"--grpc-address={config.host}",
        f"--grpc-port={config.grpc_port}",
        *transport_arguments(config),
        f"--metrics-address={config.host}",
        f"--metrics-port={config.metrics_port}",
        "--exit-timeout-secs=5",
        # Let routers' keepalive pings through so a hung peer is noticed in seconds.
        "--grpc-keepalive-time=2000",
        "--grpc-keepalive-timeout=1000",
        "--grpc-keepalive-permit-without-calls=true",
        "--grpc-http2-min-recv-ping-interval-without-data=1000",
        "--grpc-http2-max-pings-without-data=0",
        "--trace-config=mode=opentelemetry",
        f"--trace-config=rate={config.trace_rate}",
        "--trace-config=level=TIMESTAMPS",
        f"--trace-config=opentelemetry,url={otlp_traces_url()}",
        f"--trace-config=opentelemetry,resource=service.name=triton-zone-{config.zone}",
        # Every request is traced: a burst of turns must not overflow the export queue (the
        # default 2048 spans drops spans under load), and spans leave within a second.
        "--trace-config=opentelemetry,bsp_max_queue_size=32768",
        "--trace-config=opentelemetry,bsp_schedule_delay=1000",
    ]


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH")) if p)
    env.setdefault("HF_HUB_OFFLINE", "1")
    # The stub is copied out of the wheel, so its relative RPATH to the wheel's bundled
    # libraries (libcudart) no longer resolves: name that directory explicitly.
    libs = str(triton_home().parent.parent / "nvidia_pytriton.libs")
    env["LD_LIBRARY_PATH"] = os.pathsep.join(p for p in (libs, env.get("LD_LIBRARY_PATH")) if p)
    return env


def _die_with_parent() -> list[str]:
    """If the zone agent is killed (even with SIGKILL), the kernel kills Triton too: no
    orphaned tritonserver holding ports. Done with util-linux `setpriv`, not a Python
    preexec_fn: forking a process that runs gRPC threads and then running Python in the
    child aborts it (seen here: "epoll_wait error: Bad file descriptor")."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "KILL", "--"] if setpriv else []


def start(config: ZoneConfig, log_path: Path) -> subprocess.Popen[bytes]:
    backends = prepare_backends(config.run_dir / f"backends-{config.zone}")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log_file:
        return subprocess.Popen(
            [*_die_with_parent(), *command(config, backends)],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=environment(),
            start_new_session=True,  # its own process group, so its stubs can be ended with it
        )


def load_config_json(config: ZoneConfig, versions: list[str]) -> str:
    """The model's config.pbtxt, with the versions to serve and the device of this zone,
    as the JSON override Triton's explicit `load_model` accepts."""
    parsed = model_config_pb2.ModelConfig()
    text_format.Parse((config.model_repo / config.model_name / "config.pbtxt").read_text(), parsed)
    parsed.version_policy.specific.versions[:] = [int(v) for v in versions]
    kind = (
        model_config_pb2.ModelInstanceGroup.KIND_GPU
        if config.device == "gpu"
        else model_config_pb2.ModelInstanceGroup.KIND_CPU
    )
    for group in parsed.instance_group:
        group.kind = kind
    return json_format.MessageToJson(parsed, preserving_proto_field_name=True)
