"""What a Secret Server admin should do about the thycotic providers' errors (seed 000's FAQ).

The providers give it through ``Advises`` (``credchain.provider``); ``credchain add``, which has
no provider yet when it logs in, asks ``login_advice`` directly. The case comes from the error's
type, never from its wording; other errors keep credchain's generic advice
(``credchain.cli.guidance``). What is said about case is
what the search does: Secret Server matches field names and values in any case.
"""

from __future__ import annotations

from pathlib import Path

from credchain.errors import CredentialNotFound, FieldMissing, LoginRefused
from credchain_thycotic.settings import ThycoticSettings, quoted

__all__ = ["TEST_COMMAND", "field_advice", "login_advice", "not_found_advice", "thycotic_advice"]

TEST_COMMAND = "credchain configure-thycotic -o test-thycotic-script"


def login_advice(settings: ThycoticSettings) -> list[str]:
    """For a refused login: what to check, for the grant the entry uses."""
    if settings.grant == "client_credentials":
        return [
            f"Check the SDK client id {quoted(settings.login_name)} and its secret (Secret "
            "Server: Admin > SDK Client Management; the client must be enabled).",
            "The client's application account needs at least the View Secret role permission.",
        ]
    domain = (
        f"and the domain {quoted(settings.domain)}"
        if settings.domain
        else "(and --domain for a domain account)"
    )
    return [
        f"Check the Thycotic username and password {domain}.",
        "The account needs at least the View Secret role permission.",
    ]


def field_advice(mapping_file: Path | None) -> list[str]:
    where = str(mapping_file) if mapping_file else "thycotic_mapping.json"
    return [
        "A Thycotic field name in the mapping is not a field of the secret (or the field is "
        f"empty): correct it in {where} (FAQ 2), then run: {TEST_COMMAND}. A field is named by "
        "its display name or its slug, in any case; an optional field is cleared with '-'.",
    ]


def not_found_advice(search: str | None, mapping_file: Path | None, *, exact: bool) -> list[str]:
    where = str(mapping_file) if mapping_file else "thycotic_mapping.json"
    searched = f" for {search}" if search else ""
    match = (
        "the whole value of the field (in any case)"
        if exact
        else "part of the field's value (exact_match = false; in any case)"
    )
    return [
        f"Secret Server returned no secret{searched}. The value must be {match}. Check that the "
        "Thycotic field is searchable and that the secret is shared with the account with "
        f"view rights. If the field is wrong, edit {where} (FAQ 3), then run: {TEST_COMMAND}",
    ]


def thycotic_advice(
    error: BaseException,
    settings: ThycoticSettings,
    *,
    search: str | None = None,
    mapping_file: Path | None = None,
) -> list[str] | None:
    """The advice for ``error`` of an entry with these settings; ``None``: the generic one."""
    if isinstance(error, LoginRefused):
        return login_advice(settings)
    if isinstance(error, FieldMissing):
        return field_advice(mapping_file)
    if isinstance(error, CredentialNotFound):
        return not_found_advice(search, mapping_file, exact=settings.exact_match)
    return None
