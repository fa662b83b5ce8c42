"""A certificate secret's parts (seed 004), read and inspected with ``cryptography``.

``read_parts`` takes the raw field values: ``Certificate`` (PEM, the leaf first), ``Private
Key`` (PEM, encrypted or not), ``PFX`` (base64 of a PKCS#12 file, or its bytes) and the
``Password`` that opens the PFX or the key. Anything that is not what its field says is a
``ProviderError`` naming the field, never quoting it. ``inspect`` says what an admin checks:
subject, issuer, SANs, validity, key type and size, whether key and certificate match, and
whether the chain is in order. ``now`` is passed in, so expiry is testable without waiting.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
from dataclasses import dataclass, field
from typing import Any, Literal

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    PrivateKeyTypes,
)
from cryptography.hazmat.primitives.serialization import pkcs12
from pydantic import SecretStr

from credchain.errors import ProviderError
from credchain.tls import format_fingerprint

__all__ = [
    "EXIT_EXPIRED",
    "EXIT_EXPIRING",
    "EXIT_KEY_MISMATCH",
    "CertificateParts",
    "CertificateSummary",
    "Inspection",
    "decode_pfx",
    "inspect",
    "read_parts",
]

#: exit codes of ``credchain cert get`` for pipelines (0 is "fine", 1 any error)
EXIT_EXPIRING, EXIT_EXPIRED, EXIT_KEY_MISMATCH = 4, 5, 6
Status = Literal["valid", "expiring", "expired", "not yet valid"]
_PEM_CERT = b"-----BEGIN CERTIFICATE-----"
_PEM_KEY = b"PRIVATE KEY-----"


@dataclass(frozen=True, slots=True)
class CertificateParts:
    """A secret's certificate material, parsed; ``repr`` shows no key and no password."""

    #: where it came from, for messages: ``secret 501 'name'``
    secret: str
    #: the certificates, leaf first: the PEM field's, else the PFX's
    certificates: tuple[x509.Certificate, ...]
    key: PrivateKeyTypes | None = field(repr=False)
    #: the Certificate and Private Key fields' text, written as is (``None``: not in the secret)
    certificate_pem: bytes | None = field(default=None, repr=False)
    key_pem: bytes | None = field(default=None, repr=False)
    #: the PFX file's bytes (base64 decoded), and whether the PFX is the only source
    pfx: bytes | None = field(default=None, repr=False)
    from_pfx: bool = False

    def certificates_pem(self) -> bytes:
        """The certificate file to write: the field as is, else the PFX's certificates."""
        if self.certificate_pem is not None:
            return self.certificate_pem
        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in self.certificates)

    def key_file(self) -> bytes | None:
        """The key file to write: the field as is, else the PFX's key (PKCS#8, unencrypted)."""
        if self.key_pem is not None:
            return self.key_pem
        if self.key is None:
            return None
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def _problem(secret: str, name: str, text: str) -> ProviderError:
    return ProviderError(f"{secret}: field {name!r} {text}")


def decode_pfx(raw: bytes) -> bytes | None:
    """A PFX field's bytes: base64 text (line breaks allowed) decoded, or DER as it is;
    ``None`` when it is neither."""
    if raw[:1] == b"\x30":  # a DER SEQUENCE: the file itself, from a file field
        return raw
    compact = b"".join(raw.split())
    try:
        decoded = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return None
    return decoded if decoded[:1] == b"\x30" else None


def _password(password: SecretStr | None) -> bytes | None:
    return password.get_secret_value().encode() if password else None


def read_parts(
    secret: str,
    *,
    certificate: tuple[str, bytes] | None,
    private_key: tuple[str, bytes] | None,
    pfx: tuple[str, bytes] | None,
    password: tuple[str, SecretStr | None] | None,
) -> CertificateParts:
    """Parse the fields given as ``(field name, raw value)``; empty ones count as absent."""
    certificate = certificate if certificate and certificate[1].strip() else None
    private_key = private_key if private_key and private_key[1].strip() else None
    pfx = pfx if pfx and pfx[1].strip() else None
    if certificate is None and pfx is None:
        raise ProviderError(f"{secret} holds no certificate: its certificate and PFX are empty")
    secret_word = password[1] if password else None
    password_name = password[0] if password else "Password"
    certs: tuple[x509.Certificate, ...] = ()
    if certificate is not None:
        certs = _pem_certificates(secret, *certificate)
    key: PrivateKeyTypes | None = None
    if private_key is not None:
        key = _pem_key(secret, *private_key, secret_word, password_name)
    pfx_bytes: bytes | None = None
    if pfx is not None:
        pfx_bytes, pfx_key, pfx_certs = _pfx(secret, *pfx, secret_word, password_name)
        certs = certs or pfx_certs
        key = key if private_key is not None else pfx_key
    return CertificateParts(
        secret=secret,
        certificates=certs,
        key=key,
        certificate_pem=certificate[1] if certificate else None,
        key_pem=private_key[1] if private_key else None,
        pfx=pfx_bytes,
        from_pfx=certificate is None,
    )


def _pem_certificates(secret: str, name: str, raw: bytes) -> tuple[x509.Certificate, ...]:
    if _PEM_CERT not in raw:
        raise _problem(secret, name, "holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
    try:
        return tuple(x509.load_pem_x509_certificates(raw))
    except ValueError:
        raise _problem(secret, name, "holds a PEM certificate that cannot be read") from None


def _pem_key(
    secret: str, name: str, raw: bytes, password: SecretStr | None, password_name: str
) -> PrivateKeyTypes:
    if _PEM_KEY not in raw:
        raise _problem(secret, name, "holds no PEM private key (-----BEGIN ... PRIVATE KEY-----)")
    try:
        return serialization.load_pem_private_key(raw, None)
    except TypeError:  # encrypted
        pass
    except (ValueError, UnsupportedAlgorithm):
        raise _problem(secret, name, "holds a PEM private key that cannot be read") from None
    if password is None:
        raise _problem(secret, name, f"holds an encrypted key and {password_name!r} is empty")
    try:
        return serialization.load_pem_private_key(raw, _password(password))
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise _problem(
            secret, name, f"holds an encrypted key that {password_name!r} does not open"
        ) from None


def _pfx(
    secret: str, name: str, raw: bytes, password: SecretStr | None, password_name: str
) -> tuple[bytes, PrivateKeyTypes | None, tuple[x509.Certificate, ...]]:
    data = decode_pfx(raw)
    if data is None:
        raise _problem(secret, name, "is not base64 of a PFX (PKCS#12) file")
    try:
        loaded = pkcs12.load_pkcs12(data, _password(password))
    except (ValueError, TypeError, UnsupportedAlgorithm):
        if password is None:
            text = f"cannot be opened without a password, and {password_name!r} is empty"
        else:
            text = f"is not a PFX (PKCS#12) file that {password_name!r} opens"
        raise _problem(secret, name, text) from None
    certs = [c.certificate for c in loaded.additional_certs]
    if loaded.cert is not None:
        certs.insert(0, loaded.cert.certificate)
    if not certs:
        raise _problem(secret, name, "holds a PFX without a certificate")
    return data, loaded.key, tuple(certs)


# -- inspection -------------------------------------------------------------------------------


def _key_kind(key: Any) -> tuple[str, int]:
    """``(type, size in bits)`` of a public or private key."""
    if isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey):
        return "RSA", key.key_size
    if isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey):
        return f"EC {key.curve.name}", key.key_size
    if isinstance(key, ed25519.Ed25519PublicKey | ed25519.Ed25519PrivateKey):
        return "Ed25519", 256
    if isinstance(key, ed448.Ed448PublicKey | ed448.Ed448PrivateKey):
        return "Ed448", 456
    if isinstance(key, dsa.DSAPublicKey | dsa.DSAPrivateKey):
        return "DSA", key.key_size
    return type(key).__name__, 0


def _sans(cert: x509.Certificate) -> list[str]:
    try:
        extension = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except (x509.ExtensionNotFound, ValueError):
        return []
    names: list[str] = []
    for name in extension.value:
        if isinstance(name, x509.DNSName):
            names.append(f"DNS:{name.value}")
        elif isinstance(name, x509.IPAddress):
            names.append(f"IP:{name.value}")
        elif isinstance(name, x509.RFC822Name):
            names.append(f"email:{name.value}")
        elif isinstance(name, x509.UniformResourceIdentifier):
            names.append(f"URI:{name.value}")
        else:
            names.append(type(name).__name__)
    return names


@dataclass(frozen=True, slots=True)
class CertificateSummary:
    """What one certificate says (nothing secret)."""

    subject: str
    issuer: str
    sans: list[str]
    not_before: datetime.datetime
    not_after: datetime.datetime
    serial: str
    sha256: str
    key_type: str
    key_size: int

    @classmethod
    def of(cls, cert: x509.Certificate) -> CertificateSummary:
        kind, size = _key_kind(cert.public_key())
        der = cert.public_bytes(serialization.Encoding.DER)
        return cls(
            subject=cert.subject.rfc4514_string(),
            issuer=cert.issuer.rfc4514_string(),
            sans=_sans(cert),
            not_before=cert.not_valid_before_utc,
            not_after=cert.not_valid_after_utc,
            serial=f"{cert.serial_number:x}",
            sha256=format_fingerprint(hashlib.sha256(der).hexdigest()),
            key_type=kind,
            key_size=size,
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "issuer": self.issuer,
            "sans": self.sans,
            "not_before": self.not_before.isoformat(),
            "not_after": self.not_after.isoformat(),
            "serial": self.serial,
            "sha256": self.sha256,
            "key_type": self.key_type,
            "key_size": self.key_size,
        }


@dataclass(frozen=True, slots=True)
class Inspection:
    """The verdict on a certificate secret: the certificates, the key, the chain, the dates."""

    certificates: list[CertificateSummary]
    #: ``(type, size)`` of the private key, ``None`` without one
    key: tuple[str, int] | None
    #: whether the private key belongs to the leaf (``None`` without a key)
    key_matches: bool | None
    #: ``None`` when each certificate is issued by the next; else what is out of order
    chain_problem: str | None
    status: Status
    #: whole days until the leaf expires (negative once it has)
    days_left: int

    def exit_code(self) -> int:
        """6 key mismatch, else 5 expired (or not valid yet), else 4 expiring, else 0."""
        if self.key_matches is False:
            return EXIT_KEY_MISMATCH
        if self.status in ("expired", "not yet valid"):
            return EXIT_EXPIRED
        return EXIT_EXPIRING if self.status == "expiring" else 0

    def as_json(self) -> dict[str, Any]:
        return {
            "certificates": [c.as_json() for c in self.certificates],
            "private_key": None
            if self.key is None
            else {
                "type": self.key[0],
                "size": self.key[1],
                "matches_certificate": self.key_matches,
            },
            "chain": {"in_order": self.chain_problem is None, "problem": self.chain_problem},
            "status": self.status,
            "days_left": self.days_left,
        }


def _spki(key: Any) -> bytes:
    return bytes(
        key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def _chain_problem(certs: tuple[x509.Certificate, ...]) -> str | None:
    for index in range(len(certs) - 1):
        if not _issued_by(certs[index], certs[index + 1]):
            child, parent = certs[index], certs[index + 1]
            return (
                f"certificate {index + 2} ({parent.subject.rfc4514_string()}) did not issue "
                f"certificate {index + 1} ({child.subject.rfc4514_string()}): the leaf comes "
                "first, then each issuer"
            )
    return None


def inspect(
    parts: CertificateParts, *, now: datetime.datetime, warn_days: int | None = None
) -> Inspection:
    """The verdict on ``parts`` at ``now``; ``expiring`` needs ``warn_days``."""
    leaf = parts.certificates[0]
    key_matches: bool | None = None
    if parts.key is not None:
        key_matches = _spki(parts.key.public_key()) == _spki(leaf.public_key())
    left = leaf.not_valid_after_utc - now
    status: Status = "valid"
    if leaf.not_valid_before_utc > now:
        status = "not yet valid"
    elif left.total_seconds() <= 0:
        status = "expired"
    elif warn_days is not None and left <= datetime.timedelta(days=warn_days):
        status = "expiring"
    return Inspection(
        certificates=[CertificateSummary.of(c) for c in parts.certificates],
        key=_key_kind(parts.key) if parts.key is not None else None,
        key_matches=key_matches,
        chain_problem=_chain_problem(parts.certificates),
        status=status,
        days_left=left.days if left >= datetime.timedelta(0) else -(-left).days,
    )
