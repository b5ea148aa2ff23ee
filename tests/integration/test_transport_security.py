"""Every hop of the running cluster is mutual TLS (issue 8): the public API, etcd (clients
and peers) and the Triton zones refuse a plaintext caller and a caller certified by
another CA, and serve one with the cluster's client certificate."""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import grpc
import pytest
import tritonclient.grpc.aio as triton_aio

from twinteller import tls
from twinteller.cli.certificates import Issued, issue
from twinteller.devcluster.local_cluster import PROJECT_ROOT, LocalCluster
from twinteller.errors import StoreError
from twinteller.etcd import keys
from twinteller.etcd.store import Store
from twinteller.v1 import assistant_pb2 as pb
from twinteller.v1 import assistant_pb2_grpc as pb_grpc

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stranger(tmp_path_factory: pytest.TempPathFactory) -> Issued:
    """Certificates with the very same names, from a CA the cluster does not know."""
    return issue(tmp_path_factory.mktemp("stranger"))


def callers(cluster: LocalCluster, stranger: Issued) -> dict[str, tls.Tls | None]:
    assert cluster.certificates is not None, "the test cluster runs with TLS"
    return {
        "plaintext": None,
        # It trusts the cluster's CA (it knows whom it calls), but its certificate is not ours.
        "another CA": tls.Tls(cluster.certificates.ca, stranger.cert("client"), stranger.key("client")),
    }


def converse(channel: grpc.Channel) -> pb.ConverseResponse:
    with channel:
        request = pb.ConverseRequest(session_id=uuid.uuid4().hex, turn_id="1", text="my card has not arrived")
        return pb_grpc.AssistantStub(channel).Converse(request, timeout=5)


def test_the_public_api_serves_only_certified_callers(cluster: LocalCluster, stranger: Issued) -> None:
    assert converse(cluster.channel("a")).intent == "card_arrival"
    target = cluster.layout.router_target("a")
    for kind, identity in callers(cluster, stranger).items():
        with pytest.raises(grpc.RpcError) as refused:
            converse(tls.channel(target, identity, tls.ROUTER))
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE, kind  # type: ignore[attr-defined]
    assert cluster.certificates is not None
    without_certificate = grpc.ssl_channel_credentials(root_certificates=cluster.certificates.ca.read_bytes())
    options = [("grpc.ssl_target_name_override", tls.ROUTER)]
    with pytest.raises(grpc.RpcError) as refused:
        converse(grpc.secure_channel(target, without_certificate, options=options))
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE  # type: ignore[attr-defined]


def test_etcd_serves_only_certified_clients(cluster: LocalCluster, stranger: Issued) -> None:
    async def read(identity: tls.Tls | None) -> bool:
        async with Store(cluster.layout.etcd, identity, timeout=2.0) as store:
            return await store.get(keys.ACTIVE_VERSION) is not None

    assert asyncio.run(read(cluster.tls))
    for identity in callers(cluster, stranger).values():
        with pytest.raises(StoreError):
            asyncio.run(read(identity))


def test_etcd_peers_speak_only_tls_with_a_certificate(cluster: LocalCluster) -> None:
    peer = cluster.layout.etcd_members[0].peer
    with pytest.raises((urllib.error.URLError, ConnectionError)):
        urllib.request.urlopen(f"http://127.0.0.1:{peer}/members", timeout=5)
    # TLS, but no certificate of ours: the member ends the handshake.
    assert cluster.certificates is not None
    context = ssl.create_default_context(cafile=cluster.certificates.ca)
    with pytest.raises((ssl.SSLError, ConnectionError)):
        with socket.create_connection(("127.0.0.1", peer), timeout=5) as raw:
            with context.wrap_socket(raw, server_hostname="127.0.0.1") as wrapped:
                wrapped.sendall(b"GET /members HTTP/1.1\r\nHost: x\r\n\r\n")
                if not wrapped.recv(1):  # TLS 1.3 reports a refused certificate at the first read
                    raise ConnectionError("closed")


def test_triton_zones_serve_only_certified_callers(cluster: LocalCluster, stranger: Issued) -> None:
    endpoint = f"127.0.0.1:{cluster.layout.zones['a'].grpc}"

    async def ready(identity: tls.Tls | None) -> bool:
        client = triton_aio.InferenceServerClient(endpoint, **tls.triton_arguments(identity))
        try:
            return bool(await client.is_server_ready(client_timeout=3))
        finally:
            await client.close()

    assert asyncio.run(ready(cluster.tls))
    for kind, identity in callers(cluster, stranger).items():
        with pytest.raises(Exception) as refused:  # tritonclient's own exception type
            asyncio.run(ready(identity))
        assert "unavailable" in str(refused.value).lower() or "deadline" in str(refused.value).lower(), kind
    # Triton's HTTP endpoint has no client certificates: it is not opened at all.
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", cluster.layout.zones["a"].http), timeout=2).close()


@pytest.mark.parametrize(
    "module",
    [
        ["twinteller", "admin", "--token", "x" * 8, "list"],
        ["twinteller", "locate", "--token", "x" * 8, "--session", "s"],
        ["twinteller", "inspect", "--token", "x" * 8],
        ["router"],
        ["zone"],
        ["trainer"],
    ],
)
def test_every_process_refuses_to_start_without_certificates_or_the_plaintext_flag(
    module: list[str], tmp_path: Path
) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TWINTELLER_")}
    argv = [sys.executable, "-m", *module]
    started = subprocess.run(argv, cwd=tmp_path, env={**clean, "PYTHONPATH": str(PROJECT_ROOT)},
                             capture_output=True, text=True, timeout=60)  # fmt: skip
    assert started.returncode != 0
    assert "TLS is required" in started.stderr, started.stderr[-500:]
