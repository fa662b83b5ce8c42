"""Output for people: rich tables and colour on a terminal, plain text otherwise.

Table text comes from vaults and scripts: every cell is passed through ``terminal_safe`` so it
cannot move the cursor, retitle the window or break the tab-separated layout. rich is imported
only to draw, so ``terminal_safe`` costs the machine interface nothing.

``NO_COLOR`` (set and not empty, https://no-color.org) turns colour and every other text style
off: rich consoles made by ``console()`` have no colour system, and the ``credchain`` group
gives click's context ``color=False``, which strips what ``click.secho`` adds.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from rich.console import Console

    from credchain.models import AssetQuery, SafeCredential

__all__ = [
    "console",
    "mask",
    "no_color",
    "print_credential",
    "print_table",
    "stdout_is_terminal",
    "terminal_safe",
]

#: C0 (tab and newline too), DEL, C1 (ESC's 8-bit forms) and surrogate code points
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def no_color(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the user asked for no colour: ``NO_COLOR`` is set and not empty."""
    return bool((os.environ if environ is None else environ).get("NO_COLOR"))


def console(*, stderr: bool = False) -> Console:
    """A rich console for stdout (or stderr) that honours ``NO_COLOR``: no style at all then."""
    from rich.console import Console  # here: ``no_color`` alone must not import rich

    if no_color():
        return Console(stderr=stderr, color_system=None, no_color=True)
    return Console(stderr=stderr)


def mask(secret: str | None) -> str:
    """A secret as shown to people: its length hidden too."""
    return "" if secret is None else "********"


def terminal_safe(value: object) -> str:
    """``value`` as text a terminal shows as it is; ``None`` is empty.

    Control characters (C0, tab and newline included, DEL, C1) and lone surrogates are escaped
    as Python writes them: ``\\x1b``, ``\\t``, ``\\ud800``.
    """
    text = "" if value is None else str(value)
    return _UNSAFE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def print_table(
    headers: Sequence[str], rows: Sequence[Sequence[object]], *, title: str = ""
) -> None:
    """Print ``rows`` under ``headers``: a rich table on a terminal, tab-separated otherwise."""
    if stdout_is_terminal():
        from rich.table import Table
        from rich.text import Text

        # Text, not str: rich would read "[...]" in a cell as markup.
        table = Table(title=Text(terminal_safe(title)) if title else None)
        for header in headers:
            table.add_column(Text(terminal_safe(header)))
        for row in rows:
            table.add_row(*(Text(terminal_safe(cell)) for cell in row))
        console().print(table)
        return
    if title:
        click.echo(f"# {terminal_safe(title)}")
    click.echo("\t".join(terminal_safe(header) for header in headers))
    for row in rows:
        click.echo("\t".join(terminal_safe(cell) for cell in row))


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
