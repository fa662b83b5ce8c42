"""The demo certificates: made with ``cryptography`` on first use, once per process.

A throw-away CA ("credchain demo CA") issues each certificate; the secrets hold them as a
Secret Server certificate template does (seed 004): ``Certificate`` (PEM, the leaf then the CA),
``Private Key`` (PEM), ``PFX`` (base64 of a PKCS#12 file) and the PFX's ``Password``. EC P-256
keys, and one small RSA key, keep this to a few milliseconds.
"""

from __future__ import annotations

import base64
import datetime
import functools
import ipaddress
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .datafile import SecretSpec
from .tls import leaf_builder, new_ca

__all__ = [
    "CERTIFICATES_FOLDER",
    "CERTIFICATE_TEMPLATE",
    "DEMO_CERTIFICATES",
    "PFX_PASSWORD",
    "DemoCertificate",
    "certificate_secrets",
    "demo_certificates",
    "make_demo_certificates",
]

#: the folder of the demo certificates: ``\Certificates``
CERTIFICATES_FOLDER = 7


#: the template of the demo certificates (``BUILTIN_TEMPLATES``: seed 004's fields)
CERTIFICATE_TEMPLATE = 6200

#: (secret id, secret name, what it demonstrates); ids are fixed so docs and tests can name them
DEMO_CERTIFICATES: tuple[tuple[int, str, str], ...] = (
    (501, "demo-cert valid", "valid for a year; PEM parts and a PFX without a password"),
    (502, "demo-cert expiring", "expires in 10 days"),
    (503, "demo-cert expired", "expired 5 days ago"),
    (504, "demo-cert mismatched key", "its private key belongs to another certificate"),
    (505, "demo-cert pfx with password", "only a PFX (RSA 1024), its password in Password"),
)
#: the password of the demo PFX that has one (a demo value, documented in docs/dev-server.md)
PFX_PASSWORD = "demo-pfx-password"  # noqa: S105


@dataclass(frozen=True, slots=True)
class DemoCertificate:
    """One demo secret's fields, by slug."""

    id: int
    name: str
    items: dict[str, str]


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "credchain demo"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _key_pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def make_demo_certificates(now: datetime.datetime) -> list[DemoCertificate]:
    """New demo certificates, valid (or not) relative to ``now``."""
    day = datetime.timedelta(days=1)
    ca_name = _name("credchain demo CA")
    ca_key, ca = new_ca(ca_name, now - 400 * day, now + 3650 * day)

    def issue(
        host: str,
        key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey,
        start: datetime.datetime,
        end: datetime.datetime,
    ) -> x509.Certificate:
        names: list[x509.GeneralName] = [
            x509.DNSName(host),
            x509.DNSName(f"www.{host}"),
            x509.IPAddress(ipaddress.ip_address("10.0.2.10")),
        ]
        return (
            leaf_builder(_name(host), ca_name, key.public_key(), start, end)
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(
                x509.ExtendedKeyUsage(
                    [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
                ),
                critical=False,
            )
            .sign(ca_key, hashes.SHA256())
        )

    def pem_parts(
        host: str, start: datetime.datetime, end: datetime.datetime, *, mismatched: bool = False
    ) -> dict[str, str]:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = issue(host, key, start, end)
        shown = ec.generate_private_key(ec.SECP256R1()) if mismatched else key
        pfx = pkcs12.serialize_key_and_certificates(
            host.encode(), key, cert, [ca], serialization.NoEncryption()
        )
        return {
            "certificate": _pem(cert) + _pem(ca),
            "private-key": _key_pem(shown),
            "pfx": "" if mismatched else base64.b64encode(pfx).decode(),
            "password": "",
        }

    # Small on purpose: a demo key, made at start; the inspection shows "RSA 1024".
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505
    rsa_cert = issue("pfx.demo.example.com", rsa_key, now - day, now + 365 * day)
    protected = pkcs12.serialize_key_and_certificates(
        b"pfx.demo.example.com",
        rsa_key,
        rsa_cert,
        [ca],
        serialization.BestAvailableEncryption(PFX_PASSWORD.encode()),
    )
    items = [
        pem_parts("app.demo.example.com", now - day, now + 365 * day),
        pem_parts("soon.demo.example.com", now - 355 * day, now + 10 * day),
        pem_parts("old.demo.example.com", now - 370 * day, now - 5 * day),
        pem_parts("mismatch.demo.example.com", now - day, now + 365 * day, mismatched=True),
        {
            "certificate": "",
            "private-key": "",
            "pfx": base64.b64encode(protected).decode(),
            "password": PFX_PASSWORD,
        },
    ]
    return [
        # An empty field is left out (the store makes it ""): nothing holds an empty "secret".
        DemoCertificate(secret_id, name, {k: v for k, v in {**fields, "notes": note}.items() if v})
        for (secret_id, name, note), fields in zip(DEMO_CERTIFICATES, items, strict=True)
    ]


@functools.cache
def demo_certificates() -> list[DemoCertificate]:
    """The process's demo certificates, made on the first call (dev servers start often)."""
    return make_demo_certificates(datetime.datetime.now(datetime.UTC))


def certificate_secrets() -> list[SecretSpec]:
    """The demo certificate secrets, in ``\\Certificates``, shared with ``scanner``."""
    return [
        SecretSpec(
            id=cert.id,
            name=cert.name,
            folder_id=CERTIFICATES_FOLDER,
            template_id=CERTIFICATE_TEMPLATE,
            items=dict(cert.items),
            permissions=["scanner"],
        )
        for cert in demo_certificates()
    ]
