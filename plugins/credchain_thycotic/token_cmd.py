"""``credchain token``: the SDK client's ``tss token`` (seed 001), for tools that call the REST
API themselves.

The token is the entry's, obtained with its grant (password or client credentials) and shared
through the home's token cache as a scan would share it: a fresh cached token is printed without
a new login. ``--json`` adds its type and expiry; ``--renew`` makes a new grant first.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import click

from credchain_thycotic.entry_cli import entry_options, open_entry

__all__ = ["token"]


@click.command(name="token")
@entry_options
@click.option("--json", "as_json", is_flag=True, help="JSON with the token's expiry.")
@click.option("--renew", is_flag=True, help="Log in afresh, whatever the cache holds.")
def token(config_path: str | None, entry_name: str | None, as_json: bool, renew: bool) -> None:
    """Print a bearer token for the Secret Server REST API (tss token).

    Exit status: 0 printed; 1 the login failed, or another error (one line on stderr).
    """
    with open_entry(config_path, entry_name) as opened:
        current = opened.client.token(renew=renew)
        if not as_json:
            click.echo(current.value)
            return
        expires = datetime.fromtimestamp(current.expires_at, UTC)
        answer = {
            "access_token": current.value,
            "token_type": "bearer",
            "expires_at": expires.isoformat(timespec="seconds").replace("+00:00", "Z"),
            "expires_in": max(0, int(current.expires_at - time.time())),
            "entry": opened.name,
            "grant": opened.settings.grant,
            "account": opened.account,
        }
        click.echo(json.dumps(answer, indent=2))
