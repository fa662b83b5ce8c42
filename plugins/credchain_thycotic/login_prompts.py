"""The login prompts of ``credchain add``: a username and password (seed 000), or an SDK client.

``--grant client_credentials`` (or an entry already set up that way) asks for the client id and
secret of a Secret Server SDK client instead (seed 004); the secret is hidden as it is typed.

Run again over a stored entry of the same grant and account, the stored password (or client
secret) is kept when Enter is pressed at its prompt, or with ``--yes`` and no new one given: as
it is stored (encrypted, or the ``_env`` variable it names).
"""

from __future__ import annotations

from typing import Any

import click

from credchain.cli.prompts import Asker

__all__ = ["ask_login"]


def ask_login(
    ask: Asker, flags: dict[str, Any], previous: dict[str, Any]
) -> tuple[dict[str, Any], bool]:
    """The login settings: username and password (seed 000), or, with ``--grant
    client_credentials``, an SDK client's id and secret (seed 004); and whether the stored
    secret was kept as stored."""
    grant = flags["grant"] or previous.get("grant")
    # Only flags typed on the command line: the secrets may come from the environment.
    option = "--username" if grant == "client_credentials" else "--client-id"
    if flags[option.removeprefix("--").replace("-", "_")] is not None:
        raise click.UsageError(
            f"{option} is not used by the {grant or 'password'} grant (see --grant)"
        )
    if grant != "client_credentials":
        username = ask.text(
            "Thycotic username",
            flag=flags["username"],
            option="--username",
            default=_text(previous.get("username")),
        )
        stored = _stored(previous, "password", "username", username, grant)
        password = _ask_secret(ask, "Thycotic Password", flags["password"], "--password", stored)
        if stored and not password:
            return {"username": username, **stored}, True
        if not password:
            raise click.UsageError("the Thycotic password must not be empty")
        return {"username": username, "password": password}, False
    client_id = ask.text(
        "Thycotic client id",
        flag=flags["client_id"],
        option="--client-id",
        default=_text(previous.get("client_id")),
    )
    stored = _stored(previous, "client_secret", "client_id", client_id, grant)
    secret = _ask_secret(
        ask, "Thycotic client secret", flags["client_secret"], "--client-secret", stored
    )
    login = {"grant": "client_credentials", "client_id": client_id}
    if stored and not secret:
        return {**login, **stored}, True
    if not secret:
        raise click.UsageError("the Thycotic client secret must not be empty")
    return {**login, "client_secret": secret}, False


def _stored(
    previous: dict[str, Any], secret: str, name_key: str, name: str, grant: str | None
) -> dict[str, str]:
    """The stored ``secret`` setting (or its ``_env``) of the same account and grant, if any."""
    same_grant = (previous.get("grant") or "password") == (grant or "password")
    if not same_grant or previous.get(name_key) != name:
        return {}
    for key in (secret, f"{secret}_env"):
        value = previous.get(key)
        if isinstance(value, str) and value:
            return {key: value}
    return {}


def _ask_secret(
    ask: Asker, prompt: str, flag: str | None, option: str, stored: dict[str, str]
) -> str:
    """A hidden answer; with a stored one, Enter (or ``--yes`` without the flag) keeps it."""
    if not stored:
        return ask.text(prompt, flag=flag, option=option, hide_input=True)
    return ask.text(
        f"{prompt} (Enter keeps the stored one)",
        flag=flag,
        option=option,
        hide_input=True,
        optional=True,
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
