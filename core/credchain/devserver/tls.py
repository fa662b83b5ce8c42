"""Certificates made at start: a throw-away CA and a server certificate for the loopback names.

The CA PEM is what clients trust (``REQUESTS_CA_BUNDLE``, ``curl --cacert``); the fingerprint is the
SHA-256 of the *server* certificate, which is what a client pinning the certificate sees.

``make_client_identity`` makes the other side of mutual TLS: a client CA (what a server started
with ``require_client_cert`` trusts) and a client certificate and key signed by it.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPublicKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from credchain.tls import format_fingerprint

__all__ = [
    "ClientIdentity",
    "ServerIdentity",
    "kept_identity",
    "leaf_builder",
    "make_client_identity",
    "make_identity",
    "new_ca",
]

#: how long a certificate kept in ``--cert-dir`` is valid (a throw-away one: two days)
KEPT_DAYS = 365

_LOOPBACK_NAMES: tuple[x509.GeneralName, ...] = (
    x509.DNSName("localhost"),
    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
    x509.IPAddress(ipaddress.ip_address("::1")),
)


@dataclass(frozen=True, slots=True)
class ServerIdentity:
    """Paths of one generation of PEM files, and the server certificate's fingerprint."""

    ca_cert: Path
    server_cert: Path
    server_key: Path
    fingerprint_sha256: str

    def load_into(self, context: ssl.SSLContext) -> None:
        """Make ``context`` present this certificate to new connections."""
        context.load_cert_chain(self.server_cert, self.server_key)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def new_ca(
    name: x509.Name, start: datetime.datetime, end: datetime.datetime
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A new self-signed CA (EC P-256) called ``name``, valid from ``start`` to ``end``."""
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def leaf_builder(
    subject: x509.Name,
    issuer: x509.Name,
    key: CertificateIssuerPublicKeyTypes,
    start: datetime.datetime,
    end: datetime.datetime,
) -> x509.CertificateBuilder:
    """A certificate for ``subject`` (not a CA) issued by ``issuer``, for the caller's
    extensions and signature."""
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    )


def make_identity(directory: Path, generation: int = 0, *, days: int = 2) -> ServerIdentity:
    """Create a new CA and a server certificate signed by it, written as PEM under ``directory``.

    Each call makes a *new* CA too, so a swapped certificate fails CA verification as well as
    pinning. EC P-256 keys: generated in milliseconds and cheap to handshake.
    """
    now = datetime.datetime.now(datetime.UTC)
    start, end = now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=days)
    ca_name = _name(f"credchain dev-server CA {generation}")
    ca_key, ca_cert = new_ca(ca_name, start, end)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        leaf_builder(_name("localhost"), ca_name, key.public_key(), start, end)
        .add_extension(x509.SubjectAlternativeName(list(_LOOPBACK_NAMES)), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    suffix = f"-{generation}" if generation else ""
    paths = (
        directory / f"ca{suffix}.pem",
        directory / f"server{suffix}.pem",
        directory / f"server{suffix}.key",
    )
    paths[0].write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    paths[2].chmod(0o600)
    return ServerIdentity(
        ca_cert=paths[0],
        server_cert=paths[1],
        server_key=paths[2],
        fingerprint_sha256=format_fingerprint(cert.fingerprint(hashes.SHA256()).hex()),
    )


def kept_identity(directory: Path) -> ServerIdentity:
    """The identity kept in ``directory`` (``--cert-dir``), made there on first use or when it
    has expired: the same certificate across restarts, so a pin or a CA file stays good."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    paths = (directory / "ca.pem", directory / "server.pem", directory / "server.key")
    if all(path.is_file() for path in paths):
        try:
            cert = x509.load_pem_x509_certificate(paths[1].read_bytes())
        except ValueError:
            cert = None
        soon = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)
        if cert is not None and cert.not_valid_after_utc > soon:
            return ServerIdentity(
                ca_cert=paths[0],
                server_cert=paths[1],
                server_key=paths[2],
                fingerprint_sha256=format_fingerprint(cert.fingerprint(hashes.SHA256()).hex()),
            )
    return make_identity(directory, days=KEPT_DAYS)


@dataclass(frozen=True, slots=True)
class ClientIdentity:
    """Paths of a client CA, and of a client certificate and key (PEM) that it signed."""

    ca_cert: Path
    cert: Path
    key: Path


def make_client_identity(
    directory: Path, *, name: str = "credchain-client", password: str | None = None
) -> ClientIdentity:
    """A new client CA and a client certificate for ``name`` under ``directory``.

    The key is written encrypted with ``password`` when one is given (mode 0600 either way).
    """
    now = datetime.datetime.now(datetime.UTC)
    start, end = now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=2)
    ca_name = _name(f"credchain client CA for {name}")
    ca_key, ca_cert = new_ca(ca_name, start, end)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        leaf_builder(_name(name), ca_name, key.public_key(), start, end)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    identity = ClientIdentity(
        ca_cert=directory / f"{name}-ca.pem",
        cert=directory / f"{name}.pem",
        key=directory / f"{name}.key",
    )
    identity.ca_cert.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    identity.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password.encode())
        if password
        else serialization.NoEncryption()
    )
    identity.key.touch(mode=0o600)
    identity.key.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    )
    return identity
