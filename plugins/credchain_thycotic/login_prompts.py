"""The login prompts of ``credchain add``: a username and password (seed 000), or an SDK client.

``--grant client_credentials`` (or an entry already set up that way) asks for the client id and
secret of a Secret Server SDK client instead (seed 004); the secret is hidden as it is typed.
"""

from __future__ import annotations

from typing import Any

import click

from credchain.cli.prompts import Asker

__all__ = ["ask_login"]


def ask_login(ask: Asker, flags: dict[str, Any], previous: dict[str, Any]) -> dict[str, Any]:
    """The login settings: username and password (seed 000), or, with ``--grant
    client_credentials``, an SDK client's id and secret (seed 004)."""
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
        password = ask.text(
            "Thycotic Password", flag=flags["password"], option="--password", hide_input=True
        )
        if not password:
            raise click.UsageError("the Thycotic password must not be empty")
        return {"username": username, "password": password}
    client_id = ask.text(
        "Thycotic client id",
        flag=flags["client_id"],
        option="--client-id",
        default=_text(previous.get("client_id")),
    )
    secret = ask.text(
        "Thycotic client secret",
        flag=flags["client_secret"],
        option="--client-secret",
        hide_input=True,
    )
    if not secret:
        raise click.UsageError("the Thycotic client secret must not be empty")
    return {"grant": "client_credentials", "client_id": client_id, "client_secret": secret}


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
