"""Transport security on every hop (README "Security model").

Every process has one identity: a certificate and key signed by the cluster's CA, used as
its server certificate where it listens and as its client certificate where it calls.
Every internal hop is mutual TLS: etcd, Triton and the routers ask for a client
certificate from the cluster's CA. Callers verify a peer by its component name (a DNS
name every certificate of that component carries, `twinteller-zone` for zones), not by the
address they dial: zones and routers register pod IP addresses, which no certificate
issuer can be expected to sign.

Plaintext is a development flag (`--plaintext`, TWINTELLER_PLAINTEXT=1); a process given
neither certificates nor that flag refuses to start.

Renewal (cert-manager does it before expiry): a router's listener reloads its certificate
when the files change, and etcd reads its files at every handshake. Channels read the
files when they are made and keep them, and Triton reads them at start: roll the routers,
zones and workers within the renewal window (README "Rotating certificates").
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import serialization

PUBLIC = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)

# The DNS name each component's certificate carries, whatever addresses it also has.
ROUTER = "twinteller-router"
ZONE = "twinteller-zone"
ETCD = "twinteller-etcd"
CLIENT = "twinteller-client"  # tools, workers, tests: callers that listen nowhere

PLAINTEXT_ENV = "TWINTELLER_PLAINTEXT"
Options = Sequence[tuple[str, Any]]


class TlsConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Tls:
    """This process's identity (`cert`, `key`) and the CA it trusts for internal hops."""

    ca: Path
    cert: Path
    key: Path

    def channel_credentials(self) -> grpc.ChannelCredentials:
        return grpc.ssl_channel_credentials(
            root_certificates=self.ca.read_bytes(),
            private_key=self.key.read_bytes(),
            certificate_chain=self.cert.read_bytes(),
        )

    def server_credentials(
        self, client_ca: Path | None = None, *, require_client: bool = True
    ) -> grpc.ServerCredentials:
        """Credentials that reload `cert`/`key`/the client CA when one of the files changes
        (checked at each new connection). Clients are verified against `client_ca`, or
        the cluster's CA; `require_client=False` serves TLS without asking clients for one."""
        trusted = client_ca or self.ca
        files = (self.cert, self.key, trusted)

        def stamp() -> tuple[int, ...]:
            return tuple(f.stat().st_mtime_ns for f in files)

        def configuration() -> Any:
            return grpc.ssl_server_certificate_configuration(
                [(self.key.read_bytes(), self.cert.read_bytes())], root_certificates=trusted.read_bytes()
            )

        loaded = stamp()

        def fetch() -> Any:
            nonlocal loaded
            try:
                now = stamp()
                if now == loaded:
                    return None
                fresh = configuration()  # a half-written file fails here: keep the old one
            except (OSError, ValueError):
                return None
            loaded = now
            return fresh

        return grpc.dynamic_ssl_server_credentials(configuration(), fetch, require_client_authentication=require_client)


def presented_certificate(address: str, tls: Tls, server_name: str, timeout: float = 3.0) -> x509.Certificate:
    """The certificate the server at `address` presents to a new connection, verified as
    `server_name` (a mutual TLS handshake, as gRPC's); OSError (ssl.SSLError is one) when
    there is no handshake."""
    host, _, port = address.rpartition(":")
    context = ssl.create_default_context(cafile=tls.ca)
    context.load_cert_chain(tls.cert, tls.key)
    context.set_alpn_protocols(["h2"])
    with (
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout) as raw,
        context.wrap_socket(raw, server_hostname=server_name) as wrapped,
    ):
        der = wrapped.getpeercert(binary_form=True)
    if der is None:
        raise ssl.SSLError("no certificate presented")
    return x509.load_der_x509_certificate(der)


def load_tls(ca: str, cert: str, key: str, *, plaintext: bool) -> Tls | None:
    """The process's transport from its flags: None for plaintext (development only)."""
    given = [v for v in (ca, cert, key) if v]
    if plaintext:
        if given:
            raise TlsConfigError("--plaintext and --tls-* files together: choose one")
        return None
    if len(given) < 3:
        raise TlsConfigError(
            "TLS is required: give --tls-ca, --tls-cert and --tls-key "
            "(env TWINTELLER_TLS_CA/_CERT/_KEY), or --plaintext for development"
        )
    tls = Tls(Path(ca), Path(cert), Path(key))
    for name, path in (("--tls-ca", tls.ca), ("--tls-cert", tls.cert), ("--tls-key", tls.key)):
        if not path.is_file():
            raise TlsConfigError(f"{name} {path}: no such file")
    _check_pair(tls)
    return tls


def _check_pair(tls: Tls) -> None:
    """Readable PEM, and a key that belongs to the certificate: gRPC itself would only
    find out at the first handshake, as a refused connection that says nothing."""
    try:
        x509.load_pem_x509_certificates(tls.ca.read_bytes())
        cert = x509.load_pem_x509_certificate(tls.cert.read_bytes())
        key = serialization.load_pem_private_key(tls.key.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as e:
        raise TlsConfigError(f"TLS files unusable: {e}") from None
    if cert.public_key().public_bytes(*PUBLIC) != key.public_key().public_bytes(*PUBLIC):
        raise TlsConfigError(f"--tls-key {tls.key} is not the key of --tls-cert {tls.cert}")


def triton_arguments(tls: Tls | None) -> dict[str, Any]:
    """Keyword arguments for a tritonclient InferenceServerClient: mutual TLS with the zone,
    verified as twinteller-zone; none for plaintext. Merge `channel_args` with your own."""
    if tls is None:
        return {}
    return {"creds": tls.channel_credentials(), "channel_args": [("grpc.ssl_target_name_override", ZONE)]}


def _secure_options(server_name: str, options: Options) -> list[tuple[str, Any]]:
    return [*options, ("grpc.ssl_target_name_override", server_name)] if server_name else list(options)


def channel(target: str, tls: Tls | None, server_name: str, options: Options = ()) -> grpc.Channel:
    """A blocking channel to `target`, verifying the peer as `server_name` (empty: as the
    address dialled)."""
    if tls is None:
        return grpc.insecure_channel(target, options=list(options))
    return grpc.secure_channel(target, tls.channel_credentials(), options=_secure_options(server_name, options))


def aio_channel(target: str, tls: Tls | None, server_name: str, options: Options = ()) -> grpc.aio.Channel:
    if tls is None:
        return grpc.aio.insecure_channel(target, options=list(options))
    return grpc.aio.secure_channel(target, tls.channel_credentials(), options=_secure_options(server_name, options))


def add_port(
    server: grpc.aio.Server,
    address: str,
    tls: Tls | None,
    *,
    client_ca: Path | None = None,
    require_client: bool = True,
) -> int:
    """Listen on `address`; with `tls`, asking clients for a certificate from `client_ca`
    (or the cluster's CA) unless `require_client` is False."""
    if tls is None:
        return server.add_insecure_port(address)
    return server.add_secure_port(address, tls.server_credentials(client_ca, require_client=require_client))
