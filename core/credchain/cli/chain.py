"""``credchain chain show`` and ``chain set NAME...``: the ordered chain of provider entries.

A name is valid when it has a ``[providers.NAME]`` table whose ``type`` is an installed
provider, or when it is itself the name of an installed provider (an entry with no settings).
"""

from __future__ import annotations

import click

from credchain.cli.admin import config_option, state_of
from credchain.cli.completion import complete_entries
from credchain.cli.guidance import fail
from credchain.cli.output import print_table
from credchain.configstore import ConfigStore
from credchain.errors import CredchainError
from credchain.plugins import installed_providers

__all__ = ["chain"]


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
