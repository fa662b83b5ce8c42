"""How a vault's TLS certificate is verified: system store, CA bundle or pinned fingerprint.

There is no "trust anything" mode: SAFE's "Verify SSL: No" means pin the SHA-256 fingerprint of
the server's certificate (seed 000, step 3.8).

"The system store" is the host's: ``ssl.create_default_context()``, which loads OpenSSL's default
paths (``/etc/ssl/certs`` on Debian and Ubuntu, the ``ca-trust`` bundle on RHEL, both kept by
the OS tools; ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` override them) and, on Windows, the system
certificate stores. A CA an admin adds with ``update-ca-certificates`` is trusted, one removed is
not (seed 000, FAQ 7). certifi's bundle, which ``requests`` would use, is never consulted.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import ssl
import stat
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509

from credchain.errors import ConfigError

__all__ = [
    "MAX_CA_BUNDLE_BYTES",
    "CertificateInfo",
    "TLSPolicy",
    "check_ca_bundle",
    "fetch_certificate",
    "format_fingerprint",
    "normalize_fingerprint",
]

_HEX64 = re.compile(r"[0-9a-f]{64}")
#: a CA bundle larger than this is not one (the whole Mozilla set is some 220 kB)
MAX_CA_BUNDLE_BYTES = 16 * 1024 * 1024


def check_ca_bundle(path: str) -> None:
    """Raise ``ValueError`` saying why ``path`` (absolute) is no usable PEM file of CAs."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise ValueError(f"{path} does not exist") from None
    except OSError as exc:
        raise ValueError(f"{path} cannot be read ({exc.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise ValueError(f"{path} is not a regular file")
    if info.st_size > MAX_CA_BUNDLE_BYTES:
        raise ValueError(f"{path} is over 16 MiB: not a CA bundle")
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cafile=path)
    except ssl.SSLError:
        raise ValueError(f"{path} holds no PEM certificate (a CA bundle is PEM text)") from None
    except OSError as exc:
        raise ValueError(f"{path} cannot be read ({exc.strerror})") from None


def normalize_fingerprint(value: str) -> str:
    """A SHA-256 fingerprint as 64 lower-case hex digits.

    Accepts colons or spaces between bytes and any case; raises ``ValueError`` otherwise.
    """
    compact = re.sub(r"[\s:]", "", value).lower()
    if not _HEX64.fullmatch(compact):
        raise ValueError("a SHA-256 fingerprint is 64 hex digits, optionally separated by colons")
    return compact


def format_fingerprint(value: str) -> str:
    """The fingerprint as people see it: ``AA:BB:...`` (upper case, colon-separated)."""
    compact = normalize_fingerprint(value).upper()
    return ":".join(compact[i : i + 2] for i in range(0, len(compact), 2))


@dataclass(frozen=True, slots=True)
class TLSPolicy:
    """One of: the system trust store (default), a CA bundle file, or a pinned fingerprint."""

    ca_bundle: str | None = None
    fingerprint_sha256: str | None = None

    def __post_init__(self) -> None:
        if self.ca_bundle and self.fingerprint_sha256:
            raise ValueError("choose a CA bundle or a pinned fingerprint, not both")
        if self.fingerprint_sha256 is not None:
            object.__setattr__(
                self, "fingerprint_sha256", normalize_fingerprint(self.fingerprint_sha256)
            )

    @property
    def pinned(self) -> bool:
        return self.fingerprint_sha256 is not None

    def ssl_context(self) -> ssl.SSLContext | None:
        """A new context that verifies the chain and the host name against the CA bundle, or
        else the host's store; ``None`` when pinned (the pin is checked instead).

        An unusable CA bundle is a ``ConfigError`` (key ``ca_bundle``); so is a relative path,
        which would depend on the working directory: the provider resolves it against the home.
        """
        if self.fingerprint_sha256 is not None:
            return None
        if not self.ca_bundle:
            return ssl.create_default_context()
        if not os.path.isabs(self.ca_bundle):
            raise ConfigError(
                f"{self.ca_bundle!r} is a relative path; give an absolute one (a provider reads "
                "it relative to the credchain home, never the working directory)",
                key="ca_bundle",
            )
        try:
            check_ca_bundle(self.ca_bundle)
        except ValueError as exc:
            raise ConfigError(str(exc), key="ca_bundle") from None
        return ssl.create_default_context(cafile=self.ca_bundle)

    def describe(self) -> str:
        if self.fingerprint_sha256 is not None:
            return f"pinned certificate {format_fingerprint(self.fingerprint_sha256)}"
        if self.ca_bundle:
            return f"CA bundle {self.ca_bundle}"
        return "system trust store"


@dataclass(frozen=True, slots=True)
class CertificateInfo:
    """What an admin checks before pinning a certificate."""

    sha256: str
    subject: str
    issuer: str
    not_after: datetime

    @property
    def fingerprint(self) -> str:
        return format_fingerprint(self.sha256)


def certificate_info(der: bytes) -> CertificateInfo:
    cert = x509.load_der_x509_certificate(der)
    return CertificateInfo(
        sha256=hashlib.sha256(der).hexdigest(),
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        not_after=cert.not_valid_after_utc,
    )


def fetch_certificate(host: str, port: int, timeout: float = 5.0) -> CertificateInfo:
    """The certificate ``host:port`` presents, read without trusting it (to show or pin it)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # we only read the certificate; nothing is sent
    with (
        socket.create_connection((host, port), timeout=timeout) as raw,
        context.wrap_socket(raw, server_hostname=host) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    if der is None:
        raise ValueError(f"{host}:{port} presented no certificate")
    return certificate_info(der)
