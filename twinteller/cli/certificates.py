"""A local certificate authority and one certificate per component, for `make run` and the
tests (in Kubernetes, cert-manager or the bank's PKI issues them: README "Security model").

    twinteller certificates DIR [--days 30] [--name router=router.bank.example]

writes DIR/ca.pem (the CA's key stays in DIR/ca-key.pem, for issuing more) and, for each
component, DIR/<component>.pem and DIR/<component>-key.pem. Each certificate carries the
component's name (twinteller/tls.py), localhost, 127.0.0.1 and ::1, and serves both as
server and client certificate. ECDSA P-256 keys; files are written mode 0600 / 0644.
What is there and valid for another week is kept: run it on every start. `--renew`
issues the certificates again from the same CA (a rotation: README "Security model").
"""

from __future__ import annotations

import argparse
import datetime
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from twinteller import tls

COMPONENTS = {"router": tls.ROUTER, "zone": tls.ZONE, "etcd": tls.ETCD, "client": tls.CLIENT}
# A set expiring sooner than this is issued again.
RENEW_BEFORE = datetime.timedelta(days=7)


@dataclass(frozen=True)
class Issued:
    directory: Path

    @property
    def ca(self) -> Path:
        return self.directory / "ca.pem"

    @property
    def ca_key(self) -> Path:
        return self.directory / "ca-key.pem"

    def cert(self, component: str) -> Path:
        return self.directory / f"{component}.pem"

    def key(self, component: str) -> Path:
        return self.directory / f"{component}-key.pem"

    def tls(self, component: str) -> tls.Tls:
        return tls.Tls(self.ca, self.cert(component), self.key(component))

    def environment(self, component: str) -> dict[str, str]:
        """TWINTELLER_TLS_* for a process of `component`."""
        return {
            "TWINTELLER_TLS_CA": str(self.ca),
            "TWINTELLER_TLS_CERT": str(self.cert(component)),
            "TWINTELLER_TLS_KEY": str(self.key(component)),
        }


def _write(path: Path, data: bytes, mode: int) -> None:
    temporary = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(temporary, path)  # a reader never sees half a file


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "twinteller"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _load_ca(issued: Issued, now: datetime.datetime) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None:
    """The CA in the directory, if its key is there and it stays valid a while yet."""
    try:
        ca = x509.load_pem_x509_certificate(issued.ca.read_bytes())
        key = serialization.load_pem_private_key(issued.ca_key.read_bytes(), None)
    except (OSError, ValueError):
        return None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or ca.not_valid_after_utc - now < RENEW_BEFORE:
        return None
    return ca, key


def _current(issued: Issued, component: str, ca: x509.Certificate, now: datetime.datetime) -> bool:
    """The component's certificate is there, signed by `ca`, and stays valid a while yet."""
    try:
        cert = x509.load_pem_x509_certificate(issued.cert(component).read_bytes())
        cert.verify_directly_issued_by(ca)
    except (OSError, ValueError, TypeError, InvalidSignature):
        return False
    return issued.key(component).is_file() and cert.not_valid_after_utc - now > RENEW_BEFORE


def _new_ca(issued: Issued, now: datetime.datetime, days: int) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(f"twinteller local CA {now:%Y%m%d%H%M%S}")
    ca = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .sign(key, hashes.SHA256())
    )
    _write(issued.ca_key, _key_pem(key), 0o600)
    _write(issued.ca, ca.public_bytes(serialization.Encoding.PEM), 0o644)
    return ca, key


def _new_certificate(
    issued: Issued, component: str, ca: tuple[x509.Certificate, ec.EllipticCurvePrivateKey], days: int, extra: list[str]
) -> None:
    ca_cert, ca_key = ca
    now = datetime.datetime.now(datetime.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    alternative: list[x509.GeneralName] = [x509.DNSName(COMPONENTS[component]), x509.DNSName("localhost")]
    for value in extra:
        try:
            alternative.append(x509.IPAddress(ipaddress.ip_address(value)))
        except ValueError:
            alternative.append(x509.DNSName(value))
    alternative += [x509.IPAddress(ipaddress.ip_address(a)) for a in ("127.0.0.1", "::1")]
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(COMPONENTS[component]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        # Never past the CA: a certificate outliving its issuer would be refused anyway.
        .not_valid_after(min(now + datetime.timedelta(days=days), ca_cert.not_valid_after_utc))
        .add_extension(x509.SubjectAlternativeName(alternative), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    # The key first: a reader that sees the new certificate finds its key already there.
    _write(issued.key(component), _key_pem(key), 0o600)
    _write(issued.cert(component), cert.public_bytes(serialization.Encoding.PEM), 0o644)


def issue(directory: Path, *, days: int = 30, names: dict[str, list[str]] | None = None, renew: bool = False) -> Issued:
    """The CA and a certificate for each component in `directory`. What is there and stays
    valid for RENEW_BEFORE is kept; `renew` issues every component's certificate again from
    the same CA (a rotation); a new CA (the old one expiring) means new certificates all
    round. `names` adds DNS names or IP addresses to a component's certificate."""
    issued = Issued(directory)
    now = datetime.datetime.now(datetime.UTC)
    directory.mkdir(parents=True, exist_ok=True)
    ca = _load_ca(issued, now)
    fresh_ca = ca is None
    if ca is None:
        ca = _new_ca(issued, now, max(days, 2 * RENEW_BEFORE.days))
    for component in COMPONENTS:
        extra = (names or {}).get(component, [])
        if fresh_ca or renew or extra or not _current(issued, component, ca[0], now):
            _new_certificate(issued, component, ca, days, extra)
    return issued


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="twinteller certificates", description="issue a local CA and twinteller's component certificates"
    )
    parser.add_argument("directory", type=Path)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument(
        "--name", action="append", default=[], metavar="COMPONENT=NAME", help="an extra DNS name or IP for a component"
    )
    parser.add_argument("--renew", action="store_true", help="issue every certificate again from the same CA")
    args = parser.parse_args(argv)
    names: dict[str, list[str]] = {}
    for item in args.name:
        component, _, value = item.partition("=")
        if component not in COMPONENTS or not value:
            raise SystemExit(f"--name {item!r}: expected COMPONENT=NAME with COMPONENT in {sorted(COMPONENTS)}")
        names.setdefault(component, []).append(value)
    issued = issue(args.directory, days=args.days, names=names, renew=args.renew)
    print(f"CA {issued.ca}; certificates for {', '.join(COMPONENTS)} in {issued.directory}")
