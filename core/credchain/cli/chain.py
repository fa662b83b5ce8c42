"""``credchain chain show`` and ``chain set NAME...``: the ordered chain of provider entries.

A name is valid when it has a ``[providers.NAME]`` table whose ``type`` is an installed
provider, or when it is itself the name of an installed provider (an entry with no settings).

An entry whose provider ``AnswersEveryAsset`` (the domain fallback with ``default_domain`` or
``fallback_to_local``) before other entries gets a warning (``shadow_warnings``, also printed by
``credchain test``): the entries after it are asked only when it fails.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click

from credchain.cli.admin import config_option, state_of
from credchain.cli.completion import complete_entries
from credchain.cli.guidance import fail
from credchain.cli.output import print_table
from credchain.configstore import ConfigStore
from credchain.errors import CredchainError
from credchain.plugins import installed_providers, load_provider_classes
from credchain.provider import AnswersEveryAsset

__all__ = ["chain", "shadow_warnings", "warn"]


def shadow_warnings(document: Mapping[str, Any]) -> list[str]:
    """A warning for each chain entry that answers every asset while entries follow it."""
    tables = document.get("providers")
    tables = tables if isinstance(tables, dict) else {}
    names = [n for n in document.get("chain") or () if isinstance(n, str)]
    entries = []
    for name in names:
        table = tables.get(name)
        table = table if isinstance(table, dict) else {}
        kind = table.get("type", name)
        entries.append((name, kind if isinstance(kind, str) else "", table))
    classes = load_provider_classes([kind for _, kind, _ in entries], tolerant=True).classes
    warnings = []
    for position, (name, kind, table) in enumerate(entries[:-1]):
        cls = classes.get(kind)
        if not (isinstance(cls, type) and issubclass(cls, AnswersEveryAsset)):
            continue
        reason = cls.answers_every_asset(table)
        if reason:
            after = ", ".join(n for n, _, _ in entries[position + 1 :])
            warnings.append(
                f"chain entry {name!r} ({kind}) answers for every asset ({reason}): the entries "
                f"after it ({after}) are asked only when it fails; put them before it, or "
                "remove what makes it answer for every asset"
            )
    return warnings


def warn(text: str) -> None:
    click.secho("credchain: warning: ", fg="yellow", err=True, nl=False)
    click.echo(text, err=True)


@click.group()
def chain() -> None:
    """Show or set the ordered chain of provider entries."""


@chain.command()
@config_option
def show(config_path: str | None) -> None:
    """The chain, in the order entries are asked."""
    store = ConfigStore.find(config_path)
    try:
        document = store.load()
    except CredchainError as exc:
        fail(exc, stage="config")
    tables = document.get("providers") or {}
    installed = {info.name for info in installed_providers() if info.error is None}
    rows = []
    for position, name in enumerate(document.get("chain") or (), start=1):
        found = tables.get(name)
        table = found if isinstance(found, dict) else {}
        kind = table.get("type", name)
        rows.append(
            (
                position,
                name,
                kind,
                table.get("on_error", "default"),
                "yes" if kind in installed else "NO",
            )
        )
    if not rows:
        click.echo(f"The chain is empty ({state_of(document)}): run 'credchain add'.")
        return
    print_table(("#", "entry", "type", "on_error", "installed"), rows, title="chain")
    for text in shadow_warnings(document):
        warn(text)


@chain.command(name="set")
@config_option
@click.argument("names", nargs=-1, required=True, shell_complete=complete_entries)
def set_chain(config_path: str | None, names: tuple[str, ...]) -> None:
    """Set the chain to NAMES, in that order (each a [providers.NAME] table or a provider)."""
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise click.BadParameter(f"{duplicates[0]!r} appears twice", param_hint="NAMES")
    store = ConfigStore.find(config_path)
    try:
        document = store.load()
    except CredchainError as exc:
        fail(exc, stage="config")
    tables = document.get("providers") or {}
    infos = {info.name: info for info in installed_providers()}
    for name in names:
        table = tables.get(name)
        kind = table.get("type", name) if isinstance(table, dict) else name
        info = infos.get(kind)
        if info is not None and info.error is None:
            continue
        if info is not None:
            fail(f"chain entry {name!r}: the provider {kind!r} is broken: {info.error}")
        known = ", ".join(sorted(tables)) or "none"
        providers = ", ".join(sorted(n for n, i in infos.items() if i.error is None)) or "none"
        if isinstance(table, dict):
            fail(
                f"chain entry {name!r} has type {kind!r}, which is not installed "
                f"(installed providers: {providers})"
            )
        fail(
            f"{name!r} is neither a [providers.NAME] table in {store.path} (tables: {known}) "
            f"nor an installed provider (installed: {providers})"
        )
    document = store.set_chain(names)
    click.echo(f"Chain: {' -> '.join(names)} ({state_of(document)})")
    for text in shadow_warnings(document):
        warn(text)
