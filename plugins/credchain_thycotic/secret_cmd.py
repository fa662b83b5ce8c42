"""``credchain secret get|find|create``: the SDK client's ``tss secret`` (seed 001) and seed 003's
create script, for a configured Secret Server entry.

- ``get ID --field SLUG``: the field's raw value on stdout (a file field's bytes exactly), or
  written to ``--out FILE`` with mode 0600, atomically. Asking for a field is asking for its
  value: it is printed as ``tss secret -s ID -f SLUG`` prints it.
- ``get ID``: the whole secret, password fields masked (``********``; ``null`` with
  ``"masked": true`` under ``--json``) unless ``--show-secrets``. File fields show their file
  name; their content is read with ``--field``.
- ``find TEXT``: id, name, folder and template of each secret whose name (or ``--field``)
  contains ``TEXT``; never a value. ``--folder`` (id or path) limits it to a folder and its
  subfolders.
- ``create``: see ``credchain_thycotic.secret_create``.

Errors end the command with one line on stderr and exit 1; usage errors exit 2.
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import Any

import click

from credchain.cli.output import mask, print_table, terminal_safe
from credchain.errors import CredchainError
from credchain.files import atomic_write
from credchain_thycotic.entry_cli import EntryClient, entry_options, open_entry
from credchain_thycotic.operations import (
    SecretDetail,
    SecretItem,
    find_secrets,
    folder_of,
    read_field,
    read_secret,
)
from credchain_thycotic.secret_create import create

__all__ = ["secret"]

_comment_option = click.option(
    "--comment",
    help="Audit comment for secrets that require one [the entry's comment setting].",
)


@click.group()
def secret() -> None:
    """Read, find and create secrets on a Secret Server entry (tss secret)."""


secret.add_command(create)


def _out_path(out: str) -> Path:
    path = Path(out).expanduser()
    if path.is_dir():
        raise click.BadParameter(f"{out!r} is a directory", param_hint="--out")
    if not path.parent.is_dir():
        raise click.BadParameter(f"no directory {str(path.parent)!r}", param_hint="--out")
    return path


@secret.command(name="get")
@entry_options
@click.argument("secret_id", metavar="ID", type=click.IntRange(1, 2**31 - 1))
@click.option("--field", "slug", metavar="SLUG", help="Print only this field's raw value.")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    help="With --field: write the value to this file (mode 0600) instead of stdout.",
)
@click.option("--show-secrets", is_flag=True, help="Show password fields instead of ********.")
@_comment_option
def get(
    config_path: str | None,
    entry_name: str | None,
    secret_id: int,
    slug: str | None,
    as_json: bool,
    out: str | None,
    show_secrets: bool,
    comment: str | None,
) -> None:
    """A secret's fields (passwords masked), or one field's raw value (tss secret -s ID -f SLUG).

    Exit status: 0 read; 1 an error (one line on stderr); 2 usage.
    """
    if out is not None and slug is None:
        raise click.UsageError("--out writes one field: give --field SLUG")
    path = _out_path(out) if out is not None else None
    with open_entry(config_path, entry_name) as opened:
        said = comment if comment is not None else opened.settings.comment
        if slug is None:
            detail = read_secret(opened.client, secret_id, comment=said)
            folder = _folder_label(opened, detail.folder_id)
            if as_json:
                click.echo(json.dumps(_detail_json(detail, folder, show_secrets), indent=2))
            else:
                _print_detail(detail, folder, show_secrets)
            return
        content = read_field(opened.client, secret_id, slug, comment=said)
    if path is not None:
        atomic_write(path, content.data, mode=0o600)
        click.echo(f"Wrote field {slug!r} of secret {secret_id} to {path}.", err=True)
    elif as_json:
        click.echo(json.dumps(_field_json(secret_id, slug, content.data, content.is_file)))
    elif content.is_file:
        sys.stdout.flush()
        sys.stdout.buffer.write(content.data)
        sys.stdout.buffer.flush()
    else:
        click.echo(content.data.decode("utf-8", "replace"))


def _field_json(secret_id: int, slug: str, data: bytes, is_file: bool) -> dict[str, Any]:
    if is_file:
        return {
            "id": secret_id,
            "slug": slug,
            "isFile": True,
            "base64": base64.b64encode(data).decode(),
        }
    return {
        "id": secret_id,
        "slug": slug,
        "isFile": False,
        "value": data.decode("utf-8", "replace"),
    }


def _folder_label(opened: EntryClient, folder_id: int | None) -> str:
    """The folder's path, else its id (a lookup that fails must not fail the read)."""
    if folder_id is None or folder_id == -1:
        return ""
    try:
        return folder_of(opened.client, str(folder_id)).label
    except CredchainError:
        return f"folder {folder_id}"


def _shown(item: SecretItem, show_secrets: bool) -> str:
    if item.is_file:
        return f"(file {item.filename})" if item.filename else ""
    if item.is_password and not show_secrets:
        return mask(item.value) if item.value else ""
    return item.value or ""


def _print_detail(detail: SecretDetail, folder: str, show_secrets: bool) -> None:
    where = f", {folder}" if folder else ""
    print_table(
        ("field", "slug", "value"),
        [(item.name, item.slug, _shown(item, show_secrets)) for item in detail.items],
        title=f"secret {detail.id} {detail.name!r} (template {detail.template!r}{where})",
    )


def _detail_json(detail: SecretDetail, folder: str, show_secrets: bool) -> dict[str, Any]:
    items = []
    for item in detail.items:
        masked = item.is_password and not show_secrets and bool(item.value)
        entry: dict[str, Any] = {
            "field": item.name,
            "slug": item.slug,
            "value": None if masked or item.is_file else item.value,
            "isPassword": item.is_password,
            "isFile": item.is_file,
        }
        if masked:
            entry["masked"] = True
        if item.is_file:
            entry["filename"] = item.filename
        items.append(entry)
    return {
        "id": detail.id,
        "name": detail.name,
        "template": detail.template,
        "folderId": detail.folder_id,
        "folder": folder,
        "items": items,
    }


@secret.command(name="find")
@entry_options
@click.argument("text")
@click.option("--field", "search_field", metavar="NAME", help="Search this field, not the name.")
@click.option("--folder", metavar="PATH", help="Only this folder (id or path) and its subfolders.")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@click.option(
    "--limit", type=click.IntRange(1, 10000), default=1000, show_default=True, help="At most."
)
def find(
    config_path: str | None,
    entry_name: str | None,
    text: str,
    search_field: str | None,
    folder: str | None,
    as_json: bool,
    limit: int,
) -> None:
    """Secrets whose name (or --field) contains TEXT: id, name, folder, template; no values.

    Exit status: 0 found some; 3 found none; 1 an error; 2 usage.
    """
    with open_entry(config_path, entry_name) as opened:
        folder_id = folder_of(opened.client, folder).id if folder is not None else None
        found = find_secrets(
            opened.client, text, search_field=search_field, folder_id=folder_id, limit=limit
        )
    if as_json:
        records = [
            {"id": f.id, "name": f.name, "folder": f.folder, "template": f.template} for f in found
        ]
        click.echo(json.dumps(records, indent=2))
    elif found:
        print_table(
            ("id", "name", "folder", "template"),
            [(f.id, f.name, f.folder, f.template) for f in found],
        )
    if not found:
        if not as_json:
            click.echo(f"No secret matches {terminal_safe(text)!r}.", err=True)
        click.get_current_context().exit(3)
