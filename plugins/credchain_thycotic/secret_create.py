"""``credchain secret create``: seed 003's script, as a command on a configured entry.

1. the folder (``--folder``: an id, or a path such as ``\\Infrastructure\\Network``) and the
   template (``--template``: a name or an id; default ``Password``, id 2 in a fresh install, the
   seed's) are looked up;
2. ``GET secrets/stub`` for them, so the fields are the template's own;
3. ``--field SLUG=VALUE`` fill fields by slug or name; each password field left is asked for
   twice with hidden input, and asked again when the two differ (seed 003's "Verify New Secret
   Password"), or read from stdin with ``--password-stdin``, one line per password field in the
   template's order (a missing line leaves that field empty);
4. ``POST secrets``; the new id is printed on stdout, alone.

The server judges the rest (required fields, a name already taken in the folder, permissions),
and each refusal is one line (``credchain_thycotic.operations.create_secret``).
"""

from __future__ import annotations

import sys
from typing import Any

import click

from credchain_thycotic.answers import StubAnswer
from credchain_thycotic.entry_cli import entry_options, open_entry
from credchain_thycotic.operations import (
    create_secret,
    fill,
    folder_of,
    match_field,
    secret_stub,
    template_of,
)

__all__ = ["create"]

#: the template of seed 003 (id 2 on a fresh Secret Server)
DEFAULT_TEMPLATE = "Password"


def _given_fields(pairs: tuple[str, ...], stub: StubAnswer) -> dict[str, str]:
    """``--field SLUG=VALUE`` options as slug -> value; never echoes a value in an error."""
    values: dict[str, str] = {}
    slugs = ", ".join(item.slug for item in stub.items)
    for number, pair in enumerate(pairs, 1):
        name, equals, value = pair.partition("=")
        if not equals or not name.strip():
            raise click.BadParameter(
                f"the {_ordinal(number)} --field is not SLUG=VALUE", param_hint="--field"
            )
        slug = match_field(stub, name.strip())
        if slug is None:
            raise click.BadParameter(
                f"the template has no field {name.strip()!r} (its fields: {slugs})",
                param_hint="--field",
            )
        if slug in values:
            raise click.BadParameter(f"field {slug!r} is given twice", param_hint="--field")
        if any(item.slug == slug and item.is_file for item in stub.items):
            raise click.BadParameter(
                f"{slug!r} is a file field: attach files in Secret Server", param_hint="--field"
            )
        values[slug] = value
    return values


def _ordinal(number: int) -> str:
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(number if number < 20 else number % 10, "th")
    return f"{number}{suffix}"


def _ask_passwords(stub: StubAnswer, given: dict[str, str], from_stdin: bool) -> dict[str, str]:
    """The password fields ``given`` leaves: from stdin, or asked twice, hidden."""
    asked: dict[str, str] = {}
    stdin = sys.stdin if from_stdin else None
    for item in stub.items:
        if not item.is_password or item.slug in given:
            continue
        label = item.field_name or item.slug
        if stdin is not None:
            asked[item.slug] = stdin.readline().removesuffix("\n").removesuffix("\r")
            continue
        value: str = click.prompt(
            f"Enter {label}",
            default="",
            show_default=False,
            hide_input=True,
            confirmation_prompt=f"Verify {label}",
        )
        asked[item.slug] = value
    return asked


@click.command(name="create")
@entry_options
@click.option("--name", required=True, help="The new secret's name.")
@click.option("--folder", required=True, help="Its folder: an id, or a path (\\Parent\\Child).")
@click.option(
    "--template",
    default=DEFAULT_TEMPLATE,
    show_default=True,
    help="The secret template: a name or an id.",
)
@click.option(
    "--field",
    "fields",
    metavar="SLUG=VALUE",
    multiple=True,
    help="A field's value (repeatable); password fields left are asked for.",
)
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password fields from stdin, one line each, instead of asking.",
)
def create(
    config_path: str | None,
    entry_name: str | None,
    name: str,
    folder: str,
    template: str,
    fields: tuple[str, ...],
    password_stdin: bool,
) -> None:
    """Create a secret from its template's stub; print the new id (seed 003).

    Exit status: 0 created; 1 the server refused it, or another error (one line); 2 usage.
    """
    if not name.strip():
        raise click.BadParameter("must not be empty", param_hint="--name")
    with open_entry(config_path, entry_name) as opened:
        client = opened.client
        where = folder_of(client, folder)
        kind = template_of(client, template)
        model, stub = secret_stub(client, kind, where)
        given = _given_fields(fields, stub)
        values = {**given, **_ask_passwords(stub, given, password_stdin)}
        body: dict[str, Any] = {
            **model,
            "name": name.strip(),
            "folderId": where.id,
            "secretTemplateId": kind.id,
        }
        fill(body, values)
        secret_id = create_secret(client, body, folder=where, template=kind)
    click.echo(f"Created secret {secret_id} {name.strip()!r} in {where.label}.", err=True)
    click.echo(str(secret_id))
