"""``credchain providers``: the installed providers."""

from __future__ import annotations

import json

import click

from credchain.cli.output import print_table
from credchain.plugins import installed_providers


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
def providers(as_json: bool) -> None:
    """List installed providers: name, distribution, version, description."""
    infos = installed_providers()
    if as_json:
        click.echo(json.dumps([info.to_dict() for info in infos], indent=2))
        return
    rows = [
        (
            info.name,
            info.distribution or "?",
            info.version or "?",
            info.description if info.error is None else f"BROKEN: {info.error}",
        )
        for info in infos
    ]
    print_table(("name", "distribution", "version", "description"), rows, title="providers")
    for info in infos:
        if info.error is not None:
            click.echo(f"credchain: warning: provider {info.name!r} failed to load", err=True)
