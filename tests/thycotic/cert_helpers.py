"""Helpers for the certificate tests: a config for a dev server, ``cert get`` in process, and
certificate material made with ``cryptography``."""

from __future__ import annotations

import base64
import datetime
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from credchain.cli import main
from credchain.devserver import DevServer

CERTIFICATE_TEMPLATE = 6200


def config_for(server: DevServer, **overrides: Any) -> dict[str, object]:
    """A one-entry chain (``vault``) for ``server``."""
    table = server.thycotic_table(type="thycotic", **overrides)
    return {"chain": ["vault"], "providers": {"vault": table}}


def cert_get(*args: str) -> Result:
    return CliRunner().invoke(main, ["cert", "get", *args])


def make_cert(
    name: str = "made.example.com",
    *,
    days: int = 30,
    issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None = None,
    ca: bool = False,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A certificate for ``name`` valid ``days`` more days, self-signed or by ``issuer``."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    signer_name, signer_key = (issuer[0].subject, issuer[1]) if issuer else (subject, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(signer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    return builder.sign(signer_key, hashes.SHA256()), key


def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def key_pem(key: ec.EllipticCurvePrivateKey, password: str | None = None) -> str:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password.encode())
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    ).decode()


def pfx_b64(
    cert: x509.Certificate, key: ec.EllipticCurvePrivateKey, password: str | None = None
) -> str:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password.encode())
        if password
        else serialization.NoEncryption()
    )
    data = pkcs12.serialize_key_and_certificates(b"made", key, cert, None, encryption)
    return base64.b64encode(data).decode()


def written(out: Path) -> dict[str, int]:
    """The files in ``out`` and their permission bits."""
    return {p.name: p.stat().st_mode & 0o777 for p in sorted(out.iterdir())}
