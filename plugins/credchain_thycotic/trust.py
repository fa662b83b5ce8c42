"""How ``credchain add`` and ``credchain pin`` come to trust a Secret Server's certificate.

Verify SSL = Yes: the certificate is checked against the host's trust store (or the CA file)
right after that answer. One this host does not trust is shown on the spot, and the admin
chooses: a CA file (PEM) that issued it, pinning the certificate shown, or stopping. With
``--yes`` nothing is asked: the error says which flags would do it.

Verify SSL = No (seed 000 step 3.8): the certificate is shown and its SHA-256 fingerprint pinned,
after the admin confirms it or pastes the expected one.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

import click

from credchain.cli.guidance import Case, fail
from credchain.cli.prompts import Asker, check_fingerprint, show_certificate
from credchain.provider import Where
from credchain.tls import (
    CertificateInfo,
    check_ca_bundle,
    fetch_certificate,
    format_fingerprint,
    untrusted_reason,
)

__all__ = ["Trust", "pin_certificate", "presented", "trust_verified"]

_CHOICES = {"1": "ca", "2": "pin", "3": "stop"}
_CHOICE_PROMPT = (
    "Trust it how? 1: a CA file (PEM) that issued it, 2: pin the certificate shown, 3: stop"
)


@dataclass(frozen=True)
class Trust:
    """What the entry trusts: a CA file (``None``: the system store), or a pinned fingerprint."""

    ca_bundle: str | None = None
    fingerprint_sha256: str | None = None

    def settings(self) -> dict[str, object]:
        if self.fingerprint_sha256 is not None:
            return {"verify_ssl": False, "fingerprint_sha256": self.fingerprint_sha256}
        return {"verify_ssl": True, **({"ca_bundle": self.ca_bundle} if self.ca_bundle else {})}


def presented(url: str, port: int) -> CertificateInfo:
    """The certificate ``url`` presents at ``port``; exit 1 with advice if it cannot be read."""
    host = urlsplit(url).hostname or ""
    try:
        return fetch_certificate(host, port)
    except (OSError, ssl.SSLError, ValueError) as exc:
        fail(
            f"cannot read the certificate of {host}:{port}: {exc}",
            where=Where(url=url, port=port),
            case=Case.UNREACHABLE,
        )


def trust_verified(ask: Asker, url: str, port: int, ca_bundle: str | None) -> Trust:
    """Verify SSL = Yes: check the certificate now; offer a CA file or a pin if it fails."""
    host = urlsplit(url).hostname or ""
    try:
        reason = untrusted_reason(host, port, ca_bundle)
    except OSError:
        return Trust(ca_bundle)  # unreachable: the login says so, with its advice
    if reason is None:
        return Trust(ca_bundle)
    trusted_by = f"the CA file {ca_bundle}" if ca_bundle else "this host's trust store"
    if not ask.interactive:
        info = presented(url, port)
        fail(
            f"the certificate of {host}:{port} is not trusted by {trusted_by} ({reason})",
            advice=[
                f"It has SHA-256 fingerprint {info.fingerprint}.",
                "Give the CA that issued it with --ca-bundle FILE (PEM), or, after checking the "
                f"fingerprint with your Secret Server's administrator, pin it: --no-verify-ssl "
                f"--fingerprint {info.fingerprint}",
            ],
        )
    info = presented(url, port)
    show_certificate(info, f"{host}:{port}")
    click.echo(f"It is not trusted by {trusted_by}: {reason}.")
    while True:
        choice = ask.choice(_CHOICE_PROMPT, flag=None, option="", choices=_CHOICES, default="1")
        if choice == "stop":
            click.echo("Nothing was saved.", err=True)
            click.get_current_context().exit(1)
        if choice == "pin":
            click.echo(f"Pinned certificate {info.fingerprint} (Verify SSL = No).")
            return Trust(fingerprint_sha256=info.sha256)
        path = _ask_ca_file()
        reason = untrusted_reason(host, port, path)
        if reason is None:
            click.secho("✓ ", fg="green", nl=False)
            click.echo(f"The certificate is trusted with the CA file {path}.")
            return Trust(path)
        click.echo(f"The CA file {path} does not make it trusted: {reason}.")


def _ask_ca_file() -> str:
    while True:
        value = str(
            click.prompt(
                "CA file (PEM)", type=click.Path(exists=True, dir_okay=False, resolve_path=True)
            )
        )
        try:
            check_ca_bundle(value)
        except ValueError as exc:
            click.echo(f"Error: {exc}")
            continue
        return value


def pin_certificate(ask: Asker, url: str, port: int, flag: str | None) -> CertificateInfo:
    """Seed 000 step 3.8: show the presented certificate; the admin confirms or pastes one."""
    host = urlsplit(url).hostname or ""
    expected = check_fingerprint(flag) if flag is not None else ""
    if flag is not None and not expected:
        raise click.BadParameter("must not be empty", param_hint="--fingerprint")
    if not ask.interactive and not expected:
        raise click.UsageError("--no-verify-ssl needs --fingerprint with --yes")
    info = presented(url, port)
    show_certificate(info, f"{host}:{port}")
    if not expected:
        answer = ask.text(
            "Certificate signature (SHA256 fingerprint); paste the expected one, "
            "or press Enter to trust the one shown",
            flag=None,
            option="--fingerprint",
            check=check_fingerprint,
            optional=True,
        )
        expected = answer or info.sha256
    if expected != info.sha256:
        fail(
            f"the server presents the certificate {info.fingerprint}, not "
            f"{format_fingerprint(expected)}: it may not be your Secret Server (or the "
            "certificate was renewed). Nothing was saved.",
            case=Case.TLS_MISMATCH,
        )
    click.echo(f"Pinned certificate {info.fingerprint}.")
    return info
