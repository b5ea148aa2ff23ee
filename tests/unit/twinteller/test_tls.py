"""twinteller.tls and twinteller.cli.certificates: who may connect, and renewing without a
restart. Real gRPC servers and channels over loopback, with certificates from the local CA."""

from __future__ import annotations

import argparse
import datetime
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from cryptography import x509

from twinteller import tls
from twinteller.cli.certificates import COMPONENTS, Issued, issue
from twinteller.config import (
    add_transport_arguments,
    router_config,
    transport_from_arguments,
    transport_from_environment,
)

ECHO = "/test.Echo/Echo"


@pytest.fixture
def issued(tmp_path: Path) -> Issued:
    return issue(tmp_path / "tls")


@pytest.fixture
def stranger(tmp_path: Path) -> Issued:
    """Certificates from another CA, with the very same names."""
    return issue(tmp_path / "other")


async def _echo(request: bytes, _context: grpc.aio.ServicerContext) -> bytes:
    return request


async def serve(identity: tls.Tls, *, require_client: bool = True) -> tuple[grpc.aio.Server, str]:
    server = grpc.aio.server()
    handler = grpc.unary_unary_rpc_method_handler(_echo)
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler("test.Echo", {"Echo": handler})])
    port = tls.add_port(server, "127.0.0.1:0", identity, require_client=require_client)
    await server.start()
    return server, f"127.0.0.1:{port}"


@pytest.fixture
async def router(issued: Issued) -> AsyncIterator[str]:
    server, address = await serve(issued.tls("router"))
    yield address
    await server.stop(None)


async def call(channel: grpc.aio.Channel) -> bytes:
    async with channel:
        return bytes(await channel.unary_unary(ECHO)(b"ping", timeout=5))


def served_certificate(address: str, issued: Issued) -> x509.Certificate:
    """The certificate the router at `address` presents to a new connection."""
    return tls.presented_certificate(address, issued.tls("client"), tls.ROUTER)


async def test_a_client_with_a_certificate_from_the_ca_is_served(router: str, issued: Issued) -> None:
    assert await call(tls.aio_channel(router, issued.tls("client"), tls.ROUTER)) == b"ping"


async def test_a_plaintext_client_is_refused(router: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await call(tls.aio_channel(router, None, ""))
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_a_client_certified_by_another_ca_is_refused(router: str, issued: Issued, stranger: Issued) -> None:
    # The stranger trusts our CA (it knows whom it calls), but its own certificate is not ours.
    impostor = tls.Tls(issued.ca, stranger.cert("client"), stranger.key("client"))
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await call(tls.aio_channel(router, impostor, tls.ROUTER))
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_a_client_without_a_certificate_is_refused_where_one_is_required(router: str, issued: Issued) -> None:
    credentials = grpc.ssl_channel_credentials(root_certificates=issued.ca.read_bytes())
    channel = grpc.aio.secure_channel(router, credentials, options=[("grpc.ssl_target_name_override", tls.ROUTER)])
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await call(channel)
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_a_server_with_a_certificate_from_another_ca_is_not_trusted(issued: Issued, stranger: Issued) -> None:
    server, address = await serve(stranger.tls("router"))
    try:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await call(tls.aio_channel(address, issued.tls("client"), tls.ROUTER))
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        await server.stop(None)


async def test_a_server_is_verified_by_its_component_name(router: str, issued: Issued) -> None:
    """A router certificate is not a zone's: a caller expecting a zone there refuses it."""
    with pytest.raises(grpc.aio.AioRpcError):
        await call(tls.aio_channel(router, issued.tls("client"), tls.ZONE))


async def test_server_tls_without_client_certificates_when_not_required(issued: Issued) -> None:
    server, address = await serve(issued.tls("router"), require_client=False)
    try:
        credentials = grpc.ssl_channel_credentials(root_certificates=issued.ca.read_bytes())
        options = [("grpc.ssl_target_name_override", tls.ROUTER)]
        assert await call(grpc.aio.secure_channel(address, credentials, options=options)) == b"ping"
    finally:
        await server.stop(None)


async def test_a_renewed_certificate_is_served_without_a_restart(router: str, issued: Issued) -> None:
    before = served_certificate(router, issued)
    issue(issued.directory, renew=True)
    after = served_certificate(router, issued)
    assert after.serial_number != before.serial_number
    assert after.serial_number == x509.load_pem_x509_certificate(issued.cert("router").read_bytes()).serial_number
    # Callers with renewed certificates are still served.
    assert await call(tls.aio_channel(router, issued.tls("client"), tls.ROUTER)) == b"ping"


def test_issued_certificates_carry_their_names_and_chain_to_the_ca(issued: Issued) -> None:
    ca = x509.load_pem_x509_certificate(issued.ca.read_bytes())
    for component, name in COMPONENTS.items():
        cert = x509.load_pem_x509_certificate(issued.cert(component).read_bytes())
        cert.verify_directly_issued_by(ca)
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert name in names.get_values_for_type(x509.DNSName)
        assert "127.0.0.1" in {str(a) for a in names.get_values_for_type(x509.IPAddress)}
        assert oct(issued.key(component).stat().st_mode & 0o777) == "0o600"


def test_a_valid_set_is_kept_and_renew_keeps_the_ca(issued: Issued) -> None:
    files = [issued.ca, *(issued.cert(c) for c in COMPONENTS)]
    first = [f.read_bytes() for f in files]
    issue(issued.directory)
    assert [f.read_bytes() for f in files] == first
    issue(issued.directory, renew=True)
    assert issued.ca.read_bytes() == first[0]
    assert all(f.read_bytes() != old for f, old in zip(files[1:], first[1:], strict=True))


def test_certificates_about_to_expire_are_issued_again(tmp_path: Path) -> None:
    short = issue(tmp_path / "short", days=3)  # the CA gets two weeks, the certificates three days
    old = short.cert("zone").read_bytes()
    again = issue(short.directory)
    assert again.cert("zone").read_bytes() != old
    expiry = x509.load_pem_x509_certificate(again.cert("zone").read_bytes()).not_valid_after_utc
    assert expiry - datetime.datetime.now(datetime.UTC) > datetime.timedelta(days=13)


def test_extra_names_are_added(tmp_path: Path) -> None:
    issued = issue(tmp_path / "named", names={"router": ["router.bank.example", "10.0.0.7"]})
    cert = x509.load_pem_x509_certificate(issued.cert("router").read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "router.bank.example" in names.get_values_for_type(x509.DNSName)
    assert "10.0.0.7" in {str(a) for a in names.get_values_for_type(x509.IPAddress)}


# -- configuration -------------------------------------------------------------------------------
@pytest.fixture
def no_tls_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TWINTELLER_TLS_CA", "TWINTELLER_TLS_CERT", "TWINTELLER_TLS_KEY", "TWINTELLER_PLAINTEXT"):
        monkeypatch.delenv(name, raising=False)


def test_a_process_without_certificates_or_the_plaintext_flag_refuses_to_start(no_tls_env: None) -> None:
    with pytest.raises(SystemExit, match="TLS is required"):
        router_config([])


def test_plaintext_only_by_the_explicit_flag(no_tls_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    assert router_config(["--plaintext"]).tls is None
    monkeypatch.setenv("TWINTELLER_PLAINTEXT", "1")
    assert router_config([]).tls is None
    monkeypatch.setenv("TWINTELLER_PLAINTEXT", "0")
    with pytest.raises(SystemExit, match="TLS is required"):
        router_config([])


def test_certificates_from_the_environment(issued: Issued, no_tls_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in issued.environment("router").items():
        monkeypatch.setenv(name, value)
    assert router_config([]).tls == issued.tls("router")
    parser = argparse.ArgumentParser()
    add_transport_arguments(parser)
    assert transport_from_arguments(parser.parse_args([])) == issued.tls("router")
    assert transport_from_environment() == issued.tls("router")


def test_bad_tls_settings_are_refused_with_the_reason(issued: Issued, no_tls_env: None, tmp_path: Path) -> None:
    files = ["--tls-ca", str(issued.ca), "--tls-cert", str(issued.cert("router")), "--tls-key"]
    with pytest.raises(SystemExit, match="--plaintext and --tls"):
        router_config([*files, str(issued.key("router")), "--plaintext"])
    with pytest.raises(SystemExit, match=r"--tls-key .*no such file"):
        router_config([*files, str(tmp_path / "missing.pem")])
    with pytest.raises(SystemExit, match="TLS is required"):
        router_config(files[:4])  # no key at all
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a key")
    with pytest.raises(SystemExit, match="unusable"):
        router_config([*files, str(garbage)])
    with pytest.raises(SystemExit, match="--tls-client-ca"):
        router_config([*files, str(issued.key("router")), "--tls-client-ca", str(tmp_path / "none.pem")])


def test_a_key_that_is_not_the_certificates_is_refused(issued: Issued, no_tls_env: None) -> None:
    files = ["--tls-ca", str(issued.ca), "--tls-cert", str(issued.cert("router")), "--tls-key", str(issued.key("zone"))]
    with pytest.raises(SystemExit, match="not the key of"):
        router_config(files)
