"""Output for people: rich tables and colour on a terminal, plain text otherwise."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click
from rich.console import Console
from rich.table import Table

__all__ = ["mask", "print_table", "stdout_is_terminal"]


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
