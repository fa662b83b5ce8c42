"""``credchain envvars``: which lab assets have credentials in the environment (no secret shown).

Added to credchain's command line through the entry-point group ``credchain.commands``.
"""

from __future__ import annotations

import os

import click

from credchain.cli.output import print_table
from credchain_envvars import DEFAULT_PREFIX, lab_keys

__all__ = ["envvars"]


@click.command()
@click.option("--prefix", default=DEFAULT_PREFIX, show_default=True, help="Variable prefix.")
def envvars(prefix: str) -> None:
    """List the lab assets whose credentials are in environment variables (names only)."""
    environ = os.environ
    rows = [
        (
            key,
            environ[f"{prefix}_{key}_USERNAME"],
            "yes" if f"{prefix}_{key}_PASSWORD" in environ else "NO",
            "yes" if f"{prefix}_{key}_PRIVILEGE_PASSWORD" in environ else "",
        )
        for key in lab_keys(environ, prefix)
    ]
    if not rows:
        click.echo(f"no {prefix}_<KEY>_USERNAME variable is set")
        return
    print_table(("key", "username", "password", "privilege password"), rows, title=prefix)
