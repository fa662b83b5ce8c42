"""``credchain script``: write the custom-script template, check a script, try it on an asset.

The custom-script plugin adds this command through the entry-point group ``credchain.commands``.
"""

from __future__ import annotations

from pathlib import Path

import click

from credchain.cli.output import mask
from credchain.config import load_config
from credchain.errors import ConfigError
from credchain.home import default_home
from credchain.models import AssetQuery
from credchain_custom_script.checks import check_script, script_path, try_script
from credchain_custom_script.template import write_template

__all__ = ["configured_script", "script"]

#: the exit code for "the script answered: not here", as ``credchain resolve`` uses it
EXIT_NOT_FOUND = 3


def configured_script() -> Path:
    """The script of the first ``custom-script`` entry of the config, else the default path."""
    try:
        config = load_config()
    except ConfigError:
        return script_path(default_home())
    for name in config.chain or tuple(config.providers):
        entry = config.entry(name)
        if entry.type == "custom-script":
            return script_path(config.home, entry.settings.get("script"))
    return script_path(config.home)


@click.group()
def script() -> None:
    """The custom script: get_password_from_thycotic(query_data)."""


@script.command()
@click.option(
    "--path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write it (default: the configured script, else the home's custom directory).",
)
@click.option("--force", is_flag=True, help="Replace an existing script.")
def init(path: Path | None, force: bool) -> None:
    """Write a script template (mode 0600) to start from."""
    target = write_template(path or configured_script(), force=force)
    click.echo(f"wrote {target}; edit it, then run 'credchain script check'")


@script.command()
@click.option(
    "--script",
    "path",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="The script to check (default: the configured one, else the home's custom directory).",
)
@click.option("--asset-name", help="Also run the script for this asset name.")
@click.option("--ip-address", help="... and/or this IP address or host name.")
@click.option("--cmdb-id", help="... and/or this CMDB id.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=30.0,
    show_default=True,
    help="Seconds the script may take.",
)
@click.pass_context
def check(
    ctx: click.Context,
    path: Path | None,
    asset_name: str | None,
    ip_address: str | None,
    cmdb_id: str | None,
    timeout: float,
) -> None:
    """Check the script (SAFE's test-thycotic-script): file, owner, mode, load, entry point.

    With a query option, also run it once and show what it returned (passwords masked).
    Exit status: 0 valid (and found), 3 the script answered "not here", 1 invalid.
    """
    target = path or configured_script()
    result = check_script(target, timeout=timeout)
    result.raise_for_problem()
    click.echo(f"{target}: valid; get_password_from_thycotic at line {result.entry_point_line}")
    if not (asset_name or ip_address or cmdb_id):
        return
    query = AssetQuery.from_query_data(
        {"asset_name": asset_name, "ip_address": ip_address, "cmdb_id": cmdb_id}
    )
    credential = try_script(target, query, timeout=timeout)
    if credential is None:
        click.echo(f"{query.label()}: not here (the chain would go on)")
        ctx.exit(EXIT_NOT_FOUND)
    privilege = credential.privilege_password
    click.echo(
        f"{query.label()}: username {credential.username!r}, password "
        f"{mask(credential.password.get_secret_value())}, privilegePassword "
        f"{mask(privilege.get_secret_value()) if privilege else '(none)'}"
    )
