"""What the admin should do about an error: seed 000's FAQ, mapped from our errors in one place.

Providers' errors say what happened; ``advise`` adds what to do, for the admin commands
(``add``, ``test``, ``configure-thycotic``). ``fail`` prints both on stderr and exits 1; the
traceback only with ``--debug``. The case comes from the error's type (``credchain.errors``),
never from its wording:

| case | error type | FAQ | advice |
|---|---|---|---|
| ``UNREACHABLE`` | ``ProviderUnavailable`` | 1.1 | check the URL is reachable at the port |
| ``WRONG_ENDPOINT`` | ``WrongEndpoint``, ``UnexpectedAnswer`` | 1.1 | the paths are not the API |
| ``TLS_UNTRUSTED`` | ``TLSVerificationError`` | 1.2, 7 | ``--ca-bundle``, or pin the fingerprint |
| ``TLS_MISMATCH`` | ``TLSVerificationError`` (pinned) | 1.2 | check, then pin the new one |
| ``OTHER`` | ``ClientCertificateRefused`` | — | the message names the client certificate |
| ``LOGIN_REFUSED`` | ``LoginRefused`` | 1 | check username, password, domain; the role |
| ``FIELD_NAME`` | ``FieldMissing`` | 2 | fix the field names in ``thycotic_mapping.json`` |
| ``NO_DATA`` | ``CredentialNotFound`` | 3 | the field searchable; the value exact; shared |
| ``ACCESS_DENIED`` | ``AccessDenied`` | 2 (role) | share the secret with the account |
| ``SCRIPT`` | ``ScriptError`` | 6 | ``test-thycotic-script``; name, entry point, output |
"""

from __future__ import annotations

import enum
from typing import Literal, NoReturn

import click

from credchain.errors import (
    AccessDenied,
    ChainDisabled,
    ClientCertificateRefused,
    ConfigError,
    CredentialNotFound,
    FieldMissing,
    LoginRefused,
    PluginLoadError,
    ProviderError,
    ProviderUnavailable,
    ScriptError,
    SecretStoreError,
    TLSVerificationError,
    UnexpectedAnswer,
    WrongEndpoint,
)
from credchain.provider import Where
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


#: error type -> case, most specific first (``isinstance`` order matters)
_CASES: tuple[tuple[type[BaseException], Case], ...] = (
    (CredentialNotFound, Case.NO_DATA),
    (ScriptError, Case.SCRIPT),
    (ChainDisabled, Case.DISABLED),
    (ConfigError, Case.CONFIG),
    (SecretStoreError, Case.CONFIG),
    (PluginLoadError, Case.CONFIG),
    (UnexpectedAnswer, Case.WRONG_ENDPOINT),
    (WrongEndpoint, Case.WRONG_ENDPOINT),
    (ProviderUnavailable, Case.UNREACHABLE),
    (LoginRefused, Case.LOGIN_REFUSED),
    (AccessDenied, Case.ACCESS_DENIED),
    (FieldMissing, Case.FIELD_NAME),
)


def classify(error: BaseException, stage: Stage | None = None) -> Case:
    """The FAQ case of ``error``, by its type; ``stage`` decides a plain ``ProviderError``."""
    if isinstance(error, ClientCertificateRefused):
        return Case.OTHER  # the message names the client certificate settings
    if isinstance(error, TLSVerificationError):
        return Case.TLS_MISMATCH if error.expected is not None else Case.TLS_UNTRUSTED
    for kind, case in _CASES:
        if isinstance(error, kind):
            return case
    if isinstance(error, ProviderError) and stage == "login":
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
        presented = error.presented if isinstance(error, TLSVerificationError) else None
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
            f"A Thycotic field name in the mapping is not a field of the secret (or the field is "
            f"empty): correct it in {mapping} (FAQ 2), then run: {TEST_COMMAND}",
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
