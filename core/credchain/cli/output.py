"""Output for people: rich tables and colour on a terminal, plain text otherwise."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click
from rich.console import Console
from rich.table import Table

from credchain.models import AssetQuery, SafeCredential

__all__ = ["mask", "print_credential", "print_table", "stdout_is_terminal"]


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def mask(secret: str | None) -> str:
    """A secret as shown to people: its length hidden too."""
    return "" if secret is None else "********"


def print_table(
    headers: Sequence[str], rows: Sequence[Sequence[object]], *, title: str = ""
) -> None:
    """Print ``rows`` under ``headers``: a rich table on a terminal, tab-separated otherwise."""
    if stdout_is_terminal():
        table = Table(*headers, title=title or None)
        for row in rows:
            table.add_row(*("" if cell is None else str(cell) for cell in row))
        Console().print(table)
        return
    if title:
        click.echo(f"# {title}")
    click.echo("\t".join(headers))
    for row in rows:
        click.echo("\t".join("" if cell is None else str(cell) for cell in row))


def print_credential(credential: SafeCredential, query: AssetQuery, *, title: str = "") -> None:
    """One asset's credential as people see it: the username, the passwords masked."""
    privilege = credential.privilege_password
    print_table(
        ("asset", "source", "username", "password", "privilege password", "detail"),
        [
            (
                query.label(),
                credential.source,
                credential.username,
                mask(credential.password.get_secret_value()),
                mask(privilege.get_secret_value()) if privilege is not None else "",
                credential.detail or "",
            )
        ],
        title=title,
    )
