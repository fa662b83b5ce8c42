"""How a vault's TLS certificate is verified: system store, CA bundle or pinned fingerprint.

There is no "trust anything" mode: SAFE's "Verify SSL: No" means pin the SHA-256 fingerprint of
the server's certificate (seed 000, step 3.8).

"The system store" is the host's: ``ssl.create_default_context()``, which loads OpenSSL's default
paths (``/etc/ssl/certs`` on Debian and Ubuntu, the ``ca-trust`` bundle on RHEL, both kept by
the OS tools; ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` override them) and, on Windows, the system
certificate stores. A CA an admin adds with ``update-ca-certificates`` is trusted, one removed is
not (seed 000, FAQ 7). certifi's bundle, which ``requests`` would use, is never consulted.

Any of the three may also present a client certificate (``ClientCertificate``: mutual TLS), for
vaults that refuse a client without one at the handshake.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import ssl
import stat
from dataclasses import dataclass, field
from datetime import datetime

from cryptography import x509
from pydantic import SecretStr

from credchain.errors import ConfigError

__all__ = [
    "MAX_CA_BUNDLE_BYTES",
    "MAX_CLIENT_FILE_BYTES",
    "CertificateInfo",
    "ClientCertificate",
    "TLSPolicy",
    "check_ca_bundle",
    "check_client_certificate",
    "fetch_certificate",
    "format_fingerprint",
    "normalize_fingerprint",
    "untrusted_reason",
]

_HEX64 = re.compile(r"[0-9a-f]{64}")
#: a CA bundle larger than this is not one (the whole Mozilla set is some 220 kB)
MAX_CA_BUNDLE_BYTES = 16 * 1024 * 1024
#: a client certificate or key file larger than this is not one
MAX_CLIENT_FILE_BYTES = 1024 * 1024


def check_ca_bundle(path: str) -> None:
    """Raise ``ValueError`` saying why ``path`` (absolute) is no usable PEM file of CAs."""
    _check_file(path, "CA bundle", MAX_CA_BUNDLE_BYTES)
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cafile=path)
    except ssl.SSLError:
        raise ValueError(f"{path} holds no PEM certificate (a CA bundle is PEM text)") from None
    except OSError as exc:
        raise ValueError(f"{path} cannot be read ({exc.strerror})") from None


class _NoPassword(Exception):
    """Raised from the password callback: the key is encrypted and no password was given."""


def _check_file(path: str, what: str, most: int = MAX_CLIENT_FILE_BYTES) -> None:
    """Raise ``ValueError`` unless ``path`` is a regular file of at most ``most`` bytes."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise ValueError(f"{path} does not exist") from None
    except OSError as exc:
        raise ValueError(f"{path} cannot be read ({exc.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise ValueError(f"{path} is not a regular file")
    if info.st_size > most:
        raise ValueError(f"{path} is over {most // (1024 * 1024)} MiB: not a {what}")


class _ClientProblem(ValueError):
    """A client certificate problem, and the setting it is in."""

    def __init__(self, message: str, key: str) -> None:
        super().__init__(message)
        self.message, self.key = message, key


@dataclass(frozen=True, slots=True)
class ClientCertificate:
    """The certificate (PEM) credchain presents to the vault, its key, and the key's password.

    ``cert`` and ``key`` are absolute paths; ``key`` ``None`` means the key is in ``cert``. The
    password never appears in a repr; two of these with different passwords are different.
    """

    cert: str
    key: str | None = None
    password: SecretStr | None = field(default=None, repr=False)

    def load_into(self, context: ssl.SSLContext) -> None:
        """Make ``context`` present this certificate; ``ConfigError`` naming the setting at
        fault (``client_cert``, ``client_key`` or ``client_key_password``) if it cannot."""
        try:
            check_client_certificate(self.cert, self.key, self.password, context=context)
        except _ClientProblem as exc:
            raise ConfigError(exc.message, key=exc.key) from None


def _encrypted(path: str) -> bool:
    """Whether the PEM file at ``path`` holds an encrypted key (PKCS#8 or OpenSSL's legacy)."""
    try:
        with open(path, "rb") as handle:
            return b"ENCRYPTED" in handle.read(MAX_CLIENT_FILE_BYTES)
    except OSError:
        return False


def check_client_certificate(
    cert: str,
    key: str | None,
    password: SecretStr | None,
    *,
    context: ssl.SSLContext | None = None,
) -> None:
    """Raise ``ValueError`` saying why ``cert`` and ``key`` (absolute paths) cannot be presented.

    They are loaded into ``context`` (a scratch one by default). An encrypted key without a
    password is refused, never prompted for (OpenSSL would ask on the terminal).
    """
    for path, what, setting in ((cert, "certificate", "client_cert"), (key, "key", "client_key")):
        if path is None:
            continue
        try:
            _check_file(path, what)
        except ValueError as exc:
            raise _ClientProblem(str(exc), setting) from None

    def give_password() -> bytes:
        if password is None:
            raise _NoPassword
        return password.get_secret_value().encode()

    target = context or ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    where = key or cert
    try:
        target.load_cert_chain(cert, key, give_password)
    except _NoPassword:
        raise _ClientProblem(
            f"{where} holds an encrypted key: set client_key_password", "client_key_password"
        ) from None
    except ssl.SSLError as exc:
        reason = str(getattr(exc, "reason", None) or exc)
        if "MISMATCH" in reason.upper():
            raise _ClientProblem(
                f"the key in {where} does not belong to the certificate in {cert}", "client_key"
            ) from None
        if password is not None and _encrypted(where):
            raise _ClientProblem(
                f"client_key_password does not decrypt the key in {where}", "client_key_password"
            ) from None
        if key is None:
            raise _ClientProblem(
                f"{cert} holds no PEM certificate and key ({reason}); give the key file as "
                "client_key",
                "client_cert",
            ) from None
        raise _ClientProblem(
            f"{cert} and {key} are no PEM certificate and key ({reason})", "client_cert"
        ) from None
    except OSError as exc:
        raise _ClientProblem(f"{where} cannot be read ({exc.strerror})", "client_cert") from None


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
    """One of: the system trust store (default), a CA bundle file, or a pinned fingerprint;
    with any of them, optionally a client certificate to present."""

    ca_bundle: str | None = None
    fingerprint_sha256: str | None = None
    client_certificate: ClientCertificate | None = None

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
        else the host's store; when pinned, ``None`` (the pin is checked instead), or with a
        client certificate a context that checks nothing but presents it.

        An unusable CA bundle is a ``ConfigError`` (key ``ca_bundle``); so is a relative path,
        which would depend on the working directory: the provider resolves it against the home.
        An unusable client certificate is a ``ConfigError`` naming its setting.
        """
        context = self._verifying_context()
        if self.client_certificate is not None:
            if context is None:
                # Pinned: urllib3 checks the digest; the context only presents our certificate.
                context = ssl.create_default_context()
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            self.client_certificate.load_into(context)
        return context

    def _verifying_context(self) -> ssl.SSLContext | None:
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
            text = f"pinned certificate {format_fingerprint(self.fingerprint_sha256)}"
        elif self.ca_bundle:
            text = f"CA bundle {self.ca_bundle}"
        else:
            text = "system trust store"
        client = self.client_certificate
        return text + (f", client certificate {client.cert}" if client is not None else "")


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


def untrusted_reason(
    host: str, port: int, ca_bundle: str | None = None, timeout: float = 5.0
) -> str | None:
    """Why this host would not trust the certificate ``host:port`` presents (its chain and its
    name, against ``ca_bundle`` or the system store), or ``None`` when it would.

    Raises ``OSError`` when the server cannot be reached (that is not a trust question).
    """
    context = ssl.create_default_context(cafile=ca_bundle)
    try:
        with (
            socket.create_connection((host, port), timeout=timeout) as raw,
            context.wrap_socket(raw, server_hostname=host),
        ):
            return None
    except ssl.SSLCertVerificationError as exc:
        return str(exc.verify_message or exc.reason or exc)
