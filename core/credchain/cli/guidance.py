"""What the admin should do about an error: seed 000's FAQ, mapped from our errors in one place.

Providers' errors say what happened; ``advise`` adds what to do, for the admin commands
(``add``, ``test``, ``configure-thycotic``). ``fail`` prints both on stderr and exits 1; the
traceback only with ``--debug``.

| case | FAQ | advice |
|---|---|---|
| ``UNREACHABLE`` | 1.1 | check the URL is reachable at the port |
| ``WRONG_ENDPOINT`` | 1.1 | the URL answers, but the paths are not the Secret Server API |
| ``TLS_UNTRUSTED`` | 1.2, 7 | ``--ca-bundle``, or Verify SSL No and pin the fingerprint shown |
| ``TLS_MISMATCH`` | 1.2 | the pinned certificate changed: check, then pin the new one |
| ``LOGIN_REFUSED`` | 1 | check username, password, domain; the View Secret role |
| ``FIELD_NAME`` | 2 | fix the field names in ``thycotic_mapping.json`` (case-sensitive) |
| ``NO_DATA`` | 3 | the field must be searchable; the value exact; the secret shared |
| ``ACCESS_DENIED`` | 2 (role) | share the secret with the account, with view rights |
| ``SCRIPT`` | 6 | ``test-thycotic-script``; the script's name, entry point and output |
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NoReturn

import click

from credchain.errors import (
    ChainDisabled,
    ConfigError,
    CredentialNotFound,
    PluginLoadError,
    ProviderError,
    ProviderUnavailable,
    ScriptError,
    SecretStoreError,
    TLSVerificationError,
)
from credchain.tls import format_fingerprint

__all__ = ["Case", "Stage", "Where", "advise", "classify", "fail", "print_problem"]

#: what the command was doing when the error came: it decides cases the error type cannot
Stage = Literal["connect", "login", "lookup", "script", "config"]

TEST_COMMAND = "credchain configure-thycotic -o test-thycotic-script"


class Case(enum.Enum):
    UNREACHABLE = "unreachable"
    WRONG_ENDPOINT = "wrong endpoint"
    TLS_UNTRUSTED = "certificate not trusted"
    TLS_MISMATCH = "certificate changed"
    LOGIN_REFUSED = "login refused"
    FIELD_NAME = "wrong field name"
    NO_DATA = "no data returned"
    ACCESS_DENIED = "access denied"
    SCRIPT = "custom script"
    DISABLED = "disabled"
    CONFIG = "configuration"
    OTHER = "other"


@dataclass(frozen=True)
class Where:
    """What the advice can point at; every part optional."""

    url: str | None = None
    port: int | None = None
    mapping_file: Path | None = None
    #: the search that found nothing, e.g. ``Secret Name = 'web-01'``
    search: str | None = None


def classify(error: BaseException, stage: Stage | None = None) -> Case:
    """The FAQ case of ``error``, by its type, then the stage, then its message."""
    text = str(error)
    if isinstance(error, TLSVerificationError):
        return Case.TLS_MISMATCH if error.expected is not None else Case.TLS_UNTRUSTED
    if isinstance(error, CredentialNotFound):
        return Case.NO_DATA
    if isinstance(error, ScriptError):
        return Case.SCRIPT
    if isinstance(error, ChainDisabled):
        return Case.DISABLED
    if isinstance(error, ConfigError | SecretStoreError | PluginLoadError):
        return Case.CONFIG
    if isinstance(error, ProviderUnavailable):
        if "HTML page" in text or "malformed JSON" in text:
            return Case.WRONG_ENDPOINT
        return Case.UNREACHABLE
    if isinstance(error, ProviderError):
        if "refused the login" in text:
            return Case.WRONG_ENDPOINT if "HTTP 404" in text else Case.LOGIN_REFUSED
        if "access denied" in text:
            return Case.ACCESS_DENIED
        if "has no field" in text or "has no value in its" in text:
            return Case.FIELD_NAME
        if stage == "login":
            return Case.LOGIN_REFUSED
    return Case.OTHER


def advise(case: Case, error: BaseException | None = None, where: Where | None = None) -> list[str]:
    """What to do, one instruction a line (empty when the message says it all)."""
    w = where or Where()
    at = f"{w.url or 'the Thycotic URL'}" + (f" at port {w.port}" if w.port else "")
    mapping = str(w.mapping_file) if w.mapping_file else "thycotic_mapping.json"
    if case is Case.UNREACHABLE:
        return [
            f"Check that {at} is reachable from this host: the host name, the port, and any "
            "firewall or proxy in between (FAQ 1).",
        ]
    if case is Case.WRONG_ENDPOINT:
        return [
            f"{at} answers, but not as the Secret Server REST API: check the Thycotic URL and "
            "the authorization and secrets URL paths (defaults SecretServer/oauth2/token and "
            "SecretServer/api/v1/secrets).",
        ]
    if case is Case.TLS_UNTRUSTED:
        presented = getattr(error, "presented", None)
        shown = format_fingerprint(presented) if presented else "(see above)"
        return [
            f"The server presents a certificate with SHA-256 fingerprint {shown}.",
            "If your Secret Server's certificate comes from an internal CA, run add again with "
            "--ca-bundle FILE (the CA's PEM), or trust the CA on this host (FAQ 7).",
            "Otherwise run add again with Verify SSL = No and pin that fingerprint, after "
            "checking it with your Secret Server's administrator (FAQ 1).",
        ]
    if case is Case.TLS_MISMATCH:
        return [
            "The certificate is not the one pinned: it was renewed, or this is not your Secret "
            "Server. Check the new fingerprint with the Secret Server's administrator, then run "
            "add again to pin it.",
        ]
    if case is Case.LOGIN_REFUSED:
        return [
            "Check the Thycotic username and password (and --domain for a domain account).",
            "The account needs at least the View Secret role permission.",
        ]
    if case is Case.FIELD_NAME:
        return [
            f"A Thycotic field name in the mapping is not a field of the secret. Field names are "
            f"case-sensitive: correct them in {mapping} (FAQ 2), then run: {TEST_COMMAND}",
        ]
    if case is Case.NO_DATA:
        searched = f" for {w.search}" if w.search else ""
        return [
            f"Secret Server returned no secret{searched}. Check that the Thycotic field is "
            "searchable and that the value is exact (case-sensitive), and that the secret is "
            f"shared with the account with view rights. If the field is wrong, edit {mapping} "
            f"(FAQ 3), then run: {TEST_COMMAND}",
        ]
    if case is Case.ACCESS_DENIED:
        return ["Share the secret with the account, with view rights (seed section 2)."]
    if case is Case.SCRIPT:
        return [
            f"Fix the script, then run: {TEST_COMMAND} (FAQ 6). It must define "
            "get_password_from_thycotic(query_data) and return username and base64 passwords.",
        ]
    if case is Case.DISABLED:
        return ["Run: credchain enable"]
    return []


def print_problem(
    error: BaseException | str,
    *,
    stage: Stage | None = None,
    where: Where | None = None,
    case: Case | None = None,
) -> Case:
    """Print the error and the advice on stderr; returns the case."""
    if isinstance(error, str):
        message, exc = error, None
        found = case or Case.OTHER
    else:
        message, exc = str(error), error
        found = case or classify(error, stage)
    click.secho("credchain: error: ", fg="red", bold=True, err=True, nl=False)
    click.echo(message, err=True)
    for line in advise(found, exc, where):
        click.secho("  what to do: ", fg="yellow", err=True, nl=False)
        click.echo(line, err=True)
    return found


def fail(
    error: BaseException | str,
    *,
    stage: Stage | None = None,
    where: Where | None = None,
    case: Case | None = None,
    code: int = 1,
) -> NoReturn:
    """Print the problem and exit ``code``; with ``--debug`` re-raise for the traceback."""
    ctx = click.get_current_context()
    if isinstance(error, BaseException) and ctx.find_root().params.get("debug"):
        raise error
    print_problem(error, stage=stage, where=where, case=case)
    ctx.exit(code)
