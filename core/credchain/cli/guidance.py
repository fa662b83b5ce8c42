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
| ``LOGIN_REFUSED`` | ``LoginRefused`` | 1 | check the entry's login settings |
| ``FIELD_NAME`` | ``FieldMissing`` | 2 | fix the entry's field settings |
| ``NO_DATA`` | ``CredentialNotFound`` | 3 | the asset's names; each entry alone |

Those three are generic: a provider that ``Advises`` (``credchain.provider``) gives its own
instead (``provider_advice``): the thycotic provider points at ``thycotic_mapping.json`` and the
Secret Server login, a custom script at the script. No provider's advice is written here.
| ``ACCESS_DENIED`` | ``AccessDenied`` | 2 (role) | share the secret with the account |
| ``SCRIPT`` | ``ScriptError`` | 6 | ``test-thycotic-script``; name, entry point, output |
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
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
from credchain.models import AssetQuery
from credchain.provider import Advises, Where
from credchain.tls import format_fingerprint

__all__ = [
    "Case",
    "Stage",
    "Where",
    "advise",
    "classify",
    "fail",
    "print_problem",
    "provider_advice",
]

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
    mapping = str(w.mapping_file) if w.mapping_file else ""
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
            "Check the entry's login settings (the account and its password or secret); the "
            "account needs read access to the secrets.",
        ]
    if case is Case.FIELD_NAME:
        where_set = f" in {mapping}" if w.mapping_file else ""
        return [
            "A field the entry is configured to read is not a field of the secret (or it is "
            f"empty): correct the entry's field settings{where_set}, then run: credchain test",
        ]
    if case is Case.NO_DATA:
        return [
            "No chain entry has a credential for this asset: check the asset's names, and try "
            "each entry alone with: credchain test ENTRY --asset-name NAME",
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
    advice: Sequence[str] | None = None,
) -> Case:
    """Print the error and the advice on stderr; returns the case. ``advice`` (a provider's
    own, ``provider_advice``) replaces the generic advice of the case."""
    if isinstance(error, str):
        message, exc = error, None
        found = case or Case.OTHER
    else:
        message, exc = str(error), error
        found = case or classify(error, stage)
    click.secho("credchain: error: ", fg="red", bold=True, err=True, nl=False)
    click.echo(message, err=True)
    _debug_detail(exc)
    for line in advice if advice is not None else advise(found, exc, where):
        click.secho("  what to do: ", fg="yellow", err=True, nl=False)
        click.echo(line, err=True)
    return found


def _debug_detail(error: BaseException | None) -> None:
    """Under ``--debug`` only: what the error keeps out of its message (``debug_detail``)."""
    detail = getattr(error, "debug_detail", None)
    ctx = click.get_current_context(silent=True)
    if detail and ctx is not None and ctx.find_root().params.get("debug"):
        click.echo(f"  --debug: {str(detail).rstrip()}", err=True)


def fail(
    error: BaseException | str,
    *,
    stage: Stage | None = None,
    where: Where | None = None,
    case: Case | None = None,
    code: int = 1,
    advice: Sequence[str] | None = None,
) -> NoReturn:
    """Print the problem and exit ``code``; with ``--debug`` re-raise for the traceback."""
    ctx = click.get_current_context()
    if isinstance(error, BaseException) and ctx.find_root().params.get("debug"):
        _debug_detail(error)
        raise error
    print_problem(error, stage=stage, where=where, case=case, advice=advice)
    ctx.exit(code)


def provider_advice(
    entries: Sequence[tuple[str, object]], error: BaseException, query: AssetQuery | None
) -> list[str] | None:
    """The advice of the providers concerned by ``error`` that ``Advises``; ``None`` when none
    has any (the generic advice then applies).

    For ``CredentialNotFound``, every entry that answered "not here" is asked; for another error
    out of a walk, the entry whose step failed (the last one); otherwise every entry given.
    """
    trace = getattr(error, "trace", None)
    steps = list(getattr(trace, "steps", None) or ())
    names = [name for name, _ in entries]
    if isinstance(error, CredentialNotFound) and steps:
        names = [step.entry for step in steps if step.outcome == "not_found"]
    elif steps:
        names = [steps[-1].entry]
    lines: list[str] = []
    answered = False
    for name, provider in entries:
        if name in names and isinstance(provider, Advises):
            own = provider.advice(error, query)
            if own is not None:
                answered = True
                lines += [f"{name}: {line}" if len(names) > 1 else line for line in own]
    return lines if answered else None
